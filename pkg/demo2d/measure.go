package demo2d

import "math"

// Grid is a regular grid of Nx × Ny points over a rectangle: point
// (i, j) is (X[i], Y[j]), stored at index j·Nx + i of Points.
type Grid struct {
	X, Y   []float64
	Points []float64 // 2 coordinates per point, x fastest
}

// NewGrid returns n × n evenly spaced points over [x0, x1] × [y0, y1],
// both ends included (NumPy's linspace and meshgrid).
func NewGrid(n int, x0, x1, y0, y1 float64) Grid {
	g := Grid{X: make([]float64, n), Y: make([]float64, n), Points: make([]float64, 0, 2*n*n)}
	for i := range n {
		g.X[i] = linspace(x0, x1, n, i)
		g.Y[i] = linspace(y0, y1, n, i)
	}
	for _, y := range g.Y {
		for _, x := range g.X {
			g.Points = append(g.Points, x, y)
		}
	}
	return g
}

// Len returns the number of grid points.
func (g Grid) Len() int { return len(g.X) * len(g.Y) }

// MinDistances returns, for each of the points (2 coordinates each), its
// Euclidean distance to the nearest point of data (+Inf when data is
// empty).
func MinDistances(points []float64, data Data) []float64 {
	out := make([]float64, len(points)/2)
	for i := range out {
		px, py := points[2*i], points[2*i+1]
		best := math.Inf(1)
		for j := 0; j < data.Len(); j++ {
			dx, dy := px-data.X[2*j], py-data.X[2*j+1]
			best = math.Min(best, dx*dx+dy*dy)
		}
		out[i] = math.Sqrt(best)
	}
	return out
}

// FarMask reports, for each of the points (2 coordinates each), whether its
// Euclidean distance to every point of data exceeds dist.
func FarMask(points []float64, data Data, dist float64) []bool {
	d := MinDistances(points, data)
	far := make([]bool, len(d))
	for i, v := range d {
		far[i] = v > dist
	}
	return far
}

// MeanMaxProb returns the mean of max(p, 1−p) over the probabilities of
// class 1 in p whose mask entry is true (all of them when mask is nil),
// and how many entered the mean. The mean is NaN when none did. It is the
// confidence of the prediction: 1 for a certain one, ½ for a coin flip.
func MeanMaxProb(p []float64, mask []bool) (float64, int) {
	var sum float64
	n := 0
	for i, v := range p {
		if mask != nil && !mask[i] {
			continue
		}
		sum += math.Max(v, 1-v)
		n++
	}
	if n == 0 {
		return math.NaN(), 0
	}
	return sum / float64(n), n
}

// accuracy returns the share of points whose label is the class with
// probability above ½ (a probability of exactly ½ counts as class 0).
func accuracy(p []float64, y []int32) float64 {
	ok := 0
	for i, v := range p {
		if (v > 0.5) == (y[i] == 1) {
			ok++
		}
	}
	return float64(ok) / float64(len(p))
}
