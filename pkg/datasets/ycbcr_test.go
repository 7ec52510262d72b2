package datasets

import (
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestYCCToRGBLibjpeg(t *testing.T) {
	// Hand-computed with libjpeg's tables (jdcolor.c): R = Y + ⌊(91881·(Cr−128) + 2¹⁵)/2¹⁶⌋,
	// G = Y + ⌊(−22554·(Cb−128) − 46802·(Cr−128) + 2¹⁵)/2¹⁶⌋, B = Y + ⌊(116130·(Cb−128) + 2¹⁵)/2¹⁶⌋.
	tests := []struct {
		y, cb, cr uint8
		want      [3]uint8
	}{
		{100, 128, 128, [3]uint8{100, 100, 100}},
		// R = 100 + ⌊9220868/65536⌋ = 240; G = 100 + ⌊−4647432/65536⌋ = 100 − 71 = 29
		// (Go's color.YCbCrToRGB gives 28 here); B = 100.
		{100, 128, 228, [3]uint8{240, 29, 100}},
		// B = 50 + ⌊(116130·(−28) + 32768)/65536⌋ = 50 + ⌊−3218872/65536⌋ = 50 − 50 = 0;
		// G = 50 + ⌊(631512 + 32768)/65536⌋ = 50 + 10 = 60; R = 50.
		{50, 100, 128, [3]uint8{50, 60, 0}},
		// R, B clamp at 255; G = 255 + ⌊(−2864358 − 5943854 + 32768)/65536⌋ = 255 − 134 = 121.
		{255, 255, 255, [3]uint8{255, 121, 255}},
	}
	for _, tc := range tests {
		r, g, b := yccToRGB(tc.y, tc.cb, tc.cr)
		if [3]uint8{r, g, b} != tc.want {
			t.Errorf("yccToRGB(%d,%d,%d) = %d,%d,%d, want %v", tc.y, tc.cb, tc.cr, r, g, b, tc.want)
		}
	}
}

func TestFancyUpsample2x2(t *testing.T) {
	// Chroma plane 4×2 (stride 5, one padding column that must be ignored).
	plane := []uint8{
		0, 16, 32, 48, 99,
		64, 80, 96, 112, 99,
	}
	got := fancyUpsample2x2(plane, 4, 2, 5)
	// Output row 0 (upper half of input row 0; the row above is row 0
	// replicated): column sums 4·row0 = 0, 64, 128, 192, then
	// (4·0+8)>>4, (3·0+64+7)>>4, (3·64+0+8)>>4, (3·64+128+7)>>4, …, (4·192+7)>>4.
	want0 := []uint8{0, 4, 12, 20, 28, 36, 44, 48}
	// Output row 1 (lower half of row 0; next nearest is row 1): sums
	// 3·row0+row1 = 64, 128, 192, 256.
	// (256+8)>>4=16, (192+128+7)>>4=20, (384+64+8)>>4=28, (384+192+7)>>4=36,
	// (576+128+8)>>4=44, (576+256+7)>>4=52, (768+192+8)>>4=60, (1024+7)>>4=64.
	want1 := []uint8{16, 20, 28, 36, 44, 52, 60, 64}
	// Output row 3 (lower half of row 1; the row below is row 1
	// replicated): sums 4·row1 = 256, 320, 384, 448.
	// (1024+8)>>4=64, (768+320+7)>>4=68, (960+256+8)>>4=76, (960+384+7)>>4=84,
	// (1152+320+8)>>4=92, (1152+448+7)>>4=100, (1344+384+8)>>4=108, (1792+7)>>4=112.
	want3 := []uint8{64, 68, 76, 84, 92, 100, 108, 112}
	for _, c := range []struct {
		row  int
		want []uint8
	}{{0, want0}, {1, want1}, {3, want3}} {
		for x, w := range c.want {
			if g := got[c.row*8+x]; g != w {
				t.Fatalf("row %d: got %v, want %v", c.row, got[c.row*8:c.row*8+8], c.want)
			}
		}
	}
	// Narrow planes are replicated.
	got = fancyUpsample2x2([]uint8{7, 9}, 2, 1, 2)
	if string(got) != string([]uint8{7, 7, 9, 9, 7, 7, 9, 9}) {
		t.Fatalf("narrow plane: %v", got)
	}
}

func TestYCbCrToRGB420(t *testing.T) {
	// A 4:2:0 image with neutral chroma except one chroma sample: the luma
	// passes through unchanged wherever the filtered chroma stays neutral.
	m := image.NewYCbCr(image.Rect(0, 0, 6, 4), image.YCbCrSubsampleRatio420)
	for i := range m.Y {
		m.Y[i] = uint8(10 * i)
	}
	for i := range m.Cb {
		m.Cb[i], m.Cr[i] = 128, 128
	}
	rgb := make([]uint8, 6*4*3)
	ycbcrToRGB(m, rgb)
	for y := range 4 {
		for x := range 6 {
			v := m.Y[y*m.YStride+x]
			o := (y*6 + x) * 3
			if rgb[o] != v || rgb[o+1] != v || rgb[o+2] != v {
				t.Fatalf("pixel (%d,%d) = %v, want gray %d", x, y, rgb[o:o+3], v)
			}
		}
	}
	// Cb = 144 at chroma (0,0): the output Cb at pixel (1,0) is
	// ((3·(4·144) + 4·128) + 7)>>4 = (1728+512+7)>>4 = 140, so
	// B = Y + ⌊(116130·12 + 32768)/65536⌋ = Y + 21.
	m.Cb[0] = 144
	ycbcrToRGB(m, rgb)
	if got, want := rgb[(0*6+1)*3+2], m.Y[1]+21; got != want {
		t.Fatalf("B at (1,0) = %d, want %d", got, want)
	}
}

// TestDecodeMatchesPIL compares JPEG decoding against Pillow/libjpeg-turbo
// decodes of four CIFAR-10 JPEG files (testdata/pil, see its README). The
// inverse DCT differs from libjpeg's, so values may be off by a few
// levels, but most must agree exactly (Go's own colour path, with
// nearest-neighbour chroma, agrees on under half of them and is off by up
// to tens of levels).
func TestDecodeMatchesPIL(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "pil", "*.jpg"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no PIL fixtures: %v", err)
	}
	var total, exact, maxDiff int
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := os.ReadFile(strings.TrimSuffix(f, ".jpg") + ".rgb")
		if err != nil {
			t.Fatal(err)
		}
		got, w, h, err := decodeImage(data, 3)
		if err != nil || w != 32 || h != 32 || len(got) != len(ref) {
			t.Fatalf("%s: %d×%d, %v", f, w, h, err)
		}
		for i := range ref {
			d := int(got[i]) - int(ref[i])
			if d < 0 {
				d = -d
			}
			maxDiff = max(maxDiff, d)
			if d == 0 {
				exact++
			}
			total++
		}
	}
	t.Logf("%d values: %.1f%% exact, max difference %d", total, 100*float64(exact)/float64(total), maxDiff)
	if maxDiff > 4 || float64(exact) < 0.9*float64(total) {
		t.Errorf("decode differs from PIL: %d of %d exact, max difference %d", exact, total, maxDiff)
	}
}
