package advisory

// The editor's vulnerabilities: the list, and one vulnerability's form
// (CVE, title, CWE, description, CVSS v3.1 and v4.0 vectors, the status of
// each product, remediations and threats).

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/belfry-cert/belfry/internal/csaf"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

// productStatuses are the product statuses the editor offers, in the order
// of its select; first_affected and last_affected are offered only to keep
// an imported document's.
var productStatuses = []string{"known_affected", "fixed", "known_not_affected", "under_investigation", "recommended", "first_fixed",
	"first_affected", "last_affected"}

// remediationCategories are CSAF 2.0's.
var remediationCategories = []string{"vendor_fix", "mitigation", "workaround", "no_fix_planned", "none_available"}

// cvss4Title is the title of the note that holds a CVSS v4.0 vector: CSAF
// 2.0 has no cvss_v4 property.
const cvss4Title = "CVSS v4.0"

var (
	cveRE = regexp.MustCompile(`^CVE-[0-9]{4}-[0-9]{4,}$`)
	cweRE = regexp.MustCompile(`^CWE-[1-9][0-9]{0,5}$`)
)

// statusesOf maps each product id of v's product status to its status.
func statusesOf(v csaf.Vulnerability) map[string]string {
	out := map[string]string{}
	ps := v.ProductStatus
	if ps == nil {
		return out
	}
	for s, l := range map[string][]string{"known_affected": ps.KnownAffected, "fixed": ps.Fixed, "known_not_affected": ps.KnownNotAffected,
		"under_investigation": ps.UnderInvestigation, "recommended": ps.Recommended, "first_fixed": ps.FirstFixed,
		"first_affected": ps.FirstAffected, "last_affected": ps.LastAffected} {
		for _, id := range l {
			out[id] = s
		}
	}
	return out
}

// statusIDs lists the product ids of st: the document's products in their
// order, then any other id, sorted.
func statusIDs(d *csaf.Document, st map[string]string) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range productRows(d) {
		if _, ok := st[p.ID]; ok && !seen[p.ID] {
			out, seen[p.ID] = append(out, p.ID), true
		}
	}
	var rest []string
	for id := range st {
		if !seen[id] {
			rest = append(rest, id)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// cvss3Vector is the vector of v's first CVSS v3 score.
func cvss3Vector(v csaf.Vulnerability) string {
	for _, s := range v.Scores {
		if vec, ok := s.CVSSv3["vectorString"].(string); ok {
			return vec
		}
	}
	return ""
}

// cvss4Vector is the vector of v's CVSS v4.0 note.
func cvss4Vector(v csaf.Vulnerability) string {
	for _, n := range v.Notes {
		if n.Category == "other" && n.Title == cvss4Title {
			return n.Text
		}
	}
	return ""
}

// vulnForm writes v as the form's values for the products of the
// document: a select per product (ps-i with its id in ps-i-id), the
// remediations with one empty row to add.
func vulnForm(v csaf.Vulnerability, products []productRow) url.Values {
	f := url.Values{"cve": {v.CVE}, "title": {v.Title}, "description": {noteOf(v.Notes, "description")},
		"cvss3": {cvss3Vector(v)}, "cvss4": {cvss4Vector(v)}}
	if v.CWE != nil {
		f.Set("cwe_id", v.CWE.ID)
		f.Set("cwe_name", v.CWE.Name)
	}
	st := statusesOf(v)
	for i, p := range products {
		f.Set(rowName("ps", i, "id"), p.ID)
		f.Set("ps-"+strconv.Itoa(i), st[p.ID])
	}
	f.Set("products", strconv.Itoa(len(products)))
	for i, r := range v.Remediations {
		f.Set(rowName("rem", i, "category"), r.Category)
		f.Set(rowName("rem", i, "details"), r.Details)
		f.Set(rowName("rem", i, "url"), r.URL)
	}
	f.Set("rems", strconv.Itoa(len(v.Remediations)+1))
	for _, t := range v.Threats {
		switch t.Category {
		case "impact":
			f.Set("impact", t.Details)
		case "exploit_status":
			f.Set("exploit", t.Details)
		}
	}
	return f
}

// setThreat replaces the details of v's first threat of category (added
// when missing, removed when details is empty).
func setThreat(ts []csaf.Threat, category, details string, products []string) []csaf.Threat {
	for i, t := range ts {
		if t.Category == category {
			if details == "" {
				return slices.Delete(slices.Clone(ts), i, i+1)
			}
			ts[i].Details, ts[i].ProductIDs = details, products
			return ts
		}
	}
	if details == "" {
		return ts
	}
	return append(ts, csaf.Threat{Category: category, Details: details, ProductIDs: products})
}

// applyVuln writes form f into v; the known products are those of the
// document. Every problem is reported at once; v is unchanged then.
func applyVuln(v *csaf.Vulnerability, f url.Values, products []productRow) error {
	var ve errs.Validator
	cve := strings.ToUpper(strings.TrimSpace(f.Get("cve")))
	ve.Check(cve == "" || cveRE.MatchString(cve), "cve", "err.advedit.cve")
	title := strings.TrimSpace(f.Get("title"))
	cweID := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(f.Get("cwe_id")), " ", ""))
	if cweID != "" && !strings.HasPrefix(cweID, "CWE-") {
		cweID = "CWE-" + cweID
	}
	cweName := strings.TrimSpace(f.Get("cwe_name"))
	var cwe *csaf.CWE
	if cweID != "" {
		if !cweRE.MatchString(cweID) {
			ve.Add("cwe_id", "err.advedit.cwe", nil)
		} else {
			if name, ok := cweLookup(cweID); ok {
				cweName = name
			} else {
				ve.Add("cwe_id", "err.advedit.cwe_unknown", map[string]any{"id": cweID})
			}
			ve.Check(cweName != "", "cwe_name", "err.advedit.cwe_name_missing")
			cwe = &csaf.CWE{ID: cweID, Name: cweName}
		}
	}
	description := strings.TrimSpace(f.Get("description"))

	known := map[string]bool{}
	for _, p := range products {
		known[p.ID] = true
	}
	status := statusesOf(*v)
	for i := range rowCount(f, "products") {
		id := f.Get(rowName("ps", i, "id"))
		if !known[id] {
			continue
		}
		s := f.Get("ps-" + strconv.Itoa(i))
		switch {
		case s == "":
			delete(status, id)
		case slices.Contains(productStatuses, s):
			status[id] = s
		default:
			ve.Add("ps-"+strconv.Itoa(i), "err.advedit.product_status", nil)
		}
	}
	ps := &csaf.ProductStatus{}
	lists := map[string]*[]string{"known_affected": &ps.KnownAffected, "fixed": &ps.Fixed, "known_not_affected": &ps.KnownNotAffected,
		"under_investigation": &ps.UnderInvestigation, "recommended": &ps.Recommended, "first_fixed": &ps.FirstFixed,
		"first_affected": &ps.FirstAffected, "last_affected": &ps.LastAffected}
	ids := make([]string, 0, len(status))
	for id := range status {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		*lists[status[id]] = append(*lists[status[id]], id)
	}
	affected := ps.KnownAffected

	var cvss3 map[string]any
	if vec := strings.TrimSpace(f.Get("cvss3")); vec != "" {
		j, err := csaf.CVSS3JSON(vec)
		switch {
		case err != nil:
			ve.Add("cvss3", "err.advedit.cvss3", nil)
		case len(affected) == 0:
			ve.Add("cvss3", "err.advedit.cvss_needs_affected", nil)
		default:
			cvss3 = j
		}
	}
	cvss4 := ""
	if vec := strings.TrimSpace(f.Get("cvss4")); vec != "" {
		s, err := csaf.ScoreVector(vec)
		if err != nil || s.Version != "4.0" {
			ve.Add("cvss4", "err.advedit.cvss4", nil)
		} else {
			cvss4 = s.Vector
		}
	}

	var rems []csaf.Remediation
	for i := range rowCount(f, "rems") {
		if f.Get(rowName("rem", i, "remove")) == "yes" {
			continue
		}
		cat := f.Get(rowName("rem", i, "category"))
		details := strings.TrimSpace(f.Get(rowName("rem", i, "details")))
		u := strings.TrimSpace(f.Get(rowName("rem", i, "url")))
		if cat == "" && details == "" && u == "" {
			continue
		}
		row := map[string]any{"row": i + 1}
		ve.Check(slices.Contains(remediationCategories, cat), rowName("rem", i, "category"), "err.advedit.remediation_category")
		if details == "" {
			ve.Add(rowName("rem", i, "details"), "err.advedit.remediation_details", row)
		}
		if u != "" && !validURL(u) {
			ve.Add(rowName("rem", i, "url"), "err.advedit.remediation_url", row)
		}
		if len(affected) == 0 {
			ve.Add(rowName("rem", i, "category"), "err.advedit.remediation_needs_affected", row)
		}
		rems = append(rems, csaf.Remediation{Category: cat, Details: details, URL: u, ProductIDs: affected})
	}
	impact := strings.TrimSpace(f.Get("impact"))
	exploit := strings.TrimSpace(f.Get("exploit"))
	if err := ve.Err(); err != nil {
		return err
	}

	v.CVE, v.Title, v.CWE = cve, title, cwe
	v.Notes = setNote(v.Notes, "description", "Description", description)
	v.Notes = slices.DeleteFunc(v.Notes, func(n csaf.Note) bool { return n.Category == "other" && n.Title == cvss4Title })
	if cvss4 != "" {
		v.Notes = append(v.Notes, csaf.Note{Category: "other", Title: cvss4Title, Text: cvss4})
	}
	if len(status) == 0 {
		v.ProductStatus = nil
	} else {
		v.ProductStatus = ps
	}
	// The v3 score is the form's; scores with only CVSS v2 stay.
	v.Scores = slices.DeleteFunc(v.Scores, func(s csaf.ScoreSet) bool { return s.CVSSv3 != nil })
	if cvss3 != nil {
		v.Scores = append(v.Scores, csaf.ScoreSet{CVSSv3: cvss3, Products: affected})
	}
	v.Remediations = rems
	v.Threats = setThreat(v.Threats, "impact", impact, affected)
	v.Threats = setThreat(v.Threats, "exploit_status", exploit, affected)
	return nil
}

// cweLookup gives the name of a CWE id in the CWE List the validator
// embeds (test 6.1.11 checks the same list), and whether it is there.
func cweLookup(id string) (string, bool) { return csaf.CWEName(id) }

// ---- pages ----

func (h *handlers) vulnsPage(w http.ResponseWriter, r *http.Request) error {
	a, err := h.load(r)
	if err != nil {
		return err
	}
	return h.renderVulns(w, r, a, nil)
}

func (h *handlers) renderVulns(w http.ResponseWriter, r *http.Request, a *Advisory, ferr error) error {
	d, err := a.Doc()
	if err != nil {
		return err
	}
	data := editData(r, a)
	data["Vulns"] = viewVulns(d)
	data["HasProducts"] = len(productRows(d)) > 0
	p := &web.Page{Title: h.t(r, "advedit.vulns.title", nil), Data: data}
	return h.render(w, r, "adv_edit_vulns", p, ferr, func(string) bool { return false })
}

// vulnIndex reads {n} of the request (from 1) as an index of d's
// vulnerabilities; -1 for a new one.
func vulnIndex(r *http.Request, d *csaf.Document) (int, error) {
	if r.PathValue("n") == "" {
		return -1, nil
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 || n > len(d.Vulnerabilities) {
		return 0, errs.E(errs.NotFound, "err.advedit.vuln_not_found")
	}
	return n - 1, nil
}

func (h *handlers) vulnForm(w http.ResponseWriter, r *http.Request) error {
	a, err := h.load(r)
	if err != nil {
		return err
	}
	d, err := a.Doc()
	if err != nil {
		return err
	}
	i, err := vulnIndex(r, d)
	if err != nil {
		return err
	}
	var v csaf.Vulnerability
	if i >= 0 {
		v = d.Vulnerabilities[i]
	}
	return h.renderVuln(w, r, a, d, i, vulnForm(v, productRows(d)), nil)
}

// productSelect is a product's status select on the form.
type productSelect struct {
	I       int
	Product productRow
	Options []string
}

func (h *handlers) renderVuln(w http.ResponseWriter, r *http.Request, a *Advisory, d *csaf.Document, i int, form url.Values, ferr error) error {
	data := editData(r, a)
	products := productRows(d)
	var selects []productSelect
	for k, p := range products {
		opts := productStatuses[:6]
		if cur := form.Get("ps-" + strconv.Itoa(k)); cur == "first_affected" || cur == "last_affected" {
			opts = append(slices.Clone(opts), cur)
		}
		selects = append(selects, productSelect{I: k, Product: p, Options: opts})
	}
	data["Products"] = selects
	data["N"] = i + 1
	data["RemCategories"] = remediationCategories
	existing := 0
	if i >= 0 {
		existing = len(d.Vulnerabilities[i].Remediations)
	}
	data["Rems"] = rowsOf(form, "rems", existing)
	action := manageBase(a.ID) + "/vulnerabilities/new"
	title := h.t(r, "advedit.vuln.new_title", nil)
	if i >= 0 {
		action = manageBase(a.ID) + "/vulnerabilities/" + strconv.Itoa(i+1)
		title = h.t(r, "advedit.vuln.edit_title", map[string]any{"n": i + 1})
	}
	for _, k := range []string{"cvss3", "cvss4"} {
		if vec := strings.TrimSpace(form.Get(k)); vec != "" {
			if s, err := csaf.ScoreVector(vec); err == nil {
				data["Score"+k] = s
			}
		}
	}
	data["Action"] = action
	p := &web.Page{Title: title, Form: form, Data: data}
	return h.render(w, r, "adv_edit_vuln", p, ferr, nil)
}

func (h *handlers) saveVuln(w http.ResponseWriter, r *http.Request) error {
	a, err := h.load(r)
	if err != nil {
		return err
	}
	d, err := a.Doc()
	if err != nil {
		return err
	}
	i, err := vulnIndex(r, d)
	if err != nil {
		return err
	}
	_, err = h.svc.Edit(r.Context(), a.ID, func(d *csaf.Document) error {
		if i >= len(d.Vulnerabilities) {
			return errs.E(errs.Conflict, "err.advedit.vuln_not_found")
		}
		var v csaf.Vulnerability
		if i >= 0 {
			v = d.Vulnerabilities[i]
		}
		if err := applyVuln(&v, r.PostForm, productRows(d)); err != nil {
			return err
		}
		if i >= 0 {
			d.Vulnerabilities[i] = v
		} else {
			d.Vulnerabilities = append(d.Vulnerabilities, v)
		}
		return nil
	})
	if err != nil {
		return h.renderVuln(w, r, a, d, i, r.PostForm, err)
	}
	return h.done(w, r, "advedit.flash.vuln_saved", manageBase(a.ID)+"/vulnerabilities")
}

func (h *handlers) deleteVuln(w http.ResponseWriter, r *http.Request) error {
	a, err := h.load(r)
	if err != nil {
		return err
	}
	d, err := a.Doc()
	if err != nil {
		return err
	}
	i, err := vulnIndex(r, d)
	if err != nil {
		return err
	}
	if _, err := h.svc.Edit(r.Context(), a.ID, func(d *csaf.Document) error {
		if i >= len(d.Vulnerabilities) {
			return errs.E(errs.Conflict, "err.advedit.vuln_not_found")
		}
		d.Vulnerabilities = slices.Delete(d.Vulnerabilities, i, i+1)
		return nil
	}); err != nil {
		return h.renderVulns(w, r, a, err)
	}
	return h.done(w, r, "advedit.flash.vuln_deleted", manageBase(a.ID)+"/vulnerabilities")
}
