package nn

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// centerLayer subtracts the batch mean of every feature, combining the
// shards' partial sums through Ctx.Sync like BatchNorm does. It couples the
// examples of a batch, so a finite-difference check of a Net that contains
// it tests the cross-shard plumbing.
type centerLayer struct {
	size    int
	part, y []float64
	syncs   int
}

func (c *centerLayer) Setup(b *Builder, in Shape) Shape    { c.size = in.Size(); return in }
func (c *centerLayer) Bind(params, grads, state []float64) {}

// batchMean returns the mean over the whole batch of the rows of v.
func (c *centerLayer) batchMean(ctx *Ctx, v []float64) []float64 {
	c.part = growBuf(c.part, c.size)
	clear(c.part)
	for i := 0; i < ctx.N; i++ {
		for j, x := range v[i*c.size : (i+1)*c.size] {
			c.part[j] += x
		}
	}
	sum := c.part
	if ctx.Sync != nil {
		sum = ctx.Sync.AllReduce(ctx.Shard, c.part)
		c.syncs++
	}
	mean := make([]float64, len(sum))
	for j, s := range sum {
		mean[j] = s / float64(ctx.Total)
	}
	return mean
}

func (c *centerLayer) Forward(ctx *Ctx, x []float64) []float64 {
	mean := c.batchMean(ctx, x)
	c.y = growBuf(c.y, ctx.N*c.size)
	for i := range c.y {
		c.y[i] = x[i] - mean[i%c.size]
	}
	return c.y
}

func (c *centerLayer) Backward(ctx *Ctx, dy []float64, needDX bool) []float64 {
	mean := c.batchMean(ctx, dy)
	dx := make([]float64, ctx.N*c.size)
	for i := range dx {
		dx[i] = dy[i] - mean[i%c.size]
	}
	return dx
}

func smallNet(shardSize int) *Net[float64] {
	return NewNet(Shape{1, 2, 3}, 3, func() []Layer[float64] {
		return []Layer[float64]{
			Flatten[float64]{},
			&Linear[float64]{Name: "a", Out: 5, BInit: Const(0.05)},
			&centerLayer{},
			&ELU[float64]{},
			NewLinear[float64]("b", 4),
			&ReLU[float64]{},
			&Linear[float64]{Name: "c", Out: 3, WInit: HeNormal},
		}
	}, NetOptions{ShardSize: shardSize})
}

// TestNetFiniteDifferences checks LossGrad's gradient of the mean loss
// against central differences of its returned loss, for shard sizes that
// cut the batch evenly, unevenly and not at all.
func TestNetFiniteDifferences(t *testing.T) {
	const batch, h = 7, 1e-6
	rng := rand.New(rand.NewPCG(4, 4))
	x := make([]float64, batch*6)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	labels := make([]int32, batch)
	for i := range labels {
		labels[i] = int32(rng.IntN(3))
	}
	for _, shard := range []int{1, 3, 7, 32} {
		net := smallNet(shard)
		net.Init(rand.New(rand.NewPCG(5, 5)))
		p := net.Params()
		for i := range p { // wider than the init so ReLU units are active and inactive
			p[i] += 0.3 * rng.NormFloat64()
		}
		net.LossGrad(x, labels, batch, false)
		grad := append([]float64(nil), net.Grads()...)
		var worst float64
		for i := range p {
			old := p[i]
			p[i] = old + h
			lp := net.LossGrad(x, labels, batch, false)
			p[i] = old - h
			lm := net.LossGrad(x, labels, batch, false)
			p[i] = old
			fd := (lp - lm) / (2 * h)
			worst = max(worst, math.Abs(fd-grad[i])/(1e-3+math.Abs(fd)))
		}
		if worst > 1e-5 {
			t.Errorf("shard size %d: worst relative gradient error %g", shard, worst)
		}
		if c := net.reps[0].layers[2].(*centerLayer); shard < batch && c.syncs == 0 {
			t.Errorf("shard size %d: the batch-coupled layer never synchronised", shard)
		}
	}
}

// TestNetInit checks that Init draws tensor by tensor in buffer order from
// the registered initialisers.
func TestNetInit(t *testing.T) {
	net := smallNet(4)
	net.Init(rand.New(rand.NewPCG(6, 6)))
	r := rand.New(rand.NewPCG(6, 6))
	specs := net.ParamSpecs()
	wantNames := []string{"a.weight", "a.bias", "b.weight", "b.bias", "c.weight", "c.bias"}
	if len(specs) != len(wantNames) {
		t.Fatalf("got %d parameter tensors, want %d", len(specs), len(wantNames))
	}
	for i, s := range specs {
		if s.Name != wantNames[i] {
			t.Errorf("tensor %d is %q, want %q", i, s.Name, wantNames[i])
		}
		var init Init
		switch s.Name {
		case "a.weight":
			init = HaikuDefault(6)
		case "a.bias":
			init = Const(0.05)
		case "b.weight":
			init = HaikuDefault(5)
		case "c.weight":
			init = HeNormal(4)
		default:
			init = Const(0)
		}
		want := make([]float64, s.Size)
		FillInit(want, init, r)
		for j, v := range net.Params()[s.Offset : s.Offset+s.Size] {
			if v != want[j] {
				t.Fatalf("%s[%d] = %g, want %g", s.Name, j, v, want[j])
			}
		}
	}
}

// TestNetWorkersStop checks that the worker goroutines of a Net end once
// the Net is no longer referenced.
func TestNetWorkersStop(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		net := smallNet(1)
		x := make([]float64, 6*6)
		net.LossGrad(x, make([]int32, 6), 6, false) // five workers
		if n := runtime.NumGoroutine(); n < before+5 {
			t.Fatalf("%d goroutines while the net is alive, want at least %d", n, before+5)
		}
	}()
	for range 100 {
		runtime.GC()
		if runtime.NumGoroutine() <= before {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("%d goroutines after the net was dropped, %d before", runtime.NumGoroutine(), before)
}
