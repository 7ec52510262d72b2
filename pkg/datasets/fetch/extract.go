package fetch

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// manifestEntry is one line of a dataset's .manifest.
type manifestEntry struct {
	Path   string // slash-separated, relative to the dataset directory
	Size   int64
	SHA256 string
}

// Names reserved for bsam's own files in a dataset directory.
const (
	markerName   = ".complete"
	manifestName = ".manifest"
)

// safeRel validates an archive member name and returns it cleaned and
// slash-separated; "" means the archive root itself.
func safeRel(name string) (string, error) {
	if strings.ContainsAny(name, "\\\n\r\x00") {
		return "", fmt.Errorf("unsafe character in entry name %q", name)
	}
	if path.IsAbs(name) {
		return "", fmt.Errorf("absolute entry name %q", name)
	}
	clean := path.Clean(name)
	if clean == "." {
		return "", nil
	}
	if !filepath.IsLocal(filepath.FromSlash(clean)) || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("entry %q escapes the extraction directory", name)
	}
	if clean == markerName || clean == manifestName {
		return "", fmt.Errorf("entry %q collides with a bsam cache file", name)
	}
	return clean, nil
}

// extract unpacks archive (format "tar.gz" or "zip") into dest, which must
// exist, and returns the manifest of the regular files written. It refuses
// path traversal, links and special files.
func extract(ctx context.Context, format, archive, dest string) ([]manifestEntry, error) {
	var (
		m   []manifestEntry
		err error
	)
	switch format {
	case "tar.gz":
		m, err = extractTarGz(ctx, archive, dest)
	case "zip":
		m, err = extractZip(ctx, archive, dest)
	default:
		return nil, fmt.Errorf("unsupported archive format %q for %s", format, archive)
	}
	if err != nil {
		return nil, fmt.Errorf("extract %s: %w", archive, err)
	}
	return m, nil
}

func extractTarGz(ctx context.Context, archive, dest string) ([]manifestEntry, error) {
	fh, err := os.Open(archive)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	tr := tar.NewReader(zr)
	var m []manifestEntry
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("tar: %w", err)
		}
		rel, err := safeRel(hdr.Name)
		if err != nil {
			return nil, err
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if rel != "" {
				if err := os.MkdirAll(filepath.Join(dest, filepath.FromSlash(rel)), 0o755); err != nil {
					return nil, err
				}
			}
		case tar.TypeReg:
			if rel == "" {
				return nil, fmt.Errorf("file entry %q has no name", hdr.Name)
			}
			e, err := writeMember(dest, rel, tr)
			if err != nil {
				return nil, err
			}
			if e.Size != hdr.Size {
				return nil, fmt.Errorf("entry %q: wrote %d bytes, header says %d", hdr.Name, e.Size, hdr.Size)
			}
			m = append(m, e)
		default:
			return nil, fmt.Errorf("refusing entry %q of tar type %q (only files and directories are allowed)", hdr.Name, hdr.Typeflag)
		}
	}
	// Drain the gzip stream so that its CRC and length are checked.
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return m, nil
}

func extractZip(ctx context.Context, archive, dest string) ([]manifestEntry, error) {
	zr, err := zip.OpenReader(archive)
	if err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	defer zr.Close()
	var m []manifestEntry
	for _, zf := range zr.File {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rel, err := safeRel(zf.Name)
		if err != nil {
			return nil, err
		}
		mode := zf.Mode()
		switch {
		case mode.IsDir() || strings.HasSuffix(zf.Name, "/"):
			if rel != "" {
				if err := os.MkdirAll(filepath.Join(dest, filepath.FromSlash(rel)), 0o755); err != nil {
					return nil, err
				}
			}
		case mode.IsRegular():
			if rel == "" {
				return nil, fmt.Errorf("file entry %q has no name", zf.Name)
			}
			rc, err := zf.Open()
			if err != nil {
				return nil, fmt.Errorf("zip entry %q: %w", zf.Name, err)
			}
			e, err := writeMember(dest, rel, rc)
			rc.Close()
			if err != nil {
				return nil, err
			}
			m = append(m, e)
		default:
			return nil, fmt.Errorf("refusing zip entry %q of mode %v (only files and directories are allowed)", zf.Name, mode.Type())
		}
	}
	return m, nil
}

// writeMember creates dest/rel (which must not exist yet) from r.
func writeMember(dest, rel string, r io.Reader) (manifestEntry, error) {
	p := filepath.Join(dest, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return manifestEntry{}, err
	}
	out, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return manifestEntry{}, fmt.Errorf("duplicate entry %q", rel)
		}
		return manifestEntry{}, err
	}
	h := sha256.New()
	n, cerr := io.Copy(io.MultiWriter(out, h), r)
	if err := closeSynced(out, !haveSyncfs); cerr == nil {
		cerr = err
	}
	if cerr != nil {
		return manifestEntry{}, fmt.Errorf("entry %q: %w", rel, cerr)
	}
	return manifestEntry{Path: rel, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// closeSynced optionally fsyncs f, then closes it.
func closeSynced(f *os.File, sync bool) error {
	var err error
	if sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir fsyncs a directory so that renames and creations inside it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil && (errors.Is(err, os.ErrInvalid) || errors.Is(err, errors.ErrUnsupported)) {
		return nil // some platforms cannot fsync directories
	}
	return err
}

// syncTree makes every file and directory below root durable.
func syncTree(root string) error {
	if haveSyncfs {
		return syncFS(root)
	}
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return syncDir(p)
		}
		return nil // files were fsynced when written
	})
}
