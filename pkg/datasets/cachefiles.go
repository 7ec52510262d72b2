package datasets

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// DefaultCacheDir is the decoded-image cache directory used when
// Options.CacheDir is empty ("" when the user cache directory is unknown).
func DefaultCacheDir() string { return cacheDir(Options{}) }

// CacheFile is one file of the decoded-image cache (*.bsd) with the result
// of its last verification.
type CacheFile struct {
	Path  string    `json:"path"`
	Bytes int64     `json:"bytes"`
	MTime time.Time `json:"mtime"`
	// Verified is when VerifyCacheFiles last checked this very file (same
	// size and modification time); zero when it never did.
	Verified time.Time `json:"verified,omitzero"`
	OK       bool      `json:"ok"`
	Problem  string    `json:"problem,omitempty"`
}

// cacheVerifyName is the file in the cache directory that records
// VerifyCacheFiles' results.
const cacheVerifyName = ".verify.json"

// CacheFiles lists the decoded-cache files of dir, by name, with their last
// verification. A missing directory is an empty cache.
func CacheFiles(dir string) ([]CacheFile, error) {
	matches, err := filepath.Glob(filepath.Join(dir, "*.bsd"))
	if err != nil {
		return nil, err
	}
	sort.Strings(matches)
	rec := map[string]CacheFile{}
	if raw, err := os.ReadFile(filepath.Join(dir, cacheVerifyName)); err == nil {
		_ = json.Unmarshal(raw, &rec)
	}
	var out []CacheFile
	for _, m := range matches {
		st, err := os.Stat(m)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		cf := CacheFile{Path: m, Bytes: st.Size(), MTime: st.ModTime().UTC()}
		if r, ok := rec[filepath.Base(m)]; ok && r.Bytes == cf.Bytes && r.MTime.Equal(cf.MTime) {
			cf.Verified, cf.OK, cf.Problem = r.Verified, r.OK, r.Problem
		}
		out = append(out, cf)
	}
	return out, nil
}

// VerifyCacheFiles reads every decoded-cache file of dir and checks it
// (magic, CRC-32C, header, layout), records the results for CacheFiles and
// returns them. A damaged file is not removed: training rebuilds it when
// it next needs it (and says so), or delete it to reclaim the space.
func VerifyCacheFiles(ctx context.Context, dir string) ([]CacheFile, error) {
	files, err := CacheFiles(dir)
	if err != nil {
		return nil, err
	}
	rec := map[string]CacheFile{}
	for i := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		cf := &files[i]
		cf.Verified, cf.OK, cf.Problem = time.Now().UTC(), true, ""
		buf, err := os.ReadFile(cf.Path)
		if err == nil {
			_, err = parseCache(buf, "")
		}
		if err != nil {
			cf.OK, cf.Problem = false, strings.TrimPrefix(err.Error(), cf.Path+": ")
		}
		rec[filepath.Base(cf.Path)] = *cf
	}
	if len(files) > 0 {
		b, _ := json.MarshalIndent(rec, "", "  ")
		tmp := filepath.Join(dir, cacheVerifyName+".tmp")
		if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err == nil {
			_ = os.Rename(tmp, filepath.Join(dir, cacheVerifyName))
		}
	}
	return files, nil
}
