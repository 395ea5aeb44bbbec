package csaf

// The informative tests 6.3.x of CSAF 2.0 that need no network or
// dictionary. 6.3.1 and 6.3.2 live with the CVSS tests; 6.3.6–6.3.8 (URL
// resolution, spell check) are not run.

import (
	"fmt"
	"regexp"
	"strings"
)

func init() {
	register("6.3.3", Informative, infMissingCVE)
	register("6.3.4", Informative, infMissingCWE)
	register("6.3.5", Informative, infShortHash)
	register("6.3.9", Informative, infBranchCategories)
	register("6.3.10", Informative, infVersionRange)
	register("6.3.11", Informative, infVPrefix)
}

// infMissingCVE (6.3.3): every vulnerability has a CVE id.
func infMissingCVE(d *Doc) []Finding {
	var out []Finding
	for _, v := range optVulns(d) {
		if _, ok := v.obj["cve"]; !ok {
			out = append(out, Finding{Path: jpPtr(v.path, "cve"), Message: "the vulnerability has no CVE id"})
		}
	}
	return out
}

// infMissingCWE (6.3.4): every vulnerability has a CWE.
func infMissingCWE(d *Doc) []Finding {
	var out []Finding
	for _, v := range optVulns(d) {
		if _, ok := v.obj["cwe"]; !ok {
			out = append(out, Finding{Path: jpPtr(v.path, "cwe"), Message: "the vulnerability has no CWE"})
		}
	}
	return out
}

// infShortHash (6.3.5): every file hash is at least 64 hex digits long
// (256 bits).
func infShortHash(d *Doc) []Finding {
	var out []Finding
	optFileHashes(d, func(path string, hashes []any) {
		for i, h := range hashes {
			v, ok := jpStr(jpGet(h, "value"))
			if ok && len(v) < 64 {
				a, _ := jpStr(jpGet(h, "algorithm"))
				out = append(out, Finding{Path: jpPtr(path, i, "value"),
					Message: fmt.Sprintf("the %s hash is short: %d hex digits, fewer than 64", a, len(v))})
			}
		}
	})
	return out
}

// infBranchCategories (6.3.9): the path from the product tree to each
// product in branches passes the categories vendor, product_name and
// product_version in that order; other categories may come in between.
func infBranchCategories(d *Doc) []Finding {
	want := []string{"vendor", "product_name", "product_version"}
	var out []Finding
	for _, b := range optBranches(d) {
		if _, ok := b.obj["product"]; !ok {
			continue
		}
		n := 0
		for _, c := range b.categories {
			if n < len(want) && c == want[n] {
				n++
			}
		}
		if n < len(want) {
			out = append(out, Finding{Path: jpPtr(b.path, "product"),
				Message: fmt.Sprintf("the branch categories on the way to this product (%s) miss %s in the order vendor, product_name, product_version",
					strings.Join(b.categories, " > "), want[n])})
		}
	}
	return out
}

// infVersionRange (6.3.10): product_version_range is used.
func infVersionRange(d *Doc) []Finding {
	var out []Finding
	for _, b := range optBranches(d) {
		if b.categories[len(b.categories)-1] == "product_version_range" {
			out = append(out, Finding{Path: jpPtr(b.path, "category"),
				Message: "the branch uses the category product_version_range; prefer product_version"})
		}
	}
	return out
}

var infVPattern = regexp.MustCompile(`^[vV][0-9]`)

// infVPrefix (6.3.11): product_version names do not start with v or V
// before a digit.
func infVPrefix(d *Doc) []Finding {
	var out []Finding
	for _, b := range optBranches(d) {
		if b.categories[len(b.categories)-1] != "product_version" {
			continue
		}
		if name, ok := jpStr(b.obj["name"]); ok && infVPattern.MatchString(name) {
			out = append(out, Finding{Path: jpPtr(b.path, "name"),
				Message: fmt.Sprintf("the product version %q starts with %q as a version indicator", name, name[:1])})
		}
	}
	return out
}
