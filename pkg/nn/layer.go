package nn

import "fmt"

// Mode says how a forward pass runs.
type Mode struct {
	// Train selects training behaviour (BatchNorm uses batch statistics).
	Train bool
	// UpdateState lets BatchNorm update its running averages (Train only).
	UpdateState bool
}

// Ctx is what a layer replica knows about the pass it takes part in. A batch
// of Total examples is cut into fixed shards (their size does not depend on
// the number of CPUs) and each shard runs on its own replica of the layers;
// Start and N give this replica's examples. Layers that need statistics over
// the whole batch (BatchNorm) combine per-shard partial sums through Sync,
// always in shard order, so results do not depend on how many goroutines run.
type Ctx struct {
	Mode
	Shard, Shards int   // this replica's shard index and the shard count
	Start, N      int   // first example of the shard within the batch, and its count
	Total         int   // examples in the whole batch (the loss is a mean over them)
	Sync          *Sync // cross-shard reductions; nil when Shards == 1

	derived *derivedSet // buffers the pass's shards share (derived.go); nil: none
}

// Layer is one stage of a network, instantiated once per shard. Forward and
// Backward sit side by side in each implementation; buffers are allocated on
// first use for the largest batch seen and reused afterwards. The replicas of
// a layer run concurrently: during a pass they may only read the shared
// params and state; a layer that updates state (BatchNorm with UpdateState)
// does so from shard 0 only, with statistics combined through Ctx.Sync.
type Layer[T Float] interface {
	// Setup registers the layer's parameters and state with b and returns
	// the per-example output shape for the per-example input shape in. It
	// is called once per replica, always in the same order, so every
	// replica gets the same offsets.
	Setup(b *Builder, in Shape) Shape
	// Bind points the layer at the flat buffers: params and state are
	// shared by all replicas, grads is private to this replica. It may be
	// called again to re-point the buffers (Net binds a replica that has
	// only evaluated to a gradient buffer of its own when it first trains).
	Bind(params, grads, state []T)
	// Forward computes the output for ctx.N examples of x and returns it;
	// the slice is owned by the layer until its next Forward.
	Forward(ctx *Ctx, x []T) []T
	// Backward takes dL/dy for the last Forward, accumulates parameter
	// gradients into grads (+=) and returns dL/dx, owned by the layer, or
	// nil when needDX is false. A layer that implements gradWriter (Conv2D,
	// for its kernel) writes that range instead of adding into it: the
	// training pass zeroes only the rest, so summing micro-batches by
	// calling Backward twice is not supported.
	Backward(ctx *Ctx, dy []T, needDX bool) []T
}

// Builder hands out offsets in the flat parameter and state buffers while a
// model is assembled, and records how each parameter is initialised.
type Builder struct {
	params []ParamSpec
	inits  []Init
	size   int
	state  []StateSpec
	ssize  int
	prefix []string
}

// StateSpec names one non-trainable state vector (e.g. BatchNorm averages).
type StateSpec struct {
	Name   string
	Offset int
	Size   int
	Init   float64
}

// Push enters a name scope ("stack1.0"); Pop leaves it. Parameter names are
// the scopes joined by dots.
func (b *Builder) Push(name string) { b.prefix = append(b.prefix, name) }

// Pop leaves the innermost name scope.
func (b *Builder) Pop() { b.prefix = b.prefix[:len(b.prefix)-1] }

func (b *Builder) fullName(name string) string {
	s := ""
	for _, p := range b.prefix {
		s += p + "."
	}
	return s + name
}

// Param registers a parameter tensor and returns its offset.
func (b *Builder) Param(name string, shape []int, init Init) int {
	size := 1
	for _, d := range shape {
		if d <= 0 {
			panic(fmt.Sprintf("nn: parameter %s has shape %v", name, shape))
		}
		size *= d
	}
	off := b.size
	b.params = append(b.params, ParamSpec{Name: b.fullName(name), Shape: append([]int(nil), shape...), Offset: off, Size: size})
	b.inits = append(b.inits, init)
	b.size += size
	return off
}

// State registers a non-trainable state vector and returns its offset.
func (b *Builder) State(name string, size int, init float64) int {
	off := b.ssize
	b.state = append(b.state, StateSpec{Name: b.fullName(name), Offset: off, Size: size, Init: init})
	b.ssize += size
	return off
}

// NumParams returns the number of parameters registered so far.
func (b *Builder) NumParams() int { return b.size }

// NumState returns the size of the state registered so far.
func (b *Builder) NumState() int { return b.ssize }

// Specs returns the registered parameters in buffer order.
func (b *Builder) Specs() []ParamSpec { return b.params }

// Inits returns the initialiser of each registered parameter, in order.
func (b *Builder) Inits() []Init { return b.inits }

// StateSpecs returns the registered state vectors in buffer order.
func (b *Builder) StateSpecs() []StateSpec { return b.state }
