package earlywarning

// The portal: an organisation's early warning page (its settings form,
// its inhibitions, its tickets), a ticket's page with its events, and for
// the authority the tickets of every organisation.

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

// shownEvents bounds the events listed on a ticket's page; the CSV file
// has them all.
const shownEvents = 500

func (h *handlers) pageRoutes() {
	h.srv.Page("GET /early-warning", h.index)
	h.srv.Page("GET /organisations/{id}/early-warning", h.orgPage)
	h.srv.Page("POST /organisations/{id}/early-warning/settings", h.saveSettings)
	h.srv.Page("POST /organisations/{id}/early-warning/inhibitions", h.addInhibition)
	h.srv.Page("POST /early-warning/inhibitions/{id}/delete", h.deleteInhibition)
	h.srv.Page("GET /early-warning/tickets/{id}", h.ticket)
	h.srv.Page("GET /early-warning/tickets/{id}/events.csv", h.csv)
}

func (h *handlers) t(r *http.Request, key string, args map[string]any) string {
	return h.srv.Catalog().T(web.Locale(r), key, args)
}

// index sends an organisation's users to their page; the authority gets
// the tickets of every organisation.
func (h *handlers) index(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if !p.IsAuthority() {
		return web.Redirect(w, r, fmt.Sprintf("/organisations/%d/early-warning", p.OrgID))
	}
	items, total, err := h.svc.Tickets(r.Context(), TicketFilter{Offset: web.PageOffset(r), Limit: web.PageSize})
	if err != nil {
		return err
	}
	return h.srv.RenderPage(w, r, http.StatusOK, "ew_index", &web.Page{Title: h.t(r, "ew.index.title", nil),
		Data: map[string]any{"Tickets": items, "Pager": web.NewPager(r, total)}})
}

// settingsForm is the form's values for st.
func settingsForm(st *Settings) url.Values {
	f := url.Values{"min_severity": {st.MinSeverity}, "channel": {st.Channel}, "interval": {st.Interval},
		"report_types": {strings.Join(st.ReportTypes, "\n")}, "recipients": {strings.Join(st.Recipients, "\n")},
		"webhook_url": {st.WebhookURL}}
	if st.Enabled {
		f.Set("enabled", "yes")
	}
	return f
}

// renderOrg writes org's page; ferr (Invalid) holds the errors of a failed
// form, shown with form's values.
func (h *handlers) renderOrg(w http.ResponseWriter, r *http.Request, form url.Values, ferr error) error {
	org, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	st, err := h.svc.Settings(ctx, org)
	if err != nil {
		return err
	}
	name, err := orgName(ctx, h.svc.db, org)
	if err != nil {
		return err
	}
	inh, err := h.svc.Inhibitions(ctx, org)
	if err != nil {
		return err
	}
	tickets, total, err := h.svc.Tickets(ctx, TicketFilter{Org: org, Offset: web.PageOffset(r), Limit: web.PageSize})
	if err != nil {
		return err
	}
	if form == nil {
		form = settingsForm(st)
	}
	p := &web.Page{Title: h.t(r, "ew.org.title", nil), Form: form, Data: map[string]any{"OrgID": org, "OrgName": name, "Settings": st,
		"Inhibitions": inh, "Tickets": tickets, "Pager": web.NewPager(r, total), "CanChange": CanChange(ctx, org),
		"Severities": Severities, "Channels": Channels, "Intervals": Intervals}}
	status := http.StatusOK
	if ferr != nil {
		e, ok := errs.As(ferr)
		if !ok || e.Kind != errs.Invalid {
			return ferr
		}
		for _, f := range e.Fields {
			p.Errors = append(p.Errors, web.FieldMessage{Field: f.Field, Message: h.t(r, f.Code, f.Args)})
		}
		status = http.StatusUnprocessableEntity
	}
	return h.srv.RenderPage(w, r, status, "ew_org", p)
}

func (h *handlers) orgPage(w http.ResponseWriter, r *http.Request) error {
	return h.renderOrg(w, r, nil, nil)
}

// lines splits a text box into its entries (lines, commas or spaces).
func lines(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' || r == ' ' || r == ';' })
}

func (h *handlers) saveSettings(w http.ResponseWriter, r *http.Request) error {
	org, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	f := r.PostForm
	in := SettingsInput{Enabled: f.Get("enabled") == "yes", ReportTypes: lines(f.Get("report_types")), MinSeverity: f.Get("min_severity"),
		Channel: f.Get("channel"), Interval: f.Get("interval"), Recipients: lines(f.Get("recipients")), WebhookURL: f.Get("webhook_url"),
		WebhookSecret: f.Get("webhook_secret")}
	if _, err := h.svc.UpdateSettings(r.Context(), org, in); err != nil {
		if errs.Is(err, errs.Invalid) {
			form := url.Values{}
			for k, v := range f {
				if k != "webhook_secret" && k != "csrf_token" {
					form[k] = v
				}
			}
			return h.renderOrg(w, r, form, err)
		}
		return err
	}
	h.srv.Flash(w, "ew.flash.saved")
	return web.Redirect(w, r, fmt.Sprintf("/organisations/%d/early-warning", org))
}

// parseDate reads a date (2026-03-01) in Belgian time: the inhibition
// lasts until the end of that day.
func parseDate(s string) (time.Time, bool) {
	d, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(s), brussels)
	if err != nil {
		return time.Time{}, false
	}
	return d.AddDate(0, 0, 1), true
}

func (h *handlers) addInhibition(w http.ResponseWriter, r *http.Request) error {
	org, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	f := r.PostForm
	in := InhibitionInput{Prefix: f.Get("prefix"), ReportType: f.Get("report_type"), Reason: f.Get("reason")}
	var bad error
	if s := strings.TrimSpace(f.Get("expires_at")); s != "" {
		if d, ok := parseDate(s); ok {
			in.ExpiresAt = d
		} else {
			bad = errs.Field("expires_at", "err.ew.date_invalid", nil)
		}
	}
	if bad == nil {
		_, err = h.svc.AddInhibition(r.Context(), org, in)
	} else if !canRead(principal(r), org) {
		err = notFound()
	} else {
		err = bad
	}
	if err != nil {
		if errs.Is(err, errs.Invalid) {
			form := settingsFormOf(r, h, org)
			for _, k := range []string{"prefix", "report_type", "reason", "expires_at"} {
				form.Set(k, f.Get(k))
			}
			return h.renderOrg(w, r, form, err)
		}
		return err
	}
	h.srv.Flash(w, "ew.flash.inhibition_added")
	return web.Redirect(w, r, fmt.Sprintf("/organisations/%d/early-warning", org))
}

// settingsFormOf is the saved settings' form, to show beside the errors of
// another form of the page.
func settingsFormOf(r *http.Request, h *handlers, org int64) url.Values {
	st, err := h.svc.Settings(r.Context(), org)
	if err != nil {
		return url.Values{}
	}
	return settingsForm(st)
}

func (h *handlers) deleteInhibition(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var org int64
	if err := h.svc.db.QueryRow(r.Context(), `SELECT org_id FROM feed_inhibitions WHERE id = ?`, id).Scan(&org); err != nil {
		return notFound()
	}
	if err := h.svc.DeleteInhibition(r.Context(), id); err != nil {
		return err
	}
	h.srv.Flash(w, "ew.flash.inhibition_deleted")
	return web.Redirect(w, r, "/organisations/"+strconv.FormatInt(org, 10)+"/early-warning")
}

// eventRow is an event as the ticket's page lists it.
type eventRow struct {
	Event
	Where string // the address or name concerned, with its port
}

func (h *handlers) ticket(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	t, evs, err := h.svc.TicketEvents(r.Context(), id)
	if err != nil {
		return err
	}
	rows := make([]eventRow, 0, min(len(evs), shownEvents))
	for _, e := range evs[:min(len(evs), shownEvents)] {
		where := e.SrcIP
		if where == "" {
			where = e.SrcFQDN
		}
		if e.SrcPort != 0 {
			where += ":" + strconv.Itoa(e.SrcPort)
		}
		if where == "" {
			where = e.DstIP + e.DstFQDN
		}
		rows = append(rows, eventRow{Event: e, Where: where})
	}
	return h.srv.RenderPage(w, r, http.StatusOK, "ew_ticket", &web.Page{Title: h.t(r, "ew.ticket.title", map[string]any{"ref": t.Ref}),
		Data: map[string]any{"T": t, "Events": rows, "More": len(evs) - len(rows)}})
}
