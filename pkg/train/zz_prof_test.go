package train

import (
	"os"
	"testing"

	"github.com/bsam-dev/bsam/pkg/nn"
)

func TestZZProf(t *testing.T) {
	mode := os.Getenv("ZZPROF")
	if mode == "" {
		t.Skip()
	}
	prec := nn.FP32
	if os.Getenv("ZZBF16") != "" {
		prec = nn.BF16
	}
	model := os.Getenv("ZZMODEL")
	o := BenchOptions{Model: model, Batch: 128, Conv: nn.ConvAlgWinograd, Precision: prec}
	if os.Getenv("ZZDIRECT") != "" {
		o.Conv = nn.ConvDirect
	}
	net, x, y, err := benchSetup(&o)
	if err != nil {
		t.Fatal(err)
	}
	obj := &batchObjective{net: net, x: x, y: y, n: o.Batch, size: o.Input.Size(), bnUpdate: "official"}
	w0 := append([]float32(nil), net.Params()...)
	steps := 8
	switch mode {
	case "eval":
		logits := make([]float32, o.Batch*10)
		for i := 0; i < steps*4; i++ {
			net.Logits(x, o.Batch, logits)
		}
	default:
		opt, err := benchOptimizer(o, mode, w0)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < steps; i++ {
			opt.Step(obj, 1)
		}
	}
}
