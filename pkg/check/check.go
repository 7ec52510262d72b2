package check

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/bsam-dev/bsam/pkg/config"
	"github.com/bsam-dev/bsam/pkg/datasets"
	"github.com/bsam-dev/bsam/pkg/eval"
	"github.com/bsam-dev/bsam/pkg/kernels"
	"github.com/bsam-dev/bsam/pkg/train"
)

//go:embed suites/*.yaml
var suiteFS embed.FS

// Suites lists the suite names.
func Suites() []string { return []string{"ci", "full"} }

// Experiment is one experiment of a suite.
type Experiment struct {
	Name string
	YAML []byte
}

// Suite returns the experiments of a suite, in name order.
func Suite(name string) ([]Experiment, error) {
	var prefixes []string
	switch name {
	case "ci":
		prefixes = []string{"ci_"}
	case "full":
		prefixes = []string{"ci_", "full_"}
	default:
		return nil, fmt.Errorf("unknown suite %q (valid: %s)", name, strings.Join(Suites(), ", "))
	}
	entries, err := suiteFS.ReadDir("suites")
	if err != nil {
		return nil, err
	}
	var out []Experiment
	for _, e := range entries {
		for _, p := range prefixes {
			if strings.HasPrefix(e.Name(), p) {
				b, err := suiteFS.ReadFile("suites/" + e.Name())
				if err != nil {
					return nil, err
				}
				out = append(out, Experiment{Name: strings.TrimSuffix(e.Name(), ".yaml"), YAML: b})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Tolerance says how far a metric may move from its expected value. A value
// passes when |got − want| ≤ Abs + Rel·|want|.
type Tolerance struct {
	Abs float64 `json:"abs"`
	Rel float64 `json:"rel"`
}

// DefaultTolerances are the stated tolerances of the check: tight enough
// that changing an optimizer constant moves the training loss past them,
// loose enough for another CPU's kernel path (AVX2 instead of AVX-512)
// to pass.
var DefaultTolerances = map[string]Tolerance{
	"train_loss": {Rel: 2e-3},
	"acc":        {Abs: 0.5},
	"nll":        {Rel: 0.01},
	"ece":        {Abs: 0.005},
	"auroc":      {Abs: 0.005},
}

// Expected is the content of results/expected/<experiment>.json.
type Expected struct {
	Experiment string               `json:"experiment"`
	KernelPath string               `json:"kernel_path"` // the GEMM path that produced the values
	Tolerances map[string]Tolerance `json:"tolerances"`
	Runs       map[string]RunValues `json:"runs"` // keyed "<method>-seed<k>"
}

// RunValues are the checked values of one run.
type RunValues struct {
	TrainLoss float64      `json:"train_loss"`
	Point     eval.Metrics `json:"point"`
	BMA       eval.Metrics `json:"bma"`
}

// Drift is one value outside its tolerance, or a nondeterminism.
type Drift struct {
	Experiment, Run, Value string
	Got, Want              float64
	Tol                    Tolerance
}

func (d Drift) String() string {
	if math.IsNaN(d.Got) {
		return fmt.Sprintf("%s %s: %s", d.Experiment, d.Run, d.Value)
	}
	return fmt.Sprintf("%s %s %s: got %.6g, want %.6g (Δ %+.3g; tolerance abs %g rel %g)",
		d.Experiment, d.Run, d.Value, d.Got, d.Want, d.Got-d.Want, d.Tol.Abs, d.Tol.Rel)
}

// DriftError is returned when values moved; the CLI maps it to exit code 4.
type DriftError struct {
	Drifts         []Drift
	Nondeterminism []string
}

func (e *DriftError) Error() string {
	var b strings.Builder
	if len(e.Nondeterminism) > 0 {
		fmt.Fprintf(&b, "nondeterministic: the two runs differ: %s", strings.Join(e.Nondeterminism, "; "))
	}
	if len(e.Drifts) > 0 {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%d values drifted from the expected values", len(e.Drifts))
	}
	return b.String()
}

// Options configure Run.
type Options struct {
	Suite string
	// Only, when non-empty, restricts the suite to these experiments.
	Only []string
	// ExpectedDir holds <experiment>.json files (default results/expected).
	ExpectedDir string
	// SharedDir is the shared material directory whose data/ holds the
	// CIFAR-10 JPEG copy (default ../shared).
	SharedDir string
	// DataDir is the dataset cache ("" = default).
	DataDir string
	// WorkDir receives the runs (a temporary directory when empty).
	WorkDir string
	// Update writes the expected files instead of comparing.
	Update bool
	// Overrides are applied to every experiment (e.g. from --set).
	Overrides []config.Override
	Logger    *slog.Logger
	Out       io.Writer // the report
	// Progress, when non-nil, is a terminal for live bars per run.
	Progress io.Writer
	// Status receives plain progress lines (each experiment, run k of K
	// with the time left, the final evaluations) when Progress is nil.
	Status *slog.Logger
}

// say reports a step of the check: a line on the terminal or a log line.
func (o Options) say(msg string, args ...any) {
	switch {
	case o.Progress != nil:
		fmt.Fprintf(o.Progress, "check: %s %s\n", msg, fmtArgs(args))
	case o.Status != nil:
		o.Status.Info(msg, args...)
	}
}

func fmtArgs(args []any) string {
	var b strings.Builder
	for i := 0; i+1 < len(args); i += 2 {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%v=%v", args[i], args[i+1])
	}
	return b.String()
}

// Run executes the suite and returns nil, a *DriftError, or another error.
func Run(ctx context.Context, o Options) error {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	exps, err := Suite(o.Suite)
	if err != nil {
		return err
	}
	if len(o.Only) > 0 {
		var kept []Experiment
		for _, name := range o.Only {
			i := slices.IndexFunc(exps, func(x Experiment) bool { return x.Name == name })
			if i < 0 {
				return fmt.Errorf("suite %s has no experiment %q", o.Suite, name)
			}
			kept = append(kept, exps[i])
		}
		exps = kept
	}
	work := o.WorkDir
	if work == "" {
		work, err = os.MkdirTemp("", "bsam-check-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(work)
	}
	// Count every run of the suite up front, for run k of K and the ETA.
	total := 0
	for _, x := range exps {
		if e, err := config.Parse(x.Name+".yaml", x.YAML, o.Overrides); err == nil {
			total += 2 * len(e.Runs())
		}
	}
	runs := &train.Reporter{Bar: o.Progress, Log: o.Status, Total: total}
	derr := &DriftError{}
	for i, x := range exps {
		before := len(derr.Nondeterminism)
		o.say("experiment", "n", fmt.Sprintf("%d/%d", i+1, len(exps)), "name", x.Name, "runs", total)
		values, err := runTwice(ctx, x, work, o, derr, runs)
		nondet := len(derr.Nondeterminism) - before
		if err != nil {
			return fmt.Errorf("%s: %w", x.Name, err)
		}
		path := filepath.Join(o.ExpectedDir, x.Name+".json")
		if o.Update {
			exp := Expected{Experiment: x.Name, KernelPath: kernels.ActivePath().String(), Tolerances: DefaultTolerances, Runs: values}
			var old Expected
			if train.ReadJSON(path, &old) == nil && old.Tolerances != nil {
				exp.Tolerances = old.Tolerances // keep tolerances tuned by hand
			}
			if err := os.MkdirAll(o.ExpectedDir, 0o755); err != nil {
				return err
			}
			if err := train.WriteJSONAtomic(path, exp); err != nil {
				return err
			}
			fmt.Fprintf(o.Out, "updated %s (%d runs)\n", path, len(values))
			continue
		}
		var exp Expected
		if err := train.ReadJSON(path, &exp); err != nil {
			return fmt.Errorf("expected values for %s: %w (run bsam check --update to record them)", x.Name, err)
		}
		drifts := compare(x.Name, values, exp)
		derr.Drifts = append(derr.Drifts, drifts...)
		status, verdict := "ok", "within the tolerances of "+path
		if len(drifts) > 0 {
			status, verdict = "DRIFT", fmt.Sprintf("%d values outside the tolerances of %s", len(drifts), path)
		}
		twice := "bit-identical twice"
		if nondet > 0 {
			status, twice = "DRIFT", fmt.Sprintf("%d runs differ between the two trainings", nondet)
		}
		fmt.Fprintf(o.Out, "%-6s %s: %d runs, %s, %s\n", status, x.Name, len(values), twice, verdict)
		for _, d := range drifts {
			fmt.Fprintf(o.Out, "       %s\n", d)
		}
	}
	if len(derr.Drifts) > 0 || len(derr.Nondeterminism) > 0 {
		return derr
	}
	return nil
}

// runTwice trains the experiment into two directories and records any
// difference between the two as nondeterminism.
func runTwice(ctx context.Context, x Experiment, work string, o Options, derr *DriftError, runs *train.Reporter) (map[string]RunValues, error) {
	var ovs []config.Override
	if o.DataDir != "" {
		ovs = append(ovs, config.Override{Path: "data.dir", Value: o.DataDir, Source: "bsam check"})
	}
	e0, err := config.Parse(x.Name+".yaml", x.YAML, nil)
	if err != nil {
		return nil, err
	}
	if e0.Dataset == "cifar10" {
		ovs = append(ovs, config.Override{Path: "data.source", Value: filepath.Join(o.SharedDir, "data", "cifar10-jpeg.tar.gz"), Source: "bsam check"})
	}
	ovs = append(ovs, o.Overrides...)
	var results [2]map[string]RunValues
	var data *datasets.Dataset
	for i := range results {
		run := append(append([]config.Override(nil), ovs...), config.Override{Path: "out", Value: filepath.Join(work, x.Name, fmt.Sprint(i)), Source: "bsam check"})
		e, err := config.Parse(x.Name+".yaml", x.YAML, run)
		if err != nil {
			return nil, err
		}
		if data == nil {
			o.say("loading data", "experiment", x.Name, "dataset", e.Dataset)
			d, err := train.LoadData(ctx, e, o.Logger)
			if err != nil {
				return nil, err
			}
			data = d
		}
		o.say("training", "experiment", x.Name, "pass", fmt.Sprintf("%d/2", i+1), "runs", len(e.Runs()))
		outs, err := train.RunExperiment(ctx, e, data, train.Options{Logger: o.Logger, Force: true, Progress: o.Progress, Runs: runs})
		if err != nil {
			return nil, err
		}
		results[i] = map[string]RunValues{}
		for _, out := range outs {
			if out.Err != nil {
				return nil, fmt.Errorf("%s seed %d: %w", out.Run.Method, out.Run.Seed, out.Err)
			}
			key := fmt.Sprintf("%s-seed%d", out.Run.Method, out.Run.Seed)
			results[i][key] = RunValues{TrainLoss: out.Result.TrainLoss, Point: out.Result.Point, BMA: out.Result.BMA}
		}
	}
	keys := make([]string, 0, len(results[0]))
	for k := range results[0] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !sameBits(results[0][k], results[1][k]) {
			derr.Nondeterminism = append(derr.Nondeterminism, x.Name+" "+k)
		}
	}
	return results[0], nil
}

func sameBits(a, b RunValues) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb) && math.Float64bits(a.TrainLoss) == math.Float64bits(b.TrainLoss)
}

// compare lists the values outside their tolerance.
func compare(name string, got map[string]RunValues, exp Expected) []Drift {
	tol := exp.Tolerances
	if tol == nil {
		tol = DefaultTolerances
	}
	var ds []Drift
	keys := make([]string, 0, len(exp.Runs))
	for k := range exp.Runs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w := exp.Runs[k]
		g, ok := got[k]
		if !ok {
			ds = append(ds, Drift{Experiment: name, Run: k, Value: "missing run", Got: math.NaN(), Want: 0})
			continue
		}
		check := func(value, metric string, gv, wv float64) {
			t := tol[metric]
			if !(math.Abs(gv-wv) <= t.Abs+t.Rel*math.Abs(wv)) {
				ds = append(ds, Drift{Experiment: name, Run: k, Value: value, Got: gv, Want: wv, Tol: t})
			}
		}
		check("train_loss", "train_loss", g.TrainLoss, w.TrainLoss)
		for _, src := range []struct {
			name string
			g, w eval.Metrics
		}{{"point", g.Point, w.Point}, {"bma", g.BMA, w.BMA}} {
			check(src.name+".acc", "acc", src.g.Accuracy, src.w.Accuracy)
			check(src.name+".nll", "nll", src.g.NLL, src.w.NLL)
			check(src.name+".ece", "ece", src.g.ECE, src.w.ECE)
			check(src.name+".auroc", "auroc", src.g.AUROC, src.w.AUROC)
		}
	}
	extra := make([]string, 0)
	for k := range got {
		if _, ok := exp.Runs[k]; !ok {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		ds = append(ds, Drift{Experiment: name, Run: k, Value: "run not in the expected file (bsam check --update records it)", Got: math.NaN(), Want: math.NaN()})
	}
	return ds
}

// IsDrift reports whether err is a *DriftError.
func IsDrift(err error) bool {
	var d *DriftError
	return errors.As(err, &d)
}
