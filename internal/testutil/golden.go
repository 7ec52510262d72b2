// Package testutil holds helpers shared by the project's tests.
package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot returns the directory holding go.mod, searching upwards from the
// working directory of the test.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testutil: go.mod not found above the test's directory")
		}
		dir = parent
	}
}

// GoldenDir returns the reference-data directory: $BSAM_GOLDEN_DIR, or
// ../shared/golden next to the repository. The test is skipped with a
// message naming the directory when it does not exist. sub, if given, is
// joined to the directory and must exist too.
func GoldenDir(t testing.TB, sub ...string) string {
	t.Helper()
	dir := os.Getenv("BSAM_GOLDEN_DIR")
	if dir == "" {
		dir = filepath.Join(RepoRoot(t), "..", "shared", "golden")
	}
	dir = filepath.Join(append([]string{dir}, sub...)...)
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("golden data not found at %s (set BSAM_GOLDEN_DIR to the shared golden directory): %v", dir, err)
	}
	return dir
}

// SharedDataDir returns ../shared/data next to the repository (override with
// $BSAM_SHARED_DATA_DIR), skipping the test when it is absent.
func SharedDataDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("BSAM_SHARED_DATA_DIR")
	if dir == "" {
		dir = filepath.Join(RepoRoot(t), "..", "shared", "data")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared data not found at %s (set BSAM_SHARED_DATA_DIR): %v", dir, err)
	}
	return dir
}
