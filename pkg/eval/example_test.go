package eval_test

import (
	"fmt"

	"github.com/bsam-dev/bsam/pkg/eval"
)

// A test loop with a batch of three examples and three classes: the point
// prediction uses one set of logits, the Bayesian model average two samples.
func ExampleAccumulator() {
	labels := []int32{0, 1, 2}
	mean := []float32{ // 3 examples × 3 classes, row-major
		2, 0, 0,
		0, 1, 0,
		1, 0, 0, // wrong
	}
	sample1 := []float32{
		2, 0, 0,
		0, 2, 0,
		0, 0, 1,
	}
	sample2 := []float32{
		1, 0, 0,
		1, 0, 0,
		2, 0, 0, // the average predicts class 0: wrong
	}

	point := eval.NewAccumulator(3)
	point.AddBatch([][]float32{mean}, labels)
	bma := eval.NewAccumulator(3)
	bma.AddBatch([][]float32{sample1, sample2}, labels)

	for _, a := range []*eval.Accumulator{point, bma} {
		m := a.Metrics()
		fmt.Printf("n=%d acc=%.2f%% nll=%.4f ece=%.4f auroc=%.4f\n", a.N(), m.Accuracy, m.NLL, m.ECE, m.AUROC)
	}
	// Output:
	// n=3 acc=66.67% nll=0.7808 ece=0.1217 auroc=0.7500
	// n=3 acc=66.67% nll=0.7175 ece=0.1065 auroc=0.7500
}

func ExampleCompute() {
	probs := []float64{
		0.7, 0.2, 0.1, // correct, confidence 0.7
		0.1, 0.3, 0.6, // wrong (label 1), confidence 0.6
	}
	m := eval.Compute(probs, []int32{0, 1}, 2, 3)
	fmt.Printf("acc=%.1f nll=%.4f auroc=%.1f\n", m.Accuracy, m.NLL, m.AUROC)
	// Output:
	// acc=50.0 nll=0.7803 auroc=1.0
}

func ExampleMeanStd() {
	mean, std := eval.MeanStd([]float64{95.1, 95.4, 95.2})
	fmt.Printf("%.2f ± %.2f\n", mean, std)
	// Output:
	// 95.23 ± 0.15
}

func ExampleOfficialNLLFactor() {
	// CIFAR: 10,000 test images in batches of 200.
	fmt.Printf("%.4f\n", eval.OfficialNLLFactor(10000/200))
	// Output:
	// 1.0204
}
