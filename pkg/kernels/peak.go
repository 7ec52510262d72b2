package kernels

import (
	"sync"
	"time"
)

// peakSize is the order of the square SGEMM that PeakGFLOPS times.
const peakSize = 1024

// PeakGFLOPS estimates the float32 GEMM throughput of one core: it runs
// 1024×1024×1024 SGEMMs with the active kernels on the calling goroutine
// for about d (at least one product) and returns the best rate observed, in
// GFLOP/s. Taking the best product rather than the mean makes it robust to
// interference from other processes. It allocates its operands (12 MiB).
func PeakGFLOPS(d time.Duration) float64 {
	return peakRun(d)
}

// PeakGFLOPSParallel estimates the throughput of g cores: g goroutines run
// PeakGFLOPS's products at the same time for about d, and the result is the
// sum of their best rates, in GFLOP/s. With g = runtime.GOMAXPROCS(0) it
// estimates the whole machine's ceiling.
func PeakGFLOPSParallel(d time.Duration, g int) float64 {
	return peakParallel(d, g, Gemm)
}

// PeakGFLOPSParallelBF16 is PeakGFLOPSParallel for the bf16 GEMM
// (GemmBF16 on its active path): the ceiling of a bf16 run, about twice
// the float32 one where AVX512_BF16 executes two multiply-adds per lane.
func PeakGFLOPSParallelBF16(d time.Duration, g int) float64 {
	return peakParallel(d, g, GemmBF16)
}

type gemmFunc func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

func peakParallel(d time.Duration, g int, gemm gemmFunc) float64 {
	g = max(g, 1)
	rates := make([]float64, g)
	var wg sync.WaitGroup
	for i := range g {
		wg.Go(func() { rates[i] = peakRunWith(d, gemm) })
	}
	wg.Wait()
	var sum float64
	for _, r := range rates {
		sum += r
	}
	return sum
}

// peakRun times products of order peakSize for about d and returns the best
// rate in GFLOP/s.
func peakRun(d time.Duration) float64 { return peakRunWith(d, Gemm) }

func peakRunWith(d time.Duration, gemm gemmFunc) float64 {
	const n = peakSize
	a := make([]float32, n*n)
	b := make([]float32, n*n)
	c := make([]float32, n*n)
	for i := range a {
		a[i] = float32(i%13) * 0.25
		b[i] = float32(i%7) * 0.5
	}
	const flops = 2.0 * n * n * n
	best := 0.0
	start := time.Now()
	for {
		t := time.Now()
		gemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n)
		if el := time.Since(t).Seconds(); el > 0 {
			best = max(best, flops/el/1e9)
		}
		if time.Since(start) >= d {
			return best
		}
	}
}
