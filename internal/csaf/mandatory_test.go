package csaf

import (
	"slices"
	"strings"
	"testing"
)

// manCase is a document fragment (the JSON of the top-level members after
// "document") and the paths the test must report, none for a valid one.
type manCase struct {
	name  string
	doc   string
	paths []string
}

// manDoc wraps a document member and other top-level members into a
// document.
func manDoc(t *testing.T, document, rest string) *Doc {
	t.Helper()
	raw := `{"document": {` + document + `}`
	if rest != "" {
		raw += `, ` + rest
	}
	raw += `}`
	d, err := Parse([]byte(raw))
	if err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return d
}

// manRun runs check over each case; a case's doc is "DOCUMENT|REST".
func manRun(t *testing.T, check func(*Doc) []Finding, cases []manCase) {
	t.Helper()
	for _, c := range cases {
		document, rest, _ := strings.Cut(c.doc, "|")
		fs := check(manDoc(t, document, rest))
		var got []string
		for _, f := range fs {
			if f.Message == "" {
				t.Errorf("%s: empty message at %s", c.name, f.Path)
			}
			got = append(got, f.Path)
		}
		if !slices.Equal(got, c.paths) {
			t.Errorf("%s: paths %v, want %v (findings %v)", c.name, got, c.paths, fs)
		}
	}
}

const manTree = `"product_tree": {"branches": [{"category": "vendor", "name": "V", "branches": [{"category": "product_version", "name": "1.0", "product": {"name": "V 1.0", "product_id": "A"}}]}],
 "full_product_names": [{"name": "B", "product_id": "B"}],
 "product_groups": [{"group_id": "G", "product_ids": ["A", "B"]}]}`

func TestProductIDs(t *testing.T) {
	manRun(t, checkMissingProductID, []manCase{
		{"defined", `|` + manTree + `, "vulnerabilities": [{"product_status": {"fixed": ["A", "B"]}}]`, nil},
		{"missing in status", `|` + manTree + `, "vulnerabilities": [{"product_status": {"fixed": ["A", "C"]}}]`, []string{"/vulnerabilities/0/product_status/fixed/1"}},
		{"missing in a flag", `|` + manTree + `, "vulnerabilities": [{"flags": [{"label": "component_not_present", "product_ids": ["Z"]}]}]`, []string{"/vulnerabilities/0/flags/0/product_ids/0"}},
		{"missing in a relationship", `|"product_tree": {"full_product_names": [{"name": "B", "product_id": "B"}], "relationships": [{"category": "installed_on", "product_reference": "B", "relates_to_product_reference": "X", "full_product_name": {"name": "B on X", "product_id": "BX"}}]}`, []string{"/product_tree/relationships/0/relates_to_product_reference"}},
	})
	manRun(t, checkMultipleProductID, []manCase{
		{"once", `|` + manTree, nil},
		{"twice", `|"product_tree": {"full_product_names": [{"name": "B", "product_id": "B"}, {"name": "B2", "product_id": "B"}]}`, []string{"/product_tree/full_product_names/1/product_id"}},
	})
	manRun(t, checkCircularProductID, []manCase{
		{"acyclic", `|"product_tree": {"relationships": [{"category": "installed_on", "product_reference": "A", "relates_to_product_reference": "B", "full_product_name": {"name": "AB", "product_id": "AB"}}]}`, nil},
		{"self", `|"product_tree": {"relationships": [{"category": "installed_on", "product_reference": "AB", "relates_to_product_reference": "B", "full_product_name": {"name": "AB", "product_id": "AB"}}]}`, []string{"/product_tree/relationships/0/product_reference"}},
	})
	manRun(t, checkMissingGroupID, []manCase{
		{"defined", `|` + manTree + `, "vulnerabilities": [{"remediations": [{"category": "vendor_fix", "details": "x", "group_ids": ["G"]}]}]`, nil},
		{"missing", `|` + manTree + `, "vulnerabilities": [{"threats": [{"category": "impact", "details": "x", "group_ids": ["H"]}]}]`, []string{"/vulnerabilities/0/threats/0/group_ids/0"}},
	})
	manRun(t, checkMultipleGroupID, []manCase{
		{"twice", `|"product_tree": {"product_groups": [{"group_id": "G", "product_ids": ["A", "B"]}, {"group_id": "G", "product_ids": ["A", "B"]}]}`, []string{"/product_tree/product_groups/1/group_id"}},
	})
	manRun(t, checkContradictingStatus, []manCase{
		{"disjoint", `|"vulnerabilities": [{"product_status": {"first_affected": ["A"], "known_affected": ["A"], "fixed": ["B"], "recommended": ["B"]}}]`, nil},
		{"affected and fixed", `|"vulnerabilities": [{"product_status": {"fixed": ["B"], "known_affected": ["C", "B"]}}]`, []string{"/vulnerabilities/0/product_status/known_affected/1"}},
	})
}

func TestPURL(t *testing.T) {
	for _, c := range []struct {
		purl string
		ok   bool
	}{
		{"pkg:maven/org.apache.xmlgraphics/batik-anim@1.9.1", true},
		{"pkg:npm/%40angular/animation@12.3.1", true},
		{"pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie", true},
		{"pkg:golang/google.golang.org/genproto#googleapis/api/annotations", true},
		{"pkg:maven/@1.3.4", false},
		{"http://example.com", false},
		{"pkg:maven", false},
		{"pkg:1maven/a", false},
		{"pkg:npm/a?arch", false},
		{"pkg:npm/a%zz", false},
	} {
		if got := manParsePURL(c.purl) == ""; got != c.ok {
			t.Errorf("%s: valid %v, want %v (%s)", c.purl, got, c.ok, manParsePURL(c.purl))
		}
	}
	manRun(t, checkPURL, []manCase{
		{"bad", `|"product_tree": {"full_product_names": [{"name": "B", "product_id": "B", "product_identification_helper": {"purl": "pkg:maven/@1"}}]}`, []string{"/product_tree/full_product_names/0/product_identification_helper/purl"}},
	})
}

func TestHashesAndRanges(t *testing.T) {
	manRun(t, checkHashAlgorithms, []manCase{
		{"distinct", `|"product_tree": {"full_product_names": [{"name": "B", "product_id": "B", "product_identification_helper": {"hashes": [{"filename": "f", "file_hashes": [{"algorithm": "sha256", "value": "aa"}, {"algorithm": "sha512", "value": "bb"}]}]}}]}`, nil},
		{"twice", `|"product_tree": {"full_product_names": [{"name": "B", "product_id": "B", "product_identification_helper": {"hashes": [{"filename": "f", "file_hashes": [{"algorithm": "sha256", "value": "aa"}, {"algorithm": "sha256", "value": "bb"}]}]}}]}`, []string{"/product_tree/full_product_names/0/product_identification_helper/hashes/0/file_hashes/1/algorithm"}},
	})
	for name, want := range map[string]bool{"1.0": false, "after-eight": false, "<4.2": true, "4.1 and earlier": true, "All": true, "3.X versions": true, "prior to 4": true} {
		if got := manVersionRange(name) != ""; got != want {
			t.Errorf("%q: range %v, want %v", name, got, want)
		}
	}
	manRun(t, checkVersionRange, []manCase{
		{"plain", `|` + manTree, nil},
		{"range", `|"product_tree": {"branches": [{"category": "product_version", "name": "<= 2", "product": {"name": "x", "product_id": "X"}}]}`, []string{"/product_tree/branches/0/name"}},
	})
}

// manTracking builds a tracking member.
func manTrack(status, version string, revs ...string) string {
	var items []string
	for i := 0; i+1 < len(revs); i += 2 {
		items = append(items, `{"date": "`+revs[i]+`", "number": "`+revs[i+1]+`", "summary": "s"}`)
	}
	return `"tracking": {"status": "` + status + `", "version": "` + version + `", "revision_history": [` + strings.Join(items, ", ") + `]}`
}

func TestVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"2", "10", -1}, {"1.9.0", "1.10.0", -1}, {"1.0.0-rc.1", "1.0.0", -1},
		{"1.0.0-alpha", "1.0.0-alpha.1", -1}, {"1.0.0-alpha.beta", "1.0.0-beta", -1},
		{"1.0.0-2", "1.0.0-11", -1}, {"1.0.0+a", "1.0.0+b", 0},
	} {
		a, ok1 := manParseVersion(c.a)
		b, ok2 := manParseVersion(c.b)
		if !ok1 || !ok2 || a.compare(b) != c.want || b.compare(a) != -c.want {
			t.Errorf("compare(%s, %s) = %d, want %d", c.a, c.b, a.compare(b), c.want)
		}
	}
	for _, bad := range []string{"01", "1.0", "1.0.0-01", "v1", ""} {
		if _, ok := manParseVersion(bad); ok {
			t.Errorf("%q parsed as a version", bad)
		}
	}
	if _, ok := manTime("2016-12-31T23:59:60Z"); !ok {
		t.Error("a leap second is not parsed")
	}
	d1, d2 := "2021-07-22T10:00:00.000Z", "2021-07-23T10:00:00.000Z"
	manRun(t, checkSortedRevisionHistory, []manCase{
		{"sorted", manTrack("final", "2", d2, "2", d1, "1"), nil},
		{"same date", manTrack("final", "2", d1, "2", d1, "1"), nil},
		{"unsorted", manTrack("final", "2", d1, "2", d2, "1"), []string{"/document/tracking/revision_history/1/number"}},
	})
	manRun(t, checkLatestVersion, []manCase{
		{"latest", manTrack("final", "2", d1, "1", d2, "2"), nil},
		{"build ignored", manTrack("final", "2.0.0+b", d1, "1.0.0", d2, "2.0.0"), nil},
		{"draft pre-release ignored", manTrack("draft", "2.0.0-rc", d1, "1.0.0", d2, "2.0.0"), nil},
		{"older", manTrack("final", "1", d1, "1", d2, "2"), []string{"/document/tracking/version"}},
	})
	manRun(t, checkDraftStatus, []manCase{
		{"draft", manTrack("draft", "0.9.0", d1, "0.9.0"), nil},
		{"final 0.x", manTrack("final", "0.9.0", d1, "0.9.0"), []string{"/document/tracking/status"}},
		{"interim rc", manTrack("interim", "1.0.0-rc", d1, "1.0.0"), []string{"/document/tracking/status"}},
	})
	manRun(t, checkReleasedRevisionHistory, []manCase{
		{"draft 0", manTrack("draft", "1", d1, "0", d2, "1"), nil},
		{"final 0", manTrack("final", "1", d1, "0", d2, "1"), []string{"/document/tracking/revision_history/0/number"}},
	})
	manRun(t, checkPreReleaseRevisions, []manCase{
		{"rc", manTrack("final", "1.0.0", d1, "1.0.0-rc", d2, "1.0.0"), []string{"/document/tracking/revision_history/0/number"}},
	})
	manRun(t, checkNonDraftVersion, []manCase{
		{"draft", manTrack("draft", "1.0.0-alpha", d1, "1.0.0"), nil},
		{"interim", manTrack("interim", "1.0.0-alpha", d1, "1.0.0"), []string{"/document/tracking/version"}},
	})
	manRun(t, checkMissingRevision, []manCase{
		{"from 0", manTrack("draft", "1", d1, "0", d2, "1"), nil},
		{"semver minor skips", manTrack("final", "1.3.0", d1, "1.0.0", d2, "1.3.0"), nil},
		{"gap", manTrack("final", "3", d1, "1", d2, "3"), []string{"/document/tracking/revision_history/1/number"}},
		{"late start", manTrack("final", "3", d1, "2", d2, "3"), []string{"/document/tracking/revision_history/0/number"}},
	})
	manRun(t, checkDuplicateRevision, []manCase{
		{"twice", manTrack("final", "1", d1, "1", d2, "1"), []string{"/document/tracking/revision_history/1/number"}},
	})
	manRun(t, checkMixedVersioning, []manCase{
		{"semver", manTrack("final", "2.0.0", d1, "1.0.0", d2, "2.0.0"), nil},
		{"mixed", manTrack("final", "2", d1, "1.0.0", d2, "2"), []string{"/document/tracking/revision_history/0/number"}},
	})
}

func TestMisc(t *testing.T) {
	manRun(t, checkLanguage, []manCase{
		{"valid", `"lang": "en-US", "source_lang": "de"`, nil},
		{"grandfathered and private use", `"lang": "i-default", "source_lang": "qtx"`, nil},
		{"unknown", `"lang": "EZ"`, []string{"/document/lang"}},
		{"ill-formed", `"source_lang": "english"`, []string{"/document/source_lang"}},
	})
	manRun(t, checkTranslator, []manCase{
		{"with source", `"publisher": {"category": "translator"}, "source_lang": "de"`, nil},
		{"without", `"publisher": {"category": "translator"}`, []string{"/document/publisher/category"}},
	})
	manRun(t, checkTranslation, []manCase{
		{"differ", `"lang": "en", "source_lang": "de"`, nil},
		{"same", `"lang": "en-US", "source_lang": "en-us"`, []string{"/document/source_lang"}},
	})
	manRun(t, checkMultipleCVE, []manCase{
		{"twice", `|"vulnerabilities": [{"cve": "CVE-2021-0001"}, {"cve": "CVE-2021-0002"}, {"cve": "CVE-2021-0001"}]`, []string{"/vulnerabilities/2/cve"}},
	})
	manRun(t, checkInvolvements, []manCase{
		{"other vulnerability", `|"vulnerabilities": [{"involvements": [{"party": "vendor", "status": "open", "date": "2021-04-23T10:00:00Z"}]}, {"involvements": [{"party": "vendor", "status": "open", "date": "2021-04-23T10:00:00Z"}]}]`, nil},
		{"same instant", `|"vulnerabilities": [{"involvements": [{"party": "vendor", "status": "open", "date": "2021-04-23T10:00:00Z"}, {"party": "vendor", "status": "completed", "date": "2021-04-23T12:00:00+02:00"}]}]`, []string{"/vulnerabilities/0/involvements/1"}},
	})
	manRun(t, checkRemediationProducts, []manCase{
		{"none", `|"vulnerabilities": [{"remediations": [{"category": "vendor_fix", "details": "x", "product_ids": ["A"]}, {"category": "workaround", "details": "y"}]}]`, []string{"/vulnerabilities/0/remediations/1"}},
	})
	manRun(t, checkFlagProducts, []manCase{
		{"none", `|"vulnerabilities": [{"flags": [{"label": "component_not_present"}]}]`, []string{"/vulnerabilities/0/flags/0"}},
	})
	manRun(t, checkVEXJustifications, []manCase{
		{"one each", `|` + manTree + `, "vulnerabilities": [{"flags": [{"label": "component_not_present", "product_ids": ["A"]}, {"label": "vulnerable_code_not_present", "product_ids": ["B"]}]}]`, nil},
		{"through a group", `|` + manTree + `, "vulnerabilities": [{"flags": [{"label": "component_not_present", "group_ids": ["G"]}, {"label": "vulnerable_code_not_present", "product_ids": ["B"]}]}]`, []string{"/vulnerabilities/0/flags/1"}},
	})
}

func TestProfiles(t *testing.T) {
	manRun(t, checkProhibitedCategory, []manCase{
		{"profile", `"category": "csaf_vex"`, nil},
		{"custom", `"category": "OASIS CSAF TC Security Incident Response"`, nil},
		{"prefix", `"category": "Csaf_VeX"`, []string{"/document/category"}},
		{"name", `"category": "Security-Advisory"`, []string{"/document/category"}},
		{"squeezed", `"category": "csafsecurityadvisory"`, []string{"/document/category"}},
	})
	const info = `"category": "csaf_informational_advisory"`
	manRun(t, checkProfileNotes, []manCase{
		{"base", `"category": "csaf_base"`, nil},
		{"summary", info + `, "notes": [{"category": "summary", "text": "t"}]`, nil},
		{"legal only", info + `, "notes": [{"category": "legal_disclaimer", "text": "t"}]`, []string{"/document/notes"}},
	})
	manRun(t, checkProfileReferences, []manCase{
		{"self only", info + `, "references": [{"category": "self", "summary": "s", "url": "https://x"}]`, []string{"/document/references"}},
	})
	manRun(t, checkProfileNoVulnerabilities, []manCase{
		{"with", info + `|"vulnerabilities": []`, []string{"/vulnerabilities"}},
	})
	const vex = `"category": "csaf_vex"`
	manRun(t, checkProfileProductTree, []manCase{{"without", vex, []string{"/product_tree"}}})
	manRun(t, checkProfileVulnerabilities, []manCase{{"without", vex, []string{"/vulnerabilities"}}})
	manRun(t, checkProfileVulnerabilityNotes, []manCase{{"without", vex + `|"vulnerabilities": [{"cve": "CVE-2021-0001"}]`, []string{"/vulnerabilities/0"}}})
	manRun(t, checkProfileProductStatus, []manCase{{"without", `"category": "csaf_security_advisory"|"vulnerabilities": [{"notes": []}]`, []string{"/vulnerabilities/0"}}})
	manRun(t, checkProfileVEXStatus, []manCase{
		{"recommended only", vex + `|"vulnerabilities": [{"product_status": {"recommended": ["A"]}}]`, []string{"/vulnerabilities/0/product_status"}},
	})
	manRun(t, checkProfileVulnerabilityID, []manCase{
		{"ids", vex + `|"vulnerabilities": [{"ids": [{"system_name": "x", "text": "1"}]}]`, nil},
		{"none", vex + `|"vulnerabilities": [{"notes": []}]`, []string{"/vulnerabilities/0"}},
	})
	manRun(t, checkProfileImpactStatement, []manCase{
		{"flag and threat", vex + `|` + manTree + `, "vulnerabilities": [{"product_status": {"known_not_affected": ["A", "B"]}, "flags": [{"label": "component_not_present", "product_ids": ["A"]}], "threats": [{"category": "impact", "details": "d", "group_ids": ["G"]}]}]`, nil},
		{"exploit threat", vex + `|` + manTree + `, "vulnerabilities": [{"product_status": {"known_not_affected": ["A", "B"]}, "threats": [{"category": "exploit_status", "details": "d", "group_ids": ["G"]}]}]`, []string{"/vulnerabilities/0/product_status/known_not_affected/0", "/vulnerabilities/0/product_status/known_not_affected/1"}},
	})
	manRun(t, checkProfileActionStatement, []manCase{
		{"remediated", vex + `|` + manTree + `, "vulnerabilities": [{"product_status": {"known_affected": ["A"]}, "remediations": [{"category": "vendor_fix", "details": "d", "group_ids": ["G"]}]}]`, nil},
		{"missing", vex + `|` + manTree + `, "vulnerabilities": [{"product_status": {"known_affected": ["A", "B"]}, "remediations": [{"category": "vendor_fix", "details": "d", "product_ids": ["A"]}]}]`, []string{"/vulnerabilities/0/product_status/known_affected/1"}},
	})
}

func TestPointers(t *testing.T) {
	if got := jpPtr("/a", "b/c", "d~e", 3); got != "/a/b~1c/d~0e/3" {
		t.Errorf("jpPtr = %q", got)
	}
}
