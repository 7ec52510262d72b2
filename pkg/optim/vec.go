package optim

import (
	"math"
	"unsafe"

	"github.com/bsam-dev/bsam/pkg/nn"
)

// The element-wise loops of the optimizers. For float32 the bulk of each
// runs as AVX-512 code where the CPU has it (vec_amd64.s: the same IEEE
// operations in the same order, so the values do not depend on the path);
// the Go loops handle float64, the remainder and other CPUs.

// f32 returns x as a []float32 when T's underlying type is float32.
func f32[T nn.Float](x []T) ([]float32, bool) {
	var z T
	if unsafe.Sizeof(z) != 4 || len(x) == 0 {
		return nil, false
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&x[0])), len(x)), true
}

// f32s is f32 for the remaining arguments of a call whose first argument
// converted (they have T's type too).
func f32s[T nn.Float](x []T) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(x))), len(x))
}

// sampleStd writes dst = w + e·sd (w, e, sd at least as long as dst).
func sampleStd[T nn.Float](dst, w, e, sd []T) {
	n := len(dst)
	w, e, sd = w[:n], e[:n], sd[:n]
	i := 0
	if d, ok := f32(dst); ok {
		i = vecSampleStd(d, f32s(w), f32s(e), f32s(sd))
	}
	for ; i < n; i++ {
		dst[i] = w[i] + e[i]*sd[i]
	}
}

// perturb writes point = w + g·rs and sets (first) or accumulates |g| into
// habs.
func perturb[T nn.Float](point, w, g, rs, habs []T, first bool) {
	n := len(point)
	w, g, rs, habs = w[:n], g[:n], rs[:n], habs[:n]
	i := 0
	if p, ok := f32(point); ok {
		i = vecPerturb(p, f32s(w), f32s(g), f32s(rs), f32s(habs), first)
	}
	if first {
		for ; i < n; i++ {
			point[i] = w[i] + g[i]*rs[i]
			habs[i] = absT(g[i])
		}
		return
	}
	for ; i < n; i++ {
		point[i] = w[i] + g[i]*rs[i]
		habs[i] += absT(g[i])
	}
}

// accumulate sets (first) or adds x into sum.
func accumulate[T nn.Float](sum, x []T, first bool) {
	if first {
		copy(sum, x)
		return
	}
	n := len(sum)
	x = x[:n]
	i := 0
	if s, ok := f32(sum); ok {
		i = vecAddTo(s, f32s(x))
	}
	for ; i < n; i++ {
		sum[i] += x[i]
	}
}

// scaleAdd writes dst = w + a·g.
func scaleAdd[T nn.Float](dst, w, g []T, a T) {
	n := len(dst)
	w, g = w[:n], g[:n]
	i := 0
	if d, ok := f32(dst); ok {
		i = vecScaleAdd(d, f32s(w), f32s(g), float32(a))
	}
	for ; i < n; i++ {
		dst[i] = w[i] + a*g[i]
	}
}

// sdRs writes sd = 1/sqrt(nd·s) and rs = rhoN·sd² (= ρ/s for
// rhoN = ρ·nd), in T arithmetic.
func sdRs[T nn.Float](sd, rs, s []T, nd, rhoN T) {
	n := len(sd)
	rs, s = rs[:n], s[:n]
	i := 0
	if d, ok := f32(sd); ok {
		i = vecSdRs(d, f32s(rs), f32s(s), float32(nd), float32(rhoN))
	}
	for ; i < n; i++ {
		d := 1 / sqrtT(nd*s[i])
		sd[i] = d
		rs[i] = rhoN * (d * d)
	}
}

// bsamCoef holds the scalars of the bSAM update (the field order is the
// layout bsamUpdateAVX512 reads).
type bsamCoef[T nn.Float] struct {
	b1, c1, b2, c2 T
	lrN            T // α·lrFactor·N
	delta          T
	sqrtN          T
	gd             T // γ + δ
	inv            T // 1/m
}

// bsamUpdate is the update of (*bsam).Step, with 1/s = N·sd² and
// sqrt(s) = sqrt(N)·s·sd (s the old precision):
//
//	gm ← b1·gm + c1·((gsum + gt)·inv + δ·w)
//	w  ← w − lrN·sd²·gm
//	s  ← b2·s + c2·(sqrtN·s·sd·(habs·inv) + gd)
func bsamUpdate[T nn.Float](w, gm, s, sd, gsum, gt, habs []T, c *bsamCoef[T]) {
	n := len(w)
	gm, s, sd, gsum, gt, habs = gm[:n], s[:n], sd[:n], gsum[:n], gt[:n], habs[:n]
	i := 0
	if w32, ok := f32(w); ok {
		i = vecBSAMUpdate(w32, f32s(gm), f32s(s), f32s(sd), f32s(gsum), f32s(gt), f32s(habs), (*bsamCoef[float32])(unsafe.Pointer(c)))
	}
	b1, c1, b2, c2 := c.b1, c.c1, c.b2, c.c2
	lrN, delta, sqrtN, gd, inv := c.lrN, c.delta, c.sqrtN, c.gd, c.inv
	for ; i < n; i++ {
		wi, si, d := w[i], s[i], sd[i]
		mi := b1*gm[i] + c1*((gsum[i]+gt[i])*inv+delta*wi)
		gm[i] = mi
		w[i] = wi - lrN*(d*d)*mi
		h := sqrtN * si * d * (habs[i] * inv)
		s[i] = b2*si + c2*(h+gd)
	}
}

// absT is |x| without a branch (math.Abs is a bit operation; the float32
// round trip is exact).
func absT[T nn.Float](x T) T { return T(math.Abs(float64(x))) }

// sqrtT is the correctly rounded square root in T's precision.
func sqrtT[T nn.Float](x T) T { return T(math.Sqrt(float64(x))) }
