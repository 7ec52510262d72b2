//go:build !amd64

package kernels

const (
	hasAVX2   = false
	hasAVX512 = false
)

// sgemmAsm is never called on this architecture: Paths only offers
// PathGeneric.
func sgemmAsm(p Path, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	panic("kernels: no assembly kernels on this architecture")
}

// The element-wise helpers run their Go loops on this architecture.

func axpyAsm(alpha float32, x, y []float32) int         { return 0 }
func scaleAsm(alpha float32, x []float32) int           { return 0 }
func addAsm(dst, x, y []float32) int                    { return 0 }
func maxAsm(dst, x []float32, t float32) int            { return 0 }
func maxBackwardAsm(dx, dy, x []float32, t float32) int { return 0 }

func sumSqPerAsm(acc, x []float32) int                         { return 0 }
func sumPerAsm(acc, x []float32) int                           { return 0 }
func affineMaxPerAsm(z, x, a, b, t []float32) int              { return 0 }
func sumSqBiasPerAsm(acc, x, c []float32) int                  { return 0 }
func affineMaxBiasPerAsm(z, x, c, a, b, t []float32) int       { return 0 }
func gateSumsPerAsm(g, sd, sg, sgx, dz, z, x, t []float32) int { return 0 }
func mulSubPerAsm(g, x, a, b []float32) int                    { return 0 }
func addPerAsm(dst, x, b []float32) int                        { return 0 }
func addReLUAsm(dst, x, y []float32) int                       { return 0 }

func sgemmSumAsm(p Path, m, n, k int, a []float32, lda int, aoff []int, b []float32, ldb int, pre []float32, c []float32, ldc int) bool {
	return false
}
func packedSumLen(p Path, n, k, terms int) int                              { return 0 }
func packSumB(p Path, n, k, terms int, b []float32, ldb int, dst []float32) {}
func packFlippedB(p Path, K, cin, cout int, w []float32, dst []float32)     {}
func sumDotPerAsm(s1, s2, u, v []float32) int                               { return 0 }
func affine2PerAsm(dst, g, x, a, k1, k0 []float32) int                      { return 0 }

// The Winograd tile transforms run their Go loops on this architecture
// (winoAsm is false: there is no AVX-512 path).

func winoInputAVX512(src *float32, rs, c int, dst *float32, ps, ntiles int)                       {}
func winoOutputAVX512(m *float32, ps int, dst *float32, rs, c int, bias *float32, ntiles int)     {}
func winoOutputBiasAVX512(m *float32, ps int, dst *float32, rs, c int, bias *float32, ntiles int) {}
func winoGradOutAVX512(dy *float32, rs, c int, dm *float32, ps, ntiles int)                       {}
func winoGradInAVX512(dv *float32, ps int, dx *float32, rs, c, ntiles int)                        {}

func sgemmPackedTerm(p Path, m, n, k int, a []float32, lda int, pre []float32, c []float32, ldc int) {
	panic("kernels: no assembly kernels on this architecture")
}
func winoKernelAVX512(w *float32, ns int, u *float32, nd, cnt int)       {}
func winoKernelGradAVX512(du *float32, n int, dw *float32, cnt int)      {}
func winoKernelGradSetAVX512(du *float32, n int, dw *float32, cnt int)   {}
func transpose16AVX512(src *float32, ss int, dst *float32, ds, nblk int) {}

// tile is never called on this architecture (only PathGeneric exists,
// which packs nothing).
func tile(p Path) (mr, nr, nrHalf int) { panic("kernels: no assembly kernels on this architecture") }
