package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/bsam-dev/bsam/pkg/kernels"
)

// TestConvBackwardWritesDW checks the contract a training pass relies on
// to skip zeroing the kernel gradients (clearRanges): in every mode and
// precision, Conv2D.Backward writes all of dW, whatever it held (NaN
// here), with the bits it gives into zeros; and the bias gradient is still
// added into.
func TestConvBackwardWritesDW(t *testing.T) {
	cases := []struct {
		name string
		in   Shape
		cfg  Conv2DConfig
		mode convMode
	}{
		{"pointwise", Shape{6, 6, 16}, Conv2DConfig{Out: 32, K: 1, Stride: 1, Padding: PadSame, Bias: true}, convPointwise},
		{"implicit", Shape{8, 8, 16}, Conv2DConfig{Out: 32, K: 3, Stride: 1, Padding: PadSame, Method: ConvImplicit, Bias: true}, convImplicit},
		{"im2col", Shape{8, 8, 16}, Conv2DConfig{Out: 32, K: 3, Stride: 2, Padding: PadSame, Bias: true}, convIm2col},
		{"winograd", Shape{8, 8, 32}, Conv2DConfig{Out: 32, K: 3, Stride: 1, Padding: PadSame, Method: ConvWinograd, Bias: true}, convWinograd},
	}
	for _, prec := range []Precision{FP32, BF16} {
		if prec == BF16 && !kernels.HasBF16() {
			continue
		}
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%v/%s", prec, tc.name), func(t *testing.T) {
				run := func(fill float32) []float32 {
					r := rand.New(rand.NewPCG(5, 6))
					c := NewConv2D[float32](tc.cfg)
					SetPrecision([]Layer[float32]{c}, prec)
					var b Builder
					out := c.Setup(&b, tc.in)
					if c.mode != tc.mode {
						t.Fatalf("mode %v, want %v", c.mode, tc.mode)
					}
					p := make([]float32, b.NumParams())
					for i := range p {
						p[i] = float32(r.NormFloat64())
					}
					g := make([]float32, len(p))
					for i := range g {
						g[i] = fill
					}
					off, n := c.writtenGrads()
					for i := range g {
						if i < off || i >= off+n {
							g[i] = 0.5 // the bias gradient: added into
						}
					}
					c.Bind(p, g, nil)
					const batch = 3
					x := make([]float32, batch*tc.in.Size())
					dy := make([]float32, batch*out.Size())
					for i := range x {
						x[i] = float32(r.NormFloat64())
					}
					for i := range dy {
						dy[i] = float32(r.NormFloat64())
					}
					c.Forward(trainCtx(batch), x)
					c.Backward(trainCtx(batch), dy, true)
					return g
				}
				want := run(0)
				got := run(float32(math.NaN()))
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("grad[%d] = %v over NaN, %v over zeros", i, got[i], want[i])
					}
				}
			})
		}
	}
}

// TestClearRanges checks the complement of the written ranges by hand.
func TestClearRanges(t *testing.T) {
	for _, tc := range []struct {
		written [][2]int // off, n
		total   int
		want    [][2]int
	}{
		{nil, 10, [][2]int{{0, 10}}},
		{[][2]int{{0, 10}}, 10, [][2]int{}},
		{[][2]int{{6, 2}, {2, 3}}, 10, [][2]int{{0, 2}, {5, 6}, {8, 10}}},
		{[][2]int{{2, 3}, {5, 5}}, 10, [][2]int{{0, 2}}},
	} {
		var layers []Layer[float32]
		for _, w := range tc.written {
			layers = append(layers, &writerStub{off: w[0], n: w[1]})
		}
		got := clearRanges(Chain[float32]{Layers: layers}.asLayers(), tc.total)
		if got == nil || !slices.Equal(got, tc.want) {
			t.Errorf("written %v of %d: clear %v, want %v", tc.written, tc.total, got, tc.want)
		}
	}
}

// writerStub is a layer that claims it writes [off, off+n).
type writerStub struct {
	Layer[float32]
	off, n int
}

func (w *writerStub) writtenGrads() (int, int) { return w.off, w.n }

// asLayers wraps the chain as a layer list (clearRanges looks into it).
func (c Chain[T]) asLayers() []Layer[T] { return []Layer[T]{&c} }
