// Package csaftest gives tests the OASIS CSAF 2.0 schemas, read in place
// from ../shared/csaf/schemas next to the repository (never copied into
// it).
package csaftest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/belfry-cert/belfry/internal/csaf"
)

// SchemaDir returns ../shared/csaf/schemas. Without it the test is
// skipped, or fails under CI=true.
func SchemaDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
	schemas := filepath.Join(dir, "..", "shared", "csaf", "schemas")
	if _, err := os.Stat(filepath.Join(schemas, "csaf_json_schema.json")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the CSAF schemas are missing (%v); CI must provide ../shared", err)
		}
		t.Skipf("the CSAF schemas are missing: %v", err)
	}
	return schemas
}

// Use makes the validator read the schemas of SchemaDir.
func Use(t testing.TB) string {
	t.Helper()
	dir := SchemaDir(t)
	if err := csaf.SetSchemaDir(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}
