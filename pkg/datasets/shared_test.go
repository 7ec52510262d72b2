package datasets

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bsam-dev/bsam/internal/testutil"
)

// TestSharedCIFAR10JPEG loads the real CIFAR-10 images of
// ../shared/data/cifar10-jpeg.tar.gz as "cifar10": once decoding the JPEG
// files, once from the cache.
func TestSharedCIFAR10JPEG(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes 60,000 JPEG files (about 10 s)")
	}
	src := filepath.Join(testutil.SharedDataDir(t), "cifar10-jpeg.tar.gz")
	if _, err := os.Stat(src); err != nil {
		t.Skipf("shared CIFAR-10 JPEG archive absent: %v", err)
	}
	opts := Options{Source: src, CacheDir: t.TempDir()}
	t0 := time.Now()
	ds, err := Load(t.Context(), "cifar10", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("decoded in %v", time.Since(t0))
	if ds.Train.N != 50000 || ds.Test.N != 10000 || ds.Classes != 10 || ds.Train.Shape != cifarShape {
		t.Fatalf("train %d test %d classes %d shape %v", ds.Train.N, ds.Test.N, ds.Classes, ds.Train.Shape)
	}
	for _, c := range []struct {
		s   *Split
		per int
	}{{ds.Train, 5000}, {ds.Test, 1000}} {
		counts := make([]int, 10)
		for i, y := range c.s.Labels {
			counts[y]++
			if int(y) != i/c.per { // sorted by class folder, canonical order
				t.Fatalf("example %d has label %d, want %d", i, y, i/c.per)
			}
		}
		for k, n := range counts {
			if n != c.per {
				t.Fatalf("class %d has %d examples, want %d", k, n, c.per)
			}
		}
	}
	// The per-channel pixel means of the training set must be those of
	// CIFAR-10 (SPEC §2.2: 0.4914, 0.4822, 0.4465) up to JPEG loss.
	var sum [3]float64
	for i, v := range ds.Train.Images {
		sum[i%3] += float64(v)
	}
	for c := range 3 {
		mean := sum[c] / float64(ds.Train.N*1024) / 255
		if math.Abs(mean-float64(ds.Norm.Mean[c])) > 0.005 {
			t.Errorf("channel %d mean %.4f, CIFAR-10's is %.4f", c, mean, ds.Norm.Mean[c])
		}
	}
	t0 = time.Now()
	again, err := Load(t.Context(), "cifar10", opts)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("cached load took %v", d)
	}
	t.Logf("cached load in %v", time.Since(t0))
	if !bytes.Equal(again.Train.Images, ds.Train.Images) || !bytes.Equal(again.Test.Images, ds.Test.Images) {
		t.Fatal("cached images differ from the decoded ones")
	}
	sub, err := Load(t.Context(), "cifar10", Options{Source: src, CacheDir: opts.CacheDir, TrainSubset: 1000, TestSubset: 500})
	if err != nil {
		t.Fatal(err)
	}
	counts := make([]int, 10)
	for _, y := range sub.Train.Labels {
		counts[y]++
	}
	for k, n := range counts {
		if n != 100 {
			t.Fatalf("subset class %d has %d examples, want 100", k, n)
		}
	}
	if !bytes.Equal(sub.Train.Image(100), ds.Train.Image(5000)) {
		t.Error("subset does not start class 1 with its first image")
	}
}
