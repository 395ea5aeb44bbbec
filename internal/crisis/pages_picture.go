package crisis

// The forms of the situation picture (affected sectors, affected
// organisations, links to cases and incidents), the page that edits a
// crisis's title, description and sitrep schedule, and the timeline.
// Only those who run the crisis (its leads and members, the authority's
// administrators) change the picture, as the team: the service would let
// contributing participants do it, the portal does not.

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/web"
)

// The inputs of the picture's forms by the service's field names.
var (
	sectorFields = map[string]string{"sectors": "sectors"}
	orgFields    = map[string]string{"organisation_id": "affected_org", "name": "affected_org", "note": "affected_note"}
	linkFields   = map[string]string{"kind": "link_kind", "target": "link_target"}
	editFields   = same("title", "description", "sitrep_interval")
)

// sectorChoice is a checkbox of the sectors form.
type sectorChoice struct {
	Code    string
	ID      string
	Checked bool
}

// sectorChoices are the NIS2 sectors with those of form checked; the
// first box carries the id the group's errors point at.
func sectorChoices(form url.Values) []sectorChoice {
	var out []sectorChoice
	for i, s := range nis2.Sectors() {
		id := "sectors-" + s.Code
		if i == 0 {
			id = "sectors"
		}
		out = append(out, sectorChoice{Code: s.Code, ID: id, Checked: slices.Contains(form["sectors"], s.Code)})
	}
	return out
}

// pictureForms adds what the picture's forms need to d, and fills the
// form's values a POST of another form did not send with the crisis's.
func (h *handlers) pictureForms(r *http.Request, d map[string]any, pic *Picture, form url.Values) error {
	if _, ok := form["sectors"]; !ok {
		form["sectors"] = pic.Sectors
	}
	if form.Get("link_kind") == "" {
		form.Set("link_kind", "case")
	}
	d["SectorChoices"] = sectorChoices(form)
	d["LinkKinds"] = LinkKinds
	orgs, err := h.orgChoices(r.Context())
	if err != nil {
		return err
	}
	d["Orgs"] = orgs
	return nil
}

func (h *handlers) sectorsPost(w http.ResponseWriter, r *http.Request) error {
	c, err := h.loadWith(r, AccessManage)
	if err != nil {
		return err
	}
	f := r.PostForm
	sectors := f["sectors"]
	if sectors == nil {
		sectors = []string{}
		f["sectors"] = sectors // none checked: the form shows none
	}
	if _, err := h.svc.SetSectors(r.Context(), c.ID, sectors); err != nil {
		return h.renderOverview(w, r, c, f, err, sectorFields)
	}
	return h.done(w, r, "crisisui.flash.sectors", crisisBase(c.ID))
}

func (h *handlers) addOrgPost(w http.ResponseWriter, r *http.Request) error {
	c, err := h.loadWith(r, AccessManage)
	if err != nil {
		return err
	}
	f := r.PostForm
	in := AffectedOrgInput{OrgID: parseID(f.Get("affected_org")), Name: f.Get("affected_name"), Note: f.Get("affected_note")}
	if in.OrgID != 0 {
		in.Name = ""
	}
	anchors := orgFields
	if in.OrgID == 0 && strings.TrimSpace(in.Name) != "" {
		anchors = map[string]string{"name": "affected_name", "note": "affected_note"}
	}
	if _, err := h.svc.AddOrg(r.Context(), c.ID, in); err != nil {
		return h.renderOverview(w, r, c, f, err, anchors)
	}
	return h.done(w, r, "crisisui.flash.org_added", crisisBase(c.ID))
}

func (h *handlers) removeOrgPost(w http.ResponseWriter, r *http.Request) error {
	c, err := h.loadWith(r, AccessManage)
	if err != nil {
		return err
	}
	entry, err := web.PathID(r, "entry")
	if err != nil {
		return err
	}
	if _, err := h.svc.RemoveOrg(r.Context(), c.ID, entry); err != nil {
		return err
	}
	return h.done(w, r, "crisisui.flash.org_removed", crisisBase(c.ID))
}

func (h *handlers) addLinkPost(w http.ResponseWriter, r *http.Request) error {
	c, err := h.loadWith(r, AccessManage)
	if err != nil {
		return err
	}
	f := r.PostForm
	if _, err := h.svc.AddLink(r.Context(), c.ID, Link{Kind: f.Get("link_kind"), Target: f.Get("link_target")}); err != nil {
		return h.renderOverview(w, r, c, f, err, linkFields)
	}
	return h.done(w, r, "crisisui.flash.link_added", crisisBase(c.ID))
}

// ---- editing the crisis ----

func (h *handlers) editForm(w http.ResponseWriter, r *http.Request) error {
	c, err := h.loadWith(r, AccessManage)
	if err != nil {
		return err
	}
	form := url.Values{"title": {c.Title}, "description": {c.Description}, "sitrep_interval": {strconv.Itoa(c.SitrepInterval)}}
	return h.renderEdit(w, r, c, form, nil)
}

func (h *handlers) renderEdit(w http.ResponseWriter, r *http.Request, c *Crisis, form url.Values, ferr error) error {
	d := crisisData(c, "/edit")
	p := &web.Page{Title: crisisTitle(h.t(r, "crisisui.edit.title", nil), c), Form: form, Data: d}
	return h.render(w, r, "crisis_edit", p, ferr, editFields)
}

func (h *handlers) editPost(w http.ResponseWriter, r *http.Request) error {
	c, err := h.loadWith(r, AccessManage)
	if err != nil {
		return err
	}
	f := r.PostForm
	title, desc := f.Get("title"), f.Get("description")
	n, err := strconv.Atoi(strings.TrimSpace(f.Get("sitrep_interval")))
	if err != nil {
		n = -1 // the service's message: minutes from 0 to 10080
	}
	if _, err := h.svc.Update(r.Context(), c.ID, UpdateInput{Title: &title, Description: &desc, SitrepInterval: &n}); err != nil {
		return h.renderEdit(w, r, c, f, err)
	}
	return h.done(w, r, "crisisui.flash.edited", crisisBase(c.ID))
}

// ---- the timeline ----

// eventView is an entry of the timeline with its kind in words.
type eventView struct {
	Event
	What string
}

func (h *handlers) timelinePage(w http.ResponseWriter, r *http.Request) error {
	c, err := h.loadWith(r, AccessRead)
	if err != nil {
		return err
	}
	es, err := h.svc.Timeline(r.Context(), c.ID) // newest first
	if err != nil {
		return err
	}
	views := make([]eventView, 0, len(es))
	for _, e := range es {
		v := eventView{Event: e, What: e.Kind}
		if k := "crisisui.event." + strings.ReplaceAll(e.Kind, ".", "_"); h.srv.Catalog().Has(k) {
			v.What = h.t(r, k, nil)
		}
		views = append(views, v)
	}
	d := crisisData(c, "/timeline")
	d["Events"] = views
	p := &web.Page{Title: crisisTitle(h.t(r, "crisisui.timeline.title", nil), c), Data: d}
	return h.render(w, r, "crisis_timeline", p, nil, nil)
}
