package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The reference loops below define the periodic helpers element by element;
// every path must match them bit for bit.

func refSumSq(acc, x []float32) {
	for i, e := range x {
		acc[i%len(acc)] += e * e
	}
}

func refSum(acc, x []float32) {
	for i, e := range x {
		acc[i%len(acc)] += e
	}
}

func refAffineMax(z, x, a, b, t []float32) {
	for i, e := range x {
		j := i % len(a)
		y := e*a[j] + b[j]
		if t[j] > y {
			y = t[j]
		}
		z[i] = y
	}
}

func refGateSums(g, sd, sg, sgx, dz, z, x, t []float32) {
	for i, d := range dz {
		j := i % len(t)
		sd[j] += d
		if !(z[i] > t[j]) {
			d = 0
		}
		g[i] = d
		sg[j] += d
		sgx[j] += d * x[i]
	}
}

func refMulSub(g, x, a, b []float32) {
	for i, e := range g {
		j := i % len(a)
		g[i] = a[j]*e - b[j]*x[i]
	}
}

func refAddPer(dst, x, b []float32) {
	for i, e := range x {
		dst[i] = e + b[i%len(b)]
	}
}

func refSumDot(s1, s2, u, v []float32) {
	for i, e := range u {
		j := i % len(s1)
		s1[j] += e
		s2[j] += e * v[i]
	}
}

func refAffine2(dst, g, x, a, k1, k0 []float32) {
	for i, e := range g {
		j := i % len(a)
		dst[i] = a[j]*e + k1[j]*x[i] + k0[j]
	}
}

func refAddReLU(dst, x, y []float32) {
	for i := range dst {
		s := x[i] + y[i]
		if 0 > s {
			s = 0
		}
		dst[i] = s
	}
}

// perVec returns n random values in [-1, 1) with exact zeros, ties with
// the threshold vector t (when given, period len(t)) and, when nan is set,
// a few NaNs.
func perVec(rng *rand.Rand, n int, t []float32, nan bool) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = rng.Float32()*2 - 1
		switch i % 13 {
		case 4:
			v[i] = 0
		case 6:
			if t != nil {
				v[i] = t[i%len(t)]
			}
		case 9:
			if nan && i%3 == 0 {
				v[i] = float32(math.NaN())
			}
		}
	}
	return v
}

func sameBits(a, b []float32) int {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			if math.IsNaN(float64(a[i])) && math.IsNaN(float64(b[i])) {
				continue
			}
			return i
		}
	}
	return -1
}

func clone(v []float32) []float32 { return append([]float32(nil), v...) }

func TestPeriodic(t *testing.T) {
	periods := []int{1, 3, 8, 16, 24, 32, 48, 256}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, p := range Paths() {
		t.Run(p.String(), func(t *testing.T) {
			defer SetPath(p)()
			for _, l := range periods {
				for _, n := range []int{0, 1, l - 1, l, l + 1, 3 * l, 3*l + 7, 20*l + 5, 150*l + 5} {
					if n < 0 {
						continue
					}
					name := fmt.Sprintf("l=%d/n=%d", l, n)
					tv := perVec(rng, l, nil, false)
					a, b := perVec(rng, l, nil, false), perVec(rng, l, nil, false)
					x := perVec(rng, n, nil, true)
					y := perVec(rng, n, nil, true)
					z := perVec(rng, n, tv, true)
					acc := perVec(rng, l, nil, false)
					bias := perVec(rng, l, nil, false)
					xb := make([]float32, n) // x + bias, rounded
					refAddPer(xb, x, bias)
					check := func(op string, got, want []float32) {
						t.Helper()
						if i := sameBits(got, want); i >= 0 {
							t.Fatalf("%s %s: [%d] = %g, want %g", op, name, i, got[i], want[i])
						}
					}

					g1, g2 := clone(acc), clone(acc)
					SumSquaresPeriodic(g1, x)
					refSumSq(g2, x)
					check("SumSquaresPeriodic", g1, g2)

					g1, g2 = clone(acc), clone(acc)
					SumSquaresBiasPeriodic(g1, x, bias)
					refSumSq(g2, xb)
					check("SumSquaresBiasPeriodic", g1, g2)

					g1, g2 = clone(acc), clone(acc)
					SumPeriodic(g1, x)
					refSum(g2, x)
					check("SumPeriodic", g1, g2)

					// One element past the stream must stay untouched.
					z1, z2 := make([]float32, n+1), make([]float32, n+1)
					z1[n], z2[n] = 5, 5
					AffineMaxPeriodic(z1, x, a, b, tv)
					refAffineMax(z2, x, a, b, tv)
					check("AffineMaxPeriodic", z1, z2)
					AffineMaxBiasPeriodic(z1, x, bias, a, b, tv)
					refAffineMax(z2, xb, a, b, tv)
					check("AffineMaxBiasPeriodic", z1, z2)

					gg1, gg2 := make([]float32, n+1), make([]float32, n+1)
					gg1[n], gg2[n] = 5, 5
					s1 := [3][]float32{clone(acc), clone(a), clone(b)}
					s2 := [3][]float32{clone(acc), clone(a), clone(b)}
					GateSumsPeriodic(gg1, s1[0], s1[1], s1[2], y, z, x, tv)
					refGateSums(gg2, s2[0], s2[1], s2[2], y, z, x, tv)
					check("GateSumsPeriodic g", gg1, gg2)
					for k := range s1 {
						check(fmt.Sprintf("GateSumsPeriodic sum %d", k), s1[k], s2[k])
					}

					m1, m2 := clone(y), clone(y)
					MulSubPeriodic(m1, x, a, b)
					refMulSub(m2, x, a, b)
					check("MulSubPeriodic", m1, m2)

					AddPeriodic(z1, x, b)
					refAddPer(z2, x, b)
					check("AddPeriodic", z1, z2)
					m1, m2 = clone(x), clone(x)
					AddPeriodic(m1, m1, b) // in place
					refAddPer(m2, m2, b)
					check("AddPeriodic in place", m1, m2)

					d1, d2 := clone(acc), clone(acc)
					e1, e2 := clone(a), clone(a)
					SumDotPeriodic(d1, e1, x, y)
					refSumDot(d2, e2, x, y)
					check("SumDotPeriodic s1", d1, d2)
					check("SumDotPeriodic s2", e1, e2)
					d1, d2 = clone(acc), clone(acc)
					e1, e2 = clone(a), clone(a)
					SumDotPeriodic(d1, e1, x, x)
					refSumDot(d2, e2, x, x)
					check("SumDotPeriodic u=v", e1, e2)

					Affine2Periodic(z1, y, x, a, b, tv)
					refAffine2(z2, y, x, a, b, tv)
					check("Affine2Periodic", z1, z2)
					m1, m2 = clone(y), clone(y)
					Affine2Periodic(m1, m1, x, a, b, tv) // in place
					refAffine2(m2, m2, x, a, b, tv)
					check("Affine2Periodic in place", m1, m2)

					AddReLU(z1[:n], x, y)
					refAddReLU(z2[:n], x, y)
					check("AddReLU", z1, z2)
				}
			}
		})
	}
}

func TestPeriodicAllocs(t *testing.T) {
	const n, l = 1000, 48
	x, y, z, g := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	a, b, c, d := make([]float32, l), make([]float32, l), make([]float32, l), make([]float32, l)
	for _, p := range Paths() {
		defer SetPath(p)()
		if al := testing.AllocsPerRun(10, func() {
			SumSquaresPeriodic(a, x)
			SumPeriodic(a, x)
			AffineMaxPeriodic(z, x, a, b, c)
			GateSumsPeriodic(g, a, b, c, y, z, x, d)
			MulSubPeriodic(g, x, a, b)
			AddPeriodic(z, x, a)
			AddReLU(z, x, y)
			SumDotPeriodic(a, b, x, y)
			Affine2Periodic(g, y, x, a, b, c)
		}); al != 0 {
			t.Errorf("%v: %v allocs, want 0", p, al)
		}
	}
}

func TestPeriodicPanics(t *testing.T) {
	short, long, l := make([]float32, 3), make([]float32, 4), make([]float32, 2)
	tests := []struct {
		name string
		f    func()
	}{
		{"empty period", func() { SumPeriodic(nil, long) }},
		{"AffineMaxPeriodic", func() { AffineMaxPeriodic(short, long, l, l, l) }},
		{"AffineMaxBiasPeriodic z", func() { AffineMaxBiasPeriodic(short, long, l, l, l, l) }},
		{"AffineMaxBiasPeriodic c", func() { AffineMaxBiasPeriodic(long, long, l[:1], l, l, l) }},
		{"SumSquaresBiasPeriodic", func() { SumSquaresBiasPeriodic(l, long, l[:1]) }},
		{"GateSumsPeriodic", func() { GateSumsPeriodic(long, l, l, l, long, short, long, l) }},
		{"MulSubPeriodic", func() { MulSubPeriodic(long, short, l, l) }},
		{"AddPeriodic", func() { AddPeriodic(short, long, l) }},
		{"AddReLU", func() { AddReLU(long, long, short) }},
		{"SumDotPeriodic", func() { SumDotPeriodic(l, l, long, short) }},
		{"Affine2Periodic", func() { Affine2Periodic(long, long, short, l, l, l) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			tt.f()
		})
	}
}

func BenchmarkPeriodic(b *testing.B) {
	for _, l := range []int{64, 256} {
		b.Run(fmt.Sprintf("l=%d", l), func(b *testing.B) { benchPeriodic(b, l) })
	}
}

func benchPeriodic(b *testing.B, l int) {
	const n = 16384
	x, y, z, g := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	a, bb, c, d := make([]float32, l), make([]float32, l), make([]float32, l), make([]float32, l)
	ops := []struct {
		name string
		f    func()
	}{
		{"SumSquares", func() { SumSquaresPeriodic(a, x) }},
		{"AffineMax", func() { AffineMaxPeriodic(z, x, a, bb, c) }},
		{"GateSums", func() { GateSumsPeriodic(g, a, bb, c, y, z, x, d) }},
		{"MulSub", func() { MulSubPeriodic(g, x, a, bb) }},
		{"AddReLU", func() { AddReLU(z, x, y) }},
	}
	for _, p := range Paths() {
		for _, op := range ops {
			b.Run(p.String()+"/"+op.name, func(b *testing.B) {
				defer SetPath(p)()
				for b.Loop() {
					op.f()
				}
			})
		}
	}
}
