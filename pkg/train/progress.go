package train

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress draws a live bar for one run on a terminal; with a nil writer
// every method is a no-op (the caller logs plain lines instead).
type progress struct {
	w         io.Writer
	label     string
	bar       *progressbar.ProgressBar
	epochs    int
	batches   int
	batchSize int
	// since and steps measure the current epoch's throughput from its
	// first step on (the first step's own time, which includes the
	// loader's start, is not counted).
	since   time.Time
	steps   int
	epochAt int
	// runs, when set, gives the overall position and ETA.
	runs *Reporter
	now  func() time.Time
}

// minRateTime and minRateSteps say when a throughput is worth showing:
// over fewer steps or less time it is noise (the first tick would divide
// one batch by microseconds).
const (
	minRateTime  = time.Second
	minRateSteps = 3
)

func newProgress(w io.Writer, label string) *progress {
	return &progress{w: w, label: label, now: time.Now}
}

func (p *progress) start(epochs, batches, batch int) {
	if p.w == nil {
		return
	}
	p.epochs, p.batches, p.batchSize, p.epochAt = epochs, batches, batch, -1
	p.bar = progressbar.NewOptions(epochs*batches,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(p.label),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(100_000_000),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(24),
	)
}

func (p *progress) batch(epoch, step int, loss float64) {
	if p.bar == nil {
		return
	}
	p.bar.Describe(p.describe(epoch, step, loss))
	p.bar.Add(1)
}

// describe is the bar's text after step (1-based) of epoch: the rate only
// once minRateSteps steps and minRateTime have passed since the epoch's
// first step, the overall ETA only once the Reporter has one.
func (p *progress) describe(epoch, step int, loss float64) string {
	now := p.now()
	if epoch != p.epochAt {
		p.epochAt, p.since, p.steps = epoch, now, 0
	} else {
		p.steps++
	}
	text := fmt.Sprintf("%s · epoch %d/%d · loss %.4f", p.label, epoch+1, p.epochs, loss)
	if el := now.Sub(p.since); p.steps >= minRateSteps && el >= minRateTime {
		text += fmt.Sprintf(" · %.0f img/s", float64(p.steps*p.batchSize)/el.Seconds())
	}
	if p.runs != nil && p.epochs > 0 && p.batches > 0 {
		frac := (float64(epoch) + float64(step)/float64(p.batches)) / float64(p.epochs)
		if eta, ok := p.runs.ETA(min(frac, 1)); ok {
			text += " · all done in ≈" + fmtDuration(eta)
		}
	}
	return text
}

func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
		fmt.Fprintln(p.w)
		p.bar = nil
	}
}

// cpuModel returns the CPU model name from /proc/cpuinfo, or "".
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
