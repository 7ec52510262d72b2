package fetch

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// markerFormat is the version of the .complete marker layout.
const markerFormat = 1

// Marker is the content of a dataset's .complete file, written after the
// dataset directory is fully in place.
type Marker struct {
	Format  int     `json:"format"`
	Dataset string  `json:"dataset"`
	Inputs  []Input `json:"inputs"`
	// Files and Bytes count the regular files listed in the manifest.
	Files          int       `json:"files"`
	Bytes          int64     `json:"bytes"`
	ManifestSHA256 string    `json:"manifest_sha256"`
	Completed      time.Time `json:"completed"`
}

// Input records one verified published file and where it came from.
type Input struct {
	Name   string `json:"name"`
	MD5    string `json:"md5"`
	Source string `json:"source"`
}

// Status describes the cache state of one dataset.
type Status struct {
	Name   string `json:"name"`
	Title  string `json:"title"`
	Dir    string `json:"path"`
	Cached bool   `json:"cached"`
	// Files, Bytes, Completed and Inputs come from the marker; zero when
	// the dataset is not cached.
	Files     int       `json:"files,omitempty"`
	Bytes     int64     `json:"bytes,omitempty"`
	Completed time.Time `json:"completed,omitzero"`
	Inputs    []Input   `json:"inputs,omitempty"`
	// LastVerify is the result of the last `bsam data verify` of this
	// install (nil: never verified since it was installed).
	LastVerify *VerifyRecord `json:"last_verify,omitempty"`
}

// NotCachedError is returned by Verify for a dataset without a valid marker.
type NotCachedError struct {
	Dataset string
	Dir     string
}

// Error implements the error interface.
func (e *NotCachedError) Error() string {
	return fmt.Sprintf("dataset %s is not cached in %s (run `bsam data download %s`)", e.Dataset, e.Dir, e.Dataset)
}

// VerifyReport is the outcome of Verify.
type VerifyReport struct {
	Dataset  string   `json:"dataset"`
	Dir      string   `json:"path"`
	Files    int      `json:"files"`
	Bytes    int64    `json:"bytes"`
	Problems []string `json:"problems,omitempty"`
}

// VerifyError lists what Verify found wrong.
type VerifyError struct {
	Dataset  string
	Dir      string
	Problems []string
}

// Error implements the error interface.
func (e *VerifyError) Error() string {
	const show = 5
	p := e.Problems
	more := ""
	if len(p) > show {
		more = fmt.Sprintf("; and %d more", len(p)-show)
		p = p[:show]
	}
	return fmt.Sprintf("dataset %s in %s failed verification: %s%s", e.Dataset, e.Dir, strings.Join(p, "; "), more)
}

// obtained is a verified input ready for installation.
type obtained struct {
	file   File
	path   string
	md5    string
	source string
}

func (f *fetcher) datasetDir(name string) string { return filepath.Join(f.CacheDir, name) }
func (f *fetcher) downloadDir(name string) string {
	return filepath.Join(f.CacheDir, ".downloads", name)
}

// Ensure returns a local directory holding the named dataset's raw files,
// verified, obtaining them when needed: from the cache, then from local
// copies, then (unless opts.Offline) from the catalog's mirrors.
func Ensure(ctx context.Context, name string, opts Options) (dir string, err error) {
	f, err := newFetcher(opts)
	if err != nil {
		return "", err
	}
	e, err := f.lookup(name)
	if err != nil {
		return "", err
	}
	dir = f.datasetDir(name)
	if mk, ok := f.complete(e, dir); ok {
		return dir, f.corrupt(name, dir, mk)
	}
	unlock, err := f.lock(ctx, name)
	if err != nil {
		return "", err
	}
	defer unlock()
	if mk, ok := f.complete(e, dir); ok { // another process finished meanwhile
		return dir, f.corrupt(name, dir, mk)
	}
	f.cleanStale(name)
	ins, err := f.obtain(ctx, e)
	if err == nil {
		err = f.install(ctx, e, ins)
	}
	if err != nil {
		// Keep partial and verified downloads for the next attempt, but
		// no empty directories.
		_ = os.Remove(f.downloadDir(name))
		_ = os.Remove(filepath.Join(f.CacheDir, ".downloads"))
		return "", err
	}
	f.removeDownloads(name)
	f.log.Info("dataset ready", "dataset", name, "dir", dir)
	return dir, nil
}

// Import installs the named dataset from a local copy: the archive file for
// archive datasets (or a directory containing it), or a directory holding
// the published files for MNIST and FashionMNIST. Every file is checked
// against the catalog before anything is written; an existing copy in the
// cache is replaced.
func Import(ctx context.Context, name, file string, opts Options) (dir string, err error) {
	f, err := newFetcher(opts)
	if err != nil {
		return "", err
	}
	e, err := f.lookup(name)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(file)
	if err != nil {
		return "", fmt.Errorf("import %s: %w", name, err)
	}
	// Locate and verify every input before touching the cache.
	srcs := make([]string, len(e.Files))
	sums := make([]string, len(e.Files))
	for i, pf := range e.Files {
		src := file
		switch {
		case fi.IsDir():
			src = filepath.Join(file, pf.Name)
		case !e.archive():
			return "", fmt.Errorf("import %s: %s is a file; pass the directory holding %s", name, file, strings.Join(fileNames(e), ", "))
		}
		sum, err := md5File(src)
		if err != nil {
			return "", fmt.Errorf("import %s: %w", name, err)
		}
		if !pf.Accepts(sum) {
			return "", fmt.Errorf("import %s: %w", name, &ChecksumError{File: pf.Name, Source: src, Got: sum, Want: pf.MD5})
		}
		srcs[i], sums[i] = src, sum
	}
	unlock, err := f.lock(ctx, name)
	if err != nil {
		return "", err
	}
	defer unlock()
	f.cleanStale(name)
	ins := make([]obtained, len(e.Files))
	if e.archive() {
		ins[0] = obtained{file: e.Files[0], path: srcs[0], md5: sums[0], source: "import:" + absPath(srcs[0])}
	} else {
		dl := f.downloadDir(name)
		if err := os.MkdirAll(dl, 0o755); err != nil {
			return "", err
		}
		for i, pf := range e.Files {
			dst := filepath.Join(dl, pf.Name)
			if err := copyVerified(ctx, pf, srcs[i], dst); err != nil {
				return "", fmt.Errorf("import %s: %w", name, err)
			}
			sum, err := md5File(dst)
			if err != nil {
				return "", err
			}
			ins[i] = obtained{file: pf, path: dst, md5: sum, source: "import:" + absPath(srcs[i])}
		}
	}
	if err := f.install(ctx, e, ins); err != nil {
		return "", err
	}
	f.removeDownloads(name)
	dir = f.datasetDir(name)
	f.log.Info("dataset imported", "dataset", name, "dir", dir)
	return dir, nil
}

// verify re-hashes a cached dataset: the published files against the
// catalog's MD5 (MNIST, FashionMNIST), every file against the manifest's
// SHA-256, and the marker's inputs against the catalog.
func verify(ctx context.Context, name string, opts Options) (*VerifyReport, error) {
	f, err := newFetcher(opts)
	if err != nil {
		return nil, err
	}
	e, err := f.lookup(name)
	if err != nil {
		return nil, err
	}
	dir := f.datasetDir(name)
	mk, err := readMarker(dir)
	if err != nil {
		return nil, &NotCachedError{Dataset: name, Dir: dir}
	}
	rep := &VerifyReport{Dataset: name, Dir: dir}
	bad := func(format string, args ...any) { rep.Problems = append(rep.Problems, fmt.Sprintf(format, args...)) }
	if mk.Dataset != name || mk.Format != markerFormat {
		bad("marker %s describes dataset %q format %d", filepath.Join(dir, markerName), mk.Dataset, mk.Format)
	}
	if !inputsMatch(e, mk.Inputs) {
		bad("marker inputs %v do not match the catalog's checksums", mk.Inputs)
	}
	if !e.archive() {
		for _, pf := range e.Files {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			p := filepath.Join(dir, pf.Name)
			sum, err := md5File(p)
			switch {
			case err != nil:
				bad("%s: %v", pf.Name, err)
			case !pf.Accepts(sum):
				bad("md5 mismatch for %s: got %s, want %s", p, sum, pf.MD5)
			}
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		bad("%v", err)
		return rep, &VerifyError{Dataset: name, Dir: dir, Problems: rep.Problems}
	}
	if got := sha256Hex(raw); got != mk.ManifestSHA256 {
		bad("sha256 mismatch for %s: got %s, want %s (from the marker)", filepath.Join(dir, manifestName), got, mk.ManifestSHA256)
	}
	entries, err := parseManifest(raw)
	if err != nil {
		bad("%s: %v", filepath.Join(dir, manifestName), err)
	}
	for _, me := range entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p := filepath.Join(dir, filepath.FromSlash(me.Path))
		sum, n, err := sha256File(p)
		if err != nil {
			bad("%s: %v", me.Path, err)
			continue
		}
		rep.Files++
		rep.Bytes += n
		if sum != me.SHA256 {
			bad("sha256 mismatch for %s: got %s, want %s", p, sum, me.SHA256)
		}
	}
	if len(entries) != mk.Files {
		bad("manifest lists %d files, marker says %d", len(entries), mk.Files)
	}
	if len(rep.Problems) > 0 {
		return rep, &VerifyError{Dataset: name, Dir: dir, Problems: rep.Problems}
	}
	return rep, nil
}

// StatusOf reports whether the named dataset is cached, where, and how big.
func StatusOf(name string, opts Options) (Status, error) {
	f, err := newFetcher(opts)
	if err != nil {
		return Status{}, err
	}
	e, err := f.lookup(name)
	if err != nil {
		return Status{}, err
	}
	return f.status(e), nil
}

// StatusAll reports the cache state of every catalog dataset, in catalog order.
func StatusAll(opts Options) ([]Status, error) {
	f, err := newFetcher(opts)
	if err != nil {
		return nil, err
	}
	out := make([]Status, len(f.entries))
	for i, e := range f.entries {
		out[i] = f.status(e)
	}
	return out, nil
}

// status reports the cache state of e.
func (f *fetcher) status(e Entry) Status {
	dir := f.datasetDir(e.Name)
	st := Status{Name: e.Name, Title: e.Title, Dir: dir}
	if mk, ok := f.complete(e, dir); ok {
		st.Cached, st.Files, st.Bytes, st.Completed, st.Inputs = true, mk.Files, mk.Bytes, mk.Completed, mk.Inputs
		st.LastVerify = f.lastVerify(e.Name, mk)
	}
	return st
}

// complete reports whether dir holds a finished install of e: a marker that
// matches the catalog, and the required files present.
func (f *fetcher) complete(e Entry, dir string) (Marker, bool) {
	mk, err := readMarker(dir)
	if err != nil || mk.Format != markerFormat || mk.Dataset != e.Name || !inputsMatch(e, mk.Inputs) {
		return Marker{}, false
	}
	need := slices.Clone(e.Required)
	if !e.archive() {
		need = append(need, fileNames(e)...)
	}
	need = append(need, manifestName)
	for _, r := range need {
		if fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(r))); err != nil || !fi.Mode().IsRegular() {
			return Marker{}, false
		}
	}
	return mk, true
}

func inputsMatch(e Entry, ins []Input) bool {
	if len(ins) != len(e.Files) {
		return false
	}
	for i, pf := range e.Files {
		if ins[i].Name != pf.Name || !pf.Accepts(ins[i].MD5) {
			return false
		}
	}
	return true
}

func readMarker(dir string) (Marker, error) {
	var mk Marker
	raw, err := os.ReadFile(filepath.Join(dir, markerName))
	if err != nil {
		return mk, err
	}
	if err := json.Unmarshal(raw, &mk); err != nil {
		return mk, fmt.Errorf("%s: %w", filepath.Join(dir, markerName), err)
	}
	return mk, nil
}

func (f *fetcher) lock(ctx context.Context, name string) (func(), error) {
	if err := os.MkdirAll(f.CacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	return lockFile(ctx, filepath.Join(f.CacheDir, "."+name+".lock"))
}

// cleanStale removes staging directories left by interrupted runs. The
// caller holds the dataset's lock.
func (f *fetcher) cleanStale(name string) {
	for _, pat := range []string{".partial-*", ".old-*"} {
		matches, _ := filepath.Glob(filepath.Join(f.CacheDir, "."+name+pat))
		for _, m := range matches {
			f.log.Debug("removing stale staging directory", "path", m)
			_ = os.RemoveAll(m)
		}
	}
}

func (f *fetcher) removeDownloads(name string) {
	_ = os.RemoveAll(f.downloadDir(name))
	_ = os.Remove(filepath.Join(f.CacheDir, ".downloads")) // only if empty
}

// obtain collects every published file of e, verified, into the downloads
// directory: files kept from an interrupted run, local copies, then the
// network.
func (f *fetcher) obtain(ctx context.Context, e Entry) ([]obtained, error) {
	dl := f.downloadDir(e.Name)
	if err := os.MkdirAll(dl, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dl, err)
	}
	locals := f.localDirs(ctx, e)
	ins := make([]obtained, len(e.Files))
	var missing []string
	var localErrs []error
	for i, pf := range e.Files {
		dst := filepath.Join(dl, pf.Name)
		ins[i] = obtained{file: pf, path: dst}
		if sum, err := md5File(dst); err == nil {
			if pf.Accepts(sum) {
				ins[i].md5, ins[i].source = sum, "cache:"+dst
				continue
			}
			_ = os.Remove(dst)
		}
		for _, d := range locals {
			src := filepath.Join(d, pf.Name)
			if fi, err := os.Stat(src); err != nil || !fi.Mode().IsRegular() {
				continue
			}
			if err := copyVerified(ctx, pf, src, dst); err != nil {
				f.log.Warn("local copy rejected", "file", src, "err", err)
				localErrs = append(localErrs, err)
				continue
			}
			ins[i].source = "local:" + src
			f.log.Info("using local copy", "file", src)
			break
		}
		if ins[i].source == "" {
			if f.Offline {
				missing = append(missing, pf.Name)
				continue
			}
			u, err := f.download(ctx, pf, dst)
			if err != nil {
				if e.Hint != "" && ctx.Err() == nil {
					return nil, fmt.Errorf("dataset %s: %w; to get it without the network: %s", e.Name, err, e.Hint)
				}
				return nil, fmt.Errorf("dataset %s: %w", e.Name, err)
			}
			ins[i].source = u
		}
		sum, err := md5File(dst)
		if err != nil {
			return nil, err
		}
		ins[i].md5 = sum
	}
	if len(missing) > 0 {
		err := error(&OfflineError{Dataset: e.Name, CacheDir: f.CacheDir, Missing: missing, Hint: e.Hint})
		if len(localErrs) > 0 {
			err = errors.Join(err, errors.Join(localErrs...))
		}
		return nil, err
	}
	return ins, nil
}

// install builds e's directory in a staging directory next to the target,
// flushes it, renames it into place and only then writes the marker.
func (f *fetcher) install(ctx context.Context, e Entry, ins []obtained) (err error) {
	staging, err := os.MkdirTemp(f.CacheDir, "."+e.Name+".partial-")
	if err != nil {
		return fmt.Errorf("create staging directory: %w", err)
	}
	if err := os.Chmod(staging, 0o755); err != nil { // MkdirTemp creates 0700
		_ = os.RemoveAll(staging)
		return err
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(staging)
		}
	}()
	var man []manifestEntry
	if e.archive() {
		f.log.Info("extracting", "archive", ins[0].path, "to", staging)
		if man, err = extract(ctx, e.Format, ins[0].path, staging); err != nil {
			return err
		}
		for _, r := range e.Required {
			if fi, serr := os.Stat(filepath.Join(staging, filepath.FromSlash(r))); serr != nil || !fi.Mode().IsRegular() {
				return fmt.Errorf("archive %s lacks the required member %s", ins[0].path, r)
			}
		}
	} else {
		for _, in := range ins {
			dst := filepath.Join(staging, in.file.Name)
			if err = os.Rename(in.path, dst); err != nil {
				return err
			}
			sum, n, herr := sha256File(dst)
			if herr != nil {
				return herr
			}
			man = append(man, manifestEntry{Path: in.file.Name, Size: n, SHA256: sum})
		}
	}
	slices.SortFunc(man, func(a, b manifestEntry) int { return strings.Compare(a.Path, b.Path) })
	manRaw := formatManifest(man)
	if err = writeFileSynced(filepath.Join(staging, manifestName), manRaw); err != nil {
		return err
	}
	if err = syncTree(staging); err != nil {
		return fmt.Errorf("sync %s: %w", staging, err)
	}
	dir := f.datasetDir(e.Name)
	old, err := f.moveAside(e.Name, dir)
	if err != nil {
		return err
	}
	if err = os.Rename(staging, dir); err != nil {
		return fmt.Errorf("rename %s to %s: %w", staging, dir, err)
	}
	if err = syncDir(f.CacheDir); err != nil {
		return err
	}
	mk := Marker{Format: markerFormat, Dataset: e.Name, Files: len(man), ManifestSHA256: sha256Hex(manRaw), Completed: time.Now().UTC()}
	for _, m := range man {
		mk.Bytes += m.Size
	}
	for _, in := range ins {
		mk.Inputs = append(mk.Inputs, Input{Name: in.file.Name, MD5: in.md5, Source: in.source})
	}
	raw, err := json.MarshalIndent(mk, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, markerName+".tmp")
	if err = writeFileSynced(tmp, append(raw, '\n')); err != nil {
		return err
	}
	if err = os.Rename(tmp, filepath.Join(dir, markerName)); err != nil {
		return err
	}
	if err = syncDir(dir); err != nil {
		return err
	}
	if old != "" {
		_ = os.RemoveAll(old)
	}
	return nil
}

// moveAside renames an existing dataset directory out of the way. It only
// touches directories that bsam wrote (holding a manifest or marker) or empty
// ones, so a --data-dir pointing at unrelated files is never wiped.
func (f *fetcher) moveAside(name, dir string) (string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	ours := len(ents) == 0
	for _, de := range ents {
		if de.Name() == manifestName || de.Name() == markerName {
			ours = true
		}
	}
	if !ours {
		return "", fmt.Errorf("%s exists but was not written by bsam (no %s); move it away or choose another data directory", dir, manifestName)
	}
	old, err := os.MkdirTemp(f.CacheDir, "."+name+".old-")
	if err != nil {
		return "", err
	}
	target := filepath.Join(old, name)
	if err := os.Rename(dir, target); err != nil {
		return "", fmt.Errorf("move incomplete %s aside: %w", dir, err)
	}
	f.log.Info("replacing previous copy", "dir", dir)
	return old, nil
}

func writeFileSynced(path string, data []byte) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, werr := fh.Write(data)
	if err := closeSynced(fh, true); werr == nil {
		werr = err
	}
	if werr != nil {
		return fmt.Errorf("write %s: %w", path, werr)
	}
	return nil
}

// formatManifest renders entries in sha256sum format ("HEX  PATH").
func formatManifest(man []manifestEntry) []byte {
	var b bytes.Buffer
	for _, m := range man {
		fmt.Fprintf(&b, "%s  %s\n", m.SHA256, m.Path)
	}
	return b.Bytes()
}

func parseManifest(raw []byte) ([]manifestEntry, error) {
	var out []manifestEntry
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for ln := 1; sc.Scan(); ln++ {
		sum, p, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 || p == "" {
			return nil, fmt.Errorf("line %d: malformed", ln)
		}
		if _, err := safeRel(p); err != nil {
			return nil, fmt.Errorf("line %d: %w", ln, err)
		}
		out = append(out, manifestEntry{Path: p, SHA256: sum})
	}
	return out, sc.Err()
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func sha256File(path string) (string, int64, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer fh.Close()
	h := sha256.New()
	n, err := io.Copy(h, fh)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func fileNames(e Entry) []string {
	out := make([]string, len(e.Files))
	for i, pf := range e.Files {
		out[i] = pf.Name
	}
	return out
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
