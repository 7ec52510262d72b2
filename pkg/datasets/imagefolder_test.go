package datasets

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bsam-dev/bsam/pkg/nn"
)

// fixturePixel is the RGB value of pixel (x, y) of image k of class c: every
// image of a fixture tree is distinguishable.
func fixturePixel(split, c, k, x, y int) (uint8, uint8, uint8) {
	return uint8(10*c + k + 100*split), uint8(x*16 + y), uint8(200 - 7*k)
}

// fixtureFiles returns PNG files rel path → bytes for a tree with the given
// classes and images per class (train and test), 4×3 pixels each.
func fixtureFiles(t testing.TB, classes []string, nTrain, nTest int) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	for split, sname := range []string{"train", "test"} {
		n := nTrain
		if split == 1 {
			n = nTest
		}
		for c, cname := range classes {
			for k := range n {
				img := image.NewRGBA(image.Rect(0, 0, 4, 3))
				for y := range 3 {
					for x := range 4 {
						r, g, b := fixturePixel(split, c, k, x, y)
						img.Set(x, y, color.RGBA{r, g, b, 255})
					}
				}
				var buf bytes.Buffer
				if err := png.Encode(&buf, img); err != nil {
					t.Fatal(err)
				}
				files[sname+"/"+cname+"/"+string(rune('a'+k))+".png"] = buf.Bytes()
			}
		}
	}
	return files
}

func writeTree(t testing.TB, root string, files map[string][]byte) {
	t.Helper()
	for rel, data := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func writeTarGz(t testing.TB, path, prefix string, files map[string][]byte) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	// Reverse-sorted order: the loader must not depend on archive order.
	keys := sortedKeys(files)
	for i := len(keys) - 1; i >= 0; i-- {
		data := files[keys[i]]
		if err := tw.WriteHeader(&tar.Header{Name: prefix + keys[i], Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(data)
	}
	tw.WriteHeader(&tar.Header{Name: prefix + "README.txt", Mode: 0o644, Size: 2, Typeflag: tar.TypeReg})
	tw.Write([]byte("hi"))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkFixture verifies a split decoded from fixtureFiles.
func checkFixture(t *testing.T, s *Split, split, classes, n int) {
	t.Helper()
	if s.N != classes*n || s.Shape != (nn.Shape{H: 3, W: 4, C: 3}) {
		t.Fatalf("split %d: N=%d shape %v, want %d of 3×4×3", split, s.N, s.Shape, classes*n)
	}
	for i := range s.N {
		c, k := i/n, i%n
		if s.Labels[i] != int32(c) {
			t.Fatalf("split %d example %d: label %d, want %d", split, i, s.Labels[i], c)
		}
		img := s.Image(i)
		for y := range 3 {
			for x := range 4 {
				r, g, b := fixturePixel(split, c, k, x, y)
				o := (y*4 + x) * 3
				if img[o] != r || img[o+1] != g || img[o+2] != b {
					t.Fatalf("split %d example %d pixel (%d,%d) = %v, want %v", split, i, x, y, img[o:o+3], []uint8{r, g, b})
				}
			}
		}
	}
}

func TestImageFolderDirAndArchive(t *testing.T) {
	classes := []string{"ant", "bee", "cat"} // already sorted
	files := fixtureFiles(t, classes, 4, 2)
	dir := filepath.Join(t.TempDir(), "tree")
	writeTree(t, dir, files)
	tmp := t.TempDir()
	tgz := filepath.Join(tmp, "tree.tar.gz")
	writeTarGz(t, tgz, "./data/", files)
	for _, src := range []string{dir, tgz} {
		ds, err := Load(t.Context(), "imagefolder", Options{Source: src, NoCache: true, Workers: 3})
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if ds.Classes != 3 || strings.Join(ds.ClassNames, ",") != "ant,bee,cat" {
			t.Fatalf("%s: classes %d %v", src, ds.Classes, ds.ClassNames)
		}
		checkFixture(t, ds.Train, 0, 3, 4)
		checkFixture(t, ds.Test, 1, 3, 2)
		if ds.Norm.Mean[2] != 0 || ds.Norm.Std[2] != 1 {
			t.Errorf("imagefolder normalisation %v, want none", ds.Norm)
		}
		sub, err := Load(t.Context(), "imagefolder", Options{Source: src, NoCache: true, TrainSubset: 7, TestSubset: 3})
		if err != nil {
			t.Fatal(err)
		}
		// 7 over 3 classes: 3, 2, 2 — the first images of each class.
		wantLab := []int32{0, 0, 0, 1, 1, 2, 2}
		wantFirst := []uint8{0, 1, 2, 10, 11, 20, 21} // red = 10·class + k
		for i := range wantLab {
			if sub.Train.Labels[i] != wantLab[i] || sub.Train.Image(i)[0] != wantFirst[i] {
				t.Fatalf("subset example %d: label %d red %d, want %d %d", i, sub.Train.Labels[i], sub.Train.Image(i)[0], wantLab[i], wantFirst[i])
			}
		}
		if sub.Test.N != 3 || sub.Test.Labels[2] != 2 {
			t.Fatalf("test subset %v", sub.Test.Labels)
		}
	}
}

func TestImageFolderAsNamedDataset(t *testing.T) {
	// Folders named after CIFAR-10 classes take CIFAR-10's labels.
	files := map[string][]byte{}
	for rel, data := range fixtureFiles(t, []string{"cat", "truck"}, 2, 1) {
		files[rel] = data
	}
	dir := t.TempDir()
	writeTree(t, dir, files)
	_, err := Load(t.Context(), "cifar10", Options{Source: dir, NoCache: true})
	if err == nil || !strings.Contains(err.Error(), "cifar10 needs 32×32×3") {
		t.Fatalf("4×3 images as cifar10: err = %v", err)
	}
	info, _ := Lookup("cifar10")
	info.Shape = nn.Shape{H: 3, W: 4, C: 3}
	ds, err := loadImageFolderDataset(t.Context(), "cifar10", &info, Options{Source: dir, NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Classes != 10 || ds.ClassNames[3] != "cat" || ds.Norm.Std[0] != 0.2023 || !ds.DropLastTrain || !ds.Augmentable {
		t.Fatalf("dataset %+v", ds)
	}
	want := []int32{3, 3, 9, 9}
	for i, y := range ds.Train.Labels {
		if y != want[i] {
			t.Fatalf("labels %v, want %v", ds.Train.Labels, want)
		}
	}
	// Folders that match no class names and not the class count: error.
	bad := t.TempDir()
	writeTree(t, bad, fixtureFiles(t, []string{"x", "y"}, 1, 1))
	if _, err := loadImageFolderDataset(t.Context(), "cifar10", &info, Options{Source: bad, NoCache: true}); err == nil || !strings.Contains(err.Error(), "class folders") {
		t.Fatalf("unknown folders: err = %v", err)
	}
}

func TestImageFolderConversions(t *testing.T) {
	enc := func(img image.Image) []byte {
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	gray := image.NewGray(image.Rect(0, 0, 2, 1))
	gray.Pix[0], gray.Pix[1] = 17, 240
	nrgba := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	copy(nrgba.Pix, []uint8{10, 20, 30, 0, 200, 100, 50, 128}) // alpha dropped, not composited
	pal := image.NewPaletted(image.Rect(0, 0, 2, 1), color.Palette{color.RGBA{1, 2, 3, 255}, color.RGBA{250, 128, 0, 255}})
	pal.Pix[0], pal.Pix[1] = 1, 0
	solid := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := 0; i < len(solid.Pix); i += 4 {
		copy(solid.Pix[i:], []uint8{200, 60, 30, 255})
	}
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, solid, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		data     []byte
		channels int
		want     []uint8
		tol      int
	}{
		{"gray→rgb", enc(gray), 3, []uint8{17, 17, 17, 240, 240, 240}, 0},
		{"gray→gray", enc(gray), 1, []uint8{17, 240}, 0},
		{"nrgba", enc(nrgba), 3, []uint8{10, 20, 30, 200, 100, 50}, 0},
		{"paletted", enc(pal), 3, []uint8{250, 128, 0, 1, 2, 3}, 0},
		// L = 0.299·250 + 0.587·128 + 0.114·0 = 149.886 → 150; (1,2,3) → 1.815 → 2.
		{"paletted→L", enc(pal), 1, []uint8{150, 2}, 0},
		{"jpeg solid", jb.Bytes(), 3, repeat([]uint8{200, 60, 30}, 256), 3},
	}
	for _, tc := range tests {
		got, _, _, err := decodeImage(tc.data, tc.channels)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(got) != len(tc.want) {
			t.Fatalf("%s: %d values, want %d", tc.name, len(got), len(tc.want))
		}
		for i := range got {
			if d := int(got[i]) - int(tc.want[i]); d > tc.tol || d < -tc.tol {
				t.Fatalf("%s: value %d = %d, want %d±%d", tc.name, i, got[i], tc.want[i], tc.tol)
			}
		}
	}
	if _, _, _, err := decodeImage([]byte("not an image"), 3); err == nil {
		t.Error("garbage decoded without error")
	}
}

func repeat(v []uint8, n int) []uint8 {
	var out []uint8
	for range n {
		out = append(out, v...)
	}
	return out
}

func TestImageFolderErrors(t *testing.T) {
	base := fixtureFiles(t, []string{"a", "b"}, 2, 1)
	big := image.NewRGBA(image.Rect(0, 0, 5, 3))
	var bigPNG bytes.Buffer
	png.Encode(&bigPNG, big)
	tests := []struct {
		name    string
		edit    func(map[string][]byte)
		wantErr string
	}{
		{"size mismatch", func(f map[string][]byte) { f["train/b/b.png"] = bigPNG.Bytes() }, "train/b/b.png is 5×3"},
		{"corrupt image", func(f map[string][]byte) { f["test/a/a.png"] = []byte("garbage") }, "decoding"},
		{"test-only class", func(f map[string][]byte) { f["test/zz/a.png"] = f["test/a/a.png"] }, `test class folder "zz"`},
		{"no test", func(f map[string][]byte) { delete(f, "test/a/a.png"); delete(f, "test/b/a.png") }, "no test images"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string][]byte{}
			for k, v := range base {
				files[k] = v
			}
			tc.edit(files)
			dir := t.TempDir()
			writeTree(t, dir, files)
			tgz := filepath.Join(t.TempDir(), "x.tar.gz")
			writeTarGz(t, tgz, "", files)
			for _, src := range []string{dir, tgz} {
				_, err := Load(t.Context(), "imagefolder", Options{Source: src, NoCache: true})
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("%s: err = %v, want one containing %q", src, err, tc.wantErr)
				}
			}
		})
	}
	// Mixed prefixes in one archive.
	files := map[string][]byte{"x/train/a/a.png": base["train/a/a.png"], "y/test/a/a.png": base["test/a/a.png"]}
	tgz := filepath.Join(t.TempDir(), "mixed.tar.gz")
	writeTarGz(t, tgz, "", files)
	if _, err := Load(t.Context(), "imagefolder", Options{Source: tgz, NoCache: true}); err == nil || !strings.Contains(err.Error(), "lies under") {
		t.Fatalf("mixed prefixes: err = %v", err)
	}
	if _, err := Load(t.Context(), "imagefolder", Options{}); err == nil || !strings.Contains(err.Error(), "Source") {
		t.Fatalf("imagefolder without source: err = %v", err)
	}
}

func TestDecodedCache(t *testing.T) {
	files := fixtureFiles(t, []string{"a", "b"}, 3, 2)
	dir := t.TempDir()
	tgz := filepath.Join(dir, "src.tar.gz")
	writeTarGz(t, tgz, "", files)
	cache := filepath.Join(t.TempDir(), "cache")
	opts := Options{Source: tgz, CacheDir: cache}
	ds1, err := Load(t.Context(), "imagefolder", opts)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := filepath.Glob(filepath.Join(cache, "*.bsd"))
	if len(entries) != 1 {
		t.Fatalf("cache files %v, want one", entries)
	}
	// Replace the source's content but keep size and mtime: the cache must
	// be used (proves the second load does not decode).
	st, _ := os.Stat(tgz)
	raw, _ := os.ReadFile(tgz)
	os.WriteFile(tgz, make([]byte, len(raw)), 0o644)
	os.Chtimes(tgz, st.ModTime(), st.ModTime())
	ds2, err := Load(t.Context(), "imagefolder", opts)
	if err != nil {
		t.Fatalf("cached load: %v", err)
	}
	if !bytes.Equal(ds1.Train.Images, ds2.Train.Images) || !bytes.Equal(ds1.Test.Images, ds2.Test.Images) ||
		strings.Join(ds2.ClassNames, ",") != "a,b" || ds2.Test.Labels[3] != 1 {
		t.Fatal("cached dataset differs")
	}
	// A new mtime invalidates the entry: the zeroed archive now fails.
	os.Chtimes(tgz, st.ModTime().Add(time.Second), st.ModTime().Add(time.Second))
	if _, err := Load(t.Context(), "imagefolder", opts); err == nil {
		t.Fatal("changed source still served from the cache")
	}
	// Restore the archive; damage the cache file: it is rebuilt.
	os.WriteFile(tgz, raw, 0o644)
	if _, err := Load(t.Context(), "imagefolder", opts); err != nil {
		t.Fatal(err)
	}
	entries, _ = filepath.Glob(filepath.Join(cache, "*.bsd"))
	for _, e := range entries {
		b, _ := os.ReadFile(e)
		b[len(b)/2] ^= 0xff
		os.WriteFile(e, b, 0o644)
		if _, err := readCache(e, ""); err == nil || !strings.Contains(err.Error(), "checksum") {
			t.Fatalf("damaged cache: err = %v", err)
		}
	}
	ds3, err := Load(t.Context(), "imagefolder", opts)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ds1.Train.Images, ds3.Train.Images) {
		t.Fatal("rebuilt dataset differs")
	}
	if _, err := readCache(filepath.Join(cache, "absent.bsd"), ""); !errors.Is(err, errCacheMiss) {
		t.Fatalf("absent cache: err = %v", err)
	}
}
