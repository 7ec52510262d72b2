package eval

import (
	"fmt"
	"math"
	"slices"
)

const (
	// NumBins is the number of equal-width confidence bins on [0,1] used by
	// [ECE] and [ReliabilityBins] (util.ece, bins=20).
	NumBins = 20
	// AUROCBins is the bins argument of util.auroc: the thresholds are
	// linspace(1, 0, AUROCBins+1) without both ends.
	AUROCBins = 2500
	// NumThresholds is the number of thresholds [AUROC] sweeps, AUROCBins−1.
	NumThresholds = AUROCBins - 1
)

// binEdge returns boundary k of jnp.linspace(0, 1, NumBins+1). JAX computes
// linspace as start·(1−s) + stop·s with s = k/div, which is exactly k/NumBins
// here.
func binEdge(k int) float64 { return float64(k) / NumBins }

// threshold returns threshold k (1 ≤ k ≤ NumThresholds) of
// jnp.linspace(1, 0, AUROCBins+1): 1·(1−s) + 0·s with s = k/AUROCBins.
func threshold(k int) float64 { return 1 - float64(k)/AUROCBins }

// ECE returns the expected calibration error of util.ece: 20 equal bins on
// [0,1]; a sample belongs to every bin [lo, hi] with lo ≤ confidence ≤ hi, so
// a confidence on an interior boundary k/20 counts in two bins; empty bins are
// skipped; ECE = Σ_bins |mean confidence − accuracy| · fraction, where
// fraction = (samples in the bin)/(number of samples) — a sample counted twice
// adds to both bins' fractions, the denominator stays the number of samples.
//
// As in the official code the bin's accuracy and fraction are means of
// float32 arrays (astype('float32').mean()), so both are rounded to float32;
// the mean confidence and the sum stay in float64. This reproduces the
// reference values to about 1e-16 (treating them in float64 would move ECE by
// a few 1e-9).
//
// confidence[i] is the largest predicted probability of example i and
// correct[i] whether its argmax equals the label. ECE of no samples is 0.
func ECE(confidence []float64, correct []bool) float64 {
	checkLens(confidence, correct)
	n := len(confidence)
	if n == 0 {
		return 0
	}
	var ece float64
	for b := range NumBins {
		cnt, ok, sum := binStats(b, confidence, correct)
		if cnt == 0 {
			continue
		}
		prop := float64(float32(cnt) / float32(n))
		acc := float64(float32(ok) / float32(cnt))
		avg := sum / float64(cnt)
		ece += math.Abs(avg-acc) * prop
	}
	return ece
}

// binStats returns the number of confidences in bin b (closed on both ends,
// as the official code), how many of them are correct, and their sum.
func binStats(b int, confidence []float64, correct []bool) (cnt, ok int, sum float64) {
	lo, hi := binEdge(b), binEdge(b+1)
	for i, c := range confidence {
		if c >= lo && c <= hi {
			cnt++
			sum += c
			if correct[i] {
				ok++
			}
		}
	}
	return cnt, ok, sum
}

// ReliabilityBins returns the NumBins bins of a reliability diagram, with the
// same closed membership as [ECE] (a confidence on an interior boundary counts
// in both neighbouring bins). Every bin is returned, empty ones with Count 0
// and zero Confidence and Accuracy. Accuracy is the plain float64 fraction
// correct in the bin (not rounded to float32 as inside ECE).
func ReliabilityBins(confidence []float64, correct []bool) []Bin {
	checkLens(confidence, correct)
	bins := make([]Bin, NumBins)
	for b := range bins {
		lo, hi := binEdge(b), binEdge(b+1)
		cnt, ok, sum := binStats(b, confidence, correct)
		bins[b] = Bin{Lower: lo, Upper: hi, Count: cnt}
		if cnt > 0 {
			bins[b].Confidence = sum / float64(cnt)
			bins[b].Accuracy = float64(ok) / float64(cnt)
		}
	}
	return bins
}

// AUROC returns the misclassification-detection AUROC of util.auroc
// (Osawa et al. 2019, App. H): positives are the correctly classified
// examples (P of them), negatives the misclassified ones (N). For each of the
// NumThresholds thresholds t = 0.9996, 0.9992, …, 0.0004 the examples with
// confidence ≥ t are selected, giving TPR = correct selected/P and
// FPR = wrong selected/N; the curve is prefixed with (0,0) and suffixed with
// (1,1), and the area is the trapezoid rule over FPR,
// ½·Σ (FPR_{i+1}−FPR_i)(TPR_{i+1}+TPR_i), as jnp.trapz computes it.
//
// When every example is correct (N = 0) or every one is wrong (P = 0) the
// official code divides by zero. The curve is then undefined and this
// function returns 0.5, the value of an uninformative score, so that means
// over seeds stay finite; the same holds for no examples at all.
func AUROC(confidence []float64, correct []bool) float64 {
	checkLens(confidence, correct)
	type sample struct {
		conf float64
		ok   bool
	}
	s := make([]sample, len(confidence))
	var P, N int
	for i, c := range confidence {
		s[i] = sample{c, correct[i]}
		if correct[i] {
			P++
		} else {
			N++
		}
	}
	if P == 0 || N == 0 {
		return 0.5
	}
	slices.SortFunc(s, func(a, b sample) int {
		switch {
		case a.conf > b.conf:
			return -1
		case a.conf < b.conf:
			return 1
		}
		return 0
	})
	fP, fN := float64(P), float64(N)
	var tp, fp, next int
	var area, prevX, prevY float64 // the curve starts at (0,0)
	for k := 1; k <= NumThresholds; k++ {
		t := threshold(k)
		for next < len(s) && s[next].conf >= t {
			if s[next].ok {
				tp++
			} else {
				fp++
			}
			next++
		}
		x, y := float64(fp)/fN, float64(tp)/fP
		area += (x - prevX) * (y + prevY)
		prevX, prevY = x, y
	}
	area += (1 - prevX) * (1 + prevY)
	return 0.5 * area
}

// OfficialNLLFactor returns nbatches/(nbatches−1), the factor by which the
// official test.py inflates the NLL when every batch has the same size: it
// sums the per-batch mean NLLs and divides by the last batch index
// (nbatches−1) instead of nbatches. Multiply a true-mean NLL by it to compare
// with the README numbers (50/49 for CIFAR's 10,000 test images in batches of
// 200). With fewer than two batches the official script divides by zero; the
// factor is then NaN.
func OfficialNLLFactor(nbatches int) float64 {
	if nbatches < 2 {
		return math.NaN()
	}
	return float64(nbatches) / float64(nbatches-1)
}

// Compute returns the metrics of a full predictive distribution: probs is the
// row-major n×k matrix of class probabilities (each row summing to one),
// labels the n true classes. The prediction is the first argmax of a row (as
// jnp.argmax), the confidence its probability, and the NLL the true mean of
// −log probs[i, labels[i]]. It panics when the lengths disagree or a label is
// out of range. No examples give the zero Metrics.
func Compute(probs []float64, labels []int32, n, k int) Metrics {
	if n < 0 || k < 1 || len(probs) != n*k || len(labels) != n {
		panic(fmt.Sprintf("eval: Compute: %d probabilities and %d labels do not make %d×%d", len(probs), len(labels), n, k))
	}
	var r records
	r.grow(n)
	for i := range n {
		row := probs[i*k : (i+1)*k]
		y := checkLabel(labels[i], k)
		pred, conf := argmax(row)
		r.add(conf, pred == y, math.Log(row[y]))
	}
	return r.metrics()
}

// records holds the three numbers kept per example.
type records struct {
	conf    []float64 // max predicted probability
	correct []bool    // argmax == label
	ll      []float64 // log predictive probability of the label
}

func (r *records) grow(n int) {
	r.conf = slices.Grow(r.conf, n)
	r.correct = slices.Grow(r.correct, n)
	r.ll = slices.Grow(r.ll, n)
}

func (r *records) add(conf float64, ok bool, ll float64) {
	r.conf = append(r.conf, conf)
	r.correct = append(r.correct, ok)
	r.ll = append(r.ll, ll)
}

func (r *records) reset() {
	r.conf, r.correct, r.ll = r.conf[:0], r.correct[:0], r.ll[:0]
}

// metrics computes the four scores; no records give the zero Metrics.
func (r *records) metrics() Metrics {
	n := len(r.conf)
	if n == 0 {
		return Metrics{}
	}
	var ok int
	var nll float64
	for i, c := range r.correct {
		if c {
			ok++
		}
		nll -= r.ll[i]
	}
	return Metrics{
		Accuracy: 100 * (float64(ok) / float64(n)),
		NLL:      nll / float64(n),
		ECE:      ECE(r.conf, r.correct),
		AUROC:    AUROC(r.conf, r.correct),
	}
}

func checkLens(confidence []float64, correct []bool) {
	if len(confidence) != len(correct) {
		panic(fmt.Sprintf("eval: %d confidences but %d correctness flags", len(confidence), len(correct)))
	}
}

func checkLabel(y int32, k int) int {
	if y < 0 || int(y) >= k {
		panic(fmt.Sprintf("eval: label %d out of range [0,%d)", y, k))
	}
	return int(y)
}
