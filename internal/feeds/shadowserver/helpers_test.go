package shadowserver

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// sharedDir returns ../shared/feeds/shadowserver next to the repository
// (Shadowserver's files, read in place and never copied). Without it the
// test is skipped, or fails under CI=true.
func sharedDir(t testing.TB) string {
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
	shared := filepath.Join(dir, "..", "shared", "feeds", "shadowserver")
	if _, err := os.Stat(filepath.Join(shared, "intelmq.json")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Shadowserver's schema is missing (%v); CI must provide ../shared", err)
		}
		t.Skipf("Shadowserver's schema is missing: %v", err)
	}
	return shared
}

var (
	schemaOnce sync.Once
	schema     *Schema
	schemaErr  error
)

// sharedSchema loads Shadowserver's intelmq.json once.
func sharedSchema(t testing.TB) *Schema {
	t.Helper()
	dir := sharedDir(t)
	schemaOnce.Do(func() { schema, schemaErr = LoadSchemaFile(filepath.Join(dir, "intelmq.json")) })
	if schemaErr != nil {
		t.Fatal(schemaErr)
	}
	return schema
}
