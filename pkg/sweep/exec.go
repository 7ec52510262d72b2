package sweep

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// runPoint trains one point as a subprocess `bin <pt.Args…>`, recording the
// attempt in tasks/<hash>.json under stateDir before it starts and after it
// ends. It returns the exit code of the training process; err is set only
// when it could not be started. Cancelling ctx interrupts the process
// (SIGINT: bsam train records the run as interrupted) and kills it 30 s
// later.
func runPoint(ctx context.Context, stateDir, bin string, pt Point, rec TaskRecord, env []string, stdout, stderr io.Writer) (int, error) {
	cmd := exec.CommandContext(ctx, bin, pt.Args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second
	if err := cmd.Start(); err != nil {
		return -1, fmt.Errorf("starting %s: %w", bin, err)
	}
	rec.Hash, rec.Dir, rec.PID = pt.Hash, pt.Dir, cmd.Process.Pid
	rec.Host, _ = os.Hostname()
	rec.Started = time.Now().UTC()
	if err := writeRecord(stateDir, &rec); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return -1, err
	}
	err := cmd.Wait()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			code = -1
		} else if code = ee.ExitCode(); code < 0 {
			code = 128 + 9 // killed by a signal
		}
	}
	rec.Ended = time.Now().UTC()
	rec.ExitCode = &code
	if werr := writeRecord(stateDir, &rec); werr != nil {
		return code, werr
	}
	return code, nil
}

// LocalOptions configure RunLocal.
type LocalOptions struct {
	// Bin is the bsam binary the runs are started with.
	Bin string
	// Jobs is the number of runs trained at the same time (≥ 1).
	Jobs int
	// Cores is the number of CPU cores to split between them (0: all).
	Cores int
	// Logger receives a line when a run starts and ends.
	Logger *slog.Logger
}

// Threads returns the GOMAXPROCS each of the concurrent runs gets.
func (o LocalOptions) Threads() int {
	cores := o.Cores
	if cores <= 0 {
		cores = runtime.NumCPU()
	}
	return max(1, cores/max(1, o.Jobs))
}

// LocalResult is the outcome of one run started by RunLocal.
type LocalResult struct {
	Point    Point
	ExitCode int
	Log      string
	Err      error // the run could not be started
}

// RunLocal trains the points, o.Jobs at a time, each as a subprocess
// `bsam train …` with GOMAXPROCS = cores/jobs and its output appended to
// logs/<run dir name>.log in the state directory. A failed run does not
// stop the others. Cancelling ctx interrupts the running ones and starts no
// more. Results are in the order of todo; runs never started have
// ExitCode -1 and Err set to the context's error.
func (p *Plan) RunLocal(ctx context.Context, todo []Point, o LocalOptions) []LocalResult {
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	jobs := max(1, o.Jobs)
	env := append(os.Environ(), fmt.Sprintf("GOMAXPROCS=%d", o.Threads()))
	results := make([]LocalResult, len(todo))
	prog := &localProgress{total: len(todo), start: time.Now()}
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = p.runLocalOne(ctx, todo[i], o.Bin, env, logger, prog)
			}
		}()
	}
loop:
	for i := range todo {
		select {
		case next <- i:
		case <-ctx.Done():
			for j := i; j < len(todo); j++ {
				results[j] = LocalResult{Point: todo[j], ExitCode: -1, Err: ctx.Err()}
			}
			break loop
		}
	}
	close(next)
	wg.Wait()
	return results
}

// localProgress counts the runs of RunLocal for "run k/K" and the ETA of
// the whole sweep (the pace of the runs finished so far, whatever the
// number running at once).
type localProgress struct {
	mu                    sync.Mutex
	total, started, ended int
	start                 time.Time
}

func (l *localProgress) begin() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.started++
	return fmt.Sprintf("%d/%d", l.started, l.total)
}

// end returns the runs ended so far and, once some have, the estimated
// time until all have.
func (l *localProgress) end() (string, time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ended++
	el := time.Since(l.start)
	eta := time.Duration(float64(el) / float64(l.ended) * float64(l.total-l.ended))
	return fmt.Sprintf("%d/%d", l.ended, l.total), eta.Round(time.Second), l.ended < l.total
}

func (p *Plan) runLocalOne(ctx context.Context, pt Point, bin string, env []string, logger *slog.Logger, prog *localProgress) LocalResult {
	logDir := filepath.Join(p.StateDir(), "logs")
	res := LocalResult{Point: pt, ExitCode: -1, Log: filepath.Join(logDir, filepath.Base(pt.Dir)+".log")}
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		res.Err = err
		return res
	}
	f, err := os.OpenFile(res.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		res.Err = err
		return res
	}
	defer f.Close()
	fmt.Fprintf(f, "=== %s: %s %s\n", time.Now().UTC().Format(time.RFC3339), bin, strings.Join(pt.Args, " "))
	logger.Info("run started", "run", prog.begin(), "index", pt.Index, "method", pt.Method, "seed", pt.Seed, "swept", pt.Label(), "log", res.Log)
	start := time.Now()
	res.ExitCode, res.Err = runPoint(ctx, p.StateDir(), bin, pt, TaskRecord{Executor: "local", Log: res.Log}, env, f, f)
	fmt.Fprintf(f, "=== exit code %d after %s\n", res.ExitCode, time.Since(start).Round(time.Millisecond))
	lvl := slog.LevelInfo
	if res.ExitCode != 0 {
		lvl = slog.LevelWarn
	}
	done, eta, more := prog.end()
	args := []any{"index", pt.Index, "method", pt.Method, "seed", pt.Seed, "swept", pt.Label(),
		"exit_code", res.ExitCode, "seconds", time.Since(start).Round(time.Second).Seconds(), "ended", done}
	if more {
		args = append(args, "eta", eta.String())
	}
	logger.Log(ctx, lvl, "run ended", args...)
	return res
}

// RunTask executes task index of a plan file written by a Slurm
// submission: it checks that the plan belongs to sweepFile, then trains the
// task's run with `bin train …`, output to stdout/stderr (the Slurm output
// files), recording the attempt with the Slurm job id taken from the
// environment. It returns the training process's exit code.
func RunTask(ctx context.Context, sweepFile, planFile string, index int, bin string, stdout, stderr io.Writer) (int, error) {
	pf, err := ReadPlanFile(planFile)
	if err != nil {
		return -1, err
	}
	abs, err := filepath.Abs(sweepFile)
	if err != nil {
		return -1, err
	}
	if pf.Sweep != abs {
		return -1, &Error{File: planFile, Field: "sweep", Msg: fmt.Sprintf("the plan belongs to %s, not %s", pf.Sweep, abs)}
	}
	if index < 0 || index >= len(pf.Tasks) {
		return -1, &Error{File: planFile, Field: "tasks", Msg: fmt.Sprintf("--index %d out of range: the plan has tasks 0..%d", index, len(pf.Tasks)-1)}
	}
	pt := pf.Tasks[index]
	// The sweep file or its base may have been edited since submission;
	// then this task would train another configuration than the one
	// planned, into another run directory. Refuse, so that the run shows
	// as failed and the next bsam sweep call plans afresh.
	if s, err := Load(sweepFile); err != nil {
		return -1, err
	} else if p, err := Expand(s, filepath.Dir(filepath.Dir(pt.Dir))); err != nil {
		return -1, err
	} else if !slices.ContainsFunc(p.Points, func(q Point) bool { return q.Hash == pt.Hash }) {
		return -1, &Error{File: sweepFile, Msg: fmt.Sprintf("task %d (run %s) is no longer in the sweep: the sweep file or its base changed since submission %d; run bsam sweep again to resubmit", index, pt.Dir, pf.Submission)}
	}
	job := slurmJobID()
	rec := TaskRecord{Executor: "slurm", JobID: job}
	if job != "" {
		rec.Log = filepath.Join(filepath.Dir(planFile), "slurm", job+".out")
	}
	fmt.Fprintf(stderr, "bsam sweep run-task: task %d = run %d (%s seed %d %s) in %s\n", index, pt.Index, pt.Method, pt.Seed, pt.Label(), pt.Dir)
	return runPoint(ctx, filepath.Dir(planFile), bin, pt, rec, os.Environ(), stdout, stderr)
}

// slurmJobID is the id squeue and sacct show for the current task:
// <array job>_<task> in an array job, else the job id.
func slurmJobID() string {
	if a, t := os.Getenv("SLURM_ARRAY_JOB_ID"), os.Getenv("SLURM_ARRAY_TASK_ID"); a != "" && t != "" {
		return a + "_" + t
	}
	return os.Getenv("SLURM_JOB_ID")
}
