package demo2d

import (
	"context"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"sync"
	"text/tabwriter"

	"github.com/bsam-dev/bsam/pkg/optim"
	"github.com/bsam-dev/bsam/pkg/train"
)

// Output file names inside the output directory.
const (
	FilePNG  = "demo2d.png"
	FileSVG  = "demo2d.svg"
	FileJSON = "demo2d.json"
	FileGIF  = "demo2d_bsam.gif"
)

// Result is the content of demo2d.json. It holds no timings, so the file
// is byte-identical for a seed and settings.
type Result struct {
	Description string   `json:"description"`
	Settings    Settings `json:"settings"`
	// GridPoints is the number of grid points, FarPoints how many of them
	// are farther than FarDistance from every training point.
	GridPoints int            `json:"grid_points"`
	FarPoints  int            `json:"far_grid_points"`
	Methods    []MethodResult `json:"methods"`
}

// Settings are the settings the result was computed with.
type Settings struct {
	Seed           uint64               `json:"seed"`
	N              int                  `json:"n"`
	Noise          float64              `json:"noise"`
	Hidden         []int                `json:"hidden"`
	Epochs         int                  `json:"epochs_run"`
	BatchSize      int                  `json:"batch_size"`
	BatchSplit     int                  `json:"batchsplit"`
	Delta          float64              `json:"delta"`
	Samples        int                  `json:"bma_samples"`
	ContourSamples int                  `json:"contour_samples"`
	Grid           int                  `json:"grid"`
	Window         [4]float64           `json:"window"`
	FarDistance    float64              `json:"far_distance"`
	Optimizers     map[string]Optimizer `json:"optimizers"`
}

// Optimizer is one method's hyperparameters as they enter pkg/optim.
type Optimizer struct {
	LR         float64  `json:"lr"`
	Beta1      float64  `json:"beta1"`
	Beta2      *float64 `json:"beta2,omitempty"`
	Rho        *float64 `json:"rho,omitempty"`
	Damping    *float64 `json:"damping,omitempty"`
	SInit      *float64 `json:"s_init,omitempty"`
	BatchSplit int      `json:"batchsplit,omitempty"`
}

// MethodResult is one method's measures.
type MethodResult struct {
	Method string `json:"method"`
	// Prediction says which predictive the measures use: "point" (the
	// network at the trained weights) or "bma" (bSAM's model average).
	Prediction string `json:"prediction"`
	Measures
	// PosteriorMean repeats the measures for bSAM's point prediction at
	// the posterior mean, to show what the averaging adds.
	PosteriorMean *Measures `json:"posterior_mean,omitempty"`
	// FinalTrainLoss is the mean reported training loss of the last epoch.
	FinalTrainLoss float64 `json:"final_train_loss"`
}

// Measures summarise a predictive's confidence: the mean over points of
// max(p, 1−p).
type Measures struct {
	// FarMeanMaxProb is over the grid points farther than FarDistance
	// from every training point (null when there are none).
	FarMeanMaxProb *float64 `json:"far_mean_max_prob"`
	// TrainMeanMaxProb is over the training points.
	TrainMeanMaxProb float64 `json:"train_mean_max_prob"`
	// TrainAccuracy is the share of training points classified correctly.
	TrainAccuracy float64 `json:"train_accuracy"`
}

func measures(grid, trainP []float64, far []bool, data Data) Measures {
	m := Measures{TrainAccuracy: accuracy(trainP, data.Y)}
	if v, n := MeanMaxProb(grid, far); n > 0 {
		m.FarMeanMaxProb = &v
	}
	m.TrainMeanMaxProb, _ = MeanMaxProb(trainP, nil)
	return m
}

// DisplayName returns a method's name in titles and tables.
func DisplayName(method string) string {
	switch method {
	case optim.MethodSGD:
		return "SGD"
	case optim.MethodSAMSGD:
		return "SAM-SGD"
	case optim.MethodBSAM:
		return "bSAM"
	}
	return method
}

// Run trains every method of c, writes demo2d.png, demo2d.svg and
// demo2d.json (and demo2d_bsam.gif with c.GIF) into dir, creating it, and
// returns the result and the paths written. Files are written atomically
// (temporary file and rename). Progress lines go to logw.
func Run(ctx context.Context, c Config, dir string, logw io.Writer) (*Result, []string, error) {
	if err := c.Validate(); err != nil {
		return nil, nil, err
	}
	data, err := Moons(c.N, c.Noise, c.Seed)
	if err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	grid := NewGrid(c.Grid, c.XMin, c.XMax, c.YMin, c.YMax)
	dist := MinDistances(grid.Points, data)
	far := make([]bool, len(dist))
	for i, v := range dist {
		far[i] = v > c.FarDistance
	}

	// The methods train independently (one small network each): run them
	// side by side.
	trained := make([]*Trained, len(c.Methods))
	errs := make([]error, len(c.Methods))
	var wg sync.WaitGroup
	for i, m := range c.Methods {
		wg.Go(func() { trained[i], errs[i] = Train(ctx, c, m, data) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, nil, err
		}
		t := trained[i]
		fmt.Fprintf(logw, "demo2d: %s trained, final training loss %.4f\n", t.Method, t.Loss[len(t.Loss)-1])
	}

	res := &Result{
		Description: "Two-moons demo of bSAM (Möllenhoff and Khan, ICLR 2023; demo2d.py of team-approx-bayes/bayesian-sam): " +
			"mean max(p, 1-p) of each method's predictive over the grid points far from the data and over the training points.",
		Settings:   c.settings(),
		GridPoints: grid.Len(),
	}
	for _, f := range far {
		if f {
			res.FarPoints++
		}
	}
	pred := newPredictor(c.Hidden)
	var panels []Panel
	for _, t := range trained {
		pr := pred.Predict(t.W, t.S, t.NData, grid, data, c.Samples, c.ContourSamples, c.Seed)
		mr := MethodResult{Method: t.Method, Prediction: "point", Measures: measures(pr.Grid, pr.Train, far, data), FinalTrainLoss: t.Loss[len(t.Loss)-1]}
		panel := Panel{Grid: grid, Prob: pr.Grid, Point: pr.Grid, Samples: pr.SampleGrids, Data: data, Dist: dist, FarDistance: c.FarDistance}
		if t.S != nil {
			mr.Prediction = "bma"
			pm := measures(pr.MeanGrid, pr.MeanTrain, far, data)
			mr.PosteriorMean = &pm
			panel.Point = pr.MeanGrid
			if panel.Samples == nil {
				panel.Samples = [][]float64{}
			}
		}
		panel.Title = panelTitle(t.Method, mr, c.Samples)
		panels = append(panels, panel)
		res.Methods = append(res.Methods, mr)
	}

	var written []string
	write := func(name string, b []byte) error {
		path := filepath.Join(dir, name)
		if err := train.WriteFileAtomic(path, b, 0o644); err != nil {
			return err
		}
		written = append(written, path)
		return nil
	}
	png, err := RenderPNG(panels)
	if err != nil {
		return nil, nil, fmt.Errorf("drawing %s: %w", FilePNG, err)
	}
	if err := write(FilePNG, png); err != nil {
		return nil, written, err
	}
	svg, err := RenderSVG(panels)
	if err != nil {
		return nil, written, fmt.Errorf("drawing %s: %w", FileSVG, err)
	}
	if err := write(FileSVG, svg); err != nil {
		return nil, written, err
	}
	if c.GIF {
		for _, t := range trained {
			if t.S == nil {
				continue
			}
			b, err := animation(ctx, c, t, pred, data)
			if err != nil {
				return nil, written, err
			}
			if err := write(FileGIF, b); err != nil {
				return nil, written, err
			}
		}
	}
	path := filepath.Join(dir, FileJSON)
	if err := train.WriteJSONAtomic(path, res); err != nil {
		return nil, written, err
	}
	written = append(written, path)
	return res, written, nil
}

// panelTitle names the method and its far-from-data confidence.
func panelTitle(method string, mr MethodResult, samples int) string {
	what := "point prediction"
	if mr.Prediction == "bma" {
		what = fmt.Sprintf("model average of %d posterior samples", samples)
	}
	return fmt.Sprintf("%s (%s)\nmean max-prob: far from data %s, on data %s",
		DisplayName(method), what, fmtProb(mr.FarMeanMaxProb), fmtProb(&mr.TrainMeanMaxProb))
}

func fmtProb(p *float64) string {
	if p == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.3f", *p)
}

// animation renders bSAM's panel at each snapshot and encodes the GIF. A
// frame's colour map averages the ContourSamples samples it draws, on the
// coarser FrameGrid (so its measures differ a little from the figure's).
func animation(ctx context.Context, c Config, t *Trained, pred *predictor, data Data) ([]byte, error) {
	pal := gifPalette()
	grid := NewGrid(c.FrameGrid, c.XMin, c.XMax, c.YMin, c.YMax)
	far := FarMask(grid.Points, data, c.FarDistance)
	var frames []*image.Paletted
	k := max(c.ContourSamples, 1)
	for _, f := range t.Frames {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		pr := pred.Predict(f.W, f.S, t.NData, grid, data, k, c.ContourSamples, c.Seed+uint64(f.Epoch)+1)
		mr := MethodResult{Method: t.Method, Prediction: "bma"}
		mr.Measures = measures(pr.Grid, pr.Train, far, data)
		title := fmt.Sprintf("bSAM, epoch %d of %d (model average of %d samples)\nmean max-prob: far from data %s, on data %s",
			f.Epoch, c.Epochs, k, fmtProb(mr.FarMeanMaxProb), fmtProb(&mr.TrainMeanMaxProb))
		frames = append(frames, RenderFrame(Panel{Title: title, Grid: grid, Prob: pr.Grid, Point: pr.MeanGrid, Samples: pr.SampleGrids, Data: data}, pal))
	}
	return EncodeGIF(frames, c.FrameDelay)
}

func (c Config) settings() Settings {
	s := Settings{
		Seed: c.Seed, N: c.N, Noise: c.Noise, Hidden: c.Hidden, Epochs: c.Epochs + 1,
		BatchSize: c.BatchSize, BatchSplit: c.BatchSplit, Delta: c.Delta,
		Samples: c.Samples, ContourSamples: c.ContourSamples, Grid: c.Grid,
		Window:      [4]float64{c.XMin, c.XMax, c.YMin, c.YMax},
		FarDistance: c.FarDistance,
		Optimizers:  map[string]Optimizer{},
	}
	for _, m := range c.Methods {
		h := c.Hyper(m)
		o := Optimizer{LR: h.LR, Beta1: h.Beta1}
		if m != optim.MethodSGD {
			o.Rho = &h.Rho
			o.BatchSplit = h.BatchSplit
		}
		if m == optim.MethodBSAM {
			o.Beta2, o.Damping, o.SInit = &h.Beta2, &h.Damping, &h.SInit
		}
		s.Optimizers[m] = o
	}
	return s
}

// PrintTable writes the measures as an aligned table.
func PrintTable(w io.Writer, r *Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "method\tprediction\tmean max-prob far from data (%d grid points)\tmean max-prob on training points\ttrain accuracy\n", r.FarPoints)
	row := func(name, pred string, m Measures) {
		far := "n/a"
		if m.FarMeanMaxProb != nil {
			far = fmt.Sprintf("%.4f", *m.FarMeanMaxProb)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.4f\t%.3f\n", name, pred, far, m.TrainMeanMaxProb, m.TrainAccuracy)
	}
	for _, m := range r.Methods {
		pred := "point (trained weights)"
		if m.Prediction == "bma" {
			pred = fmt.Sprintf("model average, %d samples", r.Settings.Samples)
		}
		row(DisplayName(m.Method), pred, m.Measures)
		if m.PosteriorMean != nil {
			row(DisplayName(m.Method), "point (posterior mean)", *m.PosteriorMean)
		}
	}
	return tw.Flush()
}
