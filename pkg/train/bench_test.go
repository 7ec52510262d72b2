package train

import (
	"math"
	"testing"
	"time"

	"github.com/bsam-dev/bsam/pkg/eval"
)

// TestBenchMLP checks bench's bookkeeping against hand-computed work: the
// MLP 784-500-300-10 evaluates 2·N·(784·500 + 500·300 + 300·10) GEMM FLOPs
// per forward pass, and the ceiling is the batch over the time that work
// takes at the measured peak.
func TestBenchMLP(t *testing.T) {
	const n = 16
	res, err := Bench(BenchOptions{Model: "mlp", Batch: n, MinTime: 20 * time.Millisecond, PeakTime: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Params != 784*500+500+500*300+300+300*10+10 {
		t.Errorf("params %d", res.Params)
	}
	names := []string{"sgd step", "bsam step", "eval"}
	if len(res.Phases) != len(names) {
		t.Fatalf("%d phases, want %d", len(res.Phases), len(names))
	}
	for i, p := range res.Phases {
		if p.Name != names[i] {
			t.Errorf("phase %d is %q, want %q", i, p.Name, names[i])
		}
		if p.Steps < 3 || p.SecondsPerOp <= 0 || math.Abs(p.ImgPerSec-n/p.SecondsPerOp) > 1e-9*p.ImgPerSec {
			t.Errorf("%s: %d steps, %g s/step, %g img/s", p.Name, p.Steps, p.SecondsPerOp, p.ImgPerSec)
		}
		// Steps allocate nothing once warm; a step that allocates does so
		// every time, which puts the figure at 1 or more.
		if p.AllocsPerStep >= 1 {
			t.Errorf("%s: %.2f allocations per step", p.Name, p.AllocsPerStep)
		}
	}
	fwd := 2.0 * n * (784*500 + 500*300 + 300*10) / 1e9
	evalPhase := res.Phases[2]
	if math.Abs(evalPhase.GFLOPs-fwd) > 1e-12 {
		t.Errorf("eval counts %.9g GFLOP per step, want %.9g", evalPhase.GFLOPs, fwd)
	}
	if res.PeakGFLOPS <= 0 {
		t.Fatalf("no peak estimate")
	}
	if want := n * res.PeakGFLOPS / fwd; math.Abs(evalPhase.CeilingImgPerSec-want) > 1e-9*want {
		t.Errorf("eval ceiling %g img/s, want %g", evalPhase.CeilingImgPerSec, want)
	}
	// The ratio is the median of one ratio per interleaved round (SGD and
	// bSAM windows of at least one step each).
	if len(res.BSAMOverSGDRounds) != benchRounds || res.BSAMOverSGD != eval.Median(res.BSAMOverSGDRounds) {
		t.Errorf("bSAM/SGD %v from rounds %v, want the median of %d", res.BSAMOverSGD, res.BSAMOverSGDRounds, benchRounds)
	}
	for _, i := range []int{0, 1} {
		if p := res.Phases[i]; p.Steps < benchRounds {
			t.Errorf("%s: %d steps in %d windows", p.Name, p.Steps, benchRounds)
		}
	}
	// A bSAM step does two forward/backward passes per sub-batch: twice the
	// GEMM work of an SGD step.
	if r := res.Phases[1].GFLOPs / res.Phases[0].GFLOPs; math.Abs(r-2) > 1e-9 {
		t.Errorf("bSAM/SGD GEMM work %.6f, want 2", r)
	}
}
