package optim

import (
	"math"

	"github.com/bsam-dev/bsam/pkg/nn"
)

// adam is Adam with coupled L2 and bias correction (SPEC §1.7, suggested
// reproduction) and, with a SAM descent source, SAM-Adam. With d = ḡ + δ·w
// and t the step count after incrementing:
//
//	m ← β₁·m + (1−β₁)·d
//	v ← β₂·v + (1−β₂)·d²
//	w ← w − α·lrFactor·m̂/(√v̂ + ε),  m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)
type adam[T nn.Float] struct {
	name         string
	lr           float64
	beta1, beta2 float64
	eps          float64
	delta        float64
	count        int64
	w, m, v      []T
	src          descent[T]
}

func newAdam[T nn.Float](name string, h Hyper, w []T, rho float64, m int) *adam[T] {
	return &adam[T]{
		name:  name,
		lr:    h.LR,
		beta1: h.Beta1,
		beta2: h.Beta2,
		eps:   h.Eps,
		delta: h.Delta(),
		w:     w,
		m:     make([]T, len(w)),
		v:     make([]T, len(w)),
		src:   newDescent[T](rho, m, len(w)),
	}
}

// Name returns the method name (adam or sam_adam).
func (o *adam[T]) Name() string { return o.name }

// Params returns the live parameters.
func (o *adam[T]) Params() []T { return o.w }

// State returns {"m": first moment, "v": second moment}; the step count is
// available through Count.
func (o *adam[T]) State() map[string][]T { return map[string][]T{"m": o.m, "v": o.v} }

// Count returns the number of steps taken (the t of the bias correction).
func (o *adam[T]) Count() int64 { return o.count }

// SetCount restores the step count from a checkpoint.
func (o *adam[T]) SetCount(n int64) { o.count = n }

// Step performs one (SAM-)Adam update and returns the reported loss.
func (o *adam[T]) Step(obj Objective[T], lrFactor float64) float64 {
	loss, g := o.src.grad(obj, o.w)
	o.count++
	t := float64(o.count)
	bc1 := 1 - math.Pow(o.beta1, t)
	bc2 := 1 - math.Pow(o.beta2, t)
	w := o.w
	m := o.m[:len(w)]
	v := o.v[:len(w)]
	g = g[:len(w)]
	b1, b2 := T(o.beta1), T(o.beta2)
	c1, c2 := T(1-o.beta1), T(1-o.beta2)
	step := T(o.lr * lrFactor / bc1)
	invSqrtBC2 := T(1 / math.Sqrt(bc2))
	eps, delta := T(o.eps), T(o.delta)
	// The stored state is flushed to zero below the smallest normal
	// number: v decays by β₂ per step where the gradient is zero and would
	// otherwise spend thousands of steps in the denormal range, slowing
	// every operation on it (see sgd.go for why only the stores).
	f := newFZ[T]()
	for i, wi := range w {
		d := g[i] + delta*wi
		mi := f.in(b1*m[i] + c1*d)
		vi := f.in(b2*v[i] + c2*d*d)
		m[i] = mi
		v[i] = vi
		den := sqrtT(vi)*invSqrtBC2 + eps // √v̂ + ε, in T arithmetic
		w[i] = f.in(wi - step*mi/den)
	}
	return loss
}
