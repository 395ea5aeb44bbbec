package csaf

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// optTestIDs are the tests of optional.go and informative.go.
var optTestIDs = []string{
	"6.2.1", "6.2.2", "6.2.4", "6.2.5", "6.2.6", "6.2.7", "6.2.8", "6.2.9", "6.2.10",
	"6.2.11", "6.2.12", "6.2.13", "6.2.14", "6.2.15", "6.2.16", "6.2.17", "6.2.18",
	"6.3.3", "6.3.4", "6.3.5", "6.3.9", "6.3.10", "6.3.11",
}

// optRun runs one registered test alone over a document.
func optRun(t *testing.T, id, doc string) []Finding {
	t.Helper()
	d, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	for _, r := range registry {
		if r.id == id {
			return r.run(d)
		}
	}
	t.Fatalf("test %s is not registered", id)
	return nil
}

// TestOptionalCorpus runs each of these tests alone over its own OASIS
// cases (the criterion of the OASIS index and of the BSI library): a
// failure case must fire, a valid case must not. Unlike TestCorpus it
// does not depend on the mandatory tests.
func TestOptionalCorpus(t *testing.T) {
	dir, tests := readCorpus(t)
	seen := 0
	for _, tc := range tests {
		if !slices.Contains(optTestIDs, tc.ID) {
			continue
		}
		seen++
		check := func(name string, want bool) {
			raw, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			got := optRun(t, tc.ID, string(raw))
			if (len(got) > 0) != want {
				t.Errorf("%s %s: fired %v, want %v: %v", tc.ID, name, len(got) > 0, want, got)
			}
			for _, f := range got {
				if f.Path == "" || f.Message == "" {
					t.Errorf("%s %s: finding without path or message: %+v", tc.ID, name, f)
				}
			}
		}
		for _, f := range tc.Failures {
			check(f.Name, true)
		}
		for _, v := range tc.Valid {
			check(v.Name, false)
		}
	}
	if seen != len(optTestIDs) {
		t.Errorf("the corpus has cases for %d of the %d tests", seen, len(optTestIDs))
	}
}

// TestFileName checks the section 5.1 rule on a table and on the OASIS
// file-name cases, whose names must (valid) or must not (invalid) be
// derived from /document/tracking/id.
func TestFileName(t *testing.T) {
	for _, c := range []struct{ id, want string }{
		{"CCB-2026-0042", "ccb-2026-0042.json"},
		{"OASIS_CSAF_TC-CSAF_2.0-2021-5-1-01", "oasis_csaf_tc-csaf_2_0-2021-5-1-01.json"},
		{"OASIS: #/CSAF_TC", "oasis_csaf_tc.json"},
		{"a+b", "a+b.json"},
		{"Été 1", "_t_1.json"},
		{"x__y", "x_y.json"},
	} {
		if got := FileName(c.id); got != c.want {
			t.Errorf("FileName(%q) = %q, want %q", c.id, got, c.want)
		}
	}
	p, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "csaf", "tests", "filenames"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the OASIS file-name cases are missing (%v); CI must provide ../shared", err)
		}
		t.Skipf("the OASIS file-name cases are missing: %v", err)
	}
	n := 0
	for _, kind := range []string{"valid", "invalid"} {
		files, err := filepath.Glob(filepath.Join(p, kind, "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Document struct {
					Tracking struct {
						ID string `json:"id"`
					} `json:"tracking"`
				} `json:"document"`
			}
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			match := FileName(doc.Document.Tracking.ID) == filepath.Base(f)
			if match != (kind == "valid") {
				t.Errorf("%s/%s: FileName(%q) = %q", kind, filepath.Base(f), doc.Document.Tracking.ID, FileName(doc.Document.Tracking.ID))
			}
			n++
		}
	}
	if n == 0 {
		t.Error("no file-name cases found")
	}
}

// optDoc wraps fragments into a small document.
func optDoc(document, rest string) string {
	s := `{"document":{` + document + `}`
	if rest != "" {
		s += "," + rest
	}
	return s + "}"
}

func TestOptionalTable(t *testing.T) {
	tree := func(branches string) string { return `"product_tree":{"branches":[` + branches + `]}` }
	for _, c := range []struct {
		id, doc string
		paths   []string
	}{
		{"6.2.1", optDoc(`"category":"csaf_base"`, `"product_tree":{"full_product_names":[{"product_id":"A","name":"a"},{"product_id":"B","name":"b"}]},"vulnerabilities":[{"flags":[{"product_ids":["B"]}]}]`),
			[]string{"/product_tree/full_product_names/0/product_id"}},
		{"6.2.1", optDoc(`"category":"csaf_informational_advisory"`, `"product_tree":{"full_product_names":[{"product_id":"A","name":"a"}]}`), nil},
		{"6.2.2", optDoc(``, `"product_tree":{"product_groups":[{"group_id":"G","product_ids":["A","B"]}]},"vulnerabilities":[{"product_status":{"known_affected":["A","C"],"fixed":["D"]},"remediations":[{"group_ids":["G"]}]}]`),
			[]string{"/vulnerabilities/0/product_status/known_affected/1"}},
		{"6.2.4", optDoc(`"tracking":{"revision_history":[{"number":"1.0.0"},{"number":"1.1.0+b7"}]}`, ``),
			[]string{"/document/tracking/revision_history/1/number"}},
		{"6.2.5", optDoc(`"tracking":{"initial_release_date":"2021-01-01T00:00:00Z","revision_history":[{"date":"2021-01-01T00:00:00Z"}]}`, ``), nil},
		{"6.2.5", optDoc(`"tracking":{"initial_release_date":"2016-12-31T23:59:60Z","revision_history":[{"date":"2017-01-01T00:00:00.5Z"}]}`, ``),
			[]string{"/document/tracking/initial_release_date"}},
		{"6.2.6", optDoc(`"tracking":{"current_release_date":"2021-01-02T00:00:00+02:00","revision_history":[{"date":"2021-01-01T23:00:00Z"}]}`, ``),
			[]string{"/document/tracking/current_release_date"}},
		{"6.2.7", optDoc(``, `"vulnerabilities":[{"involvements":[{"party":"vendor","status":"open","date":"2021-01-01T00:00:00Z"},{"party":"vendor","status":"open"}]}]`),
			[]string{"/vulnerabilities/0/involvements/1"}},
		{"6.2.8", optDoc(``, `"product_tree":{"full_product_names":[{"product_id":"A","product_identification_helper":{"hashes":[{"file_hashes":[{"algorithm":"MD5","value":"x"}]},{"file_hashes":[{"algorithm":"md5","value":"x"},{"algorithm":"sha256","value":"y"}]}]}}]}`),
			[]string{"/product_tree/full_product_names/0/product_identification_helper/hashes/0/file_hashes"}},
		{"6.2.10", optDoc(`"distribution":{"tlp":{"label":"WHITE"}}`, ``), nil},
		{"6.2.11", optDoc(`"tracking":{"id":"CCB-2026/1"},"references":[{"category":"self","url":"http://x/ccb-2026_1.json"}]`, ``), []string{"/document/references"}},
		{"6.2.11", optDoc(`"tracking":{"id":"CCB-2026/1"},"references":[{"category":"self","url":"https://x/ccb-2026_1.json"}]`, ``), nil},
		{"6.2.12", optDoc(`"title":"t"`, ``), []string{"/document/lang"}},
		{"6.2.13", `{"b":1,"a":{"y":[{"d":1,"c":2}],"x":2}}`, []string{"/a", "/a/y/0/c", "/a/x"}},
		{"6.2.13", `{"a":{"b~/":1,"c":[{"a":1,"b":2}]}}`, nil},
		{"6.2.14", optDoc(`"lang":"de-x-foo","source_lang":"en-419"`, ``), []string{"/document/lang"}},
		{"6.2.14", optDoc(`"lang":"en-Latn-XA"`, ``), []string{"/document/lang"}},
		{"6.2.14", optDoc(`"lang":"en-a-qm"`, ``), nil},
		{"6.2.15", optDoc(`"lang":"en","source_lang":"I-Default"`, ``), []string{"/document/source_lang"}},
		{"6.2.16", optDoc(``, `"product_tree":{"relationships":[{"full_product_name":{"product_id":"A","name":"a"}}]}`),
			[]string{"/product_tree/relationships/0/full_product_name"}},
		{"6.2.17", optDoc(``, `"vulnerabilities":[{"ids":[{"system_name":"x","text":"CVE-2021-1234"},{"system_name":"y","text":"CVE-21-1"}]}]`),
			[]string{"/vulnerabilities/0/ids/0/text"}},
		{"6.2.18", optDoc(``, tree(`{"category":"vendor","name":"v","branches":[{"category":"product_version_range","name":"vers:npm/>=1.0|<2.0"},{"category":"product_version_range","name":"vers:npm/>=1.0||<2"},{"category":"product_version_range","name":"vers:Npm/*"}]}`)),
			[]string{"/product_tree/branches/0/branches/1/name", "/product_tree/branches/0/branches/2/name"}},
		{"6.3.3", optDoc(``, `"vulnerabilities":[{"cve":"CVE-2021-1234"},{"title":"x"}]`), []string{"/vulnerabilities/1/cve"}},
		{"6.3.4", optDoc(``, `"vulnerabilities":[{"cwe":{"id":"CWE-79","name":"x"}},{"title":"x"}]`), []string{"/vulnerabilities/1/cwe"}},
		{"6.3.5", optDoc(``, `"product_tree":{"full_product_names":[{"product_id":"A","product_identification_helper":{"hashes":[{"file_hashes":[{"algorithm":"sha256","value":"`+strings.Repeat("a", 64)+`"},{"algorithm":"sha1","value":"ab"}]}]}}]}`),
			[]string{"/product_tree/full_product_names/0/product_identification_helper/hashes/0/file_hashes/1/value"}},
		{"6.3.9", optDoc(``, tree(`{"category":"vendor","name":"v","branches":[{"category":"product_name","name":"p","branches":[{"category":"architecture","name":"x","branches":[{"category":"product_version","name":"1","product":{"product_id":"A"}}]},{"category":"patch_level","name":"2","product":{"product_id":"B"}}]}]}`)),
			[]string{"/product_tree/branches/0/branches/0/branches/1/product"}},
		{"6.3.10", optDoc(``, tree(`{"category":"product_version_range","name":"vers:generic/*"}`)), []string{"/product_tree/branches/0/category"}},
		{"6.3.11", optDoc(``, tree(`{"category":"product_version","name":"v1.2"},{"category":"product_version","name":"version 2"},{"category":"product_name","name":"V8"}`)),
			[]string{"/product_tree/branches/0/name"}},
	} {
		var got []string
		for _, f := range optRun(t, c.id, c.doc) {
			got = append(got, f.Path)
		}
		if !slices.Equal(got, c.paths) {
			t.Errorf("%s on %s: paths %q, want %q", c.id, c.doc, got, c.paths)
		}
	}
}

func TestOptVersError(t *testing.T) {
	for s, ok := range map[string]bool{
		"vers:generic/>4.2":           true,
		"vers:npm/1.2.3":              true,
		"vers:pypi/>=1.0|<2.0|!=1.5":  true,
		"vers:generic/*":              true,
		">4.2":                        false,
		"vers:generic":                false,
		"vers:generic/":               false,
		"vers:/1.0":                   false,
		"vers:generic/>=":             false,
		"vers:generic/*|1.0":          false,
		"VERS:generic/1.0":            false,
		"vers:gem/>= 1.0 | < 2.0":     true,
		"all versions before 4.2":     false,
		"vers:deb/<=1:2.3-4ubuntu0.1": true,
	} {
		if got := optVersError(s) == ""; got != ok {
			t.Errorf("optVersError(%q) = %q, want valid %v", s, optVersError(s), ok)
		}
	}
}
