package csaf

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// CVSS v2 (FIRST, "A Complete Guide to the Common Vulnerability Scoring
// System Version 2.0", section 3.2) and v3.0 / v3.1 (FIRST CVSS v3.0 and
// v3.1 specification documents, section 7 / 8) scores, and the CSAF tests
// on scores: 6.1.7–6.1.10, 6.2.3, 6.2.19, 6.3.1, 6.3.2.

// cvssMetric is one metric: its abbreviation in the vector, its property
// in the FIRST JSON schema, and its values (abbreviation → property value).
type cvssMetric struct {
	key, prop string
	values    map[string]string
}

var (
	cvssV3Impact   = map[string]string{"N": "NONE", "L": "LOW", "H": "HIGH"}
	cvssV3ImpactX  = map[string]string{"X": "NOT_DEFINED", "N": "NONE", "L": "LOW", "H": "HIGH"}
	cvssV3Require  = map[string]string{"X": "NOT_DEFINED", "L": "LOW", "M": "MEDIUM", "H": "HIGH"}
	cvssV2Impact   = map[string]string{"N": "NONE", "P": "PARTIAL", "C": "COMPLETE"}
	cvssV2Require  = map[string]string{"L": "LOW", "M": "MEDIUM", "H": "HIGH", "ND": "NOT_DEFINED"}
	cvssV3AV       = map[string]string{"N": "NETWORK", "A": "ADJACENT_NETWORK", "L": "LOCAL", "P": "PHYSICAL"}
	cvssV3Metrics  []cvssMetric
	cvssV2Metrics  []cvssMetric
	cvssV3Required = []string{"AV", "AC", "PR", "UI", "S", "C", "I", "A"}
	cvssV2Required = []string{"AV", "AC", "Au", "C", "I", "A"}
)

func init() {
	withX := func(m map[string]string) map[string]string {
		out := map[string]string{"X": "NOT_DEFINED"}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	ac := map[string]string{"L": "LOW", "H": "HIGH"}
	pr := map[string]string{"N": "NONE", "L": "LOW", "H": "HIGH"}
	ui := map[string]string{"N": "NONE", "R": "REQUIRED"}
	s := map[string]string{"U": "UNCHANGED", "C": "CHANGED"}
	cvssV3Metrics = []cvssMetric{
		{"AV", "attackVector", cvssV3AV},
		{"AC", "attackComplexity", ac},
		{"PR", "privilegesRequired", pr},
		{"UI", "userInteraction", ui},
		{"S", "scope", s},
		{"C", "confidentialityImpact", cvssV3Impact},
		{"I", "integrityImpact", cvssV3Impact},
		{"A", "availabilityImpact", cvssV3Impact},
		{"E", "exploitCodeMaturity", map[string]string{"X": "NOT_DEFINED", "U": "UNPROVEN", "P": "PROOF_OF_CONCEPT", "F": "FUNCTIONAL", "H": "HIGH"}},
		{"RL", "remediationLevel", map[string]string{"X": "NOT_DEFINED", "O": "OFFICIAL_FIX", "T": "TEMPORARY_FIX", "W": "WORKAROUND", "U": "UNAVAILABLE"}},
		{"RC", "reportConfidence", map[string]string{"X": "NOT_DEFINED", "U": "UNKNOWN", "R": "REASONABLE", "C": "CONFIRMED"}},
		{"CR", "confidentialityRequirement", cvssV3Require},
		{"IR", "integrityRequirement", cvssV3Require},
		{"AR", "availabilityRequirement", cvssV3Require},
		{"MAV", "modifiedAttackVector", withX(cvssV3AV)},
		{"MAC", "modifiedAttackComplexity", withX(ac)},
		{"MPR", "modifiedPrivilegesRequired", withX(pr)},
		{"MUI", "modifiedUserInteraction", withX(ui)},
		{"MS", "modifiedScope", withX(s)},
		{"MC", "modifiedConfidentialityImpact", cvssV3ImpactX},
		{"MI", "modifiedIntegrityImpact", cvssV3ImpactX},
		{"MA", "modifiedAvailabilityImpact", cvssV3ImpactX},
	}
	cvssV2Metrics = []cvssMetric{
		{"AV", "accessVector", map[string]string{"L": "LOCAL", "A": "ADJACENT_NETWORK", "N": "NETWORK"}},
		{"AC", "accessComplexity", map[string]string{"H": "HIGH", "M": "MEDIUM", "L": "LOW"}},
		{"Au", "authentication", map[string]string{"M": "MULTIPLE", "S": "SINGLE", "N": "NONE"}},
		{"C", "confidentialityImpact", cvssV2Impact},
		{"I", "integrityImpact", cvssV2Impact},
		{"A", "availabilityImpact", cvssV2Impact},
		{"E", "exploitability", map[string]string{"U": "UNPROVEN", "POC": "PROOF_OF_CONCEPT", "F": "FUNCTIONAL", "H": "HIGH", "ND": "NOT_DEFINED"}},
		{"RL", "remediationLevel", map[string]string{"OF": "OFFICIAL_FIX", "TF": "TEMPORARY_FIX", "W": "WORKAROUND", "U": "UNAVAILABLE", "ND": "NOT_DEFINED"}},
		{"RC", "reportConfidence", map[string]string{"UC": "UNCONFIRMED", "UR": "UNCORROBORATED", "C": "CONFIRMED", "ND": "NOT_DEFINED"}},
		{"CDP", "collateralDamagePotential", map[string]string{"N": "NONE", "L": "LOW", "LM": "LOW_MEDIUM", "MH": "MEDIUM_HIGH", "H": "HIGH", "ND": "NOT_DEFINED"}},
		{"TD", "targetDistribution", map[string]string{"N": "NONE", "L": "LOW", "M": "MEDIUM", "H": "HIGH", "ND": "NOT_DEFINED"}},
		{"CR", "confidentialityRequirement", cvssV2Require},
		{"IR", "integrityRequirement", cvssV2Require},
		{"AR", "availabilityRequirement", cvssV2Require},
	}
}

// cvssVector is a parsed vector: its CVSS version ("2.0", "3.0", "3.1")
// and its metrics (abbreviation → value abbreviation).
type cvssVector struct {
	version string
	metrics map[string]string
}

func cvssMetricsOf(version string) ([]cvssMetric, []string) {
	if version == "2.0" {
		return cvssV2Metrics, cvssV2Required
	}
	return cvssV3Metrics, cvssV3Required
}

// cvssParse reads a v2 vector ("AV:N/AC:L/…", optionally in parentheses
// or with a "CVSS:2.0/" prefix) or a v3 one ("CVSS:3.1/AV:N/…").
func cvssParse(s string) (*cvssVector, error) {
	v := &cvssVector{version: "2.0", metrics: map[string]string{}}
	switch {
	case strings.HasPrefix(s, "CVSS:3.0/"):
		v.version, s = "3.0", s[len("CVSS:3.0/"):]
	case strings.HasPrefix(s, "CVSS:3.1/"):
		v.version, s = "3.1", s[len("CVSS:3.1/"):]
	case strings.HasPrefix(s, "CVSS:"):
		return nil, fmt.Errorf("unsupported CVSS version in %q", s)
	default:
		s = strings.TrimPrefix(strings.TrimSuffix(strings.TrimPrefix(s, "("), ")"), "CVSS:2.0/")
	}
	metrics, required := cvssMetricsOf(v.version)
	for part := range strings.SplitSeq(s, "/") {
		k, val, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("malformed metric %q", part)
		}
		m := cvssLookup(metrics, k)
		if m == nil {
			return nil, fmt.Errorf("unknown metric %q", k)
		}
		if _, ok := m.values[val]; !ok {
			return nil, fmt.Errorf("invalid value %q of metric %s", val, k)
		}
		if _, dup := v.metrics[k]; dup {
			return nil, fmt.Errorf("metric %s given twice", k)
		}
		v.metrics[k] = val
	}
	for _, k := range required {
		if _, ok := v.metrics[k]; !ok {
			return nil, fmt.Errorf("base metric %s missing", k)
		}
	}
	return v, nil
}

func cvssLookup(metrics []cvssMetric, key string) *cvssMetric {
	for i := range metrics {
		if metrics[i].key == key {
			return &metrics[i]
		}
	}
	return nil
}

// get returns a metric's value, "X" (v3) or "ND" (v2) when not given.
func (v *cvssVector) get(k string) string {
	if val, ok := v.metrics[k]; ok {
		return val
	}
	if v.version == "2.0" {
		return "ND"
	}
	return "X"
}

// cvssScores are the three scores of a vector.
type cvssScores struct {
	Base, Temporal, Environmental float64
}

// Scores computes the base, temporal and environmental scores.
func (v *cvssVector) scores() cvssScores {
	if v.version == "2.0" {
		return v.scoresV2()
	}
	return v.scoresV3()
}

// cvssRound1 rounds to one decimal, halves up (CVSS v2 round_to_1_decimal).
func cvssRound1(x float64) float64 {
	return math.Floor(x*10+0.5+1e-9) / 10
}

func (v *cvssVector) scoresV2() cvssScores {
	w := func(k string, table map[string]float64) float64 { return table[v.get(k)] }
	av := w("AV", map[string]float64{"L": 0.395, "A": 0.646, "N": 1.0})
	ac := w("AC", map[string]float64{"H": 0.35, "M": 0.61, "L": 0.71})
	au := w("Au", map[string]float64{"M": 0.45, "S": 0.56, "N": 0.704})
	imp := map[string]float64{"N": 0, "P": 0.275, "C": 0.660}
	c, i, a := w("C", imp), w("I", imp), w("A", imp)
	req := map[string]float64{"L": 0.5, "M": 1.0, "H": 1.51, "ND": 1.0}
	cr, ir, ar := w("CR", req), w("IR", req), w("AR", req)
	e := w("E", map[string]float64{"U": 0.85, "POC": 0.9, "F": 0.95, "H": 1.0, "ND": 1.0})
	rl := w("RL", map[string]float64{"OF": 0.87, "TF": 0.90, "W": 0.95, "U": 1.0, "ND": 1.0})
	rc := w("RC", map[string]float64{"UC": 0.90, "UR": 0.95, "C": 1.0, "ND": 1.0})
	cdp := w("CDP", map[string]float64{"N": 0, "L": 0.1, "LM": 0.3, "MH": 0.4, "H": 0.5, "ND": 0})
	td := w("TD", map[string]float64{"N": 0, "L": 0.25, "M": 0.75, "H": 1.0, "ND": 1.0})

	expl := 20 * av * ac * au
	base := func(impact float64) float64 {
		f := 1.176
		if impact == 0 {
			f = 0
		}
		return cvssRound1((0.6*impact + 0.4*expl - 1.5) * f)
	}
	b := base(10.41 * (1 - (1-c)*(1-i)*(1-a)))
	t := cvssRound1(b * e * rl * rc)
	adjImpact := math.Min(10, 10.41*(1-(1-c*cr)*(1-i*ir)*(1-a*ar)))
	adjTemporal := cvssRound1(base(adjImpact) * e * rl * rc)
	env := cvssRound1((adjTemporal + (10-adjTemporal)*cdp) * td)
	return cvssScores{Base: b, Temporal: t, Environmental: env}
}

// cvssRoundup30 is CVSS v3.0's Roundup: the smallest number with one
// decimal not below x.
func cvssRoundup30(x float64) float64 {
	return math.Ceil(x*10-1e-9) / 10
}

// cvssRoundup31 is CVSS v3.1's Roundup (Appendix A), in integers to avoid
// floating-point artefacts.
func cvssRoundup31(x float64) float64 {
	n := int64(math.Round(x * 100000))
	if n%10000 == 0 {
		return float64(n) / 100000
	}
	return float64(n/10000+1) / 10
}

func (v *cvssVector) scoresV3() cvssScores {
	roundup := cvssRoundup31
	if v.version == "3.0" {
		roundup = cvssRoundup30
	}
	// mod returns the modified metric's value, or the base one when the
	// modified metric is not defined.
	mod := func(k string) string {
		if m := v.get("M" + k); m != "X" {
			return m
		}
		return v.get(k)
	}
	avW := map[string]float64{"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2}
	acW := map[string]float64{"L": 0.77, "H": 0.44}
	uiW := map[string]float64{"N": 0.85, "R": 0.62}
	ciaW := map[string]float64{"H": 0.56, "L": 0.22, "N": 0}
	prW := func(pr, scope string) float64 {
		switch pr {
		case "N":
			return 0.85
		case "L":
			if scope == "C" {
				return 0.68
			}
			return 0.62
		default:
			if scope == "C" {
				return 0.5
			}
			return 0.27
		}
	}
	e := map[string]float64{"X": 1, "H": 1, "F": 0.97, "P": 0.94, "U": 0.91}[v.get("E")]
	rl := map[string]float64{"X": 1, "U": 1, "W": 0.97, "T": 0.96, "O": 0.95}[v.get("RL")]
	rc := map[string]float64{"X": 1, "C": 1, "R": 0.96, "U": 0.92}[v.get("RC")]
	reqW := map[string]float64{"X": 1, "H": 1.5, "M": 1, "L": 0.5}

	// Base.
	scope := v.get("S")
	iss := 1 - (1-ciaW[v.get("C")])*(1-ciaW[v.get("I")])*(1-ciaW[v.get("A")])
	var impact float64
	if scope == "U" {
		impact = 6.42 * iss
	} else {
		impact = 7.52*(iss-0.029) - 3.25*math.Pow(iss-0.02, 15)
	}
	expl := 8.22 * avW[v.get("AV")] * acW[v.get("AC")] * prW(v.get("PR"), scope) * uiW[v.get("UI")]
	var base float64
	switch {
	case impact <= 0:
		base = 0
	case scope == "U":
		base = roundup(math.Min(impact+expl, 10))
	default:
		base = roundup(math.Min(1.08*(impact+expl), 10))
	}
	temporal := roundup(base * e * rl * rc)

	// Environmental.
	mscope := mod("S")
	miss := math.Min(1-(1-reqW[v.get("CR")]*ciaW[mod("C")])*(1-reqW[v.get("IR")]*ciaW[mod("I")])*(1-reqW[v.get("AR")]*ciaW[mod("A")]), 0.915)
	var mimpact float64
	switch {
	case mscope == "U":
		mimpact = 6.42 * miss
	case v.version == "3.0":
		mimpact = 7.52*(miss-0.029) - 3.25*math.Pow(miss-0.02, 15)
	default:
		mimpact = 7.52*(miss-0.029) - 3.25*math.Pow(miss*0.9731-0.02, 13)
	}
	mexpl := 8.22 * avW[mod("AV")] * acW[mod("AC")] * prW(mod("PR"), mscope) * uiW[mod("UI")]
	var env float64
	switch {
	case mimpact <= 0:
		env = 0
	case mscope == "U":
		env = roundup(roundup(math.Min(mimpact+mexpl, 10)) * e * rl * rc)
	default:
		env = roundup(roundup(math.Min(1.08*(mimpact+mexpl), 10)) * e * rl * rc)
	}
	return cvssScores{Base: base, Temporal: temporal, Environmental: env}
}

// cvssSeverity is the v3 qualitative rating of a score.
func cvssSeverity(score float64) string {
	switch {
	case score == 0:
		return "NONE"
	case score < 4:
		return "LOW"
	case score < 7:
		return "MEDIUM"
	case score < 9:
		return "HIGH"
	}
	return "CRITICAL"
}

// --- walking the document ---

func cvssObj(v any) map[string]any { m, _ := v.(map[string]any); return m }
func cvssArr(v any) []any          { a, _ := v.([]any); return a }
func cvssStr(v any) string         { s, _ := v.(string); return s }

func cvssNum(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	}
	return 0, false
}

// cvssItem is one CVSS object of a score, with its JSON pointer.
type cvssItem struct {
	vuln, score int
	key         string // "cvss_v2" or "cvss_v3"
	obj         map[string]any
	products    []string
	path        string
}

// version returns the item's CVSS version: its version property, else the
// one of its vector.
func (c cvssItem) version() string {
	if v := cvssStr(c.obj["version"]); v != "" {
		return v
	}
	if c.key == "cvss_v2" {
		return "2.0"
	}
	if s := cvssStr(c.obj["vectorString"]); strings.HasPrefix(s, "CVSS:3.0/") {
		return "3.0"
	} else if strings.HasPrefix(s, "CVSS:3.1/") {
		return "3.1"
	}
	return ""
}

// cvssItems lists the CVSS objects of the document's scores.
func cvssItems(d *Doc) []cvssItem {
	var out []cvssItem
	for i, vu := range cvssArr(d.Root["vulnerabilities"]) {
		for j, sc := range cvssArr(cvssObj(vu)["scores"]) {
			score := cvssObj(sc)
			var products []string
			for _, p := range cvssArr(score["products"]) {
				if s, ok := p.(string); ok {
					products = append(products, s)
				}
			}
			for _, key := range []string{"cvss_v2", "cvss_v3"} {
				if obj := cvssObj(score[key]); obj != nil {
					out = append(out, cvssItem{i, j, key, obj, products,
						fmt.Sprintf("/vulnerabilities/%d/scores/%d/%s", i, j, key)})
				}
			}
		}
	}
	return out
}

// cvssMerged parses the item's vector and fills in the metrics the vector
// leaves out from the object's properties.
func cvssMerged(c cvssItem) (*cvssVector, error) {
	v, err := cvssParse(cvssStr(c.obj["vectorString"]))
	if err != nil {
		return nil, err
	}
	metrics, _ := cvssMetricsOf(v.version)
	for _, m := range metrics {
		if _, ok := v.metrics[m.key]; ok {
			continue
		}
		word := cvssStr(c.obj[m.prop])
		for abbr, w := range m.values {
			if w == word {
				v.metrics[m.key] = abbr
			}
		}
	}
	return v, nil
}

// cvssSameVersion is test 6.1.7: one score per product and CVSS version
// within a vulnerability.
func cvssSameVersion(d *Doc) []Finding {
	var out []Finding
	seen := map[[3]string]bool{}
	for _, c := range cvssItems(d) {
		ver := c.version()
		for k, p := range c.products {
			key := [3]string{strconv.Itoa(c.vuln), ver, p}
			if seen[key] {
				out = append(out, Finding{
					Path:    fmt.Sprintf("/vulnerabilities/%d/scores/%d/products/%d", c.vuln, c.score, k),
					Message: fmt.Sprintf("product %s already has a CVSS v%s score in this vulnerability", p, ver),
				})
			}
			seen[key] = true
		}
	}
	return out
}

// cvssInvalid is test 6.1.8: each CVSS object against the FIRST schema of
// its version.
func cvssInvalid(d *Doc) []Finding {
	set, err := schemas()
	if err != nil {
		return nil // reported by the schema check
	}
	var out []Finding
	for _, c := range cvssItems(d) {
		ver := c.version()
		if c.key == "cvss_v2" {
			ver = "2.0"
		}
		sch := set.cvss[ver]
		if sch == nil {
			out = append(out, Finding{Path: c.path + "/version", Message: fmt.Sprintf("unknown CVSS v3 version %q", ver)})
			continue
		}
		if err := sch.Validate(c.obj); err != nil {
			out = append(out, schemaFindings(err, c.path, nil)...)
		}
	}
	return out
}

// cvssComputation is test 6.1.9: the scores and severities given are
// those computed from the vector.
func cvssComputation(d *Doc) []Finding {
	var out []Finding
	for _, c := range cvssItems(d) {
		v, err := cvssParse(cvssStr(c.obj["vectorString"]))
		if err != nil {
			continue // 6.1.8 and the schema report it
		}
		s := v.scores()
		for _, f := range []struct {
			score, severity string
			want            float64
		}{
			{"baseScore", "baseSeverity", s.Base},
			{"temporalScore", "temporalSeverity", s.Temporal},
			{"environmentalScore", "environmentalSeverity", s.Environmental},
		} {
			if got, ok := cvssNum(c.obj[f.score]); ok && math.Abs(got-f.want) > 1e-6 {
				out = append(out, Finding{Path: c.path + "/" + f.score,
					Message: fmt.Sprintf("%s is %v, the vector gives %.1f", f.score, got, f.want)})
			}
			if v.version == "2.0" {
				continue
			}
			if got, ok := c.obj[f.severity].(string); ok && got != cvssSeverity(f.want) {
				out = append(out, Finding{Path: c.path + "/" + f.severity,
					Message: fmt.Sprintf("%s is %s, the vector's %s %.1f gives %s", f.severity, got, f.score, f.want, cvssSeverity(f.want))})
			}
		}
	}
	return out
}

// cvssInconsistent is test 6.1.10: the properties agree with the vector
// (and the version with the vector's prefix).
func cvssInconsistent(d *Doc) []Finding {
	var out []Finding
	for _, c := range cvssItems(d) {
		v, err := cvssParse(cvssStr(c.obj["vectorString"]))
		if err != nil {
			continue
		}
		if c.key == "cvss_v3" && v.version == "2.0" {
			out = append(out, Finding{Path: c.path + "/vectorString", Message: "a CVSS v2 vector in cvss_v3"})
			continue
		}
		if c.key == "cvss_v2" && v.version != "2.0" {
			out = append(out, Finding{Path: c.path + "/vectorString", Message: "a CVSS v3 vector in cvss_v2"})
			continue
		}
		if ver, ok := c.obj["version"].(string); ok && ver != v.version {
			out = append(out, Finding{Path: c.path + "/version", Message: fmt.Sprintf("version %s, but the vector is CVSS %s", ver, v.version)})
		}
		metrics, _ := cvssMetricsOf(v.version)
		for _, m := range metrics {
			val, inVector := v.metrics[m.key]
			got, ok := c.obj[m.prop].(string)
			if !inVector || !ok {
				continue
			}
			if want := m.values[val]; got != want {
				out = append(out, Finding{Path: c.path + "/" + m.prop,
					Message: fmt.Sprintf("%s is %s, the vector has %s:%s (%s)", m.prop, got, m.key, val, want)})
			}
		}
	}
	return out
}

// cvssStatusProducts returns the product ids of the given product_status
// lists of a vulnerability, with their paths.
func cvssStatusProducts(vuln map[string]any, vi int, lists ...string) (ids, paths []string) {
	ps := cvssObj(vuln["product_status"])
	for _, l := range lists {
		for k, p := range cvssArr(ps[l]) {
			if s, ok := p.(string); ok {
				ids = append(ids, s)
				paths = append(paths, fmt.Sprintf("/vulnerabilities/%d/product_status/%s/%d", vi, l, k))
			}
		}
	}
	return ids, paths
}

// cvssMissingScore is test 6.2.3: every affected product has a score.
func cvssMissingScore(d *Doc) []Finding {
	var out []Finding
	for i, vu := range cvssArr(d.Root["vulnerabilities"]) {
		vuln := cvssObj(vu)
		scored := map[string]bool{}
		for _, sc := range cvssArr(vuln["scores"]) {
			for _, p := range cvssArr(cvssObj(sc)["products"]) {
				if s, ok := p.(string); ok {
					scored[s] = true
				}
			}
		}
		ids, paths := cvssStatusProducts(vuln, i, "first_affected", "known_affected", "last_affected")
		for k, id := range ids {
			if !scored[id] {
				out = append(out, Finding{Path: paths[k], Message: fmt.Sprintf("affected product %s has no score", id)})
			}
		}
	}
	return out
}

// cvssFixedEnvironmental is test 6.2.19: a CVSS applying to a fixed
// product (fixed, first_fixed) has an environmental score of 0 (taking
// the environmental metrics from the vector, else from the properties).
func cvssFixedEnvironmental(d *Doc) []Finding {
	var out []Finding
	vulns := cvssArr(d.Root["vulnerabilities"])
	for _, c := range cvssItems(d) {
		fixed, _ := cvssStatusProducts(cvssObj(vulns[c.vuln]), c.vuln, "first_fixed", "fixed")
		var hit []string
		for _, p := range c.products {
			for _, f := range fixed {
				if p == f {
					hit = append(hit, p)
				}
			}
		}
		if len(hit) == 0 {
			continue
		}
		v, err := cvssMerged(c)
		if err != nil {
			continue
		}
		if env := v.scores().Environmental; env != 0 {
			out = append(out, Finding{Path: c.path,
				Message: fmt.Sprintf("fixed product(s) %s: the environmental score is %.1f, not 0", strings.Join(hit, ", "), env)})
		}
	}
	return out
}

// cvssV2Only is test 6.3.1: a score with only a CVSS v2 object.
func cvssV2Only(d *Doc) []Finding {
	var out []Finding
	for i, vu := range cvssArr(d.Root["vulnerabilities"]) {
		for j, sc := range cvssArr(cvssObj(vu)["scores"]) {
			score := cvssObj(sc)
			if score["cvss_v2"] != nil && score["cvss_v3"] == nil {
				out = append(out, Finding{Path: fmt.Sprintf("/vulnerabilities/%d/scores/%d", i, j),
					Message: "the only score is CVSS v2"})
			}
		}
	}
	return out
}

// cvssV30Used is test 6.3.2: CVSS v3.0 rather than v3.1.
func cvssV30Used(d *Doc) []Finding {
	var out []Finding
	for _, c := range cvssItems(d) {
		if c.key != "cvss_v3" {
			continue
		}
		if c.version() == "3.0" || strings.HasPrefix(cvssStr(c.obj["vectorString"]), "CVSS:3.0/") {
			out = append(out, Finding{Path: c.path, Message: "CVSS v3.0 is used; prefer v3.1"})
		}
	}
	return out
}

func init() {
	register("6.1.7", Mandatory, cvssSameVersion)
	register("6.1.8", Mandatory, cvssInvalid)
	register("6.1.9", Mandatory, cvssComputation)
	register("6.1.10", Mandatory, cvssInconsistent)
	register("6.2.3", Optional, cvssMissingScore)
	register("6.2.19", Optional, cvssFixedEnvironmental)
	register("6.3.1", Informative, cvssV2Only)
	register("6.3.2", Informative, cvssV30Used)
}
