//go:build amd64

package kernels

import (
	"math"
	"testing"
)

// TestAsmKernelsFlushDenormals checks that the assembly GEMM kernels run
// with denormals flushed to zero (as XLA does on CPU; denormal arithmetic
// is ~100× slower) and restore the caller's MXCSR on return.
func TestAsmKernelsFlushDenormals(t *testing.T) {
	tiny := math.Float32frombits(1) // the smallest denormal float32
	for _, p := range Paths() {
		if p == PathGeneric {
			continue
		}
		t.Run(p.String(), func(t *testing.T) {
			defer SetPath(p)()
			const n = 64
			a := make([]float32, n*n)
			b := make([]float32, n*n)
			for i := range a {
				a[i], b[i] = tiny, 1
			}
			c := make([]float32, n*n)
			Gemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n)
			for i, v := range c {
				if v != 0 {
					t.Fatalf("c[%d] = %g: denormal inputs were not treated as zero", i, v)
				}
			}
			// Go code after the call still computes with denormals: the
			// kernel restored MXCSR.
			x := a[0]
			if y := x * b[0]; y != tiny {
				t.Fatalf("denormal arithmetic after Gemm gives %g, want %g: MXCSR leaked", y, tiny)
			}
		})
	}
}
