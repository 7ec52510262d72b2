package train

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// FaultEnv names the environment variable that injects faults for the
// crash-and-resume tests. Its value is a comma-separated list of
//
//	kill-in-checkpoint:N  SIGKILL the process while writing its N-th
//	                      checkpoint (after the temporary file is complete,
//	                      before it is renamed into place)
//	kill-at-step:N        SIGKILL the process after N optimizer steps
//	term-at-step:N        send SIGTERM to the process after N optimizer steps
//	int-in-load:1         send SIGINT to the process while LoadData runs and
//	                      fail the load with the context's error once the
//	                      signal has cancelled it, as a decoder stopping
//	                      mid-way does
//
// It exists only for tests; nothing sets it in normal use.
const FaultEnv = "BSAM_TEST_FAULT"

// loadHook, when set, runs at the start of LoadData; its error fails the
// load.
var loadHook func(ctx context.Context) error

// stepHook, when set, is called after every optimizer step with the number
// of steps this process has taken.
var stepHook func(steps int)

func init() {
	if v := os.Getenv(FaultEnv); v != "" {
		if err := installFaults(v); err != nil {
			fmt.Fprintf(os.Stderr, "bsam: %s: %v\n", FaultEnv, err)
			os.Exit(2)
		}
	}
}

func installFaults(spec string) error {
	ckpts := 0
	for _, f := range strings.Split(spec, ",") {
		kind, arg, _ := strings.Cut(strings.TrimSpace(f), ":")
		n, err := strconv.Atoi(arg)
		if err != nil || n < 1 {
			return fmt.Errorf("fault %q: want kind:N with N ≥ 1", f)
		}
		switch kind {
		case "kill-in-checkpoint":
			faultHook = func(stage, path string) error {
				if stage == "rename" && filepath.Base(path) == "checkpoint.bin" {
					if ckpts++; ckpts == n {
						syscall.Kill(os.Getpid(), syscall.SIGKILL)
						select {}
					}
				}
				return nil
			}
		case "kill-at-step", "term-at-step":
			sig := syscall.SIGKILL
			if kind == "term-at-step" {
				sig = syscall.SIGTERM
			}
			stepHook = func(steps int) {
				if steps == n {
					syscall.Kill(os.Getpid(), sig)
				}
			}
		case "int-in-load":
			loadHook = func(ctx context.Context) error {
				syscall.Kill(os.Getpid(), syscall.SIGINT)
				<-ctx.Done()
				return ctx.Err()
			}
		default:
			return fmt.Errorf("unknown fault %q", kind)
		}
	}
	return nil
}
