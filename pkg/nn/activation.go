package nn

import "math"

// ELU is the exponential linear unit with α = 1, applied element-wise:
// y = x for x > 0 and eˣ − 1 otherwise.
type ELU[T Float] struct {
	size  int
	y, dx []T
}

// Setup returns the input shape: ELU has no parameters.
func (e *ELU[T]) Setup(b *Builder, in Shape) Shape { e.size = in.Size(); return in }

// Bind does nothing: ELU has no parameters.
func (e *ELU[T]) Bind(params, grads, state []T) {}

// Forward computes y = elu(x) and keeps y for the backward pass.
func (e *ELU[T]) Forward(ctx *Ctx, x []T) []T {
	n := ctx.N * e.size
	e.y = growBuf(e.y, n)
	for i, v := range x[:n] {
		if v > 0 {
			e.y[i] = v
		} else {
			e.y[i] = T(expm1Neg(float64(v)))
		}
	}
	return e.y
}

// Backward returns dx = dy for y > 0 and dy·(y + 1) = dy·eˣ otherwise.
func (e *ELU[T]) Backward(ctx *Ctx, dy []T, needDX bool) []T {
	if !needDX {
		return nil
	}
	n := ctx.N * e.size
	e.dx = growBuf(e.dx, n)
	for i, y := range e.y[:n] {
		if y > 0 {
			e.dx[i] = dy[i]
		} else {
			e.dx[i] = dy[i] * (y + 1)
		}
	}
	return e.dx
}

// expm1Neg returns eˣ − 1 for x ≤ 0. Below −1/4 the subtraction cannot
// cancel, so the faster math.Exp is exact enough; closer to 0 it uses
// math.Expm1.
func expm1Neg(x float64) float64 {
	if x < -0.25 {
		return math.Exp(x) - 1
	}
	return math.Expm1(x)
}

// ReLU is the rectified linear unit y = max(x, 0); its derivative at 0 is
// taken as 0, as in JAX and PyTorch.
type ReLU[T Float] struct {
	size  int
	y, dx []T
}

// Setup returns the input shape: ReLU has no parameters.
func (r *ReLU[T]) Setup(b *Builder, in Shape) Shape { r.size = in.Size(); return in }

// Bind does nothing: ReLU has no parameters.
func (r *ReLU[T]) Bind(params, grads, state []T) {}

// Forward computes y = max(x, 0) and keeps y for the backward pass.
func (r *ReLU[T]) Forward(ctx *Ctx, x []T) []T {
	n := ctx.N * r.size
	r.y = growBuf(r.y, n)
	for i, v := range x[:n] {
		r.y[i] = max(v, 0)
	}
	return r.y
}

// Backward returns dx = dy where y > 0 and 0 elsewhere.
func (r *ReLU[T]) Backward(ctx *Ctx, dy []T, needDX bool) []T {
	if !needDX {
		return nil
	}
	n := ctx.N * r.size
	r.dx = growBuf(r.dx, n)
	for i, y := range r.y[:n] {
		if y > 0 {
			r.dx[i] = dy[i]
		} else {
			r.dx[i] = 0
		}
	}
	return r.dx
}
