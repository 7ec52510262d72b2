//go:build amd64

package kernels

//go:noescape
func sumSqAccAVX512(acc, x *float32, n, l, ch int)

//go:noescape
func sumAccAVX512(acc, x *float32, n, l, ch int)

//go:noescape
func affineMaxPerAVX512(z, x, a, b, t *float32, n, l int)

//go:noescape
func gateSumsAccAVX512(gp, sd, sg, sgx, dz, z, x, t *float32, n, l, ch int)

//go:noescape
func mulSubPerAVX512(gp, x, a, b *float32, n, l int)

//go:noescape
func addPerAVX512(dst, x, b *float32, n, l int)

//go:noescape
func addReLUAVX512(dst, x, y *float32, n, l int)

//go:noescape
func sumSqBiasAccAVX512(acc, x, c *float32, n, l, ch int)

//go:noescape
func affineMaxBiasPerAVX512(z, x, c, a, b, t *float32, n, l int)

//go:noescape
func sumSqBiasAccAVX2(acc, x, c *float32, n, l, ch int)

//go:noescape
func affineMaxBiasPerAVX2(z, x, c, a, b, t *float32, n, l int)

//go:noescape
func sumSqAccAVX2(acc, x *float32, n, l, ch int)

//go:noescape
func sumAccAVX2(acc, x *float32, n, l, ch int)

//go:noescape
func affineMaxPerAVX2(z, x, a, b, t *float32, n, l int)

//go:noescape
func gateSumsAccAVX2(gp, sd, sg, sgx, dz, z, x, t *float32, n, l, ch int)

//go:noescape
func mulSubPerAVX2(gp, x, a, b *float32, n, l int)

//go:noescape
func addPerAVX2(dst, x, b *float32, n, l int)

//go:noescape
func addReLUAVX2(dst, x, y *float32, n, l int)

// The *PerAsm functions run the whole periods with the active path's
// assembly (callers have checked the lengths) and return how many stream
// elements they did.

func sumSqPerAsm(acc, x []float32) int {
	v, p := perLen(len(x), len(acc))
	if v == 0 {
		return 0
	}
	if p == PathAVX512 {
		sumSqAccAVX512(&acc[0], &x[0], v, len(acc), accChunk(len(acc)))
	} else {
		sumSqAccAVX2(&acc[0], &x[0], v, len(acc), accChunk(len(acc)))
	}
	return v
}

func sumSqBiasPerAsm(acc, x, c []float32) int {
	v, p := perLen(len(x), len(acc))
	if v == 0 {
		return 0
	}
	if p == PathAVX512 {
		sumSqBiasAccAVX512(&acc[0], &x[0], &c[0], v, len(acc), accChunk(len(acc)))
	} else {
		sumSqBiasAccAVX2(&acc[0], &x[0], &c[0], v, len(acc), accChunk(len(acc)))
	}
	return v
}

func affineMaxBiasPerAsm(z, x, c, a, b, t []float32) int {
	v, p := perLen(len(x), len(a))
	if v == 0 {
		return 0
	}
	if p == PathAVX512 {
		affineMaxBiasPerAVX512(&z[0], &x[0], &c[0], &a[0], &b[0], &t[0], v, len(a))
	} else {
		affineMaxBiasPerAVX2(&z[0], &x[0], &c[0], &a[0], &b[0], &t[0], v, len(a))
	}
	return v
}

func sumPerAsm(acc, x []float32) int {
	v, p := perLen(len(x), len(acc))
	if v == 0 {
		return 0
	}
	if p == PathAVX512 {
		sumAccAVX512(&acc[0], &x[0], v, len(acc), accChunk(len(acc)))
	} else {
		sumAccAVX2(&acc[0], &x[0], v, len(acc), accChunk(len(acc)))
	}
	return v
}

func affineMaxPerAsm(z, x, a, b, t []float32) int {
	v, p := perLen(len(x), len(a))
	if v == 0 {
		return 0
	}
	if p == PathAVX512 {
		affineMaxPerAVX512(&z[0], &x[0], &a[0], &b[0], &t[0], v, len(a))
	} else {
		affineMaxPerAVX2(&z[0], &x[0], &a[0], &b[0], &t[0], v, len(a))
	}
	return v
}

func gateSumsPerAsm(g, sd, sg, sgx, dz, z, x, t []float32) int {
	v, p := perLen(len(dz), len(t))
	if v == 0 {
		return 0
	}
	if p == PathAVX512 {
		gateSumsAccAVX512(&g[0], &sd[0], &sg[0], &sgx[0], &dz[0], &z[0], &x[0], &t[0], v, len(t), accChunk(len(t)))
	} else {
		gateSumsAccAVX2(&g[0], &sd[0], &sg[0], &sgx[0], &dz[0], &z[0], &x[0], &t[0], v, len(t), accChunk(len(t)))
	}
	return v
}

func mulSubPerAsm(g, x, a, b []float32) int {
	v, p := perLen(len(g), len(a))
	if v == 0 {
		return 0
	}
	if p == PathAVX512 {
		mulSubPerAVX512(&g[0], &x[0], &a[0], &b[0], v, len(a))
	} else {
		mulSubPerAVX2(&g[0], &x[0], &a[0], &b[0], v, len(a))
	}
	return v
}

func addPerAsm(dst, x, b []float32) int {
	v, p := perLen(len(x), len(b))
	if v == 0 {
		return 0
	}
	if p == PathAVX512 {
		addPerAVX512(&dst[0], &x[0], &b[0], v, len(b))
	} else {
		addPerAVX2(&dst[0], &x[0], &b[0], v, len(b))
	}
	return v
}

// addReLUAsm runs the whole stream as one period.
func addReLUAsm(dst, x, y []float32) int {
	v, p := vecLen(len(dst))
	if v == 0 {
		return 0
	}
	if p == PathAVX512 {
		addReLUAVX512(&dst[0], &x[0], &y[0], v, v)
	} else {
		addReLUAVX2(&dst[0], &x[0], &y[0], v, v)
	}
	return v
}

//go:noescape
func sumDotAccAVX512(s1, s2, u, v *float32, n, l, ch int)

//go:noescape
func sumDotAccAVX2(s1, s2, u, v *float32, n, l, ch int)

//go:noescape
func affine2PerAVX512(dst, gr, x, a, k1, k0 *float32, n, l int)

//go:noescape
func affine2PerAVX2(dst, gr, x, a, k1, k0 *float32, n, l int)

func sumDotPerAsm(s1, s2, u, v []float32) int {
	w, p := perLen(len(u), len(s1))
	if w == 0 {
		return 0
	}
	if p == PathAVX512 {
		sumDotAccAVX512(&s1[0], &s2[0], &u[0], &v[0], w, len(s1), accChunk(len(s1)))
	} else {
		sumDotAccAVX2(&s1[0], &s2[0], &u[0], &v[0], w, len(s1), accChunk(len(s1)))
	}
	return w
}

func affine2PerAsm(dst, g, x, a, k1, k0 []float32) int {
	w, p := perLen(len(g), len(a))
	if w == 0 {
		return 0
	}
	if p == PathAVX512 {
		affine2PerAVX512(&dst[0], &g[0], &x[0], &a[0], &k1[0], &k0[0], w, len(a))
	} else {
		affine2PerAVX2(&dst[0], &g[0], &x[0], &a[0], &k1[0], &k0[0], w, len(a))
	}
	return w
}

// accChunk is the chunk, in stream elements, over which the accumulating
// kernels keep their sums in registers: whole periods of about 8 KiB per
// stream, so that the sweeps of a chunk stay in L1.
func accChunk(l int) int { return max(1, 2048/l) * l }
