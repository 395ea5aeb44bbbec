package advisory

// The analysts' portal pages: the list of working copies, a new advisory
// (from a few facts or imported CSAF JSON), the advisory's overview as a
// task list with its workflow box and history, and the workflow steps.
// The structured editor's pages are in pages_editor_*.go. The authority's
// staff read these pages (CanManage); analysts change (CanEdit).

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

// maxImport is the largest CSAF JSON the import form takes.
const maxImport = 8 << 20

func (h *handlers) editorRoutes() {
	s := h.srv
	s.Page("GET /advisories/manage", h.manageList)
	s.Page("GET /advisories/new", h.newForm)
	s.Page("POST /advisories/new", h.create)
	s.Page("GET /advisories/import", h.importForm)
	s.UploadPage("POST /advisories/import", h.importDoc, maxImport+1<<20)
	s.Page("GET /advisories/manage/{id}", h.overview)
	s.Page("GET /advisories/manage/{id}/document", h.documentForm)
	s.Page("POST /advisories/manage/{id}/document", h.saveDocument)
	s.Page("GET /advisories/manage/{id}/products", h.productsPage)
	s.Page("POST /advisories/manage/{id}/products", h.addProductPost)
	s.Page("POST /advisories/manage/{id}/products/remove", h.removeProductPost)
	s.Page("GET /advisories/manage/{id}/vulnerabilities", h.vulnsPage)
	s.Page("GET /advisories/manage/{id}/vulnerabilities/new", h.vulnForm)
	s.Page("POST /advisories/manage/{id}/vulnerabilities/new", h.saveVuln)
	s.Page("GET /advisories/manage/{id}/vulnerabilities/{n}", h.vulnForm)
	s.Page("POST /advisories/manage/{id}/vulnerabilities/{n}", h.saveVuln)
	s.Page("POST /advisories/manage/{id}/vulnerabilities/{n}/delete", h.deleteVuln)
	s.Page("GET /advisories/manage/{id}/audience", h.audienceForm)
	s.Page("POST /advisories/manage/{id}/audience", h.saveAudience)
	s.Page("GET /advisories/manage/{id}/json", h.jsonForm)
	s.Page("POST /advisories/manage/{id}/json", h.saveJSON)
	s.Page("GET /advisories/manage/{id}/preview", h.preview)
	s.Page("POST /advisories/manage/{id}/submit", h.submit)
	s.Page("POST /advisories/manage/{id}/return", h.returnDraft)
	s.Page("POST /advisories/manage/{id}/approve", h.approve)
	s.Page("POST /advisories/manage/{id}/cancel", h.cancel)
	s.Page("POST /advisories/manage/{id}/revise", h.revise)
}

func (h *handlers) t(r *http.Request, key string, args map[string]any) string {
	return h.srv.Catalog().T(web.Locale(r), key, args)
}

func manageBase(id int64) string { return fmt.Sprintf("/advisories/manage/%d", id) }

// staff refuses people outside the authority's staff as the service does:
// what they may not see does not exist for them.
func staff(r *http.Request) error {
	if !CanManage(auth.From(r.Context())) {
		return notFound()
	}
	return nil
}

// load returns the advisory of the request's {id}, for the staff.
func (h *handlers) load(r *http.Request) (*Advisory, error) {
	id, err := web.PathID(r, "id")
	if err != nil {
		return nil, err
	}
	return h.svc.Get(r.Context(), id)
}

// editable reports whether the reader may change the working copy now.
func editable(r *http.Request, a *Advisory) bool {
	return a.State == StateDraft && CanEdit(auth.From(r.Context()))
}

// readOnlyKey is the note of an edit page shown read-only, saying why.
func readOnlyKey(r *http.Request, a *Advisory) string {
	switch {
	case !CanEdit(auth.From(r.Context())):
		return "advedit.readonly.not_editor"
	case a.State == StateReview:
		return "advedit.readonly.review"
	case a.State == StateScheduled:
		return "advedit.readonly.scheduled"
	case a.State == StatePublished:
		return "advedit.readonly.published"
	}
	return ""
}

// editData is what every page of one advisory gets: the advisory, its
// base path, and whether its forms may be sent.
func editData(r *http.Request, a *Advisory) map[string]any {
	ed := editable(r, a)
	data := map[string]any{"A": a, "Base": manageBase(a.ID), "Editable": ed}
	if !ed {
		data["ReadOnly"] = readOnlyKey(r, a)
	}
	return data
}

// fail fills p with the errors of err: the fields of an Invalid error,
// the message of a Conflict (and of a Forbidden one when shown is true,
// for the workflow's four-eyes rule). It returns the status to answer
// with, or err itself when the page cannot show it. anchors lists the
// fields the page has inputs for; the others are shown without a link.
func (h *handlers) fail(r *http.Request, p *web.Page, err error, shown bool, anchors func(string) bool) (int, error) {
	e, ok := errs.As(err)
	if !ok {
		return 0, err
	}
	switch {
	case e.Kind == errs.Invalid:
	case e.Kind == errs.Conflict:
	case e.Kind == errs.Forbidden && shown && e.Code != "err.forbidden":
	default:
		return 0, err
	}
	for _, f := range e.Fields {
		field := f.Field
		if anchors != nil && !anchors(field) {
			field = ""
		}
		p.Errors = append(p.Errors, web.FieldMessage{Field: field, Message: h.srv.Message(r, f.Code, f.Args)})
	}
	if len(e.Fields) == 0 {
		p.Errors = append(p.Errors, web.FieldMessage{Message: h.srv.Message(r, e.Code, e.Args)})
	}
	switch e.Kind {
	case errs.Conflict:
		return http.StatusConflict, nil
	case errs.Forbidden:
		return http.StatusForbidden, nil
	}
	return http.StatusUnprocessableEntity, nil
}

// render writes an editor page; err, if not nil, is the refusal of a POST
// shown on it with what was typed.
func (h *handlers) render(w http.ResponseWriter, r *http.Request, name string, p *web.Page, err error, anchors func(string) bool) error {
	if data, ok := p.Data.(map[string]any); ok {
		if a, ok := data["A"].(*Advisory); ok {
			p.Title = pageTitle(p.Title, a)
		}
	}
	status := http.StatusOK
	if err != nil {
		st, ferr := h.fail(r, p, err, false, anchors)
		if ferr != nil {
			return ferr
		}
		status = st
	}
	return h.srv.RenderPage(w, r, status, name, p)
}

// pageTitle names the advisory and its TLP label in the title of one of
// its pages: the label is in the title of every page showing content.
func pageTitle(title string, a *Advisory) string {
	return title + " – " + a.TrackingID + " " + tlpText(a.TLP)
}

// done answers a successful POST: the flash message, then the page.
func (h *handlers) done(w http.ResponseWriter, r *http.Request, flash, to string) error {
	h.srv.Flash(w, flash)
	return web.Redirect(w, r, to)
}

// ---- the list ----

// manageStates are the working copies' states the list filters on.
var manageStates = []string{StateDraft, StateReview, StateScheduled, StatePublished}

type chosenFilter struct {
	Label  string
	Remove string // the query without this filter
}

func (h *handlers) manageList(w http.ResponseWriter, r *http.Request) error {
	if err := staff(r); err != nil {
		return err
	}
	q := url.Values{}
	for _, k := range []string{"state", "tlp", "q"} {
		if v := strings.TrimSpace(r.URL.Query().Get(k)); v != "" {
			q.Set(k, v)
		}
	}
	f := ListFilter{Manage: true, State: q.Get("state"), TLP: q.Get("tlp"), Text: q.Get("q"), Offset: web.PageOffset(r), Limit: web.PageSize}
	items, total, err := h.svc.List(r.Context(), f)
	var ferr error
	if errs.Is(err, errs.Invalid) {
		// A bad bookmark still shows the list: all of it, with the error.
		ferr = err
		f = ListFilter{Manage: true, Offset: f.Offset, Limit: f.Limit}
		items, total, err = h.svc.List(r.Context(), f)
	}
	if err != nil {
		return err
	}
	var chosen []chosenFilter
	if ferr == nil {
		for _, k := range []string{"state", "tlp", "q"} {
			v := q.Get(k)
			if v == "" {
				continue
			}
			label := v
			switch k {
			case "state":
				label = h.t(r, "advedit.state."+v, nil)
			case "tlp":
				label = tlpText(v)
			case "q":
				label = h.t(r, "advedit.list.text_label", map[string]any{"text": v})
			}
			rest := url.Values{}
			for key, vals := range q {
				if key != k {
					rest[key] = vals
				}
			}
			chosen = append(chosen, chosenFilter{Label: label, Remove: rest.Encode()})
		}
	}
	p := &web.Page{Title: h.t(r, "advedit.list.title", nil), Form: q, Data: map[string]any{"Items": items, "Pager": web.NewPager(r, total),
		"Chosen": chosen, "States": manageStates, "TLPs": TLPs, "CanEdit": CanEdit(auth.From(r.Context()))}}
	if ferr != nil {
		if _, err := h.fail(r, p, ferr, false, nil); err != nil {
			return err
		}
	}
	return h.srv.RenderPage(w, r, http.StatusOK, "adv_manage", p)
}

// tlpText is a CSAF 2.0 label as people read it: WHITE is TLP:CLEAR.
func tlpText(label string) string {
	if label == "WHITE" {
		return "TLP:CLEAR"
	}
	return "TLP:" + label
}

// ---- a new advisory ----

func (h *handlers) newForm(w http.ResponseWriter, r *http.Request) error {
	if !CanEdit(auth.From(r.Context())) {
		return forbidden()
	}
	form := url.Values{"lang": {web.Locale(r)}, "category": {"csaf_security_advisory"}}
	return h.renderNew(w, r, form, nil)
}

func (h *handlers) renderNew(w http.ResponseWriter, r *http.Request, form url.Values, err error) error {
	p := &web.Page{Title: h.t(r, "advedit.new.title", nil), Form: form, Data: map[string]any{"Langs": Langs, "TLPs": TLPs, "Categories": Categories}}
	return h.render(w, r, "adv_manage_new", p, err, nil)
}

func (h *handlers) create(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	a, err := h.svc.Create(r.Context(), NewInput{Title: f.Get("title"), Lang: f.Get("lang"), TLP: f.Get("tlp"), Category: f.Get("category")})
	if err != nil {
		return h.renderNew(w, r, f, err)
	}
	return h.done(w, r, "advedit.flash.created", manageBase(a.ID))
}

// ---- import ----

func (h *handlers) importForm(w http.ResponseWriter, r *http.Request) error {
	if !CanEdit(auth.From(r.Context())) {
		return forbidden()
	}
	return h.renderImport(w, r, nil, nil)
}

func (h *handlers) renderImport(w http.ResponseWriter, r *http.Request, form url.Values, err error) error {
	p := &web.Page{Title: h.t(r, "advedit.import.title", nil), Form: form, Data: map[string]any{"Max": maxImport >> 20}}
	return h.render(w, r, "adv_manage_import", p, err, func(f string) bool { return f == "document" || f == "file" })
}

func (h *handlers) importDoc(w http.ResponseWriter, r *http.Request) error {
	if !CanEdit(auth.From(r.Context())) {
		return forbidden()
	}
	form := url.Values{"document": {r.PostFormValue("document")}}
	raw := []byte(strings.TrimSpace(form.Get("document")))
	if file, fh, ferr := r.FormFile("file"); ferr == nil {
		defer file.Close()
		b, err := io.ReadAll(io.LimitReader(file, maxImport+1))
		switch {
		case err != nil:
			return err
		case len(b) > maxImport:
			return h.renderImport(w, r, form, errs.Field("file", "err.advedit.import_too_large", map[string]any{"name": fh.Filename, "max": maxImport >> 20}))
		case len(raw) > 0 && len(b) > 0:
			return h.renderImport(w, r, form, errs.Field("document", "err.advedit.import_both", nil))
		case len(b) == 0 && fh.Filename != "":
			return h.renderImport(w, r, form, errs.Field("file", "err.advedit.import_empty_file", map[string]any{"name": fh.Filename}))
		}
		if len(b) > 0 {
			raw = b
		}
	}
	if len(raw) == 0 {
		return h.renderImport(w, r, form, errs.Field("document", "err.advedit.import_missing", nil))
	}
	a, err := h.svc.Import(r.Context(), raw)
	if err != nil {
		return h.renderImport(w, r, form, err)
	}
	return h.done(w, r, "advedit.flash.imported", manageBase(a.ID))
}

// ---- the overview ----

// task is a row of the overview's task list.
type task struct {
	Key    string // the section's name
	Path   string // its page under the advisory's base
	Status string // message key of its status
	Args   map[string]any
	Tag    string // tag class when the section needs action
}

func (h *handlers) tasks(a *Advisory) ([]task, error) {
	d, err := a.Doc()
	if err != nil {
		return nil, err
	}
	var ts []task
	docStatus, tag := "advedit.task.done", "tag-done"
	if noteOf(d.Document.Notes, "summary") == "" {
		docStatus, tag = "advedit.task.to_do", "tag-info"
	}
	ts = append(ts, task{Key: "advedit.task.document", Path: "/document", Status: docStatus, Tag: tag})
	n := len(productRows(d))
	pt := task{Key: "advedit.task.products", Path: "/products", Status: "advedit.task.products_n", Args: map[string]any{"n": n}}
	if n == 0 {
		pt.Status, pt.Tag = "advedit.task.to_do", "tag-info"
	}
	ts = append(ts, pt)
	vt := task{Key: "advedit.task.vulnerabilities", Path: "/vulnerabilities", Status: "advedit.task.vulnerabilities_n", Args: map[string]any{"n": len(d.Vulnerabilities)}}
	if len(d.Vulnerabilities) == 0 {
		vt.Status, vt.Tag = "advedit.task.to_do", "tag-info"
	}
	ts = append(ts, vt)
	switch a.TLP {
	case "AMBER":
		at := task{Key: "advedit.task.audience", Path: "/audience", Status: "advedit.task.orgs_n", Args: map[string]any{"n": len(a.RecipientOrgs)}}
		if len(a.RecipientOrgs) == 0 {
			at.Status, at.Tag = "advedit.task.to_do", "tag-info"
		}
		ts = append(ts, at)
	case "RED":
		at := task{Key: "advedit.task.audience", Path: "/audience", Status: "advedit.task.users_n", Args: map[string]any{"n": len(a.RecipientUsers)}}
		if len(a.RecipientUsers) == 0 {
			at.Status, at.Tag = "advedit.task.to_do", "tag-info"
		}
		ts = append(ts, at)
	}
	ts = append(ts, task{Key: "advedit.task.json", Path: "/json", Status: "advedit.task.json_status"},
		task{Key: "advedit.task.preview", Path: "/preview", Status: "advedit.task.preview_status"})
	return ts, nil
}

func (h *handlers) overview(w http.ResponseWriter, r *http.Request) error {
	a, err := h.load(r)
	if err != nil {
		return err
	}
	return h.renderOverview(w, r, a, nil, nil)
}

// overviewFields are the inputs of the overview's workflow forms.
var overviewFields = []string{"status", "summary", "note", "when", "publish_at"}

func (h *handlers) renderOverview(w http.ResponseWriter, r *http.Request, a *Advisory, form url.Values, ferr error) error {
	ts, err := h.tasks(a)
	if err != nil {
		return err
	}
	hist, err := h.svc.History(r.Context(), a.ID)
	if err != nil {
		return err
	}
	slices.Reverse(hist) // newest first
	vs, err := h.svc.Versions(r.Context(), a.ID)
	if err != nil {
		return err
	}
	p0 := auth.From(r.Context())
	if form == nil {
		form = url.Values{"status": {"final"}, "when": {"now"}}
		if a.TargetStatus != "" {
			form.Set("status", a.TargetStatus)
		}
	}
	data := editData(r, a)
	data["Tasks"] = ts
	data["History"] = hist
	data["Versions"] = vs
	data["CanEdit"] = CanEdit(p0)
	data["OwnSubmission"] = a.SubmittedBy != 0 && p0 != nil && a.SubmittedBy == p0.UserID
	data["FourEyes"] = p0 != nil && (a.SubmittedBy == p0.UserID || a.UpdatedBy == p0.UserID)
	if a.PublishAt != nil {
		data["PublishAtText"] = h.srv.Catalog().DateTime(web.Locale(r), *a.PublishAt)
	}
	p := &web.Page{Title: pageTitle(a.Title, a), Form: form, Data: data}
	status := http.StatusOK
	if ferr != nil {
		st, err := h.fail(r, p, ferr, true, func(f string) bool { return slices.Contains(overviewFields, f) })
		if err != nil {
			return err
		}
		status = st
	}
	return h.srv.RenderPage(w, r, status, "adv_manage_overview", p)
}

// step runs a workflow step on the advisory of the request and answers:
// back to the overview with flash, or the overview with the refusal.
func (h *handlers) step(w http.ResponseWriter, r *http.Request, flash string, fn func(id int64) error) error {
	a, err := h.load(r)
	if err != nil {
		return err
	}
	if err := fn(a.ID); err != nil {
		if fresh, lerr := h.svc.Get(r.Context(), a.ID); lerr == nil {
			a = fresh
		}
		return h.renderOverview(w, r, a, r.PostForm, err)
	}
	return h.done(w, r, flash, manageBase(a.ID))
}

func (h *handlers) submit(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	return h.step(w, r, "advedit.flash.submitted", func(id int64) error {
		if st := f.Get("status"); st != "interim" && st != "final" {
			return errs.Field("status", "err.advedit.status_missing", nil)
		}
		_, err := h.svc.Submit(r.Context(), id, SubmitInput{Status: f.Get("status"), Summary: f.Get("summary")})
		return err
	})
}

func (h *handlers) returnDraft(w http.ResponseWriter, r *http.Request) error {
	return h.step(w, r, "advedit.flash.returned", func(id int64) error {
		_, err := h.svc.Return(r.Context(), id, r.PostForm.Get("note"))
		return err
	})
}

func (h *handlers) approve(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	flash := "advedit.flash.published"
	if f.Get("when") == "at" {
		flash = "advedit.flash.scheduled"
	}
	return h.step(w, r, flash, func(id int64) error {
		at, err := parseWhen(f.Get("when"), f.Get("publish_at"), h.srv.Catalog().Zone())
		if err != nil {
			return err
		}
		_, err = h.svc.Approve(r.Context(), id, at)
		return err
	})
}

// parseWhen reads the approval's choice: publish now (nil) or at a time
// typed as "YYYY-MM-DD HH:MM" in zone (Belgian time).
func parseWhen(when, at string, zone *time.Location) (*time.Time, error) {
	switch when {
	case "now":
		return nil, nil
	case "at":
	default:
		return nil, errs.Field("when", "err.advedit.when_missing", nil)
	}
	s := strings.Join(strings.Fields(strings.ReplaceAll(at, "T", " ")), " ")
	if s == "" {
		return nil, errs.Field("publish_at", "err.advedit.publish_at_missing", nil)
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-1-2 15:04", "2006-01-02 15.04", "2006-1-2 15.04"} {
		if t, err := time.ParseInLocation(layout, s, zone); err == nil {
			return &t, nil
		}
	}
	return nil, errs.Field("publish_at", "err.advedit.publish_at_format", nil)
}

func (h *handlers) cancel(w http.ResponseWriter, r *http.Request) error {
	return h.step(w, r, "advedit.flash.cancelled", func(id int64) error {
		_, err := h.svc.Cancel(r.Context(), id)
		return err
	})
}

func (h *handlers) revise(w http.ResponseWriter, r *http.Request) error {
	return h.step(w, r, "advedit.flash.revising", func(id int64) error {
		_, err := h.svc.Revise(r.Context(), id)
		return err
	})
}
