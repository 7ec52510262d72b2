package optim

import (
	"runtime"
	"sync"

	"github.com/bsam-dev/bsam/pkg/nn"
)

// Parallel sub-batches.
//
// A SAM-type step (SAM-SGD, SAM-Adam, bSAM) evaluates its m sub-batches
// independently: sub-batch k needs only w (and, for bSAM, sd, rs and its own
// noise draw e_k) for both of its passes,
//
//	pass 0 at w (SAM) or θ_k = w + e_k·sd (bSAM)  →  g_k
//	ε_k from g_k alone                              →  point w + ε_k
//	pass 1 at w + ε_k                               →  ℓ_k, g̃_k
//
// and the step only combines the sub-batches through sums over k:
// Σ_k ℓ_k, Σ_k g̃_k and, for bSAM, Σ_k |g_k|. So P sub-batches can run at
// once, each on an evaluator of its own (a SubBatchObjective slot: its own
// network, parameter buffer, activations and gradients), as long as the sums
// are formed in k order afterwards. Floating-point addition is not
// associative, so the order is what keeps the results bit-identical to the
// sequential loop: the sequential step computes
//
//	S = ((x_0 + x_1) + x_2) + … + x_{m−1}
//
// element by element, and the parallel step adds the same x_k, in the same
// order, into the same accumulator, only later (after the group of P
// sub-batches that produced them has finished). The values x_k themselves do
// not depend on which slot computed them: every slot's network computes with
// the same shard size, which alone fixes a pass's summation order.
//
// Schedule: groups of P consecutive sub-batches k0, …, k0+P−1, sub-batch
// k0+j on slot j, so sub-batch 0 always runs on slot 0, the objective itself,
// whose network holds the BatchNorm state that is checkpointed and
// evaluated (only sub-batch 0 updates it, SPEC §1.1). Slot 0 runs on the
// calling goroutine, slots 1…P−1 on worker goroutines that live as long as
// the optimizer. Per group, each slot runs pass 0 → perturbation → pass 1;
// when the whole group is done, the caller adds the group's values into the
// step's sums in k order. Between groups the slots' gradient slices stay
// valid (each slot's evaluator is called again only in the next group), so
// g̃_k is read from the evaluator's own buffer and needs no copy; only bSAM's
// |g_k| (pass 1 overwrites g_k) is kept in a per-slot buffer, for slots
// j ≥ 1 (slot 0 adds |g_{k0}| straight into the sum: every earlier
// sub-batch's term is in already).

// SubBatchObjective is an optional interface of an Objective whose
// sub-batches can be evaluated concurrently on several evaluators ("slots").
// The SAM-type optimizers use it when SubBatchSlots returns more than 1, and
// their results are bit-identical to evaluating on the objective alone.
type SubBatchObjective[T nn.Float] interface {
	Objective[T]
	// SubBatchSlots returns how many sub-batches of the current minibatch,
	// split into m, to evaluate at once (1: one after another). The
	// optimizer calls it once per step, before any Eval.
	SubBatchSlots(m int) int
	// SubBatchSlot returns evaluator j, 0 ≤ j < SubBatchSlots(m), of the
	// current minibatch; slot 0 is the objective itself. Different slots
	// must be safe to call concurrently and give, for the same arguments,
	// the same results; each may implement ParamsTarget with its own
	// buffer. The optimizer evaluates sub-batch 0 on slot 0 only.
	SubBatchSlot(j int) Objective[T]
}

// ConcurrentNoise is a Noise whose draws for different sub-batches of the
// current step can be taken concurrently, which bSAM needs to run its
// sub-batches in parallel.
type ConcurrentNoise[T nn.Float] interface {
	Noise[T]
	// SampleConcurrent writes the posterior sample dst = w + e·sd for the
	// draw e that Normal(k, ·) would give, on the calling goroutine. Calls
	// for different k may run concurrently with each other (not with
	// NextStep or SetStep).
	SampleConcurrent(k int, dst, w, sd []T)
}

// SubBatchConcurrency is the number of sub-batches of an m-sub-batch step
// that run at once when each sub-batch's pass has shards shards (each shard
// a goroutine of its own) and procs cores can run goroutines:
//
//	P = min(m, max(1, ⌊o·procs/shards⌋)),  o = 2 if shards > 1, else 1,
//
// then lowered to ⌈m/⌈m/P⌉⌉, the fewest slots that finish the step in the
// same number of groups (procs 6, shards 1, m 8: P 6 → 4, two groups of 4
// instead of 6 + 2). With several shards per pass, up to two shard
// goroutines per core (o = 2): a pass's shards wait for each other at every
// layer (BatchNorm's all-reduce, the shared Winograd kernels being filled,
// the gradient reduction) and for the optimizer's element-wise work between
// passes, and a second sub-batch's shards fill those waits. One shard per
// pass has no such waits, so one goroutine per core. Each slot beyond the
// first holds a network replica (parameters, gradients and the activations
// of its shards), so the memory grows with P only where there are cores, or
// waits, to use it: ResNet-20-FRN bSAM at batch 200 (2 shards per sub-batch) runs 2
// sub-batches at once on 2 cores. The slots only schedule: the step is
// bit-identical for every P.
func SubBatchConcurrency(m, shards, procs int) int {
	if m <= 1 {
		return 1
	}
	shards = max(shards, 1)
	o := 1
	if shards > 1 {
		o = 2
	}
	p := min(m, max(1, o*procs/shards))
	groups := (m + p - 1) / p
	return (m + groups - 1) / groups
}

// subSlot is the per-step state of one slot: its evaluator, the buffer its
// points are written into, and what its current sub-batch produced.
type subSlot[T nn.Float] struct {
	obj   Objective[T]
	point []T // the evaluator's Target, or own
	own   []T // the point buffer of an evaluator without Target
	tgt   bool
	abs   []T // bSAM: |g_k| of the current sub-batch (slots ≥ 1)
	loss  float64
	gt    []T // g̃_k, owned by obj
}

// subBatches holds the slots and worker goroutines of the parallel
// sub-batch loop of one optimizer; its zero value is ready to use.
type subBatches[T nn.Float] struct {
	slots []subSlot[T]
	k0    int // first sub-batch of the current group
	pool  *slotPool
}

// prepare returns how many sub-batches of an m-sub-batch step on obj to run
// at once, and when more than one, points slots 0…P−1 at the objective's
// evaluators (with n-value point buffers, and |g| buffers when abs).
func (s *subBatches[T]) prepare(obj Objective[T], n, m int, abs bool) int {
	sb, ok := obj.(SubBatchObjective[T])
	if !ok || m <= 1 {
		return 1
	}
	p := min(m, sb.SubBatchSlots(m))
	if p <= 1 {
		return 1
	}
	for len(s.slots) < p {
		s.slots = append(s.slots, subSlot[T]{})
	}
	for j := range s.slots[:p] {
		sl := &s.slots[j]
		sl.obj = sb.SubBatchSlot(j)
		sl.point, sl.tgt = target(sl.obj, n), true
		if sl.point == nil {
			if len(sl.own) != n {
				sl.own = make([]T, n)
			}
			sl.point, sl.tgt = sl.own, false
		}
		if abs && j > 0 && len(sl.abs) != n {
			sl.abs = make([]T, n)
		}
	}
	if s.pool == nil {
		s.pool = newSlotPool()
	}
	return p
}

// release drops the step's references to the objective's evaluators and
// buffers, so an optimizer kept between runs does not keep their networks.
func (s *subBatches[T]) release() {
	for j := range s.slots {
		sl := &s.slots[j]
		sl.obj, sl.point, sl.gt = nil, nil, nil
	}
}

// slotTask is the work of one group: runSlot(j) runs sub-batch k0+j on slot
// j.
type slotTask interface{ runSlot(j int) }

type slotMsg struct {
	task slotTask
	j    int
}

// slotPool runs the slots of a group: slot 0 on the calling goroutine, slot
// j ≥ 1 on worker goroutine j, started when first needed. The workers hold
// only their channel and the WaitGroup, never the optimizer, so an
// optimizer that is no longer used is collected and its workers end.
type slotPool struct {
	chans *slotChans
	wg    *sync.WaitGroup
}

type slotChans struct{ c []chan slotMsg }

func newSlotPool() *slotPool {
	p := &slotPool{chans: &slotChans{}, wg: &sync.WaitGroup{}}
	runtime.AddCleanup(p, func(cs *slotChans) {
		for _, c := range cs.c {
			close(c)
		}
	}, p.chans)
	return p
}

// run runs task.runSlot(j) for j = 0…p−1 concurrently and waits for all.
func (p *slotPool) run(task slotTask, n int) {
	for len(p.chans.c) < n-1 {
		c := make(chan slotMsg, 1)
		p.chans.c = append(p.chans.c, c)
		go slotWorker(c, p.wg)
	}
	p.wg.Add(n - 1)
	for j := 1; j < n; j++ {
		p.chans.c[j-1] <- slotMsg{task: task, j: j}
	}
	task.runSlot(0)
	p.wg.Wait()
}

func slotWorker(c chan slotMsg, wg *sync.WaitGroup) {
	for msg := range c {
		msg.task.runSlot(msg.j)
		wg.Done()
	}
}
