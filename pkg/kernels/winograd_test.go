package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice[T ~float32 | ~float64](r *rand.Rand, n int) []T {
	x := make([]T, n)
	for i := range x {
		x[i] = T(r.NormFloat64())
	}
	return x
}

// winoGeom is one tile row's geometry for the tests: ntiles tiles of c
// channels in an image whose rows are rs elements apart (wider than the
// windows, so a kernel that strays is caught), transformed matrices ps apart.
type winoGeom struct{ ntiles, c, rs, ps int }

func (g winoGeom) imgLen() int { return 4*g.rs + 8 }
func (g winoGeom) trLen() int  { return 16*g.ps + 8 }

func winoGeoms() []winoGeom {
	var gs []winoGeom
	for _, c := range []int{8, 16, 48} {
		for _, nt := range []int{1, 3} {
			w := (2*nt + 2 + 1) * c // one spare pixel per row
			gs = append(gs, winoGeom{nt, c, w, nt*c + 5})
		}
	}
	return gs
}

// TestWinogradPathsSameBits runs every tile transform on every kernel path
// and compares the bits with the Go loops (PathGeneric).
func TestWinogradPathsSameBits(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, g := range winoGeoms() {
		img := randSlice[float32](r, g.imgLen())
		tr := randSlice[float32](r, g.trLen())
		bias := randSlice[float32](r, g.c)
		run := func() [][]float32 {
			var outs [][]float32
			v := append([]float32(nil), tr...)
			WinogradInput(g.ntiles, g.c, img, g.rs, v, g.ps)
			outs = append(outs, v)
			for _, b := range [][]float32{nil, bias} {
				y := append([]float32(nil), img...)
				WinogradOutput(g.ntiles, g.c, tr, g.ps, y, g.rs, b)
				outs = append(outs, y)
			}
			dm := append([]float32(nil), tr...)
			WinogradGradOutput(g.ntiles, g.c, img, g.rs, dm, g.ps)
			outs = append(outs, dm)
			dx := append([]float32(nil), img...)
			WinogradGradInput(g.ntiles, g.c, tr, g.ps, dx, g.rs)
			outs = append(outs, dx)
			return outs
		}
		restore := SetPath(PathGeneric)
		want := run()
		restore()
		for _, p := range Paths() {
			restore := SetPath(p)
			got := run()
			restore()
			for k := range want {
				for i := range want[k] {
					if math.Float32bits(got[k][i]) != math.Float32bits(want[k][i]) {
						t.Fatalf("%+v path %v transform %d: [%d] = %v, Go loops %v", g, p, k, i, got[k][i], want[k][i])
					}
				}
			}
		}
	}
}

// directTile is the 3×3 convolution of a 4×4 window (valid, so 2×2 out)
// summed over input channels: y[a][b][co] = Σ d[a+i][b+j][ci]·g[i][j][ci][co].
func directTile(cin, cout int, d []float64, g []float64) []float64 {
	y := make([]float64, 4*cout)
	for a := range 2 {
		for b := range 2 {
			for co := 0; co < cout; co++ {
				var s float64
				for i := range 3 {
					for j := range 3 {
						for ci := 0; ci < cin; ci++ {
							s += d[((a+i)*4+b+j)*cin+ci] * g[((i*3+j)*cin+ci)*cout+co]
						}
					}
				}
				y[(a*2+b)*cout+co] = s
			}
		}
	}
	return y
}

// TestWinogradEqualsDirect checks the whole F(2×2, 3×3) pipeline (input
// transform, kernel transform, per-position products, output transform) on
// one tile against the direct convolution, in float64.
func TestWinogradEqualsDirect(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const cin, cout = 5, 7
	d := randSlice[float64](r, 16*cin) // one 4×4 window, rs = 4·cin
	g := randSlice[float64](r, 9*cin*cout)
	v := make([]float64, 16*cin) // ps = cin
	WinogradInput(1, cin, d, 4*cin, v, cin)
	u := make([]float64, 16*cin*cout)
	WinogradKernel(cin*cout, g, u)
	m := make([]float64, 16*cout) // ps = cout
	for p := range 16 {
		for co := 0; co < cout; co++ {
			var s float64
			for ci := 0; ci < cin; ci++ {
				s += v[p*cin+ci] * u[(p*cin+ci)*cout+co]
			}
			m[p*cout+co] = s
		}
	}
	bias := randSlice[float64](r, cout)
	y := make([]float64, 4*cout) // rs = 2·cout
	WinogradOutput(1, cout, m, cout, y, 2*cout, bias)
	want := directTile(cin, cout, d, g)
	for i := range want {
		want[i] += bias[i%cout]
		if math.Abs(y[i]-want[i]) > 1e-12*(1+math.Abs(want[i])) {
			t.Fatalf("y[%d] = %v, direct %v", i, y[i], want[i])
		}
	}
}

// TestWinogradAdjoints checks that each backward transform is the adjoint
// of its forward one: ⟨F x, y⟩ = ⟨x, Fᵀ y⟩ for random x and y, in float64
// (overlapping windows included, so the accumulation of GradInput counts).
func TestWinogradAdjoints(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	dot := func(a, b []float64) float64 {
		var s float64
		for i := range a {
			s += a[i] * b[i]
		}
		return s
	}
	near := func(name string, a, b float64) {
		t.Helper()
		if math.Abs(a-b) > 1e-10*(1+math.Abs(a)) {
			t.Errorf("%s: ⟨Fx, y⟩ = %v, ⟨x, Fᵀy⟩ = %v", name, a, b)
		}
	}
	for _, g := range winoGeoms() {
		name := fmt.Sprintf("%+v", g)
		x := randSlice[float64](r, g.imgLen())
		y := randSlice[float64](r, g.trLen())
		// Input: image → transformed; the adjoint adds into a zero image.
		fx := make([]float64, g.trLen())
		WinogradInput(g.ntiles, g.c, x, g.rs, fx, g.ps)
		fty := make([]float64, g.imgLen())
		WinogradGradInput(g.ntiles, g.c, y, g.ps, fty, g.rs)
		near("input "+name, dot(fx, y), dot(x, fty))
		// Output: transformed → image (2 rows); GradOutput is its adjoint.
		fy := make([]float64, g.imgLen())
		WinogradOutput(g.ntiles, g.c, y, g.ps, fy, g.rs, nil)
		ftx := make([]float64, g.trLen())
		WinogradGradOutput(g.ntiles, g.c, x, g.rs, ftx, g.ps)
		near("output "+name, dot(fy, x), dot(y, ftx))
	}
	// Kernel: 9 → 16 values per (ci, co); KernelGrad adds its adjoint.
	const cin, cout = 3, 4
	w := randSlice[float64](r, 9*cin*cout)
	du := randSlice[float64](r, 16*cin*cout)
	u := make([]float64, 16*cin*cout)
	WinogradKernel(cin*cout, w, u)
	dw := make([]float64, 9*cin*cout)
	WinogradKernelGrad(cin*cout, du, dw)
	near("kernel", dot(u, du), dot(w, dw))
}

// TestWinogradKernelPathsSameBits compares the kernel transform and its
// adjoint on every path with the Go loops, for plane sizes with and
// TestWinogradKernelGradSet checks that WinogradKernelGradSet writes the
// bits WinogradKernelGrad adds into a zeroed dw, −0 turned +0 included
// (planes of −0 in du give −0 sums), without reading dw (NaN there), on
// every path and for lengths with and without a vector remainder.
func TestWinogradKernelGradSet(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	negZero := float32(math.Copysign(0, -1))
	for _, n := range []int{5, 16, 37, 256} {
		du := randSlice[float32](r, 16*n)
		for e := 0; e < n; e += 3 { // every third element: all 16 taps −0
			for p := 0; p < 16; p++ {
				du[p*n+e] = negZero
			}
		}
		for _, p := range Paths() {
			restore := SetPath(p)
			want := make([]float32, 9*n)
			WinogradKernelGrad(n, du, want)
			got := make([]float32, 9*n)
			for i := range got {
				got[i] = float32(math.NaN())
			}
			WinogradKernelGradSet(n, du, got)
			restore()
			if i := sameBits(got, want); i >= 0 {
				t.Fatalf("n=%d path %v: dw[%d] = %v (bits %#x), added into zeros %v (%#x)", n, p, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
			}
			if math.Signbit(float64(got[0])) {
				t.Fatalf("n=%d path %v: a −0 sum was written as −0", n, p)
			}
		}
	}
}

// without a tail beyond whole vectors.
func TestWinogradKernelPathsSameBits(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{5, 16, 37, 256} {
		w := randSlice[float32](r, 9*n)
		du := randSlice[float32](r, 16*n)
		dw0 := randSlice[float32](r, 9*n)
		run := func() ([]float32, []float32) {
			u := make([]float32, 16*n)
			WinogradKernel(n, w, u)
			dw := append([]float32(nil), dw0...)
			WinogradKernelGrad(n, du, dw)
			return u, dw
		}
		restore := SetPath(PathGeneric)
		wu, wdw := run()
		restore()
		for _, p := range Paths() {
			restore := SetPath(p)
			gu, gdw := run()
			restore()
			if i := sameBits(gu, wu); i >= 0 {
				t.Fatalf("n=%d path %v: u[%d] = %v, Go loops %v", n, p, i, gu[i], wu[i])
			}
			if i := sameBits(gdw, wdw); i >= 0 {
				t.Fatalf("n=%d path %v: dw[%d] = %v, Go loops %v", n, p, i, gdw[i], wdw[i])
			}
		}
	}
}

func TestWinogradShortSlicesPanic(t *testing.T) {
	g := winoGeom{2, 16, 6 * 16, 2 * 16}
	img, tr := make([]float32, g.imgLen()), make([]float32, g.trLen())
	for name, f := range map[string]func(){
		"input image":  func() { WinogradInput(g.ntiles, g.c, img[:3*g.rs], g.rs, tr, g.ps) },
		"input tr":     func() { WinogradInput(g.ntiles, g.c, img, g.rs, tr[:15*g.ps], g.ps) },
		"output bias":  func() { WinogradOutput(g.ntiles, g.c, tr, g.ps, img, g.rs, make([]float32, 3)) },
		"grad in":      func() { WinogradGradInput(g.ntiles, g.c, tr, g.ps, img[:g.rs], g.rs) },
		"kernel":       func() { WinogradKernel(16, make([]float32, 9*15), make([]float32, 16*16)) },
		"kernel grad":  func() { WinogradKernelGrad(16, make([]float32, 16*15), make([]float32, 9*16)) },
		"grad out neg": func() { WinogradGradOutput(-1, g.c, img, g.rs, tr, g.ps) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// BenchmarkWinogradInput times the input transform of one 32×32×64 image
// (the first ResNet-18 stage) on each path, in GB/s of input read.
func BenchmarkWinogradInput(b *testing.B) {
	const h, c = 32, 64
	rs := (h + 2) * c
	img := make([]float32, (h+2)*rs)
	nt := h / 2
	tr := make([]float32, 16*nt*nt*c)
	for _, p := range Paths() {
		b.Run(p.String(), func(b *testing.B) {
			defer SetPath(p)()
			for b.Loop() {
				for ty := 0; ty < nt; ty++ {
					WinogradInput(nt, c, img[2*ty*rs:], rs, tr[ty*nt*c:], nt*nt*c)
				}
			}
			b.ReportMetric(float64(h*h*c*4)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}
