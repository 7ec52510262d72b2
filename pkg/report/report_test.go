package report

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"image/png"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot"

	"github.com/bsam-dev/bsam/internal/testutil"
	"github.com/bsam-dev/bsam/pkg/train"
)

const tol = 1e-9

func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b))
}

func findRow(t *testing.T, rows []*Row, model, dataset, method, setting string) *Row {
	t.Helper()
	for _, r := range rows {
		if r.Model == model && r.Dataset == dataset && r.Method == method && r.SettingString() == setting {
			return r
		}
	}
	t.Fatalf("no row %s/%s/%s %q", model, dataset, method, setting)
	return nil
}

// TestReportMeanStd checks aggregated cells against values computed by
// hand from the fixture's result.json files.
func TestReportMeanStd(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		source                        string
		model, dataset, method, sweep string
		metric                        Metric
		mean, std                     float64
		n                             int
	}{
		// SGD acc 91, 92, 93: mean 92, sample std sqrt((1+0+1)/2) = 1.
		{SourceBMA, "resnet20_frn", "cifar10", "sgd", "", Acc, 92, 1, 3},
		// NLL 0.30, 0.32, 0.34: std sqrt((0.0004+0+0.0004)/2) = 0.02.
		{SourceBMA, "resnet20_frn", "cifar10", "sgd", "", NLL, 0.32, 0.02, 3},
		{SourceBMA, "resnet20_frn", "cifar10", "sgd", "", ECE, 0.04, 0.01, 3},
		{SourceBMA, "resnet20_frn", "cifar10", "sgd", "", AUROC, 0.93, 0.005, 3},
		// bSAM BMA acc 92.1, 92.5: std |Δ|/√2 = 0.4/√2.
		{SourceBMA, "resnet20_frn", "cifar10", "bsam", "", Acc, 92.3, 0.4 / math.Sqrt2, 2},
		{SourceBMA, "resnet20_frn", "cifar10", "bsam", "", NLL, 0.23, 0.02 / math.Sqrt2, 2},
		// the point prediction of the same runs: 91.9, 92.1.
		{SourcePoint, "resnet20_frn", "cifar10", "bsam", "", Acc, 92.0, 0.2 / math.Sqrt2, 2},
		{SourcePoint, "resnet20_frn", "cifar10", "bsam", "", ECE, 0.025, 0.01 / math.Sqrt2, 2},
		// one seed: no std.
		{SourceBMA, "resnet20_frn", "cifar100", "bsam", "", Acc, 68, nan, 1},
		{SourceBMA, "resnet18", "cifar10", "adam", "", AUROC, 0.91, nan, 1},
		// sweep point rho=0.001, seeds 91.0 and 91.4.
		{SourceBMA, "resnet20_frn", "cifar10", "bsam", "rho=0.001", Acc, 91.2, 0.4 / math.Sqrt2, 2},
		{SourceBMA, "resnet20_frn", "cifar10", "bsam", "rho=0.1", NLL, 0.23, nan, 1},
	}
	for _, tt := range tests {
		t.Run(tt.source+"/"+tt.method+"/"+tt.dataset+"/"+tt.sweep+"/"+string(tt.metric), func(t *testing.T) {
			rep := buildFixture(t, tt.source)
			rows := rep.Rows
			if tt.sweep != "" {
				rows = rep.Sweeps
			}
			c := findRow(t, rows, tt.model, tt.dataset, tt.method, tt.sweep).Cells[tt.metric]
			if !near(c.Mean, tt.mean) || !near(c.Std, tt.std) || c.N != tt.n {
				t.Errorf("got %v ± %v (n=%d), want %v ± %v (n=%d)", c.Mean, c.Std, c.N, tt.mean, tt.std, tt.n)
			}
		})
	}
}

func TestReportOneSeedShowsNoStd(t *testing.T) {
	rep := buildFixture(t, SourceBMA)
	var md, tex bytes.Buffer
	if err := WriteMarkdown(&md, rep); err != nil {
		t.Fatal(err)
	}
	if err := WriteLaTeX(&tex, rep); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, out, want, notWant string
	}{
		{"md one seed", md.String(), "| bSAM | 1 | **68.00** | 68.22 ± 0.14 |", "68.00 ±"},
		{"md three seeds", md.String(), "| SGD | 3 | 92.00 ± 1.00 |", ""},
		{"latex one seed", tex.String(), `\textbf{68.00} & 68.22 $\pm$ 0.14`, `68.00 $\pm$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(tt.out, tt.want) {
				t.Errorf("output lacks %q", tt.want)
			}
			if tt.notWant != "" && strings.Contains(tt.out, tt.notWant) {
				t.Errorf("output has %q", tt.notWant)
			}
		})
	}
}

func TestReportFailedRunsListedNotAveraged(t *testing.T) {
	rep := buildFixture(t, SourceBMA)
	want := []Failure{
		{Dir: filepath.Join(fixtureDir, "r20_c10/adam/seed0"), Status: "failed", Reason: "loss diverged (NaN) at epoch 1"},
		{Dir: filepath.Join(fixtureDir, "r20_c10/sam_adam/seed0"), Status: "running", Reason: "no result.json; 1 epoch completed"},
		{Dir: filepath.Join(fixtureDir, "r20_c10/sam_sgd/seed0"), Status: "failed", Reason: "diverged: training loss is NaN at epoch 2"},
	}
	if len(rep.Failures) != len(want) {
		t.Fatalf("failures = %+v, want %+v", rep.Failures, want)
	}
	for i := range want {
		if rep.Failures[i] != want[i] {
			t.Errorf("failure %d = %+v, want %+v", i, rep.Failures[i], want[i])
		}
	}
	if rep.NRuns != 11 {
		t.Errorf("NRuns = %d, want 11 finished runs", rep.NRuns)
	}
	for _, r := range append(append([]*Row(nil), rep.Rows...), rep.Sweeps...) {
		if r.Model == "resnet20_frn" && r.Dataset == "cifar10" && (r.Method == "adam" || r.Method == "sam_sgd" || r.Method == "sam_adam") {
			t.Errorf("row %s built from a failed/unfinished run", r.Label())
		}
	}
	var md bytes.Buffer
	if err := WriteMarkdown(&md, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "| testdata/results/r20_c10/adam/seed0 | failed | loss diverged (NaN) at epoch 1 |") {
		t.Error("Markdown does not list the failed run")
	}
}

func TestReportRowOrderAndBest(t *testing.T) {
	rep := buildFixture(t, SourceBMA)
	var got []string
	for _, r := range rep.Rows {
		best := ""
		for _, m := range Metrics {
			if r.Cells[m].Best {
				best += string(m) + " "
			}
		}
		got = append(got, r.Model+"/"+r.Dataset+"/"+r.Method+": "+strings.TrimSpace(best))
	}
	want := []string{
		"resnet20_frn/cifar10/sgd: auroc", // 0.930 > 0.925
		"resnet20_frn/cifar10/bsam: acc nll ece",
		"resnet20_frn/cifar100/bsam: acc nll ece auroc", // alone in its block
		"resnet20_frn/tinyimagenet/sam_sgd: acc nll ece auroc",
		"resnet18/cifar10/adam: acc nll ece auroc",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows/best:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestReportReferenceComparison(t *testing.T) {
	rep := buildFixture(t, SourceBMA)
	nan := math.NaN()
	tests := []struct {
		dataset, method string
		metric          Metric
		paper, sigma    float64
		replaced        bool
		diff, z         float64
		verdict         string
	}{
		{"cifar10", "sgd", Acc, 91.68, 0.26, false, 0.32, 0.32 / 0.26, VerdictWithin},
		{"cifar10", "sgd", NLL, 0.29, 0.008, false, 0.03, 3.75, VerdictAbove},
		{"cifar10", "sgd", AUROC, 0.915, 0.002, false, 0.015, 7.5, VerdictAbove},
		{"cifar100", "bsam", Acc, 68.22, 0.14, false, -0.22, -0.22 / 0.14, VerdictWithin},
		// TinyImageNet ECE std 0.032 > 0.5 × 0.0155: σ falls back to the median
		// of the 16 plausible ECE stds (four 0.001, six 0.002, four 0.003,
		// 0.004, 0.006: median 0.002).
		{"tinyimagenet", "sam_sgd", ECE, 0.0155, 0.002, true, 0.0045, 2.25, VerdictAbove},
		// The paper gives no bSAM AUROC on CIFAR-100.
		{"cifar100", "bsam", AUROC, nan, nan, false, nan, nan, VerdictNA},
	}
	for _, tt := range tests {
		t.Run(tt.dataset+"/"+tt.method+"/"+string(tt.metric), func(t *testing.T) {
			c := findRow(t, rep.Rows, "resnet20_frn", tt.dataset, tt.method, "").Cells[tt.metric]
			paper := nan
			if c.Paper != nil {
				paper = c.Paper.Mean
			}
			if !near(paper, tt.paper) || !near(c.Sigma, tt.sigma) || c.SigmaReplaced != tt.replaced ||
				!near(c.Diff, tt.diff) || !near(c.Z, tt.z) || c.Verdict != tt.verdict {
				t.Errorf("got paper %v σ %v replaced %v Δ %v z %v %q; want %v %v %v %v %v %q",
					paper, c.Sigma, c.SigmaReplaced, c.Diff, c.Z, c.Verdict, tt.paper, tt.sigma, tt.replaced, tt.diff, tt.z, tt.verdict)
			}
		})
	}
	// Counted by hand over the fixture's 5 rows × 4 metrics.
	counts := map[string]int{}
	for _, r := range rep.Rows {
		for _, m := range Metrics {
			counts[r.Cells[m].Verdict]++
		}
	}
	if want := map[string]int{VerdictWithin: 11, VerdictAbove: 4, VerdictNA: 5}; len(counts) != len(want) ||
		counts[VerdictWithin] != 11 || counts[VerdictAbove] != 4 || counts[VerdictNA] != 5 {
		t.Errorf("verdict counts %v, want %v", counts, want)
	}
	r18 := findRow(t, rep.Rows, "resnet18", "cifar10", "adam", "")
	for _, m := range Metrics {
		if c := r18.Cells[m]; c.Paper != nil || c.Verdict != VerdictNA {
			t.Errorf("ResNet-18 Adam %s: paper %v verdict %q, want none and n/a", m, c.Paper, c.Verdict)
		}
	}
}

func TestReportVerdictBelow(t *testing.T) {
	ref, err := ParseReference([]byte("rows:\n  - {model: m, dataset: d, method: sgd, acc: [95, 0.5], nll: null, ece: [0.02, 0.002], auroc: [0.9, 0.01]}\n"), "test")
	if err != nil {
		t.Fatal(err)
	}
	c := &Collection{Runs: []Run{{Dir: "a"}}}
	c.Runs[0].Result.Model, c.Runs[0].Result.Dataset, c.Runs[0].Result.Method = "m", "d", "sgd"
	c.Runs[0].Result.BMA.Accuracy, c.Runs[0].Result.BMA.ECE, c.Runs[0].Result.BMA.AUROC = 93.9, 0.02, 0.92
	rep, err := Build(c, Options{Reference: ref})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		m       Metric
		z       float64
		verdict string
	}{
		{Acc, -2.2, VerdictBelow}, // (93.9 − 95) / 0.5
		{NLL, math.NaN(), VerdictNA},
		{ECE, 0, VerdictWithin},
		{AUROC, 2, VerdictWithin}, // exactly 2σ is within
	}
	for _, tt := range tests {
		c := rep.Rows[0].Cells[tt.m]
		if !near(c.Z, tt.z) || c.Verdict != tt.verdict {
			t.Errorf("%s: z %v %q, want %v %q", tt.m, c.Z, c.Verdict, tt.z, tt.verdict)
		}
	}
}

func TestReportParseReferenceErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"empty", "rows: []\n", "no rows"},
		{"arity", "rows:\n  - {model: m, dataset: d, method: s, acc: [1, 2, 3]}\n", "want [mean, std]"},
		{"missing method", "rows:\n  - {model: m, dataset: d, acc: [1, 2]}\n", "required"},
		{"negative std", "rows:\n  - {model: m, dataset: d, method: s, acc: [1, -2]}\n", "negative std"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseReference([]byte(tt.yaml), "x")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
	ref, err := DefaultReference()
	if err != nil {
		t.Fatal(err)
	}
	if len(ref.Rows) != 21 {
		t.Errorf("embedded reference has %d rows, want 21", len(ref.Rows))
	}
	if v := ref.Lookup("resnet18", "cifar100", "bsam", Acc); v == nil || *v != (Value{80.22, 0.28}) {
		t.Errorf("ResNet-18 CIFAR-100 bSAM acc = %v, want 80.22 ± 0.28", v)
	}
}

func TestReportDeviations(t *testing.T) {
	rep := buildFixture(t, SourceBMA)
	want := []string{
		"ResNet-20-FRN / CIFAR-10 / SGD: 3 seeds (paper: 5 assumed); epochs 3 (paper: 181); ntrain 1000 (canonical: 50000); ntest 500 (canonical: 10000); augmentation off in 1 of 3 runs (paper: on)",
		"ResNet-20-FRN / CIFAR-10 / bSAM: 2 seeds (paper: 5 assumed); epochs 3 (paper: 181); ntrain 1000 (canonical: 50000); ntest 500 (canonical: 10000); test_mc 8/32 (paper: 32)",
		"ResNet-20-FRN / CIFAR-100 / bSAM: 1 seed (paper: 5 assumed)",
		"ResNet-20-FRN / TinyImageNet / SAM-SGD: 1 seed (paper: 5 assumed); epochs 3 (paper: 181)",
		"ResNet-18 / CIFAR-10 / Adam: 1 seed (paper: 5 assumed); epochs 3 (paper: 181); ntrain 1000 (canonical: 50000); ntest 500 (canonical: 10000)",
	}
	if strings.Join(rep.Deviations, "\n") != strings.Join(want, "\n") {
		t.Errorf("deviations:\n%s\nwant\n%s", strings.Join(rep.Deviations, "\n"), strings.Join(want, "\n"))
	}
	point := buildFixture(t, SourcePoint)
	if !strings.Contains(strings.Join(point.Deviations, "\n"), "CIFAR-10 / bSAM: 2 seeds (paper: 5 assumed); epochs 3 (paper: 181); ntrain 1000 (canonical: 50000); ntest 500 (canonical: 10000); scored at the posterior mean (paper: BMA)") {
		t.Errorf("point-source deviations lack the BMA remark:\n%s", strings.Join(point.Deviations, "\n"))
	}
}

func TestReportLoadErrors(t *testing.T) {
	empty := t.TempDir()
	_, err := Load(empty)
	if !errors.Is(err, ErrNoResults) || !strings.Contains(err.Error(), empty) {
		t.Errorf("empty dir: err = %v, want ErrNoResults naming %s", err, empty)
	}
	missing := filepath.Join(empty, "nope")
	if _, err := Load(missing); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing dir: err = %v", err)
	}
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, ResultFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), ResultFile) {
		t.Errorf("corrupt result.json: err = %v", err)
	}
	if _, err := Build(&Collection{}, Options{Source: "mean"}); err == nil {
		t.Error("Build accepted metric source \"mean\"")
	}
}

func TestReportUnfinishedFromMeta(t *testing.T) {
	tests := []struct {
		name, meta     string
		status, reason string
	}{
		{"no meta", "", "unfinished", "no result.json"},
		{"running", `{"status":"running","epoch":3}`, "running", "no result.json; 3 epochs completed"},
		{"interrupted", `{"status":"interrupted","reason":"interrupted","epoch":0}`, "interrupted", "interrupted"},
		{"done without result", `{"status":"done","epoch":181}`, "incomplete", "meta.json says done but result.json is missing"},
		{"corrupt meta", `{"status":`, "unfinished", "no result.json; meta.json unreadable: unexpected end of JSON input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			// Load only calls unfinished for directories with meta.json;
			// the "no meta" case covers a meta.json removed meanwhile.
			if tt.meta != "" {
				if err := os.WriteFile(filepath.Join(dir, MetaFile), []byte(tt.meta), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got := unfinished(dir)
			if got.Status != tt.status || got.Reason != tt.reason || got.Dir != dir {
				t.Errorf("got %+v, want status %q reason %q", got, tt.status, tt.reason)
			}
		})
	}
}

func TestReportPoolReliability(t *testing.T) {
	c, err := Load(filepath.Join(fixtureDir, "r20_c10", "sgd"))
	if err != nil {
		t.Fatal(err)
	}
	bins, ok := PoolReliability(c.Runs)
	if !ok || len(bins) != 20 {
		t.Fatalf("ok=%v, %d bins, want 20", ok, len(bins))
	}
	// Bin 2 [0.10, 0.15]: counts 20, 22, 24 with accuracies 0.095, 0.097,
	// 0.099 and confidence 0.125 in each seed.
	want := PooledBin{Lower: 0.1, Upper: 0.15, Count: 66, Confidence: 0.125, Accuracy: (20*0.095 + 22*0.097 + 24*0.099) / 66}
	got := bins[2]
	if got.Lower != want.Lower || got.Upper != want.Upper || got.Count != want.Count || !near(got.Confidence, want.Confidence) || !near(got.Accuracy, want.Accuracy) {
		t.Errorf("bin 2 = %+v, want %+v", got, want)
	}
	if bins[0].Count != 0 {
		t.Errorf("bin 0 count = %d, want 0", bins[0].Count)
	}
}

// stripTeXComments removes everything from an unescaped % to the end of
// each line.
func stripTeXComments(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		for i := 0; i < len(line); i++ {
			if line[i] == '\\' {
				i++
				continue
			}
			if line[i] == '%' {
				line = line[:i]
				break
			}
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// countUnescaped counts c in s, skipping characters escaped by a backslash.
func countUnescaped(s string, c byte) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if s[i] == c {
			n++
		}
	}
	return n
}

func TestReportLaTeXStructure(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteLaTeX(&buf, buildFixture(t, SourceBMA)); err != nil {
		t.Fatal(err)
	}
	tex := stripTeXComments(buf.String())
	depth := 0
	for i := 0; i < len(tex); i++ {
		switch tex[i] {
		case '\\':
			i++
		case '{':
			depth++
		case '}':
			depth--
			if depth < 0 {
				t.Fatalf("unbalanced } at byte %d", i)
			}
		}
	}
	if depth != 0 {
		t.Fatalf("%d unclosed {", depth)
	}
	if n := countUnescaped(tex, '$'); n%2 != 0 {
		t.Errorf("odd number of $ (%d)", n)
	}
	begin := strings.Index(tex, `\begin{tabular}`)
	end := strings.Index(tex, `\end{tabular}`)
	if begin < 0 || end < begin {
		t.Fatalf("no \\begin{tabular} … \\end{tabular}")
	}
	body := tex[begin:end]
	colspec := regexp.MustCompile(`\\begin\{tabular\}\{([lcr]+)\}`).FindStringSubmatch(body)
	if colspec == nil {
		t.Fatal("no column spec")
	}
	top, mid, bottom := strings.Index(tex, `\toprule`), strings.Index(tex, `\midrule`), strings.Index(tex, `\bottomrule`)
	if !(begin < top && top < mid && mid < bottom && bottom < end) {
		t.Errorf("booktabs rules out of order: toprule %d midrule %d bottomrule %d", top, mid, bottom)
	}
	if strings.Contains(body, `\hline`) {
		t.Error("uses \\hline instead of booktabs rules")
	}
	var rows []string
	for _, line := range strings.Split(body, "\n") {
		if strings.HasSuffix(strings.TrimSpace(line), `\\`) {
			rows = append(rows, line)
		}
	}
	if len(rows) != 1+5 {
		t.Fatalf("%d rows, want header + 5", len(rows))
	}
	header := countUnescaped(rows[0], '&')
	if header != len(colspec[1])-1 {
		t.Errorf("header has %d &, column spec %q wants %d", header, colspec[1], len(colspec[1])-1)
	}
	for i, r := range rows[1:] {
		if n := countUnescaped(r, '&'); n != header {
			t.Errorf("row %d has %d &, header %d: %s", i+1, n, header, r)
		}
	}
	if !strings.Contains(body, `\textbf{`) || !strings.Contains(body, `$\pm$`) {
		t.Error("no \\textbf or $\\pm$ in the table")
	}

	pdflatex, err := exec.LookPath("pdflatex")
	if err != nil {
		t.Skip("pdflatex not on PATH: skipping the compile check")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "table.tex"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	doc := "\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n\\tiny\n\\input{table}\n\\end{document}\n"
	if err := os.WriteFile(filepath.Join(dir, "doc.tex"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, pdflatex, "-interaction=nonstopmode", "-halt-on-error", "doc.tex")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pdflatex: %v\n%s", err, out)
	}
	if st, err := os.Stat(filepath.Join(dir, "doc.pdf")); err != nil || st.Size() == 0 {
		t.Fatalf("no PDF: %v", err)
	}
}

func TestReportPlots(t *testing.T) {
	rep := buildFixture(t, SourceBMA)
	dir := t.TempDir()
	files, err := WritePlots(dir, rep)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)))
	}
	want := []string{
		"curves_resnet18_cifar10_acc", "curves_resnet18_cifar10_nll",
		"curves_resnet20_frn_cifar10_acc", "curves_resnet20_frn_cifar10_nll",
		"curves_resnet20_frn_cifar100_acc", "curves_resnet20_frn_cifar100_nll",
		"curves_resnet20_frn_tinyimagenet_acc", "curves_resnet20_frn_tinyimagenet_nll",
		"reliability_resnet20_frn_cifar10_bsam", "reliability_resnet20_frn_cifar10_sgd",
		"sweep_resnet20_frn_cifar10_rho_acc", "sweep_resnet20_frn_cifar10_rho_auroc",
		"sweep_resnet20_frn_cifar10_rho_ece", "sweep_resnet20_frn_cifar10_rho_nll",
		"sensitivity_resnet20_frn_cifar10_rho",
	}
	var wantFiles []string
	for _, w := range want {
		wantFiles = append(wantFiles, w, w) // .png and .svg
	}
	sort.Strings(names)
	sort.Strings(wantFiles)
	if strings.Join(names, " ") != strings.Join(wantFiles, " ") {
		t.Fatalf("figures:\n%s\nwant (each as png and svg)\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) == 0 {
			t.Errorf("%s is empty", f)
			continue
		}
		switch filepath.Ext(f) {
		case ".png":
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Errorf("%s: %v", f, err)
			} else if r := img.Bounds(); r.Dx() < 100 || r.Dy() < 100 {
				t.Errorf("%s: %v too small", f, r)
			}
		case ".svg":
			head := strings.TrimSpace(string(b[:min(len(b), 100)]))
			if !strings.HasPrefix(head, "<?xml") && !strings.HasPrefix(head, "<svg") {
				t.Errorf("%s starts with %q", f, head)
			}
			dec := xml.NewDecoder(bytes.NewReader(b))
			sawSVG := false
			for {
				tok, err := dec.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Errorf("%s: invalid XML: %v", f, err)
					break
				}
				if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "svg" {
					sawSVG = true
				}
			}
			if !sawSVG {
				t.Errorf("%s has no <svg> element", f)
			}
		default:
			t.Errorf("unexpected file %s", f)
		}
	}
}

func TestReportSweepLogAxis(t *testing.T) {
	mk := func(vals ...float64) []*Row {
		var rows []*Row
		for _, v := range vals {
			rows = append(rows, &Row{Model: "m", Dataset: "d", Method: "bsam", Swept: []string{"rho"},
				Setting: map[string]float64{"rho": v}, Cells: map[Metric]*Cell{Acc: {Mean: 90, Std: math.NaN(), N: 1}}})
		}
		return rows
	}
	tests := []struct {
		name string
		vals []float64
		log  bool
	}{
		{"two decades", []float64{0.001, 0.01, 0.1}, true},
		{"within a decade", []float64{0.02, 0.05, 0.1}, false},
		{"exactly a decade", []float64{0.01, 0.1}, false},
		{"zero value", []float64{0, 1, 100}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := sweepPlot(mk(tt.vals...), nil, "rho", Acc)
			if err != nil {
				t.Fatal(err)
			}
			_, isLog := p.X.Scale.(plot.LogScale)
			if isLog != tt.log {
				t.Errorf("log x = %v, want %v", isLog, tt.log)
			}
		})
	}
}

// TestReportEmbeddedReferenceMatchesShared guards the embedded copy of the
// paper's table against drifting from the shared original.
func TestReportEmbeddedReferenceMatchesShared(t *testing.T) {
	shared := filepath.Join(testutil.RepoRoot(t), "..", "shared", "reference", "paper_table.yaml")
	b, err := os.ReadFile(shared)
	if err != nil {
		t.Skipf("shared reference not found at %s: %v", shared, err)
	}
	if !bytes.Equal(b, embeddedReference) {
		t.Errorf("reference/paper_table.yaml differs from %s; copy it again", shared)
	}
}

// TestDeviationsNameOtherData: runs trained on a stand-in for the canonical
// archive (data.source) are flagged in the protocol footer.
func TestDeviationsNameOtherData(t *testing.T) {
	res := train.Result{Model: "resnet20_frn", Dataset: "cifar10", Method: "sgd", Epochs: 181, Augment: true,
		NTrain: 50000, NTest: 10000, Status: "done", DataSource: "cifar10-jpeg.tar.gz"}
	c := &Collection{Runs: []Run{{Dir: "a", Result: res}}}
	rep, err := Build(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(rep.Deviations, "; ")
	if !strings.Contains(got, "data from cifar10-jpeg.tar.gz (paper: the canonical archive)") {
		t.Errorf("deviations %q do not name the stand-in data", got)
	}
	res.DataSource = ""
	c.Runs[0].Result = res
	rep, _ = Build(c, Options{})
	if got := strings.Join(rep.Deviations, "; "); strings.Contains(got, "data from") {
		t.Errorf("canonical data flagged: %q", got)
	}
}

// A result.json written before data_source existed takes the source from the
// run's resolved config.yaml.
func TestLoadDataSourceFromConfig(t *testing.T) {
	root := t.TempDir()
	for name, src := range map[string]string{"old-seed0": "data:\n  source: /somewhere/cifar10-jpeg.tar.gz\n", "canon-seed0": "data:\n  dir: x\n"} {
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		res := `{"model":"resnet20_frn","dataset":"cifar10","method":"sgd","status":"done"}`
		if err := os.WriteFile(filepath.Join(dir, ResultFile), []byte(res), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range c.Runs {
		got[filepath.Base(r.Dir)] = r.Result.DataSource
	}
	if got["old-seed0"] != "cifar10-jpeg.tar.gz" || got["canon-seed0"] != "" {
		t.Errorf("data sources %v, want cifar10-jpeg.tar.gz for old-seed0 and none for canon-seed0", got)
	}
}

// MNIST and FashionMNIST are in the paper's table without augmentation: a
// run without it is no deviation there, one with it is.
func TestDeviationsAugmentationPerTable(t *testing.T) {
	for _, tc := range []struct {
		dataset string
		augment bool
		want    string // "" means no augmentation deviation
	}{
		{"fmnist", false, ""},
		{"fmnist", true, "augmentation on in 1 of 1 runs (paper: off)"},
		{"mnist", false, ""},
		{"cifar10", true, ""},
		{"cifar10", false, "augmentation off in 1 of 1 runs (paper: on)"},
	} {
		res := train.Result{Model: "lenet", Dataset: tc.dataset, Method: "sgd", Epochs: PaperEpochs, Augment: tc.augment, Status: "done"}
		rep, err := Build(&Collection{Runs: []Run{{Dir: "a", Result: res}}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Join(rep.Deviations, "; ")
		if tc.want == "" && strings.Contains(got, "augmentation") {
			t.Errorf("%s augment=%v: unexpected deviation %q", tc.dataset, tc.augment, got)
		}
		if tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("%s augment=%v: deviations %q lack %q", tc.dataset, tc.augment, got, tc.want)
		}
		if !strings.Contains(got, "LeNet-5") && got != "" {
			t.Errorf("deviation %q does not spell the model LeNet-5", got)
		}
	}
}
