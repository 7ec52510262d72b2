package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/bsam-dev/bsam/internal/testutil"
)

// TestShortRunOfAPaperConfig: --epochs below the paper's warm-up is a
// usage error that names the fix, and the fix works.
func TestShortRunOfAPaperConfig(t *testing.T) {
	cfg := filepath.Join(testutil.RepoRoot(t), "configs", "resnet20_cifar10.yaml")
	r := bsam(t, nil, "config", "show", cfg, "--set", "epochs=1")
	if r.code != 2 || !strings.Contains(r.stderr, "warmup") || !strings.Contains(r.stderr, "--set warmup=0") {
		t.Fatalf("epochs 1: exit %d, stderr %q; want 2 naming --set warmup=0", r.code, r.stderr)
	}
	r = bsam(t, nil, "train", "--config", cfg, "--epochs", "1", "--offline")
	if r.code != 2 || !strings.Contains(r.stderr, "--set warmup=0") {
		t.Fatalf("train --epochs 1: exit %d, stderr %q; want 2 naming --set warmup=0", r.code, r.stderr)
	}
	r = bsam(t, nil, "config", "show", cfg, "--set", "epochs=1", "--set", "warmup=0")
	if r.code != 0 || !strings.Contains(r.stdout, "warmup: 0") {
		t.Fatalf("with the fix: exit %d\n%s", r.code, r.stderr)
	}
}

// TestUnknownEnvironmentVariables: a misspelt BSAM_ variable is an error
// naming the nearest valid one; tool variables and BSAM_ENV_IGNORE pass.
func TestUnknownEnvironmentVariables(t *testing.T) {
	cfg := filepath.Join(testutil.RepoRoot(t), "configs", "quickstart.yaml")
	for _, c := range []struct {
		env  []string
		code int
		msg  string
	}{
		{[]string{"BSAM_EPOCH=3"}, 2, "did you mean BSAM_EPOCHS?"},
		{[]string{"BSAM_METHODS_BSAM_RHOO=1"}, 2, "did you mean BSAM_METHODS_BSAM_RHO?"},
		{[]string{"BSAM_EPOCH=3", "BSAM_ENV_IGNORE=BSAM_EPOCH"}, 0, "ok"},
		{[]string{"BSAM_SITE_X=1", "BSAM_ENV_IGNORE=BSAM_SITE_*"}, 0, "ok"},
		{[]string{"BSAM_GOLDEN_DIR=/x", "BSAM_SLURM_IT=1", "BSAM_SQUEUE=/bin/true"}, 0, "ok"},
		{[]string{"BSAM_EPOCHS=3"}, 0, "ok"},
	} {
		r := bsam(t, c.env, "config", "validate", cfg)
		if r.code != c.code || !strings.Contains(r.stderr+r.stdout, c.msg) {
			t.Errorf("%v: exit %d (want %d), output %q (want %q)", c.env, r.code, c.code, r.stderr+r.stdout, c.msg)
		}
	}
	// Every command checks, not only those that load an experiment.
	if r := bsam(t, []string{"BSAM_DATA_DIRR=/x"}, "data", "list"); r.code != 2 || !strings.Contains(r.stderr, "BSAM_DATA_DIR?") {
		t.Errorf("data list with BSAM_DATA_DIRR: exit %d, %q", r.code, r.stderr)
	}
}

func TestVersionFlag(t *testing.T) {
	a, b := bsam(t, nil, "--version"), bsam(t, nil, "version")
	if a.code != 0 || !strings.HasPrefix(a.stdout, "bsam ") || a.stdout != b.stdout {
		t.Errorf("--version: exit %d, %q; version: %q", a.code, a.stdout, b.stdout)
	}
}

// TestYAMLSyntaxErrorLine: the line reported is the line of the mistake.
func TestYAMLSyntaxErrorLine(t *testing.T) {
	lines := strings.Split(strings.TrimSpace(experiment), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "seeds:") {
			lines[i] = "seeds: [0, 1"
			exp := writeExperiment(t, strings.Join(lines, "\n")+"\n")
			r := bsam(t, nil, "config", "validate", exp)
			want := fmt.Sprintf("%s:%d: not valid YAML", exp, i+1)
			if r.code != 2 || !strings.Contains(r.stderr, want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, want)
			}
			return
		}
	}
	t.Fatal("no seeds line")
}

// TestConfigValidateSweepFiles: sweep files are validated as sweeps (every
// resolved run), not field by field as experiments.
func TestConfigValidateSweepFiles(t *testing.T) {
	root := testutil.RepoRoot(t)
	files, _ := filepath.Glob(filepath.Join(root, "configs", "sweeps", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no sweep files")
	}
	r := bsam(t, nil, append([]string{"config", "validate"}, files...)...)
	if r.code != 0 || strings.Count(r.stdout, "ok  ") != len(files) || !strings.Contains(r.stdout, "runs (each validated)") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	// A grid value that makes a run invalid names the sweep file and method.
	bad := filepath.Join(t.TempDir(), "bad-sweep.yaml")
	os.WriteFile(bad, []byte("base: "+filepath.Join(root, "configs", "quickstart.yaml")+"\nname: bad\ngrid:\n  sgd: {optimizer.lr: [0.1, -1]}\n"), 0o644)
	r = bsam(t, nil, "config", "validate", bad)
	if r.code != 2 || !strings.Contains(r.stderr, bad) || !strings.Contains(r.stderr, "grid.sgd") || !strings.Contains(r.stderr, "lr") {
		t.Errorf("bad sweep: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestShellCompletionOfValues(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"train", "--method", ""}, []string{"sgd", "sam_adam", "bsam"}},
		{[]string{"bench", "--model", ""}, []string{"mlp", "resnet20_frn", "resnet18"}},
		{[]string{"sweep", "f.yaml", "--executor", ""}, []string{"local", "slurm"}},
		{[]string{"report", "x", "--format", ""}, []string{"md", "latex", "csv"}},
		{[]string{"data", "download", ""}, []string{"mnist", "cifar10", "tinyimagenet", "all"}},
		{[]string{"check", "--suite", ""}, []string{"ci", "full"}},
	} {
		r := bsam(t, nil, append([]string{"__complete"}, c.args...)...)
		got := strings.Fields(r.stdout)
		for _, w := range c.want {
			found := false
			for _, g := range got {
				found = found || g == w
			}
			if !found {
				t.Errorf("completing %v: %q lacks %s", c.args, r.stdout, w)
			}
		}
	}
}

// TestInterruptWhileLoading: SIGINT while the dataset loads exits 130.
func TestInterruptWhileLoading(t *testing.T) {
	exp := writeExperiment(t, experiment)
	r := bsam(t, []string{"BSAM_TEST_FAULT=int-in-load:1"}, "train", "--config", exp, "--out", t.TempDir())
	if r.code != 130 || strings.Contains(r.stderr, "context canceled") {
		t.Fatalf("exit %d, want 130\n%s", r.code, r.stderr)
	}
}

// holdLock takes a run directory's lock the way another bsam process does.
func holdLock(t *testing.T, dir string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	t.Cleanup(func() { f.Close() })
}

// TestBusyRunIsItsOwnOutcome: a run another process is training is
// reported busy with that process's pid and exit 5, not as a failure;
// when another run also failed, exit 3 wins. It also checks the progress
// lines of a run without a terminal: run k of K, the overall ETA and the
// Bayesian model average's evaluation.
func TestBusyRunIsItsOwnOutcome(t *testing.T) {
	needMNIST(t)
	exp := writeExperiment(t, experiment)
	out := t.TempDir()
	r := bsam(t, nil, "train", "--config", exp, "--out", out)
	if r.code != 0 {
		t.Fatalf("first run: exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{`msg="run 1/2"`, `msg="run 2/2"`, "msg=progress done=1/2 eta=", `what="Bayesian model average (4 samples)"`, `msg="final evaluation done"`} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(out, "e2e", "sgd-seed0-*"))
	if len(dirs) != 1 {
		t.Fatalf("sgd run dirs: %v", dirs)
	}
	os.Remove(filepath.Join(dirs[0], "result.json"))
	holdLock(t, dirs[0])
	r = bsam(t, nil, "train", "--config", exp, "--out", out)
	pid := fmt.Sprintf("pid %d", os.Getpid())
	if r.code != 5 || !strings.Contains(r.stdout, "BUSY sgd seed 0: "+pid) || strings.Contains(r.stdout, "FAILED") || !strings.Contains(r.stderr, "busy") {
		t.Fatalf("busy run: exit %d (want 5)\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	// Busy and failed together: 3.
	div := writeExperiment(t, strings.Replace(experiment, "bsam: {lr: 0.1, rho: 0.001}", "bsam: {lr: 1.0e+12, rho: 0.001}", 1))
	out2 := t.TempDir()
	bsam(t, []string{"BSAM_TEST_FAULT=kill-at-step:1"}, "train", "--config", div, "--out", out2, "--method", "sgd")
	dirs, _ = filepath.Glob(filepath.Join(out2, "e2e", "sgd-seed0-*"))
	if len(dirs) != 1 {
		t.Fatalf("sgd run dirs: %v", dirs)
	}
	holdLock(t, dirs[0])
	r = bsam(t, nil, "train", "--config", div, "--out", out2)
	if r.code != 3 || !strings.Contains(r.stdout, "BUSY sgd") || !strings.Contains(r.stdout, "FAILED bsam") {
		t.Fatalf("busy and failed: exit %d (want 3)\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
}

// TestDataListShowsVerification: data list shows the last verification,
// a dataset found corrupt is refused by training with the commands that
// fix it, and the decoded cache (*.bsd) is listed and verified.
func TestDataListShowsVerification(t *testing.T) {
	needMNIST(t)
	dd := t.TempDir()
	env := []string{"BSAM_DATA_DIR=" + dd}
	if r := bsam(t, env, "data", "download", "--offline", "mnist"); r.code != 0 {
		t.Fatalf("download: exit %d\n%s", r.code, r.stderr)
	}
	if r := bsam(t, env, "data", "list"); r.code != 0 || !lineHas(r.stdout, "mnist", "yes", "never") {
		t.Fatalf("list before verify:\n%s", r.stdout)
	}
	if r := bsam(t, env, "data", "verify", "mnist"); r.code != 0 {
		t.Fatalf("verify: exit %d\n%s", r.code, r.stderr)
	}
	if r := bsam(t, env, "data", "list"); !lineHas(r.stdout, "mnist", "yes", "ok") {
		t.Errorf("list after verify:\n%s", r.stdout)
	}
	p := filepath.Join(dd, "mnist", "t10k-labels-idx1-ubyte.gz")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	os.WriteFile(p, b, 0o644)
	if r := bsam(t, env, "data", "verify", "mnist"); r.code != 1 {
		t.Fatalf("verify after damage: exit %d\n%s", r.code, r.stderr)
	}
	if r := bsam(t, env, "data", "list"); !lineHas(r.stdout, "mnist", "CORRUPT", "FAILED") || lineHas(r.stdout, "mnist", "yes") {
		t.Errorf("list after a failed verify:\n%s", r.stdout)
	}
	r := bsam(t, env, "train", "--config", writeExperiment(t, experiment), "--out", t.TempDir())
	if r.code != 1 || !strings.Contains(r.stderr, "bsam data import mnist") || !strings.Contains(r.stderr, "bsam data verify mnist") {
		t.Errorf("train on a corrupt dataset: exit %d\n%s", r.code, r.stderr)
	}

	// The decoded cache: a damaged *.bsd is listed and fails verify.
	dec := filepath.Join(dd, "decoded")
	os.MkdirAll(dec, 0o755)
	os.WriteFile(filepath.Join(dec, "imagefolder-0123.bsd"), []byte("BSAMDSC1 damaged"), 0o644)
	r = bsam(t, env, "data", "verify")
	if r.code != 1 || !strings.Contains(r.stdout, "decoded/imagefolder-0123.bsd\tFAILED") {
		t.Errorf("verify with a damaged .bsd: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if r := bsam(t, env, "data", "list"); !strings.Contains(r.stdout, "decoded cache "+dec+": 1 files") || !lineHas(r.stdout, "imagefolder-0123.bsd", "16", "B", "FAILED") {
		t.Errorf("list with a damaged .bsd:\n%s", r.stdout)
	}
}

// lineHas reports whether some line of s has fields starting with want,
// in order (consecutive fields).
func lineHas(s string, want ...string) bool {
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		for i := 0; i+len(want) <= len(f); i++ {
			ok := true
			for j, w := range want {
				ok = ok && strings.HasPrefix(f[i+j], w)
			}
			if ok {
				return true
			}
		}
	}
	return false
}
