package datasets

import (
	"context"
	"runtime"
	"sync"
)

// LoaderOptions configure a Loader.
type LoaderOptions struct {
	// BatchSize is the number of examples per batch (> 0).
	BatchSize int
	// Shuffle visits the examples in a random order that depends only on
	// (Seed, epoch).
	Shuffle bool
	// DropLast drops the last batch when it is incomplete.
	DropLast bool
	// Augment applies the training transform of SPEC §2.2: a random crop
	// after Pad pixels of zero padding, then a horizontal flip with
	// probability ½.
	Augment bool
	// Pad is the crop padding; 0 means 4 (SPEC §2.2). Negative: no padding.
	Pad int
	// Seed is the run seed all random choices derive from.
	Seed uint64
	// Workers is the number of goroutines assembling batches; 0 means
	// min(GOMAXPROCS, 4). The batches do not depend on it.
	Workers int
	// Prefetch is how many batches may be ready or in progress ahead of
	// the consumer; 0 means 2·Workers.
	Prefetch int
}

// Loader streams a Split in normalised float32 batches. It is safe to run
// one epoch at a time; batch buffers are recycled between epochs.
type Loader struct {
	s    *Split
	o    LoaderOptions
	lut  []float32 // lut[c*256+v] = (v/255 − mean[c])/std[c]
	pad  int
	free chan *batchBufs
}

// batchBufs are the recycled buffers of a batch.
type batchBufs struct {
	x        []float32
	y, index []int32
}

// Batch is one minibatch. X holds N×H×W×C normalised float32 values
// (NHWC), Y the N labels and Index the example indices in the split.
type Batch struct {
	Epoch, Num int // the epoch and the batch's position in it
	N          int
	X          []float32
	Y          []int32
	Index      []int32
	l          *Loader
	bufs       *batchBufs
}

// Release hands the batch's buffers back to the loader for reuse: X, Y and
// Index must not be used afterwards (Epoch, Num and N stay valid). Calling
// it is optional but saves allocations; a second call does nothing.
func (b *Batch) Release() {
	if b == nil || b.l == nil || b.bufs == nil {
		return
	}
	bufs := b.bufs
	b.bufs, b.X, b.Y, b.Index = nil, nil, nil, nil
	select {
	case b.l.free <- bufs:
	default:
	}
}

// NewLoader returns a loader over s that normalises with norm. norm must
// have one mean and one std per channel; an empty norm means none (mean 0,
// std 1). It panics on a non-positive batch size, which is a programming
// error.
func NewLoader(s *Split, norm Normalization, o LoaderOptions) *Loader {
	if o.BatchSize <= 0 {
		panic("datasets: NewLoader: batch size must be positive")
	}
	if o.Workers <= 0 {
		o.Workers = min(runtime.GOMAXPROCS(0), 4)
	}
	if o.Prefetch <= 0 {
		o.Prefetch = 2 * o.Workers
	}
	pad := o.Pad
	if pad == 0 {
		pad = 4
	} else if pad < 0 {
		pad = 0
	}
	c := s.Shape.C
	lut := make([]float32, c*256)
	for ch := range c {
		mean, std := float32(0), float32(1)
		if ch < len(norm.Mean) {
			mean = norm.Mean[ch]
		}
		if ch < len(norm.Std) {
			std = norm.Std[ch]
		}
		for v := range 256 {
			lut[ch*256+v] = (float32(v)/255 - mean) / std
		}
	}
	return &Loader{s: s, o: o, lut: lut, pad: pad, free: make(chan *batchBufs, o.Prefetch+2)}
}

// NumBatches returns the number of batches of one epoch.
func (l *Loader) NumBatches() int {
	if l.o.DropLast {
		return l.s.N / l.o.BatchSize
	}
	return (l.s.N + l.o.BatchSize - 1) / l.o.BatchSize
}

// Order returns the order in which epoch e visits the examples.
func (l *Loader) Order(e int) []int32 {
	if l.o.Shuffle {
		return permutation(l.s.N, l.o.Seed, e)
	}
	p := make([]int32, l.s.N)
	for i := range p {
		p[i] = int32(i)
	}
	return p
}

// Epoch streams the batches of epoch e from batch index start on (for
// resuming) and closes the channel after the last one or when ctx is
// cancelled. A consumer that stops reading early must cancel ctx so the
// workers exit.
func (l *Loader) Epoch(ctx context.Context, e, start int) <-chan *Batch {
	out := make(chan *Batch)
	nb := l.NumBatches()
	if start < 0 {
		start = 0
	}
	if start >= nb {
		close(out)
		return out
	}
	order := l.Order(e)
	type job struct {
		num int
		res chan *Batch
	}
	jobs := make(chan job)
	// pending carries the result slots in batch order; its capacity bounds
	// the batches in flight.
	pending := make(chan chan *Batch, l.o.Prefetch)
	var wg sync.WaitGroup
	for range l.o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				j.res <- l.fill(order, e, j.num)
			}
		}()
	}
	go func() {
		defer close(pending)
		defer close(jobs)
		for b := start; b < nb; b++ {
			res := make(chan *Batch, 1)
			select {
			case pending <- res:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- job{b, res}:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		defer close(out)
		for res := range pending {
			var b *Batch
			select {
			case b = <-res:
			case <-ctx.Done():
				drain(pending)
				wg.Wait()
				return
			}
			select {
			case out <- b:
			case <-ctx.Done():
				drain(pending)
				wg.Wait()
				return
			}
		}
		wg.Wait()
	}()
	return out
}

// drain empties the slot queue so the producer can finish.
func drain(pending chan chan *Batch) {
	for range pending {
	}
}

// get returns a batch with recycled or new buffers for a full batch.
func (l *Loader) get() *Batch {
	var bufs *batchBufs
	select {
	case bufs = <-l.free:
	default:
		bs := l.o.BatchSize
		bufs = &batchBufs{x: make([]float32, bs*l.s.Shape.Size()), y: make([]int32, bs), index: make([]int32, bs)}
	}
	return &Batch{X: bufs.x, Y: bufs.y, Index: bufs.index, l: l, bufs: bufs}
}

// fill assembles batch num of epoch e.
func (l *Loader) fill(order []int32, e, num int) *Batch {
	bs := l.o.BatchSize
	lo := num * bs
	hi := min(lo+bs, len(order))
	n := hi - lo
	b := l.get()
	sz := l.s.Shape.Size()
	b.Epoch, b.Num, b.N = e, num, n
	b.X, b.Y, b.Index = b.X[:n*sz], b.Y[:n], b.Index[:n]
	for k := range n {
		idx := int(order[lo+k])
		b.Index[k] = int32(idx)
		b.Y[k] = l.s.Labels[idx]
		dst := b.X[k*sz : (k+1)*sz]
		src := l.s.Image(idx)
		if l.o.Augment {
			dy, dx, flip := augmentParams(l.o.Seed, e, idx, l.pad)
			cropFlip(dst, src, l.s.Shape, l.lut, l.pad, dy, dx, flip)
		} else {
			normalize(dst, src, l.s.Shape.C, l.lut)
		}
	}
	return b
}
