package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

func TestBatchNormGradientsFiniteDifference(t *testing.T) {
	tests := []struct {
		in   Shape
		n    int
		relu bool
	}{
		{Shape{3, 3, 4}, 3, false},
		{Shape{2, 3, 3}, 2, true},
		{Shape{1, 1, 5}, 6, false}, // a dense layer's features
	}
	for i, tc := range tests {
		t.Run(fmt.Sprintf("%v_n%d_relu=%v", tc.in, tc.n, tc.relu), func(t *testing.T) {
			r := rand.New(rand.NewPCG(11, uint64(i)))
			f := newFDLayer(NewBatchNorm[float64]("bn", tc.relu), tc.in, r)
			x := randSlice(r, tc.n*tc.in.Size())
			for j := range x {
				x[j] = 2*x[j] + 0.7 // a non-zero mean exercises E[x²]−E[x]²
			}
			f.checkGrads(t, x, tc.n, r, 1e-6)
		})
	}
}

func TestBatchNormForwardReference(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 1))
	in := Shape{2, 2, 3}
	f := newFDLayer(NewBatchNorm[float64]("", false), in, r)
	n := 4
	x := randSlice(r, n*in.Size())
	got := f.l.Forward(trainCtx(n), x)
	c, rows := in.C, n*in.H*in.W
	for j := 0; j < c; j++ {
		var m, v float64
		for p := 0; p < rows; p++ {
			m += x[p*c+j] / float64(rows)
		}
		for p := 0; p < rows; p++ {
			d := x[p*c+j] - m
			v += d * d / float64(rows) // biased variance
		}
		for p := 0; p < rows; p++ {
			want := (x[p*c+j]-m)/math.Sqrt(v+1e-5)*f.params[j] + f.params[c+j]
			if math.Abs(got[p*c+j]-want) > 1e-12 {
				t.Fatalf("y[%d] = %g, want %g", p*c+j, got[p*c+j], want)
			}
		}
	}
}

// bnShards runs forward (updating state) and backward of one BatchNorm over
// a batch cut into the given number of shards, each on its own replica and
// goroutine, and returns the output, dx, summed parameter gradients and
// the state afterwards.
func bnShards(shards int, in Shape, n int, params, x, dy []float64) (y, dx, grads, state []float64) {
	var b Builder
	NewBatchNorm[float64]("bn", true).Setup(&b, in)
	state = make([]float64, b.NumState())
	grads = make([]float64, len(params))
	y, dx = make([]float64, len(x)), make([]float64, len(x))
	var s *Sync
	if shards > 1 {
		s = NewSync(shards)
	}
	per := n / shards
	sz := in.Size()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for k := 0; k < shards; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bn := NewBatchNorm[float64]("bn", true)
			var bb Builder
			bn.Setup(&bb, in)
			g := make([]float64, len(params))
			bn.Bind(params, g, state)
			ctx := &Ctx{Mode: Mode{Train: true, UpdateState: true}, Shard: k, Shards: shards,
				Start: k * per, N: per, Total: n, Sync: s}
			lo, hi := k*per*sz, (k+1)*per*sz
			copy(y[lo:hi], bn.Forward(ctx, x[lo:hi]))
			copy(dx[lo:hi], bn.Backward(ctx, dy[lo:hi], true))
			mu.Lock()
			for i, v := range g {
				grads[i] += v
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return y, dx, grads, state
}

func TestBatchNormShardsMatchOneShard(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 1))
	in := Shape{3, 2, 4}
	n := 6
	params := randSlice(r, 2*in.C)
	x := randSlice(r, n*in.Size())
	dy := randSlice(r, n*in.Size())
	y1, dx1, g1, s1 := bnShards(1, in, n, params, x, dy)
	for _, shards := range []int{2, 3} {
		y2, dx2, g2, s2 := bnShards(shards, in, n, params, x, dy)
		for _, c := range []struct {
			name      string
			one, many []float64
		}{{"y", y1, y2}, {"dx", dx1, dx2}, {"grads", g1, g2}, {"state", s1, s2}} {
			for i := range c.one {
				if math.Abs(c.one[i]-c.many[i]) > 1e-12*(1+math.Abs(c.one[i])) {
					t.Errorf("%d shards: %s[%d] = %g, one shard %g", shards, c.name, i, c.many[i], c.one[i])
				}
			}
		}
	}
	// The counter moved once (shard 0 only), the hidden averages by 0.1·v.
	if s1[len(s1)-1] != 1 {
		t.Errorf("counter = %g after one update, want 1", s1[len(s1)-1])
	}
}

func TestBatchNormRunningAveragesAreDebiased(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 1))
	in := Shape{2, 2, 3}
	n := 5
	f := newFDLayer(NewBatchNorm[float64]("", false), in, r)
	c, rows := in.C, n*in.H*in.W
	stats := func(x []float64) (m, v []float64) {
		m, v = make([]float64, c), make([]float64, c)
		for j := 0; j < c; j++ {
			for p := 0; p < rows; p++ {
				m[j] += x[p*c+j] / float64(rows)
			}
			for p := 0; p < rows; p++ {
				v[j] += (x[p*c+j] - m[j]) * (x[p*c+j] - m[j]) / float64(rows)
			}
		}
		return m, v
	}
	x := randSlice(r, n*in.Size())
	// Before any update haiku's averages are zero.
	y := f.l.Forward(&Ctx{Shards: 1, N: n, Total: n}, x)
	for k := range y {
		j := k % c
		if want := x[k]/math.Sqrt(1e-5)*f.params[j] + f.params[c+j]; math.Abs(y[k]-want) > 1e-9*math.Abs(want) {
			t.Fatalf("eval before training: y[%d] = %g, want %g", k, y[k], want)
		}
	}
	hm, hv := make([]float64, c), make([]float64, c)
	for step := 1; step <= 3; step++ {
		xb := randSlice(r, n*in.Size())
		for i := range xb {
			xb[i] = xb[i]*float64(step) + float64(step)
		}
		f.l.Forward(&Ctx{Mode: Mode{Train: true, UpdateState: step != 2}, Shards: 1, N: n, Total: n}, xb)
		if step == 2 {
			continue // UpdateState false: no change
		}
		m, v := stats(xb)
		for j := range hm {
			hm[j] = 0.9*hm[j] + 0.1*m[j]
			hv[j] = 0.9*hv[j] + 0.1*v[j]
		}
	}
	deb := 1 - 0.9*0.9 // two updates
	y = f.l.Forward(&Ctx{Shards: 1, N: n, Total: n}, x)
	for k := range y {
		j := k % c
		want := (x[k]-hm[j]/deb)/math.Sqrt(hv[j]/deb+1e-5)*f.params[j] + f.params[c+j]
		if math.Abs(y[k]-want) > 1e-12*(1+math.Abs(want)) {
			t.Fatalf("eval after two updates: y[%d] = %g, want %g", k, y[k], want)
		}
	}
}
