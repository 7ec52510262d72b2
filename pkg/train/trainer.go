package train

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"path/filepath"
	"time"

	"github.com/bsam-dev/bsam/pkg/config"
	"github.com/bsam-dev/bsam/pkg/datasets"
	"github.com/bsam-dev/bsam/pkg/eval"
	"github.com/bsam-dev/bsam/pkg/nn"
	"github.com/bsam-dev/bsam/pkg/nn/models"
	"github.com/bsam-dev/bsam/pkg/optim"
)

// StreamSeed derives the seed of a named random stream ("init", "data",
// "noise", "bma") from a run seed. Streams are independent: adding one never
// shifts another.
func StreamSeed(seed int, name string) uint64 {
	h := sha256.Sum256([]byte(fmt.Sprintf("bsam/stream/%d/%s", seed, name)))
	return binary.LittleEndian.Uint64(h[:8])
}

// processSteps counts the optimizer steps this process has taken (for
// stepHook).
var processSteps int

// DivergedError reports a non-finite training loss.
type DivergedError struct {
	Epoch, Step int
	Loss        float64
}

func (e *DivergedError) Error() string {
	return fmt.Sprintf("diverged: training loss %v at epoch %d, step %d", e.Loss, e.Epoch, e.Step)
}

// Hooks let the caller observe a run (progress display, logging).
type Hooks struct {
	// Start is called once with the number of epochs, batches per epoch and
	// the batch size.
	Start func(epochs, batches, batchSize int)
	// Batch is called after every optimizer step with the running mean loss.
	Batch func(epoch, step int, meanLoss float64)
	// Epoch is called after every epoch with its record.
	Epoch func(rec EpochRecord)
	// Eval is called after every test batch of the final evaluation with
	// what is evaluated ("point prediction", "Bayesian model average …")
	// and the batches done of total; done == total ends that evaluation.
	Eval func(what string, done, total int)
}

// Session trains one run (one method, one seed) on a loaded dataset.
type Session struct {
	Run    config.Run
	Data   *datasets.Dataset
	Logger *slog.Logger
	Hooks  Hooks
	// Workers is the number of data-loader goroutines (0 = default).
	Workers int

	net   *nn.Net[float32]
	opt   optim.Optimizer[float32]
	noise *optim.RNGNoise[float32]
	pos   Checkpoint // position and running sums; its vectors are unused
	final string     // what the final evaluation is scoring ("" before it)
}

// evalTick reports batch done of total of the final evaluation.
func (s *Session) evalTick(done, total int) {
	if s.final != "" && s.Hooks.Eval != nil {
		s.Hooks.Eval(s.final, done, total)
	}
}

// batchObjective implements optim.Objective over the network and one
// minibatch: it copies theta into the network's parameters and runs a
// forward/backward pass on sub-batch k of m. As an
// optim.SubBatchObjective it also evaluates sub-batches concurrently on
// clones of the network (subbatch.go).
type batchObjective struct {
	net      *nn.Net[float32]
	x        []float32
	y        []int32
	n, size  int // examples in the batch, values per example
	bnUpdate string
	// subBatches is how many sub-batches of a SAM-type step run at once:
	// 0 automatic (optim.SubBatchConcurrency at GOMAXPROCS), 1 one after
	// another, more: that many (at most m).
	subBatches int
	slots      []*slotObjective // slots 1, 2, …, built when first needed
}

// Target hands the optimizers the network's parameter buffer, so they write
// their evaluation points straight into it (optim.ParamsTarget) and Eval
// skips the copy.
func (o *batchObjective) Target() []float32 { return o.net.Params() }

func (o *batchObjective) Eval(theta []float32, k, m, pass int) (float64, []float32) {
	return o.evalOn(o.net, theta, k, m, pass)
}

// evalOn is Eval on net, the objective's network or one of its clones.
func (o *batchObjective) evalOn(net *nn.Net[float32], theta []float32, k, m, pass int) (float64, []float32) {
	params := net.Params()
	if len(theta) > 0 && &theta[0] != &params[0] {
		copy(params, theta)
	}
	lo, hi := k*o.n/m, (k+1)*o.n/m
	// BatchNorm running statistics (SPEC §1.1): SGD updates them once per
	// step; SAM-type methods keep sub-batch 0's state after both passes
	// ("official") or after its first pass only ("once").
	update := k == 0 && (pass == 0 || o.bnUpdate == "official")
	loss := net.LossGrad(o.x[lo*o.size:hi*o.size], o.y[lo:hi], hi-lo, update)
	return loss, net.Grads()
}

// Setup builds the model and optimizer from the run's seed.
func (s *Session) Setup() error {
	r := s.Run
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	netOpts, notice, err := NetOptions(r)
	if err != nil {
		return err
	}
	if notice != "" {
		s.Logger.Warn(notice)
	}
	net, err := models.New[float32](r.Model, s.Data.Train.Shape, s.Data.Classes, models.Options{NetOptions: netOpts})
	if err != nil {
		return err
	}
	if r.Eval.NLLOfficialFactor && (s.Data.Test.N+r.TestBatchSize-1)/r.TestBatchSize < 2 {
		return fmt.Errorf("eval.nll_official_factor needs at least 2 test batches (the official script divides by the last batch index); the test set has %d examples and test_batch_size is %d", s.Data.Test.N, r.TestBatchSize)
	}
	if net.NumClasses() != s.Data.Classes {
		return fmt.Errorf("model %s has %d outputs but %s has %d classes", r.Model, net.NumClasses(), r.Dataset, s.Data.Classes)
	}
	net.Init(rand.New(rand.NewPCG(StreamSeed(r.Seed, "init"), 0)))
	o := r.Optimizer
	h := optim.Hyper{
		LR: o.LR, Beta1: o.Beta1, Beta2: o.Beta2, Rho: o.Rho, PriorPrec: o.PriorPrec,
		DAFactor: o.DAFactor, BatchSplit: o.BatchSplit, Damping: o.Damping, SInit: o.SInit,
		Eps: o.Eps, NTrain: s.Data.Train.N,
	}
	if !config.IsSAMType(r.Method) {
		h.BatchSplit = 1
	}
	w0 := append([]float32(nil), net.Params()...)
	s.noise = optim.NewRNGNoise[float32](StreamSeed(r.Seed, "noise"))
	opt, err := optim.New[float32](r.Method, h, w0, s.noise)
	if err != nil {
		return err
	}
	s.net, s.opt = net, opt
	s.pos = Checkpoint{ConfigHash: r.Hash()}
	return nil
}

// Checkpoint captures the session's complete state.
func (s *Session) Checkpoint() *Checkpoint {
	c := s.pos
	c.Records = append([]EpochRecord(nil), s.pos.Records...)
	c.data = nil
	c.NoiseStep = s.noise.Step()
	if ctr, ok := s.opt.(optim.Counter); ok {
		c.Count = ctr.Count()
	}
	c.Set("params", s.opt.Params())
	for name, v := range s.opt.State() {
		c.Set("opt."+name, v)
	}
	c.Set("model.state", s.net.State())
	return &c
}

// Restore continues the session from a checkpoint of the same run.
func (s *Session) Restore(c *Checkpoint) error {
	if s.net == nil {
		if err := s.Setup(); err != nil {
			return err
		}
	}
	if c.ConfigHash != s.Run.Hash() {
		return fmt.Errorf("checkpoint belongs to configuration %s, not %s", c.ConfigHash, s.Run.Hash())
	}
	dst := map[string][]float32{"params": s.opt.Params(), "model.state": s.net.State()}
	for name, v := range s.opt.State() {
		dst["opt."+name] = v
	}
	for name, v := range dst {
		src, err := c.Get(name, len(v))
		if err != nil {
			return err
		}
		copy(v, src)
	}
	if len(c.Arrays) != len(dst) {
		return fmt.Errorf("checkpoint holds %d vectors, the run has %d", len(c.Arrays), len(dst))
	}
	s.noise.SetStep(c.NoiseStep)
	if ctr, ok := s.opt.(optim.Counter); ok {
		ctr.SetCount(c.Count)
	}
	s.pos = *c
	s.pos.data = nil
	return nil
}

// Epoch returns the number of epochs completed.
func (s *Session) Epoch() int { return s.pos.Epoch }

// Train runs the remaining epochs and the final evaluation and returns the
// result. save is called with a checkpoint after every epoch and, when ctx
// is cancelled (SIGINT, SIGTERM), at the batch where training stopped;
// record is called with every epoch's record. Either may be nil.
func (s *Session) Train(ctx context.Context, save func(*Checkpoint) error, record func(EpochRecord) error) (*Result, error) {
	if s.net == nil {
		if err := s.Setup(); err != nil {
			return nil, err
		}
	}
	r := s.Run
	sched := optim.Schedule{Epochs: r.Epochs, Warmup: r.Warmup, ExtraEpoch: r.ExtraEpoch}
	lo := s.Data.TrainLoaderOptions(r.BatchSize, r.Augment, StreamSeed(r.Seed, "data"))
	lo.Workers = s.Workers
	if m := r.Optimizer.BatchSplit; config.IsSAMType(r.Method) && !lo.DropLast && s.Data.Train.N%r.BatchSize%m != 0 {
		// The official code reshapes every batch into batchsplit equal
		// sub-batches; a last batch that cannot be split is dropped rather
		// than split unevenly (SPEC §1.1).
		s.Logger.Warn("dropping the incomplete last training batch: its size is not a multiple of batchsplit",
			"last_batch", s.Data.Train.N%r.BatchSize, "batchsplit", m)
		lo.DropLast = true
	}
	loader := datasets.NewLoader(s.Data.Train, s.Data.Norm, lo)
	obj := &batchObjective{net: s.net, size: s.Data.Train.Shape.Size(), bnUpdate: r.Optimizer.BNUpdate}
	epochs := sched.NumEpochs()
	if s.Hooks.Start != nil {
		s.Hooks.Start(epochs, loader.NumBatches(), r.BatchSize)
	}
	p := &s.pos
	for p.Epoch < epochs {
		e := p.Epoch
		start, seenBefore := time.Now(), p.Seen
		f := sched.Factor(e)
		// The epoch's own context stops the loader's goroutines however the
		// loop ends (divergence returns from the middle of it).
		ectx, cancel := context.WithCancel(ctx)
		for b := range loader.Epoch(ectx, e, p.Batch) {
			obj.x, obj.y, obj.n = b.X, b.Y, b.N
			loss := s.opt.Step(obj, f)
			n := b.N
			b.Release()
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				cancel()
				return nil, &DivergedError{Epoch: e, Step: p.Batch, Loss: loss}
			}
			p.Seen += n
			p.LossSum += loss
			p.Steps++
			p.Batch++
			if stepHook != nil {
				processSteps++
				stepHook(processSteps)
			}
			if s.Hooks.Batch != nil {
				s.Hooks.Batch(e, p.Batch, p.LossSum/float64(p.Steps))
			}
			if ctx.Err() != nil {
				break
			}
		}
		cancel()
		if err := ctx.Err(); err != nil {
			if save != nil {
				if serr := save(s.Checkpoint()); serr != nil {
					return nil, errors.Join(err, serr)
				}
			}
			return nil, err
		}
		if p.Steps == 0 {
			return nil, errors.New("the training loader produced no batches (is the training set smaller than one batch with drop_last?)")
		}
		rec := EpochRecord{Epoch: e, LRFactor: f, TrainLoss: p.LossSum / float64(p.Steps)}
		// Throughput of this process only (a resumed epoch started earlier).
		rec.ImgPerSec = float64(p.Seen-seenBefore) / time.Since(start).Seconds()
		if r.Eval.Every > 0 && ((e+1)%r.Eval.Every == 0 || e == epochs-1) {
			m := s.evaluate(ctx).Metrics()
			if err := ctx.Err(); err != nil {
				// Interrupted while evaluating: the epoch's training is
				// complete; keep it and evaluate again on resume.
				if save != nil {
					if serr := save(s.Checkpoint()); serr != nil {
						return nil, errors.Join(err, serr)
					}
				}
				return nil, err
			}
			rec.TestAcc, rec.TestNLL = &m.Accuracy, &m.NLL
		}
		rec.Seconds = time.Since(start).Seconds()
		p.Records = append(p.Records, rec)
		p.Epoch, p.Batch, p.LossSum, p.Steps, p.Seen = e+1, 0, 0, 0, 0
		if s.Hooks.Epoch != nil {
			s.Hooks.Epoch(rec)
		}
		if record != nil {
			if err := record(rec); err != nil {
				return nil, err
			}
		}
		if save != nil {
			if err := save(s.Checkpoint()); err != nil {
				return nil, err
			}
		}
	}
	var lastLoss float64
	if n := len(p.Records); n > 0 {
		lastLoss = p.Records[n-1].TrainLoss
	}
	res := &Result{
		Experiment: r.Experiment, Model: r.Model, Dataset: r.Dataset, Method: r.Method, Seed: r.Seed,
		Epochs: epochs, Augment: r.Augment && s.Data.Augmentable, NTrain: s.Data.Train.N, NTest: s.Data.Test.N,
		Hyper: r.HyperMap(), Swept: r.Swept, ConfigHash: r.Hash(), Status: "done", TrainLoss: lastLoss, TestMC: 1,
	}
	if r.Data.Source != "" {
		res.DataSource = filepath.Base(r.Data.Source)
	}
	res.EvalSplit = s.Data.EvalSplit
	res.Precision = effectivePrecision(r)
	res.Conv = runConv(r).String()
	if res.EvalSplit == "" {
		res.EvalSplit = datasets.EvalTest
	}
	if res.EvalSplit == datasets.EvalValidation {
		res.NValidation = s.Data.Test.N
	}
	s.final = "point prediction"
	point := s.evaluate(ctx)
	bma := point
	if b, ok := s.opt.(optim.Bayesian[float32]); ok {
		res.TestMC = r.TestMC
		s.final = fmt.Sprintf("Bayesian model average (%d samples)", r.TestMC)
		bma = s.evaluateBMA(ctx, b, r.TestMC)
	}
	s.final = ""
	res.Point, res.BMA, res.Reliability = point.Metrics(), bma.Metrics(), bma.Reliability()
	if r.Eval.NLLOfficialFactor {
		// The official test script divides the sum of per-batch mean NLLs
		// by the last batch index (SPEC §4); Setup made sure there are at
		// least two test batches.
		res.Point.NLL, res.BMA.NLL = point.OfficialNLL(), bma.OfficialNLL()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return res, nil
}

func (s *Session) testLoader() *datasets.Loader {
	lo := s.Data.TestLoaderOptions(s.Run.TestBatchSize)
	lo.Workers = s.Workers
	return datasets.NewLoader(s.Data.Test, s.Data.Norm, lo)
}

// evaluate scores the prediction at the current parameters w (BatchNorm in
// evaluation mode).
func (s *Session) evaluate(ctx context.Context) *eval.Accumulator {
	copy(s.net.Params(), s.opt.Params())
	k := s.Data.Classes
	acc := eval.NewAccumulator(k)
	logits := make([]float32, s.Run.TestBatchSize*k)
	loader := s.testLoader()
	done, total := 0, loader.NumBatches()
	for b := range loader.Epoch(ctx, 0, 0) {
		s.net.Logits(b.X, b.N, logits[:b.N*k])
		acc.AddBatch([][]float32{logits[:b.N*k]}, b.Y)
		b.Release()
		done++
		s.evalTick(done, total)
	}
	return acc
}

// evaluateBMA scores the Bayesian model average over j posterior samples
// θ = w + e·sqrt(1/(N·s)) drawn afresh for every test batch (SPEC §4).
func (s *Session) evaluateBMA(ctx context.Context, b optim.Bayesian[float32], j int) *eval.Accumulator {
	k := s.Data.Classes
	acc := eval.NewAccumulator(k)
	w, prec := b.Params(), b.Precision()
	noise := optim.NewRNGNoise[float32](StreamSeed(s.Run.Seed, "bma"))
	sd := make([]float32, len(w))
	optim.PosteriorStd(sd, prec, b.NData())
	logits := make([][]float32, j)
	for i := range logits {
		logits[i] = make([]float32, s.Run.TestBatchSize*k)
	}
	views := make([][]float32, j)
	loader := s.testLoader()
	done, total := 0, loader.NumBatches()
	for batch := range loader.Epoch(ctx, 0, 0) {
		noise.SetStep(uint64(batch.Num))
		for i := 0; i < j; i++ {
			noise.Sample(i, s.net.Params(), w, sd)
			views[i] = logits[i][:batch.N*k]
			s.net.Logits(batch.X, batch.N, views[i])
		}
		acc.AddBatch(views, batch.Y)
		batch.Release()
		done++
		s.evalTick(done, total)
	}
	return acc
}
