package nn

import "math"

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
	maxN                int
}

// NewFRN returns an FRN+TLU layer whose parameters live under name.
func NewFRN[T Float](name string) *FRN[T] { return &FRN[T]{Name: name} }

// Setup registers gamma, beta and tau (C each); the shape is unchanged.
func (f *FRN[T]) Setup(b *Builder, in Shape) Shape {
	f.shape = in
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
	f.z = make([]T, n*f.shape.Size())
	f.dx = make([]T, n*f.shape.Size())
	f.rs = make([]T, n*f.shape.C)
	f.acc = make([]T, 3*f.shape.C)
}

// Forward normalises each example and channel and applies the TLU.
func (f *FRN[T]) Forward(ctx *Ctx, x []T) []T {
	n := ctx.N
	f.alloc(n)
	f.x = x
	c, hw := f.shape.C, f.shape.H*f.shape.W
	sz := hw * c
	inv := 1 / float64(hw)
	for i := 0; i < n; i++ {
		xi := x[i*sz : (i+1)*sz]
		zi := f.z[i*sz : (i+1)*sz]
		nu := f.acc[:c]
		clear(nu)
		for p := 0; p+c <= len(xi); p += c {
			px := xi[p : p+c]
			nu := nu[:len(px)]
			for j, v := range px {
				nu[j] += v * v
			}
		}
		rs := f.rs[i*c : (i+1)*c]
		sc := f.acc[c : 2*c]
		for j := range rs {
			r := T(1 / math.Sqrt(float64(nu[j])*inv+FRNEps))
			rs[j] = r
			sc[j] = r * f.gamma[j]
		}
		frnAffineTLU(zi, xi, sc, f.beta[:c], f.tau[:c])
	}
	return f.z[:n*sz]
}

// frnAffineTLU sets z = max(x·a + b, τ) with per-channel a, b, τ over
// pixels of len(a) channels.
func frnAffineTLU[T Float](z, x, a, b, tau []T) {
	c := len(a)
	for p := 0; p+c <= len(x); p += c {
		px := x[p : p+c]
		pz := z[p : p+c]
		pz = pz[:len(px)]
		pa, pb, pt := a[:len(px)], b[:len(px)], tau[:len(px)]
		for j, v := range px {
			pz[j] = max(v*pa[j]+pb[j], pt[j])
		}
	}
}

// Backward accumulates dγ, dβ, dτ and returns dx when needDX. With
// g = dz·[y > τ] and x̂ = x·r:
//
//	dγ += Σ g·x̂,  dβ += Σ g,  dτ += Σ (dz − g),
//	dx = γ·r·g − x·γ·r³·(Σ g·x)/(H·W).
func (f *FRN[T]) Backward(ctx *Ctx, dz []T, needDX bool) []T {
	n := ctx.N
	c, hw := f.shape.C, f.shape.H*f.shape.W
	sz := hw * c
	inv := 1 / T(hw)
	gamma := f.gamma[:c]
	dgamma, dbeta, dtau := f.dgamma[:c], f.dbeta[:c], f.dtau[:c]
	for i := 0; i < n; i++ {
		xi := f.x[i*sz : (i+1)*sz]
		zi := f.z[i*sz : (i+1)*sz]
		di := dz[i*sz : (i+1)*sz]
		rs := f.rs[i*c : (i+1)*c]
		// sgx = Σ g·x, sg = Σ g, sd = Σ dz per channel.
		sgx, sg, sd := f.acc[:c], f.acc[c:2*c], f.acc[2*c:3*c]
		clear(f.acc)
		frnBackSums(sgx, sg, sd, xi, zi, di, f.tau[:c])
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
		frnBackDX(f.dx[i*sz:(i+1)*sz], xi, zi, di, a, bb, f.tau[:c])
	}
	if !needDX {
		return nil
	}
	return f.dx[:n*sz]
}

// frnBackSums accumulates per channel Σ g·x, Σ g and Σ dz, where
// g = dz·[z > τ].
func frnBackSums[T Float](sgx, sg, sd, x, z, dz, tau []T) {
	if v, ok := any(x).([]float32); ok {
		frnBackSums32(any(sgx).([]float32), any(sg).([]float32), any(sd).([]float32),
			v, any(z).([]float32), any(dz).([]float32), any(tau).([]float32))
		return
	}
	c := len(tau)
	sgx, sg, sd = sgx[:c], sg[:c], sd[:c]
	for p := 0; p+c <= len(x); p += c {
		px := x[p : p+c]
		pz, pd := z[p:p+c], dz[p:p+c]
		pz, pd = pz[:len(px)], pd[:len(px)]
		pt, a1, a2, a3 := tau[:len(px)], sgx[:len(px)], sg[:len(px)], sd[:len(px)]
		for j, v := range px {
			d := pd[j]
			g := d
			if pz[j] <= pt[j] {
				g = 0
			}
			a1[j] += g * v
			a2[j] += g
			a3[j] += d
		}
	}
}

// frnBackDX sets dx = a·g − b·x with g = dz·[z > τ].
func frnBackDX[T Float](dx, x, z, dz, a, b, tau []T) {
	if v, ok := any(x).([]float32); ok {
		frnBackDX32(any(dx).([]float32), v, any(z).([]float32), any(dz).([]float32),
			any(a).([]float32), any(b).([]float32), any(tau).([]float32))
		return
	}
	c := len(tau)
	for p := 0; p+c <= len(x); p += c {
		px := x[p : p+c]
		pz, pd, po := z[p:p+c], dz[p:p+c], dx[p:p+c]
		pz, pd, po = pz[:len(px)], pd[:len(px)], po[:len(px)]
		pt, pa, pb := tau[:len(px)], a[:len(px)], b[:len(px)]
		for j, v := range px {
			g := pd[j]
			if pz[j] <= pt[j] {
				g = 0
			}
			po[j] = pa[j]*g - pb[j]*v
		}
	}
}

// frnBackSums32 is frnBackSums for float32 with a branch-free mask: the
// TLU's mask is data-dependent and mispredicts about half the time.
func frnBackSums32(sgx, sg, sd, x, z, dz, tau []float32) {
	c := len(tau)
	sgx, sg, sd = sgx[:c], sg[:c], sd[:c]
	for p := 0; p+c <= len(x); p += c {
		px := x[p : p+c]
		pz, pd := z[p:p+c], dz[p:p+c]
		pz, pd = pz[:len(px)], pd[:len(px)]
		pt, a1, a2, a3 := tau[:len(px)], sgx[:len(px)], sg[:len(px)], sd[:len(px)]
		for j, v := range px {
			d := pd[j]
			g := math.Float32frombits(math.Float32bits(d) & passMask(pz[j], pt[j]))
			a1[j] += g * v
			a2[j] += g
			a3[j] += d
		}
	}
}

// frnBackDX32 is frnBackDX for float32 with a branch-free mask.
func frnBackDX32(dx, x, z, dz, a, b, tau []float32) {
	c := len(tau)
	for p := 0; p+c <= len(x); p += c {
		px := x[p : p+c]
		pz, pd, po := z[p:p+c], dz[p:p+c], dx[p:p+c]
		pz, pd, po = pz[:len(px)], pd[:len(px)], po[:len(px)]
		pt, pa, pb := tau[:len(px)], a[:len(px)], b[:len(px)]
		for j, v := range px {
			g := math.Float32frombits(math.Float32bits(pd[j]) & passMask(pz[j], pt[j]))
			po[j] = pa[j]*g - pb[j]*v
		}
	}
}

// passMask returns all ones when z > τ and zero otherwise, without a branch.
func passMask(z, tau float32) uint32 {
	var m uint32
	if z > tau {
		m = ^uint32(0)
	}
	return m
}
