package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// checkLayerGrad compares a float64 layer's Backward with central finite
// differences of L = Σ r·Forward(x) with respect to the input and to every
// parameter (a sample of at most maxChecks entries each). avoid, when set,
// resamples input values for which it returns true (kinks of ReLU-like
// layers).
func checkLayerGrad(t *testing.T, layer Layer[float64], in Shape, n int, rng *rand.Rand, avoid func(float64) bool) {
	t.Helper()
	const h, tol, maxChecks = 1e-6, 1e-6, 60
	var b Builder
	out := layer.Setup(&b, in)
	params := make([]float64, b.NumParams())
	grads := make([]float64, b.NumParams())
	state := make([]float64, b.NumState())
	for i := range params {
		params[i] = rng.NormFloat64() * 0.5
	}
	layer.Bind(params, grads, state)
	x := make([]float64, n*in.Size())
	for i := range x {
		x[i] = rng.NormFloat64()
		for avoid != nil && avoid(x[i]) {
			x[i] = rng.NormFloat64()
		}
	}
	r := make([]float64, n*out.Size())
	for i := range r {
		r[i] = rng.NormFloat64()
	}
	ctx := &Ctx{Mode: Mode{Train: true}, Shards: 1, N: n, Total: n}
	loss := func() float64 {
		y := layer.Forward(ctx, x)
		var s float64
		for i, v := range y[:len(r)] {
			s += r[i] * v
		}
		return s
	}
	loss()
	dx := append([]float64(nil), layer.Backward(ctx, r, true)...)
	check := func(what string, v []float64, analytic []float64) {
		step := max(1, len(v)/maxChecks)
		for i := 0; i < len(v); i += step {
			old := v[i]
			v[i] = old + h
			lp := loss()
			v[i] = old - h
			lm := loss()
			v[i] = old
			fd := (lp - lm) / (2 * h)
			if err := math.Abs(fd - analytic[i]); err > tol*(1+math.Abs(fd)) {
				t.Errorf("%s[%d]: backward %.10g, finite difference %.10g", what, i, analytic[i], fd)
			}
		}
	}
	check("dx", x, dx)
	for _, s := range b.Specs() {
		check("d"+s.Name, params[s.Offset:s.Offset+s.Size], grads[s.Offset:s.Offset+s.Size])
	}
}

func TestLayerGradients(t *testing.T) {
	nearZero := func(v float64) bool { return math.Abs(v) < 1e-3 }
	tests := []struct {
		name  string
		layer Layer[float64]
		in    Shape
		n     int
		avoid func(float64) bool
	}{
		{"linear", &Linear[float64]{Name: "fc", Out: 7}, Shape{1, 1, 5}, 4, nil},
		{"linear/nobias", &Linear[float64]{Name: "fc", Out: 3, NoBias: true}, Shape{1, 1, 6}, 2, nil},
		{"linear/one-example", NewLinear[float64]("", 4), Shape{1, 1, 9}, 1, nil},
		{"elu", &ELU[float64]{}, Shape{2, 3, 4}, 3, nearZero},
		{"relu", &ReLU[float64]{}, Shape{2, 3, 4}, 3, nearZero},
		{"flatten", Flatten[float64]{}, Shape{2, 3, 4}, 2, nil},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkLayerGrad(t, tc.layer, tc.in, tc.n, rand.New(rand.NewPCG(uint64(i), 1)), tc.avoid)
		})
	}
}

// TestSoftmaxCrossEntropy checks the loss against −log of an explicitly
// normalised softmax and its gradient against finite differences.
func TestSoftmaxCrossEntropy(t *testing.T) {
	tests := []struct {
		name     string
		n, k     int
		scale    float64 // logit magnitude
		gradStep float64
	}{
		{"small", 3, 4, 1, 1e-6},
		{"large-logits", 2, 10, 300, 1e-4}, // exercises the max shift
		{"two-classes", 5, 2, 2, 1e-6},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i), 2))
			z := make([]float64, tc.n*tc.k)
			for j := range z {
				z[j] = rng.NormFloat64() * tc.scale
			}
			labels := make([]int32, tc.n)
			for j := range labels {
				labels[j] = int32(rng.IntN(tc.k))
			}
			scale := 1 / float64(tc.n)
			d := make([]float64, len(z))
			got := SoftmaxCrossEntropy(z, labels, tc.n, tc.k, scale, d)
			if tc.scale < 10 {
				var want float64
				for r := 0; r < tc.n; r++ {
					var s float64
					for _, v := range z[r*tc.k : (r+1)*tc.k] {
						s += math.Exp(v)
					}
					want -= math.Log(math.Exp(z[r*tc.k+int(labels[r])]) / s)
				}
				if math.Abs(got-want) > 1e-12*(1+want) {
					t.Errorf("loss %.15g, want %.15g", got, want)
				}
			}
			for j := range z {
				old := z[j]
				z[j] = old + tc.gradStep
				lp := SoftmaxCrossEntropy(z, labels, tc.n, tc.k, 0, nil)
				z[j] = old - tc.gradStep
				lm := SoftmaxCrossEntropy(z, labels, tc.n, tc.k, 0, nil)
				z[j] = old
				fd := scale * (lp - lm) / (2 * tc.gradStep)
				if math.Abs(fd-d[j]) > 1e-6 {
					t.Errorf("dz[%d] = %.10g, finite difference %.10g", j, d[j], fd)
				}
			}
		})
	}
}

// TestExpm1Neg compares the ELU's eˣ − 1 with math.Expm1 on both sides of
// its switch-over point.
func TestExpm1Neg(t *testing.T) {
	for _, x := range []float64{0, -1e-12, -1e-5, -0.2, -0.25, -0.2500001, -0.3, -1, -5, -30, -800} {
		got, want := expm1Neg(x), math.Expm1(x)
		if math.Abs(got-want) > 4e-16*math.Abs(want) {
			t.Errorf("expm1Neg(%g) = %.17g, math.Expm1 gives %.17g", x, got, want)
		}
	}
}
