package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/bsam-dev/bsam/pkg/config"
	"github.com/bsam-dev/bsam/pkg/datasets"
)

// Options configure RunExperiment.
type Options struct {
	// Logger receives log lines (stderr in the CLI).
	Logger *slog.Logger
	// Progress, when non-nil, receives a live progress bar (a terminal).
	Progress io.Writer
	// Force reruns runs that already finished.
	Force bool
	// Version is the bsam version recorded in meta.json.
	Version string
	// Runs reports run k of K, the overall ETA and the final evaluation's
	// progress (bars on Progress, else plain lines on its Log). nil: a
	// Reporter for this experiment alone, with plain lines on Logger.
	Runs *Reporter
}

// Outcome is what happened to one run.
type Outcome struct {
	Run     config.Run
	Dir     string
	Result  *Result // nil when the run failed
	Err     error
	Skipped bool // finished earlier; Result was read back
}

// Meta is the content of a run's meta.json.
type Meta struct {
	Version    string    `json:"bsam_version"`
	GoVersion  string    `json:"go_version"`
	Commit     string    `json:"git_commit,omitempty"`
	Dirty      bool      `json:"git_dirty,omitempty"`
	CPU        string    `json:"cpu,omitempty"`
	GOMAXPROCS int       `json:"gomaxprocs"`
	ConfigHash string    `json:"config_hash"`
	Status     string    `json:"status"` // running, done, failed
	Reason     string    `json:"reason,omitempty"`
	Epoch      int       `json:"epoch"`             // epochs completed
	Resumed    int       `json:"resumed,omitempty"` // how many times the run was resumed
	Started    time.Time `json:"started"`
	Ended      time.Time `json:"ended,omitzero"`
	Seconds    float64   `json:"seconds,omitempty"`
	// Precision is the GEMM arithmetic of the run on this machine ("fp32",
	// "bf16"; see Result.Precision).
	Precision string `json:"precision,omitempty"`
	// Conv is the convolution algorithm ("direct", "winograd"; see
	// Result.Conv).
	Conv string `json:"conv,omitempty"`
}

// RunDir returns the directory of a run: <out>/<experiment>/<method>-seed<k>-<hash>.
func RunDir(out string, r config.Run) string {
	return filepath.Join(out, r.Experiment, fmt.Sprintf("%s-seed%d-%s", r.Method, r.Seed, r.Hash()))
}

// DecodedCacheDir is the decoded-image cache (*.bsd) kept beside a data
// directory; "" (no data directory) leaves package datasets' default.
func DecodedCacheDir(dataDir string) string {
	if dataDir == "" {
		return ""
	}
	return filepath.Join(dataDir, "decoded")
}

// LoadData loads the experiment's dataset.
func LoadData(ctx context.Context, e *config.Experiment, logger *slog.Logger) (*datasets.Dataset, error) {
	if loadHook != nil {
		if err := loadHook(ctx); err != nil {
			return nil, err
		}
	}
	cache := DecodedCacheDir(e.Data.Dir)
	return datasets.Load(ctx, e.Dataset, datasets.Options{
		Source:      e.Data.Source,
		CacheDir:    cache,
		Logger:      logger,
		TrainSubset: e.Data.TrainSubset,
		TestSubset:  e.Data.TestSubset,
		Validation:  e.Data.Validation,
		Workers:     e.Engine.Workers,
	})
}

// RunExperiment trains every run of the experiment (methods × seeds) one
// after another. A run that fails (e.g. diverges) is recorded and the others
// continue; any other error (cancelled, I/O, setup) stops the experiment and
// is returned.
func RunExperiment(ctx context.Context, e *config.Experiment, data *datasets.Dataset, o Options) ([]Outcome, error) {
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	runs := e.Runs()
	if o.Runs == nil {
		o.Runs = &Reporter{Log: logger}
	}
	if o.Runs.Bar == nil {
		o.Runs.Bar = o.Progress
	}
	if o.Runs.Total == 0 {
		o.Runs.Total = len(runs)
	}
	var outs []Outcome
	for _, r := range runs {
		if err := ctx.Err(); err != nil {
			return outs, err
		}
		pos := o.Runs.begin()
		o.Runs.log().Info(pos, "method", r.Method, "seed", r.Seed)
		out := runOne(ctx, r, e.Out, data, o, logger.With("run", pos), pos)
		o.Runs.end(out.Err == nil && !out.Skipped)
		outs = append(outs, out)
		var div *DivergedError
		var locked *LockedError
		if out.Err != nil && !errors.As(out.Err, &div) && !errors.As(out.Err, &locked) {
			// Anything but divergence (cancelled, disk full, a bug) stops
			// the experiment: the next runs would hit it too.
			return outs, out.Err
		}
	}
	return outs, nil
}

func runOne(ctx context.Context, r config.Run, outDir string, data *datasets.Dataset, o Options, logger *slog.Logger, pos string) Outcome {
	dir := RunDir(outDir, r)
	out := Outcome{Run: r, Dir: dir}
	log := logger.With("method", r.Method, "seed", r.Seed)
	resPath := filepath.Join(dir, "result.json")
	ckptPath := filepath.Join(dir, "checkpoint.bin")
	metaPath := filepath.Join(dir, "meta.json")
	if !o.Force {
		var res Result
		if err := ReadJSON(resPath, &res); err == nil && res.Status == "done" && res.ConfigHash == r.Hash() {
			log.Info("already finished; skipping (use --force to rerun)", "dir", dir)
			out.Result, out.Skipped = &res, true
			return out
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		out.Err = err
		return out
	}
	lock, err := LockRun(dir)
	if err != nil {
		var locked *LockedError
		if errors.As(err, &locked) {
			log.Warn("busy: another process is training this run; leaving it alone", "pid", locked.PID, "dir", dir)
		}
		out.Err = err
		return out
	}
	defer lock.Unlock()
	if err := WriteFileAtomic(filepath.Join(dir, "config.yaml"), r.YAML(), 0o644); err != nil {
		out.Err = err
		return out
	}
	os.Remove(resPath)
	s := &Session{Run: r, Data: data, Logger: log, Workers: r.Engine.Workers}
	if err := s.Setup(); err != nil {
		out.Err = err
		return out
	}
	meta := newMeta(o.Version, r)
	if o.Force {
		os.Remove(ckptPath)
	} else if c, err := ReadCheckpoint(ckptPath); err == nil {
		if err := s.Restore(c); err != nil {
			log.Warn("ignoring a checkpoint that does not fit this run; starting afresh", "err", err)
			if err := s.Setup(); err != nil {
				out.Err = err
				return out
			}
		} else {
			log.Info("resuming", "epoch", c.Epoch, "batch", c.Batch, "dir", dir)
			var old Meta
			if ReadJSON(metaPath, &old) == nil && !old.Started.IsZero() {
				meta.Started = old.Started
			}
			meta.Resumed = old.Resumed + 1
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		log.Warn("ignoring unreadable checkpoint; starting afresh", "err", err)
	}
	meta.Epoch = s.Epoch()
	if err := WriteJSONAtomic(metaPath, meta); err != nil {
		out.Err = err
		return out
	}
	label := fmt.Sprintf("%s · %s seed %d", pos, r.Method, r.Seed)
	bar := newProgress(o.Progress, label)
	bar.runs = o.Runs
	var ev *evalProgress
	s.Hooks = Hooks{
		Start: bar.start,
		Batch: bar.batch,
		Eval: func(what string, done, total int) {
			if ev == nil || ev.what != what {
				ev.finish()
				if done == 1 && total > 0 {
					bar.finish()
				}
				ev = o.Runs.eval(label, what)
			}
			ev.step(done, total)
			if done == total {
				ev.finish()
				ev = nil
			}
		},
		Epoch: func(rec EpochRecord) {
			if o.Progress == nil {
				args := []any{"epoch", rec.Epoch, "lr_factor", round(rec.LRFactor, 6), "train_loss", round(rec.TrainLoss, 5)}
				if rec.Evaluated() {
					args = append(args, "test_acc", round(*rec.TestAcc, 3), "test_nll", round(*rec.TestNLL, 5))
				}
				log.Info("epoch", append(args, "img_per_s", round(rec.ImgPerSec, 0))...)
			}
		},
	}
	save := func(c *Checkpoint) error {
		if err := WriteFileAtomic(ckptPath, c.Encode(), 0o644); err != nil {
			return err
		}
		meta.Epoch = c.Epoch
		return WriteJSONAtomic(metaPath, meta)
	}
	writeRecords := func(EpochRecord) error {
		var lines []byte
		for _, rec := range s.pos.Records {
			b, _ := json.Marshal(rec)
			lines = append(append(lines, b...), '\n')
		}
		return WriteFileAtomic(filepath.Join(dir, "metrics.jsonl"), lines, 0o644)
	}
	res, err := s.Train(ctx, save, writeRecords)
	bar.finish()
	if err == nil {
		err = WriteJSONAtomic(resPath, res)
	}
	// Whatever happened, meta.json ends with the run's final status.
	meta.Ended = time.Now().UTC()
	meta.Seconds = meta.Ended.Sub(meta.Started).Seconds()
	var div *DivergedError
	switch {
	case err == nil:
		meta.Status = "done"
	case ctx.Err() != nil:
		meta.Status, meta.Reason = "interrupted", "interrupted; run the same command again to resume"
		log.Warn("interrupted; checkpoint saved", "epoch", s.pos.Epoch, "batch", s.pos.Batch, "dir", dir)
	case errors.As(err, &div):
		meta.Status, meta.Reason = "failed", err.Error()
		log.Warn("run diverged", "err", err)
	default:
		meta.Status, meta.Reason = "failed", err.Error()
		log.Error("run failed", "err", err)
	}
	if werr := WriteJSONAtomic(metaPath, meta); werr != nil {
		err = errors.Join(err, werr)
	}
	if err != nil {
		out.Err = err
		return out
	}
	log.Info("run finished", "dir", dir, "acc", round(res.BMA.Accuracy, 2), "nll", round(res.BMA.NLL, 4),
		"ece", round(res.BMA.ECE, 4), "auroc", round(res.BMA.AUROC, 4), "seconds", round(meta.Seconds, 1))
	out.Result = res
	return out
}

func newMeta(version string, r config.Run) *Meta {
	m := &Meta{
		Version: version, GoVersion: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		CPU: cpuModel(), ConfigHash: r.Hash(), Status: "running", Started: time.Now().UTC(),
		Precision: effectivePrecision(r), Conv: runConv(r).String(),
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				m.Commit = s.Value
			case "vcs.modified":
				m.Dirty = s.Value == "true"
			}
		}
	}
	return m
}

// round rounds x to the given number of decimal digits for log lines.
func round(x float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(x*p) / p
}
