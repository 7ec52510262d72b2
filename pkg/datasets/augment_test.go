package datasets

import (
	"testing"

	"github.com/bsam-dev/bsam/pkg/nn"
)

// identityLUT makes lut[c·256+v] = v + 1000·c, so outputs show both the
// source pixel and the channel; padding shows up as 1000·c.
func identityLUT(c int) []float32 {
	lut := make([]float32, 256*c)
	for ch := range c {
		for v := range 256 {
			lut[ch*256+v] = float32(v + 1000*ch)
		}
	}
	return lut
}

func TestCropFlipHandComputed(t *testing.T) {
	// 3×3 grayscale image with pixels 1..9, pad 1: the padded image is
	//   0 0 0 0 0
	//   0 1 2 3 0
	//   0 4 5 6 0
	//   0 7 8 9 0
	//   0 0 0 0 0
	img := []uint8{1, 2, 3, 4, 5, 6, 7, 8, 9}
	s1 := nn.Shape{H: 3, W: 3, C: 1}
	tests := []struct {
		name   string
		dy, dx int
		flip   bool
		want   []float32
	}{
		{"centre", 1, 1, false, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"top-left", 0, 0, false, []float32{0, 0, 0, 0, 1, 2, 0, 4, 5}},
		{"bottom-right", 2, 2, false, []float32{5, 6, 0, 8, 9, 0, 0, 0, 0}},
		{"top-right", 0, 2, false, []float32{0, 0, 0, 2, 3, 0, 5, 6, 0}},
		{"centre flipped", 1, 1, true, []float32{3, 2, 1, 6, 5, 4, 9, 8, 7}},
		// Crop at (0,0) then flip: [0 0 0; 0 1 2; 0 4 5] mirrored.
		{"top-left flipped", 0, 0, true, []float32{0, 0, 0, 2, 1, 0, 5, 4, 0}},
		{"bottom-right flipped", 2, 2, true, []float32{0, 6, 5, 0, 9, 8, 0, 0, 0}},
	}
	for _, tc := range tests {
		dst := make([]float32, 9)
		cropFlip(dst, img, s1, identityLUT(1), 1, tc.dy, tc.dx, tc.flip)
		for i := range dst {
			if dst[i] != tc.want[i] {
				t.Errorf("%s: got %v, want %v", tc.name, dst, tc.want)
				break
			}
		}
	}
	// Two channels, 1×2 image, pad 1, crop (1,0) flipped: crop row = [pad, px0],
	// flipped = [px0, pad]; padding normalises per channel (1000·c here).
	img2 := []uint8{10, 20, 30, 40} // px0 = (10,20), px1 = (30,40)
	dst := make([]float32, 4)
	cropFlip(dst, img2, nn.Shape{H: 1, W: 2, C: 2}, identityLUT(2), 1, 1, 0, true)
	want := []float32{10, 1020, 0, 1000}
	for i := range want {
		if dst[i] != want[i] {
			t.Fatalf("2-channel crop: got %v, want %v", dst, want)
		}
	}
}

func TestCropFlipPaddingNormalisesZero(t *testing.T) {
	// With CIFAR-10 constants, a padded pixel must equal (0 − mean)/std.
	info, err := Lookup("cifar10")
	if err != nil {
		t.Fatal(err)
	}
	s := &Split{N: 1, Shape: info.Shape, Images: make([]uint8, info.Shape.Size()), Labels: []int32{0}}
	for i := range s.Images {
		s.Images[i] = 200
	}
	l := NewLoader(s, info.Norm, LoaderOptions{BatchSize: 1, Augment: true})
	checked := 0
	for e := range 50 {
		b := <-l.Epoch(t.Context(), e, 0)
		dy, _, _ := augmentParams(0, e, 0, 4)
		// A crop starting above the image (dy < 4) has padded top rows, one
		// starting below (dy > 4) padded bottom rows.
		y := -1
		if dy < 4 {
			y = 0
		} else if dy > 4 {
			y = 31
		}
		if y >= 0 {
			checked++
			for x := range 32 {
				for c := range 3 {
					want := (0 - info.Norm.Mean[c]) / info.Norm.Std[c]
					if got := b.X[(y*32+x)*3+c]; got != want {
						t.Fatalf("epoch %d (dy=%d): padded pixel (%d,%d,%d) = %v, want %v", e, dy, y, x, c, got, want)
					}
				}
			}
		}
		// The centre pixel is always inside the image: 200/255 normalised.
		for c := range 3 {
			want := (float32(200)/255 - info.Norm.Mean[c]) / info.Norm.Std[c]
			if got := b.X[(16*32+16)*3+c]; got != want {
				t.Fatalf("epoch %d: centre pixel channel %d = %v, want %v", e, c, got, want)
			}
		}
		b.Release()
	}
	if checked < 30 {
		t.Fatalf("only %d of 50 epochs had a vertical offset", checked)
	}
}

func TestAugmentParamsDistribution(t *testing.T) {
	counts := make([][]int, 2)
	counts[0], counts[1] = make([]int, 9), make([]int, 9)
	flips := 0
	const n = 27000
	for i := range n {
		dy, dx, flip := augmentParams(1, i%7, i, 4)
		counts[0][dy]++
		counts[1][dx]++
		if flip {
			flips++
		}
	}
	for k := range 2 {
		for v, c := range counts[k] {
			if c < 2700 || c > 3300 {
				t.Errorf("offset %d drawn %d times of %d, want ≈3000", v, c, n)
			}
		}
	}
	if flips < 13000 || flips > 14000 {
		t.Errorf("%d flips of %d, want ≈13500", flips, n)
	}
	// Pure function of (seed, epoch, index).
	a1, b1, c1 := augmentParams(5, 2, 17, 4)
	a2, b2, c2 := augmentParams(5, 2, 17, 4)
	if a1 != a2 || b1 != b2 || c1 != c2 {
		t.Error("augmentParams is not deterministic")
	}
}

// TestCropFlip3MatchesGeneric checks the 3-channel fast path against the
// pixel-by-pixel implementation (itself checked by hand above) for every
// crop offset and flip, with padding larger than, equal to and smaller
// than the image.
func TestCropFlip3MatchesGeneric(t *testing.T) {
	for _, sh := range []nn.Shape{{H: 5, W: 4, C: 3}, {H: 32, W: 32, C: 3}, {H: 2, W: 3, C: 3}} {
		img := rampSplit(1, sh, 1).Images
		lut := identityLUT(3)
		for _, pad := range []int{0, 1, 4} {
			for dy := range 2*pad + 1 {
				for dx := range 2*pad + 1 {
					for _, flip := range []bool{false, true} {
						want := make([]float32, sh.Size())
						got := make([]float32, sh.Size())
						cropFlipGeneric(want, img, sh, lut, pad, dy, dx, flip)
						cropFlip3(got, img, sh.H, sh.W, lut, pad, dy, dx, flip)
						for i := range want {
							if got[i] != want[i] {
								t.Fatalf("shape %v pad %d dy %d dx %d flip %v: value %d = %v, want %v", sh, pad, dy, dx, flip, i, got[i], want[i])
							}
						}
					}
				}
			}
		}
	}
	// Hand-computed 3-channel case: 1×2 image, pad 1, crop at (1, 2)
	// (shifted left by one) then flipped: row = [px1, pad] → [pad, px1].
	got := make([]float32, 6)
	cropFlip3(got, []uint8{1, 2, 3, 4, 5, 6}, 1, 2, identityLUT(3), 1, 1, 2, true)
	want := []float32{0, 1000, 2000, 4, 1005, 2006}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}
