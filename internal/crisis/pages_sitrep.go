package crisis

// Situation reports (UX.md pattern 23): the list, a draft written in the
// fixed structure, publication, and the HTML and Markdown exports.

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

var sitrepFields = map[string]string{"tlp": "tlp", "situation": "situation", "impact": "impact", "actions": "actions",
	"decisions": "decisions", "next_update_at": "next_update", "confirm_delete": "confirm_delete"}

func (h *handlers) sitrepsPage(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r)
	if err != nil {
		return err
	}
	list, err := h.svc.Sitreps(r.Context(), c.ID)
	if err != nil {
		return err
	}
	for _, s := range list {
		s.LevelName = h.levelName(r, s.Level)
	}
	d := crisisData(c, "/sitreps")
	d["Sitreps"] = list
	d["NextSitrep"] = h.due(r, c.NextSitrepAt, c.Status == "open")
	p := &web.Page{Title: crisisTitle(h.t(r, "crisisui.sitreps.title", nil), c), Data: d}
	return h.render(w, r, "crisis_sitreps", p, nil, nil)
}

// sitrepInput reads the draft form; on a new draft, empty actions and
// decisions stay nil so that the service writes them from the crisis.
func (h *handlers) sitrepInput(f url.Values, create bool) (SitrepInput, error) {
	in := SitrepInput{}
	set := func(name string) *string {
		v := f.Get(name)
		if create && strings.TrimSpace(v) == "" && (name == "actions" || name == "decisions") {
			return nil
		}
		return &v
	}
	in.TLP, in.Situation, in.Impact, in.Actions, in.Decisions = set("tlp"), set("situation"), set("impact"), set("actions"), set("decisions")
	next, err := h.parseTime(f, "next_update", "next_update_at")
	in.NextUpdateAt = next
	return in, err
}

func (h *handlers) newSitrepForm(w http.ResponseWriter, r *http.Request) error {
	c, err := h.loadWith(r, AccessContribute)
	if err != nil {
		return err
	}
	return h.renderSitrepForm(w, r, c, nil, url.Values{"tlp": {c.TLP}}, nil)
}

// renderSitrepForm shows the form of a new draft (s nil) or of draft s.
func (h *handlers) renderSitrepForm(w http.ResponseWriter, r *http.Request, c *Crisis, s *Sitrep, form url.Values, ferr error) error {
	d := crisisData(c, "/sitreps")
	d["S"] = s
	d["TLPs"] = TLPs
	d["LevelNumber"], d["LevelName"] = c.LevelNumber, c.LevelName
	d["H1Key"], d["PrefillHint"] = "crisisui.sitrep.new_title", "crisisui.hint.sitrep_prefill"
	action := crisisBase(c.ID) + "/sitreps/new"
	if s != nil {
		d["H1Key"], d["PrefillHint"] = "crisisui.sitrep.draft_title", ""
		action = fmt.Sprintf("%s/sitreps/%d", crisisBase(c.ID), s.ID)
		d["Exports"] = h.exports(c, s)
	}
	d["Action"] = action
	p := &web.Page{Title: crisisTitle(h.t(r, d["H1Key"].(string), nil), c), Form: form, Data: d}
	return h.render(w, r, "crisis_sitrep_form", p, ferr, sitrepFields)
}

func (h *handlers) createSitrepPost(w http.ResponseWriter, r *http.Request) error {
	c, err := h.loadWith(r, AccessContribute)
	if err != nil {
		return err
	}
	in, err := h.sitrepInput(r.PostForm, true)
	var s *Sitrep
	if err == nil {
		s, err = h.svc.CreateSitrep(r.Context(), c.ID, in)
	}
	if err != nil {
		return h.renderSitrepForm(w, r, c, nil, r.PostForm, err)
	}
	return h.done(w, r, "crisisui.flash.sitrep_saved", fmt.Sprintf("%s/sitreps/%d", crisisBase(c.ID), s.ID))
}

// loadSitrep returns the crisis and the sitrep of the request as the
// caller may read them.
func (h *handlers) loadSitrep(r *http.Request) (*Crisis, *Sitrep, error) {
	c, err := h.load(r)
	if err != nil {
		return nil, nil, err
	}
	sid, err := web.PathID(r, "sitrep")
	if err != nil {
		return nil, nil, err
	}
	_, s, err := h.svc.readable(r.Context(), c.ID, sid)
	return c, s, err
}

func (h *handlers) sitrepPage(w http.ResponseWriter, r *http.Request) error {
	c, s, err := h.loadSitrep(r)
	if err != nil {
		return err
	}
	if s.Status == "draft" {
		form := url.Values{"tlp": {s.TLP}, "situation": {s.Situation}, "impact": {s.Impact}, "actions": {s.Actions}, "decisions": {s.Decisions},
			"distribute": {"yes"}}
		h.setTime(form, "next_update", s.NextUpdateAt)
		return h.renderSitrepForm(w, r, c, s, form, nil)
	}
	l := web.Locale(r)
	s.LevelName = h.svc.LevelName(l, s.Level)
	d := crisisData(c, "/sitreps")
	d["S"] = s
	d["Heading"] = h.svc.sitrepTitle(c, s, l)
	d["Sections"] = h.svc.sections(c, s, l)
	d["Exports"] = h.exports(c, s)
	d["Ago"] = h.duration(r, h.svc.now().Sub(*s.PublishedAt))
	p := &web.Page{Title: crisisTitle(h.svc.sitrepTitle(c, s, l), c), Data: d}
	return h.render(w, r, "crisis_sitrep", p, nil, nil)
}

// export is a link to an export of a sitrep.
type export struct {
	Format string
	Path   string
	Name   string
}

func (h *handlers) exports(c *Crisis, s *Sitrep) []export {
	base := fmt.Sprintf("%s/sitreps/%d/export?format=", crisisBase(c.ID), s.ID)
	return []export{{"html", base + "html", SitrepFileName(c, s, "html")}, {"md", base + "md", SitrepFileName(c, s, "md")}}
}

func (h *handlers) saveSitrepPost(w http.ResponseWriter, r *http.Request) error {
	c, s, err := h.loadSitrep(r)
	if err != nil {
		return err
	}
	in, err := h.sitrepInput(r.PostForm, false)
	if err == nil {
		_, err = h.svc.UpdateSitrep(r.Context(), c.ID, s.ID, in)
	}
	if err != nil {
		return h.renderSitrepForm(w, r, c, s, r.PostForm, err)
	}
	return h.done(w, r, "crisisui.flash.sitrep_saved", fmt.Sprintf("%s/sitreps/%d", crisisBase(c.ID), s.ID))
}

func (h *handlers) publishSitrepPost(w http.ResponseWriter, r *http.Request) error {
	c, s, err := h.loadSitrep(r)
	if err != nil {
		return err
	}
	if accessOf(c.Access) < AccessManage {
		return forbidden()
	}
	dist := r.PostForm.Get("distribute") == "yes"
	if _, err := h.svc.PublishSitrep(r.Context(), c.ID, s.ID, PublishInput{Distribute: &dist}); err != nil {
		form := url.Values{"tlp": {s.TLP}, "situation": {s.Situation}, "impact": {s.Impact}, "actions": {s.Actions}, "decisions": {s.Decisions}}
		if dist {
			form.Set("distribute", "yes")
		}
		h.setTime(form, "next_update", s.NextUpdateAt)
		return h.renderSitrepForm(w, r, c, s, form, err)
	}
	return h.done(w, r, "crisisui.flash.sitrep_published", fmt.Sprintf("%s/sitreps/%d", crisisBase(c.ID), s.ID))
}

// deleteSitrepPost deletes a draft once its confirmation box is ticked;
// contributors may, as they may write drafts.
func (h *handlers) deleteSitrepPost(w http.ResponseWriter, r *http.Request) error {
	c, s, err := h.loadSitrep(r)
	if err != nil {
		return err
	}
	if accessOf(c.Access) < AccessContribute {
		return forbidden()
	}
	if s.Status != "draft" {
		return errs.E(errs.Conflict, "err.crisis.sitrep_published")
	}
	if r.PostForm.Get("confirm_delete") != "yes" {
		err = errs.Field("confirm_delete", "err.crisisui.confirm_delete", nil)
	} else {
		err = h.svc.DeleteSitrep(r.Context(), c.ID, s.ID)
	}
	if err != nil {
		form := url.Values{"tlp": {s.TLP}, "situation": {s.Situation}, "impact": {s.Impact}, "actions": {s.Actions}, "decisions": {s.Decisions},
			"distribute": {"yes"}}
		h.setTime(form, "next_update", s.NextUpdateAt)
		return h.renderSitrepForm(w, r, c, s, form, err)
	}
	return h.done(w, r, "crisisui.flash.sitrep_deleted", crisisBase(c.ID)+"/sitreps")
}

// exportPage answers the sitrep's standalone HTML page or its Markdown,
// written by the service in the reader's language.
func (h *handlers) exportPage(w http.ResponseWriter, r *http.Request) error {
	c, s, err := h.loadSitrep(r)
	if err != nil {
		return err
	}
	body, name, mediaType, err := h.svc.Export(r.Context(), c.ID, s.ID, r.URL.Query().Get("format"), web.Locale(r))
	if err != nil {
		return err
	}
	disp := "inline"
	if strings.HasPrefix(mediaType, "text/markdown") {
		disp = "attachment"
	}
	w.Header().Set("Content-Type", mediaType)
	w.Header().Set("Content-Disposition", disp+`; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// The standalone page carries its own print style and nothing else,
	// as the API's export.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	_, err = w.Write(body)
	return err
}
