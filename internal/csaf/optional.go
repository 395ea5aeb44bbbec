package csaf

// The optional tests 6.2.x of CSAF 2.0 (warnings). 6.2.3, 6.2.19 and
// 6.2.20 live with the CVSS and schema tests.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
)

func init() {
	register("6.2.1", Optional, optUnusedProductID)
	register("6.2.2", Optional, optMissingRemediation)
	register("6.2.4", Optional, optBuildMetadataInRevisions)
	register("6.2.5", Optional, optOlderInitialReleaseDate)
	register("6.2.6", Optional, optOlderCurrentReleaseDate)
	register("6.2.7", Optional, optMissingInvolvementDate)
	register("6.2.8", Optional, func(d *Doc) []Finding { return optOnlyHash(d, "md5", "MD5") })
	register("6.2.9", Optional, func(d *Doc) []Finding { return optOnlyHash(d, "sha1", "SHA-1") })
	register("6.2.10", Optional, optMissingTLPLabel)
	register("6.2.11", Optional, optMissingCanonicalURL)
	register("6.2.12", Optional, optMissingLanguage)
	register("6.2.13", Optional, optSorting)
	register("6.2.14", Optional, optPrivateLanguage)
	register("6.2.15", Optional, optDefaultLanguage)
	register("6.2.16", Optional, optMissingIdentificationHelper)
	register("6.2.17", Optional, optCVEInIDs)
	register("6.2.18", Optional, optVersRange)
}

// optUnusedProductID (6.2.1): every defined product id is referenced
// somewhere. Skipped for informational advisories, which have no
// vulnerabilities to refer to their products.
func optUnusedProductID(d *Doc) []Finding {
	if cat, _ := jpStr(jpGet(d.Root, "document", "category")); cat == "csaf_informational_advisory" {
		return nil
	}
	ref := optReferencedProducts(d)
	var out []Finding
	for _, p := range optFullProductNames(d) {
		id, ok := jpStr(p.obj["product_id"])
		if ok && !ref[id] {
			out = append(out, Finding{Path: jpPtr(p.path, "product_id"),
				Message: fmt.Sprintf("product ID %q is defined but never used", id)})
		}
	}
	return out
}

// optMissingRemediation (6.2.2): every product that is affected or under
// investigation has a remediation, directly or through a product group.
func optMissingRemediation(d *Doc) []Finding {
	groups := optGroups(d)
	var out []Finding
	for _, v := range optVulns(d) {
		covered := map[string]bool{}
		for _, r := range jpArr(v.obj["remediations"]) {
			for _, id := range optStrings(jpGet(r, "product_ids")) {
				covered[id] = true
			}
			for _, g := range optStrings(jpGet(r, "group_ids")) {
				for _, id := range groups[g] {
					covered[id] = true
				}
			}
		}
		for _, st := range []string{"first_affected", "known_affected", "last_affected", "under_investigation"} {
			for i, e := range jpArr(jpGet(v.obj, "product_status", st)) {
				id, ok := jpStr(e)
				if ok && !covered[id] {
					out = append(out, Finding{Path: jpPtr(v.path, "product_status", st, i),
						Message: fmt.Sprintf("product %q (%s) has no remediation", id, st)})
				}
			}
		}
	}
	return out
}

// optRevisions lists the revision history items with their pointers.
func optRevisions(d *Doc) []optFPN {
	var out []optFPN
	for i, r := range jpArr(jpGet(d.Root, "document", "tracking", "revision_history")) {
		if m := jpObj(r); m != nil {
			out = append(out, optFPN{jpPtr("", "document", "tracking", "revision_history", i), m})
		}
	}
	return out
}

// optBuildMetadataInRevisions (6.2.4): no revision number carries
// semantic-versioning build metadata (+...).
func optBuildMetadataInRevisions(d *Doc) []Finding {
	var out []Finding
	for _, r := range optRevisions(d) {
		if n, ok := jpStr(r.obj["number"]); ok && strings.Contains(n, "+") {
			out = append(out, Finding{Path: jpPtr(r.path, "number"),
				Message: fmt.Sprintf("revision number %q contains build metadata", n)})
		}
	}
	return out
}

// optRevisionDates returns the oldest and newest revision dates; ok is
// false when no revision date parses.
func optRevisionDates(d *Doc) (oldest, newest string, ok bool) {
	var lo, hi string
	for _, r := range optRevisions(d) {
		s, _ := jpStr(r.obj["date"])
		t, good := optTime(s)
		if !good {
			continue
		}
		if lt, _ := optTime(lo); lo == "" || t.Before(lt) {
			lo = s
		}
		if ht, _ := optTime(hi); hi == "" || t.After(ht) {
			hi = s
		}
	}
	return lo, hi, lo != ""
}

// optOlderInitialReleaseDate (6.2.5): the initial release date is not
// older than the oldest revision.
func optOlderInitialReleaseDate(d *Doc) []Finding {
	oldest, _, ok := optRevisionDates(d)
	s, _ := jpStr(jpGet(d.Root, "document", "tracking", "initial_release_date"))
	t, good := optTime(s)
	if !ok || !good {
		return nil
	}
	if ot, _ := optTime(oldest); t.Before(ot) {
		return []Finding{{Path: "/document/tracking/initial_release_date",
			Message: fmt.Sprintf("initial release date %s is older than the oldest revision (%s)", s, oldest)}}
	}
	return nil
}

// optOlderCurrentReleaseDate (6.2.6): the current release date is not
// older than the newest revision.
func optOlderCurrentReleaseDate(d *Doc) []Finding {
	_, newest, ok := optRevisionDates(d)
	s, _ := jpStr(jpGet(d.Root, "document", "tracking", "current_release_date"))
	t, good := optTime(s)
	if !ok || !good {
		return nil
	}
	if nt, _ := optTime(newest); t.Before(nt) {
		return []Finding{{Path: "/document/tracking/current_release_date",
			Message: fmt.Sprintf("current release date %s is older than the newest revision (%s)", s, newest)}}
	}
	return nil
}

// optMissingInvolvementDate (6.2.7): every involvement has a date.
func optMissingInvolvementDate(d *Doc) []Finding {
	var out []Finding
	for _, v := range optVulns(d) {
		for i, e := range jpArr(v.obj["involvements"]) {
			if m := jpObj(e); m != nil {
				if _, ok := m["date"]; !ok {
					out = append(out, Finding{Path: jpPtr(v.path, "involvements", i),
						Message: "involvement has no date"})
				}
			}
		}
	}
	return out
}

// optFileHashes calls fn for each file_hashes list of the product tree.
func optFileHashes(d *Doc, fn func(path string, hashes []any)) {
	for _, p := range optFullProductNames(d) {
		base := jpPtr(p.path, "product_identification_helper", "hashes")
		for i, h := range jpArr(jpGet(p.obj, "product_identification_helper", "hashes")) {
			fn(jpPtr(base, i, "file_hashes"), jpArr(jpGet(h, "file_hashes")))
		}
	}
}

// optOnlyHash (6.2.8 with md5, 6.2.9 with sha1): a hashes item does not
// use the weak algorithm as its only one.
func optOnlyHash(d *Doc, algo, name string) []Finding {
	var out []Finding
	optFileHashes(d, func(path string, hashes []any) {
		if len(hashes) == 0 {
			return
		}
		for _, h := range hashes {
			a, _ := jpStr(jpGet(h, "algorithm"))
			if !strings.EqualFold(a, algo) {
				return
			}
		}
		out = append(out, Finding{Path: path,
			Message: fmt.Sprintf("%s is the only hash algorithm of this file", name)})
	})
	return out
}

// optMissingTLPLabel (6.2.10): /document/distribution/tlp/label exists.
func optMissingTLPLabel(d *Doc) []Finding {
	if _, ok := jpStr(jpGet(d.Root, "document", "distribution", "tlp", "label")); ok {
		return nil
	}
	return []Finding{{Path: "/document/distribution/tlp/label", Message: "the document has no TLP label"}}
}

// FileName is the file name of a CSAF document (CSAF 2.0 section 5.1):
// the tracking id in lower case, each run of characters other than
// a-z, 0-9, + and - replaced by one underscore, and ".json" appended.
func FileName(trackingID string) string {
	var b strings.Builder
	inRun := false
	for _, r := range strings.ToLower(trackingID) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '+' || r == '-' {
			b.WriteRune(r)
			inRun = false
			continue
		}
		if !inRun {
			b.WriteByte('_')
			inRun = true
		}
	}
	return b.String() + ".json"
}

// optMissingCanonicalURL (6.2.11): a self reference gives the canonical
// URL: https, ending in the file name of section 5.1.
func optMissingCanonicalURL(d *Doc) []Finding {
	id, _ := jpStr(jpGet(d.Root, "document", "tracking", "id"))
	want := "/" + FileName(id)
	for _, r := range jpArr(jpGet(d.Root, "document", "references")) {
		cat, _ := jpStr(jpGet(r, "category"))
		u, _ := jpStr(jpGet(r, "url"))
		if cat == "self" && strings.HasPrefix(u, "https://") && strings.HasSuffix(u, want) {
			return nil
		}
	}
	return []Finding{{Path: "/document/references",
		Message: fmt.Sprintf("no self reference gives the canonical URL (https://…%s)", want)}}
}

// optMissingLanguage (6.2.12): /document/lang exists.
func optMissingLanguage(d *Doc) []Finding {
	if _, ok := jpStr(jpGet(d.Root, "document", "lang")); ok {
		return nil
	}
	return []Finding{{Path: "/document/lang", Message: "the document has no language (document.lang)"}}
}

// optSorting (6.2.13): the keys of every object are sorted. A map loses
// the order, so the raw bytes are read token by token.
func optSorting(d *Doc) []Finding {
	dec := json.NewDecoder(bytes.NewReader(d.Raw()))
	dec.UseNumber()
	var out []Finding
	optSortValue(dec, "", &out)
	return out
}

// optSortValue reads one value from dec (its pointer is path) and reports
// each object whose keys are out of order. It returns false on a read
// error.
func optSortValue(dec *json.Decoder, path string, out *[]Finding) bool {
	tok, err := dec.Token()
	if err != nil {
		return false
	}
	switch tok {
	case json.Delim('{'):
		prev, reported := "", false
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return false
			}
			k, _ := kt.(string)
			if !reported && prev != "" && k < prev {
				*out = append(*out, Finding{Path: jpPtr(path, k),
					Message: fmt.Sprintf("key %q is not sorted: it comes after %q", k, prev)})
				reported = true
			}
			prev = k
			if !optSortValue(dec, jpPtr(path, k), out) {
				return false
			}
		}
		_, err := dec.Token()
		return err == nil || err == io.EOF
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if !optSortValue(dec, jpPtr(path, i), out) {
				return false
			}
		}
		_, err := dec.Token()
		return err == nil || err == io.EOF
	}
	return true
}

// optLangs lists the document's language fields that are set.
func optLangs(d *Doc) [][2]string {
	var out [][2]string
	for _, k := range []string{"lang", "source_lang"} {
		if s, ok := jpStr(jpGet(d.Root, "document", k)); ok {
			out = append(out, [2]string{"/document/" + k, s})
		}
	}
	return out
}

// optPrivateSubtag reports the first subtag of a BCP 47 tag reserved for
// private use: a private-use section (x-…), a language qaa–qtz, a script
// Qaaa–Qabx, or a region AA, QM–QZ, XA–XZ or ZZ.
func optPrivateSubtag(tag string) (string, bool) {
	parts := strings.Split(strings.ToLower(tag), "-")
	if parts[0] == "x" {
		return tag, true
	}
	if len(parts[0]) == 3 && parts[0] >= "qaa" && parts[0] <= "qtz" {
		return parts[0], true
	}
	for i, p := range parts[1:] {
		switch {
		case p == "x":
			return strings.Join(parts[i+1:], "-"), true
		case len(p) == 1:
			// an extension: its subtags are not scripts or regions
			return "", false
		case len(p) == 4 && p >= "qaaa" && p <= "qabx":
			return p, true
		case len(p) == 2 && (p == "aa" || p == "zz" || p >= "qm" && p <= "qz" || p >= "xa" && p <= "xz"):
			return p, true
		}
	}
	return "", false
}

// optPrivateLanguage (6.2.14): no language tag uses private-use subtags.
func optPrivateLanguage(d *Doc) []Finding {
	var out []Finding
	for _, l := range optLangs(d) {
		if sub, ok := optPrivateSubtag(l[1]); ok {
			out = append(out, Finding{Path: l[0],
				Message: fmt.Sprintf("language tag %q uses the private-use subtag %q", l[1], sub)})
		}
	}
	return out
}

// optDefaultLanguage (6.2.15): no language tag is i-default.
func optDefaultLanguage(d *Doc) []Finding {
	var out []Finding
	for _, l := range optLangs(d) {
		if strings.EqualFold(l[1], "i-default") {
			out = append(out, Finding{Path: l[0],
				Message: fmt.Sprintf("language tag %q is the default language i-default", l[1])})
		}
	}
	return out
}

// optMissingIdentificationHelper (6.2.16): every full product name has a
// product identification helper.
func optMissingIdentificationHelper(d *Doc) []Finding {
	var out []Finding
	for _, p := range optFullProductNames(d) {
		if _, ok := p.obj["product_identification_helper"]; !ok {
			id, _ := jpStr(p.obj["product_id"])
			out = append(out, Finding{Path: p.path,
				Message: fmt.Sprintf("product %q has no product identification helper", id)})
		}
	}
	return out
}

var optCVEPattern = regexp.MustCompile(`^CVE-[0-9]{4}-[0-9]{4,}$`)

// optCVEInIDs (6.2.17): a CVE id belongs in cve, not in ids.
func optCVEInIDs(d *Doc) []Finding {
	var out []Finding
	for _, v := range optVulns(d) {
		for i, e := range jpArr(v.obj["ids"]) {
			if t, ok := jpStr(jpGet(e, "text")); ok && optCVEPattern.MatchString(t) {
				out = append(out, Finding{Path: jpPtr(v.path, "ids", i, "text"),
					Message: fmt.Sprintf("the CVE id %q is given in ids instead of cve", t)})
			}
		}
	}
	return out
}

var optVersScheme = regexp.MustCompile(`^[a-z.+-][a-z0-9.+-]*$`)

// optVersError checks a version range in the vers syntax
// (vers:<scheme>/<constraints>, constraints separated by |, each an
// optional comparator and a version, or * alone) and says what is wrong.
func optVersError(s string) string {
	rest, ok := strings.CutPrefix(s, "vers:")
	if !ok {
		return "does not start with vers:"
	}
	scheme, cons, ok := strings.Cut(rest, "/")
	if !ok {
		return "has no / after the versioning scheme"
	}
	if !optVersScheme.MatchString(scheme) {
		return fmt.Sprintf("has an invalid versioning scheme %q", scheme)
	}
	cons = strings.TrimSpace(cons)
	if cons == "" {
		return "has no version constraints"
	}
	if cons == "*" {
		return ""
	}
	for _, c := range strings.Split(cons, "|") {
		c = strings.TrimSpace(c)
		for _, op := range []string{">=", "<=", "!=", "<", ">", "="} {
			if v, ok := strings.CutPrefix(c, op); ok {
				c = v
				break
			}
		}
		c = strings.TrimSpace(c)
		if c == "" || c == "*" || strings.ContainsAny(c, "<>=!|") {
			return "has an invalid constraint"
		}
	}
	return ""
}

// optVersRange (6.2.18): product_version_range branch names use vers.
func optVersRange(d *Doc) []Finding {
	var out []Finding
	for _, b := range optBranches(d) {
		if b.categories[len(b.categories)-1] != "product_version_range" {
			continue
		}
		name, ok := jpStr(b.obj["name"])
		if !ok {
			continue
		}
		if e := optVersError(name); e != "" {
			out = append(out, Finding{Path: jpPtr(b.path, "name"),
				Message: fmt.Sprintf("version range %q is not in the vers syntax: it %s", name, e)})
		}
	}
	return out
}
