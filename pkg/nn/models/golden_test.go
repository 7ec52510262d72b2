package models

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/bsam-dev/bsam/internal/testutil"
	"github.com/bsam-dev/bsam/pkg/nn"
)

// goldenCase is one PyTorch reference case: its manifest and tensors.
type goldenCase struct {
	dir      string
	Loss     float64 `json:"loss"`
	Manifest struct {
		Tensors []struct {
			Kind, Name, Layout, Dtype, File string
			Shape                           []int
		} `json:"tensors"`
	}
}

func loadGolden(t *testing.T, name string) *goldenCase {
	t.Helper()
	dir := testutil.GoldenDir(t, "pytorch", name)
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	g := &goldenCase{dir: filepath.Dir(dir)}
	if err := json.Unmarshal(raw, g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &g.Manifest); err != nil {
		t.Fatal(err)
	}
	return g
}

// tensor returns the float32 tensor of the given kind and name as float64,
// with its shape and layout.
func (g *goldenCase) tensor(t *testing.T, kind, name string) ([]float64, []int, string) {
	t.Helper()
	for _, e := range g.Manifest.Tensors {
		if e.Kind != kind || e.Name != name {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(g.dir, e.File))
		if err != nil {
			t.Fatal(err)
		}
		v := make([]float64, len(raw)/4)
		for i := range v {
			bits := binary.LittleEndian.Uint32(raw[4*i:])
			if e.Dtype == "int32" {
				v[i] = float64(int32(bits))
			} else {
				v[i] = float64(math.Float32frombits(bits))
			}
		}
		return v, e.Shape, e.Layout
	}
	t.Fatalf("golden tensor %s %q missing", kind, name)
	return nil, nil, ""
}

// toEngine converts a PyTorch tensor to this engine's layout: linear
// weights [out, in] become [in][out]; vectors are unchanged.
func toEngine(t *testing.T, v []float64, shape []int, layout string) []float64 {
	switch layout {
	case "OI":
		out, in := shape[0], shape[1]
		w := make([]float64, len(v))
		for o := 0; o < out; o++ {
			for i := 0; i < in; i++ {
				w[i*out+o] = v[o*in+i]
			}
		}
		return w
	case "C", "NF", "NK", "N", "scalar":
		return v
	}
	t.Fatalf("unhandled golden layout %q", layout)
	return nil
}

// relErr returns max|got−want| / max|want|.
func relErr[T nn.Float](got []T, want []float64) float64 {
	var diff, scale float64
	for i, w := range want {
		diff = max(diff, math.Abs(float64(got[i])-w))
		scale = max(scale, math.Abs(w))
	}
	return diff / scale
}

func convert[T nn.Float](v []float64) []T {
	out := make([]T, len(v))
	for i, x := range v {
		out[i] = T(x)
	}
	return out
}

func TestMLPGolden(t *testing.T) {
	t.Run("float32", func(t *testing.T) { testMLPGolden[float32](t, 2e-5) })
	t.Run("float64", func(t *testing.T) { testMLPGolden[float64](t, 5e-7) })
}

// testMLPGolden loads the PyTorch MLP's parameters and inputs and compares
// logits, loss and every parameter gradient. The reference was computed in
// float64 and stored as float32, which bounds the float64 agreement.
func testMLPGolden[T nn.Float](t *testing.T, tol float64) {
	g := loadGolden(t, "mlp")
	x, _, _ := g.tensor(t, "input", "x")
	compareGolden[T](t, g, "mlp", nn.Shape{H: 28, W: 28, C: 1}, x, []int{1, 3, 32}, tol, tol, toEngine)
}

// compareGolden builds the named network for each shard size, loads the
// golden parameters (converted to the engine's layout by conv), runs a
// training pass on x (NHWC) and the golden labels, and compares the loss,
// every parameter gradient (tolerance gradTol) and the logits (tol), each
// relative to the reference tensor's largest magnitude.
func compareGolden[T nn.Float](t *testing.T, g *goldenCase, name string, in nn.Shape, x []float64, shards []int, tol, gradTol float64,
	conv func(t *testing.T, v []float64, shape []int, layout string) []float64) {
	t.Helper()
	labelsF, _, _ := g.tensor(t, "input", "labels")
	n := len(labelsF)
	labels := make([]int32, n)
	for i, v := range labelsF {
		labels[i] = int32(v)
	}
	for _, shard := range shards {
		net, err := New[T](name, in, 10, Options{NetOptions: nn.NetOptions{ShardSize: shard}})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range net.ParamSpecs() {
			v, shape, layout := g.tensor(t, "param", s.Name)
			copy(net.Params()[s.Offset:s.Offset+s.Size], convert[T](conv(t, v, shape, layout)))
		}
		xs := convert[T](x)
		loss := net.LossGrad(xs, labels, n, false)
		if err := math.Abs(loss-g.Loss) / g.Loss; err > tol {
			t.Errorf("shard %d: loss %.9g, reference %.9g (rel err %.2g)", shard, loss, g.Loss, err)
		}
		var worst float64
		for _, s := range net.ParamSpecs() {
			v, shape, layout := g.tensor(t, "grad", s.Name)
			err := relErr(net.Grads()[s.Offset:s.Offset+s.Size], conv(t, v, shape, layout))
			if err > gradTol {
				t.Errorf("shard %d: gradient of %s: rel err %.3g > %.1g", shard, s.Name, err, gradTol)
			}
			worst = max(worst, err)
		}
		want, _, _ := g.tensor(t, "output", "logits")
		logits := make([]T, n*10)
		net.Logits(xs, n, logits)
		lerr := relErr(logits, want)
		if lerr > tol {
			t.Errorf("shard %d: logits rel err %.3g > %.1g", shard, lerr, tol)
		}
		t.Logf("shard %d: loss rel err %.2g, logits %.2g, worst gradient %.2g (%d tensors)",
			shard, math.Abs(loss-g.Loss)/g.Loss, lerr, worst, len(net.ParamSpecs()))
	}
}
