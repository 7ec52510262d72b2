package optim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/bsam-dev/bsam/pkg/nn"
)

// PosteriorSample writes one sample of the diagonal Gaussian posterior
// N(w, diag(1/(ndata·s))) into dst: dst_i = w_i + e_i·sqrt(1/(ndata·s_i)),
// with e a standard-normal draw. bSAM's training noise (SPEC §1.4 step 1)
// and test-time Bayesian model averaging (SPEC §4) both use this formula
// and one N (= ntrain·dafactor); bSAM's step computes sqrt(1/(N·s)) in T
// arithmetic (as the official float32 code), so its samples may differ from
// these in the last bit. dst may alias w or e.
//
// When many samples share one s (the m sub-batches of a bSAM step, the J
// samples of a BMA), PosteriorStd once followed by PosteriorSampleStd per
// sample gives bit-identical results without recomputing the square roots.
func PosteriorSample[T nn.Float](dst, w, s, e []T, ndata float64) {
	n := len(dst)
	w, s, e = w[:n], s[:n], e[:n]
	for i := range dst {
		dst[i] = w[i] + e[i]*posteriorStd(s[i], ndata)
	}
}

// PosteriorStd writes the posterior standard deviations
// dst_i = sqrt(1/(ndata·s_i)) of PosteriorSample. dst may alias s.
func PosteriorStd[T nn.Float](dst, s []T, ndata float64) {
	s = s[:len(dst)]
	for i := range dst {
		dst[i] = posteriorStd(s[i], ndata)
	}
}

// PosteriorSampleStd writes dst = w + e·sd, with sd from PosteriorStd: the
// same sample as PosteriorSample(dst, w, s, e, ndata). dst may alias w or e.
func PosteriorSampleStd[T nn.Float](dst, w, sd, e []T) {
	sampleStd(dst, w, e, sd)
}

// posteriorStd is sqrt(1/(ndata·s)), computed in float64 and rounded to T.
func posteriorStd[T nn.Float](s T, ndata float64) T {
	return T(math.Sqrt(1 / (ndata * float64(s))))
}

// FillNormal fills dst with independent standard-normal draws from r
// (rand.Rand.NormFloat64 rounded to T). RNGNoise does not use it: it has
// its own faster generator.
func FillNormal[T nn.Float](r *rand.Rand, dst []T) {
	for i := range dst {
		dst[i] = T(r.NormFloat64())
	}
}

// NoiseChunk is the number of consecutive values of one RNGNoise draw that
// come from one generator stream.
const NoiseChunk = 1 << 14

// RNGNoise is the training Noise source of bSAM. Value i of the draw for
// sub-batch k of step t comes from the stream of (seed, t, k, chunk =
// i/NoiseChunk), read from the chunk's start: a ziggurat normal generator
// on eight xoshiro256++ lanes (normGen, float32 values) seeded by a
// splitmix64 mix of the four numbers (streamState). So draws do not depend
// on the order of calls or on the CPU, resuming a run only needs the step
// counter (Step/SetStep), and long draws are generated in parallel, one
// chunk per job, on GOMAXPROCS goroutines without changing any value. It is
// not safe for concurrent use, except SampleConcurrent.
type RNGNoise[T nn.Float] struct {
	seed uint64
	step uint64
	pool *noisePool[T] // nil: generate on the calling goroutine
}

// fillChunk writes chunk c of the draw (seed, step, k) into dst, or, when w
// is not nil, chunk c of the posterior sample dst = w + e·sd.
func fillChunk[T nn.Float](seed, step, k uint64, c int, dst, w, sd []T) {
	lo, hi := c*NoiseChunk, min(len(dst), (c+1)*NoiseChunk)
	g := streamState(seed, step, k, uint64(c))
	if w == nil {
		fillNormal(&g, dst[lo:hi])
		return
	}
	// Generate a block at a time into a buffer that stays in L1, then
	// apply the affine map; dst may alias w or sd.
	var buf [zigBlock]T
	for ; lo < hi; lo += zigBlock {
		e := buf[:min(zigBlock, hi-lo)]
		fillNormal(&g, e)
		sampleStd(dst[lo:lo+len(e)], w[lo:], e, sd[lo:])
	}
}

// noisePool is a set of goroutines that generate chunks.
type noisePool[T nn.Float] struct {
	jobs chan noiseJob[T]
	wg   sync.WaitGroup
}

type noiseJob[T nn.Float] struct {
	seed, step, k uint64
	c             int
	dst, w, sd    []T
}

func newNoisePool[T nn.Float](workers int) *noisePool[T] {
	p := &noisePool[T]{jobs: make(chan noiseJob[T], 4*workers)}
	for i := 0; i < workers; i++ {
		go func() {
			for j := range p.jobs {
				fillChunk(j.seed, j.step, j.k, j.c, j.dst, j.w, j.sd)
				p.wg.Done()
			}
		}()
	}
	return p
}

// NewRNGNoise returns a noise source for the given seed, at step 0.
func NewRNGNoise[T nn.Float](seed uint64) *RNGNoise[T] {
	r := &RNGNoise[T]{seed: seed}
	if w := runtime.GOMAXPROCS(0); w > 1 {
		r.pool = newNoisePool[T](w)
		jobs := r.pool.jobs
		runtime.AddCleanup(r, func(ch chan noiseJob[T]) { close(ch) }, jobs)
	}
	return r
}

// Normal fills dst with the standard-normal draw for sub-batch k of the
// current step.
func (r *RNGNoise[T]) Normal(k int, dst []T) { r.run(k, dst, nil, nil) }

// Sample writes the posterior sample dst = w + e·sd, where e is the draw
// Normal(k, ·) would write, without storing e: each chunk is generated
// and mapped while it is in cache. dst may alias w or sd; w and sd must be
// at least as long as dst. With sd from PosteriorStd it gives the values of
// Normal followed by PosteriorSampleStd.
func (r *RNGNoise[T]) Sample(k int, dst, w, sd []T) {
	if len(w) < len(dst) || len(sd) < len(dst) {
		panic(fmt.Sprintf("optim.RNGNoise.Sample: dst has %d values, w %d, sd %d", len(dst), len(w), len(sd)))
	}
	if w == nil { // len(dst) == 0
		return
	}
	r.run(k, dst, w, sd)
}

// SampleConcurrent writes the sample of Sample on the calling goroutine,
// chunk after chunk, without the generator goroutines: the same values
// (each chunk comes from its own stream whoever generates it). It only
// reads r, so calls for different sub-batches may run concurrently (not
// with NextStep or SetStep); bSAM's parallel sub-batches use it, each
// sub-batch on a goroutine of its own.
func (r *RNGNoise[T]) SampleConcurrent(k int, dst, w, sd []T) {
	if len(w) < len(dst) || len(sd) < len(dst) {
		panic(fmt.Sprintf("optim.RNGNoise.SampleConcurrent: dst has %d values, w %d, sd %d", len(dst), len(w), len(sd)))
	}
	if w == nil { // len(dst) == 0
		return
	}
	for c := 0; c < (len(dst)+NoiseChunk-1)/NoiseChunk; c++ {
		fillChunk(r.seed, r.step, uint64(k), c, dst, w, sd)
	}
}

func (r *RNGNoise[T]) run(k int, dst, w, sd []T) {
	chunks := (len(dst) + NoiseChunk - 1) / NoiseChunk
	if r.pool == nil || chunks < 2 {
		for c := 0; c < chunks; c++ {
			fillChunk(r.seed, r.step, uint64(k), c, dst, w, sd)
		}
		return
	}
	r.pool.wg.Add(chunks)
	for c := 0; c < chunks; c++ {
		r.pool.jobs <- noiseJob[T]{seed: r.seed, step: r.step, k: uint64(k), c: c, dst: dst, w: w, sd: sd}
	}
	r.pool.wg.Wait()
}

// NextStep advances to the next step.
func (r *RNGNoise[T]) NextStep() { r.step++ }

// Step returns the current step counter (the number of NextStep calls since
// step 0, or the value last set), for checkpoints.
func (r *RNGNoise[T]) Step() uint64 { return r.step }

// SetStep sets the step counter, for resuming from a checkpoint.
func (r *RNGNoise[T]) SetStep(step uint64) { r.step = step }

// streamState returns the generator of stream (seed, step, k, chunk),
// seeded by chaining splitmix64 over the inputs.
func streamState(seed, step, k, chunk uint64) normGen {
	return newNormGen(splitmix64(splitmix64(splitmix64(splitmix64(seed)^step)^k) ^ chunk))
}

// splitmix64 is the output function of Steele et al.'s SplitMix64 generator
// applied to x plus the golden-ratio increment: a bijective, well-mixing
// 64-bit hash.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// FixedNoise replays given draws: Draws[t][k] is the draw for sub-batch k of
// step t. It is meant for tests that reproduce reference trajectories.
type FixedNoise[T nn.Float] struct {
	Draws [][][]T
	step  int
}

// NewFixedNoise returns a FixedNoise replaying draws from step 0.
func NewFixedNoise[T nn.Float](draws [][][]T) *FixedNoise[T] {
	return &FixedNoise[T]{Draws: draws}
}

// Normal copies draw (current step, k) into dst. It panics when the draw
// does not exist or its length differs from dst's.
func (f *FixedNoise[T]) Normal(k int, dst []T) {
	if f.step >= len(f.Draws) || k < 0 || k >= len(f.Draws[f.step]) {
		panic(fmt.Sprintf("optim.FixedNoise: no draw for step %d, sub-batch %d", f.step, k))
	}
	src := f.Draws[f.step][k]
	if len(src) != len(dst) {
		panic(fmt.Sprintf("optim.FixedNoise: draw (%d, %d) has %d values, want %d", f.step, k, len(src), len(dst)))
	}
	copy(dst, src)
}

// SampleConcurrent writes dst = w + e·sd for draw (current step, k),
// reading the draw in place: the values of Normal then PosteriorSampleStd.
// It only reads f, so calls for different k may run concurrently.
func (f *FixedNoise[T]) SampleConcurrent(k int, dst, w, sd []T) {
	if f.step >= len(f.Draws) || k < 0 || k >= len(f.Draws[f.step]) {
		panic(fmt.Sprintf("optim.FixedNoise: no draw for step %d, sub-batch %d", f.step, k))
	}
	src := f.Draws[f.step][k]
	if len(src) != len(dst) {
		panic(fmt.Sprintf("optim.FixedNoise: draw (%d, %d) has %d values, want %d", f.step, k, len(src), len(dst)))
	}
	sampleStd(dst, w, src, sd)
}

// NextStep advances to the next step's draws.
func (f *FixedNoise[T]) NextStep() { f.step++ }
