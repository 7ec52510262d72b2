package demo2d

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/bsam-dev/bsam/pkg/nn"
)

// NewNet builds the demo's MLP 2 → hidden… → 1 with ELU after every hidden
// layer, haiku's default truncated-normal weights and biases initialised
// to 0.05 (as the project's MLP, SPEC §3.3), and a BinaryHead, so that
// Net's cross-entropy is the logistic loss of the one output f and
// p(class 1) = σ(f). The parameters are initialised from r.
func NewNet(hidden []int, r *rand.Rand) *nn.Net[float64] { return newNet(hidden, r, 0) }

func newNet(hidden []int, r *rand.Rand, shard int) *nn.Net[float64] {
	bias := nn.Const(0.05)
	build := func() []nn.Layer[float64] {
		var layers []nn.Layer[float64]
		for i, h := range hidden {
			layers = append(layers, &nn.Linear[float64]{Name: fmt.Sprintf("fc%d", i+1), Out: h, BInit: bias}, &nn.ELU[float64]{})
		}
		return append(layers,
			&nn.Linear[float64]{Name: fmt.Sprintf("fc%d", len(hidden)+1), Out: 1, BInit: bias},
			&nn.BinaryHead[float64]{})
	}
	net := nn.NewNet(nn.Shape{H: 1, W: 1, C: 2}, 2, build, nn.NetOptions{ShardSize: shard})
	net.Init(r)
	return net
}

// objective is the optim.Objective of one minibatch: sub-batch k of m is
// the k-th of m consecutive equal slices. The MLP has no BatchNorm, so
// pass does not matter.
type objective struct {
	net *nn.Net[float64]
	x   []float64
	y   []int32
}

// Target lets the optimizers write their evaluation points straight into
// the network's parameters.
func (o *objective) Target() []float64 { return o.net.Params() }

func (o *objective) Eval(theta []float64, k, m, pass int) (float64, []float64) {
	params := o.net.Params()
	if len(theta) > 0 && &theta[0] != &params[0] {
		copy(params, theta)
	}
	n := len(o.y)
	lo, hi := k*n/m, (k+1)*n/m
	loss := o.net.LossGrad(o.x[2*lo:2*hi], o.y[lo:hi], hi-lo, false)
	return loss, o.net.Grads()
}

// predictor evaluates p(class 1) of the network at given parameters.
type predictor struct {
	net    *nn.Net[float64]
	logits []float64
}

// newPredictor returns a predictor for the MLP with the given hidden
// widths.
func newPredictor(hidden []int) *predictor {
	return &predictor{net: newNet(hidden, rand.New(rand.NewPCG(0, 0)), 512)}
}

// Prob writes p(class 1) = σ(f) at parameters w for the n = len(dst)
// points of x (x holds 2n coordinates).
func (p *predictor) Prob(dst []float64, w, x []float64) {
	n := len(dst)
	copy(p.net.Params(), w)
	if cap(p.logits) < 2*n {
		p.logits = make([]float64, 2*n)
	}
	l := p.logits[:2*n]
	p.net.Logits(x, n, l)
	for i := range dst {
		dst[i] = sigmoid(l[2*i+1] - l[2*i])
	}
}

// sigmoid is 1/(1+e^−f), computed without overflow for large |f|.
func sigmoid(f float64) float64 {
	if f >= 0 {
		return 1 / (1 + math.Exp(-f))
	}
	e := math.Exp(f)
	return e / (1 + e)
}
