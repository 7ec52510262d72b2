package sweep

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/bsam-dev/bsam/pkg/config"
	"github.com/bsam-dev/bsam/pkg/datasets"
	"github.com/bsam-dev/bsam/pkg/nn/models"
	"github.com/bsam-dev/bsam/pkg/train"
)

// StepTimer returns the seconds one training step (forward + backward of
// one minibatch) of the run's model takes with the given number of
// threads.
type StepTimer func(r config.Run, threads int) (float64, error)

// Estimate is the estimated training cost of some runs.
type Estimate struct {
	Threads     int                // threads each run was timed with
	StepSeconds map[string]float64 // seconds per forward+backward, by model
	RunSeconds  []float64          // per run, in the order given
	Total       float64            // sum of RunSeconds
}

// StepsPerRun returns the number of gradient evaluations a run makes:
// minibatches per epoch × epochs actually run (+1 with extra_epoch), twice
// for SAM-type methods (the ascent and the descent gradient).
func StepsPerRun(r config.Run) (int, error) {
	n := r.Data.TrainSubset
	info, err := datasets.Lookup(r.Dataset)
	if err != nil && n <= 0 {
		return 0, err
	}
	if n <= 0 || (err == nil && n > info.TrainN) {
		n = info.TrainN
	}
	batches := (n + r.BatchSize - 1) / r.BatchSize
	if err == nil && info.DropLastTrain {
		batches = max(1, n/r.BatchSize)
	}
	epochs := r.Epochs
	if r.ExtraEpoch {
		epochs++
	}
	steps := batches * epochs
	if config.IsSAMType(r.Method) {
		steps *= 2
	}
	return steps, nil
}

// EstimateCost times a training step of each model of the points with the
// given threads (through timer; nil uses MeasureStep) and multiplies it by
// StepsPerRun. It covers training steps only: evaluation, data loading and
// bSAM's posterior sampling at test time come on top.
func EstimateCost(points []Point, threads int, timer StepTimer) (*Estimate, error) {
	if timer == nil {
		timer = MeasureStep
	}
	est := &Estimate{Threads: threads, StepSeconds: map[string]float64{}}
	for _, pt := range points {
		key := fmt.Sprintf("%s/%s/b%d", pt.Run.Model, pt.Run.Dataset, pt.Run.BatchSize)
		sec, ok := est.StepSeconds[key]
		if !ok {
			var err error
			if sec, err = timer(pt.Run, threads); err != nil {
				return nil, err
			}
			est.StepSeconds[key] = sec
		}
		steps, err := StepsPerRun(pt.Run)
		if err != nil {
			return nil, err
		}
		t := sec * float64(steps)
		est.RunSeconds = append(est.RunSeconds, t)
		est.Total += t
	}
	return est, nil
}

// MeasureStep builds the run's model with random weights and times
// LossGrad on a random minibatch of the run's batch size: one warm-up step,
// then the median of three, with GOMAXPROCS set to threads meanwhile.
func MeasureStep(r config.Run, threads int) (float64, error) {
	info, err := datasets.Lookup(r.Dataset)
	if err != nil {
		return 0, fmt.Errorf("estimating the cost: %w", err)
	}
	if threads > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(threads))
	}
	// The engine the run trains with (precision and convolution algorithm
	// as the trainer resolves them on this CPU).
	netOpts, _, err := train.NetOptions(r)
	if err != nil {
		return 0, fmt.Errorf("estimating the cost: %w", err)
	}
	net, err := models.New[float32](r.Model, info.Shape, info.Classes, models.Options{NetOptions: netOpts})
	if err != nil {
		return 0, fmt.Errorf("estimating the cost: %w", err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	net.Init(rng)
	b := r.BatchSize
	x := make([]float32, b*info.Shape.Size())
	for i := range x {
		x[i] = rng.Float32()
	}
	labels := make([]int32, b)
	for i := range labels {
		labels[i] = int32(rng.IntN(info.Classes))
	}
	net.LossGrad(x, labels, b, false)
	var times [3]float64
	for i := range times {
		start := time.Now()
		net.LossGrad(x, labels, b, false)
		times[i] = time.Since(start).Seconds()
	}
	a, m, c := times[0], times[1], times[2]
	return max(min(a, m), min(max(a, m), c)), nil
}
