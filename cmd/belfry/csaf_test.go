package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sharedCSAF returns a path under ../shared/csaf, read in place (never
// copied). Without it the test is skipped, or fails under CI=true.
func sharedCSAF(t *testing.T, parts ...string) string {
	t.Helper()
	schema := shadowserverSchema(t) // …/shared/feeds/shadowserver/intelmq.json
	shared := filepath.Dir(filepath.Dir(filepath.Dir(schema)))
	p := filepath.Join(append([]string{shared, "csaf"}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (%v); CI must provide ../shared", p, err)
		}
		t.Skipf("%s is missing: %v", p, err)
	}
	return p
}

// TestCSAFValidate: a published example is valid, a document of the
// OASIS corpus that breaks test 6.1.1 is invalid with that test named,
// --json gives one object per file, and bad usage exits non-zero.
func TestCSAFValidate(t *testing.T) {
	schemas := sharedCSAF(t, "schemas")
	good := sharedCSAF(t, "examples", "csaf", "bsi-2022-0001.json")
	bad := sharedCSAF(t, "tests", "validator", "mandatory", "oasis_csaf_tc-csaf_2_0-2021-6-1-01-01.json")

	out := mustRun(t, "csaf", "validate", "--schemas", schemas, good)
	if !strings.Contains(out, "bsi-2022-0001.json: valid") {
		t.Errorf("a published example: %q", out)
	}
	code, out, stderr := runCLI(t, "csaf", "validate", "--schemas", schemas, good, bad)
	if code != 1 || !strings.Contains(out, "6-1-01-01.json: invalid") || !strings.Contains(out, "6.1.1") || !strings.Contains(stderr, "1 of 2 files") {
		t.Errorf("a broken document: exit %d, stdout %q, stderr %q", code, out, short(stderr))
	}
	_, out, _ = runCLI(t, "csaf", "validate", "--schemas", schemas, "--json", good, bad)
	var results []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("--json line %q: %v", line, err)
		}
		results = append(results, m)
	}
	if len(results) != 2 || results[0]["valid"] != true || results[1]["valid"] != false {
		t.Errorf("--json: %v", results)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"csaf", "validate", "--schemas", schemas}, 2, "no file"},
		{[]string{"csaf", "validate", "--schemas", schemas, "--preset", "some", good}, 2, "--preset"},
		{[]string{"csaf", "validate", "--schemas", t.TempDir(), good}, 1, "--schemas"},
		{[]string{"csaf", "validate", "--schemas", schemas, filepath.Join(t.TempDir(), "missing.json")}, 1, "1 of 1 files"},
		{[]string{"csaf", "frobnicate"}, 2, "unknown subcommand"},
	} {
		code, _, stderr := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, short(stderr), c.code, c.want)
		}
	}
}
