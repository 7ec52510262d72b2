package cli

import (
	"encoding/json"
	"fmt"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bsam-dev/bsam/pkg/config"
	"github.com/bsam-dev/bsam/pkg/nn"
	"github.com/bsam-dev/bsam/pkg/nn/models"
	"github.com/bsam-dev/bsam/pkg/train"
)

// benchOptions are the flags of `bsam bench`.
type benchOptions struct {
	model     string
	batch     int
	shardSize int
	precision string
	conv      string
	minTime   time.Duration
	peakTime  time.Duration
	json      bool
	scaling   bool
}

func newBenchCmd() *cobra.Command {
	o := &benchOptions{}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Time training steps (SGD, bSAM) and evaluation of a model on this machine",
		Long: `bench builds a model, feeds it random data and times, after a warm-up, one
SGD training step, one bSAM step (two forward/backward passes per sub-batch plus
its element-wise work) and one evaluation forward pass. It prints img/s, the
bSAM/SGD time ratio, heap allocations per step, the peak resident memory, and
the share of the machine's peak, estimated by timing a large SGEMM with the same
kernels on all GOMAXPROCS goroutines. "ceiling img/s" is the rate the step would
reach if its GEMM work ran at that peak and nothing else took time: the upper
bound this machine sets, whatever the engine does.

The SGD and bSAM steps are timed in 6 alternating windows (SGD, bSAM; bSAM,
SGD; …) of --time/6 each, at least one step: their img/s are over all their
windows, and the bSAM/SGD ratio is the median of the 6 rounds' ratios (each
from two adjacent windows, range printed), so that a busy spell on a shared
machine lands on both steps rather than on the ratio.

Allocations per step are bsam's zero plus the Go runtime's own: parking and
waking the worker goroutines allocates a 112-byte wait record (a sudog) when the
runtime's per-core cache of them runs dry, and on a loaded machine the runtime
now and then starts an OS thread or grows its timer heap. A step that allocates
does so every time, so when the timed steps saw allocations, bench counts up to
two more windows of as many steps and reports the least-allocating one: a figure
of 1 or more is the step's own.

"tasks" is the number of independent shard tasks a step exposes (parallel_tasks
in --json): the batch's shards for SGD and evaluation; for bSAM, whose m
sub-batches run concurrently on network replicas, m × the shards of one
sub-batch. A step can use that many cores. "running" is how many run at once at
this GOMAXPROCS (at most GOMAXPROCS; bSAM: min(GOMAXPROCS, concurrent
sub-batches × shards per sub-batch), and in brackets the concurrent
sub-batches). With several shards per sub-batch, bSAM keeps up to two shard
goroutines per core in flight, so that one sub-batch's waits at each layer are
filled by another's shards; each concurrent sub-batch beyond the first holds a
network replica, so memory grows with them.

--scaling times the SGD and bSAM steps at GOMAXPROCS 1, 2, 4, … up to the CPU
count and prints img/s, the speed-up over one core and the parallel efficiency
(speed-up / cores).

Use GOMAXPROCS to choose the number of cores. Numbers on a busy machine vary:
compare configurations measured in the same session.`,
		Example: `  bsam bench --model resnet20_frn --batch 128
  bsam bench --model resnet18 --batch 128 --json
  GOMAXPROCS=1 bsam bench --model mlp --batch 200
  bsam bench --model resnet20_frn --batch 200 --scaling --time 2s`,
		Args: cobraArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			known := false
			for _, n := range models.Names() {
				known = known || n == o.model
			}
			if !known {
				return Usagef("--model %q: unknown model (valid: %v)", o.model, models.Names())
			}
			asked, err := nn.ParsePrecision(o.precision)
			if err != nil {
				return Usagef("--precision: %v", err)
			}
			if o.conv != "auto" {
				if _, err := nn.ParseConvAlgorithm(o.conv); err != nil {
					return Usagef("--conv: %v", err)
				}
			}
			// The algorithm a run with these settings computes with (auto:
			// the model's default).
			run := config.Run{Model: o.model, Engine: config.Engine{Precision: asked.String()}}
			if o.conv != "auto" {
				run.Engine.Conv = o.conv
			}
			conv, _ := nn.ParseConvAlgorithm(run.EffectiveConv())
			prec, notice := nn.ResolvePrecision(asked)
			if notice != "" {
				fmt.Fprintln(cmd.ErrOrStderr(), "bsam: "+notice)
			}
			out := cmd.OutOrStdout()
			if o.scaling {
				return runScaling(cmd, o, prec, conv)
			}
			res, err := train.Bench(train.BenchOptions{Model: o.model, Batch: o.batch, ShardSize: o.shardSize, MinTime: o.minTime, PeakTime: o.peakTime, Precision: prec, Conv: conv})
			if err != nil {
				return Usagef("%v", err)
			}
			if o.json {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			fmt.Fprintf(out, "model %s, batch %d, %d parameters, GOMAXPROCS %d, kernels %s, precision %s, conv %s\n", res.Model, res.Batch, res.Params, res.GOMAXPROCS, res.KernelPath, res.Precision, res.Conv)
			if res.CPU != "" {
				fmt.Fprintf(out, "cpu %s\n", res.CPU)
			}
			if res.PeakGFLOPS > 0 {
				kind := "SGEMM"
				if res.Precision == "bf16" {
					kind = "bf16 GEMM"
				}
				fmt.Fprintf(out, "machine peak (%s, all cores): %.0f GFLOP/s\n", kind, res.PeakGFLOPS)
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "phase\tms/step\timg/s\tGFLOP/step\tGFLOP/s\tof peak\tceiling img/s\tallocs/step\ttasks\trunning\t")
			for _, p := range res.Phases {
				share, ceiling := "-", "-"
				if p.PeakShare > 0 {
					share = fmt.Sprintf("%.0f%%", 100*p.PeakShare)
				}
				if p.CeilingImgPerSec > 0 {
					ceiling = fmt.Sprintf("%.0f", p.CeilingImgPerSec)
				}
				fmt.Fprintf(tw, "%s\t%.1f\t%.0f\t%.2f\t%.0f\t%s\t%s\t%.2f\t%d\t%s\t\n", p.Name, 1000*p.SecondsPerOp, p.ImgPerSec, p.GFLOPs, p.GFLOPS, share, ceiling, p.AllocsPerStep, p.ParallelTasks, running(p.RunningTasks, p.ConcurrentSubBatches))
			}
			tw.Flush()
			lo, hi := slices.Min(res.BSAMOverSGDRounds), slices.Max(res.BSAMOverSGDRounds)
			fmt.Fprintf(out, "bSAM step / SGD step: %.2f× (median of %d interleaved rounds, %.2f–%.2f)\npeak RSS: %.0f MB\n", res.BSAMOverSGD, len(res.BSAMOverSGDRounds), lo, hi, res.PeakRSSMB)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.model, "model", "resnet20_frn", "model: mlp, lenet, resnet20_frn or resnet18")
	f.IntVar(&o.batch, "batch", 128, "batch size (a multiple of 8, bSAM's sub-batch count)")
	f.StringVar(&o.precision, "precision", "fp32", "GEMM arithmetic of the convolution and linear layers: fp32 or bf16 (bf16 operands, float32 accumulation; needs AVX512_BF16, else fp32 with a notice)")
	f.StringVar(&o.conv, "conv", "auto", "algorithm of the 3×3 stride-1 convolutions: direct, winograd (Winograd F(2×2,3×3) where input and output channels are multiples of 16 and at least 32), or auto (the model's default, as engine.conv: winograd for resnet18 and resnet20_frn, direct otherwise; in both precisions)")
	f.IntVar(&o.shardSize, "shard-size", 0, "examples per shard (0: automatic, as engine.shard_size 0: half a bSAM sub-batch for conv nets, 32 for the MLP)")
	f.DurationVar(&o.minTime, "time", 3*time.Second, "time each phase at least this long")
	f.DurationVar(&o.peakTime, "peak-time", 2*time.Second, "time the peak-estimating SGEMM this long (0: skip)")
	f.BoolVar(&o.json, "json", false, "print JSON")
	f.BoolVar(&o.scaling, "scaling", false, "time SGD and bSAM steps at GOMAXPROCS 1, 2, 4, … up to the CPU count: img/s and parallel efficiency")
	return cmd
}

// running formats the shard tasks running at once, with the concurrent
// sub-batches when there are any.
func running(tasks, sub int) string {
	if sub == 0 {
		return fmt.Sprintf("%d", tasks)
	}
	if sub == 1 {
		return fmt.Sprintf("%d (1 sub-batch)", tasks)
	}
	return fmt.Sprintf("%d (%d sub-batches)", tasks, sub)
}

// runScaling runs `bsam bench --scaling`.
func runScaling(cmd *cobra.Command, o *benchOptions, prec nn.Precision, conv nn.ConvAlgorithm) error {
	res, err := train.BenchScaling(train.BenchOptions{Model: o.model, Batch: o.batch, ShardSize: o.shardSize, MinTime: o.minTime, Precision: prec, Conv: conv})
	if err != nil {
		return Usagef("%v", err)
	}
	out := cmd.OutOrStdout()
	if o.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	fmt.Fprintf(out, "model %s, batch %d, shard size %d, %d CPUs, kernels %s\n", res.Model, res.Batch, res.ShardSize, res.CPUs, res.KernelPath)
	if res.CPU != "" {
		fmt.Fprintf(out, "cpu %s\n", res.CPU)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tGOMAXPROCS\timg/s\tspeed-up\tefficiency\ttasks\trunning\t")
	for _, p := range res.Points {
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.2f×\t%.0f%%\t%d\t%s\t\n", p.Phase, p.GOMAXPROCS, p.ImgPerSec, p.Speedup, 100*p.Efficiency, p.ParallelTasks, running(p.RunningTasks, p.ConcurrentSubBatches))
	}
	tw.Flush()
	fmt.Fprintf(out, "peak RSS: %.0f MB\n", res.PeakRSSMB)
	return nil
}
