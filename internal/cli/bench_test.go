package cli

import (
	"bytes"
	"strings"
	"testing"
)

// TestBenchConvBF16 checks that bench refuses --conv winograd with
// --precision bf16 (bf16 computes every convolution directly) with a usage
// error naming both flags, before timing anything.
func TestBenchConvBF16(t *testing.T) {
	cmd := NewRootCmd()
	var stdout, stderr bytes.Buffer
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetArgs([]string{"bench", "--model", "resnet20_frn", "--precision", "bf16", "--conv", "winograd"})
	err := cmd.Execute()
	if code := ExitCode(err); code != 2 {
		t.Fatalf("exit code %d (err %v), want 2", code, err)
	}
	if msg := err.Error(); !strings.Contains(msg, "--conv winograd") || !strings.Contains(msg, "--precision bf16") {
		t.Errorf("error %q does not name --conv winograd and --precision bf16", msg)
	}
	if stdout.Len() != 0 {
		t.Errorf("printed %q before refusing", stdout.String())
	}
}
