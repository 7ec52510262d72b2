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
		// 396 values per example: one 255-value tile chunk and a tail.
		{"12x11x3", Shape{12, 11, 3}, 2, 1e-7},
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

// TestFRNFloat32 compares the float32 layer (vector kernels)
// with the float64 one on shapes with and without a partial tile chunk.
func TestFRNFloat32(t *testing.T) {
	for _, in := range []Shape{{32, 32, 16}, {10, 10, 3}, {8, 8, 64}, {3, 5, 7}} {
		r := rand.New(rand.NewPCG(41, uint64(in.C)))
		n := 3
		f64 := newFDLayer(NewFRN[float64](""), in, r)
		l32 := NewFRN[float32]("")
		var b Builder
		l32.Setup(&b, in)
		p32 := make([]float32, len(f64.params))
		for i := range p32 {
			p32[i] = float32(f64.params[i])
			f64.params[i] = float64(p32[i])
		}
		g32 := make([]float32, len(p32))
		l32.Bind(p32, g32, nil)
		x, dz := randSlice(r, n*in.Size()), randSlice(r, n*in.Size())
		x32, dz32 := make([]float32, len(x)), make([]float32, len(x))
		for i := range x {
			x32[i], dz32[i] = float32(x[i]), float32(dz[i])
			x[i], dz[i] = float64(x32[i]), float64(dz32[i])
		}
		clear(f64.grads)
		z64 := f64.l.Forward(trainCtx(n), x)
		dx64 := f64.l.Backward(trainCtx(n), dz, true)
		z32 := l32.Forward(trainCtx(n), x32)
		dx32 := l32.Backward(trainCtx(n), dz32, true)
		for _, c := range []struct {
			name string
			a    []float32
			b    []float64
		}{{"z", z32, z64}, {"dx", dx32, dx64}, {"grads", g32, f64.grads}} {
			var diff, scale float64
			for i, w := range c.b {
				diff = max(diff, math.Abs(float64(c.a[i])-w))
				scale = max(scale, math.Abs(w))
			}
			if diff/scale > 2e-5 {
				t.Errorf("%v %s: float32 differs from float64 by %.2g of its scale", in, c.name, diff/scale)
			}
		}
	}
}

// TestFRNBiasHelpers checks the bias-adding element-wise helpers of the
// evaluation fusion against the separate bias add and plain helper, bit for
// bit, in float64 (the Go loops) and float32 (the kernels), with and
// without a bias, over several tiles and a short last chunk.
func TestFRNBiasHelpers(t *testing.T) {
	testFRNBiasHelpers[float64](t)
	testFRNBiasHelpers[float32](t)
}

func testFRNBiasHelpers[T Float](t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const l = 32
	vec := func(n int) []T {
		v := make([]T, n)
		for i := range v {
			v[i] = T(r.Float64()*2 - 1)
		}
		return v
	}
	x, bias, a, b, tau := vec(3*l+16), vec(l), vec(l), vec(l), vec(l)
	xb := make([]T, len(x)) // x + bias, rounded
	for i, v := range x {
		xb[i] = v + bias[i%l]
	}
	same := func(what string, got, want []T) {
		t.Helper()
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%T %s: [%d] = %v, want %v", got[0], what, i, got[i], want[i])
			}
		}
	}
	acc1, acc2 := vec(l), make([]T, l)
	copy(acc2, acc1)
	sumSquaresBias(acc1, x, bias)
	sumSquares(acc2, xb)
	same("sumSquaresBias", acc1, acc2)
	sumSquaresBias(acc1, x, nil)
	sumSquares(acc2, x)
	same("sumSquaresBias, no bias", acc1, acc2)

	z1, z2 := make([]T, len(x)), make([]T, len(x))
	frnAffineTLU(z1, x, bias, a, b, tau)
	frnAffineTLU(z2, xb, nil, a, b, tau)
	same("frnAffineTLU with bias", z1, z2)
	for i, v := range xb { // the plain case against its definition
		j := i % l
		z2[i] = max(v*a[j]+b[j], tau[j])
	}
	same("frnAffineTLU", z1, z2)
}
