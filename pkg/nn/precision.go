package nn

import (
	"fmt"
	"unsafe"

	"github.com/bsam-dev/bsam/pkg/kernels"
)

// Precision selects the arithmetic of the convolution and linear layers'
// GEMMs (forward, dW and dX).
//
// With BF16 their operands are rounded to bfloat16 and the products
// accumulated in float32 (kernels.GemmBF16); the outputs, parameters,
// gradients, normalisation, activations, loss, optimizer state and
// gradient reduction stay float32: the contract of PyTorch's CPU autocast
// to bfloat16. BF16 applies to float32 networks only.
type Precision int

const (
	// FP32 computes everything in float32 (the default).
	FP32 Precision = iota
	// BF16 runs the convolution and linear GEMMs with bf16 operands.
	BF16
)

// String returns "fp32" or "bf16".
func (p Precision) String() string {
	switch p {
	case FP32:
		return "fp32"
	case BF16:
		return "bf16"
	}
	return fmt.Sprintf("Precision(%d)", int(p))
}

// ParsePrecision parses "fp32" (or "", the default) and "bf16".
func ParsePrecision(s string) (Precision, error) {
	switch s {
	case "", "fp32":
		return FP32, nil
	case "bf16":
		return BF16, nil
	}
	return FP32, fmt.Errorf("unknown precision %q (valid: fp32, bf16)", s)
}

// ResolvePrecision returns the precision a network should be built with on
// this CPU for a requested one, and a one-line notice when it differs: bf16
// without hardware bf16 dot products (AVX512_BF16) would run the portable
// Go kernels, far slower than the float32 assembly, so it falls back to
// fp32.
func ResolvePrecision(p Precision) (Precision, string) {
	if p == BF16 && !kernels.HasBF16() {
		return FP32, "precision bf16 requested, but this CPU has no AVX512_BF16: computing in fp32"
	}
	return p, ""
}

// bf16Layer is implemented by layers whose GEMMs can run in bf16.
type bf16Layer interface{ setBF16(on bool) }

// SetPrecision makes the convolution and linear layers among layers
// (looking into Chain and Residual blocks) use precision p. It panics for
// BF16 on a float64 network. A BF16 network computes in bf16 whatever the
// CPU (on one without AVX512_BF16 with the portable kernels, see
// ResolvePrecision).
func SetPrecision[T Float](layers []Layer[T], p Precision) {
	if p == BF16 && unsafe.Sizeof(T(0)) != 4 {
		panic("nn: bf16 precision needs a float32 network")
	}
	eachLayer(layers, func(l Layer[T]) {
		if v, ok := l.(bf16Layer); ok {
			v.setBF16(p == BF16)
		}
	})
}

// withEngine wraps a layer constructor so that every replica (and every
// Clone, which reuses the constructor) gets precision p and convolution
// algorithm a.
func withEngine[T Float](build func() []Layer[T], p Precision, a ConvAlgorithm) func() []Layer[T] {
	if p == FP32 && a == ConvDirect {
		return build
	}
	SetPrecision[T](nil, p) // the float32 check, before any build
	return func() []Layer[T] {
		l := build()
		SetPrecision(l, p)
		SetConvAlgorithm(l, a)
		return l
	}
}

// f32s reinterprets a []T of 4-byte elements as []float32.
func f32s[T Float](x []T) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(x))), len(x))
}

// gemm is kernels.Gemm, or kernels.GemmBF16 when bf16 (float32 only).
func gemm[T Float](bf16 bool, transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if bf16 && unsafe.Sizeof(alpha) == 4 {
		kernels.GemmBF16(transA, transB, m, n, k, float32(alpha), f32s(a), lda, f32s(b), ldb, float32(beta), f32s(c), ldc)
		return
	}
	kernels.Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemmSum is kernels.GemmSum, or kernels.GemmSumBF16 when bf16.
func gemmSum[T Float](bf16 bool, m, n, k int, a []T, lda int, aoff []int, b []T, ldb int, c []T, ldc int) {
	var z T
	if bf16 && unsafe.Sizeof(z) == 4 {
		kernels.GemmSumBF16(m, n, k, f32s(a), lda, aoff, f32s(b), ldb, f32s(c), ldc)
		return
	}
	kernels.GemmSum(m, n, k, a, lda, aoff, b, ldb, c, ldc)
}

func (c *Conv2D[T]) setBF16(on bool) { c.bf16 = on }
func (l *Linear[T]) setBF16(on bool) { l.bf16 = on }
