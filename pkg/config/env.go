package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// EnvIgnore names the environment variable that lists further BSAM_*
// variables CheckEnv lets through (comma-separated names; a trailing * matches
// a prefix), e.g. BSAM_ENV_IGNORE=BSAM_MY_WRAPPER,BSAM_SITE_*. It is the escape
// hatch for variables of other tools or site scripts that happen to share
// the prefix.
const EnvIgnore = "BSAM_ENV_IGNORE"

// OtherEnv lists the BSAM_* variables that are not configuration fields,
// with what reads them. CheckEnv accepts them.
var OtherEnv = map[string]string{
	EnvIgnore:              "more BSAM_* names to ignore",
	"BSAM_SBATCH":          "bsam sweep: the sbatch binary",
	"BSAM_SQUEUE":          "bsam sweep: the squeue binary",
	"BSAM_SACCT":           "bsam sweep: the sacct binary",
	"BSAM_SHARED_DIR":      "bsam check: the directory holding data/cifar10-jpeg.tar.gz",
	"BSAM_TEST_FAULT":      "tests: fault injection",
	"BSAM_GOLDEN_DIR":      "tests: golden reference data",
	"BSAM_SHARED_DATA_DIR": "tests: shared real data",
	"BSAM_MNIST_DIR":       "tests: real MNIST files",
	"BSAM_FMNIST_DIR":      "tests: real Fashion-MNIST files",
	"BSAM_SLURM_IT":        "tests: the Slurm integration test",
}

// EnvNames returns every environment variable that overrides a field:
// BSAM_<PATH> for every field and BSAM_METHODS_<METHOD>_<FIELD> for every
// method's hyperparameters, sorted.
func EnvNames() []string {
	var names []string
	for _, p := range envPaths() {
		names = append(names, EnvName(p))
	}
	slices.Sort(names)
	return names
}

// envPaths lists the field paths that environment variables can set.
func envPaths() []string {
	paths := leafPaths(reflect.TypeOf(Experiment{}), "")
	for _, m := range MethodNames {
		for _, p := range leafPaths(reflect.TypeOf(Optimizer{}), "") {
			paths = append(paths, "methods."+m+"."+p)
		}
	}
	return paths
}

// CheckEnv rejects BSAM_* variables of environ (KEY=VALUE strings, as
// os.Environ returns) that are neither a field's variable nor one of
// OtherEnv nor listed in BSAM_ENV_IGNORE: a misspelt BSAM_EPOCH would
// otherwise be ignored silently. The error is a usage error naming the
// nearest valid variable.
func CheckEnv(environ []string) error {
	valid := EnvNames()
	var ignore []string
	for _, kv := range environ {
		if k, v, _ := strings.Cut(kv, "="); k == EnvIgnore {
			for _, s := range strings.Split(v, ",") {
				if s = strings.TrimSpace(s); s != "" {
					ignore = append(ignore, s)
				}
			}
		}
	}
	ignored := func(name string) bool {
		for _, p := range ignore {
			if p == name || (strings.HasSuffix(p, "*") && strings.HasPrefix(name, strings.TrimSuffix(p, "*"))) {
				return true
			}
		}
		return false
	}
	var errs Errors
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, EnvPrefix+"_") {
			continue
		}
		if _, ok := OtherEnv[name]; ok || ignored(name) {
			continue
		}
		if _, found := slices.BinarySearch(valid, name); found {
			continue
		}
		msg := "unknown environment variable " + name
		if near := nearest(name, append(valid, otherEnvNames()...)); near != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", near)
		}
		msg += fmt.Sprintf("; fields are set with BSAM_<PATH> (e.g. BSAM_EPOCHS, BSAM_METHODS_BSAM_RHO); unset it, or list it in %s to ignore it", EnvIgnore)
		errs = append(errs, &Error{Msg: msg})
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func otherEnvNames() []string {
	names := make([]string, 0, len(OtherEnv))
	for n := range OtherEnv {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// nearest returns the candidate closest to name by edit distance, or ""
// when none is reasonably close.
func nearest(name string, candidates []string) string {
	best, bestD := "", -1
	for _, c := range candidates {
		if d := editDistance(name, c); bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD < 0 || bestD > max(3, len(name)/3) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// parserMessages are the messages of yaml.v3's parser (not its scanner).
// yaml.v3 reports the line of these errors 0-based (one line early); its
// scanner errors are 1-based.
var parserMessages = []string{
	"did not find expected node content",
	"did not find expected key",
	"did not find expected '-' indicator",
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"did not find expected <document start>",
	"found incompatible YAML document",
	"found duplicate %YAML directive",
	"found duplicate %TAG directive",
}

// YAMLError turns a yaml.v3 decoding error of file into an *Error with
// the right line: "yaml: line N: msg" becomes File:N' with N' 1-based.
func YAMLError(file string, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, after, ok := strings.Cut(rest, ": "); ok {
			if _, serr := fmt.Sscanf(n, "%d", &line); serr == nil {
				msg = after
				if slices.Contains(parserMessages, msg) {
					line++
				}
			} else {
				line = 0
			}
		}
	}
	return &Error{File: file, Line: line, Msg: "not valid YAML: " + msg}
}
