package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestGemmSumPacked checks GemmSumPacked bit for bit against GemmSum's
// definition (separate Gemm calls, beta 0, then 1) on every path: edge tiles, narrow last strips, B with ldb > n, k beyond one
// K block and n beyond one N block, and one PackedB repacked for shapes of
// different sizes.
func TestGemmSumPacked(t *testing.T) {
	shapes := []struct{ m, n, k, lda, ldb, shift, terms int }{
		{1, 1, 1, 1, 1, 0, 1},
		{13, 16, 48, 16, 16, 34 * 16, 3},
		{100, 16, 48, 16, 20, 34 * 16, 3},
		{37, 32, 96, 32, 32, 10 * 32, 3},
		{50, 64, 192, 64, 64, 18 * 64, 3},
		{25, 20, 30, 30, 21, 7, 2},
		{491, 40, 130, 130, 40, 3, 3},
		{29, 33, 300, 300, 33, 11, 3},   // k > KC
		{12, 600, 20, 20, 600, 5, 3},    // n across NC
		{30, 560, 600, 600, 570, 13, 2}, // both
		{64, 256, 768, 768, 256, 64, 3}, // a ResNet-18 stage-3 forward product
		{60, 48, 40, 48, 50, 5 * 48, 9}, // a 16-wide last strip: one tile call for all terms
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, p := range Paths() {
		var pb PackedB // reused across shapes, as a layer reuses its own
		for _, s := range shapes {
			t.Run(fmt.Sprintf("%v/%dx%dx%d", p, s.m, s.n, s.k), func(t *testing.T) {
				defer SetPath(p)()
				aoff := make([]int, s.terms)
				for i := range aoff {
					aoff[i] = i * s.shift
				}
				a := make([]float32, aoff[len(aoff)-1]+(s.m-1)*s.lda+s.k)
				b := make([]float32, s.terms*s.k*s.ldb)
				for i := range a {
					a[i] = rng.Float32()*2 - 1
				}
				for i := range b {
					b[i] = rng.Float32()*2 - 1
				}
				got := make([]float32, s.m*s.n+1)
				want := make([]float32, s.m*s.n+1)
				for i := range got {
					got[i] = float32(math.NaN()) // beta 0 must not read C
				}
				got[s.m*s.n], want[s.m*s.n] = 7, 7
				pb.Pack(s.n, s.k, s.terms, b, s.ldb)
				GemmSumPacked(s.m, s.n, s.k, a, s.lda, aoff, &pb, got, s.n)
				for i, o := range aoff { // GemmSum's definition
					beta := float32(1)
					if i == 0 {
						beta = 0
					}
					Gemm(false, false, s.m, s.n, s.k, 1, a[o:], s.lda, b[i*s.k*s.ldb:], s.ldb, beta, want, s.n)
				}
				if i := sameBits(got, want); i >= 0 {
					t.Fatalf("C[%d] = %g, want %g", i, got[i], want[i])
				}
			})
		}
	}
}

// TestGemmSumPackedPathChange: a PackedB packed for one path and used on
// another multiplies by the B it was packed from, with the new path's bits.
func TestGemmSumPackedPathChange(t *testing.T) {
	paths := Paths()
	if len(paths) < 2 {
		t.Skip("only one path on this CPU")
	}
	m, n, k := 40, 48, 60
	aoff := []int{0, 48}
	a := make([]float32, 48+(m-1)*k+k)
	b := make([]float32, 2*k*n)
	for i := range a {
		a[i] = float32(i%7) - 3
	}
	for i := range b {
		b[i] = float32(i%5)*0.25 - 0.5
	}
	restore := SetPath(paths[len(paths)-1])
	var pb PackedB
	pb.Pack(n, k, 2, b, n)
	restore()
	for _, p := range paths[:len(paths)-1] {
		defer SetPath(p)()
		got, want := make([]float32, m*n), make([]float32, m*n)
		GemmSumPacked(m, n, k, a, k, aoff, &pb, got, n)
		GemmSum(m, n, k, a, k, aoff, b, n, want, n)
		if i := sameBits(got, want); i >= 0 {
			t.Fatalf("%v: C[%d] = %g, want %g", p, i, got[i], want[i])
		}
	}
}

func TestGemmSumPackedAllocs(t *testing.T) {
	a := make([]float32, 2000)
	b := make([]float32, 3*48*16)
	c := make([]float32, 100*16)
	aoff := []int{0, 100, 200}
	var pb PackedB
	pb.Pack(16, 48, 3, b, 16)
	if al := testing.AllocsPerRun(10, func() {
		pb.Pack(16, 48, 3, b, 16)
		GemmSumPacked(100, 16, 48, a, 16, aoff, &pb, c, 16)
	}); al != 0 {
		t.Errorf("%v allocs, want 0", al)
	}
}

func TestGemmSumPackedPanics(t *testing.T) {
	var pb PackedB
	pb.Pack(4, 4, 2, make([]float32, 32), 4)
	for name, f := range map[string]func(){
		"terms":   func() { GemmSumPacked(4, 4, 4, make([]float32, 32), 4, []int{0}, &pb, make([]float32, 16), 4) },
		"n":       func() { GemmSumPacked(4, 3, 4, make([]float32, 32), 4, []int{0, 4}, &pb, make([]float32, 16), 4) },
		"short C": func() { GemmSumPacked(4, 4, 4, make([]float32, 32), 4, []int{0, 4}, &pb, make([]float32, 15), 4) },
		"short B": func() { new(PackedB).Pack(4, 4, 2, make([]float32, 31), 4) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			f()
		})
	}
}

// TestPackedMulTerm checks PackedB.MulTerm bit for bit against Gemm with the
// term's B on every path (edge tiles, narrow strips, k across KC, n across
// NC, A rows strided as a Winograd product reads them), and after a path
// change.
func TestPackedMulTerm(t *testing.T) {
	shapes := []struct{ m, n, k, lda, ldb, terms int }{
		{1, 1, 1, 1, 1, 1},
		{37, 16, 64, 16 * 64, 16, 16},
		{128, 64, 64, 64, 64, 3},
		{50, 48, 100, 100, 50, 2},
		{29, 600, 300, 300, 600, 2},
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, p := range Paths() {
		var pb PackedB
		for _, s := range shapes {
			t.Run(fmt.Sprintf("%v/%dx%dx%d", p, s.m, s.n, s.k), func(t *testing.T) {
				defer SetPath(p)()
				a := make([]float32, (s.m-1)*s.lda+s.k)
				b := make([]float32, s.terms*s.k*s.ldb)
				for i := range a {
					a[i] = rng.Float32()*2 - 1
				}
				for i := range b {
					b[i] = rng.Float32()*2 - 1
				}
				pb.Pack(s.n, s.k, s.terms, b, s.ldb)
				for _, q := range Paths() { // q ≠ p: the fallback to Gemm
					for term := 0; term < s.terms; term++ {
						restore := SetPath(q)
						got := make([]float32, s.m*s.n)
						want := make([]float32, s.m*s.n)
						for i := range got {
							got[i] = float32(math.NaN()) // beta 0 must not read C
						}
						pb.MulTerm(term, s.m, a, s.lda, got, s.n)
						Gemm(false, false, s.m, s.n, s.k, 1, a, s.lda, b[term*s.k*s.ldb:], s.ldb, 0, want, s.n)
						restore()
						if i := sameBits(got, want); i >= 0 {
							t.Fatalf("packed on %v, run on %v, term %d: C[%d] = %g, want %g", p, q, term, i, got[i], want[i])
						}
					}
				}
			})
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("MulTerm of a term beyond the PackedB did not panic")
		}
	}()
	var pb PackedB
	pb.Pack(4, 4, 2, make([]float32, 32), 4)
	pb.MulTerm(2, 1, make([]float32, 4), 4, make([]float32, 4), 4)
}

// TestPackWinograd checks that a PackedB filled by PrepareWinograd and
// PackWinogradRows (in two row ranges, as two goroutines would) multiplies
// exactly as Gemm with the unpacked WinogradKernel terms, on every path and
// after a path change: strips narrower than NR, k across KC, n across NC;
// and the same terms made by PrepareWinogradT from the transposed taps.
func TestPackWinograd(t *testing.T) {
	shapes := []struct{ n, k, m int }{{16, 16, 13}, {48, 40, 30}, {64, 300, 25}, {600, 20, 12}, {40, 70, 9}, {40000, 2, 3}}
	rng := rand.New(rand.NewPCG(11, 12))
	for _, p := range Paths() {
		var pb PackedB
		for _, s := range shapes {
			t.Run(fmt.Sprintf("%v/%dx%d", p, s.k, s.n), func(t *testing.T) {
				defer SetPath(p)()
				w := make([]float32, 9*s.k*s.n)
				for i := range w {
					w[i] = rng.Float32()*2 - 1
				}
				a := make([]float32, s.m*s.k)
				for i := range a {
					a[i] = rng.Float32()*2 - 1
				}
				u := make([]float32, 16*s.k*s.n)
				WinogradKernel(s.k*s.n, w, u)
				pb.PrepareWinograd(s.n, s.k, w)
				pb.PackWinogradRows(s.k/3, s.k)
				pb.PackWinogradRows(0, s.k/3)
				checkWinogradTerms(t, p, &pb, s.m, s.n, s.k, a, u)
				// The same terms from the kernel with every tap transposed.
				wt := tapsTransposed(w, s.k, s.n)
				var pt PackedB
				pt.PrepareWinogradT(s.n, s.k, wt)
				pt.PackWinogradRows(s.k/2, s.k)
				pt.PackWinogradRows(0, s.k/2)
				checkWinogradTerms(t, p, &pt, s.m, s.n, s.k, a, u)
			})
		}
	}
}

// tapsTransposed returns the kernel whose 9 taps are the transposes of
// w's k×n taps, by the definition.
func tapsTransposed(w []float32, k, n int) []float32 {
	wt := make([]float32, len(w))
	for tap := 0; tap < 9; tap++ {
		for r := 0; r < k; r++ {
			for c := 0; c < n; c++ {
				wt[tap*k*n+c*k+r] = w[tap*k*n+r*n+c]
			}
		}
	}
	return wt
}

// TestTransposeRows checks PrepareWinogradT's block transposition against
// the definition on every path: widths with and without a remainder past
// whole 16×16 tiles, row blocks of fewer than, exactly and more than 16
// rows, from row offsets that are not multiples of 16.
func TestTransposeRows(t *testing.T) {
	cases := []struct{ n, k, b0, rb int }{
		{16, 16, 0, 16}, {16, 40, 3, 16}, {48, 40, 5, 35}, {37, 50, 1, 33}, {8, 20, 2, 17}, {64, 20, 4, 9},
	}
	rng := rand.New(rand.NewPCG(13, 14))
	for _, p := range Paths() {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%v/n%d_k%d_b%d_r%d", p, c.n, c.k, c.b0, c.rb), func(t *testing.T) {
				defer SetPath(p)()
				src := make([]float32, c.n*c.k)
				for i := range src {
					src[i] = rng.Float32()
				}
				dst := make([]float32, c.rb*c.n+5)
				for i := range dst {
					dst[i] = -1
				}
				transposeRows(src, c.k, c.b0, c.rb, c.n, dst[:c.rb*c.n])
				for j := 0; j < c.rb; j++ {
					for col := 0; col < c.n; col++ {
						if got, want := dst[j*c.n+col], src[col*c.k+c.b0+j]; got != want {
							t.Fatalf("dst[%d][%d] = %g, want src[%d][%d] = %g", j, col, got, col, c.b0+j, want)
						}
					}
				}
				for i := c.rb * c.n; i < len(dst); i++ {
					if dst[i] != -1 {
						t.Fatalf("wrote past the block at %d", i)
					}
				}
			})
		}
	}
}

// checkWinogradTerms compares every fifth term of pb (packed on path p)
// bit for bit with Gemm by the unpacked terms u, run on every path.
func checkWinogradTerms(t *testing.T, p Path, pb *PackedB, m, n, k int, a, u []float32) {
	t.Helper()
	for _, q := range Paths() {
		for term := 0; term < 16; term += 5 {
			restore := SetPath(q)
			got := make([]float32, m*n)
			want := make([]float32, m*n)
			pb.MulTerm(term, m, a, k, got, n)
			Gemm(false, false, m, n, k, 1, a, k, u[term*k*n:], n, 0, want, n)
			restore()
			if i := sameBits(got, want); i >= 0 {
				t.Fatalf("packed on %v, run on %v, term %d: C[%d] = %g, want %g", p, q, term, i, got[i], want[i])
			}
		}
	}
}

// TestPackFlipped checks PackFlipped against Pack of the flipped kernel
// written out from its definition, wt[kh][j][co][ci] = w[kh][K−1−j][ci][co]:
// the same packed values and the same product bits on every path, for
// 3×3 and 1×1 kernels, a stride-1 ResNet-20 shape, K·cout beyond one K
// block, narrow last strips and cin beyond one N block; and FlipKernel
// against the definition.
func TestPackFlipped(t *testing.T) {
	shapes := []struct{ K, cin, cout, m int }{
		{3, 16, 16, 50},
		{3, 16, 32, 40},
		{3, 32, 64, 30},
		{3, 3, 16, 20},
		{1, 48, 24, 17},
		{3, 20, 100, 25}, // K·cout = 300 > KC
		{3, 600, 8, 13},  // cin across NC
		{5, 40, 7, 9},
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, p := range Paths() {
		var pb, ref PackedB
		for _, s := range shapes {
			t.Run(fmt.Sprintf("%v/K%d_%dx%d", p, s.K, s.cin, s.cout), func(t *testing.T) {
				defer SetPath(p)()
				K, cin, cout := s.K, s.cin, s.cout
				w := make([]float32, K*K*cin*cout)
				for i := range w {
					w[i] = rng.Float32()*2 - 1
				}
				wt := make([]float32, len(w))
				for kh := 0; kh < K; kh++ {
					for j := 0; j < K; j++ {
						for co := 0; co < cout; co++ {
							for ci := 0; ci < cin; ci++ {
								wt[((kh*K+j)*cout+co)*cin+ci] = w[((kh*K+K-1-j)*cin+ci)*cout+co]
							}
						}
					}
				}
				flipped := make([]float32, len(w))
				FlipKernel(flipped, w, K, cin, cout)
				if i := sameBits(flipped, wt); i >= 0 {
					t.Fatalf("FlipKernel: [%d] = %g, want %g", i, flipped[i], wt[i])
				}
				n, k := cin, K*cout
				pb.PackFlipped(K, cin, cout, w)
				ref.Pack(n, k, K, wt, n)
				if i := sameBits(pb.data, ref.data); i >= 0 || len(pb.data) != len(ref.data) {
					t.Fatalf("packed data differ at %d (lengths %d, %d)", i, len(pb.data), len(ref.data))
				}
				aoff := make([]int, K)
				for i := range aoff {
					aoff[i] = i * 3 * k
				}
				a := make([]float32, aoff[K-1]+(s.m-1)*k+k)
				for i := range a {
					a[i] = rng.Float32()*2 - 1
				}
				got, want := make([]float32, s.m*n), make([]float32, s.m*n)
				GemmSumPacked(s.m, n, k, a, k, aoff, &pb, got, n)
				GemmSum(s.m, n, k, a, k, aoff, wt, n, want, n)
				if i := sameBits(got, want); i >= 0 {
					t.Fatalf("C[%d] = %g, want %g", i, got[i], want[i])
				}
				// On another path it multiplies by the flipped kernel.
				for _, q := range Paths() {
					if q == p {
						continue
					}
					func() {
						defer SetPath(q)()
						GemmSumPacked(s.m, n, k, a, k, aoff, &pb, got, n)
						GemmSum(s.m, n, k, a, k, aoff, wt, n, want, n)
						if i := sameBits(got, want); i >= 0 {
							t.Fatalf("packed for %v, run on %v: C[%d] = %g, want %g", p, q, i, got[i], want[i])
						}
						pb.MulTerm(K-1, s.m, a, k, got, n)
						Gemm(false, false, s.m, n, k, 1, a, k, wt[(K-1)*k*n:], n, 0, want, n)
						if i := sameBits(got, want); i >= 0 {
							t.Fatalf("MulTerm packed for %v, run on %v: C[%d] = %g, want %g", p, q, i, got[i], want[i])
						}
					}()
				}
				pb.MulTerm(K-1, s.m, a, k, got, n)
				Gemm(false, false, s.m, n, k, 1, a, k, wt[(K-1)*k*n:], n, 0, want, n)
				if i := sameBits(got, want); i >= 0 {
					t.Fatalf("MulTerm: C[%d] = %g, want %g", i, got[i], want[i])
				}
			})
		}
	}
}
