package csaf

import (
	"strings"
	"testing"
)

func TestCVSSScores(t *testing.T) {
	for _, c := range []struct {
		vector         string
		base, tmp, env float64
	}{
		// CVSS v3.1
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, 9.8, 9.8},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10, 10, 10},
		{"CVSS:3.1/AV:L/AC:L/PR:H/UI:R/S:U/C:H/I:H/A:H", 6.5, 6.5, 6.5},
		{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4, 6.4, 6.4},
		{"CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1, 3.1, 3.1},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, 6.1, 6.1},
		{"CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:H/A:H", 7.1, 7.1, 7.1},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0, 0, 0},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C", 9.8, 8.8, 8.8},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H/E:U/RL:O/RC:U", 10, 8.0, 8.0},
		{"CVSS:3.1/AV:L/AC:L/PR:H/UI:R/S:U/C:H/I:H/A:H/MC:N/MI:N/MA:N", 6.5, 6.5, 0},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N/CR:H/MAV:L/MS:C", 5.3, 5.3, 5.2},
		// CVSS v3.0
		{"CVSS:3.0/AV:L/AC:L/PR:H/UI:R/S:U/C:H/I:H/A:H", 6.5, 6.5, 6.5},
		{"CVSS:3.0/AV:P/AC:L/PR:H/UI:R/S:U/C:H/I:H/A:H", 6.1, 6.1, 6.1},
		{"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10, 10, 10},
		// CVSS v2 (the last three are the examples of the v2 guide, 3.3)
		{"AV:N/AC:L/Au:N/C:C/I:C/A:C", 10, 10, 10},
		{"AV:N/AC:L/Au:S/C:P/I:P/A:N", 5.5, 5.5, 5.5},
		{"AV:N/AC:M/Au:N/C:P/I:N/A:N", 4.3, 4.3, 4.3},
		{"AV:L/AC:L/Au:M/C:C/I:C/A:C", 6.5, 6.5, 6.5},
		{"AV:A/AC:L/Au:N/C:P/I:N/A:C/TD:N", 6.8, 6.8, 0},
		{"AV:N/AC:L/Au:N/C:N/I:N/A:C/E:F/RL:OF/RC:C/CDP:H/TD:H/CR:M/IR:M/AR:H", 7.8, 6.4, 9.2},
		{"AV:N/AC:L/Au:N/C:C/I:C/A:C/E:F/RL:OF/RC:C/CDP:H/TD:H/CR:M/IR:M/AR:L", 10, 8.3, 9.0},
		{"AV:L/AC:H/Au:N/C:C/I:C/A:C/E:POC/RL:OF/RC:C/CDP:H/TD:H/CR:M/IR:M/AR:M", 6.2, 4.9, 7.5},
	} {
		v, err := cvssParse(c.vector)
		if err != nil {
			t.Errorf("%s: %v", c.vector, err)
			continue
		}
		got := v.scores()
		if want := (cvssScores{c.base, c.tmp, c.env}); got != want {
			t.Errorf("%s: scores %+v, want %+v", c.vector, got, want)
		}
	}
}

func TestCVSSRoundup(t *testing.T) {
	for _, c := range []struct{ in, v30, v31 float64 }{
		{4.0, 4.0, 4.0}, {4.02, 4.1, 4.1}, {4.000000000000001, 4.0, 4.0}, {0, 0, 0}, {9.99, 10, 10},
	} {
		if got := cvssRoundup31(c.in); got != c.v31 {
			t.Errorf("Roundup 3.1 of %v = %v, want %v", c.in, got, c.v31)
		}
		if got := cvssRoundup30(c.in); got != c.v30 {
			t.Errorf("Roundup 3.0 of %v = %v, want %v", c.in, got, c.v30)
		}
	}
}

func TestCVSSParseErrors(t *testing.T) {
	for _, s := range []string{
		"", "CVSS:3.1/AV:N", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:Z",
		"CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:4.0/AV:N", "AV:N/AC:L/Au:N/C:C/I:C",
		"AV:N/AC:L/Au:N/C:C/I:C/A:C/MAV:N",
	} {
		if _, err := cvssParse(s); err == nil {
			t.Errorf("%q parsed", s)
		}
	}
}

func TestCVSSSeverity(t *testing.T) {
	for s, want := range map[float64]string{0: "NONE", 0.1: "LOW", 3.9: "LOW", 4: "MEDIUM", 6.9: "MEDIUM", 7: "HIGH", 8.9: "HIGH", 9: "CRITICAL", 10: "CRITICAL"} {
		if got := cvssSeverity(s); got != want {
			t.Errorf("severity of %v = %s, want %s", s, got, want)
		}
	}
}

// cvssDoc is a document whose only vulnerability has the given JSON.
func cvssDoc(t *testing.T, vuln string) *Doc {
	t.Helper()
	d, err := Parse([]byte(`{"document":{},"vulnerabilities":[` + vuln + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestCVSSChecks(t *testing.T) {
	schemaNeedDir(t)
	for _, c := range []struct {
		name  string
		check check
		vuln  string
		paths []string
	}{
		{"6.1.7 same version", cvssSameVersion, `{"scores":[
			{"products":["A","B"],"cvss_v3":{"version":"3.1","vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}},
			{"products":["B"],"cvss_v3":{"version":"3.0","vectorString":"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}},
			{"products":["C","A"],"cvss_v3":{"version":"3.1","vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}]}`,
			[]string{"/vulnerabilities/0/scores/2/products/1"}},
		{"6.1.8 invalid", cvssInvalid, `{"scores":[{"products":["A"],"cvss_v3":{"version":"3.1","vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H","baseScore":9.8,"baseSeverity":"SEVERE"}}]}`,
			[]string{"/vulnerabilities/0/scores/0/cvss_v3/baseSeverity"}},
		{"6.1.9 computation", cvssComputation, `{"scores":[{"products":["A"],"cvss_v3":{"version":"3.1","vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O","baseScore":9.8,"baseSeverity":"CRITICAL","temporalScore":9.8,"temporalSeverity":"CRITICAL"}}]}`,
			[]string{"/vulnerabilities/0/scores/0/cvss_v3/temporalScore", "/vulnerabilities/0/scores/0/cvss_v3/temporalSeverity"}},
		{"6.1.9 v2", cvssComputation, `{"scores":[{"products":["A"],"cvss_v2":{"version":"2.0","vectorString":"AV:N/AC:L/Au:N/C:C/I:C/A:C","baseScore":10.0,"environmentalScore":9}}]}`,
			[]string{"/vulnerabilities/0/scores/0/cvss_v2/environmentalScore"}},
		{"6.1.10 inconsistent", cvssInconsistent, `{"scores":[{"products":["A"],"cvss_v3":{"version":"3.0","vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H","attackVector":"LOCAL","scope":"UNCHANGED","modifiedScope":"CHANGED"}}]}`,
			[]string{"/vulnerabilities/0/scores/0/cvss_v3/version", "/vulnerabilities/0/scores/0/cvss_v3/attackVector"}},
		{"6.2.3 missing score", cvssMissingScore, `{"product_status":{"known_affected":["A","B"],"fixed":["C"]},"scores":[{"products":["A"],"cvss_v2":{}}]}`,
			[]string{"/vulnerabilities/0/product_status/known_affected/1"}},
		{"6.2.19 fixed", cvssFixedEnvironmental, `{"product_status":{"fixed":["A"],"known_affected":["B"]},"scores":[
			{"products":["A"],"cvss_v3":{"vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/MC:N/MI:N","modifiedAvailabilityImpact":"NONE"}},
			{"products":["A"],"cvss_v2":{"vectorString":"AV:N/AC:L/Au:N/C:C/I:C/A:C"}},
			{"products":["B"],"cvss_v3":{"vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}]}`,
			[]string{"/vulnerabilities/0/scores/1/cvss_v2"}},
		{"6.3.1 v2 only", cvssV2Only, `{"scores":[{"products":["A"],"cvss_v2":{}},{"products":["A"],"cvss_v2":{},"cvss_v3":{}}]}`,
			[]string{"/vulnerabilities/0/scores/0"}},
		{"6.3.2 v3.0", cvssV30Used, `{"scores":[{"products":["A"],"cvss_v3":{"version":"3.0"}},{"products":["A"],"cvss_v3":{"version":"3.1"}}]}`,
			[]string{"/vulnerabilities/0/scores/0/cvss_v3"}},
	} {
		var paths []string
		for _, f := range c.check(cvssDoc(t, c.vuln)) {
			paths = append(paths, f.Path)
		}
		if strings.Join(paths, " ") != strings.Join(c.paths, " ") {
			t.Errorf("%s: paths %q, want %q", c.name, paths, c.paths)
		}
	}
}
