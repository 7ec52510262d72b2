package report

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	vgdraw "gonum.org/v1/plot/vg/draw"

	"github.com/bsam-dev/bsam/pkg/train"
)

// PlotFormats are the file types WritePlots writes for every figure.
var PlotFormats = []string{"png", "svg"}

const plotSize = 12 * vg.Centimeter

// WritePlots draws the report's figures into dir (created if needed), each
// as PNG and SVG, and returns the paths written, sorted:
//
//   - reliability_<model>_<dataset>_<method>: reliability diagram of the
//     BMA prediction, the bins pooled over seeds (count-weighted), with the
//     diagonal and the mean BMA ECE in the title;
//   - curves_<model>_<dataset>_{acc,nll}: test accuracy and NLL per epoch
//     from metrics.jsonl, one line per method, mean over seeds;
//   - sweep_<model>_<dataset>_<hyper>_<metric>: each metric against a swept
//     hyperparameter, one line per method (and setting of the other swept
//     hyperparameters) with ± sample-std error bars; log x-axis when the
//     values are positive and span more than a decade. Methods of the same
//     protocol that were not swept (SGD beside a ρ sweep) are drawn as a
//     horizontal band, mean ± std;
//   - sensitivity_<model>_<dataset>_<hyper>: accuracy, NLL and ECE against
//     the swept hyperparameter side by side, the same lines and bands.
//
// When a model and dataset have runs of more than one protocol, each name
// ends in the protocol family's short hash and titles carry its label.
// Figures whose data are absent (no reliability bins, no metrics.jsonl) are
// skipped. Every file is written to a temporary file and renamed.
func WritePlots(dir string, rep *Report) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var written []string
	write := func(name string, w, h vg.Length, draw func(format string) (io.WriterTo, error)) error {
		for _, ext := range PlotFormats {
			path := filepath.Join(dir, name+"."+ext)
			wt, err := draw(ext)
			if err != nil {
				return fmt.Errorf("plot %s: %w", path, err)
			}
			var buf bytes.Buffer
			if _, err := wt.WriteTo(&buf); err != nil {
				return fmt.Errorf("plot %s: %w", path, err)
			}
			if err := train.WriteFileAtomic(path, buf.Bytes(), 0o644); err != nil {
				return fmt.Errorf("plot %s: %w", path, err)
			}
			written = append(written, path)
		}
		return nil
	}
	save := func(p *plot.Plot, name string) error {
		return write(name, plotSize*4/3, plotSize, func(ext string) (io.WriterTo, error) { return p.WriterTo(plotSize*4/3, plotSize, ext) })
	}
	// Model/dataset pairs with more than one protocol family get the
	// family's hash in their file names.
	families := map[string]map[string]bool{}
	for _, rows := range [][]*Row{rep.Rows, rep.Sweeps} {
		for _, r := range rows {
			k := r.Model + "\x00" + r.Dataset
			if families[k] == nil {
				families[k] = map[string]bool{}
			}
			families[k][r.Family] = true
		}
	}
	name := func(kind string, r *Row, parts ...string) string {
		all := append([]string{kind, r.Model, r.Dataset}, parts...)
		if len(families[r.Model+"\x00"+r.Dataset]) > 1 {
			all = append(all, ShortHash(r.Family))
		}
		return fileName(all...)
	}
	for _, row := range rep.Rows {
		p, ok := reliabilityPlot(row)
		if !ok {
			continue
		}
		if err := save(p, name("reliability", row, row.Method+hyperSuffix(row))); err != nil {
			return written, err
		}
	}
	for _, block := range blocks(rep.Rows) {
		for _, m := range []Metric{Acc, NLL} {
			p, ok, err := curvePlot(block, m)
			if err != nil {
				return written, err
			}
			if ok {
				if err := save(p, name("curves", block[0], string(m))); err != nil {
					return written, err
				}
			}
		}
	}
	for _, block := range blocks(rep.Sweeps) {
		bands := referenceRows(rep.Rows, block)
		for _, h := range sweptNames(block) {
			for _, m := range Metrics {
				p, err := sweepPlot(block, bands, h, m)
				if err != nil {
					return written, err
				}
				if err := save(p, name("sweep", block[0], h, string(m))); err != nil {
					return written, err
				}
			}
			var panels []*plot.Plot
			for _, m := range []Metric{Acc, NLL, ECE} {
				p, err := sweepPlot(block, bands, h, m)
				if err != nil {
					return written, err
				}
				panels = append(panels, p)
			}
			w, ht := plotSize*4, plotSize*5/4
			err := write(name("sensitivity", block[0], h), w, ht, func(ext string) (io.WriterTo, error) {
				c, err := vgdraw.NewFormattedCanvas(w, ht, ext)
				if err != nil {
					return nil, err
				}
				dc := vgdraw.New(c)
				tiles := vgdraw.Tiles{Rows: 1, Cols: len(panels), PadX: vg.Millimeter * 4, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
				canvases := plot.Align([][]*plot.Plot{panels}, tiles, dc)
				for i, p := range panels {
					p.Draw(canvases[0][i])
				}
				return c, nil
			})
			if err != nil {
				return written, err
			}
		}
	}
	sort.Strings(written)
	return written, nil
}

// hyperSuffix distinguishes, in file names, rows of one method that differ
// in hyperparameters within a block.
func hyperSuffix(r *Row) string {
	if r.HyperLabel == "" {
		return ""
	}
	return "-" + ShortHash(r.Protocol)
}

// referenceRows returns the main-table rows of the sweep row's protocol
// family: the methods run beside a sweep without a grid (SGD beside a ρ
// sweep), drawn as bands.
func referenceRows(rows, sweep []*Row) []*Row {
	swept := map[string]bool{}
	for _, r := range sweep {
		swept[r.Method] = true
	}
	var out []*Row
	for _, r := range rows {
		// A swept method's base-configuration runs are one more point of
		// its own line's family, not a ρ-free reference.
		if sameBlock(r, sweep[0]) && !swept[r.Method] {
			out = append(out, r)
		}
	}
	return out
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

func fileName(parts ...string) string {
	for i, p := range parts {
		parts[i] = unsafeChars.ReplaceAllString(p, "-")
	}
	return strings.Join(parts, "_")
}

// blocks splits sorted rows into runs of equal (model, dataset, protocol
// family).
func blocks(rows []*Row) [][]*Row {
	var out [][]*Row
	for i := 0; i < len(rows); {
		j := i
		for j < len(rows) && sameBlock(rows[j], rows[i]) {
			j++
		}
		out = append(out, rows[i:j])
		i = j
	}
	return out
}

// PooledBin is a reliability bin pooled over seeds.
type PooledBin struct {
	Lower, Upper         float64
	Count                int
	Confidence, Accuracy float64 // count-weighted means
}

// PoolReliability pools the reliability bins of the runs of a row: per bin
// index, the count-weighted mean confidence and accuracy. Runs without bins
// are ignored; ok is false when no run has any.
func PoolReliability(runs []Run) (bins []PooledBin, ok bool) {
	for _, run := range runs {
		for i, b := range run.Result.Reliability {
			for len(bins) <= i {
				bins = append(bins, PooledBin{})
			}
			pb := &bins[i]
			pb.Lower, pb.Upper = b.Lower, b.Upper
			pb.Count += b.Count
			pb.Confidence += float64(b.Count) * b.Confidence
			pb.Accuracy += float64(b.Count) * b.Accuracy
			ok = true
		}
	}
	for i := range bins {
		if c := bins[i].Count; c > 0 {
			bins[i].Confidence /= float64(c)
			bins[i].Accuracy /= float64(c)
		}
	}
	return bins, ok
}

func reliabilityPlot(row *Row) (*plot.Plot, bool) {
	bins, ok := PoolReliability(row.Runs)
	if !ok {
		return nil, false
	}
	var eces []float64
	for _, run := range row.Runs {
		eces = append(eces, run.Result.BMA.ECE)
	}
	ece := 0.0
	for _, e := range eces {
		ece += e
	}
	ece /= float64(len(eces))
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s\nECE %s (BMA, mean of %d seed%s)", row.Label(), FormatValue(ECE, ece), len(eces), plural(len(eces)))
	p.X.Label.Text = "confidence"
	p.Y.Label.Text = "accuracy"
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	fill := color.RGBA{R: 70, G: 110, B: 190, A: 255}
	var conf plotter.XYs
	for _, b := range bins {
		if b.Count == 0 {
			continue
		}
		poly, err := plotter.NewPolygon(plotter.XYs{{X: b.Lower, Y: 0}, {X: b.Upper, Y: 0}, {X: b.Upper, Y: b.Accuracy}, {X: b.Lower, Y: b.Accuracy}})
		if err != nil {
			continue
		}
		poly.Color = fill
		poly.LineStyle.Color = color.White
		p.Add(poly)
		conf = append(conf, plotter.XY{X: b.Confidence, Y: b.Accuracy})
	}
	diag := plotter.NewFunction(func(x float64) float64 { return x })
	diag.XMin, diag.XMax = 0, 1
	diag.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	diag.Color = color.Gray{Y: 80}
	p.Add(diag)
	p.Legend.Add("perfect calibration", diag)
	if len(conf) > 0 {
		if sc, err := plotter.NewScatter(conf); err == nil {
			sc.Color = color.RGBA{R: 200, G: 60, B: 40, A: 255}
			p.Add(sc)
			p.Legend.Add("accuracy at mean confidence", sc)
		}
	}
	p.Legend.Top = true
	p.Legend.Left = true
	return p, true
}

func curvePlot(block []*Row, m Metric) (*plot.Plot, bool, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s\n%s %s per epoch (point prediction, mean over seeds)", block[0].BlockLabel(), block[0].EvalSplit(), m.Title())
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = block[0].EvalSplit() + " " + m.Title()
	p.Y.Tick.Marker = preciseTicks{}
	p.Add(plotter.NewGrid())
	any := false
	for _, row := range block {
		sum, cnt := map[int]float64{}, map[int]int{}
		for _, run := range row.Runs {
			for _, rec := range run.Epochs {
				if !rec.Evaluated() {
					continue
				}
				v := *rec.TestAcc
				if m == NLL {
					v = *rec.TestNLL
				}
				sum[rec.Epoch] += v
				cnt[rec.Epoch]++
			}
		}
		if len(sum) == 0 {
			continue
		}
		epochs := make([]int, 0, len(sum))
		for e := range sum {
			epochs = append(epochs, e)
		}
		sort.Ints(epochs)
		xys := make(plotter.XYs, len(epochs))
		for k, e := range epochs {
			xys[k] = plotter.XY{X: float64(e), Y: sum[e] / float64(cnt[e])}
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, false, err
		}
		l.Color = plotutil.Color(rank(methodOrder, row.Method))
		l.Width = vg.Points(1.5)
		p.Add(l)
		label := DisplayName(row.Method)
		if row.HyperLabel != "" {
			label += " (" + row.HyperLabel + ")"
		}
		p.Legend.Add(label, l)
		any = true
	}
	// Accuracy rises and NLL falls: keep the legend in the empty corner.
	p.Legend.Top = m == NLL
	return p, any, nil
}

func sweptNames(rows []*Row) []string {
	set := map[string]bool{}
	for _, r := range rows {
		for _, n := range r.Swept {
			set[n] = true
		}
	}
	var names []string
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

type errPoints struct {
	plotter.XYs
	plotter.YErrors
}

// preciseTicks is gonum's default tick placement with labels printed to the
// precision the tick spacing needs: the default labels round to too few
// digits (a tick at 1.35 read "1.4" and one at 1.45 "1.5"), which shifted
// every value read off a narrow axis.
type preciseTicks struct{}

func (preciseTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	var major []float64
	for _, t := range ticks {
		if t.Label != "" {
			major = append(major, t.Value)
		}
	}
	// The fewest decimals that print every labelled value exactly (up to
	// float noise such as 1.4500000000000002).
	dec := 0
	for _, v := range major {
		for dec < 12 && math.Abs(roundTo(v, dec)-v) > 1e-9*math.Max(1, math.Abs(v)) {
			dec++
		}
	}
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'f', dec, 64)
		}
	}
	return ticks
}

// axisName is how a hyperparameter is written on an axis.
func axisName(h string) string {
	if h == "rho" {
		return "ρ"
	}
	return h
}

func sweepPlot(block, bands []*Row, h string, m Metric) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s\n%s %s vs %s (mean ± sample std over seeds)", block[0].BlockLabel(), block[0].EvalSplit(), m.Title(), axisName(h))
	p.X.Label.Text = axisName(h)
	p.Y.Label.Text = block[0].EvalSplit() + " " + m.Title()
	p.Y.Tick.Marker = preciseTicks{}
	p.Add(plotter.NewGrid())
	type series struct {
		label string
		pts   []*Row
	}
	var order []string
	lines := map[string]*series{}
	minX, maxX := math.Inf(1), math.Inf(-1)
	minY, maxY := math.Inf(1), math.Inf(-1)
	extend := func(mean, sd float64) {
		if math.IsNaN(mean) {
			return
		}
		if math.IsNaN(sd) {
			sd = 0
		}
		minY, maxY = math.Min(minY, mean-sd), math.Max(maxY, mean+sd)
	}
	for _, row := range block {
		x, ok := row.Setting[h]
		if !ok || math.IsNaN(x) {
			continue
		}
		minX, maxX = math.Min(minX, x), math.Max(maxX, x)
		extend(row.Cells[m].Mean, row.Cells[m].Std)
		var others []string
		for _, n := range row.Swept {
			if n != h {
				others = append(others, fmt.Sprintf("%s=%g", n, row.Setting[n]))
			}
		}
		label := DisplayName(row.Method)
		if len(others) > 0 {
			label += " (" + strings.Join(others, ", ") + ")"
		}
		key := row.Method + "\x00" + label
		if lines[key] == nil {
			lines[key] = &series{label: label}
			order = append(order, key)
		}
		lines[key].pts = append(lines[key].pts, row)
	}
	for _, b := range bands {
		extend(b.Cells[m].Mean, b.Cells[m].Std)
	}
	// Keep the outermost points and their error bars off the frame.
	if minX > 0 && maxX/minX > 10 {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
		p.X.Min, p.X.Max = minX/1.5, maxX*1.5
	} else if minX <= maxX {
		pad := 0.05 * (maxX - minX)
		if pad == 0 {
			pad = 0.05 * math.Max(math.Abs(minX), 1)
		}
		p.X.Min, p.X.Max = minX-pad, maxX+pad
		p.X.Tick.Marker = preciseTicks{}
	}
	// The y range holds every error bar and band with a margin below, and
	// room above for the legend, so nothing runs under an axis or the
	// legend.
	if minY <= maxY {
		span := maxY - minY
		if span == 0 {
			span = math.Max(math.Abs(maxY)*0.1, 1e-3)
		}
		p.Y.Min, p.Y.Max = minY-0.08*span, maxY+(0.12+0.1*float64(len(order)+len(bands)))*span
	}
	for i, b := range bands {
		c := b.Cells[m]
		if math.IsNaN(c.Mean) || math.IsNaN(p.X.Min) {
			continue
		}
		sd := c.Std
		if math.IsNaN(sd) {
			sd = 0
		}
		col := plotutil.Color(len(order) + i)
		if rgba, ok := col.(color.RGBA); ok {
			fill := color.NRGBA{R: rgba.R, G: rgba.G, B: rgba.B, A: 50}
			poly, err := plotter.NewPolygon(plotter.XYs{{X: p.X.Min, Y: c.Mean - sd}, {X: p.X.Max, Y: c.Mean - sd}, {X: p.X.Max, Y: c.Mean + sd}, {X: p.X.Min, Y: c.Mean + sd}})
			if err != nil {
				return nil, err
			}
			poly.Color = fill
			poly.LineStyle.Width = 0
			p.Add(poly)
		}
		l, err := plotter.NewLine(plotter.XYs{{X: p.X.Min, Y: c.Mean}, {X: p.X.Max, Y: c.Mean}})
		if err != nil {
			return nil, err
		}
		l.Color = col
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		l.Width = vg.Points(1.2)
		p.Add(l)
		label := DisplayName(b.Method) + fmt.Sprintf(" (no %s), mean ± std, n=%d", axisName(h), b.N())
		if b.HyperLabel != "" {
			label = DisplayName(b.Method) + " (" + b.HyperLabel + fmt.Sprintf("), mean ± std, n=%d", b.N())
		}
		p.Legend.Add(label, l)
	}
	for i, key := range order {
		s := lines[key]
		sort.SliceStable(s.pts, func(a, b int) bool { return s.pts[a].Setting[h] < s.pts[b].Setting[h] })
		ep := errPoints{XYs: make(plotter.XYs, len(s.pts)), YErrors: make(plotter.YErrors, len(s.pts))}
		for k, row := range s.pts {
			c := row.Cells[m]
			sd := c.Std
			if math.IsNaN(sd) {
				sd = 0
			}
			ep.XYs[k] = plotter.XY{X: row.Setting[h], Y: c.Mean}
			ep.YErrors[k] = struct{ Low, High float64 }{sd, sd}
		}
		l, sc, err := plotter.NewLinePoints(ep.XYs)
		if err != nil {
			return nil, err
		}
		eb, err := plotter.NewYErrorBars(ep)
		if err != nil {
			return nil, err
		}
		col := plotutil.Color(i)
		l.Color, sc.Color, eb.Color = col, col, col
		p.Add(l, sc, eb)
		p.Legend.Add(s.label, l, sc)
	}
	// Inside the frame, clear of the axes.
	p.Legend.Top = true
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(6), -vg.Points(4)
	return p, nil
}
