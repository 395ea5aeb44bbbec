package cases

// A case's working pages: its tasks with their due times, its observables
// with where else each appears, and its timeline of notes and changes.

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

// ---- tasks ----

// caseTask is a task of the case's task page.
type caseTask struct {
	*Task
	Due     *dueView
	SLAText string // "within 4 h of opening", or ""
	Prefix  string // of its change form's inputs: "t12"
}

func (h *handlers) tasksPage(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r)
	if err != nil {
		return err
	}
	return h.renderTasks(w, r, c, nil, nil, nil)
}

func (h *handlers) renderTasks(w http.ResponseWriter, r *http.Request, c *Case, form url.Values, ferr error, anchors map[string]string) error {
	ts, err := h.svc.Tasks(r.Context(), c.ID)
	if err != nil {
		return err
	}
	people, err := h.staffPeople(r.Context())
	if err != nil {
		return err
	}
	keep := form != nil
	if form == nil {
		form = url.Values{}
	}
	now := h.svc.tick()
	rows := make([]caseTask, len(ts))
	for i, t := range ts {
		pre := fmt.Sprintf("t%d", t.ID)
		rows[i] = caseTask{Task: t, Due: h.due(r, t.DueAt, now, t.Status == "open"), SLAText: h.slaText(r, t.SLA), Prefix: pre}
		if !keep || form.Get("task") != strconv.FormatInt(t.ID, 10) {
			form.Set(pre+"-owner", strconv.FormatInt(t.OwnerID, 10))
			h.setDue(form, pre+"-due", t.DueAt)
		}
	}
	data := caseData(r, c, "/tasks")
	data["Tasks"], data["People"] = rows, people
	data["AsOf"] = h.srv.Catalog().DateTime(web.Locale(r), now)
	p := &web.Page{Title: h.caseTitle(r, h.t(r, "casesui.tasks.title", nil), c), Form: form, Data: data}
	return h.render(w, r, "case_tasks", p, ferr, anchors)
}

// slaText writes a template's service level ("4h", "2d") in words.
func (h *handlers) slaText(r *http.Request, sla string) string {
	if len(sla) < 2 {
		return ""
	}
	n, err := strconv.Atoi(sla[:len(sla)-1])
	if err != nil {
		return ""
	}
	var d time.Duration
	switch sla[len(sla)-1] {
	case 'h':
		d = time.Duration(n) * time.Hour
	case 'd':
		d = time.Duration(n) * 24 * time.Hour
	default:
		return ""
	}
	return h.t(r, "casesui.tasks.sla_rule", map[string]any{"time": h.duration(r, d)})
}

// ownerID reads an owner select: "0" or "" is nobody.
func ownerID(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, errs.Field("owner_id", "err.case.task_owner", nil)
	}
	return n, nil
}

func (h *handlers) addTaskPost(w http.ResponseWriter, r *http.Request) error {
	if err := worker(r); err != nil {
		return err
	}
	c, err := h.load(r)
	if err != nil {
		return err
	}
	f := r.PostForm
	anchors := map[string]string{"title": "title", "owner_id": "owner", "due": "due", "description": "description"}
	title, desc := f.Get("title"), f.Get("description")
	in := TaskInput{Title: &title, Description: &desc}
	var v errs.Validator
	owner, err := ownerID(f.Get("owner"))
	if err != nil {
		v.Add("owner_id", "err.case.task_owner", nil)
	}
	in.OwnerID = &owner
	due, err := h.parseDue(f, "due", "due")
	if e, ok := errs.As(err); ok {
		for _, fe := range e.Fields {
			v.Add(fe.Field, fe.Code, fe.Args)
		}
	}
	in.DueAt = due
	if err := v.Err(); err != nil {
		return h.renderTasks(w, r, c, f, err, anchors)
	}
	if _, err := h.svc.AddTask(r.Context(), c.ID, in); err != nil {
		return h.renderTasks(w, r, c, f, err, anchors)
	}
	return h.done(w, r, "casesui.flash.task_added", caseBase(c.ID)+"/tasks")
}

// updateTaskPost marks a task done, cancelled or open again (action), or
// changes its owner and due time (action "change").
func (h *handlers) updateTaskPost(w http.ResponseWriter, r *http.Request) error {
	if err := worker(r); err != nil {
		return err
	}
	c, err := h.load(r)
	if err != nil {
		return err
	}
	taskID, err := web.PathID(r, "task")
	if err != nil {
		return err
	}
	f := r.PostForm
	f.Set("task", strconv.FormatInt(taskID, 10))
	pre := fmt.Sprintf("t%d", taskID)
	anchors := map[string]string{"owner_id": pre + "-owner", "due": pre + "-due", "status": "", "title": ""}
	var in TaskInput
	flash := "casesui.flash.task_updated"
	switch action := f.Get("action"); action {
	case "done", "cancelled", "open":
		in.Status = &action
		flash = "casesui.flash.task_" + action
	case "change":
		var v errs.Validator
		owner, err := ownerID(f.Get(pre + "-owner"))
		if err != nil {
			v.Add("owner_id", "err.case.task_owner", nil)
		}
		in.OwnerID = &owner
		due, err := h.parseDue(f, pre+"-due", "due")
		if e, ok := errs.As(err); ok {
			for _, fe := range e.Fields {
				v.Add(fe.Field, fe.Code, fe.Args)
			}
		}
		if err := v.Err(); err != nil {
			return h.renderTasks(w, r, c, f, err, anchors)
		}
		// The due time shown is rounded down to the minute: sent back
		// unchanged, it keeps the exact time and the SLA.
		cur, err := h.svc.task(r.Context(), taskID)
		if err != nil {
			return err
		}
		switch {
		case due == nil && cur.DueAt != nil:
			in.ClearDue = true
		case due != nil && (cur.DueAt == nil || !cur.DueAt.Truncate(time.Minute).Equal(*due)):
			in.DueAt = due
		}
	default:
		return errs.E(errs.Invalid, "err.casesui.task_action")
	}
	if _, err := h.svc.UpdateTask(r.Context(), c.ID, taskID, in); err != nil {
		return h.renderTasks(w, r, c, f, err, anchors)
	}
	return h.done(w, r, flash, caseBase(c.ID)+"/tasks")
}

// ---- observables ----

var observableFields = same("type", "value", "tlp", "note")

func (h *handlers) observablesPage(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r)
	if err != nil {
		return err
	}
	return h.renderObservables(w, r, c, url.Values{"type": {"ip"}, "tlp": {c.TLP}}, nil)
}

func (h *handlers) renderObservables(w http.ResponseWriter, r *http.Request, c *Case, form url.Values, ferr error) error {
	os, err := h.svc.Observables(r.Context(), c.ID)
	if err != nil {
		return err
	}
	data := caseData(r, c, "/observables")
	data["Observables"], data["Types"], data["TLPs"] = os, ObservableTypes, TLPs
	p := &web.Page{Title: h.caseTitle(r, h.t(r, "casesui.obs.title", nil), c), Form: form, Data: data}
	return h.render(w, r, "case_observables", p, ferr, observableFields)
}

func (h *handlers) addObservablePost(w http.ResponseWriter, r *http.Request) error {
	if err := worker(r); err != nil {
		return err
	}
	c, err := h.load(r)
	if err != nil {
		return err
	}
	f := r.PostForm
	in := ObservableInput{Type: f.Get("type"), Value: f.Get("value"), TLP: f.Get("tlp"), IOC: f.Get("ioc") == "yes",
		Sighted: f.Get("sighted") == "yes", Note: f.Get("note")}
	if _, err := h.svc.AddObservable(r.Context(), c.ID, in); err != nil {
		return h.renderObservables(w, r, c, f, err)
	}
	return h.done(w, r, "casesui.flash.observable_added", caseBase(c.ID)+"/observables")
}

func (h *handlers) removeObservablePost(w http.ResponseWriter, r *http.Request) error {
	if err := worker(r); err != nil {
		return err
	}
	c, err := h.load(r)
	if err != nil {
		return err
	}
	obs, err := web.PathID(r, "obs")
	if err != nil {
		return err
	}
	if err := h.svc.RemoveObservable(r.Context(), c.ID, obs); err != nil {
		return err
	}
	return h.done(w, r, "casesui.flash.observable_removed", caseBase(c.ID)+"/observables")
}

// similarPage lists the other cases and the feed events where an
// observable of the case appears.
func (h *handlers) similarPage(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r)
	if err != nil {
		return err
	}
	obsID, err := web.PathID(r, "obs")
	if err != nil {
		return err
	}
	os, err := h.svc.Observables(r.Context(), c.ID)
	if err != nil {
		return err
	}
	var obs *Observable
	for _, o := range os {
		if o.ID == obsID {
			obs = o
		}
	}
	if obs == nil {
		return errs.E(errs.NotFound, "err.case.observable_not_found")
	}
	sim, err := h.svc.Similar(r.Context(), obsID, c.ID, 100)
	if err != nil {
		return err
	}
	data := caseData(r, c, "/observables")
	data["O"], data["Similar"] = obs, sim
	p := &web.Page{Title: h.caseTitle(r, h.t(r, "casesui.similar.title", map[string]any{"value": obs.Value}), c), Data: data}
	return h.srv.RenderPage(w, r, http.StatusOK, "case_similar", p)
}

// ---- timeline ----

// eventView is an entry of the timeline with its kind in words.
type eventView struct {
	*Event
	What string
}

func (h *handlers) timelinePage(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r)
	if err != nil {
		return err
	}
	return h.renderTimeline(w, r, c, url.Values{"tlp": {c.TLP}}, nil)
}

func (h *handlers) renderTimeline(w http.ResponseWriter, r *http.Request, c *Case, form url.Values, ferr error) error {
	evs, err := h.svc.Timeline(r.Context(), c.ID)
	if err != nil {
		return err
	}
	rows := make([]eventView, len(evs))
	for i, e := range evs {
		rows[i] = eventView{Event: e, What: h.eventText(r, e.Kind)}
	}
	data := caseData(r, c, "/timeline")
	data["Events"], data["TLPs"] = rows, TLPs
	p := &web.Page{Title: h.caseTitle(r, h.t(r, "casesui.timeline.title", nil), c), Form: form, Data: data}
	return h.render(w, r, "case_timeline", p, ferr, same("body", "tlp"))
}

func (h *handlers) notePost(w http.ResponseWriter, r *http.Request) error {
	if err := worker(r); err != nil {
		return err
	}
	c, err := h.load(r)
	if err != nil {
		return err
	}
	f := r.PostForm
	if _, err := h.svc.AddNote(r.Context(), c.ID, f.Get("body"), f.Get("tlp")); err != nil {
		return h.renderTimeline(w, r, c, f, err)
	}
	return h.done(w, r, "casesui.flash.note_added", caseBase(c.ID)+"/timeline")
}
