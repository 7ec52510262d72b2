package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bsam-dev/bsam/pkg/config"
	"github.com/bsam-dev/bsam/pkg/eval"
	"github.com/bsam-dev/bsam/pkg/train"
)

// writeRun writes a run directory as the trainer does: config.yaml from the
// resolved run, result.json and meta.json with the end time.
func writeRun(t *testing.T, dir string, r config.Run, acc float64, ended time.Time) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), r.YAML(), 0o644); err != nil {
		t.Fatal(err)
	}
	epochs := r.Epochs
	if r.ExtraEpoch {
		epochs++
	}
	res := train.Result{Experiment: r.Experiment, Model: r.Model, Dataset: r.Dataset, Method: r.Method, Seed: r.Seed,
		Epochs: epochs, TestMC: 1, Augment: r.Augment, NTrain: 50000, NTest: 10000, Hyper: r.HyperMap(),
		ConfigHash: r.Hash(), Status: "done", EvalSplit: "test",
		Point: eval.Metrics{Accuracy: acc, NLL: 1, ECE: 0.01, AUROC: 0.9}}
	if r.Data.TrainSubset > 0 {
		res.NTrain = r.Data.TrainSubset
	}
	if r.Data.Validation > 0 {
		res.EvalSplit, res.NTest, res.NValidation = "validation", r.Data.Validation, r.Data.Validation
		res.NTrain -= r.Data.Validation
	}
	res.BMA = res.Point
	for name, v := range map[string]any{ResultFile: res, MetaFile: map[string]any{"status": "done", "ended": ended}} {
		b, _ := json.Marshal(v)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func baseRun(t *testing.T, method string, seed, epochs int) config.Run {
	t.Helper()
	e, err := config.Parse("p.yaml", []byte(`name: p
model: resnet20_frn
dataset: cifar10
augment: true
warmup: 1
seeds: [0]
methods:
  sgd: {lr: 0.1}
  bsam: {lr: 0.5, rho: 0.01}
`), []config.Override{{Path: "epochs", Value: itoa(epochs)}})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := e.Method(method)
	r := e.Run(m, seed)
	r.Data.Source = "data/cifar10-jpeg.tar.gz"
	return r
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestReportSeparatesProtocols builds two protocols of the same model,
// dataset and method (1 epoch and 11 epochs) and a duplicated seed.
func TestReportSeparatesProtocols(t *testing.T) {
	root := t.TempDir()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	short := baseRun(t, "sgd", 0, 1)
	writeRun(t, filepath.Join(root, "smoke", "sgd-seed0"), short, 30, t0)
	long := baseRun(t, "sgd", 0, 11)
	writeRun(t, filepath.Join(root, "long", "sgd-seed0"), long, 40, t0.Add(time.Hour))
	long.Seed = 1
	writeRun(t, filepath.Join(root, "long", "sgd-seed1"), long, 42, t0.Add(2*time.Hour))
	// The same long protocol trained elsewhere: another path to the data
	// and another experiment name are still the same protocol.
	other := baseRun(t, "bsam", 0, 11)
	other.Experiment, other.Data.Source = "renamed", "/elsewhere/cifar10-jpeg.tar.gz"
	writeRun(t, filepath.Join(root, "long", "bsam-seed0"), other, 41, t0.Add(3*time.Hour))
	other.Data.Source = "../data/cifar10-jpeg.tar.gz"
	other.Seed = 1
	writeRun(t, filepath.Join(root, "long", "bsam-seed1"), other, 43, t0.Add(3*time.Hour))

	c, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Build(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var sgd []*Row
	for _, row := range rep.Rows {
		if row.Method == "sgd" {
			sgd = append(sgd, row)
		}
	}
	if len(sgd) != 2 {
		t.Fatalf("SGD rows: %d, want 2 (one per protocol)", len(sgd))
	}
	// The longest protocol first: n = 2, mean (40+42)/2; then the smoke run.
	if sgd[0].N() != 2 || !near(sgd[0].Cells[Acc].Mean, 41) || sgd[1].N() != 1 || !near(sgd[1].Cells[Acc].Mean, 30) {
		t.Fatalf("rows: n=%d mean %g, n=%d mean %g; want n=2 mean 41, n=1 mean 30",
			sgd[0].N(), sgd[0].Cells[Acc].Mean, sgd[1].N(), sgd[1].Cells[Acc].Mean)
	}
	if sgd[0].FamilyLabel != "12 epochs" || sgd[1].FamilyLabel != "2 epochs" {
		t.Errorf("labels %q and %q, want what differs: \"12 epochs\" and \"2 epochs\"", sgd[0].FamilyLabel, sgd[1].FamilyLabel)
	}
	var bsam *Row
	for _, row := range rep.Rows {
		if row.Method == "bsam" {
			bsam = row
		}
	}
	if bsam == nil || bsam.N() != 2 || bsam.Family != sgd[0].Family {
		t.Fatalf("bSAM: want both seeds in one row of the long family, got %+v", bsam)
	}
	if len(rep.Protocols) != 2 || rep.Protocols[0].NRuns != 4 || rep.Protocols[1].NRuns != 1 {
		t.Errorf("protocol summaries: %+v", rep.Protocols)
	}
	// Every format shows the rows apart.
	for _, f := range Formats {
		var b strings.Builder
		if err := Write(&b, rep, f); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{ShortHash(sgd[0].Family), ShortHash(sgd[1].Family)} {
			if !strings.Contains(b.String(), want) {
				t.Errorf("%s output lacks protocol %s", f, want)
			}
		}
	}

	// --protocol latest keeps the family of the newest run; a hash prefix
	// selects its family; an unknown one is an error listing the others.
	for _, tc := range []struct {
		sel  string
		want string // family
	}{{ProtocolLatest, sgd[0].Family}, {sgd[1].Family[:6], sgd[1].Family}, {sgd[1].Protocol, sgd[1].Family}} {
		r, err := Build(c, Options{Protocol: tc.sel})
		if err != nil {
			t.Fatalf("--protocol %s: %v", tc.sel, err)
		}
		for _, row := range r.Rows {
			if row.Family != tc.want {
				t.Errorf("--protocol %s kept family %s", tc.sel, row.Family)
			}
		}
		if len(r.Rows) == 0 {
			t.Errorf("--protocol %s kept nothing", tc.sel)
		}
	}
	if _, err := Build(c, Options{Protocol: "ffffffff"}); !errors.Is(err, ErrNoProtocol) || !strings.Contains(err.Error(), ShortHash(sgd[0].Family)) {
		t.Errorf("unknown protocol: err = %v", err)
	}

	// A copy of a run (same protocol and seed) is an error naming both.
	dup := filepath.Join(root, "copy", "sgd-seed1")
	writeRun(t, dup, long, 42, t0)
	c, err = Load(root)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Build(c, Options{})
	if !errors.Is(err, ErrDuplicateSeed) || !strings.Contains(err.Error(), dup) || !strings.Contains(err.Error(), filepath.Join(root, "long", "sgd-seed1")) {
		t.Fatalf("duplicated seed: err = %v, want ErrDuplicateSeed naming both directories", err)
	}
}

// TestReportValidationRowsNotCompared checks that runs scored on a
// validation split form their own protocol and are never compared with the
// paper's test-set numbers.
func TestReportValidationRowsNotCompared(t *testing.T) {
	root := t.TempDir()
	r := baseRun(t, "sgd", 0, 180)
	writeRun(t, filepath.Join(root, "test", "sgd-seed0"), r, 91, time.Time{})
	r.Data.Validation = 5000
	writeRun(t, filepath.Join(root, "val", "sgd-seed0"), r, 90, time.Time{})
	c, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := DefaultReference()
	rep, err := Build(c, Options{Reference: ref})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rep.Rows))
	}
	test, val := rep.Rows[0], rep.Rows[1]
	if test.EvalSplit() != "test" || val.EvalSplit() != "validation" {
		t.Fatalf("order/splits: %s then %s", test.EvalSplit(), val.EvalSplit())
	}
	if test.Cells[Acc].Paper == nil || val.Cells[Acc].Paper != nil || !strings.Contains(val.Cells[Acc].PaperNote, "validation") {
		t.Errorf("paper comparison: test %v, validation %v (%q)", test.Cells[Acc].Paper, val.Cells[Acc].Paper, val.Cells[Acc].PaperNote)
	}
	if !strings.Contains(val.FamilyLabel, "validation split (5,000 held out)") {
		t.Errorf("validation label %q", val.FamilyLabel)
	}
	var md strings.Builder
	WriteMarkdown(&md, rep)
	if !strings.Contains(md.String(), "| validation |") || !strings.Contains(md.String(), "n/a (validation split; the paper reports the test split)") {
		t.Errorf("markdown does not say which split:\n%s", md.String())
	}
}

// TestSweepPlotKeepsBarsInside checks that the y range holds every error bar
// and the reference band with a margin (the ρ = 0.1 bar once ran under the
// axis), and that the band is in the legend.
func TestSweepPlotKeepsBarsInside(t *testing.T) {
	var rows []*Row
	for i, v := range []float64{0.01, 0.1} {
		rows = append(rows, &Row{Model: "m", Dataset: "d", Method: "sam_sgd", Swept: []string{"rho"},
			Setting: map[string]float64{"rho": v}, Cells: map[Metric]*Cell{NLL: {Mean: 0.5 + 0.3*float64(i), Std: 0.2, N: 2}}})
	}
	band := &Row{Model: "m", Dataset: "d", Method: "sgd", Cells: map[Metric]*Cell{NLL: {Mean: 0.2, Std: 0.05, N: 2}},
		Runs: []Run{{}, {}}}
	p, err := sweepPlot(rows, []*Row{band}, "rho", NLL)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := 0.15, 1.0 // band bottom 0.2−0.05, top bar 0.8+0.2
	if !(p.Y.Min < lo && p.Y.Max > hi) {
		t.Errorf("y range [%g, %g] does not hold [%g, %g] with a margin", p.Y.Min, p.Y.Max, lo, hi)
	}
	if p.X.Label.Text != "ρ" {
		t.Errorf("x label %q", p.X.Label.Text)
	}
	var buf strings.Builder
	wt, err := p.WriterTo(200, 150, "svg")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	wt.WriteTo(&b)
	buf.WriteString(b.String())
	if !strings.Contains(buf.String(), "SGD (no ρ)") {
		t.Errorf("the SGD band is not in the legend")
	}
}

// TestReportSensitivity checks the sweep summary against the fixture's
// values by hand: bSAM ρ = 0.001 (acc 91.2, NLL 0.27, mean of 2 seeds) and
// ρ = 0.1 (acc 92.2, NLL 0.23, 1 seed).
func TestReportSensitivity(t *testing.T) {
	rep := buildFixture(t, SourceBMA)
	if len(rep.Sensitivity) != 1 {
		t.Fatalf("%d sensitivity entries, want 1", len(rep.Sensitivity))
	}
	x := rep.Sensitivity[0]
	if x.Method != "bsam" || x.Points != 2 || x.MinSeeds != 1 || !near(x.Spread[Acc], 1.0) || !near(x.Spread[NLL], 0.04) || x.BestNLL != "rho=0.1" {
		t.Errorf("sensitivity %+v; want bsam, 2 points, ≥1 seed, acc spread 1, NLL spread 0.04, best rho=0.1", x)
	}
}

// TestReportSeparatesPrecisions checks that bf16 and fp32 runs of the same
// protocol never share a cell and are labelled by their precision.
func TestReportSeparatesPrecisions(t *testing.T) {
	root := t.TempDir()
	r := baseRun(t, "sgd", 0, 3)
	writeRun(t, filepath.Join(root, "fp32", "sgd-seed0"), r, 50, time.Time{})
	r.Engine.Precision = "bf16"
	writeRun(t, filepath.Join(root, "bf16", "sgd-seed0"), r, 49, time.Time{})
	c, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Build(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 2 {
		t.Fatalf("%d rows, want one per precision", len(rep.Rows))
	}
	labels := []string{rep.Rows[0].FamilyLabel, rep.Rows[1].FamilyLabel}
	if !(labels[0] == "fp32" && labels[1] == "bf16" || labels[0] == "bf16" && labels[1] == "fp32") {
		t.Errorf("labels %q, want fp32 and bf16", labels)
	}
	for _, p := range rep.Protocols {
		if strings.Contains(p.Label, "bf16") != strings.Contains(p.Description, "bf16 GEMMs") {
			t.Errorf("protocol %s: label %q, description %q", p.Family, p.Label, p.Description)
		}
	}
}

// TestPreciseTicks checks that tick labels print their values: gonum's
// default labelled a tick at 1.35 "1.4".
func TestPreciseTicks(t *testing.T) {
	for _, tc := range []struct{ lo, hi float64 }{{1.345, 1.56}, {0.0196, 0.0237}, {45.8, 51}, {0, 1}} {
		for _, tk := range (preciseTicks{}).Ticks(tc.lo, tc.hi) {
			if tk.Label == "" {
				continue
			}
			v, err := strconv.ParseFloat(tk.Label, 64)
			if err != nil || math.Abs(v-tk.Value) > 1e-9*math.Max(1, math.Abs(tk.Value)) {
				t.Errorf("[%g, %g]: tick %g labelled %q", tc.lo, tc.hi, tk.Value, tk.Label)
			}
		}
	}
}

// TestProtocolConv checks that the convolution algorithm recorded in
// result.json separates protocols: "" (written before the field existed,
// computed directly) reads as direct, whatever the model's default is
// now, and winograd is a protocol of its own.
func TestProtocolConv(t *testing.T) {
	r := baseRun(t, "sgd", 0, 3)
	r.Model = "resnet18" // default winograd: the result, not the default, decides
	p := func(conv string) ProtocolInfo {
		return protocolOf(&r, train.Result{Model: r.Model, Dataset: r.Dataset, Method: r.Method, Conv: conv})
	}
	old, direct, wino := p(""), p("direct"), p("winograd")
	if old.Protocol != direct.Protocol || old.Family != direct.Family {
		t.Errorf("a result without conv and a direct one have protocols %s/%s and %s/%s", old.Protocol, old.Family, direct.Protocol, direct.Family)
	}
	if wino.Protocol == direct.Protocol || wino.Family == direct.Family {
		t.Errorf("winograd and direct share protocol %s or family %s", wino.Protocol, wino.Family)
	}
}
