package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bsam-dev/bsam/pkg/report"
)

// reportOptions are the flags of `bsam report`.
type reportOptions struct {
	format    string
	source    string
	reference string
	out       string
	plots     string
	protocol  string
	verbose   bool
}

// defaultResultsDir is searched when no RESULTS_DIR is given; it is where
// `bsam train` writes by default.
const defaultResultsDir = "runs"

const reportLong = `report collects every finished run below the given results directories
(default ./runs; searched recursively for run directories holding result.json
or meta.json), groups the runs by protocol and prints the paper's table:
accuracy (%), NLL, ECE and AUROC as mean ± sample std (n−1) over seeds, with
the number of seeds n. A cell with one seed shows no std. Methods appear in
the paper's order (SGD, SAM-SGD, Adam, SAM-Adam, bSAM) and the best method of
each block is bold.

Cells are protocols. Runs are averaged into one cell only when everything
that can change their result except the seed is the same: model, dataset,
method and its hyperparameters, epochs, warm-up, batch size, training subset,
evaluation split, data, augmentation, engine settings (read from each run's
config.yaml; where the data are cached, how often the test set was scored
during training and the experiment's name do not count). Runs of the same
model, dataset and method under different protocols get rows of their own,
labelled by what differs ("12 epochs" vs "2 epochs, 8,000 train") and by a
protocol hash; the Protocols section spells each protocol out and says which
split it was scored on: runs with data.validation are scored on held-out
training images, kept apart from test results and never compared with the
paper. --protocol HASH shows one protocol (a prefix of the hash printed in
the table is enough), --protocol latest the most recently finished one of
each model and dataset. The same seed twice within one protocol (a copied
run directory, or one directory passed twice) is an error naming both
directories.

Beside each cell stands the paper's value (the table with data augmentation,
built in; --reference replaces it), the difference Δ = ours − paper, z = Δ/σ
in units of the paper's std and a verdict: "within 2σ" (|z| ≤ 2), "below",
"above", or "n/a" where the paper gives no value. Paper stds larger than half
their mean (the TinyImageNet ECE stds) are not used as tolerance; σ then falls
back to the median of the paper's other stds of that metric, and the report
says so. A footer lists how the runs differ from the paper's protocol: fewer
than 5 seeds, fewer than 181 epochs, a training or test set other than the
canonical one, augmentation off, bSAM with test_mc other than 32.

Failed and unfinished runs (status other than done, or no result.json) are
listed with their reason and never averaged in. Runs of a hyperparameter
sweep (result.json names swept hyperparameters) are reported separately, one
row per setting.

Formats (--format):
  md     Markdown: the table, a per-cell comparison, sweeps, footer (default)
  latex  a booktabs tabular (\usepackage{booktabs}); notes as % comments
  csv    one row per cell and metric: mean, std, n, paper mean/std, diff, z, verdict
  json   the whole report, schema "bsam.report/v1"

--metric-source chooses the prediction scored: bma (default; the Bayesian
model average, as the paper reports bSAM; identical to the point prediction
for SGD, SAM and Adam) or point (the prediction at the mean weights).

--plots DIR writes, as PNG and SVG: a reliability diagram per model, dataset
and method (20 bins pooled over seeds, the diagonal, ECE in the title), test
accuracy and NLL per epoch (one line per method, mean over seeds), and for
sweeps each metric against the swept hyperparameter with ± std error bars
(log axis when the values span more than a decade).

The table goes to stdout (or --out FILE); logs, failed runs and warnings go
to stderr.`

func newReportCmd() *cobra.Command {
	o := &reportOptions{}
	cmd := &cobra.Command{
		Use:   "report [RESULTS_DIR...]",
		Short: "Aggregate finished runs into the paper's table and compare with the paper",
		Long:  reportLong,
		Example: `  bsam report                                    # Markdown table of ./runs
  bsam report results/ --format latex --out table.tex
  bsam report results/cifar10 results/cifar100 --format csv > table.csv
  bsam report results/ --metric-source point     # score bSAM at its mean weights
  bsam report results/ --plots figures/          # also draw the figures
  bsam report results/ --reference my_table.yaml # compare with another table
  bsam report runs/ --protocol latest            # only the newest protocol per model/dataset
  bsam report results/ --protocol 7f46cd5b       # one protocol, by the hash in the table`,
		Args: cobraArgs(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, args) },
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return Usagef("%v", err) })
	f := cmd.Flags()
	f.StringVarP(&o.format, "format", "f", "md", "output format: "+strings.Join(report.Formats, ", "))
	f.StringVar(&o.source, "metric-source", report.SourceBMA, "prediction to score: bma (Bayesian model average) or point (mean weights)")
	f.StringVar(&o.reference, "reference", "", "reference table YAML in the format of the built-in paper_table.yaml (default: the paper's table)")
	f.StringVarP(&o.out, "out", "o", "", "write the table to FILE instead of stdout")
	f.StringVar(&o.plots, "plots", "", "also write PNG and SVG figures into DIR (created if missing)")
	f.StringVar(&o.protocol, "protocol", "", "show one protocol: a hash (prefix) from the table, or latest (the newest per model and dataset)")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "debug logging")
	return cmd
}

func (o *reportOptions) run(cmd *cobra.Command, args []string) error {
	if !slices.Contains(report.Formats, o.format) {
		return Usagef("--format %q: want one of %s", o.format, strings.Join(report.Formats, ", "))
	}
	if o.source != report.SourceBMA && o.source != report.SourcePoint {
		return Usagef("--metric-source %q: want %s or %s", o.source, report.SourceBMA, report.SourcePoint)
	}
	logger := newLogger(cmd.ErrOrStderr(), o.verbose)
	dirs := args
	if len(dirs) == 0 {
		dirs = []string{defaultResultsDir}
	}

	ref, err := report.DefaultReference()
	if err != nil {
		return WithCode(ExitRuntime, err)
	}
	if o.reference != "" {
		if ref, err = report.LoadReference(o.reference); err != nil {
			return Usagef("--reference: %v", err)
		}
	}

	coll, err := report.Load(dirs...)
	if err != nil {
		if errors.Is(err, report.ErrNoResults) {
			return WithCode(ExitRuntime, fmt.Errorf("no results found: searched %s recursively for run directories (holding %s or %s); run `bsam train` first or pass the directory it wrote to",
				strings.Join(dirs, ", "), report.ResultFile, report.MetaFile))
		}
		if errors.Is(err, fs.ErrNotExist) {
			return WithCode(ExitRuntime, fmt.Errorf("no results found: %v; pass the directory `bsam train` wrote to (bsam report RESULTS_DIR...)", err))
		}
		return WithCode(ExitRuntime, err)
	}
	logger.Debug("loaded runs", "dirs", strings.Join(dirs, ","), "finished", len(coll.Runs), "failed_or_unfinished", len(coll.Failures))
	rep, err := report.Build(coll, report.Options{Source: o.source, Reference: ref, Protocol: o.protocol})
	if err != nil {
		if errors.Is(err, report.ErrNoProtocol) {
			return Usagef("--protocol: %v", err)
		}
		return WithCode(ExitRuntime, err)
	}
	for _, fl := range rep.Failures {
		logger.Warn("run not averaged", "dir", fl.Dir, "status", fl.Status, "reason", fl.Reason)
	}
	for _, w := range rep.Warnings {
		logger.Warn(w)
	}
	if len(coll.Runs) == 0 {
		logger.Warn("no finished runs; the table is empty", "failed_or_unfinished", len(coll.Failures))
	}

	var buf bytes.Buffer
	if err := report.Write(&buf, rep, o.format); err != nil {
		return WithCode(ExitRuntime, err)
	}
	if err := o.write(cmd.OutOrStdout(), buf.Bytes()); err != nil {
		return WithCode(ExitRuntime, err)
	}
	if o.out != "" {
		logger.Info("wrote table", "file", o.out, "format", o.format, "rows", len(rep.Rows), "sweep_rows", len(rep.Sweeps))
	}

	if o.plots != "" {
		files, err := report.WritePlots(o.plots, rep)
		if err != nil {
			return WithCode(ExitRuntime, err)
		}
		logger.Info("wrote figures", "dir", o.plots, "files", len(files))
	}
	return nil
}

// write puts the table on stdout or, with --out, into the file (written
// to a temporary file first so a failed write leaves no half table).
func (o *reportOptions) write(stdout io.Writer, b []byte) error {
	if o.out == "" {
		_, err := stdout.Write(b)
		return err
	}
	tmp := o.out + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, o.out)
}
