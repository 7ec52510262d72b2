// Command bsam trains, sweeps and reports the benchmark of "SAM as an
// Optimal Relaxation of Bayes" on CPUs. Run `bsam --help`.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/bsam-dev/bsam/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.NewRootCmd().ExecuteContext(ctx)
	code, err := cli.Finish(ctx, err)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bsam:", err)
	}
	os.Exit(code)
}
