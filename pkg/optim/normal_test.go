package optim

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestZigTables checks the computed ziggurat against Marsaglia & Tsang's
// published constants (r and v for 128 and 256 layers) and the layer
// invariants.
func TestZigTables(t *testing.T) {
	published := map[int][2]float64{
		128: {3.442619855899, 9.91256303526217e-3},
		256: {3.6541528853610088, 4.92867323399e-3},
	}
	if c, ok := published[zigLayers]; ok {
		if math.Abs(zig.r-c[0]) > 1e-11 {
			t.Errorf("r = %.17g, want %.17g", zig.r, c[0])
		}
		if math.Abs(zig.v-c[1]) > 1e-13 {
			t.Errorf("v = %.17g, want %.17g", zig.v, c[1])
		}
	}
	f := func(x float64) float64 { return math.Exp(-0.5 * x * x) }
	for i := 1; i < zigLayers; i++ {
		// Every layer has area v: x_i·(f(x_{i−1}) − f(x_i)) = v.
		if a := zig.x[i] * (zig.f[i-1] - zig.f[i]); math.Abs(a-zig.v) > 1e-9*zig.v {
			t.Errorf("layer %d: area %g, want %g", i, a, zig.v)
		}
		if i > 1 && !(zig.x[i] > zig.x[i-1]) {
			t.Errorf("x not increasing at %d", i)
		}
	}
	// The rectangle test accepts exactly the candidates inside the layer's
	// rectangle part: |j| < k_l ⇔ |j|·w_l < x_{l−1} (layer 0: < r), up to
	// the rounding of k.
	for i := 0; i < zigLayers; i++ {
		edge := zig.r
		if i > 0 {
			edge = zig.x[i-1]
		}
		if k := float64(zig.k[i]); !(k*zig.w[i] <= edge && (k+1)*zig.w[i] > edge) {
			t.Errorf("layer %d: k = %d, but the rectangle ends at j = %g", i, zig.k[i], edge/zig.w[i])
		}
	}
	if math.Abs(f(zig.x[1])+zig.v/zig.x[1]-1) > 1e-9 {
		t.Errorf("top layer does not reach the peak: f(x1)+v/x1 = %g", f(zig.x[1])+zig.v/zig.x[1])
	}
}

// normalCDF is Φ(x).
func normalCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// TestFillNormalDistribution checks that fillNormal draws are standard
// normal on 2²⁰ values: the first four moments, the tail fractions beyond
// ±3σ and ±4σ, a Kolmogorov–Smirnov test and a chi-square test on 1000
// equiprobable bins, each at about 5 standard errors (the seed is fixed, so
// the test is deterministic).
func TestFillNormalDistribution(t *testing.T) {
	forEachPath(t, testFillNormalDistribution)
}

// forEachPath runs f with the Go rounds and, where the CPU has it, with
// the AVX-512 rounds.
func forEachPath(t *testing.T, f func(t *testing.T)) {
	defer func(old bool) { useAVX512 = old }(useAVX512)
	has := useAVX512
	useAVX512 = false
	t.Run("go", f)
	if has {
		useAVX512 = true
		t.Run("avx512", f)
	}
}

func testFillNormalDistribution(t *testing.T) {
	const n = 1 << 20
	v := make([]float64, n)
	g := newNormGen(12345)
	fillNormal(&g, v)
	var s1, s2, s3, s4 float64
	var t3, t4 int
	for _, x := range v {
		x2 := x * x
		s1 += x
		s2 += x2
		s3 += x2 * x
		s4 += x2 * x2
		if math.Abs(x) > 3 {
			t3++
		}
		if math.Abs(x) > 4 {
			t4++
		}
	}
	mean, variance := s1/n, s2/n
	skew, kurt := s3/n, s4/n
	// Standard errors for N(0,1): mean 1/√n, E x² √(2/n), E x³ √(15/n),
	// E x⁴ √(96/n).
	for _, c := range []struct {
		name      string
		got, want float64
		se        float64
	}{
		{"mean", mean, 0, 1},
		{"E x²", variance, 1, math.Sqrt(2)},
		{"E x³", skew, 0, math.Sqrt(15)},
		{"E x⁴", kurt, 3, math.Sqrt(96)},
	} {
		if tol := 5 * c.se / math.Sqrt(n); math.Abs(c.got-c.want) > tol {
			t.Errorf("%s = %g, want %g ± %g", c.name, c.got, c.want, tol)
		}
	}
	for _, c := range []struct {
		k     float64
		count int
	}{{3, t3}, {4, t4}} {
		p := 2 * normalCDF(-c.k)
		want := p * n
		if tol := 5 * math.Sqrt(want*(1-p)); math.Abs(float64(c.count)-want) > tol {
			t.Errorf("%d of %d beyond ±%gσ, want %.1f ± %.1f", c.count, n, c.k, want, tol)
		}
	}
	// Chi-square on 1000 bins equiprobable under Φ.
	const bins = 1000
	counts := make([]float64, bins)
	for _, x := range v {
		b := int(normalCDF(x) * bins)
		counts[min(b, bins-1)]++
	}
	var chi2 float64
	for _, c := range counts {
		d := c - n/bins
		chi2 += d * d / (n / bins)
	}
	if df := float64(bins - 1); chi2 > df+5*math.Sqrt(2*df) {
		t.Errorf("chi-square %g with %g degrees of freedom", chi2, df)
	}
	// Kolmogorov–Smirnov: P(√n·D > 1.95) ≈ 0.001.
	slices.Sort(v)
	var d float64
	for i, x := range v {
		c := normalCDF(x)
		d = max(d, c-float64(i)/n, float64(i+1)/n-c)
	}
	if k := d * math.Sqrt(n); k > 1.95 {
		t.Errorf("Kolmogorov–Smirnov √n·D = %g > 1.95", k)
	}
	// The tail beyond r alone: its conditional law is the normal tail.
	var tail []float64
	for _, x := range v {
		if x > zig.r {
			tail = append(tail, x)
		}
	}
	if len(tail) < 100 {
		t.Fatalf("only %d values beyond r = %g", len(tail), zig.r)
	}
	pr := normalCDF(-zig.r)
	d = 0
	for i, x := range tail {
		c := 1 - normalCDF(-x)/pr // conditional CDF given x > r
		d = max(d, c-float64(i)/float64(len(tail)), float64(i+1)/float64(len(tail))-c)
	}
	if k := d * math.Sqrt(float64(len(tail))); k > 1.95 {
		t.Errorf("tail beyond r: Kolmogorov–Smirnov √n·D = %g > 1.95 (%d values)", k, len(tail))
	}
}

// TestFillNormalPrefix checks that a float32 fill equals the float64 fill
// of the same stream and that shorter fills (odd lengths included) are
// prefixes of longer ones.
func TestFillNormalPrefix(t *testing.T) {
	forEachPath(t, testFillNormalPrefix)
}

func testFillNormalPrefix(t *testing.T) {
	g := newNormGen(5)
	long := make([]float64, 4097)
	fillNormal(&g, long)
	for _, n := range []int{0, 1, 2, 7, 100, 4096} {
		g := newNormGen(5)
		short := make([]float32, n)
		fillNormal(&g, short)
		for i, x := range short {
			if x != float32(long[i]) {
				t.Fatalf("n=%d: [%d] = %v, want float32(%v)", n, i, x, long[i])
			}
		}
	}
}

// BenchmarkNormal compares the cost per value of the old RNGNoise chunk
// generator (rand.Rand.NormFloat64 over a PCG source) with fillNormal.
func BenchmarkNormal(b *testing.B) {
	dst := make([]float32, NoiseChunk)
	b.Run("old=pcg+NormFloat64", func(b *testing.B) {
		r := rand.New(rand.NewPCG(1, 2))
		for b.Loop() {
			FillNormal(r, dst)
		}
		b.ReportMetric(float64(b.N)*NoiseChunk/b.Elapsed().Seconds(), "values/s")
	})
	defer func(old bool) { useAVX512 = old }(useAVX512)
	paths := []bool{false}
	if useAVX512 {
		paths = append(paths, true)
	}
	for _, avx := range paths {
		name := "new=xoshiro+ziggurat/go"
		if avx {
			name = "new=xoshiro+ziggurat/avx512"
		}
		useAVX512 = avx
		b.Run(name, func(b *testing.B) {
			g := newNormGen(1)
			for b.Loop() {
				fillNormal(&g, dst)
			}
			b.ReportMetric(float64(b.N)*NoiseChunk/b.Elapsed().Seconds(), "values/s")
		})
	}
}

// TestWedgeAccept checks the shortcuts of the wedge test against the plain
// test y < exp(−a²/2) on random points of every layer's wedge.
func TestWedgeAccept(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for l := uint32(1); l < zigLayers; l++ {
		for range 2000 {
			a := zig.x[l] * r.Float64()
			y := zig.f[l] + r.Float64()*(zig.f[l-1]-zig.f[l])
			if got, want := wedgeAccept(l, a, y), y < math.Exp(-0.5*a*a); got != want {
				t.Fatalf("layer %d, a = %v, y = %v: wedgeAccept %v, exp test %v", l, a, y, got, want)
			}
		}
	}
}
