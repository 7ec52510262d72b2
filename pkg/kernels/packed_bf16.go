package kernels

import (
	"fmt"
	"sync"
)

// winoBF16Scratch holds FillPairs' row-block buffers (25·16·n values: 800
// KiB for a 512-wide kernel, more than the packing scratch), one per
// goroutine filling at once.
var winoBF16Scratch = sync.Pool{New: func() any { return new([]float32) }}

// PackedWinoBF16 is PackedB's Winograd form for bf16 products: the 16
// transforms U_p = (G g Gᵀ)_p of a 3×3 kernel (WinogradKernel, computed in
// float32), rounded to bf16 to nearest even and packed once into the pair
// strips of the bf16 kernels, so that every shard of a pass multiplies by
// them (MulTerm) without transforming, rounding or packing the kernel
// again. MulTerm(t, …) computes what GemmBF16 with B = U_t and beta 0
// computes, bit for bit.
//
// The numbers are those of a Winograd convolution in bf16: the transformed
// activations V and kernels U are the rounded operands, not the image and
// the taps. U's entries are sums of at most 9 taps scaled by 1, ½ or ¼ and
// V's sums and differences of at most 16 pixels, so each product carries
// the relative rounding of bf16 (2⁻⁸ per operand) on |V|·|U| rather than on
// |d|·|g|; nn's tests bound the convolution's error by that.
//
// The zero value is empty; Prepare (re)sizes it, reusing its memory, and
// FillPairs fills it (from several goroutines at once, for disjoint
// ranges). w must not change while the PackedWinoBF16 is used.
type PackedWinoBF16 struct {
	path  BF16Path
	n, k  int
	kcb   int // depth of a packed block (as gemmBF16Asm blocks K)
	wino  []float32
	winoT bool
	data  []uint16  // the packed terms (BF16AVX512)
	plain []float32 // the 16 terms unpacked (BF16Generic)
}

// Prepare sizes pb for the 16 terms of k×n made from the 3×3 kernel w
// whose 9 taps are k×n planes (trans false: an HWIO kernel with k = Cin,
// n = Cout, for the forward products) or whose taps are the transposes of
// w's n×k planes (trans true: the Cout×Cin terms of the input-gradient
// products, k = Cout, n = Cin), for the active bf16 path.
func (pb *PackedWinoBF16) Prepare(n, k int, w []float32, trans bool) {
	if n <= 0 || k <= 0 || len(w) < 9*k*n {
		panic(fmt.Sprintf("kernels: PackedWinoBF16.Prepare: %d values for 9 taps of %d×%d", len(w), k, n))
	}
	pb.path, pb.n, pb.k, pb.wino, pb.winoT = ActiveBF16Path(), n, k, w, trans
	nb := (k + bKC - 1) / bKC
	pb.kcb = ((k+nb-1)/nb + 1) &^ 1
	if pb.path == BF16Generic {
		if len(pb.plain) != 16*k*n {
			pb.plain = make([]float32, 16*k*n)
		}
		pb.data = pb.data[:0]
		return
	}
	size := 16 * pb.termSize()
	if cap(pb.data) < size {
		pb.data = make([]uint16, size)
	}
	pb.data = pb.data[:size]
}

// termSize is the words one packed term takes: every column panel of ≤ bNC
// columns holds k rounded up to even rows (the blocks of kcb rows, whose
// kcb is even, one after another), its width rounded up to the strips.
func (pb *PackedWinoBF16) termSize() int {
	return (pb.k + pb.k%2) * stripsWidth(pb.n, 32, 16)
}

// Pairs is the number of row pairs (⌈k/2⌉) that FillPairs divides.
func (pb *PackedWinoBF16) Pairs() int { return (pb.k + 1) / 2 }

// FillPairs transforms and packs rows [2·q0, min(2·q1, k)) of the 16 terms.
func (pb *PackedWinoBF16) FillPairs(q0, q1 int) {
	if pb.wino == nil || q0 < 0 || q0 > q1 || q1 > pb.Pairs() {
		panic(fmt.Sprintf("kernels: PackedWinoBF16.FillPairs: pairs [%d, %d) of a kernel of %d", q0, q1, pb.Pairs()))
	}
	n, k := pb.n, pb.k
	r0, r1 := 2*q0, min(2*q1, k)
	// Row blocks of rb = 16 rows (whole 16×16 tiles for the transposition's
	// assembly): their 16 transformed terms (rb·n values each) and, for
	// transposed taps, the block's 9 transposed source taps.
	const rb = 16
	bp := winoBF16Scratch.Get().(*[]float32)
	defer winoBF16Scratch.Put(bp)
	if cap(*bp) < 25*rb*n {
		*bp = make([]float32, 25*rb*n)
	}
	mem := (*bp)[:25*rb*n]
	u, src := mem[:16*rb*n], mem[16*rb*n:]
	for r := r0; r < r1; {
		re := min(r1, r+rb)
		if pb.path == BF16AVX512 {
			re = min(re, (r/pb.kcb+1)*pb.kcb) // one packed block at a time
		}
		var w []float32
		var ns int
		if pb.winoT {
			transposeTaps(pb.wino, k, r, re-r, n, src)
			w, ns = src, (re-r)*n
		} else {
			w, ns = pb.wino[r*n:], k*n
		}
		if pb.path == BF16Generic {
			winoKernel(ns, k*n, (re-r)*n, w, pb.plain[r*n:])
		} else {
			winoKernel(ns, rb*n, (re-r)*n, w, u)
			pb.packRows(r, re, u, rb*n)
		}
		r = re
	}
}

// MulTerm computes C = bf16(A)·bf16(U_t) (m×n, beta 0; A m×k) for the term
// t of pb: GemmBF16(false, false, m, n, k, 1, a, lda, U_t, n, 0, c, ldc)
// bit for bit. It panics like GemmBF16, and when t is not a term.
func (pb *PackedWinoBF16) MulTerm(t, m int, a []float32, lda int, c []float32, ldc int) {
	if t < 0 || t >= 16 || pb.wino == nil {
		panic(fmt.Sprintf("kernels: PackedWinoBF16.MulTerm: term %d of a kernel prepared: %v", t, pb.wino != nil))
	}
	n, k := pb.n, pb.k
	if p := ActiveBF16Path(); p != pb.path || p == BF16Generic {
		plain := pb.plain
		if pb.path != BF16Generic {
			// Packed for another path (tests change it): unpack the terms.
			plain = make([]float32, 16*k*n)
			WinogradKernel(k*n, pb.winoSource(), plain)
		}
		GemmBF16(false, false, m, n, k, 1, a, lda, plain[t*k*n:], n, 0, c, ldc)
		return
	}
	if m < 0 {
		panic(fmt.Sprintf("kernels: PackedWinoBF16.MulTerm: negative size m=%d", m))
	}
	if m == 0 {
		return
	}
	checkMat("C", false, m, n, c, ldc)
	checkMat("A", false, m, k, a, lda)
	if counting.Load() {
		flopCount.Add(int64(2 * m * n * k))
	}
	pb.mulTermAsm(pb.data[t*pb.termSize():(t+1)*pb.termSize()], m, a, lda, c, ldc)
}

// winoSource returns the kernel whose transforms are the terms (transposing
// the taps for a trans kernel).
func (pb *PackedWinoBF16) winoSource() []float32 { return winoSourceOf(pb.wino, pb.winoT, pb.n, pb.k) }
