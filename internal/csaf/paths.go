package csaf

import (
	"strconv"
	"strings"
)

// Helpers to walk a decoded document (map[string]any, []any, string,
// json.Number, bool) and to name what they find by JSON pointer (RFC 6901).

// jpPtr appends reference tokens to a JSON pointer, escaping "~" and "/".
// Ints are array indexes.
func jpPtr(base string, tokens ...any) string {
	var b strings.Builder
	b.WriteString(base)
	for _, t := range tokens {
		b.WriteByte('/')
		switch v := t.(type) {
		case int:
			b.WriteString(strconv.Itoa(v))
		case string:
			b.WriteString(strings.ReplaceAll(strings.ReplaceAll(v, "~", "~0"), "/", "~1"))
		}
	}
	return b.String()
}

// jpGet follows object keys from v; nil when a step is missing or not
// an object.
func jpGet(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// jpObj, jpArr and jpStr read a value of the expected JSON type; the zero
// value otherwise.
func jpObj(v any) map[string]any { m, _ := v.(map[string]any); return m }
func jpArr(v any) []any          { a, _ := v.([]any); return a }
func jpStr(v any) (string, bool) { s, ok := v.(string); return s, ok }

// jpGetStr is the string at keys under v, "" when there is none.
func jpGetStr(v any, keys ...string) string {
	s, _ := jpGet(v, keys...).(string)
	return s
}

// jpNode is a value with its JSON pointer.
type jpNode struct {
	Path  string
	Value any
}

// jpItems lists the items of the array at keys under v, base being v's
// pointer.
func jpItems(v any, base string, keys ...string) []jpNode {
	arr := jpArr(jpGet(v, keys...))
	out := make([]jpNode, 0, len(arr))
	p := jpPtr(base, jpAnys(keys)...)
	for i, x := range arr {
		out = append(out, jpNode{jpPtr(p, i), x})
	}
	return out
}

func jpAnys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// jpRef is a product_id or group_id, referenced or defined, at Path.
type jpRef struct {
	ID   string
	Path string
}

// jpStrings lists the string items of the array at keys under v.
func jpStrings(v any, base string, keys ...string) []jpRef {
	var out []jpRef
	for _, n := range jpItems(v, base, keys...) {
		if s, ok := jpStr(n.Value); ok {
			out = append(out, jpRef{s, n.Path})
		}
	}
	return out
}

// jpStatusKeys are the lists of /vulnerabilities[]/product_status.
var jpStatusKeys = []string{
	"first_affected", "first_fixed", "fixed", "known_affected",
	"known_not_affected", "last_affected", "recommended", "under_investigation",
}

// jpVulns lists /vulnerabilities[].
func jpVulns(d *Doc) []jpNode { return jpItems(d.Root, "", "vulnerabilities") }

// jpBranches lists every branch of the product tree, depth first.
func jpBranches(d *Doc) []jpNode {
	var out []jpNode
	var walk func(v any, base string)
	walk = func(v any, base string) {
		for _, n := range jpItems(v, base, "branches") {
			out = append(out, n)
			walk(n.Value, n.Path)
		}
	}
	walk(jpGet(d.Root, "product_tree"), "/product_tree")
	return out
}

// jpFullProductNames lists every full_product_name_t: the products of the
// branches, /product_tree/full_product_names[] and the full_product_name
// of each relationship.
func jpFullProductNames(d *Doc) []jpNode {
	var out []jpNode
	for _, b := range jpBranches(d) {
		if p := jpObj(jpGet(b.Value, "product")); p != nil {
			out = append(out, jpNode{jpPtr(b.Path, "product"), p})
		}
	}
	pt := jpGet(d.Root, "product_tree")
	for _, n := range jpItems(pt, "/product_tree", "full_product_names") {
		out = append(out, n)
	}
	for _, r := range jpItems(pt, "/product_tree", "relationships") {
		if p := jpObj(jpGet(r.Value, "full_product_name")); p != nil {
			out = append(out, jpNode{jpPtr(r.Path, "full_product_name"), p})
		}
	}
	return out
}

// jpProductDefs lists every definition of a product_id, in document order.
func jpProductDefs(d *Doc) []jpRef {
	var out []jpRef
	for _, n := range jpFullProductNames(d) {
		if s, ok := jpStr(jpGet(n.Value, "product_id")); ok {
			out = append(out, jpRef{s, jpPtr(n.Path, "product_id")})
		}
	}
	return out
}

// jpGroupDefs lists every definition of a group_id.
func jpGroupDefs(d *Doc) []jpRef {
	var out []jpRef
	for _, g := range jpItems(d.Root, "", "product_tree", "product_groups") {
		if s, ok := jpStr(jpGet(g.Value, "group_id")); ok {
			out = append(out, jpRef{s, jpPtr(g.Path, "group_id")})
		}
	}
	return out
}

// jpProductRefs lists every reference to a product_id: product groups,
// relationships, and in each vulnerability the product status, remediations,
// scores, threats and flags.
func jpProductRefs(d *Doc) []jpRef {
	var out []jpRef
	pt := jpGet(d.Root, "product_tree")
	for _, g := range jpItems(pt, "/product_tree", "product_groups") {
		out = append(out, jpStrings(g.Value, g.Path, "product_ids")...)
	}
	for _, r := range jpItems(pt, "/product_tree", "relationships") {
		for _, k := range []string{"product_reference", "relates_to_product_reference"} {
			if s, ok := jpStr(jpGet(r.Value, k)); ok {
				out = append(out, jpRef{s, jpPtr(r.Path, k)})
			}
		}
	}
	for _, v := range jpVulns(d) {
		for _, k := range jpStatusKeys {
			out = append(out, jpStrings(v.Value, v.Path, "product_status", k)...)
		}
		for _, k := range []string{"remediations", "threats", "flags"} {
			for _, n := range jpItems(v.Value, v.Path, k) {
				out = append(out, jpStrings(n.Value, n.Path, "product_ids")...)
			}
		}
		for _, n := range jpItems(v.Value, v.Path, "scores") {
			out = append(out, jpStrings(n.Value, n.Path, "products")...)
		}
	}
	return out
}

// jpGroupRefs lists every reference to a group_id: the remediations, threats
// and flags of each vulnerability.
func jpGroupRefs(d *Doc) []jpRef {
	var out []jpRef
	for _, v := range jpVulns(d) {
		for _, k := range []string{"remediations", "threats", "flags"} {
			for _, n := range jpItems(v.Value, v.Path, k) {
				out = append(out, jpStrings(n.Value, n.Path, "group_ids")...)
			}
		}
	}
	return out
}

// jpGroups maps each group_id to its product_ids (the first
// definition wins).
func jpGroups(d *Doc) map[string][]string {
	out := map[string][]string{}
	for _, g := range jpItems(d.Root, "", "product_tree", "product_groups") {
		id, ok := jpStr(jpGet(g.Value, "group_id"))
		if !ok {
			continue
		}
		if _, dup := out[id]; dup {
			continue
		}
		var ids []string
		for _, r := range jpStrings(g.Value, g.Path, "product_ids") {
			ids = append(ids, r.ID)
		}
		out[id] = ids
	}
	return out
}

// jpProductsOf is the set of products an item with product_ids and group_ids
// (a remediation, threat or flag) applies to, groups expanded.
func jpProductsOf(item any, groups map[string][]string) map[string]bool {
	out := map[string]bool{}
	for _, p := range jpArr(jpGet(item, "product_ids")) {
		if s, ok := jpStr(p); ok {
			out[s] = true
		}
	}
	for _, g := range jpArr(jpGet(item, "group_ids")) {
		if s, ok := jpStr(g); ok {
			for _, p := range groups[s] {
				out[p] = true
			}
		}
	}
	return out
}
