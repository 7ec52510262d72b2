package models

import (
	"fmt"

	"github.com/bsam-dev/bsam/pkg/nn"
)

func init() {
	Register("resnet18", "ResNet-18 v1 with BatchNorm, CIFAR stem (3×3/1, no max-pool), zero-init logits (SPEC §3.2)",
		ResNet18[float32], ResNet18[float64])
}

// ResNet18 returns the layers of the CIFAR ResNet-18 of SPEC §3.2: a stem
// conv3×3(64, stride 1, no bias)+BN+ReLU without max-pool, four groups of
// two post-activation basic blocks with widths 64, 128, 256, 512 and
// strides 1, 2, 2, 2 (1×1 conv+BN projection on the first block of groups
// 2–4), a global mean pool and a zero-initialised "logits" linear layer.
// Convolutions have no bias and haiku's default initialiser; BatchNorm has
// decay 0.9 and ε 1e-5. It has 11,173,962 parameters for 10 classes.
func ResNet18[T nn.Float](in nn.Shape, classes int, o Options) ([]nn.Layer[T], error) {
	if in.H < 8 || in.W < 8 {
		return nil, fmt.Errorf("input %dx%d is too small for three stride-2 groups", in.H, in.W)
	}
	layers := []nn.Layer[T]{nn.NewChain("stem",
		nn.Layer[T](nn.NewConv2D[T](nn.Conv2DConfig{Name: "conv", Out: 64, K: 3, Stride: 1, Padding: nn.PadSame})),
		nn.NewBatchNorm[T]("bn", true))}
	for g, width := range []int{64, 128, 256, 512} {
		for j := 0; j < 2; j++ {
			stride := 1
			if g > 0 && j == 0 {
				stride = 2
			}
			layers = append(layers, nn.NewBasicBlockV1[T](fmt.Sprintf("group%d.%d", g+1, j), width, stride, g > 0 && j == 0))
		}
	}
	zero := func(int) nn.Init { return nn.Const(0) }
	return append(layers,
		nn.NewGlobalMeanPool[T](),
		&nn.Linear[T]{Name: "logits", Out: classes, WInit: zero},
	), nil
}
