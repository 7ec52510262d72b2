package nn

// Float is the set of element types the layer code is instantiated for:
// float32 for training, float64 for exact gradient checks.
type Float interface{ ~float32 | ~float64 }

// Shape is the per-example shape of an NHWC activation. A flat feature
// vector of length C is Shape{1, 1, C}.
type Shape struct{ H, W, C int }

// Size returns H·W·C.
func (s Shape) Size() int { return s.H * s.W * s.C }

// ParamSpec names one parameter tensor inside a model's flat buffer.
// Layouts: convolution kernels HWIO (kh, kw, cin, cout), linear weights
// [in][out], per-channel vectors [C].
type ParamSpec struct {
	Name   string
	Shape  []int
	Offset int
	Size   int
}

// Model is a network whose parameters, gradients and non-trainable state
// (BatchNorm running averages) each live in one flat buffer. Optimizers,
// checkpoints and the trainer only ever see these buffers.
//
// Inputs are NHWC batches: n examples of InShape().Size() values each.
// Labels are class indices in [0, NumClasses()).
type Model[T Float] interface {
	// Params returns the flat parameter buffer the layers read. Writing
	// into it changes the model.
	Params() []T
	// Grads returns the flat gradient buffer written by LossGrad.
	Grads() []T
	// State returns the flat non-trainable state (empty when there is none).
	State() []T
	// ParamSpecs lists the parameter tensors in buffer order.
	ParamSpecs() []ParamSpec
	// InShape is the per-example input shape; NumClasses the number of logits.
	InShape() Shape
	NumClasses() int
	// LossGrad runs a training-mode forward and backward pass on the n
	// examples in x at the current Params, overwrites Grads with the
	// gradient of the mean softmax cross-entropy and returns that mean.
	// When updateState is true, BatchNorm running averages are updated with
	// this batch's statistics; otherwise State is left untouched.
	LossGrad(x []T, labels []int32, n int, updateState bool) float64
	// Logits runs an evaluation-mode forward pass (BatchNorm uses its
	// running averages) and writes n×NumClasses() logits into out.
	Logits(x []T, n int, out []T)
}
