package kernels

import (
	"fmt"
	"math"
	"slices"
	"sync/atomic"
	"unsafe"
)

//go:generate python3 tools/gen_bf16.py

// bfloat16 GEMM
//
// Block sizes of the bf16 driver, in k elements (bKC, even), columns and
// rows: a packed bKC×bNC panel of B takes bKC·bNC·2 bytes = 512 KiB (L2),
// a 12×bKC sliver of A 12 KiB (L1). bf16 halves the bytes per element, so
// KC is twice the float32 driver's for the same panel size, which also
// halves the C loads and stores per multiply-add. A K that needs several
// blocks is split into blocks of equal depth (576 = 288 + 288, not
// 512 + 64). A transposed A is packed bMC rows (10 slivers, 120 KiB) at a
// time, reading 480 contiguous bytes of each source row: measured faster
// than 5 slivers or 20 (whose 20 write streams 12 KiB apart thrash L1) on
// the convolution weight-gradient shapes.
const (
	bKC = 512
	bNC = 512
	bMC = 120
)

// GemmBF16 computes C = alpha·(bf16(op(A))·bf16(op(B))) + beta·C: each
// operand element is rounded to bfloat16 (8-bit significand, float32's
// exponent range) with round-to-nearest-even, the products (exact in
// float32) are accumulated in float32, and alpha and beta are applied in
// float32 to the accumulated sums; C stays float32. This is the contract of
// PyTorch's CPU autocast and of oneDNN's bf16 GEMMs.
//
// The rounding is the one of the AVX512_BF16 instruction VCVTNE2PS2BF16
// (see ToBF16): round to nearest, ties to even; float32 denormals become
// zeros of the same sign (the float32 kernels run with DAZ too); NaN stays
// NaN (quiet); ±Inf stays ±Inf; finite values above the largest bf16 round
// to ±Inf.

// BF16Path identifies an implementation of GemmBF16.
type BF16Path int

const (
	// BF16Generic is the portable Go implementation: operands rounded to
	// bf16 while packing, a float32 register tile in Go.
	BF16Generic BF16Path = iota
	// BF16AVX512 uses the AVX512_BF16 micro-kernels (VDPBF16PS, amd64).
	BF16AVX512
)

// String returns "generic" or "avx512bf16".
func (p BF16Path) String() string {
	switch p {
	case BF16Generic:
		return "generic"
	case BF16AVX512:
		return "avx512bf16"
	}
	return fmt.Sprintf("BF16Path(%d)", int(p))
}

var activeBF16 atomic.Int32

func init() {
	ps := BF16Paths()
	activeBF16.Store(int32(ps[len(ps)-1]))
}

// HasBF16 reports whether this CPU has hardware bf16 dot products
// (AVX512_BF16 with AVX-512F/BW). Without them GemmBF16 runs the portable
// Go implementation, which is slower than the float32 kernels: callers
// that want speed (the nn layers) use float32 instead.
func HasBF16() bool { return hasBF16 }

// BF16Paths returns the GemmBF16 implementations this CPU supports, the
// fastest (the default) last.
func BF16Paths() []BF16Path {
	ps := []BF16Path{BF16Generic}
	if hasBF16 {
		ps = append(ps, BF16AVX512)
	}
	return ps
}

// ActiveBF16Path returns the implementation GemmBF16 currently uses.
func ActiveBF16Path() BF16Path { return BF16Path(activeBF16.Load()) }

// SetBF16Path makes GemmBF16 use p and returns a function restoring the
// previous choice. It panics if the CPU does not support p. For tests and
// benchmarks: it affects every goroutine.
func SetBF16Path(p BF16Path) (restore func()) {
	if !slices.Contains(BF16Paths(), p) {
		panic(fmt.Sprintf("kernels: bf16 path %v is not supported on this CPU", p))
	}
	old := activeBF16.Swap(int32(p))
	return func() { activeBF16.Store(old) }
}

// ToBF16 returns the bfloat16 bits of x rounded to nearest even, exactly as
// VCVTNE2PS2BF16 does: zeros and denormals give a zero of x's sign, NaN the
// top half of x with the quiet bit set, everything else (±Inf included) the
// top half of x + 0x7FFF + (bit 16 of x) as an integer, which rounds to
// nearest with ties to even and overflows to ±Inf.
func ToBF16(x float32) uint16 {
	u := math.Float32bits(x)
	switch {
	case u&0x7f800000 == 0:
		return uint16(u>>16) & 0x8000
	case u&0x7fffffff > 0x7f800000:
		return uint16(u>>16) | 0x0040
	}
	return uint16((u + 0x7fff + (u>>16)&1) >> 16)
}

// FromBF16 returns the float32 with bfloat16 bits h (exact).
func FromBF16(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// RoundBF16 returns x rounded to bfloat16, as a float32.
func RoundBF16(x float32) float32 { return FromBF16(ToBF16(x)) }

// GemmBF16 computes C = alpha·bf16(op(A))·bf16(op(B)) + beta·C with float32
// accumulation (see above), with the shapes, leading dimensions, transposes
// and beta/alpha conventions of Gemm: when beta is 0, C is not read; when
// alpha or k is 0, A and B are not read; rows of A and B may overlap. It
// runs on the active bf16 path (ActiveBF16Path), panics like Gemm, is safe
// for concurrent use and does not allocate once its scratch pool is warm.
func GemmBF16(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if !gemmPrologue("GemmBF16", transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
		return
	}
	if ActiveBF16Path() == BF16AVX512 {
		gemmBF16Asm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	gemmBF16Generic(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// GemmSumBF16 is GemmSum with bf16 operands: C = Σ_s bf16(A_s)·bf16(B_s)
// (beta 0, alpha 1, no transposes), A_s at a[aoff[s]:] with leading
// dimension lda (rows may overlap), B_s at b[s·k·ldb:] with leading
// dimension ldb. It equals GemmBF16 with beta 0 for s = 0 followed by
// GemmBF16 with beta 1 for each further s (which is how it computes it).
func GemmSumBF16(m, n, k int, a []float32, lda int, aoff []int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernels: GemmSumBF16: negative size m=%d n=%d k=%d", m, n, k))
	}
	if m == 0 || n == 0 {
		return
	}
	checkMat("C", false, m, n, c, ldc)
	if k == 0 || len(aoff) == 0 {
		scaleC(m, n, 0, c, ldc)
		return
	}
	for s, o := range aoff {
		if o < 0 || o > len(a) {
			panic(fmt.Sprintf("kernels: GemmSumBF16: aoff[%d]=%d out of range", s, o))
		}
		if s*k*ldb > len(b) {
			panic(fmt.Sprintf("kernels: GemmSumBF16: len(B)=%d too short for %d terms", len(b), len(aoff)))
		}
	}
	for s, o := range aoff {
		beta := float32(1)
		if s == 0 {
			beta = 0
		}
		GemmBF16(false, false, m, n, k, 1, a[o:], lda, b[s*k*ldb:], ldb, beta, c, ldc)
	}
}

// gemmBF16Generic is the portable implementation, blocked like gemmGeneric:
// op(B) is packed into gKC×gNR strips and op(A) into gMR×gKC strips with
// every element rounded to bf16 (kept as float32, so the products are
// exact), kernelGo accumulates in float32, and each K block is stored as
// C = alpha·t + beta·C (beta 1 after the first block), like the assembly
// kernels. Preconditions as gemmGeneric.
func gemmBF16Generic(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	s := getScratch()
	defer putScratch(s)
	mem := view[float32](s)
	bpan := mem[:gKC*gNC]
	apan := mem[gKC*gNC : gKC*gNC+gMC*gKC]

	for jc := 0; jc < n; jc += gNC {
		nc := min(gNC, n-jc)
		for pc := 0; pc < k; pc += gKC {
			kc := min(gKC, k-pc)
			packBGeneric(transB, kc, nc, 1, b, ldb, pc, jc, bpan)
			roundSliceBF16(bpan[:(nc+gNR-1)/gNR*gNR*kc])
			betaEff, load := float32(1), true
			if pc == 0 {
				betaEff, load = beta, beta != 0
			}
			for ic := 0; ic < m; ic += gMC {
				mc := min(gMC, m-ic)
				packAGeneric(transA, mc, kc, a, lda, ic, pc, apan)
				roundSliceBF16(apan[:(mc+gMR-1)/gMR*gMR*kc])
				for jr := 0; jr < nc; jr += gNR {
					w := min(gNR, nc-jr)
					bp := bpan[jr*kc : jr*kc+gNR*kc]
					for ir := 0; ir < mc; ir += gMR {
						h := min(gMR, mc-ir)
						t := kernelGo(kc, apan[ir*kc:ir*kc+gMR*kc], bp)
						for r := 0; r < h; r++ {
							row := c[(ic+ir+r)*ldc+jc+jr : (ic+ir+r)*ldc+jc+jr+w]
							for j := range row {
								v := alpha * t[r*gNR+j]
								if load {
									v += betaEff * row[j]
								}
								row[j] = v
							}
						}
					}
				}
			}
		}
	}
}

// roundSliceBF16 rounds every element of x to bf16 in place.
func roundSliceBF16(x []float32) {
	for i, v := range x {
		x[i] = RoundBF16(v)
	}
}

// viewU16 returns the scratch memory as a slice of uint16 (bf16 bits).
func viewU16(s *scratch) []uint16 {
	return unsafe.Slice((*uint16)(unsafe.Pointer(&s.mem[0])), scratchBytes/2)
}
