package sweep

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bsam-dev/bsam/internal/testutil"
	"github.com/bsam-dev/bsam/pkg/train"
)

// slurmUp reports whether sinfo shows a usable node.
func slurmUp() bool {
	out, err := exec.Command("sinfo", "-h", "-N", "-o", "%T").Output()
	if err != nil {
		return false
	}
	for _, s := range strings.Fields(string(out)) {
		if s == "idle" || s == "mixed" || s == "allocated" {
			return true
		}
	}
	return false
}

// ensureSlurm makes sure a Slurm cluster answers: as root it runs
// scripts/slurm-local.sh (a single-node cluster on localhost) when none
// does. The test is skipped, saying why, only where Slurm cannot start.
func ensureSlurm(t *testing.T) {
	t.Helper()
	if slurmUp() {
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("no Slurm cluster answers and starting one (scripts/slurm-local.sh) needs root")
	}
	script := filepath.Join(testutil.RepoRoot(t), "scripts", "slurm-local.sh")
	out, err := exec.Command(script).CombinedOutput()
	if err != nil || !slurmUp() {
		t.Skipf("Slurm cannot start on this machine (%s: %v):\n%s", script, err, out)
	}
}

// TestSlurmIntegration runs a 4-run MNIST sweep through a real Slurm
// (single node on localhost): one array job; SGD with a sane learning rate
// and an absurd one that diverges, bSAM with two ρ, one of which is made to
// fail by a file standing where its run directory must go. The test waits
// for the jobs, checks the finished runs' result.json, removes the blocking
// file and calls the sweep again: exactly the two failed runs are
// resubmitted (with a dependent report job), the unblocked one finishes and
// the diverging one fails again. Runs only with BSAM_SLURM_IT=1.
func TestSlurmIntegration(t *testing.T) {
	if os.Getenv("BSAM_SLURM_IT") != "1" {
		t.Skip("set BSAM_SLURM_IT=1 to run against a real Slurm (scripts/slurm-local.sh starts one on localhost as root)")
	}
	ensureSlurm(t)
	mnistAvailable(t)
	bin := buildBsam(t)
	// Slurm writes the tasks' output as root on this node: a directory
	// outside the test's temporary tree is not needed, the node is local.
	dir := t.TempDir()
	file := tinySweep(t, dir, "slurm_it", "  bsam: {optimizer.rho: [1.0e-4, 1.0e-3]}\n")
	s, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Expand(s, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Points) != 4 || p.Points[1].Label() != "lr=1.0e+6" || p.Points[3].Label() != "rho=1.0e-3" {
		t.Fatalf("plan: %+v", p.Points)
	}
	// Block run 3: a file where its run directory goes makes bsam train
	// fail (exit code 1) before training.
	blocker := p.Points[3].Dir
	if err := os.MkdirAll(filepath.Dir(blocker), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blocker, []byte("in the way\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	sweepCmd := func(args ...string) (int, string) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"sweep", file}, args...)...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		t.Logf("bsam sweep %s → exit %d\n%s\n%s", strings.Join(args, " "), code, out, stderr.String())
		return code, string(out)
	}

	// 1. Everything is submitted as one array; runs 0 and 2 finish,
	// run 1 diverges, run 3 is blocked.
	code, _ := sweepCmd("--executor", "slurm", "--throttle", "2", "--wait", "--poll", "1s")
	if code != 3 {
		t.Fatalf("first sweep: exit %d, want 3 (two runs fail)", code)
	}
	st, err := p.LoadState()
	if err != nil || len(st.Submissions) != 1 || !st.Submissions[0].Array || len(st.Submissions[0].Tasks) != 4 {
		t.Fatalf("state after the first sweep: %+v %v", st, err)
	}
	for _, i := range []int{0, 2} {
		var res train.Result
		if err := train.ReadJSON(filepath.Join(p.Points[i].Dir, "result.json"), &res); err != nil || res.Status != "done" || res.ConfigHash != p.Points[i].Hash || res.Experiment != "slurm_it" {
			t.Errorf("run %d result.json: %+v %v", i, res, err)
		}
		if res.BMA.Accuracy < 30 {
			t.Errorf("run %d: accuracy %.1f%% after one epoch on 1000 examples; the MLP did not learn", i, res.BMA.Accuracy)
		}
	}
	rs := p.Inspect(st, QuerySlurm(t.Context(), "squeue", "sacct", st.JobIDs(), nil))
	if rs[1].State != Failed || !strings.Contains(rs[1].Reason, "diverged") || rs[3].State != Failed || !strings.Contains(rs[3].Reason, "exit code 1") {
		t.Errorf("failed runs: 1 %s %q, 3 %s %q", rs[1].State, rs[1].Reason, rs[3].State, rs[3].Reason)
	}
	for i, r := range rs {
		if r.JobID != st.Submissions[0].JobID+"_"+string(rune('0'+i)) {
			t.Errorf("run %d: job %s, want array task %s_%d", i, r.JobID, st.Submissions[0].JobID, i)
		}
		if r.State != Done && r.State != Failed {
			t.Errorf("run %d: %s after --wait", i, r.State)
		}
	}
	slurmOut, _ := os.ReadFile(filepath.Join(p.StateDir(), "slurm", rs[1].JobID+".out"))
	slurmErr, _ := os.ReadFile(filepath.Join(p.StateDir(), "slurm", rs[1].JobID+".err"))
	if !strings.Contains(string(slurmOut)+string(slurmErr), "diverged") {
		t.Errorf("task output files of run 1 do not mention the divergence:\n%s\n%s", slurmOut, slurmErr)
	}

	// 2. Fix run 3 and call again: exactly runs 1 and 3 are resubmitted.
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	code, _ = sweepCmd("--executor", "slurm", "--report", "--wait", "--poll", "1s")
	if code != 3 {
		t.Errorf("second sweep: exit %d, want 3 (run 1 diverges again)", code)
	}
	st, _ = p.LoadState()
	if len(st.Submissions) != 2 {
		t.Fatalf("%d submissions, want 2", len(st.Submissions))
	}
	var runs []int
	for _, task := range st.Submissions[1].Tasks {
		runs = append(runs, task.Run)
	}
	if !slices.Equal(runs, []int{1, 3}) || st.Submissions[1].ReportJob == "" {
		t.Errorf("resubmitted runs %v (report job %q), want [1 3] with a report job", runs, st.Submissions[1].ReportJob)
	}
	var res train.Result
	if err := train.ReadJSON(filepath.Join(p.Points[3].Dir, "result.json"), &res); err != nil || res.Status != "done" || res.Hyper["rho"] != 1e-3 {
		t.Errorf("run 3 after the fix: %+v %v", res, err)
	}
	if report, err := os.ReadFile(filepath.Join(p.StateDir(), "report-2.md")); err != nil || !strings.Contains(string(report), "rho") {
		t.Errorf("report job output: %v\n%s", err, report)
	}

	// 3. Status: 3 done, 1 failed; runs 1 and 3 were attempted twice.
	cmd := exec.Command(bin, "sweep", "status", file, "--json")
	b, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var sj struct {
		Counts map[string]int
		Runs   []RunStatus
	}
	if err := json.Unmarshal(b, &sj); err != nil {
		t.Fatal(err)
	}
	attempts := []int{sj.Runs[0].Attempts, sj.Runs[1].Attempts, sj.Runs[2].Attempts, sj.Runs[3].Attempts}
	if sj.Counts[Done] != 3 || sj.Counts[Failed] != 1 || !slices.Equal(attempts, []int{1, 2, 1, 2}) {
		t.Errorf("status: counts %v attempts %v; want 3 done 1 failed, attempts [1 2 1 2]", sj.Counts, attempts)
	}
}
