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

// TestBenchConvBF16Resolve checks that in bf16 --conv auto benches the
// direct convolution (bf16 never runs Winograd), and that a misspelt --conv
// is still refused there.
func TestBenchConvBF16Resolve(t *testing.T) {
	run := func(args ...string) (string, error) {
		cmd := NewRootCmd()
		var stdout, stderr bytes.Buffer
		cmd.SetOut(&stdout)
		cmd.SetErr(&stderr)
		cmd.SetArgs(append([]string{"bench"}, args...))
		err := cmd.Execute()
		return stdout.String(), err
	}
	out, err := run("--model", "mlp", "--batch", "16", "--precision", "bf16", "--conv", "auto", "--time", "1ms", "--peak-time", "0", "--json")
	if err != nil {
		t.Fatalf("bf16 --conv auto: %v", err)
	}
	if !strings.Contains(out, `"conv": "direct"`) {
		t.Errorf("bf16 --conv auto: output does not say conv direct:\n%s", out)
	}
	for _, prec := range []string{"bf16", "fp32"} {
		_, err := run("--model", "mlp", "--precision", prec, "--conv", "wnograd")
		if code := ExitCode(err); code != 2 || !strings.Contains(err.Error(), "--conv") {
			t.Errorf("%s --conv wnograd: exit %d (%v), want 2 naming --conv", prec, code, err)
		}
	}
}
