package config

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Validate checks every field's range and the combinations the official code
// requires. All problems are reported together, each naming its field.
func (e *Experiment) Validate() error {
	var errs Errors
	bad := func(field, format string, args ...any) {
		errs = append(errs, &Error{File: e.File, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if e.Name == "" || strings.ContainsAny(e.Name, `/\ `) {
		bad("name", "must be a non-empty name without slashes or spaces, got %q", e.Name)
	}
	if !slices.Contains(ModelNames, e.Model) {
		bad("model", "unknown model %q (valid: %s)", e.Model, strings.Join(ModelNames, ", "))
	}
	if !slices.Contains(DatasetNames, e.Dataset) {
		bad("dataset", "unknown dataset %q (valid: %s)", e.Dataset, strings.Join(DatasetNames, ", "))
	}
	if e.Dataset == "imagefolder" && e.Data.Source == "" {
		bad("data.source", "the imagefolder dataset needs data.source (a directory or .tar.gz with train/<class>/ and test/<class>/)")
	}
	if e.Data.TrainSubset < 0 {
		bad("data.train_subset", "must be ≥ 0, got %d", e.Data.TrainSubset)
	}
	if e.Data.TestSubset < 0 {
		bad("data.test_subset", "must be ≥ 0, got %d", e.Data.TestSubset)
	}
	if e.Data.Validation < 0 {
		bad("data.validation", "must be ≥ 0, got %d", e.Data.Validation)
	}
	if e.Data.Validation > 0 && e.Data.TestSubset > 0 {
		bad("data.test_subset", "has no effect with data.validation (%d): the held-out training images are the evaluation set; remove one of the two", e.Data.Validation)
	}
	if e.Epochs < 1 {
		bad("epochs", "must be ≥ 1, got %d", e.Epochs)
	}
	if e.Warmup < 0 || (e.Epochs >= 1 && e.Warmup > e.Epochs) {
		msg := fmt.Sprintf("must be between 0 and epochs (%d), got %d", e.Epochs, e.Warmup)
		if e.Epochs >= 1 && e.Warmup > e.Epochs {
			// Typically --epochs shortened a paper configuration.
			msg += fmt.Sprintf("; for a short run lower the warm-up too, e.g. --set warmup=%d (any N < epochs; BSAM_WARMUP=N)", max(0, e.Epochs-1))
		}
		bad("warmup", "%s", msg)
	} else if e.Epochs >= 1 && e.Warmup == e.Epochs && !e.ExtraEpoch {
		bad("warmup", "equals epochs with extra_epoch false: the cosine phase would be empty; lower it, e.g. --set warmup=%d", e.Epochs-1)
	}
	if e.BatchSize < 1 {
		bad("batch_size", "must be ≥ 1, got %d", e.BatchSize)
	}
	if e.TestBatchSize < 1 {
		bad("test_batch_size", "must be ≥ 1, got %d", e.TestBatchSize)
	}
	if len(e.Seeds) == 0 {
		bad("seeds", "must list at least one seed, e.g. seeds: [0, 1, 2]")
	}
	for i, s := range e.Seeds {
		if s < 0 {
			bad(fmt.Sprintf("seeds[%d]", i), "must be ≥ 0, got %d", s)
		}
		if slices.Index(e.Seeds, s) != i {
			bad(fmt.Sprintf("seeds[%d]", i), "seed %d is listed twice", s)
		}
	}
	if e.TestMC < 1 {
		bad("test_mc", "must be ≥ 1, got %d", e.TestMC)
	}
	if e.Eval.Every < 0 {
		bad("eval.every", "must be ≥ 0, got %d", e.Eval.Every)
	}
	if e.Engine.ShardSize < 1 {
		bad("engine.shard_size", "must be ≥ 1, or 0 for automatic, got %d", e.Engine.ShardSize)
	}
	if e.Engine.Workers < 0 {
		bad("engine.workers", "must be ≥ 0, got %d", e.Engine.Workers)
	}
	if a := e.Engine.Conv; a != "" && !slices.Contains(ConvNames, a) {
		bad("engine.conv", "unknown convolution algorithm %q (valid: %s)", a, strings.Join(ConvNames, ", "))
	}
	if p := e.Engine.Precision; p != "" && !slices.Contains(PrecisionNames, p) {
		bad("engine.precision", "unknown precision %q (valid: %s)", p, strings.Join(PrecisionNames, ", "))
	}
	if e.Out == "" {
		bad("out", "must name an output directory")
	}
	for _, m := range e.Methods {
		for _, err := range m.Optimizer.validate(m.Name, e.BatchSize) {
			err.File = e.File
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func (o Optimizer) validate(method string, batch int) Errors {
	var errs Errors
	f := func(name string) string { return "methods." + method + "." + name }
	bad := func(field, format string, args ...any) {
		errs = append(errs, &Error{Field: f(field), Msg: fmt.Sprintf(format, args...)})
	}
	for name, v := range map[string]float64{"lr": o.LR, "beta1": o.Beta1, "beta2": o.Beta2, "rho": o.Rho,
		"priorprec": o.PriorPrec, "dafactor": o.DAFactor, "damping": o.Damping, "s_init": o.SInit, "eps": o.Eps} {
		if math.IsInf(v, 0) || math.IsNaN(v) {
			bad(name, "must be a finite number, got %g", v)
		}
	}
	if !(o.LR > 0) {
		bad("lr", "must be > 0, got %g", o.LR)
	}
	if !(o.Beta1 >= 0 && o.Beta1 < 1) {
		bad("beta1", "must be in [0, 1), got %g", o.Beta1)
	}
	if !(o.PriorPrec >= 0) {
		bad("priorprec", "must be ≥ 0, got %g", o.PriorPrec)
	}
	if !(o.DAFactor > 0) {
		bad("dafactor", "must be > 0, got %g", o.DAFactor)
	}
	usesBeta2 := method == "adam" || method == "sam_adam" || method == "bsam"
	if usesBeta2 && !(o.Beta2 >= 0 && o.Beta2 < 1) {
		bad("beta2", "must be in [0, 1), got %g", o.Beta2)
	}
	if IsSAMType(method) {
		if method == "bsam" && !(o.Rho >= 0) {
			bad("rho", "must be ≥ 0 for bsam (0: no perturbation, an ablation), got %g", o.Rho)
		} else if method != "bsam" && !(o.Rho > 0) {
			bad("rho", "must be > 0 for %s, got %g", method, o.Rho)
		}
		if o.BatchSplit < 1 {
			bad("batchsplit", "must be ≥ 1, got %d", o.BatchSplit)
		} else if batch%o.BatchSplit != 0 {
			bad("batchsplit", "batch_size %d must be divisible by batchsplit %d (the official code reshapes the batch into batchsplit sub-batches)", batch, o.BatchSplit)
		}
	}
	if method == "adam" || method == "sam_adam" {
		if !(o.Eps > 0) {
			bad("eps", "must be > 0, got %g", o.Eps)
		}
	}
	if method == "bsam" {
		if !(o.Damping >= 0) {
			bad("damping", "must be ≥ 0, got %g", o.Damping)
		}
		if !(o.SInit > 0) {
			bad("s_init", "must be > 0, got %g", o.SInit)
		}
	}
	if o.BNUpdate != "official" && o.BNUpdate != "once" {
		bad("bn_update", `must be "official" or "once", got %q`, o.BNUpdate)
	}
	return errs
}
