package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/bsam-dev/bsam/pkg/config"
	"github.com/bsam-dev/bsam/pkg/train"
)

// File names inside a run directory.
const (
	ResultFile  = "result.json"
	MetricsFile = "metrics.jsonl"
	MetaFile    = "meta.json"
	ConfigFile  = "config.yaml"
)

// Run is one finished run: its directory, result.json and the per-epoch
// records of metrics.jsonl (empty when the file is missing).
type Run struct {
	Dir    string
	Result train.Result
	Epochs []train.EpochRecord
	// Protocol identifies what the run's result depends on besides the seed.
	Protocol ProtocolInfo
	// Ended is when the run finished (meta.json; else result.json's
	// modification time); --protocol latest picks by it.
	Ended time.Time
}

// Failure is a run directory that did not finish: result.json is missing
// (Status and Reason then come from meta.json: "running", "failed",
// "interrupted"; "unfinished" when meta.json is unreadable) or its status is
// not "done".
type Failure struct {
	Dir    string `json:"dir"`
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// Collection is everything Load found below the searched directories.
type Collection struct {
	Searched []string  // the directories given to Load
	Runs     []Run     // finished runs, sorted by directory
	Failures []Failure // failed or unfinished runs, sorted by directory
	Warnings []string  // problems that did not stop loading (bad metrics.jsonl lines, ...)
}

// ErrNoResults is returned (wrapped) by Load when no run directory was found.
var ErrNoResults = errors.New("no run directories found")

// Load walks every directory in dirs recursively and reads each run
// directory: one holding result.json or meta.json. A directory whose
// result.json is missing or whose status is not "done" becomes a Failure.
// An unreadable result.json is an error. When no run directory is found at
// all, the error wraps ErrNoResults and names the directories searched.
func Load(dirs ...string) (*Collection, error) {
	if len(dirs) == 0 {
		dirs = []string{"."}
	}
	c := &Collection{Searched: append([]string(nil), dirs...)}
	found := 0
	for _, root := range dirs {
		st, err := os.Stat(root)
		if err != nil {
			return nil, fmt.Errorf("results directory: %w", err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("results directory %s: not a directory", root)
		}
		err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				return nil
			}
			hasResult := exists(filepath.Join(path, ResultFile))
			if !hasResult && !exists(filepath.Join(path, MetaFile)) {
				return nil
			}
			found++
			if !hasResult {
				c.Failures = append(c.Failures, unfinished(path))
				return nil
			}
			run, cfg, err := readRun(path)
			if err != nil {
				return err
			}
			if run.Result.Status != "done" {
				status := run.Result.Status
				if status == "" {
					status = "unknown"
				}
				c.Failures = append(c.Failures, Failure{Dir: path, Status: status, Reason: run.Result.Reason})
				return nil
			}
			epochs, warns := readEpochs(filepath.Join(path, MetricsFile))
			run.Epochs = epochs
			run.Protocol = protocolOf(cfg, run.Result)
			run.Ended = ended(path)
			c.Warnings = append(c.Warnings, warns...)
			c.Runs = append(c.Runs, run)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if found == 0 {
		return nil, fmt.Errorf("%w (no %s or %s) below %s", ErrNoResults, ResultFile, MetaFile, strings.Join(dirs, ", "))
	}
	sort.Slice(c.Runs, func(i, j int) bool { return c.Runs[i].Dir < c.Runs[j].Dir })
	sort.Slice(c.Failures, func(i, j int) bool { return c.Failures[i].Dir < c.Failures[j].Dir })
	return c, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// readRun reads a run directory's result.json and, once, its config.yaml
// (nil when unreadable), which both the data-source fallback and the
// protocol use.
func readRun(dir string) (Run, *config.Run, error) {
	b, err := os.ReadFile(filepath.Join(dir, ResultFile))
	if err != nil {
		return Run{}, nil, err
	}
	var r train.Result
	if err := json.Unmarshal(b, &r); err != nil {
		return Run{}, nil, fmt.Errorf("%s: %w", filepath.Join(dir, ResultFile), err)
	}
	var cfg *config.Run
	if c, err := config.ReadRunDir(dir); err == nil {
		cfg = &c
	}
	if r.DataSource == "" && cfg != nil && cfg.Data.Source != "" {
		r.DataSource = filepath.Base(cfg.Data.Source)
	}
	return Run{Dir: dir, Result: r}, cfg, nil
}

// readEpochs reads metrics.jsonl; a missing file gives no records and no
// warning (plots then skip the run), a malformed line a warning.
func readEpochs(path string) ([]train.EpochRecord, []string) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, []string{err.Error()}
	}
	defer f.Close()
	var recs []train.EpochRecord
	var warns []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var rec train.EpochRecord
		if err := json.Unmarshal([]byte(text), &rec); err != nil {
			warns = append(warns, fmt.Sprintf("%s:%d: %v (line skipped)", path, line, err))
			continue
		}
		recs = append(recs, rec)
	}
	if err := sc.Err(); err != nil {
		warns = append(warns, fmt.Sprintf("%s: %v", path, err))
	}
	return recs, warns
}

// ended returns when the run in dir finished: meta.json's end time, else
// the modification time of result.json.
func ended(dir string) time.Time {
	var m runMeta
	if b, err := os.ReadFile(filepath.Join(dir, MetaFile)); err == nil && json.Unmarshal(b, &m) == nil && !m.Ended.IsZero() {
		return m.Ended
	}
	if st, err := os.Stat(filepath.Join(dir, ResultFile)); err == nil {
		return st.ModTime()
	}
	return time.Time{}
}

// runMeta holds the fields of meta.json (train.Meta) that report reads;
// decoding only these keeps report independent of the trainer's code.
type runMeta struct {
	Status string    `json:"status"` // running, done, failed, interrupted
	Reason string    `json:"reason"`
	Epoch  int       `json:"epoch"` // epochs completed
	Ended  time.Time `json:"ended"`
}

// unfinished describes a run directory without result.json from its
// meta.json.
func unfinished(dir string) Failure {
	f := Failure{Dir: dir, Status: "unfinished", Reason: "no " + ResultFile}
	b, err := os.ReadFile(filepath.Join(dir, MetaFile))
	if err != nil {
		return f
	}
	var m runMeta
	if err := json.Unmarshal(b, &m); err != nil {
		f.Reason = fmt.Sprintf("no %s; %s unreadable: %v", ResultFile, MetaFile, err)
		return f
	}
	if m.Status != "" {
		f.Status = m.Status
	}
	switch {
	case m.Reason != "":
		f.Reason = m.Reason
	case m.Status == "done":
		f.Status = "incomplete"
		f.Reason = MetaFile + " says done but " + ResultFile + " is missing"
	default:
		f.Reason = fmt.Sprintf("no %s; %d epoch%s completed", ResultFile, m.Epoch, plural(m.Epoch))
	}
	return f
}
