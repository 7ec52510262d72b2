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
//
// All of them compute under the FTZ/DAZ rule (flush to zero, denormals are
// zero): an operand below T's smallest normal number in magnitude is read
// as a zero of its sign, and so is a result written. The vector kernels set
// the rule in MXCSR; the Go loops apply it with fz, operation by operation
// in the kernels' order, so both paths still give the same bits (up to a
// result whose exact value lies within an ulp below the smallest normal
// number, which gradual underflow rounds up to it and the hardware's FTZ
// may flush instead: no test input comes near). Denormals cost
// ~100× per operation on x86, and long runs make them: Adam's v, bSAM's s
// and |g| sums decay towards zero through the denormal range. With the
// rule a value that would become denormal becomes zero once, instead of
// slowing every later step. Plain copies (accumulate's first sub-batch,
// perturb's first |g|) move bits unchanged, as the vector code does.

// fz applies the FTZ/DAZ rule in Go: tiny is T's smallest normal number.
type fz[T nn.Float] struct{ tiny T }

// newFZ returns the rule for T.
func newFZ[T nn.Float]() fz[T] {
	var z T
	if unsafe.Sizeof(z) == 4 {
		return fz[T]{T(float32(0x1p-126))}
	}
	tiny := 0x1p-1022
	return fz[T]{T(tiny)}
}

// in returns x, or a zero of x's sign when x is denormal.
func (f fz[T]) in(x T) T {
	// One compare of the magnitude (math.Abs clears the sign bit; a
	// float32 widens exactly), a branch that almost never goes the other
	// way: two compares of x against ±tiny mispredict on every other
	// random sign, which made SGD's update ~14 ns a value (163 ms per
	// ResNet-18 step on a Zen 5, 12% of it). NaN fails the compare and
	// passes through; ±0 stays ±0.
	if math.Abs(float64(x)) < float64(f.tiny) {
		return x * 0
	}
	return x
}

func (f fz[T]) add(a, b T) T { return f.in(f.in(a) + f.in(b)) }
func (f fz[T]) sub(a, b T) T { return f.in(f.in(a) - f.in(b)) }
func (f fz[T]) mul(a, b T) T { return f.in(f.in(a) * f.in(b)) }
func (f fz[T]) div(a, b T) T { return f.in(f.in(a) / f.in(b)) }
func (f fz[T]) sqrt(a T) T   { return f.in(sqrtT(f.in(a))) }

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
	f := newFZ[T]()
	for ; i < n; i++ {
		dst[i] = f.add(w[i], f.mul(e[i], sd[i]))
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
	f := newFZ[T]()
	if first {
		for ; i < n; i++ {
			point[i] = f.add(w[i], f.mul(g[i], rs[i]))
			habs[i] = absT(g[i])
		}
		return
	}
	for ; i < n; i++ {
		point[i] = f.add(w[i], f.mul(g[i], rs[i]))
		habs[i] = f.add(habs[i], absT(g[i]))
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
	f := newFZ[T]()
	for ; i < n; i++ {
		sum[i] = f.add(sum[i], x[i])
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
	f := newFZ[T]()
	for ; i < n; i++ {
		dst[i] = f.add(w[i], f.mul(a, g[i]))
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
	f := newFZ[T]()
	for ; i < n; i++ {
		d := f.div(1, f.sqrt(f.mul(nd, s[i])))
		sd[i] = d
		rs[i] = f.mul(rhoN, f.mul(d, d))
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
	f := newFZ[T]()
	for ; i < n; i++ {
		wi, si, d := w[i], s[i], sd[i]
		// mi = b1·gm + c1·((gsum + gt)·inv + δ·w)
		mi := f.add(f.mul(b1, gm[i]), f.mul(c1, f.add(f.mul(f.add(gsum[i], gt[i]), inv), f.mul(delta, wi))))
		gm[i] = mi
		// w − (lrN·(sd·sd))·mi
		w[i] = f.sub(wi, f.mul(f.mul(lrN, f.mul(d, d)), mi))
		// h = ((sqrtN·s)·sd)·(habs·inv); s = b2·s + c2·(h + gd)
		h := f.mul(f.mul(f.mul(sqrtN, si), d), f.mul(habs[i], inv))
		s[i] = f.add(f.mul(b2, si), f.mul(c2, f.add(h, gd)))
	}
}

// absT is |x| without a branch (math.Abs is a bit operation; the float32
// round trip is exact).
func absT[T nn.Float](x T) T { return T(math.Abs(float64(x))) }

// sqrtT is the correctly rounded square root in T's precision.
func sqrtT[T nn.Float](x T) T { return T(math.Sqrt(float64(x))) }
