package sweep

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bsam-dev/bsam/pkg/train"
)

// TestRunLocalReportsPositionAndETA: every run's start line says run k/K,
// every end line how many ended, and all but the last an ETA.
func TestRunLocalReportsPositionAndETA(t *testing.T) {
	p := lrRuns(t)
	bin := filepath.Join(t.TempDir(), "fakebsam")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	p.RunLocal(context.Background(), p.Points[:3], LocalOptions{Bin: bin, Jobs: 1, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	out := buf.String()
	for _, want := range []string{"run=1/3", "run=2/3", "run=3/3", "ended=1/3 eta=", "ended=2/3 eta="} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "ended=3/3 eta=") {
		t.Errorf("an ETA after the last run:\n%s", out)
	}
}

// TestBusyRunIsNotFailed: a run whose training exited with train.ExitBusy
// (another process holds its lock) is running while that lock is held and
// pending once it is not, never failed.
func TestBusyRunIsNotFailed(t *testing.T) {
	p := lrRuns(t)
	bin := filepath.Join(t.TempDir(), "fakebsam")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\nexit 5\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	pt := p.Points[0]
	if err := os.MkdirAll(pt.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	lock, err := train.LockRun(pt.Dir)
	if err != nil {
		t.Fatal(err)
	}
	p.RunLocal(context.Background(), p.Points[:1], LocalOptions{Bin: bin, Jobs: 1})
	st, _ := p.LoadState()
	if rs := p.Inspect(st, nil); rs[0].State != Running || !strings.Contains(rs[0].Reason, "busy") {
		t.Errorf("busy run with its lock held: %s %q, want running (busy)", rs[0].State, rs[0].Reason)
	}
	lock.Unlock()
	if rs := p.Inspect(st, nil); rs[0].State != Pending {
		t.Errorf("busy run after the lock was released: %s %q, want pending", rs[0].State, rs[0].Reason)
	}
}
