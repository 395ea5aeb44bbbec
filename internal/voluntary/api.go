package voluntary

import (
	"embed"
	"net/http"
	"time"

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

// Routes registers the public form and API, and the authority's queue, on
// srv.
func (s *Service) Routes(srv *web.Server) {
	srv.AddOpenAPI(openapi)
	srv.AddTemplates(templates)
	h := &handlers{svc: s, srv: srv}
	srv.PublicAPI("POST /api/v1/voluntary-notifications", h.apiSubmit)
	srv.PublicAPI("POST /api/v1/voluntary-notifications/confirm", h.apiConfirm)
	srv.API("GET /api/v1/voluntary-notifications", h.apiList)
	srv.API("GET /api/v1/voluntary-notifications/{id}", h.apiGet)
	srv.API("POST /api/v1/voluntary-notifications/{id}/status", h.apiStatus)
	h.pageRoutes()
}

// accepted is the answer to a submission, whatever the address.
type accepted struct {
	Message string `json:"message"`
}

func (h *handlers) apiSubmit(w http.ResponseWriter, r *http.Request) error {
	var c Content
	if err := web.DecodeJSON(w, r, &c); err != nil {
		return err
	}
	if c.Language == "" {
		c.Language = web.Locale(r)
	}
	if err := h.svc.Submit(r.Context(), c); err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusAccepted, accepted{Message: h.srv.Catalog().T(web.Locale(r), "vol.api.accepted", nil)})
}

type confirmInput struct {
	Token string `json:"token"`
}

func (h *handlers) apiConfirm(w http.ResponseWriter, r *http.Request) error {
	var in confirmInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	rec, err := h.svc.Confirm(r.Context(), in.Token)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, rec)
}

type list struct {
	Items  []Notification `json:"items"`
	Total  int            `json:"total"`
	Offset int            `json:"offset"`
	Limit  int            `json:"limit"`
}

// parseDay reads a date (2026-03-01) or a time (RFC 3339) of a filter; a
// date is the start of that day in Belgian time.
func parseDay(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	t, err := time.ParseInLocation(time.DateOnly, s, brussels)
	return t, err == nil
}

// filterOf reads the filters of the query; v collects the bad ones.
func filterOf(r *http.Request, v *errs.Validator) Filter {
	q := r.URL.Query()
	f := Filter{Status: q.Get("status"), ReporterKind: q.Get("kind"), Subject: q.Get("subject"), Sector: q.Get("sector")}
	for name, dst := range map[string]*time.Time{"from": &f.From, "to": &f.To} {
		if s := q.Get(name); s != "" {
			t, ok := parseDay(s)
			if v.Check(ok, name, "err.vol.date_invalid") {
				*dst = t
			}
		}
	}
	return f
}

func (h *handlers) apiList(w http.ResponseWriter, r *http.Request) error {
	if !canRead(principal(r)) {
		return forbidden()
	}
	off, lim, err := web.Paging(r)
	if err != nil {
		return err
	}
	var v errs.Validator
	f := filterOf(r, &v)
	if err := v.Err(); err != nil {
		return err
	}
	f.Offset, f.Limit = off, lim
	items, total, err := h.svc.List(r.Context(), f)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, list{Items: items, Total: total, Offset: off, Limit: lim})
}

func (h *handlers) apiGet(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	n, err := h.svc.Notification(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, n)
}

type statusInput struct {
	Status string `json:"status"`
	Note   string `json:"note"`
}

func (h *handlers) apiStatus(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if !canHandle(principal(r)) {
		return forbidden() // before reading the body: others learn nothing
	}
	var in statusInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	n, err := h.svc.SetStatus(r.Context(), id, in.Status, in.Note)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, n)
}
