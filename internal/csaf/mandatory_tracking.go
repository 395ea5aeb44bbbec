package csaf

import (
	"cmp"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Mandatory tests on /document/tracking: the version and the revision
// history, 6.1.14 and 6.1.16 to 6.1.22, and 6.1.30 (mixed versioning).

func init() {
	register("6.1.14", Mandatory, checkSortedRevisionHistory)
	register("6.1.16", Mandatory, checkLatestVersion)
	register("6.1.17", Mandatory, checkDraftStatus)
	register("6.1.18", Mandatory, checkReleasedRevisionHistory)
	register("6.1.19", Mandatory, checkPreReleaseRevisions)
	register("6.1.20", Mandatory, checkNonDraftVersion)
	register("6.1.21", Mandatory, checkMissingRevision)
	register("6.1.22", Mandatory, checkDuplicateRevision)
	register("6.1.30", Mandatory, checkMixedVersioning)
}

// manVersion is a parsed version_t: an integer ("3") or a semantic version
// ("1.2.0-rc.1+build").
type manVersion struct {
	raw     string
	integer bool
	// major is the integer, or the semver major part; minor and patch
	// are 0 for an integer.
	major, minor, patch *big.Int
	pre                 []string // pre-release identifiers
	build               string
}

var (
	manIntVersion    = regexp.MustCompile(`^(0|[1-9][0-9]*)$`)
	manSemverVersion = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)` +
		`(?:-((?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*))*))?` +
		`(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$`)
)

func manBig(s string) *big.Int {
	n, _ := new(big.Int).SetString(s, 10)
	return n
}

// manParseVersion reads a version_t; ok is false for anything else.
func manParseVersion(s string) (manVersion, bool) {
	if manIntVersion.MatchString(s) {
		return manVersion{raw: s, integer: true, major: manBig(s), minor: new(big.Int), patch: new(big.Int)}, true
	}
	m := manSemverVersion.FindStringSubmatch(s)
	if m == nil {
		return manVersion{}, false
	}
	v := manVersion{raw: s, major: manBig(m[1]), minor: manBig(m[2]), patch: manBig(m[3]), build: m[5]}
	if m[4] != "" {
		v.pre = strings.Split(m[4], ".")
	}
	return v, true
}

// zeroMajor reports a version 0 or 0.y.z.
func (v manVersion) zeroMajor() bool { return v.major.Sign() == 0 }

// compare orders versions by semver precedence (build metadata ignored);
// an integer compares as its number.
func (v manVersion) compare(w manVersion) int {
	if c := v.major.Cmp(w.major); c != 0 {
		return c
	}
	if c := v.minor.Cmp(w.minor); c != 0 {
		return c
	}
	if c := v.patch.Cmp(w.patch); c != 0 {
		return c
	}
	switch {
	case len(v.pre) == 0 && len(w.pre) == 0:
		return 0
	case len(v.pre) == 0:
		return 1
	case len(w.pre) == 0:
		return -1
	}
	for i := 0; i < len(v.pre) && i < len(w.pre); i++ {
		a, b := v.pre[i], w.pre[i]
		an, bn := manIntVersion.MatchString(a), manIntVersion.MatchString(b)
		switch {
		case an && bn:
			if c := manBig(a).Cmp(manBig(b)); c != 0 {
				return c
			}
		case an:
			return -1
		case bn:
			return 1
		default:
			if c := strings.Compare(a, b); c != 0 {
				return c
			}
		}
	}
	return cmp.Compare(len(v.pre), len(w.pre))
}

// manTime parses an RFC 3339 date-time, a leap second included.
func manTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err == nil {
		return t, true
	}
	// A leap second (hh:mm:60) is read as the next second.
	if i := strings.Index(s, ":60"); i == 16 {
		if t, err := time.Parse(time.RFC3339Nano, s[:i]+":59"+s[i+3:]); err == nil {
			return t.Add(time.Second), true
		}
	}
	return time.Time{}, false
}

// manRevision is an item of the revision history.
type manRevision struct {
	path    string // of the item
	date    time.Time
	dateOK  bool
	number  manVersion
	numOK   bool
	numText string
}

// manTracking is /document/tracking.
func manTracking(d *Doc) any { return jpGet(d.Root, "document", "tracking") }

// manRevisions lists the revision history in document order.
func manRevisions(d *Doc) []manRevision {
	var out []manRevision
	for _, n := range jpItems(manTracking(d), "/document/tracking", "revision_history") {
		r := manRevision{path: n.Path}
		if s, ok := jpStr(jpGet(n.Value, "date")); ok {
			r.date, r.dateOK = manTime(s)
		}
		if s, ok := jpStr(jpGet(n.Value, "number")); ok {
			r.numText = s
			r.number, r.numOK = manParseVersion(s)
		}
		out = append(out, r)
	}
	return out
}

// manSortedRevisions is the revision history sorted by date, then by number;
// items without a valid date or number are left out.
func manSortedRevisions(d *Doc) []manRevision {
	var rs []manRevision
	for _, r := range manRevisions(d) {
		if r.dateOK && r.numOK {
			rs = append(rs, r)
		}
	}
	slices.SortStableFunc(rs, func(a, b manRevision) int {
		if c := a.date.Compare(b.date); c != 0 {
			return c
		}
		return a.number.compare(b.number)
	})
	return rs
}

// checkSortedRevisionHistory (6.1.14): sorted by date, the revision
// numbers ascend.
func checkSortedRevisionHistory(d *Doc) []Finding {
	rs := manSortedRevisions(d)
	var out []Finding
	for i := 1; i < len(rs); i++ {
		if rs[i].number.compare(rs[i-1].number) <= 0 {
			out = append(out, Finding{
				Path:    jpPtr(rs[i].path, "number"),
				Message: fmt.Sprintf("revision %q is dated after revision %q but its number is not greater", rs[i].numText, rs[i-1].numText),
			})
		}
	}
	return out
}

// manDocVersion is /document/tracking/version, parsed.
func manDocVersion(d *Doc) (manVersion, bool) {
	s, ok := jpStr(jpGet(manTracking(d), "version"))
	if !ok {
		return manVersion{}, false
	}
	return manParseVersion(s)
}

func manStatus(d *Doc) string { return jpGetStr(manTracking(d), "status") }

// checkLatestVersion (6.1.16): the document version is the number of the
// latest revision (build metadata ignored, and the pre-release part too
// for a draft).
func checkLatestVersion(d *Doc) []Finding {
	v, ok := manDocVersion(d)
	rs := manSortedRevisions(d)
	if !ok || len(rs) == 0 {
		return nil
	}
	last := rs[len(rs)-1].number
	a, b := v, last
	if manStatus(d) == "draft" {
		a.pre, b.pre = nil, nil
	}
	if a.integer == b.integer && a.compare(b) == 0 && slices.Equal(a.pre, b.pre) {
		return nil
	}
	return []Finding{{
		Path:    "/document/tracking/version",
		Message: fmt.Sprintf("the document version %q differs from the number %q of the latest revision", v.raw, last.raw),
	}}
}

// checkDraftStatus (6.1.17): a version 0, 0.y.z or with a pre-release
// part requires the status draft.
func checkDraftStatus(d *Doc) []Finding {
	v, ok := manDocVersion(d)
	st := manStatus(d)
	if !ok || st == "draft" || st == "" {
		return nil
	}
	if v.zeroMajor() || len(v.pre) > 0 {
		return []Finding{{Path: "/document/tracking/status", Message: fmt.Sprintf("the document version %q requires the status draft, not %q", v.raw, st)}}
	}
	return nil
}

// checkReleasedRevisionHistory (6.1.18): a final or interim document has
// no revision numbered 0 or 0.y.z.
func checkReleasedRevisionHistory(d *Doc) []Finding {
	if st := manStatus(d); st != "final" && st != "interim" {
		return nil
	}
	var out []Finding
	for _, r := range manRevisions(d) {
		if r.numOK && r.number.zeroMajor() {
			out = append(out, Finding{Path: jpPtr(r.path, "number"), Message: fmt.Sprintf("revision %q is a draft version, not allowed in a %s document", r.numText, manStatus(d))})
		}
	}
	return out
}

// checkPreReleaseRevisions (6.1.19): no revision number has a
// pre-release part.
func checkPreReleaseRevisions(d *Doc) []Finding {
	var out []Finding
	for _, r := range manRevisions(d) {
		if r.numOK && len(r.number.pre) > 0 {
			out = append(out, Finding{Path: jpPtr(r.path, "number"), Message: fmt.Sprintf("revision %q has a pre-release part", r.numText)})
		}
	}
	return out
}

// checkNonDraftVersion (6.1.20): a final or interim document version has
// no pre-release part.
func checkNonDraftVersion(d *Doc) []Finding {
	st := manStatus(d)
	if st != "final" && st != "interim" {
		return nil
	}
	if v, ok := manDocVersion(d); ok && len(v.pre) > 0 {
		return []Finding{{Path: "/document/tracking/version", Message: fmt.Sprintf("the version %q of a %s document has a pre-release part", v.raw, st)}}
	}
	return nil
}

// checkMissingRevision (6.1.21): the revision numbers (the major parts
// for semantic versioning) start at 0 or 1 and have no gap.
func checkMissingRevision(d *Doc) []Finding {
	rs := manRevisions(d)
	type item struct {
		n    *big.Int
		path string
		text string
	}
	var items []item
	for _, r := range rs {
		if r.numOK {
			items = append(items, item{r.number.major, jpPtr(r.path, "number"), r.numText})
		}
	}
	if len(items) == 0 {
		return nil
	}
	slices.SortStableFunc(items, func(a, b item) int { return a.n.Cmp(b.n) })
	var out []Finding
	if items[0].n.Cmp(big.NewInt(1)) > 0 {
		out = append(out, Finding{Path: items[0].path, Message: fmt.Sprintf("the first revision %q is neither 0 nor 1: earlier revisions are missing", items[0].text)})
	}
	one := big.NewInt(1)
	for i := 1; i < len(items); i++ {
		next := new(big.Int).Add(items[i-1].n, one)
		if items[i].n.Cmp(next) > 0 {
			out = append(out, Finding{Path: items[i].path, Message: fmt.Sprintf("revision %q follows %q: the revision %s is missing", items[i].text, items[i-1].text, next)})
		}
	}
	return out
}

// checkDuplicateRevision (6.1.22): no two revisions have the same number.
func checkDuplicateRevision(d *Doc) []Finding {
	seen := map[string]bool{}
	var out []Finding
	for _, r := range manRevisions(d) {
		if r.numText == "" {
			continue
		}
		if seen[r.numText] {
			out = append(out, Finding{Path: jpPtr(r.path, "number"), Message: fmt.Sprintf("revision number %q is used more than once", r.numText)})
		}
		seen[r.numText] = true
	}
	return out
}

// checkMixedVersioning (6.1.30): the document version and the revision
// numbers all use integer versioning, or all semantic versioning.
func checkMixedVersioning(d *Doc) []Finding {
	v, ok := manDocVersion(d)
	if !ok {
		return nil
	}
	scheme := map[bool]string{true: "integer", false: "semantic"}
	var out []Finding
	for _, r := range manRevisions(d) {
		if r.numOK && r.number.integer != v.integer {
			out = append(out, Finding{
				Path:    jpPtr(r.path, "number"),
				Message: fmt.Sprintf("revision %q uses %s versioning but the document version %q uses %s versioning", r.numText, scheme[r.number.integer], v.raw, scheme[v.integer]),
			})
		}
	}
	return out
}
