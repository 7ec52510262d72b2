package cli

import (
	"context"
	"io"
	"log/slog"

	"github.com/bsam-dev/bsam/pkg/datasets"
	"github.com/bsam-dev/bsam/pkg/datasets/fetch"
)

// wireDataSources points the dataset loader at package fetch with a cache
// directory ("" = --data-dir's default chain) and the offline setting;
// download progress goes to stderr when it is a terminal.
func wireDataSources(cacheDir string, offline bool, stderr io.Writer, logger *slog.Logger) {
	opts := fetch.Options{CacheDir: cacheDir, Offline: offline, Logger: logger}
	if isTerminal(stderr) {
		opts.Progress = stderr
	}
	datasets.Ensure = func(ctx context.Context, name string) (string, error) {
		return fetch.Ensure(ctx, name, opts)
	}
}
