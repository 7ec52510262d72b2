//go:build !unix

package fetch

import (
	"context"
	"fmt"
	"os"
)

// lockFile creates path so that the cache layout is the same everywhere; on
// this platform it does not lock: concurrent installs of one dataset are not
// serialised.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { _ = f.Close() }, nil
}
