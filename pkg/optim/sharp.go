package optim

import (
	"math"

	"github.com/bsam-dev/bsam/pkg/nn"
)

// descent computes the gradient a first-order step descends along: the plain
// minibatch gradient (rho = 0) or the m-sharpness SAM gradient of SPEC §1.3
// (rho > 0). It is the one implementation of SAM sub-batching, shared by
// SAM-SGD and SAM-Adam.
type descent[T nn.Float] struct {
	rho   float64
	m     int
	point []T // w + ε_k, rebuilt for each sub-batch
	sum   []T // ḡ = mean_k g̃_k
	par   subBatches[T]
	w     []T // the step's w, for runSlot
}

// newDescent returns the plain gradient source when rho is 0 and the SAM
// gradient over m sub-batches otherwise; n is the parameter count.
func newDescent[T nn.Float](rho float64, m, n int) descent[T] {
	if rho == 0 {
		return descent[T]{m: 1}
	}
	return descent[T]{rho: rho, m: m, point: make([]T, n), sum: make([]T, n)}
}

// grad returns the step's reported loss and descent gradient at w. The plain
// gradient is the objective's own slice (valid until its next Eval).
//
// SAM (SPEC §1.3), for each sub-batch k: g_k = ∇ℓ_k(w); ε_k = ρ·g_k/‖g_k‖
// with the global L2 norm accumulated in float64; g̃_k = ∇ℓ_k(w + ε_k).
// It returns ḡ = mean_k g̃_k and the mean of the losses at w + ε_k. A zero
// g_k gives ε_k = 0 (the official code would divide by zero).
//
// With a ParamsTarget objective, every point is written into the target:
// w is copied there for each sub-batch's first pass (the second pass
// leaves w + ε_k there), so Eval always receives the target itself. With a
// SubBatchObjective that offers more than one slot, the sub-batches run
// concurrently, bit-identically (gradParallel).
func (d *descent[T]) grad(obj Objective[T], w []T) (float64, []T) {
	n := len(w)
	tgt := target(obj, n)
	if d.rho == 0 {
		if tgt == nil {
			return obj.Eval(w, 0, 1, 0)
		}
		copy(tgt, w)
		return obj.Eval(tgt, 0, 1, 0)
	}
	if p := d.par.prepare(obj, n, d.m, false); p > 1 {
		return d.gradParallel(w, p)
	}
	point, at := d.point[:n], w // w + ε_k; where pass 0 evaluates
	if tgt != nil {
		point, at = tgt, tgt
		copy(tgt, w)
	}
	sum := d.sum[:n]
	m := d.m
	var loss float64
	var gt []T
	for k := 0; k < m; k++ {
		_, g := obj.Eval(at, k, m, 0)
		g = g[:n]
		norm := math.Sqrt(sumSquares(g))
		var scale T
		if norm > 0 {
			scale = T(d.rho / norm)
		}
		scaleAdd(point, w, g, scale)
		var l float64
		l, gt = obj.Eval(point, k, m, 1)
		loss += l
		gt = gt[:n]
		if k == m-1 {
			break
		}
		accumulate(sum, gt, k == 0)
		if tgt != nil {
			copy(tgt, w) // w for the next pass 0
		}
	}
	return loss / float64(m), d.mean(gt)
}

// mean adds the last sub-batch's g̃ to sum, which holds Σ_{k<m−1} g̃_k, and
// averages, in one pass.
func (d *descent[T]) mean(gt []T) []T {
	sum := d.sum[:len(gt)]
	inv := T(1 / float64(d.m))
	f := newFZ[T]() // the rule of the element-wise passes (vec.go)
	if d.m == 1 {
		for i, v := range gt {
			sum[i] = f.mul(v, inv)
		}
	} else {
		for i, v := range gt {
			sum[i] = f.mul(f.add(sum[i], v), inv)
		}
	}
	return sum
}

// gradParallel is the SAM loop of grad with p sub-batches at a time, one
// per SubBatchObjective slot (parallel.go): each slot runs its sub-batch's
// two passes (runSlot), then the group's losses and g̃_k are added into
// the step's sums in k order, as the sequential loop adds them, so the
// result is bit-identical to it.
func (d *descent[T]) gradParallel(w []T, p int) (float64, []T) {
	n, m := len(w), d.m
	sum := d.sum[:n]
	d.w = w
	var loss float64
	var gt []T
	for k0 := 0; k0 < m; k0 += p {
		cnt := min(p, m-k0)
		d.par.k0 = k0
		d.par.pool.run(d, cnt)
		for j, sl := range d.par.slots[:cnt] {
			k := k0 + j
			loss += sl.loss
			gt = sl.gt
			if k < m-1 {
				accumulate(sum, gt, k == 0)
			}
		}
	}
	// gt is the last sub-batch's g̃, still in its slot's gradient buffer.
	g := d.mean(gt)
	d.par.release()
	d.w = nil
	return loss / float64(m), g
}

// runSlot runs sub-batch k0+j on slot j: g_k at w, ε_k = ρ·g_k/‖g_k‖ and
// ℓ_k, g̃_k at w + ε_k, exactly as grad's sequential loop.
func (d *descent[T]) runSlot(j int) {
	w := d.w
	n := len(w)
	sl := &d.par.slots[j]
	k := d.par.k0 + j
	at := w
	if sl.tgt {
		copy(sl.point, w)
		at = sl.point
	}
	_, g := sl.obj.Eval(at, k, d.m, 0)
	g = g[:n]
	norm := math.Sqrt(sumSquares(g))
	var scale T
	if norm > 0 {
		scale = T(d.rho / norm)
	}
	scaleAdd(sl.point, w, g, scale)
	l, gt := sl.obj.Eval(sl.point, k, d.m, 1)
	sl.loss, sl.gt = l, gt[:n]
}

// sumSquares returns Σ x_i² accumulated in float64: sixteen partial sums,
// partial l over the i ≡ l (mod 16), added in order at the end (the same
// order in Go and in vector code, so the result does not depend on the
// CPU).
func sumSquares[T nn.Float](x []T) float64 {
	var p [16]float64
	i := 0
	if x32, ok := f32(x); ok {
		i = vecSumSquares(x32, &p)
	}
	// The vector code converts under DAZ (vec.go): a denormal x_i adds 0.
	f := newFZ[T]()
	for ; i+16 <= len(x); i += 16 {
		b := x[i : i+16]
		for l := range p {
			v := float64(f.in(b[l]))
			p[l] += v * v
		}
	}
	for ; i < len(x); i++ {
		v := float64(f.in(x[i]))
		p[i&15] += v * v
	}
	var s float64
	for _, v := range p {
		s += v
	}
	return s
}
