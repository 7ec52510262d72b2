package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemo2D runs `bsam demo2d` with a short schedule: it exits 0, writes
// the PNG, the SVG and demo2d.json with one entry per method, prints the
// table, and demo2d.json is byte-identical on one and on two CPUs.
func TestDemo2D(t *testing.T) {
	var jsons []string
	for _, procs := range []string{"1", "2"} {
		out := filepath.Join(t.TempDir(), "demo")
		r := bsam(t, []string{"GOMAXPROCS=" + procs}, "demo2d", "--out", out, "--epochs", "12", "--samples", "20", "--seed", "3")
		if r.code != 0 {
			t.Fatalf("GOMAXPROCS=%s: exit %d\nstdout:\n%s\nstderr:\n%s", procs, r.code, r.stdout, r.stderr)
		}
		for _, f := range []string{"demo2d.png", "demo2d.svg", "demo2d.json"} {
			if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
				t.Errorf("%s: %v", f, err)
			}
		}
		if _, err := os.Stat(filepath.Join(out, "demo2d_bsam.gif")); err == nil {
			t.Error("wrote the GIF without --gif")
		}
		for _, want := range []string{"SGD", "SAM-SGD", "bSAM", "far from data"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
			}
		}
		b, err := os.ReadFile(filepath.Join(out, "demo2d.json"))
		if err != nil {
			t.Fatal(err)
		}
		var res struct {
			Settings struct {
				Seed   uint64 `json:"seed"`
				Epochs int    `json:"epochs_run"`
			} `json:"settings"`
			Methods []struct {
				Method string   `json:"method"`
				Far    *float64 `json:"far_mean_max_prob"`
				Train  float64  `json:"train_mean_max_prob"`
			} `json:"methods"`
		}
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatal(err)
		}
		if res.Settings.Seed != 3 || res.Settings.Epochs != 13 || len(res.Methods) != 3 {
			t.Fatalf("demo2d.json: %s", b)
		}
		for i, want := range []string{"sgd", "sam_sgd", "bsam"} {
			m := res.Methods[i]
			if m.Method != want || m.Far == nil || *m.Far < 0.5 || *m.Far > 1 || m.Train < 0.5 || m.Train > 1 {
				t.Errorf("method %d: %+v (far %v), want %s with measures in [0.5, 1]", i, m, m.Far, want)
			}
		}
		jsons = append(jsons, string(b))
	}
	if jsons[0] != jsons[1] {
		t.Errorf("demo2d.json differs between GOMAXPROCS=1 and 2:\n%s\n%s", jsons[0], jsons[1])
	}
}

// TestDemo2DBadFlags: bad flags exit 2 and name the problem.
func TestDemo2DBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--methods", "sgd,adam"}, `unknown method "adam"`},
		{[]string{"--epochs", "0"}, "--epochs"},
		{[]string{"--samples", "5"}, "--samples"},
		{[]string{"--no-such-flag"}, "no-such-flag"},
		{[]string{"extra-arg"}, "extra-arg"},
	} {
		args := append([]string{"demo2d", "--out", filepath.Join(t.TempDir(), "d")}, tc.args...)
		r := bsam(t, nil, args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 naming %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}
