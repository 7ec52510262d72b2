package optim

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/bsam-dev/bsam/internal/testutil"
	"github.com/bsam-dev/bsam/pkg/nn"
)

// goldenFile is the layout of testdata under GoldenDir(t, "optim"): float64
// optimizer trajectories on softmax regression (see its description field).
type goldenFile struct {
	Description string      `json:"description"`
	D           int         `json:"D"`
	K           int         `json:"K"`
	NTrain      int         `json:"ntrain"`
	X           [][]float64 `json:"X"`
	Y           []int32     `json:"y"`
	Batches     [][]int     `json:"batches"`
	LRFactor    []float64   `json:"lr_factor"`
	Cases       []goldenCase
}

type goldenCase struct {
	Name   string                       `json:"name"`
	Method string                       `json:"method"` // optional; defaults to Name
	Hyper  map[string]float64           `json:"hyper"`
	Init   map[string][]float64         `json:"init"`
	Steps  []map[string]json.RawMessage `json:"steps"`
	Noise  [][][]float64                `json:"noise"`
}

// hyperFromGolden maps a case's hyper object onto Hyper, starting from
// DefaultHyper; an unknown key is an error so new fields are not ignored.
func hyperFromGolden(m map[string]float64, ntrain int) (Hyper, error) {
	h := DefaultHyper()
	h.NTrain = ntrain
	for k, v := range m {
		switch k {
		case "lr":
			h.LR = v
		case "beta1":
			h.Beta1 = v
		case "beta2":
			h.Beta2 = v
		case "rho":
			h.Rho = v
		case "priorprec":
			h.PriorPrec = v
		case "dafactor":
			h.DAFactor = v
		case "batchsplit":
			h.BatchSplit = int(v)
			if float64(h.BatchSplit) != v {
				return h, fmt.Errorf("hyper.batchsplit %v is not an integer", v)
			}
		case "damping":
			h.Damping = v
		case "s_init":
			h.SInit = v
		case "eps":
			h.Eps = v
		default:
			return h, fmt.Errorf("unknown hyper key %q", k)
		}
	}
	return h, nil
}

// softmaxReg is the golden files' model, built on the project's kernels:
// logits = X·W + b, loss = mean softmax cross-entropy over a sub-batch, with
// theta = W row-major [D][K] followed by b[K].
type softmaxReg[T nn.Float] struct {
	d, k    int
	x       []T // ntrain×d
	y       []int32
	rows    []int // the current minibatch
	xs      []T
	ys      []int32
	logits  []T
	dlogits []T
	grad    []T
	calls   [][2]int // (k, pass) of every Eval since the last reset
}

func newSoftmaxReg[T nn.Float](x [][]float64, y []int32, d, k int) *softmaxReg[T] {
	o := &softmaxReg[T]{d: d, k: k, y: y, grad: make([]T, d*k+k)}
	for _, row := range x {
		for _, v := range row {
			o.x = append(o.x, T(v))
		}
	}
	return o
}

func (o *softmaxReg[T]) setBatch(rows []int) {
	o.rows = rows
	o.calls = o.calls[:0]
}

func (o *softmaxReg[T]) Eval(theta []T, k, m, pass int) (float64, []T) {
	o.calls = append(o.calls, [2]int{k, pass})
	if len(o.rows)%m != 0 {
		panic(fmt.Sprintf("batch of %d rows not divisible by %d", len(o.rows), m))
	}
	sub := len(o.rows) / m
	rows := o.rows[k*sub : (k+1)*sub]
	n, d, kk := len(rows), o.d, o.k
	o.xs = o.xs[:0]
	o.ys = o.ys[:0]
	for _, r := range rows {
		o.xs = append(o.xs, o.x[r*d:(r+1)*d]...)
		o.ys = append(o.ys, o.y[r])
	}
	if len(o.logits) < n*kk {
		o.logits = make([]T, n*kk)
		o.dlogits = make([]T, n*kk)
	}
	w, b := theta[:d*kk], theta[d*kk:d*kk+kk]
	nn.LinearForward(o.xs, n, d, kk, w, b, o.logits[:n*kk])
	loss := nn.SoftmaxCrossEntropy(o.logits[:n*kk], o.ys, n, kk, T(1/float64(n)), o.dlogits[:n*kk])
	clear(o.grad)
	nn.LinearBackward(o.xs, o.dlogits[:n*kk], n, d, kk, w, o.grad[:d*kk], o.grad[d*kk:], nil)
	return loss / float64(n), o.grad
}

// closeTo reports the first element where got differs from want by more
// than rtol·max(|want_i|, 1e-2·‖want‖∞): relative, with a floor so that
// elements near zero are compared on the vector's scale.
func closeTo[T nn.Float](got []T, want []float64, rtol float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("length %d, want %d", len(got), len(want))
	}
	var scale float64
	for _, v := range want {
		scale = math.Max(scale, math.Abs(v))
	}
	for i, v := range want {
		g := float64(got[i])
		if !(math.Abs(g-v) <= rtol*math.Max(math.Abs(v), 1e-2*scale)) {
			return fmt.Errorf("[%d] = %.17g, want %.17g (rel. err %.3g, tol %g)", i, g, v, math.Abs(g-v)/math.Max(math.Abs(v), 1e-300), rtol)
		}
	}
	return nil
}

func loadGolden(t *testing.T) map[string]goldenFile {
	t.Helper()
	dir := testutil.GoldenDir(t, "optim")
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Skipf("no *.json golden files in %s", dir)
	}
	sort.Strings(paths)
	files := map[string]goldenFile{}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var f goldenFile
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if len(f.Cases) == 0 {
			t.Fatalf("%s: no cases", p)
		}
		files[filepath.Base(p)] = f
	}
	return files
}

func TestGoldenTrajectories(t *testing.T) {
	files := loadGolden(t)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, fn := range names {
		f := files[fn]
		for _, c := range f.Cases {
			t.Run(fn+"/"+c.Name+"/float64", func(t *testing.T) { runGoldenCase[float64](t, f, c, 1e-10) })
			t.Run(fn+"/"+c.Name+"/float32", func(t *testing.T) { runGoldenCase[float32](t, f, c, 1e-4) })
		}
	}
}

func runGoldenCase[T nn.Float](t *testing.T, f goldenFile, c goldenCase, rtol float64) {
	method := c.Method
	if method == "" {
		method = c.Name
	}
	h, err := hyperFromGolden(c.Hyper, f.NTrain)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Steps) > len(f.Batches) || len(c.Steps) > len(f.LRFactor) {
		t.Fatalf("%d steps but %d batches and %d lr factors", len(c.Steps), len(f.Batches), len(f.LRFactor))
	}
	var noise Noise[T]
	if c.Noise != nil {
		draws := make([][][]T, len(c.Noise))
		for i, step := range c.Noise {
			for _, v := range step {
				draws[i] = append(draws[i], toT[T](v))
			}
		}
		noise = NewFixedNoise(draws)
	}
	opt, err := New(method, h, toT[T](c.Init["w"]), noise)
	if err != nil {
		t.Fatalf("New(%q): %v", method, err)
	}
	state := opt.State()
	for name, v := range c.Init {
		if name == "w" {
			continue
		}
		dst, ok := state[name]
		if !ok {
			t.Fatalf("init has state %q that %s does not keep (it keeps %v)", name, method, keys(state))
		}
		copy(dst, toT[T](v))
	}
	obj := newSoftmaxReg[T](f.X, f.Y, f.D, f.K)
	for step, want := range c.Steps {
		obj.setBatch(f.Batches[step])
		loss := opt.Step(obj, f.LRFactor[step])
		checked := 0
		for name, raw := range want {
			if name == "loss" {
				var wl float64
				if err := json.Unmarshal(raw, &wl); err != nil {
					t.Fatal(err)
				}
				if !(math.Abs(loss-wl) <= rtol*math.Abs(wl)) {
					t.Errorf("step %d: loss %.17g, want %.17g", step, loss, wl)
				}
				checked++
				continue
			}
			var wv []float64
			if err := json.Unmarshal(raw, &wv); err != nil {
				t.Fatalf("step %d: %s: %v", step, name, err)
			}
			got, ok := state[name]
			if name == "w" {
				got, ok = opt.Params(), true
			}
			if !ok {
				t.Fatalf("step %d: golden state %q is not kept by %s (it keeps %v)", step, name, method, keys(state))
			}
			if err := closeTo(got, wv, rtol); err != nil {
				t.Errorf("step %d: %s%v", step, name, err)
			}
			checked++
		}
		if _, ok := want["loss"]; !ok || checked < 2 {
			t.Fatalf("step %d: golden step has no loss or no state vectors", step)
		}
	}
}

func toT[T nn.Float](v []float64) []T {
	out := make([]T, len(v))
	for i, x := range v {
		out[i] = T(x)
	}
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestSoftmaxRegGradient checks the test objective against central finite
// differences, so the golden comparison rests on a verified model.
func TestSoftmaxRegGradient(t *testing.T) {
	const d, k, n = 3, 4, 6
	x := make([][]float64, n)
	y := make([]int32, n)
	for i := range x {
		x[i] = []float64{math.Sin(float64(i)), math.Cos(float64(3 * i)), 0.5 - float64(i)/7}
		y[i] = int32(i % k)
	}
	obj := newSoftmaxReg[float64](x, y, d, k)
	obj.setBatch([]int{0, 1, 2, 3, 4, 5})
	theta := make([]float64, d*k+k)
	for i := range theta {
		theta[i] = 0.3 * math.Sin(float64(2*i+1))
	}
	for _, sub := range []struct{ k, m int }{{0, 1}, {1, 2}, {2, 3}} {
		_, g := obj.Eval(theta, sub.k, sub.m, 0)
		g = append([]float64(nil), g...)
		const hstep = 1e-6
		for i := range theta {
			old := theta[i]
			theta[i] = old + hstep
			lp, _ := obj.Eval(theta, sub.k, sub.m, 0)
			theta[i] = old - hstep
			lm, _ := obj.Eval(theta, sub.k, sub.m, 0)
			theta[i] = old
			fd := (lp - lm) / (2 * hstep)
			if math.Abs(fd-g[i]) > 1e-8 {
				t.Errorf("sub-batch %d/%d: grad[%d] = %g, finite difference %g", sub.k, sub.m, i, g[i], fd)
			}
		}
	}
}

// TestGoldenCallOrder checks the Objective contract on the golden model:
// plain methods evaluate the whole batch once (pass 0); SAM-type methods
// evaluate sub-batch k with pass 0 and then pass 1, k = 0..m-1.
func TestGoldenCallOrder(t *testing.T) {
	x := [][]float64{{1, 0}, {0, 1}, {1, 1}, {-1, 0.5}, {0.3, -2}, {2, 2}}
	y := []int32{0, 1, 2, 0, 1, 2}
	w0 := make([]float64, 2*3+3)
	for i := range w0 {
		w0[i] = 0.1 * float64(i%4)
	}
	for _, method := range Methods() {
		h := DefaultHyper()
		h.LR, h.Rho, h.PriorPrec, h.NTrain, h.BatchSplit = 0.1, 0.05, 1, 6, 3
		opt, err := New(method, h, w0, NewRNGNoise[float64](1))
		if err != nil {
			t.Fatal(err)
		}
		obj := newSoftmaxReg[float64](x, y, 2, 3)
		obj.setBatch([]int{0, 1, 2, 3, 4, 5})
		opt.Step(obj, 1)
		var want [][2]int
		if method == MethodSGD || method == MethodAdam {
			want = [][2]int{{0, 0}}
		} else {
			for k := 0; k < h.BatchSplit; k++ {
				want = append(want, [2]int{k, 0}, [2]int{k, 1})
			}
		}
		if fmt.Sprint(obj.calls) != fmt.Sprint(want) {
			t.Errorf("%s: Eval calls (k, pass) = %v, want %v", method, obj.calls, want)
		}
	}
}
