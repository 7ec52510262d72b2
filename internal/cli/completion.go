package cli

import (
	"slices"

	"github.com/spf13/cobra"

	"github.com/bsam-dev/bsam/pkg/check"
	"github.com/bsam-dev/bsam/pkg/config"
	"github.com/bsam-dev/bsam/pkg/datasets/fetch"
	"github.com/bsam-dev/bsam/pkg/report"
)

// flagValues are the values shell completion offers for flags of these
// names, on whichever command defines them.
func flagValues() map[string][]string {
	var only []string
	if exps, err := check.Suite("full"); err == nil {
		for _, x := range exps {
			only = append(only, x.Name)
		}
	}
	return map[string][]string{
		"method":        config.MethodNames,
		"methods":       config.MethodNames,
		"model":         config.ModelNames,
		"dataset":       config.DatasetNames,
		"format":        report.Formats,
		"metric-source": {report.SourceBMA, report.SourcePoint},
		"executor":      {"local", "slurm"},
		"suite":         check.Suites(),
		"only":          only,
	}
}

// registerCompletions adds value completion to every command of the tree:
// methods, models, datasets, report formats, executors and suites for the
// flags that take them, YAML files for --config, dataset names for the
// arguments of `bsam data`.
func registerCompletions(root *cobra.Command) {
	values := flagValues()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for name, vals := range values {
			if c.LocalNonPersistentFlags().Lookup(name) != nil || c.PersistentFlags().Lookup(name) != nil {
				_ = c.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(vals, cobra.ShellCompDirectiveNoFileComp))
			}
		}
		if c.Flags().Lookup("config") != nil {
			_ = c.MarkFlagFilename("config", "yaml", "yml")
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if data, _, err := root.Find([]string{"data"}); err == nil && data.Name() == "data" {
		names := append(fetch.Names(), "all")
		for _, sub := range data.Commands() {
			switch sub.Name() {
			case "download", "verify":
				sub.ValidArgsFunction = func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
					return slices.DeleteFunc(slices.Clone(names), func(n string) bool { return slices.Contains(args, n) }), cobra.ShellCompDirectiveNoFileComp
				}
			case "path", "import":
				sub.ValidArgsFunction = func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
					if len(args) == 0 {
						return fetch.Names(), cobra.ShellCompDirectiveNoFileComp
					}
					return nil, cobra.ShellCompDirectiveDefault // import's FILE
				}
			}
		}
	}
}
