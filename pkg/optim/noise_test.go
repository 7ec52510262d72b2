package optim

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func draw(seed, step uint64, k, n int) []float64 {
	r := NewRNGNoise[float64](seed)
	r.SetStep(step)
	out := make([]float64, n)
	r.Normal(k, out)
	return out
}

func TestRNGNoiseStreams(t *testing.T) {
	const n = 64
	base := draw(42, 3, 1, n)
	tests := []struct {
		name string
		got  []float64
		same bool
	}{
		{"same (seed, step, k)", draw(42, 3, 1, n), true},
		{"different k", draw(42, 3, 2, n), false},
		{"different step", draw(42, 4, 1, n), false},
		{"different seed", draw(43, 3, 1, n), false},
		{"k and step swapped", draw(42, 1, 3, n), false},
	}
	for _, tc := range tests {
		if eq := slices.Equal(base, tc.got); eq != tc.same {
			t.Errorf("%s: equal = %v, want %v", tc.name, eq, tc.same)
		}
	}

	// Order independence and NextStep: reach step 3 by NextStep, draw k = 2
	// before k = 1; the k = 1 draw must still equal the direct one.
	r := NewRNGNoise[float64](42)
	for range 3 {
		r.NextStep()
	}
	if r.Step() != 3 {
		t.Fatalf("Step() = %d after 3 NextStep calls", r.Step())
	}
	tmp := make([]float64, n)
	r.Normal(2, tmp)
	got := make([]float64, n)
	r.Normal(1, got)
	if !slices.Equal(got, base) {
		t.Errorf("draw (3, 1) depends on call order")
	}
	r.Normal(1, got)
	if !slices.Equal(got, base) {
		t.Errorf("repeating draw (3, 1) gives a different vector")
	}

	// A prefix of a longer draw is the shorter draw; float32 rounds the
	// float64 stream.
	long := draw(42, 3, 1, 2*n)
	if !slices.Equal(long[:n], base) {
		t.Errorf("draw of %d values does not start with the draw of %d", 2*n, n)
	}

	// Chunks: value i comes from stream (seed, step, k, i/NoiseChunk) read
	// from its start; chunk 1 is not a repeat of chunk 0.
	big := draw(42, 3, 1, 2*NoiseChunk+5)
	for c := 0; c < 3; c++ {
		g := streamState(42, 3, 1, uint64(c))
		ref := make([]float64, NoiseChunk)
		fillNormal(&g, ref)
		for i := c * NoiseChunk; i < min(len(big), (c+1)*NoiseChunk); i++ {
			if want := ref[i-c*NoiseChunk]; big[i] != want {
				t.Fatalf("value %d (chunk %d) = %v, want %v", i, c, big[i], want)
			}
		}
	}
	if slices.Equal(big[:8], big[NoiseChunk:NoiseChunk+8]) {
		t.Errorf("chunk 1 repeats chunk 0")
	}
	r32 := NewRNGNoise[float32](42)
	r32.SetStep(3)
	f32 := make([]float32, n)
	r32.Normal(1, f32)
	for i := range f32 {
		if f32[i] != float32(base[i]) {
			t.Fatalf("float32 draw [%d] = %v, want float32(%v)", i, f32[i], base[i])
		}
	}
}

// TestRNGNoiseMoments checks that draws look standard normal: mean, variance
// and the fraction beyond ±1.96 within ~5 standard errors.
func TestRNGNoiseMoments(t *testing.T) {
	const n = 200000
	v := draw(1, 0, 0, n)
	var sum, sq float64
	tail := 0
	for _, x := range v {
		sum += x
		sq += x * x
		if math.Abs(x) > 1.959963984540054 {
			tail++
		}
	}
	mean := sum / n
	variance := sq/n - mean*mean
	if math.Abs(mean) > 5/math.Sqrt(n) {
		t.Errorf("mean %g, want 0 ± %g", mean, 5/math.Sqrt(n))
	}
	if math.Abs(variance-1) > 5*math.Sqrt(2.0/n) {
		t.Errorf("variance %g, want 1 ± %g", variance, 5*math.Sqrt(2.0/n))
	}
	p := float64(tail) / n
	if se := math.Sqrt(0.05 * 0.95 / n); math.Abs(p-0.05) > 5*se {
		t.Errorf("P(|x| > 1.96) = %g, want 0.05 ± %g", p, 5*se)
	}
}

func TestFillNormal(t *testing.T) {
	dst := make([]float32, 5)
	FillNormal(rand.New(rand.NewPCG(9, 10)), dst)
	ref := rand.New(rand.NewPCG(9, 10))
	for i, v := range dst {
		if want := float32(ref.NormFloat64()); v != want {
			t.Errorf("[%d] = %v, want %v", i, v, want)
		}
	}
}

func TestFixedNoise(t *testing.T) {
	f := NewFixedNoise([][][]float64{{{1, 2}, {3, 4}}, {{5, 6}}})
	dst := make([]float64, 2)
	f.Normal(1, dst)
	if !slices.Equal(dst, []float64{3, 4}) {
		t.Errorf("step 0, k 1: %v", dst)
	}
	f.NextStep()
	f.Normal(0, dst)
	if !slices.Equal(dst, []float64{5, 6}) {
		t.Errorf("step 1, k 0: %v", dst)
	}
	for _, bad := range []struct {
		name string
		k    int
		dst  []float64
	}{{"missing k", 1, dst}, {"wrong length", 0, make([]float64, 3)}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", bad.name)
				}
			}()
			f.Normal(bad.k, bad.dst)
		}()
	}
}

func TestPosteriorSample(t *testing.T) {
	tests := []struct {
		w, s, e []float64
		ndata   float64
		want    []float64
	}{
		// sd = sqrt(1/(25·4)) = 0.1, sqrt(1/(25·0.25)) = 0.4, sqrt(1/25) = 0.2;
		// sqrt(1/(1e4·1)) = 0.01.
		{[]float64{1, -1, 3}, []float64{4, 0.25, 1}, []float64{2, -1, 0.5}, 25, []float64{1.2, -1.4, 3.1}},
		{[]float64{0.5}, []float64{1}, []float64{-3}, 1e4, []float64{0.47}},
	}
	for _, tc := range tests {
		got := make([]float64, len(tc.w))
		PosteriorSample(got, tc.w, tc.s, tc.e, tc.ndata)
		if err := closeTo(got, tc.want, 1e-14); err != nil {
			t.Errorf("w=%v s=%v e=%v N=%g: %v", tc.w, tc.s, tc.e, tc.ndata, err)
		}
		// Two-stage form: bit-identical.
		sd := make([]float64, len(tc.s))
		PosteriorStd(sd, tc.s, tc.ndata)
		two := make([]float64, len(tc.w))
		PosteriorSampleStd(two, tc.w, sd, tc.e)
		if !slices.Equal(two, got) {
			t.Errorf("PosteriorStd+PosteriorSampleStd = %v, PosteriorSample = %v", two, got)
		}
		// In place over w.
		w := slices.Clone(tc.w)
		PosteriorSample(w, w, tc.s, tc.e, tc.ndata)
		if err := closeTo(w, tc.want, 1e-14); err != nil {
			t.Errorf("aliased dst = w: %v", err)
		}
	}
}

// TestRNGNoiseParallelMatchesSerial checks that generating a long draw on
// the worker pool gives exactly the values of the single-goroutine path.
func TestRNGNoiseParallelMatchesSerial(t *testing.T) {
	par := NewRNGNoise[float32](99)
	if par.pool == nil {
		par.pool = newNoisePool[float32](3)
	}
	ser := NewRNGNoise[float32](99)
	ser.pool = nil
	a := make([]float32, 5*NoiseChunk+123)
	b := make([]float32, len(a))
	for step := 0; step < 3; step++ {
		for k := 0; k < 2; k++ {
			par.Normal(k, a)
			ser.Normal(k, b)
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("step %d k %d: value %d differs: %v vs %v", step, k, i, a[i], b[i])
				}
			}
		}
		par.NextStep()
		ser.NextStep()
	}
}

// TestRNGNoiseSample checks that Sample equals Normal followed by
// PosteriorSampleStd, bit for bit, serially and on the pool, in place over
// w included.
func TestRNGNoiseSample(t *testing.T) {
	n := 3*NoiseChunk + 77
	w := make([]float32, n)
	sd := make([]float32, n)
	for i := range w {
		w[i] = float32(math.Sin(float64(i)))
		sd[i] = float32(0.01 + 0.001*float64(i%7))
	}
	for _, pool := range []bool{false, true} {
		r := NewRNGNoise[float32](5)
		r.pool = nil
		if pool {
			r.pool = newNoisePool[float32](3)
		}
		r.SetStep(2)
		e := make([]float32, n)
		r.Normal(3, e)
		want := make([]float32, n)
		PosteriorSampleStd(want, w, sd, e)
		got := make([]float32, n)
		r.Sample(3, got, w, sd)
		if !slices.Equal(got, want) {
			t.Errorf("pool %v: Sample differs from Normal + PosteriorSampleStd", pool)
		}
		inPlace := slices.Clone(w)
		r.Sample(3, inPlace, inPlace, sd)
		if !slices.Equal(inPlace, want) {
			t.Errorf("pool %v: Sample in place over w differs", pool)
		}
	}
}
