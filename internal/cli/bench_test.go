package cli

import (
	"strings"
	"testing"
)

// TestBenchConvBF16Resolve checks that in bf16 --conv auto benches the
// model's default algorithm and --conv winograd Winograd (as in fp32), and
// that a misspelt --conv is refused in both precisions.
func TestBenchConvBF16Resolve(t *testing.T) {
	for _, c := range []struct{ model, conv, want string }{
		{"mlp", "auto", "direct"}, {"resnet20_frn", "winograd", "winograd"},
	} {
		out, stderr, code := runRoot(t, "bench", "--model", c.model, "--batch", "8", "--precision", "bf16", "--conv", c.conv, "--time", "1ms", "--peak-time", "0", "--json")
		if code != 0 {
			t.Fatalf("%s bf16 --conv %s: exit %d: %s", c.model, c.conv, code, stderr)
		}
		if !strings.Contains(out, `"conv": "`+c.want+`"`) {
			t.Errorf("%s bf16 --conv %s: output does not say conv %s:\n%s", c.model, c.conv, c.want, out)
		}
	}
	for _, prec := range []string{"bf16", "fp32"} {
		_, stderr, code := runRoot(t, "bench", "--model", "mlp", "--precision", prec, "--conv", "wnograd")
		if code != 2 || !strings.Contains(stderr, "--conv") {
			t.Errorf("%s --conv wnograd: exit %d (%q), want 2 naming --conv", prec, code, stderr)
		}
	}
}
