package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/bsam-dev/bsam/pkg/nn"
)

var (
	mnist = nn.Shape{H: 28, W: 28, C: 1}
	cifar = nn.Shape{H: 32, W: 32, C: 3}
)

func TestParamCount(t *testing.T) {
	tests := []struct {
		name    string
		in      nn.Shape
		classes int
		opts    []Options
		want    int
	}{
		// SPEC §3.3: 784·500+500 + 500·300+300 + 300·10+10.
		{"mlp", mnist, 10, nil, 545810},
		{"mlp", cifar, 10, nil, 1689810},
		{"mlp", nn.Shape{H: 1, W: 1, C: 784}, 10, nil, 545810},
		// SPEC §3.4: convolutions 156 + 2,416 + 48,120, then 480·64+64 and
		// 64·K+K (K = 10, or 9 with the official head); on CIFAR the flatten
		// has 1080 features.
		{"lenet", mnist, 10, nil, 82126},
		{"lenet", mnist, 10, []Options{{LeNetOfficialHead: true}}, 82061},
		{"lenet", cifar, 10, nil, 120826},
		{"lenet", cifar, 10, []Options{{LeNetOfficialHead: true}}, 120761},
	}
	for _, tc := range tests {
		name := fmt.Sprintf("%s/%dx%dx%d/%d", tc.name, tc.in.H, tc.in.W, tc.in.C, tc.classes)
		if len(tc.opts) > 0 && tc.opts[0].LeNetOfficialHead {
			name += "/official-head"
		}
		t.Run(name, func(t *testing.T) {
			got, err := ParamCount(tc.name, tc.in, tc.classes, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("ParamCount = %d, want %d", got, tc.want)
			}
			var o Options
			if len(tc.opts) > 0 {
				o = tc.opts[0]
			}
			net, err := New[float32](tc.name, tc.in, tc.classes, o)
			if err != nil {
				t.Fatal(err)
			}
			if len(net.Params()) != tc.want || len(net.Grads()) != tc.want {
				t.Errorf("net buffers hold %d params, %d grads; want %d", len(net.Params()), len(net.Grads()), tc.want)
			}
		})
	}
}

func TestRegistry(t *testing.T) {
	for _, name := range []string{"mlp", "lenet"} {
		if !slices.Contains(Names(), name) {
			t.Errorf("Names() = %v, missing %s", Names(), name)
		}
	}
	_, err := New[float32]("no-such-net", mnist, 10, Options{})
	if err == nil || !strings.Contains(err.Error(), "mlp") {
		t.Errorf("unknown model error %v should list the valid names", err)
	}
	if _, err := ParamCount("no-such-net", mnist, 10); err == nil {
		t.Error("ParamCount accepted an unknown model")
	}
	if _, err := New[float64]("mlp", mnist, 1, Options{}); err == nil {
		t.Error("New accepted a single class")
	}
	if _, err := New[float32]("lenet", nn.Shape{H: 8, W: 8, C: 1}, 10, Options{}); err == nil {
		t.Error("LeNet accepted an 8×8 input that pools to nothing")
	}
	for _, tc := range []struct {
		official bool
		want     int
	}{{false, 10}, {true, 9}} {
		net, err := New[float32]("lenet", mnist, 10, Options{LeNetOfficialHead: tc.official})
		if err != nil {
			t.Fatal(err)
		}
		if net.NumClasses() != tc.want {
			t.Errorf("lenet official head %v: %d logits, want %d", tc.official, net.NumClasses(), tc.want)
		}
	}
}

// TestMLPInit checks the MLP's initial parameters: biases 0.05 and weights
// from haiku's default truncated normal (|w| ≤ 2/√fan_in, std ≈ 0.88/√fan_in).
func TestMLPInit(t *testing.T) {
	net, err := New[float32]("mlp", mnist, 10, Options{})
	if err != nil {
		t.Fatal(err)
	}
	net.Init(rand.New(rand.NewPCG(1, 2)))
	fanIn := map[string]int{"fc1.weight": 784, "fc2.weight": 500, "fc3.weight": 300}
	for _, s := range net.ParamSpecs() {
		v := net.Params()[s.Offset : s.Offset+s.Size]
		fan, isW := fanIn[s.Name]
		if !isW {
			for _, b := range v {
				if b != 0.05 {
					t.Fatalf("%s holds %g, want 0.05", s.Name, b)
				}
			}
			continue
		}
		bound := 2 / math.Sqrt(float64(fan))
		var s2 float64
		for _, w := range v {
			if math.Abs(float64(w)) > bound*(1+1e-6) {
				t.Fatalf("%s holds %g beyond ±%g", s.Name, w, bound)
			}
			s2 += float64(w) * float64(w)
		}
		std := math.Sqrt(s2/float64(len(v))) * math.Sqrt(float64(fan))
		if math.Abs(std-0.8796) > 0.03 {
			t.Errorf("%s: std·√fan_in = %.4f, want ≈ 0.8796", s.Name, std)
		}
	}
}

// mlpBatch returns a random MLP net (ShardSize shard) and a batch.
func mlpBatch[T nn.Float](t testing.TB, shard, n int) (*nn.Net[T], []T, []int32) {
	net, err := New[T]("mlp", mnist, 10, Options{NetOptions: nn.NetOptions{ShardSize: shard}})
	if err != nil {
		t.Fatal(err)
	}
	net.Init(rand.New(rand.NewPCG(7, 7)))
	rng := rand.New(rand.NewPCG(8, 8))
	x := make([]T, n*mnist.Size())
	for i := range x {
		x[i] = T(rng.Float64())
	}
	labels := make([]int32, n)
	for i := range labels {
		labels[i] = int32(rng.IntN(10))
	}
	return net, x, labels
}

// TestShardIndependence runs one batch with several shard sizes: the loss,
// gradients and logits must agree to rounding.
func TestShardIndependence(t *testing.T) {
	t.Run("float32", func(t *testing.T) { testShardIndependence[float32](t, 1e-5) })
	t.Run("float64", func(t *testing.T) { testShardIndependence[float64](t, 1e-13) })
}

func testShardIndependence[T nn.Float](t *testing.T, tol float64) {
	const n = 19
	var refLoss float64
	var refGrad, refLogits []float64
	for _, shard := range []int{64, 1, 3, 8} {
		net, x, labels := mlpBatch[T](t, shard, n)
		loss := net.LossGrad(x, labels, n, false)
		logits := make([]T, n*10)
		net.Logits(x, n, logits)
		grad := convert64(net.Grads())
		if refGrad == nil {
			refLoss, refGrad, refLogits = loss, grad, convert64(logits)
			continue
		}
		if math.Abs(loss-refLoss) > tol*refLoss {
			t.Errorf("shard %d: loss %.10g, with one shard %.10g", shard, loss, refLoss)
		}
		if err := relErr(grad, refGrad); err > tol {
			t.Errorf("shard %d: gradients differ from one shard's by %.3g", shard, err)
		}
		if err := relErr(logits, refLogits); err > tol {
			t.Errorf("shard %d: logits differ from one shard's by %.3g", shard, err)
		}
	}
}

func convert64[T nn.Float](v []T) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// TestGOMAXPROCSBitIdentical checks that with a fixed shard size the
// logits and gradients do not depend on the number of CPUs, bit for bit.
// Logits runs first, on as many replicas as GOMAXPROCS allows, so the
// training pass also exercises replicas that were created for evaluation.
func TestGOMAXPROCSBitIdentical(t *testing.T) {
	const n = 40 // 5 shards of 8
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var refGrad, refLogits []float32
	var refLoss float64
	for _, procs := range []int{1, 2, 1, 4} {
		runtime.GOMAXPROCS(procs)
		net, x, labels := mlpBatch[float32](t, 8, n)
		logits := make([]float32, n*10)
		net.Logits(x, n, logits)
		loss := net.LossGrad(x, labels, n, false)
		if refGrad == nil {
			refGrad, refLogits, refLoss = slices.Clone(net.Grads()), logits, loss
			continue
		}
		if loss != refLoss {
			t.Errorf("GOMAXPROCS %d: loss %v, want %v", procs, loss, refLoss)
		}
		for _, c := range []struct {
			what      string
			got, want []float32
		}{{"logits", logits, refLogits}, {"grad", net.Grads(), refGrad}} {
			for i, g := range c.got {
				if math.Float32bits(g) != math.Float32bits(c.want[i]) {
					t.Fatalf("GOMAXPROCS %d: %s[%d] = %v, want %v bit for bit", procs, c.what, i, g, c.want[i])
				}
			}
		}
	}
}

// TestZeroAllocs checks that once warm, a training step and an evaluation
// pass make no heap allocations, including for a smaller batch.
func TestZeroAllocs(t *testing.T) {
	const n = 40 // 5 shards of 8
	net, x, labels := mlpBatch[float32](t, 8, n)
	logits := make([]float32, n*10)
	net.LossGrad(x, labels, n, true)
	net.Logits(x, n, logits)
	tests := []struct {
		name string
		f    func()
	}{
		{"LossGrad/40", func() { net.LossGrad(x, labels, n, true) }},
		{"LossGrad/25", func() { net.LossGrad(x, labels, 25, false) }},
		{"LossGrad/3", func() { net.LossGrad(x, labels, 3, false) }},
		{"Logits/40", func() { net.Logits(x, n, logits) }},
	}
	for _, tc := range tests {
		tc.f()
		if a := testing.AllocsPerRun(5, tc.f); a != 0 {
			t.Errorf("%s: %v allocations per call", tc.name, a)
		}
	}
}

// BenchmarkMLPStep times one LossGrad on a batch of 200 MNIST images at
// the default shard size (7 shards) and with 2 shards of 100.
func BenchmarkMLPStep(b *testing.B) {
	for _, tc := range []struct {
		name         string
		batch, shard int
	}{
		{"batch=200", 200, 0},
		{"batch=200,shard=100", 200, 100},
	} {
		b.Run(tc.name, func(b *testing.B) {
			net, x, labels := mlpBatch[float32](b, tc.shard, tc.batch)
			net.LossGrad(x, labels, tc.batch, false)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				net.LossGrad(x, labels, tc.batch, false)
			}
			b.ReportMetric(float64(tc.batch)*float64(b.N)/b.Elapsed().Seconds(), "img/s")
		})
	}
}
