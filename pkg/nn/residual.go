package nn

// Chain runs layers one after another under one name scope; it is itself a
// Layer, so blocks can be built from chains.
type Chain[T Float] struct {
	Name   string // name scope of the sub-layers' parameters; empty for none
	Layers []Layer[T]
}

// NewChain returns a chain of layers under the name scope name.
func NewChain[T Float](name string, layers ...Layer[T]) *Chain[T] {
	return &Chain[T]{Name: name, Layers: layers}
}

// Setup sets up the layers in order inside the chain's name scope and
// fuses the neighbours that can hand tensors over in place (fuse.go).
func (c *Chain[T]) Setup(b *Builder, in Shape) Shape {
	if c.Name != "" {
		b.Push(c.Name)
	}
	for _, l := range c.Layers {
		in = l.Setup(b, in)
	}
	fuseChain(c.Layers)
	if c.Name != "" {
		b.Pop()
	}
	return in
}

// Bind binds every layer.
func (c *Chain[T]) Bind(params, grads, state []T) {
	for _, l := range c.Layers {
		l.Bind(params, grads, state)
	}
}

// Forward runs the layers in order.
func (c *Chain[T]) Forward(ctx *Ctx, x []T) []T {
	for _, l := range c.Layers {
		x = l.Forward(ctx, x)
	}
	return x
}

// Backward runs the layers in reverse order; only the first one is asked
// for dx according to needDX.
func (c *Chain[T]) Backward(ctx *Ctx, dy []T, needDX bool) []T {
	for i := len(c.Layers) - 1; i >= 0; i-- {
		dy = c.Layers[i].Backward(ctx, dy, i > 0 || needDX)
	}
	return dy
}

// dxAdder is a layer that can add a tensor into the dx of its next
// Backward (see Conv2D.addIntoDX).
type dxAdder[T Float] interface {
	addIntoDX(extra []T) bool
}

// addIntoDX passes the request to the first layer.
func (c *Chain[T]) addIntoDX(extra []T) bool {
	if len(c.Layers) == 0 {
		return false
	}
	a, ok := c.Layers[0].(dxAdder[T])
	return ok && a.addIntoDX(extra)
}

// Residual computes out = act(shortcut(x) + body(x)), where shortcut is
// the identity when nil and act is the identity or, with ReLU set,
// max(·, 0). Its sub-layers sit under the block's name scope.
type Residual[T Float] struct {
	Name     string
	Body     Layer[T]
	Shortcut Layer[T] // nil for the identity
	ReLU     bool

	in, out Shape
	y, dx   []T
	dsum    []T // gradient after the output ReLU
	maxN    int
}

// Setup sets up the body, then the shortcut, under the block's name scope.
func (r *Residual[T]) Setup(b *Builder, in Shape) Shape {
	if r.Name != "" {
		b.Push(r.Name)
	}
	r.in = in
	r.out = r.Body.Setup(b, in)
	sc := in
	if r.Shortcut != nil {
		sc = r.Shortcut.Setup(b, in)
	}
	if sc != r.out {
		panic("nn: residual block's shortcut and body shapes differ")
	}
	if r.Name != "" {
		b.Pop()
	}
	return r.out
}

// Bind binds the body and the shortcut.
func (r *Residual[T]) Bind(params, grads, state []T) {
	r.Body.Bind(params, grads, state)
	if r.Shortcut != nil {
		r.Shortcut.Bind(params, grads, state)
	}
}

// Forward adds the body's and the shortcut's outputs.
func (r *Residual[T]) Forward(ctx *Ctx, x []T) []T {
	n := ctx.N
	if n > r.maxN {
		r.maxN = n
		r.y = make([]T, n*r.out.Size())
		r.dx = make([]T, n*r.in.Size())
		if r.ReLU {
			r.dsum = make([]T, n*r.out.Size())
		}
	}
	body := r.Body.Forward(ctx, x)
	sc := x
	if r.Shortcut != nil {
		sc = r.Shortcut.Forward(ctx, x)
	}
	y := r.y[:n*r.out.Size()]
	if r.ReLU {
		reluAddTo(y, body, sc)
	} else {
		addTo(y, body, sc)
	}
	return y
}

// Backward sends the gradient through both branches and adds their dx.
func (r *Residual[T]) Backward(ctx *Ctx, dy []T, needDX bool) []T {
	n := ctx.N
	dy = dy[:n*r.out.Size()]
	if r.ReLU {
		d := r.dsum[:len(dy)]
		reluMask(d, dy, r.y[:len(dy)])
		dy = d
	}
	// With the identity shortcut, the body's first layer may add dy into
	// its dx as it writes it (one pass fewer, the same rounding).
	fused := false
	if r.Shortcut == nil && needDX {
		if a, ok := r.Body.(dxAdder[T]); ok {
			fused = a.addIntoDX(dy)
		}
	}
	dbody := r.Body.Backward(ctx, dy, needDX)
	dsc := dy
	if r.Shortcut != nil {
		dsc = r.Shortcut.Backward(ctx, dy, needDX)
	}
	if !needDX {
		return nil
	}
	if fused {
		return dbody
	}
	dx := r.dx[:n*r.in.Size()]
	addTo(dx, dbody, dsc)
	return dx
}

// NewFRNUnit returns conv(k, stride, SAME, bias, He init) → FRN/TLU under
// the name scope name, with sub-scopes "conv" and "frn" (ResNet-20-FRN).
func NewFRNUnit[T Float](name string, out, k, stride int) *Chain[T] {
	return NewChain(name,
		Layer[T](NewConv2D[T](Conv2DConfig{Name: "conv", Out: out, K: k, Stride: stride, Padding: PadSame, Bias: true, HeInit: true})),
		NewFRN[T]("frn"))
}

// NewFRNBlock returns the ResNet-20-FRN residual block of SPEC §3.1:
// layer1 = unit(3×3, stride), layer2 = unit(3×3), a shortcut unit(1×1,
// stride) when project is set (identity otherwise), out = shortcut + body.
func NewFRNBlock[T Float](name string, out, stride int, project bool) *Residual[T] {
	r := &Residual[T]{Name: name, Body: NewChain("",
		Layer[T](NewFRNUnit[T]("layer1", out, 3, stride)),
		NewFRNUnit[T]("layer2", out, 3, 1))}
	if project {
		r.Shortcut = NewFRNUnit[T]("shortcut", out, 1, stride)
	}
	return r
}

// NewBasicBlockV1 returns ResNet v1's post-activation basic block (SPEC
// §3.2): conv3×3(stride) → BN → ReLU → conv3×3 → BN, a shortcut 1×1
// conv(stride) → BN when project is set, out = ReLU(body + shortcut).
// Convolutions have no bias and haiku's default initialiser.
func NewBasicBlockV1[T Float](name string, out, stride int, project bool) *Residual[T] {
	conv := func(name string, k, s int) Layer[T] {
		return NewConv2D[T](Conv2DConfig{Name: name, Out: out, K: k, Stride: s, Padding: PadSame})
	}
	r := &Residual[T]{Name: name, ReLU: true, Body: NewChain("",
		conv("conv1", 3, stride), NewBatchNorm[T]("bn1", true),
		conv("conv2", 3, 1), NewBatchNorm[T]("bn2", false))}
	if project {
		r.Shortcut = NewChain("shortcut", conv("conv", 1, stride), NewBatchNorm[T]("bn", false))
	}
	return r
}

// eachLayer calls f for every layer among layers that is no Chain or
// Residual, looking into those (a Residual's body, then its shortcut).
func eachLayer[T Float](layers []Layer[T], f func(Layer[T])) {
	for _, l := range layers {
		switch v := l.(type) {
		case *Chain[T]:
			eachLayer(v.Layers, f)
		case *Residual[T]:
			eachLayer([]Layer[T]{v.Body}, f)
			if v.Shortcut != nil {
				eachLayer([]Layer[T]{v.Shortcut}, f)
			}
		default:
			f(l)
		}
	}
}
