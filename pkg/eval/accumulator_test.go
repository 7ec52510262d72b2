package eval

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestAccumulatorHand(t *testing.T) {
	ln3 := math.Log(3)
	tests := []struct {
		name    string
		classes int
		samples [][]float64 // J entries of n×K logits
		labels  []int32
		want    Metrics
		tol     float64
	}{
		// softmax(0, 1) = (1, e)/(1+e): NLL is log(1+e) for label 0 and
		// log(1+1/e) for label 1; both have confidence e/(1+e) ≈ 0.731 (bin
		// 14, accuracy ½) and enter the ROC at the same threshold (area ½).
		{"point nll", 2, [][]float64{{0, 1, 0, 1}}, []int32{0, 1},
			Metrics{Accuracy: 50, NLL: (math.Log1p(math.E) + math.Log1p(1/math.E)) / 2, ECE: math.E/(1+math.E) - 0.5, AUROC: 0.5}, 1e-15},
		// All correct with confidence 1/(1+e⁻²) (inside bin 17): ECE = 1−conf,
		// AUROC 0.5 by convention.
		{"all correct", 2, [][]float64{{0, 2, 2, 0}}, []int32{1, 0},
			Metrics{Accuracy: 100, NLL: math.Log1p(math.Exp(-2)), ECE: 1 / (1 + math.Exp(2)), AUROC: 0.5}, 1e-15},
		{"all wrong", 2, [][]float64{{0, 2, 2, 0}}, []int32{0, 1},
			Metrics{Accuracy: 0, NLL: math.Log1p(math.Exp(2)), ECE: 1 / (1 + math.Exp(-2)), AUROC: 0.5}, 1e-14},
		// BMA of (¼, ¾) and (¾, ¼) is (½, ½): NLL ln 2 whatever the label.
		{"bma averages probabilities", 2, [][]float64{{0, ln3}, {ln3, 0}}, []int32{1},
			Metrics{NLL: math.Ln2}, 1e-15},
		// log p̄[y] underflows in float64 (e⁻⁸⁰⁰); the log-sum-exp does not:
		// log(½e⁻⁸⁰⁰ + ½e⁻¹⁰⁰⁰) = −800 − ln 2 + log1p(e⁻²⁰⁰).
		{"bma nll without underflow", 2, [][]float64{{0, 800}, {0, 1000}}, []int32{0},
			Metrics{Accuracy: 0, NLL: 800 + math.Ln2, ECE: 1, AUROC: 0.5}, 1e-12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAccumulator(tt.classes)
			a.AddBatch64(tt.samples, tt.labels)
			got := a.Metrics()
			if a.N() != len(tt.labels) {
				t.Errorf("N() = %d, want %d", a.N(), len(tt.labels))
			}
			if !near(got.NLL, tt.want.NLL, tt.tol) {
				t.Errorf("NLL = %.17g, want %.17g", got.NLL, tt.want.NLL)
			}
			if tt.want == (Metrics{NLL: tt.want.NLL}) {
				return // only the NLL is determined (a tie decides the rest)
			}
			if !near(got.Accuracy, tt.want.Accuracy, 1e-12) || !near(got.ECE, tt.want.ECE, tt.tol) || !near(got.AUROC, tt.want.AUROC, 1e-15) {
				t.Errorf("Metrics = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// randomLogits returns n×k logits with spread scale, reproducibly.
func randomLogits(r *rand.Rand, n, k int, scale float64) []float64 {
	x := make([]float64, n*k)
	for i := range x {
		x[i] = scale * r.NormFloat64()
	}
	return x
}

func randomLabels(r *rand.Rand, n, k int) []int32 {
	y := make([]int32, n)
	for i := range y {
		y[i] = int32(r.IntN(k))
	}
	return y
}

// TestBMAIdenticalSamples: the model average of J copies of one prediction is
// that prediction.
func TestBMAIdenticalSamples(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tt := range []struct{ n, k, J int }{{200, 10, 32}, {64, 100, 4}, {30, 2, 7}} {
		logits := randomLogits(r, tt.n, tt.k, 3)
		labels := randomLabels(r, tt.n, tt.k)
		point := NewAccumulator(tt.k)
		point.AddBatch64([][]float64{logits}, labels)
		samples := make([][]float64, tt.J)
		for j := range samples {
			samples[j] = logits
		}
		bma := NewAccumulator(tt.k)
		bma.AddBatch64(samples, labels)
		p, b := point.Metrics(), bma.Metrics()
		if p.Accuracy != b.Accuracy || !near(p.NLL, b.NLL, 1e-12) || !near(p.ECE, b.ECE, 1e-12) || !near(p.AUROC, b.AUROC, 1e-12) {
			t.Errorf("n=%d k=%d J=%d: BMA %+v, point %+v", tt.n, tt.k, tt.J, b, p)
		}
	}
}

// TestFloat32MatchesFloat64: AddBatch converts float32 logits and computes in
// float64, so it equals AddBatch64 on the converted values bit for bit.
func TestFloat32MatchesFloat64(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	n, k, J := 100, 10, 3
	labels := randomLabels(r, n, k)
	s32 := make([][]float32, J)
	s64 := make([][]float64, J)
	for j := range J {
		x := randomLogits(r, n, k, 2)
		s32[j] = make([]float32, len(x))
		s64[j] = make([]float64, len(x))
		for i, v := range x {
			s32[j][i] = float32(v)
			s64[j][i] = float64(float32(v))
		}
	}
	a32, a64 := NewAccumulator(k), NewAccumulator(k)
	a32.AddBatch(s32, labels)
	a64.AddBatch64(s64, labels)
	if m32, m64 := a32.Metrics(), a64.Metrics(); m32 != m64 {
		t.Errorf("float32 %+v, float64 %+v", m32, m64)
	}
	r32, r64 := a32.Reliability(), a64.Reliability()
	for b := range r32 {
		if r32[b] != r64[b] {
			t.Errorf("bin %d: float32 %+v, float64 %+v", b, r32[b], r64[b])
		}
	}
}

func TestOfficialNLL(t *testing.T) {
	ln3 := math.Log(3)
	a := NewAccumulator(2)
	// Batch means: ln 4; ln(4/3); (ln 4 + ln(4/3))/2.
	a.AddBatch64([][]float64{{0, ln3}}, []int32{0})
	a.AddBatch64([][]float64{{0, ln3}}, []int32{1})
	a.AddBatch64([][]float64{{0, ln3, 0, ln3}}, []int32{0, 1})
	if a.Batches() != 3 {
		t.Fatalf("Batches() = %d, want 3", a.Batches())
	}
	l4, l43 := math.Log(4), math.Log(4.0/3)
	if want := (l4 + l43 + (l4+l43)/2) / 2; !near(a.OfficialNLL(), want, 1e-15) {
		t.Errorf("OfficialNLL = %.17g, want %.17g", a.OfficialNLL(), want)
	}
	if want := (2*l4 + 2*l43) / 4; !near(a.Metrics().NLL, want, 1e-15) {
		t.Errorf("NLL = %.17g, want %.17g", a.Metrics().NLL, want)
	}

	// Equal batches: official = true mean × nbatches/(nbatches−1).
	r := rand.New(rand.NewPCG(5, 6))
	b := NewAccumulator(10)
	for range 5 {
		b.AddBatch64([][]float64{randomLogits(r, 20, 10, 2)}, randomLabels(r, 20, 10))
	}
	if want := b.Metrics().NLL * OfficialNLLFactor(5); !near(b.OfficialNLL(), want, 1e-12) {
		t.Errorf("OfficialNLL = %.17g, want true mean × 5/4 = %.17g", b.OfficialNLL(), want)
	}
	if single := NewAccumulator(2); !math.IsNaN(single.OfficialNLL()) {
		t.Error("OfficialNLL of no batches is not NaN")
	}
}

func TestAccumulatorEmptyAndReset(t *testing.T) {
	a := NewAccumulator(3)
	if a.Metrics() != (Metrics{}) || a.N() != 0 {
		t.Errorf("empty: Metrics %+v, N %d", a.Metrics(), a.N())
	}
	if bins := a.Reliability(); len(bins) != NumBins || bins[0].Count != 0 {
		t.Errorf("empty reliability: %+v", bins)
	}
	a.AddBatch([][]float32{{0, 1, 2}}, []int32{2})
	a.AddBatch([][]float32{{}}, nil) // an empty batch adds nothing
	if a.N() != 1 || a.Batches() != 1 || a.Metrics().Accuracy != 100 {
		t.Errorf("after one example: N %d, Batches %d, %+v", a.N(), a.Batches(), a.Metrics())
	}
	a.Reset()
	if a.N() != 0 || a.Batches() != 0 || a.Metrics() != (Metrics{}) {
		t.Errorf("after Reset: N %d, Batches %d, %+v", a.N(), a.Batches(), a.Metrics())
	}
}

// TestAddBatchNoAlloc: with room reserved, AddBatch allocates nothing.
func TestAddBatchNoAlloc(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	n, k, J := 200, 10, 4
	samples := make([][]float32, J)
	for j := range samples {
		samples[j] = make([]float32, n*k)
		for i, v := range randomLogits(r, n, k, 2) {
			samples[j][i] = float32(v)
		}
	}
	labels := randomLabels(r, n, k)
	a := NewAccumulator(k)
	a.AddBatch(samples, labels) // warm up the scratch buffers
	a.Reset()
	a.Grow(2 * n)
	if allocs := testing.AllocsPerRun(20, func() {
		a.Reset()
		a.AddBatch(samples, labels)
		a.AddBatch(samples, labels)
	}); allocs != 0 {
		t.Errorf("AddBatch allocates %v times per run", allocs)
	}
}

func BenchmarkAddBatch(b *testing.B) {
	for _, bm := range []struct {
		name    string
		n, k, J int
	}{
		{"200x10/J=32", 200, 10, 32},
		{"200x100/J=32", 200, 100, 32},
	} {
		b.Run(bm.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(9, 10))
			samples := make([][]float32, bm.J)
			for j := range samples {
				samples[j] = make([]float32, bm.n*bm.k)
				for i, v := range randomLogits(r, bm.n, bm.k, 2) {
					samples[j][i] = float32(v)
				}
			}
			labels := randomLabels(r, bm.n, bm.k)
			const perTestSet = 50 // CIFAR: 10,000 test images in batches of 200
			a := NewAccumulator(bm.k)
			a.Grow(perTestSet * bm.n)
			b.SetBytes(int64(4 * bm.J * bm.n * bm.k))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if i%perTestSet == 0 {
					a.Reset()
				}
				a.AddBatch(samples, labels)
				i++
			}
		})
	}
}
