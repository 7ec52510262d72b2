package nn

import (
	"math"
	"testing"
)

func TestElementwise(t *testing.T) {
	a := []float64{-2, -0.5, 0, 0.5, 3, math.Copysign(0, -1)}
	b := []float64{1, 1, 0, -1, -4, 0}
	tests := []struct {
		name string
		f    func(dst []float64)
		want []float64
	}{
		{"addTo", func(d []float64) { addTo(d, a, b) }, []float64{-1, 0.5, 0, -0.5, -1, 0}},
		{"reluAddTo", func(d []float64) { reluAddTo(d, a, b) }, []float64{0, 0.5, 0, 0, 0, 0}},
		{"reluMask", func(d []float64) { reluMask(d, b, a) }, []float64{0, 0, 0, -1, -4, 0}},
		{"addInPlace", func(d []float64) { copy(d, a); addInPlace(d, b) }, []float64{-1, 0.5, 0, -0.5, -1, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := make([]float64, len(a))
			tc.f(got)
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("[%d] = %g, want %g", i, got[i], tc.want[i])
				}
			}
			// The float32 specialisations must agree with float64.
			a32, b32, got32 := make([]float32, len(a)), make([]float32, len(a)), make([]float32, len(a))
			for i := range a {
				a32[i], b32[i] = float32(a[i]), float32(b[i])
			}
			switch tc.name {
			case "reluMask":
				reluMask(got32, b32, a32)
			case "reluAddTo":
				reluAddTo(got32, a32, b32)
			default:
				return
			}
			for i := range got32 {
				if float64(got32[i]) != tc.want[i] {
					t.Errorf("float32 [%d] = %g, want %g", i, got32[i], tc.want[i])
				}
			}
		})
	}
}

func TestSumRowsAndBias(t *testing.T) {
	x := []float64{1, 2, 3, 4, 5, 6} // 3 rows × 2
	dst := []float64{10, 20}
	sumRows(dst, x, 3, 2)
	if dst[0] != 19 || dst[1] != 32 {
		t.Errorf("sumRows = %v, want [19 32]", dst)
	}
	addBias(x, x, []float64{1, -1})
	if want := []float64{2, 1, 4, 3, 6, 5}; x[4] != want[4] || x[5] != want[5] || x[0] != want[0] {
		t.Errorf("addBias = %v, want %v", x, want)
	}
}
