package nn

import (
	"fmt"
	"unsafe"

	"github.com/bsam-dev/bsam/pkg/kernels"
)

// Padding selects how convolution and pooling windows treat the border.
type Padding int

const (
	// PadSame is TensorFlow's SAME: the output has ceil(H/stride) rows; the
	// total padding max((ceil(H/s)−1)·s + k − H, 0) is split with the
	// smaller half before and the rest after.
	PadSame Padding = iota
	// PadValid uses no padding: (H−k)/s + 1 output rows.
	PadValid
)

// String returns "SAME" or "VALID".
func (p Padding) String() string {
	if p == PadValid {
		return "VALID"
	}
	return "SAME"
}

// outSize returns the output length and the padding before the first
// element for an input of length n, window k and stride s.
func outSize(n, k, s int, p Padding) (out, before int) {
	if p == PadValid {
		if n < k {
			return 0, 0
		}
		return (n-k)/s + 1, 0
	}
	out = (n + s - 1) / s
	total := max((out-1)*s+k-n, 0)
	return out, total / 2
}

// Conv2DConfig describes a 2-D convolution.
type Conv2DConfig struct {
	Name    string  // name scope of the parameters ("conv"); empty for none
	Out     int     // output channels
	K       int     // square kernel size
	Stride  int     // stride in both directions (0 means 1)
	Padding Padding // PadSame or PadValid
	Bias    bool    // add a per-channel bias
	HeInit  bool    // He-normal weights; otherwise haiku's default TruncNormal(1/√fan_in)
	// Method forces an algorithm (tests); ConvAuto picks one by shape.
	Method ConvMethod
}

// ConvMethod selects how a convolution is computed.
type ConvMethod int

const (
	// ConvAuto uses the implicit GEMM for stride-1 SAME convolutions with an
	// odd kernel unless its padded geometry computes more than
	// ImplicitMaxWaste times the useful rows (small images), a single GEMM
	// for unpadded 1×1 stride-1 ones, and im2col otherwise.
	ConvAuto ConvMethod = iota
	// ConvIm2col always lowers the input to an im2col matrix.
	ConvIm2col
	// ConvImplicit uses the implicit GEMM wherever it applies.
	ConvImplicit
	// ConvWinograd uses Winograd F(2×2, 3×3) (winograd.go) wherever it
	// applies: 3×3 stride-1 SAME convolutions of images with an even
	// height and width.
	ConvWinograd
)

// ImplicitMaxWaste bounds the ratio of rows the implicit GEMM computes
// (padded geometry, (H+p)(W+p)) to useful output rows (H·W) under
// ConvAuto: 32×32 and 16×16 images (1.07, 1.13) and 8×8 (1.27) qualify,
// 4×4 (1.56) goes to im2col, whose 9-fold copy is cheaper there.
const ImplicitMaxWaste = 1.3

// Conv2D is a 2-D convolution over NHWC activations with an HWIO kernel
// (kh, kw, cin, cout) and an optional bias; forward, dX, dW and db are
// GEMMs (kernels.Gemm) over one shard's examples.
//
// Stride-1 SAME convolutions with an odd kernel K (p = K/2) on images that
// are not too small (see ConvAuto) run as implicit GEMMs. The input is copied
// once into a padded geometry with rows of W+p pixels and H+p rows per image,
// where the right padding of a row is the left padding of the next and the
// bottom padding of an image the top padding of the next; pads are zeroed
// once and never written. Output pixel q then reads input pixels
// q + (kh−p)(W+p) + (kw−p), so each kernel row kh is one GEMM whose A row q
// holds the K consecutive pixels from q + (kh−p)(W+p) − p: rows that overlap
// in memory when the GEMM accepts a leading dimension below the row length
// (OverlappingRows), otherwise a K-fold expansion of the padded input. The
// output comes out in the same geometry and is copied back (adding the bias);
// dW uses the same A operand transposed, dX the padded dy with the kernel
// flipped. 1×1 stride-1 convolutions are one GEMM on the input; every other
// shape goes through im2col.
type Conv2D[T Float] struct {
	cfg          Conv2DConfig
	in, out      Shape
	padT, padL   int
	mode         convMode
	woff, boff   int
	w, b, dw, db []T

	// implicit GEMM geometry: padding p, padded row length wp, rows per image hp.
	p, wp, hp int

	x     []T // the last Forward's input (implicit GEMM and 1×1 paths read it in Backward)
	xpad  []T // padded input (implicit) or im2col matrix
	ypad  []T // output in the padded geometry (implicit)
	y     []T
	dpad  []T // padded dy (implicit)
	xexp  []T // xpad expanded to K pixels per row (implicit, !OverlappingRows)
	dexp  []T // dpad expanded likewise
	dxpad []T // dx in the padded geometry (implicit) or dcols (im2col)
	dx    []T
	wt    []T   // flipped, transposed kernel for dX (implicit) when Backward runs unsharded
	aoff  []int // row offsets of the shifted A operands of the implicit GEMMs
	dxAdd []T   // added to the next dX (see addIntoDX)
	maxN  int
	bf16  bool // GEMMs with bf16 operands (see Precision)

	// Fusion with neighbouring FRN layers (fuse.go), implicit mode only:
	// Forward finds its input already in xpad (inFused), Backward finds dy
	// already in dpad (dyFused) and leaves dx in dxpad, returning nil
	// (dxFused).
	inFused, dyFused, dxFused bool
	// yFused: the FRN after it reads y from ypad in evaluation passes, where
	// Forward leaves it without the bias and returns nil (leavesY).
	yFused bool

	// Winograd F(2×2, 3×3) (winograd.go): wino asks ConvAuto for it where
	// it applies (SetConvAlgorithm); th×tw tiles per image; vw holds the
	// transformed input V from Forward to Backward (dV in Backward; the
	// other Winograd buffers are scratch, getWinoScratch); wu is the
	// layer's own transformed kernel when driven outside a Net.
	wino   bool
	th, tw int
	vw     []T
	wu     []T
}

// OverlappingRows reports whether kernels.Gemm accepts an A operand whose
// leading dimension is smaller than its row length (rows overlapping in
// memory). Implicit-GEMM convolutions then read the padded input in place;
// otherwise they first expand it K-fold. It is probed once at start-up and
// may be changed by tests (not while a pass runs).
var OverlappingRows = probeOverlappingRows()

func probeOverlappingRows() (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	a := []float32{1, 2, 3, 4}
	b := []float32{1, 1, 1}
	c := make([]float32, 2)
	// Rows (1,2,3) and (2,3,4), leading dimension 1.
	kernels.Gemm(false, false, 2, 1, 3, 1, a, 1, b, 1, 0, c, 1)
	return c[0] == 6 && c[1] == 9
}

type convMode int

const (
	convIm2col convMode = iota
	convImplicit
	convPointwise
	convWinograd
)

// NewConv2D returns a convolution layer with the given configuration.
func NewConv2D[T Float](cfg Conv2DConfig) *Conv2D[T] {
	if cfg.Stride == 0 {
		cfg.Stride = 1
	}
	if cfg.K <= 0 || cfg.Out <= 0 {
		panic(fmt.Sprintf("nn: bad convolution config %+v", cfg))
	}
	return &Conv2D[T]{cfg: cfg}
}

// Setup registers "weight" (K, K, cin, Out) and, with a bias, "bias" (Out)
// under the layer's name scope and returns the output shape.
func (c *Conv2D[T]) Setup(b *Builder, in Shape) Shape {
	k, s := c.cfg.K, c.cfg.Stride
	c.in = in
	oh, pt := outSize(in.H, k, s, c.cfg.Padding)
	ow, pl := outSize(in.W, k, s, c.cfg.Padding)
	if oh <= 0 || ow <= 0 {
		panic(fmt.Sprintf("nn: convolution %d×%d/%d %v on %v has no output", k, k, s, c.cfg.Padding, in))
	}
	c.out, c.padT, c.padL = Shape{oh, ow, c.cfg.Out}, pt, pl
	switch {
	case c.winogradApplies(in):
		c.mode = convWinograd
		c.th, c.tw = in.H/2, in.W/2
	case k == 1 && s == 1 && c.cfg.Method != ConvIm2col:
		c.mode = convPointwise
	case s == 1 && k%2 == 1 && c.cfg.Padding == PadSame && c.cfg.Method != ConvIm2col &&
		(c.cfg.Method == ConvImplicit || float64((in.H+k/2)*(in.W+k/2)) <= ImplicitMaxWaste*float64(in.H*in.W)):
		c.mode = convImplicit
		c.p = (k - 1) / 2
		c.wp = in.W + c.p
		c.hp = in.H + c.p
	default:
		c.mode = convIm2col
	}
	if c.cfg.Name != "" {
		b.Push(c.cfg.Name)
	}
	fanIn := k * k * in.C
	init := HaikuDefault(fanIn)
	if c.cfg.HeInit {
		init = HeNormal(fanIn)
	}
	c.woff = b.Param("weight", []int{k, k, in.C, c.cfg.Out}, init)
	c.boff = -1
	if c.cfg.Bias {
		c.boff = b.Param("bias", []int{c.cfg.Out}, Init{Kind: InitConst})
	}
	if c.cfg.Name != "" {
		b.Pop()
	}
	return c.out
}

// Bind points the layer at its weights and gradients.
func (c *Conv2D[T]) Bind(params, grads, state []T) {
	nw := c.cfg.K * c.cfg.K * c.in.C * c.cfg.Out
	c.w, c.dw = params[c.woff:c.woff+nw], grads[c.woff:c.woff+nw]
	if c.boff >= 0 {
		c.b, c.db = params[c.boff:c.boff+c.cfg.Out], grads[c.boff:c.boff+c.cfg.Out]
	}
}

// padPixels returns the number of pixels of the padded geometry for n images.
func (c *Conv2D[T]) padPixels(n int) int { return (n*c.hp+c.p)*c.wp + c.p }

// firstOut is the padded-geometry index of output pixel (0, 0, 0).
func (c *Conv2D[T]) firstOut() int { return c.p*c.wp + c.p }

// spanRows is the number of padded-geometry rows from the first to the last
// output pixel of n images.
func (c *Conv2D[T]) spanRows(n int) int {
	last := (c.p+(n-1)*c.hp+c.in.H-1)*c.wp + c.p + c.in.W - 1
	return last - c.firstOut() + 1
}

func (c *Conv2D[T]) alloc(n int) {
	if n <= c.maxN {
		return
	}
	c.maxN = n
	cin, cout, k := c.in.C, c.cfg.Out, c.cfg.K
	c.y = make([]T, n*c.out.Size())
	c.dx = make([]T, n*c.in.Size())
	switch c.mode {
	case convImplicit:
		// Padding positions are never written, so zeroing once suffices.
		c.xpad = make([]T, c.padPixels(n)*cin)
		c.dpad = make([]T, c.padPixels(n)*cout)
		c.xexp = make([]T, c.expRows(n)*k*cin)
		c.dexp = make([]T, c.expRows(n)*k*cout)
		c.ypad = make([]T, c.spanRows(n)*cout)
		c.dxpad = make([]T, c.spanRows(n)*cin)
		c.aoff = make([]int, k)
	case convIm2col:
		kk := c.cfg.K * c.cfg.K * cin
		c.xpad = make([]T, n*c.out.H*c.out.W*kk)
		c.dxpad = make([]T, n*c.out.H*c.out.W*kk)
	case convWinograd:
		c.winogradAlloc(n)
	}
}

// Forward computes the convolution of ctx.N examples. Fused to the FRN
// after it, in evaluation passes it leaves the output in ypad for that FRN
// and returns nil (leavesY).
func (c *Conv2D[T]) Forward(ctx *Ctx, x []T) []T {
	n := ctx.N
	c.alloc(n)
	c.x = x
	cin, cout, k := c.in.C, c.cfg.Out, c.cfg.K
	rows := n * c.out.H * c.out.W
	y := c.y[:rows*cout]
	switch c.mode {
	case convPointwise:
		gemm(c.bf16, false, false, rows, cout, cin, 1, x, cin, c.w, cout, 0, y, cout)
		addBias(y, y, c.b)
	case convImplicit:
		if !c.inFused {
			c.toPadded(x, c.xpad, n, cin)
		}
		a, lda := c.expand(c.xpad, c.xexp, n, cin)
		m := c.spanRows(n)
		yp := c.ypad[:m*cout]
		kc := k * cin
		for kh := range c.aoff {
			c.aoff[kh] = kh * c.wp * lda
		}
		c.gemmSumW(ctx, derivedPackedW, m, cout, kc, a, lda, yp)
		if c.leavesY(ctx) {
			return nil
		}
		c.fromPadded(yp, y, n, cout, c.b)
	case convIm2col:
		kk := k * k * cin
		cols := c.xpad[:rows*kk]
		c.im2col(x, cols, n)
		gemm(c.bf16, false, false, rows, cout, kk, 1, cols, kk, c.w, cout, 0, y, cout)
		addBias(y, y, c.b)
	case convWinograd:
		c.winogradForward(ctx, x, y)
	}
	return y
}

// leavesY reports whether Forward leaves its output in ypad, without the
// bias, for the fused FRN after it to read (evaluation passes only:
// training keeps the dense y that FRN.Backward needs).
func (c *Conv2D[T]) leavesY(ctx *Ctx) bool { return c.yFused && !ctx.Train }

// addIntoDX asks the next Backward to return dX + extra instead of dX (a
// residual block's identity-shortcut gradient, added during the copy out of
// the padded layout). Only the implicit mode takes it, where the sum is
// rounded exactly as a separate add; it reports whether it did.
func (c *Conv2D[T]) addIntoDX(extra []T) bool {
	if c.mode != convImplicit || c.dxFused {
		return false
	}
	c.dxAdd = extra
	return true
}

// Backward writes dW (see writtenGrads), accumulates db and returns dX
// when needDX.
func (c *Conv2D[T]) Backward(ctx *Ctx, dy []T, needDX bool) []T {
	defer func() { c.dxAdd = nil }()
	n := ctx.N
	cin, cout, k := c.in.C, c.cfg.Out, c.cfg.K
	rows := n * c.out.H * c.out.W
	if c.dyFused {
		if c.db != nil {
			c.sumPaddedRows(c.db, c.dpad, n, cout)
		}
	} else {
		dy = dy[:rows*cout]
		if c.db != nil {
			sumRows(c.db, dy, rows, cout)
		}
	}
	var dx []T
	if needDX {
		dx = c.dx[:n*c.in.Size()]
	}
	switch c.mode {
	case convPointwise:
		gemm(c.bf16, true, false, cin, cout, rows, 1, c.x, cin, dy, cout, 0, c.dw, cout)
		if needDX {
			gemm(c.bf16, false, true, rows, cin, cout, 1, dy, cout, c.w, cout, 0, dx, cin)
		}
	case convImplicit:
		if !c.dyFused {
			c.toPadded(dy, c.dpad, n, cout)
		}
		m := c.spanRows(n)
		kc := k * cin
		d0 := c.dpad[c.firstOut()*cout:]
		a, lda := c.xpad, cin // expanded by Forward when needed
		if !OverlappingRows {
			a, lda = c.xexp, kc
		}
		for kh := 0; kh < k; kh++ {
			gemm(c.bf16, true, false, kc, cout, m, 1, a[kh*c.wp*lda:], lda,
				d0, cout, 0, c.dw[kh*kc*cout:], cout) // kernel row kh: its own kc×cout block
		}
		if needDX {
			d, ldd := c.expand(c.dpad, c.dexp, n, cout)
			dxp := c.dxpad[:m*cin]
			ko := k * cout
			for kh := range c.aoff {
				c.aoff[kh] = (k - 1 - kh) * c.wp * ldd
			}
			c.gemmSumW(ctx, derivedPackedFlipped, m, cin, ko, d, ldd, dxp)
			if c.dxFused {
				return nil
			}
			if c.dxAdd != nil {
				c.fromPaddedAdd(dxp, dx, n, cin, c.dxAdd[:len(dx)])
			} else {
				c.fromPadded(dxp, dx, n, cin, nil)
			}
		}
	case convIm2col:
		kk := k * k * cin
		cols := c.xpad[:rows*kk]
		gemm(c.bf16, true, false, kk, cout, rows, 1, cols, kk, dy, cout, 0, c.dw, cout)
		if needDX {
			dcols := c.dxpad[:rows*kk]
			gemm(c.bf16, false, true, rows, kk, cout, 1, dy, cout, c.w, cout, 0, dcols, kk)
			c.col2im(dcols, dx, n)
		}
	case convWinograd:
		c.winogradBackward(ctx, dy, dx)
	}
	return dx
}

// expRows is the number of rows of K pixels the implicit GEMMs read for n
// images: K−1 kernel rows of shift plus the output span.
func (c *Conv2D[T]) expRows(n int) int { return (c.cfg.K-1)*c.wp + c.spanRows(n) }

// expand returns the A operand of the implicit GEMMs over the padded buffer
// p (ch channels per pixel) and its leading dimension: p itself with
// leading dimension ch when OverlappingRows, otherwise e filled with one row
// of K consecutive pixels of p per pixel.
func (c *Conv2D[T]) expand(p, e []T, n, ch int) ([]T, int) {
	if OverlappingRows {
		return p, ch
	}
	kc := c.cfg.K * ch
	rows := c.expRows(n)
	for q := 0; q < rows; q++ {
		copy(e[q*kc:(q+1)*kc], p[q*ch:q*ch+kc])
	}
	return e, kc
}

// toPadded copies n NHWC images with ch channels into the padded geometry.
func (c *Conv2D[T]) toPadded(src, dst []T, n, ch int) {
	rowLen := c.in.W * ch
	copyRows(dst, c.paddedIn(ch), src, rowLayout{row: rowLen, img: c.in.H * rowLen}, n, c.in.H, rowLen)
}

// sumPaddedRows adds the image rows of the padded buffer src (ch channels
// per pixel) into the per-channel sums dst, row after row as sumRows would
// over the dense tensor.
func (c *Conv2D[T]) sumPaddedRows(dst, src []T, n, ch int) {
	l, w := c.paddedIn(ch), c.in.W
	for i := 0; i < n; i++ {
		for r := 0; r < c.in.H; r++ {
			sumRows(dst, src[l.at(i, r):], w, ch)
		}
	}
}

// fromPadded copies the output pixels of the padded geometry (starting at
// the first output pixel) into dense NHWC, adding bias when non-nil.
func (c *Conv2D[T]) fromPadded(src, dst []T, n, ch int, bias []T) {
	l, rowLen := c.paddedOut(ch), c.in.W*ch
	for i := 0; i < n; i++ {
		for r := 0; r < c.in.H; r++ {
			q := l.at(i, r)
			d := (i*c.in.H + r) * rowLen
			if bias == nil {
				copy(dst[d:d+rowLen], src[q:q+rowLen])
				continue
			}
			addBias(dst[d:d+rowLen], src[q:q+rowLen], bias)
		}
	}
}

// fromPaddedAdd is fromPadded without bias that also adds extra (dense
// NHWC like dst): dst = src + extra.
func (c *Conv2D[T]) fromPaddedAdd(src, dst []T, n, ch int, extra []T) {
	l, rowLen := c.paddedOut(ch), c.in.W*ch
	for i := 0; i < n; i++ {
		for r := 0; r < c.in.H; r++ {
			q := l.at(i, r)
			d := (i*c.in.H + r) * rowLen
			addTo(dst[d:d+rowLen], src[q:q+rowLen], extra[d:d+rowLen])
		}
	}
}

// flippedKernel returns the kernel of the transposed convolution that
// computes dX (see flipKernel): one copy per pass of a Net, shared by all
// its shards (derived.go), or the layer's own when driven outside a Net.
func (c *Conv2D[T]) flippedKernel(ctx *Ctx) []T {
	if ctx.derived == nil || !shareDerived {
		if c.wt == nil {
			c.wt = make([]T, len(c.w))
		}
		c.flipKernel(c.wt)
		return c.wt
	}
	wt, fill := sharedDerived[T](ctx.derived, derivedKey{c.woff, derivedFlipped}, len(c.w))
	if fill != nil {
		defer fill.Unlock()
		c.flipKernel(wt)
	}
	return wt
}

// gemmSumW is gemmSum(c.bf16, m, n, k, a, lda, c.aoff, b, n, dst, n) for b
// the kernel (kind derivedPackedW) or its flipped form (derivedPackedFlipped).
// In a float32 pass of a Net, b is packed into the layout of the GEMM
// kernels once per pass and shared by its shards (derived.go), with the
// same bits; the flipped form goes straight from the kernel into that
// layout.
func (c *Conv2D[T]) gemmSumW(ctx *Ctx, kind derivedKind, m, n, k int, a []T, lda int, dst []T) {
	flipped := kind == derivedPackedFlipped
	if !c.sharesPacked(ctx) {
		b := c.w
		if flipped {
			b = c.flippedKernel(ctx)
		}
		gemmSum(c.bf16, m, n, k, a, lda, c.aoff, b, n, dst, n)
		return
	}
	pb, fill := sharedPacked(ctx.derived, derivedKey{c.woff, kind})
	if fill != nil {
		func() {
			defer fill.Unlock()
			if flipped {
				pb.PackFlipped(c.cfg.K, c.in.C, c.cfg.Out, f32s(c.w))
			} else {
				pb.Pack(n, k, len(c.aoff), f32s(c.w), n)
			}
		}()
	}
	kernels.GemmSumPacked(m, n, k, f32s(a), lda, c.aoff, pb, f32s(dst), n)
}

// sharesPacked reports whether the pass packs this layer's GEMM operands
// once for all its shards (float32, in a Net).
func (c *Conv2D[T]) sharesPacked(ctx *Ctx) bool {
	var z T
	return ctx.derived != nil && shareDerived && !c.bf16 && unsafe.Sizeof(z) == 4
}

// flipKernel fills wt[kh][j][co][ci] = w[kh][K−1−j][ci][co], the kernel of
// the transposed convolution that computes dX.
func (c *Conv2D[T]) flipKernel(wt []T) {
	kernels.FlipKernel(wt, c.w, c.cfg.K, c.in.C, c.cfg.Out)
}

// im2col writes one row of K·K·cin values per output pixel.
func (c *Conv2D[T]) im2col(x, cols []T, n int) {
	k, s, cin := c.cfg.K, c.cfg.Stride, c.in.C
	h, w := c.in.H, c.in.W
	kk := k * k * cin
	idx := 0
	for i := 0; i < n; i++ {
		img := x[i*h*w*cin : (i+1)*h*w*cin]
		for oy := 0; oy < c.out.H; oy++ {
			for ox := 0; ox < c.out.W; ox++ {
				row := cols[idx*kk : (idx+1)*kk]
				idx++
				ix0 := ox*s - c.padL
				inside := ix0 >= 0 && ix0+k <= w // the window's columns
				for kh := 0; kh < k; kh++ {
					iy := oy*s + kh - c.padT
					seg := row[kh*k*cin : (kh+1)*k*cin]
					if iy < 0 || iy >= h {
						clear(seg)
						continue
					}
					if inside {
						// The K pixels of the window row are contiguous.
						copy(seg, img[(iy*w+ix0)*cin:])
						continue
					}
					for kw := 0; kw < k; kw++ {
						ix := ox*s + kw - c.padL
						dst := seg[kw*cin : (kw+1)*cin]
						if ix < 0 || ix >= w {
							clear(dst)
							continue
						}
						copy(dst, img[(iy*w+ix)*cin:])
					}
				}
			}
		}
	}
}

// col2im scatters dcols back onto dx (overwriting dx).
func (c *Conv2D[T]) col2im(dcols, dx []T, n int) {
	k, s, cin := c.cfg.K, c.cfg.Stride, c.in.C
	h, w := c.in.H, c.in.W
	kk := k * k * cin
	clear(dx)
	idx := 0
	for i := 0; i < n; i++ {
		img := dx[i*h*w*cin : (i+1)*h*w*cin]
		for oy := 0; oy < c.out.H; oy++ {
			for ox := 0; ox < c.out.W; ox++ {
				row := dcols[idx*kk : (idx+1)*kk]
				idx++
				for kh := 0; kh < k; kh++ {
					iy := oy*s + kh - c.padT
					if iy < 0 || iy >= h {
						continue
					}
					for kw := 0; kw < k; kw++ {
						ix := ox*s + kw - c.padL
						if ix < 0 || ix >= w {
							continue
						}
						off := (kh*k + kw) * cin
						if k <= s {
							// Windows do not overlap: each pixel gets at
							// most one term.
							copy(img[(iy*w+ix)*cin:(iy*w+ix+1)*cin], row[off:off+cin])
							continue
						}
						addInPlace(img[(iy*w+ix)*cin:(iy*w+ix+1)*cin], row[off:off+cin])
					}
				}
			}
		}
	}
}

// writtenGrads is the range of the gradient buffer that Backward writes
// rather than adds into: the kernel's (every mode stores dW with beta 0,
// or by kernels.WinogradKernelGradSet, with the bits of adding into
// zeros), so a training pass need not zero it first (gradWriter). One bit
// differs from adding into zeros on the direct paths: a GEMM sum that
// underflows below the normal range (flushed to zero by the kernels) stays
// −0 where 0 + (−0) gave +0; the sign of a zero changes no nonzero value
// computed from it, so no logit, loss or metric changes.
func (c *Conv2D[T]) writtenGrads() (off, n int) {
	return c.woff, c.cfg.K * c.cfg.K * c.in.C * c.cfg.Out
}
