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
	f := newFZ[T]() // the FTZ/DAZ rule of the element-wise passes (vec.go)
	for i, wi := range w {
		m := f.add(f.add(f.mul(b1, gm[i]), g[i]), f.mul(delta, wi))
		gm[i] = m
		w[i] = f.sub(wi, f.mul(lr, m))
	}
	return loss
}
