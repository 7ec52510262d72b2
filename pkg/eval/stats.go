package eval

import "math"

// MeanStd returns the mean of xs and its sample standard deviation (divisor
// n−1), as reported over seeds in the paper's tables. A single value has
// standard deviation 0 (there is no spread to estimate; callers that need to
// tell that apart should look at len(xs)). An empty slice gives NaN for both.
// It uses two passes, so large means do not cancel the spread.
func MeanStd(xs []float64) (mean, sampleStd float64) {
	n := len(xs)
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(n)
	if n == 1 {
		return mean, 0
	}
	var ss float64
	for _, x := range xs {
		d := x - mean
		ss += d * d
	}
	return mean, math.Sqrt(ss / float64(n-1))
}
