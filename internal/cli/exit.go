package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/bsam-dev/bsam/pkg/train"
)

// Exit codes of bsam. They are part of the command-line contract and are
// documented in `bsam --help`.
const (
	ExitOK         = 0 // success
	ExitRuntime    = 1 // runtime error (I/O, data, training crashed)
	ExitUsage      = 2 // bad usage or invalid configuration
	ExitRunsFailed = 3 // some runs failed (diverged); the others finished
	ExitDrift      = 4 // bsam check: metrics drifted from the expected values
	// ExitBusy: some runs are being trained by another process (their
	// lock is held); nothing failed. Failed runs take precedence (3).
	ExitBusy = train.ExitBusy
	// ExitInterrupted: SIGINT/SIGTERM stopped the command; checkpoints
	// were saved and rerunning the same command resumes (128 + SIGINT).
	ExitInterrupted = 130
)

// ExitError carries the exit code an error should end the process with.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// Usagef returns an error that exits with ExitUsage.
func Usagef(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// WithCode wraps err so that it exits with code; nil stays nil.
func WithCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &ExitError{Code: code, Err: err}
}

// ExitCode maps an error returned by a command to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	var ue interface{ UsageError() bool }
	if errors.As(err, &ue) && ue.UsageError() {
		return ExitUsage
	}
	return ExitRuntime
}

// Finish maps the outcome of the root command to the process exit code and
// the error to print. sigCtx is the context that SIGINT/SIGTERM cancels
// (check it before cancelling it yourself): once a signal arrived the exit
// code is ExitInterrupted whatever the command was doing (loading data,
// waiting, training), and a bare "context canceled" becomes a sentence.
func Finish(sigCtx context.Context, err error) (int, error) {
	if sigCtx.Err() == nil {
		return ExitCode(err), err
	}
	if err == nil || errors.Is(err, context.Canceled) {
		err = errors.New("interrupted; run the same command again to continue (finished work and checkpoints are kept)")
	}
	return ExitInterrupted, err
}
