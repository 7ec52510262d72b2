package cli

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bsam-dev/bsam/internal/testutil"
	"github.com/bsam-dev/bsam/pkg/report"
)

// runRoot runs `bsam args...` through the root command (so the
// registration and the root's error settings are exercised) and returns
// stdout, stderr (with the returned error appended as "error: …") and the
// exit code.
func runRoot(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := NewRootCmd()
	var stdout, stderr bytes.Buffer
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetArgs(args)
	err := cmd.Execute()
	if err != nil {
		stderr.WriteString("error: " + err.Error() + "\n")
	}
	return stdout.String(), stderr.String(), ExitCode(err)
}

// runReport is runRoot of `bsam report args...`.
func runReport(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return runRoot(t, append([]string{"report"}, args...)...)
}

func reportFixture(t *testing.T) (results, golden string) {
	t.Helper()
	dir := filepath.Join(testutil.RepoRoot(t), "pkg", "report", "testdata")
	return filepath.Join(dir, "results"), dir
}

// TestReportCmdCSVMatchesGolden checks that the command's CSV is the
// package's golden CSV byte for byte (CSV names no directories, so the path
// of the fixture does not matter) and that data and logs are separated.
func TestReportCmdCSVMatchesGolden(t *testing.T) {
	results, golden := reportFixture(t)
	tests := []struct {
		golden string
		args   []string
	}{
		{"report.csv", []string{"--format", "csv"}},
		{"report_point.csv", []string{"--format", "csv", "--metric-source", "point"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			stdout, stderr, code := runReport(t, append([]string{results}, tt.args...)...)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			want, err := os.ReadFile(filepath.Join(golden, tt.golden))
			if err != nil {
				t.Fatal(err)
			}
			if stdout != string(want) {
				t.Errorf("stdout differs from %s:\n%s", tt.golden, stdout)
			}
			// the failed and the unfinished run are logged on stderr.
			for _, w := range []string{"adam/seed0", "loss diverged", "sam_sgd/seed0", "sam_adam/seed0", "status=running"} {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

func TestReportCmdOutAndPlots(t *testing.T) {
	results, _ := reportFixture(t)
	tmp := t.TempDir()
	out := filepath.Join(tmp, "table.tex")
	plots := filepath.Join(tmp, "fig")
	stdout, stderr, code := runReport(t, results, "--format", "latex", "--out", out, "--plots", plots)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout not empty with --out: %q", stdout)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `\begin{tabular}`) {
		t.Errorf("%s is not the LaTeX table", out)
	}
	entries, err := os.ReadDir(plots)
	if err != nil {
		t.Fatal(err)
	}
	// 2 reliability diagrams + 4 blocks × 2 curves + 4 sweep metrics, each png and svg.
	if len(entries) != 30 { // 15 figures (pkg/report's TestReportPlots lists them), PNG and SVG
		t.Errorf("%d plot files, want 30", len(entries))
	}
}

func TestReportCmdReferenceOverride(t *testing.T) {
	results, _ := reportFixture(t)
	ref := filepath.Join(t.TempDir(), "ref.yaml")
	// SGD acc 92 ± 1 (3 seeds) against 90 ± 0.5: z = +4, above.
	if err := os.WriteFile(ref, []byte("rows:\n  - {model: resnet20_frn, dataset: cifar10, method: sgd, acc: [90, 0.5], nll: null, ece: null, auroc: null}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runReport(t, results, "--format", "csv", "--reference", ref)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := "resnet20_frn,cifar10,sgd,,acc,bma,92,1,3,false,90,0.5,0.5,false,2,4,above,"
	if !strings.Contains(stdout, want) {
		t.Errorf("stdout lacks %q:\n%s", want, stdout)
	}
	recs, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	na := 0
	for _, r := range recs[1:] {
		if r[16] == "n/a" {
			na++
		}
	}
	if na != 4*5+4*2-1 { // every other main cell and all sweep cells
		t.Errorf("n/a cells = %d, want %d", na, 4*5+4*2-1)
	}
}

func TestReportCmdErrors(t *testing.T) {
	results, _ := reportFixture(t)
	empty := t.TempDir()
	badRef := filepath.Join(empty, "bad.yaml")
	if err := os.WriteFile(badRef, []byte("rows: [{model: m}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad format", []string{results, "--format", "html"}, ExitUsage, `--format "html"`},
		{"bad source", []string{results, "--metric-source", "mean"}, ExitUsage, `--metric-source "mean"`},
		{"unknown flag", []string{results, "--colour"}, ExitUsage, "unknown flag"},
		{"bad reference", []string{results, "--reference", badRef}, ExitUsage, "required"},
		{"no results", []string{empty}, ExitRuntime, "no results found: searched " + empty},
		{"missing dir", []string{filepath.Join(empty, "nope")}, ExitRuntime, "no results found: results directory: stat " + filepath.Join(empty, "nope")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runReport(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.want)
			}
			if stdout != "" {
				t.Errorf("stdout not empty on error: %q", stdout)
			}
		})
	}
}

func TestReportCmdHelp(t *testing.T) {
	stdout, _, code := runReport(t, "--help")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	for _, w := range []string{"Examples:", "bsam report results/ --format latex", "sample std (n−1)", "within 2σ", "--metric-source", "--plots"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("help lacks %q", w)
		}
	}
}

// TestReportCmdCommittedProtocols runs report on the repository's committed
// results: the one-epoch and the 11-epoch ResNet-20-FRN/CIFAR-10 runs are
// different protocols and must be separate rows (n = 1 and n = 2 for SGD) in
// every format, never one pooled mean.
func TestReportCmdCommittedProtocols(t *testing.T) {
	one := filepath.Join(testutil.RepoRoot(t), "results", "one-epoch")
	eleven := filepath.Join(testutil.RepoRoot(t), "results", "cifar10-resnet20")
	for _, d := range []string{one, eleven} {
		if _, err := os.Stat(d); err != nil {
			t.Skipf("committed results missing: %v", err)
		}
	}
	for _, format := range []string{"md", "latex", "csv", "json"} {
		stdout, stderr, code := runReport(t, one, eleven, "--format", format)
		if code != ExitOK {
			t.Fatalf("%s: exit %d: %s", format, code, stderr)
		}
		var ns []int
		switch format {
		case "md":
			for _, line := range strings.Split(stdout, "\n") {
				if strings.HasPrefix(line, "| ResNet-20-FRN | CIFAR-10 |") && strings.Contains(line, "| SGD | ") && strings.Contains(line, "epoch") {
					f := strings.Split(line, "|")
					if n, err := strconv.Atoi(strings.TrimSpace(f[5])); err == nil { // the results table, not the comparison
						ns = append(ns, n)
					}
				}
			}
			if !strings.Contains(stdout, "| 11 epochs, 8,000 train") || !strings.Contains(stdout, "| 1 epoch, 50,000 train") {
				t.Errorf("md: protocol labels missing:\n%s", stdout)
			}
		case "latex":
			for _, line := range strings.Split(stdout, "\n") {
				if f := strings.Split(line, " & "); len(f) > 5 && f[3] == "SGD" {
					n, _ := strconv.Atoi(f[4])
					ns = append(ns, n)
				}
			}
		case "csv":
			recs, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs[1:] {
				if r[0] == "resnet20_frn" && r[2] == "sgd" && r[4] == "acc" {
					n, _ := strconv.Atoi(r[8])
					ns = append(ns, n)
				}
			}
		case "json":
			var doc report.JSONReport
			if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
				t.Fatal(err)
			}
			for _, r := range doc.Rows {
				if r.Model == "resnet20_frn" && r.Method == "sgd" {
					ns = append(ns, r.N)
				}
			}
		}
		slices.Sort(ns)
		if !slices.Equal(ns, []int{1, 2}) {
			t.Errorf("%s: ResNet-20-FRN/CIFAR-10 SGD rows have n = %v, want [1 2] (one row per protocol)", format, ns)
		}
	}
	// --protocol selects one of them; the same directory twice is a
	// duplicated seed, an error naming the directories.
	stdout, stderr, code := runReport(t, one, eleven, "--format", "csv", "--protocol", "latest")
	if code != ExitOK || strings.Count(stdout, "resnet20_frn,cifar10,sgd,,acc") != 1 {
		t.Errorf("--protocol latest: exit %d, %s%s", code, stdout, stderr)
	}
	if _, stderr, code := runReport(t, one, "--protocol", "zzzz"); code != ExitUsage || !strings.Contains(stderr, "no protocol matches") {
		t.Errorf("--protocol zzzz: exit %d, %s", code, stderr)
	}
	_, stderr, code = runReport(t, one, one)
	if code != ExitRuntime || !strings.Contains(stderr, "seed 0 in both") || !strings.Contains(stderr, one) {
		t.Errorf("duplicated seed: exit %d, %s", code, stderr)
	}
}
