package models

import (
	"fmt"
	"testing"

	"github.com/bsam-dev/bsam/pkg/nn"
)

// benchStep measures one training step (LossGrad: forward, loss, backward,
// gradient reduction) of the named network on CIFAR-sized input with the
// default shard size, reporting images per second and allocations.
func benchStep(b *testing.B, name string, batch int) {
	net, x, labels := resnetBatch[float32](b, name, cifar, 10, nn.DefaultShardSize, batch)
	// Two warm-up steps: the first allocates the layers' buffers; the
	// second lets Sync's alternating result buffers reach their final size.
	net.LossGrad(x, labels, batch, true)
	net.LossGrad(x, labels, batch, true)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		net.LossGrad(x, labels, batch, true)
	}
	b.StopTimer() // ReportMetric allocates; keep it out of allocs/op
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "img/s")
}

// benchEval measures an evaluation pass (Logits).
func benchEval(b *testing.B, name string, batch int) {
	net, x, _ := resnetBatch[float32](b, name, cifar, 10, nn.DefaultShardSize, batch)
	out := make([]float32, batch*10)
	net.Logits(x, batch, out)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		net.Logits(x, batch, out)
	}
	b.StopTimer()
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "img/s")
}

func BenchmarkResNet20FRNStep(b *testing.B) {
	for _, n := range []int{128} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) { benchStep(b, "resnet20_frn", n) })
	}
}

func BenchmarkResNet20FRNEval(b *testing.B) {
	b.Run("batch=200", func(b *testing.B) { benchEval(b, "resnet20_frn", 200) })
}

// BenchmarkResNet18Step is slow (seconds per step): run it with
// -benchtime=2x.
func BenchmarkResNet18Step(b *testing.B) {
	for _, n := range []int{128} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) { benchStep(b, "resnet18", n) })
	}
}
