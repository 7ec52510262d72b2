package sweep

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bsam-dev/bsam/pkg/train"
)

// Script is an sbatch script to render.
type Script struct {
	JobName    string
	Comment    string // first comment line after the directives
	Array      string // --array value ("0-3%8"), "" for a single job
	Resources  Slurm
	Chdir      string
	Output     string
	Error      string
	Dependency string // --dependency value, "" for none
	Env        []string
	Command    string // the shell command line to exec
}

// Render returns the sbatch script text. Empty resources are left out, so
// the cluster's defaults apply.
func (s Script) Render() string {
	var b strings.Builder
	b.WriteString("#!/bin/bash\n")
	d := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "#SBATCH --%s=%s\n", k, v)
		}
	}
	d("job-name", s.JobName)
	d("array", s.Array)
	d("partition", s.Resources.Partition)
	d("account", s.Resources.Account)
	d("qos", s.Resources.QOS)
	d("time", s.Resources.Time)
	if s.Resources.CPUsPerTask > 0 {
		d("cpus-per-task", strconv.Itoa(s.Resources.CPUsPerTask))
	}
	d("mem", s.Resources.Mem)
	d("gres", s.Resources.Gres)
	d("chdir", s.Chdir)
	d("output", s.Output)
	d("error", s.Error)
	d("dependency", s.Dependency)
	for _, x := range s.Resources.Extra {
		fmt.Fprintf(&b, "#SBATCH %s\n", x)
	}
	if s.Comment != "" {
		fmt.Fprintf(&b, "# %s\n", s.Comment)
	}
	b.WriteString("set -eu\n")
	b.WriteString("# One Go thread per allocated CPU.\n")
	b.WriteString("export GOMAXPROCS=\"${SLURM_CPUS_PER_TASK:-1}\"\n")
	for _, e := range s.Env {
		fmt.Fprintf(&b, "export %s\n", e)
	}
	fmt.Fprintf(&b, "exec %s\n", s.Command)
	return b.String()
}

// SlurmOptions configure SubmitSlurm.
type SlurmOptions struct {
	// Resources of each task (the sweep file's, with flags applied).
	Resources Slurm
	// NoArray submits one job per run instead of one array job.
	NoArray bool
	// Report adds a job running bsam report after all tasks end
	// (--dependency=afterany).
	Report bool
	// Bin is the bsam binary the tasks run (must be reachable from the
	// compute nodes).
	Bin string
	// Sbatch is the sbatch binary.
	Sbatch string
	// Chdir is the tasks' working directory (relative paths of the base
	// experiment, e.g. data.dir, resolve against it).
	Chdir  string
	Logger *slog.Logger
	// Now returns the time recorded in the state (time.Now if nil).
	Now func() time.Time
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`).MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func shellJoin(args ...string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}

// SubmitSlurm writes the plan file and the sbatch script(s) of a new
// submission for todo into the state directory, submits them with
// `sbatch --parsable`, and records the job ids in state.json after each
// successful sbatch call, so that a failure half-way leaves an accurate
// state. It returns the new submission, nil when todo is empty.
func (p *Plan) SubmitSlurm(ctx context.Context, st *State, todo []Point, o SlurmOptions) (*Submission, error) {
	if len(todo) == 0 {
		return nil, nil
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	dir := p.StateDir()
	if err := os.MkdirAll(filepath.Join(dir, "slurm"), 0o755); err != nil {
		return nil, err
	}
	n := len(st.Submissions) + 1
	sub := Submission{N: n, Executor: "slurm", Time: now().UTC(), Array: !o.NoArray, Plan: filepath.Join(dir, fmt.Sprintf("plan-%d.json", n))}
	pf := PlanFile{Schema: PlanSchema, Sweep: p.Sweep.File, Submission: n, Tasks: todo}
	if err := train.WriteJSONAtomic(sub.Plan, pf); err != nil {
		return nil, err
	}
	scripts := p.Scripts(n, todo, o)
	for _, s := range scripts {
		if err := train.WriteFileAtomic(s.Path, []byte(s.Text), 0o755); err != nil {
			return nil, err
		}
	}
	st.Submissions = append(st.Submissions, sub)
	cur := &st.Submissions[len(st.Submissions)-1]
	var jobs []string
	for _, s := range scripts {
		if s.Report {
			continue
		}
		id, err := sbatch(ctx, o.Sbatch, s.Path)
		if err != nil {
			if len(cur.Tasks) == 0 {
				st.Submissions = st.Submissions[:len(st.Submissions)-1]
			} else if serr := p.SaveState(st); serr != nil {
				logger.Error("recording the partial submission", "err", serr)
			}
			return nil, err
		}
		jobs = append(jobs, id)
		cur.Scripts = append(cur.Scripts, s.Path)
		if s.Task < 0 { // array
			cur.JobID = id
			for i, pt := range todo {
				cur.Tasks = append(cur.Tasks, Task{Task: i, Run: pt.Index, Hash: pt.Hash, Dir: pt.Dir, JobID: id + "_" + strconv.Itoa(i)})
			}
		} else {
			pt := todo[s.Task]
			cur.Tasks = append(cur.Tasks, Task{Task: s.Task, Run: pt.Index, Hash: pt.Hash, Dir: pt.Dir, JobID: id})
		}
		if err := p.SaveState(st); err != nil {
			return nil, err
		}
		logger.Info("submitted", "job", id, "script", s.Path)
	}
	if o.Report {
		s := p.reportScript(n, jobs, o)
		if err := train.WriteFileAtomic(s.Path, []byte(s.Text), 0o755); err != nil {
			return nil, err
		}
		id, err := sbatch(ctx, o.Sbatch, s.Path)
		if err != nil {
			return nil, fmt.Errorf("submitting the report job (the training jobs %s are submitted): %w", strings.Join(jobs, ","), err)
		}
		cur.ReportJob = id
		cur.Scripts = append(cur.Scripts, s.Path)
		if err := p.SaveState(st); err != nil {
			return nil, err
		}
		logger.Info("submitted report job", "job", id, "after", strings.Join(jobs, ","))
	}
	out := *cur
	return &out, nil
}

// ScriptFile is a rendered sbatch script and where it goes.
type ScriptFile struct {
	Path   string
	Text   string
	Task   int  // the task of a --no-array job, −1 for the array job
	Report bool // the report job (its dependency is filled in at submission)
}

// Scripts renders the sbatch scripts of submission n for todo: one array
// script, or with o.NoArray one script per task.
func (p *Plan) Scripts(n int, todo []Point, o SlurmOptions) []ScriptFile {
	dir := p.StateDir()
	base := Script{
		JobName:   "bsam-" + p.Sweep.Name,
		Resources: o.Resources,
		Chdir:     o.Chdir,
	}
	var out []ScriptFile
	if !o.NoArray {
		s := base
		s.Array = fmt.Sprintf("0-%d", len(todo)-1)
		if o.Resources.Throttle > 0 {
			s.Array += fmt.Sprintf("%%%d", o.Resources.Throttle)
		}
		s.Comment = fmt.Sprintf("bsam sweep %s: submission %d, %d tasks (generated; task i runs entry i of the plan file)", p.Sweep.Name, n, len(todo))
		s.Output = filepath.Join(dir, "slurm", "%A_%a.out")
		s.Error = filepath.Join(dir, "slurm", "%A_%a.err")
		s.Command = shellJoin(o.Bin, "sweep", "run-task", p.Sweep.File, "--plan", filepath.Join(dir, fmt.Sprintf("plan-%d.json", n))) + ` --index "$SLURM_ARRAY_TASK_ID"`
		out = append(out, ScriptFile{Path: filepath.Join(dir, fmt.Sprintf("submit-%d.sbatch", n)), Text: s.Render(), Task: -1})
		return out
	}
	for i, pt := range todo {
		s := base
		s.JobName = fmt.Sprintf("bsam-%s-%d", p.Sweep.Name, pt.Index)
		s.Comment = fmt.Sprintf("bsam sweep %s: submission %d, task %d = run %d (%s seed %d %s) (generated)", p.Sweep.Name, n, i, pt.Index, pt.Method, pt.Seed, pt.Label())
		s.Output = filepath.Join(dir, "slurm", "%j.out")
		s.Error = filepath.Join(dir, "slurm", "%j.err")
		s.Command = shellJoin(o.Bin, "sweep", "run-task", p.Sweep.File, "--plan", filepath.Join(dir, fmt.Sprintf("plan-%d.json", n)), "--index", strconv.Itoa(i))
		out = append(out, ScriptFile{Path: filepath.Join(dir, fmt.Sprintf("submit-%d-task-%d.sbatch", n, i)), Text: s.Render(), Task: i})
	}
	return out
}

// reportScript renders the report job of submission n, run after all of
// jobs end whatever their outcome (afterany).
func (p *Plan) reportScript(n int, jobs []string, o SlurmOptions) ScriptFile {
	dir := p.StateDir()
	res := Slurm{Partition: o.Resources.Partition, Account: o.Resources.Account, QOS: o.Resources.QOS, Time: "00:30:00", CPUsPerTask: 1, Mem: "2G"}
	s := Script{
		JobName:    "bsam-report-" + p.Sweep.Name,
		Comment:    fmt.Sprintf("bsam sweep %s: report of submission %d (generated)", p.Sweep.Name, n),
		Resources:  res,
		Chdir:      o.Chdir,
		Output:     filepath.Join(dir, "slurm", "report-%j.out"),
		Error:      filepath.Join(dir, "slurm", "report-%j.err"),
		Dependency: "afterany:" + strings.Join(jobs, ":"),
		Command:    shellJoin(o.Bin, "report", filepath.Join(p.Out, p.Sweep.Name), "--out", filepath.Join(dir, fmt.Sprintf("report-%d.md", n))),
	}
	return ScriptFile{Path: filepath.Join(dir, fmt.Sprintf("report-%d.sbatch", n)), Text: s.Render(), Task: -1, Report: true}
}

// sbatch submits a script with --parsable and returns the job id.
func sbatch(ctx context.Context, bin, script string) (string, error) {
	args := []string{"--parsable", script}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %v: %s", bin, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	// --parsable prints "jobid" or "jobid;cluster".
	line := strings.TrimSpace(stdout.String())
	if i := strings.LastIndexByte(line, '\n'); i >= 0 {
		line = line[i+1:]
	}
	id, _, _ := strings.Cut(line, ";")
	if _, err := strconv.Atoi(id); err != nil {
		return "", fmt.Errorf("%s --parsable printed %q, not a job id", bin, stdout.String())
	}
	return id, nil
}

// QuerySlurm asks squeue for the user's jobs (Queue.Known is false when
// squeue is empty or fails) and sacct for the final state of jobs (skipped
// when sacct is empty or fails, e.g. without accounting storage).
func QuerySlurm(ctx context.Context, squeue, sacct string, jobs []string, logger *slog.Logger) *Queue {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	q := &Queue{Active: map[string]string{}, Final: map[string]string{}}
	if squeue != "" {
		args := []string{"--noheader", "--array", "--format=%i|%T"}
		if u, err := user.Current(); err == nil {
			args = append(args, "--user="+u.Username)
		}
		out, err := exec.CommandContext(ctx, squeue, args...).Output()
		if err != nil {
			logger.Warn("squeue failed; running and queued tasks are taken from the state file", "err", err)
		} else {
			q.Known = true
			for _, line := range strings.Split(string(out), "\n") {
				id, state, ok := strings.Cut(strings.TrimSpace(line), "|")
				if ok {
					q.Active[id] = state
				}
			}
		}
	}
	var base []string
	for _, j := range jobs {
		b, _, _ := strings.Cut(j, "_")
		if b != "" && !slices.Contains(base, b) {
			base = append(base, b)
		}
	}
	if sacct != "" && len(base) > 0 {
		out, err := exec.CommandContext(ctx, sacct, "--noheader", "--parsable2", "--allocations",
			"--format=JobID,State", "--jobs="+strings.Join(base, ",")).Output()
		if err != nil {
			logger.Debug("sacct failed (no accounting storage?); final job states unknown", "err", err)
		} else {
			for _, line := range strings.Split(string(out), "\n") {
				id, state, ok := strings.Cut(strings.TrimSpace(line), "|")
				if !ok || strings.Contains(id, "[") {
					continue
				}
				state, _, _ = strings.Cut(state, " ") // "CANCELLED by 0"
				switch state {
				case "PENDING", "RUNNING", "REQUEUED", "RESIZING", "SUSPENDED", "COMPLETING", "CONFIGURING":
					continue
				}
				q.Final[id] = state
			}
		}
	}
	return q
}

// JobIDs lists the job ids of the latest attempt of every run, and the
// report jobs, for QuerySlurm.
func (st *State) JobIDs() []string {
	var ids []string
	for _, s := range st.Submissions {
		for _, t := range s.Tasks {
			ids = append(ids, t.JobID)
		}
		if s.ReportJob != "" {
			ids = append(ids, s.ReportJob)
		}
	}
	return ids
}
