package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/bsam-dev/bsam/pkg/kernels"
	"github.com/bsam-dev/bsam/pkg/nn"
)

// TestLogitsShardInvariant checks what lets Net.EvalShardSize follow the
// machine: evaluation logits do not change by a bit with the shard size
// (8, 13, 20 examples against one shard of the whole batch), for every
// model, both precisions and both convolution algorithms, because every
// example is computed on its own in inference mode.
func TestLogitsShardInvariant(t *testing.T) {
	cases := []struct {
		model string
		prec  nn.Precision
		conv  nn.ConvAlgorithm
	}{
		{"resnet18", nn.FP32, nn.ConvAlgWinograd}, {"resnet18", nn.BF16, nn.ConvAlgWinograd},
		{"resnet20_frn", nn.FP32, nn.ConvDirect}, {"resnet20_frn", nn.FP32, nn.ConvAlgWinograd},
		{"resnet20_frn", nn.BF16, nn.ConvAlgWinograd}, {"lenet", nn.FP32, nn.ConvDirect}, {"mlp", nn.BF16, nn.ConvDirect},
	}
	const batch = 20
	for _, tc := range cases {
		if tc.prec == nn.BF16 && !kernels.HasBF16() {
			continue
		}
		t.Run(fmt.Sprintf("%s/%v/%v", tc.model, tc.prec, tc.conv), func(t *testing.T) {
			in := nn.Shape{H: 32, W: 32, C: 3}
			if tc.model == "mlp" || tc.model == "lenet" {
				in = nn.Shape{H: 28, W: 28, C: 1}
			}
			r := rand.New(rand.NewPCG(3, 4))
			x := make([]float32, batch*in.Size())
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			var ref, params []float32
			for _, shard := range []int{batch, 8, 13} {
				net, err := New[float32](tc.model, in, 10, Options{NetOptions: nn.NetOptions{ShardSize: shard, Precision: tc.prec, Conv: tc.conv}})
				if err != nil {
					t.Fatal(err)
				}
				if params == nil {
					net.Init(rand.New(rand.NewPCG(1, 2)))
					params = append([]float32(nil), net.Params()...)
				} else {
					copy(net.Params(), params)
				}
				out := make([]float32, batch*10)
				net.Logits(x, batch, out)
				if ref == nil {
					ref = out
					continue
				}
				for i := range out {
					if math.Float32bits(out[i]) != math.Float32bits(ref[i]) {
						t.Fatalf("shard %d: logit %d = %v, %v in one shard", shard, i, out[i], ref[i])
					}
				}
			}
		})
	}
}

// TestEvalShardSize checks the rule by hand: twice the training shard
// while every core keeps two shards, never below the training shard.
func TestEvalShardSize(t *testing.T) {
	net, err := New[float32]("mlp", nn.Shape{H: 28, W: 28, C: 1}, 10, Options{NetOptions: nn.NetOptions{ShardSize: 8}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ procs, batch, want int }{
		{2, 128, 16}, {2, 40, 10}, {2, 20, 8}, {16, 128, 8}, {16, 512, 16}, {1, 3, 8},
	} {
		old := runtime.GOMAXPROCS(tc.procs)
		got := net.EvalShardSize(tc.batch)
		runtime.GOMAXPROCS(old)
		if got != tc.want {
			t.Errorf("GOMAXPROCS %d, batch %d: eval shard %d, want %d", tc.procs, tc.batch, got, tc.want)
		}
	}
}
