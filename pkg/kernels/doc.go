// Package kernels provides the dense linear-algebra kernels used by bsam's
// layers: a general matrix multiply (Gemm) for float32 and float64 in
// row-major layout, with all four transpose combinations.
//
// # Paths
//
// float32 products run on the fastest kernel set the CPU supports, chosen at
// start-up with golang.org/x/sys/cpu:
//
//   - PathAVX512: Go-assembly AVX-512 micro-kernels with 12×32 and 12×16
//     register tiles (amd64 with AVX-512F).
//   - PathAVX2: a Go-assembly AVX2+FMA micro-kernel with a 6×16 tile
//     (amd64 with AVX2 and FMA).
//   - PathGeneric: a portable blocked pure-Go implementation with a 2×4
//     register tile, also used for every float64 product.
//
// SetPath forces a path (for tests and benchmarks), Paths lists the paths
// this CPU supports and ActivePath reports the current one.
//
// # Blocking
//
// The float32 driver follows the GotoBLAS/BLIS scheme: op(B) is packed into
// KC×NR column strips of a KC×NC panel (scaled by alpha) that stays in L2,
// and for each sliver of MR rows of op(A) over KC (which stays in L1) the
// micro-kernel sweeps the panel, computing one MR×NR tile of C per strip. A
// is not repacked: the micro-kernel reads it in place through a row stride
// and a k stride (so the same kernel serves A and Aᵀ) and prefetches ahead;
// only a last sliver of fewer than MR rows is packed, zero-padded. This
// measured faster than packing A for every shape of interest, from the
// skinny convolution GEMMs (N = 16…64) to 2048³. Edge tiles narrower than
// NR or shorter than MR go through a small buffer. The portable path packs
// both operands.
//
// # Element-wise helpers
//
// Axpy, Scale, Add, Max/MaxBackward (thresholded linear unit with a scalar
// threshold) and ReLU/ReLUBackward use the same path: AVX-512 or AVX2
// assembly for the bulk of the slice and a Go loop for the remainder.
//
// # Peak
//
// PeakGFLOPS times 1024³ SGEMMs on the calling goroutine with the active
// path (one core's ceiling); PeakGFLOPSParallel does so on several
// goroutines at once (the machine's ceiling).
//
// # Allocation and concurrency
//
// Gemm and the helpers are safe for concurrent use. Packing scratch comes
// from a sync.Pool of fixed-size buffers (768 KiB each, one per
// concurrent call), so once warm a call does not allocate.
package kernels
