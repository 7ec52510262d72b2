package models

import (
	"fmt"

	"github.com/bsam-dev/bsam/pkg/nn"
)

func init() {
	Register("lenet", "LeNet-5: 3×(conv 5×5, ReLU, max-pool 3×3/2), 64, ReLU, num_classes (SPEC §3.4)",
		LeNet[float32], LeNet[float64])
}

// LeNet returns the layers of the LeNet-5 of SPEC §3.4: three times
// Conv 5×5 (6, 16, 120 channels; SAME, with bias) → ReLU → MaxPool 3×3
// stride 2 VALID, then Flatten → Linear 64 → ReLU → Linear head, all with
// haiku's default initialisers (truncated normal 1/√fan_in, zero biases).
// 28×28 input pools 28 → 13 → 6 → 2, giving 480 features; 32×32 gives 1080.
//
// The head has classes outputs (82,126 parameters on MNIST). The official
// code gives it classes−1 outputs (82,061 parameters), which its loss then
// multiplies against classes-wide one-hot labels, a shape error: the
// released lenet cannot train. Options.LeNetOfficialHead reproduces that
// head for parameter counts; a Net built with it has classes−1 logits and
// rejects the label classes−1.
func LeNet[T nn.Float](in nn.Shape, classes int, o Options) ([]nn.Layer[T], error) {
	h, w := in.H, in.W
	for range 3 {
		h, w = (h-3)/2+1, (w-3)/2+1 // SAME convolutions keep the size; the pools shrink it
	}
	if in.H < 3 || in.W < 3 || h < 1 || w < 1 {
		return nil, fmt.Errorf("input %dx%d is too small for three 3x3/2 max-pools", in.H, in.W)
	}
	outputs := classes
	if o.LeNetOfficialHead {
		outputs = classes - 1
	}
	var layers []nn.Layer[T]
	for i, ch := range []int{6, 16, 120} {
		layers = append(layers,
			nn.NewConv2D[T](nn.Conv2DConfig{Name: fmt.Sprintf("conv%d", i+1), Out: ch, K: 5, Padding: nn.PadSame, Bias: true}),
			&nn.ReLU[T]{},
			nn.NewMaxPool[T](3, 2),
		)
	}
	return append(layers,
		nn.Flatten[T]{},
		nn.NewLinear[T]("fc1", 64),
		&nn.ReLU[T]{},
		nn.NewLinear[T]("fc2", outputs),
	), nil
}
