package kernels

import "fmt"

// PackedB holds the B operands of a float32 GemmSum packed once into the
// layout of the assembly kernels, for many products with the same B and
// different A: a convolution's weights are the B of the forward product of
// every shard of a training pass, and its flipped weights the B of every
// shard's dX product. Packing them once per pass instead of once per shard
// and product leaves the kernels only the products. GemmSumPacked gives
// the bits of GemmSum.
//
// A PackedB remembers the path it was packed for and the B it was packed
// from: when the active path has changed since (SetPath), GemmSumPacked
// multiplies by that B as GemmSum does, which is why B must not change
// while the PackedB is used. The zero value is empty; Pack (re)fills it,
// reusing its memory.
type PackedB struct {
	path        Path
	n, k, terms int
	b           []float32
	ldb         int
	data        []float32 // nil on the portable path

	// wino, when not nil, is the 3×3 kernel whose 16 Winograd transforms
	// are the terms (PrepareWinograd); plain holds them unpacked on the
	// portable path (b then points at it).
	wino  []float32
	winoT bool // the terms transform wino's taps transposed (PrepareWinogradT)
	plain []float32

	// flip, when not nil, is the K×K kernel whose flipped form the terms
	// are (PackFlipped); b is then nil except on the portable path.
	flip        []float32
	flipK, cout int
}

// Pack packs the terms B_t = b[t·k·ldb:] (k×n, leading dimension ldb) of
// GemmSum(m, n, k, …, aoff with terms entries, b, ldb, …) for the active
// path. It panics like GemmSum on a size or a slice of B that does not fit.
func (pb *PackedB) Pack(n, k, terms int, b []float32, ldb int) {
	if n < 0 || k < 0 || terms < 0 {
		panic(fmt.Sprintf("kernels: PackedB.Pack: negative size n=%d k=%d terms=%d", n, k, terms))
	}
	for s := 0; s < terms && n > 0 && k > 0; s++ {
		if s*k*ldb > len(b) {
			panic(fmt.Sprintf("kernels: PackedB.Pack: len(B)=%d too short for %d terms", len(b), terms))
		}
		checkMat("B", false, k, n, b[s*k*ldb:], ldb)
	}
	*pb = PackedB{path: ActivePath(), n: n, k: k, terms: terms, b: b, ldb: ldb, data: pb.data[:0]}
	if pb.path == PathGeneric || n == 0 || k == 0 || terms == 0 {
		return
	}
	size := packedSumLen(pb.path, n, k, terms)
	if cap(pb.data) < size {
		pb.data = make([]float32, size)
	}
	pb.data = pb.data[:size]
	packSumB(pb.path, n, k, terms, b, pb.ldb, pb.data)
}

// PackFlipped is Pack(cin, K·cout, K, wt, cin) for wt the kernel of the
// transposed convolution that computes the input gradient of a K×K
// convolution with kernel w (HWIO: w[((kh·K + kw)·cin + ci)·cout + co]),
//
//	wt[((kh·K + j)·cout + co)·cin + ci] = w[((kh·K + K−1−j)·cin + ci)·cout + co],
//
// but reads w straight into the packed layout, so that the flipped copy is
// never written out (FlipKernel writes it). Like the B of Pack, w must not
// change while pb is used.
func (pb *PackedB) PackFlipped(K, cin, cout int, w []float32) {
	if K < 0 || cin < 0 || cout < 0 || len(w) < K*K*cin*cout {
		panic(fmt.Sprintf("kernels: PackedB.PackFlipped: %d values for a %d×%d kernel of %d×%d", len(w), K, K, cin, cout))
	}
	n, k := cin, K*cout
	*pb = PackedB{path: ActivePath(), n: n, k: k, terms: K, ldb: n, data: pb.data[:0], plain: pb.plain[:0],
		flip: w, flipK: K, cout: cout}
	if n == 0 || k == 0 {
		return
	}
	if pb.path == PathGeneric {
		if cap(pb.plain) < K*k*n {
			pb.plain = make([]float32, K*k*n)
		}
		pb.plain = pb.plain[:K*k*n]
		FlipKernel(pb.plain, w, K, cin, cout)
		pb.b = pb.plain
		return
	}
	size := packedSumLen(pb.path, n, k, K)
	if cap(pb.data) < size {
		pb.data = make([]float32, size)
	}
	pb.data = pb.data[:size]
	packFlippedB(pb.path, K, cin, cout, w, pb.data)
}

// FlipKernel writes into wt the flipped kernel of PackFlipped, made from
// the K×K kernel w of cin input and cout output channels.
func FlipKernel[T ~float32 | ~float64](wt, w []T, K, cin, cout int) {
	for kh := 0; kh < K; kh++ {
		for j := 0; j < K; j++ {
			src := w[(kh*K+K-1-j)*cin*cout:][:cin*cout]
			dst := wt[(kh*K+j)*cout*cin:][:cout*cin]
			Transpose(dst, src, cin, cout)
		}
	}
}

// Transpose writes the cols×rows transpose of the rows×cols matrix src
// into dst in 16×16 tiles: a plain row-by-row loop writes every element to
// a different cache line, which for 256 channels (rows 1 KiB apart) made
// the flip of a ResNet-18 kernel cost a fifth of its convolution's
// backward.
func Transpose[T ~float32 | ~float64](dst, src []T, rows, cols int) {
	const tb = 16
	for r0 := 0; r0 < rows; r0 += tb {
		r1 := min(r0+tb, rows)
		for c0 := 0; c0 < cols; c0 += tb {
			c1 := min(c0+tb, cols)
			for r := r0; r < r1; r++ {
				for j, v := range src[r*cols+c0 : r*cols+c1] {
					dst[(c0+j)*rows+r] = v
				}
			}
		}
	}
}

// plainB returns the unpacked B that pb was packed from: PackFlipped's
// flipped kernel is made afresh (only when the active path has changed
// since packing).
func (pb *PackedB) plainB() []float32 {
	if pb.b != nil || pb.flip == nil {
		return pb.b
	}
	wt := make([]float32, pb.terms*pb.k*pb.n)
	FlipKernel(wt, pb.flip, pb.flipK, pb.n, pb.cout)
	return wt
}

// GemmSumPacked is GemmSum(m, n, k, a, lda, aoff, B, ldb, c, ldc) with the
// terms of B packed in pb, bit for bit: it panics unless pb holds n, k and
// len(aoff) terms, and otherwise like GemmSum.
func GemmSumPacked(m, n, k int, a []float32, lda int, aoff []int, pb *PackedB, c []float32, ldc int) {
	if pb.n != n || pb.k != k || pb.terms != len(aoff) {
		panic(fmt.Sprintf("kernels: GemmSumPacked: packed B holds %d terms of %d×%d, product asks for %d of %d×%d",
			pb.terms, pb.k, pb.n, len(aoff), k, n))
	}
	p := ActivePath()
	if len(pb.data) == 0 || p != pb.path {
		GemmSum(m, n, k, a, lda, aoff, pb.plainB(), pb.ldb, c, ldc)
		return
	}
	if !gemmSumPrologue("GemmSumPacked", m, n, k, a, lda, aoff, c, ldc) {
		return
	}
	if !sgemmSumAsm(p, m, n, k, a, lda, aoff, nil, 0, pb.data, c, ldc) {
		panic("kernels: GemmSumPacked: the assembly driver declined a packed product")
	}
	if counting.Load() {
		flopCount.Add(int64(2 * m * n * k * len(aoff)))
	}
}

// MulTerm computes C = A·B_t (m×n, beta 0) for the term t of pb alone,
// bit for bit as Gemm(false, false, m, n, k, 1, a, lda, B_t, ldb, 0, c, ldc)
// would: the per-position products of a Winograd convolution, whose 16
// transformed kernels are the terms of one PackedB. It panics like Gemm,
// and when t is not a term of pb.
func (pb *PackedB) MulTerm(t, m int, a []float32, lda int, c []float32, ldc int) {
	if t < 0 || t >= pb.terms {
		panic(fmt.Sprintf("kernels: PackedB.MulTerm: term %d of %d", t, pb.terms))
	}
	p := ActivePath()
	if pb.wino != nil && pb.b == nil && p != pb.path {
		// Packed for another path (tests change it): unpack this term.
		plain := make([]float32, 16*pb.k*pb.n)
		WinogradKernel(pb.k*pb.n, pb.winoSource(), plain)
		Gemm(false, false, m, pb.n, pb.k, 1, a, lda, plain[t*pb.k*pb.n:], pb.n, 0, c, ldc)
		return
	}
	var bt []float32
	if pb.b != nil || (pb.flip != nil && p != pb.path) {
		bt = pb.plainB()[t*pb.k*pb.ldb:]
	} else {
		bt = pb.data // packed Winograd or flipped terms: B is only checked for length
	}
	if len(pb.data) == 0 || p != pb.path {
		Gemm(false, false, m, pb.n, pb.k, 1, a, lda, bt, pb.ldb, 0, c, ldc)
		return
	}
	if !gemmPrologue("PackedB.MulTerm", false, false, m, pb.n, pb.k, float32(1), a, lda, bt, pb.ldb, 0, c, ldc) {
		return
	}
	nPad := len(pb.data) / (pb.terms * pb.k)
	sgemmPackedTerm(p, m, pb.n, pb.k, a, lda, pb.data[t*pb.k*nPad:], c, ldc)
}

// PrepareWinograd makes pb hold, as 16 terms of k×n, the Winograd
// transforms U_p = (G g Gᵀ)_p (WinogradKernel) of the 3×3 kernel w whose 9
// taps are k×n planes (w[tap·k·n + row·n + col]; HWIO with k = Cin,
// n = Cout, or its per-tap transpose for the Cout×Cin terms), for
// MulTerm. It sizes pb; PackWinogradRows then fills rows of every term,
// transforming w straight into the layout of the GEMM kernels (no
// unpacked copy), so that several goroutines can fill disjoint row ranges
// at once. w must not change while pb is used.
func (pb *PackedB) PrepareWinograd(n, k int, w []float32) { pb.prepareWinograd(n, k, w, false) }

// PrepareWinogradT is PrepareWinograd for the kernel whose taps are the
// transposes of w's n×k taps (w[tap·n·k + col·k + row]): the Cout×Cin
// terms of the input-gradient products from an HWIO kernel (n = Cin,
// k = Cout). PackWinogradRows transposes block by block in cache, so the
// transposed kernel is never written out.
func (pb *PackedB) PrepareWinogradT(n, k int, w []float32) { pb.prepareWinograd(n, k, w, true) }

func (pb *PackedB) prepareWinograd(n, k int, w []float32, trans bool) {
	if n <= 0 || k <= 0 || len(w) < 9*k*n {
		panic(fmt.Sprintf("kernels: PackedB.PrepareWinograd: %d values for 9 taps of %d×%d", len(w), k, n))
	}
	p := ActivePath()
	same := pb.wino != nil && pb.n == n && pb.k == k && pb.path == p
	pb.path, pb.n, pb.k, pb.terms, pb.ldb, pb.wino, pb.winoT = p, n, k, 16, n, w, trans
	pb.b = nil
	if p == PathGeneric {
		if len(pb.plain) != 16*k*n {
			pb.plain = make([]float32, 16*k*n)
		}
		pb.b, pb.data = pb.plain, pb.data[:0]
		return
	}
	size := packedSumLen(p, n, k, 16)
	if cap(pb.data) < size {
		pb.data = make([]float32, size)
	} else if pb.data = pb.data[:size]; !same {
		clear(pb.data) // the padding of narrow strips stays zero
	}
}

// PackWinogradRows fills rows [r0, r1) of the 16 terms PrepareWinograd
// (or PrepareWinogradT) set up.
func (pb *PackedB) PackWinogradRows(r0, r1 int) {
	if pb.wino == nil || r0 < 0 || r1 > pb.k || r0 > r1 {
		panic(fmt.Sprintf("kernels: PackedB.PackWinogradRows: rows [%d, %d) of a Winograd PackedB of %d rows", r0, r1, pb.k))
	}
	n, k := pb.n, pb.k
	if !pb.winoT {
		for b0 := r0; b0 < r1; b0 += winoRowBlock {
			pb.packWinogradBlock(b0, min(b0+winoRowBlock, r1), pb.wino[b0*n:], k*n)
		}
		return
	}
	// Transposed taps: transpose a block of rows of all 9 taps into
	// packing scratch (16×16 tiles in registers on the AVX-512 path), then
	// transform from there.
	s := getScratch()
	defer putScratch(s)
	mem := view[float32](s)
	bs := min(winoRowBlock, len(mem)/(9*n))
	if bs >= 16 {
		bs &^= 15 // whole 16×16 tiles for the assembly
	} else if bs < 1 {
		bs, mem = 1, make([]float32, 9*n) // wider than the scratch: one row at a time
	}
	for b0 := r0; b0 < r1; b0 += bs {
		rb := min(bs, r1-b0)
		transposeTaps(pb.wino, k, b0, rb, n, mem)
		pb.packWinogradBlock(b0, b0+rb, mem, rb*n)
	}
}

// winoRowBlock is how many rows PackWinogradRows transforms strip by
// strip: the packed rows of a strip are contiguous, so each of the 16
// terms is written as one stream, and the block's source rows stay in
// cache from one strip to the next.
const winoRowBlock = 32

// transposeRows writes rows [b0, b0+rb) of the transpose of the n×k matrix
// src: dst[j·n + c] = src[c·k + b0 + j] for j < rb, c < n.
// The assembly reads and writes without bounds checks, so the extents are
// checked here.
func transposeRows(src []float32, k, b0, rb, n int, dst []float32) {
	if b0 < 0 || rb < 0 || b0+rb > k || len(src) < n*k || len(dst) < rb*n {
		panic(fmt.Sprintf("kernels: transposeRows: rows [%d, %d) of %d, %d×%d source of %d values, destination of %d", b0, b0+rb, k, n, k, len(src), len(dst)))
	}
	j0, n16 := 0, 0
	if winoAsm(16, dst) {
		n16 = n &^ 15
		for ; n16 > 0 && j0+16 <= rb; j0 += 16 {
			transpose16AVX512(&src[b0+j0], k, &dst[j0*n], n, n16/16)
		}
	}
	for j := 0; j < rb; j++ {
		c0 := 0
		if j < j0 {
			c0 = n16 // the assembly did columns [0, n16) of these rows
		}
		row, col := dst[j*n:(j+1)*n], src[b0+j:]
		for c := c0; c < n; c++ {
			row[c] = col[c*k]
		}
	}
}

// packWinogradBlock transforms rows [r0, r1) of the 16 terms from src, row
// r at src[(r−r0)·n:] and the 9 taps ns apart, into the packed layout (or
// plain on the portable path), strip by strip.
func (pb *PackedB) packWinogradBlock(r0, r1 int, src []float32, ns int) {
	n, k := pb.n, pb.k
	if pb.path == PathGeneric {
		for r := r0; r < r1; r++ {
			winoKernel(ns, k*n, n, src[(r-r0)*n:], pb.plain[r*n:])
		}
		return
	}
	_, nr, nrHalf := tile(pb.path)
	ts := k * stripsWidth(n, nr, nrHalf) // term stride
	for jc := 0; jc < n; jc += sNC {
		nc := min(sNC, n-jc)
		ncw := stripsWidth(nc, nr, nrHalf)
		for j0 := 0; j0 < nc; j0 += nr {
			w := min(nr, nc-j0)
			sw := nr
			if w <= nrHalf {
				sw = nrHalf
			}
			for r := r0; r < r1; r++ {
				pc := r / sKC * sKC
				kc := min(sKC, k-pc)
				off := jc*k + pc*ncw + j0*kc + (r-pc)*sw
				winoKernel(ns, ts, w, src[(r-r0)*n+jc+j0:], pb.data[off:])
			}
		}
	}
}

// winoSource returns the kernel whose transforms are the terms, transposing
// wino's taps for PrepareWinogradT (for the path-change fallback).
func (pb *PackedB) winoSource() []float32 { return winoSourceOf(pb.wino, pb.winoT, pb.n, pb.k) }

// winoSourceOf returns w, or when trans a new kernel whose 9 taps are the
// transposes of w's n×k taps.
func winoSourceOf(w []float32, trans bool, n, k int) []float32 {
	if !trans {
		return w
	}
	t := make([]float32, 9*n*k)
	transposeTaps(w, k, 0, k, n, t)
	return t
}

// transposeTaps writes rows [b0, b0+rb) of the transposes of the 9 n×k
// taps of w into dst, tap after tap (rb·n values each; transposeRows).
func transposeTaps(w []float32, k, b0, rb, n int, dst []float32) {
	for tap := 0; tap < 9; tap++ {
		transposeRows(w[tap*n*k:(tap+1)*n*k], k, b0, rb, n, dst[tap*rb*n:(tap+1)*rb*n])
	}
}

// stripsWidth is the width of n columns packed into strips of nr (a last
// strip of at most nrHalf columns has width nrHalf): n rounded up to the
// strips, the row length of a packed panel.
func stripsWidth(n, nr, nrHalf int) int {
	w := n / nr * nr
	switch r := n - w; {
	case r == 0:
	case r <= nrHalf:
		w += nrHalf
	default:
		w += nr
	}
	return w
}
