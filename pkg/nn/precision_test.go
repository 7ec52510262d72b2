package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bsam-dev/bsam/pkg/kernels"
)

// gammaF32 is γ_n = n·u/(1 − n·u) for float32 (u = 2⁻²⁴): the relative
// bound on a chain of n float32 roundings of sums of exact terms.
func gammaF32(n int) float64 {
	const u = 0x1p-24
	return float64(n) * u / (1 - float64(n)*u)
}

// TestConv2DBF16 checks a bf16 convolution (implicit GEMM, im2col and 1×1
// modes) against the float64 layer run on the bf16-rounded operands (x,
// W, dy): in bf16 only the GEMM operands are rounded, and the products of
// bf16 values are exact in float32, so y, dX and dW may differ from that
// reference only by float32 rounding of the sums: at most γ_n times the
// same quantity computed from |x|, |W|, |dy| (the sum of absolute terms),
// where n bounds the roundings along one output's chain: the GEMM depth K
// (k·k·cin for y, k·k·cout plus the k·k col2im adds for dX, the rows for
// dW), three per K block of 256 and term, and two more.
func TestConv2DBF16(t *testing.T) {
	cases := []struct {
		in  Shape
		cfg Conv2DConfig
	}{
		{Shape{10, 9, 16}, Conv2DConfig{Out: 32, K: 3, Stride: 1, Padding: PadSame}},
		{Shape{10, 10, 16}, Conv2DConfig{Out: 32, K: 3, Stride: 2, Padding: PadSame}},
		{Shape{8, 8, 24}, Conv2DConfig{Out: 40, K: 1, Stride: 1, Padding: PadSame}},
	}
	for _, p := range kernels.BF16Paths() {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%v/%v/k%d_s%d", p, tc.in, tc.cfg.K, tc.cfg.Stride), func(t *testing.T) {
				defer kernels.SetBF16Path(p)()
				testConvBF16(t, tc.in, tc.cfg)
			})
		}
	}
}

func testConvBF16(t *testing.T, in Shape, cfg Conv2DConfig) {
	r := rand.New(rand.NewPCG(41, 2))
	const n = 3
	c32 := NewConv2D[float32](cfg)
	SetPrecision([]Layer[float32]{c32}, BF16)
	if !c32.bf16 {
		t.Fatal("SetPrecision(BF16) did not reach the convolution")
	}
	var b Builder
	out := c32.Setup(&b, in)
	p32 := make([]float32, b.NumParams())
	for i := range p32 {
		p32[i] = float32(r.NormFloat64())
	}
	g32 := make([]float32, len(p32))
	c32.Bind(p32, g32, nil)
	x32 := make([]float32, n*in.Size())
	dy32 := make([]float32, n*out.Size())
	for i := range x32 {
		x32[i] = float32(r.NormFloat64())
	}
	for i := range dy32 {
		dy32[i] = float32(r.NormFloat64())
	}
	y32 := append([]float32(nil), c32.Forward(trainCtx(n), x32)...)
	dx32 := c32.Backward(trainCtx(n), dy32, true)

	// ref runs the float64 layer on the rounded operands, or on their
	// absolute values.
	ref := func(abs bool) (y, dx, dw []float64) {
		c := NewConv2D[float64](cfg)
		var b Builder
		c.Setup(&b, in)
		conv := func(v []float32) []float64 {
			o := make([]float64, len(v))
			for i, e := range v {
				o[i] = float64(kernels.RoundBF16(e))
				if abs {
					o[i] = math.Abs(o[i])
				}
			}
			return o
		}
		dw = make([]float64, len(p32))
		c.Bind(conv(p32), dw, nil)
		y = append([]float64(nil), c.Forward(trainCtx(n), conv(x32))...)
		dx = c.Backward(trainCtx(n), conv(dy32), true)
		return
	}
	y, dx, dw := ref(false)
	ya, dxa, dwa := ref(true)
	k, kk := cfg.K, cfg.K*cfg.K
	rows := n * out.H * out.W
	blocks := func(depth int) int { return 3 * k * ((depth + 255) / 256) }
	for _, c := range []struct {
		name      string
		got       []float32
		want, abs []float64
		chain     int
	}{
		{"y", y32, y, ya, kk*in.C + blocks(k*in.C) + 2},
		{"dx", dx32, dx, dxa, kk*cfg.Out + kk + blocks(k*cfg.Out) + 2},
		{"dw", g32, dw, dwa, rows + blocks(rows) + 2},
	} {
		tol := gammaF32(c.chain)
		for i, w := range c.want {
			if d := math.Abs(float64(c.got[i]) - w); !(d <= tol*c.abs[i]) {
				t.Fatalf("%s[%d] = %g, want %g: |err| %.3g > γ_%d·Σ|terms| = %.3g", c.name, i, c.got[i], w, d, c.chain, tol*c.abs[i])
			}
		}
	}
	// The operands really were rounded: the float32 result differs.
	c32.bf16 = false
	y32f := c32.Forward(trainCtx(n), x32)
	same := true
	for i := range y32f {
		same = same && y32f[i] == y32[i]
	}
	if same {
		t.Error("bf16 and fp32 forward results are identical: the bf16 GEMM was not used")
	}
}

// TestSetPrecisionReachesNestedLayers checks that SetPrecision and a Net
// built with Precision BF16 (its replicas and clones too) switch every
// convolution and linear layer, inside Chain and Residual blocks.
func TestSetPrecisionReachesNestedLayers(t *testing.T) {
	var convs []*Conv2D[float32]
	var lins []*Linear[float32]
	build := func() []Layer[float32] {
		c1 := NewConv2D[float32](Conv2DConfig{Name: "c1", Out: 4, K: 3})
		c2 := NewConv2D[float32](Conv2DConfig{Name: "c2", Out: 4, K: 3})
		sc := NewConv2D[float32](Conv2DConfig{Name: "sc", Out: 4, K: 1})
		l := NewLinear[float32]("head", 3)
		convs = append(convs, c1, c2, sc)
		lins = append(lins, l)
		return []Layer[float32]{
			c1,
			&Residual[float32]{Name: "block", Body: NewChain[float32]("body", c2), Shortcut: sc},
			Flatten[float32]{},
			l,
		}
	}
	net := NewNet(Shape{4, 4, 2}, 3, build, NetOptions{Precision: BF16})
	net.Clone()
	if len(convs) != 6 {
		t.Fatalf("built %d convolutions, want 6 (net and clone)", len(convs))
	}
	for i, c := range convs {
		if !c.bf16 {
			t.Errorf("convolution %d not switched to bf16", i)
		}
	}
	for i, l := range lins {
		if !l.bf16 {
			t.Errorf("linear layer %d not switched to bf16", i)
		}
	}
	convs, lins = nil, nil
	NewNet(Shape{4, 4, 2}, 3, build, NetOptions{})
	if convs[0].bf16 || lins[0].bf16 {
		t.Error("a default Net computes in bf16")
	}
}

func TestParsePrecision(t *testing.T) {
	for s, want := range map[string]Precision{"": FP32, "fp32": FP32, "bf16": BF16} {
		if p, err := ParsePrecision(s); err != nil || p != want {
			t.Errorf("ParsePrecision(%q) = %v, %v; want %v", s, p, err, want)
		}
	}
	if _, err := ParsePrecision("fp16"); err == nil {
		t.Error("ParsePrecision(fp16) accepted")
	}
	p, notice := ResolvePrecision(BF16)
	if kernels.HasBF16() != (p == BF16) || (p == FP32) != (notice != "") {
		t.Errorf("ResolvePrecision(BF16) = %v, %q with HasBF16 %v", p, notice, kernels.HasBF16())
	}
}
