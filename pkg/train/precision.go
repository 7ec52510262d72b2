package train

import (
	"github.com/bsam-dev/bsam/pkg/config"
	"github.com/bsam-dev/bsam/pkg/nn"
)

// runPrecision returns the precision run r computes in on this CPU (the
// configured engine.precision, or fp32 when bf16 is asked for on a CPU
// without AVX512_BF16) and a one-line notice when the two differ.
func runPrecision(r config.Run) (nn.Precision, string, error) {
	p, err := nn.ParsePrecision(r.Engine.Precision)
	if err != nil {
		return nn.FP32, "", err
	}
	eff, notice := nn.ResolvePrecision(p)
	return eff, notice, nil
}

// NetOptions returns the network options run r trains with on this CPU:
// its shard size, the precision runPrecision resolves (with its notice) and
// the convolution algorithm of runConv. The trainer and the sweep's cost
// estimate build their networks with it, so both time the same engine.
func NetOptions(r config.Run) (nn.NetOptions, string, error) {
	prec, notice, err := runPrecision(r)
	if err != nil {
		return nn.NetOptions{}, "", err
	}
	return nn.NetOptions{ShardSize: r.Engine.ShardSize, Precision: prec, Conv: runConv(r)}, notice, nil
}

// runConv returns the convolution algorithm of run r (engine.conv, or the
// model's default; direct for a value Validate would reject).
func runConv(r config.Run) nn.ConvAlgorithm {
	a, _ := nn.ParseConvAlgorithm(r.EffectiveConv())
	return a
}

// effectivePrecision is runPrecision's precision as recorded in
// result.json and meta.json ("fp32" for a value Validate would reject).
func effectivePrecision(r config.Run) string {
	p, _, _ := runPrecision(r)
	return p.String()
}
