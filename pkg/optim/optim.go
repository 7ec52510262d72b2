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
	// update BatchNorm running statistics.
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
	Params() []T
	// Step performs one update with learning rate lr·lrFactor and returns
	// the reported training loss (loss at w, or for SAM-type methods the
	// mean over sub-batches of the loss at the perturbed point).
	Step(obj Objective[T], lrFactor float64) float64
	// State returns the optimizer's named state vectors (gm, m, v, s) for
	// checkpoints; the slices alias the live state.
	State() map[string][]T
}
