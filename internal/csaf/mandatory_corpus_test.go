package csaf

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// manOwnTests reports whether a test id is one of the mandatory tests of
// the mandatory_*.go files (every 6.1.x but the CVSS and CWE ones).
func manOwnTests(id string) bool {
	if !strings.HasPrefix(id, "6.1.") {
		return false
	}
	return !slices.Contains([]string{"6.1.7", "6.1.8", "6.1.9", "6.1.10", "6.1.11"}, id)
}

// manCorpusErrata are corpus documents marked valid that break a
// mandatory test as the specification words it: the second failure cases
// of 6.2.8 and 6.2.9 list md5 (sha1) twice in one file_hashes item, which
// 6.1.25 forbids ("the same hash algorithm is not used multiple times in
// one item of hashes").
var manCorpusErrata = map[string]string{
	"optional/oasis_csaf_tc-csaf_2_0-2021-6-2-08-02.json": "6.1.25",
	"optional/oasis_csaf_tc-csaf_2_0-2021-6-2-09-02.json": "6.1.25",
}

// TestMandatoryCorpus runs the mandatory tests of this file set alone over
// the OASIS corpus, independent of the schema: each failure case of one of
// them must trigger it, and no document the corpus calls valid may trigger
// any of them.
func TestMandatoryCorpus(t *testing.T) {
	dir, tests := readCorpus(t)
	var own []test
	for _, r := range registry {
		if r.level == Mandatory && manOwnTests(r.id) {
			own = append(own, r)
		}
	}
	run := func(name string) map[string][]Finding {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		d, err := Parse(raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out := map[string][]Finding{}
		for _, r := range own {
			if fs := r.run(d); len(fs) > 0 {
				out[r.id] = fs
			}
		}
		return out
	}
	passed, total := 0, 0
	for _, tc := range tests {
		mine := slices.ContainsFunc(own, func(r test) bool { return r.id == tc.ID })
		for _, f := range tc.Failures {
			got := run(f.Name)
			if mine {
				total++
				if len(got[tc.ID]) == 0 {
					t.Errorf("%s %s: not triggered", tc.ID, f.Name)
				} else {
					passed++
				}
			}
			if f.Valid {
				for id, fs := range got {
					if manCorpusErrata[f.Name] == id {
						continue
					}
					t.Errorf("%s %s (a valid document): %s fired: %v", tc.ID, f.Name, id, fs)
				}
			}
		}
		for _, v := range tc.Valid {
			got := run(v.Name)
			if mine {
				total++
				if len(got[tc.ID]) == 0 {
					passed++
				}
			}
			for id, fs := range got {
				t.Errorf("%s %s (a valid case): %s fired: %v", tc.ID, v.Name, id, fs)
			}
		}
	}
	t.Logf("mandatory tests 6.1.x (without CVSS and CWE): %d of %d of their corpus cases pass, %d tests", passed, total, len(own))
}
