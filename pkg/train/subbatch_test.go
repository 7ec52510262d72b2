package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/bsam-dev/bsam/pkg/nn"
	"github.com/bsam-dev/bsam/pkg/nn/models"
	"github.com/bsam-dev/bsam/pkg/optim"
)

// bnConvNet is a small convolutional network with BatchNorm: conv 3×3 (8
// channels) → BatchNorm+ReLU → global mean pool → linear, on 8×8×3 input.
func bnConvNet(shard int) *nn.Net[float32] {
	build := func() []nn.Layer[float32] {
		return []nn.Layer[float32]{
			nn.NewConv2D[float32](nn.Conv2DConfig{Name: "conv", Out: 8, K: 3, Padding: nn.PadSame}),
			nn.NewBatchNorm[float32]("bn", true),
			nn.NewGlobalMeanPool[float32](),
			nn.NewLinear[float32]("fc", 10),
		}
	}
	return nn.NewNet(nn.Shape{H: 8, W: 8, C: 3}, 10, build, nn.NetOptions{ShardSize: shard})
}

type subBatchModel struct {
	name  string
	shard int
	build func() (*nn.Net[float32], error)
}

func subBatchModels() []subBatchModel {
	mnist := nn.Shape{H: 28, W: 28, C: 1}
	return []subBatchModel{
		// batch 32, m 8: sub-batches of 4, 2 shards each (1 for the MLP).
		{"bnconv", 2, func() (*nn.Net[float32], error) { return bnConvNet(2), nil }},
		{"lenet", 2, func() (*nn.Net[float32], error) {
			return models.New[float32]("lenet", mnist, 10, models.Options{NetOptions: nn.NetOptions{ShardSize: 2}})
		}},
		{"mlp", 4, func() (*nn.Net[float32], error) {
			return models.New[float32]("mlp", mnist, 10, models.Options{NetOptions: nn.NetOptions{ShardSize: 4}})
		}},
	}
}

// subBatchRun is the outcome of a few steps of one method.
type subBatchRun struct {
	losses        []float64
	params, state []float32 // optimizer parameters, network (BatchNorm) state
	opt           map[string][]float32
	slots         int // network clones built
}

// runSubBatchSteps trains 3 steps of method on fresh copies of the model
// with sub-batches run subBatches at a time (0: automatic).
func runSubBatchSteps(t *testing.T, m subBatchModel, method, bnUpdate string, subBatches int) subBatchRun {
	t.Helper()
	net, err := m.build()
	if err != nil {
		t.Fatal(err)
	}
	net.Init(rand.New(rand.NewPCG(3, 4)))
	const batch, split = 32, 8
	size := net.InShape().Size()
	r := rand.New(rand.NewPCG(5, 6))
	obj := &batchObjective{net: net, n: batch, size: size, bnUpdate: bnUpdate, subBatches: subBatches}
	h := optim.DefaultHyper()
	h.LR, h.Rho, h.PriorPrec, h.NTrain, h.BatchSplit = 0.05, 0.01, 25, 1000, split
	if method == optim.MethodBSAM {
		h.LR, h.Rho = 0.5, 0.001
	}
	opt, err := optim.New[float32](method, h, append([]float32(nil), net.Params()...), optim.NewRNGNoise[float32](9))
	if err != nil {
		t.Fatal(err)
	}
	var out subBatchRun
	for range 3 {
		obj.x = make([]float32, batch*size)
		for i := range obj.x {
			obj.x[i] = float32(r.NormFloat64())
		}
		obj.y = make([]int32, batch)
		for i := range obj.y {
			obj.y[i] = int32(r.IntN(10))
		}
		out.losses = append(out.losses, opt.Step(obj, 1))
	}
	out.params = append([]float32(nil), opt.Params()...)
	out.state = append([]float32(nil), net.State()...)
	out.opt = map[string][]float32{}
	for k, v := range opt.State() {
		out.opt[k] = append([]float32(nil), v...)
	}
	out.slots = len(obj.slots)
	return out
}

func sameBits(a, b []float32) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

// TestParallelSubBatchesMatchSequential trains a BatchNorm conv net, LeNet-5
// and the MLP for a few SAM-SGD, SAM-Adam and bSAM steps with the
// sub-batches run one after another (subBatches 1), and again at
// GOMAXPROCS 1, 2, 3 and 8 with the automatic number of concurrent
// sub-batches and with 3 and 8 forced (network clones, groups that do and
// do not divide m = 8): losses, parameters, optimizer state and the
// BatchNorm running statistics (bn_update official and once) must be
// bit-identical to the sequential run's.
func TestParallelSubBatchesMatchSequential(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, m := range subBatchModels() {
		for _, method := range []string{optim.MethodSAMSGD, optim.MethodSAMAdam, optim.MethodBSAM} {
			bnUpdates := []string{"official"}
			if m.name == "bnconv" {
				bnUpdates = append(bnUpdates, "once")
			}
			for _, bn := range bnUpdates {
				runtime.GOMAXPROCS(2)
				ref := runSubBatchSteps(t, m, method, bn, 1)
				if ref.slots != 0 {
					t.Fatalf("sequential run built %d clones", ref.slots)
				}
				for _, procs := range []int{1, 2, 3, 8} {
					runtime.GOMAXPROCS(procs)
					for _, sb := range []int{0, 3, 8} {
						name := fmt.Sprintf("%s/%s/%s/procs=%d/sub-batches=%d", m.name, method, bn, procs, sb)
						got := runSubBatchSteps(t, m, method, bn, sb)
						want := sb - 1
						if sb == 0 {
							want = optim.SubBatchConcurrency(8, SubBatchShards(32, 8, m.shard), procs) - 1
						}
						if got.slots != want {
							t.Errorf("%s: %d network clones, want %d", name, got.slots, want)
						}
						for i := range ref.losses {
							if got.losses[i] != ref.losses[i] {
								t.Errorf("%s: step %d loss %v, want %v", name, i, got.losses[i], ref.losses[i])
							}
						}
						if i := sameBits(got.params, ref.params); i >= 0 {
							t.Errorf("%s: parameter %d differs", name, i)
						}
						if i := sameBits(got.state, ref.state); i >= 0 {
							t.Errorf("%s: network state %d differs", name, i)
						}
						for k, v := range ref.opt {
							if i := sameBits(got.opt[k], v); i >= 0 {
								t.Errorf("%s: optimizer %s[%d] differs", name, k, i)
							}
						}
					}
				}
			}
		}
	}
}

// TestSubBatchShards checks the shard count of one sub-batch's pass.
func TestSubBatchShards(t *testing.T) {
	for _, c := range []struct{ batch, m, shard, want int }{
		{200, 8, 13, 2}, {128, 8, 8, 2}, {200, 8, 32, 1}, {200, 1, 13, 16}, {7, 8, 2, 1},
	} {
		if got := SubBatchShards(c.batch, c.m, c.shard); got != c.want {
			t.Errorf("SubBatchShards(%d, %d, %d) = %d, want %d", c.batch, c.m, c.shard, got, c.want)
		}
	}
}

// TestPhaseTasks checks bench's parallelism figures for ResNet-20-FRN at
// batch 200 (shard 13): 16 shard tasks for SGD and for bSAM (8 sub-batches
// × 2 shards) whatever the cores, of which GOMAXPROCS 2 runs 2 at a time
// (from 2 sub-batches in flight, two shard goroutines per core) and 16 runs
// all.
func TestPhaseTasks(t *testing.T) {
	for _, c := range []struct {
		phase               string
		procs               int
		tasks, sub, running int
	}{
		{"sgd", 2, 16, 0, 2}, {"sgd", 16, 16, 0, 16},
		{"bsam", 1, 16, 1, 1}, {"bsam", 2, 16, 2, 2}, {"bsam", 4, 16, 4, 4}, {"bsam", 16, 16, 8, 16}, {"bsam", 64, 16, 8, 16},
		{"eval", 3, 16, 0, 3},
	} {
		tasks, sub, running := phaseTasks(c.phase, 200, 13, 8, c.procs)
		if tasks != c.tasks || sub != c.sub || running != c.running {
			t.Errorf("%s at GOMAXPROCS %d: %d tasks, %d sub-batches, %d running; want %d, %d, %d", c.phase, c.procs, tasks, sub, running, c.tasks, c.sub, c.running)
		}
	}
}
