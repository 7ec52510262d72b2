package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bsam-dev/bsam/pkg/nn/models"
	"github.com/bsam-dev/bsam/pkg/train"
)

// benchOptions are the flags of `bsam bench`.
type benchOptions struct {
	model     string
	batch     int
	shardSize int
	minTime   time.Duration
	peakTime  time.Duration
	json      bool
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

Allocations per step are bsam's zero plus the Go scheduler's own: parking and
waking the worker goroutines allocates a 112-byte wait record (a sudog) when the
runtime's per-core cache of them runs dry. The runtime grows that pool during
the first few hundred steps (about one per step in a short bench) and rarely
afterwards (measured: ~0.05 per step after 800 steps of ResNet-20-FRN).

Use GOMAXPROCS to choose the number of cores. Numbers on a busy machine vary:
compare configurations measured in the same session.`,
		Example: `  bsam bench --model resnet20_frn --batch 128
  bsam bench --model resnet18 --batch 128 --json
  GOMAXPROCS=1 bsam bench --model mlp --batch 200`,
		Args: cobraArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			known := false
			for _, n := range models.Names() {
				known = known || n == o.model
			}
			if !known {
				return Usagef("--model %q: unknown model (valid: %v)", o.model, models.Names())
			}
			res, err := train.Bench(train.BenchOptions{Model: o.model, Batch: o.batch, ShardSize: o.shardSize, MinTime: o.minTime, PeakTime: o.peakTime})
			if err != nil {
				return Usagef("%v", err)
			}
			out := cmd.OutOrStdout()
			if o.json {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			fmt.Fprintf(out, "model %s, batch %d, %d parameters, GOMAXPROCS %d, kernels %s\n", res.Model, res.Batch, res.Params, res.GOMAXPROCS, res.KernelPath)
			if res.CPU != "" {
				fmt.Fprintf(out, "cpu %s\n", res.CPU)
			}
			if res.PeakGFLOPS > 0 {
				fmt.Fprintf(out, "machine peak (SGEMM, all cores): %.0f GFLOP/s\n", res.PeakGFLOPS)
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "phase\tms/step\timg/s\tGFLOP/step\tGFLOP/s\tof peak\tceiling img/s\tallocs/step\t")
			for _, p := range res.Phases {
				share, ceiling := "-", "-"
				if p.PeakShare > 0 {
					share = fmt.Sprintf("%.0f%%", 100*p.PeakShare)
				}
				if p.CeilingImgPerSec > 0 {
					ceiling = fmt.Sprintf("%.0f", p.CeilingImgPerSec)
				}
				fmt.Fprintf(tw, "%s\t%.1f\t%.0f\t%.2f\t%.0f\t%s\t%s\t%.2f\t\n", p.Name, 1000*p.SecondsPerOp, p.ImgPerSec, p.GFLOPs, p.GFLOPS, share, ceiling, p.AllocsPerStep)
			}
			tw.Flush()
			fmt.Fprintf(out, "bSAM step / SGD step: %.2f×\npeak RSS: %.0f MB\n", res.BSAMOverSGD, res.PeakRSSMB)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.model, "model", "resnet20_frn", "model: mlp, lenet, resnet20_frn or resnet18")
	f.IntVar(&o.batch, "batch", 128, "batch size (a multiple of 8, bSAM's sub-batch count)")
	f.IntVar(&o.shardSize, "shard-size", 0, "examples per shard (0: automatic, as engine.shard_size 0: half a bSAM sub-batch for conv nets, 32 for the MLP)")
	f.DurationVar(&o.minTime, "time", 3*time.Second, "time each phase at least this long")
	f.DurationVar(&o.peakTime, "peak-time", 2*time.Second, "time the peak-estimating SGEMM this long (0: skip)")
	f.BoolVar(&o.json, "json", false, "print JSON")
	return cmd
}
