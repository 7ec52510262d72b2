package eval

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/bsam-dev/bsam/internal/testutil"
)

// goldenCase is one case of metrics/*.json. Pointers tell a missing field
// from a zero one.
type goldenCase struct {
	Name    string      `json:"name"`
	N       int         `json:"n"`
	Classes int         `json:"classes"`
	Logits  [][]float64 `json:"logits"`
	Labels  []int32     `json:"labels"`

	Accuracy *float64 `json:"accuracy"`
	NLL      *float64 `json:"nll"`
	ECE      *float64 `json:"ece20"`
	AUROC    *float64 `json:"auroc2500"`

	BMASampleLogits [][][]float64 `json:"bma_sample_logits"`
	BMAAccuracy     *float64      `json:"bma_accuracy"`
	BMANLL          *float64      `json:"bma_nll"`
	BMAECE          *float64      `json:"bma_ece20"`
	BMAAUROC        *float64      `json:"bma_auroc2500"`
}

type goldenFile struct {
	Description string       `json:"description"`
	Cases       []goldenCase `json:"cases"`
}

// loadGolden reads every *.json under the golden metrics directory.
func loadGolden(t *testing.T) map[string]goldenFile {
	t.Helper()
	dir := testutil.GoldenDir(t, "metrics")
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no *.json in %s", dir)
	}
	files := make(map[string]goldenFile, len(paths))
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var g goldenFile
		if err := json.Unmarshal(raw, &g); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if len(g.Cases) == 0 {
			t.Fatalf("%s: no cases", p)
		}
		files[filepath.Base(p)] = g
	}
	return files
}

// flatten turns n rows of k values into one row-major slice, checking the
// shape against the case's declared n and classes.
func flatten(t *testing.T, rows [][]float64, n, k int) []float64 {
	t.Helper()
	if len(rows) != n {
		t.Fatalf("%d rows, want %d", len(rows), n)
	}
	out := make([]float64, 0, n*k)
	for i, r := range rows {
		if len(r) != k {
			t.Fatalf("row %d has %d values, want %d", i, len(r), k)
		}
		out = append(out, r...)
	}
	return out
}

type want struct{ acc, nll, ece, auroc *float64 }

const goldenTol = 1e-9

func checkMetrics(t *testing.T, got Metrics, w want) {
	t.Helper()
	checked := 0
	for _, c := range []struct {
		name string
		got  float64
		want *float64
	}{
		{"accuracy", got.Accuracy, w.acc},
		{"nll", got.NLL, w.nll},
		{"ece20", got.ECE, w.ece},
		{"auroc2500", got.AUROC, w.auroc},
	} {
		if c.want == nil {
			continue
		}
		checked++
		if d := math.Abs(c.got - *c.want); !(d <= goldenTol) {
			t.Errorf("%s = %.17g, golden %.17g (|Δ| = %.3g)", c.name, c.got, *c.want, d)
		}
	}
	if checked == 0 {
		t.Error("case has no expected metric values")
	}
}

// TestGolden checks point metrics from "logits" and BMA metrics from
// "bma_sample_logits" against every case of every golden metrics file, through
// the Accumulator (one batch and uneven batches) and through Compute.
func TestGolden(t *testing.T) {
	for file, g := range loadGolden(t) {
		for _, c := range g.Cases {
			t.Run(file+"/"+c.Name, func(t *testing.T) {
				n, k := c.N, c.Classes
				logits := flatten(t, c.Logits, n, k)
				if len(c.Labels) != n {
					t.Fatalf("%d labels, want %d", len(c.Labels), n)
				}
				point := want{c.Accuracy, c.NLL, c.ECE, c.AUROC}

				t.Run("point/accumulator", func(t *testing.T) {
					a := NewAccumulator(k)
					a.AddBatch64([][]float64{logits}, c.Labels)
					if a.N() != n {
						t.Errorf("N() = %d, want %d", a.N(), n)
					}
					checkMetrics(t, a.Metrics(), point)
				})
				t.Run("point/batches", func(t *testing.T) {
					a := NewAccumulator(k)
					for lo := 0; lo < n; lo += 37 {
						hi := min(lo+37, n)
						a.AddBatch64([][]float64{logits[lo*k : hi*k]}, c.Labels[lo:hi])
					}
					if want := (n + 36) / 37; a.Batches() != want {
						t.Errorf("Batches() = %d, want %d", a.Batches(), want)
					}
					checkMetrics(t, a.Metrics(), point)
				})
				t.Run("point/compute", func(t *testing.T) {
					probs := make([]float64, n*k)
					for i := range n {
						Softmax(probs[i*k:(i+1)*k], logits[i*k:(i+1)*k])
					}
					checkMetrics(t, Compute(probs, c.Labels, n, k), point)
				})

				if c.BMASampleLogits == nil {
					return
				}
				J := len(c.BMASampleLogits)
				samples := make([][]float64, J)
				for j, s := range c.BMASampleLogits {
					samples[j] = flatten(t, s, n, k)
				}
				bma := want{c.BMAAccuracy, c.BMANLL, c.BMAECE, c.BMAAUROC}
				t.Run("bma/accumulator", func(t *testing.T) {
					a := NewAccumulator(k)
					a.AddBatch64(samples, c.Labels)
					checkMetrics(t, a.Metrics(), bma)
				})
				t.Run("bma/batches", func(t *testing.T) {
					a := NewAccumulator(k)
					part := make([][]float64, J)
					for lo := 0; lo < n; lo += 50 {
						hi := min(lo+50, n)
						for j := range samples {
							part[j] = samples[j][lo*k : hi*k]
						}
						a.AddBatch64(part, c.Labels[lo:hi])
					}
					checkMetrics(t, a.Metrics(), bma)
				})
				t.Run("bma/compute", func(t *testing.T) {
					// Independent path: average the probabilities here and
					// take log p̄[y] instead of the log-sum-exp.
					probs := make([]float64, n*k)
					row := make([]float64, k)
					for _, s := range samples {
						for i := range n {
							Softmax(row, s[i*k:(i+1)*k])
							for c, p := range row {
								probs[i*k+c] += p
							}
						}
					}
					for i := range probs {
						probs[i] /= float64(J)
					}
					checkMetrics(t, Compute(probs, c.Labels, n, k), bma)
				})
			})
		}
	}
}
