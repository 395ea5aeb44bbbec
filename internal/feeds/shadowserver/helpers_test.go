package shadowserver

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/belfry-cert/belfry/internal/sharedtest"
)

// sharedDir returns ../shared/feeds/shadowserver next to the repository
// (Shadowserver's files, read in place and never copied). Without it the
// test is skipped, or fails under CI=true.
func sharedDir(t testing.TB) string {
	t.Helper()
	sharedtest.Path(t, "feeds", "shadowserver", "intelmq.json")
	return sharedtest.Path(t, "feeds", "shadowserver")
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
