package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bsam-dev/bsam/pkg/demo2d"
)

// demo2DOptions are the flags of `bsam demo2d`.
type demo2DOptions struct {
	out     string
	methods []string
	seed    uint64
	gif     bool
	epochs  int
	samples int
}

const demo2DLong = `demo2d trains a small network on a 2-D toy problem with SGD, SAM-SGD and
bSAM and draws what each one predicts, the picture of "Improving overconfident
SAM" in the talk of "SAM as an Optimal Relaxation of Bayes" (Möllenhoff & Khan,
ICLR 2023), after demo2d.py of the official code (team-approx-bayes/bayesian-sam).

What the picture shows: one panel per method with the predictive probability of
class 1 over the plane as a colour map (blue: class 0, white: p = 0.5, brown:
class 1), its p = 0.5 decision boundary (thick black) and the training points.
SGD and SAM-SGD predict with their trained weights: far from the training
points their probabilities stay close to 0 or 1, i.e. they are overconfident
where they have seen nothing. bSAM learns a Gaussian posterior N(w, 1/(N·s)); its
panel shows the Bayesian model average over posterior samples, which fades to
0.5 away from the data, the decision boundaries of 20 posterior samples (thin
grey: they spread where there is no data), that of the model average (dashed)
and that of the posterior mean w (thick), as the official demo draws them. The
dotted line is at distance 1.0 from the nearest training point: beyond it lie
the grid points the "far from data" measure averages over.

Settings (those of demo2d.py unless marked):
  data       two moons (scikit-learn's make_moons construction: two interleaved
             half circles plus Gaussian noise), N = 100, noise 0.1, generated from
             --seed (the points differ from NumPy's seed 1, the construction is the same)
  model      MLP 2→32→32→32→32→1 with ELU, biases initialised to 0.05,
             logistic loss −y·f + log(1+eᶠ), p(class 1) = σ(f); float64
  schedule   251 epochs (0..250) of 3 minibatches of 30 (the remaining 10 points
             of each shuffle are skipped), learning-rate factor ½(1+cos(π·e/250)),
             no warm-up; coupled L2 δ = 1e-4 for every method
  bSAM       α 0.5, β₁ 0.9, β₂ 0.999, ρ 0.05 (unnormalised: ε = ρ·g/s), damping
             γ 0.1, s_init 1, m = 5 sub-batches of 6 with their own noise draws
  SGD        (not in demo2d.py) heavy-ball momentum 0.9 without dampening, α 0.05
             = bSAM's α·(1−β₁): SGD's momentum has no (1−β₁) factor, so both take
             steps of 0.5·g at bSAM's initial s = 1
  SAM-SGD    (not in demo2d.py) as SGD, plus SAM's perturbation ε = ρ·g/‖g‖ with
             ρ 0.05 on SAM's normalised scale (not bSAM's), m = 5 sub-batches
  picture    100×100 grid over [−1.5, 2.7] × [−1, 1.4]; bSAM's model average over
             --samples posterior samples (default 32), the first 20 drawn as contours

Printed and written to demo2d.json: each method's mean max(p, 1−p) over the grid
points farther than 1.0 from every training point ("far from data": 1 means
certain, 0.5 a coin flip) and over the training points, and its training
accuracy; for bSAM also those of the point prediction at the posterior mean.

Output files in --out: demo2d.png, demo2d.svg, demo2d.json and, with --gif,
demo2d_bsam.gif (bSAM's panel every 10 epochs of training, on a 50×50 grid;
each frame's colour map averages its 20 drawn samples). All random streams derive from --seed:
the same seed gives the same demo2d.json byte for byte, on any number of CPUs.
It takes well under a minute on two cores.`

func newDemo2DCmd() *cobra.Command {
	o := &demo2DOptions{}
	cmd := &cobra.Command{
		Use:   "demo2d [--out DIR]",
		Short: "Draw SAM's overconfidence and bSAM's uncertainty on a 2-D toy problem (under a minute)",
		Long:  demo2DLong,
		Example: `  bsam demo2d --out results/demo2d
  bsam demo2d --out /tmp/demo --methods sam_sgd,bsam --seed 3 --gif`,
		Args: cobraArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.out, "out", "o", "demo2d", "output directory (created if needed)")
	f.StringSliceVarP(&o.methods, "methods", "m", demo2d.Methods, "methods to train, one panel each, in this order (comma-separated: sgd,sam_sgd,bsam)")
	f.Uint64Var(&o.seed, "seed", 0, "seed of the data, the initialisation, the minibatch order and bSAM's noise and samples")
	f.BoolVar(&o.gif, "gif", false, "also write demo2d_bsam.gif, bSAM's panel over training (adds ~10-20 s)")
	f.IntVar(&o.epochs, "epochs", 250, "cosine schedule length E: epochs 0..E run (demo2d.py: 250); smaller is a quick look")
	f.IntVar(&o.samples, "samples", 32, "posterior samples in bSAM's model average (>= 20, the contours drawn)")
	return cmd
}

func (o *demo2DOptions) run(cmd *cobra.Command) error {
	c := demo2d.DefaultConfig()
	c.Methods = nil
	for _, m := range o.methods {
		if m = strings.TrimSpace(m); m != "" {
			c.Methods = append(c.Methods, m)
		}
	}
	c.Seed, c.GIF, c.Epochs, c.Samples = o.seed, o.gif, o.epochs, o.samples
	if o.samples < c.ContourSamples {
		return Usagef("--samples must be >= %d (the posterior samples drawn as contours), got %d", c.ContourSamples, o.samples)
	}
	if o.out == "" {
		return Usagef("--out must not be empty")
	}
	if err := c.Validate(); err != nil {
		return Usagef("%v", demoFlagError(err))
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	start := time.Now()
	fmt.Fprintf(cmd.ErrOrStderr(), "demo2d: training %s for %d epochs on two moons (N = %d)\n", strings.Join(c.Methods, ", "), c.Epochs+1, c.N)
	res, files, err := demo2d.Run(ctx, c, o.out, cmd.ErrOrStderr())
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return WithCode(ExitInterrupted, fmt.Errorf("demo2d interrupted: %w", err))
		}
		return err
	}
	if err := demo2d.PrintTable(cmd.OutOrStdout(), res); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "demo2d: wrote %s in %.1f s\n", strings.Join(files, ", "), time.Since(start).Seconds())
	return nil
}

// demoFlagError names the flag behind a settings error where there is one.
func demoFlagError(err error) error {
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "methods:"):
		return fmt.Errorf("--methods: %s", strings.TrimSpace(strings.TrimPrefix(msg, "methods:")))
	case strings.HasPrefix(msg, "epochs"):
		return fmt.Errorf("--%s", msg)
	}
	return err
}
