//go:build amd64

package kernels

//go:noescape
func axpyAVX512(x, y *float32, n int, alpha float32)

//go:noescape
func scaleAVX512(x *float32, n int, alpha float32)

//go:noescape
func addAVX512(dst, x, y *float32, n int)

//go:noescape
func maxAVX512(dst, x *float32, n int, t float32)

//go:noescape
func maxBackwardAVX512(dx, dy, x *float32, n int, t float32)

//go:noescape
func axpyAVX2(x, y *float32, n int, alpha float32)

//go:noescape
func scaleAVX2(x *float32, n int, alpha float32)

//go:noescape
func addAVX2(dst, x, y *float32, n int)

//go:noescape
func maxAVX2(dst, x *float32, n int, t float32)

//go:noescape
func maxBackwardAVX2(dx, dy, x *float32, n int, t float32)

// vecLen returns how many leading elements of an n-element slice the active
// path's assembly handles (a multiple of its vector width), and the path.
func vecLen(n int) (int, Path) {
	switch p := ActivePath(); p {
	case PathAVX512:
		return n &^ 15, p
	case PathAVX2:
		return n &^ 7, p
	}
	return 0, PathGeneric
}

// The *Asm functions process the leading elements with the active path's
// assembly (callers guarantee the lengths) and return how many they did.

func axpyAsm(alpha float32, x, y []float32) int {
	v, p := vecLen(len(x))
	if v == 0 {
		return 0
	}
	if p == PathAVX512 {
		axpyAVX512(&x[0], &y[0], v, alpha)
	} else {
		axpyAVX2(&x[0], &y[0], v, alpha)
	}
	return v
}

func scaleAsm(alpha float32, x []float32) int {
	v, p := vecLen(len(x))
	if v == 0 {
		return 0
	}
	if p == PathAVX512 {
		scaleAVX512(&x[0], v, alpha)
	} else {
		scaleAVX2(&x[0], v, alpha)
	}
	return v
}

func addAsm(dst, x, y []float32) int {
	v, p := vecLen(len(dst))
	if v == 0 {
		return 0
	}
	if p == PathAVX512 {
		addAVX512(&dst[0], &x[0], &y[0], v)
	} else {
		addAVX2(&dst[0], &x[0], &y[0], v)
	}
	return v
}

func maxAsm(dst, x []float32, t float32) int {
	v, p := vecLen(len(dst))
	if v == 0 {
		return 0
	}
	if p == PathAVX512 {
		maxAVX512(&dst[0], &x[0], v, t)
	} else {
		maxAVX2(&dst[0], &x[0], v, t)
	}
	return v
}

func maxBackwardAsm(dx, dy, x []float32, t float32) int {
	v, p := vecLen(len(dx))
	if v == 0 {
		return 0
	}
	if p == PathAVX512 {
		maxBackwardAVX512(&dx[0], &dy[0], &x[0], v, t)
	} else {
		maxBackwardAVX2(&dx[0], &dy[0], &x[0], v, t)
	}
	return v
}
