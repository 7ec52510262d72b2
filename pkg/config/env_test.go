package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckEnvRejectsMisspeltVariables(t *testing.T) {
	for _, c := range []struct{ env, near string }{
		{"BSAM_EPOCH=3", "BSAM_EPOCHS"},
		{"BSAM_METHODS_BSAM_RHOO=1", "BSAM_METHODS_BSAM_RHO"},
		{"BSAM_DATA_DIRR=/x", "BSAM_DATA_DIR"},
	} {
		err := CheckEnv([]string{"HOME=/root", c.env})
		var es Errors
		if !errors.As(err, &es) || len(es) != 1 {
			t.Fatalf("%s: got %v, want one config error", c.env, err)
		}
		if !strings.Contains(err.Error(), "did you mean "+c.near+"?") || !strings.Contains(err.Error(), EnvIgnore) {
			t.Errorf("%s: %v: want the nearest name %s and the escape hatch", c.env, err, c.near)
		}
		if !es.UsageError() {
			t.Errorf("%s: not a usage error", c.env)
		}
	}
}

func TestCheckEnvAcceptsFieldsOthersAndIgnored(t *testing.T) {
	env := []string{
		"BSAM_EPOCHS=3", "BSAM_METHODS_BSAM_RHO=0.1", "BSAM_DATA_DIR=/d", "BSAM_OPTIMIZER_BETA1=0.9",
		"BSAM_ENGINE_WORKERS=2", "BSAM_GOLDEN_DIR=/g", "BSAM_SLURM_IT=1", "BSAM_TEST_FAULT=kill-at-step:3",
		"BSAM_SBATCH=/bin/sbatch", "NOT_BSAM=1", "BSAMX=1",
		EnvIgnore + "=BSAM_MY_WRAPPER, BSAM_SITE_*", "BSAM_MY_WRAPPER=1", "BSAM_SITE_QUEUE=x",
	}
	if err := CheckEnv(env); err != nil {
		t.Fatal(err)
	}
	if err := CheckEnv([]string{"BSAM_MY_WRAPPER=1"}); err == nil {
		t.Error("BSAM_MY_WRAPPER accepted without " + EnvIgnore)
	}
}

// TestEveryNonConfigVariableIsKnown scans the repository for BSAM_* names
// and requires each to be a field's variable or listed in OtherEnv, so a
// new test or tool variable cannot make CheckEnv reject real use.
func TestEveryNonConfigVariableIsKnown(t *testing.T) {
	root := filepath.Join("..", "..")
	valid := map[string]bool{}
	for _, n := range EnvNames() {
		valid[n] = true
	}
	seen := map[string]string{}
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if n := d.Name(); n == ".git" || n == "runs" || n == "bin" || n == "results" {
				return filepath.SkipDir
			}
			return nil
		}
		if n := d.Name(); n == "env.go" || n == "env_test.go" || n == "env_e2e_test.go" { // deliberate misspellings
			return nil
		}
		switch filepath.Ext(p) {
		case ".go", ".sh", ".yaml", ".md", "":
		default:
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		s := string(b)
		for i := strings.Index(s, "BSAM_"); i >= 0; {
			j := i + len("BSAM_")
			for j < len(s) && (s[j] == '_' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			if j < len(s) && s[j] != '<' { // BSAM_<PATH>, BSAM_METHODS_<METHOD>_…
				if name := strings.TrimRight(s[i:j], "_"); name != "BSAM" {
					seen[name] = p
				}
			}
			k := strings.Index(s[j:], "BSAM_")
			if k < 0 {
				break
			}
			i = j + k
		}
		return nil
	})
	if len(seen) < 5 {
		t.Fatalf("found only %d BSAM_ names; is the walk broken?", len(seen))
	}
	for name, file := range seen {
		// Documentation shows BSAM_EPOCH as the misspelling it rejects.
		if _, other := OtherEnv[name]; !other && !valid[name] && name != "BSAM_EPOCH" {
			t.Errorf("%s (in %s) is neither a field's variable nor in OtherEnv", name, file)
		}
	}
}

func TestWarmupErrorNamesTheFix(t *testing.T) {
	_, err := Parse("exp.yaml", []byte(strings.Replace(base, "warmup: 1", "warmup: 5", 1)), []Override{{Path: "epochs", Value: "1", Source: "--epochs"}})
	if err == nil {
		t.Fatal("warmup 5 with 1 epoch accepted")
	}
	if !strings.Contains(err.Error(), "--set warmup=0") {
		t.Errorf("error does not name the fix: %v", err)
	}
}

func TestYAMLErrorLines(t *testing.T) {
	for _, c := range []struct {
		body string
		line int
	}{
		{"name: a\nmodel: mlp\nseeds: [0, 1\nepochs: 3\n", 3}, // parser error (flow sequence)
		{"name: a\nmodel: mlp\n- x\n", 3},                     // parser error (block mapping)
		{"name: a\n  model: mlp\n", 2},                        // scanner error
		{"name: a\nmodel: {x: 1\n", 2},                        // parser error (flow mapping)
		{"name: a\nmodel: \"mlp\n", 2},                        // scanner error
	} {
		_, err := Parse("exp.yaml", []byte(c.body), nil)
		var ce *Error
		if !errors.As(err, &ce) {
			t.Fatalf("%q: got %v, want a *config.Error", c.body, err)
		}
		if ce.Line != c.line || !strings.HasPrefix(err.Error(), "exp.yaml:") {
			t.Errorf("%q: %v: line %d, want %d", c.body, err, ce.Line, c.line)
		}
	}
}
