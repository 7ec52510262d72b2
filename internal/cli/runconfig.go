package cli

import (
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/bsam-dev/bsam/pkg/config"
)

// readRunConfig reads a run directory's config.yaml.
func readRunConfig(dir string) (config.Run, error) {
	var r config.Run
	b, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
	if err != nil {
		return r, err
	}
	err = yaml.Unmarshal(b, &r)
	return r, err
}
