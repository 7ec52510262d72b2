package eval

import (
	"fmt"
	"math"
)

// Accumulator gathers the predictive distribution of a test loop batch by
// batch, for the point prediction (one sample) or the Bayesian model average
// over J parameter samples, and computes [Metrics] over all examples added.
//
// Per example it keeps only the max-probability, the correctness flag and the
// log-likelihood of the label; the probabilities themselves are discarded.
// Apart from appending those per-example values (amortised, and none at all
// after [Accumulator.Grow] or [Accumulator.Reset]), AddBatch does not
// allocate once its scratch buffers have grown to the batch's shape.
//
// The zero value is not usable; build one with [NewAccumulator]. An
// Accumulator is not safe for concurrent use.
type Accumulator struct {
	classes int
	rec     records

	nbatches int
	nllSum   float64 // Σ over batches of the batch's mean NLL (test.py's nll)

	pbar []float64 // Σ_j softmax_j of the current example, then the mean
	exps []float64 // exp(logit − max) of the current sample
	lps  []float64 // log softmax_j[label] for each sample j
}

// NewAccumulator returns an empty Accumulator for classes classes. It panics
// when classes < 1.
func NewAccumulator(classes int) *Accumulator {
	if classes < 1 {
		panic(fmt.Sprintf("eval: NewAccumulator: %d classes", classes))
	}
	return &Accumulator{
		classes: classes,
		pbar:    make([]float64, classes),
		exps:    make([]float64, classes),
	}
}

// Classes returns the number of classes the Accumulator was built for.
func (a *Accumulator) Classes() int { return a.classes }

// N returns the number of examples added so far.
func (a *Accumulator) N() int { return len(a.rec.conf) }

// Batches returns the number of batches added so far.
func (a *Accumulator) Batches() int { return a.nbatches }

// Grow reserves room for n more examples, so that adding them allocates
// nothing.
func (a *Accumulator) Grow(n int) { a.rec.grow(n) }

// Reset empties the Accumulator and keeps its storage.
func (a *Accumulator) Reset() {
	a.rec.reset()
	a.nbatches, a.nllSum = 0, 0
}

// AddBatch adds one test batch. sampleLogits holds J ≥ 1 entries, one per
// parameter sample, each the row-major n×K logits of the batch's n = len(labels)
// examples (K = Classes()); J = 1 is the point prediction. For each example
// the predictive distribution is p̄ = (1/J)·Σ_j softmax(logits_j) — probabilities
// are averaged, not logits — its first argmax is the prediction and its maximum
// the confidence. The log-likelihood is computed as test.py does,
// logsumexp_j(log softmax(logits_j)[y]) + log(1/J), which equals log p̄[y]
// without underflow. All arithmetic is float64. It panics when the shapes
// disagree or a label is out of range.
func (a *Accumulator) AddBatch(sampleLogits [][]float32, labels []int32) {
	addBatch(a, sampleLogits, labels)
}

// AddBatch64 is [Accumulator.AddBatch] for float64 logits.
func (a *Accumulator) AddBatch64(sampleLogits [][]float64, labels []int32) {
	addBatch(a, sampleLogits, labels)
}

func addBatch[T Float](a *Accumulator, sampleLogits [][]T, labels []int32) {
	J, n, K := len(sampleLogits), len(labels), a.classes
	if J == 0 {
		panic("eval: AddBatch: no samples")
	}
	for j, s := range sampleLogits {
		if len(s) != n*K {
			panic(fmt.Sprintf("eval: AddBatch: sample %d has %d logits, want %d×%d", j, len(s), n, K))
		}
	}
	if n == 0 {
		return
	}
	if cap(a.lps) < J {
		a.lps = make([]float64, J)
	}
	lps := a.lps[:J]
	pbar, exps := a.pbar, a.exps
	logJ := math.Log(float64(J))
	a.rec.grow(n)
	var batchNLL float64
	for i := range n {
		y := checkLabel(labels[i], K)
		clear(pbar)
		for j, s := range sampleLogits {
			row := s[i*K : (i+1)*K]
			m := float64(row[0])
			for _, x := range row[1:] {
				if v := float64(x); v > m {
					m = v
				}
			}
			var sum float64
			for k, x := range row {
				e := math.Exp(float64(x) - m)
				exps[k] = e
				sum += e
			}
			for k, e := range exps {
				pbar[k] += e / sum
			}
			lps[j] = float64(row[y]) - m - math.Log(sum)
		}
		if J > 1 {
			for k := range pbar {
				pbar[k] /= float64(J)
			}
		}
		ll := lps[0]
		if J > 1 {
			m := lps[0]
			for _, v := range lps[1:] {
				if v > m {
					m = v
				}
			}
			var s float64
			for _, v := range lps {
				s += math.Exp(v - m)
			}
			ll = m + math.Log(s) - logJ
		}
		pred, conf := argmax(pbar)
		a.rec.add(conf, pred == y, ll)
		batchNLL -= ll
	}
	a.nbatches++
	a.nllSum += batchNLL / float64(n)
}

// Metrics returns accuracy, true-mean NLL, ECE and AUROC over every example
// added so far (see the package documentation). With no examples it returns
// the zero Metrics.
func (a *Accumulator) Metrics() Metrics { return a.rec.metrics() }

// OfficialNLL returns the NLL as the official test.py reports it: the sum of
// the per-batch mean NLLs divided by the last batch index, Batches()−1. For
// equal batches this is the true mean times [OfficialNLLFactor]. It is NaN
// with fewer than two batches, where test.py divides by zero.
func (a *Accumulator) OfficialNLL() float64 {
	if a.nbatches < 2 {
		return math.NaN()
	}
	return a.nllSum / float64(a.nbatches-1)
}

// Reliability returns the NumBins reliability-diagram bins of the examples
// added so far; see [ReliabilityBins].
func (a *Accumulator) Reliability() []Bin {
	return ReliabilityBins(a.rec.conf, a.rec.correct)
}
