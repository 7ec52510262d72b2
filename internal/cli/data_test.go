package cli

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/bsam-dev/bsam/pkg/datasets/fetch"
)

// runData runs `bsam data args...` and returns stdout, stderr and the exit
// code. With o == nil it goes through NewRootCmd and the built-in catalog;
// otherwise through a root holding newDataCmdWith(o).
func runData(t *testing.T, o *dataOptions, args ...string) (string, string, int) {
	t.Helper()
	var root *cobra.Command
	if o == nil {
		root = NewRootCmd()
	} else {
		root = &cobra.Command{Use: "bsam", SilenceUsage: true, SilenceErrors: true}
		root.AddCommand(newDataCmdWith(o))
	}
	var stdout, stderr bytes.Buffer
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.SetArgs(append([]string{"data"}, args...))
	err := root.Execute()
	if err != nil {
		stderr.WriteString("error: " + err.Error() + "\n")
	}
	return stdout.String(), stderr.String(), ExitCode(err)
}

func md5Of(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// cifar10Archive writes a cifar-10-binary.tar.gz with the canonical member
// names and a few 3073-byte records per batch.
func cifar10Archive(t *testing.T) (archive []byte, members map[string][]byte) {
	t.Helper()
	members = map[string][]byte{}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "cifar-10-batches-bin/", Mode: 0o755})
	names := []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin", "batches.meta.txt"}
	for i, n := range names {
		data := make([]byte, 2*3073)
		for j := range data {
			data[j] = byte(i*31 + j*7)
		}
		if n == "batches.meta.txt" {
			data = []byte("airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n")
		}
		members["cifar-10-batches-bin/"+n] = data
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "cifar-10-batches-bin/" + n, Mode: 0o644, Size: int64(len(data))})
		tw.Write(data)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), members
}

// fixtureOptions serves archive at the canonical CIFAR-10 path on a local
// server and returns data options whose catalog carries its checksum.
func fixtureOptions(t *testing.T, archive []byte) (*dataOptions, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/~kriz/cifar-10-binary.tar.gz" {
			http.NotFound(w, r)
			return
		}
		hits.Add(1)
		http.ServeContent(w, r, "cifar-10-binary.tar.gz", time.Time{}, bytes.NewReader(archive))
	}))
	t.Cleanup(srv.Close)
	e, err := fetch.Lookup("cifar10")
	if err != nil {
		t.Fatal(err)
	}
	e.Files[0].MD5, e.Files[0].Size = md5Of(archive), int64(len(archive))
	return &dataOptions{catalog: []fetch.Entry{e}, baseURL: srv.URL}, &hits
}

// TestDataCmdImportCorrupted: the built-in catalog rejects a non-canonical
// archive with exit status 1, naming the mismatch, and leaves the cache empty.
func TestDataCmdImportCorrupted(t *testing.T) {
	archive, _ := cifar10Archive(t)
	src := filepath.Join(t.TempDir(), "cifar-10-binary.tar.gz")
	if err := os.WriteFile(src, archive, 0o644); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(t.TempDir(), "data")
	stdout, stderr, code := runData(t, nil, "import", "cifar10", src, "--data-dir", cache)
	if code != ExitRuntime {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitRuntime, stderr)
	}
	want := fmt.Sprintf("md5 mismatch for cifar-10-binary.tar.gz (from %s): got %s, want c32a1d4ab5d03f1284b67883e8d87530", src, md5Of(archive))
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want nothing", stdout)
	}
	if ents, err := os.ReadDir(cache); err == nil && len(ents) > 0 {
		t.Errorf("cache not empty: %v", ents)
	}
}

func TestDataCmdUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"download", "imagenet"}, `unknown dataset "imagenet"`},
		{[]string{"download"}, "requires at least 1 arg"},
		{[]string{"path"}, "accepts 1 arg"},
		{[]string{"path", "svhn"}, `unknown dataset "svhn"`},
		{[]string{"verify", "cifar10", "nope"}, `unknown dataset "nope"`},
		{[]string{"import", "cifar10"}, "accepts 2 arg"},
		{[]string{"import", "cifar1000", "x.tar.gz"}, `unknown dataset "cifar1000"`},
		{[]string{"list", "--bogus"}, "unknown flag"},
		{[]string{"list", "extra"}, "unknown command"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, stderr, code := runData(t, nil, append(tc.args, "--data-dir", dir)...)
			if code != ExitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want %d; stderr %q lacks %q", code, ExitUsage, stderr, tc.want)
			}
		})
	}
	if ents, _ := os.ReadDir(dir); len(ents) > 0 {
		t.Errorf("usage errors wrote into the data directory: %v", ents)
	}
}

// TestDataCmdLifecycle: download, path, list, verify, damage, verify again.
func TestDataCmdLifecycle(t *testing.T) {
	archive, members := cifar10Archive(t)
	o, hits := fixtureOptions(t, archive)
	cache := filepath.Join(t.TempDir(), "data")
	dirFlag := []string{"--data-dir", cache}
	wantDir := filepath.Join(cache, "cifar10")

	if _, stderr, code := runData(t, o, append([]string{"path", "cifar10"}, dirFlag...)...); code != ExitRuntime || !strings.Contains(stderr, "bsam data download cifar10") {
		t.Fatalf("path before download: exit %d, stderr %q", code, stderr)
	}
	stdout, stderr, code := runData(t, o, append([]string{"download", "cifar10"}, dirFlag...)...)
	if code != 0 || stdout != "cifar10\t"+wantDir+"\n" {
		t.Fatalf("download: exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
	for name, data := range members {
		got, err := os.ReadFile(filepath.Join(wantDir, name))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s differs from the archive member (%v)", name, err)
		}
	}
	if _, _, code := runData(t, o, append([]string{"download", "all"}, dirFlag...)...); code != 0 || hits.Load() != 1 {
		t.Errorf("second download: exit %d, %d requests, want 0 and 1", code, hits.Load())
	}
	if stdout, _, code := runData(t, o, append([]string{"path", "cifar10"}, dirFlag...)...); code != 0 || stdout != wantDir+"\n" {
		t.Errorf("path: exit %d, stdout %q", code, stdout)
	}

	stdout, _, code = runData(t, o, append([]string{"list", "--json"}, dirFlag...)...)
	var list []map[string]any
	if err := json.Unmarshal([]byte(stdout), &list); err != nil || code != 0 || len(list) != 1 {
		t.Fatalf("list --json: exit %d, %v, %q", code, err, stdout)
	}
	var total int
	for _, d := range members {
		total += len(d)
	}
	if l := list[0]; l["name"] != "cifar10" || l["cached"] != true || l["path"] != wantDir ||
		l["bytes"] != float64(total) || l["files"] != float64(len(members)) {
		t.Errorf("list --json entry = %v, want %d bytes in %d files", l, total, len(members))
	}
	stdout, _, _ = runData(t, o, append([]string{"list"}, dirFlag...)...)
	if !strings.Contains(stdout, "NAME") || !regexpLine(stdout, "cifar10", "yes", wantDir) {
		t.Errorf("list:\n%s", stdout)
	}

	if stdout, _, code := runData(t, o, append([]string{"verify"}, dirFlag...)...); code != 0 || !strings.HasPrefix(stdout, "cifar10\tok\t7 files\t") {
		t.Errorf("verify: exit %d, stdout %q", code, stdout)
	}
	p := filepath.Join(wantDir, "cifar-10-batches-bin", "test_batch.bin")
	b, _ := os.ReadFile(p)
	b[100] ^= 0xff
	os.WriteFile(p, b, 0o644)
	stdout, stderr, code = runData(t, o, append([]string{"verify", "cifar10"}, dirFlag...)...)
	if code != ExitRuntime || stdout != "cifar10\tFAILED\n" || !strings.Contains(stderr, "sha256 mismatch for "+p) {
		t.Errorf("verify after damage: exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
}

// regexpLine reports whether some line of s holds all fields, in order.
func regexpLine(s string, fields ...string) bool {
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) >= len(fields) && f[0] == fields[0] && f[1] == fields[1] && f[len(f)-1] == fields[len(fields)-1] {
			return true
		}
	}
	return false
}

// TestDataCmdDataDirPrecedence: --data-dir over BSAM_DATA_DIR over the default.
func TestDataCmdDataDirPrecedence(t *testing.T) {
	env, flag := t.TempDir(), t.TempDir()
	t.Setenv(fetch.EnvDataDir, env)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"list"}, filepath.Join(env, "mnist")},
		{[]string{"list", "--data-dir", flag}, filepath.Join(flag, "mnist")},
	}
	for _, tc := range tests {
		stdout, stderr, code := runData(t, nil, tc.args...)
		if code != 0 || !strings.Contains(stdout, tc.want) {
			t.Errorf("%v: exit %d, stdout %q lacks %q (stderr %q)", tc.args, code, stdout, tc.want, stderr)
		}
	}
}

// TestDataCmdOffline: offline MNIST from the Go module, and a clear error for
// a dataset without local copy.
func TestDataCmdOffline(t *testing.T) {
	cache := t.TempDir()
	_, stderr, code := runData(t, nil, "download", "cifar100", "--offline", "--data-dir", cache)
	if code != ExitRuntime || !strings.Contains(stderr, "bsam data import cifar100") {
		t.Errorf("offline cifar100: exit %d, stderr %q", code, stderr)
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not on PATH: cannot locate the GoMNIST module")
	}
	stdout, stderr, code := runData(t, nil, "download", "mnist", "--offline", "--data-dir", cache)
	if code != 0 {
		if strings.Contains(stderr, "not in the cache") {
			t.Skipf("GoMNIST module not in the local module cache: %s", stderr)
		}
		t.Fatalf("offline mnist: exit %d, stderr:\n%s", code, stderr)
	}
	dir := filepath.Join(cache, "mnist")
	if stdout != "mnist\t"+dir+"\n" {
		t.Errorf("stdout %q", stdout)
	}
	// Canonical MD5 of the training labels (SPEC §9).
	b, err := os.ReadFile(filepath.Join(dir, "train-labels-idx1-ubyte.gz"))
	if err != nil || md5Of(b) != "d53e105ee54ea40749a09fcbcd1e9432" {
		t.Errorf("train labels md5 %s (%v)", md5Of(b), err)
	}
	if stdout, _, code := runData(t, nil, "verify", "mnist", "--data-dir", cache); code != 0 || !strings.HasPrefix(stdout, "mnist\tok\t4 files") {
		t.Errorf("verify mnist: exit %d, stdout %q", code, stdout)
	}
}

func TestHumanBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"},
		{170052171, "162.2 MiB"}, {1 << 30, "1.0 GiB"},
	}
	for _, tc := range tests {
		if got := humanBytes(tc.n); got != tc.want {
			t.Errorf("humanBytes(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}
