package nn

import (
	"fmt"
	"sync"
	"unsafe"

	"github.com/bsam-dev/bsam/pkg/kernels"
)

// Winograd F(2×2, 3×3) convolution (Lavin & Gray 2016; the transforms and
// their adjoints are kernels.WinogradInput and friends). A 3×3 stride-1
// SAME convolution of an H×W image (H, W even) is cut into (H/2)·(W/2)
// output tiles of 2×2, each computed from a 4×4 input window (windows
// overlap by 2 pixels; the image is zero-padded by one pixel all round):
//
//	forward   V_p = (Bᵀ d B)_p            per tile, p = 0…15
//	          M_p = V_p · U_p             tiles×Cin · Cin×Cout, U = G g Gᵀ
//	          y   = Aᵀ M A (+ bias)       per tile
//	backward  dM  = A dy Aᵀ               per tile
//	          dU_p = V_pᵀ · dM_p,  dW += Gᵀ dU G
//	          dV_p = dM_p · U_pᵀ,  dx += B dV Bᵀ  (into the padded image)
//
// The 16 products per direction carry 16/36 of the direct convolution's
// multiplications; the transforms are additions only. It is the same
// function as the direct convolution (rounding aside: float32 results
// differ in the last bits, as they do between GEMM blockings), so it is an
// engine choice (SetConvAlgorithm, engine.conv), never forced on a model.
//
// U and Uᵀ depend only on the weights: in a pass of a Net they are made
// once and shared by the shards, packed for the GEMM kernels (derived.go),
// like the direct convolution's flipped kernel.

// WinogradMinChannels is the fewest input and output channels a layer
// needs for ConvAlgWinograd to compute it with Winograd. Measured on an AMD
// EPYC Zen 5 (ResNet-20-FRN, batch 128, 2 cores, alternating pairs): its
// 16-channel stage ran slower with Winograd than directly (the whole SGD
// step 745 against 947 img/s with every stage Winograd), while Winograd on
// the 32- and 64-channel stages alone gained 1.07× (SGD) and 1.12× (bSAM)
// over the direct network.
const WinogradMinChannels = 32

// ConvAlgorithm selects how ConvAuto computes 3×3 stride-1 convolutions.
type ConvAlgorithm int

const (
	// ConvDirect computes every convolution directly (implicit GEMM or
	// im2col): the default and the reference.
	ConvDirect ConvAlgorithm = iota
	// ConvAlgWinograd uses Winograd F(2×2, 3×3) for the 3×3 stride-1 SAME
	// convolutions of even-sized images whose input and output channels
	// are multiples of 16 (whole AVX-512 vectors) and at least
	// WinogradMinChannels, direct elsewhere. In bf16 the 16 products take
	// the transformed operands V and U rounded to bf16 (kernels.PackedWinoBF16).
	ConvAlgWinograd
)

// String returns "direct" or "winograd".
func (a ConvAlgorithm) String() string {
	if a == ConvAlgWinograd {
		return "winograd"
	}
	return "direct"
}

// ParseConvAlgorithm parses "direct" (or "", the default) and "winograd".
func ParseConvAlgorithm(s string) (ConvAlgorithm, error) {
	switch s {
	case "", "direct":
		return ConvDirect, nil
	case "winograd":
		return ConvAlgWinograd, nil
	}
	return ConvDirect, fmt.Errorf("unknown convolution algorithm %q (valid: direct, winograd)", s)
}

// SetConvAlgorithm makes the convolutions among layers (looking into Chain
// and Residual blocks) use algorithm a where it applies. Call it before the
// layers' Setup.
func SetConvAlgorithm[T Float](layers []Layer[T], a ConvAlgorithm) {
	eachLayer(layers, func(l Layer[T]) {
		if c, ok := l.(*Conv2D[T]); ok {
			c.wino = a == ConvAlgWinograd
		}
	})
}

// winogradApplies reports whether the layer runs as a Winograd convolution
// on input shape in: forced (ConvWinograd) or asked for (wino) under
// ConvAuto, for a 3×3 stride-1 SAME convolution of an even-sized image;
// under ConvAuto also only with whole vectors of input and output channels,
// at least WinogradMinChannels of each.
func (c *Conv2D[T]) winogradApplies(in Shape) bool {
	fits := c.cfg.K == 3 && c.cfg.Stride == 1 && c.cfg.Padding == PadSame && in.H%2 == 0 && in.W%2 == 0
	switch c.cfg.Method {
	case ConvWinograd:
		if !fits {
			panic("nn: ConvWinograd needs a 3×3 stride-1 SAME convolution of an even-sized image")
		}
		return true
	case ConvAuto:
		// Narrower layers stay direct too: ResNet-20-FRN's 16-channel
		// products (K = 16 in each of the 16 Winograd GEMMs) lose more in
		// the transforms than they gain, where its 32- and 64-channel
		// stages gain (WinogradMinChannels).
		return fits && c.wino && in.C%16 == 0 && c.cfg.Out%16 == 0 &&
			in.C >= WinogradMinChannels && c.cfg.Out >= WinogradMinChannels
	}
	return false
}

// winogradAlloc sizes the buffer the layer keeps from Forward to Backward
// for n images: the 16 transformed matrices of V (the weight gradient
// needs them). The padded input, the products M (dM) and the padded input
// gradient live only within one call, in scratch shared by all layers
// (getWinoScratch): a replica runs its layers one at a time, so keeping
// them per layer only cost memory (at batch 200, ResNet-20-FRN's peak RSS
// 1.76 GB against 1.31 GB direct).
func (c *Conv2D[T]) winogradAlloc(n int) {
	c.vw = make([]T, 16*n*c.th*c.tw*c.in.C)
}

// clearWinoBorders zeroes the one-pixel border around each of n h×w images
// of ch channels in the padded layout of winoPadded, leaving the interior,
// which copyRows then writes, as it is.
func clearWinoBorders[T Float](xp []T, n, h, w, ch int) {
	prs := (w + 2) * ch
	for img := 0; img < n; img++ {
		b := xp[img*(h+2)*prs : (img+1)*(h+2)*prs]
		clear(b[:prs])
		for r := 1; r <= h; r++ {
			clear(b[r*prs : r*prs+ch])
			clear(b[(r+1)*prs-ch : (r+1)*prs])
		}
		clear(b[(h+1)*prs:])
	}
}

// winogradForward computes y for ctx.N images of x.
func (c *Conv2D[T]) winogradForward(ctx *Ctx, x, y []T) {
	n, h, w, cin, cout := ctx.N, c.in.H, c.in.W, c.in.C, c.cfg.Out
	tiles := n * c.th * c.tw
	prs := (w + 2) * cin // padded row
	xp := getWinoScratch[T](n * (h + 2) * prs)
	clearWinoBorders(xp, n, h, w, cin)
	copyRows(xp, c.winoPadded(cin), x, denseLayout(c.in), n, h, w*cin)
	v := c.vw[:16*tiles*cin]
	vs, ms := tiles*cin, tiles*cout // matrix strides
	for img := 0; img < n; img++ {
		for ty := 0; ty < c.th; ty++ {
			t0 := (img*c.th + ty) * c.tw
			kernels.WinogradInput(c.tw, cin, xp[(img*(h+2)+2*ty)*prs:], prs, v[t0*cin:], vs)
		}
	}
	putWinoScratch(xp)
	m := getWinoScratch[T](16 * tiles * cout)
	u, pu := c.winogradKernel(ctx, false)
	for p := 0; p < 16; p++ {
		if pu != nil {
			pu.MulTerm(p, tiles, f32s(v[p*vs:]), cin, f32s(m[p*ms:]), cout)
		} else {
			gemm(c.bf16, false, false, tiles, cout, cin, 1, v[p*vs:], cin, u[p*cin*cout:], cout, 0, m[p*ms:], cout)
		}
	}
	for img := 0; img < n; img++ {
		for ty := 0; ty < c.th; ty++ {
			t0 := (img*c.th + ty) * c.tw
			kernels.WinogradOutput(c.tw, cout, m[t0*cout:], ms, y[(img*h+2*ty)*w*cout:], w*cout, c.b)
		}
	}
	putWinoScratch(m)
}

// winogradBackward writes dW from dy (db is done by Backward) and,
// when dx is not nil, writes dx.
func (c *Conv2D[T]) winogradBackward(ctx *Ctx, dy, dx []T) {
	n, h, w, cin, cout := ctx.N, c.in.H, c.in.W, c.in.C, c.cfg.Out
	tiles := n * c.th * c.tw
	v, m := c.vw[:16*tiles*cin], getWinoScratch[T](16*tiles*cout)
	vs, ms := tiles*cin, tiles*cout
	for img := 0; img < n; img++ {
		for ty := 0; ty < c.th; ty++ {
			t0 := (img*c.th + ty) * c.tw
			kernels.WinogradGradOutput(c.tw, cout, dy[(img*h+2*ty)*w*cout:], w*cout, m[t0*cout:], ms)
		}
	}
	du := getWinoScratch[T](16 * cin * cout)
	for p := 0; p < 16; p++ {
		gemm(c.bf16, true, false, cin, cout, tiles, 1, v[p*vs:], cin, m[p*ms:], cout, 0, du[p*cin*cout:], cout)
	}
	kernels.WinogradKernelGradSet(cin*cout, du, c.dw)
	putWinoScratch(du)
	if dx == nil {
		putWinoScratch(m)
		return
	}
	ut, put := c.winogradKernel(ctx, true)
	for p := 0; p < 16; p++ { // dV overwrites V, which dW no longer needs
		if put != nil {
			put.MulTerm(p, tiles, f32s(m[p*ms:]), cout, f32s(v[p*vs:]), cin)
		} else {
			gemm(c.bf16, false, false, tiles, cin, cout, 1, m[p*ms:], cout, ut[p*cout*cin:], cin, 0, v[p*vs:], cin)
		}
	}
	putWinoScratch(m)
	prs := (w + 2) * cin
	dxp := getWinoScratch[T](n * (h + 2) * prs)
	clear(dxp)
	for img := 0; img < n; img++ {
		for ty := 0; ty < c.th; ty++ {
			t0 := (img*c.th + ty) * c.tw
			kernels.WinogradGradInput(c.tw, cin, v[t0*cin:], vs, dxp[(img*(h+2)+2*ty)*prs:], prs)
		}
	}
	copyRows(dx, denseLayout(c.in), dxp, c.winoPadded(cin), n, h, w*cin)
	putWinoScratch(dxp)
}

// winoPadded is the layout of the image rows in the Winograd scratch (the
// padded input and input gradient): (H+2)×(W+2) pixels of ch channels per
// image, the image one pixel in from the top left.
func (c *Conv2D[T]) winoPadded(ch int) rowLayout {
	prs := (c.in.W + 2) * ch
	return rowLayout{off: prs + ch, row: prs, img: (c.in.H + 2) * prs}
}

// winoTerms multiplies by the 16 transformed kernels of a pass, packed:
// kernels.PackedB (float32) or kernels.PackedWinoBF16.
type winoTerms interface {
	MulTerm(t, m int, a []float32, lda int, c []float32, ldc int)
}

// winogradKernel returns the transformed kernel for the forward products
// (U: 16 matrices Cin×Cout) or, with transposed, for the dX products (Uᵀ:
// 16 matrices Cout×Cin). In a float32 pass of a Net it returns them packed
// for the GEMM kernels (kernels.PackedB; in bf16 rounded and packed for
// the bf16 kernels, kernels.PackedWinoBF16), made once per pass and shared
// by the shards (derived.go), the transform written straight into the
// packed layout by all cores at once (the other shards wait for it anyway:
// in bSAM's sixteen passes per step this fill is on the critical path).
// Otherwise it returns them unpacked, the layer's own, remade on every
// call.
func (c *Conv2D[T]) winogradKernel(ctx *Ctx, transposed bool) (u []T, pt winoTerms) {
	cin, cout := c.in.C, c.cfg.Out
	n := cin * cout
	var z T
	if ctx.derived == nil || !shareDerived || unsafe.Sizeof(z) != 4 {
		if c.wu == nil {
			c.wu = make([]T, 25*n)
		}
		return c.winogradFill(c.wu, transposed), nil
	}
	w := f32s(c.w)
	if c.bf16 {
		kind := derivedWinoBF16
		if transposed {
			kind = derivedWinoBF16T
		}
		v, fill := ctx.derived.derivedFor(derivedKey{c.woff, kind}, func() any { return new(winoPackedBF16) })
		wp := v.(*winoPackedBF16)
		if fill != nil {
			if transposed {
				wp.pb.Prepare(cin, cout, w, true)
			} else {
				wp.pb.Prepare(cout, cin, w, false)
			}
			parallelRows(wp, wp.pb.Pairs())
			fill.Unlock()
		}
		return nil, &wp.pb
	}
	kind := derivedPackedWino
	if transposed {
		kind = derivedPackedWinoT
	}
	v, fill := ctx.derived.derivedFor(derivedKey{c.woff, kind}, func() any { return new(winoPacked) })
	wp := v.(*winoPacked)
	if fill != nil {
		rows := cin
		if transposed {
			wp.pb.PrepareWinogradT(cin, cout, w)
			rows = cout
		} else {
			wp.pb.PrepareWinograd(cout, cin, w)
		}
		parallelRows(wp, rows)
		fill.Unlock()
	}
	return nil, &wp.pb
}

// winoPacked is a shared, packed Winograd kernel (U, or Uᵀ made from the
// kernel's transposed taps).
type winoPacked struct {
	pb kernels.PackedB
	wg sync.WaitGroup
}

func (wp *winoPacked) fillRows(r0, r1 int) { wp.pb.PackWinogradRows(r0, r1) }

func (wp *winoPacked) waitGroup() *sync.WaitGroup { return &wp.wg }

// winoPackedBF16 is winoPacked's bf16 form, filled by row pairs.
type winoPackedBF16 struct {
	pb kernels.PackedWinoBF16
	wg sync.WaitGroup
}

func (wp *winoPackedBF16) fillRows(q0, q1 int) { wp.pb.FillPairs(q0, q1) }

func (wp *winoPackedBF16) waitGroup() *sync.WaitGroup { return &wp.wg }

// winogradFill writes U (16 planes Cin×Cout) or, when transposed, Uᵀ
// (16 planes Cout×Cin, the transform of the kernel with each tap
// transposed, which goes after them) into buf (25·Cin·Cout values) and
// returns the 16 planes: the one a Forward or a Backward needs.
func (c *Conv2D[T]) winogradFill(buf []T, transposed bool) []T {
	cin, cout := c.in.C, c.cfg.Out
	n := cin * cout
	u, w := buf[:16*n], c.w
	if transposed {
		w = buf[16*n : 25*n]
		for tap := 0; tap < 9; tap++ {
			kernels.Transpose(w[tap*n:(tap+1)*n], c.w[tap*n:(tap+1)*n], cin, cout)
		}
	}
	kernels.WinogradKernel(n, w, u)
	return u
}

// winoFree keeps the scratch of Winograd passes for reuse: the padded
// input of a Forward, the products M (dM), the padded input gradient and
// dU (16·Cin·Cout values, up to 16 MiB for ResNet-18's 512-channel stage),
// at most two held at once by a running pass (Backward's dM and dU),
// instead of one of each per layer and replica. A buffer is made only when
// no free one is large enough, so once as many of each size exist as run
// at once, nothing is allocated.
var winoFree = struct {
	sync.Mutex
	f32 [][]float32
	f64 [][]float64
}{f32: make([][]float32, 0, 256), f64: make([][]float64, 0, 256)}

// winoList returns the free list for T (the lists hold slices, not
// interfaces, so that taking and returning a buffer allocates nothing).
func winoList[T Float]() *[][]T {
	var z T
	if unsafe.Sizeof(z) == 4 {
		return (*[][]T)(unsafe.Pointer(&winoFree.f32))
	}
	return (*[][]T)(unsafe.Pointer(&winoFree.f64))
}

func getWinoScratch[T Float](n int) []T {
	winoFree.Lock()
	l := winoList[T]()
	// The smallest free buffer that holds n values: the layers ask for
	// different sizes, so taking whichever came last would drop buffers
	// and allocate new ones for many steps before the sizes settle.
	best := -1
	for i, b := range *l {
		if cap(b) >= n && (best < 0 || cap(b) < cap((*l)[best])) {
			best = i
		}
	}
	var b []T
	if best >= 0 {
		last := len(*l) - 1
		b = (*l)[best]
		(*l)[best] = (*l)[last]
		(*l)[last] = nil
		*l = (*l)[:last]
	}
	winoFree.Unlock()
	if b == nil {
		return make([]T, n)
	}
	return b[:n]
}

func putWinoScratch[T Float](b []T) {
	winoFree.Lock()
	if l := winoList[T](); len(*l) < cap(*l) {
		*l = append(*l, b)
	}
	winoFree.Unlock()
}
