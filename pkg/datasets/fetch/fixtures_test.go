package fetch

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// member is one file of a fixture archive.
type member struct {
	name string
	data []byte
}

func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// idxFiles returns the four MNIST-format files (gzipped IDX) with n training
// and m test records of random pixels.
func idxFiles(t *testing.T, seed uint64, n, m int) []member {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	images := func(count int) []byte {
		b := binary.BigEndian.AppendUint32(nil, 0x00000803)
		b = binary.BigEndian.AppendUint32(b, uint32(count))
		b = binary.BigEndian.AppendUint32(b, 28)
		b = binary.BigEndian.AppendUint32(b, 28)
		for range count * 28 * 28 {
			b = append(b, byte(rng.IntN(256)))
		}
		return gz(t, b)
	}
	labels := func(count int) []byte {
		b := binary.BigEndian.AppendUint32(nil, 0x00000801)
		b = binary.BigEndian.AppendUint32(b, uint32(count))
		for range count {
			b = append(b, byte(rng.IntN(10)))
		}
		return gz(t, b)
	}
	return []member{
		{"train-images-idx3-ubyte.gz", images(n)},
		{"train-labels-idx1-ubyte.gz", labels(n)},
		{"t10k-images-idx3-ubyte.gz", images(m)},
		{"t10k-labels-idx1-ubyte.gz", labels(m)},
	}
}

// cifarRecords returns count records of labelBytes label bytes + 3072 pixels.
func cifarRecords(rng *rand.Rand, count, labelBytes, classes int) []byte {
	var b []byte
	for range count {
		for range labelBytes {
			b = append(b, byte(rng.IntN(classes)))
		}
		for range 3072 {
			b = append(b, byte(rng.IntN(256)))
		}
	}
	return b
}

func cifar10Members() []member {
	rng := rand.New(rand.NewPCG(10, 2))
	var ms []member
	for i := 1; i <= 5; i++ {
		ms = append(ms, member{fmt.Sprintf("cifar-10-batches-bin/data_batch_%d.bin", i), cifarRecords(rng, 3, 1, 10)})
	}
	ms = append(ms,
		member{"cifar-10-batches-bin/test_batch.bin", cifarRecords(rng, 2, 1, 10)},
		member{"cifar-10-batches-bin/batches.meta.txt", []byte("airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n")},
		member{"cifar-10-batches-bin/readme.html", []byte("<html>fixture</html>\n")},
	)
	return ms
}

func cifar100Members() []member {
	rng := rand.New(rand.NewPCG(100, 2))
	return []member{
		{"cifar-100-binary/train.bin", cifarRecords(rng, 4, 2, 20)},
		{"cifar-100-binary/test.bin", cifarRecords(rng, 2, 2, 20)},
		{"cifar-100-binary/coarse_label_names.txt", []byte("aquatic_mammals\nfish\n")},
		{"cifar-100-binary/fine_label_names.txt", []byte("apple\naquarium_fish\n")},
	}
}

func tinyJPEG(t *testing.T, seed uint64) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 3))
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func tinyImageNetMembers(t *testing.T) []member {
	wnids := []string{"n01443537", "n01629819"}
	ms := []member{
		{"tiny-imagenet-200/wnids.txt", []byte(strings.Join(wnids, "\n") + "\n")},
		{"tiny-imagenet-200/words.txt", []byte("n01443537\tgoldfish, Carassius auratus\nn01629819\tEuropean fire salamander\n")},
	}
	var ann strings.Builder
	for i, w := range wnids {
		ms = append(ms,
			member{fmt.Sprintf("tiny-imagenet-200/train/%s/images/%s_0.JPEG", w, w), tinyJPEG(t, uint64(i))},
			member{fmt.Sprintf("tiny-imagenet-200/train/%s/%s_boxes.txt", w, w), []byte(w + "_0.JPEG\t0\t0\t63\t63\n")},
			member{fmt.Sprintf("tiny-imagenet-200/val/images/val_%d.JPEG", i), tinyJPEG(t, uint64(10+i))},
		)
		fmt.Fprintf(&ann, "val_%d.JPEG\t%s\t0\t0\t63\t63\n", i, w)
	}
	ms = append(ms,
		member{"tiny-imagenet-200/val/val_annotations.txt", []byte(ann.String())},
		member{"tiny-imagenet-200/test/images/test_0.JPEG", tinyJPEG(t, 99)},
	)
	return ms
}

// tarGz writes members (with their parent directories as entries first, as
// the canonical archives do) into a gzipped tar.
func tarGz(t *testing.T, ms []member) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	seen := map[string]bool{}
	mt := time.Date(2009, 6, 4, 0, 0, 0, 0, time.UTC)
	for _, m := range ms {
		if d := filepath.ToSlash(filepath.Dir(m.name)); d != "." && !seen[d] {
			seen[d] = true
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: mt}); err != nil {
				t.Fatal(err)
			}
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: m.name, Mode: 0o644, Size: int64(len(m.data)), ModTime: mt}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(m.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zipOf(t *testing.T, ms []member) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	seen := map[string]bool{}
	for _, m := range ms {
		parts := strings.Split(m.name, "/")
		for i := 1; i < len(parts); i++ {
			d := strings.Join(parts[:i], "/") + "/"
			if !seen[d] {
				seen[d] = true
				if _, err := zw.Create(d); err != nil {
					t.Fatal(err)
				}
			}
		}
		w, err := zw.Create(m.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(m.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fixture is a test dataset: its catalog entry (checksums computed here) and
// the bytes the server publishes.
type fixture struct {
	entry   Entry
	served  map[string][]byte // URL path → content
	members []member          // expected files, relative to the dataset dir
}

const fakeHost = "http://mirror.invalid"

func archiveFixture(name, format, file string, archive []byte, ms []member, required []string) fixture {
	p := "/data/" + file
	return fixture{
		entry: Entry{Name: name, Title: name, Format: format, Required: required,
			Files: []File{{Name: file, URLs: []string{fakeHost + p}, MD5: md5Hex(archive), Size: int64(len(archive))}}},
		served:  map[string][]byte{p: archive},
		members: ms,
	}
}

func cifar10Fixture(t *testing.T) fixture {
	ms := cifar10Members()
	return archiveFixture("cifar10", "tar.gz", "cifar-10-binary.tar.gz", tarGz(t, ms), ms, builtinRequired(t, "cifar10"))
}

func cifar100Fixture(t *testing.T) fixture {
	ms := cifar100Members()
	return archiveFixture("cifar100", "tar.gz", "cifar-100-binary.tar.gz", tarGz(t, ms), ms, builtinRequired(t, "cifar100"))
}

func tinyFixture(t *testing.T) fixture {
	ms := tinyImageNetMembers(t)
	return archiveFixture("tinyimagenet", "zip", "tiny-imagenet-200.zip", zipOf(t, ms), ms, builtinRequired(t, "tinyimagenet"))
}

// mnistFixture publishes the files on two mirrors, like the real catalog;
// mirror "a" is listed first.
func mnistFixture(t *testing.T, name string) fixture {
	ms := idxFiles(t, uint64(len(name)), 5, 3)
	fx := fixture{entry: Entry{Name: name, Title: name}, served: map[string][]byte{}, members: ms}
	for _, m := range ms {
		fx.entry.Files = append(fx.entry.Files, File{Name: m.name, MD5: md5Hex(m.data),
			URLs: []string{fakeHost + "/a/" + m.name, fakeHost + "/b/" + m.name}})
		fx.served["/a/"+m.name] = m.data
		fx.served["/b/"+m.name] = m.data
	}
	return fx
}

func builtinRequired(t *testing.T, name string) []string {
	t.Helper()
	e, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return e.Required
}

// fault is what the server does to one request.
type fault int

const (
	ok          fault = iota
	truncate          // declare the full length, send half, end the handler
	flip              // send every byte, one of them flipped
	status500         // answer HTTP 500
	cut               // hijack, send headers and a third of the body, close
	ignoreRange       // answer 200 with the whole body even to a Range request
	notFound          // answer 404
	stall             // send a quarter of the body, then wait for the client to go away
	short             // send half the body with a matching Content-Length, cleanly
	labelGzip         // send the .gz bytes labelled "Content-Encoding: gzip" (as some S3 objects are)
)

// server is an httptest server publishing a fixture with scripted faults.
type server struct {
	*httptest.Server
	mu      sync.Mutex
	content map[string][]byte
	script  map[string][]fault // per path, consumed one per request
	log     []request
}

type request struct {
	path, rng string
	status    int
}

func newServer(t *testing.T, content map[string][]byte) *server {
	s := &server{content: content, script: map[string][]fault{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(s.Close)
	return s
}

func (s *server) faults(path string, fs ...fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script[path] = append(s.script[path], fs...)
}

func (s *server) requests() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]request(nil), s.log...)
}

func (s *server) handle(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	body, found := s.content[r.URL.Path]
	f := ok
	if q := s.script[r.URL.Path]; len(q) > 0 {
		f, s.script[r.URL.Path] = q[0], q[1:]
	}
	rec := request{path: r.URL.Path, rng: r.Header.Get("Range")}
	record := func(code int) {
		rec.status = code
		s.log = append(s.log, rec)
	}
	defer s.mu.Unlock()
	if !found || f == notFound {
		record(http.StatusNotFound)
		http.NotFound(w, r)
		return
	}
	if f == status500 {
		record(http.StatusInternalServerError)
		http.Error(w, "injected failure", http.StatusInternalServerError)
		return
	}
	start := int64(0)
	code := http.StatusOK
	if v := rec.rng; v != "" && f != ignoreRange {
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(v, "bytes="), "-"), 10, 64)
		if err != nil || n < 0 {
			record(http.StatusBadRequest)
			http.Error(w, "bad range", http.StatusBadRequest)
			return
		}
		if n >= int64(len(body)) {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", len(body)))
			record(http.StatusRequestedRangeNotSatisfiable)
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		start, code = n, http.StatusPartialContent
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", n, len(body)-1, len(body)))
	}
	part := body[start:]
	record(code)
	switch f {
	case cut:
		s.mu.Unlock()
		defer s.mu.Lock()
		conn, bw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\nContent-Length: %d\r\n", code, http.StatusText(code), len(part))
		if code == http.StatusPartialContent {
			fmt.Fprintf(bw, "Content-Range: bytes %d-%d/%d\r\n", start, len(body)-1, len(body))
		}
		fmt.Fprintf(bw, "\r\n")
		bw.Write(part[:len(part)/3])
		bw.Flush()
		conn.Close()
		return
	case stall:
		s.mu.Unlock()
		defer s.mu.Lock()
		w.Header().Set("Content-Length", strconv.Itoa(len(part)))
		w.WriteHeader(code)
		w.Write(part[:len(part)/4])
		http.NewResponseController(w).Flush()
		<-r.Context().Done()
		return
	}
	if f == short {
		part = part[:len(part)/2]
		if code == http.StatusPartialContent {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, start+int64(len(part))-1, len(body)))
		}
	}
	if f == labelGzip {
		w.Header().Set("Content-Encoding", "gzip")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(part)))
	w.WriteHeader(code)
	switch f {
	case truncate:
		w.Write(part[:len(part)/2])
	case flip:
		c := bytes.Clone(part)
		c[len(c)/2] ^= 0x40
		w.Write(c)
	default:
		w.Write(part)
	}
}

// testOptions returns Options for a fixture served by srv, with a fresh cache.
func testOptions(t *testing.T, srv *server, entries ...Entry) Options {
	t.Helper()
	o := Options{
		CacheDir:     filepath.Join(t.TempDir(), "cache"),
		Retries:      3,
		Backoff:      time.Millisecond,
		StallTimeout: 5 * time.Second,
		Catalog:      entries,
	}
	if srv != nil {
		o.BaseURL = srv.URL
		o.HTTPClient = srv.Client()
	}
	return o
}

// checkInstalled asserts that dir holds exactly the fixture's members, a
// marker and a manifest, and that nothing else is left in the cache.
func checkInstalled(t *testing.T, opts Options, fx fixture, dir string) {
	t.Helper()
	if want := filepath.Join(opts.CacheDir, fx.entry.Name); dir != want {
		t.Fatalf("dir = %s, want %s", dir, want)
	}
	for _, m := range fx.members {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(m.name)))
		if err != nil {
			t.Fatalf("member missing: %v", err)
		}
		if !bytes.Equal(got, m.data) {
			t.Fatalf("%s: content differs from the fixture (md5 %s, want %s)", m.name, md5Hex(got), md5Hex(m.data))
		}
	}
	var files int
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files++
		}
		return nil
	})
	if want := len(fx.members) + 2; files != want { // + .manifest + .complete
		t.Errorf("dataset dir holds %d files, want %d", files, want)
	}
	if _, err := os.Stat(filepath.Join(dir, markerName)); err != nil {
		t.Errorf("marker missing: %v", err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("dataset dir mode %v (%v), want 0755", fi.Mode().Perm(), err)
	}
	checkNoLeftovers(t, opts.CacheDir, fx.entry.Name)
}

// checkNoLeftovers asserts that the cache holds no staging directories and
// no downloads for name.
func checkNoLeftovers(t *testing.T, cache, name string) {
	t.Helper()
	for _, pat := range []string{"." + name + ".partial-*", "." + name + ".old-*"} {
		if m, _ := filepath.Glob(filepath.Join(cache, pat)); len(m) > 0 {
			t.Errorf("leftover staging directories: %v", m)
		}
	}
	if _, err := os.Stat(filepath.Join(cache, ".downloads", name)); err == nil {
		t.Errorf("download directory for %s left behind", name)
	}
}

// checkNotInstalled asserts that a failure left neither a dataset directory
// nor a marker nor a staging directory.
func checkNotInstalled(t *testing.T, cache, name string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(cache, name)); err == nil {
		t.Errorf("dataset directory %s exists after a failure", filepath.Join(cache, name))
	}
	if m, _ := filepath.Glob(filepath.Join(cache, "*", markerName)); len(m) > 0 {
		t.Errorf("marker written after a failure: %v", m)
	}
	if m, _ := filepath.Glob(filepath.Join(cache, "."+name+".partial-*")); len(m) > 0 {
		t.Errorf("staging directory left after a failure: %v", m)
	}
}
