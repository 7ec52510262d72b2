//go:build !amd64

package kernels

const hasBF16 = false

// gemmBF16Asm is never called on this architecture: BF16Paths only offers
// BF16Generic.
func gemmBF16Asm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	panic("kernels: no bf16 assembly kernels on this architecture")
}

func (pb *PackedWinoBF16) packRows(r0, r1 int, u []float32, ts int) {
	panic("kernels: no bf16 assembly kernels on this architecture")
}

func (pb *PackedWinoBF16) mulTermAsm(b []uint16, m int, a []float32, lda int, c []float32, ldc int) {
	panic("kernels: no bf16 assembly kernels on this architecture")
}
