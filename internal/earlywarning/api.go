package earlywarning

import (
	"embed"
	"net/http"
	"strconv"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

//go:embed openapi.json
var openapi []byte

//go:embed all:templates
var templates embed.FS

type handlers struct {
	svc *Service
	srv *web.Server
}

// Routes registers the API and the portal pages on srv.
func (s *Service) Routes(srv *web.Server) {
	srv.AddOpenAPI(openapi)
	srv.AddTemplates(templates)
	h := &handlers{svc: s, srv: srv}
	srv.API("GET /api/v1/organisations/{id}/early-warning/settings", h.apiSettings)
	srv.API("PUT /api/v1/organisations/{id}/early-warning/settings", h.apiUpdateSettings)
	srv.API("GET /api/v1/organisations/{id}/early-warning/inhibitions", h.apiInhibitions)
	srv.API("POST /api/v1/organisations/{id}/early-warning/inhibitions", h.apiAddInhibition)
	srv.API("DELETE /api/v1/early-warning/inhibitions/{id}", h.apiDeleteInhibition)
	srv.API("GET /api/v1/early-warning/tickets", h.apiTickets)
	srv.API("GET /api/v1/early-warning/tickets/{id}", h.apiTicket)
	srv.API("GET /api/v1/early-warning/tickets/{id}/events.csv", h.csv)
	h.pageRoutes()
}

func principal(r *http.Request) *auth.Principal { return auth.From(r.Context()) }

func (h *handlers) apiSettings(w http.ResponseWriter, r *http.Request) error {
	org, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	st, err := h.svc.Settings(r.Context(), org)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, st)
}

func (h *handlers) apiUpdateSettings(w http.ResponseWriter, r *http.Request) error {
	org, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if !canRead(principal(r), org) {
		return notFound() // before reading the body: others learn nothing
	}
	var in SettingsInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	st, err := h.svc.UpdateSettings(r.Context(), org, in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, st)
}

type inhibitionList struct {
	Items []Inhibition `json:"items"`
}

func (h *handlers) apiInhibitions(w http.ResponseWriter, r *http.Request) error {
	org, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	list, err := h.svc.Inhibitions(r.Context(), org)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, inhibitionList{Items: list})
}

func (h *handlers) apiAddInhibition(w http.ResponseWriter, r *http.Request) error {
	org, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if !canRead(principal(r), org) {
		return notFound()
	}
	var in InhibitionInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	x, err := h.svc.AddInhibition(r.Context(), org, in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, x)
}

func (h *handlers) apiDeleteInhibition(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.svc.DeleteInhibition(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type ticketList struct {
	Items  []Ticket `json:"items"`
	Total  int      `json:"total"`
	Offset int      `json:"offset"`
	Limit  int      `json:"limit"`
}

func (h *handlers) apiTickets(w http.ResponseWriter, r *http.Request) error {
	off, lim, err := web.Paging(r)
	if err != nil {
		return err
	}
	f := TicketFilter{Offset: off, Limit: lim}
	if s := r.URL.Query().Get("org"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return errs.Field("org", "err.ew.org_invalid", nil)
		}
		f.Org = n
	}
	items, total, err := h.svc.Tickets(r.Context(), f)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, ticketList{Items: items, Total: total, Offset: off, Limit: lim})
}

type ticketDetail struct {
	*Ticket
	EventList []map[string]any `json:"event_list"`
}

func (h *handlers) apiTicket(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	t, evs, err := h.svc.TicketEvents(r.Context(), id)
	if err != nil {
		return err
	}
	out := ticketDetail{Ticket: t, EventList: make([]map[string]any, 0, len(evs))}
	for i := range evs {
		m, err := eventJSON(&evs[i])
		if err != nil {
			return err
		}
		out.EventList = append(out.EventList, m)
	}
	return web.WriteJSON(w, http.StatusOK, out)
}

// csv writes a ticket's events as the CSV file its e-mail carried (the
// same bytes: for an e-mail or portal ticket their SHA-256 is the
// ticket's).
func (h *handlers) csv(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	t, evs, err := h.svc.TicketEvents(r.Context(), id)
	if err != nil {
		return err
	}
	b, err := eventsCSV(evs)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+t.Ref+`-events.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(b)
	return err
}
