package demo2d

import (
	"bytes"
	"context"
	"encoding/json"
	"image/gif"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"testing"

	"github.com/bsam-dev/bsam/pkg/optim"
)

func TestMoonsShapeAndLabels(t *testing.T) {
	for _, n := range []int{2, 7, 100} {
		d, err := Moons(n, 0.1, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.X) != 2*n || len(d.Y) != n || d.Len() != n {
			t.Fatalf("n=%d: %d coordinates and %d labels", n, len(d.X), len(d.Y))
		}
		ones := 0
		for _, y := range d.Y {
			if y != 0 && y != 1 {
				t.Fatalf("n=%d: label %d", n, y)
			}
			ones += int(y)
		}
		// make_moons: ⌊n/2⌋ points on the outer moon (label 0), the rest inner.
		if want := n - n/2; ones != want {
			t.Errorf("n=%d: %d points of class 1, want %d", n, ones, want)
		}
	}
}

// TestMoonsNoiseFree: without noise the points are exactly the two half
// circles at evenly spaced angles, computed here from the angles.
func TestMoonsNoiseFree(t *testing.T) {
	const n = 9 // 4 outer, 5 inner
	d, err := Moons(n, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var want [2][][2]float64
	for i := 0; i < 4; i++ {
		a := math.Pi * float64(i) / 3
		want[0] = append(want[0], [2]float64{math.Cos(a), math.Sin(a)})
	}
	for i := 0; i < 5; i++ {
		a := math.Pi * float64(i) / 4
		want[1] = append(want[1], [2]float64{1 - math.Cos(a), 0.5 - math.Sin(a)})
	}
	var got [2][][2]float64
	for i, y := range d.Y {
		got[y] = append(got[y], [2]float64{d.X[2*i], d.X[2*i+1]})
	}
	for k := range got {
		less := func(a, b [2]float64) int {
			if a[0] != b[0] {
				return cmpF(a[0], b[0])
			}
			return cmpF(a[1], b[1])
		}
		slices.SortFunc(got[k], less)
		slices.SortFunc(want[k], less)
		if len(got[k]) != len(want[k]) {
			t.Fatalf("class %d: %d points, want %d", k, len(got[k]), len(want[k]))
		}
		for i := range got[k] {
			if math.Abs(got[k][i][0]-want[k][i][0]) > 1e-15 || math.Abs(got[k][i][1]-want[k][i][1]) > 1e-15 {
				t.Errorf("class %d point %d: %v, want %v", k, i, got[k][i], want[k][i])
			}
		}
	}
	// Shuffled: the labels are not in construction order.
	if slices.IsSorted(d.Y) {
		t.Errorf("labels %v are in construction order: not shuffled", d.Y)
	}
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestMoonsNoise: the noise is N(0, noise²) on every coordinate, added
// after the shuffle (so the shuffle is the same with and without noise).
func TestMoonsNoise(t *testing.T) {
	const n, sd = 20000, 0.1
	clean, _ := Moons(n, 0, 5)
	noisy, _ := Moons(n, sd, 5)
	if !slices.Equal(clean.Y, noisy.Y) {
		t.Fatal("noise changed the shuffle")
	}
	var sum, sq float64
	for i, v := range noisy.X {
		e := v - clean.X[i]
		sum += e
		sq += e * e
	}
	m := float64(len(noisy.X))
	mean, std := sum/m, math.Sqrt(sq/m-(sum/m)*(sum/m))
	// 40000 draws: standard errors 5e-4 (mean) and 3.5e-4 (std).
	if math.Abs(mean) > 3e-3 || math.Abs(std-sd) > 2e-3 {
		t.Errorf("noise mean %.4g and std %.4g, want 0 and %g", mean, std, sd)
	}
}

func TestMoonsDeterministic(t *testing.T) {
	a, _ := Moons(100, 0.1, 7)
	b, _ := Moons(100, 0.1, 7)
	c, _ := Moons(100, 0.1, 8)
	if !slices.Equal(a.X, b.X) || !slices.Equal(a.Y, b.Y) {
		t.Error("the same seed gave different data")
	}
	if slices.Equal(a.X, c.X) {
		t.Error("seeds 7 and 8 gave the same data")
	}
}

func TestMoonsRejectsBadArguments(t *testing.T) {
	for _, tc := range []struct {
		n     int
		noise float64
	}{{1, 0.1}, {0, 0.1}, {10, -0.1}, {10, math.NaN()}, {10, math.Inf(1)}} {
		if _, err := Moons(tc.n, tc.noise, 0); err == nil {
			t.Errorf("Moons(%d, %v) gave no error", tc.n, tc.noise)
		}
	}
}

func TestGrid(t *testing.T) {
	g := NewGrid(3, 0, 2, -1, 1)
	if !slices.Equal(g.X, []float64{0, 1, 2}) || !slices.Equal(g.Y, []float64{-1, 0, 1}) {
		t.Fatalf("axes %v %v", g.X, g.Y)
	}
	// Point (i, j) at index j·3 + i.
	if g.Len() != 9 || g.Points[2*5] != 2 || g.Points[2*5+1] != 0 {
		t.Errorf("point 5 = (%v, %v), want (2, 0)", g.Points[10], g.Points[11])
	}
	z := gridZ{g, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8}}
	if z.Z(2, 1) != 5 || z.X(2) != 2 || z.Y(1) != 0 {
		t.Errorf("gridZ(2, 1) = %v at (%v, %v), want 5 at (2, 0)", z.Z(2, 1), z.X(2), z.Y(1))
	}
}

// TestFarFromDataMeasure: a hand-made case. Training points (0, 0) and
// (3, 0); query points at distances 0.5, 1.5, 7 and exactly 1 from the
// nearest one.
func TestFarFromDataMeasure(t *testing.T) {
	data := Data{X: []float64{0, 0, 3, 0}, Y: []int32{0, 1}}
	points := []float64{0, 0.5, 1.5, 0, 10, 0, 3, 1}
	dist := MinDistances(points, data)
	for i, want := range []float64{0.5, 1.5, 7, 1} {
		if math.Abs(dist[i]-want) > 1e-15 {
			t.Errorf("distance of point %d = %v, want %v", i, dist[i], want)
		}
	}
	far := FarMask(points, data, 1)
	if want := []bool{false, true, true, false}; !slices.Equal(far, want) { // 1 is not farther than 1
		t.Errorf("far = %v, want %v", far, want)
	}
	p := []float64{0.9, 0.3, 0.5, 0.2}
	tests := []struct {
		name string
		mask []bool
		want float64
		n    int
	}{
		{"far", far, (0.7 + 0.5) / 2, 2},
		{"all", nil, (0.9 + 0.7 + 0.5 + 0.8) / 4, 4},
		{"near", []bool{true, false, false, true}, (0.9 + 0.8) / 2, 2},
	}
	for _, tc := range tests {
		got, n := MeanMaxProb(p, tc.mask)
		if n != tc.n || math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("%s: MeanMaxProb = %v over %d, want %v over %d", tc.name, got, n, tc.want, tc.n)
		}
	}
	if v, n := MeanMaxProb(p, []bool{false, false, false, false}); n != 0 || !math.IsNaN(v) {
		t.Errorf("empty mask: %v over %d, want NaN over 0", v, n)
	}
	// 0.9 → 1 and 0.3 → 0 right, 0.5 counts as class 0: right, 0.2 → 0 wrong.
	if acc := accuracy(p, []int32{1, 0, 0, 1}); acc != 0.75 {
		t.Errorf("accuracy %v, want 0.75", acc)
	}
}

// TestDefaultConfigIsTheOfficialDemo pins the settings of demo2d.py that
// the help text and the README cite.
func TestDefaultConfigIsTheOfficialDemo(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	b := c.Hyper(optim.MethodBSAM)
	if b.LR != 0.5 || b.Beta1 != 0.9 || b.Beta2 != 0.999 || b.Rho != 0.05 || b.Damping != 0.1 || b.SInit != 1 || b.BatchSplit != 5 {
		t.Errorf("bSAM hyperparameters %+v", b)
	}
	if b.NData() != 100 || math.Abs(b.Delta()-1e-4) > 1e-18 {
		t.Errorf("bSAM N = %v, δ = %v; want 100 and 1e-4", b.NData(), b.Delta())
	}
	if c.N != 100 || c.Noise != 0.1 || !slices.Equal(c.Hidden, []int{32, 32, 32, 32}) || c.Epochs != 250 || c.BatchSize != 30 {
		t.Errorf("data/model/schedule settings %+v", c)
	}
	if c.Grid != 100 || c.XMin != -1.5 || c.XMax != 2.7 || c.YMin != -1 || c.YMax != 1.4 || c.ContourSamples != 20 {
		t.Errorf("picture settings %+v", c)
	}
	s := c.Hyper(optim.MethodSGD)
	if math.Abs(s.LR-b.LR*(1-b.Beta1)) > 1e-15 || s.Beta1 != 0.9 || s.Delta() != b.Delta() {
		t.Errorf("SGD %+v: want α = bSAM's α·(1−β₁), momentum 0.9, the same δ", s)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"unknown method", func(c *Config) { c.Methods = []string{"adam"} }},
		{"no methods", func(c *Config) { c.Methods = nil }},
		{"duplicate", func(c *Config) { c.Methods = []string{"bsam", "bsam"} }},
		{"epochs", func(c *Config) { c.Epochs = 0 }},
		{"split", func(c *Config) { c.BatchSplit = 7 }},
		{"samples", func(c *Config) { c.Samples = 10 }},
		{"window", func(c *Config) { c.XMax = c.XMin }},
		{"lr", func(c *Config) { c.SGDLR = 0 }},
	}
	for _, tc := range tests {
		c := DefaultConfig()
		tc.mod(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

// TestTrainLearns: every method lowers the training loss over a short
// schedule and classifies most training points correctly.
func TestTrainLearns(t *testing.T) {
	c := DefaultConfig()
	c.Epochs = 40
	data, _ := Moons(c.N, c.Noise, 0)
	pred := newPredictor(c.Hidden)
	for _, m := range Methods {
		tr, err := Train(context.Background(), c, m, data)
		if err != nil {
			t.Fatal(err)
		}
		if len(tr.Loss) != c.Epochs+1 {
			t.Fatalf("%s: %d epoch losses, want %d", m, len(tr.Loss), c.Epochs+1)
		}
		if first, last := tr.Loss[0], tr.Loss[len(tr.Loss)-1]; !(last < 0.5*first) {
			t.Errorf("%s: training loss %.4f → %.4f, want at least halved", m, first, last)
		}
		p := make([]float64, data.Len())
		pred.Prob(p, tr.W, data.X)
		if acc := accuracy(p, data.Y); acc < 0.85 {
			t.Errorf("%s: training accuracy %.2f after %d epochs", m, acc, c.Epochs+1)
		}
		if (tr.S != nil) != (m == optim.MethodBSAM) {
			t.Errorf("%s: precision %v", m, tr.S != nil)
		}
	}
}

// TestPredictConcentratedPosterior: with a huge precision the posterior
// samples equal the mean up to ~1e-7, so the model average is the point
// prediction.
func TestPredictConcentratedPosterior(t *testing.T) {
	c := DefaultConfig()
	data, _ := Moons(20, 0.1, 0)
	grid := NewGrid(7, c.XMin, c.XMax, c.YMin, c.YMax)
	pred := newPredictor(c.Hidden)
	w := append([]float64(nil), NewNet(c.Hidden, rand.New(rand.NewPCG(1, 2))).Params()...)
	s := make([]float64, len(w))
	for i := range s {
		s[i] = 1e12
	}
	pr := pred.Predict(w, s, 100, grid, data, 5, 3, 0)
	point := pred.Predict(w, nil, 100, grid, data, 5, 3, 0)
	if len(pr.SampleGrids) != 3 || point.SampleGrids != nil || point.MeanGrid != nil {
		t.Fatalf("%d sample grids (want 3), point prediction has %d", len(pr.SampleGrids), len(point.SampleGrids))
	}
	for i, v := range point.Grid {
		if math.Abs(pr.Grid[i]-v) > 1e-5 || pr.MeanGrid[i] != v {
			t.Fatalf("grid point %d: model average %v, mean %v, point %v", i, pr.Grid[i], pr.MeanGrid[i], v)
		}
	}
}

// TestRunDeterministic: Run writes the three files, and demo2d.json is
// byte-identical across GOMAXPROCS.
func TestRunDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("trains three networks twice")
	}
	c := DefaultConfig()
	c.Epochs, c.Samples, c.Grid = 8, 20, 40
	var jsons [][]byte
	for _, procs := range []int{1, 3} {
		old := runtime.GOMAXPROCS(procs)
		dir := t.TempDir()
		res, files, err := Run(context.Background(), c, dir, &bytes.Buffer{})
		runtime.GOMAXPROCS(old)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, f := range files {
			names = append(names, filepath.Base(f))
		}
		sort.Strings(names)
		if want := []string{FileJSON, FilePNG, FileSVG}; !slices.Equal(names, want) {
			t.Errorf("wrote %v, want %v", names, want)
		}
		b, err := os.ReadFile(filepath.Join(dir, FileJSON))
		if err != nil {
			t.Fatal(err)
		}
		var back Result
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if len(back.Methods) != 3 || len(res.Methods) != 3 || back.GridPoints != 1600 {
			t.Fatalf("result %+v", back)
		}
		for _, m := range back.Methods {
			if m.FarMeanMaxProb == nil || *m.FarMeanMaxProb < 0.5 || *m.FarMeanMaxProb > 1 || m.TrainMeanMaxProb < 0.5 || m.TrainMeanMaxProb > 1 {
				t.Errorf("%s: measures out of [0.5, 1]: %+v", m.Method, m.Measures)
			}
			if (m.Method == optim.MethodBSAM) != (m.Prediction == "bma" && m.PosteriorMean != nil) {
				t.Errorf("%s: prediction %q, posterior mean %v", m.Method, m.Prediction, m.PosteriorMean)
			}
		}
		jsons = append(jsons, b)
	}
	if !bytes.Equal(jsons[0], jsons[1]) {
		t.Errorf("demo2d.json differs between GOMAXPROCS 1 and 3:\n%s\n%s", jsons[0], jsons[1])
	}
}

// TestRunImages: the PNG has the figure's size, the SVG is an SVG, and
// the GIF has one frame per FrameEvery epochs plus the last.
func TestRunImages(t *testing.T) {
	c := DefaultConfig()
	c.Methods = []string{optim.MethodSAMSGD, optim.MethodBSAM}
	c.Epochs, c.Samples, c.Grid = 20, 20, 30
	c.GIF, c.FrameEvery, c.FrameGrid = true, 8, 20
	dir := t.TempDir()
	if _, _, err := Run(context.Background(), c, dir, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, FilePNG))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	w, h := figureSize(2)
	if wantW, wantH := int(math.Ceil(w.Dots(pngDPI))), int(math.Ceil(h.Dots(pngDPI))); abs(cfg.Width-wantW) > 1 || abs(cfg.Height-wantH) > 1 {
		t.Errorf("PNG is %d×%d, want %d×%d", cfg.Width, cfg.Height, wantW, wantH)
	}
	svg, err := os.ReadFile(filepath.Join(dir, FileSVG))
	if err != nil || !bytes.Contains(svg, []byte("<svg")) {
		t.Errorf("SVG: %v, %.40q", err, svg)
	}
	g, err := os.Open(filepath.Join(dir, FileGIF))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	anim, err := gif.DecodeAll(g)
	if err != nil {
		t.Fatal(err)
	}
	if len(anim.Image) != 4 { // epochs 0, 8, 16 and the last, 20
		t.Errorf("GIF has %d frames, want 4", len(anim.Image))
	}
}

func abs(x int) int { return max(x, -x) }
