package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bsam-dev/bsam/internal/testutil"
	"github.com/bsam-dev/bsam/pkg/sweep"
)

func runSweepCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := NewRootCmd()
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetArgs(append([]string{"sweep"}, args...))
	err := cmd.ExecuteContext(context.Background())
	if err != nil {
		stderr.WriteString("bsam: " + err.Error() + "\n")
	}
	return stdout.String(), stderr.String(), ExitCode(err)
}

// sweepFixture writes a sweep over configs/quickstart.yaml (SGD and bSAM)
// into a temporary directory: 2 SGD and 3 bSAM grid points, seeds 0 and 1.
func sweepFixture(t *testing.T, extra string) (file, dir string) {
	t.Helper()
	dir = t.TempDir()
	base := filepath.Join(testutil.RepoRoot(t), "configs", "quickstart.yaml")
	body := "base: " + base + `
name: cli_sweep
seeds: [0, 1]
out: ` + filepath.Join(dir, "runs") + `
set: {epochs: 1, data.train_subset: 400}
grid:
  sgd: {optimizer.lr: [0.01, 0.1]}
  bsam: {optimizer.rho: [1.0e-4, 1.0e-3, 1.0e-2]}
` + extra
	file = filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return file, dir
}

func TestSweepCmdUsageErrors(t *testing.T) {
	file, dir := sweepFixture(t, "")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("base: nope.yaml\ngrid: {sgd: {optimizer.lr: []}}\n"), 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no file", []string{}, "accepts 1 arg"},
		{"missing file", []string{filepath.Join(dir, "none.yaml")}, "none.yaml: cannot read the sweep file"},
		{"invalid file", []string{bad, "--dry-run"}, "bad.yaml:2: grid.sgd.optimizer.lr: empty grid"},
		{"unknown executor", []string{file, "--executor", "pbs"}, `--executor "pbs": want local or slurm`},
		{"zero jobs", []string{file, "-j", "0"}, "--jobs 0: must be ≥ 1"},
		{"slurm flag locally", []string{file, "--report"}, "--report applies to --executor slurm only"},
		{"unknown flag", []string{file, "--frobnicate"}, "unknown flag: --frobnicate"},
		{"seed not in sweep", []string{file, "--seeds", "0,5"}, "--seeds 5: not among the sweep's seeds (0, 1)"},
		{"method not in grid", []string{file, "--methods", "adam"}, "--methods adam: not in the sweep's grid (bsam, sgd)"},
		{"run-task without plan", []string{"run-task", file}, "--plan and --index are required"},
		{"run-task foreign plan", []string{"run-task", file, "--plan", filepath.Join(dir, "none.json"), "--index", "0"}, "plan file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runSweepCLI(t, tc.args...)
			wantCode := ExitUsage
			if tc.name == "run-task foreign plan" {
				wantCode = ExitRuntime // an unreadable plan file is a runtime error
			}
			if code != wantCode || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d (want %d), stderr %q does not contain %q", code, wantCode, stderr, tc.want)
			}
		})
	}
}

func TestSweepCmdDryRun(t *testing.T) {
	file, dir := sweepFixture(t, "")
	stdout, stderr, code := runSweepCLI(t, file, "--dry-run", "-j", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(stdout, "\n")
	// Header, then 10 runs: SGD lr 0.01 (seeds 0, 1), lr 0.1, bSAM ρ ×3.
	want := [][]string{
		{"0", "sgd", "0", "lr=0.01", "pending"}, {"1", "sgd", "1", "lr=0.01", "pending"},
		{"2", "sgd", "0", "lr=0.1", "pending"}, {"3", "sgd", "1", "lr=0.1", "pending"},
		{"4", "bsam", "0", "rho=1.0e-4", "pending"}, {"5", "bsam", "1", "rho=1.0e-4", "pending"},
		{"6", "bsam", "0", "rho=1.0e-3", "pending"}, {"7", "bsam", "1", "rho=1.0e-3", "pending"},
		{"8", "bsam", "0", "rho=1.0e-2", "pending"}, {"9", "bsam", "1", "rho=1.0e-2", "pending"},
	}
	if !strings.HasPrefix(lines[1], "#") {
		t.Fatalf("no header line:\n%s", stdout)
	}
	for i, w := range want {
		f := strings.Fields(lines[2+i])
		if len(f) != 6 || strings.Join(f[:5], " ") != strings.Join(w, " ") || !strings.Contains(f[5], filepath.Join(dir, "runs", "cli_sweep", w[1]+"-seed"+w[2]+"-")) {
			t.Errorf("plan line %d: %q, want %v and a run dir under %s", i, lines[2+i], w, dir)
		}
	}
	if !strings.Contains(stdout, "10 runs: 0 done, 0 running, 0 queued, 0 failed, 0 missing, 10 pending") {
		t.Errorf("no counts line:\n%s", stdout)
	}
	if !strings.Contains(stdout, "estimated cost (an estimate") || !strings.Contains(stdout, "mlp/mnist/b200") || !strings.Contains(stdout, "locally with -j 2") {
		t.Errorf("no cost estimate:\n%s", stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "runs")); err == nil {
		t.Errorf("--dry-run created %s", filepath.Join(dir, "runs"))
	}
}

// TestSweepArgsReproduceRuns parses each planned run's command line with
// bsam train's own flags and checks it resolves to the planned run: the
// same configuration hash, hence the same run directory.
func TestSweepArgsReproduceRuns(t *testing.T) {
	file, _ := sweepFixture(t, "")
	p, err := loadSweep(file, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, pt := range p.Points {
		o := &trainOptions{}
		cmd := newTrainCmd()
		if pt.Args[0] != "train" {
			t.Fatalf("run %d: args start with %q", pt.Index, pt.Args[0])
		}
		if err := cmd.ParseFlags(pt.Args[1:]); err != nil {
			t.Fatalf("run %d: %v", pt.Index, err)
		}
		fl := cmd.Flags()
		o.configFile, _ = fl.GetString("config")
		o.methods, _ = fl.GetStringSlice("method")
		o.seeds, _ = fl.GetString("seeds")
		o.out, _ = fl.GetString("out")
		o.sets, _ = fl.GetStringArray("set")
		ovs, err := o.overrides(cmd)
		if err != nil {
			t.Fatal(err)
		}
		e, err := loadExperiment(o.configFile, ovs, o.methods)
		if err != nil {
			t.Fatalf("run %d: %v", pt.Index, err)
		}
		runs := e.Runs()
		if len(runs) != 1 || runs[0].Hash() != pt.Hash || runs[0].Method != pt.Method || runs[0].Seed != pt.Seed {
			t.Errorf("run %d: train args resolve to %d runs (first %s seed %d %s), want %s seed %d %s",
				pt.Index, len(runs), runs[0].Method, runs[0].Seed, runs[0].Hash(), pt.Method, pt.Seed, pt.Hash)
		}
	}
}

// TestSweepCmdSlurmFake submits through the CLI to fake sbatch/squeue
// binaries (flags and environment), then reads the status back.
func TestSweepCmdSlurmFake(t *testing.T) {
	file, dir := sweepFixture(t, "slurm: {partition: short, time: \"00:10:00\", cpus_per_task: 1, throttle: 4}\n")
	fake := t.TempDir()
	os.WriteFile(filepath.Join(fake, "sbatch"), []byte("#!/bin/sh\necho \"$*\" >> \""+fake+"/sbatch.log\"\necho 77\n"), 0o755)
	os.WriteFile(filepath.Join(fake, "squeue"), []byte("#!/bin/sh\ncat \""+fake+"/squeue.out\"\n"), 0o755)
	os.WriteFile(filepath.Join(fake, "squeue.out"), nil, 0o644)
	t.Setenv("BSAM_SQUEUE", filepath.Join(fake, "squeue"))
	t.Setenv("BSAM_SACCT", "/nonexistent/sacct")

	stdout, stderr, code := runSweepCLI(t, file, "--executor", "slurm", "--sbatch", filepath.Join(fake, "sbatch"), "--partition", "long", "--bsam", "/opt/bsam")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "submitted job 77: array of 10 tasks (submission 1)") {
		t.Errorf("stdout:\n%s", stdout)
	}
	script, err := os.ReadFile(filepath.Join(dir, "runs", "cli_sweep", ".sweep", "submit-1.sbatch"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"#SBATCH --partition=long\n", "#SBATCH --time=00:10:00\n", "#SBATCH --array=0-9%4\n", "exec /opt/bsam sweep run-task " + file} {
		if !strings.Contains(string(script), want) {
			t.Errorf("script lacks %q (flag over file, file over default):\n%s", want, script)
		}
	}

	// All ten in the queue: status shows them queued and a second call
	// submits nothing.
	var q strings.Builder
	for i := 0; i < 10; i++ {
		q.WriteString("77_" + string(rune('0'+i)) + "|PENDING\n")
	}
	os.WriteFile(filepath.Join(fake, "squeue.out"), []byte(q.String()), 0o644)
	stdout, _, code = runSweepCLI(t, "status", file, "--json")
	var sj struct {
		Counts map[string]int
		Runs   []sweep.RunStatus
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &sj) != nil || sj.Counts[sweep.Queued] != 10 || sj.Runs[9].JobID != "77_9" {
		t.Errorf("status --json (exit %d):\n%s", code, stdout)
	}
	stdout, _, code = runSweepCLI(t, file, "--executor", "slurm", "--sbatch", filepath.Join(fake, "sbatch"))
	if code != 0 || !strings.Contains(stdout, "nothing to submit") {
		t.Errorf("second call (exit %d):\n%s", code, stdout)
	}
	if b, _ := os.ReadFile(filepath.Join(fake, "sbatch.log")); strings.Count(string(b), "\n") != 1 {
		t.Errorf("sbatch called %d times, want once:\n%s", strings.Count(string(b), "\n"), b)
	}
	// Text status: one line per run with its job.
	stdout, _, _ = runSweepCLI(t, "status", file)
	if !strings.Contains(stdout, "10 runs: 0 done, 0 running, 10 queued") || !strings.Contains(stdout, "77_3") {
		t.Errorf("status:\n%s", stdout)
	}
}

// TestSweepCmdSelection submits only --seeds 1 of the bSAM runs to fake
// sbatch: the array holds exactly those three runs, and status still lists
// all ten.
func TestSweepCmdSelection(t *testing.T) {
	file, dir := sweepFixture(t, "")
	fake := t.TempDir()
	os.WriteFile(filepath.Join(fake, "sbatch"), []byte("#!/bin/sh\necho 78\n"), 0o755)
	os.WriteFile(filepath.Join(fake, "squeue"), []byte("#!/bin/sh\n"), 0o755)
	t.Setenv("BSAM_SQUEUE", filepath.Join(fake, "squeue"))
	t.Setenv("BSAM_SACCT", "/nonexistent/sacct")
	stdout, stderr, code := runSweepCLI(t, file, "--executor", "slurm", "--sbatch", filepath.Join(fake, "sbatch"), "--methods", "bsam", "--seeds", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "array of 3 tasks") {
		t.Errorf("stdout:\n%s", stdout)
	}
	plan, err := os.ReadFile(filepath.Join(dir, "runs", "cli_sweep", ".sweep", "plan-1.json"))
	if err != nil {
		t.Fatal(err)
	}
	// bSAM seed 1 is runs 5, 7 and 9 of the expansion order (see
	// TestSweepCmdDryRun); nothing else was submitted.
	var pl map[string]any
	if err := json.Unmarshal(plan, &pl); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"sgd-seed", "bsam-seed0"} {
		if strings.Contains(string(plan), bad) {
			t.Errorf("plan-1.json holds a %s run:\n%s", bad, plan)
		}
	}
	if strings.Count(string(plan), "bsam-seed1-") != 3 {
		t.Errorf("plan-1.json does not hold the three bSAM seed-1 runs:\n%s", plan)
	}
	stdout, _, _ = runSweepCLI(t, "status", file)
	if !strings.Contains(stdout, "10 runs: 0 done, 0 running, 0 queued, 0 failed") {
		t.Errorf("status:\n%s", stdout)
	}
}
