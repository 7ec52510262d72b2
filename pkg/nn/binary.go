package nn

import "fmt"

// BinaryHead turns a network with one output f per example into a binary
// classifier for Net's softmax cross-entropy: it maps f to the two logits
// (0, f). The softmax of (0, f) is (1−σ(f), σ(f)), so class 1 has
// probability σ(f) = 1/(1+e^−f), and the cross-entropy of label y ∈ {0, 1}
// is log(1+eᶠ) − y·f: the logistic loss of a 1-output model (the loss of
// the official 2-D demo, demo2d.py). Put it after a Linear layer with
// Out 1 and build the Net with 2 classes.
type BinaryHead[T Float] struct {
	y, dx []T
}

// Setup checks that the input is one value per example and returns two.
func (h *BinaryHead[T]) Setup(b *Builder, in Shape) Shape {
	if in.Size() != 1 {
		panic(fmt.Sprintf("nn: BinaryHead needs one value per example, got %v", in))
	}
	return Shape{1, 1, 2}
}

// Bind does nothing: BinaryHead has no parameters.
func (h *BinaryHead[T]) Bind(params, grads, state []T) {}

// Forward writes the logits (0, f) of each example.
func (h *BinaryHead[T]) Forward(ctx *Ctx, x []T) []T {
	n := ctx.N
	h.y = growBuf(h.y, 2*n)
	for i, f := range x[:n] {
		h.y[2*i] = 0
		h.y[2*i+1] = f
	}
	return h.y
}

// Backward returns dL/df = dL/dlogit₁ (logit 0 is a constant).
func (h *BinaryHead[T]) Backward(ctx *Ctx, dy []T, needDX bool) []T {
	if !needDX {
		return nil
	}
	n := ctx.N
	h.dx = growBuf(h.dx, n)
	for i := range h.dx {
		h.dx[i] = dy[2*i+1]
	}
	return h.dx
}
