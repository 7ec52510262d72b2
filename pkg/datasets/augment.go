package datasets

import "github.com/bsam-dev/bsam/pkg/nn"

// augmentParams returns the random choices of the training transform for
// example idx in epoch e: the crop's top-left corner (dy, dx) in the padded
// image, each uniform in 0..2·pad as torchvision's RandomCrop draws it, and
// whether to flip horizontally (probability ½). They depend only on
// (seed, e, idx).
func augmentParams(seed uint64, e, idx, pad int) (dy, dx int, flip bool) {
	r := rng{state: deriveKey(seed, streamAugment, uint64(e), uint64(idx))}
	dy = r.IntN(2*pad + 1)
	dx = r.IntN(2*pad + 1)
	flip = r.Uint64()>>63 == 1
	return
}

// normalize writes lut-normalised pixels of src (H×W×C) into dst.
func normalize(dst []float32, src []uint8, c int, lut []float32) {
	switch c {
	case 1:
		l := lut[:256]
		for i, v := range src {
			dst[i] = l[v]
		}
	case 3:
		l0, l1, l2 := lut[0:256], lut[256:512], lut[512:768]
		for i := 0; i+2 < len(src); i += 3 {
			dst[i] = l0[src[i]]
			dst[i+1] = l1[src[i+1]]
			dst[i+2] = l2[src[i+2]]
		}
	default:
		for i, v := range src {
			dst[i] = lut[(i%c)*256+int(v)]
		}
	}
}

// cropFlip writes the normalised result of RandomCrop(H×W, padding=pad,
// fill 0) with the crop's top-left corner at (dy, dx) of the padded image,
// followed by a horizontal flip when flip is set. Padded pixels are 0 in
// pixel space, so they normalise to lut[c·256+0] = (0 − mean)/std, as in
// torchvision where padding happens before ToTensor and Normalize.
func cropFlip(dst []float32, src []uint8, s nn.Shape, lut []float32, pad, dy, dx int, flip bool) {
	if s.C == 3 {
		cropFlip3(dst, src, s.H, s.W, lut, pad, dy, dx, flip)
		return
	}
	cropFlipGeneric(dst, src, s, lut, pad, dy, dx, flip)
}

// cropFlip3 is cropFlip for 3 channels: each output row is a run of
// padding, a run of source pixels and another run of padding.
func cropFlip3(dst []float32, src []uint8, h, w int, lut []float32, pad, dy, dx int, flip bool) {
	l0, l1, l2 := lut[0:256:256], lut[256:512:512], lut[512:768:768]
	p0, p1, p2 := l0[0], l1[0], l2[0]
	// Output columns [x0, x1) read source columns; the rest is padding.
	// Unflipped: sx = x + dx − pad; flipped: sx = w − 1 − x + dx − pad.
	// Both are in range for x in [pad − dx, w + pad − dx) resp.
	// [dx − pad, w + dx − pad).
	x0, x1 := pad-dx, w+pad-dx
	if flip {
		x0, x1 = dx-pad, w+dx-pad
	}
	x0 = min(max(x0, 0), w)
	x1 = max(min(x1, w), x0)
	row := 3 * w
	for y := range h {
		d := dst[y*row : (y+1)*row : (y+1)*row]
		sy := y + dy - pad
		if sy < 0 || sy >= h {
			for i := 0; i+2 < len(d); i += 3 {
				d[i], d[i+1], d[i+2] = p0, p1, p2
			}
			continue
		}
		for i := 0; i < 3*x0; i += 3 {
			d[i], d[i+1], d[i+2] = p0, p1, p2
		}
		for i := 3 * x1; i+2 < len(d); i += 3 {
			d[i], d[i+1], d[i+2] = p0, p1, p2
		}
		if x0 == x1 {
			continue
		}
		srow := src[sy*row : (sy+1)*row : (sy+1)*row]
		if !flip {
			sp := srow[3*(x0+dx-pad) : 3*(x1+dx-pad)]
			dp := d[3*x0 : 3*x1]
			for i := 0; i+2 < len(dp) && i+2 < len(sp); i += 3 {
				dp[i] = l0[sp[i]]
				dp[i+1] = l1[sp[i+1]]
				dp[i+2] = l2[sp[i+2]]
			}
			continue
		}
		for x := x0; x < x1; x++ {
			j := 3 * (w - 1 - x + dx - pad)
			i := 3 * x
			sp := srow[j : j+3 : j+3]
			dp := d[i : i+3 : i+3]
			dp[0] = l0[sp[0]]
			dp[1] = l1[sp[1]]
			dp[2] = l2[sp[2]]
		}
	}
}

// cropFlipGeneric is cropFlip for any number of channels, pixel by pixel.
func cropFlipGeneric(dst []float32, src []uint8, s nn.Shape, lut []float32, pad, dy, dx int, flip bool) {
	h, w, c := s.H, s.W, s.C
	row := w * c
	for y := range h {
		sy := y + dy - pad
		drow := dst[y*row : (y+1)*row]
		if sy < 0 || sy >= h {
			for x := range w {
				for ch := range c {
					drow[x*c+ch] = lut[ch*256]
				}
			}
			continue
		}
		srow := src[sy*row : (sy+1)*row]
		for x := range w {
			xs := x
			if flip {
				xs = w - 1 - x
			}
			sx := xs + dx - pad
			d := drow[x*c : x*c+c]
			if sx < 0 || sx >= w {
				for ch := range c {
					d[ch] = lut[ch*256]
				}
				continue
			}
			sp := srow[sx*c : sx*c+c]
			for ch := range c {
				d[ch] = lut[ch*256+int(sp[ch])]
			}
		}
	}
}
