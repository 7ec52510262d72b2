package models

import "github.com/bsam-dev/bsam/pkg/nn"

func init() {
	Register("mlp", "MLP: flatten, 500, ELU, 300, ELU, num_classes (SPEC §3.3)", MLP[float32], MLP[float64])
}

// MLP returns the layers of the MLP of SPEC §3.3: Flatten → Linear 500 →
// ELU → Linear 300 → ELU → Linear(classes). Weights use haiku's default
// truncated normal (1/√fan_in), every bias starts at 0.05. On 28×28×1 input
// with 10 classes it has 545,810 parameters.
func MLP[T nn.Float](in nn.Shape, classes int, o Options) ([]nn.Layer[T], error) {
	bias := nn.Const(0.05)
	return []nn.Layer[T]{
		nn.Flatten[T]{},
		&nn.Linear[T]{Name: "fc1", Out: 500, BInit: bias},
		&nn.ELU[T]{},
		&nn.Linear[T]{Name: "fc2", Out: 300, BInit: bias},
		&nn.ELU[T]{},
		&nn.Linear[T]{Name: "fc3", Out: classes, BInit: bias},
	}, nil
}
