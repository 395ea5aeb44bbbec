package csaf

import (
	"fmt"
	"slices"
	"strings"
)

// Mandatory tests on the document category and its profile: 6.1.26 and
// 6.1.27.1 to 6.1.27.11.

func init() {
	register("6.1.26", Mandatory, checkProhibitedCategory)
	register("6.1.27.1", Mandatory, checkProfileNotes)
	register("6.1.27.2", Mandatory, checkProfileReferences)
	register("6.1.27.3", Mandatory, checkProfileNoVulnerabilities)
	register("6.1.27.4", Mandatory, checkProfileProductTree)
	register("6.1.27.5", Mandatory, checkProfileVulnerabilityNotes)
	register("6.1.27.6", Mandatory, checkProfileProductStatus)
	register("6.1.27.7", Mandatory, checkProfileVEXStatus)
	register("6.1.27.8", Mandatory, checkProfileVulnerabilityID)
	register("6.1.27.9", Mandatory, checkProfileImpactStatement)
	register("6.1.27.10", Mandatory, checkProfileActionStatement)
	register("6.1.27.11", Mandatory, checkProfileVulnerabilities)
}

// Categories of the profiles of section 4.
const (
	catBase          = "csaf_base"
	catSecAdvisory   = "csaf_security_advisory"
	catVEX           = "csaf_vex"
	catInformational = "csaf_informational_advisory"
	catIncident      = "csaf_security_incident_response"
)

func manCategory(d *Doc) string { return jpGetStr(d.Root, "document", "category") }

// manInCategory reports whether the document's category is one of cats.
func manInCategory(d *Doc, cats ...string) bool { return slices.Contains(cats, manCategory(d)) }

// manNormalize lowers a category and removes dashes, underscores and
// white space.
func manNormalize(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '-', '_', ' ', '\t', '\n', '\r', '\f', '\v':
			return -1
		}
		return r
	}, strings.ToLower(s))
}

// checkProhibitedCategory (6.1.26): a category that is not one of the
// profiles' starts not with the reserved prefix csaf_ and does not look
// like the category or name of a profile other than CSAF Base.
func checkProhibitedCategory(d *Doc) []Finding {
	c, ok := jpStr(jpGet(d.Root, "document", "category"))
	if !ok || slices.Contains([]string{catBase, catSecAdvisory, catVEX, catInformational, catIncident}, c) {
		return nil
	}
	const p = "/document/category"
	if strings.HasPrefix(strings.ToLower(c), "csaf_") {
		return []Finding{{Path: p, Message: fmt.Sprintf("document category %q uses the reserved prefix csaf_", c)}}
	}
	n := manNormalize(c)
	for _, prof := range []struct{ cat, name string }{
		{catSecAdvisory, "Security Advisory"},
		{catVEX, "VEX"},
		{catInformational, "Informational Advisory"},
		{catIncident, "Security Incident Response"},
	} {
		if n == manNormalize(prof.cat) || n == manNormalize(prof.name) || n == manNormalize(strings.TrimPrefix(prof.cat, "csaf_")) {
			return []Finding{{Path: p, Message: fmt.Sprintf("document category %q is too close to the profile %q (%s)", c, prof.name, prof.cat)}}
		}
	}
	return nil
}

// checkProfileNotes (6.1.27.1): informational advisories and security
// incident responses have a document note of category description,
// details, general or summary.
func checkProfileNotes(d *Doc) []Finding {
	if !manInCategory(d, catInformational, catIncident) {
		return nil
	}
	for _, n := range jpItems(d.Root, "", "document", "notes") {
		switch jpGetStr(n.Value, "category") {
		case "description", "details", "general", "summary":
			return nil
		}
	}
	return []Finding{{Path: "/document/notes", Message: fmt.Sprintf("a %s document needs a note of category description, details, general or summary", manCategory(d))}}
}

// checkProfileReferences (6.1.27.2): informational advisories and security
// incident responses have an external document reference.
func checkProfileReferences(d *Doc) []Finding {
	if !manInCategory(d, catInformational, catIncident) {
		return nil
	}
	for _, n := range jpItems(d.Root, "", "document", "references") {
		if jpGetStr(n.Value, "category") == "external" {
			return nil
		}
	}
	return []Finding{{Path: "/document/references", Message: fmt.Sprintf("a %s document needs a reference of category external", manCategory(d))}}
}

// checkProfileNoVulnerabilities (6.1.27.3): an informational advisory has
// no /vulnerabilities.
func checkProfileNoVulnerabilities(d *Doc) []Finding {
	if !manInCategory(d, catInformational) {
		return nil
	}
	if _, ok := d.Root["vulnerabilities"]; !ok {
		return nil
	}
	return []Finding{{Path: "/vulnerabilities", Message: "an informational advisory must not have vulnerabilities; use the category csaf_security_advisory"}}
}

// checkProfileProductTree (6.1.27.4): security advisories and VEX
// documents have /product_tree.
func checkProfileProductTree(d *Doc) []Finding {
	if !manInCategory(d, catSecAdvisory, catVEX) {
		return nil
	}
	if _, ok := d.Root["product_tree"]; ok {
		return nil
	}
	return []Finding{{Path: "/product_tree", Message: fmt.Sprintf("a %s document needs a product tree", manCategory(d))}}
}

// manEachVuln reports, for the documents of cats, each vulnerability that
// lacks key.
func manEachVuln(d *Doc, key, need string, cats ...string) []Finding {
	if !manInCategory(d, cats...) {
		return nil
	}
	var out []Finding
	for _, v := range jpVulns(d) {
		if jpGet(v.Value, key) == nil {
			out = append(out, Finding{Path: v.Path, Message: fmt.Sprintf("a vulnerability of a %s document needs %s", manCategory(d), need)})
		}
	}
	return out
}

// checkProfileVulnerabilityNotes (6.1.27.5): in security advisories and
// VEX documents every vulnerability has notes.
func checkProfileVulnerabilityNotes(d *Doc) []Finding {
	return manEachVuln(d, "notes", "notes", catSecAdvisory, catVEX)
}

// checkProfileProductStatus (6.1.27.6): in security advisories every
// vulnerability has a product status.
func checkProfileProductStatus(d *Doc) []Finding {
	return manEachVuln(d, "product_status", "a product_status", catSecAdvisory)
}

// checkProfileVEXStatus (6.1.27.7): in VEX documents every vulnerability
// lists products as fixed, known affected, known not affected or under
// investigation.
func checkProfileVEXStatus(d *Doc) []Finding {
	if !manInCategory(d, catVEX) {
		return nil
	}
	var out []Finding
	for _, v := range jpVulns(d) {
		ps := jpGet(v.Value, "product_status")
		found := false
		for _, k := range []string{"fixed", "known_affected", "known_not_affected", "under_investigation"} {
			if jpGet(ps, k) != nil {
				found = true
			}
		}
		if !found {
			out = append(out, Finding{Path: jpPtr(v.Path, "product_status"), Message: "a vulnerability of a VEX document needs one of fixed, known_affected, known_not_affected or under_investigation in its product status"})
		}
	}
	return out
}

// checkProfileVulnerabilityID (6.1.27.8): in VEX documents every
// vulnerability has a cve or ids.
func checkProfileVulnerabilityID(d *Doc) []Finding {
	if !manInCategory(d, catVEX) {
		return nil
	}
	var out []Finding
	for _, v := range jpVulns(d) {
		if jpGet(v.Value, "cve") == nil && jpGet(v.Value, "ids") == nil {
			out = append(out, Finding{Path: v.Path, Message: "a vulnerability of a VEX document needs a cve or ids"})
		}
	}
	return out
}

// manCovered is the set of products named, directly or through groups, by
// the items of /vulnerabilities[]/key accepted by keep.
func manCovered(v any, key string, groups map[string][]string, keep func(item any) bool) map[string]bool {
	out := map[string]bool{}
	for _, it := range jpArr(jpGet(v, key)) {
		if keep != nil && !keep(it) {
			continue
		}
		for p := range jpProductsOf(it, groups) {
			out[p] = true
		}
	}
	return out
}

// checkProfileImpactStatement (6.1.27.9): in VEX documents every known not
// affected product has a flag or an impact threat.
func checkProfileImpactStatement(d *Doc) []Finding {
	if !manInCategory(d, catVEX) {
		return nil
	}
	groups := jpGroups(d)
	var out []Finding
	for _, v := range jpVulns(d) {
		flagged := manCovered(v.Value, "flags", groups, nil)
		impact := manCovered(v.Value, "threats", groups, func(it any) bool { return jpGetStr(it, "category") == "impact" })
		for _, r := range jpStrings(v.Value, v.Path, "product_status", "known_not_affected") {
			if !flagged[r.ID] && !impact[r.ID] {
				out = append(out, Finding{Path: r.Path, Message: fmt.Sprintf("known not affected product %q has no impact statement (a flag or a threat of category impact)", r.ID)})
			}
		}
	}
	return out
}

// checkProfileActionStatement (6.1.27.10): in VEX documents every known
// affected product has a remediation.
func checkProfileActionStatement(d *Doc) []Finding {
	if !manInCategory(d, catVEX) {
		return nil
	}
	groups := jpGroups(d)
	var out []Finding
	for _, v := range jpVulns(d) {
		remediated := manCovered(v.Value, "remediations", groups, nil)
		for _, r := range jpStrings(v.Value, v.Path, "product_status", "known_affected") {
			if !remediated[r.ID] {
				out = append(out, Finding{Path: r.Path, Message: fmt.Sprintf("known affected product %q has no action statement (a remediation)", r.ID)})
			}
		}
	}
	return out
}

// checkProfileVulnerabilities (6.1.27.11): security advisories and VEX
// documents have /vulnerabilities.
func checkProfileVulnerabilities(d *Doc) []Finding {
	if !manInCategory(d, catSecAdvisory, catVEX) {
		return nil
	}
	if _, ok := d.Root["vulnerabilities"]; ok {
		return nil
	}
	return []Finding{{Path: "/vulnerabilities", Message: fmt.Sprintf("a %s document needs vulnerabilities", manCategory(d))}}
}

// manSortedKeys lists a set in order.
func manSortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
