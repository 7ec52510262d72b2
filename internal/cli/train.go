package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bsam-dev/bsam/pkg/config"
	"github.com/bsam-dev/bsam/pkg/datasets/fetch"
	"github.com/bsam-dev/bsam/pkg/train"
)

// trainOptions are the flags of `bsam train`.
type trainOptions struct {
	configFile string
	methods    []string
	seeds      string
	out        string
	epochs     int
	dataDir    string
	offline    bool
	sets       []string
	force      bool
	verbose    bool
}

func newTrainCmd() *cobra.Command {
	o := &trainOptions{}
	cmd := &cobra.Command{
		Use:   "train --config FILE",
		Short: "Train an experiment's methods over its seeds and print the table",
		Long: `train reads an experiment file (a model, a dataset, methods with their
hyperparameters, seeds), obtains the dataset (downloading and verifying it, or
from an offline source), trains one run per method and seed, evaluates each with
the paper's metrics and prints mean ± std over seeds.

Each run writes to <out>/<experiment>/<method>-seed<k>-<hash>/:
  config.yaml    the fully resolved configuration of the run
  metrics.jsonl  one line per epoch (train loss, test accuracy and NLL, img/s)
  result.json    final metrics: point prediction and Bayesian model average
  meta.json      versions, machine, timing and status (running, done, failed, interrupted)
A run whose result.json exists with the same configuration hash is skipped
(--force reruns it).

Settings are resolved with precedence flag > environment > file > defaults.
Every field can be set with --set path=value or an environment variable
BSAM_<PATH> (dots become underscores), e.g. --set methods.bsam.rho=0.01,
BSAM_EPOCHS=3, BSAM_DATA_DIR=/data. A flag or variable for optimizer.X sets X
for every method, above the methods' own values in the file (SAM's and bSAM's
rho live on different scales: prefer methods.<name>.X). Any other BSAM_*
variable is an error naming the nearest valid one (list unrelated ones in
BSAM_ENV_IGNORE).

Short runs: --epochs below a file's warm-up (the paper configurations warm
up for 5 epochs) is an error that names the fix; lower the warm-up with it,
e.g. --epochs 1 --set warmup=0 (any warm-up below the number of epochs).

Progress goes to stderr: run k of K with the estimated time left for all
runs once it is known, the epoch, loss and img/s (shown once a few steps
have been timed), and the final evaluation (the Bayesian model average of
bSAM takes test_mc passes over the test set). A live bar on a terminal,
plain log lines otherwise.

Exit codes: 0 all runs done or skipped; 2 invalid configuration; 3 some runs
failed (diverged), the others finished; 5 some runs are busy (another
process, named by its pid, is training them) and none failed; 1 anything
else; 130 interrupted (also while loading data): rerun to resume.`,
		Example: `  bsam train --config configs/quickstart.yaml
  bsam train --config configs/mnist_mlp.yaml --method bsam --seeds 0,1,2 --epochs 10
  BSAM_DATA_DIR=/scratch/data bsam train --config configs/resnet20_cifar10.yaml --out results/runs
  bsam train --config configs/resnet20_cifar10.yaml --epochs 1 --set warmup=0   # a short trial run`,
		Args: cobraArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.configFile, "config", "c", "", "experiment file (YAML), e.g. configs/quickstart.yaml (required)")
	f.StringSliceVarP(&o.methods, "method", "m", nil, "train only these methods (repeatable or comma-separated: sgd,sam_sgd,adam,sam_adam,bsam)")
	f.StringVar(&o.seeds, "seeds", "", "comma-separated seeds, overriding the file's seeds (e.g. 0,1,2)")
	f.StringVarP(&o.out, "out", "o", "", "directory for run directories (default: the file's out, else ./runs)")
	f.IntVar(&o.epochs, "epochs", 0, "override the number of epochs")
	f.StringVar(&o.dataDir, "data-dir", "", "dataset cache directory (env BSAM_DATA_DIR; default: the user cache dir)")
	f.BoolVar(&o.offline, "offline", false, "never download; use cached or offline sources only")
	f.StringArrayVar(&o.sets, "set", nil, "override any field: --set path=value (repeatable), e.g. --set methods.bsam.rho=0.02; optimizer.X sets X for every method")
	f.BoolVar(&o.force, "force", false, "rerun runs that already finished")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "debug logging")
	return cmd
}

// overrides turns the flags into config overrides, in increasing precedence.
func (o *trainOptions) overrides(cmd *cobra.Command) ([]config.Override, error) {
	ovs, err := parseSets(o.sets)
	if err != nil {
		return nil, err
	}
	fl := cmd.Flags()
	if fl.Changed("seeds") {
		ovs = append(ovs, config.Override{Path: "seeds", Value: o.seeds, Source: "--seeds"})
	}
	if fl.Changed("out") {
		ovs = append(ovs, config.Override{Path: "out", Value: o.out, Source: "--out"})
	}
	if fl.Changed("epochs") {
		ovs = append(ovs, config.Override{Path: "epochs", Value: strconv.Itoa(o.epochs), Source: "--epochs"})
	}
	if fl.Changed("data-dir") {
		ovs = append(ovs, config.Override{Path: "data.dir", Value: o.dataDir, Source: "--data-dir"})
	}
	if fl.Changed("offline") {
		ovs = append(ovs, config.Override{Path: "data.offline", Value: strconv.FormatBool(o.offline), Source: "--offline"})
	}
	return ovs, nil
}

// parseSets turns --set path=value flags into overrides.
func parseSets(sets []string) ([]config.Override, error) {
	var ovs []config.Override
	for _, s := range sets {
		k, v, ok := strings.Cut(s, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, Usagef("--set %q: expected path=value, e.g. --set optimizer.lr=0.05", s)
		}
		ovs = append(ovs, config.Override{Path: strings.TrimSpace(k), Value: v, Source: "--set " + s})
	}
	return ovs, nil
}

// loadExperiment resolves the experiment file with the flags' overrides and
// the method selection.
func loadExperiment(file string, ovs []config.Override, methods []string) (*config.Experiment, error) {
	if file == "" {
		return nil, Usagef("--config is required (e.g. --config configs/quickstart.yaml)")
	}
	e, err := config.Load(file, ovs)
	if err != nil {
		var ce interface{ UsageError() bool }
		if errors.As(err, &ce) {
			return nil, WithCode(ExitUsage, err)
		}
		return nil, Usagef("%v", err)
	}
	if err := e.SelectMethods(methods); err != nil {
		return nil, WithCode(ExitUsage, err)
	}
	return e, nil
}

func (o *trainOptions) run(cmd *cobra.Command) error {
	ovs, err := o.overrides(cmd)
	if err != nil {
		return err
	}
	e, err := loadExperiment(o.configFile, ovs, o.methods)
	if err != nil {
		return err
	}
	stderr := cmd.ErrOrStderr()
	logger := newLogger(stderr, o.verbose)
	ctx := cmd.Context()
	logger.Info("experiment", "name", e.Name, "model", e.Model, "dataset", e.Dataset,
		"methods", len(e.Methods), "seeds", len(e.Seeds), "epochs", e.Epochs, "out", e.Out)
	wireDataSources(e.Data.Dir, e.Data.Offline, stderr, logger)
	data, err := train.LoadData(ctx, e, logger)
	if err != nil {
		if ctx.Err() != nil {
			return WithCode(ExitInterrupted, errors.New("interrupted while loading the dataset; nothing was trained"))
		}
		return WithCode(ExitRuntime, fmt.Errorf("loading %s: %w%s", e.Dataset, err, corruptHint(e, err)))
	}
	tro := train.Options{Logger: logger, Force: o.force, Version: Version}
	if isTerminal(stderr) {
		tro.Progress = stderr
	}
	outs, err := train.RunExperiment(ctx, e, data, tro)
	train.WriteSummary(cmd.OutOrStdout(), outs)
	if ctx.Err() != nil {
		return WithCode(ExitInterrupted, errors.New("interrupted; checkpoints were saved: run the same command again to resume"))
	}
	if err != nil {
		return WithCode(ExitRuntime, err)
	}
	return runsOutcome(outs)
}

// corruptHint points a failure to load a cached catalog dataset at the
// commands that check and replace it.
func corruptHint(e *config.Experiment, err error) string {
	var ce *fetch.CorruptError
	if e.Data.Source != "" || e.Dataset == "imagefolder" || errors.As(err, &ce) {
		return ""
	}
	return fmt.Sprintf("\nif the cached files are damaged: `bsam data verify %s` checks them; `bsam data import %s FILE` or `bsam data download %s` (after deleting the directory) replaces them", e.Dataset, e.Dataset, e.Dataset)
}

// runsOutcome is the error of a finished experiment: exit 3 when runs
// failed, else exit 5 when runs were busy (another process trains them),
// else nil. Failures take precedence over busy runs.
func runsOutcome(outs []train.Outcome) error {
	c := train.Tally(outs)
	switch {
	case c.Failed > 0 && c.Busy > 0:
		return WithCode(ExitRunsFailed, fmt.Errorf("%d of %d runs failed and %d are busy (being trained by another process)", c.Failed, len(outs), c.Busy))
	case c.Failed > 0:
		return WithCode(ExitRunsFailed, fmt.Errorf("%d of %d runs failed", c.Failed, len(outs)))
	case c.Busy > 0:
		return WithCode(ExitBusy, fmt.Errorf("%d of %d runs are busy: another process is training them (nothing failed; run the command again once it is done)", c.Busy, len(outs)))
	}
	return nil
}
