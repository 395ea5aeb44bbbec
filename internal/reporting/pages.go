package reporting

// The portal pages of incident reporting (UX.md flow R): the list of
// incidents, opening one, the incident as a task list, a form and a
// check-answers page per stage, and the receipt of every submission.

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/web"
)

//go:embed all:templates
var templates embed.FS

// PageRoutes registers the reporting pages and their templates on srv.
func (s *Service) PageRoutes(srv *web.Server) {
	srv.AddTemplates(templates)
	h := &handlers{svc: s, srv: srv}
	srv.Page("GET /incidents", h.pageList)
	srv.Page("GET /incidents/new", h.pageNew)
	srv.Page("POST /incidents/new", h.pageCreate)
	srv.Page("GET /incidents/{id}", h.pageIncident)
	srv.Page("GET /incidents/{id}/significance", h.pageSignificance)
	srv.Page("POST /incidents/{id}/significance", h.pageSignificanceAction)
	srv.Page("GET /incidents/{id}/{stage}", h.pageStage)
	srv.Page("POST /incidents/{id}/{stage}", h.pageSaveStage)
	// One GET pattern serves both /incidents/{id}/{stage}/check and
	// /incidents/{id}/receipts/{ref}: as two patterns they would overlap
	// with neither more specific, which the router refuses.
	srv.Page("GET /incidents/{id}/{stage}/{page}", h.pageStageSub)
	srv.Page("POST /incidents/{id}/{stage}/check", h.pageSubmit)
}

func (h *handlers) t(r *http.Request, key string, args map[string]any) string {
	return h.srv.Catalog().T(web.Locale(r), key, args)
}

// msg localises a message whose arguments may name other messages (see
// web.Server.Message).
func (h *handlers) msg(r *http.Request, code string, args map[string]any) string {
	return h.srv.Message(r, code, args)
}

// inputID maps a field of the model ("notifier.email", "indicators[2].value")
// to the id of its form input; "" for what no input holds.
func inputID(f string) string {
	if i := strings.IndexByte(f, '['); i >= 0 {
		f = f[:i]
	}
	switch f {
	case "idempotency_key", "corrects", "stage":
		return ""
	}
	return strings.ReplaceAll(f, ".", "_")
}

// fieldMessages localises the errors of err (an Invalid error) for the
// fields of a form; indicators get the number of their line in text.
func (h *handlers) fieldMessages(r *http.Request, err error, indicators string) ([]web.FieldMessage, bool) {
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.Invalid && e.Kind != errs.Conflict && e.Kind != errs.TooLarge && e.Kind != errs.Unsupported {
		return nil, false
	}
	lines := indicatorLines(indicators)
	var out []web.FieldMessage
	for _, f := range e.Fields {
		m := h.msg(r, f.Code, f.Args)
		if strings.HasPrefix(f.Field, "indicators[") {
			var i int
			if _, err := fmt.Sscanf(f.Field, "indicators[%d]", &i); err == nil && i < len(lines) {
				m = h.t(r, "repui.line_message", map[string]any{"line": lines[i], "message": m})
			}
		}
		out = append(out, web.FieldMessage{Field: inputID(f.Field), Message: m})
	}
	if len(e.Fields) == 0 {
		out = append(out, web.FieldMessage{Message: h.msg(r, e.Code, e.Args)})
	}
	return out, true
}

// render writes a reporting page. For a failed POST, err holds the
// errors to show with the values typed; other errors are returned.
func (h *handlers) render(w http.ResponseWriter, r *http.Request, tpl, title string, form url.Values, data map[string]any, err error) error {
	p := &web.Page{Title: title, Form: form, Data: data}
	if id, ok := data["LangForm"].(string); ok {
		p.LangForm = id
	}
	status := http.StatusOK
	if err != nil {
		msgs, ok := h.fieldMessages(r, err, form.Get(qIndicators))
		if !ok {
			return err
		}
		p.Errors = msgs
		status = http.StatusUnprocessableEntity
		switch errs.KindOf(err) {
		case errs.Conflict:
			status = http.StatusConflict
		case errs.TooLarge: // attachments (pages_attachments.go)
			status = http.StatusRequestEntityTooLarge
		case errs.Unsupported:
			status = http.StatusUnsupportedMediaType
		}
	}
	if p.Form == nil {
		p.Form = url.Values{}
	}
	if data != nil {
		data["Dates"] = dateViews(p)
	}
	return h.srv.RenderPage(w, r, status, tpl, p)
}

// dateView is a typed time of a form: its boxes' values, and its errors.
type dateView struct {
	Name    string
	Values  map[string]string
	Errors  []string
	Invalid map[string]bool
}

// dateViews describes every typed time of the page's form.
func dateViews(p *web.Page) map[string]dateView {
	out := map[string]dateView{}
	for _, name := range []string{"aware_at", qDetectedAt, qStartedAt, qResolvedAt} {
		d := dateView{Name: name, Values: map[string]string{}, Invalid: map[string]bool{}}
		for _, part := range dateParts {
			d.Values[part] = p.Form.Get(name + "-" + part)
		}
		for _, e := range p.Errors {
			if e.Field == name || strings.HasPrefix(e.Field, name+"-") {
				d.Errors = append(d.Errors, e.Message)
				if e.Field == name {
					for _, part := range dateParts {
						d.Invalid[part] = true
					}
				} else {
					d.Invalid[strings.TrimPrefix(e.Field, name+"-")] = true
				}
			}
		}
		out[name] = d
	}
	return out
}

// mayFile reports whether the signed-in person files reports for org.
func mayFile(ctx context.Context, org int64) bool {
	p := auth.From(ctx)
	return p != nil && canFile(p, org)
}

// load reads the incident of the path; other organisations get 404.
func (h *handlers) load(r *http.Request) (*Incident, error) {
	id, err := web.PathID(r, "id")
	if err != nil {
		return nil, err
	}
	return h.svc.Incident(r.Context(), id)
}

func base(in *Incident) string { return fmt.Sprintf("/incidents/%d", in.ID) }

// ---- time in words ----

// dueView is a deadline as people read it (UX.md pattern 10): absolute to
// the minute, rounded down, and relative as of the page's time.
type dueView struct {
	At       time.Time
	Offset   string // "UTC+1"
	Left     string // "2 days 3 hours"
	Overdue  string // "5 h 12 min"
	Soon     bool
	Status   nis2.Status
	Soft     bool
	RuleKey  string
	RuleArgs map[string]any
}

// offset names the Belgian offset from UTC at t, like "UTC+1".
func offset(t time.Time) string {
	_, off := t.In(brussels).Zone()
	return fmt.Sprintf("UTC%+d", off/3600)
}

// duration writes d in words, to the minute: the two largest units.
// Short uses abbreviations ("5 h 12 min").
func (h *handlers) duration(r *http.Request, d time.Duration, short bool) string {
	return h.srv.Duration(r, d, short)
}

// ruleArgs names the moment a deadline counts from, for its rule hint.
func (h *handlers) rule(r *http.Request, in *Incident, d nis2.Deadline) (string, map[string]any) {
	short := func(t time.Time) string { return h.srv.Catalog().DateTime(web.Locale(r), t) }
	switch d.Basis {
	case "aware_at + 24h":
		return "repui.rule.aware_24h", map[string]any{"at": short(in.AwareAt)}
	case "aware_at + 72h":
		return "repui.rule.aware_72h", map[string]any{"at": short(in.AwareAt)}
	case "notification_submitted_at + 1 month":
		if s := in.First(IncidentNotification); s != nil {
			return "repui.rule.notification_month", map[string]any{"at": short(s.SubmittedAt)}
		}
	case "handled_at + 1 month":
		if in.HandledAt != nil {
			return "repui.rule.handled_month", map[string]any{"at": short(*in.HandledAt)}
		}
	case "intermediate_deadline":
		return "repui.rule.requested", nil
	case "csirt_received_early_warning_at + 24h":
		if s := in.First(EarlyWarning); s != nil {
			return "repui.rule.csirt_24h", map[string]any{"at": short(s.SubmittedAt)}
		}
	}
	return "", nil
}

// due describes the deadline of stage, or nil when it has no due time yet.
func (h *handlers) due(r *http.Request, in *Incident, stage nis2.Stage, now time.Time) *dueView {
	if in.Deadlines == nil {
		return nil
	}
	d, ok := in.Deadlines.Stage(stage)
	if !ok || d.Due.IsZero() {
		return nil
	}
	v := &dueView{At: d.Due.UTC().Truncate(time.Minute), Status: d.Status, Soft: d.Soft}
	v.Offset = offset(v.At)
	v.RuleKey, v.RuleArgs = h.rule(r, in, d)
	switch d.Status {
	case nis2.Pending:
		left := v.At.Sub(now)
		if left < 0 {
			left = 0
		}
		v.Left = h.duration(r, left, false)
		v.Soon = left <= 24*time.Hour && !d.Soft // a target of the CSIRT's asks nothing of the entity
	case nis2.Overdue:
		late := time.Duration(d.LateBy) * time.Second
		v.Overdue = h.duration(r, max(late+time.Minute-1, time.Minute), true) // rounded up: any lateness shows
	}
	return v
}

// stamp writes t to the second in Belgian time, with its zone and offset:
// "28 November 2026, 14:05:09 CET (UTC+1)". Receipts are exact.
func (h *handlers) stamp(r *http.Request, t time.Time) string {
	cat := h.srv.Catalog()
	l := web.Locale(r)
	b := t.In(brussels)
	zone, _ := b.Zone()
	return h.t(r, "repui.stamp", map[string]any{"date": cat.Date(l, t), "time": b.Format("15:04:05"), "zone": zone, "offset": offset(t)})
}

// ---- the list ----

// listRow is an incident of the list with its next deadline.
type listRow struct {
	In        *Incident
	NextStage Stage
	Next      *dueView
}

// nextDue is the earliest deadline of an unsubmitted stage.
func (h *handlers) nextDue(r *http.Request, in *Incident, now time.Time) (Stage, *dueView) {
	var best *dueView
	var stage Stage
	for _, s := range Stages {
		if in.Submitted(s) != nil {
			continue
		}
		d := h.due(r, in, s, now)
		if d != nil && (d.Status == nis2.Pending || d.Status == nis2.Overdue) && (best == nil || d.At.Before(best.At)) {
			best, stage = d, s
		}
	}
	return stage, best
}

func (h *handlers) pageList(w http.ResponseWriter, r *http.Request) error {
	p := auth.From(r.Context())
	q := r.URL.Query()
	f := Filter{Text: q.Get("q"), Status: q.Get("status"), Offset: web.PageOffset(r), Limit: web.PageSize}
	if f.Status != StatusOngoing && f.Status != StatusClosed {
		f.Status = ""
	}
	list, total, err := h.svc.Incidents(r.Context(), f)
	if err != nil {
		return err
	}
	now := h.svc.tick()
	rows := make([]listRow, 0, len(list))
	for _, x := range list {
		in := x
		if in.Deadlines == nil {
			// A list item without its submissions: read them for the clocks.
			if in, err = h.svc.Incident(r.Context(), x.ID); err != nil {
				return err
			}
		}
		row := listRow{In: in}
		row.NextStage, row.Next = h.nextDue(r, in, now)
		if row.Next != nil {
			row.Next.RuleKey = "" // the incident's page explains each rule
		}
		rows = append(rows, row)
	}
	title := "repui.list.title"
	if p.IsAuthority() {
		title = "repui.list.title_all"
	}
	data := map[string]any{"Rows": rows, "Pager": web.NewPager(r, total), "CanCreate": mayFile(r.Context(), p.OrgID) && !p.IsAuthority(),
		"All": p.IsAuthority(), "Now": now, "Statuses": []string{StatusOngoing, StatusClosed}}
	return h.srv.RenderPage(w, r, http.StatusOK, "rep_incidents", &web.Page{Title: h.t(r, title, nil), Form: q, Data: data})
}

// ---- a new incident ----

func (h *handlers) pageNew(w http.ResponseWriter, r *http.Request) error {
	p := auth.From(r.Context())
	if p.IsAuthority() || !mayFile(r.Context(), p.OrgID) {
		return forbidden()
	}
	return h.render(w, r, "rep_new", h.t(r, "repui.new.title", nil), url.Values{}, map[string]any{"LangForm": "new-incident"}, nil)
}

func (h *handlers) pageCreate(w http.ResponseWriter, r *http.Request) error {
	p := auth.From(r.Context())
	if p.IsAuthority() || !mayFile(r.Context(), p.OrgID) {
		return forbidden()
	}
	f := r.PostForm
	if l, ok := web.SwitchLang(r); ok {
		// A change of language before the incident exists: the same form,
		// in the language chosen, with what was typed (the boxes of a time
		// are written the same way in every language).
		r = web.WithLocale(r, l)
		return h.render(w, r, "rep_new", h.t(r, "repui.new.title", nil), f, map[string]any{"LangForm": "new-incident"}, nil)
	}
	now := h.svc.tick()
	in := IncidentInput{Title: strings.TrimSpace(f.Get("title")), TrustServiceImpact: f.Get("trust_service_impact") == "yes",
		Voluntary: f.Get("voluntary") == "yes"}
	var v errs.Validator
	v.Check(in.Title != "", "title", "err.rep.title_required")
	typed := false
	for _, part := range dateParts {
		if strings.TrimSpace(f.Get("aware_at-"+part)) != "" {
			typed = true
		}
	}
	switch {
	case f.Get("aware_when") == "now":
		in.AwareAt = now.Truncate(time.Second)
	case f.Get("aware_when") == "time" || typed:
		if t := ParseTime(f, "aware_at", "repui.time_noun.aware_at", true, now, &v); t != nil {
			in.AwareAt = *t
		}
	default:
		v.Add("aware_when", "err.repui.aware_choose", nil)
	}
	err := v.Err()
	var inc *Incident
	if err == nil {
		inc, err = h.svc.CreateIncident(r.Context(), in)
	}
	if err != nil {
		return h.render(w, r, "rep_new", h.t(r, "repui.new.title", nil), f, map[string]any{"LangForm": "new-incident"}, err)
	}
	h.srv.Flash(w, "repui.flash.created")
	return web.Redirect(w, r, base(inc))
}

// ---- the incident as a task list ----

// stageRow is a row of the incident's task list (UX.md pattern 11).
type stageRow struct {
	Stage Stage
	// State: submitted, correction, draft, not_started, cannot_start,
	// on_request.
	State string
	Link  bool
	Sub   *Submission
	Draft *Draft
	Due   *dueView
}

// rows lists the stages of in as the task list shows them. A progress
// report appears only once it applies.
func (h *handlers) rows(r *http.Request, in *Incident, now time.Time) []stageRow {
	filer := mayFile(r.Context(), in.OrgID)
	var out []stageRow
	for _, s := range Stages {
		row := stageRow{Stage: s, Sub: in.Submitted(s), Draft: in.draft(s), Due: h.due(r, in, s, now)}
		if d, ok := in.Deadlines.Stage(s); s == ProgressReport && row.Sub == nil && row.Draft == nil && (!ok || d.Status == nis2.NotApplicable) {
			continue
		}
		pre, hasPre := stagePrerequisite[s]
		startable := !hasPre || in.Submitted(pre) != nil
		switch {
		case row.Sub != nil && row.Draft != nil:
			row.State = "correction"
		case row.Sub != nil:
			row.State = "submitted"
		case row.Draft != nil:
			row.State = "draft"
		case s == IntermediateReport && row.Due == nil:
			row.State = "on_request"
		case !startable:
			row.State = "cannot_start"
		default:
			row.State = "not_started"
		}
		row.Link = filer && startable || !filer && row.Sub != nil
		out = append(out, row)
	}
	return out
}

// draft returns the draft of stage, or nil.
func (in *Incident) draft(stage Stage) *Draft {
	for i := range in.Drafts {
		if in.Drafts[i].Stage == stage {
			return &in.Drafts[i]
		}
	}
	return nil
}

// subView is a submission with its time in words.
type subView struct {
	Sub   *Submission
	Stamp string
}

func (h *handlers) pageIncident(w http.ResponseWriter, r *http.Request) error {
	in, err := h.load(r)
	if err != nil {
		return err
	}
	now := h.svc.tick()
	var subs []subView
	for i := len(in.Submissions) - 1; i >= 0; i-- { // newest first
		subs = append(subs, subView{Sub: &in.Submissions[i], Stamp: h.stamp(r, in.Submissions[i].SubmittedAt)})
	}
	data := map[string]any{"In": in, "Base": base(in), "Rows": h.rows(r, in, now), "Subs": subs, "Now": now,
		"CanFile": mayFile(r.Context(), in.OrgID), "AwareStamp": h.stamp(r, in.AwareAt), "Feedback": h.due(r, in, nis2.CSIRTFeedback, now)}
	return h.render(w, r, "rep_incident", in.Title, nil, data, nil)
}

// ---- helpers for the stage pages ----

// countries are the Member States in the alphabetical order of their
// names in the page's language.
func (h *handlers) countries(r *http.Request) []string {
	out := slices.Clone(MemberStates)
	c := collate.New(language.Make(web.Locale(r)))
	slices.SortFunc(out, func(a, b string) int {
		return c.CompareString(h.t(r, "country."+a, nil), h.t(r, "country."+b, nil))
	})
	return out
}

// submissionByKey finds the submission an organisation filed with an
// idempotency key: a second click on a submit button finds the first.
func (s *Service) submissionByKey(ctx context.Context, org int64, key string) (ref string, incident int64, err error) {
	err = s.db.QueryRow(ctx, `SELECT ref, incident_id FROM report_submissions WHERE org_id = ? AND idempotency_key = ?`, org, key).Scan(&ref, &incident)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, nil
	}
	return ref, incident, err
}

// kilobytes writes a size for a download link: "1,2 KB".
func kilobytes(l string, n int) string { return i18n.Kilobytes(l, n) }
