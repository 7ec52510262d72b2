package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bsam-dev/bsam/pkg/kernels"
)

// TestFloat32LayersMatchFloat64 runs the float32 layers, whose element-wise
// loops use the kernels package's vector code, against their float64
// instantiation (plain Go loops) on every kernel path, for channel counts
// that do and do not fill whole vectors.
func TestFloat32LayersMatchFloat64(t *testing.T) {
	type mk struct {
		name string
		f32  func() Layer[float32]
		f64  func() Layer[float64]
	}
	layers := []mk{
		{"frn", func() Layer[float32] { return NewFRN[float32]("") }, func() Layer[float64] { return NewFRN[float64]("") }},
		{"bn_relu", func() Layer[float32] { return NewBatchNorm[float32]("", true) }, func() Layer[float64] { return NewBatchNorm[float64]("", true) }},
		{"bn", func() Layer[float32] { return NewBatchNorm[float32]("", false) }, func() Layer[float64] { return NewBatchNorm[float64]("", false) }},
		{"frn_block", func() Layer[float32] { return NewFRNBlock[float32]("", 16, 1, false) }, func() Layer[float64] { return NewFRNBlock[float64]("", 16, 1, false) }},
		{"frn_block_proj", func() Layer[float32] { return NewFRNBlock[float32]("", 32, 2, true) }, func() Layer[float64] { return NewFRNBlock[float64]("", 32, 2, true) }},
		{"basic_block", func() Layer[float32] { return NewBasicBlockV1[float32]("", 16, 1, false) }, func() Layer[float64] { return NewBasicBlockV1[float64]("", 16, 1, false) }},
	}
	shapes := []Shape{{8, 8, 16}, {6, 6, 64}, {5, 7, 3}, {4, 4, 24}}
	for _, p := range kernels.Paths() {
		for _, l := range layers {
			for _, in := range shapes {
				switch l.name {
				case "frn_block", "basic_block": // identity shortcut
					if in.C != 16 {
						continue
					}
				case "frn_block_proj":
					if in.C%8 != 0 {
						continue
					}
				}
				t.Run(fmt.Sprintf("%v/%s/%v", p, l.name, in), func(t *testing.T) {
					defer kernels.SetPath(p)()
					r := rand.New(rand.NewPCG(5, uint64(in.C)))
					n := 3
					f64 := newFDLayer(l.f64(), in, r)
					l32 := l.f32()
					var b Builder
					l32.Setup(&b, in)
					p32 := make([]float32, len(f64.params))
					for i := range p32 {
						p32[i] = float32(f64.params[i])
						f64.params[i] = float64(p32[i])
					}
					s32 := make([]float32, len(f64.state))
					for i := range s32 {
						s32[i] = float32(f64.state[i])
					}
					g32 := make([]float32, len(p32))
					l32.Bind(p32, g32, s32)
					x := randSlice(r, n*in.Size())
					x32 := make([]float32, len(x))
					for i := range x {
						x32[i] = float32(x[i])
						x[i] = float64(x32[i])
					}
					clear(f64.grads)
					z64 := f64.l.Forward(trainCtx(n), x)
					dz := randSlice(r, len(z64))
					dz32 := make([]float32, len(dz))
					for i := range dz {
						dz32[i] = float32(dz[i])
						dz[i] = float64(dz32[i])
					}
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
						if diff/scale > 1e-4 || math.IsNaN(diff) {
							t.Errorf("%s: float32 differs from float64 by %.2g of its scale", c.name, diff/scale)
						}
					}
				})
			}
		}
	}
}
