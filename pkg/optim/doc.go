// Package optim implements the optimizers of the bSAM benchmark over flat
// parameter vectors: heavy-ball SGD, SAM-SGD with m-sharpness, Adam,
// SAM-Adam and bSAM (Bayesian SAM), exactly as SPEC §1 describes the
// official code, plus the per-epoch learning-rate schedule of SPEC §2.1.
//
// Conventions shared by every optimizer (SPEC §1.1):
//
//   - N = ntrain·dafactor is the number of data points the posterior and
//     the prior are scaled by, and δ = priorprec/N is a coupled L2 term
//     added to the gradient of every parameter.
//   - An optimizer never sees a model: it evaluates an [Objective] at
//     parameter vectors of its choosing. SAM-type methods split the
//     minibatch into m = batchsplit consecutive sub-batches and evaluate
//     each twice (pass 0, then pass 1 at the perturbed point).
//   - The reported loss of a step is the loss at w (SGD, Adam) or the mean
//     over sub-batches of the loss at the perturbed point (SAM-SGD,
//     SAM-Adam, bSAM), evaluated before the update.
//   - The learning rate of a step is α·lrFactor; lrFactor comes from
//     [Schedule.Factor] and scales only the parameter step.
//
// SAM-SGD and SAM-Adam share one implementation of the m-sharpness
// gradient (SPEC §1.3 steps 1–4). bSAM draws its Gaussian noise from an
// injected [Noise] source ([RNGNoise] for training, [FixedNoise] for
// replaying reference draws) and exposes its posterior precision through
// [Bayesian]; [PosteriorSample] is the one formula for drawing from the
// posterior, used by the training noise and by test-time model averaging.
//
// An objective that evaluates the model from its own parameter buffer can
// implement [ParamsTarget]: the optimizers then write each evaluation point
// straight into that buffer instead of a scratch vector the objective would
// copy.
//
// An objective that can evaluate several sub-batches at once, on
// evaluators sharing nothing mutable, implements [SubBatchObjective]: the
// SAM-type methods then run P sub-batches concurrently (both passes and the
// perturbation of each on its own slot, [SubBatchConcurrency] gives P for
// the trainer) and add their results into the step's sums in sub-batch
// order, so the step is bit-identical to the sequential loop (parallel.go).
// bSAM needs a [ConcurrentNoise] source for it ([RNGNoise], [FixedNoise]).
//
// Every element-wise pass computes with denormals flushed to zero
// (FTZ/DAZ, as the GEMM kernels): the vector kernels set MXCSR, the Go
// loops flush explicitly in the same places (vec.go).
//
// Speed: a bSAM step's element-wise work is fused into few passes (one
// square root and one division per parameter per step; per sub-batch one
// pass that samples θ_k, one that forms w + ε_k and accumulates |g_k|, one
// that accumulates g̃_k). [RNGNoise] generates its normals with an
// AVX-512 ziggurat where the CPU has it, writing θ_k = w + e_k·σ chunk by
// chunk on a worker pool ([RNGNoise.Sample]), and the float32 element-wise
// loops of bSAM and SAM run as AVX-512 code with the same IEEE operations
// as the Go loops, so results do not depend on the CPU.
//
// Steps allocate nothing in steady state: all scratch vectors are
// allocated by [New].
package optim
