package cli

import (
	"strings"
	"testing"
)

// TestBenchConvBF16 checks that bench refuses --conv winograd with
// --precision bf16 (bf16 computes every convolution directly) with a usage
// error naming both flags, before timing anything.
func TestBenchConvBF16(t *testing.T) {
	stdout, stderr, code := runRoot(t, "bench", "--model", "resnet20_frn", "--precision", "bf16", "--conv", "winograd")
	if code != 2 {
		t.Fatalf("exit code %d (stderr %q), want 2", code, stderr)
	}
	if !strings.Contains(stderr, "--conv winograd") || !strings.Contains(stderr, "--precision bf16") {
		t.Errorf("stderr %q does not name --conv winograd and --precision bf16", stderr)
	}
	if stdout != "" {
		t.Errorf("printed %q before refusing", stdout)
	}
}

// TestBenchConvBF16Resolve checks that in bf16 --conv auto benches the
// direct convolution (bf16 never runs Winograd), and that a misspelt --conv
// is still refused there.
func TestBenchConvBF16Resolve(t *testing.T) {
	out, stderr, code := runRoot(t, "bench", "--model", "mlp", "--batch", "16", "--precision", "bf16", "--conv", "auto", "--time", "1ms", "--peak-time", "0", "--json")
	if code != 0 {
		t.Fatalf("bf16 --conv auto: exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, `"conv": "direct"`) {
		t.Errorf("bf16 --conv auto: output does not say conv direct:\n%s", out)
	}
	for _, prec := range []string{"bf16", "fp32"} {
		_, stderr, code := runRoot(t, "bench", "--model", "mlp", "--precision", prec, "--conv", "wnograd")
		if code != 2 || !strings.Contains(stderr, "--conv") {
			t.Errorf("%s --conv wnograd: exit %d (%q), want 2 naming --conv", prec, code, stderr)
		}
	}
}
