package cases

// The list of cases (UX.md pattern 18: filters as a GET form, so that
// every view can be bookmarked; chosen filters removable) and the open
// tasks across cases, soonest due first.

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

// listKeys are the list's filters, in the order they are shown.
var listKeys = []string{"status", "severity", "assignee", "org", "template", "exercise", "q"}

// listRow is a case of the list with its affected organisations' names.
type listRow struct {
	*Case
	OrgNames []string
}

func (h *handlers) listPage(w http.ResponseWriter, r *http.Request) error {
	if err := staff(r); err != nil {
		return err
	}
	p0 := auth.From(r.Context())
	q := url.Values{}
	for _, k := range listKeys {
		if v := strings.TrimSpace(r.URL.Query().Get(k)); v != "" {
			q.Set(k, v)
		}
	}
	orgs, err := h.orgChoices(r.Context())
	if err != nil {
		return err
	}
	f, v := h.listFilter(q, p0)
	f.Offset, f.Limit = (pageNumber(r)-1)*web.PageSize, web.PageSize
	var ferr error
	if err := v.Err(); err != nil {
		// A bad bookmark still shows a list: the active cases, with the error.
		ferr = err
		f = Filter{Status: "active", Offset: f.Offset, Limit: f.Limit}
	}
	cs, more, err := h.svc.List(r.Context(), f)
	if err != nil {
		return err
	}
	rows, err := h.withOrgNames(r.Context(), cs)
	if err != nil {
		return err
	}
	form := url.Values{}
	for k, vs := range q {
		form[k] = vs
	}
	if form.Get("status") == "" {
		form.Set("status", "active")
	}
	var chosen []chosenFilter
	if ferr == nil {
		chosen = h.chosen(r, q, orgs)
	}
	p := &web.Page{Title: h.t(r, "casesui.list.title", nil), Form: form, Data: map[string]any{
		"Rows": rows, "Pager": newPager(r, "/cases", more), "Chosen": chosen, "Statuses": Statuses, "Severities": Severities,
		"Orgs": orgs, "Templates": Templates, "CanWork": CanWork(p0)}}
	if ferr != nil {
		// A bad bookmark is shown with its error, but the list is there.
		if _, err := h.fail(r, p, ferr, same(listKeys...)); err != nil {
			return err
		}
	}
	return h.srv.RenderPage(w, r, http.StatusOK, "case_list", p)
}

// listFilter reads the list's query into a Filter, with the errors of
// values that are not among the choices.
func (h *handlers) listFilter(q url.Values, p *auth.Principal) (Filter, *errs.Validator) {
	var v errs.Validator
	f := Filter{Text: q.Get("q")}
	switch st := q.Get("status"); {
	case st == "" || st == "active":
		f.Status = "active"
	case st == "all":
	case slices.Contains(Statuses, st):
		f.Status = st
	default:
		v.Add("status", "err.casesui.filter_status", nil)
	}
	if s := q.Get("severity"); s != "" {
		n, err := strconv.Atoi(s)
		if v.Check(err == nil && slices.Contains(Severities, n), "severity", "err.case.severity") {
			f.Severity = n
		}
	}
	switch q.Get("assignee") {
	case "", "anyone":
	case "me":
		f.AssigneeID = p.UserID
	default:
		v.Add("assignee", "err.casesui.filter_assignee", nil)
	}
	if s := q.Get("org"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if v.Check(err == nil && n > 0, "org", "err.casesui.filter_org") {
			f.OrgID = n
		}
	}
	if s := q.Get("template"); s != "" {
		if v.Check(TemplateByName(s) != nil, "template", "err.case.template") {
			f.Template = s
		}
	}
	switch q.Get("exercise") {
	case "":
	case "yes":
		f.Exercise = new(true)
	case "no":
		f.Exercise = new(false)
	default:
		v.Add("exercise", "err.casesui.filter_exercise", nil)
	}
	return f, &v
}

// chosen lists the filters in q (but the default status) with the links
// that remove them.
func (h *handlers) chosen(r *http.Request, q url.Values, orgs []Org) []chosenFilter {
	var out []chosenFilter
	for _, k := range listKeys {
		val := q.Get(k)
		if val == "" || k == "status" && val == "active" {
			continue
		}
		var label string
		switch k {
		case "status":
			label = h.t(r, "casesui.chosen.status", map[string]any{"status": h.t(r, "casesui.status_filter."+val, nil)})
		case "severity":
			label = h.t(r, "casesui.chosen.severity", map[string]any{"severity": h.t(r, "casesui.severity."+val, nil)})
		case "assignee":
			label = h.t(r, "casesui.chosen.assignee_"+val, nil)
		case "org":
			name := val
			for _, o := range orgs {
				if strconv.FormatInt(o.ID, 10) == val {
					name = o.Name
				}
			}
			label = h.t(r, "casesui.chosen.org", map[string]any{"org": name})
		case "template":
			label = h.t(r, "casesui.chosen.template", map[string]any{"template": h.t(r, "casesui.template."+val, nil)})
		case "exercise":
			label = h.t(r, "casesui.chosen.exercise_"+val, nil)
		case "q":
			label = h.t(r, "casesui.chosen.text", map[string]any{"text": val})
		}
		out = append(out, chosenFilter{Label: label, Remove: without(q, k)})
	}
	return out
}

// withOrgNames adds the names of each case's affected organisations, in
// one query for the page.
func (h *handlers) withOrgNames(ctx context.Context, cs []*Case) ([]listRow, error) {
	rows := make([]listRow, len(cs))
	if len(cs) == 0 {
		return rows, nil
	}
	idx := map[int64]int{}
	ph := make([]string, len(cs))
	args := make([]any, len(cs))
	for i, c := range cs {
		rows[i].Case = c
		idx[c.ID] = i
		ph[i], args[i] = "?", c.ID
	}
	rs, err := h.svc.db.Query(ctx, `SELECT co.case_id, o.name FROM case_orgs co JOIN organisations o ON o.id = co.org_id
		WHERE co.case_id IN (`+strings.Join(ph, ", ")+`) ORDER BY o.name`, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	for rs.Next() {
		var id int64
		var name string
		if err := rs.Scan(&id, &name); err != nil {
			return nil, err
		}
		i := idx[id]
		rows[i].OrgNames = append(rows[i].OrgNames, name)
	}
	return rows, rs.Err()
}

// ---- open tasks across cases ----

// taskRow is a task with its due time in words.
type taskRow struct {
	*Task
	Due *dueView
}

func (h *handlers) allTasksPage(w http.ResponseWriter, r *http.Request) error {
	if err := staff(r); err != nil {
		return err
	}
	q := r.URL.Query()
	form := url.Values{}
	f := TaskFilter{Offset: (pageNumber(r) - 1) * web.PageSize, Limit: web.PageSize + 1}
	if q.Get("overdue") == "yes" {
		f.Overdue = true
		form.Set("overdue", "yes")
	}
	if q.Get("mine") == "yes" {
		f.OwnerID = auth.From(r.Context()).UserID
		form.Set("mine", "yes")
	}
	ts, err := h.svc.AllTasks(r.Context(), f)
	if err != nil {
		return err
	}
	more := len(ts) > web.PageSize
	if more {
		ts = ts[:web.PageSize]
	}
	now := h.svc.tick()
	rows := make([]taskRow, len(ts))
	for i, t := range ts {
		rows[i] = taskRow{Task: t, Due: h.due(r, t.DueAt, now, t.Status == "open")}
	}
	p := &web.Page{Title: h.t(r, "casesui.alltasks.title", nil), Form: form, Data: map[string]any{
		"Rows": rows, "Pager": newPager(r, "/cases/tasks", more), "AsOf": h.srv.Catalog().DateTime(web.Locale(r), now)}}
	return h.srv.RenderPage(w, r, http.StatusOK, "case_alltasks", p)
}
