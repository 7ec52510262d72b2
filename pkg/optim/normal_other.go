//go:build !amd64

package optim

// useAVX512 is false: there is no vector path on this architecture.
var useAVX512 = false

// zigFast is zigFastGo.
func zigFast(lanes *[4][8]uint64, out *[zigBlock]float32, cand *[zigBlock]uint32, rej *[zigBlock / 16]uint16) {
	zigFastGo(lanes, out, cand, rej)
}
