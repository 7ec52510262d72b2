package datasets

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/bsam-dev/bsam/pkg/nn"
)

// maxImageFileBytes bounds one image file inside a source.
const maxImageFileBytes = 64 << 20

// imageEntry is one image file of a source before decoding.
type imageEntry struct {
	split int    // 0 train, 1 test
	class string // class folder name
	rel   string // path below the class folder, for ordering
	name  string // path for messages
	data  []byte // file contents (archives); nil: read from name
	label int32
}

// isImageFile reports whether name has an extension ImageFolder would load.
func isImageFile(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".jpg", ".jpeg", ".png":
		return true
	}
	return false
}

// LoadImageFolder reads an image-folder tree
// <root>/{train,test}/<class>/**/*.{jpg,jpeg,png} from a directory or a
// (gzip-compressed) tar archive and decodes it into channels-deep images
// (3: RGB, 1: gray). Classes are the class folders of train, sorted by
// name; test class folders must be among them. Within a class, images are
// ordered by path. All images must have the same size.
func LoadImageFolder(ctx context.Context, source string, channels int, workers int) (classes []string, train, test *Split, err error) {
	st, err := os.Stat(source)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("datasets: image folder source: %w", err)
	}
	var entries []imageEntry
	if st.IsDir() {
		entries, err = listImageDir(source)
	} else {
		entries, err = readImageArchive(ctx, source)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	return decodeEntries(ctx, source, entries, channels, workers)
}

// listImageDir lists the image files of root/train and root/test.
func listImageDir(root string) ([]imageEntry, error) {
	var out []imageEntry
	for split, name := range []string{"train", "test"} {
		dir := filepath.Join(root, name)
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			continue // reported as "no images under …"
		}
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !isImageFile(p) {
				return nil
			}
			rel, _ := filepath.Rel(dir, p)
			parts := strings.SplitN(filepath.ToSlash(rel), "/", 2)
			if len(parts) < 2 {
				return nil // a file directly in train/, not in a class folder
			}
			out = append(out, imageEntry{split: split, class: parts[0], rel: parts[1], name: p})
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("datasets: listing %s: %w", dir, err)
		}
	}
	return out, nil
}

// readImageArchive reads the image files of a tar or tar.gz archive whose
// entries are [prefix/]{train,test}/<class>/**/<file>.
func readImageArchive(ctx context.Context, archive string) ([]imageEntry, error) {
	f, err := os.Open(archive)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	defer f.Close()
	r, err := maybeGunzip(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("datasets: %s: %w", archive, err)
	}
	tr := tar.NewReader(r)
	var (
		out    []imageEntry
		prefix *string
	)
	for n := 0; ; n++ {
		if n%1024 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("datasets: %s: reading tar entry after %d entries: %w", archive, n, err)
		}
		if h.Typeflag != tar.TypeReg || !isImageFile(h.Name) {
			continue
		}
		parts := strings.Split(strings.TrimPrefix(path.Clean(h.Name), "/"), "/")
		k := -1
		for i, p := range parts {
			if p == "train" || p == "test" {
				k = i
				break
			}
		}
		if k < 0 || len(parts)-k < 3 {
			continue // not below train/<class>/ or test/<class>/
		}
		pre := strings.Join(parts[:k], "/")
		if prefix == nil {
			prefix = &pre
		} else if *prefix != pre {
			return nil, fmt.Errorf("datasets: %s: entry %s lies under %q but earlier ones under %q", archive, h.Name, pre, *prefix)
		}
		if h.Size > maxImageFileBytes {
			return nil, fmt.Errorf("datasets: %s: entry %s is %d bytes, over the %d-byte limit for an image", archive, h.Name, h.Size, maxImageFileBytes)
		}
		data, err := io.ReadAll(io.LimitReader(tr, maxImageFileBytes))
		if err != nil {
			return nil, fmt.Errorf("datasets: %s: entry %s: %w", archive, h.Name, err)
		}
		split := 0
		if parts[k] == "test" {
			split = 1
		}
		out = append(out, imageEntry{split: split, class: parts[k+1], rel: strings.Join(parts[k+2:], "/"), name: archive + ":" + h.Name, data: data})
	}
	return out, nil
}

// decodeEntries sorts the entries, assigns labels and decodes them in
// parallel into two splits.
func decodeEntries(ctx context.Context, source string, entries []imageEntry, channels, workers int) ([]string, *Split, *Split, error) {
	classSet := map[string]int{}
	for _, e := range entries {
		if e.split == 0 {
			classSet[e.class] = 0
		}
	}
	if len(classSet) == 0 {
		return nil, nil, nil, fmt.Errorf("datasets: %s holds no images under train/<class>/ (*.jpg, *.jpeg, *.png)", source)
	}
	classes := sortedKeys(classSet)
	for i, c := range classes {
		classSet[c] = i
	}
	for i := range entries {
		e := &entries[i]
		lab, ok := classSet[e.class]
		if !ok {
			return nil, nil, nil, fmt.Errorf("datasets: %s: test class folder %q has no train folder", e.name, e.class)
		}
		e.label = int32(lab)
	}
	train, test, err := decodeLabelled(ctx, source, entries, channels, workers)
	if err != nil {
		return nil, nil, nil, err
	}
	return classes, train, test, nil
}

// decodeLabelled sorts labelled entries by (split, label, path) and decodes
// them in parallel into a training and a test split.
func decodeLabelled(ctx context.Context, source string, entries []imageEntry, channels, workers int) (*Split, *Split, error) {
	var counts [2]int
	for _, e := range entries {
		counts[e.split]++
	}
	if counts[0] == 0 {
		return nil, nil, fmt.Errorf("datasets: %s holds no training images", source)
	}
	if counts[1] == 0 {
		return nil, nil, fmt.Errorf("datasets: %s holds no test images", source)
	}
	sort.Slice(entries, func(i, j int) bool {
		a, b := &entries[i], &entries[j]
		if a.split != b.split {
			return a.split < b.split
		}
		if a.label != b.label {
			return a.label < b.label
		}
		return a.rel < b.rel
	})
	// The first image fixes the shape.
	first, w, h, err := decodeEntry(&entries[0], channels)
	if err != nil {
		return nil, nil, err
	}
	shape := nn.Shape{H: h, W: w, C: channels}
	sz := shape.Size()
	splits := [2]*Split{}
	for s := range 2 {
		splits[s] = &Split{N: counts[s], Shape: shape, Images: make([]uint8, counts[s]*sz), Labels: make([]int32, counts[s])}
	}
	copy(splits[0].Images, first)
	err = parallelFor(ctx, len(entries), workers, func(i int) error {
		e := &entries[i]
		sp, k := splits[e.split], i
		if e.split == 1 {
			k -= counts[0]
		}
		sp.Labels[k] = e.label
		if i == 0 {
			return nil
		}
		pix, w, h, err := decodeEntry(e, channels)
		if err != nil {
			return err
		}
		if w != shape.W || h != shape.H {
			return fmt.Errorf("datasets: %s is %d×%d but %s is %d×%d; all images must have the same size", e.name, w, h, entries[0].name, shape.W, shape.H)
		}
		copy(sp.Images[k*sz:(k+1)*sz], pix)
		e.data = nil
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return splits[0], splits[1], nil
}

// decodeEntry reads (if needed) and decodes one image file.
func decodeEntry(e *imageEntry, channels int) ([]uint8, int, int, error) {
	data := e.data
	if data == nil {
		var err error
		if data, err = os.ReadFile(e.name); err != nil {
			return nil, 0, 0, fmt.Errorf("datasets: %w", err)
		}
	}
	pix, w, h, err := decodeImage(data, channels)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("datasets: decoding %s: %w", e.name, err)
	}
	return pix, w, h, nil
}

// loadImageFolderDataset loads opts.Source as the named dataset (info
// non-nil: its classes, shape and normalisation) or as a plain
// "imagefolder" dataset (info nil: classes from the folders, RGB, no
// normalisation).
func loadImageFolderDataset(ctx context.Context, name string, info *Info, opts Options) (*Dataset, error) {
	log := opts.logger()
	channels := 3
	if info != nil {
		channels = info.Shape.C
	}
	key, err := sourceKey(opts.Source)
	if err != nil {
		return nil, fmt.Errorf("datasets: image folder source: %w", err)
	}
	key = fmt.Sprintf("imagefolder v%d channels %d %s", cacheVersion, channels, key)
	d, err := cached(opts, "imagefolder-"+filepath.Base(opts.Source), key, func() (*decoded, error) {
		t0 := time.Now()
		log.Info("decoding image folder", "source", opts.Source)
		classes, train, test, err := LoadImageFolder(ctx, opts.Source, channels, opts.Workers)
		if err != nil {
			return nil, err
		}
		log.Info("decoded image folder", "source", opts.Source, "train", train.N, "test", test.N, "seconds", time.Since(t0).Seconds())
		return &decoded{Classes: classes, Train: train, Test: test}, nil
	})
	if err != nil {
		return nil, err
	}
	if info == nil {
		norm := Normalization{Mean: make([]float32, channels), Std: make([]float32, channels)}
		for c := range norm.Std {
			norm.Std[c] = 1
		}
		return &Dataset{Name: name, Classes: len(d.Classes), ClassNames: d.Classes, Train: d.Train, Test: d.Test, Norm: norm}, nil
	}
	if d.Train.Shape != info.Shape {
		return nil, fmt.Errorf("datasets: %s: images are %d×%d×%d but %s needs %d×%d×%d", opts.Source, d.Train.Shape.H, d.Train.Shape.W, d.Train.Shape.C, info.Name, info.Shape.H, info.Shape.W, info.Shape.C)
	}
	ds := &Dataset{Name: info.Name, Classes: info.Classes, ClassNames: info.ClassNames, Norm: info.Norm,
		Augmentable: info.Augmentable, DropLastTrain: info.DropLastTrain}
	remap, err := classRemap(d.Classes, info)
	if err != nil {
		return nil, fmt.Errorf("datasets: %s: %w", opts.Source, err)
	}
	if ds.ClassNames == nil {
		ds.ClassNames = d.Classes
	}
	if len(d.Classes) != info.Classes {
		log.Warn("image folder has fewer classes than the dataset", "source", opts.Source, "folders", len(d.Classes), "dataset", info.Name, "classes", info.Classes)
	}
	ds.Train, ds.Test = relabel(d.Train, remap), relabel(d.Test, remap)
	return ds, nil
}

// classRemap maps the sorted folder classes to the labels of a named
// dataset: by name when every folder is one of its classes, else by
// position when the counts agree.
func classRemap(folders []string, info *Info) ([]int32, error) {
	remap := make([]int32, len(folders))
	if info.ClassNames == nil {
		if len(folders) > info.Classes {
			return nil, fmt.Errorf("%d class folders, but %s has %d classes", len(folders), info.Name, info.Classes)
		}
		for i := range remap {
			remap[i] = int32(i)
		}
		return remap, nil
	}
	idx := make(map[string]int32, len(info.ClassNames))
	for i, n := range info.ClassNames {
		idx[n] = int32(i)
	}
	byName := true
	for i, f := range folders {
		j, ok := idx[f]
		if !ok {
			byName = false
			break
		}
		remap[i] = j
	}
	if byName {
		return remap, nil
	}
	if len(folders) == info.Classes {
		for i := range remap {
			remap[i] = int32(i)
		}
		return remap, nil
	}
	return nil, fmt.Errorf("class folders %v are neither %s's class names nor %d folders to take in sorted order", folders, info.Name, info.Classes)
}

// relabel returns s with labels mapped through remap (s itself when remap
// is the identity).
func relabel(s *Split, remap []int32) *Split {
	identity := true
	for i, v := range remap {
		if int32(i) != v {
			identity = false
		}
	}
	if identity {
		return s
	}
	out := *s
	out.Labels = make([]int32, s.N)
	for i, y := range s.Labels {
		out.Labels[i] = remap[y]
	}
	return &out
}
