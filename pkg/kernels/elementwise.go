package kernels

import "fmt"

// Element-wise float32 helpers. They use the active path's vector
// instructions for the bulk of the slice and a Go loop for the remainder,
// and do not allocate.

// Axpy computes y[i] += alpha·x[i] for i < len(x). It panics if y is
// shorter than x.
func Axpy(alpha float32, x, y []float32) {
	n := len(x)
	checkLen("Axpy", len(y), n)
	y = y[:n]
	for i := axpyAsm(alpha, x, y); i < n; i++ {
		y[i] += alpha * x[i]
	}
}

// Scale computes x[i] *= alpha.
func Scale(alpha float32, x []float32) {
	for i := scaleAsm(alpha, x); i < len(x); i++ {
		x[i] *= alpha
	}
}

// Add computes dst[i] = x[i] + y[i] for i < len(dst). It panics if x or y
// is shorter than dst. dst may alias x or y.
func Add(dst, x, y []float32) {
	n := len(dst)
	checkLen("Add", len(x), n)
	checkLen("Add", len(y), n)
	x, y = x[:n], y[:n]
	for i := addAsm(dst, x, y); i < n; i++ {
		dst[i] = x[i] + y[i]
	}
}

// Max computes dst[i] = x[i] if x[i] > t, else t, for i < len(dst): the
// thresholded linear unit with a scalar threshold (a NaN x[i] gives t). It
// panics if x is shorter than dst. dst may alias x.
func Max(dst, x []float32, t float32) {
	n := len(dst)
	checkLen("Max", len(x), n)
	x = x[:n]
	for i := maxAsm(dst, x, t); i < n; i++ {
		if v := x[i]; v > t {
			dst[i] = v
		} else {
			dst[i] = t
		}
	}
}

// MaxBackward is the gradient of Max: dx[i] = dy[i] if x[i] > t, else 0,
// for i < len(dx). It panics if dy or x is shorter than dx. dx may alias
// dy.
func MaxBackward(dx, dy, x []float32, t float32) {
	n := len(dx)
	checkLen("MaxBackward", len(dy), n)
	checkLen("MaxBackward", len(x), n)
	dy, x = dy[:n], x[:n]
	for i := maxBackwardAsm(dx, dy, x, t); i < n; i++ {
		if x[i] > t {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
}

// ReLU computes dst[i] = max(x[i], 0); it is Max with t = 0.
func ReLU(dst, x []float32) { Max(dst, x, 0) }

// ReLUBackward computes dx[i] = dy[i] if x[i] > 0, else 0; it is
// MaxBackward with t = 0.
func ReLUBackward(dx, dy, x []float32) { MaxBackward(dx, dy, x, 0) }

func checkLen(fn string, got, want int) {
	if got < want {
		panic(fmt.Sprintf("kernels: %s: slice of length %d, want at least %d", fn, got, want))
	}
}
