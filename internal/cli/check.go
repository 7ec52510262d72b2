package cli

import (
	"errors"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/bsam-dev/bsam/pkg/check"
	"github.com/bsam-dev/bsam/pkg/config"
)

// checkOptions are the flags of `bsam check`.
type checkOptions struct {
	suite    string
	only     []string
	expected string
	shared   string
	dataDir  string
	workDir  string
	update   bool
	sets     []string
	verbose  bool
}

func newCheckCmd() *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Reproducibility check: train a suite twice, compare with expected values",
		Long: `check trains a suite of small deterministic experiments twice, asserts that
both runs give bit-identical metrics, and compares them with the committed
expected values (results/expected/<experiment>.json) within stated tolerances
(training loss 0.2% relative; accuracy 0.5 points; NLL 1% relative; ECE and
AUROC 0.005 absolute — stored in each expected file).

Suites:
  ci    MLP on a real-MNIST subset (SGD, bSAM) and ResNet-20-FRN on a subset of
        the shared real CIFAR-10 copy (all five methods, short schedule)
  full  ci plus all of MNIST and a larger CIFAR-10 subset

Exit code 4 when anything drifted or the two runs differ, with a line per value
that moved; 0 when everything matches.

Progress goes to stderr as it happens: each experiment, each of its two
trainings, run k of K with the estimated time left for the whole suite, and
the final evaluations (a live bar on a terminal, plain lines otherwise).
The CIFAR-10 experiments read --shared/data/cifar10-jpeg.tar.gz: CIFAR-10
as JPEG files in <root>/{train,test}/<class>/*.jpg, packed as .tar.gz (make
one from the CIFAR-10 binary version, or use --only ci_mnist_mlp).`,
		Example: `  bsam check                          # the ci suite
  bsam check --suite full
  bsam check --update                 # record new expected values (review the diff!)
  BSAM_OPTIMIZER_BETA1=0.85 bsam check  # a perturbed constant must fail with exit 4`,
		Args: cobraArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ovs, err := parseSets(o.sets)
			if err != nil {
				return err
			}
			if o.dataDir != "" {
				ovs = append(ovs, config.Override{Path: "data.dir", Value: o.dataDir, Source: "--data-dir"})
			}
			level := slog.LevelWarn
			if o.verbose {
				level = slog.LevelInfo
			}
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			wireDataSources(o.dataDir, false, cmd.ErrOrStderr(), logger)
			if _, err := os.Stat(o.shared); err != nil {
				logger.Warn("shared directory not found; the CIFAR-10 experiments will fail", "shared", o.shared)
			}
			co := check.Options{
				Suite: o.suite, Only: o.only, ExpectedDir: o.expected, SharedDir: o.shared, WorkDir: o.workDir,
				Update: o.update, Overrides: ovs, Logger: logger, Out: cmd.OutOrStdout(),
				Status: newLogger(cmd.ErrOrStderr(), false),
			}
			if isTerminal(cmd.ErrOrStderr()) {
				co.Progress = cmd.ErrOrStderr()
			}
			err = check.Run(cmd.Context(), co)
			var de *check.DriftError
			switch {
			case errors.As(err, &de):
				return WithCode(ExitDrift, err)
			case err != nil:
				return WithCode(ExitRuntime, err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.suite, "suite", "ci", "suite to run: ci or full")
	f.StringSliceVar(&o.only, "only", nil, "run only these experiments of the suite (e.g. ci_mnist_mlp)")
	f.StringVar(&o.expected, "expected", "results/expected", "directory of the expected values")
	f.StringVar(&o.shared, "shared", envOr("BSAM_SHARED_DIR", "../shared"), "directory whose data/cifar10-jpeg.tar.gz is CIFAR-10 as an image folder (.tar.gz of train/<class>/*.jpg and test/<class>/*.jpg) for the CIFAR-10 experiments (env BSAM_SHARED_DIR)")
	f.StringVar(&o.dataDir, "data-dir", "", "dataset cache directory (env BSAM_DATA_DIR)")
	f.StringVar(&o.workDir, "work-dir", "", "keep the runs in this directory (default: a temporary one, removed)")
	f.BoolVar(&o.update, "update", false, "write the expected values instead of comparing")
	f.StringArrayVar(&o.sets, "set", nil, "override a field of every experiment: --set path=value")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "log every epoch")
	return cmd
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
