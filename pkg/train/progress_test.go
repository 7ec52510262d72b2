package train

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// fakeClock is a settable clock.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time            { return c.t }
func (c *fakeClock) add(d time.Duration)       { c.t = c.t.Add(d) }
func newFakeClock() *fakeClock                 { return &fakeClock{t: time.Unix(1e9, 0)} }
func hasRate(s string) bool                    { return strings.Contains(s, "img/s") }
func describeAt(p *progress, e, st int) string { return p.describe(e, st, 0.5) }

// TestProgressRateOnlyWhenMeaningful: the first ticks of an epoch show no
// img/s (the first tick used to divide a batch by microseconds), later
// ticks show the rate over the steps since the epoch's first one.
func TestProgressRateOnlyWhenMeaningful(t *testing.T) {
	c := newFakeClock()
	p := &progress{label: "run 1/1 · sgd seed 0", epochs: 2, batches: 100, batchSize: 128, epochAt: -1, now: c.now}
	c.add(time.Microsecond)
	if s := describeAt(p, 0, 1); hasRate(s) {
		t.Errorf("first tick shows a rate: %q", s)
	}
	for step := 2; step <= 3; step++ {
		c.add(200 * time.Millisecond)
		if s := describeAt(p, 0, step); hasRate(s) {
			t.Errorf("tick %d (0.4 s) shows a rate: %q", step, s)
		}
	}
	c.add(time.Second) // 3 steps after the first in 1.4 s
	s := describeAt(p, 0, 4)
	if !strings.Contains(s, " 274 img/s") {
		t.Errorf("rate after 1.4 s: %q, want 3·128/1.4 = 274 img/s", s)
	}
	c.add(time.Hour)
	if s := describeAt(p, 1, 1); hasRate(s) {
		t.Errorf("a new epoch's first tick shows a rate: %q", s)
	}
}

func TestReporterETA(t *testing.T) {
	c := newFakeClock()
	var buf bytes.Buffer
	r := &Reporter{Log: slog.New(slog.NewTextHandler(&buf, nil)), Total: 4, now: c.now}
	r.begin()
	c.add(time.Second)
	if _, ok := r.ETA(0.01); ok {
		t.Error("an ETA after 1 s and 1% of the first run")
	}
	c.add(9 * time.Second)
	if eta, ok := r.ETA(0.5); !ok || eta != 10*time.Second+3*20*time.Second {
		t.Errorf("ETA at half of run 1 after 10 s = %v %v, want 70s", eta, ok)
	}
	c.add(10 * time.Second)
	r.end(true) // run 1 took 20 s
	if !strings.Contains(buf.String(), "done=1/4 eta=1m0s") {
		t.Errorf("progress line: %q", buf.String())
	}
	if pos := r.begin(); pos != "run 2/4" {
		t.Errorf("position %q", pos)
	}
	r.end(false) // skipped: costs nothing, says nothing about the pace
	r.begin()
	if eta, ok := r.ETA(0); !ok || eta != 40*time.Second {
		t.Errorf("ETA at the start of run 3 = %v %v, want 40s (2 runs × 20 s)", eta, ok)
	}
}

// TestEvalProgressLines: without a terminal the final evaluation logs its
// start, a line at most every Every, and its end.
func TestEvalProgressLines(t *testing.T) {
	c := newFakeClock()
	var buf bytes.Buffer
	r := &Reporter{Log: slog.New(slog.NewTextHandler(&buf, nil)), Every: 5 * time.Second, now: c.now}
	ev := r.eval("run 1/1 · bsam seed 0", "Bayesian model average (32 samples)")
	for i := 1; i <= 10; i++ {
		c.add(2 * time.Second)
		ev.step(i, 10)
	}
	ev.finish()
	out := buf.String()
	// The start (batch 1, 2 s), then batches 4 and 7 (6 s apart ≥ 5 s); not
	// batch 10: the end line says it.
	if n := strings.Count(out, `msg="final evaluation"`); n != 3 {
		t.Errorf("%d progress lines, want 3:\n%s", n, out)
	}
	if !strings.Contains(out, `batches=4/10 eta=9s`) || !strings.Contains(out, `msg="final evaluation done"`) || !strings.Contains(out, "Bayesian model average") {
		t.Errorf("lines:\n%s", out)
	}
}
