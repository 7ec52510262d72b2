package demo2d

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	stddraw "image/draw"
	"image/gif"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Colours: class 0 blue, class 1 brown (the hues of demo2d.py's colour
// list), white at p = ½.
var (
	class0Color = color.RGBA{R: 48, G: 86, B: 160, A: 255}
	class1Color = color.RGBA{R: 168, G: 88, B: 34, A: 255}
	sampleColor = color.RGBA{R: 70, G: 70, B: 70, A: 255}
)

// probMap is the colour map of p(class 1): a light class-0 blue at 0,
// white at ½ and a light class-1 brown at 1, linear in RGB between them.
type probMap struct {
	min, max, alpha float64
}

func newProbMap() *probMap { return &probMap{min: 0, max: 1, alpha: 1} }

// lighten mixes c with white, keeping a share k of c.
func lighten(c color.RGBA, k float64) [3]float64 {
	return [3]float64{255 - k*(255-float64(c.R)), 255 - k*(255-float64(c.G)), 255 - k*(255-float64(c.B))}
}

func (m *probMap) At(v float64) (color.Color, error) {
	if v < m.min || v > m.max || math.IsNaN(v) {
		return nil, fmt.Errorf("demo2d: value %v outside the colour map's [%v, %v]", v, m.min, m.max)
	}
	t := (v - m.min) / (m.max - m.min) // 0..1
	end := lighten(class0Color, 0.8)
	u := 1 - 2*t
	if t > 0.5 {
		end = lighten(class1Color, 0.8)
		u = 2*t - 1
	}
	var rgb [3]uint8
	for i := range rgb {
		rgb[i] = uint8(math.Round(255 + u*(end[i]-255)))
	}
	a := math.Round(255 * m.alpha)
	// Premultiplied RGBA.
	return color.RGBA{R: uint8(float64(rgb[0]) * m.alpha), G: uint8(float64(rgb[1]) * m.alpha), B: uint8(float64(rgb[2]) * m.alpha), A: uint8(a)}, nil
}
func (m *probMap) Max() float64       { return m.max }
func (m *probMap) SetMax(v float64)   { m.max = v }
func (m *probMap) Min() float64       { return m.min }
func (m *probMap) SetMin(v float64)   { m.min = v }
func (m *probMap) Alpha() float64     { return m.alpha }
func (m *probMap) SetAlpha(a float64) { m.alpha = a }

// Palette returns n colours evenly spaced over [min, max].
func (m *probMap) Palette(n int) palette.Palette {
	cols := make([]color.Color, n)
	for i := range cols {
		v := m.min + (m.max-m.min)*float64(i)/float64(max(n-1, 1))
		cols[i], _ = m.At(v)
	}
	return colors(cols)
}

type colors []color.Color

func (c colors) Colors() []color.Color { return c }

// gridZ is a GridXYZ of values over a Grid.
type gridZ struct {
	g Grid
	z []float64
}

func (g gridZ) Dims() (c, r int)   { return len(g.g.X), len(g.g.Y) }
func (g gridZ) Z(c, r int) float64 { return g.z[r*len(g.g.X)+c] }
func (g gridZ) X(c int) float64    { return g.g.X[c] }
func (g gridZ) Y(r int) float64    { return g.g.Y[r] }
func (g gridZ) Min() float64       { return 0 }
func (g gridZ) Max() float64       { return 1 }

// Panel is one method's picture.
type Panel struct {
	Title string
	Grid  Grid
	// Prob is p(class 1) on the grid (the colour map and, for bSAM, the
	// dashed contour of the model average).
	Prob []float64
	// Point is p(class 1) of the point prediction at w (the thick
	// contour); for SGD and SAM-SGD it is Prob itself.
	Point []float64
	// Samples are posterior samples' grids (thin contours), bSAM only.
	Samples [][]float64
	Data    Data
	// Dist is each grid point's distance to the nearest training point;
	// its FarDistance contour (dotted) bounds the "far from data" points.
	// Nil draws no such line.
	Dist        []float64
	FarDistance float64
}

// Styles shared by the panels and the legend.
var (
	pointStyle  = draw.LineStyle{Color: color.Black, Width: vg.Points(2.5)}
	bmaStyle    = draw.LineStyle{Color: color.Black, Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(4), vg.Points(2.5)}}
	sampleStyle = draw.LineStyle{Color: sampleColor, Width: vg.Points(0.5)}
	farStyle    = draw.LineStyle{Color: color.Black, Width: vg.Points(1.3), Dashes: []vg.Length{vg.Points(1.3), vg.Points(2.2)}}
)

// contour returns the level contour of z over g, z's values in [lo, hi].
func contour(g Grid, z []float64, level, lo, hi float64, style draw.LineStyle) *plotter.Contour {
	c := plotter.NewContour(gridZ{g, z}, []float64{level}, nil)
	c.LineStyles = []draw.LineStyle{style}
	c.Min, c.Max = lo, hi
	return c
}

// dataScatters returns the training points of each class, each as a white
// halo and the coloured glyph on top.
func dataScatters(d Data) []plot.Plotter {
	var xy [2]plotter.XYs
	for i, y := range d.Y {
		xy[y] = append(xy[y], plotter.XY{X: d.X[2*i], Y: d.X[2*i+1]})
	}
	var out []plot.Plotter
	for k, pts := range xy {
		if len(pts) == 0 {
			continue
		}
		halo, _ := plotter.NewScatter(pts)
		dot, _ := plotter.NewScatter(pts)
		halo.GlyphStyle, dot.GlyphStyle = classGlyphs(k)
		out = append(out, halo, dot)
	}
	return out
}

// classGlyphs returns the halo and the glyph of class k: a filled circle
// for class 0, a cross for class 1.
func classGlyphs(k int) (halo, dot draw.GlyphStyle) {
	if k == 0 {
		return draw.GlyphStyle{Color: color.White, Radius: vg.Points(3.6), Shape: draw.CircleGlyph{}},
			draw.GlyphStyle{Color: class0Color, Radius: vg.Points(2.6), Shape: draw.CircleGlyph{}}
	}
	return draw.GlyphStyle{Color: color.White, Radius: vg.Points(4), Shape: thickCross{vg.Points(3.4)}},
		draw.GlyphStyle{Color: class1Color, Radius: vg.Points(3.2), Shape: thickCross{vg.Points(1.6)}}
}

// thickCross is an × glyph with a given stroke width.
type thickCross struct{ width vg.Length }

func (g thickCross) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	c.SetLineStyle(draw.LineStyle{Color: sty.Color, Width: g.width})
	r := sty.Radius * 0.8
	var p vg.Path
	p.Move(vg.Point{X: pt.X - r, Y: pt.Y - r})
	p.Line(vg.Point{X: pt.X + r, Y: pt.Y + r})
	p.Move(vg.Point{X: pt.X - r, Y: pt.Y + r})
	p.Line(vg.Point{X: pt.X + r, Y: pt.Y - r})
	c.Stroke(p)
}

// newPanelPlot draws one panel.
func newPanelPlot(p Panel, axes bool) *plot.Plot {
	pl := plot.New()
	pl.Title.Text = p.Title
	pl.X.Label.Text = "x₁"
	pl.Y.Label.Text = "x₂"
	g := p.Grid
	pl.X.Min, pl.X.Max = g.X[0], g.X[len(g.X)-1]
	pl.Y.Min, pl.Y.Max = g.Y[0], g.Y[len(g.Y)-1]
	hm := plotter.NewHeatMap(gridZ{g, p.Prob}, newProbMap().Palette(201))
	hm.Min, hm.Max = 0, 1
	hm.Rasterized = true
	pl.Add(hm)
	if p.Dist != nil {
		pl.Add(contour(g, p.Dist, p.FarDistance, 0, math.Inf(1), farStyle))
	}
	for _, s := range p.Samples {
		pl.Add(contour(g, s, 0.5, 0, 1, sampleStyle))
	}
	if p.Samples != nil {
		pl.Add(contour(g, p.Prob, 0.5, 0, 1, bmaStyle))
	}
	pl.Add(contour(g, p.Point, 0.5, 0, 1, pointStyle))
	pl.Add(dataScatters(p.Data)...)
	if !axes {
		pl.HideAxes()
	}
	return pl
}

// legendItem is one entry of the legend strip.
type legendItem struct {
	text  string
	thumb []plot.Thumbnailer
}

func legendItems(bayes bool, far float64) []legendItem {
	line := func(s draw.LineStyle) plot.Thumbnailer {
		l, _ := plotter.NewLine(plotter.XYs{{}, {}})
		l.LineStyle = s
		return l
	}
	glyphs := func(k int) []plot.Thumbnailer {
		halo, dot := classGlyphs(k)
		a, _ := plotter.NewScatter(plotter.XYs{{}})
		b, _ := plotter.NewScatter(plotter.XYs{{}})
		a.GlyphStyle, b.GlyphStyle = halo, dot
		return []plot.Thumbnailer{a, b}
	}
	items := []legendItem{
		{"class 0", glyphs(0)},
		{"class 1", glyphs(1)},
		{"p = 0.5 at the trained weights (bSAM: posterior mean)", []plot.Thumbnailer{line(pointStyle)}},
	}
	if far > 0 {
		items = append(items, legendItem{fmt.Sprintf("distance %g to the nearest training point (far from data: beyond)", far), []plot.Thumbnailer{line(farStyle)}})
	}
	if bayes {
		items = append(items,
			legendItem{"bSAM: p = 0.5 of the model average", []plot.Thumbnailer{line(bmaStyle)}},
			legendItem{"bSAM: p = 0.5 of posterior samples", []plot.Thumbnailer{line(sampleStyle)}})
	}
	return items
}

// drawLegend draws the items in centred rows that fit the width of c,
// from the top of c down.
func drawLegend(c draw.Canvas, items []legendItem) {
	sty := plot.New().Legend.TextStyle
	sty.YAlign = draw.YCenter
	thumbW := vg.Points(22)
	gap := vg.Points(6)
	sep := vg.Points(18)
	width := func(it legendItem) vg.Length { return thumbW + gap + sty.Width(it.text) }
	var rows [][]legendItem
	var rowW []vg.Length
	for _, it := range items {
		n := len(rows)
		if n == 0 || rowW[n-1]+sep+width(it) > c.Max.X-c.Min.X {
			rows = append(rows, nil)
			rowW = append(rowW, -sep)
			n++
		}
		rows[n-1] = append(rows[n-1], it)
		rowW[n-1] += sep + width(it)
	}
	h := sty.Font.Size
	y := c.Max.Y - h
	for r, row := range rows {
		x := c.Center().X - rowW[r]/2
		for _, it := range row {
			tc := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{Min: vg.Point{X: x, Y: y - h/2}, Max: vg.Point{X: x + thumbW, Y: y + h/2}}}
			for _, t := range it.thumb {
				t.Thumbnail(&tc)
			}
			x += thumbW + gap
			c.FillText(sty, vg.Point{X: x, Y: y}, it.text)
			x += sty.Width(it.text) + sep
		}
		y -= 1.6 * h
	}
}

// drawColorBar draws the vertical colour bar of p(class 1) in the right
// colorW of c, as high as the data area beside it.
func drawColorBar(c, data draw.Canvas) {
	cb := plot.New()
	cb.Add(&plotter.ColorBar{ColorMap: newProbMap(), Vertical: true, Colors: 201})
	cb.HideX()
	cb.Y.Label.Text = "p(class 1)"
	cb.Y.Min, cb.Y.Max = 0, 1
	bar := c
	bar.Min.X, bar.Max.X = c.Max.X-colorW+vg.Millimeter*2, c.Max.X-vg.Millimeter*6
	bar.Min.Y, bar.Max.Y = data.Min.Y, data.Max.Y
	cb.Draw(bar)
}

// Figure sizes.
const (
	panelW   = 11 * vg.Centimeter
	panelH   = 8.5 * vg.Centimeter
	colorW   = 2.8 * vg.Centimeter
	legendH  = 1.5 * vg.Centimeter
	pngDPI   = 110
	frameDPI = 96
)

// drawFigure draws the panels side by side, the colour bar at the right
// and the legend strip below.
func drawFigure(c draw.Canvas, panels []Panel) {
	plots := make([]*plot.Plot, len(panels))
	bayes, far := false, 0.0
	for i, p := range panels {
		plots[i] = newPanelPlot(p, true)
		bayes = bayes || p.Samples != nil
		if p.Dist != nil {
			far = p.FarDistance
		}
	}
	body := draw.Crop(c, 0, -colorW, legendH, 0)
	tiles := draw.Tiles{Rows: 1, Cols: len(plots), PadX: vg.Millimeter * 4, PadTop: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadBottom: vg.Millimeter * 1}
	cv := plot.Align([][]*plot.Plot{plots}, tiles, body)
	for i, p := range plots {
		p.Draw(cv[0][i])
	}
	// The colour bar spans the panels' data height.
	drawColorBar(c, plots[0].DataCanvas(cv[0][0]))
	drawLegend(draw.Crop(c, 0, 0, 0, legendH-(c.Max.Y-c.Min.Y)), legendItems(bayes, far))
}

// figureSize returns the width and height of a figure of n panels.
func figureSize(n int) (vg.Length, vg.Length) {
	return panelW*vg.Length(n) + colorW, panelH + legendH
}

// RenderPNG returns the figure of the panels as a PNG.
func RenderPNG(panels []Panel) ([]byte, error) {
	w, h := figureSize(len(panels))
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(pngDPI))
	drawFigure(draw.New(c), panels)
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// RenderSVG returns the figure of the panels as an SVG.
func RenderSVG(panels []Panel) ([]byte, error) {
	w, h := figureSize(len(panels))
	c := vgsvg.New(w, h)
	drawFigure(draw.New(c), panels)
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// gifPalette is the colour map's colours plus black, white, greys and the
// class colours.
func gifPalette() color.Palette {
	var pal color.Palette
	for _, c := range newProbMap().Palette(201).Colors() {
		pal = append(pal, c)
	}
	for i := 0; i <= 15; i++ {
		pal = append(pal, color.Gray{Y: uint8(17 * i)})
	}
	pal = append(pal, class0Color, class1Color, sampleColor)
	// Mixes of the class colours with white (antialiased glyph edges).
	for _, k := range []float64{0.25, 0.5, 0.75} {
		for _, c := range []color.RGBA{class0Color, class1Color} {
			l := lighten(c, k)
			pal = append(pal, color.RGBA{R: uint8(l[0]), G: uint8(l[1]), B: uint8(l[2]), A: 255})
		}
	}
	return pal
}

// RenderFrame draws one animation frame (a single panel and the colour
// bar) as a paletted image.
func RenderFrame(p Panel, pal color.Palette) *image.Paletted {
	w, h := panelW+colorW, panelH
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(frameDPI))
	dc := draw.New(c)
	pl := newPanelPlot(p, true)
	body := draw.Crop(dc, vg.Millimeter*2, -colorW, vg.Millimeter, -vg.Millimeter*2)
	pl.Draw(body)
	drawColorBar(dc, pl.DataCanvas(body))
	img := c.Image()
	out := image.NewPaletted(img.Bounds(), pal)
	stddraw.Draw(out, out.Bounds(), img, img.Bounds().Min, stddraw.Src)
	return out
}

// EncodeGIF encodes the frames as a looping animation, delay hundredths
// of a second per frame (the last frame shows 2 s).
func EncodeGIF(frames []*image.Paletted, delay int) ([]byte, error) {
	a := &gif.GIF{}
	for i, f := range frames {
		d := delay
		if i == len(frames)-1 {
			d = 200
		}
		a.Image = append(a.Image, f)
		a.Delay = append(a.Delay, d)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, a); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
