//go:build amd64

package optim

import "golang.org/x/sys/cpu"

// useAVX512 selects zigFastAVX512; tests switch it off to compare paths.
var useAVX512 = cpu.X86.HasAVX512F

//go:noescape
func zigFastAVX512(lanes *[4][8]uint64, out *float32, cand *uint32, rej *uint16, rounds int, kt *uint32, wt *float32)

// zigFast is zigFastGo, in AVX-512 vector code when the CPU has it.
func zigFast(lanes *[4][8]uint64, out *[zigBlock]float32, cand *[zigBlock]uint32, rej *[zigBlock / 16]uint16) {
	if useAVX512 {
		zigFastAVX512(lanes, &out[0], &cand[0], &rej[0], len(rej), &zig.k[0], &zig.w32[0])
		return
	}
	zigFastGo(lanes, out, cand, rej)
}
