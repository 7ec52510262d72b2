//go:build amd64

package optim

import "testing"

// TestZigFastPaths checks that the AVX-512 rounds give exactly the values,
// candidates, rejection masks and final states of the Go rounds.
func TestZigFastPaths(t *testing.T) {
	if !useAVX512 {
		t.Skip("no AVX-512")
	}
	ga, gb := newNormGen(77), newNormGen(77)
	for b := 0; b < 200; b++ {
		var oa, ob [zigBlock]float32
		var ca, cb [zigBlock]uint32
		var ra, rb [zigBlock / 16]uint16
		zigFastGo(&ga.lanes, &oa, &ca, &ra)
		zigFastAVX512(&gb.lanes, &ob[0], &cb[0], &rb[0], len(rb), &zig.k[0], &zig.w32[0])
		if oa != ob || ca != cb || ra != rb || ga.lanes != gb.lanes {
			t.Fatalf("block %d: AVX-512 rounds differ from Go rounds", b)
		}
	}
}
