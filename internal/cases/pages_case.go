package cases

// A case's overview: its header, description, affected organisations and
// links, the form that changes its status, severity, labels, assignee and
// resolution, and the form that adds a link.

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

// updateFields are the inputs of the overview's forms.
var updateFields = same("status", "severity", "tlp", "pap", "assignee_id", "resolution", "kind", "target")

// linkView is a link of the case with, for another case, its page.
type linkView struct {
	Link
	Href string
}

func (h *handlers) overview(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r)
	if err != nil {
		return err
	}
	return h.renderOverview(w, r, c, nil, nil)
}

func (h *handlers) renderOverview(w http.ResponseWriter, r *http.Request, c *Case, form url.Values, ferr error) error {
	people, err := h.staffPeople(r.Context())
	if err != nil {
		return err
	}
	links, err := h.linkViews(r.Context(), c)
	if err != nil {
		return err
	}
	if form == nil {
		form = url.Values{"status": {c.Status}, "severity": {strconv.Itoa(c.Severity)}, "tlp": {c.TLP}, "pap": {c.PAP},
			"assignee_id": {strconv.FormatInt(c.AssigneeID, 10)}, "resolution": {c.Resolution}, "kind": {"incident"}}
	}
	data := caseData(r, c, "")
	data["Description"] = RenderMarkdown(c.Description)
	data["Links"] = links
	data["People"] = people
	data["Statuses"], data["Severities"], data["TLPs"], data["PAPs"], data["LinkKinds"] = Statuses, Severities, TLPs, PAPs, LinkKinds
	p := &web.Page{Title: h.caseTitle(r, c.Title, c), Form: form, Data: data}
	return h.render(w, r, "case_view", p, ferr, updateFields)
}

// linkViews gives links to other cases their page.
func (h *handlers) linkViews(ctx context.Context, c *Case) ([]linkView, error) {
	out := make([]linkView, len(c.Links))
	for i, l := range c.Links {
		out[i].Link = l
		if l.Kind != "case" {
			continue
		}
		var id int64
		if err := h.svc.db.QueryRow(ctx, `SELECT id FROM cases WHERE ref = ?`, l.Target).Scan(&id); err == nil {
			out[i].Href = caseBase(id)
		}
	}
	return out, nil
}

func (h *handlers) updatePost(w http.ResponseWriter, r *http.Request) error {
	if err := worker(r); err != nil {
		return err
	}
	c, err := h.load(r)
	if err != nil {
		return err
	}
	f := r.PostForm
	var v errs.Validator
	status, tlp, pap, resolution := f.Get("status"), f.Get("tlp"), f.Get("pap"), f.Get("resolution")
	in := Input{Status: &status, TLP: &tlp, PAP: &pap, Resolution: &resolution}
	if n, err := strconv.Atoi(f.Get("severity")); v.Check(err == nil, "severity", "err.case.severity") {
		in.Severity = &n
	}
	a := strings.TrimSpace(f.Get("assignee_id"))
	if a == "" {
		a = "0"
	}
	if n, err := strconv.ParseInt(a, 10, 64); v.Check(err == nil && n >= 0, "assignee_id", "err.case.assignee") {
		in.AssigneeID = &n
	}
	if err := v.Err(); err != nil {
		return h.renderOverview(w, r, c, f, err)
	}
	if _, err := h.svc.Update(r.Context(), c.ID, in); err != nil {
		return h.renderOverview(w, r, c, f, err)
	}
	return h.done(w, r, "casesui.flash.updated", caseBase(c.ID))
}

func (h *handlers) linkPost(w http.ResponseWriter, r *http.Request) error {
	if err := worker(r); err != nil {
		return err
	}
	c, err := h.load(r)
	if err != nil {
		return err
	}
	f := r.PostForm
	if _, err := h.svc.AddLink(r.Context(), c.ID, Link{Kind: f.Get("kind"), Target: f.Get("target")}); err != nil {
		form := url.Values{"status": {c.Status}, "severity": {strconv.Itoa(c.Severity)}, "tlp": {c.TLP}, "pap": {c.PAP},
			"assignee_id": {strconv.FormatInt(c.AssigneeID, 10)}, "resolution": {c.Resolution}, "kind": {f.Get("kind")}, "target": {f.Get("target")}}
		return h.renderOverview(w, r, c, form, err)
	}
	return h.done(w, r, "casesui.flash.linked", caseBase(c.ID)+"#links")
}
