package optim

import "github.com/bsam-dev/bsam/pkg/nn"

// Objective evaluates the training loss of the current minibatch. The
// trainer implements it over a model and a batch; tests implement it over a
// small closed-form model.
type Objective[T nn.Float] interface {
	// Eval returns the mean loss on sub-batch k of m consecutive, equally
	// sized sub-batches of the current minibatch (m = 1: the whole
	// minibatch) at parameters theta, and its gradient. The gradient slice is
	// owned by the objective and valid until the next call. pass is 0 for the
	// first evaluation of sub-batch k within a step and 1 for the second
	// (SAM-type methods); the objective uses it to decide which evaluations
	// update BatchNorm running statistics. theta is owned by the optimizer,
	// which may overwrite it after Eval returns: the objective must not keep
	// it. When the objective implements [ParamsTarget], theta is its Target
	// buffer itself.
	Eval(theta []T, k, m, pass int) (loss float64, grad []T)
}

// ParamsTarget is an optional interface of an Objective: Target returns the
// buffer the model reads its parameters from (e.g. the network's parameter
// vector), with the length of the optimizer's parameter vector. When an
// objective implements it, the optimizers write every point they evaluate
// (θ_k and w + ε_k for bSAM, w and w + ε_k for SAM-type methods, w for SGD
// and Adam) directly into that buffer and pass the buffer itself to Eval,
// so the objective can skip copying theta (theta aliases its buffer). The
// optimizer still owns w: the buffer only ever holds a copy of w or a point
// derived from it, its contents after a step are unspecified, and anyone
// may overwrite it between steps. A Target of another length is ignored.
type ParamsTarget[T nn.Float] interface {
	Target() []T
}

// target returns obj's ParamsTarget buffer when it has n values, else nil.
func target[T nn.Float](obj Objective[T], n int) []T {
	if pt, ok := obj.(ParamsTarget[T]); ok {
		if t := pt.Target(); len(t) == n {
			return t
		}
	}
	return nil
}

// SampleNoise is a Noise that can also write a posterior sample
// dst = w + e·sd directly, e being the draw Normal(k, ·) would give, without
// storing e ([RNGNoise.Sample]). bSAM uses it when its noise source has it.
type SampleNoise[T nn.Float] interface {
	Noise[T]
	Sample(k int, dst, w, sd []T)
}

// Noise supplies the standard-normal draws of bSAM. Normal fills dst with
// the draw for sub-batch k of the current step; NextStep is called once at
// the end of every step.
type Noise[T nn.Float] interface {
	Normal(k int, dst []T)
	NextStep()
}

// Optimizer updates a flat parameter vector one minibatch at a time.
type Optimizer[T nn.Float] interface {
	// Name is the method's config name (sgd, sam_sgd, adam, sam_adam, bsam).
	Name() string
	// Params returns the current parameters w (bSAM: the posterior mean).
	// The slice aliases the live parameters; writing into it (e.g. when
	// restoring a checkpoint) changes them.
	Params() []T
	// Step performs one update with learning rate lr·lrFactor and returns
	// the reported training loss (loss at w, or for SAM-type methods the
	// mean over sub-batches of the loss at the perturbed point).
	Step(obj Objective[T], lrFactor float64) float64
	// State returns the optimizer's named state vectors (gm, m, v, s) for
	// checkpoints; the slices alias the live state. Restoring a checkpoint
	// means copying saved vectors into these slices (and, for a [Counter],
	// calling SetCount).
	State() map[string][]T
}

// Bayesian is an optimizer that maintains a diagonal Gaussian posterior
// q(θ) = N(w, diag(1/(N·s))) (bSAM, SPEC §1.4 and §4).
type Bayesian[T nn.Float] interface {
	Optimizer[T]
	// Precision returns the per-data-point precision s (aliases the live
	// state). The posterior variance is 1/(NData()·s).
	Precision() []T
	// NData returns N = ntrain·dafactor, the data count that scales the
	// posterior precision.
	NData() float64
}

// Counter is an optimizer with a scalar step count in its state (Adam and
// SAM-Adam, for bias correction). Checkpoints save Count and restore it with
// SetCount.
type Counter interface {
	// Count returns the number of steps taken so far.
	Count() int64
	// SetCount sets the number of steps taken so far.
	SetCount(n int64)
}

// Compile-time checks that the implementations satisfy the interfaces.
var (
	_ Optimizer[float32]       = (*sgd[float32])(nil)
	_ Optimizer[float32]       = (*adam[float32])(nil)
	_ Counter                  = (*adam[float32])(nil)
	_ Bayesian[float32]        = (*bsam[float32])(nil)
	_ SampleNoise[float32]     = (*RNGNoise[float32])(nil)
	_ Noise[float64]           = (*FixedNoise[float64])(nil)
	_ ConcurrentNoise[float32] = (*RNGNoise[float32])(nil)
	_ ConcurrentNoise[float64] = (*FixedNoise[float64])(nil)
)
