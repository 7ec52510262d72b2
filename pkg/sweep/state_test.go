package sweep

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bsam-dev/bsam/pkg/train"
)

// lrRuns expands a sweep of 13 SGD learning rates, one seed, under a
// temporary out directory.
func lrRuns(t *testing.T) *Plan {
	t.Helper()
	path := writeSweep(t, "base: ../base.yaml\nname: ten\nseeds: [0]\ngrid: {sgd: {optimizer.lr: [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1, 0.11, 0.12, 0.13]}}\n")
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Expand(s, filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// fakeRun writes what bsam train leaves in a run directory: meta.json with
// status, and result.json when status is done.
func fakeRun(t *testing.T, pt Point, status, hash string) {
	t.Helper()
	if err := os.MkdirAll(pt.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	meta := train.Meta{ConfigHash: hash, Status: status}
	if status == "failed" {
		meta.Reason = "diverged: loss is NaN"
	}
	if err := train.WriteJSONAtomic(filepath.Join(pt.Dir, "meta.json"), meta); err != nil {
		t.Fatal(err)
	}
	if status == "done" {
		if err := train.WriteJSONAtomic(filepath.Join(pt.Dir, "result.json"), train.Result{ConfigHash: hash, Status: "done"}); err != nil {
			t.Fatal(err)
		}
	}
}

func code(c int) *int { return &c }

// TestInspect builds one situation per run by hand and checks the state
// that resumption is decided by.
func TestInspect(t *testing.T) {
	p := lrRuns(t)
	pts := p.Points
	host, _ := os.Hostname()
	// A process id that does not exist: beyond the kernel's pid_max.
	const deadPID = 1 << 30

	// Run 0: finished.
	fakeRun(t, pts[0], "done", pts[0].Hash)
	// Run 1: result.json of another configuration (edited file): not done.
	fakeRun(t, pts[1], "done", "000000000000")
	// Run 2: diverged in a plain bsam train: failed, reason from meta.json.
	fakeRun(t, pts[2], "failed", pts[2].Hash)
	// Run 3: local attempt whose process is alive (this test): running.
	fakeRun(t, pts[3], "running", pts[3].Hash)
	writeRecord(p.StateDir(), &TaskRecord{Hash: pts[3].Hash, Executor: "local", Host: host, PID: os.Getpid(), Started: time.Now()})
	// Run 4: local attempt whose process is gone: interrupted → pending.
	fakeRun(t, pts[4], "running", pts[4].Hash)
	writeRecord(p.StateDir(), &TaskRecord{Hash: pts[4].Hash, Executor: "local", Host: host, PID: deadPID, Started: time.Now()})
	// Runs 5–11 were submitted to Slurm as array job 100.
	st := &State{Schema: StateSchema, Sweep: p.Sweep.File, Submissions: []Submission{{N: 1, Executor: "slurm", Array: true, JobID: "100"}}}
	for i := 5; i <= 11; i++ {
		st.Submissions[0].Tasks = append(st.Submissions[0].Tasks, Task{Task: i - 5, Run: i, Hash: pts[i].Hash, Dir: pts[i].Dir, JobID: "100_" + string(rune('0'+i-5))})
	}
	// Run 5 (100_0): waiting in the queue.
	// Run 6 (100_1): running on a node.
	fakeRun(t, pts[6], "running", pts[6].Hash)
	writeRecord(p.StateDir(), &TaskRecord{Hash: pts[6].Hash, Executor: "slurm", JobID: "100_1", Host: "node7", PID: 12, Started: time.Now()})
	// Run 7 (100_2): the task ran and training exited 3 (diverged).
	fakeRun(t, pts[7], "failed", pts[7].Hash)
	writeRecord(p.StateDir(), &TaskRecord{Hash: pts[7].Hash, Executor: "slurm", JobID: "100_2", Host: "node7", PID: 13, Started: time.Now(), Ended: time.Now(), ExitCode: code(3)})
	// Run 8 (100_3): started, then the job vanished (killed at the time
	// limit) without recording an exit; sacct says TIMEOUT.
	writeRecord(p.StateDir(), &TaskRecord{Hash: pts[8].Hash, Executor: "slurm", JobID: "100_3", Host: "node7", PID: 14, Started: time.Now()})
	// Run 9 (100_4): never started, gone from the queue, no accounting.
	// Run 10 (100_5): cancelled while pending; sacct says CANCELLED.
	// Run 11 (100_6): finished on the cluster.
	// Run 12 (local): stopped with Ctrl-C; bsam train marked it interrupted.
	fakeRun(t, pts[12], "interrupted", pts[12].Hash)
	writeRecord(p.StateDir(), &TaskRecord{Hash: pts[12].Hash, Executor: "local", Host: host, PID: deadPID, Started: time.Now(), Ended: time.Now(), ExitCode: code(1)})
	fakeRun(t, pts[11], "done", pts[11].Hash)
	writeRecord(p.StateDir(), &TaskRecord{Hash: pts[11].Hash, Executor: "slurm", JobID: "100_6", Host: "node7", PID: 15, Started: time.Now(), Ended: time.Now(), ExitCode: code(0)})

	q := &Queue{Known: true,
		Active: map[string]string{"100_0": "PENDING", "100_1": "RUNNING"},
		Final:  map[string]string{"100_3": "TIMEOUT", "100_5": "CANCELLED"},
	}
	want := []struct {
		state, reason string
		runnable      bool
	}{
		{Done, "", false},
		{Pending, "", true},
		{Failed, "diverged: loss is NaN", true},
		{Running, "", false},
		{Pending, "interrupted (its process is gone)", true},
		{Queued, "slurm: PENDING", false},
		{Running, "slurm: RUNNING", false},
		{Failed, "exit code 3: diverged: loss is NaN", true},
		{Missing, "slurm: TIMEOUT", true},
		{Missing, "the job left the queue without starting the task", true},
		{Failed, "slurm: CANCELLED before the task started", true},
		{Done, "", false},
		{Pending, "interrupted", true},
	}
	rs := p.Inspect(st, q)
	for i, w := range want {
		if rs[i].State != w.state || !strings.Contains(rs[i].Reason, w.reason) || Runnable(rs[i].State) != w.runnable {
			t.Errorf("run %d: %s (%q) runnable %v; want %s (%q) runnable %v", i, rs[i].State, rs[i].Reason, Runnable(rs[i].State), w.state, w.reason, w.runnable)
		}
	}
	if rs[6].JobID != "100_1" || rs[6].Attempts != 1 || rs[0].Attempts != 0 {
		t.Errorf("run 6 job %q attempts %d, run 0 attempts %d; want 100_1 1 0", rs[6].JobID, rs[6].Attempts, rs[0].Attempts)
	}
	c := Counts(rs)
	if c[Done] != 2 || c[Running] != 2 || c[Queued] != 1 || c[Failed] != 3 || c[Missing] != 2 || c[Pending] != 3 {
		t.Errorf("counts %v", c)
	}

	// Without squeue the submitted runs without a record are assumed
	// queued (never resubmitted blindly); started ones running.
	rs = p.Inspect(st, &Queue{})
	for i, w := range map[int]string{5: Queued, 6: Running, 8: Running, 9: Queued, 7: Failed, 11: Done} {
		if rs[i].State != w {
			t.Errorf("no squeue: run %d is %s, want %s", i, rs[i].State, w)
		}
	}

	// A resubmission of run 7 (job 101_0) that has not started yet: the
	// old failed record belongs to job 100_2 and must not count.
	st.Submissions = append(st.Submissions, Submission{N: 2, Executor: "slurm", Array: true, JobID: "101",
		Tasks: []Task{{Task: 0, Run: 7, Hash: pts[7].Hash, Dir: pts[7].Dir, JobID: "101_0"}}})
	q.Active["101_0"] = "PENDING"
	rs = p.Inspect(st, q)
	if rs[7].State != Queued || rs[7].JobID != "101_0" || rs[7].Attempts != 2 {
		t.Errorf("resubmitted run 7: %s job %s attempts %d; want queued 101_0 2", rs[7].State, rs[7].JobID, rs[7].Attempts)
	}
	delete(q.Active, "101_0")
	rs = p.Inspect(st, q)
	if rs[7].State != Missing {
		t.Errorf("resubmitted run 7 gone from the queue unstarted: %s, want missing", rs[7].State)
	}
}

func TestStateRoundTrip(t *testing.T) {
	p := lrRuns(t)
	st, err := p.LoadState()
	if err != nil || len(st.Submissions) != 0 || st.Sweep != p.Sweep.File {
		t.Fatalf("fresh state: %+v %v", st, err)
	}
	st.Submissions = append(st.Submissions, Submission{N: 1, Executor: "slurm", JobID: "7", Tasks: []Task{{Task: 0, Run: 3, Hash: "h", JobID: "7_0"}}, ReportJob: "8"})
	if err := p.SaveState(st); err != nil {
		t.Fatal(err)
	}
	got, err := p.LoadState()
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Submissions) != 1 || got.Submissions[0].Tasks[0].JobID != "7_0" || strings.Join(got.JobIDs(), ",") != "7_0,8" {
		t.Errorf("round trip: %+v", got)
	}
	if err := os.WriteFile(filepath.Join(p.StateDir(), "state.json"), []byte(`{"schema":"other"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := p.LoadState(); err == nil || !strings.Contains(err.Error(), "schema") {
		t.Errorf("foreign schema accepted: %v", err)
	}
}
