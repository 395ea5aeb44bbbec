package cases

// The portal pages of the cases (UX.md pattern C): the list with its
// filters, a new case, and each case as separate pages (overview, tasks,
// observables, timeline) under one header that always shows its TLP
// label. Only the authority's staff reach them (CanRead); analysts, crisis
// managers and administrators change them (CanWork). The list is in
// pages_list.go, the new case in pages_new.go, the overview in
// pages_case.go, tasks, observables and the timeline in pages_work.go.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

func (h *handlers) pageRoutes() {
	s := h.srv
	s.Page("GET /cases", h.listPage)
	s.Page("GET /cases/new", h.newForm)
	s.Page("POST /cases/new", h.createPost)
	s.Page("GET /cases/tasks", h.allTasksPage)
	s.Page("GET /cases/{id}", h.overview)
	s.Page("POST /cases/{id}", h.updatePost)
	s.Page("POST /cases/{id}/links", h.linkPost)
	s.Page("GET /cases/{id}/tasks", h.tasksPage)
	s.Page("POST /cases/{id}/tasks", h.addTaskPost)
	s.Page("POST /cases/{id}/tasks/{task}", h.updateTaskPost)
	s.Page("GET /cases/{id}/observables", h.observablesPage)
	s.Page("POST /cases/{id}/observables", h.addObservablePost)
	s.Page("GET /cases/{id}/observables/{obs}", h.similarPage)
	s.Page("POST /cases/{id}/observables/{obs}/remove", h.removeObservablePost)
	s.Page("GET /cases/{id}/timeline", h.timelinePage)
	s.Page("POST /cases/{id}/notes", h.notePost)
}

func (h *handlers) t(r *http.Request, key string, args map[string]any) string {
	return h.srv.Catalog().T(web.Locale(r), key, args)
}

func caseBase(id int64) string { return fmt.Sprintf("/cases/%d", id) }

// staff refuses everyone outside the authority's staff as the service
// does: cases they may not read do not exist for them.
func staff(r *http.Request) error {
	if !CanRead(auth.From(r.Context())) {
		return notFound()
	}
	return nil
}

// worker refuses staff who read cases but do not work them (auditors).
func worker(r *http.Request) error {
	if err := staff(r); err != nil {
		return err
	}
	if !CanWork(auth.From(r.Context())) {
		return forbidden()
	}
	return nil
}

// load returns the case of the request's {id}, for the staff.
func (h *handlers) load(r *http.Request) (*Case, error) {
	if err := staff(r); err != nil {
		return nil, err
	}
	id, err := web.PathID(r, "id")
	if err != nil {
		return nil, err
	}
	return h.svc.Get(r.Context(), id)
}

// tab is an entry of a case's sub-navigation.
type tab struct {
	Key     string
	Path    string
	Current bool
}

// caseTabs are the pages of a case (UX.md pattern 19). Messages are
// another file's pages (pages_messages.go).
var caseTabs = []struct{ Key, Suffix string }{
	{"casesui.tab.overview", ""},
	{"casesui.tab.tasks", "/tasks"},
	{"casesui.tab.observables", "/observables"},
	{"caseatt.tab", "/attachments"},
	{"casesui.tab.timeline", "/timeline"},
	{"casesui.tab.messages", "/messages"},
	{"casesui.tab.merge", "/merge"},
}

// caseData is what every page of one case gets: the case, its base path,
// its tabs with the current one, and whether its forms may be sent.
func caseData(r *http.Request, c *Case, current string) map[string]any {
	base := caseBase(c.ID)
	var tabs []tab
	for _, t := range caseTabs {
		tabs = append(tabs, tab{Key: t.Key, Path: base + t.Suffix, Current: t.Suffix == current})
	}
	return map[string]any{"C": c, "Base": base, "Tabs": tabs, "CanWork": CanWork(auth.From(r.Context()))}
}

// CaseTitle is the <title> of a page of case c: the page's name, the
// case's reference and its TLP label (UX.md pattern 20), marked when the
// case is an exercise.
func (h *handlers) caseTitle(r *http.Request, name string, c *Case) string {
	t := name + " – " + c.Ref + " TLP:" + c.TLP
	if c.Exercise {
		t = h.t(r, "casesui.exercise_prefix", nil) + " " + t
	}
	return t
}

// fail fills p with the errors of err when the page can show them (field
// errors and conflicts) and returns the status to answer with; other
// errors are returned. anchors maps a service field to the id of its
// input on the page; fields without one are listed without a link.
func (h *handlers) fail(r *http.Request, p *web.Page, err error, anchors map[string]string) (int, error) {
	e, ok := errs.As(err)
	if !ok || (e.Kind != errs.Invalid && e.Kind != errs.Conflict) {
		return 0, err
	}
	for _, f := range e.Fields {
		field := f.Field
		if anchors != nil {
			field = anchors[f.Field]
		}
		p.Errors = append(p.Errors, web.FieldMessage{Field: field, Message: h.srv.Message(r, f.Code, f.Args)})
	}
	if len(e.Fields) == 0 {
		p.Errors = append(p.Errors, web.FieldMessage{Message: h.srv.Message(r, e.Code, e.Args)})
	}
	if e.Kind == errs.Conflict {
		return http.StatusConflict, nil
	}
	return http.StatusUnprocessableEntity, nil
}

// render writes a page; err, if not nil, is the refusal of a POST shown
// on it with what was typed.
func (h *handlers) render(w http.ResponseWriter, r *http.Request, name string, p *web.Page, err error, anchors map[string]string) error {
	status := http.StatusOK
	if err != nil {
		st, ferr := h.fail(r, p, err, anchors)
		if ferr != nil {
			return ferr
		}
		status = st
	}
	return h.srv.RenderPage(w, r, status, name, p)
}

// done answers a successful POST: the flash message, then the page.
func (h *handlers) done(w http.ResponseWriter, r *http.Request, flash, to string) error {
	h.srv.Flash(w, flash)
	return web.Redirect(w, r, to)
}

// same maps each field to an input of the same id.
func same(fields ...string) map[string]string {
	m := map[string]string{}
	for _, f := range fields {
		m[f] = f
	}
	return m
}

// ---- people and organisations for the forms ----

// person is a member of the authority's staff, for owner and assignee
// lists.
type person struct {
	ID    int64
	Name  string
	Email string
}

// staffPeople lists the authority's staff who can be given a case or a
// task.
func (h *handlers) staffPeople(ctx context.Context) ([]person, error) {
	rows, err := h.svc.db.Query(ctx, `SELECT u.id, u.name, u.email FROM users u JOIN organisations o ON o.id = u.org_id
		WHERE o.kind = 'authority' AND NOT u.disabled ORDER BY u.name, u.email`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []person
	for rows.Next() {
		var p person
		if err := rows.Scan(&p.ID, &p.Name, &p.Email); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// orgChoices lists the organisations a case can affect: every one but the
// authority.
func (h *handlers) orgChoices(ctx context.Context) ([]Org, error) {
	rows, err := h.svc.db.Query(ctx, `SELECT id, name FROM organisations WHERE kind <> 'authority' ORDER BY name, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Org
	for rows.Next() {
		var o Org
		if err := rows.Scan(&o.ID, &o.Name); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// ---- time in words ----

// dueView is a due time as people read it (UX.md pattern 10).
type dueView = web.Due

// due describes at as of now; nil when there is no due time.
func (h *handlers) due(r *http.Request, at *time.Time, now time.Time, open bool) *dueView {
	return h.srv.Due(r, at, now, open)
}

// duration writes d to the minute in its two largest units: "2 h 10 min".
func (h *handlers) duration(r *http.Request, d time.Duration) string {
	return h.srv.Duration(r, d, true)
}

// parseDue reads the due time of the boxes named prefix-day …
// prefix-minute as Belgian time; nil when every box is empty.
func (h *handlers) parseDue(form url.Values, prefix, field string) (*time.Time, error) {
	t, problem := web.ParseDateTime(form, prefix, h.srv.Catalog().Zone())
	switch problem {
	case web.DateIncomplete:
		return nil, errs.Field(field, "err.casesui.due_incomplete", nil)
	case web.DateInvalid:
		return nil, errs.Field(field, "err.casesui.due_invalid", nil)
	}
	return t, nil
}

// setDue writes t into the boxes of a date and time input, in Belgian time.
func (h *handlers) setDue(form url.Values, prefix string, t *time.Time) {
	web.SetDateTime(form, prefix, t, h.srv.Catalog().Zone())
}

// pageNumber reads the 1-based page query parameter of a list.
func pageNumber(r *http.Request) int {
	n, _ := strconv.Atoi(r.URL.Query().Get("page"))
	return max(n, 1)
}

// pager is the position in a list that is not counted: Previous and Next.
type pager struct {
	Page  int
	More  bool
	Query string // the filters, without page=
	Path  string
}

func newPager(r *http.Request, path string, more bool) pager {
	q := r.URL.Query()
	q.Del("page")
	return pager{Page: pageNumber(r), More: more, Query: q.Encode(), Path: path}
}

// chosenFilter is a filter shown above a list, with the link removing it.
type chosenFilter struct {
	Label  string
	Remove string // the query without this filter
}

func without(q url.Values, key string) string {
	rest := url.Values{}
	for k, vs := range q {
		if k != key && k != "page" {
			rest[k] = vs
		}
	}
	return rest.Encode()
}

// eventText names a timeline entry's kind in words; kinds this page does
// not know (added by other parts of the capability) are shown as they are.
func (h *handlers) eventText(r *http.Request, kind string) string {
	key := "casesui.event." + kind
	if h.srv.Catalog().Has(key) {
		return h.t(r, key, nil)
	}
	return kind
}
