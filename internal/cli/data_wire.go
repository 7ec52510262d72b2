package cli

import (
	"context"
	"io"
	"log/slog"

	"github.com/bsam-dev/bsam/pkg/config"
	"github.com/bsam-dev/bsam/pkg/datasets"
	"github.com/bsam-dev/bsam/pkg/datasets/fetch"
)

// wireDataSources points the dataset loader at package fetch with the
// experiment's cache directory and offline setting; download progress goes
// to stderr when it is a terminal.
func wireDataSources(e *config.Experiment, stderr io.Writer, logger *slog.Logger) {
	opts := fetch.Options{CacheDir: e.Data.Dir, Offline: e.Data.Offline, Logger: logger}
	if isTerminal(stderr) {
		opts.Progress = stderr
	}
	datasets.Ensure = func(ctx context.Context, name string) (string, error) {
		return fetch.Ensure(ctx, name, opts)
	}
}
