package sweep

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/bsam-dev/bsam/pkg/config"
	"github.com/bsam-dev/bsam/pkg/train"
)

// Point is one run of a sweep: a method, a seed and the swept values.
type Point struct {
	// Index numbers the runs of the sweep in expansion order.
	Index  int       `json:"index"`
	Method string    `json:"method"`
	Seed   int       `json:"seed"`
	Values []Setting `json:"values"` // the swept paths and values, axis order
	Hash   string    `json:"hash"`   // config.Run.Hash
	Dir    string    `json:"dir"`    // run directory (train.RunDir)
	// Args are the bsam arguments that train exactly this run
	// ("train", "--config", …).
	Args []string `json:"args"`
	// Run is the fully resolved configuration.
	Run config.Run `json:"-"`
}

// Label renders the swept values as "rho=0.01 lr=0.1".
func (p Point) Label() string {
	parts := make([]string, len(p.Values))
	for i, v := range p.Values {
		parts[i] = strings.TrimPrefix(v.Path, "optimizer.") + "=" + v.Value
	}
	return strings.Join(parts, " ")
}

// Plan is an expanded sweep.
type Plan struct {
	Sweep *Sweep
	// Out is the absolute directory the run directories are written under.
	Out string
	// Points are the runs in expansion order (see the package doc).
	Points []Point
}

// StateDir is the directory of the sweep's bookkeeping: <out>/<name>/.sweep.
func (p *Plan) StateDir() string { return filepath.Join(p.Out, p.Sweep.Name, ".sweep") }

// Expand turns the sweep into its runs. out, when not empty, overrides the
// sweep's and the base file's out; it is made absolute so that the runs'
// directories do not depend on where a task starts.
func Expand(s *Sweep, out string) (*Plan, error) {
	if out == "" {
		out = s.Out
	}
	if out == "" {
		e, err := config.Load(s.Base, s.overrides(nil, nil))
		if err != nil {
			return nil, &Error{File: s.File, Field: "base", Msg: err.Error()}
		}
		out = e.Out
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return nil, err
	}
	p := &Plan{Sweep: s, Out: abs}
	seen := map[string]Point{}
	for gi := range s.Grid {
		g := &s.Grid[gi]
		for _, values := range product(g.Axes) {
			ovs := s.overrides(g, values)
			if s.Seeds != nil {
				ovs = append(ovs, config.Override{Path: "seeds", Value: formatSeeds(s.Seeds), Source: s.File + ": seeds"})
			}
			ovs = append(ovs, config.Override{Path: "out", Value: abs, Source: "bsam sweep"})
			e, err := config.Load(s.Base, ovs)
			if err == nil {
				err = e.SelectMethods([]string{g.Method})
			}
			if err != nil {
				return nil, &Error{File: s.File, Field: "grid." + g.Method, Msg: err.Error()}
			}
			for _, r := range e.Runs() {
				pt := Point{
					Index: len(p.Points), Method: r.Method, Seed: r.Seed, Values: values,
					Hash: r.Hash(), Dir: train.RunDir(abs, r), Run: r,
				}
				pt.Args = trainArgs(s, g, values, pt, abs)
				if old, dup := seen[pt.Hash]; dup {
					return nil, &Error{File: s.File, Field: "grid." + g.Method, Msg: fmt.Sprintf("runs %d (%s) and %d (%s) of method %s seed %d resolve to the same configuration; remove one of the values",
						old.Index, old.Label(), pt.Index, pt.Label(), pt.Method, pt.Seed)}
				}
				seen[pt.Hash] = pt
				p.Points = append(p.Points, pt)
			}
		}
	}
	return p, nil
}

// trainArgs returns the bsam command line that trains exactly point pt.
func trainArgs(s *Sweep, g *MethodGrid, values []Setting, pt Point, out string) []string {
	args := []string{"train", "--config", s.Base, "--method", pt.Method, "--seeds", strconv.Itoa(pt.Seed), "--out", out}
	for _, o := range s.overrides(g, values) {
		args = append(args, "--set", o.Path+"="+o.Value)
	}
	return args
}

// product returns the cartesian product of the axes, the first axis
// varying slowest.
func product(axes []Axis) [][]Setting {
	out := [][]Setting{nil}
	for _, a := range axes {
		var next [][]Setting
		for _, prefix := range out {
			for _, v := range a.Values {
				row := append(append([]Setting(nil), prefix...), Setting{Path: a.Path, Value: v})
				next = append(next, row)
			}
		}
		out = next
	}
	return out
}

// Selection restricts one invocation of a sweep to some of its runs (bsam
// sweep --methods/--seeds), e.g. every method's seed 0 before any seed 1 in
// a campaign. Empty fields select everything. The plan and its status keep
// all runs; only which pending runs start changes.
type Selection struct {
	Methods []string
	Seeds   []int
}

// Check reports a method or seed that the plan does not contain, so that a
// typo selects nothing silently.
func (s Selection) Check(p *Plan) error {
	methods := map[string]bool{}
	seeds := map[int]bool{}
	for _, pt := range p.Points {
		methods[pt.Method] = true
		seeds[pt.Seed] = true
	}
	for _, m := range s.Methods {
		if !methods[m] {
			return fmt.Errorf("--methods %s: not in the sweep's grid (%s)", m, strings.Join(sortedKeys(methods), ", "))
		}
	}
	for _, sd := range s.Seeds {
		if !seeds[sd] {
			have := make([]string, 0, len(seeds))
			for _, k := range sortedInts(seeds) {
				have = append(have, strconv.Itoa(k))
			}
			return fmt.Errorf("--seeds %d: not among the sweep's seeds (%s)", sd, strings.Join(have, ", "))
		}
	}
	return nil
}

// Match reports whether point pt is selected.
func (s Selection) Match(pt Point) bool {
	if len(s.Methods) > 0 && !slices.Contains(s.Methods, pt.Method) {
		return false
	}
	return len(s.Seeds) == 0 || slices.Contains(s.Seeds, pt.Seed)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sortedInts(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
