package fetch

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestImportCorruptedArchive uses the real catalog: a fixture archive is not
// the canonical one, so the import must fail on the MD5 and write nothing.
func TestImportCorruptedArchive(t *testing.T) {
	tests := []struct {
		name, file, want string
		data             func(*testing.T) []byte
	}{
		{"cifar10", "cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530", func(t *testing.T) []byte { return tarGz(t, cifar10Members()) }},
		{"cifar100", "cifar-100-binary.tar.gz", "03b5dce01913d631647c71ecec9e9cb8", func(t *testing.T) []byte { return tarGz(t, cifar100Members()) }},
		{"tinyimagenet", "tiny-imagenet-200.zip", "90528d7ca1a48142e341f4ef8d21d0de", func(t *testing.T) []byte { return zipOf(t, tinyImageNetMembers(t)) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.data(t)
			src := writeFile(t, t.TempDir(), tc.file, data)
			cache := filepath.Join(t.TempDir(), "cache")
			_, err := Import(context.Background(), tc.name, src, Options{CacheDir: cache})
			var ce *ChecksumError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *ChecksumError", err)
			}
			if ce.Got != md5Hex(data) || ce.Want != tc.want || ce.Source != src {
				t.Errorf("ChecksumError = %+v, want got %s want %s source %s", ce, md5Hex(data), tc.want, src)
			}
			if !strings.Contains(err.Error(), "md5 mismatch for "+tc.file) {
				t.Errorf("message %q does not name the mismatch", err)
			}
			if ents, err := os.ReadDir(cache); err == nil && len(ents) > 0 {
				t.Errorf("cache not empty after a failed import: %v", ents)
			}
		})
	}
}

// TestImportFixtures imports archives and directories whose checksums the
// test injected, and checks the layout.
func TestImportFixtures(t *testing.T) {
	tests := []struct {
		name string
		fx   func(*testing.T) fixture
	}{
		{"cifar10", cifar10Fixture},
		{"cifar100", cifar100Fixture},
		{"tinyimagenet", tinyFixture},
		{"mnist", func(t *testing.T) fixture { return mnistFixture(t, "mnist") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fx := tc.fx(t)
			src := t.TempDir()
			for _, f := range fx.entry.Files {
				for p, data := range fx.served {
					if filepath.Base(p) == f.Name {
						writeFile(t, src, f.Name, data)
					}
				}
			}
			arg := src
			if fx.entry.Format != "" {
				arg = filepath.Join(src, fx.entry.Files[0].Name)
			}
			opts := testOptions(t, nil, fx.entry)
			dir, err := Import(context.Background(), tc.name, arg, opts)
			if err != nil {
				t.Fatal(err)
			}
			checkInstalled(t, opts, fx, dir)
			if _, err := Verify(context.Background(), tc.name, opts); err != nil {
				t.Fatal(err)
			}
			// The source is left untouched.
			for _, f := range fx.entry.Files {
				if _, err := os.Stat(filepath.Join(src, f.Name)); err != nil {
					t.Errorf("import consumed its source: %v", err)
				}
			}
			// Importing again replaces the copy cleanly.
			if _, err := Import(context.Background(), tc.name, arg, opts); err != nil {
				t.Fatal(err)
			}
			checkInstalled(t, opts, fx, dir)
		})
	}
}

func TestImportMNISTNeedsDirectory(t *testing.T) {
	fx := mnistFixture(t, "mnist")
	p := writeFile(t, t.TempDir(), fx.members[0].name, fx.members[0].data)
	opts := testOptions(t, nil, fx.entry)
	_, err := Import(context.Background(), "mnist", p, opts)
	if err == nil || !strings.Contains(err.Error(), "pass the directory") {
		t.Fatalf("err = %v", err)
	}
	// A directory with one corrupt file: nothing is installed.
	dir := t.TempDir()
	for i, m := range fx.members {
		d := m.data
		if i == 3 {
			d = d[:len(d)-1]
		}
		writeFile(t, dir, m.name, d)
	}
	_, err = Import(context.Background(), "mnist", dir, opts)
	if err == nil || !strings.Contains(err.Error(), "md5 mismatch for t10k-labels-idx1-ubyte.gz") {
		t.Fatalf("err = %v", err)
	}
	checkNotInstalled(t, opts.CacheDir, "mnist")
}

// evilTarGz builds a tar.gz with one hostile entry after a valid one.
func evilTarGz(t *testing.T, hdr *tar.Header, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	ok := []byte("fine")
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "cifar-10-batches-bin/ok.txt", Mode: 0o644, Size: int64(len(ok))})
	tw.Write(ok)
	if err := tw.WriteHeader(hdr); err != nil {
		t.Fatal(err)
	}
	tw.Write(data)
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func evilZip(t *testing.T, fh *zip.FileHeader, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("tiny-imagenet-200/ok.txt")
	w.Write([]byte("fine"))
	w, err := zw.CreateHeader(fh)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	zw.Close()
	return buf.Bytes()
}

// TestImportRefusesHostileArchives: traversal, absolute paths, links and
// devices are refused, nothing is written outside, nothing is installed.
func TestImportRefusesHostileArchives(t *testing.T) {
	x := []byte("pwned")
	symlink := &zip.FileHeader{Name: "tiny-imagenet-200/link"}
	symlink.SetMode(os.ModeSymlink | 0o777)
	tests := []struct {
		name, format, want string
		archive            func(t *testing.T) []byte
	}{
		{"tar dotdot", "tar.gz", "escapes", func(t *testing.T) []byte {
			return evilTarGz(t, &tar.Header{Typeflag: tar.TypeReg, Name: "../../evil.txt", Mode: 0o644, Size: int64(len(x))}, x)
		}},
		{"tar nested dotdot", "tar.gz", "escapes", func(t *testing.T) []byte {
			return evilTarGz(t, &tar.Header{Typeflag: tar.TypeReg, Name: "cifar-10-batches-bin/../../evil.txt", Mode: 0o644, Size: int64(len(x))}, x)
		}},
		{"tar absolute", "tar.gz", "absolute", func(t *testing.T) []byte {
			return evilTarGz(t, &tar.Header{Typeflag: tar.TypeReg, Name: "/tmp/evil.txt", Mode: 0o644, Size: int64(len(x))}, x)
		}},
		{"tar symlink", "tar.gz", "refusing entry", func(t *testing.T) []byte {
			return evilTarGz(t, &tar.Header{Typeflag: tar.TypeSymlink, Name: "cifar-10-batches-bin/link", Linkname: "/etc/passwd"}, nil)
		}},
		{"tar hardlink", "tar.gz", "refusing entry", func(t *testing.T) []byte {
			return evilTarGz(t, &tar.Header{Typeflag: tar.TypeLink, Name: "cifar-10-batches-bin/hl", Linkname: "../evil"}, nil)
		}},
		{"tar marker collision", "tar.gz", "collides", func(t *testing.T) []byte {
			return evilTarGz(t, &tar.Header{Typeflag: tar.TypeReg, Name: ".complete", Mode: 0o644, Size: int64(len(x))}, x)
		}},
		{"zip dotdot", "zip", "escapes", func(t *testing.T) []byte {
			return evilZip(t, &zip.FileHeader{Name: "../evil.txt"}, x)
		}},
		{"zip backslash", "zip", "unsafe character", func(t *testing.T) []byte {
			return evilZip(t, &zip.FileHeader{Name: "..\\evil.txt"}, x)
		}},
		{"zip symlink", "zip", "refusing zip entry", func(t *testing.T) []byte {
			return evilZip(t, symlink, []byte("/etc/passwd"))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.archive(t)
			root := t.TempDir()
			src := writeFile(t, root, "archive", data)
			e := Entry{Name: "evil", Format: tc.format, Files: []File{{Name: "archive", MD5: md5Hex(data)}}}
			opts := Options{CacheDir: filepath.Join(root, "a", "b", "cache"), Catalog: []Entry{e}}
			_, err := Import(context.Background(), "evil", src, opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			checkNotInstalled(t, opts.CacheDir, "evil")
			for _, p := range []string{filepath.Join(root, "evil.txt"), filepath.Join(root, "a", "evil.txt"), filepath.Join(root, "a", "b", "evil.txt")} {
				if _, err := os.Stat(p); err == nil {
					t.Errorf("%s written outside the cache", p)
				}
			}
		})
	}
}

// TestVerifyDetectsCorruption: after install, damage is reported with the
// file name and both checksums.
func TestVerifyDetectsCorruption(t *testing.T) {
	tests := []struct {
		name   string
		fx     func(*testing.T) fixture
		damage string // file to flip a byte in, relative to the dataset dir
		want   string
	}{
		{"cifar10", cifar10Fixture, "cifar-10-batches-bin/data_batch_3.bin", "sha256 mismatch for"},
		{"mnist", func(t *testing.T) fixture { return mnistFixture(t, "mnist") }, "train-labels-idx1-ubyte.gz", "md5 mismatch for"},
		{"tinyimagenet", tinyFixture, "tiny-imagenet-200/val/val_annotations.txt", "sha256 mismatch for"},
		{"manifest", cifar10Fixture, manifestName, "sha256 mismatch for"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fx := tc.fx(t)
			opts := testOptions(t, newServer(t, fx.served), fx.entry)
			dir, err := Ensure(context.Background(), fx.entry.Name, opts)
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, filepath.FromSlash(tc.damage))
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 0x01
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err = Verify(context.Background(), fx.entry.Name, opts)
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want *VerifyError", err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), filepath.Base(tc.damage)) {
				t.Errorf("error %q lacks %q and the file name", err, tc.want)
			}
		})
	}
	// Verify on a dataset that is not cached.
	_, err := Verify(context.Background(), "cifar10", Options{CacheDir: t.TempDir()})
	var nc *NotCachedError
	if !errors.As(err, &nc) {
		t.Fatalf("err = %v, want *NotCachedError", err)
	}
}
