package csaf

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Mandatory tests on the product tree and the references to it: 6.1.1 to
// 6.1.6, 6.1.13 (PURL), 6.1.25 (hashes) and 6.1.31 (version ranges).

func init() {
	register("6.1.1", Mandatory, checkMissingProductID)
	register("6.1.2", Mandatory, checkMultipleProductID)
	register("6.1.3", Mandatory, checkCircularProductID)
	register("6.1.4", Mandatory, checkMissingGroupID)
	register("6.1.5", Mandatory, checkMultipleGroupID)
	register("6.1.6", Mandatory, checkContradictingStatus)
	register("6.1.13", Mandatory, checkPURL)
	register("6.1.25", Mandatory, checkHashAlgorithms)
	register("6.1.31", Mandatory, checkVersionRange)
}

// manMissing reports each reference whose id has no definition.
func manMissing(refs, defs []jpRef, what string) []Finding {
	defined := map[string]bool{}
	for _, r := range defs {
		defined[r.ID] = true
	}
	var out []Finding
	for _, r := range refs {
		if !defined[r.ID] {
			out = append(out, Finding{Path: r.Path, Message: fmt.Sprintf("%s %q is referenced but not defined", what, r.ID)})
		}
	}
	return out
}

// manMultiple reports each definition of an id after its first.
func manMultiple(defs []jpRef, what string) []Finding {
	first := map[string]string{}
	var out []Finding
	for _, r := range defs {
		if p, dup := first[r.ID]; dup {
			out = append(out, Finding{Path: r.Path, Message: fmt.Sprintf("%s %q is already defined at %s", what, r.ID, p)})
			continue
		}
		first[r.ID] = r.Path
	}
	return out
}

func checkMissingProductID(d *Doc) []Finding {
	return manMissing(jpProductRefs(d), jpProductDefs(d), "product ID")
}

func checkMultipleProductID(d *Doc) []Finding {
	return manMultiple(jpProductDefs(d), "product ID")
}

func checkMissingGroupID(d *Doc) []Finding {
	return manMissing(jpGroupRefs(d), jpGroupDefs(d), "product group ID")
}

func checkMultipleGroupID(d *Doc) []Finding {
	return manMultiple(jpGroupDefs(d), "product group ID")
}

// checkCircularProductID (6.1.3): the product a relationship defines must
// not be built, directly or through other relationships, from itself.
func checkCircularProductID(d *Doc) []Finding {
	type rel struct {
		path     string
		id       string
		from, to string
	}
	var rels []rel
	edges := map[string][]string{} // defined id -> the ids it is built from
	for _, r := range jpItems(d.Root, "", "product_tree", "relationships") {
		id, ok := jpStr(jpGet(r.Value, "full_product_name", "product_id"))
		if !ok {
			continue
		}
		from, to := jpGetStr(r.Value, "product_reference"), jpGetStr(r.Value, "relates_to_product_reference")
		rels = append(rels, rel{r.Path, id, from, to})
		edges[id] = append(edges[id], from, to)
	}
	// reaches reports whether target is reachable from start.
	reaches := func(start, target string) bool {
		seen := map[string]bool{}
		stack := []string{start}
		for len(stack) > 0 {
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if n == target {
				return true
			}
			if seen[n] {
				continue
			}
			seen[n] = true
			stack = append(stack, edges[n]...)
		}
		return false
	}
	var out []Finding
	for _, r := range rels {
		for _, k := range []struct{ key, ref string }{{"product_reference", r.from}, {"relates_to_product_reference", r.to}} {
			if k.ref != "" && reaches(k.ref, r.id) {
				out = append(out, Finding{
					Path:    jpPtr(r.path, k.key),
					Message: fmt.Sprintf("product ID %q is defined by a relationship that refers back to it through %q", r.id, k.ref),
				})
			}
		}
	}
	return out
}

// manStatusGroups sorts the product status lists into the groups that
// must be disjoint (6.1.6); recommended belongs to none.
var manStatusGroups = map[string]string{
	"first_affected":      "affected",
	"known_affected":      "affected",
	"last_affected":       "affected",
	"known_not_affected":  "not affected",
	"first_fixed":         "fixed",
	"fixed":               "fixed",
	"under_investigation": "under investigation",
}

// checkContradictingStatus (6.1.6): within a vulnerability, a product is
// in at most one of the groups affected, not affected, fixed and under
// investigation.
func checkContradictingStatus(d *Doc) []Finding {
	var out []Finding
	for _, v := range jpVulns(d) {
		seen := map[string]string{} // product -> its group
		for _, k := range jpStatusKeys {
			g, ok := manStatusGroups[k]
			if !ok {
				continue
			}
			for _, r := range jpStrings(v.Value, v.Path, "product_status", k) {
				prev, dup := seen[r.ID]
				if dup && prev != g {
					out = append(out, Finding{Path: r.Path, Message: fmt.Sprintf("product %q is listed as %s and as %s", r.ID, prev, g)})
					continue
				}
				seen[r.ID] = g
			}
		}
	}
	return out
}

// checkPURL (6.1.13): every purl is a valid package URL.
func checkPURL(d *Doc) []Finding {
	var out []Finding
	for _, n := range jpFullProductNames(d) {
		p := jpPtr(n.Path, "product_identification_helper", "purl")
		s, ok := jpStr(jpGet(n.Value, "product_identification_helper", "purl"))
		if !ok {
			continue
		}
		if err := manParsePURL(s); err != "" {
			out = append(out, Finding{Path: p, Message: fmt.Sprintf("purl %q is invalid: %s", s, err)})
		}
	}
	return out
}

var (
	manPURLType = regexp.MustCompile(`^[A-Za-z.+-][A-Za-z0-9.+-]*$`)
	manPURLKey  = regexp.MustCompile(`^[A-Za-z.\-_][A-Za-z0-9.\-_]*$`)
)

// manParsePURL checks the syntax of a package URL
// (pkg:type/namespace/name@version?qualifiers#subpath) and says what is
// wrong, "" when nothing.
func manParsePURL(s string) string {
	rest, ok := strings.CutPrefix(s, "pkg:")
	if !ok {
		if len(s) >= 4 && strings.EqualFold(s[:4], "pkg:") {
			rest = s[4:]
		} else {
			return `the scheme is not "pkg:"`
		}
	}
	if rest, sub, ok := strings.Cut(rest, "#"); ok {
		for _, seg := range strings.Split(strings.Trim(sub, "/"), "/") {
			if _, err := url.PathUnescape(seg); err != nil {
				return "the subpath is not well percent-encoded"
			}
		}
		s = rest
	} else {
		s = rest
	}
	if rest, q, ok := strings.Cut(s, "?"); ok {
		s = rest
		if q == "" {
			return "the qualifiers are empty"
		}
		seen := map[string]bool{}
		for _, kv := range strings.Split(q, "&") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || v == "" {
				return fmt.Sprintf("the qualifier %q has no value", kv)
			}
			if !manPURLKey.MatchString(k) {
				return fmt.Sprintf("the qualifier key %q is invalid", k)
			}
			k = strings.ToLower(k)
			if seen[k] {
				return fmt.Sprintf("the qualifier key %q is repeated", k)
			}
			seen[k] = true
			if _, err := url.PathUnescape(v); err != nil {
				return fmt.Sprintf("the qualifier %q is not well percent-encoded", k)
			}
		}
	}
	s = strings.TrimLeft(s, "/")
	typ, s, ok := strings.Cut(s, "/")
	if !ok {
		return "there is no name"
	}
	if !manPURLType.MatchString(typ) {
		return fmt.Sprintf("the type %q is invalid", typ)
	}
	s = strings.TrimRight(s, "/")
	if i := strings.LastIndex(s, "@"); i >= 0 {
		v := s[i+1:]
		s = s[:i]
		if v == "" {
			return "the version is empty"
		}
		if _, err := url.PathUnescape(v); err != nil {
			return "the version is not well percent-encoded"
		}
	}
	segs := strings.Split(s, "/")
	name := segs[len(segs)-1]
	if name == "" {
		return "the name is empty"
	}
	for _, seg := range segs {
		if _, err := url.PathUnescape(seg); err != nil {
			return "the namespace or name is not well percent-encoded"
		}
	}
	return ""
}

// checkHashAlgorithms (6.1.25): within one hashes item, an algorithm
// appears once.
func checkHashAlgorithms(d *Doc) []Finding {
	var out []Finding
	for _, n := range jpFullProductNames(d) {
		helper := jpGet(n.Value, "product_identification_helper")
		for _, h := range jpItems(helper, jpPtr(n.Path, "product_identification_helper"), "hashes") {
			seen := map[string]bool{}
			for _, fh := range jpItems(h.Value, h.Path, "file_hashes") {
				a, ok := jpStr(jpGet(fh.Value, "algorithm"))
				if !ok {
					continue
				}
				if seen[a] {
					out = append(out, Finding{Path: jpPtr(fh.Path, "algorithm"), Message: fmt.Sprintf("hash algorithm %q is used more than once for the same file", a)})
				}
				seen[a] = true
			}
		}
	}
	return out
}

// checkVersionRange (6.1.31): the name of a product_version branch holds
// no version range: no "<" or ">", and none of the words after, all,
// before, earlier, later, prior, versions.
func checkVersionRange(d *Doc) []Finding {
	var out []Finding
	for _, b := range jpBranches(d) {
		if jpGetStr(b.Value, "category") != "product_version" {
			continue
		}
		name, ok := jpStr(jpGet(b.Value, "name"))
		if !ok {
			continue
		}
		if why := manVersionRange(name); why != "" {
			out = append(out, Finding{Path: jpPtr(b.Path, "name"), Message: fmt.Sprintf("product_version %q holds a version range (%s); use the category product_version_range", name, why)})
		}
	}
	return out
}

var manRangeWords = []string{"after", "all", "before", "earlier", "later", "prior", "versions"}

func manVersionRange(name string) string {
	if strings.ContainsAny(name, "<>") {
		return "it contains < or >"
	}
	for _, w := range strings.Fields(strings.ToLower(name)) {
		for _, k := range manRangeWords {
			if w == k {
				return fmt.Sprintf("the word %q", k)
			}
		}
	}
	return ""
}
