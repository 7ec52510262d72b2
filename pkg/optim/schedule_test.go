package optim

import (
	"math"
	"testing"
)

func TestScheduleFactor(t *testing.T) {
	official := Schedule{Epochs: 180, Warmup: 5, ExtraEpoch: true}
	plain := Schedule{Epochs: 10, Warmup: 0}
	tests := []struct {
		s    Schedule
		e    int
		want float64
		tol  float64
	}{
		// Warmup linspace(0,1,6)[e+1].
		{official, 0, 0.2, 1e-15},
		{official, 1, 0.4, 1e-15},
		{official, 2, 0.6, 1e-15},
		{official, 3, 0.8, 1e-15},
		{official, 4, 1.0, 1e-15},
		// Cosine over 176 epochs: cos(π/176) ≈ 1 − 1.5931e-4.
		{official, 5, 1.0, 1e-15},
		{official, 6, 0.99992, 5e-7},
		{official, 93, 0.5, 1e-15}, // t = 88/176 = ½
		{official, 180, 7.97e-5, 5e-8},
		// No extra epoch: t = e/10.
		{plain, 0, 1, 1e-15},
		{plain, 5, 0.5, 1e-15},
		{plain, 9, 0.5 * (1 - math.Cos(math.Pi/10)), 1e-15},
		{Schedule{Epochs: 10, Warmup: 2}, 6, 0.5, 1e-15}, // t = 4/8
		{Schedule{Epochs: 10, Warmup: 2, ExtraEpoch: true}, 2, 1, 1e-15},
		{Schedule{Epochs: 1, Warmup: 1}, 0, 1, 1e-15},
	}
	for _, tc := range tests {
		if got := tc.s.Factor(tc.e); math.Abs(got-tc.want) > tc.tol {
			t.Errorf("%+v.Factor(%d) = %.10g, want %.10g ± %g", tc.s, tc.e, got, tc.want, tc.tol)
		}
	}
	if n := official.NumEpochs(); n != 181 {
		t.Errorf("official NumEpochs = %d, want 181", n)
	}
	if n := plain.NumEpochs(); n != 10 {
		t.Errorf("plain NumEpochs = %d, want 10", n)
	}
	// Never zero, monotone non-increasing after warmup.
	for e := official.Warmup + 1; e < official.NumEpochs(); e++ {
		if f, prev := official.Factor(e), official.Factor(e-1); !(f > 0 && f <= prev) {
			t.Fatalf("Factor(%d) = %g after %g", e, f, prev)
		}
	}
}

func TestScheduleValidate(t *testing.T) {
	tests := []struct {
		s    Schedule
		want string
	}{
		{Schedule{Epochs: 180, Warmup: 5, ExtraEpoch: true}, ""},
		{Schedule{Epochs: 1}, ""},
		{Schedule{Epochs: 0}, "train.epochs must be >= 1, got 0"},
		{Schedule{Epochs: 5, Warmup: -1}, "train.warmup must be in [0, 5), got -1"},
		{Schedule{Epochs: 5, Warmup: 5}, "train.warmup must be in [0, 5), got 5"},
		{Schedule{Epochs: 5, Warmup: 5, ExtraEpoch: true}, ""},
	}
	for _, tc := range tests {
		err := tc.s.Validate()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%+v: error %q, want %q", tc.s, got, tc.want)
		}
	}
}
