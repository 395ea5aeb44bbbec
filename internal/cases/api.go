package cases

// The JSON API of cases (/api/v1/cases): what the portal's case pages do,
// for machines. Cases are the authority's staff's alone: others get 404
// on every route naming a case and 403 on the collections. Analysts,
// crisis managers and administrators write; the rest of the staff read.
// Documented in openapi.json.

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

// apiMaxPage bounds the pages of the API's lists (List pages at most 200).
const apiMaxPage = 200

func (h *handlers) apiRoutes() {
	s := h.srv
	s.API("GET /api/v1/cases", h.apiList)
	s.API("POST /api/v1/cases", h.apiCreate)
	s.API("GET /api/v1/cases/templates", h.apiTemplates)
	s.API("GET /api/v1/cases/tasks", h.apiAllTasks)
	// By reference with a query parameter: a path /cases/by-ref/{ref}
	// would conflict with /cases/{id}/tasks (and every other
	// /cases/{id}/… route) in the standard library's router.
	s.API("GET /api/v1/cases/by-ref", h.apiByRef)
	s.API("GET /api/v1/cases/{id}", h.apiGet)
	s.API("PATCH /api/v1/cases/{id}", h.apiUpdate)
	s.API("POST /api/v1/cases/{id}/links", h.apiLink)
	s.API("GET /api/v1/cases/{id}/tasks", h.apiTasks)
	s.API("POST /api/v1/cases/{id}/tasks", h.apiAddTask)
	s.API("PATCH /api/v1/cases/{id}/tasks/{task}", h.apiUpdateTask)
	s.API("GET /api/v1/cases/{id}/observables", h.apiObservables)
	s.API("POST /api/v1/cases/{id}/observables", h.apiAddObservable)
	s.API("DELETE /api/v1/cases/{id}/observables/{obs}", h.apiRemoveObservable)
	s.API("GET /api/v1/cases/{id}/observables/{obs}/similar", h.apiSimilar)
	s.API("GET /api/v1/cases/{id}/timeline", h.apiTimeline)
	s.API("POST /api/v1/cases/{id}/notes", h.apiAddNote)
}

// apiCaseID reads the case id of a route naming a case. Those who may not
// read cases get 404, as from the service: they learn nothing, not even
// whether the case exists.
func apiCaseID(r *http.Request) (int64, error) {
	if !CanRead(auth.From(r.Context())) {
		return 0, notFound()
	}
	return web.PathID(r, "id")
}

// apiCanWork refuses a write, before its body is read, to those who do
// not work cases (403).
func apiCanWork(r *http.Request) error {
	if !CanWork(auth.From(r.Context())) {
		return forbidden()
	}
	return nil
}

// apiListPage is a page of a list that is never counted: more says whether
// another page follows.
type apiListPage[T any] struct {
	Items  []T  `json:"items"`
	More   bool `json:"more"`
	Offset int  `json:"offset"`
	Limit  int  `json:"limit"`
}

// apiItems is a whole list.
type apiItems[T any] struct {
	Items []T `json:"items"`
}

// apiPaging reads offset and limit, a limit over apiMaxPage taken as it.
func apiPaging(r *http.Request) (int, int, error) {
	off, lim, err := web.Paging(r)
	return off, min(lim, apiMaxPage), err
}

// apiQueryID reads a query parameter that names a user or an organisation
// by id; "me" is the caller when me is not nil.
func apiQueryID(r *http.Request, name string, me *auth.Principal, v *errs.Validator) int64 {
	s := strings.TrimSpace(r.URL.Query().Get(name))
	if s == "" {
		return 0
	}
	if s == "me" && me != nil {
		return me.UserID
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		v.Add(name, "err.json_type", map[string]any{"type": "integer"})
		return 0
	}
	return n
}

// apiQueryBool reads a boolean query parameter; nil when absent.
func apiQueryBool(r *http.Request, name string, v *errs.Validator) *bool {
	s := strings.TrimSpace(r.URL.Query().Get(name))
	if s == "" {
		return nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		v.Add(name, "err.json_type", map[string]any{"type": "boolean"})
		return nil
	}
	return &b
}

// apiSeverity reads a severity as a number (1-4) or a word (low, medium,
// high, critical).
func apiSeverity(s string) (int, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, n := range Severities {
		if s == strconv.Itoa(n) || s == SeverityName(n) {
			return n, true
		}
	}
	return 0, false
}

func (h *handlers) apiList(w http.ResponseWriter, r *http.Request) error {
	p := auth.From(r.Context())
	if !CanRead(p) {
		return forbidden()
	}
	off, lim, err := apiPaging(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var v errs.Validator
	f := Filter{Text: q.Get("q"), Status: strings.ToLower(strings.TrimSpace(q.Get("status"))), Template: strings.TrimSpace(q.Get("template")),
		Offset: off, Limit: lim}
	v.Check(f.Status == "" || f.Status == "active" || slices.Contains(Statuses, f.Status), "status", "err.case.status")
	if s := q.Get("severity"); s != "" {
		n, ok := apiSeverity(s)
		v.Check(ok, "severity", "err.case.severity")
		f.Severity = n
	}
	v.Check(f.Template == "" || TemplateByName(f.Template) != nil, "template", "err.case.template")
	f.AssigneeID = apiQueryID(r, "assignee", p, &v)
	f.OrgID = apiQueryID(r, "org", nil, &v)
	f.Exercise = apiQueryBool(r, "exercise", &v)
	if err := v.Err(); err != nil {
		return err
	}
	cs, more, err := h.svc.List(r.Context(), f)
	if err != nil {
		return err
	}
	if err := h.svc.apiFill(r.Context(), cs); err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, apiListPage[*Case]{Items: cs, More: more, Offset: off, Limit: lim})
}

// apiFill gives the cases of a list page their affected organisations
// and links, as a single case has them: two queries for the page.
func (s *Service) apiFill(ctx context.Context, cs []*Case) error {
	if len(cs) == 0 {
		return nil
	}
	byID := make(map[int64]*Case, len(cs))
	marks := make([]string, 0, len(cs))
	args := make([]any, 0, len(cs))
	for _, c := range cs {
		c.Orgs, c.Links = []Org{}, []Link{}
		byID[c.ID] = c
		marks, args = append(marks, "?"), append(args, c.ID)
	}
	in := "(" + strings.Join(marks, ", ") + ")"
	rows, err := s.db.Query(ctx, `SELECT co.case_id, o.id, o.name FROM case_orgs co JOIN organisations o ON o.id = co.org_id
		WHERE co.case_id IN `+in+` ORDER BY o.name`, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		var o Org
		if err := rows.Scan(&id, &o.ID, &o.Name); err != nil {
			rows.Close()
			return err
		}
		byID[id].Orgs = append(byID[id].Orgs, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = s.db.Query(ctx, `SELECT case_id, kind, target FROM case_links WHERE case_id IN `+in+` ORDER BY kind, target`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var l Link
		if err := rows.Scan(&id, &l.Kind, &l.Target); err != nil {
			return err
		}
		byID[id].Links = append(byID[id].Links, l)
	}
	return rows.Err()
}

// apiFrom is what a new case is opened from: a NIS2 incident (its id) or
// feed events (their ids), one of the two.
type apiFrom struct {
	Incident   int64   `json:"incident,omitempty"`
	FeedEvents []int64 `json:"feed_events,omitempty"`
}

// apiCreateInput is the body of POST /api/v1/cases.
type apiCreateInput struct {
	Input
	From *apiFrom `json:"from,omitempty"`
}

func (h *handlers) apiCreate(w http.ResponseWriter, r *http.Request) error {
	if err := apiCanWork(r); err != nil {
		return err
	}
	var in apiCreateInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	in.Locale = web.Locale(r) // the tasks' titles follow Accept-Language
	var c *Case
	var err error
	switch {
	case in.From == nil:
		c, err = h.svc.Create(r.Context(), in.Input)
	case (in.From.Incident != 0) == (len(in.From.FeedEvents) > 0):
		return errs.Field("from", "err.caseapi.from", nil)
	case in.From.Incident != 0:
		c, err = h.svc.FromIncident(r.Context(), in.From.Incident, in.Input)
		if errs.Is(err, errs.NotFound) {
			// The incident, not the route, is missing.
			err = errs.Field("from.incident", "err.case.link_unknown", map[string]any{"target": itoa(in.From.Incident)})
		}
	default:
		c, err = h.svc.FromFeedEvents(r.Context(), in.From.FeedEvents, in.Input)
		apiRenameField(err, "events", "from.feed_events")
	}
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/cases/"+itoa(c.ID))
	return web.WriteJSON(w, http.StatusCreated, c)
}

// apiRenameField renames a field of a validation error to the name the API
// gives it.
func apiRenameField(err error, from, to string) {
	if e, ok := errs.As(err); ok {
		for i := range e.Fields {
			if e.Fields[i].Field == from {
				e.Fields[i].Field = to
			}
		}
	}
}

func (h *handlers) apiByRef(w http.ResponseWriter, r *http.Request) error {
	if !CanRead(auth.From(r.Context())) {
		return notFound()
	}
	ref := strings.TrimSpace(r.URL.Query().Get("ref"))
	if ref == "" {
		return notFound()
	}
	c, err := h.svc.ByRef(r.Context(), ref)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, c)
}

func (h *handlers) apiGet(w http.ResponseWriter, r *http.Request) error {
	id, err := apiCaseID(r)
	if err != nil {
		return err
	}
	c, err := h.svc.Get(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, c)
}

func (h *handlers) apiUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := apiCaseID(r)
	if err != nil {
		return err
	}
	if err := apiCanWork(r); err != nil {
		return err
	}
	var in Input
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Template != "" { // a template prefills new cases only
		return errs.Field("template", "err.json_unknown_field", nil)
	}
	c, err := h.svc.Update(r.Context(), id, in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, c)
}

func (h *handlers) apiLink(w http.ResponseWriter, r *http.Request) error {
	id, err := apiCaseID(r)
	if err != nil {
		return err
	}
	if err := apiCanWork(r); err != nil {
		return err
	}
	var l Link
	if err := web.DecodeJSON(w, r, &l); err != nil {
		return err
	}
	c, err := h.svc.AddLink(r.Context(), id, l)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, c)
}

func (h *handlers) apiTasks(w http.ResponseWriter, r *http.Request) error {
	id, err := apiCaseID(r)
	if err != nil {
		return err
	}
	ts, err := h.svc.Tasks(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, apiItems[*Task]{Items: ts})
}

func (h *handlers) apiAddTask(w http.ResponseWriter, r *http.Request) error {
	id, err := apiCaseID(r)
	if err != nil {
		return err
	}
	if err := apiCanWork(r); err != nil {
		return err
	}
	var in TaskInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	t, err := h.svc.AddTask(r.Context(), id, in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, t)
}

func (h *handlers) apiUpdateTask(w http.ResponseWriter, r *http.Request) error {
	id, err := apiCaseID(r)
	if err != nil {
		return err
	}
	task, err := web.PathID(r, "task")
	if err != nil {
		return errs.E(errs.NotFound, "err.case.task_not_found")
	}
	if err := apiCanWork(r); err != nil {
		return err
	}
	var in TaskInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	t, err := h.svc.UpdateTask(r.Context(), id, task, in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, t)
}

func (h *handlers) apiAllTasks(w http.ResponseWriter, r *http.Request) error {
	p := auth.From(r.Context())
	if !CanRead(p) {
		return forbidden()
	}
	off, lim, err := apiPaging(r)
	if err != nil {
		return err
	}
	var v errs.Validator
	f := TaskFilter{OwnerID: apiQueryID(r, "owner", p, &v), Offset: off, Limit: lim + 1}
	if b := apiQueryBool(r, "overdue", &v); b != nil {
		f.Overdue = *b
	}
	if err := v.Err(); err != nil {
		return err
	}
	ts, err := h.svc.AllTasks(r.Context(), f)
	if err != nil {
		return err
	}
	more := len(ts) > lim
	if more {
		ts = ts[:lim]
	}
	return web.WriteJSON(w, http.StatusOK, apiListPage[*Task]{Items: ts, More: more, Offset: off, Limit: lim})
}

func (h *handlers) apiObservables(w http.ResponseWriter, r *http.Request) error {
	id, err := apiCaseID(r)
	if err != nil {
		return err
	}
	os, err := h.svc.Observables(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, apiItems[*Observable]{Items: os})
}

func (h *handlers) apiAddObservable(w http.ResponseWriter, r *http.Request) error {
	id, err := apiCaseID(r)
	if err != nil {
		return err
	}
	if err := apiCanWork(r); err != nil {
		return err
	}
	var in ObservableInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	o, err := h.svc.AddObservable(r.Context(), id, in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, o)
}

// apiObsID reads the observable id of a route.
func apiObsID(r *http.Request) (int64, error) {
	id, err := web.PathID(r, "obs")
	if err != nil {
		return 0, errs.E(errs.NotFound, "err.case.observable_not_found")
	}
	return id, nil
}

func (h *handlers) apiRemoveObservable(w http.ResponseWriter, r *http.Request) error {
	id, err := apiCaseID(r)
	if err != nil {
		return err
	}
	obs, err := apiObsID(r)
	if err != nil {
		return err
	}
	if err := h.svc.RemoveObservable(r.Context(), id, obs); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handlers) apiSimilar(w http.ResponseWriter, r *http.Request) error {
	id, err := apiCaseID(r)
	if err != nil {
		return err
	}
	obs, err := apiObsID(r)
	if err != nil {
		return err
	}
	_, limit, err := apiPaging(r)
	if err != nil {
		return err
	}
	// The observable must be one of this case's.
	os, err := h.svc.Observables(r.Context(), id)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(os, func(o *Observable) bool { return o.ID == obs }) {
		return errs.E(errs.NotFound, "err.case.observable_not_found")
	}
	sim, err := h.svc.Similar(r.Context(), obs, id, limit)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, sim)
}

// apiEvent is an entry of the timeline with its HTML: a note's Markdown
// rendered safely, a change's text escaped.
type apiEvent struct {
	*Event
	HTML string `json:"html"`
}

func apiEventOf(e *Event) apiEvent { return apiEvent{Event: e, HTML: string(e.HTML())} }

func (h *handlers) apiTimeline(w http.ResponseWriter, r *http.Request) error {
	id, err := apiCaseID(r)
	if err != nil {
		return err
	}
	tl, err := h.svc.Timeline(r.Context(), id)
	if err != nil {
		return err
	}
	out := make([]apiEvent, 0, len(tl))
	for _, e := range tl {
		out = append(out, apiEventOf(e))
	}
	return web.WriteJSON(w, http.StatusOK, apiItems[apiEvent]{Items: out})
}

// apiNoteInput is the body of POST /api/v1/cases/{id}/notes.
type apiNoteInput struct {
	Body string `json:"body"`
	// TLP of the note; the case's label when empty.
	TLP string `json:"tlp,omitempty"`
}

func (h *handlers) apiAddNote(w http.ResponseWriter, r *http.Request) error {
	id, err := apiCaseID(r)
	if err != nil {
		return err
	}
	if err := apiCanWork(r); err != nil {
		return err
	}
	var in apiNoteInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	e, err := h.svc.AddNote(r.Context(), id, in.Body, in.TLP)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, apiEventOf(e))
}

// apiTemplate is a case template as the API shows it: its tasks' titles
// in the request's language and their due times per severity.
type apiTemplate struct {
	Name           string            `json:"name"`
	Classification string            `json:"classification"`
	Severity       int               `json:"severity"`
	Tasks          []apiTemplateTask `json:"tasks"`
}

type apiTemplateTask struct {
	Key   string `json:"key"`
	Title string `json:"title"`
	// SLA is the time allowed at severities 1 to 4 ("4h", "2d").
	SLA [4]string `json:"sla"`
	// DueSeconds is the same in seconds.
	DueSeconds [4]int64 `json:"due_seconds"`
}

func (h *handlers) apiTemplates(w http.ResponseWriter, r *http.Request) error {
	if !CanRead(auth.From(r.Context())) {
		return forbidden()
	}
	l := web.Locale(r)
	out := make([]apiTemplate, 0, len(Templates))
	for _, t := range Templates {
		at := apiTemplate{Name: t.Name, Classification: t.Classification, Severity: t.Severity, Tasks: []apiTemplateTask{}}
		for _, task := range t.Tasks {
			x := apiTemplateTask{Key: task.Key, Title: h.srv.Catalog().T(l, task.Key, nil)}
			for i, sev := range Severities {
				x.SLA[i], x.DueSeconds[i] = task.SLA(sev), int64(task.Due(sev).Seconds())
			}
			at.Tasks = append(at.Tasks, x)
		}
		out = append(out, at)
	}
	return web.WriteJSON(w, http.StatusOK, apiItems[apiTemplate]{Items: out})
}
