package eval

import (
	"math"
	"slices"
)

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

// Median returns the median of xs (the mean of the middle two for an even
// count), NaN for none, leaving xs as it is.
func Median(xs []float64) float64 {
	n := len(xs)
	if n == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
