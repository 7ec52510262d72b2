package nn

import "fmt"

// Linear is a fully connected layer y = x·W + b on flat inputs (Shape
// {1, 1, C}; put a Flatten in front of spatial activations). W is stored
// [in][out], the layout of haiku's Linear and of a 1×1 HWIO kernel.
// Parameters are named Name+".weight" and Name+".bias", like Conv2D's.
type Linear[T Float] struct {
	Name string // parameter scope; empty for none
	Out  int    // output features
	// WInit returns the weight initialiser for the fan-in; nil selects
	// haiku's default, HaikuDefault (TruncatedNormal(1/√fanIn)).
	WInit func(fanIn int) Init
	// BInit initialises the bias; the zero value is Const(0), haiku's default.
	BInit  Init
	NoBias bool

	in, wOff, bOff int
	w, b, dw, db   []T
	x              []T // the last Forward's input, owned by the layer before
	y, dx          []T
	bf16           bool // GEMMs with bf16 operands (see Precision)
}

// NewLinear returns a Linear layer with haiku's default initialisers.
func NewLinear[T Float](name string, out int) *Linear[T] {
	return &Linear[T]{Name: name, Out: out}
}

// Setup registers the weight W [in][out] and the bias b [out].
func (l *Linear[T]) Setup(b *Builder, in Shape) Shape {
	if in.H != 1 || in.W != 1 {
		panic(fmt.Sprintf("nn: Linear %q needs a flat input, got %v (add a Flatten)", l.Name, in))
	}
	l.in = in.C
	winit := HaikuDefault(l.in)
	if l.WInit != nil {
		winit = l.WInit(l.in)
	}
	if l.Name != "" {
		b.Push(l.Name)
		defer b.Pop()
	}
	l.wOff = b.Param("weight", []int{l.in, l.Out}, winit)
	if !l.NoBias {
		l.bOff = b.Param("bias", []int{l.Out}, l.BInit)
	}
	return Shape{1, 1, l.Out}
}

// Bind points W, b and their gradients into the flat buffers.
func (l *Linear[T]) Bind(params, grads, state []T) {
	nw := l.in * l.Out
	l.w, l.dw = params[l.wOff:l.wOff+nw], grads[l.wOff:l.wOff+nw]
	if !l.NoBias {
		l.b, l.db = params[l.bOff:l.bOff+l.Out], grads[l.bOff:l.bOff+l.Out]
	}
}

// Forward computes y = x·W + b for the ctx.N examples of x.
func (l *Linear[T]) Forward(ctx *Ctx, x []T) []T {
	n := ctx.N
	l.x = x[:n*l.in]
	l.y = growBuf(l.y, n*l.Out)
	linearForward(l.bf16, l.x, n, l.in, l.Out, l.w, l.b, l.y)
	return l.y
}

// Backward accumulates dW += xᵀ·dy, db += Σ dy and returns dx = dy·Wᵀ.
func (l *Linear[T]) Backward(ctx *Ctx, dy []T, needDX bool) []T {
	n := ctx.N
	var dx []T
	if needDX {
		l.dx = growBuf(l.dx, n*l.in)
		dx = l.dx
	}
	linearBackward(l.bf16, l.x, dy[:n*l.Out], n, l.in, l.Out, l.w, l.dw, l.db, dx)
	return dx
}

// Flatten turns an H×W×C activation into a flat vector of H·W·C features.
// In NHWC memory this is a no-op: Forward and Backward return their input.
type Flatten[T Float] struct{}

// Setup returns Shape{1, 1, H·W·C}.
func (Flatten[T]) Setup(b *Builder, in Shape) Shape { return Shape{1, 1, in.Size()} }

// Bind does nothing: Flatten has no parameters.
func (Flatten[T]) Bind(params, grads, state []T) {}

// Forward returns x unchanged.
func (Flatten[T]) Forward(ctx *Ctx, x []T) []T { return x }

// Backward returns dy unchanged (nil when needDX is false).
func (Flatten[T]) Backward(ctx *Ctx, dy []T, needDX bool) []T {
	if !needDX {
		return nil
	}
	return dy
}
