package optim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The FTZ/DAZ rule of the element-wise passes (vec.go), restated for the
// tests: fl reads or writes a float32 denormal as a zero of its sign.
func fl(x float32) float32 {
	if x != 0 && math.Abs(float64(x)) < 0x1p-126 {
		return float32(math.Copysign(0, float64(x)))
	}
	return x
}

func fadd(a, b float32) float32 { return fl(fl(a) + fl(b)) }
func fsub(a, b float32) float32 { return fl(fl(a) - fl(b)) }
func fmul(a, b float32) float32 { return fl(fl(a) * fl(b)) }
func fdiv(a, b float32) float32 { return fl(fl(a) / fl(b)) }
func fsqrt(a float32) float32   { return fl(float32(math.Sqrt(float64(fl(a))))) }

func isDenormal(x float32) bool { return x != 0 && math.Abs(float64(x)) < 0x1p-126 }

// denormalMix returns n values: denormals of both signs, tiny normals
// (whose products underflow), values just above the smallest normal
// (whose differences and scalings underflow) and ordinary values, in a
// random order, scaled by scale and shifted by shift (ordinary values
// only).
func denormalMix(r *rand.Rand, n int, scale, shift float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		sign := float32(1)
		if r.IntN(2) == 0 {
			sign = -1
		}
		switch r.IntN(4) {
		case 0:
			v[i] = sign * math.Float32frombits(uint32(1+r.IntN(1<<23-1)))
		case 1:
			v[i] = sign * float32(1e-20*(1+r.Float64()))
		case 2:
			v[i] = sign * float32(0x1p-126*(1+r.Float64()))
		default:
			v[i] = shift + scale*float32(r.NormFloat64())
		}
	}
	return v
}

// TestElementwiseFlushDenormals feeds every element-wise pass of the
// optimizers inputs full of denormals, of tiny values whose products
// underflow and of values just above the smallest normal number, on both
// paths (vector kernels and Go loops; 67 values: 64 in the vector bulk, 3
// in the Go tail), and compares every output bit for bit with a reference
// computed per element under the FTZ/DAZ rule (fl above). It also checks
// that no output is denormal: the passes never leave a denormal for later
// arithmetic, so a long run cannot slow down on them (the vector kernels
// never even read one; the Go loops see one at most as a result they flush
// at once).
func TestElementwiseFlushDenormals(t *testing.T) {
	defer func(old bool) { useAVX512 = old }(useAVX512)
	paths := []bool{false}
	if useAVX512 {
		paths = append(paths, true)
	}
	const n = 67
	r := rand.New(rand.NewPCG(7, 8))
	mix := func(scale, shift float32) []float32 { return denormalMix(r, n, scale, shift) }
	pos := func() []float32 { // positive, for s and sd
		v := mix(1, 0)
		for i := range v {
			v[i] = float32(math.Abs(float64(v[i])))
		}
		return v
	}
	type kernel struct {
		name string
		in   [][]float32
		// run applies the pass to v (clones of in); ref writes the expected
		// outputs element by element into v.
		run, ref func(v [][]float32)
		outs     []int // which slices are outputs
	}
	const a, nd, rhoN = 0.37, 6e4, 0.01 * 6e4
	c := bsamCoef[float32]{b1: 0.9, c1: 0.1, b2: 0.999, c2: 0.001, lrN: 0.3 * 6e4, delta: 1e-4, sqrtN: float32(math.Sqrt(6e4)), gd: 0.1001, inv: 0.125}
	kernels := []kernel{
		{"sampleStd", [][]float32{make([]float32, n), mix(1, 0), mix(1, 0), pos()},
			func(v [][]float32) { sampleStd(v[0], v[1], v[2], v[3]) },
			func(v [][]float32) {
				for i := range v[0] {
					v[0][i] = fadd(v[1][i], fmul(v[2][i], v[3][i]))
				}
			}, []int{0}},
		{"perturb/first", [][]float32{make([]float32, n), mix(1, 0), mix(0.1, 0), pos(), mix(1, 0)},
			func(v [][]float32) { perturb(v[0], v[1], v[2], v[3], v[4], true) },
			func(v [][]float32) {
				for i := range v[0] {
					v[0][i] = fadd(v[1][i], fmul(v[2][i], v[3][i]))
					v[4][i] = float32(math.Abs(float64(v[2][i]))) // a copy: bits unchanged
				}
			}, []int{0}},
		{"perturb/add", [][]float32{make([]float32, n), mix(1, 0), mix(0.1, 0), pos(), pos()},
			func(v [][]float32) { perturb(v[0], v[1], v[2], v[3], v[4], false) },
			func(v [][]float32) {
				for i := range v[0] {
					v[0][i] = fadd(v[1][i], fmul(v[2][i], v[3][i]))
					v[4][i] = fadd(v[4][i], float32(math.Abs(float64(v[2][i]))))
				}
			}, []int{0, 4}},
		{"accumulate", [][]float32{mix(1, 0), mix(1, 0)},
			func(v [][]float32) { accumulate(v[0], v[1], false) },
			func(v [][]float32) {
				for i := range v[0] {
					v[0][i] = fadd(v[0][i], v[1][i])
				}
			}, []int{0}},
		{"scaleAdd", [][]float32{make([]float32, n), mix(1, 0), mix(1, 0)},
			func(v [][]float32) { scaleAdd(v[0], v[1], v[2], a) },
			func(v [][]float32) {
				for i := range v[0] {
					v[0][i] = fadd(v[1][i], fmul(a, v[2][i]))
				}
			}, []int{0}},
		{"sdRs", [][]float32{make([]float32, n), make([]float32, n), pos()},
			func(v [][]float32) { sdRs(v[0], v[1], v[2], nd, rhoN) },
			func(v [][]float32) {
				for i := range v[0] {
					d := fdiv(1, fsqrt(fmul(nd, v[2][i])))
					v[0][i], v[1][i] = d, fmul(rhoN, fmul(d, d))
				}
			}, []int{0, 1}},
		{"bsamUpdate", [][]float32{mix(1, 0), mix(0.1, 0), pos(), pos(), mix(1, 0), mix(1, 0), pos()},
			func(v [][]float32) { bsamUpdate(v[0], v[1], v[2], v[3], v[4], v[5], v[6], &c) },
			func(v [][]float32) {
				w, gm, s, sd, gsum, gt, habs := v[0], v[1], v[2], v[3], v[4], v[5], v[6]
				for i := range w {
					mi := fadd(fmul(c.b1, gm[i]), fmul(c.c1, fadd(fmul(fadd(gsum[i], gt[i]), c.inv), fmul(c.delta, w[i]))))
					gm[i] = mi
					h := fmul(fmul(fmul(c.sqrtN, s[i]), sd[i]), fmul(habs[i], c.inv))
					w[i] = fsub(w[i], fmul(fmul(c.lrN, fmul(sd[i], sd[i])), mi))
					s[i] = fadd(fmul(c.b2, s[i]), fmul(c.c2, fadd(h, c.gd)))
				}
			}, []int{0, 1, 2}},
	}
	for _, k := range kernels {
		want := make([][]float32, len(k.in))
		for i, v := range k.in {
			want[i] = slices.Clone(v)
		}
		k.ref(want)
		for _, avx := range paths {
			useAVX512 = avx
			got := make([][]float32, len(k.in))
			for i, v := range k.in {
				got[i] = slices.Clone(v)
			}
			k.run(got)
			for i := range got {
				for j := range got[i] {
					if math.Float32bits(got[i][j]) != math.Float32bits(want[i][j]) {
						t.Fatalf("%s (vector %v): slice %d [%d] = %g, want %g (inputs %v)", k.name, avx, i, j, got[i][j], want[i][j], column(k.in, j))
					}
				}
			}
			for _, o := range k.outs {
				for j, x := range got[o] {
					if isDenormal(x) {
						t.Fatalf("%s (vector %v): output %d [%d] = %g is denormal", k.name, avx, o, j, x)
					}
				}
			}
		}
	}
	// sumSquares reads denormals as zero: all-denormal input sums to 0.
	tiny := make([]float32, n)
	for i := range tiny {
		tiny[i] = math.Float32frombits(uint32(1 + 1000*i))
	}
	for _, avx := range paths {
		useAVX512 = avx
		if got := sumSquares(tiny); got != 0 {
			t.Errorf("sumSquares of denormals (vector %v) = %g, want 0", avx, got)
		}
	}
}

func column(in [][]float32, j int) []float32 {
	c := make([]float32, len(in))
	for i := range in {
		c[i] = in[i][j]
	}
	return c
}

// TestStepsFlushDenormals runs a step of every method from optimizer state
// and gradients full of denormals and underflowing values, on both paths,
// and checks that the new parameters and state hold no denormal; and that
// Adam's and bSAM's second-moment-like state decays to exactly zero where
// it would enter the denormal range (the long-run case: v ← β₂·v with a
// zero gradient).
func TestStepsFlushDenormals(t *testing.T) {
	defer func(old bool) { useAVX512 = old }(useAVX512)
	paths := []bool{false}
	if useAVX512 {
		paths = append(paths, true)
	}
	const n = 67
	for _, method := range Methods() {
		for _, avx := range paths {
			useAVX512 = avx
			name := fmt.Sprintf("%s (vector %v)", method, avx)
			r := rand.New(rand.NewPCG(9, 10))
			w0 := denormalMix(r, n, 1, 0)
			h := validHyper()
			h.BatchSplit = 2
			opt, err := New(method, h, w0, NewRNGNoise[float32](3))
			if err != nil {
				t.Fatal(err)
			}
			for sn, v := range opt.State() {
				if sn == "s" {
					continue // bSAM's precision stays positive and large
				}
				copy(v, denormalMix(r, n, 0.01, 0))
			}
			g := denormalMix(r, n, 0.01, 0)
			g[0], g[1] = 0, 0
			if v, ok := opt.State()["v"]; ok {
				v[0] = 0x1p-126 // the smallest normal: β₂·v underflows
				v[1] = 0x1.00001p-126
			}
			obj := &fixedGrad[float32]{g: g}
			opt.Step(obj, 1)
			for j, x := range opt.Params() {
				if isDenormal(x) {
					t.Errorf("%s: w[%d] = %g is denormal", name, j, x)
				}
			}
			for sn, v := range opt.State() {
				for j, x := range v {
					if isDenormal(x) {
						t.Errorf("%s: %s[%d] = %g is denormal", name, sn, j, x)
					}
				}
			}
			if v, ok := opt.State()["v"]; ok {
				if v[0] != 0 || v[1] != 0 {
					t.Errorf("%s: v = %g, %g after decaying below the smallest normal, want 0", name, v[0], v[1])
				}
			}
		}
	}
}
