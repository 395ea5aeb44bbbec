package csaf

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// corpusDir is the OASIS validator conformance corpus in ../shared, read in
// place (never copied). Without it the test is skipped, or fails under
// CI=true.
func corpusDir(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "csaf", "tests", "validator"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(p, "testcases.json")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the OASIS corpus is missing (%v); CI must provide ../shared", err)
		}
		t.Skipf("the OASIS corpus is missing: %v", err)
	}
	return p
}

// corpusCase is a document of the corpus; corpusTest a test's cases
// (testcases.json).
type corpusCase struct {
	Name  string `json:"name"`
	Valid bool   `json:"valid"`
}

type corpusTest struct {
	ID       string       `json:"id"`
	Group    string       `json:"group"`
	Failures []corpusCase `json:"failures"`
	Valid    []corpusCase `json:"valid"`
}

// readCorpus returns the corpus directory and its index.
func readCorpus(t *testing.T) (string, []corpusTest) {
	t.Helper()
	dir := corpusDir(t)
	b, err := os.ReadFile(filepath.Join(dir, "testcases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var index struct {
		Tests []corpusTest `json:"tests"`
	}
	if err := json.Unmarshal(b, &index); err != nil {
		t.Fatal(err)
	}
	return dir, index.Tests
}

// corpusSkip are the tests that need the internet or a dictionary, which
// the validator does not run (documented in docs/csaf.md).
var corpusSkip = []string{"6.3.6", "6.3.7", "6.3.8"}

// TestCorpus runs every case of the OASIS corpus (testcases.json) as the
// corpus asks (its README, "Pass criterion"): each test is judged alone on
// its own files, since a file written for one test may break another: a
// failure case must trigger its test, a valid case must not. A mandatory
// failure also makes the document invalid. The pass rate is logged; every
// case of a test the validator runs must pass.
func TestCorpus(t *testing.T) {
	dir, tests := readCorpus(t)
	runs := Tests()
	passed, total := 0, 0
	for _, tc := range tests {
		if slices.Contains(corpusSkip, tc.ID) {
			continue
		}
		type kase struct {
			name string
			fire bool
		}
		var cases []kase
		for _, f := range tc.Failures {
			cases = append(cases, kase{f.Name, true})
		}
		for _, v := range tc.Valid {
			cases = append(cases, kase{v.Name, false})
		}
		for _, c := range cases {
			total++
			raw, err := os.ReadFile(filepath.Join(dir, c.name))
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Validate(raw, PresetAll)
			if err != nil {
				t.Errorf("%s %s: %v", tc.ID, c.name, err)
				continue
			}
			fired := slices.ContainsFunc(rep.Findings, func(f Finding) bool { return f.Test == tc.ID })
			ok := fired == c.fire && (!c.fire || tc.Group != "mandatory" || !rep.Valid)
			if ok {
				passed++
				continue
			}
			if !slices.Contains(runs, tc.ID) {
				continue // not implemented yet: counted, not failed
			}
			t.Errorf("%s %s: fired %v (want %v), valid %v; findings %v", tc.ID, c.name, fired, c.fire, rep.Valid, rep.Findings)
		}
	}
	t.Logf("OASIS corpus: %d of %d cases pass (tests %v not run: network or dictionary)", passed, total, corpusSkip)
}
