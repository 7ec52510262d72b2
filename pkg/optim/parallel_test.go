package optim

import (
	"fmt"
	"math"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/bsam-dev/bsam/pkg/nn"
)

// slottedObjective is a softmaxReg objective offering p slots (separate
// softmaxReg instances over the same data and minibatch, so sharing nothing
// mutable), each with a Target buffer when targets is set. It records which
// slot evaluated which (k, pass).
type slottedObjective[T nn.Float] struct {
	slots   []*slotEval[T]
	p       int
	targets bool
}

type slotEval[T nn.Float] struct {
	reg   *softmaxReg[T]
	buf   []T // Target (nil: none)
	evals atomic.Int64
	k0    atomic.Int64 // evaluations of sub-batch 0
}

func (s *slotEval[T]) Eval(theta []T, k, m, pass int) (float64, []T) {
	s.evals.Add(1)
	if k == 0 {
		s.k0.Add(1)
	}
	if s.buf != nil && (len(theta) == 0 || &theta[0] != &s.buf[0]) {
		panic("slot evaluated a point outside its Target")
	}
	return s.reg.Eval(theta, k, m, pass)
}

type targetSlot[T nn.Float] struct{ *slotEval[T] }

func (s targetSlot[T]) Target() []T { return s.buf }

func newSlotted[T nn.Float](x [][]float64, y []int32, d, k, p, nparams int, targets bool) *slottedObjective[T] {
	o := &slottedObjective[T]{p: p, targets: targets}
	for range max(p, 1) {
		s := &slotEval[T]{reg: newSoftmaxReg[T](x, y, d, k)}
		if targets {
			s.buf = make([]T, nparams)
		}
		o.slots = append(o.slots, s)
	}
	return o
}

func (o *slottedObjective[T]) setBatch(rows []int) {
	for _, s := range o.slots {
		s.reg.setBatch(rows)
	}
}

func (o *slottedObjective[T]) slot(j int) Objective[T] {
	if o.targets {
		return targetSlot[T]{o.slots[j]}
	}
	return o.slots[j]
}

func (o *slottedObjective[T]) Eval(theta []T, k, m, pass int) (float64, []T) {
	return o.slots[0].Eval(theta, k, m, pass)
}
func (o *slottedObjective[T]) SubBatchSlots(m int) int         { return o.p }
func (o *slottedObjective[T]) SubBatchSlot(j int) Objective[T] { return o.slot(j) }

// targetSlotted is a slottedObjective whose slot 0 (the objective itself)
// has a Target too.
type targetSlotted[T nn.Float] struct{ *slottedObjective[T] }

func (o targetSlotted[T]) Target() []T { return o.slots[0].buf }

// TestParallelSubBatchesBitIdentical runs every SAM-type method for a few
// steps with its sub-batches evaluated one after another (a plain
// objective) and P at a time on P slots (P = 2, 3, m: groups that divide m
// and groups that do not), with and without Target buffers, at
// GOMAXPROCS 1, 2, 3 and 8, with the RNG noise and with fixed noise, in
// float32 (vector kernels plus their Go tails: 7·3+3 = 24 parameters) and
// float64 (Go loops): parameters, optimizer state and losses must be
// bit-identical, every slot must have been used and sub-batch 0 evaluated
// on slot 0 only.
func TestParallelSubBatchesBitIdentical(t *testing.T) {
	t.Run("float32", func(t *testing.T) { testParallelSubBatches[float32](t) })
	t.Run("float64", func(t *testing.T) { testParallelSubBatches[float64](t) })
}

func testParallelSubBatches[T nn.Float](t *testing.T) {
	const d, kk, ntrain, m = 7, 3, 48, 6
	x := make([][]float64, ntrain)
	y := make([]int32, ntrain)
	for i := range x {
		x[i] = make([]float64, d)
		for j := range x[i] {
			x[i][j] = math.Sin(float64(3*i+j)) + 0.1*float64(j)
		}
		y[i] = int32(i % kk)
	}
	batches := [][]int{}
	for s := range 4 {
		b := make([]int, 24)
		for i := range b {
			b[i] = (5*s + 7*i) % ntrain
		}
		batches = append(batches, b)
	}
	nparams := d*kk + kk
	w0 := make([]T, nparams)
	for i := range w0 {
		w0[i] = T(0.3 * math.Cos(float64(i)))
	}
	fixed := make([][][]T, len(batches))
	for s := range fixed {
		for k := range m {
			e := make([]T, nparams)
			for i := range e {
				e[i] = T(math.Sin(float64(100*s + 10*k + i)))
			}
			fixed[s] = append(fixed[s], e)
		}
	}
	noises := map[string]func() Noise[T]{
		"rng":   func() Noise[T] { return NewRNGNoise[T](11) },
		"fixed": func() Noise[T] { return NewFixedNoise(fixed) },
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, method := range []string{MethodSAMSGD, MethodSAMAdam, MethodBSAM} {
		for nname, newNoise := range noises {
			if nname == "fixed" && method != MethodBSAM {
				continue
			}
			h := validHyper()
			h.NTrain, h.BatchSplit, h.PriorPrec, h.Rho = ntrain, m, 1, 0.05
			ref, err := New(method, h, w0, newNoise())
			if err != nil {
				t.Fatal(err)
			}
			plain := newSoftmaxReg[T](x, y, d, kk)
			var refLoss []float64
			for s, b := range batches {
				plain.setBatch(b)
				refLoss = append(refLoss, ref.Step(plain, 0.5+0.1*float64(s)))
			}
			for _, procs := range []int{1, 2, 3, 8} {
				runtime.GOMAXPROCS(procs)
				for _, p := range []int{2, 3, m} {
					for _, targets := range []bool{false, true} {
						name := fmt.Sprintf("%s/%s/procs=%d/P=%d/target=%v", method, nname, procs, p, targets)
						opt, _ := New(method, h, w0, newNoise())
						so := newSlotted[T](x, y, d, kk, p, nparams, targets)
						var obj Objective[T] = so
						if targets {
							obj = targetSlotted[T]{so}
						}
						for s, b := range batches {
							so.setBatch(b)
							if l := opt.Step(obj, 0.5+0.1*float64(s)); l != refLoss[s] {
								t.Errorf("%s step %d: loss %v, want %v", name, s, l, refLoss[s])
							}
						}
						if err := closeTo(opt.Params(), toF64(ref.Params()), 0); err != nil {
							t.Errorf("%s: w differs: %v", name, err)
						}
						for sn, v := range ref.State() {
							if err := closeTo(opt.State()[sn], toF64(v), 0); err != nil {
								t.Errorf("%s: %s differs: %v", name, sn, err)
							}
						}
						for j, sl := range so.slots {
							if sl.evals.Load() == 0 {
								t.Errorf("%s: slot %d never evaluated", name, j)
							}
							if k0 := sl.k0.Load(); (j == 0) != (k0 > 0) {
								t.Errorf("%s: slot %d evaluated sub-batch 0 %d times", name, j, k0)
							}
						}
					}
				}
			}
		}
	}
}

// TestSubBatchConcurrency pins the rule for the number of concurrent
// sub-batches.
func TestSubBatchConcurrency(t *testing.T) {
	for _, c := range []struct{ m, shards, procs, want int }{
		{8, 2, 2, 2},  // ResNet-20-FRN at batch 200 on 2 cores: two shard goroutines per core
		{8, 2, 1, 1},  // fewer cores than shards
		{8, 2, 3, 3},  // ⌊6/2⌋ = 3: groups of 3, 3, 2
		{8, 2, 4, 4},  // 2 groups of 4
		{8, 2, 6, 4},  // ⌊12/2⌋ = 6 → 4: two groups either way
		{8, 2, 16, 8}, // 16 cores: all at once
		{8, 2, 64, 8}, // never more than m
		{8, 3, 2, 1},  // ⌊4/3⌋
		{8, 1, 2, 2},  // MLP: one shard per sub-batch, one goroutine per core
		{8, 1, 6, 4},  // 6 → 4: two groups either way
		{8, 1, 5, 4},  // 5 → 4: two groups either way
		{8, 1, 7, 4},  // 7 → 4
		{1, 1, 16, 1}, // no sub-batches
		{6, 4, 16, 6}, // ⌊32/4⌋ = 8, at most m
		{6, 4, 5, 2},  // ⌊10/4⌋ = 2: 3 groups of 2
	} {
		if got := SubBatchConcurrency(c.m, c.shards, c.procs); got != c.want {
			t.Errorf("SubBatchConcurrency(m=%d, shards=%d, procs=%d) = %d, want %d", c.m, c.shards, c.procs, got, c.want)
		}
	}
}

// TestSampleConcurrent checks that RNGNoise.SampleConcurrent, run for all
// sub-batches at once on goroutines of their own, writes exactly what
// Sample (generator goroutines) writes, over several chunks and a ragged
// tail, and that FixedNoise.SampleConcurrent equals Normal then
// PosteriorSampleStd.
func TestSampleConcurrent(t *testing.T) {
	n := 3*NoiseChunk + 37
	w := make([]float32, n)
	sd := make([]float32, n)
	for i := range w {
		w[i] = float32(math.Sin(float64(i)))
		sd[i] = float32(0.01 + 0.001*float64(i%13))
	}
	r := NewRNGNoise[float32](5)
	r.SetStep(3)
	const m = 8
	want := make([][]float32, m)
	for k := range want {
		want[k] = make([]float32, n)
		r.Sample(k, want[k], w, sd)
	}
	got := make([][]float32, m)
	done := make(chan int)
	for k := range got {
		got[k] = make([]float32, n)
		go func() { r.SampleConcurrent(k, got[k], w, sd); done <- k }()
	}
	for range m {
		<-done
	}
	for k := range got {
		if err := closeTo(got[k], toF64(want[k]), 0); err != nil {
			t.Errorf("sub-batch %d: %v", k, err)
		}
	}

	draws := [][][]float64{{{1, -2, 0.5}, {0.25, 3, -1}}}
	f := NewFixedNoise(draws)
	wf, sdf := []float64{1, 2, 3}, []float64{0.5, 0.25, 2}
	for k := range 2 {
		e := make([]float64, 3)
		f.Normal(k, e)
		ref := make([]float64, 3)
		PosteriorSampleStd(ref, wf, sdf, e)
		dst := make([]float64, 3)
		f.SampleConcurrent(k, dst, wf, sdf)
		if err := closeTo(dst, ref, 0); err != nil {
			t.Errorf("FixedNoise sub-batch %d: %v", k, err)
		}
	}
}
