package sweep

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, rewriting it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/sweep/ -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (-update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// fixedPlan is a plan with fixed paths, so that scripts are comparable
// across machines.
func fixedPlan() *Plan {
	s := &Sweep{File: "/home/alice/bsam/sweeps/rho.yaml", Base: "/home/alice/bsam/configs/base.yaml", Name: "rho"}
	p := &Plan{Sweep: s, Out: "/scratch/runs"}
	for i, v := range []string{"0.01", "0.05", "0.1"} {
		p.Points = append(p.Points, Point{Index: 2 * i, Method: "sam_sgd", Seed: 0,
			Values: []Setting{{Path: "optimizer.rho", Value: v}}, Hash: fmt.Sprintf("hash%d", i),
			Dir: fmt.Sprintf("/scratch/runs/rho/sam_sgd-seed0-hash%d", i)})
	}
	return p
}

func TestScriptsGolden(t *testing.T) {
	res := Slurm{Partition: "cpu", Time: "02:00:00", CPUsPerTask: 2, Mem: "4G", Gres: "", Throttle: 8, Account: "proj1", Extra: []string{"--constraint=avx2"}}
	o := SlurmOptions{Resources: res, Bin: "/opt/bsam/bin/bsam", Chdir: "/home/alice/bsam"}
	p := fixedPlan()
	tests := []struct {
		name   string
		golden string
		got    func() string
	}{
		{"array", "array.sbatch", func() string {
			s := p.Scripts(1, p.Points, o)
			if len(s) != 1 || s[0].Task != -1 || s[0].Path != "/scratch/runs/rho/.sweep/submit-1.sbatch" {
				t.Errorf("array: %d scripts, first %s", len(s), s[0].Path)
			}
			return s[0].Text
		}},
		{"array unthrottled, no resources", "array_plain.sbatch", func() string {
			return p.Scripts(3, p.Points[:2], SlurmOptions{Bin: "/opt/bsam/bin/bsam"})[0].Text
		}},
		{"no-array", "noarray.sbatch", func() string {
			o := o
			o.NoArray = true
			s := p.Scripts(2, p.Points, o)
			if len(s) != 3 {
				t.Fatalf("no-array: %d scripts, want one per run", len(s))
			}
			var b strings.Builder
			for _, f := range s {
				fmt.Fprintf(&b, "==> %s (task %d)\n%s", f.Path, f.Task, f.Text)
			}
			return b.String()
		}},
		{"report dependency, array", "report_array.sbatch", func() string {
			return p.reportScript(1, []string{"4242"}, o).Text
		}},
		{"report dependency, no-array", "report_noarray.sbatch", func() string {
			return p.reportScript(2, []string{"51", "52", "53"}, o).Text
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { golden(t, tc.golden, tc.got()) })
	}
}

func TestShellQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/opt/bsam", "/opt/bsam"},
		{"a b", "'a b'"},
		{"it's", `'it'\''s'`},
		{"", "''"},
		{"$HOME", "'$HOME'"},
		{"optimizer.rho=1.0e-4", "optimizer.rho=1.0e-4"},
	}
	for _, tc := range tests {
		if got := shellQuote(tc.in); got != tc.want {
			t.Errorf("shellQuote(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// fakeSlurm writes sbatch, squeue and sacct stand-ins into a directory:
// each appends its arguments to <dir>/<name>.log. sbatch prints job ids
// 1000, 1001, … (or fails when <dir>/sbatch.fail exists); squeue and sacct
// print <dir>/<name>.out (or fail when it is absent).
func fakeSlurm(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	scripts := map[string]string{
		"sbatch": `#!/bin/sh
d=$(dirname "$0")
echo "$*" >> "$d/sbatch.log"
if [ -e "$d/sbatch.fail" ]; then echo "sbatch: error: Batch job submission failed: Invalid partition name specified" >&2; exit 1; fi
n=$(cat "$d/sbatch.next" 2>/dev/null || echo 1000)
echo $((n + 1)) > "$d/sbatch.next"
echo "$n;cluster"
`,
		"squeue": `#!/bin/sh
d=$(dirname "$0")
echo "$*" >> "$d/squeue.log"
[ -e "$d/squeue.out" ] || { echo "squeue: error: Unable to contact slurm controller" >&2; exit 1; }
cat "$d/squeue.out"
`,
		"sacct": `#!/bin/sh
d=$(dirname "$0")
echo "$*" >> "$d/sacct.log"
[ -e "$d/sacct.out" ] || { echo "sacct: error: Slurm accounting storage is disabled" >&2; exit 1; }
cat "$d/sacct.out"
`,
	}
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// TestSubmitAndResubmit drives the Slurm submission against fake binaries:
// the first call submits every run as one array, the second only the
// failed and missing ones, never the done, queued or running ones.
func TestSubmitAndResubmit(t *testing.T) {
	fake := fakeSlurm(t)
	p := lrRuns(t)
	p.Points = p.Points[:5]
	ctx := context.Background()
	o := SlurmOptions{Resources: Slurm{Partition: "cpu", Throttle: 2}, Bin: "/bin/bsam", Sbatch: filepath.Join(fake, "sbatch"), Chdir: "/home/alice/bsam",
		Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }}

	st, _ := p.LoadState()
	rs := p.Inspect(st, nil)
	todo := runnable(rs)
	if len(todo) != 5 {
		t.Fatalf("fresh sweep: %d runnable, want 5", len(todo))
	}
	sub, err := p.SubmitSlurm(ctx, st, todo, o)
	if err != nil {
		t.Fatal(err)
	}
	if got := readLines(t, filepath.Join(fake, "sbatch.log")); !slices.Equal(got, []string{"--parsable " + filepath.Join(p.StateDir(), "submit-1.sbatch")}) {
		t.Errorf("sbatch calls %q", got)
	}
	if sub.JobID != "1000" || len(sub.Tasks) != 5 || sub.Tasks[4].JobID != "1000_4" || sub.Tasks[4].Run != 4 {
		t.Errorf("submission %+v", sub)
	}
	script, _ := os.ReadFile(filepath.Join(p.StateDir(), "submit-1.sbatch"))
	if !strings.Contains(string(script), "#SBATCH --array=0-4%2\n") {
		t.Errorf("script has no --array=0-4%%2:\n%s", script)
	}
	pf, err := ReadPlanFile(filepath.Join(p.StateDir(), "plan-1.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pf.Tasks) != 5 || pf.Tasks[3].Hash != p.Points[3].Hash || !slices.Equal(pf.Tasks[3].Args, p.Points[3].Args) {
		t.Errorf("plan file tasks: %+v", pf.Tasks)
	}
	saved, err := p.LoadState()
	if err != nil || len(saved.Submissions) != 1 || saved.Submissions[0].JobID != "1000" || !saved.Submissions[0].Time.Equal(o.Now()) {
		t.Fatalf("state after submission: %+v %v", saved, err)
	}

	// The cluster: task 0 finished, task 1 diverged (exit 3), task 2 is
	// running, task 3 is gone without a trace, task 4 still queued.
	fakeRun(t, p.Points[0], "done", p.Points[0].Hash)
	writeRecord(p.StateDir(), &TaskRecord{Hash: p.Points[0].Hash, Executor: "slurm", JobID: "1000_0", Started: time.Now(), Ended: time.Now(), ExitCode: code(0)})
	fakeRun(t, p.Points[1], "failed", p.Points[1].Hash)
	writeRecord(p.StateDir(), &TaskRecord{Hash: p.Points[1].Hash, Executor: "slurm", JobID: "1000_1", Started: time.Now(), Ended: time.Now(), ExitCode: code(3)})
	writeRecord(p.StateDir(), &TaskRecord{Hash: p.Points[2].Hash, Executor: "slurm", JobID: "1000_2", Started: time.Now()})
	os.WriteFile(filepath.Join(fake, "squeue.out"), []byte("1000_2|RUNNING\n1000_4|PENDING\n999|RUNNING\n"), 0o644)

	q := QuerySlurm(ctx, filepath.Join(fake, "squeue"), filepath.Join(fake, "sacct"), saved.JobIDs(), nil)
	if !q.Known || q.Active["1000_2"] != "RUNNING" || len(q.Final) != 0 {
		t.Errorf("queue %+v", q)
	}
	if got := readLines(t, filepath.Join(fake, "sacct.log")); len(got) != 1 || !strings.Contains(got[0], "--jobs=1000") {
		t.Errorf("sacct calls %q", got)
	}
	if got := readLines(t, filepath.Join(fake, "squeue.log")); len(got) != 1 || !strings.HasPrefix(got[0], "--noheader --array --format=%i|%T") {
		t.Errorf("squeue calls %q", got)
	}
	rs = p.Inspect(saved, q)
	var states []string
	for _, r := range rs {
		states = append(states, r.State)
	}
	if !slices.Equal(states, []string{Done, Failed, Running, Missing, Queued}) {
		t.Fatalf("states %v", states)
	}
	sub2, err := p.SubmitSlurm(ctx, saved, runnable(rs), o)
	if err != nil {
		t.Fatal(err)
	}
	if sub2.N != 2 || sub2.JobID != "1001" || len(sub2.Tasks) != 2 || sub2.Tasks[0].Run != 1 || sub2.Tasks[1].Run != 3 || sub2.Tasks[1].JobID != "1001_1" {
		t.Errorf("resubmission %+v, want runs 1 and 3 as 1001_0 and 1001_1", sub2)
	}
	script, _ = os.ReadFile(filepath.Join(p.StateDir(), "submit-2.sbatch"))
	if !strings.Contains(string(script), "#SBATCH --array=0-1%2\n") || !strings.Contains(string(script), "plan-2.json") {
		t.Errorf("resubmission script:\n%s", script)
	}
	pf2, _ := ReadPlanFile(filepath.Join(p.StateDir(), "plan-2.json"))
	if len(pf2.Tasks) != 2 || pf2.Tasks[0].Index != 1 || pf2.Tasks[1].Index != 3 {
		t.Errorf("plan-2 maps tasks to runs %+v", pf2.Tasks)
	}
	// Once the resubmitted tasks are queued, nothing else is runnable.
	os.WriteFile(filepath.Join(fake, "squeue.out"), []byte("1000_2|RUNNING\n1000_4|PENDING\n1001_0|PENDING\n1001_1|PENDING\n"), 0o644)
	saved, _ = p.LoadState()
	q = QuerySlurm(ctx, filepath.Join(fake, "squeue"), "", saved.JobIDs(), nil)
	if n := len(runnable(p.Inspect(saved, q))); n != 0 {
		t.Errorf("%d runs runnable while all are done, queued or running", n)
	}
}

func runnable(rs []RunStatus) []Point {
	var out []Point
	for _, r := range rs {
		if Runnable(r.State) {
			out = append(out, r.Point)
		}
	}
	return out
}

func TestSubmitNoArrayWithReport(t *testing.T) {
	fake := fakeSlurm(t)
	p := lrRuns(t)
	p.Points = p.Points[:3]
	st, _ := p.LoadState()
	o := SlurmOptions{NoArray: true, Report: true, Bin: "/bin/bsam", Sbatch: filepath.Join(fake, "sbatch")}
	sub, err := p.SubmitSlurm(context.Background(), st, p.Points, o)
	if err != nil {
		t.Fatal(err)
	}
	d := p.StateDir()
	want := []string{
		"--parsable " + filepath.Join(d, "submit-1-task-0.sbatch"),
		"--parsable " + filepath.Join(d, "submit-1-task-1.sbatch"),
		"--parsable " + filepath.Join(d, "submit-1-task-2.sbatch"),
		"--parsable " + filepath.Join(d, "report-1.sbatch"),
	}
	if got := readLines(t, filepath.Join(fake, "sbatch.log")); !slices.Equal(got, want) {
		t.Errorf("sbatch calls:\n got %q\nwant %q", got, want)
	}
	if sub.Array || sub.Tasks[0].JobID != "1000" || sub.Tasks[2].JobID != "1002" || sub.ReportJob != "1003" {
		t.Errorf("submission %+v", sub)
	}
	rep, _ := os.ReadFile(filepath.Join(d, "report-1.sbatch"))
	if !strings.Contains(string(rep), "#SBATCH --dependency=afterany:1000:1001:1002\n") {
		t.Errorf("report script:\n%s", rep)
	}
	task1, _ := os.ReadFile(filepath.Join(d, "submit-1-task-1.sbatch"))
	if !strings.Contains(string(task1), "--index 1\n") || strings.Contains(string(task1), "--array") {
		t.Errorf("task 1 script:\n%s", task1)
	}
}

func TestSubmitFailure(t *testing.T) {
	fake := fakeSlurm(t)
	p := lrRuns(t)
	os.WriteFile(filepath.Join(fake, "sbatch.fail"), nil, 0o644)
	st, _ := p.LoadState()
	_, err := p.SubmitSlurm(context.Background(), st, p.Points, SlurmOptions{Bin: "/bin/bsam", Sbatch: filepath.Join(fake, "sbatch")})
	if err == nil || !strings.Contains(err.Error(), "Invalid partition name") {
		t.Fatalf("error %v does not carry sbatch's message", err)
	}
	saved, _ := p.LoadState()
	if len(saved.Submissions) != 0 || len(st.Submissions) != 0 {
		t.Errorf("a failed sbatch recorded a submission: %+v", saved.Submissions)
	}
	// Without squeue (fails) the queue is unknown, sacct failing is fine.
	q := QuerySlurm(context.Background(), filepath.Join(fake, "squeue"), filepath.Join(fake, "sacct"), []string{"5_1"}, nil)
	if q.Known || len(q.Final) != 0 {
		t.Errorf("queue from failing squeue/sacct: %+v", q)
	}
	// sacct's final states are parsed, compacted pending ranges skipped.
	os.WriteFile(filepath.Join(fake, "sacct.out"), []byte("5_0|COMPLETED\n5_1|CANCELLED by 0\n5_2|TIMEOUT\n5_[3-4]|PENDING\n5_5|RUNNING\n"), 0o644)
	q = QuerySlurm(context.Background(), "", filepath.Join(fake, "sacct"), []string{"5_1", "5_2"}, nil)
	if q.Final["5_0"] != "COMPLETED" || q.Final["5_1"] != "CANCELLED" || q.Final["5_2"] != "TIMEOUT" || len(q.Final) != 3 {
		t.Errorf("sacct states %v", q.Final)
	}
}

// TestRunTask executes tasks of a plan file the way a Slurm array task
// does, with a fake bsam that exits 3 for the second learning rate.
func TestRunTask(t *testing.T) {
	fake := fakeSlurm(t)
	p := lrRuns(t)
	todo := p.Points[:3]
	st, _ := p.LoadState()
	if _, err := p.SubmitSlurm(context.Background(), st, todo, SlurmOptions{Bin: "/bin/bsam", Sbatch: filepath.Join(fake, "sbatch")}); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "fakebsam")
	os.WriteFile(bin, []byte("#!/bin/sh\necho \"train $*\"\ncase \"$*\" in *optimizer.lr=0.02*) exit 3;; esac\n"), 0o755)
	plan := filepath.Join(p.StateDir(), "plan-1.json")
	t.Setenv("SLURM_ARRAY_JOB_ID", "1000")
	for i, want := range []int{0, 3} {
		t.Setenv("SLURM_ARRAY_TASK_ID", fmt.Sprint(i))
		var out, errw strings.Builder
		code, err := RunTask(context.Background(), p.Sweep.File, plan, i, bin, &out, &errw)
		if err != nil || code != want {
			t.Errorf("task %d: exit %d err %v, want %d", i, code, err, want)
		}
		if !strings.Contains(out.String(), strings.Join(todo[i].Args, " ")) || !strings.Contains(errw.String(), fmt.Sprintf("task %d = run %d", i, i)) {
			t.Errorf("task %d output %q / %q", i, out.String(), errw.String())
		}
		rec := p.ReadRecord(todo[i].Hash)
		if rec == nil || rec.JobID != fmt.Sprintf("1000_%d", i) || rec.Executor != "slurm" || *rec.ExitCode != want ||
			rec.Log != filepath.Join(p.StateDir(), "slurm", fmt.Sprintf("1000_%d.out", i)) {
			t.Errorf("task %d record %+v", i, rec)
		}
	}
	if _, err := RunTask(context.Background(), p.Sweep.File, plan, 3, bin, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "--index 3 out of range") {
		t.Errorf("index 3 of 3 tasks: %v", err)
	}
	if _, err := RunTask(context.Background(), filepath.Join(t.TempDir(), "other.yaml"), plan, 0, bin, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "the plan belongs to") {
		t.Errorf("plan of another sweep: %v", err)
	}
	// Edit the sweep: learning rate 0.01 (task 0) is no longer in it.
	raw, _ := os.ReadFile(p.Sweep.File)
	os.WriteFile(p.Sweep.File, []byte(strings.Replace(string(raw), "[0.01, ", "[", 1)), 0o644)
	if _, err := RunTask(context.Background(), p.Sweep.File, plan, 0, bin, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "no longer in the sweep") {
		t.Errorf("task of an edited sweep: %v", err)
	}
	if code, err := RunTask(context.Background(), p.Sweep.File, plan, 1, bin, io.Discard, io.Discard); err != nil || code != 3 {
		t.Errorf("task 1 is still in the edited sweep: exit %d err %v", code, err)
	}
}
