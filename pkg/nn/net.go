package nn

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
)

// NetOptions configures a Net.
type NetOptions struct {
	// ShardSize is the number of examples per shard (default 32). A batch
	// of n examples is cut into ⌈n/ShardSize⌉ shards whatever the number of
	// CPUs, so it fixes the summation order of every result.
	ShardSize int
	// Precision of the convolution and linear GEMMs (FP32 by default; see
	// Precision). Clones and shard replicas inherit it.
	Precision Precision
	// Conv is the algorithm of the 3×3 stride-1 convolutions (ConvDirect
	// by default; see ConvAlgorithm). Clones and shard replicas inherit it.
	Conv ConvAlgorithm
}

// DefaultShardSize is the shard size used when NetOptions.ShardSize is 0.
const DefaultShardSize = 32

// Net runs a sequence of layers as a Model. The layers are built once per
// shard replica; all replicas read the same Params and State and write
// their gradient partials into private buffers that are summed into Grads
// in shard order after the pass. Shard 0 runs on the caller's goroutine,
// every other shard on a worker goroutine of its own that lives as long as
// the Net. A Net runs one pass at a time: it is not safe for concurrent use.
type Net[T Float] struct {
	in      Shape
	classes int
	build   func() []Layer[T]
	shard   int // examples per shard

	params, grads, state []T
	specs                []ParamSpec
	inits                []Init
	stateSpecs           []StateSpec

	reps    []*replica[T] // reps[0] writes straight into grads
	syncs   []*Sync       // syncs[s] serves training passes with s shards
	pass    *pass[T]
	workers *workerSet
}

// pass is what the replicas of one forward/backward pass share. Replicas
// and worker goroutines point at it, never at the Net, so a Net that is no
// longer used can be collected and its workers stopped.
type pass[T Float] struct {
	x      []T
	labels []int32
	out    []T // Logits destination, n×classes
	n      int // examples in the batch
	shards int // ⌈n/shard⌉
	par    int // replicas taking part in an evaluation pass
	mode   Mode
	sync   *Sync
	// derived holds buffers derived from the parameters, made once per pass
	// and shared by its shards (derived.go).
	derived derivedSet
	grads   [][]T // gradient buffers of shards 0..shards−1, for the sum

	inSize, classes, shard int
	wg                     sync.WaitGroup
}

// Work a replica can be asked to do.
const (
	jobTrain  = iota // forward, loss and backward of shard r.index
	jobEval          // forward of shards r.index, r.index+par, …
	jobReduce        // sum the shards' gradients over this replica's slice of Grads
)

// replica is one copy of the layers with its own gradient buffer.
type replica[T Float] struct {
	index  int
	layers []Layer[T]
	grads  []T // nil while the replica has only evaluated
	// clear is the ranges of grads a training pass zeroes before its
	// backward pass adds into them (clearRanges); nil until the first.
	clear   [][2]int
	dlogits []T
	ctx     Ctx
	loss    float64
	pass    *pass[T]
	jobs    chan int
}

// workerSet holds the job channels of the worker goroutines; closing them
// (when the Net is collected) ends the workers.
type workerSet struct{ chans []chan int }

// NewNet assembles a network for per-example input shape in and the given
// number of classes. build is called once per shard replica and must return
// a fresh layer sequence with the same structure every time; its last layer
// must produce classes values per example. The parameters are zero until
// Init is called; State holds its initial values.
func NewNet[T Float](in Shape, classes int, build func() []Layer[T], o NetOptions) *Net[T] {
	if o.ShardSize <= 0 {
		o.ShardSize = DefaultShardSize
	}
	build = withEngine(build, o.Precision, o.Conv)
	layers := build()
	var b Builder
	out := Assemble(&b, in, layers)
	if out.Size() != classes {
		panic(fmt.Sprintf("nn: network output %v has %d values per example, want %d classes", out, out.Size(), classes))
	}
	n := &Net[T]{
		in:         in,
		classes:    classes,
		build:      build,
		shard:      o.ShardSize,
		params:     make([]T, b.NumParams()),
		grads:      make([]T, b.NumParams()),
		state:      make([]T, b.NumState()),
		specs:      b.Specs(),
		inits:      b.Inits(),
		stateSpecs: b.StateSpecs(),
		workers:    &workerSet{},
	}
	n.pass = &pass[T]{inSize: in.Size(), classes: classes, shard: o.ShardSize}
	n.resetState()
	for _, l := range layers {
		l.Bind(n.params, n.grads, n.state)
	}
	n.reps = []*replica[T]{{index: 0, layers: layers, grads: n.grads, pass: n.pass}}
	runtime.AddCleanup(n, func(w *workerSet) {
		for _, c := range w.chans {
			close(c)
		}
	}, n.workers)
	return n
}

// Clone returns a new Net with the same architecture and shard size whose
// parameters and state are copies of n's and which shares nothing mutable
// with n: its own parameter, gradient and state buffers, layers, replicas
// and worker goroutines. Clones of one Net can run passes concurrently with
// it and with each other (the m-sharpness sub-batches of a SAM-type step,
// train.batchObjective); a Clone computes exactly what n would at the same
// parameters, as results depend only on the shard size.
func (n *Net[T]) Clone() *Net[T] {
	c := NewNet(n.in, n.classes, n.build, NetOptions{ShardSize: n.shard})
	copy(c.params, n.params)
	copy(c.state, n.state)
	return c
}

// Assemble calls Setup on each layer in turn, feeding each the previous
// layer's output shape, and returns the shape of the last output.
func Assemble[T Float](b *Builder, in Shape, layers []Layer[T]) Shape {
	for _, l := range layers {
		in = l.Setup(b, in)
	}
	return in
}

// Init fills Params from the layers' initialisers, tensor by tensor in
// buffer order, drawing from r, and resets State to its initial values.
func (n *Net[T]) Init(r *rand.Rand) {
	for i, s := range n.specs {
		FillInit(n.params[s.Offset:s.Offset+s.Size], n.inits[i], r)
	}
	n.resetState()
}

func (n *Net[T]) resetState() {
	for _, s := range n.stateSpecs {
		FillInit(n.state[s.Offset:s.Offset+s.Size], Const(s.Init), nil)
	}
}

// Params returns the flat parameter buffer.
func (n *Net[T]) Params() []T { return n.params }

// Grads returns the flat gradient buffer written by LossGrad.
func (n *Net[T]) Grads() []T { return n.grads }

// State returns the flat non-trainable state.
func (n *Net[T]) State() []T { return n.state }

// ParamSpecs lists the parameter tensors in buffer order.
func (n *Net[T]) ParamSpecs() []ParamSpec { return n.specs }

// StateSpecs lists the state vectors in buffer order.
func (n *Net[T]) StateSpecs() []StateSpec { return n.stateSpecs }

// InShape returns the per-example input shape.
func (n *Net[T]) InShape() Shape { return n.in }

// NumClasses returns the number of logits per example.
func (n *Net[T]) NumClasses() int { return n.classes }

// ShardSize returns the number of examples per shard.
func (n *Net[T]) ShardSize() int { return n.shard }

// LossGrad runs a training pass on n examples and overwrites Grads with the
// gradient of the mean softmax cross-entropy, which it returns. Each shard's
// loss is scaled by 1/n before its backward pass, the shard partials are
// summed in shard order, and so are the per-shard losses.
func (n *Net[T]) LossGrad(x []T, labels []int32, batch int, updateState bool) float64 {
	if batch <= 0 {
		clear(n.grads)
		return 0
	}
	n.checkBatch(x, batch)
	if len(labels) < batch {
		panic(fmt.Sprintf("nn: LossGrad got %d labels for %d examples", len(labels), batch))
	}
	for _, y := range labels[:batch] {
		if y < 0 || int(y) >= n.classes {
			panic(fmt.Sprintf("nn: label %d outside [0, %d)", y, n.classes))
		}
	}
	shards := (batch + n.shard - 1) / n.shard
	n.ensureReplicas(shards, true)
	p := n.pass
	p.x, p.labels, p.out = x, labels, nil
	p.n, p.shards, p.par = batch, shards, shards
	p.mode = Mode{Train: true, UpdateState: updateState}
	p.sync = nil
	if shards > 1 {
		p.sync = n.syncs[shards]
	}
	p.derived.beginPass()
	n.run(jobTrain, shards)
	if shards > 1 {
		p.grads = p.grads[:0]
		for _, r := range n.reps[:shards] {
			p.grads = append(p.grads, r.grads)
		}
		n.run(jobReduce, shards)
	}
	var loss float64
	for _, r := range n.reps[:shards] {
		loss += r.loss
	}
	p.x, p.labels = nil, nil
	return loss / float64(batch)
}

// Logits runs an evaluation-mode forward pass on n examples and writes
// n×NumClasses() logits into out. The shards are the same as in LossGrad;
// as no statistics cross shards in evaluation, they are spread over at most
// max(replicas so far, GOMAXPROCS) goroutines, and each example's logits do
// not depend on how many.
func (n *Net[T]) Logits(x []T, batch int, out []T) {
	if batch <= 0 {
		return
	}
	n.checkBatch(x, batch)
	if len(out) < batch*n.classes {
		panic(fmt.Sprintf("nn: Logits output holds %d values, want %d", len(out), batch*n.classes))
	}
	shards := (batch + n.shard - 1) / n.shard
	par := min(shards, max(len(n.reps), runtime.GOMAXPROCS(0)))
	n.ensureReplicas(par, false)
	p := n.pass
	p.x, p.labels, p.out = x, nil, out
	p.n, p.shards, p.par = batch, shards, par
	p.mode = Mode{}
	p.sync = nil
	p.derived.beginPass()
	n.run(jobEval, par)
	p.x, p.out = nil, nil
}

func (n *Net[T]) checkBatch(x []T, batch int) {
	if len(x) < batch*n.in.Size() {
		panic(fmt.Sprintf("nn: input holds %d values, want %d examples of %v", len(x), batch, n.in))
	}
}

// run gives job to replicas 0..k−1, doing replica 0's share on the calling
// goroutine, and waits for all of them.
func (n *Net[T]) run(job, k int) {
	p := n.pass
	p.wg.Add(k - 1)
	for _, r := range n.reps[1:k] {
		r.jobs <- job
	}
	n.reps[0].do(job)
	p.wg.Wait()
}

// ensureReplicas makes sure replicas 0..k−1 exist (and, for training, have
// their own gradient buffers), and that a Sync exists for k shards.
func (n *Net[T]) ensureReplicas(k int, train bool) {
	for len(n.reps) < k {
		layers := n.build()
		var b Builder
		out := Assemble(&b, n.in, layers)
		if out.Size() != n.classes || b.NumParams() != len(n.params) || b.NumState() != len(n.state) ||
			!slices.EqualFunc(b.Specs(), n.specs, func(a, c ParamSpec) bool {
				return a.Name == c.Name && a.Offset == c.Offset && a.Size == c.Size
			}) {
			panic("nn: build returned a different network for another shard replica")
		}
		r := &replica[T]{index: len(n.reps), layers: layers, pass: n.pass, jobs: make(chan int, 1)}
		// Until it trains, the replica is bound to the shared Grads, which
		// an evaluation pass never writes.
		for _, l := range layers {
			l.Bind(n.params, n.grads, n.state)
		}
		n.reps = append(n.reps, r)
		n.workers.chans = append(n.workers.chans, r.jobs)
		go r.work()
	}
	if !train {
		return
	}
	for _, r := range n.reps[1:k] {
		if r.grads == nil {
			r.grads = make([]T, len(n.params))
			for _, l := range r.layers {
				l.Bind(n.params, r.grads, n.state)
			}
		}
	}
	for len(n.syncs) <= k {
		n.syncs = append(n.syncs, nil)
	}
	if k > 1 && n.syncs[k] == nil {
		n.syncs[k] = NewSync(k)
	}
}

// work is a worker goroutine's loop: it runs until the Net is collected and
// its job channel closed.
func (r *replica[T]) work() {
	for job := range r.jobs {
		r.do(job)
		r.pass.wg.Done()
	}
}

func (r *replica[T]) do(job int) {
	switch job {
	case jobTrain:
		r.train()
	case jobEval:
		for s := r.index; s < r.pass.shards; s += r.pass.par {
			r.eval(s)
		}
	case jobReduce:
		r.reduce()
	}
}

// setShard points the replica's Ctx at shard s of the current pass and
// returns the shard's input.
func (r *replica[T]) setShard(s int) []T {
	p := r.pass
	start := s * p.shard
	cnt := min(p.shard, p.n-start)
	r.ctx = Ctx{Mode: p.mode, Shard: s, Shards: p.shards, Start: start, N: cnt, Total: p.n, Sync: p.sync, derived: &p.derived}
	return p.x[start*p.inSize : (start+cnt)*p.inSize]
}

// train runs forward, loss and backward for the replica's own shard.
func (r *replica[T]) train() {
	p := r.pass
	h := r.setShard(r.index)
	if r.clear == nil {
		r.clear = clearRanges(r.layers, len(r.grads))
	}
	for _, c := range r.clear {
		clear(r.grads[c[0]:c[1]])
	}
	for _, l := range r.layers {
		h = l.Forward(&r.ctx, h)
	}
	cnt, k := r.ctx.N, p.classes
	r.dlogits = growBuf(r.dlogits, cnt*k)
	scale := T(1 / float64(p.n))
	r.loss = SoftmaxCrossEntropy(h, p.labels[r.ctx.Start:r.ctx.Start+cnt], cnt, k, scale, r.dlogits)
	d := r.dlogits
	for i := len(r.layers) - 1; i >= 0; i-- {
		d = r.layers[i].Backward(&r.ctx, d, i > 0)
	}
}

// eval runs the forward pass of shard s and copies its logits out.
func (r *replica[T]) eval(s int) {
	p := r.pass
	h := r.setShard(s)
	for _, l := range r.layers {
		h = l.Forward(&r.ctx, h)
	}
	k := p.classes
	copy(p.out[r.ctx.Start*k:(r.ctx.Start+r.ctx.N)*k], h[:r.ctx.N*k])
}

// reduce adds the gradients of shards 1, 2, … (in that order) into shard
// 0's buffer, which is Grads, over this replica's slice of the elements.
func (r *replica[T]) reduce() {
	p := r.pass
	size := len(p.grads[0])
	lo, hi := r.index*size/p.shards, (r.index+1)*size/p.shards
	dst := p.grads[0][lo:hi]
	for _, g := range p.grads[1:] {
		for i, v := range g[lo:hi] {
			dst[i] += v
		}
	}
}

// growBuf returns buf resliced to n elements, reallocated when too small.
// The contents are not preserved across a reallocation.
func growBuf[T Float](buf []T, n int) []T {
	if cap(buf) < n {
		return make([]T, n)
	}
	return buf[:n]
}

// gradWriter is a layer whose Backward writes, rather than adds into, the
// gradient range [off, off+n) in every training pass (Conv2D's kernel).
type gradWriter interface{ writtenGrads() (off, n int) }

// clearRanges returns the ranges of a gradient buffer of total values
// that a training pass must zero before its backward pass: all but those
// the layers write (gradWriter). For ResNet-18 that leaves only the
// normalisation and head parameters: zeroing its 45 MB of kernel
// gradients in every shard cost ~10% of a step's CPU time. It never
// returns nil (an empty list has a cap), so that it is computed once.
func clearRanges[T Float](layers []Layer[T], total int) [][2]int {
	var written [][2]int
	eachLayer(layers, func(l Layer[T]) {
		if g, ok := l.(gradWriter); ok {
			if off, n := g.writtenGrads(); n > 0 {
				written = append(written, [2]int{off, off + n})
			}
		}
	})
	slices.SortFunc(written, func(a, b [2]int) int { return a[0] - b[0] })
	out := make([][2]int, 0, len(written)+1)
	pos := 0
	for _, w := range written {
		if w[0] > pos {
			out = append(out, [2]int{pos, w[0]})
		}
		pos = max(pos, w[1])
	}
	if pos < total {
		out = append(out, [2]int{pos, total})
	}
	return out
}
