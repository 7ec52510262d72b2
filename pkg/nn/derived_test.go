package nn

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/bsam-dev/bsam/pkg/kernels"
)

// TestSharedDerived checks that concurrent shards get one buffer per key,
// filled exactly once per pass, and refilled after beginPass.
func TestSharedDerived(t *testing.T) {
	s := new(derivedSet)
	var fills [2]int
	var mu sync.Mutex
	for pass := 1; pass <= 3; pass++ {
		if pass > 1 {
			s.beginPass()
		}
		var wg sync.WaitGroup
		bufs := make([][]float32, 8)
		for g := range bufs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				key := g % 2
				buf, fill := sharedDerived[float32](s, derivedKey{off: key}, 3)
				if fill != nil {
					mu.Lock()
					fills[key]++
					mu.Unlock()
					for i := range buf {
						buf[i] = float32(pass*10 + key)
					}
					fill.Unlock()
				}
				bufs[g] = buf
			}()
		}
		wg.Wait()
		for g, b := range bufs {
			want := float32(pass*10 + g%2)
			for _, v := range b {
				if v != want {
					t.Fatalf("pass %d, goroutine %d: buffer holds %v, want %v", pass, g, b, want)
				}
			}
		}
		if fills != [2]int{pass, pass} {
			t.Fatalf("after pass %d: fills per key %v, want one per pass", pass, fills)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("a key asked for with another size did not panic")
		}
	}()
	sharedDerived[float32](s, derivedKey{off: 0}, 4)
}

// TestSharedDerivedSameBits trains a small float32 convolutional network in
// shards, with the derived buffers shared by the shards (a flipped kernel
// and the kernels packed for the GEMMs, made once per pass) and with every
// shard deriving its own: the losses, gradients and logits of three
// training and evaluation passes, with a parameter change between them,
// must agree bit for bit on every GEMM path.
func TestSharedDerivedSameBits(t *testing.T) {
	in := Shape{H: 8, W: 8, C: 3}
	build := func() []Layer[float32] {
		return []Layer[float32]{
			NewConv2D[float32](Conv2DConfig{Out: 16, K: 3, Stride: 1, Padding: PadSame, Bias: true}),
			NewFRN[float32]("frn1"),
			NewConv2D[float32](Conv2DConfig{Out: 40, K: 3, Stride: 2, Padding: PadSame}),
			NewBatchNorm[float32]("bn", true),
			NewConv2D[float32](Conv2DConfig{Out: 24, K: 3, Stride: 1, Padding: PadSame}),
			NewGlobalMeanPool[float32](),
			NewLinear[float32]("head", 10),
		}
	}
	run := func(share bool) ([]float64, []float32) {
		shareDerived = share
		defer func() { shareDerived = true }()
		return trainPasses(in, build, NetOptions{ShardSize: 2}, [4]uint64{5, 6, 7, 8})
	}
	for _, p := range kernels.Paths() {
		t.Run(p.String(), func(t *testing.T) {
			defer kernels.SetPath(p)()
			l1, g1 := run(true)
			l0, g0 := run(false)
			sameBits(t, "with shared derived buffers", "without", l1, g1, l0, g0)
		})
	}
}

// trainPasses runs three training passes of a network built by build
// (batch 7, random inputs and labels from seeds[0:2], parameters initialised
// from seeds[2:4]), with a parameter change after each as an optimizer step
// and an evaluation after that, and returns the losses and the gradients
// and logits one after another.
func trainPasses(in Shape, build func() []Layer[float32], o NetOptions, seeds [4]uint64) (losses []float64, out []float32) {
	const batch = 7
	r := rand.New(rand.NewPCG(seeds[0], seeds[1]))
	x := make([]float32, batch*in.Size())
	for i := range x {
		x[i] = r.Float32()*2 - 1
	}
	labels := make([]int32, batch)
	for i := range labels {
		labels[i] = int32(r.IntN(10))
	}
	net := NewNet(in, 10, build, o)
	net.Init(rand.New(rand.NewPCG(seeds[2], seeds[3])))
	change := func() {
		for i, p := range net.Params() {
			// Scaled and shifted, so that zero-initialised biases
			// take part too.
			net.Params()[i] = p*(1+0.125*float32(i%3-1)) + 0.03125*float32(i%5-2)
		}
	}
	for range 3 {
		losses = append(losses, net.LossGrad(x, labels, batch, true))
		out = append(out, net.Grads()...)
		change()
		logits := make([]float32, batch*10)
		net.Logits(x, batch, logits)
		out = append(out, logits...) // compared alike
		change()
	}
	return losses, out
}

// sameBits fails t unless the losses and the gradients and logits of two
// trainPasses runs (labelled a and b in the message) agree bit for bit.
func sameBits(t *testing.T, a, b string, la []float64, ga []float32, lb []float64, gb []float32) {
	t.Helper()
	for i := range la {
		if la[i] != lb[i] {
			t.Fatalf("pass %d: loss %v %s, %v %s", i, la[i], a, lb[i], b)
		}
	}
	for i := range ga {
		if math.Float32bits(ga[i]) != math.Float32bits(gb[i]) {
			t.Fatalf("gradient or logit %d of pass %d: %v %s, %v %s", i%(len(ga)/3), i/(len(ga)/3), ga[i], a, gb[i], b)
		}
	}
}
