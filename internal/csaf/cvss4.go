package csaf

import (
	"fmt"
	"strings"
)

// CVSS v4.0 (FIRST, "Common Vulnerability Scoring System Version 4.0:
// Specification Document", section 8 "CVSS v4.0 Scoring"): the vector is
// sorted into a MacroVector by the equivalence classes EQ1–EQ6, the
// MacroVector's score is looked up in the table of the specification, and
// the vector's score is interpolated below it from its severity distance to
// the highest-severity vectors of its MacroVector. The data (MacroVector
// scores, highest-severity vectors, MacroVector depths) is the normative data
// published with the specification (FIRST's cvss-v4-calculator).

// cvss4Metric is one v4.0 metric: its abbreviation and its values, in the
// order of the specification (section 7, "Vector String").
type cvss4Metric struct {
	key    string
	values []string
}

// cvss4Metrics are all the v4.0 metrics in the order of the vector string:
// base, threat, environmental (security requirements, then modified base
// metrics), supplemental.
var cvss4Metrics = []cvss4Metric{
	// Base.
	{"AV", []string{"N", "A", "L", "P"}},
	{"AC", []string{"L", "H"}},
	{"AT", []string{"N", "P"}},
	{"PR", []string{"N", "L", "H"}},
	{"UI", []string{"N", "P", "A"}},
	{"VC", []string{"H", "L", "N"}},
	{"VI", []string{"H", "L", "N"}},
	{"VA", []string{"H", "L", "N"}},
	{"SC", []string{"H", "L", "N"}},
	{"SI", []string{"H", "L", "N"}},
	{"SA", []string{"H", "L", "N"}},
	// Threat.
	{"E", []string{"X", "A", "P", "U"}},
	// Environmental.
	{"CR", []string{"X", "H", "M", "L"}},
	{"IR", []string{"X", "H", "M", "L"}},
	{"AR", []string{"X", "H", "M", "L"}},
	{"MAV", []string{"X", "N", "A", "L", "P"}},
	{"MAC", []string{"X", "L", "H"}},
	{"MAT", []string{"X", "N", "P"}},
	{"MPR", []string{"X", "N", "L", "H"}},
	{"MUI", []string{"X", "N", "P", "A"}},
	{"MVC", []string{"X", "H", "L", "N"}},
	{"MVI", []string{"X", "H", "L", "N"}},
	{"MVA", []string{"X", "H", "L", "N"}},
	{"MSC", []string{"X", "H", "L", "N"}},
	{"MSI", []string{"X", "S", "H", "L", "N"}},
	{"MSA", []string{"X", "S", "H", "L", "N"}},
	// Supplemental (no effect on the score).
	{"S", []string{"X", "N", "P"}},
	{"AU", []string{"X", "N", "Y"}},
	{"R", []string{"X", "A", "U", "I"}},
	{"V", []string{"X", "D", "C"}},
	{"RE", []string{"X", "L", "M", "H"}},
	{"U", []string{"X", "Clear", "Green", "Amber", "Red"}},
}

// cvss4Mandatory is the number of leading entries of cvss4Metrics that a
// vector must give (the base metrics).
const cvss4Mandatory = 11

// cvss4Threat and cvss4Environmental are the metrics that make a score a
// CVSS-BT, CVSS-BE or CVSS-BTE one when given with a value other than X.
var (
	cvss4Threat        = []string{"E"}
	cvss4Environmental = []string{"CR", "IR", "AR", "MAV", "MAC", "MAT", "MPR", "MUI", "MVC", "MVI", "MVA", "MSC", "MSI", "MSA"}
)

// cvss4Vector is a parsed v4.0 vector: metric abbreviation → value.
type cvss4Vector map[string]string

const cvss4Prefix = "CVSS:4.0/"

// cvss4Parse reads a "CVSS:4.0/…" vector. The metrics may come in any
// order; each may be given once, and the eleven base metrics must be given.
func cvss4Parse(s string) (cvss4Vector, error) {
	rest, ok := strings.CutPrefix(s, cvss4Prefix)
	if !ok {
		return nil, fmt.Errorf("a CVSS v4.0 vector starts with %q", cvss4Prefix)
	}
	v := cvss4Vector{}
	for part := range strings.SplitSeq(rest, "/") {
		if part == "" {
			return nil, fmt.Errorf("empty metric (a stray \"/\")")
		}
		k, val, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("malformed metric %q (want METRIC:VALUE)", part)
		}
		m := cvss4Lookup(k)
		if m == nil {
			return nil, fmt.Errorf("unknown metric %q", k)
		}
		if !cvss4Allowed(m, val) {
			return nil, fmt.Errorf("invalid value %q of metric %s (want one of %s)", val, k, strings.Join(m.values, ", "))
		}
		if _, dup := v[k]; dup {
			return nil, fmt.Errorf("metric %s given twice", k)
		}
		v[k] = val
	}
	var missing []string
	for _, m := range cvss4Metrics[:cvss4Mandatory] {
		if _, ok := v[m.key]; !ok {
			missing = append(missing, m.key)
		}
	}
	switch len(missing) {
	case 0:
	case 1:
		return nil, fmt.Errorf("base metric %s missing", missing[0])
	default:
		return nil, fmt.Errorf("base metrics %s missing", strings.Join(missing, ", "))
	}
	return v, nil
}

func cvss4Lookup(key string) *cvss4Metric {
	for i := range cvss4Metrics {
		if cvss4Metrics[i].key == key {
			return &cvss4Metrics[i]
		}
	}
	return nil
}

func cvss4Allowed(m *cvss4Metric, val string) bool {
	for _, a := range m.values {
		if a == val {
			return true
		}
	}
	return false
}

// String returns the vector with its metrics in the order of the
// specification.
func (v cvss4Vector) String() string {
	var b strings.Builder
	b.WriteString("CVSS:4.0")
	for _, m := range cvss4Metrics {
		if val, ok := v[m.key]; ok {
			b.WriteString("/" + m.key + ":" + val)
		}
	}
	return b.String()
}

// nomenclature is "CVSS-B", "CVSS-BT", "CVSS-BE" or "CVSS-BTE" (section
// 1.3): which metric groups the score takes into account.
func (v cvss4Vector) nomenclature() string {
	given := func(keys []string) bool {
		for _, k := range keys {
			if val, ok := v[k]; ok && val != "X" {
				return true
			}
		}
		return false
	}
	n := "CVSS-B"
	if given(cvss4Threat) {
		n += "T"
	}
	if given(cvss4Environmental) {
		n += "E"
	}
	return n
}

// eff returns the value a metric takes in the score: E not defined is
// treated as Attacked (A), a security requirement not defined as High, and
// a modified base metric, when defined, replaces the base metric.
func (v cvss4Vector) eff(k string) string {
	val, ok := v[k]
	switch k {
	case "E":
		if !ok || val == "X" {
			return "A"
		}
		return val
	case "CR", "IR", "AR":
		if !ok || val == "X" {
			return "H"
		}
		return val
	}
	if mod, ok := v["M"+k]; ok && mod != "X" {
		return mod
	}
	return val
}

// macroVector returns the equivalence classes EQ1–EQ6 of the vector
// (section 8.2, table 24).
func (v cvss4Vector) macroVector() [6]int {
	var eq [6]int
	av, pr, ui := v.eff("AV"), v.eff("PR"), v.eff("UI")
	switch {
	case av == "N" && pr == "N" && ui == "N":
		eq[0] = 0
	case (av == "N" || pr == "N" || ui == "N") && av != "P":
		eq[0] = 1
	default:
		eq[0] = 2
	}
	if v.eff("AC") != "L" || v.eff("AT") != "N" {
		eq[1] = 1
	}
	vc, vi, va := v.eff("VC"), v.eff("VI"), v.eff("VA")
	switch {
	case vc == "H" && vi == "H":
		eq[2] = 0
	case vc == "H" || vi == "H" || va == "H":
		eq[2] = 1
	default:
		eq[2] = 2
	}
	sc, si, sa := v.eff("SC"), v.eff("SI"), v.eff("SA")
	switch {
	case si == "S" || sa == "S":
		eq[3] = 0
	case sc == "H" || si == "H" || sa == "H":
		eq[3] = 1
	default:
		eq[3] = 2
	}
	switch v.eff("E") {
	case "A":
		eq[4] = 0
	case "P":
		eq[4] = 1
	default:
		eq[4] = 2
	}
	if !(v.eff("CR") == "H" && vc == "H" || v.eff("IR") == "H" && vi == "H" || v.eff("AR") == "H" && va == "H") {
		eq[5] = 1
	}
	return eq
}

// cvss4Key is the MacroVector's key in cvss4MacroScores ("001100").
func cvss4Key(eq [6]int) string {
	var b [6]byte
	for i, e := range eq {
		b[i] = byte('0' + e)
	}
	return string(b[:])
}

// cvss4Levels are the severity levels of the metric values used for the
// severity distances, in steps of 0.1 (the specification's levels ×10);
// lower is more severe.
var cvss4Levels = map[string]map[string]int{
	"AV": {"N": 0, "A": 1, "L": 2, "P": 3},
	"PR": {"N": 0, "L": 1, "H": 2},
	"UI": {"N": 0, "P": 1, "A": 2},
	"AC": {"L": 0, "H": 1},
	"AT": {"N": 0, "P": 1},
	"VC": {"H": 0, "L": 1, "N": 2},
	"VI": {"H": 0, "L": 1, "N": 2},
	"VA": {"H": 0, "L": 1, "N": 2},
	"SC": {"H": 1, "L": 2, "N": 3},
	"SI": {"S": 0, "H": 1, "L": 2, "N": 3},
	"SA": {"S": 0, "H": 1, "L": 2, "N": 3},
	"CR": {"H": 0, "M": 1, "L": 2},
	"IR": {"H": 0, "M": 1, "L": 2},
	"AR": {"H": 0, "M": 1, "L": 2},
}

// cvss4DistanceMetrics are the metrics whose severity distances are summed
// per EQ (EQ3 and EQ6 together; EQ5 has no distance).
var cvss4DistanceMetrics = [4][]string{
	{"AV", "PR", "UI"},
	{"AC", "AT"},
	{"VC", "VI", "VA", "CR", "IR", "AR"},
	{"SC", "SI", "SA"},
}

// The highest-severity vectors of each EQ level (for EQ3 per EQ6 level).
var (
	cvss4MaxEQ1 = [3][]string{
		{"AV:N/PR:N/UI:N"},
		{"AV:A/PR:N/UI:N", "AV:N/PR:L/UI:N", "AV:N/PR:N/UI:P"},
		{"AV:P/PR:N/UI:N", "AV:A/PR:L/UI:P"},
	}
	cvss4MaxEQ2 = [2][]string{
		{"AC:L/AT:N"},
		{"AC:H/AT:N", "AC:L/AT:P"},
	}
	cvss4MaxEQ3EQ6 = [3][2][]string{
		{
			{"VC:H/VI:H/VA:H/CR:H/IR:H/AR:H"},
			{"VC:H/VI:H/VA:L/CR:M/IR:M/AR:H", "VC:H/VI:H/VA:H/CR:M/IR:M/AR:M"},
		},
		{
			{"VC:L/VI:H/VA:H/CR:H/IR:H/AR:H", "VC:H/VI:L/VA:H/CR:H/IR:H/AR:H"},
			{"VC:L/VI:H/VA:L/CR:H/IR:M/AR:H", "VC:L/VI:H/VA:H/CR:H/IR:M/AR:M", "VC:H/VI:L/VA:H/CR:M/IR:H/AR:M", "VC:H/VI:L/VA:L/CR:M/IR:H/AR:H", "VC:L/VI:L/VA:H/CR:H/IR:H/AR:M"},
		},
		{
			nil, // EQ3 2 implies EQ6 1
			{"VC:L/VI:L/VA:L/CR:H/IR:H/AR:H"},
		},
	}
	cvss4MaxEQ4 = [3][]string{
		{"SC:H/SI:S/SA:S"},
		{"SC:H/SI:H/SA:H"},
		{"SC:L/SI:L/SA:L"},
	}
)

// The depths of the MacroVectors: the largest severity distance within an
// EQ level, plus one, in steps of 0.1.
var (
	cvss4DepthEQ1    = [3]int{1, 4, 5}
	cvss4DepthEQ2    = [2]int{1, 2}
	cvss4DepthEQ3EQ6 = [3][2]int{{7, 6}, {8, 8}, {0, 10}}
	cvss4DepthEQ4    = [3]int{6, 5, 4}
)

// cvss4Part parses "AV:N/PR:N/UI:N" into a map.
func cvss4Part(s string) map[string]string {
	out := map[string]string{}
	for part := range strings.SplitSeq(s, "/") {
		k, v, _ := strings.Cut(part, ":")
		out[k] = v
	}
	return out
}

// maxVectors lists the highest-severity vectors of the MacroVector, the
// combinations of the highest-severity vectors of its EQ levels, in the
// order of the reference implementation.
func cvss4MaxVectors(eq [6]int) []map[string]string {
	var out []map[string]string
	for _, a := range cvss4MaxEQ1[eq[0]] {
		for _, b := range cvss4MaxEQ2[eq[1]] {
			for _, c := range cvss4MaxEQ3EQ6[eq[2]][eq[5]] {
				for _, d := range cvss4MaxEQ4[eq[3]] {
					out = append(out, cvss4Part(a+"/"+b+"/"+c+"/"+d))
				}
			}
		}
	}
	return out
}

// score10 returns the vector's score ×10 (0 to 100), computed exactly:
// the MacroVector's score minus the mean of the proportional distances,
// rounded half up to one decimal.
func (v cvss4Vector) score10() int {
	// No impact on either system: 0.
	none := true
	for _, k := range []string{"VC", "VI", "VA", "SC", "SI", "SA"} {
		if v.eff(k) != "N" {
			none = false
		}
	}
	if none {
		return 0
	}
	eq := v.macroVector()
	value, ok := cvss4MacroScores[cvss4Key(eq)]
	if !ok { // cannot happen: every reachable MacroVector is in the table
		panic("csaf: CVSS v4.0 MacroVector " + cvss4Key(eq) + " not in the table")
	}

	// The score of the next lower MacroVector of each EQ (EQ3 and EQ6
	// together), if there is one.
	lower := func(i, j int) (int, bool) {
		n := eq
		n[i]++
		if j >= 0 {
			n[j]++
		}
		s, ok := cvss4MacroScores[cvss4Key(n)]
		return s, ok
	}
	type next struct {
		score int
		ok    bool
	}
	var nexts [5]next
	for k, i := range [...]int{0, 1} {
		nexts[k].score, nexts[k].ok = lower(i, -1)
	}
	switch {
	case eq[2] == 0 && eq[5] == 0:
		// Two ways down (EQ6 or EQ3): the higher-scoring one.
		l, lok := lower(5, -1)
		r, rok := lower(2, -1)
		switch {
		case lok && rok:
			nexts[2] = next{max(l, r), true}
		case lok:
			nexts[2] = next{l, true}
		case rok:
			nexts[2] = next{r, true}
		}
	case eq[2] == 1 && eq[5] == 0:
		nexts[2].score, nexts[2].ok = lower(5, -1)
	case eq[2] == 2 && eq[5] == 1:
		nexts[2].score, nexts[2].ok = lower(2, 5) // does not exist
	default: // 0 1, 1 1
		nexts[2].score, nexts[2].ok = lower(2, -1)
	}
	nexts[3].score, nexts[3].ok = lower(3, -1)
	nexts[4].score, nexts[4].ok = lower(4, -1)

	// The severity distance from the first highest-severity vector that is
	// at least as severe as the vector in every metric.
	var dist map[string]int
	for _, mv := range cvss4MaxVectors(eq) {
		dist = map[string]int{}
		fits := true
		for k, levels := range cvss4Levels {
			d := levels[v.eff(k)] - levels[mv[k]]
			dist[k] = d
			if d < 0 {
				fits = false
			}
		}
		if fits {
			break
		}
	}
	depths := [4]int{cvss4DepthEQ1[eq[0]], cvss4DepthEQ2[eq[1]], cvss4DepthEQ3EQ6[eq[2]][eq[5]], cvss4DepthEQ4[eq[3]]}

	// Mean of the proportional distances, as a fraction num/den of a
	// tenth: each EQ with a lower MacroVector contributes
	// (value - lower) × distance / depth; EQ5 contributes 0 but counts.
	const lcm = 840 // a multiple of every depth
	num, n := 0, 0
	for i := range 4 {
		if !nexts[i].ok {
			continue
		}
		n++
		d := 0
		for _, k := range cvss4DistanceMetrics[i] {
			d += dist[k]
		}
		num += (value - nexts[i].score) * d * (lcm / depths[i])
	}
	if nexts[4].ok {
		n++
	}
	if n == 0 {
		return value
	}
	// score×10 = value - num/(lcm·n), rounded half up.
	den := lcm * n
	exact := value*den - num
	if exact <= 0 {
		return 0
	}
	s := (2*exact + den) / (2 * den)
	return min(s, 100)
}

// score returns the vector's CVSS v4.0 score.
func (v cvss4Vector) score() float64 {
	return float64(v.score10()) / 10
}

// cvss4MacroScores is the score ×10 of each MacroVector (EQ1…EQ6), the
// lookup table of the specification (section 8.2; cvss_lookup.js of
// FIRST's reference calculator), all 270 entries.
var cvss4MacroScores = map[string]int{
	"000000": 100, "000001": 99, "000010": 98, "000011": 95, "000020": 95, "000021": 92,
	"000100": 100, "000101": 96, "000110": 93, "000111": 87, "000120": 91, "000121": 81,
	"000200": 93, "000201": 90, "000210": 89, "000211": 80, "000220": 81, "000221": 68,
	"001000": 98, "001001": 95, "001010": 95, "001011": 92, "001020": 90, "001021": 84,
	"001100": 93, "001101": 92, "001110": 89, "001111": 81, "001120": 81, "001121": 65,
	"001200": 88, "001201": 80, "001210": 78, "001211": 70, "001220": 69, "001221": 48,
	"002001": 92, "002011": 82, "002021": 72,
	"002101": 79, "002111": 69, "002121": 50,
	"002201": 69, "002211": 55, "002221": 27,
	"010000": 99, "010001": 97, "010010": 95, "010011": 92, "010020": 92, "010021": 85,
	"010100": 95, "010101": 91, "010110": 90, "010111": 83, "010120": 84, "010121": 71,
	"010200": 92, "010201": 81, "010210": 82, "010211": 71, "010220": 72, "010221": 53,
	"011000": 95, "011001": 93, "011010": 92, "011011": 85, "011020": 85, "011021": 73,
	"011100": 92, "011101": 82, "011110": 80, "011111": 72, "011120": 70, "011121": 59,
	"011200": 84, "011201": 70, "011210": 71, "011211": 52, "011220": 50, "011221": 30,
	"012001": 86, "012011": 75, "012021": 52,
	"012101": 71, "012111": 52, "012121": 29,
	"012201": 63, "012211": 29, "012221": 17,
	"100000": 98, "100001": 95, "100010": 94, "100011": 87, "100020": 91, "100021": 81,
	"100100": 94, "100101": 89, "100110": 86, "100111": 74, "100120": 77, "100121": 64,
	"100200": 87, "100201": 75, "100210": 74, "100211": 63, "100220": 63, "100221": 49,
	"101000": 94, "101001": 89, "101010": 88, "101011": 77, "101020": 76, "101021": 67,
	"101100": 86, "101101": 76, "101110": 74, "101111": 58, "101120": 59, "101121": 50,
	"101200": 72, "101201": 57, "101210": 57, "101211": 52, "101220": 52, "101221": 25,
	"102001": 83, "102011": 70, "102021": 54,
	"102101": 65, "102111": 58, "102121": 26,
	"102201": 53, "102211": 21, "102221": 13,
	"110000": 95, "110001": 90, "110010": 88, "110011": 76, "110020": 76, "110021": 70,
	"110100": 90, "110101": 77, "110110": 75, "110111": 62, "110120": 61, "110121": 53,
	"110200": 77, "110201": 66, "110210": 68, "110211": 59, "110220": 52, "110221": 30,
	"111000": 89, "111001": 78, "111010": 76, "111011": 67, "111020": 62, "111021": 58,
	"111100": 74, "111101": 59, "111110": 57, "111111": 57, "111120": 47, "111121": 23,
	"111200": 61, "111201": 52, "111210": 57, "111211": 29, "111220": 24, "111221": 16,
	"112001": 71, "112011": 59, "112021": 30,
	"112101": 58, "112111": 26, "112121": 15,
	"112201": 23, "112211": 13, "112221": 6,
	"200000": 93, "200001": 87, "200010": 86, "200011": 72, "200020": 75, "200021": 58,
	"200100": 86, "200101": 74, "200110": 74, "200111": 61, "200120": 56, "200121": 34,
	"200200": 70, "200201": 54, "200210": 52, "200211": 40, "200220": 40, "200221": 22,
	"201000": 85, "201001": 75, "201010": 74, "201011": 55, "201020": 62, "201021": 51,
	"201100": 72, "201101": 57, "201110": 55, "201111": 41, "201120": 46, "201121": 19,
	"201200": 53, "201201": 36, "201210": 34, "201211": 19, "201220": 19, "201221": 8,
	"202001": 64, "202011": 51, "202021": 20,
	"202101": 47, "202111": 21, "202121": 11,
	"202201": 24, "202211": 9, "202221": 4,
	"210000": 88, "210001": 75, "210010": 73, "210011": 53, "210020": 60, "210021": 50,
	"210100": 73, "210101": 55, "210110": 59, "210111": 40, "210120": 41, "210121": 20,
	"210200": 54, "210201": 43, "210210": 45, "210211": 22, "210220": 20, "210221": 11,
	"211000": 75, "211001": 55, "211010": 58, "211011": 45, "211020": 40, "211021": 21,
	"211100": 61, "211101": 51, "211110": 48, "211111": 18, "211120": 20, "211121": 9,
	"211200": 46, "211201": 18, "211210": 17, "211211": 7, "211220": 8, "211221": 2,
	"212001": 53, "212011": 24, "212021": 14,
	"212101": 24, "212111": 12, "212121": 5,
	"212201": 10, "212211": 3, "212221": 1,
}
