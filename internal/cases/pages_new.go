package cases

// A new case: by hand, from a NIS2 incident report (its reference or id)
// or from feed events (their ids).

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

// newFields are the inputs of the new-case form, by the service's field
// names.
var newFields = same("title", "description", "template", "severity", "tlp", "pap", "organisations", "exercise", "incident", "events")

func (h *handlers) newForm(w http.ResponseWriter, r *http.Request) error {
	if err := worker(r); err != nil {
		return err
	}
	return h.renderNew(w, r, url.Values{"template": {""}, "tlp": {"AMBER"}, "pap": {"AMBER"}}, nil)
}

func (h *handlers) renderNew(w http.ResponseWriter, r *http.Request, form url.Values, err error) error {
	orgs, oerr := h.orgChoices(r.Context())
	if oerr != nil {
		return oerr
	}
	p := &web.Page{Title: h.t(r, "casesui.new.title", nil), Form: form, Data: map[string]any{
		"Templates": Templates, "Severities": Severities, "TLPs": TLPs, "PAPs": PAPs, "Orgs": orgs, "Chosen": form["organisations"]}}
	return h.render(w, r, "case_new", p, err, newFields)
}

func (h *handlers) createPost(w http.ResponseWriter, r *http.Request) error {
	if err := worker(r); err != nil {
		return err
	}
	f := r.PostForm
	in, err := newInput(f)
	if err != nil {
		return h.renderNew(w, r, f, err)
	}
	in.Locale = web.Locale(r) // the tasks' titles in the page's language
	incident, events := strings.TrimSpace(f.Get("incident")), strings.TrimSpace(f.Get("events"))
	var c *Case
	switch {
	case incident != "" && events != "":
		err = errs.Field("events", "err.casesui.one_source", nil)
	case incident != "":
		var id int64
		if id, err = h.incidentID(r.Context(), incident); err == nil {
			c, err = h.svc.FromIncident(r.Context(), id, in)
			if errs.Is(err, errs.NotFound) {
				err = errs.Field("incident", "err.casesui.incident_unknown", map[string]any{"ref": incident})
			}
		}
	case events != "":
		var ids []int64
		if ids, err = eventIDs(events); err == nil {
			c, err = h.svc.FromFeedEvents(r.Context(), ids, in)
		}
	default:
		if in.Title == nil {
			in.Title = new("")
		}
		c, err = h.svc.Create(r.Context(), in)
	}
	if err != nil {
		return h.renderNew(w, r, f, err)
	}
	return h.done(w, r, "casesui.flash.created", caseBase(c.ID))
}

// newInput reads the new-case form. An empty title stays nil, so that a
// case from an incident or feed events takes its title from them.
func newInput(f url.Values) (Input, error) {
	var in Input
	var v errs.Validator
	if t := strings.TrimSpace(f.Get("title")); t != "" {
		in.Title = &t
	}
	if d := strings.TrimSpace(f.Get("description")); d != "" {
		in.Description = &d
	}
	in.Template = f.Get("template")
	if s := f.Get("severity"); s != "" {
		n, err := strconv.Atoi(s)
		if v.Check(err == nil, "severity", "err.case.severity") {
			in.Severity = &n
		}
	}
	tlp, pap := f.Get("tlp"), f.Get("pap")
	in.TLP, in.PAP = &tlp, &pap
	in.Exercise = new(f.Get("exercise") == "yes")
	if vals := f["organisations"]; len(vals) > 0 {
		var ids []int64
		for _, s := range vals {
			n, err := strconv.ParseInt(s, 10, 64)
			if !v.Check(err == nil && n > 0, "organisations", "err.casesui.org_choice") {
				break
			}
			ids = append(ids, n)
		}
		in.Orgs = &ids
	}
	return in, v.Err()
}

// incidentID finds an incident by its reference (INC-2026-000123) or id.
func (h *handlers) incidentID(ctx context.Context, s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		return n, nil
	}
	var id int64
	err := h.svc.db.QueryRow(ctx, `SELECT id FROM incidents WHERE ref = ?`, strings.ToUpper(s)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errs.Field("incident", "err.casesui.incident_unknown", map[string]any{"ref": s})
	}
	return id, err
}

// eventIDs reads feed event ids separated by commas or spaces.
func eventIDs(s string) ([]int64, error) {
	var ids []int64
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		n, err := strconv.ParseInt(part, 10, 64)
		if err != nil || n <= 0 {
			return nil, errs.Field("events", "err.casesui.events_format", map[string]any{"value": part})
		}
		ids = append(ids, n)
	}
	return ids, nil
}
