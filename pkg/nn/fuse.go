package nn

// Layer fusion inside a Chain: an FRN and the implicit-GEMM convolutions
// next to it hand tensors over in the convolution's padded geometry instead
// of copying them into and out of it.
//
//	conv → FRN   FRN.Backward writes dx straight into the convolution's
//	             padded dy buffer (the copy Conv2D.Backward would make of dy).
//	             In evaluation passes FRN.Forward reads x straight from the
//	             convolution's padded output, adding its bias on the fly
//	             (the copy out of it and the separate bias add).
//	FRN → conv   FRN.Forward writes its output z straight into the
//	             convolution's padded input (the copy Conv2D.Forward would
//	             make of x); Conv2D.Backward leaves dx in its padded dx buffer
//	             and FRN.Backward reads dz from there (the copy out of it).
//
// A fused layer returns nil from Forward or Backward: the tensor lives in
// its neighbour's buffer, which only the neighbour reads. The values are the
// same as without fusion, bit for bit: the element-wise passes do not depend
// on where a value sits, and the FRN's periodic sums are cut at row ends only
// where a row is a whole number of their periods (W·C a multiple of the
// FRN's tile), so every accumulator sees the same values in the same order.
// Convolutions that do not use the implicit GEMM, and rows that are not
// whole tiles, are left unfused. (ResNet-20-FRN: 3 of the 4 copies into
// the padded layout per residual block and 1 of the 3 out of it go away in
// training; in evaluation also the other 2 copies out, with their bias
// adds.)

// fuseLayers turns fusion off when false, for tests that check it changes
// nothing. Set it before the network is built.
var fuseLayers = true

// rowLayout says where the H rows (W·C values each) of the images of a
// shard lie in a buffer: row r of image i starts at off + i·img + r·row.
type rowLayout struct{ off, row, img int }

// denseLayout is the layout of n contiguous NHWC images of shape s.
func denseLayout(s Shape) rowLayout {
	return rowLayout{row: s.W * s.C, img: s.Size()}
}

// at returns the offset of row r of image i.
func (l rowLayout) at(i, r int) int { return l.off + i*l.img + r*l.row }

// copyRows copies rows [0, h) of n images, rowLen values each, from src
// (laid out as sl) to dst (laid out as dl).
func copyRows[T Float](dst []T, dl rowLayout, src []T, sl rowLayout, n, h, rowLen int) {
	for i := 0; i < n; i++ {
		for r := 0; r < h; r++ {
			copy(dst[dl.at(i, r):][:rowLen], src[sl.at(i, r):][:rowLen])
		}
	}
}

// firstLayer and lastLayer descend into chains.
func firstLayer[T Float](l Layer[T]) Layer[T] {
	for {
		c, ok := l.(*Chain[T])
		if !ok || len(c.Layers) == 0 {
			return l
		}
		l = c.Layers[0]
	}
}

func lastLayer[T Float](l Layer[T]) Layer[T] {
	for {
		c, ok := l.(*Chain[T])
		if !ok || len(c.Layers) == 0 {
			return l
		}
		l = c.Layers[len(c.Layers)-1]
	}
}

// fuseChain links each pair of consecutive layers of a set-up chain that
// can hand over in the padded geometry (see above).
func fuseChain[T Float](layers []Layer[T]) {
	if !fuseLayers {
		return
	}
	for i := 1; i < len(layers); i++ {
		a, b := lastLayer(layers[i-1]), firstLayer(layers[i])
		if conv, ok := a.(*Conv2D[T]); ok {
			if f, ok := b.(*FRN[T]); ok && conv.fusable(f) && f.prev == nil {
				f.prev, conv.dyFused, conv.yFused = conv, true, true
			}
		}
		if f, ok := a.(*FRN[T]); ok {
			if conv, ok := b.(*Conv2D[T]); ok && conv.fusable(f) && f.next == nil {
				f.next, conv.inFused, conv.dxFused = conv, true, true
			}
		}
	}
}

// fusable reports whether the FRN f next to c can exchange tensors with it
// in c's padded geometry: c uses the implicit GEMM (so its input and output
// images have f's size) and a row is a whole number of f's tiles.
func (c *Conv2D[T]) fusable(f *FRN[T]) bool {
	return c.mode == convImplicit && (f.shape.W*f.shape.C)%f.tileLen == 0
}

// paddedIn is the layout of the image rows, ch channels per pixel, in the
// padded input-geometry buffers (xpad, dpad).
func (c *Conv2D[T]) paddedIn(ch int) rowLayout {
	return rowLayout{off: c.firstOut() * ch, row: c.wp * ch, img: c.hp * c.wp * ch}
}

// paddedOut is the layout of the image rows in the output-geometry buffers
// (ypad, dxpad), which start at the first output pixel.
func (c *Conv2D[T]) paddedOut(ch int) rowLayout {
	return rowLayout{row: c.wp * ch, img: c.hp * c.wp * ch}
}
