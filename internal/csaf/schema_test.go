package csaf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// schemaTestDir is the OASIS schemas in ../shared, read in place.
var schemaTestDir = filepath.Join("..", "..", "..", "shared", "csaf", "schemas")

// The package's tests validate against the schemas in ../shared when they
// are there; without them the schema check reports that they are missing.
func init() {
	if _, err := os.Stat(filepath.Join(schemaTestDir, "csaf_json_schema.json")); err == nil {
		if err := SetSchemaDir(schemaTestDir); err != nil {
			panic(err)
		}
	}
}

func schemaNeedDir(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(schemaTestDir, "csaf_json_schema.json")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the OASIS schemas are missing (%v); CI must provide ../shared", err)
		}
		t.Skipf("the OASIS schemas are missing: %v", err)
	}
}

func TestSchemaDirMissing(t *testing.T) {
	dir := t.TempDir()
	_, err := schemaLoad(dir)
	if err == nil || !strings.Contains(err.Error(), "CSAF schemas not found in "+dir) {
		t.Fatalf("err = %v", err)
	}
	if err := SetSchemaDir(dir); err == nil {
		t.Fatal("SetSchemaDir accepted an empty directory")
	}
}

func TestSchemaFindings(t *testing.T) {
	schemaNeedDir(t)
	doc := `{"document":{"category":"csaf_base","csaf_version":"2.1","publisher":{"category":"other","name":"x","namespace":"https://example.com"},
	"title":"t","tracking":{"current_release_date":"2024-01-01T00:00:00Z","id":"X-1","initial_release_date":"2024-01-01T00:00:00Z",
	"revision_history":[{"date":"2024-01-01T00:00:00Z","number":"1","summary":"s"}],"status":"final","version":"1"},"extra":1}}`
	rep, err := Validate([]byte(doc), PresetAll)
	if err != nil {
		t.Fatal(err)
	}
	var schema, strict bool
	for _, f := range rep.Findings {
		if f.Test == "schema" && f.Path == "/document/csaf_version" {
			schema = true
		}
		if f.Test == "6.2.20" && f.Path == "/document" && strings.Contains(f.Message, "extra") {
			strict = true
		}
	}
	if rep.Valid || !schema || !strict {
		t.Fatalf("findings %+v", rep.Findings)
	}
}

// TestSchemaExamples: the OASIS example advisories pass the schema and
// the CVSS and CWE tests.
func TestSchemaExamples(t *testing.T) {
	schemaNeedDir(t)
	files, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "csaf", "examples", "csaf", "*.json"))
	more, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "csaf", "examples", "csaf", "csaf_vex", "*.json"))
	files = append(files, more...)
	if len(files) == 0 {
		t.Skip("no OASIS examples")
	}
	for _, p := range files {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		d, err := Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []check{schemaValidate, cvssSameVersion, cvssInvalid, cvssComputation, cvssInconsistent, cweCheck} {
			if fs := c(d); len(fs) > 0 {
				t.Errorf("%s: %v", filepath.Base(p), fs)
			}
		}
	}
}
