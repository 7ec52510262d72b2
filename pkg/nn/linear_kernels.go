package nn

import "math"

// LinearForward computes y = x·W + b for n rows: x is n×in, W is in×out
// (row-major [in][out]), b has out entries (nil for no bias), y is n×out.
func LinearForward[T Float](x []T, n, in, out int, w, b, y []T) {
	linearForward(false, x, n, in, out, w, b, y)
}

// linearForward is LinearForward with bf16 GEMMs when bf16.
func linearForward[T Float](bf16 bool, x []T, n, in, out int, w, b, y []T) {
	gemm(bf16, false, false, n, out, in, 1, x, in, w, out, 0, y, out)
	if b != nil {
		for i := 0; i < n; i++ {
			row := y[i*out : (i+1)*out]
			for j := range row {
				row[j] += b[j]
			}
		}
	}
}

// LinearBackward accumulates dW += xᵀ·dy and db += Σ_rows dy, and writes
// dx = dy·Wᵀ when dx is non-nil. Shapes as in LinearForward.
func LinearBackward[T Float](x, dy []T, n, in, out int, w, dw, db, dx []T) {
	linearBackward(false, x, dy, n, in, out, w, dw, db, dx)
}

// linearBackward is LinearBackward with bf16 GEMMs when bf16.
func linearBackward[T Float](bf16 bool, x, dy []T, n, in, out int, w, dw, db, dx []T) {
	gemm(bf16, true, false, in, out, n, 1, x, in, dy, out, 1, dw, out)
	if db != nil {
		for i := 0; i < n; i++ {
			row := dy[i*out : (i+1)*out]
			for j, v := range row {
				db[j] += v
			}
		}
	}
	if dx != nil {
		gemm(bf16, false, true, n, in, out, 1, dy, out, w, out, 0, dx, in)
	}
}

// minProb is the smallest class probability that enters the gradient of
// SoftmaxCrossEntropy; smaller ones are flushed to zero. They are far below
// float32's resolution of the other terms, and carried through the backward
// pass they become denormal numbers, which cost ~100× per operation on x86
// (the official JAX/XLA code runs with denormals flushed to zero).
const minProb = 1e-30

// SoftmaxCrossEntropy returns Σ_i [logsumexp(z_i) − z_i[y_i]] over the n
// rows of logits (n×k) and, when dlogits is non-nil, writes
// dlogits = scale·(softmax(z) − onehot(y)). With scale = 1/total the
// gradients of shards add up to the gradient of the mean loss over total
// examples. The sum is accumulated in float64.
func SoftmaxCrossEntropy[T Float](logits []T, labels []int32, n, k int, scale T, dlogits []T) float64 {
	var sum float64
	for i := 0; i < n; i++ {
		z := logits[i*k : (i+1)*k]
		mx := z[0]
		for _, v := range z[1:] {
			if v > mx {
				mx = v
			}
		}
		var se float64
		for _, v := range z {
			se += math.Exp(float64(v - mx))
		}
		lse := float64(mx) + math.Log(se)
		y := int(labels[i])
		sum += lse - float64(z[y])
		if dlogits != nil {
			d := dlogits[i*k : (i+1)*k]
			for j, v := range z {
				p := math.Exp(float64(v) - lse)
				if p < minProb {
					p = 0
				}
				d[j] = scale * T(p)
			}
			d[y] -= scale
		}
	}
	return sum
}
