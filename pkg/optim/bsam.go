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
	e            []T // e_k, for Noise sources without Sample
	sd           []T // sqrt(1/(N·s)), once per step
	rs           []T // ρ/s, once per step
	point        []T // θ_k, then w + ε_k (unless the objective has a Target)
	gsum         []T // Σ_{k<m−1} g̃_k
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
//
// The element-wise work is fused into few passes, in T arithmetic:
//
//   - once per step, sd = 1/sqrt(N·s) and rs = ρ·N·sd² (= ρ/s);
//   - per sub-batch, θ_k = w + e_k·sd (generated chunk by chunk by a
//     SampleNoise source, without storing e_k), then one pass writing
//     w + g_k·rs and accumulating |g_k|, then one accumulating g̃_k (the
//     last sub-batch's g̃ goes straight into the update);
//   - the update uses 1/s = N·sd² and sqrt(s) = sqrt(N)·s·sd, so a step
//     takes one square root and one division per parameter.
//
// With a ParamsTarget objective, θ_k and w + ε_k are written into the
// objective's buffer.
func (o *bsam[T]) Step(obj Objective[T], lrFactor float64) float64 {
	w := o.w
	n := len(w)
	s := o.s[:n]
	gm := o.gm[:n]
	point := o.point[:n]
	gsum := o.gsum[:n]
	habs := o.habs[:n]
	sd := o.sd[:n]
	rs := o.rs[:n]
	if t := target(obj, n); t != nil {
		point = t
	}
	// s is fixed during the sub-batch loop: compute its square roots and
	// reciprocals once per step, not once per sub-batch.
	nd := T(o.ndata)
	sdRs(sd, rs, s, nd, T(o.rho)*nd)
	sn, hasSample := o.noise.(SampleNoise[T])
	m := o.m
	var loss float64
	var gt []T
	for k := 0; k < m; k++ {
		if hasSample {
			sn.Sample(k, point, w, sd)
		} else {
			e := o.e[:n]
			o.noise.Normal(k, e)
			sampleStd(point, w, e, sd)
		}
		_, g := obj.Eval(point, k, m, 0)
		perturb(point, w, g[:n], rs, habs, k == 0)
		var l float64
		l, gt = obj.Eval(point, k, m, 1)
		loss += l
		gt = gt[:n]
		if k < m-1 {
			accumulate(gsum, gt, k == 0)
		}
	}
	// gsum holds Σ_{k<m−1} g̃_k (zero, never written, when m = 1).
	c := bsamCoef[T]{
		b1: T(o.beta1), c1: T(1 - o.beta1),
		b2: T(o.beta2), c2: T(1 - o.beta2),
		lrN:   T(o.lr * lrFactor * o.ndata),
		delta: T(o.delta),
		sqrtN: T(math.Sqrt(o.ndata)),
		gd:    T(o.damping + o.delta),
		inv:   T(1 / float64(m)),
	}
	bsamUpdate(w, gm, s, sd, gsum, gt, habs, &c)
	o.noise.NextStep()
	return loss / float64(m)
}
