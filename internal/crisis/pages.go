package crisis

// The portal pages of crisis coordination (UX.md patterns 10, 19, 20 and
// 23), without JavaScript. Every check is the service's: a crisis the
// caller does not take part in does not exist (404), a page beyond the
// caller's access is refused (403) and its tab is not shown, and forms
// the caller may not send are not shown. The list, the new crisis and the
// situation picture are in pages_crisis.go; the picture's forms, the edit
// page and the timeline in pages_picture.go; the team, decisions and
// actions in pages_team.go; the sitreps in pages_sitrep.go; the directory,
// call-outs and the public acknowledgement page in pages_callout.go.

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

func (h *handlers) pageRoutes() {
	s := h.srv
	s.Page("GET /crises", h.listPage)
	s.Page("GET /crises/new", h.newForm)
	s.Page("POST /crises/new", h.declarePost)
	s.Page("GET /crises/directory", h.directoryPage)
	s.Page("GET /crises/{id}", h.overview)
	s.Page("POST /crises/{id}/level", h.levelPost)
	s.Page("POST /crises/{id}/status", h.statusPost)
	s.Page("GET /crises/{id}/edit", h.editForm)
	s.Page("POST /crises/{id}/edit", h.editPost)
	s.Page("POST /crises/{id}/sectors", h.sectorsPost)
	s.Page("POST /crises/{id}/organisations", h.addOrgPost)
	s.Page("POST /crises/{id}/organisations/{entry}/remove", h.removeOrgPost)
	s.Page("POST /crises/{id}/links", h.addLinkPost)
	s.Page("GET /crises/{id}/timeline", h.timelinePage)
	s.Page("GET /crises/{id}/participants", h.participantsPage)
	s.Page("POST /crises/{id}/participants", h.addParticipantPost)
	s.Page("POST /crises/{id}/participants/{pid}", h.updateParticipantPost)
	s.Page("POST /crises/{id}/participants/{pid}/remove", h.removeParticipantPost)
	s.Page("GET /crises/{id}/decisions", h.decisionsPage)
	s.Page("POST /crises/{id}/decisions", h.addDecisionPost)
	s.Page("GET /crises/{id}/actions", h.actionsPage)
	s.Page("POST /crises/{id}/actions", h.addActionPost)
	s.Page("POST /crises/{id}/actions/{action}", h.actionStatusPost)
	s.Page("GET /crises/{id}/sitreps", h.sitrepsPage)
	s.Page("GET /crises/{id}/sitreps/new", h.newSitrepForm)
	s.Page("POST /crises/{id}/sitreps/new", h.createSitrepPost)
	s.Page("GET /crises/{id}/sitreps/{sitrep}", h.sitrepPage)
	s.Page("POST /crises/{id}/sitreps/{sitrep}", h.saveSitrepPost)
	s.Page("POST /crises/{id}/sitreps/{sitrep}/publish", h.publishSitrepPost)
	s.Page("POST /crises/{id}/sitreps/{sitrep}/delete", h.deleteSitrepPost)
	s.Page("GET /crises/{id}/sitreps/{sitrep}/export", h.exportPage)
	s.Page("GET /crises/{id}/callouts", h.calloutsPage)
	s.Page("POST /crises/{id}/callouts", h.sendCalloutPost)
	s.Page("GET /crises/{id}/callouts/{callout}", h.calloutPage)
	// The recipient's personal link: no account, the token is the key.
	// Reading records that the message was read; only the button
	// acknowledges it (mail scanners follow links).
	s.PublicPage("GET /callouts/ack", h.ackPage)
	s.PublicPage("POST /callouts/ack", h.ackPost)
}

func (h *handlers) t(r *http.Request, key string, args map[string]any) string {
	return h.srv.Catalog().T(web.Locale(r), key, args)
}

func crisisBase(id int64) string { return "/crises/" + itoa(id) }

// staffOnly refuses everyone who may not declare crises or search the
// directory, as the service does: for them the page does not exist.
func staffOnly(r *http.Request) error {
	if !CanDeclare(auth.From(r.Context())) {
		return notFound()
	}
	return nil
}

// load returns the crisis of the request's {id} as the caller sees it
// (with its access), or not found.
func (h *handlers) load(r *http.Request) (*Crisis, error) {
	id, err := web.PathID(r, "id")
	if err != nil {
		return nil, err
	}
	c, err := h.svc.Get(r.Context(), id)
	if err != nil {
		return nil, err
	}
	c.LevelName = h.levelName(r, c.Level)
	return c, nil
}

// levelName is the name of a level in the page's language. The service
// names levels in the language of the caller's account, which the page's
// language may differ from.
func (h *handlers) levelName(r *http.Request, code string) string {
	return h.svc.LevelName(web.Locale(r), code)
}

// loadWith returns the crisis and refuses callers with less access than
// want.
func (h *handlers) loadWith(r *http.Request, want Access) (*Crisis, error) {
	c, err := h.load(r)
	if err != nil {
		return nil, err
	}
	if accessOf(c.Access) < want {
		return nil, forbidden()
	}
	return c, nil
}

// tab is an entry of a crisis's sub-navigation.
type tab struct {
	Key     string
	Path    string
	Current bool
}

// crisisTabs are the pages of a crisis with the access each needs.
var crisisTabs = []struct {
	Key, Suffix string
	Need        Access
}{
	{"crisisui.tab.overview", "", AccessSitreps},
	{"crisisui.tab.participants", "/participants", AccessRead},
	{"crisisui.tab.decisions", "/decisions", AccessRead},
	{"crisisui.tab.actions", "/actions", AccessRead},
	{"crisisui.tab.sitreps", "/sitreps", AccessSitreps},
	{"crisisui.tab.callouts", "/callouts", AccessRead},
	{"crisisui.tab.timeline", "/timeline", AccessRead},
}

// crisisData is what every page of one crisis gets: the crisis, its base
// path, the tabs its reader may open with the current one, and what the
// reader may do.
func crisisData(c *Crisis, current string) map[string]any {
	base := crisisBase(c.ID)
	a := accessOf(c.Access)
	var tabs []tab
	for _, t := range crisisTabs {
		if a >= t.Need {
			tabs = append(tabs, tab{Key: t.Key, Path: base + t.Suffix, Current: t.Suffix == current})
		}
	}
	return map[string]any{"C": c, "Base": base, "Tabs": tabs, "CanRead": a >= AccessRead,
		"CanContribute": a >= AccessContribute, "CanManage": a >= AccessManage}
}

// exercisePrefix marks the title of every page and output of an exercise.
const exercisePrefix = "[EXERCISE]"

// crisisTitle is the <title> of a page of crisis c: the page's name, the
// reference and the TLP label, "[EXERCISE]" first in exercise mode.
func crisisTitle(name string, c *Crisis) string {
	t := name + " – " + c.Ref + " TLP:" + c.TLP
	if c.Exercise {
		t = exercisePrefix + " " + t
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
		p.Errors = append(p.Errors, web.FieldMessage{Field: anchors[f.Field], Message: h.srv.Message(r, f.Code, f.Args)})
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

// choice is a user or an organisation offered by a form.
type choice struct {
	ID    int64
	Name  string
	Email string
}

// staffChoices lists the authority's active users.
func (h *handlers) staffChoices(ctx context.Context) ([]choice, error) {
	return h.choices(ctx, `SELECT u.id, u.name, u.email FROM users u JOIN organisations o ON o.id = u.org_id
		WHERE o.kind = 'authority' AND NOT u.disabled ORDER BY u.name, u.email`)
}

// orgChoices lists the organisations that can take part: every one but
// the authority.
func (h *handlers) orgChoices(ctx context.Context) ([]choice, error) {
	return h.choices(ctx, `SELECT id, name, '' FROM organisations WHERE kind <> 'authority' ORDER BY name, id`)
}

func (h *handlers) choices(ctx context.Context, q string) ([]choice, error) {
	rows, err := h.svc.db.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []choice
	for rows.Next() {
		var c choice
		if err := rows.Scan(&c.ID, &c.Name, &c.Email); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ---- time in words (UX.md pattern 10) ----

// dueView is a due time as people read it (UX.md pattern 10).
type dueView = web.Due

// due describes at as of the service's clock; nil when there is no due
// time. A time no longer open (done, published) has no relative part.
func (h *handlers) due(r *http.Request, at *time.Time, open bool) *dueView {
	return h.srv.Due(r, at, h.svc.now(), open)
}

// duration writes d to the minute in its two largest units.
func (h *handlers) duration(r *http.Request, d time.Duration) string {
	return h.srv.Duration(r, d, true)
}

// parseTime reads the boxes prefix-day … prefix-minute as Belgian time;
// nil when every box is empty.
func (h *handlers) parseTime(form url.Values, prefix, field string) (*time.Time, error) {
	t, problem := web.ParseDateTime(form, prefix, h.srv.Catalog().Zone())
	switch problem {
	case web.DateIncomplete:
		return nil, errs.Field(field, "err.crisisui.time_incomplete", nil)
	case web.DateInvalid:
		return nil, errs.Field(field, "err.crisisui.time_invalid", nil)
	}
	return t, nil
}

// setTime writes t into the boxes of a date and time input, in Belgian time.
func (h *handlers) setTime(form url.Values, prefix string, t *time.Time) {
	web.SetDateTime(form, prefix, t, h.srv.Catalog().Zone())
}

// levelView is a level of the scale for the forms and the picture: its
// number, its name and its meaning.
type levelView struct {
	Code   string
	Number int
	Name   string
	Desc   string
}

func (h *handlers) levels(r *http.Request) []levelView {
	l := web.Locale(r)
	var out []levelView
	for _, lv := range h.svc.scale.Levels() {
		v := levelView{Code: lv.Code, Number: lv.Number, Name: h.svc.LevelName(l, lv.Code)}
		if k := lv.NameKey() + ".desc"; h.srv.Catalog().Has(k) {
			v.Desc = h.t(r, k, nil)
		}
		out = append(out, v)
	}
	return out
}

func parseID(s string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}
