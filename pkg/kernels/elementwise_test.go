package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// ewOp is one element-wise helper with its scalar definition.
type ewOp struct {
	name string
	// run applies the helper to dst, x, y (y is the second input where
	// there is one).
	run func(dst, x, y []float32)
	// want returns the expected dst[i] given the initial dst[i], x[i], y[i].
	want func(d, x, y float32) float32
}

const ewScalar = -0.75

var ewOps = []ewOp{
	{"Axpy", func(d, x, y []float32) { Axpy(ewScalar, x, d) },
		func(d, x, y float32) float32 { return d + ewScalar*x }},
	{"Scale", func(d, x, y []float32) { Scale(ewScalar, d) },
		func(d, x, y float32) float32 { return d * ewScalar }},
	{"Add", func(d, x, y []float32) { Add(d, x, y) },
		func(d, x, y float32) float32 { return x + y }},
	{"Max", func(d, x, y []float32) { Max(d, x, 0.25) },
		func(d, x, y float32) float32 {
			if x > 0.25 {
				return x
			}
			return 0.25
		}},
	{"ReLU", func(d, x, y []float32) { ReLU(d, x) },
		func(d, x, y float32) float32 {
			if x > 0 {
				return x
			}
			return 0
		}},
	{"MaxBackward", func(d, x, y []float32) { MaxBackward(d, y, x, 0.25) },
		func(d, x, y float32) float32 {
			if x > 0.25 {
				return y
			}
			return 0
		}},
	{"ReLUBackward", func(d, x, y []float32) { ReLUBackward(d, y, x) },
		func(d, x, y float32) float32 {
			if x > 0 {
				return y
			}
			return 0
		}},
}

func TestElementwise(t *testing.T) {
	lengths := []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 63, 64, 65, 100, 1000, 1029}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, p := range Paths() {
		for _, op := range ewOps {
			t.Run(p.String()+"/"+op.name, func(t *testing.T) {
				defer SetPath(p)()
				for _, n := range lengths {
					d, x, y := make([]float32, n+3), make([]float32, n), make([]float32, n)
					for i := range d {
						d[i] = rng.Float32()*4 - 2
					}
					for i := range x {
						x[i], y[i] = rng.Float32()*2-1, rng.Float32()*2-1
						switch i % 11 { // exact ties with the thresholds
						case 3:
							x[i] = 0.25
						case 5:
							x[i] = 0
						case 7:
							x[i] = float32(math.NaN())
						}
					}
					d0 := append([]float32(nil), d...)
					op.run(d[:n], x, y)
					for i := range n {
						w := op.want(d0[i], x[i], y[i])
						if math.Abs(float64(d[i]-w)) > 1e-6 || math.IsNaN(float64(d[i])) != math.IsNaN(float64(w)) {
							t.Fatalf("n=%d: dst[%d] = %g, want %g", n, i, d[i], w)
						}
					}
					for i := n; i < n+3; i++ {
						if d[i] != d0[i] {
							t.Fatalf("n=%d: dst[%d] beyond the slice changed", n, i)
						}
					}
				}
			})
		}
	}
}

func TestElementwiseAllocs(t *testing.T) {
	d, x, y := make([]float32, 1000), make([]float32, 1000), make([]float32, 1000)
	for _, op := range ewOps {
		if a := testing.AllocsPerRun(10, func() { op.run(d, x, y) }); a != 0 {
			t.Errorf("%s: %v allocs, want 0", op.name, a)
		}
	}
}

func TestElementwisePanics(t *testing.T) {
	short, long := make([]float32, 3), make([]float32, 4)
	tests := []struct {
		name string
		f    func()
	}{
		{"Axpy", func() { Axpy(1, long, short) }},
		{"Add", func() { Add(long, long, short) }},
		{"Max", func() { Max(long, short, 0) }},
		{"MaxBackward", func() { MaxBackward(long, long, short, 0) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			tt.f()
		})
	}
}

func BenchmarkElementwise(b *testing.B) {
	for _, p := range Paths() {
		for _, op := range ewOps {
			for _, n := range []int{4096, 1 << 20} {
				b.Run(fmt.Sprintf("%v/%s/n=%d", p, op.name, n), func(b *testing.B) {
					defer SetPath(p)()
					d, x, y := make([]float32, n), make([]float32, n), make([]float32, n)
					b.SetBytes(int64(12 * n))
					for b.Loop() {
						op.run(d, x, y)
					}
				})
			}
		}
	}
}
