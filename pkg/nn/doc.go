// Package nn is bsam's pure-Go training engine: layers with Forward and
// Backward side by side, the flat parameter, gradient and state buffers they
// are views into, and Net, which runs a sequence of layers as a Model.
//
// Reading order:
//
//   - model.go: Float, Shape, ParamSpec and the Model interface the trainer
//     and optimizers use.
//   - layer.go: the Layer interface, the per-pass Ctx and the Builder that
//     hands out parameter offsets.
//   - init.go: the haiku initialisers (truncated normal, He) and how a buffer
//     is filled from them.
//   - net.go: Net, which cuts a batch into fixed shards, runs each shard on
//     its own replica of the layers in its own goroutine and sums the
//     gradient partials in shard order, so results do not depend on the
//     number of CPUs.
//   - sync.go: the ordered cross-shard sums BatchNorm needs.
//   - linear_kernels.go, linear.go: the fully connected layer, Flatten and
//     the softmax cross-entropy loss; activation.go: ELU and ReLU.
//   - conv.go, pool.go, frn.go, batchnorm.go, residual.go: the layers of
//     the convolutional networks.
//
// All activations are NHWC. Layers allocate their buffers on first use for
// the largest shard they see and reuse them, so a training step in steady
// state makes no heap allocations.
package nn
