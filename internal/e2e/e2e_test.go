package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bsam-dev/bsam/internal/testutil"
)

var (
	bin     string // the bsam binary built for these tests
	dataDir string // a shared dataset cache
)

func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "bsam-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(tmp, "bsam")
	dataDir = filepath.Join(tmp, "data")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/bsam-dev/bsam/cmd/bsam").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building bsam: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// experiment is a small real-MNIST experiment: 1000 training images (5
// batches per epoch), 500 test images, 3 epochs.
const experiment = `name: e2e
model: mlp
dataset: mnist
data: {train_subset: 1000, test_subset: 500, offline: true}
epochs: 2
warmup: 1
seeds: [0]
test_mc: 4
optimizer: {priorprec: 25}
methods:
  sgd:  {lr: 0.05}
  bsam: {lr: 0.1, rho: 0.001}
`

func writeExperiment(t *testing.T, body string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "exp.yaml")
	if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

type result struct {
	code   int
	stdout string
	stderr string
}

// bsam runs the binary with extra environment variables.
func bsam(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), "BSAM_DATA_DIR="+dataDir), env...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, so.String(), se.String()}
}

// resultFiles maps "method-seedN" to the bytes of each run's result.json.
func resultFiles(t *testing.T, out string) map[string][]byte {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(out, "*", "*", "result.json"))
	m := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(filepath.Dir(f))
		m[name[:strings.LastIndex(name, "-")]] = b
	}
	return m
}

func needMNIST(t *testing.T) {
	t.Helper()
	testutil.RepoRoot(t)
	if testing.Short() {
		t.Skip("end-to-end training")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the offline MNIST source needs the go command")
	}
}

// baseline trains the experiment uninterrupted once per test binary.
func baseline(t *testing.T, exp string) map[string][]byte {
	t.Helper()
	out := t.TempDir()
	r := bsam(t, nil, "train", "--config", exp, "--out", out)
	if r.code != 0 {
		t.Fatalf("baseline run: exit %d\n%s", r.code, r.stderr)
	}
	res := resultFiles(t, out)
	if len(res) != 2 {
		t.Fatalf("baseline produced %d results", len(res))
	}
	return res
}

// TestResumeIsBitIdentical kills training at several points, resumes it and
// compares every result.json byte for byte with an uninterrupted run.
func TestResumeIsBitIdentical(t *testing.T) {
	needMNIST(t)
	exp := writeExperiment(t, experiment)
	want := baseline(t, exp)
	// 5 steps per epoch, 3 epochs per run, sgd first: step 7 is in sgd's
	// 2nd epoch, step 18 in bsam's 1st; checkpoint 2 is sgd's 2nd epoch end.
	faults := []string{"kill-at-step:7", "kill-at-step:18", "kill-in-checkpoint:2", "term-at-step:8", "term-at-step:13"}
	for _, fault := range faults {
		t.Run(fault, func(t *testing.T) {
			out := t.TempDir()
			r := bsam(t, []string{"BSAM_TEST_FAULT=" + fault}, "train", "--config", exp, "--out", out)
			if r.code == 0 {
				t.Fatalf("the fault did not stop training:\n%s", r.stderr)
			}
			r = bsam(t, nil, "train", "--config", exp, "--out", out)
			if r.code != 0 {
				t.Fatalf("resume: exit %d\n%s", r.code, r.stderr)
			}
			if strings.HasPrefix(fault, "term") && !strings.Contains(r.stderr, "resuming") {
				t.Errorf("resume after SIGTERM did not start from the checkpoint:\n%s", r.stderr)
			}
			got := resultFiles(t, out)
			for k, w := range want {
				if !bytes.Equal(got[k], w) {
					t.Errorf("%s: resumed result.json differs:\n%s\nwant\n%s", k, got[k], w)
				}
			}
		})
	}
}

// TestDeterministicAcrossCPUs trains with GOMAXPROCS 1 and 2 and different
// loader worker counts and compares the results byte for byte.
func TestDeterministicAcrossCPUs(t *testing.T) {
	needMNIST(t)
	exp := writeExperiment(t, experiment)
	var prev map[string][]byte
	for i, env := range [][]string{{"GOMAXPROCS=1", "BSAM_ENGINE_WORKERS=1"}, {"GOMAXPROCS=2", "BSAM_ENGINE_WORKERS=3"}} {
		out := t.TempDir()
		r := bsam(t, env, "train", "--config", exp, "--out", out)
		if r.code != 0 {
			t.Fatalf("%v: exit %d\n%s", env, r.code, r.stderr)
		}
		got := resultFiles(t, out)
		if i > 0 {
			for k := range prev {
				if !bytes.Equal(prev[k], got[k]) {
					t.Errorf("%s differs between GOMAXPROCS 1 and 2", k)
				}
			}
		}
		prev = got
	}
}

// TestDivergenceFailsOneRun gives SGD an absurd learning rate: its run is
// marked failed with the epoch and step, bSAM still finishes, exit code 3.
func TestDivergenceFailsOneRun(t *testing.T) {
	needMNIST(t)
	exp := writeExperiment(t, strings.Replace(experiment, "sgd:  {lr: 0.05}", "sgd:  {lr: 1.0e+12}", 1))
	out := t.TempDir()
	r := bsam(t, nil, "train", "--config", exp, "--out", out)
	if r.code != 3 {
		t.Fatalf("exit %d, want 3\n%s", r.code, r.stderr)
	}
	metas, _ := filepath.Glob(filepath.Join(out, "e2e", "sgd-*", "meta.json"))
	if len(metas) != 1 {
		t.Fatalf("sgd meta.json: %v", metas)
	}
	var meta struct{ Status, Reason string }
	b, _ := os.ReadFile(metas[0])
	json.Unmarshal(b, &meta)
	if meta.Status != "failed" || !strings.Contains(meta.Reason, "epoch") || !strings.Contains(meta.Reason, "step") {
		t.Errorf("sgd meta: %+v", meta)
	}
	if res := resultFiles(t, out); len(res) != 1 || res["bsam-seed0"] == nil {
		t.Errorf("bsam should have finished: %v", res)
	}
	if !strings.Contains(r.stdout, "FAILED sgd") {
		t.Errorf("summary does not mark the failure:\n%s", r.stdout)
	}
}

// TestExitCodes checks the documented exit codes of bad usage.
func TestExitCodes(t *testing.T) {
	bad := writeExperiment(t, strings.Replace(experiment, "lr: 0.05", "lr: -1", 1))
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"train"}, 2, "--config is required"},
		{[]string{"train", "--config", bad}, 2, "methods.sgd.lr"},
		{[]string{"train", "--config", "/nonexistent.yaml"}, 2, "nonexistent.yaml"},
		{[]string{"train", "--config", bad, "--bogus"}, 2, "unknown flag"},
		{[]string{"version"}, 0, ""},
	}
	for _, c := range cases {
		r := bsam(t, nil, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr+r.stdout, c.msg) {
			t.Errorf("bsam %v: exit %d (want %d), output %q (want %q)", c.args, r.code, c.code, r.stderr, c.msg)
		}
	}
}

// TestCheckDetectsDrift runs the MNIST experiment of `bsam check --suite ci`
// against the committed expected values: it passes as committed, and a
// perturbed optimizer constant (β1 0.9 → 0.85, through the environment)
// makes it fail with exit code 4 and a line naming what moved.
func TestCheckDetectsDrift(t *testing.T) {
	needMNIST(t)
	expected := filepath.Join(testutil.RepoRoot(t), "results", "expected")
	args := []string{"check", "--suite", "ci", "--only", "ci_mnist_mlp", "--expected", expected}
	r := bsam(t, nil, args...)
	if r.code != 0 {
		t.Fatalf("check as committed: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// Without a terminal, check reports each experiment and run as it goes.
	for _, want := range []string{"msg=experiment n=1/1 name=ci_mnist_mlp", "msg=training", `pass=2/2`, `msg="run 1/`, "msg=progress done=1/", "Bayesian model average"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("check's stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	r = bsam(t, []string{"BSAM_OPTIMIZER_BETA1=0.85"}, args...)
	if r.code != 4 || !strings.Contains(r.stdout, "DRIFT") || !strings.Contains(r.stdout, "train_loss") {
		t.Fatalf("perturbed beta1: exit %d (want 4)\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestResumeWithBatchNormAndAdam repeats the kill-and-resume comparison on
// the state the MLP test does not have: ResNet-18's BatchNorm running
// statistics, SAM-Adam's moments and step counter, and augmented batches
// (a small subset of the shared real CIFAR-10 copy).
func TestResumeWithBatchNormAndAdam(t *testing.T) {
	needMNIST(t)
	tarball := filepath.Join(testutil.SharedDataDir(t), "cifar10-jpeg.tar.gz")
	exp := writeExperiment(t, `name: e2e_bn
model: resnet18
dataset: cifar10
augment: true
data: {source: `+tarball+`, train_subset: 120, test_subset: 40}
epochs: 1
warmup: 1
batch_size: 40
test_batch_size: 40
seeds: [0]
engine: {shard_size: 20}
methods:
  sam_adam: {lr: 0.001, rho: 0.05, batchsplit: 2, priorprec: 25}
`)
	out := t.TempDir()
	r := bsam(t, nil, "train", "--config", exp, "--out", out)
	if r.code != 0 {
		t.Fatalf("baseline: exit %d\n%s", r.code, r.stderr)
	}
	want := resultFiles(t, out)
	// 3 steps per epoch, 2 epochs: step 2 is mid-epoch, step 4 in the second.
	for _, fault := range []string{"term-at-step:2", "kill-at-step:4"} {
		t.Run(fault, func(t *testing.T) {
			out := t.TempDir()
			if r := bsam(t, []string{"BSAM_TEST_FAULT=" + fault}, "train", "--config", exp, "--out", out); r.code == 0 {
				t.Fatalf("the fault did not stop training:\n%s", r.stderr)
			}
			if r := bsam(t, nil, "train", "--config", exp, "--out", out); r.code != 0 {
				t.Fatalf("resume: exit %d\n%s", r.code, r.stderr)
			}
			got := resultFiles(t, out)
			for k, w := range want {
				if !bytes.Equal(got[k], w) {
					t.Errorf("%s: resumed result.json differs:\n%s\nwant\n%s", k, got[k], w)
				}
			}
		})
	}
}
