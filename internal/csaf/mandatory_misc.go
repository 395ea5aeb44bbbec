package csaf

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/text/language"
)

// Mandatory tests on languages, vulnerabilities and their items: 6.1.12,
// 6.1.15, 6.1.23, 6.1.24, 6.1.28, 6.1.29, 6.1.32 and 6.1.33.

func init() {
	register("6.1.12", Mandatory, checkLanguage)
	register("6.1.15", Mandatory, checkTranslator)
	register("6.1.23", Mandatory, checkMultipleCVE)
	register("6.1.24", Mandatory, checkInvolvements)
	register("6.1.28", Mandatory, checkTranslation)
	register("6.1.29", Mandatory, checkRemediationProducts)
	register("6.1.32", Mandatory, checkFlagProducts)
	register("6.1.33", Mandatory, checkVEXJustifications)
}

// checkLanguage (6.1.12): /document/lang and /document/source_lang are
// well-formed BCP 47 tags whose subtags are registered (IANA language
// subtag registry, as golang.org/x/text/language knows it). Private-use
// subtags and grandfathered tags such as i-default are valid.
func checkLanguage(d *Doc) []Finding {
	var out []Finding
	for _, k := range []string{"lang", "source_lang"} {
		s, ok := jpStr(jpGet(d.Root, "document", k))
		if !ok {
			continue
		}
		if _, err := language.Parse(s); err != nil {
			out = append(out, Finding{Path: jpPtr("/document", k), Message: fmt.Sprintf("language tag %q is not a valid, registered BCP 47 tag: %v", s, err)})
		}
	}
	return out
}

// checkTranslator (6.1.15): a publisher of category translator requires
// /document/source_lang.
func checkTranslator(d *Doc) []Finding {
	if jpGetStr(d.Root, "document", "publisher", "category") != "translator" {
		return nil
	}
	if _, ok := jpStr(jpGet(d.Root, "document", "source_lang")); ok {
		return nil
	}
	return []Finding{{Path: "/document/publisher/category", Message: `the publisher category is "translator" but /document/source_lang is missing`}}
}

// checkMultipleCVE (6.1.23): a CVE appears in one vulnerability only.
func checkMultipleCVE(d *Doc) []Finding {
	first := map[string]string{}
	var out []Finding
	for _, v := range jpVulns(d) {
		cve, ok := jpStr(jpGet(v.Value, "cve"))
		if !ok {
			continue
		}
		p := jpPtr(v.Path, "cve")
		if prev, dup := first[cve]; dup {
			out = append(out, Finding{Path: p, Message: fmt.Sprintf("%s is already the subject of %s", cve, prev)})
			continue
		}
		first[cve] = p
	}
	return out
}

// checkInvolvements (6.1.24): within a vulnerability, a party has at most
// one involvement per date (dates compared as instants).
func checkInvolvements(d *Doc) []Finding {
	var out []Finding
	for _, v := range jpVulns(d) {
		seen := map[string]string{}
		for _, n := range jpItems(v.Value, v.Path, "involvements") {
			party, ok := jpStr(jpGet(n.Value, "party"))
			date, ok2 := jpStr(jpGet(n.Value, "date"))
			if !ok || !ok2 {
				continue
			}
			key := date
			if t, ok := manTime(date); ok {
				key = t.UTC().Format(time.RFC3339Nano)
			}
			key = party + "\x00" + key
			if prev, dup := seen[key]; dup {
				out = append(out, Finding{Path: n.Path, Message: fmt.Sprintf("party %q has a second involvement dated %s (first at %s)", party, date, prev)})
				continue
			}
			seen[key] = n.Path
		}
	}
	return out
}

// checkTranslation (6.1.28): /document/source_lang differs from
// /document/lang.
func checkTranslation(d *Doc) []Finding {
	lang, ok1 := jpStr(jpGet(d.Root, "document", "lang"))
	src, ok2 := jpStr(jpGet(d.Root, "document", "source_lang"))
	if !ok1 || !ok2 || !strings.EqualFold(lang, src) {
		return nil
	}
	return []Finding{{Path: "/document/source_lang", Message: fmt.Sprintf("the source language %q is the document language %q", src, lang)}}
}

// manUnreferenced reports each item of /vulnerabilities[]/key that has
// neither product_ids nor group_ids.
func manUnreferenced(d *Doc, key, what string) []Finding {
	var out []Finding
	for _, v := range jpVulns(d) {
		for _, n := range jpItems(v.Value, v.Path, key) {
			if jpGet(n.Value, "product_ids") != nil || jpGet(n.Value, "group_ids") != nil {
				continue
			}
			label := jpGetStr(n.Value, "category")
			if key == "flags" {
				label = jpGetStr(n.Value, "label")
			}
			out = append(out, Finding{Path: n.Path, Message: fmt.Sprintf("%s %q has neither product_ids nor group_ids", what, label)})
		}
	}
	return out
}

// checkRemediationProducts (6.1.29): every remediation names products or
// groups.
func checkRemediationProducts(d *Doc) []Finding {
	return manUnreferenced(d, "remediations", "remediation")
}

// checkFlagProducts (6.1.32): every flag names products or groups.
func checkFlagProducts(d *Doc) []Finding {
	return manUnreferenced(d, "flags", "flag")
}

// checkVEXJustifications (6.1.33): within a vulnerability, a product has at
// most one flag (every flag label is a VEX justification), products of the
// flag's groups included.
func checkVEXJustifications(d *Doc) []Finding {
	groups := jpGroups(d)
	var out []Finding
	for _, v := range jpVulns(d) {
		first := map[string]string{} // product -> label of its first flag
		for _, n := range jpItems(v.Value, v.Path, "flags") {
			label := jpGetStr(n.Value, "label")
			for _, p := range manSortedKeys(jpProductsOf(n.Value, groups)) {
				if prev, dup := first[p]; dup {
					out = append(out, Finding{Path: n.Path, Message: fmt.Sprintf("product %q has the justification %q and already %q", p, label, prev)})
					continue
				}
				first[p] = label
			}
		}
	}
	return out
}
