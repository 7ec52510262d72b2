package kernels

import "sync/atomic"

var (
	counting  atomic.Bool
	flopCount atomic.Int64
)

// CountFLOPs turns counting of the floating-point operations done by Gemm
// (2·m·n·k per call) on or off; `bsam bench` uses it to express throughput
// as a share of the machine's peak. Off by default: one atomic load per call.
func CountFLOPs(on bool) { counting.Store(on) }

// FLOPs returns the operations counted since the last ResetFLOPs.
func FLOPs() int64 { return flopCount.Load() }

// ResetFLOPs sets the counter to zero.
func ResetFLOPs() { flopCount.Store(0) }
