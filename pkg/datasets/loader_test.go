package datasets

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/bsam-dev/bsam/pkg/nn"
)

// rampSplit returns n images of shape s whose pixels are
// (i·31 + j·7) mod 256 for example i and value j, labels i mod classes.
func rampSplit(n int, s nn.Shape, classes int) *Split {
	sp := &Split{N: n, Shape: s, Images: make([]uint8, n*s.Size()), Labels: make([]int32, n)}
	for i := range n {
		for j := range s.Size() {
			sp.Images[i*s.Size()+j] = uint8((i*31 + j*7) % 256)
		}
		sp.Labels[i] = int32(i % classes)
	}
	return sp
}

// collect runs one epoch and returns copies of its batches.
func collect(t *testing.T, l *Loader, e, start int) []Batch {
	t.Helper()
	var out []Batch
	for b := range l.Epoch(t.Context(), e, start) {
		out = append(out, Batch{Epoch: b.Epoch, Num: b.Num, N: b.N,
			X: append([]float32(nil), b.X...), Y: append([]int32(nil), b.Y...), Index: append([]int32(nil), b.Index...)})
		b.Release()
	}
	return out
}

func TestLoaderBatchCounts(t *testing.T) {
	s := rampSplit(10, nn.Shape{H: 1, W: 1, C: 1}, 3)
	tests := []struct {
		bs       int
		dropLast bool
		want     []int // batch sizes
	}{
		{4, false, []int{4, 4, 2}},
		{4, true, []int{4, 4}},
		{5, true, []int{5, 5}},
		{10, false, []int{10}},
		{20, false, []int{10}},
		{20, true, nil},
	}
	for _, tc := range tests {
		l := NewLoader(s, Normalization{}, LoaderOptions{BatchSize: tc.bs, DropLast: tc.dropLast})
		if l.NumBatches() != len(tc.want) {
			t.Errorf("bs=%d drop=%v: NumBatches %d, want %d", tc.bs, tc.dropLast, l.NumBatches(), len(tc.want))
		}
		bs := collect(t, l, 0, 0)
		if len(bs) != len(tc.want) {
			t.Fatalf("bs=%d drop=%v: %d batches, want %d", tc.bs, tc.dropLast, len(bs), len(tc.want))
		}
		next := int32(0)
		for k, b := range bs {
			if b.N != tc.want[k] || len(b.X) != b.N || len(b.Y) != b.N || b.Num != k {
				t.Fatalf("bs=%d drop=%v: batch %d has N=%d len(X)=%d, want %d", tc.bs, tc.dropLast, k, b.N, len(b.X), tc.want[k])
			}
			for _, i := range b.Index { // unshuffled: in order
				if i != next {
					t.Fatalf("unshuffled order broken: got %d, want %d", i, next)
				}
				next++
			}
		}
	}
}

func TestLoaderNormalization(t *testing.T) {
	s := &Split{N: 2, Shape: nn.Shape{H: 1, W: 2, C: 3}, Images: []uint8{0, 255, 51, 102, 204, 153, 1, 2, 3, 4, 5, 6}, Labels: []int32{1, 0}}
	norm := Normalization{Mean: []float32{0.5, 0.25, 0}, Std: []float32{0.5, 0.25, 2}}
	l := NewLoader(s, norm, LoaderOptions{BatchSize: 2})
	bs := collect(t, l, 0, 0)
	// Hand-computed (p/255 − mean)/std for the first image.
	want := []float32{-1, 3, 0.1, -0.2, 2.2, 0.3}
	for j, w := range want {
		if math.Abs(float64(bs[0].X[j]-w)) > 1e-6 {
			t.Errorf("X[%d] = %v, want %v", j, bs[0].X[j], w)
		}
	}
	if bs[0].Y[0] != 1 || bs[0].Y[1] != 0 {
		t.Errorf("labels %v", bs[0].Y)
	}
	// Empty normalisation: pixel/255.
	l = NewLoader(s, Normalization{}, LoaderOptions{BatchSize: 2})
	if x := collect(t, l, 0, 0)[0].X[1]; x != 1 {
		t.Errorf("no normalisation: 255 → %v, want 1", x)
	}
}

func equalBatches(t *testing.T, what string, a, b []Batch) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d vs %d batches", what, len(a), len(b))
	}
	for k := range a {
		if a[k].N != b[k].N || a[k].Num != b[k].Num {
			t.Fatalf("%s: batch %d differs in size or number", what, k)
		}
		for i := range a[k].X {
			if a[k].X[i] != b[k].X[i] {
				t.Fatalf("%s: batch %d X[%d] differs", what, k, i)
			}
		}
		for i := range a[k].Y {
			if a[k].Y[i] != b[k].Y[i] || a[k].Index[i] != b[k].Index[i] {
				t.Fatalf("%s: batch %d example %d differs", what, k, i)
			}
		}
	}
}

func TestLoaderDeterministicAcrossWorkers(t *testing.T) {
	s := rampSplit(103, nn.Shape{H: 6, W: 5, C: 3}, 7)
	norm := Normalization{Mean: []float32{0.4, 0.5, 0.6}, Std: []float32{0.2, 0.3, 0.25}}
	for _, aug := range []bool{false, true} {
		base := LoaderOptions{BatchSize: 10, Shuffle: true, Augment: aug, Pad: 2, Seed: 11}
		ref := collect(t, NewLoader(s, norm, withWorkers(base, 1, 1)), 3, 0)
		for _, wp := range [][2]int{{2, 1}, {2, 8}, {3, 2}, {7, 20}} {
			got := collect(t, NewLoader(s, norm, withWorkers(base, wp[0], wp[1])), 3, 0)
			equalBatches(t, "workers", ref, got)
		}
		// Resume at batch 4 yields the tail of the full epoch.
		tail := collect(t, NewLoader(s, norm, withWorkers(base, 3, 3)), 3, 4)
		equalBatches(t, "resume", ref[4:], tail)
		// The same loader reused (recycled buffers) gives the same epoch.
		l := NewLoader(s, norm, withWorkers(base, 2, 2))
		collect(t, l, 2, 0)
		equalBatches(t, "reuse", ref, collect(t, l, 3, 0))
		// Another epoch visits another order, and every example once.
		other := collect(t, l, 4, 0)
		seen := make([]int, s.N)
		differs := false
		for k, b := range other {
			for i, idx := range b.Index {
				seen[idx]++
				if idx != ref[k].Index[i] {
					differs = true
				}
				if b.Y[i] != s.Labels[idx] {
					t.Fatalf("label of example %d is %d, want %d", idx, b.Y[i], s.Labels[idx])
				}
			}
		}
		for i, c := range seen {
			if c != 1 {
				t.Fatalf("example %d visited %d times in an epoch", i, c)
			}
		}
		if !differs {
			t.Error("epochs 3 and 4 have the same order")
		}
	}
}

func withWorkers(o LoaderOptions, w, p int) LoaderOptions {
	o.Workers, o.Prefetch = w, p
	return o
}

func TestLoaderCancel(t *testing.T) {
	s := rampSplit(1000, nn.Shape{H: 2, W: 2, C: 1}, 10)
	l := NewLoader(s, Normalization{}, LoaderOptions{BatchSize: 1, Workers: 3, Prefetch: 4})
	ctx, cancel := context.WithCancel(t.Context())
	ch := l.Epoch(ctx, 0, 0)
	<-ch
	cancel()
	done := make(chan struct{})
	go func() {
		for range ch {
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("channel not closed after cancel")
	}
	// A start past the end gives an empty epoch.
	if n := len(collect(t, l, 0, l.NumBatches())); n != 0 {
		t.Errorf("start past the end gave %d batches", n)
	}
}

func TestBatchRelease(t *testing.T) {
	s := rampSplit(6, nn.Shape{H: 1, W: 1, C: 1}, 2)
	l := NewLoader(s, Normalization{}, LoaderOptions{BatchSize: 4, Workers: 1, Prefetch: 1})
	var first []float32
	for b := range l.Epoch(t.Context(), 0, 0) {
		if first == nil {
			first = b.X
		}
		n := b.N
		b.Release()
		b.Release() // no effect
		if b.N != n || b.X != nil || b.Y != nil {
			t.Fatalf("after Release: N=%d (was %d), X=%v", b.N, n, b.X)
		}
	}
	// The released buffers serve the next epoch.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	b := <-l.Epoch(ctx, 1, 0)
	if &b.X[0] != &first[0] {
		t.Error("released buffers were not reused")
	}
	b.Release()
}
