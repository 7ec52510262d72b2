package sweep

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/bsam-dev/bsam/pkg/config"
	"github.com/bsam-dev/bsam/pkg/train"
)

// writeSweep writes a sweep file into a temporary directory next to a copy
// of testdata/base.yaml and returns its path.
func writeSweep(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	base, err := os.ReadFile(filepath.Join("testdata", "base.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "base.yaml"), base, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "sweeps"), 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "sweeps", "s.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const twoMethodSweep = `base: ../base.yaml
name: rho_test
seeds: [3, 1]
set: {epochs: 2, data.train_subset: 300}
grid:
  bsam: {optimizer.rho: [1.0e-4, 1.0e-3], optimizer.lr: [0.1, 0.5]}
  sam_sgd: {optimizer.rho: [0.01, 0.05, 0.1]}
slurm: {partition: cpu, time: "01:00:00", cpus_per_task: 2, mem: 4G, throttle: 3}
`

func TestExpandOrderAndOverrides(t *testing.T) {
	path := writeSweep(t, twoMethodSweep)
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	p, err := Expand(s, out)
	if err != nil {
		t.Fatal(err)
	}
	// Hand-written expected order: grid methods in file order (bsam before
	// sam_sgd, although the table order is the reverse), first axis
	// slowest, seeds innermost in the file's order (3 before 1).
	type row struct {
		method string
		seed   int
		rho    float64
		lr     float64
		label  string
	}
	want := []row{
		{"bsam", 3, 1e-4, 0.1, "rho=1.0e-4 lr=0.1"}, {"bsam", 1, 1e-4, 0.1, "rho=1.0e-4 lr=0.1"},
		{"bsam", 3, 1e-4, 0.5, "rho=1.0e-4 lr=0.5"}, {"bsam", 1, 1e-4, 0.5, "rho=1.0e-4 lr=0.5"},
		{"bsam", 3, 1e-3, 0.1, "rho=1.0e-3 lr=0.1"}, {"bsam", 1, 1e-3, 0.1, "rho=1.0e-3 lr=0.1"},
		{"bsam", 3, 1e-3, 0.5, "rho=1.0e-3 lr=0.5"}, {"bsam", 1, 1e-3, 0.5, "rho=1.0e-3 lr=0.5"},
		{"sam_sgd", 3, 0.01, 0.05, "rho=0.01"}, {"sam_sgd", 1, 0.01, 0.05, "rho=0.01"},
		{"sam_sgd", 3, 0.05, 0.05, "rho=0.05"}, {"sam_sgd", 1, 0.05, 0.05, "rho=0.05"},
		{"sam_sgd", 3, 0.1, 0.05, "rho=0.1"}, {"sam_sgd", 1, 0.1, 0.05, "rho=0.1"},
	}
	if len(p.Points) != len(want) {
		t.Fatalf("got %d runs, want %d (2×2×2 bsam + 3×2 sam_sgd)", len(p.Points), len(want))
	}
	hashes := map[string]bool{}
	for i, pt := range p.Points {
		w := want[i]
		r := pt.Run
		if pt.Index != i || pt.Method != w.method || pt.Seed != w.seed || r.Seed != w.seed || pt.Label() != w.label {
			t.Errorf("run %d: got #%d %s seed %d %q, want %s seed %d %q", i, pt.Index, pt.Method, pt.Seed, pt.Label(), w.method, w.seed, w.label)
		}
		if r.Optimizer.Rho != w.rho || r.Optimizer.LR != w.lr {
			t.Errorf("run %d: rho %g lr %g, want %g %g", i, r.Optimizer.Rho, r.Optimizer.LR, w.rho, w.lr)
		}
		// Fixed overrides and the sweep's name reach every run; the base
		// file's other settings stay.
		if r.Experiment != "rho_test" || r.Epochs != 2 || r.Data.TrainSubset != 300 || r.Data.TestSubset != 200 || r.BatchSize != 200 {
			t.Errorf("run %d: experiment %q epochs %d subsets %d/%d batch %d; want rho_test 2 300/200 200",
				i, r.Experiment, r.Epochs, r.Data.TrainSubset, r.Data.TestSubset, r.BatchSize)
		}
		wantSwept := []string{"rho", "lr"}
		if w.method == "sam_sgd" {
			wantSwept = []string{"rho"}
		}
		if !slices.Equal(r.Swept, wantSwept) {
			t.Errorf("run %d: swept %v, want %v", i, r.Swept, wantSwept)
		}
		for _, name := range r.Swept {
			if _, ok := r.HyperMap()[name]; !ok {
				t.Errorf("run %d: swept %q is not a key of result.json's hyper map, so bsam report cannot plot it", i, name)
			}
		}
		if pt.Hash != r.Hash() || pt.Dir != train.RunDir(out, r) {
			t.Errorf("run %d: hash %s dir %s, want %s %s", i, pt.Hash, pt.Dir, r.Hash(), train.RunDir(out, r))
		}
		if !strings.HasPrefix(pt.Dir, filepath.Join(out, "rho_test")+string(filepath.Separator)) {
			t.Errorf("run %d: dir %s not under %s/rho_test", i, pt.Dir, out)
		}
		if hashes[pt.Hash] {
			t.Errorf("run %d: hash %s repeats", i, pt.Hash)
		}
		hashes[pt.Hash] = true
	}

	// Stable: a second expansion gives the same hashes, and each equals the
	// hash of the base file loaded by hand with the overrides written out.
	p2, err := Expand(s, out)
	if err != nil {
		t.Fatal(err)
	}
	for i := range p.Points {
		if p.Points[i].Hash != p2.Points[i].Hash {
			t.Errorf("run %d: hash changed between expansions: %s, %s", i, p.Points[i].Hash, p2.Points[i].Hash)
		}
	}
	e, err := config.Load(s.Base, []config.Override{
		{Path: "epochs", Value: "2"}, {Path: "data.train_subset", Value: "300"}, {Path: "name", Value: "rho_test"},
		{Path: "seeds", Value: "1"}, {Path: "swept", Value: "rho,lr"},
		{Path: "methods.bsam.rho", Value: "0.001"}, {Path: "methods.bsam.lr", Value: "0.5"},
	})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := e.Method("bsam")
	if h := e.Run(m, 1).Hash(); h != p.Points[7].Hash {
		t.Errorf("run 7 (bsam seed 1 rho=1e-3 lr=0.5): hash %s, hand-resolved %s", p.Points[7].Hash, h)
	}

	// The train command line names the base, method, seed and out, and the
	// overrides in precedence order.
	wantArgs := []string{"train", "--config", s.Base, "--method", "bsam", "--seeds", "1", "--out", out,
		"--set", "epochs=2", "--set", "data.train_subset=300", "--set", "name=rho_test",
		"--set", "swept=rho,lr", "--set", "optimizer.rho=1.0e-3", "--set", "optimizer.lr=0.5"}
	if !slices.Equal(p.Points[7].Args, wantArgs) {
		t.Errorf("run 7 args:\n got %q\nwant %q", p.Points[7].Args, wantArgs)
	}
	if !reflect.DeepEqual(s.Slurm, Slurm{Partition: "cpu", Time: "01:00:00", CPUsPerTask: 2, Mem: "4G", Throttle: 3}) {
		t.Errorf("slurm block: %+v", s.Slurm)
	}
	if p.StateDir() != filepath.Join(out, "rho_test", ".sweep") {
		t.Errorf("state dir %s", p.StateDir())
	}
}

func TestExpandDefaults(t *testing.T) {
	// No name, seeds or out: the file's base name, the base file's seeds
	// and the base file's out (relative to the working directory).
	path := writeSweep(t, "base: ../base.yaml\ngrid: {sgd: {optimizer.lr: [0.1]}}\n")
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Expand(s, "")
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if p.Out != filepath.Join(wd, "runs") {
		t.Errorf("out %s, want %s", p.Out, filepath.Join(wd, "runs"))
	}
	var seeds []int
	for _, pt := range p.Points {
		seeds = append(seeds, pt.Seed)
		if pt.Run.Experiment != "s" {
			t.Errorf("experiment %q, want the file's base name s", pt.Run.Experiment)
		}
	}
	if !slices.Equal(seeds, []int{0, 1, 2}) {
		t.Errorf("seeds %v, want the base file's [0 1 2]", seeds)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string // substrings of the error, each naming the field
	}{
		{"unknown key", "base: ../base.yaml\ngrdi: {}\ngrid: {sgd: {optimizer.lr: [0.1]}}\n", []string{"s.yaml:2: grdi: unknown field"}},
		{"no base", "grid: {sgd: {optimizer.lr: [0.1]}}\n", []string{"base: required"}},
		{"base missing", "base: ../nope.yaml\ngrid: {sgd: {optimizer.lr: [0.1]}}\n", []string{"base: base experiment", "nope.yaml not found"}},
		{"no grid", "base: ../base.yaml\n", []string{"grid: required"}},
		{"empty grid", "base: ../base.yaml\ngrid: {}\n", []string{"grid: must be a non-empty mapping"}},
		{"method grid not a mapping", "base: ../base.yaml\ngrid: {sgd: [0.1]}\n", []string{"grid.sgd: must be a mapping"}},
		{"empty values", "base: ../base.yaml\ngrid: {sgd: {optimizer.lr: []}}\n", []string{"grid.sgd.optimizer.lr: empty grid"}},
		{"unknown method", "base: ../base.yaml\ngrid: {sgdd: {optimizer.lr: [0.1]}}\n", []string{"grid.sgdd: unknown method"}},
		{"method not in base", "base: ../base.yaml\ngrid: {adam: {optimizer.lr: [0.1]}}\n", []string{"grid.adam: method adam is not in the base experiment", "it has: sgd, sam_sgd, bsam"}},
		{"path not optimizer", "base: ../base.yaml\ngrid: {sgd: {epochs: [1, 2]}}\n", []string{"grid.sgd.epochs: grid paths must be optimizer hyperparameters"}},
		{"path does not exist", "base: ../base.yaml\ngrid: {bsam: {optimizer.rhoo: [0.1]}}\n", []string{"grid.bsam.optimizer.rhoo: not a hyperparameter of bsam", "optimizer.rho"}},
		{"path irrelevant to method", "base: ../base.yaml\ngrid: {sgd: {optimizer.rho: [0.1]}}\n", []string{"grid.sgd.optimizer.rho: not a hyperparameter of sgd"}},
		{"bad value", "base: ../base.yaml\ngrid: {sgd: {optimizer.lr: [0.1, fast]}}\n", []string{"grid.sgd.optimizer.lr: value fast", "expected a number"}},
		{"duplicate value", "base: ../base.yaml\ngrid: {sgd: {optimizer.lr: [0.1, 0.1]}}\n", []string{"grid.sgd.optimizer.lr: value 0.1 listed twice"}},
		{"managed set", "base: ../base.yaml\nset: {seeds: 1}\ngrid: {sgd: {optimizer.lr: [0.1]}}\n", []string{"set.seeds: is set by the sweep itself"}},
		{"set and grid", "base: ../base.yaml\nset: {optimizer.lr: 0.2}\ngrid: {sgd: {optimizer.lr: [0.1]}}\n", []string{"grid.sgd.optimizer.lr: is also fixed in set"}},
		{"bad set path", "base: ../base.yaml\nset: {epochz: 3}\ngrid: {sgd: {optimizer.lr: [0.1]}}\n", []string{"base: the base experiment with set: does not load", "epochz"}},
		{"bad seeds", "base: ../base.yaml\nseeds: [0, 0]\ngrid: {sgd: {optimizer.lr: [0.1]}}\n", []string{"seeds[1]: seeds must be distinct"}},
		{"unknown slurm key", "base: ../base.yaml\ngrid: {sgd: {optimizer.lr: [0.1]}}\nslurm: {partiton: cpu}\n", []string{"slurm.partiton: unknown field"}},
		{"bad slurm type", "base: ../base.yaml\ngrid: {sgd: {optimizer.lr: [0.1]}}\nslurm: {throttle: many}\n", []string{"slurm:", "many"}},
		{"same configuration", "base: ../base.yaml\ngrid: {sgd: {optimizer.lr: [0.1, 1e-1]}}\n", []string{"grid.sgd: runs 0", "resolve to the same configuration"}},
		{"not a mapping", "- a\n- b\n", []string{"must be a YAML mapping"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeSweep(t, tc.body)
			s, err := Load(path)
			if err == nil {
				_, err = Expand(s, t.TempDir())
			}
			if err == nil {
				t.Fatal("no error")
			}
			var ue interface{ UsageError() bool }
			if !asUsage(err, &ue) {
				t.Errorf("%T is not a usage error", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file %s", err, path)
			}
		})
	}
}

func asUsage(err error, target *interface{ UsageError() bool }) bool {
	u, ok := err.(interface{ UsageError() bool })
	if ok {
		*target = u
	}
	return ok && u.UsageError()
}

func TestRepositorySweepFiles(t *testing.T) {
	tests := []struct {
		file     string
		runs     int
		methods  map[string]int
		needBase bool
	}{
		{"rho_mnist.yaml", 14, map[string]int{"sgd": 6, "bsam": 8}, true},
		{"rho_sensitivity.yaml", 45, map[string]int{"sam_sgd": 18, "bsam": 27}, false},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("..", "..", "configs", "sweeps", tc.file)
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.needBase {
				// The base file is written by another part of the project;
				// skip until it exists.
				var base string
				for _, line := range strings.Split(string(raw), "\n") {
					if b, ok := strings.CutPrefix(line, "base: "); ok {
						base = filepath.Join(filepath.Dir(path), strings.TrimSpace(b))
					}
				}
				if _, err := os.Stat(base); err != nil {
					t.Skipf("base experiment %s not there yet", base)
				}
			}
			s, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Expand(s, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, pt := range p.Points {
				got[pt.Method]++
			}
			if len(p.Points) != tc.runs {
				t.Errorf("%d runs, want %d", len(p.Points), tc.runs)
			}
			for m, n := range tc.methods {
				if got[m] != n {
					t.Errorf("%s: %d runs, want %d", m, got[m], n)
				}
			}
		})
	}
}

// TestExpandBaseConfiguration: a method with an empty grid ({} or nothing)
// runs its base configuration once per seed, with nothing recorded as swept,
// so its runs land in the report's main table (reproduce-table sweeps).
func TestExpandBaseConfiguration(t *testing.T) {
	path := writeSweep(t, "base: ../base.yaml\nseeds: [0, 1]\ngrid:\n  sgd: {}\n  bsam:\n")
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Expand(s, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Points) != 4 {
		t.Fatalf("%d runs, want 2 methods × 2 seeds", len(p.Points))
	}
	for _, pt := range p.Points {
		if len(pt.Values) != 0 || len(pt.Run.Swept) != 0 {
			t.Errorf("%s seed %d: values %v swept %v, want none", pt.Method, pt.Seed, pt.Values, pt.Run.Swept)
		}
	}
	base, err := config.Load(filepath.Join("testdata", "base.yaml"), []config.Override{{Path: "name", Value: s.Name}, {Path: "out", Value: p.Out}})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := base.Method("bsam")
	if want := base.Run(m, 1).Hash(); p.Points[3].Hash != want {
		t.Errorf("bsam seed 1 hash %s, want the base configuration's %s", p.Points[3].Hash, want)
	}
}

// TestStrays checks that run directories of another configuration of the
// sweep are found, and planned ones are not.
func TestStrays(t *testing.T) {
	out := t.TempDir()
	s, err := Load(writeSweep(t, twoMethodSweep))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Expand(s, out)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Strays(); len(got) != 0 {
		t.Fatalf("strays before any run: %v", got)
	}
	planned := p.Points[0].Dir
	other := filepath.Join(out, s.Name, "bsam-seed0-000000000000")
	for _, d := range []string{planned, other, filepath.Join(out, s.Name, "no-config")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{planned, other} {
		if err := os.WriteFile(filepath.Join(d, "config.yaml"), []byte("seed: 0\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := p.Strays(); len(got) != 1 || got[0] != other {
		t.Fatalf("strays = %v, want [%s]", got, other)
	}
}

func TestSelection(t *testing.T) {
	s, err := Load(writeSweep(t, twoMethodSweep))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Expand(s, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// 4 bsam points × seeds [3, 1], then 3 sam_sgd points × seeds [3, 1].
	cases := []struct {
		name string
		sel  Selection
		want []int // indexes selected, by hand from the expansion order
		err  string
	}{
		{"all", Selection{}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}, ""},
		{"seed 1", Selection{Seeds: []int{1}}, []int{1, 3, 5, 7, 9, 11, 13}, ""},
		{"sam_sgd", Selection{Methods: []string{"sam_sgd"}}, []int{8, 9, 10, 11, 12, 13}, ""},
		{"sam_sgd seed 3", Selection{Methods: []string{"sam_sgd"}, Seeds: []int{3}}, []int{8, 10, 12}, ""},
		{"unknown seed", Selection{Seeds: []int{0}}, nil, "--seeds 0: not among the sweep's seeds (1, 3)"},
		{"unknown method", Selection{Methods: []string{"adam"}}, nil, "--methods adam: not in the sweep's grid (bsam, sam_sgd)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.sel.Check(p)
			if c.err != "" {
				if err == nil || err.Error() != c.err {
					t.Fatalf("Check = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, pt := range p.Points {
				if c.sel.Match(pt) {
					got = append(got, pt.Index)
				}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("selected %v, want %v", got, c.want)
			}
		})
	}
}
