package nn

import (
	"math"

	"github.com/bsam-dev/bsam/pkg/kernels"
)

// FRNEps is the fixed ε of Filter Response Normalization.
const FRNEps = 1e-6

// FRN is Filter Response Normalization followed by a thresholded linear
// unit (TLU), per example and channel:
//
//	ν² = mean over H,W of x²;  x̂ = x·(ν²+ε)^(-1/2);  y = γ·x̂ + β;  z = max(y, τ)
//
// with γ (init 1), β (init 0) and τ (init 0) per channel. It needs no
// cross-shard communication.
type FRN[T Float] struct {
	Name string // name scope of the parameters ("frn"); empty for none

	shape               Shape
	goff, boff, toff    int
	gamma, beta, tau    []T
	dgamma, dbeta, dtau []T
	x, z, dx            []T
	rs                  []T // (ν²+ε)^(-1/2) per example and channel
	acc                 []T // per-channel scratch
	tiles               []T // 5 per-channel vectors repeated to tileLen
	tileLen             int
	maxN                int

	// Fused neighbours (fuse.go): prev is the convolution whose output this
	// layer normalises (Backward writes dx into its padded dy buffer), next
	// the one that reads this layer's output (Forward writes z into its
	// padded input; Backward reads dz from its padded dx).
	prev, next *Conv2D[T]
	// trained: the last Forward was a training pass, the one Backward
	// differentiates (an evaluation pass may read x from prev's buffer).
	trained bool
}

// NewFRN returns an FRN+TLU layer whose parameters live under name.
func NewFRN[T Float](name string) *FRN[T] { return &FRN[T]{Name: name} }

// Setup registers gamma, beta and tau (C each); the shape is unchanged.
func (f *FRN[T]) Setup(b *Builder, in Shape) Shape {
	f.shape = in
	f.tileLen = in.C * max(1, frnTile/in.C)
	if f.Name != "" {
		b.Push(f.Name)
	}
	c := []int{in.C}
	f.goff = b.Param("gamma", c, Init{Kind: InitConst, Value: 1})
	f.boff = b.Param("beta", c, Init{Kind: InitConst})
	f.toff = b.Param("tau", c, Init{Kind: InitConst})
	if f.Name != "" {
		b.Pop()
	}
	return in
}

// Bind points the layer at its parameters and gradients.
func (f *FRN[T]) Bind(params, grads, state []T) {
	c := f.shape.C
	f.gamma, f.dgamma = params[f.goff:f.goff+c], grads[f.goff:f.goff+c]
	f.beta, f.dbeta = params[f.boff:f.boff+c], grads[f.boff:f.boff+c]
	f.tau, f.dtau = params[f.toff:f.toff+c], grads[f.toff:f.toff+c]
}

func (f *FRN[T]) alloc(n int) {
	if n <= f.maxN {
		return
	}
	f.maxN = n
	if f.next == nil {
		f.z = make([]T, n*f.shape.Size())
	}
	if f.prev == nil {
		f.dx = make([]T, n*f.shape.Size())
	}
	f.rs = make([]T, n*f.shape.C)
	f.acc = make([]T, 3*f.shape.C)
	f.tiles = make([]T, 5*f.tileLen)
}

// frnTile is about how many values the element-wise loops handle per
// chunk: per-channel vectors are repeated to a whole number of pixels of
// about this length, so the per-chunk overhead is paid once per ~256
// values instead of once per pixel.
const frnTile = 256

// tile fills dst by repeating src.
func tile[T Float](dst, src []T) {
	for p := 0; p < len(dst); p += len(src) {
		copy(dst[p:], src)
	}
}

// fold adds the len(dst)-periodic segments of src into dst (+=).
func fold[T Float](dst, src []T) {
	for p := 0; p < len(src); p += len(dst) {
		addInPlace(dst, src[p:p+len(dst)])
	}
}

// Forward normalises each example and channel and applies the TLU. Fused
// with a following convolution it writes z into that convolution's padded
// input and returns nil.
func (f *FRN[T]) Forward(ctx *Ctx, x []T) []T {
	n := ctx.N
	f.alloc(n)
	c, hw := f.shape.C, f.shape.H*f.shape.W
	sz := hw * c
	if f.next != nil {
		f.next.alloc(n) // z goes into its xpad
	}
	zb, zl := f.zOut()
	rows, rowLen := f.rows()
	inv := 1 / float64(hw)
	L := f.tileLen
	betaT, tauT := f.tiles[2*L:3*L], f.tiles[3*L:4*L]
	tile(betaT, f.beta[:c])
	tile(tauT, f.tau[:c])
	// x, or in evaluation the fused convolution's output rows, which it
	// left in its padded buffer without the bias (biasT, nil for none).
	xb, xl := x, denseLayout(f.shape)
	var biasT []T
	f.x = x
	fusedIn := f.prev != nil && f.prev.leavesY(ctx)
	if fusedIn {
		xb, xl = f.prev.ypad, f.prev.paddedOut(c)
		if f.prev.b != nil {
			biasT = f.tiles[4*L : 5*L] // Backward's scratch otherwise
			tile(biasT, f.prev.b)
		}
	}
	f.trained = ctx.Train
	for i := 0; i < n; i++ {
		nuT := f.tiles[:L]
		clear(nuT)
		if fusedIn {
			// Row by row: a row is a whole number of tiles (fusable).
			for r := range rows {
				sumSquaresBias(nuT, xb[xl.at(i, r):][:rowLen], biasT)
			}
		} else {
			sumSquares(nuT, x[i*sz:(i+1)*sz])
		}
		nu := f.acc[:c]
		clear(nu)
		fold(nu, nuT)
		rs := f.rs[i*c : (i+1)*c]
		sc := f.acc[c : 2*c]
		for j := range rs {
			r := T(1 / math.Sqrt(float64(nu[j])*inv+FRNEps))
			rs[j] = r
			sc[j] = r * f.gamma[j]
		}
		scT := f.tiles[L : 2*L]
		tile(scT, sc)
		for r := range rows {
			z := zb[zl.at(i, r):][:rowLen]
			frnAffineTLU(z, xb[xl.at(i, r):][:rowLen], biasT, scT, betaT, tauT)
		}
	}
	if f.next != nil {
		return nil
	}
	return f.z[:n*sz]
}

// zOut returns where Forward writes z and its layout there: f.z, or the
// next convolution's padded input.
func (f *FRN[T]) zOut() ([]T, rowLayout) {
	if f.next != nil {
		return f.next.xpad, f.next.paddedIn(f.shape.C)
	}
	return f.z, denseLayout(f.shape)
}

// rows returns how the element-wise passes cut an image: into its H rows
// of W·C values when a neighbour is fused (they lie apart in its padded
// geometry), otherwise one piece.
func (f *FRN[T]) rows() (rows, rowLen int) {
	if f.prev != nil || f.next != nil {
		return f.shape.H, f.shape.W * f.shape.C
	}
	return 1, f.shape.Size()
}

// sumSquares accumulates x² into the len(acc)-periodic accumulator acc;
// len(x) must be a multiple of the channel count that len(acc) is.
func sumSquares[T Float](acc, x []T) {
	if a, ok := any(acc).([]float32); ok {
		kernels.SumSquaresPeriodic(a, any(x).([]float32))
		return
	}
	c := len(acc)
	for p := 0; p < len(x); p += c {
		px := x[p:min(p+c, len(x))]
		pa := acc[:len(px)]
		for j, v := range px {
			pa[j] += v * v
		}
	}
}

// sumSquaresBias is sumSquares of x + bias (rounded first, as a separate
// bias add would), bias tiled like acc; a nil bias is none.
func sumSquaresBias[T Float](acc, x, bias []T) {
	if bias == nil {
		sumSquares(acc, x)
		return
	}
	if a, ok := any(acc).([]float32); ok {
		kernels.SumSquaresBiasPeriodic(a, any(x).([]float32), any(bias).([]float32))
		return
	}
	c := len(acc)
	for p := 0; p < len(x); p += c {
		px := x[p:min(p+c, len(x))]
		pa, pc := acc[:len(px)], bias[:len(px)]
		for j, v := range px {
			y := v + pc[j]
			pa[j] += y * y
		}
	}
}

// frnAffineTLU sets z = max((x + bias)·a + b, τ), where bias (nil: none),
// a, b and τ are per-channel vectors tiled to a whole number of pixels (the
// loop runs over chunks of len(a) values; the last one may be shorter).
// x + bias is rounded first, as a separate bias add would.
func frnAffineTLU[T Float](z, x, bias, a, b, tau []T) {
	if v, ok := any(z).([]float32); ok {
		if bias == nil {
			kernels.AffineMaxPeriodic(v, any(x).([]float32), any(a).([]float32), any(b).([]float32), any(tau).([]float32))
		} else {
			kernels.AffineMaxBiasPeriodic(v, any(x).([]float32), any(bias).([]float32), any(a).([]float32), any(b).([]float32), any(tau).([]float32))
		}
		return
	}
	c := len(a)
	for p := 0; p < len(x); p += c {
		px := x[p:min(p+c, len(x))]
		pz := z[p : p+len(px)]
		pz = pz[:len(px)]
		pa, pb, pt := a[:len(px)], b[:len(px)], tau[:len(px)]
		if bias == nil {
			for j, v := range px {
				pz[j] = max(v*pa[j]+pb[j], pt[j])
			}
			continue
		}
		pc := bias[:len(px)]
		for j, v := range px {
			y := v + pc[j]
			pz[j] = max(y*pa[j]+pb[j], pt[j])
		}
	}
}

// Backward accumulates dγ, dβ, dτ and returns dx when needDX. With
// g = dz·[y > τ] and x̂ = x·r:
//
//	dγ += Σ g·x̂,  dβ += Σ g,  dτ += Σ (dz − g),
//	dx = γ·r·g − x·γ·r³·(Σ g·x)/(H·W).
//
// Fused with a following convolution it reads dz from that convolution's
// padded dx (the dz argument is ignored); fused with the preceding one it
// writes dx into that convolution's padded dy and returns nil.
func (f *FRN[T]) Backward(ctx *Ctx, dz []T, needDX bool) []T {
	n := ctx.N
	c, hw := f.shape.C, f.shape.H*f.shape.W
	sz := hw * c
	dzb, dzl := dz, denseLayout(f.shape)
	if f.next != nil {
		dzb, dzl = f.next.dxpad, f.next.paddedOut(c)
	}
	gb, gl := f.dx, denseLayout(f.shape)
	if f.prev != nil { // its Forward allocated dpad
		gb, gl = f.prev.dpad, f.prev.paddedIn(c)
	}
	if !f.trained {
		panic("nn: FRN.Backward after an evaluation Forward (Backward needs a training pass)")
	}
	zb, zl := f.zOut()
	rows, rowLen := f.rows()
	needDX = needDX || f.prev != nil // prev's Backward reads dx
	inv := 1 / T(hw)
	gamma := f.gamma[:c]
	dgamma, dbeta, dtau := f.dgamma[:c], f.dbeta[:c], f.dtau[:c]
	L := f.tileLen
	tauT := f.tiles[3*L : 4*L]
	tile(tauT, f.tau[:c])
	for i := 0; i < n; i++ {
		xi := f.x[i*sz : (i+1)*sz]
		rs := f.rs[i*c : (i+1)*c]
		// sgx = Σ g·x, sg = Σ g, sd = Σ dz per channel.
		sgx, sg, sd := f.acc[:c], f.acc[c:2*c], f.acc[2*c:3*c]
		clear(f.acc)
		t1, t2, t3 := f.tiles[:L], f.tiles[L:2*L], f.tiles[4*L:5*L]
		clear(t1)
		clear(t2)
		clear(t3)
		// g goes into dx's buffer, which the last pass overwrites in place.
		for r := range rows {
			g := gb[gl.at(i, r):][:rowLen]
			zr := zb[zl.at(i, r):][:rowLen]
			dr := dzb[dzl.at(i, r):][:rowLen]
			frnGateAll(g, t3, t2, t1, dr, zr, xi[r*rowLen:(r+1)*rowLen], tauT)
		}
		fold(sgx, t1)
		fold(sg, t2)
		fold(sd, t3)
		for j := range sgx {
			dgamma[j] += sgx[j] * rs[j]
			dbeta[j] += sg[j]
			dtau[j] += sd[j] - sg[j]
		}
		if !needDX {
			continue
		}
		// dx = a·g − b·x with a = γr and b = γr³·Σgx/HW.
		a, bb := sg, sd // reuse: sums are consumed
		for j := range a {
			r := rs[j]
			a[j] = gamma[j] * r
			bb[j] = a[j] * r * r * sgx[j] * inv
		}
		aT, bT := f.tiles[:L], f.tiles[L:2*L]
		tile(aT, a)
		tile(bT, bb)
		for r := range rows {
			frnBackDX(gb[gl.at(i, r):][:rowLen], xi[r*rowLen:(r+1)*rowLen], aT, bT)
		}
	}
	if !needDX || f.prev != nil {
		return nil
	}
	return f.dx[:n*sz]
}

// The element-wise passes run over chunks of tiled per-channel vectors (see
// frnTile). For float32 they are the kernels package's periodic vector
// kernels (kernels.AffineMaxPeriodic, GateSumsPeriodic, ...), which round
// exactly as the Go loops here; other types run these loops, which keep few
// slices live so that the compiler keeps them in registers.

// frnGateAll is frnGate followed by frnGateSums, in one pass for float32.
func frnGateAll[T Float](g, sd, sg, sgx, dz, z, x, tau []T) {
	if v, ok := any(g).([]float32); ok {
		kernels.GateSumsPeriodic(v, any(sd).([]float32), any(sg).([]float32), any(sgx).([]float32),
			any(dz).([]float32), any(z).([]float32), any(x).([]float32), any(tau).([]float32))
		return
	}
	frnGate(g, sd, dz, z, tau)
	frnGateSums(sgx, sg, g, x)
}

// frnGate sets g = dz·[z > τ] and accumulates Σ dz into the periodic sd.
func frnGate[T Float](g, sd, dz, z, tau []T) {
	c := len(tau)
	for p := 0; p < len(dz); p += c {
		pd := dz[p:min(p+c, len(dz))]
		pg, pz := g[p:p+len(pd)], z[p:p+len(pd)]
		pt, ps := tau[:len(pd)], sd[:len(pd)]
		for j, d := range pd {
			ps[j] += d
			if pz[j] <= pt[j] {
				d = 0
			}
			pg[j] = d
		}
	}
}

// frnGateSums accumulates Σ g·x and Σ g into the periodic sgx and sg.
func frnGateSums[T Float](sgx, sg, g, x []T) {
	c := len(sgx)
	for p := 0; p < len(g); p += c {
		pg := g[p:min(p+c, len(g))]
		px, a1, a2 := x[p:p+len(pg)], sgx[:len(pg)], sg[:len(pg)]
		for j, v := range pg {
			a1[j] += v * px[j]
			a2[j] += v
		}
	}
}

// frnBackDX sets g = a·g − b·x in place (periodic a, b).
func frnBackDX[T Float](g, x, a, b []T) {
	if v, ok := any(g).([]float32); ok {
		kernels.MulSubPeriodic(v, any(x).([]float32), any(a).([]float32), any(b).([]float32))
		return
	}
	c := len(a)
	for p := 0; p < len(g); p += c {
		pg := g[p:min(p+c, len(g))]
		px, pa, pb := x[p:p+len(pg)], a[:len(pg)], b[:len(pg)]
		for j, v := range pg {
			pg[j] = pa[j]*v - pb[j]*px[j]
		}
	}
}
