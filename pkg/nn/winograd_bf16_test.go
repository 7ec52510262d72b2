package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bsam-dev/bsam/pkg/kernels"
)

// TestWinogradNetSameBitsBF16 is TestWinogradNetSameBits in bf16: the
// shards sharing one rounded, packed U (kernels.PackedWinoBF16) give the
// bits of every shard transforming and rounding its own (GemmBF16), and
// GOMAXPROCS changes no bit. It also checks that bf16 Winograd really
// differs from bf16 direct.
func TestWinogradNetSameBitsBF16(t *testing.T) {
	in := Shape{H: 8, W: 8, C: 3}
	seeds := [4]uint64{9, 10, 11, 12}
	wino := NetOptions{ShardSize: 2, Conv: ConvAlgWinograd, Precision: BF16}
	for _, p := range kernels.BF16Paths() {
		t.Run(p.String(), func(t *testing.T) {
			defer kernels.SetBF16Path(p)()
			_, g1 := winoNetSameBits(t, in, seeds, wino)
			_, gd := trainPasses(in, winoTestNet, NetOptions{ShardSize: 2, Precision: BF16}, seeds)
			same := true
			for i := range gd {
				same = same && math.Float32bits(g1[i]) == math.Float32bits(gd[i])
			}
			if same {
				t.Error("bf16 Winograd gave bf16 direct's bits: was it used?")
			}
		})
	}
}

// The Winograd F(2×2, 3×3) matrices (winograd.go): V = Bᵀ d B,
// U = G g Gᵀ, y = Aᵀ M A.
var (
	winoBT = [4][4]float64{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}}
	winoG  = [4][3]float64{{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}}
	winoAT = [2][4]float64{{1, 1, 1, 0}, {0, 1, -1, -1}}
)

// TestWinogradBF16Bound checks a bf16 Winograd convolution (y, dX, dW)
// against the exact convolution (float64, direct, unrounded operands)
// with a bound derived from bf16's 8-bit mantissa. The 16 products take
// V = Bᵀ d B and U = G g Gᵀ (dX: dM = A dy Aᵀ and Uᵀ; dW: V and dM), each
// computed in float32 and rounded to bf16 (relative error ≤ u = 2⁻⁸), so
// each product's error is at most ((1+u)²(1+γ)−1)·|V|·|U|, γ covering the
// float32 transforms and sums. Summed through the transforms of the
// absolute values (|Bᵀ|, |G|, |Aᵀ|) that gives, for every output,
//
//	|got − exact| ≤ ((1+u)²(1+γ_n) − 1) · S,   S = the same pipeline on |·|
//
// with n = the GEMM depth plus 16 (the float32 additions of the input,
// kernel and output transforms and of overlapping tiles, at most 4 + 4 +
// 8). A float32 Winograd would be within γ_n·S: the test also checks that
// bf16's error is beyond that somewhere (the operands were rounded).
func TestWinogradBF16Bound(t *testing.T) {
	for _, p := range kernels.BF16Paths() {
		t.Run(p.String(), func(t *testing.T) {
			defer kernels.SetBF16Path(p)()
			testWinogradBF16Bound(t, 2, 6, 8, 32, 16)
		})
	}
}

func testWinogradBF16Bound(t *testing.T, n, h, w, cin, cout int) {
	r := rand.New(rand.NewPCG(77, 78))
	cfg := Conv2DConfig{Out: cout, K: 3, Stride: 1, Padding: PadSame, Method: ConvWinograd}
	in := Shape{H: h, W: w, C: cin}
	c32 := NewConv2D[float32](cfg)
	SetPrecision([]Layer[float32]{c32}, BF16)
	var b Builder
	out := c32.Setup(&b, in)
	if c32.mode != convWinograd {
		t.Fatal("the layer does not run Winograd")
	}
	wt := make([]float32, b.NumParams())
	for i := range wt {
		wt[i] = float32(r.NormFloat64())
	}
	dw32 := make([]float32, len(wt))
	c32.Bind(wt, dw32, nil)
	x := make([]float32, n*in.Size())
	dy := make([]float32, n*out.Size())
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	for i := range dy {
		dy[i] = float32(r.NormFloat64())
	}
	y32 := append([]float32(nil), c32.Forward(trainCtx(n), x)...)
	dx32 := c32.Backward(trainCtx(n), dy, true)

	// The exact convolution.
	c64 := NewConv2D[float64](Conv2DConfig{Out: cout, K: 3, Stride: 1, Padding: PadSame})
	var b64 Builder
	c64.Setup(&b64, in)
	dw64 := make([]float64, len(wt))
	c64.Bind(f64s(wt), dw64, nil)
	y64 := append([]float64(nil), c64.Forward(trainCtx(n), f64s(x))...)
	dx64 := c64.Backward(trainCtx(n), f64s(dy), true)

	sy, sdx, sdw := winoAbsBounds(n, h, w, cin, cout, x, wt, dy)
	const u = 0x1p-8
	beyond := false
	for _, c := range []struct {
		name  string
		got   []float32
		exact []float64
		s     []float64
		depth int
	}{
		{"y", y32, y64, sy, cin}, {"dx", dx32, dx64, sdx, cout}, {"dw", dw32, dw64, sdw, n * (h / 2) * (w / 2)},
	} {
		g := gammaF32(c.depth + 16)
		tol := (1+u)*(1+u)*(1+g) - 1
		worst := 0.0
		for i, e := range c.exact {
			d := math.Abs(float64(c.got[i]) - e)
			if !(d <= tol*c.s[i]+1e-12*c.s[i]) {
				t.Fatalf("%s[%d] = %g, exact %g: |err| %.3g > ((1+u)²(1+γ_%d)−1)·S = %.3g", c.name, i, c.got[i], e, d, c.depth+16, tol*c.s[i])
			}
			worst = max(worst, d/c.s[i])
			beyond = beyond || d > g*c.s[i]
		}
		t.Logf("%s: largest |err|/S %.3g (bound %.3g)", c.name, worst, tol)
	}
	if !beyond {
		t.Error("every error is within float32's bound: were the operands rounded to bf16?")
	}
}

func f64s(x []float32) []float64 {
	o := make([]float64, len(x))
	for i, v := range x {
		o[i] = float64(v)
	}
	return o
}

// winoAbsBounds returns S for y, dX and dW: the Winograd pipeline of each
// run on |x|, |W|, |dy| with the absolute transform matrices, in float64.
func winoAbsBounds(n, h, w, cin, cout int, x, wt, dy []float32) (sy, sdx, sdw []float64) {
	th, tw := h/2, w/2
	// Ũ[p][ci][co] = (|G| |g| |G|ᵀ)_p.
	ua := make([]float64, 16*cin*cout)
	for ci := 0; ci < cin; ci++ {
		for co := 0; co < cout; co++ {
			for a := 0; a < 4; a++ {
				for bb := 0; bb < 4; bb++ {
					var s float64
					for i := 0; i < 3; i++ {
						for j := 0; j < 3; j++ {
							s += math.Abs(winoG[a][i]) * math.Abs(float64(wt[((3*i+j)*cin+ci)*cout+co])) * math.Abs(winoG[bb][j])
						}
					}
					ua[((4*a+bb)*cin+ci)*cout+co] = s
				}
			}
		}
	}
	xat := func(img, r, c, ch int) float64 { // the zero-padded input, r, c from −1
		if r < 0 || r >= h || c < 0 || c >= w {
			return 0
		}
		return math.Abs(float64(x[((img*h+r)*w+c)*cin+ch]))
	}
	tiles := n * th * tw
	// Ṽ[p][tile][ci] = (|Bᵀ| |d| |Bᵀ|ᵀ)_p and D̃M[p][tile][co] = (|A| |dy| |A|ᵀ)_p.
	va := make([]float64, 16*tiles*cin)
	ma := make([]float64, 16*tiles*cout)
	for img := 0; img < n; img++ {
		for ty := 0; ty < th; ty++ {
			for tx := 0; tx < tw; tx++ {
				tile := (img*th+ty)*tw + tx
				for a := 0; a < 4; a++ {
					for bb := 0; bb < 4; bb++ {
						p := 4*a + bb
						for ci := 0; ci < cin; ci++ {
							var s float64
							for i := 0; i < 4; i++ {
								for j := 0; j < 4; j++ {
									s += math.Abs(winoBT[a][i]) * xat(img, 2*ty+i-1, 2*tx+j-1, ci) * math.Abs(winoBT[bb][j])
								}
							}
							va[(p*tiles+tile)*cin+ci] = s
						}
						for co := 0; co < cout; co++ {
							var s float64
							for i := 0; i < 2; i++ {
								for j := 0; j < 2; j++ {
									s += math.Abs(winoAT[i][a]) * math.Abs(float64(dy[((img*h+2*ty+i)*w+2*tx+j)*cout+co])) * math.Abs(winoAT[j][bb])
								}
							}
							ma[(p*tiles+tile)*cout+co] = s
						}
					}
				}
			}
		}
	}
	sy = make([]float64, n*h*w*cout)
	sdx = make([]float64, n*h*w*cin)
	sdw = make([]float64, 9*cin*cout)
	for img := 0; img < n; img++ {
		for ty := 0; ty < th; ty++ {
			for tx := 0; tx < tw; tx++ {
				tile := (img*th+ty)*tw + tx
				for p := 0; p < 16; p++ {
					a, bb := p/4, p%4
					for co := 0; co < cout; co++ {
						var m float64 // Σ_ci Ṽ·Ũ
						for ci := 0; ci < cin; ci++ {
							m += va[(p*tiles+tile)*cin+ci] * ua[(p*cin+ci)*cout+co]
						}
						for i := 0; i < 2; i++ {
							for j := 0; j < 2; j++ {
								sy[((img*h+2*ty+i)*w+2*tx+j)*cout+co] += math.Abs(winoAT[i][a]) * m * math.Abs(winoAT[j][bb])
							}
						}
					}
					for ci := 0; ci < cin; ci++ {
						var dv float64 // Σ_co D̃M·Ũ
						for co := 0; co < cout; co++ {
							dv += ma[(p*tiles+tile)*cout+co] * ua[(p*cin+ci)*cout+co]
						}
						for i := 0; i < 4; i++ {
							for j := 0; j < 4; j++ {
								r, c := 2*ty+i-1, 2*tx+j-1
								if r >= 0 && r < h && c >= 0 && c < w {
									sdx[((img*h+r)*w+c)*cin+ci] += math.Abs(winoBT[a][i]) * dv * math.Abs(winoBT[bb][j])
								}
							}
						}
					}
				}
			}
		}
	}
	for p := 0; p < 16; p++ {
		a, bb := p/4, p%4
		for ci := 0; ci < cin; ci++ {
			for co := 0; co < cout; co++ {
				var du float64 // Σ_tiles Ṽ·D̃M
				for tile := 0; tile < tiles; tile++ {
					du += va[(p*tiles+tile)*cin+ci] * ma[(p*tiles+tile)*cout+co]
				}
				for i := 0; i < 3; i++ {
					for j := 0; j < 3; j++ {
						sdw[((3*i+j)*cin+ci)*cout+co] += math.Abs(winoG[a][i]) * du * math.Abs(winoG[bb][j])
					}
				}
			}
		}
	}
	return sy, sdx, sdw
}
