package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bsam-dev/bsam/pkg/kernels"
)

// countFused counts the FRN layers linked to a convolution before and after
// them, descending into chains and residual blocks.
func countFused[T Float](layers []Layer[T]) (prev, next int) {
	for _, l := range layers {
		switch v := l.(type) {
		case *FRN[T]:
			if v.prev != nil {
				prev++
			}
			if v.next != nil {
				next++
			}
		case *Chain[T]:
			p, n := countFused(v.Layers)
			prev, next = prev+p, next+n
		case *Residual[T]:
			sub := []Layer[T]{v.Body}
			if v.Shortcut != nil {
				sub = append(sub, v.Shortcut)
			}
			p, n := countFused(sub)
			prev, next = prev+p, next+n
		}
	}
	return prev, next
}

// TestFusionSameBits trains ResNet-20-FRN-like networks in shards with the
// FRN layers fused to their convolutions (fuse.go) and without: the losses,
// gradients and logits of three training and evaluation passes, with a
// parameter change between them, must agree bit for bit on every kernel
// path and in both precisions (fp32, bf16 GEMM operands). One network has rows that are whole FRN
// tiles (fused: 8×8×32), the other rows that are not (6×6×16: left alone,
// still correct).
func TestFusionSameBits(t *testing.T) {
	for _, tc := range []struct {
		name             string
		in               Shape
		width            int
		wantPrev, wantNx int
	}{
		// stem and 2 units of the stride-1 block fused to their convolution
		// (the stride-2 block's first conv uses im2col, its 4×4 second one
		// too), and the block's first FRN to its second convolution.
		{"whole tiles", Shape{H: 8, W: 8, C: 3}, 32, 3, 1},
		{"partial tiles", Shape{H: 6, W: 6, C: 3}, 16, 0, 0},
	} {
		build := func() []Layer[float32] {
			return []Layer[float32]{
				NewFRNUnit[float32]("stem", tc.width, 3, 1),
				NewFRNBlock[float32]("b1", tc.width, 1, false),
				NewFRNBlock[float32]("b2", 2*tc.width, 2, true),
				NewGlobalMeanPool[float32](),
				NewLinear[float32]("head", 10),
			}
		}
		t.Run(tc.name, func(t *testing.T) {
			layers := build()
			var b Builder
			Assemble(&b, tc.in, layers)
			if p, n := countFused(layers); p != tc.wantPrev || n != tc.wantNx {
				t.Fatalf("fused FRN layers: %d to the convolution before, %d to the one after; want %d, %d", p, n, tc.wantPrev, tc.wantNx)
			}
			for _, p := range kernels.Paths() {
				for _, prec := range []Precision{FP32, BF16} {
					t.Run(p.String()+"/"+prec.String(), func(t *testing.T) {
						defer kernels.SetPath(p)()
						l1, g1 := trainPasses(t, tc.in, build, prec, true)
						l0, g0 := trainPasses(t, tc.in, build, prec, false)
						for i := range l1 {
							if l1[i] != l0[i] {
								t.Fatalf("pass %d: loss %v fused, %v unfused", i, l1[i], l0[i])
							}
						}
						for i := range g1 {
							if math.Float32bits(g1[i]) != math.Float32bits(g0[i]) {
								t.Fatalf("gradient or logit %d of pass %d: %v fused, %v unfused", i%(len(g1)/3), i/(len(g1)/3), g1[i], g0[i])
							}
						}
					})
				}
			}
		})
	}
}

// trainPasses runs three training passes (batch 7, shards of 3) and an
// evaluation after each, in precision prec with fusion on or off, and returns the losses and
// the gradients and logits one after another.
func trainPasses(t *testing.T, in Shape, build func() []Layer[float32], prec Precision, fuse bool) (losses []float64, out []float32) {
	t.Helper()
	fuseLayers = fuse
	defer func() { fuseLayers = true }()
	const batch = 7
	r := rand.New(rand.NewPCG(11, 12))
	x := make([]float32, batch*in.Size())
	for i := range x {
		x[i] = r.Float32()*2 - 1
	}
	labels := make([]int32, batch)
	for i := range labels {
		labels[i] = int32(r.IntN(10))
	}
	net := NewNet(in, 10, build, NetOptions{ShardSize: 3, Precision: prec})
	net.Init(rand.New(rand.NewPCG(13, 14)))
	change := func() {
		for i, p := range net.Params() {
			net.Params()[i] = p * (1 + 0.125*float32(i%3-1))
		}
	}
	for range 3 {
		losses = append(losses, net.LossGrad(x, labels, batch, true))
		out = append(out, net.Grads()...)
		change()
		logits := make([]float32, batch*10)
		net.Logits(x, batch, logits)
		out = append(out, logits...)
		change()
	}
	return losses, out
}
