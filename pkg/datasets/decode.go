package datasets

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // register the JPEG decoder
	_ "image/png"  // register the PNG decoder
	"runtime"
	"sync"
	"sync/atomic"
)

// maxImagePixels bounds the size of one decoded image (a header could
// otherwise announce gigabytes).
const maxImagePixels = 1 << 22

// decodeImage decodes a JPEG or PNG into c channels (3: RGB, as PIL's
// convert("RGB"); 1: luminance, as PIL's convert("L"), L = (299R + 587G +
// 114B)/1000 rounded, computed in 16-bit fixed point as Pillow's
// L24). Alpha is dropped without compositing, as PIL does.
func decodeImage(data []byte, c int) (pix []uint8, w, h int, err error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, 0, 0, err
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxImagePixels {
		return nil, 0, 0, fmt.Errorf("image size %d×%d outside 1..%d pixels", cfg.Width, cfg.Height, maxImagePixels)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, 0, 0, err
	}
	b := img.Bounds()
	w, h = b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return nil, 0, 0, fmt.Errorf("empty image")
	}
	rgb := make([]uint8, w*h*3)
	switch m := img.(type) {
	case *image.YCbCr:
		ycbcrToRGB(m, rgb)
	case *image.Gray:
		if c == 1 {
			pix = make([]uint8, w*h)
			for y := range h {
				copy(pix[y*w:(y+1)*w], m.Pix[y*m.Stride:y*m.Stride+w])
			}
			return pix, w, h, nil
		}
		for y := range h {
			for x := range w {
				v := m.Pix[y*m.Stride+x]
				o := (y*w + x) * 3
				rgb[o], rgb[o+1], rgb[o+2] = v, v, v
			}
		}
	case *image.NRGBA:
		for y := range h {
			for x := range w {
				s := y*m.Stride + 4*x
				o := (y*w + x) * 3
				copy(rgb[o:o+3], m.Pix[s:s+3])
			}
		}
	default:
		for y := range h {
			for x := range w {
				p := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				o := (y*w + x) * 3
				rgb[o], rgb[o+1], rgb[o+2] = p.R, p.G, p.B
			}
		}
	}
	if c == 3 {
		return rgb, w, h, nil
	}
	pix = make([]uint8, w*h)
	for i := range pix {
		r, g, bl := uint32(rgb[3*i]), uint32(rgb[3*i+1]), uint32(rgb[3*i+2])
		pix[i] = uint8((r*19595 + g*38470 + bl*7471 + 0x8000) >> 16)
	}
	return pix, w, h, nil
}

// parallelFor runs fn(i) for i in [0, n) on up to workers goroutines
// (0: GOMAXPROCS). It stops early on the first error or cancellation and
// returns the error of the smallest failing index it saw.
func parallelFor(ctx context.Context, n, workers int, fn func(i int) error) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, n))
	var (
		next   atomic.Int64
		stop   atomic.Bool
		mu     sync.Mutex
		errIdx = n
		first  error
		wg     sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if i%256 == 0 && ctx.Err() != nil {
					stop.Store(true)
					return
				}
				if err := fn(i); err != nil {
					mu.Lock()
					if i < errIdx {
						errIdx, first = i, err
					}
					mu.Unlock()
					stop.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}
