package eval

import (
	"math"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestECE(t *testing.T) {
	tests := []struct {
		name    string
		conf    []float64
		correct []bool
		want    float64
	}{
		// 0.5 lies on the boundary of bins [0.45,0.5] and [0.5,0.55] and counts
		// in both, each with fraction 1/2 of the two samples:
		// 2·|0.5−1|·½ + |0.82−0|·½ = 0.25 + 0.25 + 0.41.
		{"interior boundary counts twice", []float64{0.5, 0.82}, []bool{true, false}, 0.91},
		// 0.25 and 0.75 are boundaries, 0.62 is not:
		// 2·(0.25·¼) + 2·(0.25·¼) + |0.62−0.5|·½.
		{"two boundaries", []float64{0.25, 0.75, 0.62, 0.62}, []bool{false, true, true, false}, 0.125 + 0.125 + 0.06},
		// 1 is only the upper end of the last bin.
		{"confidence one", []float64{1, 1}, []bool{true, true}, 0},
		{"single bin", []float64{0.93, 0.91}, []bool{true, false}, math.Abs(0.92 - 0.5)},
		// The bin accuracy is a float32 mean as in util.ece: 1/3 rounded to
		// float32 rather than the float64 1/3.
		{"float32 bin accuracy", []float64{0.33, 0.33, 0.33}, []bool{true, false, false}, math.Abs(0.33 - float64(float32(1.0/3)))},
		{"no samples", nil, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ECE(tt.conf, tt.correct); !near(got, tt.want, 1e-15) {
				t.Errorf("ECE = %.17g, want %.17g", got, tt.want)
			}
		})
	}
}

func TestAUROC(t *testing.T) {
	tests := []struct {
		name    string
		conf    []float64
		correct []bool
		want    float64
	}{
		{"perfect separation", []float64{0.9, 0.8, 0.3, 0.2}, []bool{true, true, false, false}, 1},
		{"inverted", []float64{0.5, 0.82}, []bool{true, false}, 0},
		// Descending: 0.9 ✓, 0.7 ✗, 0.6 ✓, 0.3 ✗ gives the ROC points
		// (0,0) (0,½) (½,½) (½,1) (1,1): area ½·½ + ½·1.
		{"hand-worked", []float64{0.9, 0.7, 0.6, 0.3}, []bool{true, false, true, false}, 0.75},
		// Both fall between the same thresholds 0.9004 and 0.9, so they enter
		// the curve together: one diagonal step, area ½ (the exact ROC would
		// give 0).
		{"same threshold cell", []float64{0.90001, 0.90002}, []bool{true, false}, 0.5},
		// Confidences below the last threshold 0.0004 join only at (1,1).
		{"below last threshold", []float64{0.9, 0.0003}, []bool{true, false}, 1},
		{"both below last threshold", []float64{0.0001, 0.0002}, []bool{true, false}, 0.5},
		// Degenerate cases: the official code divides by zero; 0.5 by choice.
		{"all correct", []float64{0.9, 0.4}, []bool{true, true}, 0.5},
		{"all wrong", []float64{0.9, 0.4}, []bool{false, false}, 0.5},
		{"no samples", nil, nil, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AUROC(tt.conf, tt.correct); !near(got, tt.want, 1e-15) {
				t.Errorf("AUROC = %.17g, want %.17g", got, tt.want)
			}
		})
	}
}

func TestReliabilityBins(t *testing.T) {
	bins := ReliabilityBins([]float64{0.5, 0.82, 0.83}, []bool{true, false, true})
	if len(bins) != NumBins {
		t.Fatalf("%d bins, want %d", len(bins), NumBins)
	}
	want := map[int]Bin{
		9:  {Count: 1, Confidence: 0.5, Accuracy: 1},
		10: {Count: 1, Confidence: 0.5, Accuracy: 1},
		16: {Count: 2, Confidence: 0.825, Accuracy: 0.5},
	}
	for b, got := range bins {
		w := want[b]
		w.Lower, w.Upper = float64(b)*0.05, float64(b+1)*0.05
		if !near(got.Lower, w.Lower, 1e-15) || !near(got.Upper, w.Upper, 1e-15) ||
			got.Count != w.Count || !near(got.Confidence, w.Confidence, 1e-15) || got.Accuracy != w.Accuracy {
			t.Errorf("bin %d = %+v, want %+v", b, got, w)
		}
	}
}

func TestCompute(t *testing.T) {
	tests := []struct {
		name   string
		probs  []float64
		labels []int32
		k      int
		want   Metrics
	}{
		// A tie predicts the first class (jnp.argmax), so example 0 is
		// correct with confidence 0.5; example 1 is wrong with 0.82.
		{"tie and boundary", []float64{0.5, 0.5, 0.18, 0.82}, []int32{0, 0}, 2,
			Metrics{Accuracy: 50, NLL: -(math.Log(0.5) + math.Log(0.18)) / 2, ECE: 0.91, AUROC: 0}},
		// All correct at confidence 0.75, a boundary: bins [0.7,0.75] and
		// [0.75,0.8] each hold both samples, ECE = 2·0.25.
		{"all correct on a boundary", []float64{0.75, 0.25, 0.25, 0.75}, []int32{0, 1}, 2,
			Metrics{Accuracy: 100, NLL: -math.Log(0.75), ECE: 0.5, AUROC: 0.5}},
		{"three classes", []float64{0.2, 0.7, 0.1, 0.6, 0.3, 0.1, 0.3, 0.3, 0.4}, []int32{1, 1, 2}, 3,
			// conf 0.7 ✓, 0.6 ✗, 0.4 ✓; 0.7, 0.6 and 0.4 are all boundaries.
			// ECE: bins 13,14 (0.7, acc 1) 2·0.3/3; bins 11,12 (0.6, acc 0)
			// 2·0.6/3; bins 7,8 (0.4, acc 1) 2·0.6/3; fractions are float32(1/3).
			// ROC: (0,0) (0,½) (1,½) (1,1) (1,1): area ½.
			Metrics{Accuracy: 100 * (2.0 / 3), NLL: -(math.Log(0.7) + math.Log(0.3) + math.Log(0.4)) / 3,
				ECE: 2 * (0.3 + 0.6 + 0.6) * float64(float32(1.0/3)), AUROC: 0.5}},
		{"empty", nil, nil, 4, Metrics{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compute(tt.probs, tt.labels, len(tt.labels), tt.k)
			if !near(got.Accuracy, tt.want.Accuracy, 1e-12) || !near(got.NLL, tt.want.NLL, 1e-15) ||
				!near(got.ECE, tt.want.ECE, 1e-15) || !near(got.AUROC, tt.want.AUROC, 1e-15) {
				t.Errorf("Compute = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPanics(t *testing.T) {
	tests := []struct {
		name string
		f    func()
	}{
		{"Compute shape", func() { Compute(make([]float64, 5), []int32{0, 1}, 2, 3) }},
		{"Compute label", func() { Compute([]float64{0.5, 0.5}, []int32{2}, 1, 2) }},
		{"Compute negative label", func() { Compute([]float64{0.5, 0.5}, []int32{-1}, 1, 2) }},
		{"ECE lengths", func() { ECE([]float64{0.5}, nil) }},
		{"AddBatch no samples", func() { NewAccumulator(2).AddBatch(nil, []int32{0}) }},
		{"AddBatch shape", func() { NewAccumulator(2).AddBatch([][]float32{{1, 2, 3}}, []int32{0}) }},
		{"AddBatch label", func() { NewAccumulator(2).AddBatch([][]float32{{1, 2}}, []int32{5}) }},
		{"NewAccumulator classes", func() { NewAccumulator(0) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tt.f()
		})
	}
}

func TestOfficialNLLFactor(t *testing.T) {
	tests := []struct {
		nb   int
		want float64
	}{
		{50, 50.0 / 49},
		{2, 2},
		{1, math.NaN()},
		{0, math.NaN()},
	}
	for _, tt := range tests {
		got := OfficialNLLFactor(tt.nb)
		if math.IsNaN(tt.want) != math.IsNaN(got) || (!math.IsNaN(got) && got != tt.want) {
			t.Errorf("OfficialNLLFactor(%d) = %v, want %v", tt.nb, got, tt.want)
		}
	}
}

func TestSoftmax(t *testing.T) {
	tests := []struct {
		name   string
		logits []float64
		want   []float64
		lse    float64
	}{
		{"uniform", []float64{0, 0}, []float64{0.5, 0.5}, math.Ln2},
		{"ratio three", []float64{0, math.Log(3)}, []float64{0.25, 0.75}, math.Log(4)},
		// 1000+ln 3 carries a rounding error of ~1e-13 itself.
		{"shift invariant and stable", []float64{1000, 1000 + math.Log(3)}, []float64{0.25, 0.75}, 1000 + math.Log(4)},
		{"underflow", []float64{-1000, 0}, []float64{0, 1}, 0},
		{"empty", []float64{}, []float64{}, math.Inf(-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Softmax(nil, tt.logits)
			for k := range tt.want {
				if !near(got[k], tt.want[k], 1e-12) {
					t.Errorf("Softmax = %v, want %v", got, tt.want)
					break
				}
			}
			if lse := LogSumExp(tt.logits); !near(lse, tt.lse, 1e-12) && lse != tt.lse {
				t.Errorf("LogSumExp = %v, want %v", lse, tt.lse)
			}
		})
	}
	// float32 logits are converted, not computed in float32.
	got := Softmax(nil, []float32{0, 2})
	if want := 1 / (1 + math.Exp(-2)); !near(got[1], want, 1e-16) {
		t.Errorf("Softmax(float32) = %v, want [.., %v]", got, want)
	}
}
