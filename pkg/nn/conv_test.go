package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bsam-dev/bsam/pkg/kernels"
)

// fdLayer is a single float64 layer instance wired to its own buffers, used
// by the finite-difference checks of this package's layers.
type fdLayer struct {
	l                    Layer[float64]
	in, out              Shape
	params, grads, state []float64
	specs                []ParamSpec
}

func newFDLayer(l Layer[float64], in Shape, r *rand.Rand) *fdLayer {
	var b Builder
	out := l.Setup(&b, in)
	f := &fdLayer{l: l, in: in, out: out,
		params: make([]float64, b.NumParams()),
		grads:  make([]float64, b.NumParams()),
		state:  make([]float64, b.NumState()),
		specs:  b.Specs()}
	for _, s := range b.StateSpecs() {
		for i := range s.Size {
			f.state[s.Offset+i] = s.Init
		}
	}
	for i := range f.params {
		f.params[i] = r.NormFloat64() * 0.5
	}
	l.Bind(f.params, f.grads, f.state)
	return f
}

func trainCtx(n int) *Ctx {
	return &Ctx{Mode: Mode{Train: true}, Shards: 1, N: n, Total: n}
}

// loss returns Σ proj·Forward(x).
func (f *fdLayer) loss(x, proj []float64, n int) float64 {
	y := f.l.Forward(trainCtx(n), x)
	var s float64
	for i, v := range y[:n*f.out.Size()] {
		s += v * proj[i]
	}
	return s
}

// checkGrads compares the analytic gradients of Σ proj·y with respect to x
// and every parameter with central differences, at most maxPer entries per
// tensor (chosen at random), and fails when the relative error exceeds tol.
func (f *fdLayer) checkGrads(t *testing.T, x []float64, n int, r *rand.Rand, tol float64) {
	t.Helper()
	proj := make([]float64, n*f.out.Size())
	for i := range proj {
		proj[i] = r.NormFloat64()
	}
	clear(f.grads)
	f.loss(x, proj, n)
	dx := append([]float64(nil), f.l.Backward(trainCtx(n), proj, true)[:len(x)]...)
	grads := append([]float64(nil), f.grads...)
	const h = 1e-6
	check := func(name string, buf []float64, analytic []float64) {
		t.Helper()
		idx := r.Perm(len(buf))
		if len(idx) > 40 {
			idx = idx[:40]
		}
		var maxAbs float64
		for _, v := range analytic {
			maxAbs = max(maxAbs, math.Abs(v))
		}
		for _, i := range idx {
			old := buf[i]
			buf[i] = old + h
			lp := f.loss(x, proj, n)
			buf[i] = old - h
			lm := f.loss(x, proj, n)
			buf[i] = old
			num := (lp - lm) / (2 * h)
			if err := math.Abs(num-analytic[i]) / max(maxAbs, 1e-3); err > tol {
				t.Errorf("%s[%d]: analytic %.9g, finite difference %.9g (rel. err %.2g)", name, i, analytic[i], num, err)
			}
		}
	}
	check("dx", x, dx)
	for _, s := range f.specs {
		check(s.Name, f.params[s.Offset:s.Offset+s.Size], grads[s.Offset:s.Offset+s.Size])
	}
}

func randSlice(r *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = r.NormFloat64()
	}
	return s
}

// naiveConv is a direct-loop reference convolution (NHWC, HWIO, explicit
// padding before the first row/column).
func naiveConv(x []float64, n int, in Shape, w, b []float64, k, s, cout, padT, padL int, out Shape) []float64 {
	y := make([]float64, n*out.Size())
	for i := 0; i < n; i++ {
		for oy := 0; oy < out.H; oy++ {
			for ox := 0; ox < out.W; ox++ {
				for co := 0; co < cout; co++ {
					var acc float64
					if b != nil {
						acc = b[co]
					}
					for kh := 0; kh < k; kh++ {
						for kw := 0; kw < k; kw++ {
							iy, ix := oy*s+kh-padT, ox*s+kw-padL
							if iy < 0 || iy >= in.H || ix < 0 || ix >= in.W {
								continue
							}
							for ci := 0; ci < in.C; ci++ {
								acc += x[((i*in.H+iy)*in.W+ix)*in.C+ci] * w[((kh*k+kw)*in.C+ci)*cout+co]
							}
						}
					}
					y[((i*out.H+oy)*out.W+ox)*cout+co] = acc
				}
			}
		}
	}
	return y
}

func TestOutSizeTensorFlowSame(t *testing.T) {
	tests := []struct {
		n, k, s     int
		p           Padding
		out, before int
	}{
		{32, 3, 1, PadSame, 32, 1},
		{32, 3, 2, PadSame, 16, 0}, // total 1: 0 before, 1 after
		{31, 3, 2, PadSame, 16, 1}, // total 2
		{32, 1, 2, PadSame, 16, 0},
		{28, 5, 1, PadSame, 28, 2},
		{28, 5, 2, PadSame, 14, 1}, // total 3: 1 before, 2 after
		{28, 3, 2, PadValid, 13, 0},
		{32, 5, 1, PadValid, 28, 0},
	}
	for _, tc := range tests {
		out, before := outSize(tc.n, tc.k, tc.s, tc.p)
		if out != tc.out || before != tc.before {
			t.Errorf("outSize(%d, k=%d, s=%d, %v) = %d, %d; want %d, %d", tc.n, tc.k, tc.s, tc.p, out, before, tc.out, tc.before)
		}
	}
}

var convCases = []struct {
	in   Shape
	cfg  Conv2DConfig
	mode convMode
}{
	{Shape{6, 5, 3}, Conv2DConfig{Out: 4, K: 3, Stride: 1, Padding: PadSame, Bias: true, Method: ConvImplicit}, convImplicit},
	{Shape{6, 5, 3}, Conv2DConfig{Out: 4, K: 3, Stride: 1, Padding: PadSame, Method: ConvImplicit}, convImplicit},
	{Shape{6, 6, 2}, Conv2DConfig{Out: 3, K: 3, Stride: 2, Padding: PadSame, Bias: true}, convIm2col}, // pads 0/1
	{Shape{7, 7, 2}, Conv2DConfig{Out: 3, K: 3, Stride: 2, Padding: PadSame}, convIm2col},             // pads 1/1
	{Shape{7, 6, 2}, Conv2DConfig{Out: 3, K: 5, Stride: 1, Padding: PadSame, Bias: true, Method: ConvImplicit}, convImplicit},
	{Shape{8, 8, 2}, Conv2DConfig{Out: 3, K: 5, Stride: 2, Padding: PadSame}, convIm2col}, // pads 1/2
	{Shape{6, 6, 3}, Conv2DConfig{Out: 4, K: 1, Stride: 1, Padding: PadSame, Bias: true}, convPointwise},
	{Shape{6, 6, 3}, Conv2DConfig{Out: 4, K: 1, Stride: 2, Padding: PadSame, Bias: true}, convIm2col},
	{Shape{7, 7, 3}, Conv2DConfig{Out: 4, K: 1, Stride: 2, Padding: PadValid}, convIm2col},
	{Shape{7, 6, 2}, Conv2DConfig{Out: 3, K: 3, Stride: 1, Padding: PadValid, Bias: true}, convIm2col},
	{Shape{9, 9, 2}, Conv2DConfig{Out: 3, K: 5, Stride: 1, Padding: PadValid}, convIm2col},
	{Shape{9, 8, 2}, Conv2DConfig{Out: 3, K: 3, Stride: 2, Padding: PadValid, Bias: true}, convIm2col},
	// ConvAuto sends small stride-1 SAME images to im2col, larger to the implicit GEMM.
	{Shape{4, 4, 3}, Conv2DConfig{Out: 4, K: 3, Stride: 1, Padding: PadSame, Bias: true}, convIm2col},
	{Shape{8, 8, 3}, Conv2DConfig{Out: 4, K: 3, Stride: 1, Padding: PadSame}, convImplicit},
	{Shape{5, 5, 3}, Conv2DConfig{Out: 4, K: 3, Stride: 1, Padding: PadSame, Method: ConvIm2col}, convIm2col},
	{Shape{5, 5, 3}, Conv2DConfig{Out: 4, K: 1, Stride: 1, Padding: PadSame, Method: ConvIm2col}, convIm2col},
	// Winograd F(2×2, 3×3), forced: several tile rows and columns, one tile, bias or not.
	{Shape{6, 4, 3}, Conv2DConfig{Out: 5, K: 3, Stride: 1, Padding: PadSame, Bias: true, Method: ConvWinograd}, convWinograd},
	{Shape{4, 8, 2}, Conv2DConfig{Out: 3, K: 3, Stride: 1, Padding: PadSame, Method: ConvWinograd}, convWinograd},
	{Shape{2, 2, 3}, Conv2DConfig{Out: 2, K: 3, Stride: 1, Padding: PadSame, Bias: true, Method: ConvWinograd}, convWinograd},
}

// overlapModes returns the OverlappingRows settings this GEMM supports
// (false always; true when the probe found overlapping rows accepted) and
// restores the setting when the test ends.
func overlapModes(t *testing.T) []bool {
	saved := OverlappingRows
	t.Cleanup(func() { OverlappingRows = saved })
	if probeOverlappingRows() {
		return []bool{false, true}
	}
	t.Log("kernels.Gemm rejects overlapping rows: testing the expanded layout only")
	return []bool{false}
}

func TestConv2DForwardMatchesDirectLoops(t *testing.T) {
	for _, ov := range overlapModes(t) {
		OverlappingRows = ov
		testConv2DForward(t)
	}
}

func testConv2DForward(t *testing.T) {
	for _, tc := range convCases {
		name := fmt.Sprintf("%v/k%d_s%d_%v_bias=%v/overlap=%v", tc.in, tc.cfg.K, tc.cfg.Stride, tc.cfg.Padding, tc.cfg.Bias, OverlappingRows)
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			c := NewConv2D[float64](tc.cfg)
			f := newFDLayer(c, tc.in, r)
			if c.mode != tc.mode {
				t.Fatalf("mode %d, want %d", c.mode, tc.mode)
			}
			// Run a larger batch first, then a smaller one, so that the
			// smaller pass reuses buffers laid out for the larger one.
			for _, n := range []int{3, 2} {
				x := randSlice(r, n*tc.in.Size())
				got := c.Forward(trainCtx(n), x)
				nw := tc.cfg.K * tc.cfg.K * tc.in.C * tc.cfg.Out
				var b []float64
				if tc.cfg.Bias {
					b = f.params[nw:]
				}
				want := naiveConv(x, n, tc.in, f.params[:nw], b, tc.cfg.K, tc.cfg.Stride, tc.cfg.Out, c.padT, c.padL, f.out)
				if len(got) != len(want) {
					t.Fatalf("n=%d: output length %d, want %d", n, len(got), len(want))
				}
				for i := range want {
					if math.Abs(got[i]-want[i]) > 1e-12*(1+math.Abs(want[i])) {
						t.Fatalf("n=%d: y[%d] = %g, want %g", n, i, got[i], want[i])
					}
				}
			}
		})
	}
}

func TestConv2DGradientsFiniteDifference(t *testing.T) {
	for _, ov := range overlapModes(t) {
		OverlappingRows = ov
		testConv2DGradients(t)
	}
}

func testConv2DGradients(t *testing.T) {
	for _, tc := range convCases {
		name := fmt.Sprintf("%v/k%d_s%d_%v_bias=%v/overlap=%v", tc.in, tc.cfg.K, tc.cfg.Stride, tc.cfg.Padding, tc.cfg.Bias, OverlappingRows)
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 4))
			f := newFDLayer(NewConv2D[float64](tc.cfg), tc.in, r)
			n := 2
			f.checkGrads(t, randSlice(r, n*tc.in.Size()), n, r, 1e-7)
		})
	}
}

func TestConv2DParamsAndInit(t *testing.T) {
	tests := []struct {
		cfg   Conv2DConfig
		in    Shape
		names []string
		std   float64
	}{
		{Conv2DConfig{Name: "conv", Out: 16, K: 3, Padding: PadSame, Bias: true, HeInit: true}, Shape{32, 32, 3},
			[]string{"conv.weight", "conv.bias"}, math.Sqrt(2.0/27) / 0.87962566103423978},
		{Conv2DConfig{Out: 64, K: 1, Stride: 2, Padding: PadSame}, Shape{8, 8, 32},
			[]string{"weight"}, 1 / math.Sqrt(32)},
	}
	for _, tc := range tests {
		var b Builder
		NewConv2D[float32](tc.cfg).Setup(&b, tc.in)
		specs := b.Specs()
		if len(specs) != len(tc.names) {
			t.Fatalf("%+v: %d params, want %d", tc.cfg, len(specs), len(tc.names))
		}
		for i, s := range specs {
			if s.Name != tc.names[i] {
				t.Errorf("param %d named %q, want %q", i, s.Name, tc.names[i])
			}
		}
		if want := []int{tc.cfg.K, tc.cfg.K, tc.in.C, tc.cfg.Out}; fmt.Sprint(specs[0].Shape) != fmt.Sprint(want) {
			t.Errorf("weight shape %v, want %v (HWIO)", specs[0].Shape, want)
		}
		if got := b.Inits()[0]; got.Kind != InitTruncNormal || math.Abs(got.Std-tc.std) > 1e-15 {
			t.Errorf("weight init %+v, want truncated normal std %g", got, tc.std)
		}
	}
}

// TestConv2DFloat32Paths runs float32 convolutions of ResNet-like sizes on
// every GEMM path of this CPU (and both implicit-GEMM layouts where the GEMM
// allows overlapping rows) and compares output, dX, dW and db with the
// float64 layer.
func TestConv2DFloat32Paths(t *testing.T) {
	cases := []struct {
		in  Shape
		cfg Conv2DConfig
	}{
		{Shape{10, 9, 16}, Conv2DConfig{Out: 32, K: 3, Stride: 1, Padding: PadSame, Bias: true}},
		{Shape{10, 10, 16}, Conv2DConfig{Out: 32, K: 3, Stride: 2, Padding: PadSame, Bias: true}},
		{Shape{10, 10, 16}, Conv2DConfig{Out: 32, K: 1, Stride: 2, Padding: PadSame}},
		{Shape{8, 8, 24}, Conv2DConfig{Out: 40, K: 1, Stride: 1, Padding: PadSame}},
		{Shape{9, 9, 8}, Conv2DConfig{Out: 20, K: 5, Stride: 1, Padding: PadSame, Method: ConvImplicit}},
		{Shape{8, 6, 16}, Conv2DConfig{Out: 32, K: 3, Stride: 1, Padding: PadSame, Bias: true, Method: ConvWinograd}},
		{Shape{4, 4, 32}, Conv2DConfig{Out: 16, K: 3, Stride: 1, Padding: PadSame, Method: ConvWinograd}},
		{Shape{6, 6, 8}, Conv2DConfig{Out: 8, K: 3, Stride: 1, Padding: PadSame, Method: ConvWinograd}}, // Go transforms
	}
	for _, p := range kernels.Paths() {
		for _, ov := range overlapModes(t) {
			restore := kernels.SetPath(p)
			OverlappingRows = ov
			for _, tc := range cases {
				name := fmt.Sprintf("%v/%v/k%d_s%d/overlap=%v", p, tc.in, tc.cfg.K, tc.cfg.Stride, ov)
				t.Run(name, func(t *testing.T) { testConvFloat32(t, tc.in, tc.cfg) })
			}
			restore()
		}
	}
}

func testConvFloat32(t *testing.T, in Shape, cfg Conv2DConfig) {
	r := rand.New(rand.NewPCG(31, 1))
	n := 3
	c64 := NewConv2D[float64](cfg)
	f := newFDLayer(c64, in, r)
	c32 := NewConv2D[float32](cfg)
	var b Builder
	c32.Setup(&b, in)
	p32 := make([]float32, len(f.params))
	for i, v := range f.params {
		p32[i] = float32(v)
		f.params[i] = float64(p32[i])
	}
	g32 := make([]float32, len(p32))
	c32.Bind(p32, g32, nil)
	x := randSlice(r, n*in.Size())
	dy := randSlice(r, n*f.out.Size())
	x32, dy32 := make([]float32, len(x)), make([]float32, len(dy))
	for i := range x {
		x32[i] = float32(x[i])
		x[i] = float64(x32[i])
	}
	for i := range dy {
		dy32[i] = float32(dy[i])
		dy[i] = float64(dy32[i])
	}
	clear(f.grads)
	y64 := c64.Forward(trainCtx(n), x)
	dx64 := c64.Backward(trainCtx(n), dy, true)
	y32 := c32.Forward(trainCtx(n), x32)
	dx32 := c32.Backward(trainCtx(n), dy32, true)
	for _, c := range []struct {
		name string
		a    []float32
		b    []float64
	}{{"y", y32, y64}, {"dx", dx32, dx64}, {"grads", g32, f.grads}} {
		var diff, scale float64
		for i, w := range c.b {
			diff = max(diff, math.Abs(float64(c.a[i])-w))
			scale = max(scale, math.Abs(w))
		}
		if diff/scale > 1e-5 {
			t.Errorf("%s: float32 differs from float64 by %.2g of its scale", c.name, diff/scale)
		}
	}
}
