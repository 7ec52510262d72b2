package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestPoolForward(t *testing.T) {
	// One 4×4 single-channel image with values 0..15 (row-major).
	x := make([]float64, 16)
	for i := range x {
		x[i] = float64(i)
	}
	tests := []struct {
		name string
		l    Layer[float64]
		out  Shape
		want []float64
	}{
		{"max2x2/2", NewMaxPool[float64](2, 2), Shape{2, 2, 1}, []float64{5, 7, 13, 15}},
		{"max3x3/1", NewMaxPool[float64](3, 1), Shape{2, 2, 1}, []float64{10, 11, 14, 15}},
		{"max3x3/2", NewMaxPool[float64](3, 2), Shape{1, 1, 1}, []float64{10}},
		{"avg2x2/2", NewAvgPool[float64](2, 2), Shape{2, 2, 1}, []float64{2.5, 4.5, 10.5, 12.5}},
		{"avg4x4/4", NewAvgPool[float64](4, 4), Shape{1, 1, 1}, []float64{7.5}},
		{"global", NewGlobalMeanPool[float64](), Shape{1, 1, 1}, []float64{7.5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b Builder
			if out := tc.l.Setup(&b, Shape{4, 4, 1}); out != tc.out {
				t.Fatalf("shape %v, want %v", out, tc.out)
			}
			got := tc.l.Forward(trainCtx(1), x)
			for i, w := range tc.want {
				if got[i] != w {
					t.Errorf("y[%d] = %g, want %g", i, got[i], w)
				}
			}
		})
	}
}

func TestPoolGradientsFiniteDifference(t *testing.T) {
	tests := []struct {
		l  Layer[float64]
		in Shape
	}{
		{NewMaxPool[float64](3, 2), Shape{7, 7, 3}},
		{NewMaxPool[float64](2, 2), Shape{6, 5, 2}},
		{NewAvgPool[float64](8, 8), Shape{16, 16, 3}}, // the TinyImageNet head: 2×2 windows of 8×8
		{NewAvgPool[float64](3, 2), Shape{7, 7, 2}},
		{NewGlobalMeanPool[float64](), Shape{4, 3, 5}},
	}
	for i, tc := range tests {
		t.Run(fmt.Sprintf("%d_%T", i, tc.l), func(t *testing.T) {
			r := rand.New(rand.NewPCG(5, uint64(i)))
			f := newFDLayer(tc.l, tc.in, r)
			// Distinct, well separated values keep max-pooling away from ties.
			n := 2
			x := make([]float64, n*tc.in.Size())
			for j, p := range r.Perm(len(x)) {
				x[j] = float64(p) * 0.01
			}
			f.checkGrads(t, x, n, r, 1e-7)
		})
	}
}
