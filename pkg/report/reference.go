package report

import (
	_ "embed"
	"fmt"
	"math"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/bsam-dev/bsam/pkg/eval"
)

// embeddedReference is the paper's table, a copy of
// ../shared/reference/paper_table.yaml.
//
//go:embed reference/paper_table.yaml
var embeddedReference []byte

// EmbeddedReferenceName names the built-in reference in reports.
const EmbeddedReferenceName = "paper_table.yaml (embedded: Möllenhoff & Khan 2023, table with data augmentation)"

// Value is a mean and standard deviation from the reference table.
type Value struct {
	Mean float64
	Std  float64
}

// RefRow is one (model, dataset, method) row of the reference; a nil metric
// is one the paper does not give.
type RefRow struct {
	Model, Dataset, Method string
	Metrics                map[Metric]*Value
}

// Sigma is the standard deviation used as tolerance for one reference cell.
type Sigma struct {
	Value float64 // the σ the verdict uses
	// Replaced is true when the paper's std was judged implausible (see
	// Reference.Sigma) and Value is the fallback.
	Replaced bool
}

// Reference is a table of reference results (by default the paper's).
type Reference struct {
	Name string
	Rows []RefRow
	// fallback[m] is the median of the plausible stds of metric m.
	fallback map[Metric]float64
}

// ImplausibleStdRatio is the rule for reference stds that are not used as
// tolerance: a std larger than this fraction of its mean is treated as a
// transcription error (the paper's TinyImageNet ECE stds, 0.032–0.034 on
// means of 0.016–0.050, are the known case). Such a cell's σ falls back to
// the median std of the same metric over the plausible cells of the table.
const ImplausibleStdRatio = 0.5

type refFile struct {
	Rows []struct {
		Model   string    `yaml:"model"`
		Dataset string    `yaml:"dataset"`
		Method  string    `yaml:"method"`
		Acc     []float64 `yaml:"acc"`
		NLL     []float64 `yaml:"nll"`
		ECE     []float64 `yaml:"ece"`
		AUROC   []float64 `yaml:"auroc"`
	} `yaml:"rows"`
}

// DefaultReference returns the embedded paper table.
func DefaultReference() (*Reference, error) {
	return ParseReference(embeddedReference, EmbeddedReferenceName)
}

// LoadReference reads a reference table in the format of
// reference/paper_table.yaml from path.
func LoadReference(path string) (*Reference, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reference: %w", err)
	}
	return ParseReference(b, path)
}

// ParseReference parses a reference table; name labels it in reports.
func ParseReference(b []byte, name string) (*Reference, error) {
	var f refFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("reference %s: %w", name, err)
	}
	if len(f.Rows) == 0 {
		return nil, fmt.Errorf("reference %s: no rows", name)
	}
	ref := &Reference{Name: name}
	for i, r := range f.Rows {
		if r.Model == "" || r.Dataset == "" || r.Method == "" {
			return nil, fmt.Errorf("reference %s: row %d: model, dataset and method are required", name, i+1)
		}
		row := RefRow{Model: r.Model, Dataset: r.Dataset, Method: r.Method, Metrics: map[Metric]*Value{}}
		for m, v := range map[Metric][]float64{Acc: r.Acc, NLL: r.NLL, ECE: r.ECE, AUROC: r.AUROC} {
			switch len(v) {
			case 0:
			case 2:
				if v[1] < 0 {
					return nil, fmt.Errorf("reference %s: row %d (%s/%s/%s): %s: negative std", name, i+1, r.Model, r.Dataset, r.Method, m)
				}
				row.Metrics[m] = &Value{Mean: v[0], Std: v[1]}
			default:
				return nil, fmt.Errorf("reference %s: row %d (%s/%s/%s): %s: want [mean, std] or null, got %d numbers", name, i+1, r.Model, r.Dataset, r.Method, m, len(v))
			}
		}
		ref.Rows = append(ref.Rows, row)
	}
	ref.fallback = map[Metric]float64{}
	for _, m := range Metrics {
		var stds []float64
		for _, row := range ref.Rows {
			if v := row.Metrics[m]; v != nil && plausible(*v) {
				stds = append(stds, v.Std)
			}
		}
		ref.fallback[m] = eval.Median(stds)
	}
	return ref, nil
}

func plausible(v Value) bool {
	return v.Std > 0 && v.Std <= ImplausibleStdRatio*math.Abs(v.Mean)
}

// Lookup returns the reference value of one cell, or nil when the reference
// has no such row or gives no value for the metric.
func (r *Reference) Lookup(model, dataset, method string, m Metric) *Value {
	if r == nil {
		return nil
	}
	for _, row := range r.Rows {
		if row.Model == model && row.Dataset == dataset && row.Method == method {
			return row.Metrics[m]
		}
	}
	return nil
}

// HasRow reports whether the reference has a row for the method.
func (r *Reference) HasRow(model, dataset, method string) bool {
	if r == nil {
		return false
	}
	for _, row := range r.Rows {
		if row.Model == model && row.Dataset == dataset && row.Method == method {
			return true
		}
	}
	return false
}

// HasBlock reports whether the reference has any row for the model and
// dataset.
func (r *Reference) HasBlock(model, dataset string) bool {
	if r == nil {
		return false
	}
	for _, row := range r.Rows {
		if row.Model == model && row.Dataset == dataset {
			return true
		}
	}
	return false
}

// Sigma returns the tolerance σ for a reference value of metric m: its std,
// or, when that std is implausible (zero, or above ImplausibleStdRatio times
// the mean), the median std of metric m over the table's plausible cells.
func (r *Reference) Sigma(m Metric, v Value) Sigma {
	if plausible(v) {
		return Sigma{Value: v.Std}
	}
	return Sigma{Value: r.fallback[m], Replaced: true}
}

// FallbackSigma returns the median plausible std of metric m.
func (r *Reference) FallbackSigma(m Metric) float64 { return r.fallback[m] }
