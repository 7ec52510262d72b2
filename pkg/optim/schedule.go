package optim

import (
	"fmt"
	"math"
)

// Schedule is the per-epoch learning-rate factor of SPEC §2.1: linear warmup
// over Warmup epochs, then a cosine decay. The factor is constant within an
// epoch.
//
// With ExtraEpoch (the official code's behaviour) training runs Epochs+1
// epochs (indices 0..Epochs) and the cosine runs over Epochs+1−Warmup
// epochs, so the last factor is small but not zero (≈7.97e-5 for 180
// epochs, warmup 5). Without it, Epochs epochs run and the cosine spans
// Epochs−Warmup epochs.
type Schedule struct {
	// Epochs is the configured epoch count E (the --epochs flag).
	Epochs int
	// Warmup is the number W of linear warmup epochs.
	Warmup int
	// ExtraEpoch runs epoch indices 0..E as the official code does.
	ExtraEpoch bool
}

// NumEpochs returns the number of epochs actually run: Epochs+1 with
// ExtraEpoch, Epochs otherwise.
func (s Schedule) NumEpochs() int {
	if s.ExtraEpoch {
		return s.Epochs + 1
	}
	return s.Epochs
}

// Validate checks that Epochs ≥ 1 and 0 ≤ Warmup < NumEpochs(), naming the
// bad field.
func (s Schedule) Validate() error {
	if s.Epochs < 1 {
		return fmt.Errorf("train.epochs must be >= 1, got %d", s.Epochs)
	}
	if s.Warmup < 0 || s.Warmup >= s.NumEpochs() {
		return fmt.Errorf("train.warmup must be in [0, %d), got %d", s.NumEpochs(), s.Warmup)
	}
	return nil
}

// Factor returns the learning-rate factor of epoch e (0-based):
//
//	e < W:  (e+1)/W                        (= linspace(0,1,W+1)[e+1])
//	e ≥ W:  ½(1 + cos πt),  t = (e−W)/(E+1−W) with ExtraEpoch,
//	                        t = (e−W)/(E−W)   without
//
// A cosine span of zero epochs gives factor 1.
func (s Schedule) Factor(e int) float64 {
	if e < s.Warmup {
		return float64(e+1) / float64(s.Warmup)
	}
	span := s.Epochs - s.Warmup
	if s.ExtraEpoch {
		span++
	}
	if span <= 0 {
		return 1
	}
	t := float64(e-s.Warmup) / float64(span)
	return 0.5 * (1 + math.Cos(math.Pi*t))
}
