package optim

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestVecKernels checks that the vector kernels give bit-identical results
// to the Go loops, on lengths around the vector width.
func TestVecKernels(t *testing.T) {
	if !useAVX512 {
		t.Skip("no vector path")
	}
	defer func(old bool) { useAVX512 = old }(useAVX512)
	r := rand.New(rand.NewPCG(1, 2))
	vec := func(n int, lo, hi float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(lo + (hi-lo)*r.Float64())
		}
		return v
	}
	// run applies f to fresh clones of in with and without the vector path
	// and compares every slice.
	run := func(name string, in [][]float32, f func(v [][]float32)) {
		var out [2][][]float32
		for p, avx := range []bool{false, true} {
			useAVX512 = avx
			out[p] = make([][]float32, len(in))
			for i, v := range in {
				out[p][i] = slices.Clone(v)
			}
			f(out[p])
		}
		for i := range in {
			for j := range out[0][i] {
				if math.Float32bits(out[0][i][j]) != math.Float32bits(out[1][i][j]) {
					t.Fatalf("%s n=%d: slice %d [%d]: go %v, vector %v", name, len(in[0]), i, j, out[0][i][j], out[1][i][j])
				}
			}
		}
	}
	for _, n := range []int{1, 15, 16, 17, 100, 1000} {
		run("sampleStd", [][]float32{vec(n, 0, 0), vec(n, -1, 1), vec(n, -3, 3), vec(n, 0, 0.1)}, func(v [][]float32) {
			sampleStd(v[0], v[1], v[2], v[3])
		})
		for _, first := range []bool{true, false} {
			run("perturb", [][]float32{vec(n, 0, 0), vec(n, -1, 1), vec(n, -0.1, 0.1), vec(n, 0, 2), vec(n, 0, 1)}, func(v [][]float32) {
				perturb(v[0], v[1], v[2], v[3], v[4], first)
			})
			run("accumulate", [][]float32{vec(n, -1, 1), vec(n, -1, 1)}, func(v [][]float32) {
				accumulate(v[0], v[1], first)
			})
		}
		run("scaleAdd", [][]float32{vec(n, 0, 0), vec(n, -1, 1), vec(n, -1, 1)}, func(v [][]float32) {
			scaleAdd(v[0], v[1], v[2], 0.37)
		})
		for _, avx := range []bool{false, true} {
			useAVX512 = avx
			x := vec(n, -2, 2)
			got := sumSquares(x)
			useAVX512 = !avx
			if want := sumSquares(x); math.Float64bits(got) != math.Float64bits(want) {
				t.Fatalf("sumSquares n=%d: %v (vector %v), %v", n, got, avx, want)
			}
		}
		run("sdRs", [][]float32{vec(n, 0, 0), vec(n, 0, 0), vec(n, 0.1, 10)}, func(v [][]float32) {
			sdRs(v[0], v[1], v[2], 6e4, 0.01*6e4)
		})
		run("bsamUpdate", [][]float32{vec(n, -1, 1), vec(n, -0.1, 0.1), vec(n, 0.1, 10), vec(n, 1e-3, 1e-2), vec(n, -1, 1), vec(n, -1, 1), vec(n, 0, 3)}, func(v [][]float32) {
			c := bsamCoef[float32]{b1: 0.9, c1: 0.1, b2: 0.999, c2: 0.001, lrN: 0.3 * 6e4, delta: 1e-4, sqrtN: float32(math.Sqrt(6e4)), gd: 0.1001, inv: 0.125}
			bsamUpdate(v[0], v[1], v[2], v[3], v[4], v[5], v[6], &c)
		})
	}
}
