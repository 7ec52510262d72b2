package demo2d

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Data is a 2-D binary classification set: point i is (X[2i], X[2i+1])
// with label Y[i] ∈ {0, 1}.
type Data struct {
	X []float64
	Y []int32
}

// Len returns the number of points.
func (d Data) Len() int { return len(d.Y) }

// Moons returns n points of scikit-learn's make_moons construction: ⌊n/2⌋
// points on the upper half circle (cos t, sin t), label 0, and the other
// ⌈n/2⌉ on the lower half circle (1 − cos t, ½ − sin t), label 1, with t
// evenly spaced over [0, π] on each; the points are shuffled and
// N(0, noise²) noise is added to both coordinates. The random numbers come
// from a PCG generator seeded by seed, so the points differ from NumPy's
// for the same seed, but the construction is the same.
func Moons(n int, noise float64, seed uint64) (Data, error) {
	if n < 2 {
		return Data{}, fmt.Errorf("two moons: need at least 2 points, got %d", n)
	}
	if !(noise >= 0) || math.IsInf(noise, 0) {
		return Data{}, fmt.Errorf("two moons: noise must be a finite value >= 0, got %v", noise)
	}
	nOut := n / 2
	nIn := n - nOut
	x := make([]float64, 0, 2*n)
	y := make([]int32, 0, n)
	for i := 0; i < nOut; i++ {
		t := linspace(0, math.Pi, nOut, i)
		x = append(x, math.Cos(t), math.Sin(t))
		y = append(y, 0)
	}
	for i := 0; i < nIn; i++ {
		t := linspace(0, math.Pi, nIn, i)
		x = append(x, 1-math.Cos(t), 1-math.Sin(t)-0.5)
		y = append(y, 1)
	}
	r := rand.New(rand.NewPCG(seed, streamMoons))
	r.Shuffle(n, func(i, j int) {
		x[2*i], x[2*j] = x[2*j], x[2*i]
		x[2*i+1], x[2*j+1] = x[2*j+1], x[2*i+1]
		y[i], y[j] = y[j], y[i]
	})
	for i := range x {
		x[i] += noise * r.NormFloat64()
	}
	return Data{X: x, Y: y}, nil
}

// linspace returns value i of NumPy's linspace(lo, hi, n): lo for n = 1.
func linspace(lo, hi float64, n, i int) float64 {
	if n == 1 {
		return lo
	}
	if i == n-1 {
		return hi
	}
	return lo + (hi-lo)*float64(i)/float64(n-1)
}

// Random streams derived from the seed, one per purpose, so that changing
// how many numbers one of them draws does not move the others.
const (
	streamMoons   = 0x6d6f6f6e73 // "moons"
	streamInit    = 0x696e6974   // "init"
	streamShuffle = 0x73687566   // "shuf"
	streamSamples = 0x73616d70   // "samp"
	streamNoise   = 0x6e6f6973   // "nois": bSAM's training noise
)
