package csaf

// Walking helpers for the optional (6.2.x) and informative (6.3.x) tests.
// They carry the prefix opt so that they do not collide with the helpers
// of the mandatory tests (paths.go); the two sets can be merged later.

import (
	"strings"
	"time"
)

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
		for i, b := range jpArr(v) {
			m := jpObj(b)
			if m == nil {
				continue
			}
			p := jpPtr(path, i)
			cat, _ := jpStr(m["category"])
			c := append(append([]string(nil), cats...), cat)
			out = append(out, optBranch{path: p, obj: m, categories: c})
			walk(m["branches"], jpPtr(p, "branches"), c)
		}
	}
	walk(jpGet(d.Root, "product_tree", "branches"), "/product_tree/branches", nil)
	return out
}

// optFullProductNames lists every full_product_name_t of the product
// tree: in branches, in full_product_names and in relationships.
func optFullProductNames(d *Doc) []optFPN {
	var out []optFPN
	for _, b := range optBranches(d) {
		if m := jpObj(b.obj["product"]); m != nil {
			out = append(out, optFPN{jpPtr(b.path, "product"), m})
		}
	}
	for i, v := range jpArr(jpGet(d.Root, "product_tree", "full_product_names")) {
		if m := jpObj(v); m != nil {
			out = append(out, optFPN{jpPtr("", "product_tree", "full_product_names", i), m})
		}
	}
	for i, v := range jpArr(jpGet(d.Root, "product_tree", "relationships")) {
		if m := jpObj(jpGet(v, "full_product_name")); m != nil {
			out = append(out, optFPN{jpPtr("", "product_tree", "relationships", i, "full_product_name"), m})
		}
	}
	return out
}

// optVulns lists the vulnerabilities with their pointers.
func optVulns(d *Doc) []optFPN {
	var out []optFPN
	for i, v := range jpArr(d.Root["vulnerabilities"]) {
		if m := jpObj(v); m != nil {
			out = append(out, optFPN{jpPtr("", "vulnerabilities", i), m})
		}
	}
	return out
}

// optStrings returns the strings of an array.
func optStrings(v any) []string {
	var out []string
	for _, e := range jpArr(v) {
		if s, ok := jpStr(e); ok {
			out = append(out, s)
		}
	}
	return out
}

// optGroups maps each product group id to its product ids.
func optGroups(d *Doc) map[string][]string {
	out := map[string][]string{}
	for _, g := range jpArr(jpGet(d.Root, "product_tree", "product_groups")) {
		if id, ok := jpStr(jpGet(g, "group_id")); ok {
			out[id] = append(out[id], optStrings(jpGet(g, "product_ids"))...)
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
	for _, g := range jpArr(jpGet(d.Root, "product_tree", "product_groups")) {
		add(jpGet(g, "product_ids"))
	}
	for _, r := range jpArr(jpGet(d.Root, "product_tree", "relationships")) {
		for _, k := range []string{"product_reference", "relates_to_product_reference"} {
			if s, ok := jpStr(jpGet(r, k)); ok {
				ref[s] = true
			}
		}
	}
	for _, v := range optVulns(d) {
		for _, list := range jpObj(v.obj["product_status"]) {
			add(list)
		}
		for _, k := range []string{"remediations", "threats", "flags"} {
			for _, e := range jpArr(v.obj[k]) {
				add(jpGet(e, "product_ids"))
			}
		}
		for _, s := range jpArr(v.obj["scores"]) {
			add(jpGet(s, "products"))
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
