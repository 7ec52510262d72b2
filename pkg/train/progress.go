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
	batchSize int
	// since and steps measure the current epoch's throughput.
	since   time.Time
	steps   int
	epochAt int
}

func newProgress(w io.Writer, label string) *progress { return &progress{w: w, label: label} }

func (p *progress) start(epochs, batches, batch int) {
	if p.w == nil {
		return
	}
	p.epochs, p.batchSize, p.epochAt = epochs, batch, -1
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
	if epoch != p.epochAt {
		p.epochAt, p.since, p.steps = epoch, time.Now(), 0
	}
	p.steps++
	rate := float64(p.steps*p.batchSize) / time.Since(p.since).Seconds()
	p.bar.Describe(fmt.Sprintf("%s · epoch %d/%d · loss %.4f · %.0f img/s", p.label, epoch+1, p.epochs, loss, rate))
	p.bar.Add(1)
}

func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
		fmt.Fprintln(p.w)
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
