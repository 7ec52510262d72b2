package datasets

import (
	"context"
	"fmt"
	"testing"

	"github.com/bsam-dev/bsam/pkg/nn"
)

// benchSplit is a CIFAR-sized split of pseudo-random pixels.
func benchSplit(n int) *Split {
	s := &Split{N: n, Shape: nn.Shape{H: 32, W: 32, C: 3}, Images: make([]uint8, n*3072), Labels: make([]int32, n)}
	r := rng{state: 1}
	for i := range s.Images {
		s.Images[i] = uint8(r.Uint64())
	}
	for i := range s.Labels {
		s.Labels[i] = int32(i % 10)
	}
	return s
}

// BenchmarkLoaderCIFARAugment measures the training loader on CIFAR-sized
// data with crop+flip augmentation; one op is one batch, img/s the rate.
func BenchmarkLoaderCIFARAugment(b *testing.B) {
	s := benchSplit(10000)
	info, _ := Lookup("cifar10")
	for _, bs := range []int{128, 200} {
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("batch=%d/workers=%d", bs, workers), func(b *testing.B) {
				l := NewLoader(s, info.Norm, LoaderOptions{BatchSize: bs, Shuffle: true, DropLast: true, Augment: true, Workers: workers})
				b.ReportAllocs()
				b.ResetTimer()
				done, images := 0, 0
				for e := 0; done < b.N; e++ {
					ctx, cancel := context.WithCancel(b.Context())
					for batch := range l.Epoch(ctx, e, 0) {
						images += batch.N
						batch.Release()
						if done++; done == b.N {
							break
						}
					}
					cancel()
				}
				b.ReportMetric(float64(images)/b.Elapsed().Seconds(), "img/s")
			})
		}
	}
}

// BenchmarkCropFlip measures the per-image augmentation kernel alone
// (CIFAR-sized, 3 channels), without the loader's goroutines.
func BenchmarkCropFlip(b *testing.B) {
	s := benchSplit(64)
	info, _ := Lookup("cifar10")
	l := NewLoader(s, info.Norm, LoaderOptions{BatchSize: 1})
	dst := make([]float32, 3072)
	b.ResetTimer()
	for i := range b.N {
		dy, dx, flip := augmentParams(0, 0, i, 4)
		cropFlip(dst, s.Image(i%64), s.Shape, l.lut, 4, dy, dx, flip)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "img/s")
}
