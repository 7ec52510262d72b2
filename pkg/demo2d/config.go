package demo2d

import (
	"fmt"
	"math"
	"slices"

	"github.com/bsam-dev/bsam/pkg/optim"
)

// Methods are the methods the demo can train, in panel order.
var Methods = []string{optim.MethodSGD, optim.MethodSAMSGD, optim.MethodBSAM}

// Config holds every setting of the demo. DefaultConfig returns the
// official demo's (demo2d.py, SPEC §8) plus this package's documented
// choices for SGD and SAM-SGD, which the official demo does not train.
type Config struct {
	// Methods to train, each drawn as one panel (a subset of Methods).
	Methods []string
	// Seed derives every random stream: the data, the network
	// initialisation (shared by all methods), the minibatch order (the
	// same for all methods), bSAM's training noise and the posterior
	// samples drawn for the picture.
	Seed uint64

	// N points of two moons with Gaussian noise of standard deviation Noise.
	N     int
	Noise float64
	// Hidden are the widths of the hidden layers (ELU after each).
	Hidden []int

	// Epochs E: epochs 0..E run (E+1 in all), with learning-rate factor
	// ½(1+cos(π·e/E)); there is no warm-up.
	Epochs int
	// BatchSize examples per minibatch; the remainder of N is skipped.
	BatchSize int
	// BatchSplit m sub-batches per minibatch (SAM-SGD and bSAM).
	BatchSplit int
	// Delta is the coupled L2 coefficient δ added to every gradient
	// (priorprec = δ·N).
	Delta float64

	// bSAM: α, β₁, β₂, ρ (ε = ρ·g/s), γ and the initial precision s.
	BSAMLR, BSAMBeta1, BSAMBeta2, BSAMRho, BSAMDamping, BSAMSInit float64
	// SGD (heavy-ball, no dampening): α and the momentum β₁.
	SGDLR, SGDBeta1 float64
	// SAM-SGD: α, the momentum and the radius ρ of ε = ρ·g/‖g‖.
	SAMLR, SAMBeta1, SAMRho float64

	// Samples is the number of posterior samples whose predictive
	// probabilities are averaged for bSAM's panel and measures (the
	// Bayesian model average); the first ContourSamples of them also have
	// their p = 0.5 contour drawn.
	Samples, ContourSamples int
	// Grid points per axis over the window [XMin, XMax] × [YMin, YMax].
	Grid                   int
	XMin, XMax, YMin, YMax float64
	// FarDistance: a grid point is "far from the data" when its Euclidean
	// distance to every training point exceeds it.
	FarDistance float64

	// GIF also writes demo2d_bsam.gif, bSAM's panel every FrameEvery
	// epochs on a FrameGrid × FrameGrid grid, FrameDelay hundredths of a
	// second per frame.
	GIF                               bool
	FrameEvery, FrameGrid, FrameDelay int
}

// DefaultConfig returns the official demo's settings (SPEC §8 of the
// project, demo2d.py of team-approx-bayes/bayesian-sam): 100 points of two
// moons with noise 0.1; an MLP 2→32→32→32→32→1 with ELU, biases
// initialised to 0.05 and the logistic loss; 251 epochs (0..250) of 3
// minibatches of 30 with the cosine factor ½(1+cos(π·e/250)) and no
// warm-up; δ = 1e-4; bSAM with α 0.5, β₁ 0.9, β₂ 0.999, ρ 0.05, γ 0.1,
// s_init 1 and m = 5 sub-batches of 6; 20 posterior samples' contours on a
// 100×100 grid over [−1.5, 2.7] × [−1, 1.4].
//
// Not in the official demo: SGD and SAM-SGD use the same schedule,
// minibatches, δ and momentum 0.9, with α = 0.05, bSAM's α·(1−β₁): SGD's
// momentum buffer sums gradients without the (1−β₁) factor bSAM's has, so
// both then take the same steps α·g/(1−β₁) = 0.5·g at bSAM's initial s = 1.
// SAM-SGD's ρ is 0.05 on SAM's (normalised) scale, ‖ε‖ = ρ, with the same
// m = 5. bSAM's model average uses 32 samples (the first 20 are the drawn
// contours), and "far from the data" means farther than 1.0 from every
// training point.
func DefaultConfig() Config {
	return Config{
		Methods:        slices.Clone(Methods),
		N:              100,
		Noise:          0.1,
		Hidden:         []int{32, 32, 32, 32},
		Epochs:         250,
		BatchSize:      30,
		BatchSplit:     5,
		Delta:          1e-4,
		BSAMLR:         0.5,
		BSAMBeta1:      0.9,
		BSAMBeta2:      0.999,
		BSAMRho:        0.05,
		BSAMDamping:    0.1,
		BSAMSInit:      1,
		SGDLR:          0.05,
		SGDBeta1:       0.9,
		SAMLR:          0.05,
		SAMBeta1:       0.9,
		SAMRho:         0.05,
		Samples:        32,
		ContourSamples: 20,
		Grid:           100,
		XMin:           -1.5,
		XMax:           2.7,
		YMin:           -1,
		YMax:           1.4,
		FarDistance:    1,
		FrameEvery:     10,
		FrameGrid:      50,
		FrameDelay:     20,
	}
}

// Hyper returns the optimizer hyperparameters of method.
func (c Config) Hyper(method string) optim.Hyper {
	h := optim.DefaultHyper()
	h.NTrain = c.N
	h.PriorPrec = c.Delta * float64(c.N)
	h.BatchSplit = c.BatchSplit
	switch method {
	case optim.MethodSGD:
		h.LR, h.Beta1 = c.SGDLR, c.SGDBeta1
	case optim.MethodSAMSGD:
		h.LR, h.Beta1, h.Rho = c.SAMLR, c.SAMBeta1, c.SAMRho
	case optim.MethodBSAM:
		h.LR, h.Beta1, h.Beta2, h.Rho = c.BSAMLR, c.BSAMBeta1, c.BSAMBeta2, c.BSAMRho
		h.Damping, h.SInit = c.BSAMDamping, c.BSAMSInit
	}
	return h
}

// Validate checks the settings and names the first bad one.
func (c Config) Validate() error {
	if len(c.Methods) == 0 {
		return fmt.Errorf("methods: need at least one of %v", Methods)
	}
	seen := map[string]bool{}
	for _, m := range c.Methods {
		if !slices.Contains(Methods, m) {
			return fmt.Errorf("methods: unknown method %q (valid: %v)", m, Methods)
		}
		if seen[m] {
			return fmt.Errorf("methods: %q given twice", m)
		}
		seen[m] = true
		if err := c.Hyper(m).Validate(m); err != nil {
			return err
		}
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case c.N < 2:
		return fmt.Errorf("n must be >= 2, got %d", c.N)
	case !(c.Noise >= 0) || !finite(c.Noise):
		return fmt.Errorf("noise must be >= 0, got %v", c.Noise)
	case len(c.Hidden) == 0 || slices.Min(c.Hidden) < 1:
		return fmt.Errorf("hidden layers must have >= 1 unit each, got %v", c.Hidden)
	case c.Epochs < 1:
		return fmt.Errorf("epochs must be >= 1, got %d", c.Epochs)
	case c.BatchSize < 1 || c.BatchSize > c.N:
		return fmt.Errorf("batch size must be in [1, %d], got %d", c.N, c.BatchSize)
	case c.BatchSplit < 1 || c.BatchSize%c.BatchSplit != 0:
		return fmt.Errorf("batch split must be >= 1 and divide the batch size %d, got %d", c.BatchSize, c.BatchSplit)
	case c.Samples < 1:
		return fmt.Errorf("samples must be >= 1, got %d", c.Samples)
	case c.ContourSamples < 0 || c.ContourSamples > c.Samples:
		return fmt.Errorf("contour samples must be in [0, samples = %d], got %d", c.Samples, c.ContourSamples)
	case c.Grid < 2:
		return fmt.Errorf("grid must be >= 2 points per axis, got %d", c.Grid)
	case !(c.XMin < c.XMax) || !(c.YMin < c.YMax) || !finite(c.XMax-c.XMin) || !finite(c.YMax-c.YMin):
		return fmt.Errorf("window [%v, %v] × [%v, %v] is empty", c.XMin, c.XMax, c.YMin, c.YMax)
	case !(c.FarDistance >= 0) || !finite(c.FarDistance):
		return fmt.Errorf("far distance must be >= 0, got %v", c.FarDistance)
	case c.GIF && (c.FrameEvery < 1 || c.FrameDelay < 1 || c.FrameGrid < 2):
		return fmt.Errorf("gif frames: every %d epochs, %d/100 s each, grid %d: need >= 1, >= 1 and >= 2", c.FrameEvery, c.FrameDelay, c.FrameGrid)
	}
	return nil
}
