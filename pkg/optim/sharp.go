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
func (d *descent[T]) grad(obj Objective[T], w []T) (float64, []T) {
	if d.rho == 0 {
		return obj.Eval(w, 0, 1, 0)
	}
	point := d.point[:len(w)]
	sum := d.sum[:len(w)]
	var loss float64
	for k := 0; k < d.m; k++ {
		_, g := obj.Eval(w, k, d.m, 0)
		g = g[:len(w)]
		norm := math.Sqrt(sumSquares(g))
		var scale T
		if norm > 0 {
			scale = T(d.rho / norm)
		}
		for i, wi := range w {
			point[i] = wi + scale*g[i]
		}
		l, gt := obj.Eval(point, k, d.m, 1)
		loss += l
		gt = gt[:len(w)]
		if k == 0 {
			copy(sum, gt)
			continue
		}
		for i, v := range gt {
			sum[i] += v
		}
	}
	inv := T(1 / float64(d.m))
	for i := range sum {
		sum[i] *= inv
	}
	return loss / float64(d.m), sum
}

// sumSquares returns Σ x_i² accumulated in float64 (four partial sums, so
// the adds do not form one long dependency chain).
func sumSquares[T nn.Float](x []T) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		a, b, c, d := float64(x[i]), float64(x[i+1]), float64(x[i+2]), float64(x[i+3])
		s0 += a * a
		s1 += b * b
		s2 += c * c
		s3 += d * d
	}
	for ; i < len(x); i++ {
		a := float64(x[i])
		s0 += a * a
	}
	return (s0 + s1) + (s2 + s3)
}
