package kernels

import (
	"testing"
	"time"
)

func TestPeakGFLOPS(t *testing.T) {
	tests := []struct {
		name string
		f    func() float64
	}{
		{"single", func() float64 { return PeakGFLOPS(time.Millisecond) }},
		{"parallel", func() float64 { return PeakGFLOPSParallel(time.Millisecond, 2) }},
		{"parallel bf16", func() float64 { return PeakGFLOPSParallelBF16(time.Millisecond, 2) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f(); !(got > 0) {
				t.Fatalf("got %v GFLOP/s, want > 0", got)
			}
		})
	}
}

func BenchmarkPeakGFLOPS(b *testing.B) {
	for _, p := range Paths() {
		b.Run(p.String(), func(b *testing.B) {
			defer SetPath(p)()
			var r float64
			for b.Loop() {
				r = PeakGFLOPS(200 * time.Millisecond)
			}
			b.ReportMetric(r, "GFLOP/s")
		})
	}
}
