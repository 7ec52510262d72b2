package cli

import (
	"bytes"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/bsam-dev/bsam/pkg/config"
	"github.com/bsam-dev/bsam/pkg/sweep"
)

// configOptions are the flags of `bsam config`.
type configOptions struct {
	methods []string
	sets    []string
}

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show or validate experiment files",
	}
	o := &configOptions{}
	show := &cobra.Command{
		Use:   "show FILE",
		Short: "Print the fully resolved configuration (defaults, file, environment, flags)",
		Example: `  bsam config show configs/resnet18_cifar10.yaml --method bsam
  BSAM_EPOCHS=3 bsam config show configs/quickstart.yaml`,
		Args: cobraArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ovs, err := parseSets(o.sets)
			if err != nil {
				return err
			}
			e, err := loadExperiment(args[0], ovs, o.methods)
			if err != nil {
				return err
			}
			b, err := Resolved(e)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
	show.Flags().StringSliceVarP(&o.methods, "method", "m", nil, "show only these methods")
	show.Flags().StringArrayVar(&o.sets, "set", nil, "override a field: --set path=value")
	validate := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check experiment and sweep files; exit 2 naming the bad field and file",
		Long: `validate checks experiment files and sweep files (recognised by their base:
or grid: key). A sweep file is resolved as bsam sweep would: its base with
set:, seeds: and every grid point, and each resulting run is validated as an
experiment. Each good file prints one "ok" line on stdout; each problem goes to
stderr naming the file, line and field, and the exit code is 2.`,
		Example: `  bsam config validate configs/*.yaml
  bsam config validate configs/sweeps/*.yaml`,
		Args: cobraArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			var first error
			for _, f := range args {
				if raw, err := os.ReadFile(f); err == nil && sweep.IsSweepFile(raw) {
					p, err := loadSweep(f, "")
					if err != nil {
						fmt.Fprintln(cmd.ErrOrStderr(), err)
						if first == nil {
							first = err
						}
						continue
					}
					methods := map[string]bool{}
					for _, pt := range p.Points {
						methods[pt.Method] = true
					}
					fmt.Fprintf(cmd.OutOrStdout(), "ok  %s: sweep %s over %s, %d methods, %d runs (each validated)\n", f, p.Sweep.Name, p.Sweep.Base, len(methods), len(p.Points))
					continue
				}
				e, err := loadExperiment(f, nil, nil)
				if err != nil {
					fmt.Fprintln(cmd.ErrOrStderr(), err)
					if first == nil {
						first = err
					}
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "ok  %s: %s on %s, %d methods × %d seeds = %d runs\n", f, e.Model, e.Dataset, len(e.Methods), len(e.Seeds), len(e.Methods)*len(e.Seeds))
			}
			if first != nil {
				return WithCode(ExitUsage, fmt.Errorf("invalid experiment files"))
			}
			return nil
		},
	}
	cmd.AddCommand(show, validate)
	return cmd
}

// Resolved renders an experiment with its methods in table order as YAML.
func Resolved(e *config.Experiment) ([]byte, error) {
	var doc yaml.Node
	if err := doc.Encode(e); err != nil {
		return nil, err
	}
	methods := &yaml.Node{Kind: yaml.MappingNode}
	for _, m := range e.Methods {
		var n yaml.Node
		if err := n.Encode(m.Optimizer); err != nil {
			return nil, err
		}
		methods.Content = append(methods.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: m.Name}, &n)
	}
	// The shared optimizer block is merged into every method above.
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if doc.Content[i].Value == "optimizer" {
			doc.Content = append(doc.Content[:i], doc.Content[i+2:]...)
			break
		}
	}
	doc.Content = append(doc.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "methods"}, methods)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	return b.Bytes(), enc.Close()
}
