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
	f.acc = make([]T, 2*f.shape.C)
}

// Forward normalises each example and channel and applies the TLU.
func (f *FRN[T]) Forward(ctx *Ctx, x []T) []T {
	n := ctx.N
	f.alloc(n)
	f.x = x
	c, hw := f.shape.C, f.shape.H*f.shape.W
	sz := hw * c
	inv := 1 / T(hw)
	gamma, beta, tau := f.gamma[:c], f.beta[:c], f.tau[:c]
	for i := 0; i < n; i++ {
		xi := x[i*sz : (i+1)*sz]
		zi := f.z[i*sz : (i+1)*sz]
		nu := f.acc[:c]
		clear(nu)
		for p := 0; p < sz; p += c {
			px := xi[p : p+c]
			for j, v := range px {
				nu[j] += v * v
			}
		}
		rs := f.rs[i*c : (i+1)*c]
		sc := f.acc[c : 2*c]
		for j := range rs {
			r := T(1 / math.Sqrt(float64(nu[j]*inv)+FRNEps))
			rs[j] = r
			sc[j] = r * gamma[j]
		}
		for p := 0; p < sz; p += c {
			px := xi[p : p+c]
			pz := zi[p : p+c]
			for j, v := range px {
				y := v*sc[j] + beta[j]
				if y < tau[j] {
					y = tau[j]
				}
				pz[j] = y
			}
		}
	}
	return f.z[:n*sz]
}

// Backward accumulates dγ, dβ, dτ and returns dx when needDX. With
// g = dz·[y > τ] and x̂ = x·r:
//
//	dγ += Σ g·x̂,  dβ += Σ g,  dτ += Σ dz·[y ≤ τ],
//	dx = γ·r·g − x·γ·r³·(Σ g·x)/(H·W).
func (f *FRN[T]) Backward(ctx *Ctx, dz []T, needDX bool) []T {
	n := ctx.N
	c, hw := f.shape.C, f.shape.H*f.shape.W
	sz := hw * c
	inv := 1 / T(hw)
	gamma, tau := f.gamma[:c], f.tau[:c]
	dgamma, dbeta, dtau := f.dgamma[:c], f.dbeta[:c], f.dtau[:c]
	for i := 0; i < n; i++ {
		xi := f.x[i*sz : (i+1)*sz]
		zi := f.z[i*sz : (i+1)*sz]
		di := dz[i*sz : (i+1)*sz]
		rs := f.rs[i*c : (i+1)*c]
		sgx := f.acc[:c] // Σ g·x per channel
		clear(sgx)
		for p := 0; p < sz; p += c {
			px := xi[p : p+c]
			pz := zi[p : p+c]
			pd := di[p : p+c]
			for j, v := range px {
				d := pd[j]
				if pz[j] > tau[j] {
					sgx[j] += d * v
					dbeta[j] += d
				} else {
					dtau[j] += d
				}
			}
		}
		for j := range sgx {
			dgamma[j] += sgx[j] * rs[j]
		}
		if !needDX {
			continue
		}
		// dx = a·g − b·x with a = γr and b = γr³·Σgx/HW.
		a := f.acc[c : 2*c]
		for j := range a {
			r := rs[j]
			a[j] = gamma[j] * r
			sgx[j] = a[j] * r * r * sgx[j] * inv
		}
		dxi := f.dx[i*sz : (i+1)*sz]
		for p := 0; p < sz; p += c {
			px := xi[p : p+c]
			pz := zi[p : p+c]
			pd := di[p : p+c]
			po := dxi[p : p+c]
			for j, v := range px {
				g := pd[j]
				if pz[j] <= tau[j] {
					g = 0
				}
				po[j] = a[j]*g - sgx[j]*v
			}
		}
	}
	if !needDX {
		return nil
	}
	return f.dx[:n*sz]
}
