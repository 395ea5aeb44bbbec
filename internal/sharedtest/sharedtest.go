// Package sharedtest finds third-party test data in ../shared next to the
// repository (CSAF schemas and corpus, Shadowserver's schema and reports),
// which tests read in place and never copy into the repository.
package sharedtest

import (
	"os"
	"path/filepath"
	"testing"
)

// Path returns ../shared/parts… next to the repository. When it is
// missing the test is skipped, or fails under CI=true, which must provide
// ../shared.
func Path(t testing.TB, parts ...string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		if filepath.Dir(dir) == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = filepath.Dir(dir)
	}
	p := filepath.Join(append([]string{dir, "..", "shared"}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (%v); CI must provide ../shared", p, err)
		}
		t.Skipf("%s is missing: %v", p, err)
	}
	return p
}
