package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Experiment is one experiment file: a model and dataset trained with one or
// more methods over several seeds. Field names follow SPEC §6 and the
// official code's flags.
type Experiment struct {
	// Name identifies the experiment in run directories and reports.
	Name string `yaml:"name"`
	// Model is the network: mlp, lenet, resnet20_frn or resnet18.
	Model string `yaml:"model"`
	// Dataset is mnist, fmnist, cifar10, cifar100 or tinyimagenet.
	Dataset string `yaml:"dataset"`
	// Data says where the data comes from.
	Data Data `yaml:"data"`
	// Augment turns on random crop + flip (CIFAR, TinyImageNet; ignored
	// for MNIST-like data, as in the official code).
	Augment bool `yaml:"augment"`
	// Epochs is the official --epochs; with ExtraEpoch the run trains
	// Epochs+1 epochs as the official code does (SPEC §2.1).
	Epochs int `yaml:"epochs"`
	// Warmup is the number of linear warm-up epochs.
	Warmup int `yaml:"warmup"`
	// ExtraEpoch reproduces the official range(epochs+1) loop.
	ExtraEpoch bool `yaml:"extra_epoch"`
	// BatchSize and TestBatchSize are the training and test minibatch sizes.
	BatchSize     int `yaml:"batch_size"`
	TestBatchSize int `yaml:"test_batch_size"`
	// Seeds lists the random seeds; one run per seed and method.
	Seeds []int `yaml:"seeds"`
	// TestMC is the number of posterior samples in the Bayesian model
	// average of Bayesian methods (bSAM); deterministic methods use one.
	TestMC int `yaml:"test_mc"`
	// Optimizer holds hyperparameters shared by all methods.
	Optimizer Optimizer `yaml:"optimizer"`
	// Methods lists the methods to run, each with its own overrides of
	// Optimizer, in the order sgd, sam_sgd, adam, sam_adam, bsam. In a file
	// it is a mapping from method name to overrides.
	Methods []Method `yaml:"-"`
	// Eval configures evaluation.
	Eval Eval `yaml:"eval"`
	// Engine configures the compute engine. Its settings do not change
	// results except ShardSize, which fixes the summation order.
	Engine Engine `yaml:"engine"`
	// Out is the directory run directories are written under.
	Out string `yaml:"out"`
	// Swept names the hyperparameters a sweep varies (set by bsam sweep;
	// recorded in each run so reports can plot metric against them).
	Swept []string `yaml:"swept,omitempty"`

	// File is the path the experiment was read from ("" for defaults).
	File string `yaml:"-"`
}

// Data locates a dataset.
type Data struct {
	// Dir is the dataset cache directory ("" = the user cache directory;
	// env BSAM_DATA_DIR, flag --data-dir).
	Dir string `yaml:"dir"`
	// Source optionally names a local image folder or .tar.gz in
	// imagefolder layout used instead of the canonical files.
	Source string `yaml:"source"`
	// Offline forbids network downloads.
	Offline bool `yaml:"offline"`
	// TrainSubset and TestSubset, when positive, use a class-balanced
	// subset of that many examples.
	TrainSubset int `yaml:"train_subset"`
	TestSubset  int `yaml:"test_subset"`
	// Validation, when positive, holds out that many training images
	// (class-balanced, chosen by a fixed stream that depends on neither the
	// run seed nor the method, so every run holds out the same images),
	// trains on the rest and evaluates on the held-out images instead of
	// the test set. It is applied before TrainSubset, so the held-out
	// images are the same whatever the subset. Omitted from config.yaml
	// when 0, so the hashes of runs without it are unchanged.
	Validation int `yaml:"validation,omitempty"`
}

// Optimizer holds the hyperparameters of SPEC §6.
type Optimizer struct {
	LR         float64 `yaml:"lr"`
	Beta1      float64 `yaml:"beta1"`
	Beta2      float64 `yaml:"beta2"`
	Rho        float64 `yaml:"rho"`
	PriorPrec  float64 `yaml:"priorprec"`
	DAFactor   float64 `yaml:"dafactor"`
	BatchSplit int     `yaml:"batchsplit"`
	Damping    float64 `yaml:"damping"`
	SInit      float64 `yaml:"s_init"`
	Eps        float64 `yaml:"eps"`
	// BNUpdate selects how BatchNorm running statistics are updated under
	// m-sharpness sub-batching: "official" (sub-batch 0, both passes, SPEC
	// §1.1) or "once" (sub-batch 0, first pass only).
	BNUpdate string `yaml:"bn_update"`
}

// Method is one method of an experiment with its resolved hyperparameters.
type Method struct {
	Name      string    `yaml:"name"`
	Optimizer Optimizer `yaml:"optimizer"`
}

// Eval configures evaluation.
type Eval struct {
	// NLLOfficialFactor multiplies the NLL by nbatches/(nbatches−1) as the
	// official test script does (SPEC §4); off by default (true mean).
	NLLOfficialFactor bool `yaml:"nll_official_factor"`
	// Every evaluates the test set every this many epochs (0 = only at the end).
	Every int `yaml:"every"`
}

// Engine configures the compute engine.
type Engine struct {
	// ShardSize is the number of examples per batch shard. Shards are
	// reduced in a fixed order, so results depend on ShardSize but not on
	// the number of CPUs. 0 (the default) resolves to AutoShardSize.
	ShardSize int `yaml:"shard_size"`
	// Workers is the number of data-loader workers (0 = GOMAXPROCS).
	Workers int `yaml:"workers"`
	// Precision of the convolution and linear GEMMs: "fp32" (or empty, the
	// default) or "bf16" (bf16 operands, float32 accumulation; everything
	// else stays float32, see nn.Precision). It changes results, so it is
	// part of Run.Hash — only when bf16: "" and "fp32" hash alike, as
	// before the field existed.
	Precision string `yaml:"precision,omitempty"`
	// Conv is the algorithm of the 3×3 stride-1 convolutions: "direct"
	// (implicit GEMM or im2col) or "winograd" (Winograd F(2×2, 3×3) where
	// the layer has at least 32 input and output channels, multiples of 16,
	// and an even image, direct elsewhere; see nn.ConvAlgorithm). Empty
	// means the model's default (DefaultConv). Both compute the same convolution; the
	// float32 results differ in the last bits, so the effective algorithm
	// is part of Run.Hash — only when winograd: direct runs hash as before
	// the field existed.
	Conv string `yaml:"conv,omitempty"`
}

// PrecisionNames lists the valid engine.precision values.
var PrecisionNames = []string{"fp32", "bf16"}

// ConvNames lists the valid engine.conv values.
var ConvNames = []string{"direct", "winograd"}

// DefaultConv is the convolution algorithm a model uses when engine.conv
// is empty: winograd for ResNet-18 (64–512 channels, 1.35–1.45× faster
// SGD steps) and ResNet-20-FRN (its 32- and 64-channel stages; the
// 16-channel one stays direct, see nn.WinogradMinChannels: 1.07× SGD,
// 1.12× bSAM); direct for LeNet-5 and the MLP, which have no 3×3
// convolution it applies to.
func DefaultConv(model string) string {
	switch model {
	case "resnet18", "resnet20_frn":
		return "winograd"
	}
	return "direct"
}

// EffectiveConv is the convolution algorithm run r computes with:
// engine.conv, or the model's default when empty, in either precision (a
// bf16 Winograd convolution rounds the transformed operands to bf16).
// Runs in bf16 made before bsam ran Winograd in bf16 (2026-12-08) computed
// directly and recorded engine.conv direct: their configs now hash as
// Winograd runs unless they say engine.conv: direct.
func (r Run) EffectiveConv() string {
	if r.Engine.Conv != "" {
		return r.Engine.Conv
	}
	return DefaultConv(r.Model)
}

// MethodNames lists the methods in table order.
var MethodNames = []string{"sgd", "sam_sgd", "adam", "sam_adam", "bsam"}

// ModelNames lists the models.
var ModelNames = []string{"mlp", "lenet", "resnet20_frn", "resnet18"}

// DatasetNames lists the datasets.
var DatasetNames = []string{"mnist", "fmnist", "cifar10", "cifar100", "tinyimagenet", "imagefolder"}

// Defaults returns the experiment defaults: the official code's defaults
// where SPEC §6 states them, documented choices where it says GAP.
func Defaults() Experiment {
	return Experiment{
		Name:          "experiment",
		Model:         "mlp",
		Dataset:       "mnist",
		Epochs:        180,
		Warmup:        5,
		ExtraEpoch:    true,
		BatchSize:     200,
		TestBatchSize: 200,
		Seeds:         []int{0, 1, 2, 3, 4}, // GAP: the paper's seed count; 5 chosen
		TestMC:        32,
		Optimizer: Optimizer{
			LR:         0.1,   // official --alpha default is per row; 0.1 = TinyImageNet SGD row
			Beta1:      0.9,   // official --beta1
			Beta2:      0.999, // official --beta2
			Rho:        0.05,  // SAM-SGD README value for ResNet-18
			PriorPrec:  25,    // README ResNet-18 SGD value (δ = 5e-4 at N = 50k)
			DAFactor:   1,
			BatchSplit: 8,
			Damping:    0.1,
			SInit:      1,
			Eps:        1e-8, // SPEC §1.7 (assumption for Adam)
			BNUpdate:   "official",
		},
		Eval:   Eval{Every: 1},
		Engine: Engine{},
		Out:    "runs",
	}
}

// Run is the fully resolved configuration of one run: one method and one
// seed. It is what config.yaml in a run directory holds.
type Run struct {
	Experiment    string    `yaml:"experiment"`
	Model         string    `yaml:"model"`
	Dataset       string    `yaml:"dataset"`
	Data          Data      `yaml:"data"`
	Augment       bool      `yaml:"augment"`
	Epochs        int       `yaml:"epochs"`
	Warmup        int       `yaml:"warmup"`
	ExtraEpoch    bool      `yaml:"extra_epoch"`
	BatchSize     int       `yaml:"batch_size"`
	TestBatchSize int       `yaml:"test_batch_size"`
	Seed          int       `yaml:"seed"`
	TestMC        int       `yaml:"test_mc"`
	Method        string    `yaml:"method"`
	Optimizer     Optimizer `yaml:"optimizer"`
	Eval          Eval      `yaml:"eval"`
	Engine        Engine    `yaml:"engine"`
	// Swept names the hyperparameters a sweep varied (empty otherwise).
	Swept []string `yaml:"swept,omitempty"`
}

// Runs expands the experiment into its runs, method-major, seeds in order.
func (e *Experiment) Runs() []Run {
	var runs []Run
	for _, m := range e.Methods {
		for _, s := range e.Seeds {
			runs = append(runs, e.Run(m, s))
		}
	}
	return runs
}

// Run returns the resolved configuration of method m with seed.
func (e *Experiment) Run(m Method, seed int) Run {
	return Run{
		Experiment: e.Name, Model: e.Model, Dataset: e.Dataset, Data: e.Data,
		Augment: e.Augment, Epochs: e.Epochs, Warmup: e.Warmup, ExtraEpoch: e.ExtraEpoch,
		BatchSize: e.BatchSize, TestBatchSize: e.TestBatchSize, Seed: seed,
		TestMC: e.TestMC, Method: m.Name, Optimizer: m.Optimizer, Eval: e.Eval, Engine: e.Engine,
		Swept: e.Swept,
	}
}

// Hash returns a short hex digest of everything in the run that can change
// its results. Data.Dir, Data.Offline and Engine.Workers are excluded:
// where the data is cached and how many loader goroutines run do not change
// a single bit of the metrics; so are hyperparameters the method does not
// use.
func (r Run) Hash() string {
	c := r
	c.Data.Dir = ""
	c.Data.Offline = false
	c.Engine.Workers = 0
	if c.Engine.Precision == "fp32" {
		c.Engine.Precision = ""
	}
	c.Engine.Conv = r.EffectiveConv()
	if c.Engine.Conv == "direct" {
		c.Engine.Conv = ""
	}
	// Hyperparameters the method does not use, and the BMA sample count of
	// deterministic methods, cannot change a result: leave them out so that
	// changing them does not retrain finished runs.
	used := r.HyperMap()
	o := &c.Optimizer
	for name, p := range map[string]*float64{"beta1": &o.Beta1, "beta2": &o.Beta2, "rho": &o.Rho, "damping": &o.Damping, "s_init": &o.SInit, "eps": &o.Eps} {
		if _, ok := used[name]; !ok {
			*p = 0
		}
	}
	if _, ok := used["batchsplit"]; !ok {
		o.BatchSplit, o.BNUpdate = 0, ""
	}
	if !IsBayesian(r.Method) {
		c.TestMC = 0
	}
	b, err := yaml.Marshal(c)
	if err != nil {
		panic(err) // a plain struct always marshals
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:12]
}

// YAML renders the run configuration as YAML.
func (r Run) YAML() []byte {
	b, err := yaml.Marshal(r)
	if err != nil {
		panic(err)
	}
	return b
}

// HyperMap returns the hyperparameters that matter for the run's method,
// keyed by their config names.
func (r Run) HyperMap() map[string]float64 {
	o := r.Optimizer
	h := map[string]float64{"lr": o.LR, "priorprec": o.PriorPrec, "dafactor": o.DAFactor}
	switch r.Method {
	case "sgd":
		h["beta1"] = o.Beta1
	case "sam_sgd":
		h["beta1"], h["rho"], h["batchsplit"] = o.Beta1, o.Rho, float64(o.BatchSplit)
	case "adam":
		h["beta1"], h["beta2"], h["eps"] = o.Beta1, o.Beta2, o.Eps
	case "sam_adam":
		h["beta1"], h["beta2"], h["eps"], h["rho"], h["batchsplit"] = o.Beta1, o.Beta2, o.Eps, o.Rho, float64(o.BatchSplit)
	case "bsam":
		h["beta1"], h["beta2"], h["rho"], h["batchsplit"] = o.Beta1, o.Beta2, o.Rho, float64(o.BatchSplit)
		h["damping"], h["s_init"] = o.Damping, o.SInit
	}
	return h
}

// Method returns the named method of the experiment.
func (e *Experiment) Method(name string) (Method, bool) {
	for _, m := range e.Methods {
		if m.Name == name {
			return m, true
		}
	}
	return Method{}, false
}

// SelectMethods keeps only the named methods; an unknown name is an error
// listing the experiment's methods.
func (e *Experiment) SelectMethods(names []string) error {
	if len(names) == 0 {
		return nil
	}
	var kept []Method
	for _, n := range names {
		m, ok := e.Method(n)
		if !ok {
			var have []string
			for _, m := range e.Methods {
				have = append(have, m.Name)
			}
			return &Error{File: e.File, Field: "methods", Msg: fmt.Sprintf("method %q is not in this experiment (it has: %s)", n, strings.Join(have, ", "))}
		}
		if !slices.ContainsFunc(kept, func(k Method) bool { return k.Name == n }) {
			kept = append(kept, m)
		}
	}
	e.Methods = kept
	return nil
}

// IsSAMType reports whether a method uses m-sharpness sub-batches.
func IsSAMType(method string) bool {
	return method == "sam_sgd" || method == "sam_adam" || method == "bsam"
}

// IsBayesian reports whether a method has a posterior to sample from.
func IsBayesian(method string) bool { return method == "bsam" }

// AutoShardSize is the shard size used when engine.shard_size is 0. For the
// MLP, whose GEMMs have one row per example, it is 32. For convolutional
// models it splits an m-sharpness sub-batch (batch/batchsplit examples) into
// two shards, so that SAM-type steps keep two cores busy: 13 for batch 200
// and batchsplit 8, 8 for batch 128. It depends only on the configuration,
// never on the machine, so results stay the same everywhere.
func AutoShardSize(model string, batch, batchsplit int) int {
	if model == "mlp" {
		return 32
	}
	if batchsplit < 1 {
		batchsplit = 8
	}
	sub := max(batch/batchsplit, 1)
	return (sub + 1) / 2
}

// ReadRunDir reads the resolved config.yaml that the trainer writes into a
// run directory. It decodes leniently (unknown fields are ignored), so run
// directories written by older versions still read.
func ReadRunDir(dir string) (Run, error) {
	var r Run
	b, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
	if err != nil {
		return r, err
	}
	err = yaml.Unmarshal(b, &r)
	return r, err
}
