package csaf

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestScoreVector(t *testing.T) {
	for _, c := range []struct {
		in       string
		want     Score
		wantNote string
	}{
		// v3.1 / v3.0: scores of the FIRST specification documents'
		// examples (also in cvss_test.go), metrics reordered where noted.
		{in: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", want: Score{"3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "CRITICAL"}},
		{in: "CVSS:3.1/S:C/C:L/I:L/A:N/AV:N/AC:L/PR:L/UI:N", want: Score{"3.1", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4, "MEDIUM"}, wantNote: "reordered"},
		{in: "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", want: Score{"3.1", "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1, "LOW"}},
		{in: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", want: Score{"3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0, "NONE"}},
		{in: "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:H/A:H", want: Score{"3.1", "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:H/A:H", 7.1, "HIGH"}},
		{in: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C", want: Score{"3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C", 9.8, "CRITICAL"}, wantNote: "base score only"},
		{in: "CVSS:3.0/AV:P/AC:L/PR:H/UI:R/S:U/C:H/I:H/A:H", want: Score{"3.0", "CVSS:3.0/AV:P/AC:L/PR:H/UI:R/S:U/C:H/I:H/A:H", 6.1, "MEDIUM"}},
		// v2 (the guide's examples): LOW/MEDIUM/HIGH, parentheses dropped,
		// metrics in the guide's order.
		{in: "AV:N/AC:L/Au:N/C:C/I:C/A:C", want: Score{"2.0", "AV:N/AC:L/Au:N/C:C/I:C/A:C", 10, "HIGH"}},
		{in: "(AV:N/AC:M/Au:N/C:P/I:N/A:N)", want: Score{"2.0", "AV:N/AC:M/Au:N/C:P/I:N/A:N", 4.3, "MEDIUM"}},
		{in: "C:P/I:P/A:N/AV:N/AC:L/Au:S", want: Score{"2.0", "AV:N/AC:L/Au:S/C:P/I:P/A:N", 5.5, "MEDIUM"}},
		{in: "AV:L/AC:H/Au:M/C:N/I:N/A:P", want: Score{"2.0", "AV:L/AC:H/Au:M/C:N/I:N/A:P", 0.8, "LOW"}},
		{in: "AV:N/AC:L/Au:N/C:N/I:N/A:N", want: Score{"2.0", "AV:N/AC:L/Au:N/C:N/I:N/A:N", 0, "LOW"}},
		// v4 (FIRST examples, see cvss4_test.go), with surrounding space.
		{in: " CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N ", want: Score{"4.0", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3, "CRITICAL"}},
	} {
		got, err := ScoreVector(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("%q (%s): %+v, want %+v", c.in, c.wantNote, got, c.want)
		}
	}
}

func TestScoreVectorErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"CVSS:3.1/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "base metric AV missing"},
		{"CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "metric AV given twice"},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:Z", `invalid value "Z" of metric A`},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/XX:N", `unknown metric "XX"`},
		{"CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "unsupported CVSS version"},
		{"AV:N/AC:L/Au:N/C:C/I:C", "base metric A missing"},
		{"AV:N/AC:L/Au:N/C:C/I:C/A:C/MAV:N", `unknown metric "MAV"`},
	} {
		_, err := ScoreVector(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.in, err, c.want)
		}
		if err != nil && !strings.Contains(err.Error(), c.in) {
			t.Errorf("%q: error %v does not name the vector", c.in, err)
		}
	}
}

// cvss3JSONDoc is a minimal valid CSAF 2.0 document whose one vulnerability
// scores product A with the given cvss_v3 object.
func cvss3JSONDoc(t *testing.T, obj map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(`{"document": {"category": "csaf_base", "csaf_version": "2.0",
	"publisher": {"category": "vendor", "name": "Example", "namespace": "https://example.com"},
	"title": "Example advisory",
	"tracking": {"current_release_date": "2024-01-01T00:00:00Z", "id": "EX-2024-0001", "initial_release_date": "2024-01-01T00:00:00Z",
		"revision_history": [{"date": "2024-01-01T00:00:00Z", "number": "1", "summary": "Initial version."}], "status": "final", "version": "1"}},
	"product_tree": {"full_product_names": [{"name": "Product A", "product_id": "A"}]},
	"vulnerabilities": [{"cve": "CVE-2024-0001", "product_status": {"known_affected": ["A"]},
		"scores": [{"products": ["A"], "cvss_v3": ` + string(b) + `}]}]}`)
}

func TestCVSS3JSON(t *testing.T) {
	schemaNeedDir(t)
	for _, c := range []struct {
		vector string
		want   map[string]any // properties to check
		absent []string
	}{
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", map[string]any{
			"version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
			"baseScore": 9.8, "baseSeverity": "CRITICAL", "attackVector": "NETWORK", "attackComplexity": "LOW",
			"privilegesRequired": "NONE", "userInteraction": "NONE", "scope": "UNCHANGED",
			"confidentialityImpact": "HIGH", "integrityImpact": "HIGH", "availabilityImpact": "HIGH",
		}, []string{"temporalScore", "temporalSeverity", "environmentalScore", "environmentalSeverity", "exploitCodeMaturity"}},
		{"CVSS:3.1/AV:A/AC:H/PR:L/UI:R/S:C/C:L/I:N/A:N", map[string]any{
			"baseScore": 2.6, "baseSeverity": "LOW", "attackVector": "ADJACENT_NETWORK", "scope": "CHANGED",
		}, []string{"temporalScore", "environmentalScore"}},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H/E:U/RL:O/RC:U", map[string]any{
			"baseScore": 10.0, "baseSeverity": "CRITICAL", "temporalScore": 8.0, "temporalSeverity": "HIGH",
			"exploitCodeMaturity": "UNPROVEN", "remediationLevel": "OFFICIAL_FIX", "reportConfidence": "UNKNOWN",
		}, []string{"environmentalScore", "environmentalSeverity"}},
		{"CVSS:3.1/AV:L/AC:L/PR:H/UI:R/S:U/C:H/I:H/A:H/MC:N/MI:N/MA:N", map[string]any{
			"baseScore": 6.5, "baseSeverity": "MEDIUM", "environmentalScore": 0.0, "environmentalSeverity": "NONE",
			"modifiedConfidentialityImpact": "NONE",
		}, []string{"temporalScore", "modifiedAttackVector"}},
		{"CVSS:3.1/CR:H/MAV:L/MS:C/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N/E:X", map[string]any{
			"vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N/E:X/CR:H/MAV:L/MS:C", "baseScore": 5.3,
			"temporalScore": 5.3, "environmentalScore": 5.2, "environmentalSeverity": "MEDIUM",
			"exploitCodeMaturity": "NOT_DEFINED", "confidentialityRequirement": "HIGH", "modifiedAttackVector": "LOCAL", "modifiedScope": "CHANGED",
		}, []string{"remediationLevel"}},
		{"CVSS:3.0/AV:P/AC:L/PR:H/UI:R/S:U/C:H/I:H/A:H", map[string]any{
			"version": "3.0", "baseScore": 6.1, "baseSeverity": "MEDIUM", "attackVector": "PHYSICAL",
		}, nil},
		{"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:T/RC:R/CR:L/IR:M/AR:H/MAV:A/MAC:H/MPR:L/MUI:R/MS:C/MC:L/MI:H/MA:N", map[string]any{
			"version": "3.0", "modifiedUserInteraction": "REQUIRED", "modifiedPrivilegesRequired": "LOW", "availabilityRequirement": "HIGH",
		}, nil},
	} {
		obj, err := CVSS3JSON(c.vector)
		if err != nil {
			t.Errorf("%s: %v", c.vector, err)
			continue
		}
		for k, want := range c.want {
			if got := obj[k]; got != want {
				t.Errorf("%s: %s = %v, want %v", c.vector, k, got, want)
			}
		}
		for _, k := range c.absent {
			if _, ok := obj[k]; ok {
				t.Errorf("%s: %s present", c.vector, k)
			}
		}
		rep, err := Validate(cvss3JSONDoc(t, obj), PresetAll)
		if err != nil {
			t.Fatalf("%s: %v", c.vector, err)
		}
		for _, f := range rep.Findings {
			switch {
			case f.Test == "6.1.8", f.Test == "6.1.9", f.Test == "6.1.10":
				t.Errorf("%s: finding %+v", c.vector, f)
			case f.Test == "schema" || f.Level == Mandatory:
				t.Errorf("%s: finding %+v (the document should be valid)", c.vector, f)
			}
		}
	}
}

// TestCVSS3JSONChecked makes sure the round trip above would catch a wrong
// object: a tampered score or property is reported by 6.1.9 and 6.1.10.
func TestCVSS3JSONChecked(t *testing.T) {
	schemaNeedDir(t)
	obj, err := CVSS3JSON("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P")
	if err != nil {
		t.Fatal(err)
	}
	obj["temporalScore"] = 9.8
	obj["attackVector"] = "LOCAL"
	rep, err := Validate(cvss3JSONDoc(t, obj), PresetMandatory)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range rep.Findings {
		seen[f.Test] = true
	}
	if !seen["6.1.9"] || !seen["6.1.10"] || rep.Valid {
		t.Errorf("tampered object: findings %+v", rep.Findings)
	}
}

func TestCVSS3JSONErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "not a CVSS v3 vector"},
		{"AV:N/AC:L/Au:N/C:C/I:C/A:C", "not a CVSS v3 vector"},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", "base metric A missing"},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/A:L", "metric A given twice"},
		{"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:Q", `invalid value "Q" of metric E`},
	} {
		_, err := CVSS3JSON(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.in, err, c.want)
		}
	}
}
