package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestPackedWinoBF16 checks that a PackedWinoBF16 filled in three pair
// ranges (as three goroutines would) multiplies bit for bit as GemmBF16
// with the unpacked WinogradKernel terms, and within float32 accumulation
// of the float64 product of the bf16-rounded operands, on every bf16 path
// and after a path change: odd k, k across two packed blocks, n across
// two column panels, strips of 16 and narrower; and the same terms made
// from the transposed taps.
func TestPackedWinoBF16(t *testing.T) {
	shapes := []struct{ n, k, m int }{{16, 16, 13}, {48, 40, 30}, {64, 601, 25}, {520, 20, 12}, {40, 71, 9}, {8, 3, 5}}
	rng := rand.New(rand.NewPCG(21, 22))
	for _, p := range BF16Paths() {
		var pb, pt PackedWinoBF16 // reused across shapes, as a layer's are
		for _, s := range shapes {
			t.Run(fmt.Sprintf("%v/%dx%d", p, s.k, s.n), func(t *testing.T) {
				defer SetBF16Path(p)()
				w := make([]float32, 9*s.k*s.n)
				for i := range w {
					w[i] = rng.Float32()*2 - 1
				}
				a := make([]float32, s.m*s.k+3)
				for i := range a {
					a[i] = rng.Float32()*2 - 1
				}
				u := make([]float32, 16*s.k*s.n)
				WinogradKernel(s.k*s.n, w, u)
				fill := func(pb *PackedWinoBF16) {
					q := pb.Pairs()
					pb.FillPairs(q/2, q)
					pb.FillPairs(q/3, q/2)
					pb.FillPairs(0, q/3)
				}
				pb.Prepare(s.n, s.k, w, false)
				fill(&pb)
				checkWinoBF16Terms(t, &pb, s.m, s.n, s.k, a, u)
				wt := tapsTransposed(w, s.k, s.n)
				pt.Prepare(s.n, s.k, wt, true)
				fill(&pt)
				checkWinoBF16Terms(t, &pt, s.m, s.n, s.k, a, u)
				if p == BF16AVX512 {
					// Packed for the assembly, multiplied on the portable path.
					defer SetBF16Path(BF16Generic)()
					checkWinoBF16Terms(t, &pb, s.m, s.n, s.k, a, u)
				}
			})
		}
	}
}

func checkWinoBF16Terms(t *testing.T, pb *PackedWinoBF16, m, n, k int, a, u []float32) {
	t.Helper()
	ldc := n + 2
	for term := 0; term < 16; term++ {
		want := make([]float32, m*ldc)
		got := make([]float32, m*ldc)
		for i := range got {
			got[i] = float32(math.NaN()) // beta 0: must not be read
		}
		GemmBF16(false, false, m, n, k, 1, a, k, u[term*k*n:], n, 0, want, ldc)
		pb.MulTerm(term, m, a, k, got, ldc)
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				g, wv := got[i*ldc+j], want[i*ldc+j]
				if math.Float32bits(g) != math.Float32bits(wv) {
					t.Fatalf("term %d: C[%d,%d] = %g, GemmBF16 gives %g", term, i, j, g, wv)
				}
				var s, abs float64
				for p := 0; p < k; p++ {
					v := float64(RoundBF16(a[i*k+p])) * float64(RoundBF16(u[term*k*n+p*n+j]))
					s += v
					abs += math.Abs(v)
				}
				if tol := bf16Tolerance(k, abs); !(math.Abs(float64(g)-s) <= tol) {
					t.Fatalf("term %d: C[%d,%d] = %g, float64 of the rounded operands %g (tol %.3g)", term, i, j, g, s, tol)
				}
			}
			if !math.IsNaN(float64(got[i*ldc+n])) {
				t.Fatalf("term %d: C padding of row %d written", term, i)
			}
		}
	}
}

// TestPackedWinoBF16Panics checks the argument checks.
func TestPackedWinoBF16Panics(t *testing.T) {
	w := make([]float32, 9*4*4)
	cases := map[string]func(){
		"short kernel": func() { var pb PackedWinoBF16; pb.Prepare(4, 5, w, false) },
		"unprepared":   func() { var pb PackedWinoBF16; pb.FillPairs(0, 1) },
		"pairs":        func() { var pb PackedWinoBF16; pb.Prepare(4, 4, w, false); pb.FillPairs(0, 3) },
		"term":         func() { var pb PackedWinoBF16; pb.Prepare(4, 4, w, false); pb.MulTerm(16, 1, w, 4, w, 4) },
		"short A": func() {
			var pb PackedWinoBF16
			pb.Prepare(4, 4, w, false)
			pb.MulTerm(0, 3, w[:8], 4, make([]float32, 12), 4)
		},
	}
	for name, f := range cases {
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
