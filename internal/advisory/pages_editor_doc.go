package advisory

// The editor's document details page (title, language, TLP, category,
// notes, references, acknowledgments), the JSON page and the preview.

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/belfry-cert/belfry/internal/csaf"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

// refCategories are the reference categories the editor offers.
var refCategories = []string{"external", "self"}

// maxRows bounds the repeated rows a form may send.
const maxRows = 200

// noteOf returns the text of the first note of category.
func noteOf(notes []csaf.Note, category string) string {
	for _, n := range notes {
		if n.Category == category {
			return n.Text
		}
	}
	return ""
}

// setNote replaces the text of the first note of category (added with
// title when missing); an empty text removes that note.
func setNote(notes []csaf.Note, category, title, text string) []csaf.Note {
	for i, n := range notes {
		if n.Category == category {
			if text == "" {
				return slices.Delete(slices.Clone(notes), i, i+1)
			}
			notes[i].Text = text
			return notes
		}
	}
	if text == "" {
		return notes
	}
	return append(notes, csaf.Note{Category: category, Title: title, Text: text})
}

// rowCount reads the number of repeated rows of prefix a form sent.
func rowCount(f url.Values, name string) int {
	n, err := strconv.Atoi(f.Get(name))
	if err != nil || n < 0 {
		return 0
	}
	return min(n, maxRows)
}

func rowName(prefix string, i int, field string) string {
	return prefix + "-" + strconv.Itoa(i) + "-" + field
}

// documentForm writes the document details of d as the form's values,
// with one empty reference and acknowledgment row to add.
func documentForm(d *csaf.Document) url.Values {
	m := d.Document
	f := url.Values{"title": {m.Title}, "lang": {m.Lang}, "category": {m.Category},
		"summary": {noteOf(m.Notes, "summary")}, "details": {noteOf(m.Notes, "details")}}
	if m.Distribution != nil && m.Distribution.TLP != nil {
		f.Set("tlp", m.Distribution.TLP.Label)
	}
	for i, r := range m.References {
		f.Set(rowName("ref", i, "url"), r.URL)
		f.Set(rowName("ref", i, "summary"), r.Summary)
		cat := r.Category
		if cat == "" {
			cat = "external"
		}
		f.Set(rowName("ref", i, "category"), cat)
	}
	f.Set(rowName("ref", len(m.References), "category"), "external")
	f.Set("refs", strconv.Itoa(len(m.References)+1))
	for i, a := range m.Acknowledgments {
		f.Set(rowName("ack", i, "names"), strings.Join(a.Names, ", "))
		f.Set(rowName("ack", i, "org"), a.Organization)
		f.Set(rowName("ack", i, "summary"), a.Summary)
	}
	f.Set("acks", strconv.Itoa(len(m.Acknowledgments)+1))
	return f
}

// validURL reports whether s is an absolute http or https URL.
func validURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && !strings.ContainsAny(s, " \t\n")
}

// applyDocument writes the document details of form f into d. Every
// problem of the form is reported at once; d is unchanged then.
func applyDocument(d *csaf.Document, f url.Values) error {
	var v errs.Validator
	title := strings.TrimSpace(f.Get("title"))
	v.Check(title != "", "title", "err.adv.title_missing")
	lang := f.Get("lang")
	v.Check(slices.Contains(Langs, lang), "lang", "err.adv.lang")
	tlp := f.Get("tlp")
	v.Check(slices.Contains(TLPs, tlp), "tlp", "err.adv.tlp")
	category := f.Get("category")
	v.Check(slices.Contains(Categories, category) || category != "" && category == d.Document.Category, "category", "err.adv.category")
	summary := strings.TrimSpace(f.Get("summary"))
	v.Check(summary != "", "summary", "err.advedit.summary_missing")
	details := strings.TrimSpace(f.Get("details"))

	var refs []csaf.Reference
	for i := range rowCount(f, "refs") {
		if f.Get(rowName("ref", i, "remove")) == "yes" {
			continue
		}
		u := strings.TrimSpace(f.Get(rowName("ref", i, "url")))
		s := strings.TrimSpace(f.Get(rowName("ref", i, "summary")))
		if u == "" && s == "" {
			continue
		}
		row := map[string]any{"row": i + 1}
		switch {
		case u == "":
			v.Add(rowName("ref", i, "url"), "err.advedit.ref_url_missing", row)
		case !validURL(u):
			v.Add(rowName("ref", i, "url"), "err.advedit.ref_url", row)
		}
		if s == "" {
			v.Add(rowName("ref", i, "summary"), "err.advedit.ref_summary_missing", row)
		}
		cat := f.Get(rowName("ref", i, "category"))
		if !slices.Contains(refCategories, cat) {
			cat = "external"
		}
		refs = append(refs, csaf.Reference{Category: cat, Summary: s, URL: u})
	}
	var acks []csaf.Acknowledgment
	for i := range rowCount(f, "acks") {
		if f.Get(rowName("ack", i, "remove")) == "yes" {
			continue
		}
		var names []string
		for n := range strings.SplitSeq(f.Get(rowName("ack", i, "names")), ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
		org := strings.TrimSpace(f.Get(rowName("ack", i, "org")))
		s := strings.TrimSpace(f.Get(rowName("ack", i, "summary")))
		if len(names) == 0 && org == "" && s == "" {
			continue
		}
		a := csaf.Acknowledgment{Names: names, Organization: org, Summary: s}
		if i < len(d.Document.Acknowledgments) {
			a.URLs = d.Document.Acknowledgments[i].URLs
		}
		acks = append(acks, a)
	}
	if err := v.Err(); err != nil {
		return err
	}
	m := &d.Document
	m.Title, m.Lang, m.Category = title, lang, category
	if m.Distribution == nil {
		m.Distribution = &csaf.Distribution{}
	}
	if m.Distribution.TLP == nil {
		m.Distribution.TLP = &csaf.TLP{}
	}
	m.Distribution.TLP.Label = tlp
	m.Notes = setNote(m.Notes, "summary", "Summary", summary)
	m.Notes = setNote(m.Notes, "details", "Details", details)
	m.References, m.Acknowledgments = refs, acks
	return nil
}

// row is a repeated row of a form: its index, and whether it holds what
// the document has (a remove box) or is the empty one to add.
type row struct {
	I        int
	Existing bool
}

func rowsOf(f url.Values, name string, existing int) []row {
	n := rowCount(f, name)
	out := make([]row, n)
	for i := range out {
		out[i] = row{I: i, Existing: i < existing}
	}
	return out
}

func (h *handlers) documentForm(w http.ResponseWriter, r *http.Request) error {
	a, err := h.load(r)
	if err != nil {
		return err
	}
	d, err := a.Doc()
	if err != nil {
		return err
	}
	return h.renderDocument(w, r, a, d, documentForm(d), nil)
}

func (h *handlers) renderDocument(w http.ResponseWriter, r *http.Request, a *Advisory, d *csaf.Document, form url.Values, ferr error) error {
	data := editData(r, a)
	cats := Categories
	if !slices.Contains(cats, d.Document.Category) && d.Document.Category != "" {
		cats = append(slices.Clone(cats), d.Document.Category)
	}
	data["Langs"], data["TLPs"], data["Categories"], data["RefCategories"] = Langs, TLPs, cats, refCategories
	data["Refs"] = rowsOf(form, "refs", len(d.Document.References))
	data["Acks"] = rowsOf(form, "acks", len(d.Document.Acknowledgments))
	p := &web.Page{Title: h.t(r, "advedit.document.title", nil), Form: form, Data: data}
	return h.render(w, r, "adv_edit_document", p, ferr, nil)
}

func (h *handlers) saveDocument(w http.ResponseWriter, r *http.Request) error {
	a, err := h.load(r)
	if err != nil {
		return err
	}
	_, err = h.svc.Edit(r.Context(), a.ID, func(d *csaf.Document) error { return applyDocument(d, r.PostForm) })
	if err != nil {
		d, derr := a.Doc()
		if derr != nil {
			return derr
		}
		return h.renderDocument(w, r, a, d, r.PostForm, err)
	}
	return h.done(w, r, "advedit.flash.saved", manageBase(a.ID))
}

// ---- JSON ----

func (h *handlers) jsonForm(w http.ResponseWriter, r *http.Request) error {
	a, err := h.load(r)
	if err != nil {
		return err
	}
	return h.renderJSON(w, r, a, url.Values{"document": {string(a.Document)}}, nil)
}

func (h *handlers) renderJSON(w http.ResponseWriter, r *http.Request, a *Advisory, form url.Values, ferr error) error {
	p := &web.Page{Title: h.t(r, "advedit.json.title", nil), Form: form, Data: editData(r, a)}
	return h.render(w, r, "adv_edit_json", p, ferr, func(f string) bool { return f == "document" })
}

func (h *handlers) saveJSON(w http.ResponseWriter, r *http.Request) error {
	a, err := h.load(r)
	if err != nil {
		return err
	}
	raw := strings.TrimSpace(r.PostForm.Get("document"))
	if raw == "" {
		return h.renderJSON(w, r, a, r.PostForm, errs.Field("document", "err.advedit.json_missing", nil))
	}
	if _, err := h.svc.SetDocument(r.Context(), a.ID, []byte(raw)); err != nil {
		return h.renderJSON(w, r, a, r.PostForm, err)
	}
	return h.done(w, r, "advedit.flash.saved", manageBase(a.ID))
}

// ---- preview ----

// vulnView is a vulnerability as the preview shows it.
type vulnView struct {
	N            int
	V            csaf.Vulnerability
	Description  string
	CVSS3, CVSS4 *csaf.Score
	Statuses     []statusView
	Remediations []csaf.Remediation
	Impact       string
	Exploit      string
}

// statusView is a product status with the products' names.
type statusView struct {
	Status   string
	Products []string
}

func viewVulns(d *csaf.Document) []vulnView {
	names := map[string]string{}
	for _, p := range productRows(d) {
		names[p.ID] = p.Name
	}
	var out []vulnView
	for i, v := range d.Vulnerabilities {
		vv := vulnView{N: i + 1, V: v, Description: noteOf(v.Notes, "description"), Remediations: v.Remediations}
		if vec := cvss3Vector(v); vec != "" {
			if s, err := csaf.ScoreVector(vec); err == nil {
				vv.CVSS3 = &s
			}
		}
		if vec := cvss4Vector(v); vec != "" {
			if s, err := csaf.ScoreVector(vec); err == nil {
				vv.CVSS4 = &s
			}
		}
		st := statusesOf(v)
		for _, s := range productStatuses {
			var ps []string
			for _, p := range productOrder(d, st, s) {
				ps = append(ps, cmpOr(names[p], p))
			}
			if len(ps) > 0 {
				vv.Statuses = append(vv.Statuses, statusView{Status: s, Products: ps})
			}
		}
		for _, t := range v.Threats {
			switch t.Category {
			case "impact":
				vv.Impact = t.Details
			case "exploit_status":
				vv.Exploit = t.Details
			}
		}
		out = append(out, vv)
	}
	return out
}

// productOrder lists the products of status s in the order of st's map
// (product ids sorted as the document lists them).
func productOrder(d *csaf.Document, st map[string]string, s string) []string {
	var out []string
	for _, id := range statusIDs(d, st) {
		if st[id] == s {
			out = append(out, id)
		}
	}
	return out
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (h *handlers) preview(w http.ResponseWriter, r *http.Request) error {
	a, err := h.load(r)
	if err != nil {
		return err
	}
	prep, err := h.svc.Prepare(r.Context(), a.ID)
	if err != nil {
		return err
	}
	var mandatory, optional, informative []csaf.Finding
	for _, f := range prep.Report.Findings {
		switch f.Level {
		case csaf.Mandatory:
			mandatory = append(mandatory, f)
		case csaf.Optional:
			optional = append(optional, f)
		default:
			informative = append(informative, f)
		}
	}
	d := prep.Document
	data := editData(r, a)
	data["Valid"] = prep.Report.Valid
	data["Version"] = prep.Version
	data["Mandatory"], data["Optional"], data["Informative"] = mandatory, optional, informative
	data["Doc"] = d
	data["Products"] = productRows(d)
	data["Vulns"] = viewVulns(d)
	data["JSON"] = string(prep.Content)
	p := &web.Page{Title: pageTitle(h.t(r, "advedit.preview.title", nil), a), Data: data}
	return h.srv.RenderPage(w, r, http.StatusOK, "adv_manage_preview", p)
}
