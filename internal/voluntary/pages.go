package voluntary

// The portal: the public form (one page, no account), the "check your
// mail" page, the confirmation page behind the link (a button, so that
// mail scanners following links confirm nothing) and the receipt; and the
// authority's queue with its filters and the page of one notification.

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/reporting"
	"github.com/belfry-cert/belfry/internal/web"
)

func (h *handlers) pageRoutes() {
	h.srv.PublicPage("GET /voluntary", h.form)
	h.srv.PublicPage("POST /voluntary", h.submit)
	h.srv.PublicPage("GET /voluntary/sent", h.sent)
	h.srv.PublicPage("GET /voluntary/confirm", h.confirmForm)
	h.srv.PublicPage("POST /voluntary/confirm", h.confirm)
	h.srv.Page("GET /voluntary/inbox", h.inbox)
	h.srv.Page("GET /voluntary/inbox/{id}", h.detail)
	h.srv.Page("POST /voluntary/inbox/{id}", h.setStatus)
}

func principal(r *http.Request) *auth.Principal { return auth.From(r.Context()) }

func (h *handlers) t(r *http.Request, key string, args map[string]any) string {
	return h.srv.Catalog().T(web.Locale(r), key, args)
}

// formData is what the form's choices need.
func formData() map[string]any {
	return map[string]any{"ReporterKinds": ReporterKinds, "Subjects": Subjects, "Impacts": Impacts, "TLPs": reporting.TLPs,
		"RSIT": reporting.RSIT(), "Sectors": nis2.Sectors()}
}

// dateView is the typed start time of the form, for the rep-datetime
// partial: its boxes' values and its errors.
type dateView struct {
	Name    string
	Values  map[string]string
	Errors  []string
	Invalid map[string]bool
}

var dateParts = []string{"day", "month", "year", "hour", "minute"}

func startedView(p *web.Page) dateView {
	d := dateView{Name: "started_at", Values: map[string]string{}, Invalid: map[string]bool{}}
	for _, part := range dateParts {
		d.Values[part] = p.Form.Get(d.Name + "-" + part)
	}
	for _, e := range p.Errors {
		switch {
		case e.Field == d.Name:
			d.Errors = append(d.Errors, e.Message)
			for _, part := range dateParts {
				d.Invalid[part] = true
			}
		case strings.HasPrefix(e.Field, d.Name+"-"):
			d.Errors = append(d.Errors, e.Message)
			d.Invalid[strings.TrimPrefix(e.Field, d.Name+"-")] = true
		}
	}
	return d
}

// renderForm writes the form; err (an Invalid error) holds the errors of
// a failed POST, shown with the answers typed.
func (h *handlers) renderForm(w http.ResponseWriter, r *http.Request, form url.Values, err error) error {
	p := &web.Page{Title: h.t(r, "vol.form.title", nil), Form: form, Data: formData()}
	status := http.StatusOK
	if err != nil {
		e, ok := errs.As(err)
		if !ok || e.Kind != errs.Invalid {
			return err
		}
		for _, f := range e.Fields {
			p.Errors = append(p.Errors, web.FieldMessage{Field: f.Field, Message: h.msg(r, f.Code, f.Args)})
		}
		status = http.StatusUnprocessableEntity
	}
	if p.Form == nil {
		p.Form = url.Values{"tlp": {"amber"}}
	}
	p.Data.(map[string]any)["Started"] = startedView(p)
	return h.srv.RenderPage(w, r, status, "vol_form", p)
}

// msg localises an error message; an argument named like "label_key" is
// a message key, passed as "label" in words (web.Server.Message).
func (h *handlers) msg(r *http.Request, code string, args map[string]any) string {
	return h.srv.Message(r, code, args)
}

func (h *handlers) form(w http.ResponseWriter, r *http.Request) error {
	return h.renderForm(w, r, nil, nil)
}

// contentOf reads the form; v collects the errors of the typed time.
func (h *handlers) contentOf(r *http.Request, v *errs.Validator) Content {
	f := r.PostForm
	c := Content{ReporterKind: f.Get("reporter_kind"), Name: f.Get("name"), Organisation: f.Get("organisation"), Email: f.Get("email"),
		Phone: f.Get("phone"), Language: web.Locale(r), Subject: f.Get("subject"), Description: f.Get("description"),
		Classification: f.Get("classification"), Impact: f.Get("impact"), Sector: f.Get("sector"), TLP: f.Get("tlp"),
		ContactWanted: f.Get("contact_wanted") == "yes", Consent: f.Get("consent") == "yes"}
	c.StartedAt = reporting.ParseTime(f, "started_at", "vol.time_noun.started_at", false, h.svc.tick(), v)
	return c
}

func (h *handlers) submit(w http.ResponseWriter, r *http.Request) error {
	if r.PostForm.Get("website") != "" {
		// The honeypot field is invisible to people; only robots fill it.
		return web.Redirect(w, r, "/voluntary/sent")
	}
	var v errs.Validator
	c := h.contentOf(r, &v)
	if v.Err() != nil {
		// Show every problem at once: the time's and the other answers'.
		c.Check(&v, h.svc.tick())
		return h.renderForm(w, r, r.PostForm, v.Err())
	}
	if err := h.svc.Submit(r.Context(), c); err != nil {
		return h.renderForm(w, r, r.PostForm, err)
	}
	return web.Redirect(w, r, "/voluntary/sent")
}

func (h *handlers) sent(w http.ResponseWriter, r *http.Request) error {
	return h.srv.Render(w, r, http.StatusOK, "vol_sent", "vol.sent.title", nil)
}

// summaryRow is an answer of the notification, in words.
type summaryRow struct {
	Key, Text string
	Mono      bool
}

func (h *handlers) summary(r *http.Request, c Content) []summaryRow {
	word := func(prefix, v string) string {
		if v == "" {
			return ""
		}
		return h.t(r, prefix+v, nil)
	}
	yes := func(b bool) string {
		if b {
			return h.t(r, "vol.yes", nil)
		}
		return h.t(r, "vol.no", nil)
	}
	started := ""
	if c.StartedAt != nil {
		started = h.srv.Catalog().DateTime(web.Locale(r), *c.StartedAt)
	}
	class := ""
	if c.Classification != "" {
		class = h.t(r, "repui.rsit."+c.Classification, nil) + " (" + c.Classification + ")"
	}
	sector := ""
	if c.Sector != "" {
		sector = h.t(r, nis2.SectorLabelKey(c.Sector), nil)
	}
	return []summaryRow{
		{Key: "vol.field.reporter_kind", Text: word("vol.reporter.", c.ReporterKind)},
		{Key: "vol.field.name", Text: c.Name},
		{Key: "vol.field.organisation", Text: c.Organisation},
		{Key: "vol.field.email", Text: c.Email},
		{Key: "vol.field.phone", Text: c.Phone},
		{Key: "vol.field.subject", Text: word("vol.subject.", c.Subject)},
		{Key: "vol.field.description", Text: c.Description},
		{Key: "vol.field.started_at", Text: started},
		{Key: "vol.field.classification", Text: class},
		{Key: "vol.field.impact", Text: word("vol.impact.", c.Impact)},
		{Key: "vol.field.sector", Text: sector},
		{Key: "vol.field.contact_wanted", Text: yes(c.ContactWanted)},
		{Key: "vol.field.tlp", Text: "TLP:" + strings.ToUpper(c.TLP), Mono: true},
	}
}

func (h *handlers) confirmForm(w http.ResponseWriter, r *http.Request) error {
	token := r.URL.Query().Get("token")
	p, err := h.svc.ByToken(r.Context(), token)
	if errs.Is(err, errs.NotFound) {
		return h.srv.Render(w, r, http.StatusNotFound, "vol_invalid", "vol.invalid.title", nil)
	}
	if err != nil {
		return err
	}
	if p.Receipt != nil {
		return h.receipt(w, r, p.Receipt, p.Content)
	}
	return h.srv.RenderPage(w, r, http.StatusOK, "vol_confirm", &web.Page{Title: h.t(r, "vol.confirm.title", nil),
		Form: url.Values{"token": {token}}, Data: map[string]any{"Rows": h.summary(r, p.Content)}})
}

func (h *handlers) confirm(w http.ResponseWriter, r *http.Request) error {
	token := r.PostForm.Get("token")
	_, err := h.svc.Confirm(r.Context(), token)
	if errs.Is(err, errs.NotFound) {
		return h.srv.Render(w, r, http.StatusNotFound, "vol_invalid", "vol.invalid.title", nil)
	}
	if err != nil {
		return err
	}
	h.srv.Flash(w, "vol.flash.received")
	return web.Redirect(w, r, "/voluntary/confirm?token="+url.QueryEscape(token))
}

// receipt writes the receipt of a confirmed notification.
func (h *handlers) receipt(w http.ResponseWriter, r *http.Request, rec *Receipt, c Content) error {
	return h.srv.RenderPage(w, r, http.StatusOK, "vol_receipt", &web.Page{Title: h.t(r, "vol.receipt.title", map[string]any{"ref": rec.Ref}),
		Data: map[string]any{"Rec": rec, "Stamp": h.srv.Catalog().DateTime(web.Locale(r), rec.ReceivedAt), "Rows": h.summary(r, c)}})
}

// ---- the authority's queue ----

// inboxParams are the query parameters of the queue's filters.
var inboxParams = []string{"status", "kind", "subject", "sector", "from", "to"}

// chosenFilter is a filter above the list, with the link that removes it.
type chosenFilter struct {
	Label  string
	Remove string // query without it
}

func (h *handlers) inbox(w http.ResponseWriter, r *http.Request) error {
	if !canRead(principal(r)) {
		return forbidden()
	}
	var v errs.Validator
	f := filterOf(r, &v)
	q := url.Values{}
	for _, k := range inboxParams {
		if s := strings.TrimSpace(r.URL.Query().Get(k)); s != "" {
			q.Set(k, s)
		}
	}
	var verr error
	if verr = v.Err(); verr == nil {
		verr = f.Validate()
	}
	if verr != nil {
		// A bad bookmark still shows a list: the whole queue, with the
		// errors of the filters.
		f = Filter{}
	}
	f.Offset, f.Limit = web.PageOffset(r), web.PageSize
	items, total, err := h.svc.List(r.Context(), f)
	if err != nil {
		return err
	}
	var chosen []chosenFilter
	for _, k := range inboxParams {
		val := q.Get(k)
		if val == "" || verr != nil {
			continue
		}
		label := val
		switch k {
		case "status":
			label = h.t(r, "vol.status."+val, nil)
		case "kind":
			label = h.t(r, "vol.reporter."+val, nil)
		case "subject":
			label = h.t(r, "vol.subject."+val, nil)
		case "sector":
			label = h.t(r, nis2.SectorLabelKey(val), nil)
		case "from":
			label = h.t(r, "vol.inbox.from_label", map[string]any{"date": val})
		case "to":
			label = h.t(r, "vol.inbox.to_label", map[string]any{"date": val})
		}
		rest := url.Values{}
		for key, vals := range q {
			if key != k {
				rest[key] = vals
			}
		}
		chosen = append(chosen, chosenFilter{Label: label, Remove: rest.Encode()})
	}
	p := &web.Page{Title: h.t(r, "vol.inbox.title", nil), Form: q, Data: map[string]any{"Items": items, "Pager": web.NewPager(r, total),
		"Chosen": chosen, "Statuses": Statuses, "ReporterKinds": ReporterKinds, "Subjects": Subjects, "Sectors": nis2.Sectors()}}
	if e, ok := errs.As(verr); ok {
		for _, fe := range e.Fields {
			p.Errors = append(p.Errors, web.FieldMessage{Field: fe.Field, Message: h.t(r, fe.Code, fe.Args)})
		}
	}
	return h.srv.RenderPage(w, r, http.StatusOK, "vol_inbox", p)
}

func (h *handlers) detail(w http.ResponseWriter, r *http.Request) error {
	return h.renderDetail(w, r, nil, nil)
}

func (h *handlers) renderDetail(w http.ResponseWriter, r *http.Request, form url.Values, ferr error) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	n, err := h.svc.Notification(r.Context(), id)
	if err != nil {
		return err
	}
	p := &web.Page{Title: h.t(r, "vol.detail.title", map[string]any{"ref": n.Ref}), Form: form,
		Data: map[string]any{"N": n, "Rows": h.summary(r, n.Content), "Next": Next(n.Status), "CanHandle": CanHandle(r.Context())}}
	status := http.StatusOK
	if ferr != nil {
		e, ok := errs.As(ferr)
		if !ok || (e.Kind != errs.Invalid && e.Kind != errs.Conflict) {
			return ferr
		}
		for _, f := range e.Fields {
			p.Errors = append(p.Errors, web.FieldMessage{Field: f.Field, Message: h.t(r, f.Code, f.Args)})
		}
		if len(e.Fields) == 0 {
			p.Errors = append(p.Errors, web.FieldMessage{Message: h.t(r, e.Code, e.Args)})
		}
		status = http.StatusUnprocessableEntity
		if e.Kind == errs.Conflict {
			status = http.StatusConflict
		}
	}
	return h.srv.RenderPage(w, r, status, "vol_detail", p)
}

func (h *handlers) setStatus(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	f := r.PostForm
	if _, err := h.svc.SetStatus(r.Context(), id, f.Get("status"), f.Get("note")); err != nil {
		if errs.Is(err, errs.Invalid) || errs.Is(err, errs.Conflict) {
			return h.renderDetail(w, r, f, err)
		}
		return err
	}
	h.srv.Flash(w, "vol.flash.status")
	return web.Redirect(w, r, fmt.Sprintf("/voluntary/inbox/%d", id))
}
