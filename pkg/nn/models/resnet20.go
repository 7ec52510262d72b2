package models

import (
	"fmt"

	"github.com/bsam-dev/bsam/pkg/nn"
)

func init() {
	Register("resnet20_frn", "ResNet-20 with FRN/TLU, identity activations, 8×8 average-pool head (SPEC §3.1)",
		ResNet20FRN[float32], ResNet20FRN[float64])
}

// ResNet20FRN returns the layers of the ResNet-20-FRN of SPEC §3.1: a stem
// unit conv3×3(16)+FRN/TLU, three stacks of three residual blocks of
// widths 16, 32 and 64 (the first block of stacks 2 and 3 has stride 2 and
// a 1×1 conv+FRN projection), an 8×8/8 VALID average pool, and a He-normal
// linear head. Convolutions are SAME, with bias and He-normal weights.
// Parameter names follow the PyTorch reference (stem.conv.weight,
// stack2.0.shortcut.frn.tau, head.weight, …). A 32×32 input pools to 1×1×64
// (274,042 parameters for 10 classes); 64×64 pools to 2×2×64.
func ResNet20FRN[T nn.Float](in nn.Shape, classes int, o Options) ([]nn.Layer[T], error) {
	h, w := (in.H+3)/4, (in.W+3)/4 // after two stride-2 stages (SAME)
	if h < 8 || w < 8 {
		return nil, fmt.Errorf("input %dx%d reaches %dx%d before the 8×8 average pool; need at least 29×29", in.H, in.W, h, w)
	}
	layers := []nn.Layer[T]{nn.NewFRNUnit[T]("stem", 16, 3, 1)}
	for s, width := range []int{16, 32, 64} {
		for j := 0; j < 3; j++ {
			down := s > 0 && j == 0
			stride := 1
			if down {
				stride = 2
			}
			layers = append(layers, nn.NewFRNBlock[T](fmt.Sprintf("stack%d.%d", s+1, j), width, stride, down))
		}
	}
	return append(layers,
		nn.NewAvgPool[T](8, 8),
		nn.Flatten[T]{},
		&nn.Linear[T]{Name: "head", Out: classes, WInit: nn.HeNormal},
	), nil
}
