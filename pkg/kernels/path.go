package kernels

import (
	"fmt"
	"slices"
	"sync/atomic"
)

// Path identifies a set of float32 GEMM kernels.
type Path int

// The kernel paths, from the portable one to the fastest.
const (
	// PathGeneric is the portable blocked pure-Go implementation.
	PathGeneric Path = iota
	// PathAVX2 uses the AVX2+FMA assembly micro-kernel (amd64).
	PathAVX2
	// PathAVX512 uses the AVX-512 assembly micro-kernels (amd64).
	PathAVX512
)

// String returns the path's name: "generic", "avx2" or "avx512".
func (p Path) String() string {
	switch p {
	case PathGeneric:
		return "generic"
	case PathAVX2:
		return "avx2"
	case PathAVX512:
		return "avx512"
	}
	return fmt.Sprintf("Path(%d)", int(p))
}

var activePath atomic.Int32

func init() {
	ps := Paths()
	activePath.Store(int32(ps[len(ps)-1]))
}

// Paths returns the paths this CPU supports, from the portable one to the
// fastest; the last one is the default.
func Paths() []Path {
	ps := []Path{PathGeneric}
	if hasAVX2 {
		ps = append(ps, PathAVX2)
	}
	if hasAVX512 {
		ps = append(ps, PathAVX512)
	}
	return ps
}

// ActivePath returns the path float32 products currently use.
func ActivePath() Path { return Path(activePath.Load()) }

// SetPath makes float32 products use path p and returns a function that
// restores the previous path. It panics if the CPU does not support p. It is
// meant for tests and benchmarks: it affects every goroutine.
func SetPath(p Path) (restore func()) {
	if !slices.Contains(Paths(), p) {
		panic(fmt.Sprintf("kernels: path %v is not supported on this CPU", p))
	}
	old := activePath.Swap(int32(p))
	return func() { activePath.Store(old) }
}
