package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// gemmCase is one Gemm problem for the correctness tests.
type gemmCase struct {
	m, n, k        int
	transA, transB bool
	alpha, beta    float64
	pad            int // added to every leading dimension
}

func (tc gemmCase) String() string {
	return fmt.Sprintf("%dx%dx%d_tA=%v_tB=%v_alpha=%g_beta=%g_pad=%d",
		tc.m, tc.n, tc.k, tc.transA, tc.transB, tc.alpha, tc.beta, tc.pad)
}

// gemmShapes covers 1, odd sizes, sizes around the tile edges (12, 16, 32,
// 6), k across the KC block (256), m across MC (480), n across two strips
// and across NC (512), and all three at once.
var gemmShapes = [][3]int{
	{1, 1, 1}, {1, 7, 3}, {7, 1, 5}, {2, 3, 1},
	{13, 17, 19}, {11, 31, 33}, {12, 32, 256}, {13, 33, 257},
	{24, 16, 27}, {25, 48, 300}, {6, 15, 9}, {37, 64, 513},
	{5, 2050, 3}, {3, 5, 1000}, {100, 80, 50}, {491, 40, 130},
	{490, 20, 7}, {31, 97, 40}, {50, 530, 300},
	{30, 16, 600}, {29, 32, 700}, // B read in place across KC blocks
}

// alphaBetas covers beta = 0 (C must not be read), beta = 1, general values
// and alpha = 0.
var alphaBetas = [][2]float64{{1, 0}, {1, 1}, {-0.5, 2.5}, {2, 0}, {0, 0.5}}

func gemmCases() []gemmCase {
	var cs []gemmCase
	for _, s := range gemmShapes {
		for t := 0; t < 4; t++ {
			for _, ab := range alphaBetas {
				for _, pad := range []int{0, 5} {
					cs = append(cs, gemmCase{s[0], s[1], s[2], t&1 != 0, t&2 != 0, ab[0], ab[1], pad})
				}
			}
		}
	}
	return cs
}

// operands returns random A, B and C for tc in float64; C is NaN-filled when
// beta is 0.
func (tc gemmCase) operands(rng *rand.Rand) (a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	ar, ac := tc.m, tc.k
	if tc.transA {
		ar, ac = ac, ar
	}
	br, bc := tc.k, tc.n
	if tc.transB {
		br, bc = bc, br
	}
	lda, ldb, ldc = ac+tc.pad, bc+tc.pad, tc.n+tc.pad
	fill := func(n int, nan bool) []float64 {
		x := make([]float64, n)
		for i := range x {
			if nan {
				x[i] = math.NaN()
			} else {
				x[i] = rng.Float64()*2 - 1
			}
		}
		return x
	}
	a = fill((ar-1)*lda+ac, false)
	b = fill((br-1)*ldb+bc, false)
	c = fill((tc.m-1)*ldc+tc.n, tc.beta == 0)
	return
}

func convert[T ~float32 | ~float64](x []float64) []T {
	y := make([]T, len(x))
	for i, v := range x {
		y[i] = T(v)
	}
	return y
}

// checkResult compares got with want on the m×n window of C and checks that
// the padding between rows is untouched. The tolerance is relative to
// k·|alpha|·max|a|·max|b| + |beta|·|c|, with max|a|, max|b| ≤ 1.
func checkResult[T ~float32 | ~float64](t *testing.T, tc gemmCase, got []T, want, c0 []float64, ldc int, eps float64) {
	t.Helper()
	bad := 0
	for i := 0; i < tc.m; i++ {
		for j := 0; j < ldc && i*ldc+j < len(got); j++ {
			idx := i*ldc + j
			g := float64(got[idx])
			if j >= tc.n {
				if g != float64(T(c0[idx])) && !(math.IsNaN(g) && math.IsNaN(c0[idx])) {
					t.Errorf("%v: padding C[%d,%d] changed to %g", tc, i, j, g)
					return
				}
				continue
			}
			tol := eps * (float64(tc.k)*math.Abs(tc.alpha) + 1)
			if tc.beta != 0 {
				tol += eps * math.Abs(tc.beta*c0[idx])
			}
			if !(math.Abs(g-want[idx]) <= tol) {
				if bad++; bad <= 3 {
					t.Errorf("%v: C[%d,%d] = %g, want %g (tol %g)", tc, i, j, g, want[idx], tol)
				}
			}
		}
	}
}

// caseData is a case's operands in float64 and the reference result.
type caseData struct {
	gemmCase
	a, b, c0, want []float64
	lda, ldb, ldc  int
}

// allCases builds the operands and reference results once for all tests.
var allCases = sync.OnceValue(func() []caseData {
	rng := rand.New(rand.NewPCG(1, 2))
	var ds []caseData
	for _, tc := range gemmCases() {
		d := caseData{gemmCase: tc}
		d.a, d.lda, d.b, d.ldb, d.c0, d.ldc = tc.operands(rng)
		d.want = append([]float64(nil), d.c0...)
		gemmRef(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, d.a, d.lda, d.b, d.ldb, tc.beta, d.want, d.ldc)
		ds = append(ds, d)
	}
	return ds
})

// runCases runs every case on the current path with element type T.
func runCases[T ~float32 | ~float64](t *testing.T, eps float64) {
	for _, d := range allCases() {
		tc := d.gemmCase
		got := convert[T](d.c0)
		Gemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, T(tc.alpha), convert[T](d.a), d.lda, convert[T](d.b), d.ldb, T(tc.beta), got, d.ldc)
		checkResult(t, tc, got, d.want, d.c0, d.ldc, eps)
		if t.Failed() {
			return
		}
	}
}

// myFloat checks that types with underlying type float32 take the same
// paths.
type myFloat float32

func TestGemmFloat32(t *testing.T) {
	for _, p := range Paths() {
		t.Run(p.String(), func(t *testing.T) {
			defer SetPath(p)()
			runCases[float32](t, 2e-6)
		})
		t.Run(p.String()+"/named", func(t *testing.T) {
			defer SetPath(p)()
			runCases[myFloat](t, 2e-6)
		})
	}
}

func TestGemmFloat64(t *testing.T) {
	runCases[float64](t, 1e-14)
}

// TestGemmOverlappingRows checks leading dimensions smaller than a row of A
// or B (overlapping rows, as in implicit convolution GEMMs), including 0.
func TestGemmOverlappingRows(t *testing.T) {
	tests := []struct {
		m, n, k, lda, ldb int
		transA, transB    bool
	}{
		{50, 16, 27, 9, 16, false, false},
		{50, 16, 27, 0, 16, false, false},
		{30, 33, 27, 13, 27, true, true},
		{61, 40, 300, 48, 5, false, true},
		{25, 20, 290, 7, 20, true, false},
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tt := range tests {
		for _, p := range Paths() {
			t.Run(fmt.Sprintf("%v/%dx%dx%d_lda=%d_ldb=%d_tA=%v_tB=%v", p, tt.m, tt.n, tt.k, tt.lda, tt.ldb, tt.transA, tt.transB), func(t *testing.T) {
				defer SetPath(p)()
				ar, ac := pick(tt.transA, tt.k, tt.m), pick(tt.transA, tt.m, tt.k)
				br, bc := pick(tt.transB, tt.n, tt.k), pick(tt.transB, tt.k, tt.n)
				a := make([]float64, (ar-1)*tt.lda+ac)
				b := make([]float64, (br-1)*tt.ldb+bc)
				for i := range a {
					a[i] = rng.Float64()*2 - 1
				}
				for i := range b {
					b[i] = rng.Float64()*2 - 1
				}
				c0 := make([]float64, tt.m*tt.n)
				for i := range c0 {
					c0[i] = rng.Float64()
				}
				want := append([]float64(nil), c0...)
				gemmRef(tt.transA, tt.transB, tt.m, tt.n, tt.k, 1, a, tt.lda, b, tt.ldb, 1, want, tt.n)
				got := convert[float32](c0)
				Gemm(tt.transA, tt.transB, tt.m, tt.n, tt.k, 1, convert[float32](a), tt.lda, convert[float32](b), tt.ldb, 1, got, tt.n)
				tc := gemmCase{m: tt.m, n: tt.n, k: tt.k, alpha: 1, beta: 1}
				checkResult(t, tc, got, want, c0, tt.n, 2e-6)
			})
		}
	}
}

func TestGemmEmpty(t *testing.T) {
	tests := []struct {
		name    string
		m, n, k int
		beta    float32
		want    float32
	}{
		{"m=0", 0, 2, 2, 0, 7},
		{"n=0", 2, 0, 2, 0, 7},
		{"k=0,beta=0", 2, 2, 0, 0, 0},
		{"k=0,beta=3", 2, 2, 0, 3, 21},
	}
	for _, tt := range tests {
		for _, p := range Paths() {
			t.Run(tt.name+"/"+p.String(), func(t *testing.T) {
				defer SetPath(p)()
				c := []float32{7, 7, 7, 7}
				Gemm(false, false, tt.m, tt.n, tt.k, 1, nil, max(tt.k, 1), nil, max(tt.n, 1), tt.beta, c, 2)
				for i, v := range c {
					if v != tt.want {
						t.Fatalf("c[%d] = %g, want %g", i, v, tt.want)
					}
				}
			})
		}
	}
}

func TestGemmPanics(t *testing.T) {
	x := make([]float32, 16)
	tests := []struct {
		name string
		f    func()
	}{
		{"short A", func() { Gemm(false, false, 4, 4, 4, 1, x[:15], 4, x, 4, 0, x, 4) }},
		{"short B", func() { Gemm(false, true, 4, 4, 4, 1, x, 4, x[:3], 4, 0, x, 4) }},
		{"short C", func() { Gemm(false, false, 4, 4, 4, 1, x, 4, x, 4, 0, x[:15], 4) }},
		{"small ldc", func() { Gemm(false, false, 2, 2, 4, 1, x, 4, x, 2, 0, x, 1) }},
		{"negative lda", func() { Gemm(false, false, 2, 2, 4, 1, x, -1, x, 2, 0, x, 2) }},
		{"negative", func() { Gemm(false, false, -1, 2, 2, 1, x, 2, x, 2, 0, x, 2) }},
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

func TestSetPath(t *testing.T) {
	ps := Paths()
	if ps[0] != PathGeneric {
		t.Fatalf("Paths()[0] = %v, want generic", ps[0])
	}
	def := ActivePath()
	if def != ps[len(ps)-1] {
		t.Fatalf("ActivePath() = %v, want %v", def, ps[len(ps)-1])
	}
	restore := SetPath(PathGeneric)
	if ActivePath() != PathGeneric {
		t.Fatalf("after SetPath: %v", ActivePath())
	}
	restore()
	if ActivePath() != def {
		t.Fatalf("after restore: %v, want %v", ActivePath(), def)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("SetPath(Path(99)) did not panic")
			}
		}()
		SetPath(Path(99))
	}()
}

func TestGemmAllocs(t *testing.T) {
	const m, n, k = 70, 40, 300
	for _, p := range Paths() {
		for _, workers := range []int{1, 3} {
			t.Run(fmt.Sprintf("%v/workers=%d", p, workers), func(t *testing.T) {
				defer SetPath(p)()
				start := make([]chan struct{}, workers)
				var done, exited sync.WaitGroup
				for w := range workers {
					start[w] = make(chan struct{})
					a := make([]float32, m*k)
					b := make([]float32, k*n)
					c := make([]float32, m*n)
					exited.Add(1)
					go func() {
						defer exited.Done()
						for range start[w] {
							Gemm(w%2 == 1, w%2 == 0, m, n, k, 1, a, pick(w%2 == 1, m, k), b, pick(w%2 == 0, k, n), 1, c, n)
							done.Done()
						}
					}()
				}
				step := func() {
					done.Add(workers)
					for _, s := range start {
						s <- struct{}{}
					}
					done.Wait()
				}
				for range 3 {
					step()
				}
				if got := testing.AllocsPerRun(50, step); got != 0 {
					t.Errorf("allocs per call = %v, want 0", got)
				}
				for _, s := range start {
					close(s)
				}
				exited.Wait()
			})
		}
	}
}

func pick(cond bool, x, y int) int {
	if cond {
		return x
	}
	return y
}

func FuzzGemm(f *testing.F) {
	f.Add(uint8(13), uint8(17), uint8(19), uint8(0), uint64(1))
	f.Add(uint8(1), uint8(1), uint8(1), uint8(15), uint64(2))
	f.Add(uint8(25), uint8(33), uint8(40), uint8(6), uint64(3))
	f.Add(uint8(12), uint8(64), uint8(7), uint8(9), uint64(4))
	f.Fuzz(func(t *testing.T, m, n, k, flags uint8, seed uint64) {
		ab := alphaBetas[int(flags>>3)%len(alphaBetas)]
		tc := gemmCase{
			m: int(m%48) + 1, n: int(n%80) + 1, k: int(k%64) + 1,
			transA: flags&1 != 0, transB: flags&2 != 0,
			alpha: ab[0], beta: ab[1], pad: int(flags>>2&1) * 3,
		}
		rng := rand.New(rand.NewPCG(seed, 7))
		a, lda, b, ldb, c0, ldc := tc.operands(rng)
		want := append([]float64(nil), c0...)
		gemmRef(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, want, ldc)
		a32, b32 := convert[float32](a), convert[float32](b)
		for _, p := range Paths() {
			func() {
				defer SetPath(p)()
				got := convert[float32](c0)
				Gemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, float32(tc.alpha), a32, lda, b32, ldb, float32(tc.beta), got, ldc)
				checkResult(t, tc, got, want, c0, ldc, 2e-6)
			}()
		}
		got := append([]float64(nil), c0...)
		Gemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, got, ldc)
		checkResult(t, tc, got, want, c0, ldc, 1e-14)
	})
}

func TestCountFLOPs(t *testing.T) {
	a := make([]float32, 6*4)
	b := make([]float32, 4*5)
	c := make([]float32, 6*5)
	ResetFLOPs()
	Gemm(false, false, 6, 5, 4, 1, a, 4, b, 5, 0, c, 5)
	if FLOPs() != 0 {
		t.Fatalf("counted while off: %d", FLOPs())
	}
	CountFLOPs(true)
	defer CountFLOPs(false)
	Gemm(false, false, 6, 5, 4, 1, a, 4, b, 5, 0, c, 5)
	Gemm(true, false, 4, 5, 6, 1, a, 4, c, 5, 1, b, 5)
	if got, want := FLOPs(), int64(2*6*5*4+2*4*5*6); got != want {
		t.Fatalf("FLOPs = %d, want %d", got, want)
	}
}
