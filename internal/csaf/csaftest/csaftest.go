// Package csaftest gives tests the OASIS CSAF 2.0 schemas, read in place
// from ../shared/csaf/schemas next to the repository (never copied into
// it).
package csaftest

import (
	"testing"

	"github.com/belfry-cert/belfry/internal/csaf"
	"github.com/belfry-cert/belfry/internal/sharedtest"
)

// SchemaDir returns ../shared/csaf/schemas. Without it the test is
// skipped, or fails under CI=true.
func SchemaDir(t testing.TB) string {
	t.Helper()
	dir := sharedtest.Path(t, "csaf", "schemas")
	sharedtest.Path(t, "csaf", "schemas", "csaf_json_schema.json")
	return dir
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
