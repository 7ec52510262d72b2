package datasets

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/bsam-dev/bsam/pkg/nn"
)

// Decoded-image cache. A cache file holds the class names and both splits
// of a decoded source as raw uint8 pixels, so later runs skip JPEG
// decoding. Layout (little-endian):
//
//	magic "BSAMDSC1"
//	uint32 header length, header JSON (cacheHeader)
//	train pixels, train labels (int32 each), test pixels, test labels
//	uint32 CRC-32C of everything before it
//
// Files are written to a temporary name, synced and renamed into place, so
// a reader never sees a partial file.

const cacheMagic = "BSAMDSC1"

// cacheVersion changes whenever decoding or the layout changes, which
// invalidates every older cache entry.
const cacheVersion = 2

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type cacheHeader struct {
	Version int       `json:"version"`
	Key     string    `json:"key"`
	Classes []string  `json:"classes"`
	Splits  [2]cacheS `json:"splits"`
}

type cacheS struct {
	N int `json:"n"`
	H int `json:"h"`
	W int `json:"w"`
	C int `json:"c"`
}

// decoded is what the cache stores: class names and the two splits.
type decoded struct {
	Classes     []string
	Train, Test *Split
}

// cacheDir returns the cache directory of opts ("" when caching is off).
func cacheDir(opts Options) string {
	if opts.NoCache {
		return ""
	}
	if opts.CacheDir != "" {
		return opts.CacheDir
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "bsam", "datasets")
}

// cachePath names the cache file for key.
func cachePath(dir, prefix, key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(dir, prefix+"-"+hex.EncodeToString(sum[:8])+".bsd")
}

// sourceKey fingerprints a file or directory tree: absolute path, and the
// size and modification time of the file or of every file below the
// directory.
func sourceKey(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		return fmt.Sprintf("file %s size %d mtime %d", abs, st.Size(), st.ModTime().UnixNano()), nil
	}
	h := sha256.New()
	var files int
	err = filepath.WalkDir(abs, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(abs, p)
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", rel, info.Size(), info.ModTime().UnixNano())
		files++
		return nil
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("dir %s files %d tree %x", abs, files, h.Sum(nil)), nil
}

// writeCache stores d under path atomically.
func writeCache(path, key string, d *decoded) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	hdr := cacheHeader{Version: cacheVersion, Key: key, Classes: d.Classes}
	for i, s := range []*Split{d.Train, d.Test} {
		hdr.Splits[i] = cacheS{N: s.N, H: s.Shape.H, W: s.Shape.W, C: s.Shape.C}
	}
	js, err := json.Marshal(hdr)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	crc := crc32.New(castagnoli)
	w := bufio.NewWriterSize(io.MultiWriter(tmp, crc), 1<<20)
	w.WriteString(cacheMagic)
	binary.Write(w, binary.LittleEndian, uint32(len(js)))
	w.Write(js)
	lab := make([]byte, 0, 4096)
	for _, s := range []*Split{d.Train, d.Test} {
		w.Write(s.Images)
		for i, y := range s.Labels {
			lab = binary.LittleEndian.AppendUint32(lab, uint32(y))
			if len(lab) == cap(lab) || i == len(s.Labels)-1 {
				w.Write(lab)
				lab = lab[:0]
			}
		}
	}
	if err = w.Flush(); err != nil {
		return err
	}
	if err = binary.Write(tmp, binary.LittleEndian, crc.Sum32()); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// errCacheMiss reports that no usable cache entry exists.
var errCacheMiss = errors.New("no cache entry")

// readCache loads the entry at path if its key matches. A missing file
// returns errCacheMiss; a damaged or foreign one an error naming it.
func readCache(path, key string) (*decoded, error) {
	buf, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errCacheMiss
	}
	if err != nil {
		return nil, err
	}
	d, err := parseCache(buf, key)
	if err != nil {
		return nil, fmt.Errorf("cache file %s: %w", path, err)
	}
	return d, nil
}

// parseCache decodes a cache file's bytes; the pixels alias buf.
func parseCache(buf []byte, key string) (*decoded, error) {
	if len(buf) < len(cacheMagic)+8 || string(buf[:len(cacheMagic)]) != cacheMagic {
		return nil, errors.New("not a bsam dataset cache (bad magic)")
	}
	body := buf[:len(buf)-4]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(buf[len(buf)-4:]) {
		return nil, errors.New("checksum mismatch (damaged file)")
	}
	p := body[len(cacheMagic):]
	hl := binary.LittleEndian.Uint32(p)
	p = p[4:]
	if uint64(hl) > uint64(len(p)) {
		return nil, fmt.Errorf("header length %d beyond the file", hl)
	}
	var hdr cacheHeader
	if err := json.Unmarshal(p[:hl], &hdr); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	p = p[hl:]
	if hdr.Version != cacheVersion {
		return nil, fmt.Errorf("version %d, want %d", hdr.Version, cacheVersion)
	}
	if key != "" && hdr.Key != key {
		return nil, fmt.Errorf("stale entry: key %q, want %q", hdr.Key, key)
	}
	d := &decoded{Classes: hdr.Classes}
	for i, cs := range hdr.Splits {
		if cs.N < 0 || cs.H <= 0 || cs.W <= 0 || cs.C <= 0 || cs.H > 1<<14 || cs.W > 1<<14 || cs.C > 4 {
			return nil, fmt.Errorf("split %d: bad dimensions %+v", i, cs)
		}
		sz := uint64(cs.N) * uint64(cs.H*cs.W*cs.C)
		if sz+4*uint64(cs.N) > uint64(len(p)) {
			return nil, fmt.Errorf("split %d: %d examples do not fit in the file", i, cs.N)
		}
		s := &Split{N: cs.N, Shape: nn.Shape{H: cs.H, W: cs.W, C: cs.C}, Images: p[:sz:sz], Labels: make([]int32, cs.N)}
		p = p[sz:]
		for k := range s.Labels {
			s.Labels[k] = int32(binary.LittleEndian.Uint32(p[4*k:]))
		}
		p = p[4*cs.N:]
		if err := s.check(max(len(hdr.Classes), 1)); err != nil {
			return nil, fmt.Errorf("split %d: %w", i, err)
		}
		if i == 0 {
			d.Train = s
		} else {
			d.Test = s
		}
	}
	if len(p) != 0 {
		return nil, fmt.Errorf("%d unexpected trailing bytes", len(p))
	}
	return d, nil
}

// cached returns the entry for (prefix, key) from the cache of opts, or
// builds it with build and stores it. Cache failures are logged, never
// fatal.
func cached(opts Options, prefix, key string, build func() (*decoded, error)) (*decoded, error) {
	log := opts.logger()
	dir := cacheDir(opts)
	var path string
	if dir != "" {
		path = cachePath(dir, prefix, key)
		d, err := readCache(path, key)
		if err == nil {
			log.Info("dataset cache hit", "file", path)
			return d, nil
		}
		if !errors.Is(err, errCacheMiss) {
			log.Warn("dataset cache unusable, rebuilding", "err", err)
		}
	}
	d, err := build()
	if err != nil {
		return nil, err
	}
	if path != "" {
		if err := writeCache(path, key, d); err != nil {
			log.Warn("could not write dataset cache", "file", path, "err", err)
		} else {
			log.Info("dataset cache written", "file", path)
		}
	}
	return d, nil
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
