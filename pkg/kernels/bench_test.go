package kernels

import (
	"fmt"
	"testing"
	"time"
)

// benchShape is a GEMM shape named after where it occurs in training.
type benchShape struct {
	name           string
	m, n, k        int
	transA, transB bool
}

// benchShapes are the large square reference and the ResNet convolution
// shapes as GEMMs (NHWC, shard of 16 images at 32×32 unless noted):
// forward M = n·H·W, N = Cout, K = 9·Cin; weight gradient dW = Xᵀ·dY
// (M = 9·Cin, K = n·H·W, transA); input gradient dX = dY·Wᵀ (transB).
var benchShapes = []benchShape{
	{"2048x2048x2048", 2048, 2048, 2048, false, false},
	{"conv_fwd_16384x16x27", 16384, 16, 27, false, false},
	{"conv_fwd_16384x16x144", 16384, 16, 144, false, false},
	{"conv_fwd_4096x32x288", 4096, 32, 288, false, false},
	{"conv_fwd_16384x32x288", 16384, 32, 288, false, false},
	{"conv_fwd_1024x64x576", 1024, 64, 576, false, false},
	{"conv_fwd_4096x64x576", 4096, 64, 576, false, false},
	{"conv_dw_144x16x16384", 144, 16, 16384, true, false},
	{"conv_dw_288x32x4096", 288, 32, 4096, true, false},
	{"conv_dw_576x64x1024", 576, 64, 1024, true, false},
	{"conv_dx_16384x144x16", 16384, 144, 16, false, true},
	{"conv_dx_4096x288x32", 4096, 288, 32, false, true},
	{"conv_dx_1024x576x64", 1024, 576, 64, false, true},
	{"r18_fwd_4096x256x2304", 4096, 256, 2304, false, false},
	{"r18_fwd_1024x512x4608", 1024, 512, 4608, false, false},
	{"r18_dw_4608x512x1024", 4608, 512, 1024, true, false},
	{"r18_dx_1024x4608x512", 1024, 4608, 512, false, true},
}

func benchGemm[T ~float32 | ~float64](b *testing.B, s benchShape) {
	a := make([]T, s.m*s.k)
	bb := make([]T, s.k*s.n)
	c := make([]T, s.m*s.n)
	for i := range a {
		a[i] = T(i%7) - 3
	}
	for i := range bb {
		bb[i] = T(i%5) - 2
	}
	lda, ldb := pick(s.transA, s.m, s.k), pick(s.transB, s.k, s.n)
	Gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
	cpu0 := processCPUTime()
	for b.Loop() {
		Gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
	}
	reportFLOPs(b, 2*float64(s.m)*float64(s.n)*float64(s.k), processCPUTime()-cpu0)
}

// reportFLOPs reports GFLOP/s over wall time and, where available, over the
// process's CPU time ("cpu-GFLOP/s"), which is steadier on a shared machine.
func reportFLOPs(b *testing.B, flopsPerOp float64, cpu time.Duration) {
	total := flopsPerOp * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu > 0 {
		b.ReportMetric(total/cpu.Seconds()/1e9, "cpu-GFLOP/s")
	}
}

func BenchmarkSgemm(b *testing.B) {
	for _, p := range Paths() {
		for _, s := range benchShapes {
			b.Run(fmt.Sprintf("%v/%s", p, s.name), func(b *testing.B) {
				defer SetPath(p)()
				benchGemm[float32](b, s)
			})
		}
	}
}

func BenchmarkDgemm(b *testing.B) {
	for _, s := range benchShapes[:5] {
		b.Run(s.name, func(b *testing.B) { benchGemm[float64](b, s) })
	}
}

// BenchmarkSgemmParallel runs independent products on GOMAXPROCS goroutines
// (as the batch-sharded training loop does) with the default path; GFLOP/s
// is the aggregate.
func BenchmarkSgemmParallel(b *testing.B) {
	for _, s := range []benchShape{benchShapes[0], benchShapes[4], benchShapes[8], benchShapes[11], benchShapes[14]} {
		b.Run(s.name, func(b *testing.B) {
			lda, ldb := pick(s.transA, s.m, s.k), pick(s.transB, s.k, s.n)
			cpu0 := processCPUTime()
			b.RunParallel(func(pb *testing.PB) {
				a := make([]float32, s.m*s.k)
				bb := make([]float32, s.k*s.n)
				c := make([]float32, s.m*s.n)
				for pb.Next() {
					Gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
				}
			})
			reportFLOPs(b, 2*float64(s.m)*float64(s.n)*float64(s.k), processCPUTime()-cpu0)
		})
	}
}
