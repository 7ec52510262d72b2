package fetch

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
)

// errStalled is the cancellation cause of an attempt that stopped receiving data.
var errStalled = errors.New("no data received within the stall timeout")

// permanentError marks a failure that retrying the same mirror cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// download fetches f from its mirrors into dst, verified, and returns the
// URL that served it. A partial transfer
// is kept in dst+".part" and resumed by later attempts (and later runs).
func (f *fetcher) download(ctx context.Context, file File, dst string) (string, error) {
	if len(file.URLs) == 0 {
		return "", fmt.Errorf("no download URL for %s", file.Name)
	}
	var errs []error
	for _, raw := range file.URLs {
		u := f.rewrite(raw)
		err := f.downloadFrom(ctx, file, u, dst)
		if err == nil {
			return u, nil
		}
		if ctx.Err() != nil {
			return "", fmt.Errorf("download of %s from %s interrupted: %w", file.Name, u, context.Cause(ctx))
		}
		f.log.Warn("mirror failed", "file", file.Name, "url", u, "err", err)
		errs = append(errs, err)
	}
	if len(errs) == 1 {
		return "", errs[0]
	}
	return "", fmt.Errorf("all %d mirrors failed for %s: %w", len(errs), file.Name, errors.Join(errs...))
}

// downloadFrom tries one mirror with retries.
func (f *fetcher) downloadFrom(ctx context.Context, file File, u, dst string) error {
	part := dst + ".part"
	freshAfterMismatch := false
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			d := f.backoff(attempt)
			f.log.Info("retrying download", "file", file.Name, "url", u, "attempt", attempt+1, "delay", d)
			if err := sleep(ctx, d); err != nil {
				return err
			}
		}
		resumedFrom, err := f.attempt(ctx, file, u, part)
		if err == nil {
			sum, herr := md5File(part)
			if herr != nil {
				return herr
			}
			if file.Accepts(sum) {
				if err := os.Rename(part, dst); err != nil {
					return fmt.Errorf("install %s: %w", dst, err)
				}
				f.log.Info("downloaded", "file", file.Name, "url", u, "md5", sum)
				return nil
			}
			_ = os.Remove(part)
			cerr := &ChecksumError{File: file.Name, Source: u, Got: sum, Want: file.MD5}
			if !freshAfterMismatch {
				// Kept partial data may come from another version of the
				// file, or the transfer was corrupted: download once more
				// from scratch before giving up on this mirror.
				freshAfterMismatch = true
				f.log.Warn("checksum mismatch; downloading again from scratch", "resumed_from", resumedFrom, "err", cerr)
				continue
			}
			return cerr
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var perm *permanentError
		if errors.As(err, &perm) {
			return perm.err
		}
		if attempt >= f.Retries {
			return fmt.Errorf("download of %s failed after %d attempts: %w", file.Name, attempt+1, err)
		}
		f.log.Warn("download attempt failed", "file", file.Name, "url", u, "err", err)
	}
}

// attempt performs one HTTP request, appending to part when the server
// honours the Range request. It returns the offset it resumed from.
func (f *fetcher) attempt(parent context.Context, file File, u, part string) (int64, error) {
	var off int64
	if fi, err := os.Stat(part); err == nil && fi.Mode().IsRegular() {
		off = fi.Size()
	}
	if file.Size > 0 && off > file.Size {
		_ = os.Remove(part)
		off = 0
	}
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	stall := time.AfterFunc(f.StallTimeout, func() { cancel(errStalled) })
	defer stall.Stop()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, &permanentError{fmt.Errorf("bad URL %q: %w", u, err)}
	}
	// identity: never let the transport gunzip a .gz body (servers that
	// label .gz files with Content-Encoding: gzip would otherwise hand us
	// the decompressed bytes).
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("User-Agent", "bsam-fetch (github.com/bsam-dev/bsam)")
	if off > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", off))
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, causeOf(ctx, err)
	}
	defer resp.Body.Close()

	flag := os.O_WRONLY | os.O_CREATE
	switch resp.StatusCode {
	case http.StatusOK:
		if off > 0 {
			f.log.Info("server ignored the Range request; restarting", "file", file.Name, "url", u)
		}
		off = 0
		flag |= os.O_TRUNC
	case http.StatusPartialContent:
		start, _, perr := parseContentRange(resp.Header.Get("Content-Range"))
		if perr != nil || start != off {
			_ = os.Remove(part)
			return 0, fmt.Errorf("GET %s: unusable Content-Range %q for offset %d; restarting", u, resp.Header.Get("Content-Range"), off)
		}
		flag |= os.O_APPEND
		f.log.Info("resuming download", "file", file.Name, "url", u, "offset", off)
	case http.StatusRequestedRangeNotSatisfiable:
		// Either the partial file is already complete, or it is stale.
		if _, total, perr := parseContentRange(resp.Header.Get("Content-Range")); perr == nil && total == off && off > 0 {
			return off, nil
		}
		_ = os.Remove(part)
		return 0, fmt.Errorf("GET %s: HTTP %s for offset %d; restarting", u, resp.Status, off)
	default:
		herr := &HTTPError{URL: u, StatusCode: resp.StatusCode, Status: resp.Status}
		if herr.Temporary() {
			return 0, herr
		}
		return 0, &permanentError{herr}
	}

	out, err := os.OpenFile(part, flag, 0o644)
	if err != nil {
		return 0, &permanentError{fmt.Errorf("open %s: %w", part, err)}
	}
	total := int64(-1)
	if resp.ContentLength >= 0 {
		total = off + resp.ContentLength
	} else if file.Size > 0 {
		total = file.Size
	}
	var w io.Writer = out
	var bar *progressbar.ProgressBar
	if f.Progress != nil {
		bar = newBar(f.Progress, file.Name, total)
		_ = bar.Set64(off)
		w = io.MultiWriter(out, bar)
	}
	n, cerr := io.Copy(w, &stallReader{r: resp.Body, timer: stall, d: f.StallTimeout})
	if bar != nil {
		if cerr == nil {
			_ = bar.Finish()
		} else {
			_ = bar.Exit()
			fmt.Fprintln(f.Progress)
		}
	}
	serr := out.Sync()
	if err := out.Close(); serr == nil {
		serr = err
	}
	if cerr != nil {
		return off, fmt.Errorf("GET %s: transfer cut after %d bytes: %w", u, off+n, causeOf(ctx, cerr))
	}
	if serr != nil {
		return off, &permanentError{fmt.Errorf("write %s: %w", part, serr)}
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return off, fmt.Errorf("GET %s: body has %d bytes, Content-Length says %d", u, n, resp.ContentLength)
	}
	if file.Size > 0 && off+n < file.Size {
		return off, fmt.Errorf("GET %s: truncated: %d of %d bytes", u, off+n, file.Size)
	}
	return off, nil
}

// causeOf prefers the cancellation cause (stall) over the generic error.
func causeOf(ctx context.Context, err error) error {
	if c := context.Cause(ctx); c != nil && errors.Is(c, errStalled) {
		return fmt.Errorf("%w (%v)", c, err)
	}
	return err
}

// stallReader pushes the stall deadline back on every successful read.
type stallReader struct {
	r     io.Reader
	timer *time.Timer
	d     time.Duration
}

func (s *stallReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 {
		s.timer.Reset(s.d)
	}
	return n, err
}

// parseContentRange parses "bytes START-END/TOTAL" or "bytes */TOTAL"; an
// unknown total ("*") is returned as -1.
func parseContentRange(v string) (start, total int64, err error) {
	rest, ok := strings.CutPrefix(v, "bytes ")
	if !ok {
		return 0, 0, fmt.Errorf("bad Content-Range %q", v)
	}
	rng, tot, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, 0, fmt.Errorf("bad Content-Range %q", v)
	}
	total = -1
	if tot != "*" {
		if total, err = strconv.ParseInt(tot, 10, 64); err != nil {
			return 0, 0, fmt.Errorf("bad Content-Range %q", v)
		}
	}
	if rng == "*" {
		return -1, total, nil
	}
	s, _, ok := strings.Cut(rng, "-")
	if !ok {
		return 0, 0, fmt.Errorf("bad Content-Range %q", v)
	}
	if start, err = strconv.ParseInt(s, 10, 64); err != nil {
		return 0, 0, fmt.Errorf("bad Content-Range %q", v)
	}
	return start, total, nil
}

func newBar(w io.Writer, name string, total int64) *progressbar.ProgressBar {
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(name),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionShowCount(),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		progressbar.OptionSpinnerType(14),
	)
}

// md5File returns the lower-case hex MD5 of the file at path.
func md5File(path string) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	h := md5.New()
	if _, err := io.Copy(h, fh); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// copyVerified copies a local file to dst through dst+".part", checking its
// MD5 against the catalog before the final rename.
func copyVerified(ctx context.Context, file File, src, dst string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	part := dst + ".part"
	out, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	h := md5.New()
	_, cerr := io.Copy(io.MultiWriter(out, h), in)
	if cerr == nil {
		cerr = out.Sync()
	}
	if err := out.Close(); cerr == nil {
		cerr = err
	}
	if cerr != nil {
		_ = os.Remove(part)
		return fmt.Errorf("copy %s to %s: %w", src, part, cerr)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if !file.Accepts(sum) {
		_ = os.Remove(part)
		return &ChecksumError{File: file.Name, Source: src, Got: sum, Want: file.MD5}
	}
	return os.Rename(part, dst)
}
