package cli

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestFinishMapsSignalsTo130: once the signal context is cancelled every
// outcome exits 130, whatever error the command returned (a loader's bare
// "context canceled" used to exit 1); before it, codes are unchanged.
func TestFinishMapsSignalsTo130(t *testing.T) {
	live := context.Background()
	if code, _ := Finish(live, WithCode(ExitBusy, errors.New("busy"))); code != ExitBusy {
		t.Errorf("no signal: code %d, want %d", code, ExitBusy)
	}
	sig, cancel := context.WithCancel(context.Background())
	cancel()
	for _, err := range []error{nil, context.Canceled, WithCode(ExitRuntime, errors.New("loading cifar10: context canceled")), WithCode(ExitRunsFailed, errors.New("x"))} {
		code, msg := Finish(sig, err)
		if code != ExitInterrupted || msg == nil {
			t.Errorf("%v after a signal: code %d (%v), want 130", err, code, msg)
		}
		if err == nil || errors.Is(err, context.Canceled) && !strings.Contains(err.Error(), "loading") {
			if !strings.Contains(msg.Error(), "interrupted") {
				t.Errorf("%v: message %q", err, msg)
			}
		}
	}
}
