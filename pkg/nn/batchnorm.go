package nn

import (
	"math"

	"github.com/bsam-dev/bsam/pkg/kernels"
)

// BatchNorm defaults (haiku, as the ResNet-18 of SPEC §3.2 configures it).
const (
	BNDecay = 0.9
	BNEps   = 1e-5
)

// BatchNorm normalises each channel with statistics over the whole batch
// (every shard, combined through ctx.Sync) and applies a per-channel scale
// (init 1) and offset (init 0), with haiku semantics:
//
//   - training: mean and biased variance E[x²] − E[x]² over N·H·W values;
//     with ctx.UpdateState, shard 0 moves the zero-debiased moving averages
//     (hidden ← d·hidden + (1−d)·v, counter += 1);
//   - evaluation: the debiased averages hidden/(1 − d^counter), or zero mean
//     and variance before the first update (haiku's initial "average").
//
// With ReLU set, the layer also applies max(·, 0) to its output.
type BatchNorm[T Float] struct {
	Name string // name scope of the parameters and state ("bn"); empty for none
	ReLU bool   // fuse a ReLU after the affine transform

	shape                       Shape
	soff, ooff, moff, voff, con int
	scale, offset               []T
	dscale, doffset             []T
	meanH, varH, counter        []T

	x, y, dx   []T
	mean, rstd []T // statistics of the last Forward, per channel
	a, b       []T // y = a·x + b per channel
	acc1, acc2 []T // per-example partial sums
	floor      []T // per-channel lower bound of the output: 0 (ReLU) or −∞
	sdy        []T // scratch for maskSums
	part       []float64
	train      bool
	maxN       int
}

// NewBatchNorm returns a BatchNorm layer whose parameters live under name.
func NewBatchNorm[T Float](name string, relu bool) *BatchNorm[T] {
	return &BatchNorm[T]{Name: name, ReLU: relu}
}

// Setup registers scale and offset (C each) and the state vectors
// mean_hidden, var_hidden (C each) and counter (1); the shape is unchanged.
func (bn *BatchNorm[T]) Setup(b *Builder, in Shape) Shape {
	bn.shape = in
	if bn.Name != "" {
		b.Push(bn.Name)
	}
	c := in.C
	bn.soff = b.Param("scale", []int{c}, Init{Kind: InitConst, Value: 1})
	bn.ooff = b.Param("offset", []int{c}, Init{Kind: InitConst})
	bn.moff = b.State("mean_hidden", c, 0)
	bn.voff = b.State("var_hidden", c, 0)
	bn.con = b.State("counter", 1, 0)
	if bn.Name != "" {
		b.Pop()
	}
	return in
}

// Bind points the layer at its parameters, gradients and state.
func (bn *BatchNorm[T]) Bind(params, grads, state []T) {
	c := bn.shape.C
	bn.scale, bn.dscale = params[bn.soff:bn.soff+c], grads[bn.soff:bn.soff+c]
	bn.offset, bn.doffset = params[bn.ooff:bn.ooff+c], grads[bn.ooff:bn.ooff+c]
	bn.meanH, bn.varH = state[bn.moff:bn.moff+c], state[bn.voff:bn.voff+c]
	bn.counter = state[bn.con : bn.con+1]
}

func (bn *BatchNorm[T]) alloc(n int) {
	if bn.mean == nil {
		c := bn.shape.C
		bn.mean, bn.rstd = make([]T, c), make([]T, c)
		bn.a, bn.b = make([]T, c), make([]T, c)
		bn.acc1, bn.acc2 = make([]T, c), make([]T, c)
		bn.floor, bn.sdy = make([]T, c), make([]T, c)
		if !bn.ReLU {
			for j := range bn.floor {
				bn.floor[j] = T(math.Inf(-1))
			}
		}
		bn.part = make([]float64, 2*c)
	}
	if n > bn.maxN {
		bn.maxN = n
		bn.y = make([]T, n*bn.shape.Size())
		bn.dx = make([]T, n*bn.shape.Size())
	}
}

// sums accumulates Σu and Σu·v per channel over the n examples into
// bn.part[:C] and bn.part[C:] (float64), summing each example in T first.
// With v nil it sums u and u².
func (bn *BatchNorm[T]) sums(u, v []T, n int) {
	c := bn.shape.C
	sz := bn.shape.Size()
	clear(bn.part)
	p1, p2 := bn.part[:c], bn.part[c:2*c]
	s1, s2 := bn.acc1[:c], bn.acc2[:c]
	for i := 0; i < n; i++ {
		clear(s1)
		clear(s2)
		ui := u[i*sz : (i+1)*sz]
		if f, ok := any(ui).([]float32); ok {
			// One pass per example with the sums in registers; v = u
			// gives Σu² with the same rounding as below.
			g := f
			if v != nil {
				g = any(v[i*sz : (i+1)*sz]).([]float32)
			}
			kernels.SumDotPeriodic(any(s1).([]float32), any(s2).([]float32), f, g)
		} else if v == nil {
			for p := 0; p < sz; p += c {
				pu := ui[p : p+c]
				for j, x := range pu {
					s1[j] += x
					s2[j] += x * x
				}
			}
		} else {
			vi := v[i*sz : (i+1)*sz]
			for p := 0; p < sz; p += c {
				pu, pv := ui[p:p+c], vi[p:p+c]
				for j, x := range pu {
					s1[j] += x
					s2[j] += x * pv[j]
				}
			}
		}
		for j := range p1 {
			p1[j] += float64(s1[j])
			p2[j] += float64(s2[j])
		}
	}
}

// maskSums is the ReLU mask g = dy·[y > 0] followed by sums(g, x, n) in one
// pass per example for float32 (the same sums in the same order); it
// reports false for other types.
func (bn *BatchNorm[T]) maskSums(g, dy, x []T, n int) bool {
	g32, ok := any(g).([]float32)
	if !ok {
		return false
	}
	c := bn.shape.C
	sz := bn.shape.Size()
	dy32, x32, y32 := any(dy).([]float32), any(x).([]float32), any(bn.y).([]float32)
	s1, s2 := any(bn.acc1[:c]).([]float32), any(bn.acc2[:c]).([]float32)
	// floor is the ReLU's threshold 0; sd receives Σdy (unused).
	zero, sd := any(bn.floor[:c]).([]float32), any(bn.sdy[:c]).([]float32)
	clear(bn.part)
	p1, p2 := bn.part[:c], bn.part[c:2*c]
	for i := 0; i < n; i++ {
		clear(s1)
		clear(s2)
		o := i * sz
		kernels.GateSumsPeriodic(g32[o:o+sz], sd, s1, s2, dy32[o:o+sz], y32[o:o+sz], x32[o:o+sz], zero)
		for j := range p1 {
			p1[j] += float64(s1[j])
			p2[j] += float64(s2[j])
		}
	}
	return true
}

// allReduce sums bn.part over all shards.
func (bn *BatchNorm[T]) allReduce(ctx *Ctx) []float64 {
	if ctx.Sync == nil {
		return bn.part
	}
	return ctx.Sync.AllReduce(ctx.Shard, bn.part)
}

// Forward normalises ctx.N examples.
func (bn *BatchNorm[T]) Forward(ctx *Ctx, x []T) []T {
	n := ctx.N
	bn.alloc(n)
	bn.x = x
	bn.train = ctx.Train
	c := bn.shape.C
	if ctx.Train {
		bn.sums(x, nil, n)
		tot := bn.allReduce(ctx)
		cnt := float64(ctx.Total * bn.shape.H * bn.shape.W)
		upd := ctx.UpdateState && ctx.Shard == 0
		for j := 0; j < c; j++ {
			m := tot[j] / cnt
			v := max(tot[c+j]/cnt-m*m, 0)
			bn.mean[j] = T(m)
			bn.rstd[j] = T(1 / math.Sqrt(v+BNEps))
			if upd {
				bn.meanH[j] = T(BNDecay*float64(bn.meanH[j]) + (1-BNDecay)*m)
				bn.varH[j] = T(BNDecay*float64(bn.varH[j]) + (1-BNDecay)*v)
			}
		}
		if upd {
			bn.counter[0]++
		}
	} else {
		count := float64(bn.counter[0])
		for j := 0; j < c; j++ {
			var m, v float64
			if count > 0 {
				deb := 1 - math.Pow(BNDecay, count)
				m, v = float64(bn.meanH[j])/deb, float64(bn.varH[j])/deb
			}
			bn.mean[j] = T(m)
			bn.rstd[j] = T(1 / math.Sqrt(v+BNEps))
		}
	}
	for j := 0; j < c; j++ {
		bn.a[j] = bn.scale[j] * bn.rstd[j]
		bn.b[j] = bn.offset[j] - bn.mean[j]*bn.a[j]
	}
	a, b := bn.a[:c], bn.b[:c]
	total := n * bn.shape.Size()
	y := bn.y[:total]
	if f, ok := any(y).([]float32); ok {
		// max(x·a + b, floor): the ReLU, or the identity with floor −∞.
		kernels.AffineMaxPeriodic(f, any(x[:total]).([]float32), any(a).([]float32), any(b).([]float32), any(bn.floor[:c]).([]float32))
		return y
	}
	for p := 0; p < total; p += c {
		px, py := x[p:p+c], y[p:p+c]
		if bn.ReLU {
			for j, v := range px {
				py[j] = max(v*a[j]+b[j], 0)
			}
		} else {
			for j, v := range px {
				py[j] = v*a[j] + b[j]
			}
		}
	}
	return y
}

// Backward accumulates dscale and doffset (this shard's share) and returns
// dx when needDX. In training the statistics depend on every example, so
//
//	dx = scale·rstd·(g − mean(g) − x̂·mean(g·x̂))
//
// with g the output gradient (masked by the ReLU) and the means taken over
// the whole batch through ctx.Sync.
func (bn *BatchNorm[T]) Backward(ctx *Ctx, dy []T, needDX bool) []T {
	n := ctx.N
	c := bn.shape.C
	total := n * bn.shape.Size()
	dy = dy[:total]
	x := bn.x[:total]
	g := dy
	if bn.ReLU {
		// Mask in place into dx's buffer; dx is then written over it.
		g = bn.dx[:total]
		if !bn.maskSums(g, dy, x, n) {
			reluMask(g, dy, bn.y[:total])
			bn.sums(g, x, n)
		}
	} else {
		bn.sums(g, x, n) // part = [Σg, Σg·x]
	}
	mean, rstd := bn.mean[:c], bn.rstd[:c]
	// Σg·x̂ = rstd·(Σg·x − mean·Σg).
	p1, p2 := bn.part[:c], bn.part[c:2*c]
	for j := range p1 {
		p2[j] = float64(rstd[j]) * (p2[j] - float64(mean[j])*p1[j])
		bn.doffset[j] += T(p1[j])
		bn.dscale[j] += T(p2[j])
	}
	if !needDX {
		return nil
	}
	a := bn.a[:c]
	dx := bn.dx[:total]
	if !bn.train {
		for p := 0; p < total; p += c {
			pg, pd := g[p:p+c], dx[p:p+c]
			for j, v := range pg {
				pd[j] = v * a[j]
			}
		}
		return dx
	}
	tot := bn.allReduce(ctx)
	cnt := float64(ctx.Total * bn.shape.H * bn.shape.W)
	// dx = a·g − a·mean(g) − a·rstd·mean(g·x̂)·(x − mean) = a·g + k1·x + k0.
	k1, k0 := bn.acc1[:c], bn.acc2[:c]
	for j := 0; j < c; j++ {
		mg := tot[j] / cnt
		mgx := tot[c+j] / cnt
		aj := float64(a[j])
		kk := -aj * float64(rstd[j]) * mgx
		k1[j] = T(kk)
		k0[j] = T(-aj*mg - kk*float64(mean[j]))
	}
	if f, ok := any(dx).([]float32); ok {
		kernels.Affine2Periodic(f, any(g).([]float32), any(x).([]float32), any(a).([]float32), any(k1).([]float32), any(k0).([]float32))
		return dx
	}
	for p := 0; p < total; p += c {
		pg, px, pd := g[p:p+c], x[p:p+c], dx[p:p+c]
		for j, v := range pg {
			pd[j] = a[j]*v + k1[j]*px[j] + k0[j]
		}
	}
	return dx
}
