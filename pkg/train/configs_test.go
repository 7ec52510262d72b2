package train

import (
	"path/filepath"
	"testing"

	"github.com/bsam-dev/bsam/internal/testutil"
	"github.com/bsam-dev/bsam/pkg/config"
	"github.com/bsam-dev/bsam/pkg/datasets"
	"github.com/bsam-dev/bsam/pkg/nn"
	"github.com/bsam-dev/bsam/pkg/nn/models"
	"github.com/bsam-dev/bsam/pkg/optim"
)

// TestRepositoryConfigsBuild checks that every experiment file in configs/
// parses, validates, and builds its model for the dataset's input shape and
// classes, and each method's optimizer.
func TestRepositoryConfigsBuild(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testutil.RepoRoot(t), "configs", "*.yaml"))
	if len(files) < 8 {
		t.Fatalf("expected the 8 experiment files of the table blocks and quickstart, found %d", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			e, err := config.Load(f, nil)
			if err != nil {
				t.Fatal(err)
			}
			info, err := datasets.Lookup(e.Dataset)
			if err != nil {
				t.Fatal(err)
			}
			n, err := models.ParamCount(e.Model, info.Shape, info.Classes)
			if err != nil {
				t.Fatalf("%s on %s: %v", e.Model, e.Dataset, err)
			}
			w := make([]float32, n)
			for _, r := range e.Runs() {
				o := r.Optimizer
				h := optim.Hyper{LR: o.LR, Beta1: o.Beta1, Beta2: o.Beta2, Rho: o.Rho, PriorPrec: o.PriorPrec,
					DAFactor: o.DAFactor, BatchSplit: o.BatchSplit, Damping: o.Damping, SInit: o.SInit, Eps: o.Eps, NTrain: info.TrainN}
				if !config.IsSAMType(r.Method) {
					h.BatchSplit = 1
				}
				if _, err := optim.New[float32](r.Method, h, w, optim.NewRNGNoise[float32](1)); err != nil {
					t.Errorf("%s: %v", r.Method, err)
				}
			}
			if e.Model != "resnet18" { // building ResNet-18's buffers is slow; its count is checked above
				if _, err := models.New[float32](e.Model, info.Shape, info.Classes, models.Options{NetOptions: nn.NetOptions{ShardSize: e.Engine.ShardSize}}); err != nil {
					t.Error(err)
				}
			}
		})
	}
}
