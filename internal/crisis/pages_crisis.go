package crisis

// The list of crises, a new crisis (on its own or from a case) and the
// situation picture with the level and status forms.

import (
	"database/sql"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/web"
)

func (h *handlers) listPage(w http.ResponseWriter, r *http.Request) error {
	items, _, err := h.svc.List(r.Context(), Filter{Limit: 200})
	if err != nil {
		return err
	}
	for _, c := range items {
		c.LevelName = h.levelName(r, c.Level)
	}
	// Open crises first, then stood down, then closed; newest change
	// first within each.
	rank := func(c *Crisis) int { return slices.Index(Statuses, c.Status) }
	slices.SortStableFunc(items, func(a, b *Crisis) int { return rank(a) - rank(b) })
	p := &web.Page{Title: h.t(r, "crisisui.list.title", nil), Data: map[string]any{
		"Items": items, "CanDeclare": CanDeclare(auth.From(r.Context()))}}
	return h.render(w, r, "crisis_list", p, nil, nil)
}

// newFields are the inputs of the new-crisis form by the service's field
// names; the level's error points at its first radio.
var newFields = map[string]string{"title": "title", "description": "description", "level": "level", "tlp": "tlp",
	"sitrep_interval": "sitrep_interval", "case_ref": "case_ref", "reason": "reason"}

func (h *handlers) newForm(w http.ResponseWriter, r *http.Request) error {
	if err := staffOnly(r); err != nil {
		return err
	}
	form := url.Values{"tlp": {"AMBER"}, "level": {h.svc.scale.First().Code}, "sitrep_interval": {"0"}}
	if ref := strings.ToUpper(strings.TrimSpace(r.URL.Query().Get("case"))); ref != "" {
		form.Set("case_ref", ref)
		var title, tlp string
		var ex bool
		err := h.svc.db.QueryRow(r.Context(), `SELECT title, tlp, exercise FROM cases WHERE ref = ?`, ref).Scan(&title, &tlp, &ex)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err == nil {
			form.Set("title", title)
			form.Set("tlp", tlp)
			if ex {
				form.Set("exercise", "yes")
			}
		}
	}
	return h.renderNew(w, r, form, nil)
}

func (h *handlers) renderNew(w http.ResponseWriter, r *http.Request, form url.Values, err error) error {
	p := &web.Page{Title: h.t(r, "crisisui.new.title", nil), Form: form, Data: map[string]any{
		"Levels": h.levels(r), "TLPs": TLPs}}
	return h.render(w, r, "crisis_new", p, err, newFields)
}

func (h *handlers) declarePost(w http.ResponseWriter, r *http.Request) error {
	if err := staffOnly(r); err != nil {
		return err
	}
	f := r.PostForm
	in := DeclareInput{Title: f.Get("title"), Description: f.Get("description"), Level: f.Get("level"), TLP: f.Get("tlp"),
		Exercise: f.Get("exercise") == "yes", CaseRef: f.Get("case_ref"), Reason: f.Get("reason")}
	if s := strings.TrimSpace(f.Get("sitrep_interval")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			n = -1 // the service's message: minutes from 0 to 10080
		}
		in.SitrepInterval = n
	}
	c, err := h.svc.Declare(r.Context(), in)
	if err != nil {
		return h.renderNew(w, r, f, err)
	}
	return h.done(w, r, "crisisui.flash.declared", crisisBase(c.ID))
}

// ---- the situation picture ----

var levelFields = map[string]string{"level": "new_level", "reason": "level_reason"}

func (h *handlers) overview(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r)
	if err != nil {
		return err
	}
	return h.renderOverview(w, r, c, url.Values{"status": {c.Status}}, nil, levelFields)
}

func (h *handlers) renderOverview(w http.ResponseWriter, r *http.Request, c *Crisis, form url.Values, ferr error, anchors map[string]string) error {
	ctx := r.Context()
	if form.Get("status") == "" {
		form.Set("status", c.Status)
	}
	d := crisisData(c, "")
	d["Levels"] = h.levels(r)
	d["NextSitrep"] = h.due(r, c.NextSitrepAt, c.Status == "open")
	d["Now"] = h.svc.now()
	d["Statuses"] = Statuses
	if lv, ok := h.svc.scale.Level(c.Level); ok {
		if k := lv.NameKey() + ".desc"; h.srv.Catalog().Has(k) {
			d["LevelDesc"] = h.t(r, k, nil)
		}
	}
	if accessOf(c.Access) >= AccessRead {
		pic, err := h.svc.Picture(ctx, c.ID)
		if err != nil {
			return err
		}
		d["Picture"] = pic
		if accessOf(c.Access) >= AccessManage {
			if err := h.pictureForms(r, d, pic, form); err != nil {
				return err
			}
		}
		acts, err := h.svc.Actions(ctx, c.ID, false)
		if err != nil {
			return err
		}
		type actionView struct {
			*Action
			Due *dueView
		}
		var open []actionView
		for _, a := range acts {
			if a.Status == "open" {
				open = append(open, actionView{a, h.due(r, a.DueAt, true)})
			}
		}
		d["OpenActions"] = open
		ds, err := h.svc.Decisions(ctx, c.ID)
		if err != nil {
			return err
		}
		slices.Reverse(ds)
		if len(ds) > 5 {
			ds = ds[:5]
		}
		d["Decisions"] = ds
		levels, err := h.svc.Levels(ctx, c.ID)
		if err != nil {
			return err
		}
		for i := range levels {
			levels[i].Name = h.levelName(r, levels[i].Level)
		}
		slices.Reverse(levels)
		d["LevelHistory"] = levels
		if auth.From(ctx).IsAuthority() {
			d["CaseLinks"] = true
		}
	}
	sitreps, err := h.svc.Sitreps(ctx, c.ID)
	if err != nil {
		return err
	}
	for _, s := range sitreps {
		if s.Status == "published" {
			d["LastSitrep"] = s
			break
		}
	}
	p := &web.Page{Title: crisisTitle(c.Title, c), Form: form, Data: d}
	return h.render(w, r, "crisis_view", p, ferr, anchors)
}

func (h *handlers) levelPost(w http.ResponseWriter, r *http.Request) error {
	c, err := h.loadWith(r, AccessManage)
	if err != nil {
		return err
	}
	if _, err := h.svc.ChangeLevel(r.Context(), c.ID, r.PostForm.Get("new_level"), r.PostForm.Get("level_reason")); err != nil {
		return h.renderOverview(w, r, c, r.PostForm, err, levelFields)
	}
	return h.done(w, r, "crisisui.flash.level", crisisBase(c.ID))
}

func (h *handlers) statusPost(w http.ResponseWriter, r *http.Request) error {
	c, err := h.loadWith(r, AccessManage)
	if err != nil {
		return err
	}
	st := r.PostForm.Get("status")
	if _, err := h.svc.Update(r.Context(), c.ID, UpdateInput{Status: &st}); err != nil {
		return h.renderOverview(w, r, c, r.PostForm, err, same("status"))
	}
	return h.done(w, r, "crisisui.flash.status", crisisBase(c.ID))
}
