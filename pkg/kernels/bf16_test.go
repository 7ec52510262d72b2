package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestBF16RoundingHandMade checks ToBF16 on cases worked out by hand from
// the definition (round to nearest, ties to even; denormals to signed zero,
// as VCVTNE2PS2BF16): bf16 keeps the top 16 bits of a float32, so near 1
// its spacing is 2⁻⁷ and the tie sits at 2⁻⁸.
func TestBF16RoundingHandMade(t *testing.T) {
	cases := []struct {
		name string
		in   uint32 // float32 bits
		want uint16
	}{
		{"one", 0x3f800000, 0x3f80},
		{"tie to even, down (1+2⁻⁸)", 0x3f808000, 0x3f80},
		{"tie to even, up (1+3·2⁻⁸)", 0x3f818000, 0x3f82},
		{"above tie (1+2⁻⁸+2⁻²³)", 0x3f808001, 0x3f81},
		{"below tie (1+2⁻⁸−2⁻²³)", 0x3f807fff, 0x3f80},
		{"negative tie to even", 0xbf808000, 0xbf80},
		{"negative tie up", 0xbf818000, 0xbf82},
		{"carry into exponent (2−2⁻²³)", 0x3fffffff, 0x4000},
		{"+0", 0x00000000, 0x0000},
		{"-0", 0x80000000, 0x8000},
		{"smallest denormal to +0", 0x00000001, 0x0000},
		{"largest denormal to +0", 0x007fffff, 0x0000},
		{"negative denormal to -0", 0x807fffff, 0x8000},
		{"smallest normal", 0x00800000, 0x0080},
		{"largest finite float32 overflows to +Inf", 0x7f7fffff, 0x7f80},
		{"largest bf16 below tie", 0x7f7f7fff, 0x7f7f},
		{"tie above largest bf16 (odd) to +Inf", 0x7f7f8000, 0x7f80},
		{"+Inf", 0x7f800000, 0x7f80},
		{"-Inf", 0xff800000, 0xff80},
		{"quiet NaN", 0x7fc00000, 0x7fc0},
		{"signalling NaN made quiet", 0x7f800001, 0x7fc0},
		{"negative NaN with payload", 0xff812345, 0xffc1},
	}
	for _, tc := range cases {
		if got := ToBF16(math.Float32frombits(tc.in)); got != tc.want {
			t.Errorf("%s: ToBF16(%#08x) = %#04x, want %#04x", tc.name, tc.in, got, tc.want)
		}
	}
	for _, h := range []uint16{0x3f80, 0xc0a1, 0x0080, 0x7f7f} {
		if got := ToBF16(FromBF16(h)); got != h {
			t.Errorf("ToBF16(FromBF16(%#04x)) = %#04x: not exact", h, got)
		}
	}
}

// TestBF16RoundingNearest checks on random float32 that RoundBF16 returns
// a bf16 value nearest to x, and the even one of two equally near (the
// definition, with a float64 distance), for normal finite x.
func TestBF16RoundingNearest(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		u := rng.Uint32()
		if i%4 == 0 {
			u = u&^0xffff | 0x8000 // exact ties
		}
		x := math.Float32frombits(u)
		e := u >> 23 & 0xff
		if e == 0 || e == 0xff {
			continue
		}
		// The two bf16 neighbours: x truncated toward zero and the next one
		// away from zero (one bf16 ulp, 2^(e−127−7), further; ±Inf above
		// the largest bf16, where the float64 distance uses 2¹²⁸).
		lo := math.Float32frombits(u &^ 0xffff)
		ulp := math.Ldexp(1, int(e)-127-7)
		dlo := math.Abs(float64(x) - float64(lo))
		dhi := ulp - dlo
		want := lo
		if dhi < dlo || (dhi == dlo && (u>>16)&1 == 1) {
			want = math.Float32frombits(u&^0xffff + 0x10000)
		}
		if got := RoundBF16(x); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("RoundBF16(%#08x) = %#08x, want %#08x", u, math.Float32bits(got), math.Float32bits(want))
		}
	}
}

// bf16Case is one GemmBF16 problem.
type bf16Case struct {
	m, n, k        int
	transA, transB bool
	alpha, beta    float32
}

func (tc bf16Case) String() string {
	return fmt.Sprintf("%dx%dx%d_tA=%v_tB=%v_alpha=%g_beta=%g", tc.m, tc.n, tc.k, tc.transA, tc.transB, tc.alpha, tc.beta)
}

// bf16Shapes: 1, odd sizes, the tile edges (12 rows, 16 and 32 columns),
// k odd (a last unpaired k), k across the bKC (512) and gKC (256) blocks, n
// across the bNC (512) panel.
var bf16Shapes = [][3]int{
	{1, 1, 1}, {1, 7, 13}, {7, 1, 33}, {13, 33, 7}, {7, 13, 1},
	{12, 32, 64}, {13, 17, 67}, {33, 64, 67}, {24, 16, 2}, {25, 48, 300},
	{67, 67, 67}, {11, 40, 513}, {30, 530, 33}, {12, 33, 1030},
	{250, 20, 37}, {121, 17, 9}, {1543, 3, 5}, // transposed A across blocks of slivers (≥ 120 rows, ≤ 1536)
}

// randBF16Operand returns an r×c matrix with leading dimension c+pad whose
// elements are random with magnitudes from 2⁻⁴ to 2⁴ and whose padding
// (which Gemm must not read) is NaN.
func randBF16Operand(rng *rand.Rand, r, c, pad int) ([]float32, int) {
	ld := c + pad
	x := make([]float32, (r-1)*ld+c)
	for i := range x {
		if i%ld >= c {
			x[i] = float32(math.NaN())
			continue
		}
		x[i] = (rng.Float32()*2 - 1) * float32(math.Ldexp(1, rng.IntN(9)-4))
	}
	return x, ld
}

// bf16Tolerance is the bound on |C − C_ref| for one element from the
// rounding error analysis of a float32 sum of products of bf16 values:
// the products are exact in float32 (8-bit × 8-bit significands), so the
// only errors are the float32 roundings (unit roundoff u = 2⁻²⁴) of the
// additions. Along the chain that produces one element of C there are at
// most k additions into the accumulator (VDPBF16PS adds its two products
// with at most two roundings), and per K block one rounding each for
// alpha·acc, beta·C and their sum; blocks are at least 256 deep (gKC; the
// assembly uses 512). Every partial sum is bounded by the sum of absolute
// terms, so the error is at most γ_n·(|alpha|·Σ_p|a_p·b_p| + |beta|·|c|)
// with γ_n = n·u/(1 − n·u) (Higham, Accuracy and Stability of Numerical
// Algorithms, §3.1); the float64 reference's own error (≤ γ_k in float64)
// is covered by one more n.
func bf16Tolerance(k int, absSum float64) float64 {
	const u = 0x1p-24
	n := float64(k + 3*((k+255)/256) + 1)
	return n * u / (1 - n*u) * absSum
}

// checkGemmBF16 runs GemmBF16 on tc and compares each element with the
// float64 product of the bf16-rounded operands within bf16Tolerance. C's
// padding columns must be left alone.
func checkGemmBF16(t *testing.T, rng *rand.Rand, tc bf16Case, pad int) {
	t.Helper()
	ar, ac := tc.m, tc.k
	if tc.transA {
		ar, ac = ac, ar
	}
	br, bc := tc.k, tc.n
	if tc.transB {
		br, bc = bc, br
	}
	a, lda := randBF16Operand(rng, ar, ac, pad)
	b, ldb := randBF16Operand(rng, br, bc, pad)
	c, ldc := randBF16Operand(rng, tc.m, tc.n, pad)
	if tc.beta == 0 {
		for i := range c {
			if i%ldc < tc.n {
				c[i] = float32(math.NaN()) // must not be read
			}
		}
	}
	c0 := append([]float32(nil), c...)
	GemmBF16(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	at := func(i, p int) float64 {
		if tc.transA {
			return float64(RoundBF16(a[p*lda+i]))
		}
		return float64(RoundBF16(a[i*lda+p]))
	}
	bt := func(p, j int) float64 {
		if tc.transB {
			return float64(RoundBF16(b[j*ldb+p]))
		}
		return float64(RoundBF16(b[p*ldb+j]))
	}
	for i := 0; i < tc.m; i++ {
		for j := 0; j < ldc && i*ldc+j < len(c); j++ {
			got := c[i*ldc+j]
			if j >= tc.n {
				if math.Float32bits(got) != math.Float32bits(c0[i*ldc+j]) {
					t.Fatalf("%v: C padding (%d,%d) written", tc, i, j)
				}
				continue
			}
			var s, abs float64
			for p := 0; p < tc.k; p++ {
				v := at(i, p) * bt(p, j)
				s += v
				abs += math.Abs(v)
			}
			want := float64(tc.alpha) * s
			bound := math.Abs(float64(tc.alpha)) * abs
			if tc.beta != 0 {
				want += float64(tc.beta) * float64(c0[i*ldc+j])
				bound += math.Abs(float64(tc.beta) * float64(c0[i*ldc+j]))
			}
			if tol := bf16Tolerance(tc.k, bound); !(math.Abs(float64(got)-want) <= tol) {
				t.Fatalf("%v pad=%d: C[%d,%d] = %g, want %g (|err| %.3g > tol %.3g)",
					tc, pad, i, j, got, want, math.Abs(float64(got)-want), tol)
			}
		}
	}
}

// TestGemmBF16 checks every bf16 path against the float64 reference over
// all four transpose combinations, odd and edge shapes and alpha/beta
// combinations (beta 0 with a NaN C that must not be read), with NaN in
// the padding of every operand (the packing must not read past op(A),
// op(B)).
func TestGemmBF16(t *testing.T) {
	alphaBetas := [][2]float32{{1, 0}, {1, 1}, {-0.5, 2.5}, {3, 0}}
	for _, p := range BF16Paths() {
		t.Run(p.String(), func(t *testing.T) {
			defer SetBF16Path(p)()
			rng := rand.New(rand.NewPCG(3, uint64(p)))
			for _, s := range bf16Shapes {
				for tr := 0; tr < 4; tr++ {
					for i, ab := range alphaBetas {
						tc := bf16Case{s[0], s[1], s[2], tr&1 != 0, tr&2 != 0, ab[0], ab[1]}
						checkGemmBF16(t, rng, tc, (i%2)*5)
					}
				}
			}
		})
	}
}

// TestGemmBF16RoundsOperands checks that the operands really are rounded
// to bf16 (a float32 GEMM would pass the tolerance test above only by
// chance): 1+2⁻⁹ is 1 in bf16, so the product of an all-(1+2⁻⁹) A and an
// all-ones B is exactly k (float32 would give k·(1+2⁻⁹)), and 1+2⁻⁷ is
// kept, giving exactly k·(1+2⁻⁷).
func TestGemmBF16RoundsOperands(t *testing.T) {
	for _, p := range BF16Paths() {
		t.Run(p.String(), func(t *testing.T) {
			defer SetBF16Path(p)()
			for _, x := range []struct{ a, want float32 }{{1 + 0x1p-9, 1}, {1 + 0x1p-7, 1 + 0x1p-7}} {
				for tr := 0; tr < 4; tr++ {
					const m, n, k = 13, 33, 67
					a := make([]float32, m*k)
					b := make([]float32, k*n)
					for i := range a {
						a[i] = x.a
					}
					for i := range b {
						b[i] = 1
					}
					c := make([]float32, m*n)
					lda, ldb := pick(tr&1 != 0, m, k), pick(tr&2 != 0, k, n)
					GemmBF16(tr&1 != 0, tr&2 != 0, m, n, k, 1, a, lda, b, ldb, 0, c, n)
					for i, v := range c {
						if v != k*x.want {
							t.Fatalf("a=%g tr=%d: c[%d] = %.9g, want %.9g", x.a, tr, i, v, k*x.want)
						}
					}
				}
			}
		})
	}
}

// TestGemmBF16ZeroSizes checks the shortcuts: alpha 0 or k 0 scale C by
// beta without reading A or B (NaN there), m or n 0 do nothing.
func TestGemmBF16ZeroSizes(t *testing.T) {
	nan := float32(math.NaN())
	a := []float32{nan, nan, nan, nan}
	c := []float32{1, 2, 3, 4}
	GemmBF16(false, false, 2, 2, 2, 0, a, 2, a, 2, 0.5, c, 2)
	if c[0] != 0.5 || c[3] != 2 {
		t.Fatalf("alpha 0: C = %v, want 0.5·C", c)
	}
	GemmBF16(false, false, 2, 2, 0, 1, nil, 0, nil, 0, 0, c, 2)
	if c[0] != 0 || c[3] != 0 {
		t.Fatalf("k 0, beta 0: C = %v, want 0", c)
	}
	GemmBF16(false, false, 0, 2, 2, 1, nil, 0, nil, 0, 0, nil, 2)
}

// TestGemmSumBF16 checks GemmSumBF16 on an implicit-convolution-like
// problem (A terms as shifted, overlapping rows) against the float64 sum of
// bf16 products; the error chain is the terms' chains one after another.
func TestGemmSumBF16(t *testing.T) {
	for _, p := range BF16Paths() {
		t.Run(p.String(), func(t *testing.T) {
			defer SetBF16Path(p)()
			rng := rand.New(rand.NewPCG(5, 6))
			const m, n, k, lda, terms = 50, 40, 27, 9, 3
			aoff := []int{0, 7 * lda, 14 * lda}
			a, _ := randBF16Operand(rng, 1, aoff[terms-1]+(m-1)*lda+k, 0)
			b, _ := randBF16Operand(rng, terms*k, n, 0)
			c := make([]float32, m*n)
			GemmSumBF16(m, n, k, a, lda, aoff, b, n, c, n)
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					var s, abs float64
					for t, o := range aoff {
						for q := 0; q < k; q++ {
							v := float64(RoundBF16(a[o+i*lda+q])) * float64(RoundBF16(b[(t*k+q)*n+j]))
							s += v
							abs += math.Abs(v)
						}
					}
					if tol := terms * bf16Tolerance(k, abs); !(math.Abs(float64(c[i*n+j])-s) <= tol) {
						t.Fatalf("C[%d,%d] = %g, want %g (tol %.3g)", i, j, c[i*n+j], s, tol)
					}
				}
			}
		})
	}
}

// bf16BenchShapes are ResNet-18 (CIFAR) convolution GEMMs for a shard of 16
// images: forward M = 16·H·W, N = C, K = 9·C per stage (32×32×64 to
// 4×4×512), weight gradients (transA, K = 16·H·W), input gradients
// (transB), and the 1024³ square.
var bf16BenchShapes = []benchShape{
	{"1024x1024x1024", 1024, 1024, 1024, false, false},
	{"r18_fwd_16384x64x576", 16384, 64, 576, false, false},
	{"r18_fwd_4096x128x1152", 4096, 128, 1152, false, false},
	{"r18_fwd_1024x256x2304", 1024, 256, 2304, false, false},
	{"r18_fwd_256x512x4608", 256, 512, 4608, false, false},
	{"r18_dw_576x64x16384", 576, 64, 16384, true, false},
	{"r18_dw_2304x256x1024", 2304, 256, 1024, true, false},
	{"r18_dx_16384x576x64", 16384, 576, 64, false, true},
	{"r18_dx_1024x2304x256", 1024, 2304, 256, false, true},
}

// BenchmarkBF16 times GemmBF16 (active bf16 path) and the float32 Gemm
// (active path) on the same shape, alternating within one run, and reports
// both GFLOP/s and their ratio: on a shared machine the ratio is the
// number to read.
func BenchmarkBF16(b *testing.B) {
	b.Logf("bf16 path %v, float32 path %v", ActiveBF16Path(), ActivePath())
	for _, s := range bf16BenchShapes {
		b.Run(s.name, func(b *testing.B) {
			a := make([]float32, s.m*s.k)
			bb := make([]float32, s.k*s.n)
			c := make([]float32, s.m*s.n)
			for i := range a {
				a[i] = float32(i%7) - 3
			}
			for i := range bb {
				bb[i] = float32(i%5) - 2
			}
			lda, ldb := pick(s.transA, s.m, s.k), pick(s.transB, s.k, s.n)
			var t32, t16 float64
			for b.Loop() {
				t0 := benchClock()
				Gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
				t1 := benchClock()
				GemmBF16(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
				t2 := benchClock()
				t32 += (t1 - t0).Seconds()
				t16 += (t2 - t1).Seconds()
			}
			if t32 > 0 && t16 > 0 {
				flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
				b.ReportMetric(flops/t32/1e9, "fp32-GFLOP/s")
				b.ReportMetric(flops/t16/1e9, "bf16-GFLOP/s")
				b.ReportMetric(t32/t16, "bf16/fp32")
			}
		})
	}
}

// benchClock is the process's CPU time where available (steadier on a
// shared machine), otherwise the wall clock.
func benchClock() time.Duration {
	if t := processCPUTime(); t > 0 {
		return t
	}
	return time.Since(benchEpoch)
}

var benchEpoch = time.Now()
