package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestTruncNormalConstant(t *testing.T) {
	// Standard deviation of N(0,1) truncated to [−2, 2]:
	// √(1 − 2·2·φ(2) / (Φ(2) − Φ(−2))).
	phi2 := math.Exp(-2) / math.Sqrt(2*math.Pi)
	mass := math.Erf(2 / math.Sqrt2)
	want := math.Sqrt(1 - 4*phi2/mass)
	if math.Abs(truncNormalStd-want) > 1e-15 {
		t.Errorf("truncNormalStd = %.17g, want %.17g", truncNormalStd, want)
	}
}

func TestFillInit(t *testing.T) {
	const n = 200000
	tests := []struct {
		name    string
		init    Init
		wantStd float64 // realised standard deviation
		bound   float64 // |v| ≤ bound
	}{
		{"haiku-default", HaikuDefault(100), 0.1 * truncNormalStd, 0.2},
		{"he-normal", HeNormal(50), math.Sqrt(2.0 / 50), 2 * math.Sqrt(2.0/50) / truncNormalStd},
		{"const", Const(0.05), 0, 0.05},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := make([]float64, n)
			FillInit(v, tc.init, rand.New(rand.NewPCG(uint64(i), 3)))
			var s, s2 float64
			for _, x := range v {
				if math.Abs(x) > tc.bound+1e-15 {
					t.Fatalf("value %g outside ±%g", x, tc.bound)
				}
				s += x
				s2 += x * x
			}
			mean := s / n
			std := math.Sqrt(s2/n - mean*mean)
			if tc.init.Kind == InitConst {
				for _, x := range v {
					if x != tc.init.Value {
						t.Fatalf("const fill wrote %g, want %g", x, tc.init.Value)
					}
				}
				return
			}
			if math.Abs(mean) > 4*tc.wantStd/math.Sqrt(n) {
				t.Errorf("mean %g, want ≈ 0", mean)
			}
			if math.Abs(std/tc.wantStd-1) > 0.01 {
				t.Errorf("std %g, want %g", std, tc.wantStd)
			}
		})
	}
}
