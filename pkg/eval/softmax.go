package eval

import "math"

// Float is the element type of logits accepted by this package.
type Float interface {
	~float32 | ~float64
}

// Softmax writes the softmax of logits into dst, which must have the same
// length, and returns dst; a nil dst is allocated. It subtracts the maximum
// before exponentiating, as jax.nn.softmax does, so it is stable for large
// logits, and it computes in float64 whatever the logits' type. Logits must be
// finite.
func Softmax[T Float](dst []float64, logits []T) []float64 {
	if dst == nil {
		dst = make([]float64, len(logits))
	}
	if len(dst) != len(logits) {
		panic("eval: Softmax: dst and logits differ in length")
	}
	if len(logits) == 0 {
		return dst
	}
	m := float64(logits[0])
	for _, x := range logits[1:] {
		if v := float64(x); v > m {
			m = v
		}
	}
	var s float64
	for k, x := range logits {
		e := math.Exp(float64(x) - m)
		dst[k] = e
		s += e
	}
	for k := range dst {
		dst[k] /= s
	}
	return dst
}

// LogSumExp returns log Σ_k exp(x_k), computed stably in float64. It returns
// −Inf for an empty slice.
func LogSumExp[T Float](x []T) float64 {
	if len(x) == 0 {
		return math.Inf(-1)
	}
	m := float64(x[0])
	for _, v := range x[1:] {
		if f := float64(v); f > m {
			m = f
		}
	}
	if math.IsInf(m, 0) {
		return m
	}
	var s float64
	for _, v := range x {
		s += math.Exp(float64(v) - m)
	}
	return m + math.Log(s)
}

// argmax returns the index of the first largest element, as jnp.argmax does.
func argmax(p []float64) (int, float64) {
	best, bv := 0, p[0]
	for k, v := range p[1:] {
		if v > bv {
			best, bv = k+1, v
		}
	}
	return best, bv
}
