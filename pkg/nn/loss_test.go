package nn

import (
	"math"
	"testing"
)

// TestSoftmaxCrossEntropyFlushesNegligibleProbabilities: a class whose
// probability is below minProb gets an exactly zero gradient (no denormals
// downstream), the others keep softmax − onehot.
func TestSoftmaxCrossEntropyFlushesNegligibleProbabilities(t *testing.T) {
	logits := []float32{0, -100, 1} // p(class 1) ≈ e^-101 ≈ 1.4e-44
	d := make([]float32, 3)
	loss := SoftmaxCrossEntropy(logits, []int32{2}, 1, 3, 1, d)
	if d[1] != 0 {
		t.Errorf("gradient of a class with probability ~1e-44 is %g, want exactly 0", d[1])
	}
	p0 := math.Exp(0 - (1 + math.Log(1+math.Exp(-1))))
	if math.Abs(float64(d[0])-p0) > 1e-7 || math.Abs(float64(d[2])-(1-p0-1)) > 1e-7 {
		t.Errorf("gradients %v, want [%g 0 %g]", d, p0, -p0)
	}
	if want := math.Log(1 + math.Exp(-1)); math.Abs(loss-want) > 1e-6 {
		t.Errorf("loss %g, want %g", loss, want)
	}
}
