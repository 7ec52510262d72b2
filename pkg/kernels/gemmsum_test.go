package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestGemmSum checks GemmSum bit for bit against separate Gemm calls (beta
// 0, then 1) on every path, with overlapping shifted A operands as in an
// implicit convolution, edge tiles, B read in place (n = 16, 32), 16-wide
// tiles summed over all terms in one kernel call, and k beyond one K block.
func TestGemmSum(t *testing.T) {
	shapes := []struct{ m, n, k, lda, shift, terms int }{
		{1, 1, 1, 1, 0, 1},
		{13, 16, 48, 16, 34 * 16, 3},
		{100, 16, 48, 16, 34 * 16, 3},
		{37, 32, 96, 32, 10 * 32, 3},
		{50, 64, 192, 64, 18 * 64, 3},
		{25, 20, 30, 30, 7, 2},
		{491, 40, 130, 130, 3, 3},
		{29, 33, 300, 300, 11, 3},   // k > KC: separate products
		{12, 600, 20, 20, 5, 3},     // n across NC
		{60, 48, 40, 48, 5 * 48, 9}, // a 16-wide last strip, packed
		{24, 16, 8, 16, 16, 17},     // more terms than one tile call takes
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, p := range Paths() {
		for _, s := range shapes {
			t.Run(fmt.Sprintf("%v/%dx%dx%d", p, s.m, s.n, s.k), func(t *testing.T) {
				defer SetPath(p)()
				aoff := make([]int, s.terms)
				for i := range aoff {
					aoff[i] = i * s.shift
				}
				a := make([]float32, aoff[len(aoff)-1]+(s.m-1)*s.lda+s.k)
				b := make([]float32, s.terms*s.k*s.n)
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
				GemmSum(s.m, s.n, s.k, a, s.lda, aoff, b, s.n, got, s.n)
				for i, o := range aoff {
					beta := float32(1)
					if i == 0 {
						beta = 0
					}
					Gemm(false, false, s.m, s.n, s.k, 1, a[o:], s.lda, b[i*s.k*s.n:], s.n, beta, want, s.n)
				}
				if i := sameBits(got, want); i >= 0 {
					t.Fatalf("C[%d] = %g, want %g", i, got[i], want[i])
				}
			})
		}
	}
	// float64 runs the separate products.
	a := []float64{1, 2, 3, 4, 5}
	b := []float64{1, 10}
	c := make([]float64, 2)
	GemmSum(2, 1, 1, a, 1, []int{0, 2}, b, 1, c, 1)
	if c[0] != 1+30 || c[1] != 2+40 {
		t.Errorf("float64 GemmSum = %v, want [31 42]", c)
	}
}

func TestGemmSumAllocs(t *testing.T) {
	a := make([]float32, 2000)
	b := make([]float32, 3*48*16)
	c := make([]float32, 100*16)
	aoff := []int{0, 100, 200}
	GemmSum(100, 16, 48, a, 16, aoff, b, 16, c, 16)
	if al := testing.AllocsPerRun(10, func() { GemmSum(100, 16, 48, a, 16, aoff, b, 16, c, 16) }); al != 0 {
		t.Errorf("%v allocs, want 0", al)
	}
}

func TestGemmSumPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	GemmSum(4, 4, 4, make([]float32, 16), 4, []int{0, 4}, make([]float32, 32), 4, make([]float32, 16), 4)
}
