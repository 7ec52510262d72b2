package train

import (
	"runtime"

	"github.com/bsam-dev/bsam/pkg/nn"
	"github.com/bsam-dev/bsam/pkg/optim"
)

// Parallel sub-batches (optim/parallel.go): batchObjective is an
// optim.SubBatchObjective whose slot 0 is itself, on the session's network,
// and whose slot j ≥ 1 is the same minibatch on a clone of that network
// (nn.Net.Clone: its own parameters, gradients, activations and shard
// goroutines). The clones are built the first time a step asks for them
// and reused by every later step, so their buffers are allocated once.
// Sub-batch 0 always runs on slot 0, so the BatchNorm running statistics
// that are checkpointed and evaluated are the session network's, updated
// exactly as in a sequential step; the clones' statistics are never used
// (a training pass normalises with the batch's own statistics).

// SubBatchShards returns the shards of one sub-batch's pass when a batch of
// batch examples is split into m sub-batches with shard examples per shard:
// ⌈⌈batch/m⌉/shard⌉.
func SubBatchShards(batch, m, shard int) int {
	m, shard = max(m, 1), max(shard, 1)
	sub := (batch + m - 1) / m
	return max((sub+shard-1)/shard, 1)
}

// SubBatchSlots returns how many of the m sub-batches run at once (see
// batchObjective.subBatches), building the network clones this needs.
func (o *batchObjective) SubBatchSlots(m int) int {
	p := o.subBatches
	if p == 0 {
		p = optim.SubBatchConcurrency(m, SubBatchShards(o.n, m, o.net.ShardSize()), runtime.GOMAXPROCS(0))
	}
	p = max(1, min(p, m))
	for len(o.slots) < p-1 {
		o.slots = append(o.slots, &slotObjective{parent: o, net: o.net.Clone()})
	}
	return p
}

// SubBatchSlot returns evaluator j: the objective itself for j = 0, else
// the minibatch on network clone j.
func (o *batchObjective) SubBatchSlot(j int) optim.Objective[float32] {
	if j == 0 {
		return o
	}
	return o.slots[j-1]
}

// slotObjective evaluates the parent's current minibatch on a network clone.
type slotObjective struct {
	parent *batchObjective
	net    *nn.Net[float32]
}

// Target is the clone's parameter buffer (optim.ParamsTarget).
func (o *slotObjective) Target() []float32 { return o.net.Params() }

// Eval is the parent's Eval on the clone.
func (o *slotObjective) Eval(theta []float32, k, m, pass int) (float64, []float32) {
	return o.parent.evalOn(o.net, theta, k, m, pass)
}

var _ optim.SubBatchObjective[float32] = (*batchObjective)(nil)
