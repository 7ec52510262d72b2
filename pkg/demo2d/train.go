package demo2d

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/bsam-dev/bsam/pkg/optim"
)

// Trained is the outcome of training one method.
type Trained struct {
	Method string
	// W is the final parameter vector (bSAM: the posterior mean).
	W []float64
	// S is bSAM's final precision s (nil for the other methods); the
	// posterior is N(W, diag(1/(NData·S))).
	S     []float64
	NData float64
	// Loss is the mean reported training loss of each epoch.
	Loss []float64
	// Frames are (epoch, W, S) snapshots every FrameEvery epochs and after
	// the last one, kept when Config.GIF is set.
	Frames []Snapshot
}

// Snapshot is the parameter state at the end of an epoch.
type Snapshot struct {
	Epoch int
	W, S  []float64
}

// Train trains method on data with the settings of c, from the network
// initialisation and the minibatch order that c.Seed gives every method.
// Each epoch shuffles the data and takes ⌊N/BatchSize⌋ steps; the
// remainder of the permutation is skipped, as in demo2d.py.
func Train(ctx context.Context, c Config, method string, data Data) (*Trained, error) {
	h := c.Hyper(method)
	if err := h.Validate(method); err != nil {
		return nil, err
	}
	net := NewNet(c.Hidden, rand.New(rand.NewPCG(c.Seed, streamInit)))
	var noise optim.Noise[float64]
	if method == optim.MethodBSAM {
		noise = optim.NewRNGNoise[float64](rand.New(rand.NewPCG(c.Seed, streamNoise)).Uint64())
	}
	opt, err := optim.New(method, h, net.Params(), noise)
	if err != nil {
		return nil, err
	}
	// The factor of epoch e is ½(1+cos(π·e/E)) for e = 0..E: the
	// schedule without the training script's extra epoch in the cosine,
	// evaluated one epoch past its end, so the last factor is 0.
	sched := optim.Schedule{Epochs: c.Epochs}
	shuffle := rand.New(rand.NewPCG(c.Seed, streamShuffle))
	n, b := data.Len(), c.BatchSize
	obj := &objective{net: net, x: make([]float64, 2*b), y: make([]int32, b)}
	t := &Trained{Method: method, NData: h.NData()}
	bayes, _ := opt.(optim.Bayesian[float64])
	snap := func(e int) {
		s := Snapshot{Epoch: e, W: append([]float64(nil), opt.Params()...)}
		if bayes != nil {
			s.S = append([]float64(nil), bayes.Precision()...)
		}
		t.Frames = append(t.Frames, s)
	}
	for e := 0; e <= c.Epochs; e++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		factor := sched.Factor(e)
		perm := shuffle.Perm(n)
		var loss float64
		steps := 0
		for lo := 0; lo+b <= n; lo += b {
			for i, j := range perm[lo : lo+b] {
				obj.x[2*i], obj.x[2*i+1] = data.X[2*j], data.X[2*j+1]
				obj.y[i] = data.Y[j]
			}
			loss += opt.Step(obj, factor)
			steps++
		}
		loss /= float64(steps)
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return nil, fmt.Errorf("%s diverged: training loss %v in epoch %d", method, loss, e)
		}
		t.Loss = append(t.Loss, loss)
		if c.GIF && (e%c.FrameEvery == 0 || e == c.Epochs) {
			snap(e)
		}
	}
	t.W = append([]float64(nil), opt.Params()...)
	if bayes != nil {
		t.S = append([]float64(nil), bayes.Precision()...)
	}
	return t, nil
}

// Predictions are the probabilities of class 1 that one method's panel
// and measures are computed from.
type Predictions struct {
	// Grid and Train: p(class 1) at the grid points and the training
	// points, of the point prediction at W (SGD, SAM-SGD) or of the
	// Bayesian model average over the posterior samples (bSAM).
	Grid, Train []float64
	// MeanGrid and MeanTrain are bSAM's point prediction at the posterior
	// mean W (nil for the other methods).
	MeanGrid, MeanTrain []float64
	// SampleGrids are the grid probabilities of the first ContourSamples
	// posterior samples (bSAM only).
	SampleGrids [][]float64
}

// Predict evaluates the network at parameters w on the grid and the
// training points. With a precision s (bSAM) it draws samples posterior
// samples θ = w + e·sqrt(1/(ndata·s)),
// e ~ N(0, I) from a generator seeded by seed, averages their predictive
// probabilities (the Bayesian model average) and keeps the grids of the
// first contours of them.
func (p *predictor) Predict(w, s []float64, ndata float64, grid Grid, data Data, samples, contours int, seed uint64) *Predictions {
	pr := &Predictions{Grid: make([]float64, grid.Len()), Train: make([]float64, data.Len())}
	if s == nil {
		p.Prob(pr.Grid, w, grid.Points)
		p.Prob(pr.Train, w, data.X)
		return pr
	}
	pr.MeanGrid = make([]float64, grid.Len())
	pr.MeanTrain = make([]float64, data.Len())
	p.Prob(pr.MeanGrid, w, grid.Points)
	p.Prob(pr.MeanTrain, w, data.X)
	sd := make([]float64, len(w))
	optim.PosteriorStd(sd, s, ndata)
	r := rand.New(rand.NewPCG(seed, streamSamples))
	theta := make([]float64, len(w))
	g := make([]float64, grid.Len())
	tr := make([]float64, data.Len())
	for k := 0; k < samples; k++ {
		optim.FillNormal(r, theta)
		optim.PosteriorSampleStd(theta, w, sd, theta)
		p.Prob(g, theta, grid.Points)
		p.Prob(tr, theta, data.X)
		for i, v := range g {
			pr.Grid[i] += v
		}
		for i, v := range tr {
			pr.Train[i] += v
		}
		if k < contours {
			pr.SampleGrids = append(pr.SampleGrids, append([]float64(nil), g...))
		}
	}
	inv := 1 / float64(samples)
	for i := range pr.Grid {
		pr.Grid[i] *= inv
	}
	for i := range pr.Train {
		pr.Train[i] *= inv
	}
	return pr
}
