package sweep

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/bsam-dev/bsam/pkg/train"
)

// StateSchema identifies the format of state.json.
const StateSchema = "bsam.sweep-state/v1"

// PlanSchema identifies the format of plan-<n>.json.
const PlanSchema = "bsam.sweep-plan/v1"

// State is the content of state.json: every submission made for the sweep.
type State struct {
	Schema      string       `json:"schema"`
	Sweep       string       `json:"sweep"`
	Submissions []Submission `json:"submissions"`
}

// Submission is one call of bsam sweep --executor slurm that submitted
// something.
type Submission struct {
	N         int       `json:"n"` // 1, 2, …
	Executor  string    `json:"executor"`
	Time      time.Time `json:"time"`
	Array     bool      `json:"array"`
	JobID     string    `json:"job_id,omitempty"` // the array job (array mode)
	Plan      string    `json:"plan"`             // plan file
	Scripts   []string  `json:"scripts"`
	Tasks     []Task    `json:"tasks"`
	ReportJob string    `json:"report_job,omitempty"`
}

// Task is one task of a submission.
type Task struct {
	Task  int    `json:"task"`   // array task index / position in the plan file
	Run   int    `json:"run"`    // Point.Index
	Hash  string `json:"hash"`   // Point.Hash
	Dir   string `json:"dir"`    // Point.Dir
	JobID string `json:"job_id"` // "<array job>_<task>" or the job of the task
}

// PlanFile is the content of plan-<n>.json: what each task index runs.
type PlanFile struct {
	Schema     string  `json:"schema"`
	Sweep      string  `json:"sweep"`
	Submission int     `json:"submission"`
	Tasks      []Point `json:"tasks"` // task index i runs Tasks[i]
}

// TaskRecord is tasks/<hash>.json: the latest attempt at a run, written by
// the process that executes it (bsam sweep run-task, or the local
// executor).
type TaskRecord struct {
	Hash     string    `json:"hash"`
	Dir      string    `json:"dir"`
	Executor string    `json:"executor"`         // local or slurm
	JobID    string    `json:"job_id,omitempty"` // slurm job of the attempt
	Host     string    `json:"host"`
	PID      int       `json:"pid"` // the training process
	Log      string    `json:"log,omitempty"`
	Started  time.Time `json:"started"`
	Ended    time.Time `json:"ended,omitzero"`
	ExitCode *int      `json:"exit_code,omitempty"`
}

func (p *Plan) statePath() string { return filepath.Join(p.StateDir(), "state.json") }

// recordPath is the task record of run hash under state directory dir.
func recordPath(dir, hash string) string { return filepath.Join(dir, "tasks", hash+".json") }

// LoadState reads state.json; a sweep never submitted has an empty state.
func (p *Plan) LoadState() (*State, error) {
	st := &State{Schema: StateSchema, Sweep: p.Sweep.File}
	err := train.ReadJSON(p.statePath(), st)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sweep state: %w", err)
	}
	if st.Schema != StateSchema {
		return nil, fmt.Errorf("sweep state %s: schema %q, want %q", p.statePath(), st.Schema, StateSchema)
	}
	return st, nil
}

// SaveState writes state.json atomically.
func (p *Plan) SaveState(st *State) error {
	if err := os.MkdirAll(p.StateDir(), 0o755); err != nil {
		return err
	}
	return train.WriteJSONAtomic(p.statePath(), st)
}

// ReadRecord returns the task record of a run, or nil when there is none.
func (p *Plan) ReadRecord(hash string) *TaskRecord { return readRecord(p.StateDir(), hash) }

func readRecord(stateDir, hash string) *TaskRecord {
	var r TaskRecord
	if err := train.ReadJSON(recordPath(stateDir, hash), &r); err != nil {
		return nil
	}
	return &r
}

// writeRecord writes a task record atomically under state directory dir.
func writeRecord(stateDir string, r *TaskRecord) error {
	path := recordPath(stateDir, r.Hash)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return train.WriteJSONAtomic(path, r)
}

// ReadPlanFile reads a plan file written by a submission.
func ReadPlanFile(path string) (*PlanFile, error) {
	var pf PlanFile
	if err := train.ReadJSON(path, &pf); err != nil {
		return nil, fmt.Errorf("plan file: %w", err)
	}
	if pf.Schema != PlanSchema {
		return nil, fmt.Errorf("plan file %s: schema %q, want %q", path, pf.Schema, PlanSchema)
	}
	return &pf, nil
}

// State of a run of the sweep.
const (
	Done    = "done"    // result.json says done with this configuration
	Running = "running" // being trained now
	Queued  = "queued"  // submitted, waiting in the Slurm queue
	Failed  = "failed"  // the last attempt failed (diverged, crashed, killed)
	Missing = "missing" // submitted, gone from the queue without any record
	Pending = "pending" // never attempted, or interrupted
)

// States lists the states in display order.
var States = []string{Done, Running, Queued, Failed, Missing, Pending}

// Runnable reports whether an executor should (re)start a run in this state.
func Runnable(state string) bool { return state == Failed || state == Missing || state == Pending }

// RunStatus is the state of one run of the sweep.
type RunStatus struct {
	Point
	State    string `json:"state"`
	Reason   string `json:"reason,omitempty"`
	JobID    string `json:"job_id,omitempty"` // latest Slurm job of the run
	Attempts int    `json:"attempts"`         // submissions or local attempts
	Log      string `json:"log,omitempty"`
}

// Queue is what Slurm says about jobs; see QuerySlurm.
type Queue struct {
	// Known is true when squeue answered: a job missing from Active has
	// left the queue.
	Known bool
	// Active maps job ids ("123" or "123_4") to their squeue state
	// (PENDING, RUNNING, …).
	Active map[string]string
	// Final maps job ids to their sacct state (COMPLETED, FAILED,
	// TIMEOUT, …) when accounting is available.
	Final map[string]string
}

// Inspect determines the state of every run from the run directories, the
// task records, the sweep state and the queue (nil when not on Slurm).
func (p *Plan) Inspect(st *State, q *Queue) []RunStatus {
	if q == nil {
		q = &Queue{}
	}
	host, _ := os.Hostname()
	last := map[string]Task{}
	attempts := map[string]int{}
	for _, sub := range st.Submissions {
		for _, t := range sub.Tasks {
			last[t.Hash] = t
			attempts[t.Hash]++
		}
	}
	out := make([]RunStatus, len(p.Points))
	for i, pt := range p.Points {
		rs := RunStatus{Point: pt, Attempts: attempts[pt.Hash]}
		task, submitted := last[pt.Hash]
		rec := p.ReadRecord(pt.Hash)
		if rec != nil {
			rs.Log = rec.Log
			if !submitted && rec.Executor == "local" {
				rs.Attempts = max(rs.Attempts, 1)
			}
		}
		if submitted {
			rs.JobID = task.JobID
		}
		meta := readMeta(pt.Dir)
		switch {
		case finished(pt):
			rs.State = Done
		case submitted && q.Active[task.JobID] != "":
			rs.State = Running
			if s := q.Active[task.JobID]; s == "PENDING" || s == "CONFIGURING" || s == "REQUEUED" {
				rs.State = Queued
			}
			rs.Reason = "slurm: " + q.Active[task.JobID]
		case rec != nil && (!submitted || rec.JobID == task.JobID):
			// The latest attempt has started.
			switch {
			case rec.Ended.IsZero() && rec.Executor == "local" && rec.Host == host && !alive(rec.PID):
				rs.State, rs.Reason = Pending, "interrupted (its process is gone)"
			case rec.Ended.IsZero() && submitted && q.Known:
				rs.State, rs.Reason = Missing, "the job ended without recording an exit (killed?"+finalState(q, task.JobID)+")"
			case rec.Ended.IsZero():
				rs.State = Running
			case meta != nil && meta.ConfigHash == pt.Hash && meta.Status == "interrupted":
				rs.State, rs.Reason = Pending, "interrupted"
			case rec.ExitCode != nil && *rec.ExitCode == train.ExitBusy && train.LockHeld(pt.Dir):
				rs.State, rs.Reason = Running, "busy: another process is training it"
			case rec.ExitCode != nil && *rec.ExitCode == train.ExitBusy:
				rs.State, rs.Reason = Pending, "was busy (another process was training it)"
			case rec.ExitCode != nil && *rec.ExitCode == 0:
				rs.State, rs.Reason = Failed, "training exited 0 without a finished result.json"
			default:
				rs.State = Failed
				rs.Reason = fmt.Sprintf("exit code %d", derefInt(rec.ExitCode))
				if meta != nil && meta.Reason != "" && meta.ConfigHash == pt.Hash {
					rs.Reason += ": " + meta.Reason
				} else if rec.Log != "" {
					rs.Reason += " (see " + rec.Log + ")"
				}
			}
		case submitted && q.Final[task.JobID] != "":
			rs.State, rs.Reason = Failed, "slurm: "+q.Final[task.JobID]+" before the task started"
		case submitted && q.Known:
			rs.State, rs.Reason = Missing, "the job left the queue without starting the task"
		case submitted:
			rs.State, rs.Reason = Queued, "submitted (squeue unavailable)"
		case meta != nil && meta.Status == "failed":
			rs.State, rs.Reason = Failed, meta.Reason
		case meta != nil && (meta.Status == "running" || meta.Status == "interrupted"):
			rs.State, rs.Reason = Pending, "interrupted (meta.json says "+meta.Status+")"
		default:
			rs.State = Pending
		}
		out[i] = rs
	}
	return out
}

// Counts tallies the states.
func Counts(rs []RunStatus) map[string]int {
	c := map[string]int{}
	for _, s := range States {
		c[s] = 0
	}
	for _, r := range rs {
		c[r.State]++
	}
	return c
}

// finished reports whether the run's result.json says done with the
// run's configuration hash, the test bsam train skips a run by.
func finished(pt Point) bool {
	var res train.Result
	err := train.ReadJSON(filepath.Join(pt.Dir, "result.json"), &res)
	return err == nil && res.Status == "done" && res.ConfigHash == pt.Hash
}

func readMeta(dir string) *train.Meta {
	var m train.Meta
	if err := train.ReadJSON(filepath.Join(dir, "meta.json"), &m); err != nil {
		return nil
	}
	return &m
}

func finalState(q *Queue, job string) string {
	if s := q.Final[job]; s != "" {
		return "; slurm: " + s
	}
	return ""
}

func derefInt(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}

// alive reports whether a process with this id exists on this host.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}
