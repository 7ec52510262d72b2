package eval

import (
	"math"
	"testing"
)

func TestMeanStd(t *testing.T) {
	tests := []struct {
		name      string
		xs        []float64
		mean, std float64
	}{
		{"four values", []float64{1, 2, 3, 4}, 2.5, math.Sqrt(5.0 / 3)},
		{"two values", []float64{93.1, 93.5}, 93.3, math.Sqrt(0.08)},
		{"constant", []float64{7, 7, 7}, 7, 0},
		{"large offset", []float64{1e9 + 1, 1e9 + 3}, 1e9 + 2, math.Sqrt2},
		{"single value", []float64{42}, 42, 0},
		{"empty", nil, math.NaN(), math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, s := MeanStd(tt.xs)
			if !same(m, tt.mean) || !same(s, tt.std) {
				t.Errorf("MeanStd = (%v, %v), want (%v, %v)", m, s, tt.mean, tt.std)
			}
		})
	}
}

// same reports equality up to 1e-12 relative, with NaN equal to NaN.
func same(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b))
}

// TestMedian checks Median by hand, and that it leaves its input alone.
func TestMedian(t *testing.T) {
	if m := Median(nil); !math.IsNaN(m) {
		t.Errorf("Median(nil) = %v, want NaN", m)
	}
	for _, tc := range []struct {
		x    []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{3, 1}, 2}, {[]float64{5, 1, 4, 2, 3}, 3}, {[]float64{2.2, 1.9, 2.0, 2.1}, 2.05}} {
		in := append([]float64(nil), tc.x...)
		if got := Median(tc.x); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Median(%v) = %v, want %v", tc.x, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.x[i] {
				t.Errorf("Median reordered its input: %v", tc.x)
			}
		}
	}
}
