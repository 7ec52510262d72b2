package train

import "github.com/bsam-dev/bsam/pkg/eval"

// Result is the content of a run's result.json: the identity of the run and
// its final test metrics. Point is the prediction at the mean parameters;
// BMA the Bayesian model average over TestMC posterior samples (equal to
// Point for deterministic methods, which use one sample).
type Result struct {
	Experiment string `json:"experiment"`
	Model      string `json:"model"`
	Dataset    string `json:"dataset"`
	Method     string `json:"method"`
	Seed       int    `json:"seed"`
	Epochs     int    `json:"epochs"`                // epochs actually run
	TestMC     int    `json:"test_mc"`               // posterior samples in BMA
	Augment    bool   `json:"augment"`               // data augmentation on
	DataSource string `json:"data_source,omitempty"` // base name of data.source when the data did not come from the canonical archives
	NTrain     int    `json:"ntrain"`                // training examples used
	NTest      int    `json:"ntest"`                 // examples scored: the size of the evaluation split
	// EvalSplit is the split the metrics were computed on: "test", or
	// "validation" when data.validation held out training images (then
	// NValidation = NTest is the number held out). Results written before
	// the field existed have "" and were scored on the test split.
	EvalSplit   string             `json:"eval_split,omitempty"`
	NValidation int                `json:"nvalidation,omitempty"`
	Hyper       map[string]float64 `json:"hyper"`           // resolved optimizer hyperparameters (lr, rho, ...)
	Swept       []string           `json:"swept,omitempty"` // names of the hyperparameters a sweep varied
	ConfigHash  string             `json:"config_hash"`     // hash of the resolved config
	Status      string             `json:"status"`          // "done"; failed runs write no result.json (see meta.json)
	Reason      string             `json:"reason,omitempty"`
	Point       eval.Metrics       `json:"point"`
	BMA         eval.Metrics       `json:"bma"`
	Reliability []eval.Bin         `json:"reliability,omitempty"` // 20 bins of the BMA prediction
	TrainLoss   float64            `json:"train_loss"`            // last epoch's mean training loss
	// Precision is the arithmetic of the convolution and linear GEMMs the
	// run computed with: "fp32" or "bf16" (engine.precision, or fp32 where
	// the CPU lacks AVX512_BF16). Results written before the field existed
	// have "" and were computed in fp32.
	Precision string `json:"precision,omitempty"`
	// Conv is the algorithm of the 3×3 stride-1 convolutions: "direct" or
	// "winograd" (engine.conv, or the model's default). Results written
	// before the field existed have "" and were computed directly.
	Conv string `json:"conv,omitempty"`
}

// EpochRecord is one line of metrics.jsonl.
type EpochRecord struct {
	Epoch     int     `json:"epoch"`
	LRFactor  float64 `json:"lr_factor"`
	TrainLoss float64 `json:"train_loss"`
	// TestAcc and TestNLL are the point prediction's test accuracy and NLL
	// (eval mode), present only for epochs that were evaluated (eval.every).
	// Files written before this field became optional hold 0 for both on
	// epochs without an evaluation; Evaluated tells the two apart.
	TestAcc   *float64 `json:"test_acc,omitempty"`
	TestNLL   *float64 `json:"test_nll,omitempty"`
	Seconds   float64  `json:"seconds"`
	ImgPerSec float64  `json:"img_per_s"`
}

// Evaluated reports whether the epoch's test metrics were computed. A real
// evaluation always has a positive NLL, so the zeros that older files hold
// for epochs without an evaluation read as not evaluated.
func (r EpochRecord) Evaluated() bool {
	return r.TestAcc != nil && r.TestNLL != nil && *r.TestNLL > 0
}

// Split returns the evaluation split of the result: EvalSplit, or "test" for
// results that predate the field.
func (r *Result) Split() string {
	if r.EvalSplit == "" {
		return "test"
	}
	return r.EvalSplit
}
