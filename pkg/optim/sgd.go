package optim

import "github.com/bsam-dev/bsam/pkg/nn"

// sgd is heavy-ball SGD without dampening (SPEC §1.2) and, with a SAM
// descent source, SAM-SGD (SPEC §1.3):
//
//	gm ← β₁·gm + g + δ·w
//	w  ← w − α·lrFactor·gm
type sgd[T nn.Float] struct {
	name  string
	lr    float64
	beta1 float64
	delta float64
	w, gm []T
	src   descent[T]
}

func newSGD[T nn.Float](name string, h Hyper, w []T, rho float64, m int) *sgd[T] {
	return &sgd[T]{
		name:  name,
		lr:    h.LR,
		beta1: h.Beta1,
		delta: h.Delta(),
		w:     w,
		gm:    make([]T, len(w)),
		src:   newDescent[T](rho, m, len(w)),
	}
}

// Name returns the method name (sgd or sam_sgd).
func (o *sgd[T]) Name() string { return o.name }

// Params returns the live parameters.
func (o *sgd[T]) Params() []T { return o.w }

// State returns {"gm": momentum buffer}.
func (o *sgd[T]) State() map[string][]T { return map[string][]T{"gm": o.gm} }

// Step performs one (SAM-)SGD update and returns the reported loss.
func (o *sgd[T]) Step(obj Objective[T], lrFactor float64) float64 {
	loss, g := o.src.grad(obj, o.w)
	w := o.w
	gm := o.gm[:len(w)]
	g = g[:len(w)]
	lr, b1, delta := T(o.lr*lrFactor), T(o.beta1), T(o.delta)
	// Plain arithmetic, with the stored state flushed to zero when it
	// falls below the smallest normal number: a state vector that decays
	// into the denormal range would slow every later step, while a
	// transient denormal inside one update costs a few cycles once. (Full
	// FTZ/DAZ emulation of every operation, as the vector kernels' Go
	// tails need, made this loop 15× slower: 0.2 s per ResNet-18 step.)
	f := newFZ[T]()
	for i, wi := range w {
		m := f.in(b1*gm[i] + g[i] + delta*wi)
		gm[i] = m
		w[i] = f.in(wi - lr*m)
	}
	return loss
}
