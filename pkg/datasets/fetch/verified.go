package fetch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// VerifyRecord is the result of the last Verify of a dataset, kept in
// <cache>/.verify/<name>.json so that `bsam data list` and training can
// tell a dataset found corrupt from a healthy one.
type VerifyRecord struct {
	Time     time.Time `json:"time"`
	OK       bool      `json:"ok"`
	Problems []string  `json:"problems,omitempty"`
	// Installed is the install (the marker's completion time) that was
	// verified; a record of an earlier install is ignored.
	Installed time.Time `json:"installed"`
}

// Corrupt reports whether the last verification of the install failed.
func (s Status) Corrupt() bool { return s.LastVerify != nil && !s.LastVerify.OK }

// CorruptError reports a cached dataset whose last verification failed.
type CorruptError struct {
	Dataset string
	Dir     string
	Record  VerifyRecord
}

func (e *CorruptError) Error() string {
	first := ""
	if len(e.Record.Problems) > 0 {
		first = " (" + e.Record.Problems[0] + ")"
	}
	return fmt.Sprintf("dataset %s in %s failed verification on %s%s: replace it with `bsam data import %s FILE`, or delete %s and run `bsam data download %s`; `bsam data verify %s` checks it again",
		e.Dataset, e.Dir, e.Record.Time.Local().Format("2006-01-02 15:04"), first, e.Dataset, e.Dir, e.Dataset, e.Dataset)
}

func (f *fetcher) verifyPath(name string) string {
	return filepath.Join(f.CacheDir, ".verify", name+".json")
}

// lastVerify returns the verification record of the install described by
// mk, or nil.
func (f *fetcher) lastVerify(name string, mk Marker) *VerifyRecord {
	var r VerifyRecord
	raw, err := os.ReadFile(f.verifyPath(name))
	if err != nil || json.Unmarshal(raw, &r) != nil || !r.Installed.Equal(mk.Completed) {
		return nil
	}
	return &r
}

// corrupt returns a *CorruptError when the install's last verification
// failed, else nil.
func (f *fetcher) corrupt(name, dir string, mk Marker) error {
	if r := f.lastVerify(name, mk); r != nil && !r.OK {
		return &CorruptError{Dataset: name, Dir: dir, Record: *r}
	}
	return nil
}

// Verify re-hashes a cached dataset: the published files against the
// catalog's MD5 (MNIST, FashionMNIST), every file against the manifest's
// SHA-256, and the marker's inputs against the catalog. The outcome is
// recorded for `bsam data list` (Status.LastVerify), and a dataset that
// failed is refused by Ensure until it verifies again or is reinstalled.
func Verify(ctx context.Context, name string, opts Options) (*VerifyReport, error) {
	rep, err := verify(ctx, name, opts)
	var nc *NotCachedError
	if ctx.Err() != nil || errors.As(err, &nc) {
		return rep, err
	}
	f, ferr := newFetcher(opts)
	if ferr != nil {
		return rep, err
	}
	mk, merr := readMarker(f.datasetDir(name))
	if merr != nil {
		return rep, err
	}
	r := VerifyRecord{Time: time.Now().UTC(), OK: err == nil, Installed: mk.Completed}
	var ve *VerifyError
	switch {
	case errors.As(err, &ve):
		r.Problems = ve.Problems
	case err != nil:
		r.Problems = []string{err.Error()}
	}
	if werr := writeRecord(f.verifyPath(name), r); werr != nil {
		f.log.Warn("could not record the verification", "err", werr)
	}
	return rep, err
}

// writeRecord writes v as JSON to path atomically (temporary file, sync,
// rename).
func writeRecord(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := writeFileSynced(tmp, append(b, '\n')); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
