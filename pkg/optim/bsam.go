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
	par          subBatches[T]
	cn           ConcurrentNoise[T] // o.noise, during a parallel step
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
// objective's buffer. With a SubBatchObjective that offers more than one
// slot (and a ConcurrentNoise source), the sub-batches run concurrently,
// bit-identically (stepParallel).
func (o *bsam[T]) Step(obj Objective[T], lrFactor float64) float64 {
	w := o.w
	n := len(w)
	s := o.s[:n]
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
	m := o.m
	if cn, ok := o.noise.(ConcurrentNoise[T]); ok {
		if p := o.par.prepare(obj, n, m, true); p > 1 {
			return o.stepParallel(cn, p, lrFactor)
		}
	}
	sn, hasSample := o.noise.(SampleNoise[T])
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
	o.update(gt, lrFactor)
	return loss / float64(m)
}

// update applies the step's update, gt being the last sub-batch's g̃ and
// gsum, habs the sums over the others.
func (o *bsam[T]) update(gt []T, lrFactor float64) {
	n, m := len(o.w), o.m
	w, gm, s, sd := o.w, o.gm[:n], o.s[:n], o.sd[:n]
	gsum, habs := o.gsum[:n], o.habs[:n]
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
}

// stepParallel is the sub-batch loop of Step with p sub-batches at a time,
// one per SubBatchObjective slot (parallel.go). Slot j of a group runs
// sub-batch k = k0+j (runSlot): θ_k from the noise source on its own
// goroutine, pass 0, the point w + g_k·rs with |g_k| kept (slot 0 adds it
// into habs, whose earlier terms are all in; slot j ≥ 1 writes it into its
// own buffer), pass 1. When the group is done, its |g_k|, losses and g̃_k
// are added into habs, the loss and gsum in k order: the additions of the
// sequential loop, in its order, so the step is bit-identical to it.
func (o *bsam[T]) stepParallel(cn ConcurrentNoise[T], p int, lrFactor float64) float64 {
	n, m := len(o.w), o.m
	habs, gsum := o.habs[:n], o.gsum[:n]
	o.cn = cn
	var loss float64
	var gt []T
	for k0 := 0; k0 < m; k0 += p {
		cnt := min(p, m-k0)
		o.par.k0 = k0
		o.par.pool.run(o, cnt)
		for j, sl := range o.par.slots[:cnt] {
			k := k0 + j
			if j > 0 {
				accumulate(habs, sl.abs[:n], false)
			}
			loss += sl.loss
			gt = sl.gt
			if k < m-1 {
				accumulate(gsum, gt, k == 0)
			}
		}
	}
	// gt is the last sub-batch's g̃, still in its slot's gradient buffer.
	o.update(gt, lrFactor)
	o.par.release()
	o.cn = nil
	return loss / float64(m)
}

// runSlot runs sub-batch k0+j on slot j, as one iteration of Step's
// sequential loop (except that |g_k| of slots j ≥ 1 goes to the slot's own
// buffer).
func (o *bsam[T]) runSlot(j int) {
	w := o.w
	n := len(w)
	sl := &o.par.slots[j]
	k := o.par.k0 + j
	o.cn.SampleConcurrent(k, sl.point, w, o.sd[:n])
	_, g := sl.obj.Eval(sl.point, k, o.m, 0)
	if j == 0 {
		perturb(sl.point, w, g[:n], o.rs[:n], o.habs[:n], k == 0)
	} else {
		perturb(sl.point, w, g[:n], o.rs[:n], sl.abs[:n], true)
	}
	l, gt := sl.obj.Eval(sl.point, k, o.m, 1)
	sl.loss, sl.gt = l, gt[:n]
}
