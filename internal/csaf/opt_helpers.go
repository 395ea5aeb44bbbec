package csaf

// Walking helpers for the optional (6.2.x) and informative (6.3.x) tests.
// They carry the prefix opt so that they do not collide with the helpers
// of the mandatory tests (paths.go); the two sets can be merged later.

import (
	"strconv"
	"strings"
	"time"
)

// optPtr builds a JSON pointer (RFC 6901) from path segments: strings are
// escaped (~ as ~0, / as ~1), ints written in decimal.
func optPtr(segs ...any) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteByte('/')
		switch v := s.(type) {
		case string:
			b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(v))
		case int:
			b.WriteString(strconv.Itoa(v))
		}
	}
	return b.String()
}

// optJoin appends segments to an existing pointer.
func optJoin(ptr string, segs ...any) string { return ptr + optPtr(segs...) }

// optObj returns v as an object, or nil.
func optObj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// optArr returns v as an array, or nil.
func optArr(v any) []any {
	a, _ := v.([]any)
	return a
}

// optStr returns v as a string and whether it is one.
func optStr(v any) (string, bool) {
	s, ok := v.(string)
	return s, ok
}

// optGet follows object keys from v; nil when one is missing.
func optGet(v any, keys ...string) any {
	for _, k := range keys {
		m := optObj(v)
		if m == nil {
			return nil
		}
		v = m[k]
	}
	return v
}

// optFPN is one full product name (full_product_name_t) and its pointer.
type optFPN struct {
	path string
	obj  map[string]any
}

// optBranch is one branch with its pointer and the categories of its
// ancestors (outermost first, the branch's own category last).
type optBranch struct {
	path       string
	obj        map[string]any
	categories []string
}

// optBranches lists every branch of /product_tree/branches, depth first.
func optBranches(d *Doc) []optBranch {
	var out []optBranch
	var walk func(v any, path string, cats []string)
	walk = func(v any, path string, cats []string) {
		for i, b := range optArr(v) {
			m := optObj(b)
			if m == nil {
				continue
			}
			p := optJoin(path, i)
			cat, _ := optStr(m["category"])
			c := append(append([]string(nil), cats...), cat)
			out = append(out, optBranch{path: p, obj: m, categories: c})
			walk(m["branches"], optJoin(p, "branches"), c)
		}
	}
	walk(optGet(d.Root, "product_tree", "branches"), "/product_tree/branches", nil)
	return out
}

// optFullProductNames lists every full_product_name_t of the product
// tree: in branches, in full_product_names and in relationships.
func optFullProductNames(d *Doc) []optFPN {
	var out []optFPN
	for _, b := range optBranches(d) {
		if m := optObj(b.obj["product"]); m != nil {
			out = append(out, optFPN{optJoin(b.path, "product"), m})
		}
	}
	for i, v := range optArr(optGet(d.Root, "product_tree", "full_product_names")) {
		if m := optObj(v); m != nil {
			out = append(out, optFPN{optPtr("product_tree", "full_product_names", i), m})
		}
	}
	for i, v := range optArr(optGet(d.Root, "product_tree", "relationships")) {
		if m := optObj(optGet(v, "full_product_name")); m != nil {
			out = append(out, optFPN{optPtr("product_tree", "relationships", i, "full_product_name"), m})
		}
	}
	return out
}

// optVulns lists the vulnerabilities with their pointers.
func optVulns(d *Doc) []optFPN {
	var out []optFPN
	for i, v := range optArr(d.Root["vulnerabilities"]) {
		if m := optObj(v); m != nil {
			out = append(out, optFPN{optPtr("vulnerabilities", i), m})
		}
	}
	return out
}

// optStrings returns the strings of an array.
func optStrings(v any) []string {
	var out []string
	for _, e := range optArr(v) {
		if s, ok := optStr(e); ok {
			out = append(out, s)
		}
	}
	return out
}

// optGroups maps each product group id to its product ids.
func optGroups(d *Doc) map[string][]string {
	out := map[string][]string{}
	for _, g := range optArr(optGet(d.Root, "product_tree", "product_groups")) {
		if id, ok := optStr(optGet(g, "group_id")); ok {
			out[id] = append(out[id], optStrings(optGet(g, "product_ids"))...)
		}
	}
	return out
}

// optReferencedProducts is the set of product ids the document refers to
// outside their definitions: groups, relationships and vulnerabilities.
func optReferencedProducts(d *Doc) map[string]bool {
	ref := map[string]bool{}
	add := func(v any) {
		for _, s := range optStrings(v) {
			ref[s] = true
		}
	}
	for _, g := range optArr(optGet(d.Root, "product_tree", "product_groups")) {
		add(optGet(g, "product_ids"))
	}
	for _, r := range optArr(optGet(d.Root, "product_tree", "relationships")) {
		for _, k := range []string{"product_reference", "relates_to_product_reference"} {
			if s, ok := optStr(optGet(r, k)); ok {
				ref[s] = true
			}
		}
	}
	for _, v := range optVulns(d) {
		for _, list := range optObj(v.obj["product_status"]) {
			add(list)
		}
		for _, k := range []string{"remediations", "threats", "flags"} {
			for _, e := range optArr(v.obj[k]) {
				add(optGet(e, "product_ids"))
			}
		}
		for _, s := range optArr(v.obj["scores"]) {
			add(optGet(s, "products"))
		}
	}
	return ref
}

// optTime parses an RFC 3339 date-time. A leap second (:60) is read as
// the next second, which orders it correctly.
func optTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err == nil {
		return t, true
	}
	if i := strings.Index(s, ":60"); i >= 0 && i == strings.IndexByte(s, 'T')+6 {
		t, err = time.Parse(time.RFC3339Nano, s[:i]+":59"+s[i+3:])
		if err == nil {
			return t.Add(time.Second), true
		}
	}
	return time.Time{}, false
}
