package cli

import (
	"strings"
	"testing"
)

// TestDemo2DRegisteredAndHelp: `bsam demo2d` is a root command, and its
// help cites the paper and the official demo, never the internal spec.
func TestDemo2DRegisteredAndHelp(t *testing.T) {
	cmd, _, err := NewRootCmd().Find([]string{"demo2d"})
	if err != nil || cmd.Name() != "demo2d" {
		t.Fatalf("demo2d is not registered: %v", err)
	}
	help := cmd.Long + cmd.Short + cmd.Flags().FlagUsages()
	for _, want := range []string{"demo2d.py", "team-approx-bayes/bayesian-sam", "Möllenhoff & Khan", "--gif", "--seed"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	if strings.Contains(help, "SPEC") {
		t.Error("help cites SPEC, which users do not have")
	}
}
