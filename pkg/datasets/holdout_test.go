package datasets

import (
	"context"
	"testing"
)

// indexSplit is a split of n one-pixel images whose pixel is the example's
// index modulo 256 and whose second pixel is index/256, so every example can
// be identified after gathering; labels cycle through classes unevenly
// (label = i mod classes, then every 7th example relabelled to 0).
func indexSplit(n, classes int) *Split {
	sh := cifarShape
	s := rampSplit(n, sh, classes)
	for i := range n {
		img := s.Image(i)
		img[0], img[1] = byte(i%256), byte(i/256)
		if i%7 == 0 {
			s.Labels[i] = 0
		}
	}
	return s
}

func exampleID(s *Split, k int) int { img := s.Image(k); return int(img[0]) + 256*int(img[1]) }

func TestHoldOut(t *testing.T) {
	const classes = 4
	s := indexSplit(1000, classes)
	count := func(sp *Split) []int {
		c := make([]int, classes)
		for _, y := range sp.Labels {
			c[y]++
		}
		return c
	}
	all := count(s)
	for _, n := range []int{1, 10, 101, 400} {
		rest, held := s.HoldOut(n, classes)
		if rest.N+held.N != s.N || held.N != n {
			t.Fatalf("HoldOut(%d): rest %d + held %d, want held %d of %d", n, rest.N, held.N, n, s.N)
		}
		// Class-balanced: class c holds out n/classes, the first n%classes one more.
		hc := count(held)
		for c := range classes {
			want := n / classes
			if c < n%classes {
				want++
			}
			if hc[c] != want {
				t.Errorf("HoldOut(%d): class %d holds out %d, want %d", n, c, hc[c], want)
			}
			if rc := count(rest)[c]; rc+hc[c] != all[c] {
				t.Errorf("HoldOut(%d): class %d: %d + %d ≠ %d", n, c, rc, hc[c], all[c])
			}
		}
		// Disjoint, covering, in the original order, labels carried along.
		seen := map[int]bool{}
		for _, sp := range []*Split{rest, held} {
			prev := -1
			for k := range sp.N {
				id := exampleID(sp, k)
				if seen[id] || id <= prev {
					t.Fatalf("HoldOut(%d): example %d repeated or out of order", n, id)
				}
				seen[id], prev = true, id
				if sp.Labels[k] != s.Labels[id] {
					t.Fatalf("HoldOut(%d): example %d has label %d, want %d", n, id, sp.Labels[k], s.Labels[id])
				}
			}
		}
		if len(seen) != s.N {
			t.Fatalf("HoldOut(%d): %d distinct examples, want %d", n, len(seen), s.N)
		}
		// The same call gives the same split (the stream has no seed input).
		_, again := s.HoldOut(n, classes)
		for k := range held.N {
			if exampleID(again, k) != exampleID(held, k) {
				t.Fatalf("HoldOut(%d) is not deterministic at %d", n, k)
			}
		}
	}
	// A random sample, not the first examples of each class: with 100 of
	// ~250 per class held out, the chance that the held-out set is exactly
	// the first 100 of a class is nil; require it to reach past them.
	_, held := s.HoldOut(400, classes)
	maxID := 0
	for k := range held.N {
		maxID = max(maxID, exampleID(held, k))
	}
	if maxID < 600 {
		t.Fatalf("held-out examples all below %d: not a random sample of each class", maxID+1)
	}
	// A class with too few examples keeps one for training.
	tiny := indexSplit(6, 3) // labels 0,1,2,0,1,2 with 0 relabelled: 0,1,2,0,1,2
	rest, h := tiny.HoldOut(6, 3)
	if h.N != 3 || rest.N != 3 {
		t.Fatalf("tiny HoldOut: held %d rest %d, want 3 and 3", h.N, rest.N)
	}
}

func TestLoadValidation(t *testing.T) {
	root := t.TempDir()
	writeCIFAR10Dir(t, root, 10)
	ensure := func(ctx context.Context, name string) (string, error) { return root, nil }
	full, err := Load(t.Context(), "cifar10", Options{Ensure: ensure, NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	if full.EvalSplit != EvalTest {
		t.Fatalf("EvalSplit = %q without validation, want %q", full.EvalSplit, EvalTest)
	}
	ds, err := Load(t.Context(), "cifar10", Options{Ensure: ensure, NoCache: true, Validation: 10})
	if err != nil {
		t.Fatal(err)
	}
	if ds.EvalSplit != EvalValidation || ds.Test.N != 10 || ds.Train.N != full.Train.N-10 {
		t.Fatalf("validation 10: eval %q, %d held out, %d train (full train %d)", ds.EvalSplit, ds.Test.N, ds.Train.N, full.Train.N)
	}
	// The held-out images are training images, and the same with a subset.
	sub, err := Load(t.Context(), "cifar10", Options{Ensure: ensure, NoCache: true, Validation: 10, TrainSubset: 20})
	if err != nil {
		t.Fatal(err)
	}
	if sub.Train.N != 20 || string(sub.Test.Images) != string(ds.Test.Images) {
		t.Fatalf("validation with train_subset: train %d, held-out images differ: %v", sub.Train.N, string(sub.Test.Images) != string(ds.Test.Images))
	}
	if _, err := Load(t.Context(), "cifar10", Options{Ensure: ensure, NoCache: true, Validation: full.Train.N}); err == nil {
		t.Fatal("holding out the whole training split: no error")
	}
}
