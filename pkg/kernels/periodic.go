package kernels

//go:generate python3 tools/gen_periodic.py

// Periodic element-wise helpers for per-channel work on NHWC tensors: a
// stream of values is combined with vectors of period l (a per-channel
// vector repeated to a whole number of pixels, so that the vector code runs
// over long chunks). The period is the length of the per-period slices;
// the stream need not be a whole number of periods. The active path's
// assembly handles the whole periods when l is a multiple of its vector
// width and a Go loop does the rest, with the same rounding (no fused
// multiply-add), so every path gives the same bits. They do not allocate.

// SumSquaresPeriodic accumulates acc[i mod len(acc)] += x[i]² for
// i < len(x).
func SumSquaresPeriodic(acc, x []float32) {
	l := len(acc)
	checkPeriod("SumSquaresPeriodic", l, len(x))
	v := sumSqPerAsm(acc, x)
	for p := v; p < len(x); p += l {
		px := x[p:min(p+l, len(x))]
		pa := acc[:len(px)]
		for j, e := range px {
			pa[j] += e * e
		}
	}
}

// SumSquaresBiasPeriodic accumulates acc[j] += (x[i] + c[j])² with
// j = i mod len(acc), for i < len(x): SumSquaresPeriodic of x plus the
// bias c, bit for bit as the separate AddPeriodic (rounding x + c) and
// SumSquaresPeriodic. c must be at least as long as acc.
func SumSquaresBiasPeriodic(acc, x, c []float32) {
	l := len(acc)
	checkPeriod("SumSquaresBiasPeriodic", l, len(x))
	checkLen("SumSquaresBiasPeriodic", len(c), l)
	c = c[:l]
	v := sumSqBiasPerAsm(acc, x, c)
	for p := v; p < len(x); p += l {
		px := x[p:min(p+l, len(x))]
		pa, pc := acc[:len(px)], c[:len(px)]
		for j, e := range px {
			y := e + pc[j]
			pa[j] += y * y
		}
	}
}

// SumPeriodic accumulates acc[i mod len(acc)] += x[i] for i < len(x).
func SumPeriodic(acc, x []float32) {
	l := len(acc)
	checkPeriod("SumPeriodic", l, len(x))
	v := sumPerAsm(acc, x)
	for p := v; p < len(x); p += l {
		px := x[p:min(p+l, len(x))]
		pa := acc[:len(px)]
		for j, e := range px {
			pa[j] += e
		}
	}
}

// AffineMaxPeriodic sets z[i] = max(x[i]·a[j] + b[j], t[j]) with
// j = i mod len(a), for i < len(x): the affine map and thresholded linear
// unit of filter response normalisation. b and t must be at least as long
// as a, and z as x. A NaN x·a+b stays NaN.
func AffineMaxPeriodic(z, x, a, b, t []float32) {
	l := len(a)
	checkPeriod("AffineMaxPeriodic", l, len(x))
	checkLen("AffineMaxPeriodic", len(z), len(x))
	checkLen("AffineMaxPeriodic", len(b), l)
	checkLen("AffineMaxPeriodic", len(t), l)
	b, t = b[:l], t[:l]
	v := affineMaxPerAsm(z, x, a, b, t)
	for p := v; p < len(x); p += l {
		px := x[p:min(p+l, len(x))]
		pz := z[p : p+len(px)]
		pa, pb, pt := a[:len(px)], b[:len(px)], t[:len(px)]
		for j, e := range px {
			pz[j] = maxKeepNaN(e*pa[j]+pb[j], pt[j])
		}
	}
}

// AffineMaxBiasPeriodic sets z[i] = max((x[i] + c[j])·a[j] + b[j], t[j])
// with j = i mod len(a), for i < len(x): AffineMaxPeriodic of x plus the
// bias c, bit for bit as the separate AddPeriodic and AffineMaxPeriodic.
// b, c and t must be at least as long as a, and z as x.
func AffineMaxBiasPeriodic(z, x, c, a, b, t []float32) {
	l := len(a)
	checkPeriod("AffineMaxBiasPeriodic", l, len(x))
	checkLen("AffineMaxBiasPeriodic", len(z), len(x))
	checkLen("AffineMaxBiasPeriodic", len(b), l)
	checkLen("AffineMaxBiasPeriodic", len(c), l)
	checkLen("AffineMaxBiasPeriodic", len(t), l)
	b, c, t = b[:l], c[:l], t[:l]
	v := affineMaxBiasPerAsm(z, x, c, a, b, t)
	for p := v; p < len(x); p += l {
		px := x[p:min(p+l, len(x))]
		pz := z[p : p+len(px)]
		pa, pb, pc, pt := a[:len(px)], b[:len(px)], c[:len(px)], t[:len(px)]
		for j, e := range px {
			y := e + pc[j]
			pz[j] = maxKeepNaN(y*pa[j]+pb[j], pt[j])
		}
	}
}

// maxKeepNaN returns y if y ≥ t or y is NaN, else t (VMAXPS t, y).
func maxKeepNaN(y, t float32) float32 {
	if t > y {
		return t
	}
	return y
}

// GateSumsPeriodic is the first backward pass of filter response
// normalisation's thresholded linear unit. With j = i mod len(t) and
// g[i] = dz[i] where z[i] > t[j] and 0 elsewhere, it sets g and
// accumulates sd[j] += dz[i], sg[j] += g[i] and sgx[j] += g[i]·x[i].
// sd, sg and sgx must be at least as long as t; g, z and x as dz.
func GateSumsPeriodic(g, sd, sg, sgx, dz, z, x, t []float32) {
	l := len(t)
	checkPeriod("GateSumsPeriodic", l, len(dz))
	n := len(dz)
	checkLen("GateSumsPeriodic", len(g), n)
	checkLen("GateSumsPeriodic", len(z), n)
	checkLen("GateSumsPeriodic", len(x), n)
	checkLen("GateSumsPeriodic", len(sd), l)
	checkLen("GateSumsPeriodic", len(sg), l)
	checkLen("GateSumsPeriodic", len(sgx), l)
	sd, sg, sgx = sd[:l], sg[:l], sgx[:l]
	v := gateSumsPerAsm(g, sd, sg, sgx, dz, z, x, t)
	for p := v; p < n; p += l {
		pd := dz[p:min(p+l, n)]
		m := len(pd)
		pg, pz, px := g[p:p+m], z[p:p+m], x[p:p+m]
		pt, a0, a1, a2 := t[:m], sd[:m], sg[:m], sgx[:m]
		for j, d := range pd {
			a0[j] += d
			if !(pz[j] > pt[j]) {
				d = 0
			}
			pg[j] = d
			a1[j] += d
			a2[j] += d * px[j]
		}
	}
}

// MulSubPeriodic sets g[i] = a[j]·g[i] − b[j]·x[i] with j = i mod len(a)
// for i < len(g). b must be at least as long as a, and x as g.
func MulSubPeriodic(g, x, a, b []float32) {
	l := len(a)
	checkPeriod("MulSubPeriodic", l, len(g))
	checkLen("MulSubPeriodic", len(x), len(g))
	checkLen("MulSubPeriodic", len(b), l)
	b = b[:l]
	v := mulSubPerAsm(g, x, a, b)
	for p := v; p < len(g); p += l {
		pg := g[p:min(p+l, len(g))]
		px, pa, pb := x[p:p+len(pg)], a[:len(pg)], b[:len(pg)]
		for j, e := range pg {
			pg[j] = pa[j]*e - pb[j]*px[j]
		}
	}
}

// AddPeriodic sets dst[i] = x[i] + b[i mod len(b)] for i < len(x): a bias
// add. dst must be at least as long as x; it may alias x.
func AddPeriodic(dst, x, b []float32) {
	l := len(b)
	checkPeriod("AddPeriodic", l, len(x))
	checkLen("AddPeriodic", len(dst), len(x))
	v := addPerAsm(dst, x, b)
	for p := v; p < len(x); p += l {
		px := x[p:min(p+l, len(x))]
		pd, pb := dst[p:p+len(px)], b[:len(px)]
		for j, e := range px {
			pd[j] = e + pb[j]
		}
	}
}

// AddReLU sets dst[i] = max(x[i] + y[i], 0) for i < len(dst) (a NaN sum
// stays NaN). x and y must be at least as long as dst; dst may alias them.
func AddReLU(dst, x, y []float32) {
	n := len(dst)
	checkLen("AddReLU", len(x), n)
	checkLen("AddReLU", len(y), n)
	x, y = x[:n], y[:n]
	for i := addReLUAsm(dst, x, y); i < n; i++ {
		dst[i] = maxKeepNaN(x[i]+y[i], 0)
	}
}

// perLen returns how many leading elements of an n-element stream with
// period l the active path's assembly handles (whole periods, when l is a
// multiple of its vector width), and the path.
func perLen(n, l int) (int, Path) {
	p := ActivePath()
	var w int
	switch p {
	case PathAVX512:
		w = 16
	case PathAVX2:
		w = 8
	default:
		return 0, PathGeneric
	}
	if l <= 0 || l%w != 0 {
		return 0, PathGeneric
	}
	return n - n%l, p
}

// checkPeriod panics when a non-empty stream has an empty period.
func checkPeriod(fn string, l, n int) {
	if l == 0 && n > 0 {
		panic("kernels: " + fn + ": empty period")
	}
}

// SumDotPeriodic accumulates s1[j] += u[i] and s2[j] += u[i]·v[i] with
// j = i mod len(s1), for i < len(u): per-channel sums for batch
// normalisation (v = u gives the sum of squares). s2 must be at least as
// long as s1, and v as u.
func SumDotPeriodic(s1, s2, u, v []float32) {
	l := len(s1)
	checkPeriod("SumDotPeriodic", l, len(u))
	checkLen("SumDotPeriodic", len(s2), l)
	checkLen("SumDotPeriodic", len(v), len(u))
	s2 = s2[:l]
	w := sumDotPerAsm(s1, s2, u, v)
	for p := w; p < len(u); p += l {
		pu := u[p:min(p+l, len(u))]
		pv, a1, a2 := v[p:p+len(pu)], s1[:len(pu)], s2[:len(pu)]
		for j, e := range pu {
			a1[j] += e
			a2[j] += e * pv[j]
		}
	}
}

// Affine2Periodic sets dst[i] = a[j]·g[i] + k1[j]·x[i] + k0[j] (added left
// to right) with j = i mod len(a), for i < len(g). k1 and k0 must be at
// least as long as a; x and dst as g. dst may alias g or x.
func Affine2Periodic(dst, g, x, a, k1, k0 []float32) {
	l := len(a)
	checkPeriod("Affine2Periodic", l, len(g))
	checkLen("Affine2Periodic", len(dst), len(g))
	checkLen("Affine2Periodic", len(x), len(g))
	checkLen("Affine2Periodic", len(k1), l)
	checkLen("Affine2Periodic", len(k0), l)
	k1, k0 = k1[:l], k0[:l]
	w := affine2PerAsm(dst, g, x, a, k1, k0)
	for p := w; p < len(g); p += l {
		pg := g[p:min(p+l, len(g))]
		m := len(pg)
		pd, px, pa, p1, p0 := dst[p:p+m], x[p:p+m], a[:m], k1[:m], k0[:m]
		for j, e := range pg {
			pd[j] = pa[j]*e + p1[j]*px[j] + p0[j]
		}
	}
}
