package nn

import "github.com/bsam-dev/bsam/pkg/kernels"

// Element-wise helpers shared by the layers. For float32 they call the
// kernels package's vector code (AVX-512/AVX2 by the active path, with the
// same rounding as the loops here); other types run the plain loops, whose
// bounds are hoisted so that the compiler drops the bounds checks.

// addBias sets y = x + b with b (length ch) added to each row of ch
// values; y may alias x. nil b copies x.
func addBias[T Float](y, x, b []T) {
	y = y[:len(x)]
	if b == nil {
		copy(y, x)
		return
	}
	if v, ok := any(y).([]float32); ok {
		kernels.AddPeriodic(v, any(x).([]float32), any(b).([]float32))
		return
	}
	ch := len(b)
	for r := 0; r < len(x); r += ch {
		row, xr := y[r:r+ch], x[r:r+ch]
		for j := range row {
			row[j] = xr[j] + b[j]
		}
	}
}

// sumRows accumulates the column sums of x (rows×ch) into dst (+=).
func sumRows[T Float](dst, x []T, rows, ch int) {
	dst = dst[:ch]
	if v, ok := any(dst).([]float32); ok {
		kernels.SumPeriodic(v, any(x).([]float32)[:rows*ch])
		return
	}
	for r := 0; r < rows; r++ {
		row := x[r*ch : r*ch+ch]
		for j := range row {
			dst[j] += row[j]
		}
	}
}

// addTo sets dst = a + b element-wise (all the same length as dst).
func addTo[T Float](dst, a, b []T) {
	if d, ok := any(dst).([]float32); ok {
		kernels.Add(d, any(a).([]float32), any(b).([]float32))
		return
	}
	a = a[:len(dst)]
	b = b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

// addInPlace sets dst += a.
func addInPlace[T Float](dst, a []T) {
	if d, ok := any(dst).([]float32); ok && len(d) >= 64 {
		kernels.Add(d, d, any(a).([]float32))
		return
	}
	a = a[:len(dst)]
	for i := range dst {
		dst[i] += a[i]
	}
}

// reluAddTo sets dst = max(a + b, 0).
func reluAddTo[T Float](dst, a, b []T) {
	if d, ok := any(dst).([]float32); ok {
		kernels.AddReLU(d, any(a).([]float32), any(b).([]float32))
		return
	}
	a = a[:len(dst)]
	b = b[:len(dst)]
	for i := range dst {
		dst[i] = max(a[i]+b[i], 0)
	}
}

// reluMask sets dst = g where y > 0 and 0 elsewhere.
func reluMask[T Float](dst, g, y []T) {
	if d, ok := any(dst).([]float32); ok {
		kernels.ReLUBackward(d, any(g).([]float32), any(y).([]float32))
		return
	}
	g = g[:len(dst)]
	y = y[:len(dst)]
	for i := range dst {
		if y[i] > 0 {
			dst[i] = g[i]
		} else {
			dst[i] = 0
		}
	}
}
