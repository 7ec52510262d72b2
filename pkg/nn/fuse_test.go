package nn

import (
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
						l1, g1 := fusedPasses(tc.in, build, prec, true)
						l0, g0 := fusedPasses(tc.in, build, prec, false)
						sameBits(t, "fused", "unfused", l1, g1, l0, g0)
					})
				}
			}
		})
	}
}

// fusedPasses is trainPasses (shards of 3) in precision prec with fusion on
// or off.
func fusedPasses(in Shape, build func() []Layer[float32], prec Precision, fuse bool) ([]float64, []float32) {
	fuseLayers = fuse
	defer func() { fuseLayers = true }()
	return trainPasses(in, build, NetOptions{ShardSize: 3, Precision: prec}, [4]uint64{11, 12, 13, 14})
}

// TestFusionEvalRows covers what the ResNet-20-FRN-like networks above do
// not: rows of several FRN tiles (4×32×16: 512 values, two tiles of 256)
// and a convolution without bias before an FRN, whose evaluation pass
// reads the padded output with no bias to add.
func TestFusionEvalRows(t *testing.T) {
	build := func() []Layer[float32] {
		return []Layer[float32]{
			NewChain("body",
				Layer[float32](NewConv2D[float32](Conv2DConfig{Name: "c1", Out: 16, K: 3, Stride: 1, Padding: PadSame, Method: ConvImplicit})),
				NewFRN[float32]("frn1"),
				NewConv2D[float32](Conv2DConfig{Name: "c2", Out: 16, K: 3, Stride: 1, Padding: PadSame, Bias: true, Method: ConvImplicit}),
				NewFRN[float32]("frn2")),
			NewGlobalMeanPool[float32](),
			NewLinear[float32]("head", 10),
		}
	}
	in := Shape{H: 4, W: 32, C: 3}
	layers := build()
	var b Builder
	Assemble(&b, in, layers)
	if p, n := countFused(layers); p != 2 || n != 1 {
		t.Fatalf("fused FRN layers: %d to the convolution before, %d to the one after; want 2, 1", p, n)
	}
	for _, p := range kernels.Paths() {
		t.Run(p.String(), func(t *testing.T) {
			defer kernels.SetPath(p)()
			l1, g1 := fusedPasses(in, build, FP32, true)
			l0, g0 := fusedPasses(in, build, FP32, false)
			sameBits(t, "fused", "unfused", l1, g1, l0, g0)
		})
	}
}
