package sweep

import (
	"os"
	"path/filepath"
	"sort"
)

// Strays returns the run directories under <out>/<name>/ that are no run of
// the plan: trained under another configuration of the same sweep, most
// often because a setting that is not in the sweep file (a BSAM_* variable
// such as BSAM_DATA_SOURCE, or an edited base file) differs from when they
// ran. `sweep status` names them so that a plan that looks all pending is
// not mistaken for lost work.
func (p *Plan) Strays() []string {
	dir := filepath.Join(p.Out, p.Sweep.Name)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	planned := map[string]bool{}
	for _, pt := range p.Points {
		planned[filepath.Base(pt.Dir)] = true
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() || planned[e.Name()] {
			continue
		}
		d := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(d, "config.yaml")); err == nil {
			out = append(out, d)
		}
	}
	sort.Strings(out)
	return out
}
