package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixtureDir is the hand-written results directory; tests pass it relative
// so the run directories printed in the golden files do not depend on where
// the repository lives.
const fixtureDir = "testdata/results"

func buildFixture(t *testing.T, source string) *Report {
	t.Helper()
	c, err := Load(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := DefaultReference()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Build(c, Options{Source: source, Reference: ref})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// checkGolden compares got with testdata/name byte for byte, or rewrites the
// file under -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./pkg/report -update rewrites it)\n--- got ---\n%s", path, got)
	}
}

func TestReportGolden(t *testing.T) {
	tests := []struct {
		golden, format, source string
	}{
		{"report.md", "md", SourceBMA},
		{"report.tex", "latex", SourceBMA},
		{"report.csv", "csv", SourceBMA},
		{"report.json", "json", SourceBMA},
		{"report_point.csv", "csv", SourcePoint},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			rep := buildFixture(t, tt.source)
			var buf bytes.Buffer
			if err := Write(&buf, rep, tt.format); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tt.golden, buf.Bytes())
		})
	}
}
