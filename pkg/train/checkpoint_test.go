package train

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/bsam-dev/bsam/pkg/config"
)

func TestCheckpointRoundTrip(t *testing.T) {
	c := &Checkpoint{ConfigHash: "abc", Epoch: 3, Batch: 7, LossSum: 1.5, Steps: 7, NoiseStep: 42, Count: 9,
		Records: []EpochRecord{{Epoch: 0, TrainLoss: 0.5}}}
	c.Set("params", []float32{1, -2, 3.5})
	c.Set("opt.gm", []float32{0.25})
	b := c.Encode()
	d, err := DecodeCheckpoint(b)
	if err != nil {
		t.Fatal(err)
	}
	if d.Epoch != 3 || d.Batch != 7 || d.NoiseStep != 42 || d.Count != 9 || len(d.Records) != 1 {
		t.Errorf("header: %+v", d)
	}
	if v, err := d.Get("params", 3); err != nil || v[1] != -2 || v[2] != 3.5 {
		t.Errorf("params: %v %v", v, err)
	}
	if _, err := d.Get("params", 4); err == nil {
		t.Error("length mismatch not detected")
	}
	if _, err := d.Get("opt.s", 1); err == nil {
		t.Error("missing vector not detected")
	}
	// Every single flipped byte and every truncation is detected.
	for i := 0; i < len(b); i += 7 {
		bad := append([]byte(nil), b...)
		bad[i] ^= 0x40
		if _, err := DecodeCheckpoint(bad); err == nil {
			t.Fatalf("flipped byte %d not detected", i)
		}
	}
	for _, n := range []int{0, 5, len(b) / 2, len(b) - 1} {
		if _, err := DecodeCheckpoint(b[:n]); err == nil {
			t.Fatalf("truncation to %d bytes not detected", n)
		}
	}
}

func TestLockRefusesSecondHolder(t *testing.T) {
	dir := t.TempDir()
	l, err := LockRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = LockRun(dir)
	var le *LockedError
	if !errors.As(err, &le) || le.PID != os.Getpid() || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("second lock: %v", err)
	}
	if !LockHeld(dir) {
		t.Error("LockHeld does not see the held lock")
	}
	l.Unlock()
	if LockHeld(dir) {
		t.Error("LockHeld reports a released lock")
	}
	l2, err := LockRun(dir)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	l2.Unlock()
}

// TestDiskFullKeepsPreviousCheckpoint makes the second checkpoint write fail
// with ENOSPC: the run fails with a clear error and the first checkpoint is
// still there, intact.
func TestDiskFullKeepsPreviousCheckpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on real MNIST")
	}
	data := smallMNIST(t)
	out := t.TempDir()
	e, err := config.Parse("small.yaml", []byte(smallExp), []config.Override{{Path: "out", Value: out}, {Path: "methods.sgd.lr", Value: "0.05"}})
	if err != nil {
		t.Fatal(err)
	}
	e.SelectMethods([]string{"sgd"})
	writes := 0
	faultHook = func(stage, path string) error {
		if stage == "write" && filepath.Base(path) == "checkpoint.bin" {
			if writes++; writes == 2 {
				return syscall.ENOSPC
			}
		}
		return nil
	}
	defer func() { faultHook = nil }()
	outs, err := RunExperiment(context.Background(), e, data, Options{})
	if err == nil || !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "checkpoint.bin") {
		t.Fatalf("error = %v, want ENOSPC naming checkpoint.bin", err)
	}
	c, cerr := ReadCheckpoint(filepath.Join(outs[0].Dir, "checkpoint.bin"))
	if cerr != nil || c.Epoch != 1 {
		t.Fatalf("previous checkpoint: %v, %+v", cerr, c)
	}
	if _, err := os.Stat(filepath.Join(outs[0].Dir, "result.json")); err == nil {
		t.Error("a failed run left a result.json")
	}
	leftovers, _ := filepath.Glob(filepath.Join(outs[0].Dir, ".*.tmp-*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}
