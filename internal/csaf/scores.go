package csaf

import (
	"fmt"
	"strings"
)

// Helpers for the advisory editor: the score of any CVSS vector, and the
// FIRST cvss-v3.x JSON object of a v3 vector as CSAF 2.0 scores[].cvss_v3
// holds it.

// Score is a computed CVSS score.
type Score struct {
	Version  string  // "2.0", "3.0", "3.1", "4.0"
	Vector   string  // normalised vector string
	Base     float64 // base score (v4: the CVSS-B / CVSS-BT / CVSS-BE / CVSS-BTE score of the metrics given)
	Severity string  // "NONE","LOW","MEDIUM","HIGH","CRITICAL" (v2: LOW/MEDIUM/HIGH)
}

// ScoreVector parses any CVSS vector string (CVSS:4.0/..., CVSS:3.1/...,
// CVSS:3.0/..., or a v2 vector like AV:N/AC:L/Au:N/C:P/I:P/A:P) and computes
// its score; a clear error names what is wrong (unknown metric, missing
// mandatory metric, duplicate metric, bad value).
//
// The metrics may be given in any order; the normalised vector lists them
// in the order of the specification, with the version prefix ("CVSS:4.0/",
// "CVSS:3.1/", "CVSS:3.0/"; none for v2).
func ScoreVector(vector string) (Score, error) {
	s := strings.TrimSpace(vector)
	if strings.HasPrefix(s, "CVSS:4.0/") || s == "CVSS:4.0" {
		v, err := cvss4Parse(s)
		if err != nil {
			return Score{}, fmt.Errorf("csaf: CVSS vector %q: %w", vector, err)
		}
		base := v.score()
		return Score{Version: "4.0", Vector: v.String(), Base: base, Severity: cvssSeverity(base)}, nil
	}
	v, err := cvssParse(s)
	if err != nil {
		return Score{}, fmt.Errorf("csaf: CVSS vector %q: %w", vector, err)
	}
	base := v.scores().Base
	sev := cvssSeverity(base)
	if v.version == "2.0" {
		sev = cvssSeverityV2(base)
	}
	return Score{Version: v.version, Vector: v.String(), Base: base, Severity: sev}, nil
}

// cvssSeverityV2 is the v2 rating (NVD): LOW below 4, MEDIUM below 7, HIGH.
func cvssSeverityV2(score float64) string {
	switch {
	case score < 4:
		return "LOW"
	case score < 7:
		return "MEDIUM"
	}
	return "HIGH"
}

// String returns the vector with its metrics in the order of the
// specification: "CVSS:3.x/" and the v3 metrics, or the bare v2 metrics.
func (v *cvssVector) String() string {
	metrics, _ := cvssMetricsOf(v.version)
	parts := make([]string, 0, len(v.metrics)+1)
	if v.version != "2.0" {
		parts = append(parts, "CVSS:"+v.version)
	}
	for _, m := range metrics {
		if val, ok := v.metrics[m.key]; ok {
			parts = append(parts, m.key+":"+val)
		}
	}
	return strings.Join(parts, "/")
}

// cvssV3Temporal and cvssV3Environmental are the v3 metrics whose presence
// in a vector adds the temporal, or environmental, score to its JSON.
var (
	cvssV3Temporal      = []string{"E", "RL", "RC"}
	cvssV3Environmental = []string{"CR", "IR", "AR", "MAV", "MAC", "MPR", "MUI", "MS", "MC", "MI", "MA"}
)

// CVSS3JSON returns the FIRST cvss-v3.x JSON object for a v3 vector
// (version, vectorString, baseScore, baseSeverity, plus every base metric
// property by its JSON name such as attackVector:"NETWORK", and
// temporal/environmental metrics and scores when present in the vector),
// exactly as CSAF 2.0 `scores[].cvss_v3` expects, so that the validator's
// tests 6.1.8-6.1.10 pass on it.
//
// Only the metrics given in the vector appear as properties (an explicit
// "X" as "NOT_DEFINED"); temporalScore and temporalSeverity appear when
// the vector gives a temporal metric, environmentalScore and
// environmentalSeverity when it gives an environmental one.
func CVSS3JSON(vector string) (map[string]any, error) {
	s := strings.TrimSpace(vector)
	if !strings.HasPrefix(s, "CVSS:3.0/") && !strings.HasPrefix(s, "CVSS:3.1/") {
		return nil, fmt.Errorf("csaf: CVSS vector %q: not a CVSS v3 vector (want the prefix CVSS:3.0/ or CVSS:3.1/)", vector)
	}
	v, err := cvssParse(s)
	if err != nil {
		return nil, fmt.Errorf("csaf: CVSS vector %q: %w", vector, err)
	}
	sc := v.scores()
	out := map[string]any{
		"version":      v.version,
		"vectorString": v.String(),
		"baseScore":    sc.Base,
		"baseSeverity": cvssSeverity(sc.Base),
	}
	for _, m := range cvssV3Metrics {
		if val, ok := v.metrics[m.key]; ok {
			out[m.prop] = m.values[val]
		}
	}
	has := func(keys []string) bool {
		for _, k := range keys {
			if _, ok := v.metrics[k]; ok {
				return true
			}
		}
		return false
	}
	if has(cvssV3Temporal) {
		out["temporalScore"] = sc.Temporal
		out["temporalSeverity"] = cvssSeverity(sc.Temporal)
	}
	if has(cvssV3Environmental) {
		out["environmentalScore"] = sc.Environmental
		out["environmentalSeverity"] = cvssSeverity(sc.Environmental)
	}
	return out, nil
}
