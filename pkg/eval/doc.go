// Package eval computes the evaluation metrics of "SAM as an Optimal
// Relaxation of Bayes" exactly as the official evaluation code (test.py and
// util.py of team-approx-bayes/bayesian-sam, SPEC §4) defines them, in
// float64:
//
//   - accuracy: argmax of the predictive probabilities against the label, in
//     percent, computed as 100·(correct/total);
//   - NLL: the true mean over all test examples of −log p(y|x). The official
//     script divides its sum of per-batch means by the last batch index
//     instead of the number of batches, which inflates the value by
//     nbatches/(nbatches−1) (50/49 on a 10,000-example test set with batches
//     of 200); that factor is not applied here, see [OfficialNLLFactor] and
//     [Accumulator.OfficialNLL] for reproducing it;
//   - ECE: 20 equal bins on [0,1] whose membership lo ≤ conf ≤ hi is closed on
//     both ends, so a confidence on an interior boundary k/20 counts in two
//     bins; see [ECE];
//   - AUROC: misclassification detection with the max-probability as score,
//     2499 thresholds and the trapezoid rule; see [AUROC].
//
// The predictive distribution is either the point prediction softmax(f(x; w))
// or the Bayesian model average (1/J)·Σ_j softmax(f(x; θ_j)) over J parameter
// samples. [Accumulator] gathers it batch by batch during the test loop, keeping
// only three numbers per example (max-probability, correctness and
// log-likelihood). [Compute] evaluates a full probability matrix at once, and
// [MeanStd] summarises a metric over seeds.
package eval
