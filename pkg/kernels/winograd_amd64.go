//go:build amd64

package kernels

// The AVX-512 tile transforms of winograd.go (winograd_amd64.s); strides
// in elements, c a multiple of 16.

//go:noescape
func winoInputAVX512(src *float32, rs, c int, dst *float32, ps, ntiles int)

//go:noescape
func winoOutputAVX512(m *float32, ps int, dst *float32, rs, c int, bias *float32, ntiles int)

//go:noescape
func winoOutputBiasAVX512(m *float32, ps int, dst *float32, rs, c int, bias *float32, ntiles int)

//go:noescape
func winoGradOutAVX512(dy *float32, rs, c int, dm *float32, ps, ntiles int)

//go:noescape
func winoGradInAVX512(dv *float32, ps int, dx *float32, rs, c, ntiles int)

//go:noescape
func winoKernelAVX512(w *float32, ns int, u *float32, nd, cnt int)

//go:noescape
func winoKernelGradAVX512(du *float32, n int, dw *float32, cnt int)

//go:noescape
func winoKernelGradSetAVX512(du *float32, n int, dw *float32, cnt int)

// transpose16AVX512 transposes nblk 16×16 blocks: dst[j·ds + 16b + i] =
// src[(16b + i)·ss + j] for block b (strides in elements).
//
//go:noescape
func transpose16AVX512(src *float32, ss int, dst *float32, ds, nblk int)
