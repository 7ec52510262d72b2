package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestBinaryHeadIsLogisticLoss: a Linear(1) + BinaryHead network trained by
// Net's softmax cross-entropy has the mean logistic loss
// log(1+eᶠ) − y·f of demo2d.py and its gradient mean((σ(f)−y)·x), computed
// here by hand from f = x·w + b.
func TestBinaryHeadIsLogisticLoss(t *testing.T) {
	const in = 3
	for _, n := range []int{1, 5, 40} { // 40: two shards of the default 32
		rng := rand.New(rand.NewPCG(uint64(n), 7))
		net := NewNet(Shape{1, 1, in}, 2, func() []Layer[float64] {
			return []Layer[float64]{&Linear[float64]{Name: "fc", Out: 1}, &BinaryHead[float64]{}}
		}, NetOptions{})
		p := net.Params() // fc.weight [3][1], then fc.bias [1]
		for i := range p {
			p[i] = 2 * rng.NormFloat64()
		}
		x := make([]float64, n*in)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		y := make([]int32, n)
		for i := range y {
			y[i] = int32(rng.IntN(2))
		}
		loss := net.LossGrad(x, y, n, false)

		var want float64
		wantGrad := make([]float64, in+1)
		for i := 0; i < n; i++ {
			f := p[in]
			for j := 0; j < in; j++ {
				f += x[i*in+j] * p[j]
			}
			yi := float64(y[i])
			want += (math.Log(1+math.Exp(f)) - yi*f) / float64(n)
			r := (1/(1+math.Exp(-f)) - yi) / float64(n)
			for j := 0; j < in; j++ {
				wantGrad[j] += r * x[i*in+j]
			}
			wantGrad[in] += r
		}
		if math.Abs(loss-want) > 1e-12 {
			t.Errorf("n=%d: loss %.15g, want %.15g", n, loss, want)
		}
		for j, g := range net.Grads() {
			if math.Abs(g-wantGrad[j]) > 1e-12 {
				t.Errorf("n=%d: grad[%d] = %.15g, want %.15g", n, j, g, wantGrad[j])
			}
		}

		logits := make([]float64, 2*n)
		net.Logits(x, n, logits)
		for i := 0; i < n; i++ {
			f := p[in]
			for j := 0; j < in; j++ {
				f += x[i*in+j] * p[j]
			}
			if logits[2*i] != 0 || math.Abs(logits[2*i+1]-f) > 1e-12 {
				t.Errorf("n=%d: logits of example %d = %v, want (0, %g)", n, i, logits[2*i:2*i+2], f)
			}
		}
	}
}

// TestBinaryHeadGradient compares Backward with finite differences.
func TestBinaryHeadGradient(t *testing.T) {
	checkLayerGrad(t, &BinaryHead[float64]{}, Shape{1, 1, 1}, 6, rand.New(rand.NewPCG(3, 4)), nil)
}

// TestBinaryHeadRejectsWideInput: more than one value per example is a
// wiring mistake that must not be silently truncated.
func TestBinaryHeadRejectsWideInput(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Setup accepted 2 values per example")
		}
	}()
	var b Builder
	(&BinaryHead[float64]{}).Setup(&b, Shape{1, 1, 2})
}
