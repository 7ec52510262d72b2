package datasets

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// ReadWNIDs reads wnids.txt (one WordNet id per line) and returns the ids
// sorted, which is the label order (ImageFolder sorts the class folders).
// Blank lines are skipped; duplicates and ids with spaces are errors.
func ReadWNIDs(r io.Reader) ([]string, error) {
	var ids []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		id := strings.TrimSpace(sc.Text())
		if id == "" {
			continue
		}
		if strings.ContainsAny(id, " \t/\\") || id == "." || id == ".." {
			return nil, fmt.Errorf("line %d: %q is not a wnid", line, id)
		}
		if seen[id] {
			return nil, fmt.Errorf("line %d: wnid %s repeated", line, id)
		}
		seen[id] = true
		ids = append(ids, id)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, errors.New("no wnids")
	}
	sort.Strings(ids)
	return ids, nil
}

// ValAnnotation is one line of val/val_annotations.txt: an image file of the
// validation set and its class.
type ValAnnotation struct {
	File  string
	WNID  string
	Label int32
}

// ReadValAnnotations parses val_annotations.txt: tab-separated lines
// "file, wnid, x0, y0, x1, y1" (only the first two fields are used). Each
// wnid must be a key of labels; files must be plain names and unique.
func ReadValAnnotations(r io.Reader, labels map[string]int32) ([]ValAnnotation, error) {
	var out []ValAnnotation
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" {
			continue
		}
		f := strings.Split(text, "\t")
		if len(f) < 2 {
			return nil, fmt.Errorf("line %d: %d tab-separated fields, want file, wnid and the box", line, len(f))
		}
		file, wnid := f[0], f[1]
		if file == "" || strings.ContainsAny(file, "/\\") || file == "." || file == ".." {
			return nil, fmt.Errorf("line %d: bad file name %q", line, file)
		}
		lab, ok := labels[wnid]
		if !ok {
			return nil, fmt.Errorf("line %d: wnid %q is not in wnids.txt", line, wnid)
		}
		if seen[file] {
			return nil, fmt.Errorf("line %d: file %s annotated twice", line, file)
		}
		seen[file] = true
		out = append(out, ValAnnotation{File: file, WNID: wnid, Label: lab})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// LoadTinyImageNet decodes a tiny-imagenet-200 directory (SPEC §9): the
// classes are the sorted wnids of wnids.txt; the training split holds
// train/<wnid>/**/*.JPEG (ImageFolder order: by class, then path); the
// test split is the official validation set, val/images/<file> labelled by
// val/val_annotations.txt (also found at val/images/<wnid>/<file>, the
// layout after the official repo's setup_tinyimagenet.py), ordered by
// class, then file name.
func LoadTinyImageNet(ctx context.Context, dir string, workers int) (wnids []string, train, test *Split, err error) {
	wpath := filepath.Join(dir, "wnids.txt")
	if err := withFile(wpath, func(r io.Reader) (err error) { wnids, err = ReadWNIDs(r); return }); err != nil {
		return nil, nil, nil, err
	}
	labels := make(map[string]int32, len(wnids))
	for i, w := range wnids {
		labels[w] = int32(i)
	}
	var entries []imageEntry
	for i, w := range wnids {
		cdir := filepath.Join(dir, "train", w)
		n := 0
		err := filepath.WalkDir(cdir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !isImageFile(p) {
				return nil
			}
			rel, _ := filepath.Rel(cdir, p)
			entries = append(entries, imageEntry{split: 0, class: w, rel: filepath.ToSlash(rel), name: p, label: int32(i)})
			n++
			return nil
		})
		if err != nil {
			return nil, nil, nil, fmt.Errorf("datasets: tinyimagenet training images of %s: %w", w, err)
		}
		if n == 0 {
			return nil, nil, nil, fmt.Errorf("datasets: %s holds no images", cdir)
		}
	}
	apath := filepath.Join(dir, "val", "val_annotations.txt")
	var ann []ValAnnotation
	if err := withFile(apath, func(r io.Reader) (err error) { ann, err = ReadValAnnotations(r, labels); return }); err != nil {
		return nil, nil, nil, err
	}
	if len(ann) == 0 {
		return nil, nil, nil, fmt.Errorf("datasets: %s lists no images", apath)
	}
	for _, a := range ann {
		p := filepath.Join(dir, "val", "images", a.File)
		if _, err := os.Stat(p); err != nil {
			alt := filepath.Join(dir, "val", "images", a.WNID, a.File)
			if _, err2 := os.Stat(alt); err2 != nil {
				return nil, nil, nil, fmt.Errorf("datasets: %s lists %s, but neither %s nor %s exists", apath, a.File, p, alt)
			}
			p = alt
		}
		entries = append(entries, imageEntry{split: 1, class: a.WNID, rel: a.File, name: p, label: a.Label})
	}
	train, test, err = decodeLabelled(ctx, dir, entries, 3, workers)
	if err != nil {
		return nil, nil, nil, err
	}
	return wnids, train, test, nil
}

// loadTinyImageNetCached is LoadTinyImageNet behind the decoded-image cache.
func loadTinyImageNetCached(ctx context.Context, dir string, opts Options) (train, test *Split, wnids []string, err error) {
	log := opts.logger()
	key, err := sourceKey(dir)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("datasets: tinyimagenet: %w", err)
	}
	key = fmt.Sprintf("tinyimagenet v%d %s", cacheVersion, key)
	d, err := cached(opts, "tinyimagenet", key, func() (*decoded, error) {
		t0 := time.Now()
		log.Info("decoding TinyImageNet", "dir", dir)
		wnids, train, test, err := LoadTinyImageNet(ctx, dir, opts.Workers)
		if err != nil {
			return nil, err
		}
		log.Info("decoded TinyImageNet", "train", train.N, "test", test.N, "seconds", time.Since(t0).Seconds())
		return &decoded{Classes: wnids, Train: train, Test: test}, nil
	})
	if err != nil {
		return nil, nil, nil, err
	}
	if len(d.Classes) != 200 {
		log.Warn("TinyImageNet should have 200 classes", "dir", dir, "classes", len(d.Classes))
	}
	return d.Train, d.Test, d.Classes, nil
}
