package csaf

import (
	"strings"
	"testing"
)

func TestCWECatalog(t *testing.T) {
	cat := cweCatalog()
	if len(cat) < 900 {
		t.Fatalf("%d weaknesses", len(cat))
	}
	if got := cat["CWE-79"]; got != "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')" {
		t.Errorf("CWE-79 is %q", got)
	}
}

func TestCWECheck(t *testing.T) {
	for _, c := range []struct{ cwe, path string }{
		{`{"id":"CWE-20","name":"Improper Input Validation"}`, ""},
		{`{"id":"CWE-79","name":"Improper Input Validation"}`, "/vulnerabilities/0/cwe/name"},
		{`{"id":"CWE-999999","name":"x"}`, "/vulnerabilities/0/cwe/id"},
		{`{"id":"CWE-079","name":"x"}`, "/vulnerabilities/0/cwe/id"},
	} {
		var paths []string
		for _, f := range cweCheck(cvssDoc(t, `{"cwe":`+c.cwe+`}`)) {
			paths = append(paths, f.Path)
		}
		if strings.Join(paths, " ") != c.path {
			t.Errorf("%s: findings at %q, want %q", c.cwe, paths, c.path)
		}
	}
}
