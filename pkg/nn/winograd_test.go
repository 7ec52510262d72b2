package nn

import (
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/bsam-dev/bsam/pkg/kernels"
)

// winoTestNet is a small network whose 3×3 stride-1 convolutions qualify
// for Winograd under ConvAlgWinograd (channels multiples of 16 and at least
// WinogradMinChannels, even images): 32→32 at 8×8, then a stride-2 one
// (direct), 32→32 at 4×4; a 3-channel stem and a 16→32 one stay direct.
func winoTestNet() []Layer[float32] {
	return []Layer[float32]{
		NewConv2D[float32](Conv2DConfig{Out: 16, K: 3, Stride: 1, Padding: PadSame}),
		NewBatchNorm[float32]("bn0", true),
		NewConv2D[float32](Conv2DConfig{Out: 32, K: 3, Stride: 1, Padding: PadSame, Bias: true}),
		NewFRN[float32]("frn1"),
		NewConv2D[float32](Conv2DConfig{Out: 32, K: 3, Stride: 1, Padding: PadSame, Bias: true}),
		NewFRN[float32]("frn2"),
		NewConv2D[float32](Conv2DConfig{Out: 32, K: 3, Stride: 2, Padding: PadSame}),
		NewBatchNorm[float32]("bn", true),
		NewConv2D[float32](Conv2DConfig{Out: 32, K: 3, Stride: 1, Padding: PadSame}),
		NewGlobalMeanPool[float32](),
		NewLinear[float32]("head", 10),
	}
}

// TestWinogradNetModes checks which layers ConvAlgWinograd turns to
// Winograd: the two qualifying ones, not the 3-channel stem, the 16→32
// one nor the stride-2 convolution, and none under ConvDirect.
func TestWinogradNetModes(t *testing.T) {
	for _, tc := range []struct {
		alg  ConvAlgorithm
		want int
	}{{ConvDirect, 0}, {ConvAlgWinograd, 2}} {
		layers := winoTestNet()
		SetConvAlgorithm(layers, tc.alg)
		var b Builder
		Assemble(&b, Shape{H: 8, W: 8, C: 3}, layers)
		n := 0
		for _, l := range layers {
			if c, ok := l.(*Conv2D[float32]); ok && c.mode == convWinograd {
				n++
			}
		}
		if n != tc.want {
			t.Errorf("%v: %d Winograd layers, want %d", tc.alg, n, tc.want)
		}
	}
}

// TestWinogradNetSameBits trains the network in shards with ConvAlgWinograd
// and checks, on every GEMM path: the same bits with the transformed
// kernels shared by the shards and with every shard making its own, and
// whatever GOMAXPROCS; and agreement with the direct convolution to float32
// rounding.
func TestWinogradNetSameBits(t *testing.T) {
	in := Shape{H: 8, W: 8, C: 3}
	seeds := [4]uint64{9, 10, 11, 12}
	wino := NetOptions{ShardSize: 2, Conv: ConvAlgWinograd}
	for _, p := range kernels.Paths() {
		t.Run(p.String(), func(t *testing.T) {
			defer kernels.SetPath(p)()
			l1, g1 := winoNetSameBits(t, in, seeds, wino)
			ld, gd := trainPasses(in, winoTestNet, NetOptions{ShardSize: 2}, seeds)
			for i := range ld {
				if math.Abs(ld[i]-l1[i]) > 1e-5*(1+math.Abs(ld[i])) {
					t.Errorf("pass %d: loss %v Winograd, %v direct", i, l1[i], ld[i])
				}
			}
			var diff, scale float64
			for i := range gd {
				diff = max(diff, math.Abs(float64(g1[i]-gd[i])))
				scale = max(scale, math.Abs(float64(gd[i])))
			}
			if diff > 1e-4*scale {
				t.Errorf("gradients and logits: Winograd differs from direct by %.2g of their scale", diff/scale)
			}
			bitsDiffer := false
			for i := range gd {
				if math.Float32bits(g1[i]) != math.Float32bits(gd[i]) {
					bitsDiffer = true
					break
				}
			}
			if !bitsDiffer {
				t.Error("Winograd gave the direct convolution's bits: was it used?")
			}
		})
	}
}

// winoNetSameBits trains winoTestNet with options o and checks the same
// bits with the transformed kernels shared by the shards and with every
// shard making its own, and at GOMAXPROCS 1 and 3; it returns the losses
// and gradients.
func winoNetSameBits(t *testing.T, in Shape, seeds [4]uint64, o NetOptions) ([]float64, []float32) {
	t.Helper()
	l1, g1 := trainPasses(in, winoTestNet, o, seeds)
	shareDerived = false
	l0, g0 := trainPasses(in, winoTestNet, o, seeds)
	shareDerived = true
	sameBits(t, "with shared transformed kernels", "without", l1, g1, l0, g0)
	for _, procs := range []int{1, 3} {
		old := runtime.GOMAXPROCS(procs)
		lp, gp := trainPasses(in, winoTestNet, o, seeds)
		runtime.GOMAXPROCS(old)
		sameBits(t, fmt.Sprintf("at GOMAXPROCS %d", procs), "by default", lp, gp, l1, g1)
	}
	return l1, g1
}

// BenchmarkWinogradFill times filling the shared packed kernels of one
// 512→512 layer (ResNet-18's last stage): U for the forward products and
// Uᵀ (with the per-tap transposition) for the dX products, as every
// training pass does once.
func BenchmarkWinogradFill(b *testing.B) {
	const cin, cout = 512, 512
	w := make([]float32, 9*cin*cout)
	for i := range w {
		w[i] = float32(i%13) - 6
	}
	for _, transposed := range []bool{false, true} {
		name := "U"
		if transposed {
			name = "UT"
		}
		b.Run(name, func(b *testing.B) {
			wp := new(winoPacked)
			for b.Loop() {
				if transposed {
					wp.pb.PrepareWinogradT(cin, cout, w)
					parallelRows(wp, cout)
				} else {
					wp.pb.PrepareWinograd(cout, cin, w)
					parallelRows(wp, cin)
				}
			}
			b.ReportMetric(float64(9*cin*cout*4)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s-of-w")
		})
	}
}
