package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestFRNForwardReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	in := Shape{3, 4, 5}
	f := newFDLayer(NewFRN[float64]("frn"), in, r)
	n := 2
	x := randSlice(r, n*in.Size())
	got := f.l.Forward(trainCtx(n), x)
	c, hw := in.C, in.H*in.W
	gamma, beta, tau := f.params[:c], f.params[c:2*c], f.params[2*c:]
	for i := 0; i < n; i++ {
		for j := 0; j < c; j++ {
			var nu2 float64
			for p := 0; p < hw; p++ {
				v := x[(i*hw+p)*c+j]
				nu2 += v * v / float64(hw)
			}
			for p := 0; p < hw; p++ {
				k := (i*hw+p)*c + j
				want := math.Max(gamma[j]*x[k]/math.Sqrt(nu2+1e-6)+beta[j], tau[j])
				if math.Abs(got[k]-want) > 1e-12 {
					t.Fatalf("z[%d] = %g, want %g", k, got[k], want)
				}
			}
		}
	}
}

func TestFRNGradientsFiniteDifference(t *testing.T) {
	tests := []struct {
		name string
		in   Shape
		n    int
		tol  float64
	}{
		{"4x4x3", Shape{4, 4, 3}, 2, 1e-7},
		// ν² from a single value: x̂ ≈ ±1 with large curvature near 0,
		// where central differences are less accurate.
		{"1x1x6", Shape{1, 1, 6}, 3, 1e-6},
		{"5x3x2", Shape{5, 3, 2}, 1, 1e-7},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(9, uint64(i)))
			f := newFDLayer(NewFRN[float64](""), tc.in, r)
			x := randSlice(r, tc.n*tc.in.Size())
			// Keep every pre-activation y away from the TLU's kink at τ.
			c := tc.in.C
			for tries := 0; ; tries++ {
				z := f.l.Forward(trainCtx(tc.n), x)
				ok := true
				for k, v := range z[:len(x)] {
					tau := f.params[2*c+k%c]
					if v != tau && v-tau < 1e-3 {
						ok = false
					}
				}
				if ok {
					break
				}
				if tries > 100 {
					t.Fatal("could not draw an input away from the kink")
				}
				x = randSlice(r, len(x))
			}
			f.checkGrads(t, x, tc.n, r, tc.tol)
		})
	}
}

func BenchmarkFRN(b *testing.B) {
	in := Shape{32, 32, 16}
	n := 32
	f := NewFRN[float32]("")
	var bl Builder
	f.Setup(&bl, in)
	params := make([]float32, bl.NumParams())
	grads := make([]float32, bl.NumParams())
	r := rand.New(rand.NewPCG(1, 1))
	for i := range params {
		params[i] = float32(r.NormFloat64())
	}
	f.Bind(params, grads, nil)
	x := make([]float32, n*in.Size())
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	ctx := trainCtx(n)
	b.Run("forward", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			f.Forward(ctx, x)
		}
		b.ReportMetric(float64(len(x)*b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
	})
	b.Run("backward", func(b *testing.B) {
		f.Forward(ctx, x)
		for i := 0; i < b.N; i++ {
			f.Backward(ctx, x, true)
		}
		b.ReportMetric(float64(len(x)*b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
	})
}
