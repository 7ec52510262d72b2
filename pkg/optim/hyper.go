package optim

import (
	"fmt"
	"math"

	"github.com/bsam-dev/bsam/pkg/nn"
)

// Method names accepted by New.
const (
	MethodSGD     = "sgd"
	MethodSAMSGD  = "sam_sgd"
	MethodAdam    = "adam"
	MethodSAMAdam = "sam_adam"
	MethodBSAM    = "bsam"
)

// Methods returns the optimizer names accepted by New, in a fixed order.
func Methods() []string {
	return []string{MethodSGD, MethodSAMSGD, MethodAdam, MethodSAMAdam, MethodBSAM}
}

// Hyper holds the hyperparameters of every optimizer; each method reads only
// the fields it uses (see Validate). Field names in error messages are the
// config keys under "optimizer." (lr, beta1, beta2, rho, priorprec,
// dafactor, batchsplit, damping, s_init, eps, ntrain).
type Hyper struct {
	// LR is the base learning rate α (the step uses α·lrFactor).
	LR float64
	// Beta1 is the momentum (SGD, SAM-SGD) or first-moment rate (Adam,
	// SAM-Adam, bSAM).
	Beta1 float64
	// Beta2 is the second-moment rate (Adam, SAM-Adam) or the EMA rate of
	// bSAM's precision s.
	Beta2 float64
	// Rho is the perturbation radius: SAM's ‖ε‖ (sam_sgd, sam_adam), or the
	// unnormalised scale of bSAM's ε = ρ·g/s.
	Rho float64
	// PriorPrec is the Gaussian prior precision λ; δ = λ/N.
	PriorPrec float64
	// DAFactor multiplies the training-set size: N = NTrain·DAFactor.
	DAFactor float64
	// BatchSplit is the number m of sub-batches (SAM-type methods and bSAM).
	BatchSplit int
	// Damping is bSAM's γ, added inside the EMA of s.
	Damping float64
	// SInit is bSAM's initial precision s (all elements).
	SInit float64
	// Eps is Adam's ε in m̂/(√v̂+ε).
	Eps float64
	// NTrain is the number of training examples.
	NTrain int
}

// DefaultHyper returns the official code's defaults (SPEC §6): β₁ = 0.9,
// β₂ = 0.999, batchsplit 8, damping 0.1, s_init 1, dafactor 1, Adam ε =
// 1e-8. LR, Rho, PriorPrec and NTrain are left zero: they have no default
// and must be set.
func DefaultHyper() Hyper {
	return Hyper{
		Beta1:      0.9,
		Beta2:      0.999,
		DAFactor:   1,
		BatchSplit: 8,
		Damping:    0.1,
		SInit:      1,
		Eps:        1e-8,
	}
}

// NData returns N = NTrain·DAFactor, the data count of the likelihood.
func (h Hyper) NData() float64 { return float64(h.NTrain) * h.DAFactor }

// Delta returns the coupled L2 coefficient δ = PriorPrec/N.
func (h Hyper) Delta() float64 { return h.PriorPrec / h.NData() }

// Validate checks the fields that method uses and returns an error naming
// the first bad field, e.g. "optimizer.rho must be > 0 for sam_sgd, got -1".
//
// All methods need lr > 0, 0 ≤ beta1 < 1, priorprec ≥ 0, dafactor > 0 and
// ntrain > 0. Adam-type methods and bSAM need 0 ≤ beta2 < 1. Adam-type
// methods need eps > 0. SAM-type methods need rho > 0 and batchsplit ≥ 1;
// bSAM needs rho ≥ 0 (ρ = 0 is a valid ablation: no perturbation),
// batchsplit ≥ 1, damping ≥ 0 and s_init > 0. Fields a method does not use
// are not checked: sgd and adam ignore rho and batchsplit (they evaluate the
// whole minibatch once).
func (h Hyper) Validate(method string) error {
	known := false
	for _, m := range Methods() {
		known = known || m == method
	}
	if !known {
		return fmt.Errorf("optimizer.name: unknown method %q (want one of %v)", method, Methods())
	}
	bad := func(field, cond string, v any) error {
		return fmt.Errorf("optimizer.%s must be %s for %s, got %v", field, cond, method, v)
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	if !(h.LR > 0) || !finite(h.LR) {
		return bad("lr", "> 0", h.LR)
	}
	if !(h.Beta1 >= 0 && h.Beta1 < 1) {
		return bad("beta1", "in [0, 1)", h.Beta1)
	}
	if !(h.PriorPrec >= 0) || !finite(h.PriorPrec) {
		return bad("priorprec", ">= 0", h.PriorPrec)
	}
	if !(h.DAFactor > 0) || !finite(h.DAFactor) {
		return bad("dafactor", "> 0", h.DAFactor)
	}
	if h.NTrain <= 0 {
		return bad("ntrain", "> 0", h.NTrain)
	}
	sam := method == MethodSAMSGD || method == MethodSAMAdam
	adam := method == MethodAdam || method == MethodSAMAdam
	bayes := method == MethodBSAM
	if adam || bayes {
		if !(h.Beta2 >= 0 && h.Beta2 < 1) {
			return bad("beta2", "in [0, 1)", h.Beta2)
		}
	}
	if adam && (!(h.Eps > 0) || !finite(h.Eps)) {
		return bad("eps", "> 0", h.Eps)
	}
	if sam && (!(h.Rho > 0) || !finite(h.Rho)) {
		return bad("rho", "> 0", h.Rho)
	}
	if bayes && (!(h.Rho >= 0) || !finite(h.Rho)) {
		return bad("rho", ">= 0", h.Rho)
	}
	if (sam || bayes) && h.BatchSplit < 1 {
		return bad("batchsplit", ">= 1", h.BatchSplit)
	}
	if bayes {
		if !(h.Damping >= 0) || !finite(h.Damping) {
			return bad("damping", ">= 0", h.Damping)
		}
		if !(h.SInit > 0) || !finite(h.SInit) {
			return bad("s_init", "> 0", h.SInit)
		}
	}
	return nil
}

// New builds the optimizer named method ("sgd", "sam_sgd", "adam",
// "sam_adam" or "bsam") starting from a copy of the parameters w0. noise is
// required by bsam and ignored by the other methods. All state vectors and
// scratch buffers are allocated here, so steps allocate nothing.
func New[T nn.Float](method string, h Hyper, w0 []T, noise Noise[T]) (Optimizer[T], error) {
	if err := h.Validate(method); err != nil {
		return nil, err
	}
	if len(w0) == 0 {
		return nil, fmt.Errorf("optimizer: %s needs a non-empty parameter vector", method)
	}
	w := append([]T(nil), w0...)
	switch method {
	case MethodSGD:
		return newSGD(method, h, w, 0, 1), nil
	case MethodSAMSGD:
		return newSGD(method, h, w, h.Rho, h.BatchSplit), nil
	case MethodAdam:
		return newAdam(method, h, w, 0, 1), nil
	case MethodSAMAdam:
		return newAdam(method, h, w, h.Rho, h.BatchSplit), nil
	case MethodBSAM:
		if noise == nil {
			return nil, fmt.Errorf("optimizer: bsam needs a noise source, got nil")
		}
		return newBSAM(h, w, noise), nil
	}
	panic("unreachable: Validate accepted " + method)
}
