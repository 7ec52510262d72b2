//go:build amd64

package kernels

import (
	"fmt"
	"testing"
)

// BenchmarkKernel times the micro-kernels alone on L1-resident packed
// strips: the ceiling the blocked driver can approach on this machine.
func BenchmarkKernel(b *testing.B) {
	tests := []struct {
		name   string
		path   Path
		mr, nr int
	}{
		{"avx512_12x32", PathAVX512, 12, 32},
		{"avx512_12x16", PathAVX512, 12, 16},
		{"avx2_6x16", PathAVX2, 6, 16},
	}
	for _, tt := range tests {
		if (tt.path == PathAVX512 && !hasAVX512) || !hasAVX2 {
			continue
		}
		for _, kc := range []int{64, 256} {
			b.Run(fmt.Sprintf("%s/k=%d", tt.name, kc), func(b *testing.B) {
				a := make([]float32, tt.mr*kc)
				bp := make([]float32, tt.nr*kc)
				c := make([]float32, tt.mr*tt.nr)
				cpu0 := processCPUTime()
				for b.Loop() {
					callKernel(tt.path, tt.nr, kc, &a[0], 4, 4*tt.mr, &bp[0], &c[0], 4*tt.nr, 1, 1)
				}
				reportFLOPs(b, 2*float64(tt.mr*tt.nr*kc), processCPUTime()-cpu0)
			})
		}
	}
}
