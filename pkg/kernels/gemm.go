package kernels

import (
	"fmt"
	"sync"
	"unsafe"
)

// Gemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices,
// where op(A) is m×k (A is m×k with leading dimension lda, or k×m when
// transA), op(B) is k×n (B is k×n with ldb, or n×k when transB) and C is
// m×n with leading dimension ldc. When beta is 0, C is not read. When alpha
// is 0 or k is 0, A and B are not read. Rows of A and B may overlap
// (lda, ldb smaller than a row, e.g. for implicit convolutions); ldc must be
// at least n.
//
// float32 products run on the active path (see ActivePath); float64 products
// always use the portable blocked implementation. Gemm panics if a slice is
// too short or a leading dimension too small. It is safe for concurrent use
// and does not allocate once its scratch pool is warm.
func Gemm[T ~float32 | ~float64](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if !gemmPrologue("Gemm", transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
		return
	}
	if unsafe.Sizeof(alpha) == 4 {
		if p := ActivePath(); p != PathGeneric {
			sgemmAsm(p, transA, transB, m, n, k, float32(alpha), f32(a), lda, f32(b), ldb, float32(beta), f32(c), ldc)
			return
		}
	}
	gemmGeneric(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// checkMat panics unless x holds an r×c matrix (its transpose when trans)
// with leading dimension ld. Rows of A and B may overlap (0 ≤ ld < c), as
// in implicit convolution GEMMs; rows of C may not.
// gemmPrologue is what every GEMM entry point (Gemm, GemmBF16) does before
// multiplying: it panics on a negative size or a slice too short, handles
// the cases that need no product (an empty C: nothing; k or alpha 0: C =
// beta·C, A and B unread), counts the FLOPs, and reports whether the
// product remains to be computed.
func gemmPrologue[T ~float32 | ~float64](name string, transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) bool {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernels: %s: negative size m=%d n=%d k=%d", name, m, n, k))
	}
	if m == 0 || n == 0 {
		return false
	}
	checkMat("C", false, m, n, c, ldc)
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return false
	}
	checkMat("A", transA, m, k, a, lda)
	checkMat("B", transB, k, n, b, ldb)
	if counting.Load() {
		flopCount.Add(int64(2 * m * n * k))
	}
	return true
}

func checkMat[T any](name string, trans bool, r, c int, x []T, ld int) {
	if trans {
		r, c = c, r
	}
	if ld < 0 || (name == "C" && ld < c) {
		panic(fmt.Sprintf("kernels: Gemm: ld%s=%d < %d", name, ld, c))
	}
	if need := (r-1)*ld + c; len(x) < need {
		panic(fmt.Sprintf("kernels: Gemm: len(%s)=%d < %d", name, len(x), need))
	}
}

// scaleC sets C = beta·C, not reading C when beta is 0.
func scaleC[T ~float32 | ~float64](m, n int, beta T, c []T, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
		} else if beta != 1 {
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// f32 reinterprets a slice of a type with underlying type float32.
func f32[T ~float32 | ~float64](x []T) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(x))), len(x))
}

// gemmRef is the naive triple loop, kept as the reference for tests.
func gemmRef[T ~float32 | ~float64](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s T
			for p := 0; p < k; p++ {
				var av, bv T
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += av * bv
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}

// Block sizes of the float32 assembly driver, for Zen 5-class caches
// (48 KiB L1D, 1 MiB L2): an MR×KC sliver of A (12 KiB) stays in L1 while
// the kernel sweeps the KC×NC panel of packed B (512 KiB), which stays in
// L2. MC only bounds how often a last partial sliver of A is packed.
const (
	sKC = 256
	sMC = 480 // a multiple of 12 and 6
	sNC = 512
	sMR = 12 // largest MR of the assembly kernels
	sNR = 32 // largest NR of the assembly kernels
)

// Block sizes of the portable driver (in elements of T).
const (
	gKC = 256
	gMC = 128
	gNC = 256
	gMR = 2
	gNR = 4
)

// scratchBytes is the size of one pooled packing buffer, large enough for
// either driver.
const scratchBytes = max(
	4*(sKC*sNC+2*sMR*sKC+sMR*sNR),
	8*(gKC*gNC+gMC*gKC),
)

// scratch is one packing buffer; the array keeps it one allocation.
type scratch struct {
	mem [scratchBytes / 8]float64
}

// scratchFree is the free list of packing buffers. Unlike a sync.Pool it
// never drops buffers at a garbage collection, so once as many buffers exist
// as Gemm calls ever ran at once, no call allocates again. The list's
// capacity is set up front so that returning a buffer never grows it.
var scratchFree = struct {
	sync.Mutex
	list []*scratch
}{list: make([]*scratch, 0, 256)}

// getScratch takes a packing buffer from the free list, or makes one.
func getScratch() *scratch {
	scratchFree.Lock()
	defer scratchFree.Unlock()
	if n := len(scratchFree.list); n > 0 {
		s := scratchFree.list[n-1]
		scratchFree.list = scratchFree.list[:n-1]
		return s
	}
	return new(scratch)
}

// putScratch returns a buffer to the free list.
func putScratch(s *scratch) {
	scratchFree.Lock()
	scratchFree.list = append(scratchFree.list, s)
	scratchFree.Unlock()
}

// view returns the scratch memory as a slice of T.
func view[T ~float32 | ~float64](s *scratch) []T {
	var z T
	return unsafe.Slice((*T)(unsafe.Pointer(&s.mem[0])), scratchBytes/int(unsafe.Sizeof(z)))
}

// GemmSum computes C = Σ_s A_s·B_s (beta 0, alpha 1, no transposes), where
// A_s is the m×k matrix at a[aoff[s]:] with leading dimension lda (rows may
// overlap) and B_s the k×n matrix at b[s·k·ldb:] with leading dimension
// ldb. It gives the same result as Gemm for s = 0 with beta 0 followed by
// Gemm with beta 1 for each further s, but, where it can, runs the terms
// per register tile of C so that C stays in cache: the shifted products of
// an implicit convolution. It panics like Gemm and does not allocate.
func GemmSum[T ~float32 | ~float64](m, n, k int, a []T, lda int, aoff []int, b []T, ldb int, c []T, ldc int) {
	if !gemmSumPrologue("GemmSum", m, n, k, a, lda, aoff, c, ldc) {
		return
	}
	for s := range aoff {
		if s*k*ldb > len(b) {
			panic(fmt.Sprintf("kernels: GemmSum: len(B)=%d too short for %d terms", len(b), len(aoff)))
		}
		checkMat("B", false, k, n, b[s*k*ldb:], ldb)
	}
	if unsafe.Sizeof(a[0]) == 4 {
		if p := ActivePath(); p != PathGeneric && sgemmSumAsm(p, m, n, k, f32(a), lda, aoff, f32(b), ldb, nil, f32(c), ldc) {
			if counting.Load() {
				flopCount.Add(int64(2 * m * n * k * len(aoff)))
			}
			return
		}
	}
	for s, o := range aoff {
		beta := T(1)
		if s == 0 {
			beta = 0
		}
		Gemm(false, false, m, n, k, 1, a[o:], lda, b[s*k*ldb:], ldb, beta, c, ldc)
	}
}

// gemmSumPrologue is what GemmSum and GemmSumPacked do before multiplying:
// it panics on a negative size, an A offset out of range or a slice of A or
// C too short, sets C to 0 when there are no terms or k is 0, and reports
// whether the product remains to be computed.
func gemmSumPrologue[T ~float32 | ~float64](name string, m, n, k int, a []T, lda int, aoff []int, c []T, ldc int) bool {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernels: %s: negative size m=%d n=%d k=%d", name, m, n, k))
	}
	if m == 0 || n == 0 {
		return false
	}
	checkMat("C", false, m, n, c, ldc)
	if k == 0 || len(aoff) == 0 {
		scaleC(m, n, 0, c, ldc)
		return false
	}
	for s, o := range aoff {
		if o < 0 || o > len(a) {
			panic(fmt.Sprintf("kernels: %s: aoff[%d]=%d out of range", name, s, o))
		}
		checkMat("A", false, m, k, a[o:], lda)
	}
	return true
}
