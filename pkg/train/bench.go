package train

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/bsam-dev/bsam/pkg/config"
	"github.com/bsam-dev/bsam/pkg/eval"
	"github.com/bsam-dev/bsam/pkg/kernels"
	"github.com/bsam-dev/bsam/pkg/nn"
	"github.com/bsam-dev/bsam/pkg/nn/models"
	"github.com/bsam-dev/bsam/pkg/optim"
)

// BenchOptions configure Bench.
type BenchOptions struct {
	Model      string
	Input      nn.Shape // zero: the model's usual input (28×28×1 or 32×32×3)
	Classes    int      // zero: 10
	Batch      int
	ShardSize  int
	BatchSplit int           // bSAM sub-batches (default 8)
	MinTime    time.Duration // measure each phase at least this long (after warm-up)
	// PeakTime is how long to time the SGEMM that estimates the machine's
	// peak (0: skip the estimate).
	PeakTime time.Duration
	// Precision of the convolution and linear GEMMs (nn.FP32 by default).
	Precision nn.Precision
	// Conv is the algorithm of the 3×3 stride-1 convolutions (nn.ConvDirect
	// by default).
	Conv nn.ConvAlgorithm
}

// BenchPhase is the measurement of one phase (an SGD step, a bSAM step, an
// evaluation forward pass).
type BenchPhase struct {
	Name          string  `json:"name"`
	Steps         int     `json:"steps"`
	SecondsPerOp  float64 `json:"seconds_per_step"`
	ImgPerSec     float64 `json:"img_per_s"`
	AllocsPerStep float64 `json:"allocs_per_step"` // heap allocations, in the least-allocating of up to three windows (measure)
	GFLOPs        float64 `json:"gflop_per_step"`  // counted GEMM work
	GFLOPS        float64 `json:"gflops"`          // achieved
	PeakShare     float64 `json:"peak_share"`      // achieved / machine peak (0 if unknown)
	// CeilingImgPerSec is the img/s this phase would reach if its GEMM work
	// ran at the machine's peak and everything else took no time: the
	// hardware's upper bound for this model and batch (0 if unknown).
	CeilingImgPerSec float64 `json:"ceiling_img_per_s"`
	// ParallelTasks is the number of independent shard tasks the step
	// exposes, the cores it can use given enough of them: the batch's
	// shards for SGD and evaluation, sub-batches × shards per sub-batch for
	// bSAM (whose m sub-batches run concurrently, optim.SubBatchConcurrency).
	ParallelTasks int `json:"parallel_tasks"`
	// ConcurrentSubBatches is how many of bSAM's sub-batches run at once at
	// this GOMAXPROCS (0 for phases without sub-batches).
	ConcurrentSubBatches int `json:"concurrent_sub_batches,omitempty"`
	// RunningTasks is how many shard tasks run at once at this GOMAXPROCS:
	// at most GOMAXPROCS and at most ParallelTasks.
	RunningTasks int `json:"running_tasks"`
}

// BenchResult is the outcome of Bench.
type BenchResult struct {
	Model      string       `json:"model"`
	Batch      int          `json:"batch"`
	Params     int          `json:"params"`
	GOMAXPROCS int          `json:"gomaxprocs"`
	KernelPath string       `json:"kernel_path"`
	Precision  string       `json:"precision"` // GEMM arithmetic: fp32 or bf16
	Conv       string       `json:"conv"`      // 3×3 convolution algorithm: direct or winograd
	CPU        string       `json:"cpu"`
	PeakGFLOPS float64      `json:"peak_gflops"` // SGEMM on all goroutines with the same kernels
	Phases     []BenchPhase `json:"phases"`
	// BSAMOverSGD is bSAM's step time over SGD's: the median of
	// BSAMOverSGDRounds, the ratios of the interleaved rounds
	// (measureInterleaved).
	BSAMOverSGD       float64   `json:"bsam_over_sgd"`
	BSAMOverSGDRounds []float64 `json:"bsam_over_sgd_rounds"`
	PeakRSSMB         float64   `json:"peak_rss_mb"`
}

// Bench times training steps of a model on random data: SGD, bSAM (two
// forward/backward passes per sub-batch plus its element-wise work) and an
// evaluation forward pass, after a warm-up.
func Bench(o BenchOptions) (*BenchResult, error) {
	net, x, y, err := benchSetup(&o)
	if err != nil {
		return nil, err
	}
	size := o.Input.Size()
	res := &BenchResult{Model: o.Model, Batch: o.Batch, Params: len(net.Params()), GOMAXPROCS: runtime.GOMAXPROCS(0),
		KernelPath: kernels.ActivePath().String(), CPU: cpuModel(), Precision: o.Precision.String(), Conv: o.Conv.String()}
	if o.PeakTime > 0 {
		// The ceiling of the arithmetic the run uses: bf16 GEMMs have their
		// own, about twice the float32 one.
		if o.Precision == nn.BF16 {
			res.PeakGFLOPS = kernels.PeakGFLOPSParallelBF16(o.PeakTime, runtime.GOMAXPROCS(0))
		} else {
			res.PeakGFLOPS = kernels.PeakGFLOPSParallel(o.PeakTime, runtime.GOMAXPROCS(0))
		}
	}
	obj := &batchObjective{net: net, x: x, y: y, n: o.Batch, size: size, bnUpdate: "official"}
	w0 := append([]float32(nil), net.Params()...)
	var steps [2]func()
	for i, method := range []string{"sgd", "bsam"} {
		opt, err := benchOptimizer(o, method, w0)
		if err != nil {
			return nil, err
		}
		steps[i] = func() { opt.Step(obj, 1) }
	}
	sgd, bsam, ratios := measureInterleaved(o, "sgd step", steps[0], "bsam step", steps[1])
	res.Phases = append(res.Phases, sgd, bsam)
	res.BSAMOverSGDRounds = ratios
	res.BSAMOverSGD = eval.Median(ratios)
	logits := make([]float32, o.Batch*o.Classes)
	res.Phases = append(res.Phases, measure("eval", o, func() { net.Logits(x, o.Batch, logits) }))
	if res.PeakGFLOPS > 0 {
		for i := range res.Phases {
			res.Phases[i].PeakShare = res.Phases[i].GFLOPS / res.PeakGFLOPS
			if g := res.Phases[i].GFLOPs; g > 0 {
				res.Phases[i].CeilingImgPerSec = float64(o.Batch) * res.PeakGFLOPS / g
			}
		}
	}
	procs := runtime.GOMAXPROCS(0)
	for i, name := range []string{"sgd", "bsam", "eval"} {
		res.Phases[i].ParallelTasks, res.Phases[i].ConcurrentSubBatches, res.Phases[i].RunningTasks = phaseTasks(name, o.Batch, o.ShardSize, o.BatchSplit, procs)
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		res.PeakRSSMB = float64(ru.Maxrss) / 1024 // Linux reports KiB
	}
	return res, nil
}

// benchOptimizer returns the optimizer of a bench phase ("sgd", "bsam")
// starting at w0, with its own noise source (whose generator goroutines
// follow the current GOMAXPROCS).
func benchOptimizer(o BenchOptions, method string, w0 []float32) (optim.Optimizer[float32], error) {
	h := optim.DefaultHyper()
	h.LR, h.Rho, h.PriorPrec, h.NTrain, h.BatchSplit = 1e-4, 1e-4, 25, 50000, o.BatchSplit
	if method == "sgd" {
		h.BatchSplit = 1
	}
	return optim.New[float32](method, h, w0, optim.NewRNGNoise[float32](7))
}

// ScalingPoint is the throughput of one step kind at one GOMAXPROCS.
type ScalingPoint struct {
	Phase         string  `json:"phase"`
	GOMAXPROCS    int     `json:"gomaxprocs"`
	ImgPerSec     float64 `json:"img_per_s"`
	Speedup       float64 `json:"speedup"`    // img/s over img/s at GOMAXPROCS 1
	Efficiency    float64 `json:"efficiency"` // speed-up / GOMAXPROCS
	ParallelTasks int     `json:"parallel_tasks"`
	RunningTasks  int     `json:"running_tasks"`
	// ConcurrentSubBatches is how many bSAM sub-batches ran at once.
	ConcurrentSubBatches int `json:"concurrent_sub_batches,omitempty"`
}

// ScalingResult is the outcome of BenchScaling.
type ScalingResult struct {
	Model      string         `json:"model"`
	Batch      int            `json:"batch"`
	ShardSize  int            `json:"shard_size"`
	CPUs       int            `json:"cpus"`
	KernelPath string         `json:"kernel_path"`
	CPU        string         `json:"cpu"`
	Points     []ScalingPoint `json:"points"`
	PeakRSSMB  float64        `json:"peak_rss_mb"`
}

// ScalingProcs returns the GOMAXPROCS values BenchScaling measures for cpus
// CPUs: 1, 2, 4, … below cpus, then cpus.
func ScalingProcs(cpus int) []int {
	var ps []int
	for p := 1; p < cpus; p *= 2 {
		ps = append(ps, p)
	}
	return append(ps, max(cpus, 1))
}

// BenchScaling times an SGD and a bSAM step (as Bench does) at each
// GOMAXPROCS of ScalingProcs(runtime.NumCPU()), each on a fresh objective
// and optimizer, and reports img/s, the speed-up over GOMAXPROCS 1 and the
// parallel efficiency (speed-up / GOMAXPROCS). GOMAXPROCS is restored
// afterwards.
func BenchScaling(o BenchOptions) (*ScalingResult, error) {
	net, x, y, err := benchSetup(&o)
	if err != nil {
		return nil, err
	}
	res := &ScalingResult{Model: o.Model, Batch: o.Batch, ShardSize: o.ShardSize, CPUs: runtime.NumCPU(),
		KernelPath: kernels.ActivePath().String(), CPU: cpuModel()}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	w0 := append([]float32(nil), net.Params()...)
	base := map[string]float64{}
	for _, procs := range ScalingProcs(res.CPUs) {
		runtime.GOMAXPROCS(procs)
		for _, method := range []string{"sgd", "bsam"} {
			obj := &batchObjective{net: net, x: x, y: y, n: o.Batch, size: o.Input.Size(), bnUpdate: "official"}
			opt, err := benchOptimizer(o, method, w0)
			if err != nil {
				return nil, err
			}
			ph := measure(method+" step", o, func() { opt.Step(obj, 1) })
			pt := ScalingPoint{Phase: ph.Name, GOMAXPROCS: procs, ImgPerSec: ph.ImgPerSec}
			pt.ParallelTasks, pt.ConcurrentSubBatches, pt.RunningTasks = phaseTasks(method, o.Batch, o.ShardSize, o.BatchSplit, procs)
			if procs == 1 {
				base[method] = ph.ImgPerSec
			}
			if b := base[method]; b > 0 {
				pt.Speedup = ph.ImgPerSec / b
				pt.Efficiency = pt.Speedup / float64(procs)
			}
			res.Points = append(res.Points, pt)
		}
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		res.PeakRSSMB = float64(ru.Maxrss) / 1024
	}
	return res, nil
}

// benchSetup fills in o's defaults and builds the model, initialised, and
// a random batch.
func benchSetup(o *BenchOptions) (*nn.Net[float32], []float32, []int32, error) {
	if o.Input == (nn.Shape{}) {
		o.Input = nn.Shape{H: 32, W: 32, C: 3}
		if o.Model == "mlp" || o.Model == "lenet" {
			o.Input = nn.Shape{H: 28, W: 28, C: 1}
		}
	}
	if o.Classes == 0 {
		o.Classes = 10
	}
	if o.BatchSplit == 0 {
		o.BatchSplit = 8
	}
	if o.Batch < o.BatchSplit || o.Batch%o.BatchSplit != 0 {
		return nil, nil, nil, fmt.Errorf("batch %d must be a positive multiple of batchsplit %d", o.Batch, o.BatchSplit)
	}
	if o.MinTime == 0 {
		o.MinTime = 3 * time.Second
	}
	if o.ShardSize == 0 {
		o.ShardSize = config.AutoShardSize(o.Model, o.Batch, o.BatchSplit)
	}
	net, err := models.New[float32](o.Model, o.Input, o.Classes, models.Options{NetOptions: nn.NetOptions{ShardSize: o.ShardSize, Precision: o.Precision, Conv: o.Conv}})
	if err != nil {
		return nil, nil, nil, err
	}
	r := rand.New(rand.NewPCG(1, 2))
	net.Init(r)
	size := o.Input.Size()
	x := make([]float32, o.Batch*size)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	y := make([]int32, o.Batch)
	for i := range y {
		y[i] = int32(r.IntN(o.Classes))
	}
	return net, x, y, nil
}

// phaseTasks returns the shard tasks a phase ("sgd", "bsam", "eval")
// exposes, the sub-batches that run at once and the shard tasks that run at
// once at GOMAXPROCS procs, for the batch, shard size and bSAM sub-batch
// count. A Net runs every shard of a pass on a goroutine of its own, so a
// pass of s shards runs min(s, procs) at once.
func phaseTasks(phase string, batch, shard, split, procs int) (tasks, sub, running int) {
	if phase != "bsam" || split <= 1 {
		tasks = (batch + shard - 1) / shard
		return tasks, 0, min(tasks, procs)
	}
	per := SubBatchShards(batch, split, shard)
	sub = optim.SubBatchConcurrency(split, per, procs)
	return split * per, sub, min(sub*per, procs)
}

// measure warms a phase up (5 runs, so that buffers and pools reach their
// steady size), then times it for at least MinTime and
// counts its allocations and GEMM work.
func measure(name string, o BenchOptions, step func()) BenchPhase {
	w := newPhaseWindow(name, step)
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	w.time(o.MinTime, 3)
	return w.result(o.Batch)
}

// benchRounds is how many windows measureInterleaved gives each phase.
const benchRounds = 6

// measureInterleaved measures two phases (the SGD and the bSAM step) in
// benchRounds alternating windows of MinTime/benchRounds each (at least
// one step), in the order a b, b a, a b, …, so that what disturbs a
// shared machine for a while lands on both. Each phase's time per step is
// over all its windows; the ratios are b's time per step over a's, one per
// round of two adjacent windows: their median is a steadier estimate of
// the ratio than two phases timed one after the other (on a noisy
// two-core host, single bSAM/SGD ratios scattered ±0.1 around a CPU-time
// ratio of 2.01).
func measureInterleaved(o BenchOptions, nameA string, stepA func(), nameB string, stepB func()) (a, b BenchPhase, ratios []float64) {
	wa, wb := newPhaseWindow(nameA, stepA), newPhaseWindow(nameB, stepB)
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	win := o.MinTime / benchRounds
	for r := 0; r < benchRounds; r++ {
		first, second := wa, wb
		if r%2 == 1 {
			first, second = wb, wa
		}
		s1, t1 := first.time(win, 1)
		s2, t2 := second.time(win, 1)
		ta, tb := t1/float64(s1), t2/float64(s2)
		if r%2 == 1 {
			ta, tb = tb, ta
		}
		ratios = append(ratios, tb/ta)
	}
	return wa.result(o.Batch), wb.result(o.Batch), ratios
}

// phaseWindow accumulates the timed windows of one phase.
type phaseWindow struct {
	name   string
	step   func()
	flops  float64
	steps  int
	el     float64 // seconds
	allocs uint64
}

// newPhaseWindow warms the phase up (5 runs, so that buffers and pools
// reach their steady size) and counts one step's GEMM work.
func newPhaseWindow(name string, step func()) *phaseWindow {
	for range 5 {
		step()
	}
	kernels.ResetFLOPs()
	kernels.CountFLOPs(true)
	step()
	kernels.CountFLOPs(false)
	return &phaseWindow{name: name, step: step, flops: float64(kernels.FLOPs())}
}

// time runs the phase for at least d and min steps, adds the window to
// the totals and returns its steps and seconds. The garbage collector must
// be off (the callers hold it off): a collection empties sync.Pools (the
// runtime's and the standard library's), and refilling them would be
// counted against the step although the step itself allocates nothing.
func (w *phaseWindow) time(d time.Duration, min int) (int, float64) {
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start := time.Now()
	n := 0
	for time.Since(start) < d || n < min {
		w.step()
		n++
	}
	el := time.Since(start).Seconds()
	runtime.ReadMemStats(&m1)
	w.steps += n
	w.el += el
	w.allocs += m1.Mallocs - m0.Mallocs
	return n, el
}

// result returns the phase's measurement. The Go runtime now and then
// allocates for itself while the steps run: a new OS thread for a
// goroutine that woke while the others were busy, its timer heap growing.
// That happens more on a loaded machine and is not the step's. A step that
// allocates does so in every window, so when the timed windows saw
// allocations, up to two more windows of as many steps are counted and the
// smallest count is kept.
func (w *phaseWindow) result(batch int) BenchPhase {
	allocs := w.allocs
	for retry := 0; retry < 2 && allocs > 0; retry++ {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		for range w.steps {
			w.step()
		}
		runtime.ReadMemStats(&m1)
		allocs = min(allocs, m1.Mallocs-m0.Mallocs)
	}
	p := BenchPhase{Name: w.name, Steps: w.steps, SecondsPerOp: w.el / float64(w.steps)}
	p.ImgPerSec = float64(batch) / p.SecondsPerOp
	p.AllocsPerStep = float64(allocs) / float64(w.steps)
	p.GFLOPs = w.flops / 1e9
	p.GFLOPS = p.GFLOPs / p.SecondsPerOp
	return p
}
