package optim

import (
	"math"
	"math/bits"

	"github.com/bsam-dev/bsam/pkg/nn"
)

// This file is the standard-normal generator behind RNGNoise: the ziggurat
// method of Marsaglia & Tsang (2000) with zigLayers layers, driven by
// xoshiro256++ (Blackman & Vigna 2018). A stream (normGen) has eight
// interleaved xoshiro256++ lanes that propose candidates and one more that
// feeds the rare slow path. One round steps the eight lanes once; the 64-bit
// output of lane q gives candidates 2q (low 32 bits) and 2q+1 (high 32
// bits). In a 32-bit candidate the low zigBits = 8 bits select the layer
// l (256 layers) and the remaining 24 bits, read as a signed integer j in
// [−2²³, 2²³), give x = float32(j)·w_l in float32 arithmetic (layer and
// candidate use disjoint bits; j is exact in float32). About 98.5% of
// candidates pass the rectangle test |j| < k_l; zigSlow finishes the
// others with the exact wedge and tail tests, in index order, drawing from
// the slow lane. The rounds are the same on every CPU: with AVX-512 they
// run as vector code (eight lanes in one register, table lookups by
// gather), otherwise in Go, and both give identical values.

const (
	zigBits   = 8
	zigLayers = 1 << zigBits
	zigMask   = zigLayers - 1
	zigScale  = 1 << (31 - zigBits) // |j| ≤ zigScale
)

// zig holds the ziggurat tables for f(x) = exp(−x²/2), computed at init by
// zigTables. Layer i ≥ 1 is the rectangle [0, x_i] × [f(x_i), f(x_{i−1})]
// with x_0 = 0 < x_1 < … < x_{zigLayers−1} = r; layer 0 is the base strip
// [0, r] × [0, f(r)] plus the tail x > r, of total area v, drawn as a
// rectangle of width v/f(r).
var zig struct {
	r   float64            // start of the tail
	v   float64            // common area of all layers
	k   [zigLayers]uint32  // accept candidate j of layer i when |j| < k[i]
	w   [zigLayers]float64 // x_i/zigScale (layer 0: (v/f(r))/zigScale)
	w32 [zigLayers]float32 // w rounded to float32
	f   [zigLayers]float64 // f(x_i), with f[0] = f(x_0) = 1
	// slope of the chord of f over [x_{i−1}, x_i] (i ≥ 1)
	slope [zigLayers]float64
	x     [zigLayers]float64 // x_i
}

func init() { zigTables() }

// zigTables computes r by bisection so that the layer recursion
// x_{i−1} = f⁻¹(f(x_i) + v/x_i), started from x_{n−1} = r with
// v = r·f(r) + ∫_r^∞ f, ends exactly at the peak (f(x_1) + v/x_1 = 1),
// then fills the tables.
func zigTables() {
	tail := func(r float64) float64 { return math.Sqrt(math.Pi/2) * math.Erfc(r/math.Sqrt2) }
	f := func(x float64) float64 { return math.Exp(-0.5 * x * x) }
	// top returns f(x_1) + v/x_1 − 1 for a given r: positive when r is too
	// small (the layers overshoot the peak).
	top := func(r float64) float64 {
		v := r*f(r) + tail(r)
		x := r
		for i := zigLayers - 1; i > 1; i-- {
			y := f(x) + v/x
			if y >= 1 {
				return 1 // overshoot before reaching layer 1
			}
			x = math.Sqrt(-2 * math.Log(y))
		}
		return f(x) + v/x - 1
	}
	lo, hi := 1.0, 10.0
	for range 200 {
		mid := 0.5 * (lo + hi)
		if top(mid) > 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	r := 0.5 * (lo + hi)
	v := r*f(r) + tail(r)
	zig.r, zig.v = r, v
	zig.x[zigLayers-1] = r
	for i := zigLayers - 1; i > 1; i-- {
		x := zig.x[i]
		zig.x[i-1] = math.Sqrt(-2 * math.Log(f(x)+v/x))
	}
	zig.x[0] = 0
	q := v / f(r) // width of the base strip drawn as a rectangle
	zig.k[0] = uint32(r / q * zigScale)
	zig.w[0] = q / zigScale
	zig.f[0] = 1
	zig.w32[0] = float32(zig.w[0])
	for i := 1; i < zigLayers; i++ {
		zig.k[i] = uint32(zig.x[i-1] / zig.x[i] * zigScale)
		zig.w[i] = zig.x[i] / zigScale
		zig.w32[i] = float32(zig.w[i])
		zig.f[i] = f(zig.x[i])
	}
	for i := 1; i < zigLayers; i++ {
		zig.slope[i] = (zig.f[i] - zig.f[i-1]) / (zig.x[i] - zig.x[i-1])
	}
}

// xoshiro is the state of a xoshiro256++ generator.
type xoshiro struct{ s0, s1, s2, s3 uint64 }

// newXoshiro seeds a generator with four consecutive outputs of SplitMix64
// started at seed (never the all-zero state: splitmix64 is a bijection).
func newXoshiro(seed uint64) xoshiro {
	var gamma uint64 = 0x9e3779b97f4a7c15
	return xoshiro{
		splitmix64(seed),
		splitmix64(seed + gamma),
		splitmix64(seed + 2*gamma),
		splitmix64(seed + 3*gamma),
	}
}

// next returns the next 64-bit output.
func (x *xoshiro) next() uint64 {
	s0, s1, s2, s3 := x.s0, x.s1, x.s2, x.s3
	out := bits.RotateLeft64(s0+s3, 23) + s0
	t := s1 << 17
	s2 ^= s0
	s3 ^= s1
	s1 ^= s2
	s0 ^= s3
	s2 ^= t
	s3 = bits.RotateLeft64(s3, 45)
	x.s0, x.s1, x.s2, x.s3 = s0, s1, s2, s3
	return out
}

// unit returns a uniform float64 in (0, 1].
func (x *xoshiro) unit() float64 {
	return float64(x.next()>>11+1) * (1.0 / (1 << 53))
}

// zigBlock is the number of values generated together (zigBlock/16
// rounds): the rectangle test runs over a whole block, then the candidates
// it rejected are finished in index order by zigSlow.
const zigBlock = 256

// normGen is the state of one normal stream.
type normGen struct {
	lanes [4][8]uint64 // lanes[i][q]: word i of xoshiro256++ lane q
	slow  xoshiro      // feeds zigSlow
	// scratch of block, kept here so that it is not cleared every block
	cand [zigBlock]uint32
	rej  [zigBlock / 16]uint16
}

// newNormGen seeds the 36 state words with consecutive SplitMix64 outputs
// started at seed.
func newNormGen(seed uint64) normGen {
	var g normGen
	var gamma uint64 = 0x9e3779b97f4a7c15
	for i := range g.lanes {
		for q := range g.lanes[i] {
			g.lanes[i][q] = splitmix64(seed + uint64(8*i+q)*gamma)
		}
	}
	g.slow = newXoshiro(seed + 32*gamma)
	return g
}

// fillNormal fills dst with standard-normal draws, one block of zigBlock
// values at a time (a partial last block is generated in full and cut), so
// a shorter fill is a prefix of a longer one. The values are float32; a
// float64 dst receives them exactly.
func fillNormal[T nn.Float](g *normGen, dst []T) {
	if d, ok := f32(dst); ok {
		for len(d) >= zigBlock {
			g.block((*[zigBlock]float32)(d))
			d = d[zigBlock:]
		}
		dst = dst[len(dst)-len(d):]
	}
	var buf [zigBlock]float32
	for len(dst) > 0 {
		g.block(&buf)
		c := min(len(dst), zigBlock)
		for i, v := range buf[:c] {
			dst[i] = T(v)
		}
		dst = dst[c:]
	}
}

// block fills out with the next zigBlock values of the stream.
func (g *normGen) block(out *[zigBlock]float32) {
	cand, rej := &g.cand, &g.rej
	zigFast(&g.lanes, out, cand, rej)
	for r, m := range rej {
		for m != 0 {
			i := r*16 + bits.TrailingZeros16(m)
			m &= m - 1
			u := cand[i]
			out[i] = zigSlow(&g.slow, int32(u)>>zigBits, u&zigMask)
		}
	}
}

// zigFastGo runs zigBlock/16 rounds: out receives x = float32(j)·w32[l]
// for every candidate, cand the candidates, and bit b of rej[r] is set when
// candidate 16r+b failed the rectangle test. zigFastAVX512 is the same in
// vector code.
func zigFastGo(lanes *[4][8]uint64, out *[zigBlock]float32, cand *[zigBlock]uint32, rej *[zigBlock / 16]uint16) {
	kt, wt := &zig.k, &zig.w32
	for r := range rej {
		var m uint16
		for q := 0; q < 8; q++ {
			s0, s1, s2, s3 := lanes[0][q], lanes[1][q], lanes[2][q], lanes[3][q]
			u := bits.RotateLeft64(s0+s3, 23) + s0
			t := s1 << 17
			s2 ^= s0
			s3 ^= s1
			s1 ^= s2
			s0 ^= s3
			s2 ^= t
			s3 = bits.RotateLeft64(s3, 45)
			lanes[0][q], lanes[1][q], lanes[2][q], lanes[3][q] = s0, s1, s2, s3
			for h := 0; h < 2; h++ {
				c := uint32(u >> (32 * h))
				i := (16*r + 2*q + h) & (zigBlock - 1)
				j := int32(c) >> zigBits
				l := c & zigMask
				cand[i] = c
				out[i] = float32(j) * wt[l]
				if uint32((j^(j>>31))-(j>>31)) >= kt[l] {
					m |= 1 << (2*q + h)
				}
			}
		}
		rej[r] = m
	}
}

// zigSlow finishes a draw whose candidate j in layer l failed the
// rectangle test: the tail (layer 0), the wedge test of layer l ≥ 1, and on
// rejection fresh candidates (the low half of one 64-bit output each).
func zigSlow(x *xoshiro, j int32, l uint32) float32 {
	for {
		if l == 0 {
			// Tail beyond r (Marsaglia 1964).
			r := zig.r
			var t float64
			for {
				t = -math.Log(x.unit()) / r
				y := -math.Log(x.unit())
				if y+y >= t*t {
					break
				}
			}
			if j > 0 {
				return float32(r + t)
			}
			return float32(-r - t)
		}
		// Wedge: accept c when y < f(c), y uniform on [f(x_l), f(x_{l−1})].
		c := float32(j) * zig.w32[l]
		a := math.Abs(float64(c))
		y := zig.f[l] + x.unit()*(zig.f[l-1]-zig.f[l])
		if wedgeAccept(l, a, y) {
			return c
		}
		u := uint32(x.next())
		j = int32(u) >> zigBits
		l = u & zigMask
		if uint32((j^(j>>31))-(j>>31)) < zig.k[l] {
			return float32(j) * zig.w32[l]
		}
	}
}

// wedgeAccept reports whether y < f(a) = exp(−a²/2) for a candidate |c| = a
// of layer l ≥ 1 and y in [f(x_l), f(x_{l−1})], deciding without exp where
// it can: below x_{l−1}, f(a) > f(x_{l−1}) ≥ y; on [x_{l−1}, x_l], f lies
// above its chord where it is concave (x_l ≤ 1) and below it where it is
// convex (x_{l−1} ≥ 1).
func wedgeAccept(l uint32, a, y float64) bool {
	x0 := zig.x[l-1]
	if a < x0 {
		return true
	}
	chord := zig.f[l-1] + (a-x0)*zig.slope[l]
	switch {
	case zig.x[l] <= 1 && y < chord:
		return true
	case x0 >= 1 && y >= chord:
		return false
	}
	return y < math.Exp(-0.5*a*a)
}
