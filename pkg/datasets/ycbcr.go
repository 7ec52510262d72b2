package datasets

import "image"

// JPEG colour reconstruction as libjpeg(-turbo) does it, the library behind
// PIL and hence torchvision's ImageFolder: chroma planes subsampled 2×2
// (4:2:0) are upsampled with the "fancy" triangle filter (jdsample.c,
// h2v2_fancy_upsample) instead of Go's nearest-neighbour lookup, and
// YCbCr→RGB uses libjpeg's fixed-point tables (jdcolor.c). The inverse DCT
// is still Go's, so pixels can differ from PIL's by about one level.

// libjpeg's fixed-point constants: FIX(x) = round(x·2¹⁶).
const (
	fix1402  = 91881  // FIX(1.40200)
	fix1772  = 116130 // FIX(1.77200)
	fix07141 = 46802  // FIX(0.71414)
	fix03441 = 22554  // FIX(0.34414)
	oneHalf  = 1 << 15
)

// yccToRGB converts one pixel with libjpeg's ycc_rgb_convert arithmetic.
func yccToRGB(y, cb, cr uint8) (uint8, uint8, uint8) {
	yy, b1, r1 := int32(y), int32(cb)-128, int32(cr)-128
	r := yy + (fix1402*r1+oneHalf)>>16
	g := yy + (-fix03441*b1+oneHalf-fix07141*r1)>>16
	b := yy + (fix1772*b1+oneHalf)>>16
	return clamp8(r), clamp8(g), clamp8(b)
}

func clamp8(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// fancyUpsample2x2 upsamples a cw×ch chroma plane (row stride stride) to
// 2cw×2ch with libjpeg's h2v2 triangle filter: each output sample is
// 9/16 of the nearest input sample, 3/16 of each of the two next nearest
// and 1/16 of the diagonal one, with edge samples replicated and libjpeg's
// alternating rounding (+8, +7). Planes narrower than 3 samples are
// upsampled by replication, as libjpeg does.
func fancyUpsample2x2(plane []uint8, cw, ch, stride int) []uint8 {
	ow := 2 * cw
	out := make([]uint8, ow*2*ch)
	if cw <= 2 {
		for y := range 2 * ch {
			for x := range ow {
				out[y*ow+x] = plane[(y/2)*stride+x/2]
			}
		}
		return out
	}
	colsum := make([]int32, cw)
	for r := range ch {
		row0 := plane[r*stride : r*stride+cw]
		for v := range 2 {
			nr := r - 1 // upper output row: the next nearest row is above
			if v == 1 {
				nr = r + 1
			}
			nr = min(max(nr, 0), ch-1)
			row1 := plane[nr*stride : nr*stride+cw]
			for i := range cw {
				colsum[i] = 3*int32(row0[i]) + int32(row1[i])
			}
			o := out[(2*r+v)*ow : (2*r+v+1)*ow]
			o[0] = uint8((colsum[0]*4 + 8) >> 4)
			o[1] = uint8((colsum[0]*3 + colsum[1] + 7) >> 4)
			for i := 1; i < cw-1; i++ {
				o[2*i] = uint8((colsum[i]*3 + colsum[i-1] + 8) >> 4)
				o[2*i+1] = uint8((colsum[i]*3 + colsum[i+1] + 7) >> 4)
			}
			last := cw - 1
			o[2*last] = uint8((colsum[last]*3 + colsum[last-1] + 8) >> 4)
			o[2*last+1] = uint8((colsum[last]*4 + 7) >> 4)
		}
	}
	return out
}

// ycbcrToRGB writes the w×h pixels of m as RGB into rgb with libjpeg's
// upsampling (4:2:0) and colour conversion; other subsampling ratios use
// Go's nearest-neighbour chroma lookup.
func ycbcrToRGB(m *image.YCbCr, rgb []uint8) {
	b := m.Rect
	w, h := b.Dx(), b.Dy()
	if m.SubsampleRatio == image.YCbCrSubsampleRatio420 && b.Min == (image.Point{}) {
		cw, ch := (w+1)/2, (h+1)/2
		cb := fancyUpsample2x2(m.Cb, cw, ch, m.CStride)
		cr := fancyUpsample2x2(m.Cr, cw, ch, m.CStride)
		ow := 2 * cw
		for y := range h {
			for x := range w {
				o := (y*w + x) * 3
				rgb[o], rgb[o+1], rgb[o+2] = yccToRGB(m.Y[y*m.YStride+x], cb[y*ow+x], cr[y*ow+x])
			}
		}
		return
	}
	for y := range h {
		for x := range w {
			yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
			ci := m.COffset(b.Min.X+x, b.Min.Y+y)
			o := (y*w + x) * 3
			rgb[o], rgb[o+1], rgb[o+2] = yccToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
		}
	}
}
