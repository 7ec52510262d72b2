package fetch

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// EnvDataDir names the environment variable that overrides the default cache
// directory.
const EnvDataDir = "BSAM_DATA_DIR"

// Defaults used when the corresponding Options field is zero.
const (
	DefaultRetries      = 4
	DefaultBackoff      = time.Second
	DefaultStallTimeout = 60 * time.Second
)

// Options configures Ensure, Import, Verify and Status.
type Options struct {
	// CacheDir holds one sub-directory per dataset. Empty: ResolveCacheDir("").
	CacheDir string
	// Offline forbids network access: only the cache and local copies are used.
	Offline bool
	// Progress receives a progress bar per download; nil shows none.
	Progress io.Writer
	// Logger receives progress messages; nil discards them.
	Logger *slog.Logger
	// BaseURL, when set, replaces scheme, host and port of every mirror URL
	// (its path is prepended to the URL's path). Tests point it at a local
	// server.
	BaseURL string
	// HTTPClient is used for downloads; nil uses a client without an overall
	// timeout (transfers are bounded by StallTimeout instead).
	HTTPClient *http.Client
	// Retries is the number of retries per mirror after a transient failure
	// (network error, HTTP 5xx, truncated body). 0 means DefaultRetries,
	// a negative value means none.
	Retries int
	// Backoff is the delay before the first retry, doubled for each further
	// retry (capped at 30 s). 0 means DefaultBackoff.
	Backoff time.Duration
	// StallTimeout aborts an attempt that receives no data for this long.
	// 0 means DefaultStallTimeout.
	StallTimeout time.Duration
	// Catalog replaces the built-in catalog when non-nil (tests inject
	// fixtures with their own checksums).
	Catalog []Entry
}

// DefaultCacheDir returns the per-user cache directory for bsam datasets,
// os.UserCacheDir()/bsam.
func DefaultCacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no default data directory (%v): set %s or pass --data-dir", err, EnvDataDir)
	}
	return filepath.Join(base, "bsam"), nil
}

// ResolveCacheDir picks the cache directory: dir if non-empty, else the
// environment variable BSAM_DATA_DIR if set, else DefaultCacheDir().
func ResolveCacheDir(dir string) (string, error) {
	if dir == "" {
		dir = os.Getenv(EnvDataDir)
	}
	if dir == "" {
		return DefaultCacheDir()
	}
	return filepath.Abs(dir)
}

// fetcher is Options with defaults applied.
type fetcher struct {
	Options
	log     *slog.Logger
	client  *http.Client
	entries []Entry
}

func newFetcher(opts Options) (*fetcher, error) {
	f := &fetcher{Options: opts, log: opts.Logger, client: opts.HTTPClient, entries: opts.Catalog}
	dir, err := ResolveCacheDir(opts.CacheDir)
	if err != nil {
		return nil, err
	}
	f.CacheDir = dir
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	if f.client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.ResponseHeaderTimeout = time.Minute
		f.client = &http.Client{Transport: tr}
	}
	if f.entries == nil {
		f.entries = builtin
	}
	switch {
	case f.Retries == 0:
		f.Retries = DefaultRetries
	case f.Retries < 0:
		f.Retries = 0
	}
	if f.Backoff <= 0 {
		f.Backoff = DefaultBackoff
	}
	if f.StallTimeout <= 0 {
		f.StallTimeout = DefaultStallTimeout
	}
	if f.BaseURL != "" {
		if _, err := url.Parse(f.BaseURL); err != nil {
			return nil, fmt.Errorf("invalid BaseURL %q: %w", f.BaseURL, err)
		}
	}
	return f, nil
}

func (f *fetcher) lookup(name string) (Entry, error) { return lookupIn(f.entries, name) }

// rewrite applies BaseURL to a mirror URL.
func (f *fetcher) rewrite(raw string) string {
	if f.BaseURL == "" {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return strings.TrimSuffix(f.BaseURL, "/") + u.EscapedPath()
}

// backoff returns the delay before retry number n (1-based).
func (f *fetcher) backoff(n int) time.Duration {
	d := f.Backoff
	for i := 1; i < n && d < 30*time.Second; i++ {
		d *= 2
	}
	return min(d, 30*time.Second)
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ChecksumError reports a file whose MD5 is not the catalog's.
type ChecksumError struct {
	File   string // canonical file name
	Source string // URL or local path the bytes came from
	Got    string
	Want   string
}

// Error implements the error interface.
func (e *ChecksumError) Error() string {
	return fmt.Sprintf("md5 mismatch for %s (from %s): got %s, want %s", e.File, e.Source, e.Got, e.Want)
}

// HTTPError reports an unexpected HTTP status.
type HTTPError struct {
	URL        string
	StatusCode int
	Status     string
}

// Error implements the error interface.
func (e *HTTPError) Error() string { return fmt.Sprintf("GET %s: HTTP %s", e.URL, e.Status) }

// Temporary reports whether retrying may help (5xx, 408, 429).
func (e *HTTPError) Temporary() bool {
	return e.StatusCode >= 500 || e.StatusCode == http.StatusRequestTimeout || e.StatusCode == http.StatusTooManyRequests
}

// OfflineError is returned when a dataset is neither cached nor available
// locally and the network may not be used.
type OfflineError struct {
	Dataset  string
	CacheDir string
	Missing  []string
	Hint     string
}

// Error implements the error interface.
func (e *OfflineError) Error() string {
	return fmt.Sprintf("dataset %s is not in the cache %s and offline mode forbids downloading (missing: %s); to get it: %s",
		e.Dataset, e.CacheDir, strings.Join(e.Missing, ", "), e.Hint)
}
