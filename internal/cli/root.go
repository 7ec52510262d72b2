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
  130  interrupted (SIGINT/SIGTERM); checkpoints were saved: rerun to resume`

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
	root.AddCommand(newTrainCmd(), newVersionCmd(), newConfigCmd())
	for _, c := range extraCommands {
		root.AddCommand(c())
	}
	return root
}

// extraCommands are commands registered by other files of this package.
var extraCommands []func() *cobra.Command

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
