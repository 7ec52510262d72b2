package nn

import (
	"fmt"
	"sync"

	"github.com/bsam-dev/bsam/pkg/kernels"
)

// Derived parameters: a layer may need its parameters in another form (a
// convolution's flipped, transposed kernel for dX, or its kernel packed
// into the layout of the GEMM kernels, kernels.PackedB). The form depends
// only on the parameters, which no pass changes, so the shards of one pass
// (training or evaluation) share one copy, made by whichever shard asks
// first, instead of every shard making its own: for ResNet-18 at 8
// examples per shard, the per-shard kernel flips alone cost ~3% of a step,
// and their buffers 44 MB per shard replica.

// shareDerived turns the sharing off when false, for tests that check it
// changes no bit: every shard then derives its own.
var shareDerived = true

// derivedBuf is one shared buffer and the pass whose parameters it holds.
type derivedBuf struct {
	mu   sync.Mutex
	pass uint64 // the pass it was filled for; 0: never
	buf  any    // []T or *kernels.PackedB
}

// derivedKind tells a layer's derived buffers apart.
type derivedKind uint8

const (
	derivedFlipped       derivedKind = iota // a convolution's flipped kernel ([]T)
	derivedPackedW                          // its kernel packed as the B of the forward GEMMs
	derivedPackedFlipped                    // its flipped kernel packed as the B of the dX GEMMs
	derivedPackedWino                       // U packed as the B of the forward products
	derivedPackedWinoT                      // Uᵀ packed as the B of the dX products
	derivedWinoBF16                         // U packed in bf16 (kernels.PackedWinoBF16)
	derivedWinoBF16T                        // Uᵀ packed in bf16
)

// derivedKey names a shared buffer: the layer's parameter offset (unique
// per layer, the same in every replica) and the kind.
type derivedKey struct {
	off  int
	kind derivedKind
}

// derivedSet is a network's table of shared buffers (one per Net: its
// replicas share the parameters).
type derivedSet struct {
	mu   sync.Mutex
	pass uint64 // the current pass; 0 before the first
	m    map[derivedKey]*derivedBuf
}

// beginPass marks the start of a pass whose parameters may differ from the
// last one's: buffers derived before it are stale. Net calls it before each
// training and evaluation pass, while no shard runs.
func (d *derivedSet) beginPass() {
	d.mu.Lock()
	d.pass++
	d.mu.Unlock()
}

// derivedFor returns the value that the shards of the current pass share
// under key, made by mk on first use and reused by every later pass. When
// fill is non-nil the caller is the first to ask in this pass: it must
// write the value and then call fill.Unlock(); the others wait in
// derivedFor until it has.
func (d *derivedSet) derivedFor(key derivedKey, mk func() any) (v any, fill *sync.Mutex) {
	d.mu.Lock()
	if d.pass == 0 {
		d.pass = 1 // a buffer's pass 0 means never filled
	}
	pass := d.pass
	b := d.m[key]
	if b == nil {
		if d.m == nil {
			d.m = make(map[derivedKey]*derivedBuf)
		}
		b = &derivedBuf{buf: mk()}
		d.m[key] = b
	}
	d.mu.Unlock()
	b.mu.Lock()
	if b.pass == pass {
		b.mu.Unlock()
		return b.buf, nil
	}
	b.pass = pass
	return b.buf, &b.mu
}

// sharedDerived is derivedFor for a buffer of n elements; n must not change
// for a key.
func sharedDerived[T Float](d *derivedSet, key derivedKey, n int) (buf []T, fill *sync.Mutex) {
	v, fill := d.derivedFor(key, func() any { return make([]T, n) })
	buf = v.([]T)
	if len(buf) != n {
		if fill != nil {
			fill.Unlock()
		}
		panic(fmt.Sprintf("nn: derived buffer %v has %d elements, asked for %d", key, len(buf), n))
	}
	return buf, fill
}

// sharedPacked is derivedFor for a packed GEMM operand.
func sharedPacked(d *derivedSet, key derivedKey) (pb *kernels.PackedB, fill *sync.Mutex) {
	v, fill := d.derivedFor(key, func() any { return new(kernels.PackedB) })
	return v.(*kernels.PackedB), fill
}
