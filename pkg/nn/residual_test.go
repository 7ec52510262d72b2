package nn

import (
	"math/rand/v2"
	"testing"
)

func TestResidualGradientsFiniteDifference(t *testing.T) {
	tests := []struct {
		name string
		l    Layer[float64]
		in   Shape
	}{
		{"frn_identity", NewFRNBlock[float64]("b", 3, 1, false), Shape{4, 4, 3}},
		{"frn_projection_s2", NewFRNBlock[float64]("b", 4, 2, true), Shape{6, 6, 2}},
		{"basic_identity", NewBasicBlockV1[float64]("b", 3, 1, false), Shape{4, 4, 3}},
		{"basic_projection_s2", NewBasicBlockV1[float64]("b", 4, 2, true), Shape{4, 4, 2}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(21, uint64(i)))
			f := newFDLayer(tc.l, tc.in, r)
			n := 3
			x := randSlice(r, n*tc.in.Size())
			f.checkGrads(t, x, n, r, 1e-6)
		})
	}
}

func TestFRNBlockParamNames(t *testing.T) {
	var b Builder
	NewFRNBlock[float32]("stack2.0", 32, 2, true).Setup(&b, Shape{32, 32, 16})
	want := []string{
		"stack2.0.layer1.conv.weight", "stack2.0.layer1.conv.bias",
		"stack2.0.layer1.frn.gamma", "stack2.0.layer1.frn.beta", "stack2.0.layer1.frn.tau",
		"stack2.0.layer2.conv.weight", "stack2.0.layer2.conv.bias",
		"stack2.0.layer2.frn.gamma", "stack2.0.layer2.frn.beta", "stack2.0.layer2.frn.tau",
		"stack2.0.shortcut.conv.weight", "stack2.0.shortcut.conv.bias",
		"stack2.0.shortcut.frn.gamma", "stack2.0.shortcut.frn.beta", "stack2.0.shortcut.frn.tau",
	}
	specs := b.Specs()
	if len(specs) != len(want) {
		t.Fatalf("%d parameters, want %d", len(specs), len(want))
	}
	for i, s := range specs {
		if s.Name != want[i] {
			t.Errorf("param %d = %q, want %q", i, s.Name, want[i])
		}
	}
	// 3·3·16·32+32 + 4·32... count: conv1, conv2, shortcut conv, 3 FRNs.
	if got, w := b.NumParams(), 9*16*32+32+9*32*32+32+16*32+32+3*3*32; got != w {
		t.Errorf("%d parameters, want %d", got, w)
	}
}
