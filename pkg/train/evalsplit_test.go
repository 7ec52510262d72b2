package train

import (
	"context"
	"testing"

	"github.com/bsam-dev/bsam/pkg/config"
	"github.com/bsam-dev/bsam/pkg/datasets"
)

// TestEvalEveryDoesNotChangeResults trains bSAM twice, evaluating every
// epoch and only at the end: the final metrics must be identical, which is
// why reports may average runs that differ only in eval.every.
// It also checks that a validation split is recorded in result.json.
func TestEvalEveryDoesNotChangeResults(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on real MNIST")
	}
	data, err := datasets.Load(context.Background(), "mnist", datasets.Options{Dir: mnistDir(t), TrainSubset: 2000, Validation: 500})
	if err != nil {
		t.Fatal(err)
	}
	if data.EvalSplit != datasets.EvalValidation || data.Test.N != 500 {
		t.Fatalf("validation split: %q with %d examples", data.EvalSplit, data.Test.N)
	}
	var got []*Result
	for _, every := range []string{"1", "0"} {
		e, err := config.Parse("small.yaml", []byte(smallExp), []config.Override{
			{Path: "out", Value: t.TempDir()}, {Path: "eval.every", Value: every}, {Path: "epochs", Value: "1"},
			{Path: "data.validation", Value: "500"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.SelectMethods([]string{"bsam"}); err != nil {
			t.Fatal(err)
		}
		outs, err := RunExperiment(context.Background(), e, data, Options{})
		if err != nil || outs[0].Err != nil {
			t.Fatal(err, outs[0].Err)
		}
		got = append(got, outs[0].Result)
	}
	a, b := got[0], got[1]
	if a.Point != b.Point || a.BMA != b.BMA || a.TrainLoss != b.TrainLoss {
		t.Errorf("eval.every changed the result:\n every 1: %+v %+v\n every 0: %+v %+v", a.Point, a.BMA, b.Point, b.BMA)
	}
	if a.EvalSplit != "validation" || a.NValidation != 500 || a.NTest != 500 || a.NTrain != 2000 {
		t.Errorf("result.json split fields: eval_split %q, nvalidation %d, ntest %d, ntrain %d", a.EvalSplit, a.NValidation, a.NTest, a.NTrain)
	}
}
