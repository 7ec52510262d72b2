package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const base = `name: t
model: mlp
dataset: mnist
epochs: 3
warmup: 1
seeds: [0, 1]
optimizer:
  lr: 0.2
  priorprec: 10
methods:
  sgd: {lr: 0.05}
  bsam:
    rho: 0.01
`

func TestParseResolvesMethods(t *testing.T) {
	e, err := Parse("exp.yaml", []byte(base), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Methods) != 2 || e.Methods[0].Name != "sgd" || e.Methods[1].Name != "bsam" {
		t.Fatalf("methods = %+v", e.Methods)
	}
	sgd, bsam := e.Methods[0].Optimizer, e.Methods[1].Optimizer
	if sgd.LR != 0.05 || bsam.LR != 0.2 {
		t.Errorf("lr: sgd %g (want 0.05, its own), bsam %g (want 0.2, shared)", sgd.LR, bsam.LR)
	}
	if bsam.Rho != 0.01 || sgd.PriorPrec != 10 || bsam.PriorPrec != 10 {
		t.Errorf("rho %g priorprec %g/%g", bsam.Rho, sgd.PriorPrec, bsam.PriorPrec)
	}
	d := Defaults()
	if bsam.Beta2 != d.Optimizer.Beta2 || e.BatchSize != d.BatchSize || !e.ExtraEpoch {
		t.Errorf("defaults not kept: beta2 %g batch %d extra %v", bsam.Beta2, e.BatchSize, e.ExtraEpoch)
	}
	if got := len(e.Runs()); got != 4 {
		t.Errorf("runs = %d, want 4", got)
	}
}

func TestPrecedence(t *testing.T) {
	// file says epochs 3; env says 5; flag says 7.
	t.Setenv("BSAM_EPOCHS", "5")
	t.Setenv("BSAM_OPTIMIZER_RHO", "0.5")
	t.Setenv("BSAM_METHODS_SGD_BETA1", "0.8")
	e, err := Parse("exp.yaml", []byte(base), nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.Epochs != 5 {
		t.Errorf("env: epochs = %d, want 5", e.Epochs)
	}
	bsam, _ := e.Method("bsam")
	sgd, _ := e.Method("sgd")
	if bsam.Optimizer.Rho != 0.5 {
		t.Errorf("env BSAM_OPTIMIZER_RHO beats the method's file value: rho = %g, want 0.5", bsam.Optimizer.Rho)
	}
	if sgd.Optimizer.Beta1 != 0.8 || bsam.Optimizer.Beta1 != 0.9 {
		t.Errorf("per-method env: sgd beta1 %g (want 0.8), bsam %g (want 0.9)", sgd.Optimizer.Beta1, bsam.Optimizer.Beta1)
	}
	e, err = Parse("exp.yaml", []byte(base), []Override{{Path: "epochs", Value: "7", Source: "--epochs"}, {Path: "seeds", Value: "3,4,5", Source: "--seeds"}})
	if err != nil {
		t.Fatal(err)
	}
	if e.Epochs != 7 || len(e.Seeds) != 3 || e.Seeds[2] != 5 {
		t.Errorf("flags: epochs %d seeds %v", e.Epochs, e.Seeds)
	}
}

func TestValidationErrors(t *testing.T) {
	cases := []struct {
		name, yaml string
		ovs        []Override
		want       []string // substrings of the error, which must also name the file
	}{
		{"unknown method", strings.Replace(base, "bsam:", "lbfgs:", 1), nil, []string{"methods.lbfgs", "unknown method"}},
		{"negative lr", strings.Replace(base, "lr: 0.05", "lr: -0.05", 1), nil, []string{"methods.sgd.lr", "must be > 0"}},
		{"empty seeds", strings.Replace(base, "seeds: [0, 1]", "seeds: []", 1), nil, []string{"seeds", "at least one seed"}},
		{"unknown key", base + "epochz: 3\n", nil, []string{"epochz", "unknown field", ":14"}},
		{"unknown nested key", strings.Replace(base, "priorprec: 10", "prior: 10", 1), nil, []string{"optimizer.prior", "unknown field"}},
		{"wrong type", strings.Replace(base, "epochs: 3", "epochs: three", 1), nil, []string{"epochs", "expected an integer", `"three"`}},
		{"float for int", strings.Replace(base, "epochs: 3", "epochs: 2.5", 1), nil, []string{"epochs", "expected an integer"}},
		{"unknown model", strings.Replace(base, "model: mlp", "model: vgg", 1), nil, []string{"model", "unknown model", "resnet20_frn"}},
		{"batchsplit", base + "batch_size: 100\n", []Override{{Path: "optimizer.batchsplit", Value: "8", Source: "--set"}}, []string{"batchsplit", "divisible"}},
		{"no methods", strings.Split(base, "methods:")[0], nil, []string{"methods", "no methods"}},
		{"bad override", base, []Override{{Path: "optimizer.lr", Value: "fast", Source: "--set optimizer.lr=fast"}}, []string{"optimizer.lr", "expected a number", "--set"}},
		{"negative rho", strings.Replace(base, "rho: 0.01", "rho: -1", 1), nil, []string{"methods.bsam.rho", "≥ 0"}},
		{"duplicate key", base + "epochs: 5\n", nil, []string{"epochs", "listed twice", ":14"}},
		{"infinite priorprec", strings.Replace(base, "priorprec: 10", "priorprec: .inf", 1), nil, []string{"methods.sgd.priorprec", "finite"}},
		{"empty cosine", strings.Replace(base, "warmup: 1", "warmup: 3\nextra_epoch: false", 1), nil, []string{"warmup", "cosine phase would be empty"}},
		{"warmup > epochs", strings.Replace(base, "warmup: 1", "warmup: 9", 1), nil, []string{"warmup"}},
		{"not yaml", "a: [", nil, []string{"not valid YAML"}},
		{"negative validation", base + "data: {validation: -5}\n", nil, []string{"data.validation", "≥ 0"}},
		{"validation with test_subset", base + "data: {validation: 500, test_subset: 100}\n", nil, []string{"data.test_subset", "data.validation"}},
		{"unknown precision", base + "engine: {precision: fp16}\n", nil, []string{"engine.precision", `"fp16"`, "fp32, bf16"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("exp.yaml", []byte(c.yaml), c.ovs)
			if err == nil {
				t.Fatal("no error")
			}
			var ue interface{ UsageError() bool }
			if !errors.As(err, &ue) || !ue.UsageError() {
				t.Errorf("error %v is not a usage error", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "exp.yaml") && c.ovs == nil && c.name != "not yaml" {
				t.Errorf("error does not name the file: %s", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}

func TestHashIgnoresPlacementOnly(t *testing.T) {
	e, err := Parse("exp.yaml", []byte(base), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := e.Runs()[0]
	h := r.Hash()
	r2 := r
	r2.Data.Dir, r2.Engine.Workers = "/elsewhere", 7
	if r2.Hash() != h {
		t.Error("data dir or loader workers changed the hash")
	}
	r5 := r
	r5.Data.Validation = 5000
	if r5.Hash() == h {
		t.Error("data.validation did not change the hash")
	}
	if strings.Contains(string(r.YAML()), "validation") {
		t.Error("config.yaml of a run without data.validation names it: older runs' hashes would change")
	}
	r3 := r
	r3.Optimizer.LR *= 2
	r4 := r
	r4.Seed++
	if r3.Hash() == h || r4.Hash() == h {
		t.Error("lr or seed did not change the hash")
	}
}

// TestHashPrecision checks that engine.precision is part of a run's
// identity only when it is bf16: a run without the field, or with "fp32",
// keeps the hash it had before the field existed (its config.yaml does not
// name it), and bf16 changes it.
func TestHashPrecision(t *testing.T) {
	e, err := Parse("exp.yaml", []byte(base), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := e.Runs()[0]
	if strings.Contains(string(r.YAML()), "precision") {
		t.Error("config.yaml of a run without engine.precision names it: older runs' hashes would change")
	}
	for _, p := range []string{"fp32", "bf16"} {
		ep, err := Parse("exp.yaml", []byte(base+"engine: {precision: "+p+"}\n"), nil)
		if err != nil {
			t.Fatalf("precision %s: %v", p, err)
		}
		rp := ep.Runs()[0]
		if rp.Engine.Precision != p {
			t.Fatalf("precision %s parsed as %q", p, rp.Engine.Precision)
		}
		if same := rp.Hash() == r.Hash(); same != (p == "fp32") {
			t.Errorf("precision %s: hash equal to the default's = %v, want %v", p, same, p == "fp32")
		}
	}
}

func TestSelectMethods(t *testing.T) {
	e, _ := Parse("exp.yaml", []byte(base), nil)
	if err := e.SelectMethods([]string{"bsam"}); err != nil || len(e.Methods) != 1 || e.Methods[0].Name != "bsam" {
		t.Fatalf("select bsam: %v %+v", err, e.Methods)
	}
	if err := e.SelectMethods([]string{"adam"}); err == nil || !strings.Contains(err.Error(), "not in this experiment") {
		t.Errorf("select adam: %v", err)
	}
}

// TestRepositoryConfigs checks that every experiment file shipped in
// configs/ resolves and validates.
func TestRepositoryConfigs(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "configs", "*.yaml"))
	if len(files) == 0 {
		t.Skip("no configs/ directory next to the package")
	}
	for _, f := range files {
		if _, err := Load(f, nil); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join("..", "..", "configs", "quickstart.yaml")); err != nil {
		t.Errorf("configs/quickstart.yaml missing: %v", err)
	}
}

// TestOverrideErrorsNameTheirSource checks that a bad value coming from a
// flag or an environment variable is blamed on it, not on the file.
func TestOverrideErrorsNameTheirSource(t *testing.T) {
	_, err := Parse("exp.yaml", []byte(base), []Override{{Path: "epochs", Value: "0", Source: "--epochs"}})
	if err == nil || strings.Contains(err.Error(), "exp.yaml") || !strings.Contains(err.Error(), "(from --epochs)") {
		t.Errorf("--epochs 0: %v", err)
	}
	t.Setenv("BSAM_OPTIMIZER_BATCHSPLIT", "7")
	_, err = Parse("exp.yaml", []byte(base), nil)
	if err == nil || !strings.Contains(err.Error(), "methods.bsam.batchsplit") || !strings.Contains(err.Error(), "BSAM_OPTIMIZER_BATCHSPLIT") {
		t.Errorf("BSAM_OPTIMIZER_BATCHSPLIT=7: %v", err)
	}
}

// TestHashIgnoresUnusedHyperparameters: a hyperparameter the method does
// not use must not change its run's identity (SGD has no rho), while one it
// uses must.
func TestHashIgnoresUnusedHyperparameters(t *testing.T) {
	e, err := Parse("exp.yaml", []byte(base), nil)
	if err != nil {
		t.Fatal(err)
	}
	sgd, _ := e.Method("sgd")
	bsam, _ := e.Method("bsam")
	r, b := e.Run(sgd, 0), e.Run(bsam, 0)
	r2, b2 := r, b
	r2.Optimizer.Rho, r2.Optimizer.Damping, r2.TestMC = 0.3, 0.7, 99
	b2.Optimizer.Rho = 0.3
	if r2.Hash() != r.Hash() {
		t.Error("rho, damping or test_mc changed an SGD run's hash")
	}
	if b2.Hash() == b.Hash() {
		t.Error("rho did not change a bSAM run's hash")
	}
}

func TestAutoShardSize(t *testing.T) {
	cases := []struct {
		model              string
		batch, split, want int
	}{
		{"resnet20_frn", 200, 8, 13}, // sub-batches of 25: 13 + 12
		{"resnet20_frn", 128, 8, 8},  // sub-batches of 16: 8 + 8
		{"resnet18", 200, 8, 13},
		{"lenet", 4, 8, 1},
		{"mlp", 200, 8, 32},
	}
	for _, c := range cases {
		if got := AutoShardSize(c.model, c.batch, c.split); got != c.want {
			t.Errorf("AutoShardSize(%s, %d, %d) = %d, want %d", c.model, c.batch, c.split, got, c.want)
		}
	}
	e, err := Parse("exp.yaml", []byte(strings.Replace(base, "model: mlp", "model: resnet20_frn", 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.Engine.ShardSize != 13 {
		t.Errorf("resolved shard size %d, want 13 for batch 200 and batchsplit 8", e.Engine.ShardSize)
	}
}

// TestHashConv checks that the effective convolution algorithm is part of
// a run's identity only when it is winograd: for a model whose default is
// direct, no field, "direct" and the default hash alike (as before the
// field existed) and "winograd" differs; for ResNet-18, whose default is
// winograd, no field and "winograd" hash alike and "direct" differs.
func TestHashConv(t *testing.T) {
	hash := func(model, conv string) string {
		t.Helper()
		src := strings.Replace(base, "model: mlp", "model: "+model, 1)
		if conv != "" {
			src += "engine: {conv: " + conv + "}\n"
		}
		e, err := Parse("exp.yaml", []byte(src), nil)
		if err != nil {
			t.Fatalf("%s %q: %v", model, conv, err)
		}
		r := e.Runs()[0]
		if r.Model != model {
			t.Fatalf("model %q parsed as %q", model, r.Model)
		}
		if want := map[string]string{"": DefaultConv(model)}[conv]; conv == "" && r.EffectiveConv() != want {
			t.Fatalf("%s: effective conv %q, want %q", model, r.EffectiveConv(), want)
		}
		return r.Hash()
	}
	if strings.Contains(string(mustRun(t).YAML()), "conv") {
		t.Error("config.yaml of a run without engine.conv names it: older runs' hashes would change")
	}
	for _, tc := range []struct {
		model, a, b string
		same        bool
	}{
		{"mlp", "", "direct", true},
		{"mlp", "", "winograd", false},
		{"resnet18", "", "winograd", true},
		{"resnet18", "", "direct", false},
	} {
		if same := hash(tc.model, tc.a) == hash(tc.model, tc.b); same != tc.same {
			t.Errorf("%s: engine.conv %q and %q hash alike = %v, want %v", tc.model, tc.a, tc.b, same, tc.same)
		}
	}
	if _, err := Parse("exp.yaml", []byte(base+"engine: {conv: fft}\n"), nil); err == nil || !strings.Contains(err.Error(), "engine.conv") {
		t.Errorf("engine.conv: fft gave %v, want an error naming engine.conv", err)
	}
}

// TestConvBF16 checks that a bf16 run computes, records and hashes its
// convolutions with the model's default algorithm (winograd for the
// ResNets), as an fp32 run does, that engine.conv: direct keeps a bf16 run
// direct (the hash of the bf16 runs made before Winograd ran in bf16), and
// that an explicit winograd with bf16 is accepted.
func TestConvBF16(t *testing.T) {
	run := func(model, engine string) Run {
		t.Helper()
		src := strings.Replace(base, "model: mlp", "model: "+model, 1) + "engine: {" + engine + "}\n"
		e, err := Parse("exp.yaml", []byte(src), nil)
		if err != nil {
			t.Fatalf("%s {%s}: %v", model, engine, err)
		}
		return e.Runs()[0]
	}
	for _, model := range []string{"resnet20_frn", "resnet18"} {
		if DefaultConv(model) != "winograd" {
			t.Fatalf("%s: default %q; this test needs a model whose default is winograd", model, DefaultConv(model))
		}
		r := run(model, "precision: bf16")
		if got := r.EffectiveConv(); got != "winograd" {
			t.Errorf("%s bf16: effective conv %q, want the default winograd", model, got)
		}
		if r.Hash() != run(model, "precision: bf16, conv: winograd").Hash() {
			t.Errorf("%s bf16: no engine.conv and conv: winograd hash differently", model)
		}
		direct := run(model, "precision: bf16, conv: direct")
		if direct.EffectiveConv() != "direct" || direct.Hash() == r.Hash() {
			t.Errorf("%s bf16 conv: direct: effective %q, hash equal to winograd's: %v", model, direct.EffectiveConv(), direct.Hash() == r.Hash())
		}
		if r.Hash() == run(model, "precision: fp32").Hash() {
			t.Errorf("%s: bf16 and fp32 hash alike", model)
		}
	}
}

func mustRun(t *testing.T) Run {
	t.Helper()
	e, err := Parse("exp.yaml", []byte(base), nil)
	if err != nil {
		t.Fatal(err)
	}
	return e.Runs()[0]
}
