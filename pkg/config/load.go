package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/viper"
	"gopkg.in/yaml.v3"
)

// Error is a configuration error naming the file and the field.
type Error struct {
	File  string // the experiment file, or "" for flags and environment
	Field string // dotted field path, e.g. optimizer.lr
	Line  int    // line in File, 0 if unknown
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// UsageError marks configuration errors as usage errors (exit code 2).
func (e *Error) UsageError() bool { return true }

// Errors is a list of configuration errors, reported together.
type Errors []*Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// UsageError marks configuration errors as usage errors (exit code 2).
func (es Errors) UsageError() bool { return true }

// Override sets one field from outside the file: a flag or an environment
// variable. Path is the dotted field path (optimizer.lr, methods.bsam.rho,
// seeds); Value is parsed into the field's type.
type Override struct {
	Path   string
	Value  string
	Source string // e.g. "--set", "--epochs", "BSAM_EPOCHS", for error messages
}

// EnvPrefix is the prefix of environment variables that override fields:
// BSAM_EPOCHS, BSAM_OPTIMIZER_LR, BSAM_DATA_DIR, …
const EnvPrefix = "BSAM"

// Load reads an experiment file and resolves it with precedence
// flags (overrides) > environment (BSAM_…) > file > defaults, then
// validates it. Errors name the file and field and are usage errors.
func Load(path string, overrides []Override) (*Experiment, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading experiment: %w", err)
	}
	return Parse(path, raw, overrides)
}

// Parse is Load for file contents already in memory; path names them in
// errors.
func Parse(path string, raw []byte, overrides []Override) (*Experiment, error) {
	e := Defaults()
	e.File = path
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, YAMLError(path, err)
	}
	var errs Errors
	var methodNodes []*yaml.Node
	var methodNames []string
	if len(doc.Content) > 0 {
		root := doc.Content[0]
		if root.Kind != yaml.MappingNode {
			return nil, &Error{File: path, Line: root.Line, Msg: "the experiment must be a YAML mapping"}
		}
		for i := 0; i+1 < len(root.Content); i += 2 {
			k, v := root.Content[i], root.Content[i+1]
			if k.Value != "methods" {
				continue
			}
			if v.Kind != yaml.MappingNode {
				errs = append(errs, &Error{File: path, Field: "methods", Line: v.Line, Msg: "must be a mapping from method name to its hyperparameters, e.g. methods: {sgd: {lr: 0.1}, bsam: {rho: 0.01}}"})
				continue
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				name := v.Content[j].Value
				if !slices.Contains(MethodNames, name) {
					errs = append(errs, &Error{File: path, Field: "methods." + name, Line: v.Content[j].Line, Msg: fmt.Sprintf("unknown method %q (valid: %s)", name, strings.Join(MethodNames, ", "))})
					continue
				}
				if slices.Contains(methodNames, name) {
					errs = append(errs, &Error{File: path, Field: "methods." + name, Line: v.Content[j].Line, Msg: "listed twice"})
					continue
				}
				methodNames = append(methodNames, name)
				methodNodes = append(methodNodes, v.Content[j+1])
			}
		}
		errs = append(errs, applyNode(path, root, reflect.ValueOf(&e).Elem(), "", map[string]bool{"methods": true})...)
	}

	// Environment and flag overrides of top-level and optimizer fields.
	ovs := append(envOverrides(), overrides...)
	var perMethod []Override
	for _, o := range ovs {
		if strings.HasPrefix(o.Path, "methods.") || strings.HasPrefix(o.Path, "optimizer.") {
			perMethod = append(perMethod, o)
			continue
		}
		if err := setPath(reflect.ValueOf(&e).Elem(), o.Path, o.Value); err != nil {
			errs = append(errs, &Error{Field: o.Path, Msg: fmt.Sprintf("%s (from %s)", err, o.Source)})
		}
	}

	// Methods: each starts from the shared optimizer block, then its own
	// file overrides, then optimizer.* and methods.<name>.* overrides.
	if len(methodNames) == 0 && len(errs) == 0 {
		errs = append(errs, &Error{File: path, Field: "methods", Msg: "no methods: list at least one of " + strings.Join(MethodNames, ", ")})
	}
	reported := map[string]bool{}
	for i, name := range methodNames {
		m := Method{Name: name, Optimizer: e.Optimizer}
		n := methodNodes[i]
		if n.Kind == yaml.ScalarNode && (n.Tag == "!!null" || n.Value == "") {
			// "bsam:" with nothing after it uses the shared block.
		} else {
			errs = append(errs, applyNode(path, n, reflect.ValueOf(&m.Optimizer).Elem(), "methods."+name, nil)...)
		}
		for _, o := range perMethod {
			var sub string
			switch {
			case strings.HasPrefix(o.Path, "optimizer."):
				sub = strings.TrimPrefix(o.Path, "optimizer.")
			case strings.HasPrefix(o.Path, "methods."+name+"."):
				sub = strings.TrimPrefix(o.Path, "methods."+name+".")
			default:
				continue
			}
			if err := setPath(reflect.ValueOf(&m.Optimizer).Elem(), sub, o.Value); err != nil && !reported[o.Path] {
				reported[o.Path] = true
				errs = append(errs, &Error{Field: o.Path, Msg: fmt.Sprintf("%s (from %s)", err, o.Source)})
			}
		}
		e.Methods = append(e.Methods, m)
	}
	for _, o := range perMethod {
		if strings.HasPrefix(o.Path, "methods.") {
			name := strings.SplitN(strings.TrimPrefix(o.Path, "methods."), ".", 2)[0]
			if !slices.Contains(methodNames, name) {
				errs = append(errs, &Error{Field: o.Path, Msg: fmt.Sprintf("method %q is not in the experiment (from %s)", name, o.Source)})
			}
		}
	}
	if e.Engine.ShardSize == 0 {
		split := 8
		for _, m := range e.Methods {
			if IsSAMType(m.Name) && m.Optimizer.BatchSplit > 0 {
				split = m.Optimizer.BatchSplit
			}
		}
		e.Engine.ShardSize = AutoShardSize(e.Model, e.BatchSize, split)
	}
	sort.SliceStable(e.Methods, func(i, j int) bool {
		return slices.Index(MethodNames, e.Methods[i].Name) < slices.Index(MethodNames, e.Methods[j].Name)
	})
	if len(errs) > 0 {
		return nil, errs
	}
	if err := e.Validate(); err != nil {
		var verrs Errors
		if errors.As(err, &verrs) {
			attribute(verrs, ovs)
		}
		return nil, err
	}
	return &e, nil
}

// attribute points validation errors about fields that a flag or an
// environment variable set at that source instead of the file.
func attribute(errs Errors, ovs []Override) {
	for _, e := range errs {
		for _, o := range ovs {
			match := o.Path == e.Field
			if method, field, ok := strings.Cut(strings.TrimPrefix(e.Field, "methods."), "."); ok && strings.HasPrefix(e.Field, "methods.") {
				match = match || o.Path == "optimizer."+field || o.Path == "methods."+method+"."+field
			}
			if match || strings.HasPrefix(e.Field, o.Path+"[") {
				e.File, e.Line = "", 0
				e.Msg += " (from " + o.Source + ")"
			}
		}
	}
}

// applyNode sets the fields of v (a struct) from a YAML mapping node,
// rejecting unknown keys and values of the wrong type.
func applyNode(file string, n *yaml.Node, v reflect.Value, prefix string, skip map[string]bool) Errors {
	var errs Errors
	field := func(name string) string {
		if prefix == "" {
			return name
		}
		return prefix + "." + name
	}
	if n.Kind != yaml.MappingNode {
		return Errors{{File: file, Field: prefix, Line: n.Line, Msg: "must be a mapping of fields"}}
	}
	t := v.Type()
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			errs = append(errs, &Error{File: file, Field: field(k.Value), Line: k.Line, Msg: "listed twice"})
			continue
		}
		seen[k.Value] = true
		if skip[k.Value] {
			continue
		}
		idx := fieldIndex(t, k.Value)
		if idx < 0 {
			errs = append(errs, &Error{File: file, Field: field(k.Value), Line: k.Line, Msg: fmt.Sprintf("unknown field (valid here: %s)", strings.Join(fieldNames(t), ", "))})
			continue
		}
		fv := v.Field(idx)
		if fv.Kind() == reflect.Struct {
			errs = append(errs, applyNode(file, val, fv, field(k.Value), nil)...)
			continue
		}
		ptr := reflect.New(fv.Type())
		if !tagFits(fv.Type(), val) {
			errs = append(errs, &Error{File: file, Field: field(k.Value), Line: val.Line, Msg: fmt.Sprintf("expected %s, got %q", typeName(fv.Type()), val.Value)})
			continue
		}
		if err := val.Decode(ptr.Interface()); err != nil {
			errs = append(errs, &Error{File: file, Field: field(k.Value), Line: val.Line, Msg: fmt.Sprintf("expected %s, got %q", typeName(fv.Type()), val.Value)})
			continue
		}
		fv.Set(ptr.Elem())
	}
	return errs
}

// tagFits reports whether a YAML node's resolved type suits a field of type
// t, so that 2.5 is not silently truncated into an integer field.
func tagFits(t reflect.Type, n *yaml.Node) bool {
	switch t.Kind() {
	case reflect.Int:
		return n.Kind == yaml.ScalarNode && n.Tag == "!!int"
	case reflect.Float64:
		return n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || n.Tag == "!!float")
	case reflect.Bool:
		return n.Kind == yaml.ScalarNode && n.Tag == "!!bool"
	case reflect.String:
		return n.Kind == yaml.ScalarNode
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return false
		}
		for _, c := range n.Content {
			if !tagFits(t.Elem(), c) {
				return false
			}
		}
	}
	return true
}

func fieldIndex(t reflect.Type, name string) int {
	for i := 0; i < t.NumField(); i++ {
		if tagName(t.Field(i)) == name {
			return i
		}
	}
	return -1
}

func tagName(f reflect.StructField) string {
	tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
	if tag == "-" {
		return ""
	}
	return tag
}

func fieldNames(t reflect.Type) []string {
	var names []string
	for i := 0; i < t.NumField(); i++ {
		if n := tagName(t.Field(i)); n != "" {
			names = append(names, n)
		}
	}
	if t == reflect.TypeOf(Experiment{}) {
		names = append(names, "methods")
	}
	return names
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int:
		return "an integer"
	case reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list of " + t.Elem().Kind().String() + " values"
	}
	return t.String()
}

// setPath sets the field at a dotted path from a string value.
func setPath(v reflect.Value, path, value string) error {
	parts := strings.Split(path, ".")
	for i, p := range parts {
		idx := fieldIndex(v.Type(), p)
		if idx < 0 {
			return fmt.Errorf("unknown field %q", strings.Join(parts[:i+1], "."))
		}
		v = v.Field(idx)
		if i < len(parts)-1 && v.Kind() != reflect.Struct {
			return fmt.Errorf("%q has no sub-fields", strings.Join(parts[:i+1], "."))
		}
	}
	return parseInto(v, value)
}

func parseInto(v reflect.Value, s string) error {
	s = strings.TrimSpace(s)
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("expected true or false, got %q", s)
		}
		v.SetBool(b)
	case reflect.Int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("expected an integer, got %q", s)
		}
		v.SetInt(int64(n))
	case reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("expected a number, got %q", s)
		}
		v.SetFloat(f)
	case reflect.Slice:
		s = strings.Trim(s, "[]")
		var parts []string
		if s != "" {
			parts = strings.Split(s, ",")
		}
		sl := reflect.MakeSlice(v.Type(), len(parts), len(parts))
		for i, p := range parts {
			if err := parseInto(sl.Index(i), p); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
		v.Set(sl)
	default:
		return errors.New("cannot be set from a string")
	}
	return nil
}

// leafPaths lists the dotted paths of all settable fields of t.
func leafPaths(t reflect.Type, prefix string) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		name := tagName(t.Field(i))
		if name == "" {
			continue
		}
		p := name
		if prefix != "" {
			p = prefix + "." + name
		}
		if t.Field(i).Type.Kind() == reflect.Struct {
			out = append(out, leafPaths(t.Field(i).Type, p)...)
		} else {
			out = append(out, p)
		}
	}
	return out
}

// EnvName returns the environment variable that overrides a field path.
func EnvName(path string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
}

// envOverrides reads BSAM_… variables for every field (through viper's
// environment binding), plus BSAM_METHODS_<METHOD>_<FIELD> for per-method
// hyperparameters.
func envOverrides() []Override {
	v := viper.New()
	var out []Override
	for _, p := range envPaths() {
		env := EnvName(p)
		_ = v.BindEnv(p, env)
		if _, ok := os.LookupEnv(env); ok {
			out = append(out, Override{Path: p, Value: v.GetString(p), Source: env})
		}
	}
	return out
}
