package sweep

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/bsam-dev/bsam/pkg/config"
)

// Error is a sweep-file error naming the file, line and field: the same
// type as an experiment-file error, so both are usage errors (exit code 2
// in the CLI) and print alike.
type Error = config.Error

// Errors is a list of sweep-file errors, reported together.
type Errors = config.Errors

// Sweep is a parsed sweep file.
type Sweep struct {
	// File is the absolute path of the sweep file.
	File string
	// Base is the absolute path of the base experiment file.
	Base string
	// Name is the experiment name of the runs.
	Name string
	// Seeds overrides the base file's seeds (nil: keep them).
	Seeds []int
	// Out overrides the base file's out ("" keeps it); relative to the
	// working directory, as bsam train --out.
	Out string
	// Set holds the fixed overrides, in file order.
	Set []Setting
	// Grid holds the per-method grids, in file order.
	Grid []MethodGrid
	// Slurm holds the default Slurm resources.
	Slurm Slurm
}

// Setting is one dotted path with its value as bsam train --set takes it.
type Setting struct {
	Path  string `json:"path"`
	Value string `json:"value"`
}

// MethodGrid is the grid of one method: the cartesian product of its axes.
type MethodGrid struct {
	Method string
	Axes   []Axis
}

// Axis is one swept path with its values, in file order.
type Axis struct {
	Path   string   // optimizer.<field>
	Values []string // as written in the file
}

// Hyper returns the hyperparameter name of the axis (optimizer.rho → rho),
// the key of result.json's hyper map.
func (a Axis) Hyper() string { return strings.TrimPrefix(a.Path, "optimizer.") }

// Points returns the number of grid points of the method.
func (g MethodGrid) Points() int {
	n := 1
	for _, a := range g.Axes {
		n *= len(a.Values)
	}
	return n
}

// Slurm holds Slurm resources of each task; empty strings and zeros leave
// the cluster's defaults.
type Slurm struct {
	Partition   string   `yaml:"partition" json:"partition,omitempty"`
	Time        string   `yaml:"time" json:"time,omitempty"`
	CPUsPerTask int      `yaml:"cpus_per_task" json:"cpus_per_task,omitempty"`
	Mem         string   `yaml:"mem" json:"mem,omitempty"`
	Gres        string   `yaml:"gres" json:"gres,omitempty"`
	Throttle    int      `yaml:"throttle" json:"throttle,omitempty"`
	Account     string   `yaml:"account" json:"account,omitempty"`
	QOS         string   `yaml:"qos" json:"qos,omitempty"`
	Extra       []string `yaml:"extra" json:"extra,omitempty"`
}

// topKeys are the keys a sweep file may have.
var topKeys = []string{"base", "name", "seeds", "out", "set", "grid", "slurm"}

// managed are paths the sweep sets itself; set: and grid: may not.
var managed = []string{"name", "seeds", "out", "swept"}

// Load reads and validates a sweep file: the base experiment must load with
// the fixed overrides, every grid method must be in it, and every grid path
// must be an optimizer hyperparameter of that method with values of the
// right type. Errors name the sweep file and field and are usage errors.
func Load(path string) (*Sweep, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read the sweep file: %v", err)}
	}
	return Parse(path, raw)
}

// Parse is Load for file contents already in memory.
func Parse(path string, raw []byte) (*Sweep, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, &Error{File: path, Msg: err.Error()}
	}
	s := &Sweep{File: abs}
	var errs Errors
	bad := func(n *yaml.Node, field, format string, args ...any) {
		line := 0
		if n != nil {
			line = n.Line
		}
		errs = append(errs, &Error{File: path, Field: field, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(raw)).Decode(&doc); err != nil {
		return nil, config.YAMLError(path, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, &Error{File: path, Msg: "the sweep file must be a YAML mapping with base and grid (see bsam sweep --help)"}
	}
	root := doc.Content[0]
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if !slices.Contains(topKeys, k.Value) {
			bad(k, k.Value, "unknown field (valid: %s)", strings.Join(topKeys, ", "))
			continue
		}
		if seen[k.Value] != nil {
			bad(k, k.Value, "listed twice")
			continue
		}
		seen[k.Value] = v
	}

	// base
	if n := seen["base"]; n == nil || n.Kind != yaml.ScalarNode || n.Value == "" {
		bad(n, "base", "required: the base experiment file, relative to the sweep file (e.g. base: ../quickstart.yaml)")
	} else {
		b := n.Value
		if !filepath.IsAbs(b) {
			b = filepath.Join(filepath.Dir(abs), b)
		}
		if _, err := os.Stat(b); err != nil {
			bad(n, "base", "base experiment %s not found (paths are relative to the sweep file)", b)
		} else {
			s.Base = b
		}
	}
	// name
	s.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	if n := seen["name"]; n != nil {
		if n.Kind != yaml.ScalarNode || n.Value == "" || strings.ContainsAny(n.Value, `/\ `) {
			bad(n, "name", "must be a non-empty name without slashes or spaces, got %q", n.Value)
		} else {
			s.Name = n.Value
		}
	}
	// seeds
	if n := seen["seeds"]; n != nil {
		if err := n.Decode(&s.Seeds); err != nil || n.Kind != yaml.SequenceNode || len(s.Seeds) == 0 {
			bad(n, "seeds", "must be a non-empty list of integers, e.g. seeds: [0, 1]")
			s.Seeds = nil
		}
		for i, x := range s.Seeds {
			if x < 0 || slices.Index(s.Seeds, x) != i {
				bad(n, fmt.Sprintf("seeds[%d]", i), "seeds must be distinct and ≥ 0, got %d", x)
			}
		}
	}
	// out
	if n := seen["out"]; n != nil {
		if n.Kind != yaml.ScalarNode || n.Value == "" {
			bad(n, "out", "must be a directory path")
		} else {
			s.Out = n.Value
		}
	}
	// set
	if n := seen["set"]; n != nil {
		if n.Kind != yaml.MappingNode {
			bad(n, "set", "must be a mapping from dotted path to value, e.g. set: {epochs: 3, data.train_subset: 1000}")
		} else {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				field := "set." + k.Value
				if slices.Contains(managed, k.Value) || strings.HasPrefix(k.Value, "methods.") {
					bad(k, field, "is set by the sweep itself; use the sweep file's own name/seeds/out fields or its grid")
					continue
				}
				val, ok := scalarText(v)
				if !ok {
					bad(v, field, "must be a scalar or a list of scalars")
					continue
				}
				s.Set = append(s.Set, Setting{Path: k.Value, Value: val})
			}
		}
	}
	// grid
	if n := seen["grid"]; n == nil {
		bad(root, "grid", "required: per-method grids, e.g. grid: {bsam: {optimizer.rho: [1.0e-4, 1.0e-3]}}")
	} else if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		bad(n, "grid", "must be a non-empty mapping from method to {optimizer.<field>: [values]}")
	} else {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			field := "grid." + k.Value
			if !slices.Contains(config.MethodNames, k.Value) {
				bad(k, field, "unknown method %q (valid: %s)", k.Value, strings.Join(config.MethodNames, ", "))
				continue
			}
			if slices.ContainsFunc(s.Grid, func(g MethodGrid) bool { return g.Method == k.Value }) {
				bad(k, field, "listed twice")
				continue
			}
			if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
				// "bsam:" alone: the method's base configuration, nothing swept.
				s.Grid = append(s.Grid, MethodGrid{Method: k.Value})
				continue
			}
			if v.Kind != yaml.MappingNode {
				bad(v, field, "must be a mapping of swept paths, e.g. {optimizer.rho: [0.01, 0.05]}, or {} to run the base configuration of the method")
				continue
			}
			g := MethodGrid{Method: k.Value}
			nerr := len(errs)
			for j := 0; j+1 < len(v.Content); j += 2 {
				pk, pv := v.Content[j], v.Content[j+1]
				pf := field + "." + pk.Value
				if !strings.HasPrefix(pk.Value, "optimizer.") || strings.Count(pk.Value, ".") != 1 {
					bad(pk, pf, "grid paths must be optimizer hyperparameters, optimizer.<field> (e.g. optimizer.rho, optimizer.lr)")
					continue
				}
				if pv.Kind != yaml.SequenceNode || len(pv.Content) == 0 {
					bad(pv, pf, "empty grid: must be a non-empty list of values, e.g. [0.01, 0.05]")
					continue
				}
				ax := Axis{Path: pk.Value}
				for _, c := range pv.Content {
					if c.Kind != yaml.ScalarNode {
						bad(c, pf, "values must be scalars")
						continue
					}
					if slices.Contains(ax.Values, c.Value) {
						bad(c, pf, "value %s listed twice", c.Value)
						continue
					}
					ax.Values = append(ax.Values, c.Value)
				}
				if slices.ContainsFunc(g.Axes, func(a Axis) bool { return a.Path == ax.Path }) {
					bad(pk, pf, "listed twice")
					continue
				}
				if slices.ContainsFunc(s.Set, func(st Setting) bool { return st.Path == ax.Path }) {
					bad(pk, pf, "is also fixed in set; a path is either fixed or swept")
					continue
				}
				g.Axes = append(g.Axes, ax)
			}
			if len(errs) == nerr {
				s.Grid = append(s.Grid, g)
			}
		}
	}
	// slurm
	if n := seen["slurm"]; n != nil {
		errs = append(errs, decodeStrict(path, n, "slurm", &s.Slurm)...)
		if s.Slurm.Throttle < 0 {
			bad(n, "slurm.throttle", "must be ≥ 0, got %d", s.Slurm.Throttle)
		}
		if s.Slurm.CPUsPerTask < 0 {
			bad(n, "slurm.cpus_per_task", "must be ≥ 0, got %d", s.Slurm.CPUsPerTask)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return s, nil
}

// check loads the base experiment with the fixed overrides and each grid
// value, so that a path that does not exist or a value of the wrong type is
// reported against the sweep file.
func (s *Sweep) check() error {
	var errs Errors
	base, err := config.Load(s.Base, s.overrides(nil, nil))
	if err != nil {
		return &Error{File: s.File, Field: "base", Msg: fmt.Sprintf("the base experiment with set: does not load:\n%v", err)}
	}
	for _, g := range s.Grid {
		m, ok := base.Method(g.Method)
		if !ok {
			var have []string
			for _, m := range base.Methods {
				have = append(have, m.Name)
			}
			errs = append(errs, &Error{File: s.File, Field: "grid." + g.Method, Msg: fmt.Sprintf("method %s is not in the base experiment %s (it has: %s)", g.Method, s.Base, strings.Join(have, ", "))})
			continue
		}
		hyper := base.Run(m, 0).HyperMap()
		for _, a := range g.Axes {
			field := "grid." + g.Method + "." + a.Path
			if _, ok := hyper[a.Hyper()]; !ok {
				names := make([]string, 0, len(hyper))
				for k := range hyper {
					names = append(names, "optimizer."+k)
				}
				slices.Sort(names)
				errs = append(errs, &Error{File: s.File, Field: field, Msg: fmt.Sprintf("not a hyperparameter of %s (valid: %s)", g.Method, strings.Join(names, ", "))})
				continue
			}
			for _, v := range a.Values {
				ovs := s.overrides(&g, []Setting{{Path: a.Path, Value: v}})
				e, err := config.Load(s.Base, ovs)
				if err == nil {
					err = e.SelectMethods([]string{g.Method})
				}
				if err != nil {
					errs = append(errs, &Error{File: s.File, Field: field, Msg: fmt.Sprintf("value %s: %v", v, err)})
				}
			}
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// overrides returns the config overrides of a run of method grid g with the
// given swept values, in increasing precedence: set, name, seeds, out,
// swept, the values. g nil gives only set and name.
func (s *Sweep) overrides(g *MethodGrid, values []Setting) []config.Override {
	var ovs []config.Override
	src := func(what string) string { return s.File + ": " + what }
	for _, st := range s.Set {
		ovs = append(ovs, config.Override{Path: st.Path, Value: st.Value, Source: src("set." + st.Path)})
	}
	ovs = append(ovs, config.Override{Path: "name", Value: s.Name, Source: src("name")})
	if g == nil {
		return ovs
	}
	var swept []string
	for _, a := range g.Axes {
		swept = append(swept, a.Hyper())
	}
	ovs = append(ovs, config.Override{Path: "swept", Value: strings.Join(swept, ","), Source: src("grid." + g.Method)})
	for _, v := range values {
		ovs = append(ovs, config.Override{Path: v.Path, Value: v.Value, Source: src("grid." + g.Method + "." + v.Path)})
	}
	return ovs
}

// scalarText renders a scalar node as its text and a list of scalars as
// comma-separated text, the form bsam train --set takes.
func scalarText(n *yaml.Node) (string, bool) {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value, true
	case yaml.SequenceNode:
		parts := make([]string, len(n.Content))
		for i, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return "", false
			}
			parts[i] = c.Value
		}
		return strings.Join(parts, ","), true
	}
	return "", false
}

// decodeStrict decodes a mapping node into v, rejecting unknown keys.
func decodeStrict(file string, n *yaml.Node, field string, v any) Errors {
	if n.Kind != yaml.MappingNode {
		return Errors{{File: file, Field: field, Line: n.Line, Msg: "must be a mapping"}}
	}
	var errs Errors
	known := yamlKeys(v)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !slices.Contains(known, k.Value) {
			errs = append(errs, &Error{File: file, Field: field + "." + k.Value, Line: k.Line, Msg: fmt.Sprintf("unknown field (valid: %s)", strings.Join(known, ", "))})
		}
	}
	if len(errs) > 0 {
		return errs
	}
	if err := n.Decode(v); err != nil {
		msg := err.Error()
		if te, ok := err.(*yaml.TypeError); ok {
			msg = strings.Join(te.Errors, "; ")
		}
		return Errors{{File: file, Field: field, Line: n.Line, Msg: msg}}
	}
	return nil
}

// yamlKeys lists the yaml tags of the Slurm struct (the only strict
// mapping of a sweep file).
func yamlKeys(v any) []string {
	if _, ok := v.(*Slurm); ok {
		return []string{"partition", "time", "cpus_per_task", "mem", "gres", "throttle", "account", "qos", "extra"}
	}
	return nil
}

// formatSeeds renders seeds as bsam train --seeds takes them.
func formatSeeds(seeds []int) string {
	parts := make([]string, len(seeds))
	for i, s := range seeds {
		parts[i] = strconv.Itoa(s)
	}
	return strings.Join(parts, ",")
}
