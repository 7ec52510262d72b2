package train

import (
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Reporter tells where a command stands across its runs: run k of K and
// the estimated time left for all of them, and the progress of each run's
// final evaluation. On a terminal (Bar set) each run gets a live bar;
// otherwise Log receives plain lines. One Reporter may span several
// RunExperiment calls (bsam check trains every experiment twice).
type Reporter struct {
	// Bar, when non-nil, is a terminal for live bars.
	Bar io.Writer
	// Log receives the plain lines (when Bar is nil); nil discards them.
	Log *slog.Logger
	// Total is the number of runs of the whole command; 0 lets
	// RunExperiment set it to the experiment's runs.
	Total int
	// Every is the least time between two plain progress lines of one
	// evaluation (default 10 s).
	Every time.Duration

	mu       sync.Mutex
	k        int           // runs begun
	trained  int           // runs trained to the end in this process
	spent    time.Duration // their time
	runStart time.Time
	now      func() time.Time
}

func (r *Reporter) clock() time.Time {
	if r.now != nil {
		return r.now()
	}
	return time.Now()
}

func (r *Reporter) log() *slog.Logger {
	if r.Log == nil || r.Bar != nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Log
}

// begin counts a run as started and returns its position label "run k/K".
func (r *Reporter) begin() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.k++
	r.runStart = r.clock()
	return r.position()
}

func (r *Reporter) position() string {
	return fmt.Sprintf("run %d/%d", r.k, max(r.Total, r.k))
}

// end records how the current run ended (trained: it ran to the end in
// this process, so its time says what a run costs) and logs the position
// with the estimated time left.
func (r *Reporter) end(trained bool) {
	r.mu.Lock()
	if trained {
		r.trained++
		r.spent += r.clock().Sub(r.runStart)
	}
	pos, left := r.k, max(r.Total, r.k)-r.k
	eta, ok := r.etaLocked(1)
	r.mu.Unlock()
	args := []any{"done", fmt.Sprintf("%d/%d", pos, pos+left)}
	if ok && left > 0 {
		args = append(args, "eta", fmtDuration(eta))
	}
	r.log().Info("progress", args...)
}

// ETA estimates the time left for all runs when the current run is frac
// (0…1) done. It is unknown (false) until a run has finished or the
// current one has run for a few seconds and 5% of its steps.
func (r *Reporter) ETA(frac float64) (time.Duration, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.etaLocked(frac)
}

func (r *Reporter) etaLocked(frac float64) (time.Duration, bool) {
	var perRun time.Duration
	elapsed := r.clock().Sub(r.runStart)
	switch {
	case r.trained > 0:
		perRun = r.spent / time.Duration(r.trained)
	case frac >= 0.05 && elapsed >= 3*time.Second:
		perRun = time.Duration(float64(elapsed) / frac)
	default:
		return 0, false
	}
	rest := max(r.Total, r.k) - r.k
	cur := time.Duration(float64(perRun) * (1 - frac))
	if frac < 1 && r.trained > 0 && elapsed > 0 && frac >= 0.05 {
		// The current run's own pace is the better guess for its rest.
		cur = time.Duration(float64(elapsed) * (1 - frac) / frac)
	}
	return max(0, cur) + perRun*time.Duration(rest), true
}

// evalProgress shows the progress of an evaluation over batches: a bar on
// a terminal, else a line at the start, at most every r.Every, and at the
// end.
type evalProgress struct {
	r       *Reporter
	label   string
	what    string
	total   int
	start   time.Time
	last    time.Time
	bar     *progressbar.ProgressBar
	started bool
}

func (r *Reporter) eval(label, what string) *evalProgress {
	return &evalProgress{r: r, label: label, what: what}
}

// step is called after batch done of total.
func (p *evalProgress) step(done, total int) {
	if p == nil || p.r == nil {
		return
	}
	now := p.r.clock()
	if !p.started {
		p.started, p.start, p.last, p.total = true, now, now, total
		if p.r.Bar != nil {
			p.bar = progressbar.NewOptions(total,
				progressbar.OptionSetWriter(p.r.Bar),
				progressbar.OptionSetDescription(p.label+" · "+p.what),
				progressbar.OptionShowCount(),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionClearOnFinish(),
				progressbar.OptionSetWidth(24),
			)
		} else {
			p.r.log().Info("final evaluation", "run", p.label, "what", p.what, "batches", total)
		}
	}
	if p.bar != nil {
		p.bar.Set(done)
		return
	}
	every := p.r.Every
	if every <= 0 {
		every = 10 * time.Second
	}
	if done < total && now.Sub(p.last) >= every {
		p.last = now
		args := []any{"run", p.label, "what", p.what, "batches", fmt.Sprintf("%d/%d", done, total)}
		if el := now.Sub(p.start); done > 0 {
			args = append(args, "eta", fmtDuration(time.Duration(float64(el)*float64(total-done)/float64(done))))
		}
		p.r.log().Info("final evaluation", args...)
	}
}

func (p *evalProgress) finish() {
	if p == nil || !p.started {
		return
	}
	if p.bar != nil {
		p.bar.Finish()
		fmt.Fprintln(p.r.Bar)
		return
	}
	p.r.log().Info("final evaluation done", "run", p.label, "what", p.what, "seconds", round(p.r.clock().Sub(p.start).Seconds(), 1))
}

// fmtDuration rounds d for display: 45s, 3m20s, 2h05m.
func fmtDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		return d.Round(10 * time.Second).String()
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}
