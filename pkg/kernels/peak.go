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
	g = max(g, 1)
	rates := make([]float64, g)
	var wg sync.WaitGroup
	for i := range g {
		wg.Go(func() { rates[i] = peakRun(d) })
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
func peakRun(d time.Duration) float64 {
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
		Gemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n)
		if el := time.Since(t).Seconds(); el > 0 {
			best = max(best, flops/el/1e9)
		}
		if time.Since(start) >= d {
			return best
		}
	}
}
