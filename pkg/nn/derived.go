package nn

import (
	"fmt"
	"sync"
)

// Derived parameters: a layer may need its parameters in another form (a
// convolution's flipped, transposed kernel for dX). The form depends only on
// the parameters, which no pass changes, so the shards of one training pass
// share one copy, made by whichever shard asks first, instead of every
// shard making its own: for ResNet-18 at 8 examples per shard, the
// per-shard kernel flips cost ~3% of a step, and their buffers 44 MB per
// shard replica.

// derivedBuf is one shared buffer and the pass whose parameters it holds.
type derivedBuf struct {
	mu   sync.Mutex
	pass uint64 // 0: never filled
	buf  any    // []T
}

// derivedSet is a Sync's table of shared buffers, keyed by the layer's
// parameter offset (unique per layer, the same in every replica).
type derivedSet struct {
	mu   sync.Mutex
	pass uint64 // the current pass, from 1 (NewSync)
	m    map[int]*derivedBuf
}

// BeginPass marks the start of a pass whose parameters may differ from the
// last one's: buffers derived before it are stale. Net calls it before each
// training pass, while no shard runs; whoever else drives layers through a
// Sync must do the same whenever the parameters change.
func (s *Sync) BeginPass() {
	s.derived.mu.Lock()
	s.derived.pass++
	s.derived.mu.Unlock()
}

// sharedDerived returns the buffer of n elements that the shards of the
// current pass share under key. When fill is non-nil the caller is the
// first to ask in this pass: it must write the buffer and then call
// fill.Unlock(); the others wait in sharedDerived until it has. The buffer
// is allocated on the first pass and reused; n must not change for a key.
func sharedDerived[T Float](s *Sync, key, n int) (buf []T, fill *sync.Mutex) {
	d := &s.derived
	d.mu.Lock()
	pass := d.pass
	b := d.m[key]
	if b == nil {
		if d.m == nil {
			d.m = make(map[int]*derivedBuf)
		}
		b = &derivedBuf{buf: make([]T, n)}
		d.m[key] = b
	}
	d.mu.Unlock()
	b.mu.Lock()
	buf = b.buf.([]T)
	if len(buf) != n {
		b.mu.Unlock()
		panic(fmt.Sprintf("nn: derived buffer %d has %d elements, asked for %d", key, len(buf), n))
	}
	if b.pass == pass {
		b.mu.Unlock()
		return buf, nil
	}
	b.pass = pass
	return buf, &b.mu
}
