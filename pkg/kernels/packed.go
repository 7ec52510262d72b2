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
		GemmSum(m, n, k, a, lda, aoff, pb.b, pb.ldb, c, ldc)
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
