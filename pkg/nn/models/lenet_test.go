package models

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bsam-dev/bsam/pkg/nn"
)

// TestLeNetFiniteDifferences checks the float64 LeNet's LossGrad gradient
// against central differences of its loss on a sample of every parameter
// tensor, with the batch cut into two shards. A 16×16×2 input (pooled
// 16 → 7 → 3 → 1) keeps it quick.
func TestLeNetFiniteDifferences(t *testing.T) {
	const n, h, perTensor = 3, 1e-5, 6
	in := nn.Shape{H: 16, W: 16, C: 2}
	net, err := New[float64]("lenet", in, 10, Options{NetOptions: nn.NetOptions{ShardSize: 2}})
	if err != nil {
		t.Fatal(err)
	}
	net.Init(rand.New(rand.NewPCG(9, 9)))
	rng := rand.New(rand.NewPCG(10, 10))
	x := make([]float64, n*in.Size())
	for i := range x {
		x[i] = rng.Float64()
	}
	labels := []int32{3, 0, 7}
	net.LossGrad(x, labels, n, false)
	grad := append([]float64(nil), net.Grads()...)
	p := net.Params()
	for _, s := range net.ParamSpecs() {
		var nz, bad int
		for k := 0; k < perTensor; k++ {
			i := s.Offset + rng.IntN(s.Size)
			old := p[i]
			p[i] = old + h
			lp := net.LossGrad(x, labels, n, false)
			p[i] = old - h
			lm := net.LossGrad(x, labels, n, false)
			p[i] = old
			fd := (lp - lm) / (2 * h)
			if fd != 0 {
				nz++
			}
			// Max-pool and ReLU kinks inside ±h can spoil a difference;
			// allow one such entry per tensor.
			if math.Abs(fd-grad[i]) > 1e-6+1e-4*math.Abs(fd) {
				bad++
				t.Logf("%s[%d]: backward %.8g, finite difference %.8g", s.Name, i-s.Offset, grad[i], fd)
			}
		}
		if bad > 1 {
			t.Errorf("%s: %d of %d sampled gradients disagree with finite differences", s.Name, bad, perTensor)
		}
		if nz == 0 {
			t.Errorf("%s: every sampled gradient is zero", s.Name)
		}
	}
}
