package advisory

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/belfry-cert/belfry/internal/csaf"
)

// summary is what the lists, filters and alerts need of a document.
type summary struct {
	Score    *float64    // the highest CVSS v3 base score
	Severity string      // its severity in CVSS words, lower case; "" without a score
	Products [][2]string // vendor and product names
	CVEs     []string
	Search   string // lower-cased text the list's search looks in
}

// summarise reads the summary of a document.
func summarise(d *csaf.Document) summary {
	var s summary
	for _, v := range d.Vulnerabilities {
		if v.CVE != "" && !slices.Contains(s.CVEs, v.CVE) {
			s.CVEs = append(s.CVEs, v.CVE)
		}
		for _, sc := range v.Scores {
			if sc.CVSSv3 == nil {
				continue
			}
			f, ok := number(sc.CVSSv3["baseScore"])
			if ok && (s.Score == nil || f > *s.Score) {
				x := f
				s.Score = &x
				sev, _ := sc.CVSSv3["baseSeverity"].(string)
				s.Severity = strings.ToLower(sev)
			}
		}
	}
	s.Products = Products(d)
	var words []string
	words = append(words, d.Document.Title, d.Document.Tracking.ID)
	words = append(words, d.Document.Tracking.Aliases...)
	words = append(words, s.CVEs...)
	for _, p := range s.Products {
		words = append(words, p[0], p[1])
	}
	for _, v := range d.Vulnerabilities {
		words = append(words, v.Title)
	}
	s.Search = strings.ToLower(strings.Join(words, " "))
	slices.Sort(s.CVEs)
	return s
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// Products lists the distinct vendor and product names of the product
// tree's branches (vendor > product_name, at any depth), sorted.
func Products(d *csaf.Document) [][2]string {
	if d.ProductTree == nil {
		return nil
	}
	var out [][2]string
	var walk func(bs []csaf.Branch, vendor string)
	walk = func(bs []csaf.Branch, vendor string) {
		for _, b := range bs {
			v := vendor
			switch b.Category {
			case "vendor":
				v = b.Name
			case "product_name":
				p := [2]string{v, b.Name}
				if !slices.Contains(out, p) {
					out = append(out, p)
				}
			}
			walk(b.Branches, v)
		}
	}
	walk(d.ProductTree.Branches, "")
	slices.SortFunc(out, func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	})
	return out
}
