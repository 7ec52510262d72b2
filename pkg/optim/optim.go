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
	// it.
	Eval(theta []T, k, m, pass int) (loss float64, grad []T)
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
	_ Optimizer[float32] = (*sgd[float32])(nil)
	_ Optimizer[float32] = (*adam[float32])(nil)
	_ Counter            = (*adam[float32])(nil)
	_ Bayesian[float32]  = (*bsam[float32])(nil)
	_ Noise[float32]     = (*RNGNoise[float32])(nil)
	_ Noise[float64]     = (*FixedNoise[float64])(nil)
)
