// Package cli implements bsam's commands. Each command is a constructor
// returning a *cobra.Command over its own options struct; main maps the
// returned error to an exit code with ExitCode.
package cli

import (
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/bsam-dev/bsam/pkg/config"
)

// Version is bsam's version, set at build time with
// -ldflags "-X github.com/bsam-dev/bsam/internal/cli.Version=…".
var Version = "0.1.0-dev"

const rootLong = `bsam reproduces the benchmark table of "SAM as an Optimal Relaxation of
Bayes" (Möllenhoff & Khan, ICLR 2023) on CPUs: SGD, SAM-SGD, Adam, SAM-Adam and
Bayesian-SAM (bSAM) trained on MLP, LeNet-5, ResNet-20-FRN and ResNet-18, scored by
accuracy, NLL, ECE and AUROC as mean ± std over seeds.

Results go to stdout; logs and progress go to stderr.

Exit codes:
  0  success
  1  runtime error (I/O, missing data, crash)
  2  bad usage or invalid configuration (the message names the field and file)
  3  some runs failed (e.g. diverged); the other runs finished
  4  bsam check: metrics drifted from the expected values
  5  some runs are busy: another process (named by its pid) is training them;
     nothing failed. When runs both failed and were busy, the exit code is 3.
  130  interrupted (SIGINT/SIGTERM, at any point, loading included);
     checkpoints were saved: rerun the same command to resume

Environment: BSAM_<PATH> sets a field (BSAM_EPOCHS, BSAM_DATA_DIR,
BSAM_METHODS_BSAM_RHO, ...). Any other BSAM_* variable is an error (exit 2)
naming the nearest valid one, except the tool variables BSAM_SBATCH,
BSAM_SQUEUE, BSAM_SACCT, BSAM_SHARED_DIR and those listed, comma-separated
(a trailing * matches a prefix), in BSAM_ENV_IGNORE.`

// NewRootCmd builds the bsam command tree.
func NewRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "bsam",
		Short:         "Reproduce the bSAM benchmark table on CPUs",
		Long:          rootLong,
		SilenceUsage:  true,
		SilenceErrors: true,
		Example: `  bsam train --config configs/quickstart.yaml
  bsam train --config configs/resnet20_cifar10.yaml --method bsam --seeds 0,1
  bsam config show configs/resnet18_cifar10.yaml --method bsam`,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return Usagef("%v", err) })
	root.Version = Version
	root.SetVersionTemplate(versionText())
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		// Completion and help work whatever the environment.
		for c := cmd; c != nil; c = c.Parent() {
			switch c.Name() {
			case cobra.ShellCompRequestCmd, cobra.ShellCompNoDescRequestCmd, "completion", "help":
				return nil
			}
		}
		if err := config.CheckEnv(os.Environ()); err != nil {
			return WithCode(ExitUsage, err)
		}
		return nil
	}
	root.AddCommand(
		newTrainCmd(),
		newSweepCmd(),
		newReportCmd(),
		newRunsCmd(),
		newCheckCmd(),
		newDataCmd(),
		newBenchCmd(),
		newDemo2DCmd(),
		newConfigCmd(),
		newVersionCmd(),
	)
	registerCompletions(root)
	return root
}

// newLogger returns the stderr logger of a command.
func newLogger(w io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// cobraArgs wraps an args validator so that its errors are usage errors.
func cobraArgs(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return Usagef("%v", err)
		}
		return nil
	}
}
