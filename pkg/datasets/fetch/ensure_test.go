package fetch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestEnsureFixtures downloads each dataset format from a local server and
// checks the canonical layout of the result.
func TestEnsureFixtures(t *testing.T) {
	tests := []struct {
		name string
		fx   func(*testing.T) fixture
	}{
		{"mnist", func(t *testing.T) fixture { return mnistFixture(t, "mnist") }},
		{"fmnist", func(t *testing.T) fixture { return mnistFixture(t, "fmnist") }},
		{"cifar10", cifar10Fixture},
		{"cifar100", cifar100Fixture},
		{"tinyimagenet", tinyFixture},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fx := tc.fx(t)
			srv := newServer(t, fx.served)
			opts := testOptions(t, srv, fx.entry)
			dir, err := Ensure(context.Background(), tc.name, opts)
			if err != nil {
				t.Fatal(err)
			}
			checkInstalled(t, opts, fx, dir)
			rep, err := Verify(context.Background(), tc.name, opts)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if rep.Files != len(fx.members) {
				t.Errorf("Verify hashed %d files, want %d", rep.Files, len(fx.members))
			}
			// A second Ensure uses the cache and makes no request.
			before := len(srv.requests())
			if _, err := Ensure(context.Background(), tc.name, opts); err != nil {
				t.Fatal(err)
			}
			if n := len(srv.requests()) - before; n != 0 {
				t.Errorf("cached Ensure made %d requests", n)
			}
			st, err := StatusOf(tc.name, opts)
			if err != nil || !st.Cached || st.Files != len(fx.members) || st.Dir != dir {
				t.Errorf("StatusOf = %+v, %v", st, err)
			}
		})
	}
}

// TestEnsureFaults injects transfer faults; each case must end in a verified
// dataset or a clear error, never in a corrupt cache.
func TestEnsureFaults(t *testing.T) {
	tests := []struct {
		name      string
		faults    []fault
		retries   int
		wantErr   string // "" means success
		wantRange bool   // a resumed (206) request must have happened
	}{
		{name: "clean", faults: nil},
		{name: "500 then success", faults: []fault{status500, status500}},
		{name: "truncated body resumes", faults: []fault{truncate}, wantRange: true},
		{name: "connection cut resumes", faults: []fault{cut, cut}, wantRange: true},
		{name: "server ignores range", faults: []fault{cut, ignoreRange}},
		{name: "short body with matching length resumes", faults: []fault{short}, wantRange: true},
		{name: "flipped byte once", faults: []fault{flip}},
		{name: "gz labelled Content-Encoding gzip", faults: []fault{labelGzip, labelGzip, labelGzip}},
		{name: "flipped byte always", faults: []fault{flip, flip, flip, flip}, wantErr: "md5 mismatch for cifar-10-binary.tar.gz"},
		{name: "500 forever", faults: []fault{status500, status500, status500}, retries: 2, wantErr: "HTTP 500"},
		{name: "cut forever", faults: []fault{cut, cut, cut}, retries: 2, wantErr: "transfer cut"},
		{name: "not found", faults: []fault{notFound}, wantErr: "HTTP 404"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fx := cifar10Fixture(t)
			srv := newServer(t, fx.served)
			srv.faults("/data/cifar-10-binary.tar.gz", tc.faults...)
			opts := testOptions(t, srv, fx.entry)
			if tc.retries != 0 {
				opts.Retries = tc.retries
			}
			dir, err := Ensure(context.Background(), "cifar10", opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				checkNotInstalled(t, opts.CacheDir, "cifar10")
				if st, _ := StatusOf("cifar10", opts); st.Cached {
					t.Error("dataset reported cached after a failure")
				}
				return
			}
			if err != nil {
				t.Fatalf("Ensure: %v (requests %+v)", err, srv.requests())
			}
			checkInstalled(t, opts, fx, dir)
			resumed := false
			for _, r := range srv.requests() {
				resumed = resumed || (r.status == 206 && r.rng != "" && r.rng != "bytes=0-")
			}
			if tc.wantRange && !resumed {
				t.Errorf("no resumed Range request: %+v", srv.requests())
			}
		})
	}
}

// TestEnsureChecksumErrorNamesGotWant checks the content of the error.
func TestEnsureChecksumErrorNamesGotWant(t *testing.T) {
	fx := cifar100Fixture(t)
	srv := newServer(t, fx.served)
	srv.faults("/data/cifar-100-binary.tar.gz", flip, flip)
	opts := testOptions(t, srv, fx.entry)
	_, err := Ensure(context.Background(), "cifar100", opts)
	var ce *ChecksumError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a *ChecksumError", err)
	}
	corrupt := append([]byte(nil), fx.served["/data/cifar-100-binary.tar.gz"]...)
	corrupt[len(corrupt)/2] ^= 0x40
	if ce.Want != fx.entry.Files[0].MD5 || ce.Got != md5Hex(corrupt) || ce.File != "cifar-100-binary.tar.gz" {
		t.Errorf("ChecksumError = %+v, want got %s want %s", ce, md5Hex(corrupt), fx.entry.Files[0].MD5)
	}
	if !strings.Contains(ce.Source, srv.URL) {
		t.Errorf("error source %q does not name the URL", ce.Source)
	}
	checkNotInstalled(t, opts.CacheDir, "cifar100")
	if m, _ := filepath.Glob(filepath.Join(opts.CacheDir, ".downloads", "cifar100", "*")); len(m) > 0 {
		t.Errorf("corrupt download kept: %v", m)
	}
}

// TestEnsureMirrorFallback: the first MNIST mirror fails, the second serves.
func TestEnsureMirrorFallback(t *testing.T) {
	fx := mnistFixture(t, "mnist")
	srv := newServer(t, fx.served)
	for _, m := range fx.members {
		srv.faults("/a/"+m.name, notFound)
	}
	srv.faults("/a/"+fx.members[1].name, status500) // after the 404
	opts := testOptions(t, srv, fx.entry)
	dir, err := Ensure(context.Background(), "mnist", opts)
	if err != nil {
		t.Fatal(err)
	}
	checkInstalled(t, opts, fx, dir)
	mk, err := readMarker(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range mk.Inputs {
		if !strings.Contains(in.Source, "/b/") {
			t.Errorf("input %s recorded source %s, want mirror b", in.Name, in.Source)
		}
	}
}

// TestEnsureResumesAcrossRuns: a run interrupted by a stall leaves a .part
// file that the next run resumes with a Range request.
func TestEnsureResumesAcrossRuns(t *testing.T) {
	fx := tinyFixture(t)
	srv := newServer(t, fx.served)
	srv.faults("/data/tiny-imagenet-200.zip", stall)
	opts := testOptions(t, srv, fx.entry)
	opts.Retries = -1
	opts.StallTimeout = 200 * time.Millisecond
	_, err := Ensure(context.Background(), "tinyimagenet", opts)
	if err == nil || !strings.Contains(err.Error(), "no data received") {
		t.Fatalf("err = %v, want a stall error", err)
	}
	checkNotInstalled(t, opts.CacheDir, "tinyimagenet")
	part := filepath.Join(opts.CacheDir, ".downloads", "tinyimagenet", "tiny-imagenet-200.zip.part")
	fi, err := os.Stat(part)
	if err != nil || fi.Size() == 0 {
		t.Fatalf("partial download not kept: %v", err)
	}
	dir, err := Ensure(context.Background(), "tinyimagenet", opts)
	if err != nil {
		t.Fatal(err)
	}
	checkInstalled(t, opts, fx, dir)
	reqs := srv.requests()
	if last := reqs[len(reqs)-1]; last.status != 206 || last.rng == "" {
		t.Errorf("second run did not resume: %+v", last)
	}
}

// TestEnsureCancel: cancelling the context stops a stalled transfer promptly.
func TestEnsureCancel(t *testing.T) {
	fx := cifar10Fixture(t)
	srv := newServer(t, fx.served)
	srv.faults("/data/cifar-10-binary.tar.gz", stall)
	opts := testOptions(t, srv, fx.entry)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Ensure(ctx, "cifar10", opts)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("cancellation took %v", d)
	}
	checkNotInstalled(t, opts.CacheDir, "cifar10")
}

// TestEnsureConcurrent: two concurrent calls install once.
func TestEnsureConcurrent(t *testing.T) {
	fx := cifar10Fixture(t)
	srv := newServer(t, fx.served)
	opts := testOptions(t, srv, fx.entry)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() { _, errs[i] = Ensure(context.Background(), "cifar10", opts) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := len(srv.requests()); n != 1 {
		t.Errorf("archive downloaded %d times, want 1", n)
	}
	checkInstalled(t, opts, fx, filepath.Join(opts.CacheDir, "cifar10"))
}

// TestEnsureRepairsIncomplete: a directory without marker (a crash between
// the rename and the marker) is rebuilt, and unrelated directories are
// never removed.
func TestEnsureRepairsIncomplete(t *testing.T) {
	fx := cifar10Fixture(t)
	srv := newServer(t, fx.served)
	opts := testOptions(t, srv, fx.entry)
	dir := filepath.Join(opts.CacheDir, "cifar10")
	if err := os.MkdirAll(filepath.Join(dir, "cifar-10-batches-bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, manifestName), []byte("junk\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "cifar-10-batches-bin", "data_batch_1.bin"), []byte("half"), 0o644)
	if st, _ := StatusOf("cifar10", opts); st.Cached {
		t.Fatal("incomplete directory reported as cached")
	}
	got, err := Ensure(context.Background(), "cifar10", opts)
	if err != nil {
		t.Fatal(err)
	}
	checkInstalled(t, opts, fx, got)

	// A foreign directory in the way is an error, and is left alone.
	opts2 := testOptions(t, srv, fx.entry)
	foreign := filepath.Join(opts2.CacheDir, "cifar10")
	os.MkdirAll(foreign, 0o755)
	os.WriteFile(filepath.Join(foreign, "thesis.tex"), []byte("precious"), 0o644)
	if _, err := Ensure(context.Background(), "cifar10", opts2); err == nil || !strings.Contains(err.Error(), "not written by bsam") {
		t.Fatalf("err = %v, want a refusal", err)
	}
	if b, err := os.ReadFile(filepath.Join(foreign, "thesis.tex")); err != nil || string(b) != "precious" {
		t.Errorf("foreign file touched: %q, %v", b, err)
	}
}

// TestEnsureMissingRequiredMember: an archive that verifies but lacks a
// required member is not installed.
func TestEnsureMissingRequiredMember(t *testing.T) {
	ms := cifar10Members()[1:] // no data_batch_1.bin
	fx := archiveFixture("cifar10", "tar.gz", "cifar-10-binary.tar.gz", tarGz(t, ms), ms, builtinRequired(t, "cifar10"))
	srv := newServer(t, fx.served)
	opts := testOptions(t, srv, fx.entry)
	_, err := Ensure(context.Background(), "cifar10", opts)
	if err == nil || !strings.Contains(err.Error(), "cifar-10-batches-bin/data_batch_1.bin") {
		t.Fatalf("err = %v, want it to name the missing member", err)
	}
	checkNotInstalled(t, opts.CacheDir, "cifar10")
}

// TestEnsureOfflineWithoutSource: offline and nothing local gives an error
// that says how to get the data.
func TestEnsureOfflineWithoutSource(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{"cifar10", []string{"bsam data import cifar10", "cifar-10-binary.tar.gz"}},
		{"cifar100", []string{"bsam data import cifar100"}},
		{"tinyimagenet", []string{"bsam data import tinyimagenet"}},
		{"fmnist", []string{"dataset-fashion-mnist", "bsam data import fmnist"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Lookup(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			e.LocalDirs = []string{t.TempDir()} // empty: no Debian package here
			srv := newServer(t, nil)
			opts := testOptions(t, srv, e)
			opts.Offline = true
			_, err = Ensure(context.Background(), tc.name, opts)
			var oe *OfflineError
			if !errors.As(err, &oe) {
				t.Fatalf("err = %v, want *OfflineError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if n := len(srv.requests()); n != 0 {
				t.Errorf("offline mode made %d requests", n)
			}
			checkNotInstalled(t, opts.CacheDir, tc.name)
		})
	}
}

// TestEnsureLocalDir: files found in a local directory (as Debian installs
// them) are verified and used without the network; a corrupt local copy is
// rejected and the mirror used instead.
func TestEnsureLocalDir(t *testing.T) {
	fx := mnistFixture(t, "fmnist")
	local := t.TempDir()
	for i, m := range fx.members {
		data := m.data
		if i == 2 {
			data = append([]byte(nil), data...)
			data[len(data)/2] ^= 1
		}
		if err := os.WriteFile(filepath.Join(local, m.name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fx.entry.LocalDirs = []string{local}
	srv := newServer(t, fx.served)
	opts := testOptions(t, srv, fx.entry)
	dir, err := Ensure(context.Background(), "fmnist", opts)
	if err != nil {
		t.Fatal(err)
	}
	checkInstalled(t, opts, fx, dir)
	reqs := srv.requests()
	if len(reqs) != 1 || !strings.HasSuffix(reqs[0].path, fx.members[2].name) {
		t.Errorf("requests = %+v, want only %s", reqs, fx.members[2].name)
	}
}

func TestUnknownDataset(t *testing.T) {
	_, err := Ensure(context.Background(), "imagenet", Options{CacheDir: t.TempDir()})
	if !errors.Is(err, ErrUnknownDataset) || !strings.Contains(err.Error(), "cifar10") {
		t.Fatalf("err = %v, want ErrUnknownDataset listing the known names", err)
	}
}

// TestEnsureProgress: a progress bar naming the file is drawn on
// Options.Progress, and nothing is drawn without it.
func TestEnsureProgress(t *testing.T) {
	for _, withBar := range []bool{true, false} {
		fx := cifar10Fixture(t)
		srv := newServer(t, fx.served)
		opts := testOptions(t, srv, fx.entry)
		var buf strings.Builder
		if withBar {
			opts.Progress = &buf
		}
		if _, err := Ensure(context.Background(), "cifar10", opts); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(buf.String(), "cifar-10-binary.tar.gz"); got != withBar {
			t.Errorf("progress=%v: output %q", withBar, buf.String())
		}
	}
}

// TestEnsureDownloadFailureNamesOfflineRoute checks that a failed download
// tells the user how to obtain the dataset without the network.
func TestEnsureDownloadFailureNamesOfflineRoute(t *testing.T) {
	fx := cifar10Fixture(t)
	fx.entry.Hint = "copy it from the archive shelf and run bsam data import"
	srv := newServer(t, fx.served)
	srv.faults("/data/cifar-10-binary.tar.gz", notFound)
	_, err := Ensure(context.Background(), "cifar10", testOptions(t, srv, fx.entry))
	if err == nil || !strings.Contains(err.Error(), "HTTP 404") || !strings.Contains(err.Error(), "without the network: "+fx.entry.Hint) {
		t.Fatalf("err = %v, want the HTTP 404 and the entry's hint", err)
	}
}
