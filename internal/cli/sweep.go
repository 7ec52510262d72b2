package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bsam-dev/bsam/pkg/sweep"
)

const sweepLong = `sweep runs a hyperparameter sweep: a base experiment file plus a grid of
values per method. Every grid point and seed becomes an ordinary run with its
own run directory (<out>/<name>/<method>-seed<k>-<hash>), trained by
` + "`bsam train`" + `, so finished runs are skipped, interrupted ones resume and
` + "`bsam report`" + ` groups the runs by their swept values.

Sweep file (paths relative to the sweep file; see configs/sweeps/):
  base: ../quickstart.yaml            # the experiment the runs start from
  name: rho_mnist                     # experiment name of the runs (default: file name)
  seeds: [0, 1]                       # default: the base file's seeds
  out: runs                           # default: the base file's out
  set: {epochs: 3, data.train_subset: 1000}   # fixed overrides (as --set)
  grid:                               # per method: optimizer.<field>: [values]
    sam_sgd: {optimizer.rho: [0.01, 0.05, 0.1]}
    bsam:    {optimizer.rho: [1.0e-4, 1.0e-3], optimizer.lr: [0.1, 0.5]}
  slurm: {partition: cpu, time: "02:00:00", cpus_per_task: 2, mem: 4G,
          gres: "", throttle: 8, account: "", qos: "", extra: []}

Runs are numbered methods in grid order, then the cartesian product of the
method's axes (first axis slowest), then seeds. Per-method grids exist because
SAM's ρ is normalised and bSAM's is not: their scales differ by orders of
magnitude.

--methods and --seeds start only some of the pending runs (both executors),
e.g. every method's seed 0 before any second seed when compute is short:
  bsam sweep FILE --seeds 0 && bsam sweep FILE
The plan, status and exit code still cover every run; runs left out stay
pending.

Executors:
  --dry-run          print the plan (index, method, seed, swept values, status,
                     run dir), the counts and an estimated cost from timing a
                     few training steps of the model on this machine
  local (default)    -j N runs at a time as subprocesses of this binary, each
                     with GOMAXPROCS = cores/N, output in
                     <out>/<name>/.sweep/logs/<run>.log; a failed run does not
                     stop the others
  --executor slurm   writes an sbatch array script (one task per pending run,
                     --array=0-K%throttle) into <out>/<name>/.sweep/, submits it
                     with sbatch --parsable and records the job id in
                     state.json. A later call resubmits only failed or missing
                     runs: finished runs are recognised by their result.json,
                     queued and running ones by squeue. --no-array submits one
                     job per run; --report adds a bsam report job that runs
                     after all tasks (--dependency=afterany); --wait polls until
                     the tasks end. sbatch, squeue and sacct are found on PATH
                     (or --sbatch/--squeue/--sacct, BSAM_SBATCH/BSAM_SQUEUE/
                     BSAM_SACCT). The bsam binary must be reachable from the
                     compute nodes at the same path (or give --bsam).

Exit codes: 0 all runs done (or submitted), 2 invalid sweep file or flags,
3 some runs failed (the others finished), 5 some runs are busy (another
process is training them; none failed; 3 wins when both), 130 interrupted,
1 anything else.

Progress: a line when each run starts ("run k/K") and ends, with the
estimated time left for the whole sweep once a run has finished.`

// sweepOptions are the flags of `bsam sweep`.
type sweepOptions struct {
	out      string
	dryRun   bool
	jobs     int
	cores    int
	executor string
	bin      string
	noArray  bool
	report   bool
	wait     bool
	poll     time.Duration
	slurm    sweep.Slurm
	sbatch   string
	squeue   string
	sacct    string
	verbose  bool
	methods  []string
	seeds    []int
}

func newSweepCmd() *cobra.Command {
	o := &sweepOptions{}
	cmd := &cobra.Command{
		Use:   "sweep FILE",
		Short: "Run a hyperparameter sweep locally or on a Slurm cluster",
		Long:  sweepLong,
		Example: `  bsam sweep configs/sweeps/rho_mnist.yaml --dry-run
  bsam sweep configs/sweeps/rho_mnist.yaml -j 2
  bsam sweep status configs/sweeps/rho_mnist.yaml
  bsam sweep configs/sweeps/rho_sensitivity.yaml --executor slurm --partition cpu --report
  bsam sweep configs/sweeps/rho_sensitivity.yaml --executor slurm   # again: resubmits failed runs`,
		Args: cobraArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, args[0]) },
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return Usagef("%v", err) })
	f := cmd.Flags()
	f.StringVarP(&o.out, "out", "o", "", "directory for run directories (default: the sweep file's out, else the base file's)")
	f.BoolVarP(&o.dryRun, "dry-run", "n", false, "print the plan and an estimated cost; run nothing")
	f.IntVarP(&o.jobs, "jobs", "j", 1, "local executor: runs trained at the same time")
	f.StringSliceVar(&o.methods, "methods", nil, "start only the pending runs of these methods (comma-separated); the plan and status keep every run")
	f.IntSliceVar(&o.seeds, "seeds", nil, "start only the pending runs of these seeds, e.g. --seeds 0 runs every method's seed 0 first")
	f.IntVar(&o.cores, "cores", 0, "local executor: CPU cores to split between the concurrent runs (default: all)")
	f.StringVar(&o.executor, "executor", "local", "where runs execute: local or slurm")
	f.StringVar(&o.bin, "bsam", "", "bsam binary the runs execute (default: this binary)")
	f.BoolVar(&o.noArray, "no-array", false, "slurm: one sbatch job per run instead of a job array")
	f.BoolVar(&o.report, "report", false, "slurm: add a bsam report job that runs after all tasks end")
	f.BoolVar(&o.wait, "wait", false, "slurm: wait until the submitted tasks end; exit 3 if some failed")
	f.DurationVar(&o.poll, "poll", 30*time.Second, "slurm: how often --wait asks squeue")
	f.StringVar(&o.slurm.Partition, "partition", "", "slurm: partition (default: the sweep file's slurm.partition)")
	f.StringVar(&o.slurm.Time, "time", "", "slurm: time limit per task, e.g. 02:00:00")
	f.IntVar(&o.slurm.CPUsPerTask, "cpus-per-task", 0, "slurm: CPUs per task (GOMAXPROCS of the run)")
	f.StringVar(&o.slurm.Mem, "mem", "", "slurm: memory per task, e.g. 4G")
	f.StringVar(&o.slurm.Gres, "gres", "", "slurm: generic resources per task")
	f.IntVar(&o.slurm.Throttle, "throttle", 0, "slurm: at most this many array tasks at once (the %N of --array)")
	f.StringVar(&o.slurm.Account, "account", "", "slurm: account to charge")
	f.StringVar(&o.slurm.QOS, "qos", "", "slurm: quality of service")
	addSlurmToolFlags(f, &o.sbatch, &o.squeue, &o.sacct)
	f.BoolVarP(&o.verbose, "verbose", "v", false, "debug logging")
	cmd.AddCommand(newSweepStatusCmd(), newSweepRunTaskCmd())
	return cmd
}

type flagSet interface {
	StringVar(p *string, name, value, usage string)
}

func addSlurmToolFlags(f flagSet, sbatch, squeue, sacct *string) {
	if sbatch != nil {
		f.StringVar(sbatch, "sbatch", "", "sbatch binary (env BSAM_SBATCH; default: sbatch on PATH)")
	}
	f.StringVar(squeue, "squeue", "", "squeue binary (env BSAM_SQUEUE; default: squeue on PATH)")
	f.StringVar(sacct, "sacct", "", "sacct binary (env BSAM_SACCT; default: sacct on PATH)")
}

// slurmTool resolves a Slurm binary: the flag, else the environment
// variable, else the name on PATH, else "" (not available).
func slurmTool(flag, env, name string) string {
	if flag != "" {
		return flag
	}
	if v := os.Getenv(env); v != "" {
		return v
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return ""
}

// loadSweep reads the sweep file and expands it.
func loadSweep(file, out string) (*sweep.Plan, error) {
	s, err := sweep.Load(file)
	if err != nil {
		return nil, WithCode(ExitUsage, err)
	}
	p, err := sweep.Expand(s, out)
	if err != nil {
		var ue interface{ UsageError() bool }
		if errors.As(err, &ue) {
			return nil, WithCode(ExitUsage, err)
		}
		return nil, WithCode(ExitRuntime, err)
	}
	return p, nil
}

// inspect reads the sweep's state, asks Slurm about its jobs when the
// sweep was ever submitted there, and returns every run's status.
func inspect(ctx context.Context, p *sweep.Plan, squeue, sacct string, logger *slog.Logger) (*sweep.State, []sweep.RunStatus, *sweep.Queue, error) {
	st, err := p.LoadState()
	if err != nil {
		return nil, nil, nil, WithCode(ExitRuntime, err)
	}
	var q *sweep.Queue
	if len(st.Submissions) > 0 {
		q = sweep.QuerySlurm(ctx, squeue, sacct, st.JobIDs(), logger)
	}
	return st, p.Inspect(st, q), q, nil
}

func (o *sweepOptions) run(cmd *cobra.Command, file string) error {
	switch o.executor {
	case "local", "slurm":
	default:
		return Usagef("--executor %q: want local or slurm", o.executor)
	}
	if o.jobs < 1 {
		return Usagef("--jobs %d: must be ≥ 1", o.jobs)
	}
	if o.cores < 0 {
		return Usagef("--cores %d: must be ≥ 0", o.cores)
	}
	if o.executor == "local" {
		fl := cmd.Flags()
		for _, name := range []string{"no-array", "report", "wait", "partition", "time", "cpus-per-task", "mem", "gres", "throttle", "account", "qos", "sbatch"} {
			if fl.Changed(name) {
				return Usagef("--%s applies to --executor slurm only", name)
			}
		}
	}
	p, err := loadSweep(file, o.out)
	if err != nil {
		return err
	}
	sel := sweep.Selection{Methods: o.methods, Seeds: o.seeds}
	if err := sel.Check(p); err != nil {
		return WithCode(ExitUsage, err)
	}
	ctx := cmd.Context()
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	logger := newLogger(stderr, o.verbose)
	squeue := slurmTool(o.squeue, "BSAM_SQUEUE", "squeue")
	sacct := slurmTool(o.sacct, "BSAM_SACCT", "sacct")
	st, rs, _, err := inspect(ctx, p, squeue, sacct, logger)
	if err != nil {
		return err
	}
	res := o.resources(cmd, p.Sweep.Slurm)
	if o.dryRun {
		printPlan(stdout, p, rs, true)
		o.printEstimate(stdout, stderr, p, rs, res)
		return nil
	}
	var todo []sweep.Point
	for _, r := range rs {
		if sweep.Runnable(r.State) && sel.Match(r.Point) {
			todo = append(todo, r.Point)
		}
	}
	bin := o.bin
	if bin == "" {
		if bin, err = os.Executable(); err != nil {
			return WithCode(ExitRuntime, fmt.Errorf("finding this binary for the runs (give --bsam): %w", err))
		}
	}
	c := sweep.Counts(rs)
	logger.Info("sweep", "name", p.Sweep.Name, "runs", len(rs), "done", c[sweep.Done], "running", c[sweep.Running]+c[sweep.Queued], "to_run", len(todo), "state", p.StateDir())
	if o.executor == "slurm" {
		return o.runSlurm(ctx, cmd, p, st, todo, res, bin, squeue, sacct)
	}
	if len(todo) == 0 {
		logger.Info("nothing to run")
	} else {
		lo := sweep.LocalOptions{Bin: bin, Jobs: o.jobs, Cores: o.cores, Logger: logger}
		logger.Info("running locally", "runs", len(todo), "at_once", o.jobs, "gomaxprocs_each", lo.Threads())
		p.RunLocal(ctx, todo, lo)
	}
	_, rs, _, err = inspect(context.WithoutCancel(ctx), p, squeue, sacct, logger)
	if err != nil {
		return err
	}
	printPlan(stdout, p, rs, false)
	if ctx.Err() != nil {
		return WithCode(ExitInterrupted, fmt.Errorf("interrupted; run the same command again to continue"))
	}
	return sweepOutcome(rs, p)
}

// sweepOutcome is the error (exit code 3) when runs failed.
func sweepOutcome(rs []sweep.RunStatus, p *sweep.Plan) error {
	c := sweep.Counts(rs)
	if bad := c[sweep.Failed] + c[sweep.Missing]; bad > 0 {
		return WithCode(ExitRunsFailed, fmt.Errorf("%d of %d runs failed (logs under %s; `bsam sweep status %s` lists them)", bad, len(rs), p.StateDir(), p.Sweep.File))
	}
	if busy := c[sweep.Running]; busy > 0 {
		return WithCode(ExitBusy, fmt.Errorf("%d of %d runs are busy: another process is training them (nothing failed; `bsam sweep status %s` follows them)", busy, len(rs), p.Sweep.File))
	}
	return nil
}

// resources merges the Slurm flags over the sweep file's slurm block.
func (o *sweepOptions) resources(cmd *cobra.Command, r sweep.Slurm) sweep.Slurm {
	fl := cmd.Flags()
	if fl.Changed("partition") {
		r.Partition = o.slurm.Partition
	}
	if fl.Changed("time") {
		r.Time = o.slurm.Time
	}
	if fl.Changed("cpus-per-task") {
		r.CPUsPerTask = o.slurm.CPUsPerTask
	}
	if fl.Changed("mem") {
		r.Mem = o.slurm.Mem
	}
	if fl.Changed("gres") {
		r.Gres = o.slurm.Gres
	}
	if fl.Changed("throttle") {
		r.Throttle = o.slurm.Throttle
	}
	if fl.Changed("account") {
		r.Account = o.slurm.Account
	}
	if fl.Changed("qos") {
		r.QOS = o.slurm.QOS
	}
	return r
}

func (o *sweepOptions) runSlurm(ctx context.Context, cmd *cobra.Command, p *sweep.Plan, st *sweep.State, todo []sweep.Point, res sweep.Slurm, bin, squeue, sacct string) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	logger := newLogger(stderr, o.verbose)
	if res.Throttle < 0 || res.CPUsPerTask < 0 {
		return Usagef("--throttle and --cpus-per-task must be ≥ 0")
	}
	if o.wait && squeue == "" {
		return Usagef("--wait needs squeue (not on PATH; give --squeue or BSAM_SQUEUE)")
	}
	var jobs []string
	if len(todo) == 0 {
		fmt.Fprintln(stdout, "nothing to submit: every run is done, queued or running")
	} else {
		sb := slurmTool(o.sbatch, "BSAM_SBATCH", "sbatch")
		if sb == "" {
			return WithCode(ExitRuntime, errors.New("sbatch not found on PATH (give --sbatch or BSAM_SBATCH, or run locally with -j N)"))
		}
		wd, err := os.Getwd()
		if err != nil {
			return WithCode(ExitRuntime, err)
		}
		sub, err := p.SubmitSlurm(ctx, st, todo, sweep.SlurmOptions{
			Resources: res, NoArray: o.noArray, Report: o.report, Bin: bin, Sbatch: sb, Chdir: wd, Logger: logger,
		})
		if err != nil {
			return WithCode(ExitRuntime, err)
		}
		if sub.Array {
			fmt.Fprintf(stdout, "submitted job %s: array of %d tasks (submission %d)\n", sub.JobID, len(sub.Tasks), sub.N)
		} else {
			fmt.Fprintf(stdout, "submitted %d jobs (submission %d)\n", len(sub.Tasks), sub.N)
		}
		for _, t := range sub.Tasks {
			pt := p.Points[t.Run]
			fmt.Fprintf(stdout, "  job %-12s run %d  %s seed %d %s\n", t.JobID, t.Run, pt.Method, pt.Seed, pt.Label())
			jobs = append(jobs, t.JobID)
		}
		if sub.ReportJob != "" {
			fmt.Fprintf(stdout, "report job %s runs after them: %s\n", sub.ReportJob, filepath.Join(p.StateDir(), fmt.Sprintf("report-%d.md", sub.N)))
			jobs = append(jobs, sub.ReportJob)
		}
		fmt.Fprintf(stdout, "state: %s; follow with `bsam sweep status %s`\n", filepath.Join(p.StateDir(), "state.json"), p.Sweep.File)
	}
	if !o.wait {
		return nil
	}
	var rs []sweep.RunStatus
	last := ""
	for {
		var q *sweep.Queue
		var err error
		if st, rs, q, err = inspect(ctx, p, squeue, sacct, logger); err != nil {
			return err
		}
		c := sweep.Counts(rs)
		active := c[sweep.Running] + c[sweep.Queued]
		for _, j := range jobs {
			if q != nil && q.Active[j] != "" && !strings.Contains(j, "_") {
				active++ // the report job, or --no-array jobs not yet counted
			}
		}
		line := countsLine(c, len(rs))
		if line != last {
			logger.Info("waiting", "status", line)
			last = line
		}
		if active == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return WithCode(ExitInterrupted, fmt.Errorf("interrupted while waiting; the jobs keep running (bsam sweep status %s)", p.Sweep.File))
		case <-time.After(o.poll):
		}
	}
	printPlan(stdout, p, rs, false)
	return sweepOutcome(rs, p)
}

func countsLine(c map[string]int, n int) string {
	parts := make([]string, len(sweep.States))
	for i, s := range sweep.States {
		parts[i] = fmt.Sprintf("%d %s", c[s], s)
	}
	return fmt.Sprintf("%d runs: %s", n, strings.Join(parts, ", "))
}

// printPlan writes one line per run and the counts.
func printPlan(w io.Writer, p *sweep.Plan, rs []sweep.RunStatus, plan bool) {
	fmt.Fprintf(w, "sweep %s: %s (base %s)\n", p.Sweep.Name, p.Sweep.File, p.Sweep.Base)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if plan {
		fmt.Fprintln(tw, "#\tmethod\tseed\tswept\tstatus\trun dir")
	} else {
		fmt.Fprintln(tw, "#\tmethod\tseed\tswept\tstatus\tjob\tattempts\trun dir\treason")
	}
	for _, r := range rs {
		dir := displayPath(r.Dir)
		if plan {
			fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\n", r.Index, r.Method, r.Seed, r.Label(), r.State, dir)
		} else {
			job := r.JobID
			if job == "" {
				job = "-"
			}
			fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\t%d\t%s\t%s\n", r.Index, r.Method, r.Seed, r.Label(), r.State, job, r.Attempts, dir, r.Reason)
		}
	}
	tw.Flush()
	fmt.Fprintln(w, countsLine(sweep.Counts(rs), len(rs)))
}

// displayPath shows paths under the working directory relative to it.
func displayPath(p string) string {
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if rel, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return p
}

// printEstimate times a few training steps and prints the estimated cost
// of the runs still to do.
func (o *sweepOptions) printEstimate(stdout, stderr io.Writer, p *sweep.Plan, rs []sweep.RunStatus, res sweep.Slurm) {
	sel := sweep.Selection{Methods: o.methods, Seeds: o.seeds}
	var todo []sweep.Point
	for _, r := range rs {
		if sweep.Runnable(r.State) && sel.Match(r.Point) {
			todo = append(todo, r.Point)
		}
	}
	if len(todo) == 0 {
		fmt.Fprintln(stdout, "nothing to run")
		return
	}
	threads := sweep.LocalOptions{Jobs: o.jobs, Cores: o.cores}.Threads()
	if o.executor == "slurm" {
		threads = max(1, res.CPUsPerTask)
	}
	est, err := sweep.EstimateCost(todo, threads, nil)
	if err != nil {
		fmt.Fprintf(stderr, "bsam: no cost estimate: %v\n", err)
		return
	}
	fmt.Fprintf(stdout, "estimated cost (an estimate: training steps only, timed on this machine — %d steps of a random minibatch per model with GOMAXPROCS=%d; evaluation and data loading come on top):\n", 3, threads)
	for k, s := range est.StepSeconds {
		fmt.Fprintf(stdout, "  %s: %.1f ms per forward+backward (×2 per step for SAM-SGD, SAM-Adam and bSAM)\n", k, 1000*s)
	}
	fmt.Fprintf(stdout, "  %d runs to do: %s of training in total (%s CPU time)\n", len(todo), fmtDuration(est.Total), fmtDuration(est.Total*float64(threads)))
	if o.executor == "slurm" {
		par := len(todo)
		if res.Throttle > 0 {
			par = min(par, res.Throttle)
		}
		fmt.Fprintf(stdout, "  on Slurm with %d tasks at once and %d CPUs each (if the nodes are as fast as this one): ≈ %s\n", par, threads, fmtDuration(est.Total/float64(par)))
	} else {
		fmt.Fprintf(stdout, "  locally with -j %d (GOMAXPROCS=%d each, %d cores): ≈ %s\n", o.jobs, threads, runtime.NumCPU(), fmtDuration(est.Total/float64(min(o.jobs, len(todo)))))
	}
}

func fmtDuration(sec float64) string {
	d := time.Duration(sec * float64(time.Second))
	switch {
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	case d < 48*time.Hour:
		return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
	default:
		return fmt.Sprintf("%.0fh (%.1f days)", d.Hours(), d.Hours()/24)
	}
}

// sweepStatusOptions are the flags of `bsam sweep status`.
type sweepStatusOptions struct {
	out    string
	json   bool
	squeue string
	sacct  string
}

// statusJSON is the --json output of bsam sweep status.
type statusJSON struct {
	Schema string            `json:"schema"`
	Sweep  string            `json:"sweep"`
	Name   string            `json:"name"`
	State  string            `json:"state_dir"`
	Counts map[string]int    `json:"counts"`
	Runs   []sweep.RunStatus `json:"runs"`
}

func newSweepStatusCmd() *cobra.Command {
	o := &sweepStatusOptions{}
	cmd := &cobra.Command{
		Use:   "status FILE",
		Short: "Show how many runs of a sweep are done, running, failed or pending",
		Long: `status prints one line per run of the sweep (index, method, seed, swept values,
state, latest Slurm job, attempts, run directory, reason) and the counts.
States: done (result.json finished with this configuration), running, queued
(waiting in the Slurm queue), failed (the last attempt failed: diverged,
crashed, killed, timed out), missing (submitted but gone from the queue
without any record), pending (never attempted, or interrupted). squeue and
sacct are asked when the sweep was ever submitted to Slurm. --json prints
the same as JSON (schema bsam.sweep-status/v1).`,
		Args: cobraArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := loadSweep(args[0], o.out)
			if err != nil {
				return err
			}
			logger := newLogger(cmd.ErrOrStderr(), false)
			_, rs, _, err := inspect(cmd.Context(), p, slurmTool(o.squeue, "BSAM_SQUEUE", "squeue"), slurmTool(o.sacct, "BSAM_SACCT", "sacct"), logger)
			if err != nil {
				return err
			}
			if o.json {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(statusJSON{Schema: "bsam.sweep-status/v1", Sweep: p.Sweep.File, Name: p.Sweep.Name, State: p.StateDir(), Counts: sweep.Counts(rs), Runs: rs})
			}
			printPlan(cmd.OutOrStdout(), p, rs, false)
			if strays := p.Strays(); len(strays) > 0 {
				logger.Warn("run directories of this sweep that are no run of its plan: trained under another configuration (a BSAM_* variable such as BSAM_DATA_SOURCE, --out or an edited base file that differs now); rerun status with the settings they were trained with",
					"count", len(strays), "example", displayPath(strays[0]))
			}
			return nil
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return Usagef("%v", err) })
	f := cmd.Flags()
	f.StringVarP(&o.out, "out", "o", "", "directory of the run directories (as given to bsam sweep)")
	f.BoolVar(&o.json, "json", false, "print JSON")
	addSlurmToolFlags(f, nil, &o.squeue, &o.sacct)
	return cmd
}

func newSweepRunTaskCmd() *cobra.Command {
	var plan string
	index := -1
	cmd := &cobra.Command{
		Use:   "run-task FILE --plan PLANFILE --index I",
		Short: "Train one task of a submitted sweep (what each Slurm task runs)",
		Long: `run-task trains task I of a plan file written by bsam sweep --executor slurm
(the sbatch script passes --index $SLURM_ARRAY_TASK_ID): it runs bsam train for
that task's run as a subprocess, recording the attempt (host, job, start, end,
exit code) in the sweep's state directory, and exits with the training
process's exit code.`,
		Args: cobraArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if plan == "" || !cmd.Flags().Changed("index") {
				return Usagef("--plan and --index are required")
			}
			bin, err := os.Executable()
			if err != nil {
				return WithCode(ExitRuntime, err)
			}
			code, err := sweep.RunTask(cmd.Context(), args[0], plan, index, bin, cmd.OutOrStdout(), cmd.ErrOrStderr())
			if err != nil {
				var ue interface{ UsageError() bool }
				if errors.As(err, &ue) {
					return WithCode(ExitUsage, err)
				}
				return WithCode(ExitRuntime, err)
			}
			if code != 0 {
				return WithCode(code, fmt.Errorf("task %d: bsam train exited with code %d", index, code))
			}
			return nil
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return Usagef("%v", err) })
	cmd.Flags().StringVar(&plan, "plan", "", "plan file of the submission (required)")
	cmd.Flags().IntVar(&index, "index", -1, "task index (required)")
	return cmd
}
