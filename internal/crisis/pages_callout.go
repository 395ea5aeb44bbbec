package crisis

// The contact directory, call-outs with who has read and acknowledged
// them, and the recipient's public acknowledgement page.

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/web"
)

func sectorCodes() []string {
	var out []string
	for _, s := range nis2.Sectors() {
		out = append(out, s.Code)
	}
	return out
}

// searchDirectory runs the directory search of the query's q and sector.
func (h *handlers) searchDirectory(r *http.Request) ([]Entry, url.Values, error) {
	q := r.URL.Query()
	form := url.Values{"q": {q.Get("q")}, "sector": {q.Get("sector")}}
	sector := q.Get("sector")
	if sector != "" && !strings.Contains(" "+strings.Join(sectorCodes(), " ")+" ", " "+sector+" ") {
		sector = ""
	}
	entries, err := h.svc.Directory(r.Context(), DirectoryFilter{Text: q.Get("q"), Sector: sector, Limit: 100})
	return entries, form, err
}

func (h *handlers) directoryPage(w http.ResponseWriter, r *http.Request) error {
	if err := staffOnly(r); err != nil {
		return err
	}
	entries, form, err := h.searchDirectory(r)
	if err != nil {
		return err
	}
	p := &web.Page{Title: h.t(r, "crisisui.directory.title", nil), Form: form, Data: map[string]any{
		"Entries": entries, "Sectors": sectorCodes(), "Searched": form.Get("q") != "" || form.Get("sector") != ""}}
	return h.render(w, r, "crisis_directory", p, nil, nil)
}

var calloutFields = map[string]string{"subject": "subject", "message": "message", "tlp": "callout_tlp", "participants": "recipients", "contacts": "recipients"}

func (h *handlers) calloutsPage(w http.ResponseWriter, r *http.Request) error {
	c, err := h.loadWith(r, AccessRead)
	if err != nil {
		return err
	}
	form := url.Values{"callout_tlp": {c.TLP}}
	q := r.URL.Query()
	form.Set("q", q.Get("q"))
	form.Set("sector", q.Get("sector"))
	return h.renderCallouts(w, r, c, form, nil)
}

func (h *handlers) renderCallouts(w http.ResponseWriter, r *http.Request, c *Crisis, form url.Values, ferr error) error {
	list, err := h.svc.Callouts(r.Context(), c.ID)
	if err != nil {
		return err
	}
	d := crisisData(c, "/callouts")
	d["Callouts"] = list
	if accessOf(c.Access) >= AccessManage {
		ps, err := h.svc.Participants(r.Context(), c.ID)
		if err != nil {
			return err
		}
		d["Participants"] = ps
		d["TLPs"] = TLPs
		d["Sectors"] = sectorCodes()
		if CanDeclare(auth.From(r.Context())) {
			d["CanSearch"] = true
			if form.Get("q") != "" || form.Get("sector") != "" {
				entries, err := h.svc.Directory(r.Context(), DirectoryFilter{Text: form.Get("q"), Sector: form.Get("sector"), Limit: 50})
				if err != nil {
					return err
				}
				d["Entries"] = entries
				d["Searched"] = true
			}
		}
		chosen := map[string]bool{}
		for _, v := range append(form["participants"], form["contacts"]...) {
			chosen[v] = true
		}
		d["Chosen"] = chosen
	}
	p := &web.Page{Title: crisisTitle(h.t(r, "crisisui.callouts.title", nil), c), Form: form, Data: d}
	return h.render(w, r, "crisis_callouts", p, ferr, calloutFields)
}

func (h *handlers) sendCalloutPost(w http.ResponseWriter, r *http.Request) error {
	c, err := h.loadWith(r, AccessManage)
	if err != nil {
		return err
	}
	f := r.PostForm
	in := CalloutInput{Subject: f.Get("subject"), Message: f.Get("message"), TLP: f.Get("callout_tlp"), Contacts: f["contacts"]}
	for _, s := range f["participants"] {
		if id := parseID(s); id != 0 {
			in.Participants = append(in.Participants, id)
		}
	}
	co, err := h.svc.SendCallout(r.Context(), c.ID, in)
	if err != nil {
		return h.renderCallouts(w, r, c, f, err)
	}
	return h.done(w, r, "crisisui.flash.callout_sent", fmt.Sprintf("%s/callouts/%d", crisisBase(c.ID), co.ID))
}

func (h *handlers) calloutPage(w http.ResponseWriter, r *http.Request) error {
	c, err := h.loadWith(r, AccessRead)
	if err != nil {
		return err
	}
	cid, err := web.PathID(r, "callout")
	if err != nil {
		return err
	}
	co, err := h.svc.Callout(r.Context(), c.ID, cid)
	if err != nil {
		return err
	}
	d := crisisData(c, "/callouts")
	d["Callout"] = co
	p := &web.Page{Title: crisisTitle(co.Subject, c), Data: d}
	return h.render(w, r, "crisis_callout", p, nil, nil)
}

// ---- the recipient's page ----

func (h *handlers) ackPage(w http.ResponseWriter, r *http.Request) error {
	token := r.URL.Query().Get("token")
	a, err := h.svc.ReadAlert(r.Context(), token)
	if err != nil {
		return err
	}
	return h.renderAck(w, r, a, token)
}

func (h *handlers) renderAck(w http.ResponseWriter, r *http.Request, a *Alert, token string) error {
	title := h.t(r, "crisisui.ack.title", nil) + " – " + a.Ref + " TLP:" + a.TLP
	if a.Exercise {
		title = exercisePrefix + " " + title
	}
	p := &web.Page{Title: title, Data: map[string]any{"A": a, "Token": token}}
	return h.render(w, r, "crisis_ack", p, nil, nil)
}

func (h *handlers) ackPost(w http.ResponseWriter, r *http.Request) error {
	token := r.PostForm.Get("token")
	if strings.TrimSpace(token) == "" {
		return errs.E(errs.NotFound, "err.crisis.token")
	}
	if _, err := h.svc.Acknowledge(r.Context(), token); err != nil {
		return err
	}
	return h.done(w, r, "crisisui.flash.acknowledged", "/callouts/ack?token="+url.QueryEscape(token))
}
