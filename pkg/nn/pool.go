package nn

import "fmt"

// MaxPool takes the maximum over K×K windows moved by Stride, per channel,
// with VALID padding (windows that do not fit are dropped).
type MaxPool[T Float] struct {
	K, Stride int

	in, out Shape
	y, dx   []T
	arg     []int32 // index within the example of each output's maximum
	maxN    int
}

// NewMaxPool returns a VALID max-pooling layer.
func NewMaxPool[T Float](k, stride int) *MaxPool[T] { return &MaxPool[T]{K: k, Stride: stride} }

// Setup returns the pooled shape; the layer has no parameters.
func (p *MaxPool[T]) Setup(b *Builder, in Shape) Shape {
	p.in, p.out = in, poolShape(in, p.K, p.Stride)
	return p.out
}

// Bind does nothing: the layer has no parameters.
func (p *MaxPool[T]) Bind(params, grads, state []T) {}

// Forward takes window maxima and records where they are.
func (p *MaxPool[T]) Forward(ctx *Ctx, x []T) []T {
	n := ctx.N
	if n > p.maxN {
		p.maxN = n
		p.y = make([]T, n*p.out.Size())
		p.arg = make([]int32, n*p.out.Size())
		p.dx = make([]T, n*p.in.Size())
	}
	c, w := p.in.C, p.in.W
	isz, osz := p.in.Size(), p.out.Size()
	for i := 0; i < n; i++ {
		xi := x[i*isz : (i+1)*isz]
		yi := p.y[i*osz : (i+1)*osz]
		ai := p.arg[i*osz : (i+1)*osz]
		for oy := 0; oy < p.out.H; oy++ {
			for ox := 0; ox < p.out.W; ox++ {
				o := (oy*p.out.W + ox) * c
				yo, ao := yi[o:o+c], ai[o:o+c]
				first := (oy*p.Stride*w + ox*p.Stride) * c
				copy(yo, xi[first:first+c])
				for j := range ao {
					ao[j] = int32(first + j)
				}
				for kh := 0; kh < p.K; kh++ {
					for kw := 0; kw < p.K; kw++ {
						s := ((oy*p.Stride+kh)*w + ox*p.Stride + kw) * c
						px := xi[s : s+c]
						for j, v := range px {
							if v > yo[j] {
								yo[j] = v
								ao[j] = int32(s + j)
							}
						}
					}
				}
			}
		}
	}
	return p.y[:n*osz]
}

// Backward routes each output gradient to its window's maximum.
func (p *MaxPool[T]) Backward(ctx *Ctx, dy []T, needDX bool) []T {
	if !needDX {
		return nil
	}
	n := ctx.N
	isz, osz := p.in.Size(), p.out.Size()
	dx := p.dx[:n*isz]
	clear(dx)
	for i := 0; i < n; i++ {
		di := dx[i*isz : (i+1)*isz]
		ai := p.arg[i*osz : (i+1)*osz]
		for o, g := range dy[i*osz : (i+1)*osz] {
			di[ai[o]] += g
		}
	}
	return dx
}

// AvgPool averages over K×K windows moved by Stride, per channel, with
// VALID padding.
type AvgPool[T Float] struct {
	K, Stride int

	in, out Shape
	y, dx   []T
	maxN    int
}

// NewAvgPool returns a VALID average-pooling layer.
func NewAvgPool[T Float](k, stride int) *AvgPool[T] { return &AvgPool[T]{K: k, Stride: stride} }

// Setup returns the pooled shape; the layer has no parameters.
func (p *AvgPool[T]) Setup(b *Builder, in Shape) Shape {
	p.in, p.out = in, poolShape(in, p.K, p.Stride)
	return p.out
}

// Bind does nothing: the layer has no parameters.
func (p *AvgPool[T]) Bind(params, grads, state []T) {}

// Forward averages each window.
func (p *AvgPool[T]) Forward(ctx *Ctx, x []T) []T {
	n := ctx.N
	if n > p.maxN {
		p.maxN = n
		p.y = make([]T, n*p.out.Size())
		p.dx = make([]T, n*p.in.Size())
	}
	c, w := p.in.C, p.in.W
	isz, osz := p.in.Size(), p.out.Size()
	inv := 1 / T(p.K*p.K)
	for i := 0; i < n; i++ {
		xi := x[i*isz : (i+1)*isz]
		yi := p.y[i*osz : (i+1)*osz]
		for oy := 0; oy < p.out.H; oy++ {
			for ox := 0; ox < p.out.W; ox++ {
				o := (oy*p.out.W + ox) * c
				yo := yi[o : o+c]
				clear(yo)
				for kh := 0; kh < p.K; kh++ {
					for kw := 0; kw < p.K; kw++ {
						s := ((oy*p.Stride+kh)*w + ox*p.Stride + kw) * c
						addInPlace(yo, xi[s:s+c])
					}
				}
				for j := range yo {
					yo[j] *= inv
				}
			}
		}
	}
	return p.y[:n*osz]
}

// Backward spreads each output gradient evenly over its window.
func (p *AvgPool[T]) Backward(ctx *Ctx, dy []T, needDX bool) []T {
	if !needDX {
		return nil
	}
	n := ctx.N
	c, w := p.in.C, p.in.W
	isz, osz := p.in.Size(), p.out.Size()
	inv := 1 / T(p.K*p.K)
	dx := p.dx[:n*isz]
	clear(dx)
	for i := 0; i < n; i++ {
		di := dx[i*isz : (i+1)*isz]
		gi := dy[i*osz : (i+1)*osz]
		for oy := 0; oy < p.out.H; oy++ {
			for ox := 0; ox < p.out.W; ox++ {
				o := (oy*p.out.W + ox) * c
				g := gi[o : o+c]
				for kh := 0; kh < p.K; kh++ {
					for kw := 0; kw < p.K; kw++ {
						s := ((oy*p.Stride+kh)*w + ox*p.Stride + kw) * c
						d := di[s : s+c]
						for j, v := range g {
							d[j] += v * inv
						}
					}
				}
			}
		}
	}
	return dx
}

// GlobalMeanPool averages over H and W, giving C features per example.
type GlobalMeanPool[T Float] struct {
	in    Shape
	y, dx []T
	maxN  int
}

// NewGlobalMeanPool returns a global average-pooling layer.
func NewGlobalMeanPool[T Float]() *GlobalMeanPool[T] { return &GlobalMeanPool[T]{} }

// Setup returns Shape{1, 1, C}; the layer has no parameters.
func (p *GlobalMeanPool[T]) Setup(b *Builder, in Shape) Shape {
	p.in = in
	return Shape{1, 1, in.C}
}

// Bind does nothing: the layer has no parameters.
func (p *GlobalMeanPool[T]) Bind(params, grads, state []T) {}

// Forward averages each channel over the image.
func (p *GlobalMeanPool[T]) Forward(ctx *Ctx, x []T) []T {
	n := ctx.N
	c, isz := p.in.C, p.in.Size()
	if n > p.maxN {
		p.maxN = n
		p.y = make([]T, n*c)
		p.dx = make([]T, n*isz)
	}
	inv := 1 / T(p.in.H*p.in.W)
	for i := 0; i < n; i++ {
		yi := p.y[i*c : (i+1)*c]
		clear(yi)
		sumRows(yi, x[i*isz:(i+1)*isz], p.in.H*p.in.W, c)
		for j := range yi {
			yi[j] *= inv
		}
	}
	return p.y[:n*c]
}

// Backward spreads each channel's gradient evenly over the image.
func (p *GlobalMeanPool[T]) Backward(ctx *Ctx, dy []T, needDX bool) []T {
	if !needDX {
		return nil
	}
	n := ctx.N
	c, isz := p.in.C, p.in.Size()
	inv := 1 / T(p.in.H*p.in.W)
	for i := 0; i < n; i++ {
		g := dy[i*c : (i+1)*c]
		di := p.dx[i*isz : (i+1)*isz]
		for s := 0; s < isz; s += c {
			d := di[s : s+c]
			for j, v := range g {
				d[j] = v * inv
			}
		}
	}
	return p.dx[:n*isz]
}

func poolShape(in Shape, k, s int) Shape {
	oh, _ := outSize(in.H, k, s, PadValid)
	ow, _ := outSize(in.W, k, s, PadValid)
	if oh <= 0 || ow <= 0 {
		panic(fmt.Sprintf("nn: %d×%d/%d pooling on %v has no output", k, k, s, in))
	}
	return Shape{oh, ow, in.C}
}
