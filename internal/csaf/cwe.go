package csaf

import (
	_ "embed"
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// cweCatalogTSV maps CWE weakness ids to their names (id, tab, name per
// line; '#' lines are comments). It is MITRE's CWE List version 4.15
// (2024-07-16), weaknesses only (no categories or views), extracted from
// the raw/cwe-archive.xml that the npm package cwe-sdk@1.1.19 ships
// (`npm pack cwe-sdk@1.1.19`; every Weakness element's ID and Name
// attributes, sorted by id). MITRE's CWE Terms of Use allow copying and
// redistribution with its copyright notice, kept at the top of the file.
// To update: take a newer CWE List XML (cwec_vX.Y.xml) and regenerate the
// same two columns.
//
//go:embed cwe_catalog.tsv
var cweCatalogTSV string

var cweCatalog = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	for line := range strings.SplitSeq(cweCatalogTSV, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if id, name, ok := strings.Cut(line, "\t"); ok {
			m["CWE-"+id] = name
		}
	}
	return m
})

var cweIDPattern = regexp.MustCompile(`^CWE-[1-9]\d{0,5}$`)

// cweCheck is test 6.1.11: the CWE of each vulnerability exists (in the
// CWE List the catalog holds) and its name is the catalog's.
func cweCheck(d *Doc) []Finding {
	var out []Finding
	for i, vu := range cvssArr(d.Root["vulnerabilities"]) {
		cwe := cvssObj(cvssObj(vu)["cwe"])
		if cwe == nil {
			continue
		}
		path := fmt.Sprintf("/vulnerabilities/%d/cwe", i)
		id, ok := cwe["id"].(string)
		if !ok {
			continue // the schema reports it
		}
		if !cweIDPattern.MatchString(id) {
			out = append(out, Finding{Path: path + "/id", Message: fmt.Sprintf("%q is not a CWE id (CWE-n)", id)})
			continue
		}
		want, known := cweCatalog()[id]
		if !known {
			out = append(out, Finding{Path: path + "/id", Message: fmt.Sprintf("%s is not a weakness of the CWE List 4.15", id)})
			continue
		}
		if name, ok := cwe["name"].(string); ok && name != want {
			out = append(out, Finding{Path: path + "/name", Message: fmt.Sprintf("the name of %s is %q, not %q", id, want, name)})
		}
	}
	return out
}

func init() {
	register("6.1.11", Mandatory, cweCheck)
}

// CWEName returns the name of a CWE weakness ("CWE-79") in the embedded
// CWE List, and whether it is there.
func CWEName(id string) (string, bool) {
	n, ok := cweCatalog()[id]
	return n, ok
}
