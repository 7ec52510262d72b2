package optim

import (
	"math"

	"github.com/bsam-dev/bsam/pkg/nn"
)

// bsam is Bayesian SAM exactly as the official code runs it (SPEC §1.4).
// For each sub-batch k of m:
//
//	θ_k = w + e_k·sqrt(1/(N·s)),  e_k ~ N(0, I) from the Noise source
//	g_k = ∇ℓ_k(θ_k)
//	ε_k = ρ·g_k/s                  (elementwise, applied to the mean w;
//	                                computed as g_k·(ρ/s))
//	g̃_k = ∇ℓ_k(w + ε_k)
//
// then, in this order, with ḡ = mean_k g̃_k and h̄ = sqrt(s)·mean_k|g_k|:
//
//	gm ← β₁·gm + (1−β₁)·(ḡ + δ·w)
//	w  ← w − α·lrFactor·gm/s       (the old s)
//	s  ← β₂·s + (1−β₂)·(h̄ + γ + δ)
//
// There is no bias correction; lrFactor scales only the w step.
type bsam[T nn.Float] struct {
	lr           float64
	beta1, beta2 float64
	rho          float64
	damping      float64
	delta        float64
	ndata        float64
	m            int
	w, gm, s     []T
	noise        Noise[T]
	e            []T // e_k
	sd           []T // sqrt(1/(N·s)), once per step
	rs           []T // ρ/s, once per step
	point        []T // θ_k, then w + ε_k
	gsum         []T // Σ_k g̃_k
	habs         []T // Σ_k |g_k|
}

func newBSAM[T nn.Float](h Hyper, w []T, noise Noise[T]) *bsam[T] {
	n := len(w)
	s := make([]T, n)
	for i := range s {
		s[i] = T(h.SInit)
	}
	return &bsam[T]{
		lr:      h.LR,
		beta1:   h.Beta1,
		beta2:   h.Beta2,
		rho:     h.Rho,
		damping: h.Damping,
		delta:   h.Delta(),
		ndata:   h.NData(),
		m:       h.BatchSplit,
		w:       w,
		gm:      make([]T, n),
		s:       s,
		noise:   noise,
		e:       make([]T, n),
		sd:      make([]T, n),
		rs:      make([]T, n),
		point:   make([]T, n),
		gsum:    make([]T, n),
		habs:    make([]T, n),
	}
}

// Name returns "bsam".
func (o *bsam[T]) Name() string { return MethodBSAM }

// Params returns the live posterior mean w.
func (o *bsam[T]) Params() []T { return o.w }

// State returns {"gm": momentum, "s": precision}.
func (o *bsam[T]) State() map[string][]T { return map[string][]T{"gm": o.gm, "s": o.s} }

// Precision returns the live per-data-point precision s.
func (o *bsam[T]) Precision() []T { return o.s }

// NData returns N = ntrain·dafactor.
func (o *bsam[T]) NData() float64 { return o.ndata }

// Step performs one bSAM update and returns the mean over sub-batches of the
// loss at w + ε_k.
func (o *bsam[T]) Step(obj Objective[T], lrFactor float64) float64 {
	w := o.w
	n := len(w)
	s := o.s[:n]
	gm := o.gm[:n]
	e := o.e[:n]
	point := o.point[:n]
	gsum := o.gsum[:n]
	habs := o.habs[:n]
	sd := o.sd[:n]
	rs := o.rs[:n]
	// s is fixed during the sub-batch loop: compute its square roots and
	// reciprocals once per step, not once per sub-batch.
	PosteriorStd(sd, s, o.ndata)
	rho := T(o.rho)
	for i, si := range s {
		rs[i] = rho / si
	}
	var loss float64
	for k := 0; k < o.m; k++ {
		o.noise.Normal(k, e)
		PosteriorSampleStd(point, w, sd, e)
		_, g := obj.Eval(point, k, o.m, 0)
		g = g[:n]
		if k == 0 {
			for i, gi := range g {
				point[i] = w[i] + gi*rs[i]
				habs[i] = abs(gi)
			}
		} else {
			for i, gi := range g {
				point[i] = w[i] + gi*rs[i]
				habs[i] += abs(gi)
			}
		}
		l, gt := obj.Eval(point, k, o.m, 1)
		loss += l
		gt = gt[:n]
		if k == 0 {
			copy(gsum, gt)
		} else {
			for i, v := range gt {
				gsum[i] += v
			}
		}
	}
	inv := T(1 / float64(o.m))
	b1, c1 := T(o.beta1), T(1-o.beta1)
	b2, c2 := T(o.beta2), T(1-o.beta2)
	lr, delta := T(o.lr*lrFactor), T(o.delta)
	gd := T(o.damping + o.delta)
	for i, wi := range w {
		si := s[i]
		mi := b1*gm[i] + c1*(gsum[i]*inv+delta*wi)
		gm[i] = mi
		w[i] = wi - lr*mi/si
		h := T(math.Sqrt(float64(si))) * (habs[i] * inv)
		s[i] = b2*si + c2*(h+gd)
	}
	o.noise.NextStep()
	return loss / float64(o.m)
}

func abs[T nn.Float](x T) T {
	if x < 0 {
		return -x
	}
	return x
}
