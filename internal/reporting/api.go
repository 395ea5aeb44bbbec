package reporting

import (
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

//go:embed openapi.json
var openapi []byte

type handlers struct {
	svc *Service
	srv *web.Server
}

// Routes registers the reporting API on srv.
func (s *Service) Routes(srv *web.Server) {
	srv.AddOpenAPI(openapi)
	h := &handlers{svc: s, srv: srv}
	srv.API("GET /api/v1/incidents", h.apiList)
	srv.API("POST /api/v1/incidents", h.apiCreate)
	srv.API("GET /api/v1/incidents/{id}", h.apiGet)
	srv.API("PUT /api/v1/incidents/{id}/drafts/{stage}", h.apiDraft)
	srv.API("POST /api/v1/incidents/{id}/reports/{stage}", h.apiSubmit)
	srv.API("GET /api/v1/receipts/{ref}", h.apiReceipt)
	srv.QueryAPI("POST /api/v1/receipts/verify", h.apiVerify)
	s.nis2Routes(srv)
}

type list[T any] struct {
	Items  []T `json:"items"`
	Total  int `json:"total"`
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
}

func pathStage(r *http.Request) (Stage, error) {
	s := Stage(r.PathValue("stage"))
	if !ValidStage(s) {
		return "", errs.E(errs.NotFound, "err.not_found")
	}
	return s, nil
}

func (h *handlers) apiList(w http.ResponseWriter, r *http.Request) error {
	off, lim, err := web.Paging(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := Filter{Stage: Stage(q.Get("stage")), Status: q.Get("status"), Text: q.Get("q"), Offset: off, Limit: lim}
	var v errs.Validator
	if s := q.Get("organisation_id"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if v.Check(err == nil && n > 0, "organisation_id", "err.rep.org_invalid") {
			f.OrgID = n
		}
	}
	if f.Stage != "" && !ValidStage(f.Stage) {
		v.Add("stage", "err.rep.stage_invalid", nil)
	}
	if f.Status != "" && f.Status != StatusOngoing && f.Status != StatusClosed {
		v.Add("status", "err.rep.status_invalid", nil)
	}
	if err := v.Err(); err != nil {
		return err
	}
	items, total, err := h.svc.Incidents(r.Context(), f)
	if err != nil {
		return err
	}
	if items == nil {
		items = []*Incident{}
	}
	return web.WriteJSON(w, http.StatusOK, list[*Incident]{items, total, off, lim})
}

func (h *handlers) apiCreate(w http.ResponseWriter, r *http.Request) error {
	var in IncidentInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	inc, err := h.svc.CreateIncident(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/incidents/"+itoa(inc.ID))
	return web.WriteJSON(w, http.StatusCreated, inc)
}

func (h *handlers) apiGet(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	inc, err := h.svc.Incident(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, inc)
}

func (h *handlers) apiDraft(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	stage, err := pathStage(r)
	if err != nil {
		return err
	}
	var c Content
	if err := web.DecodeJSON(w, r, &c); err != nil {
		return err
	}
	d, err := h.svc.SaveDraft(r.Context(), id, stage, c)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, d)
}

func (h *handlers) apiSubmit(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	stage, err := pathStage(r)
	if err != nil {
		return err
	}
	var c Content
	if err := web.DecodeJSON(w, r, &c); err != nil {
		return err
	}
	rec, err := h.svc.Submit(r.Context(), id, stage, c, SubmitOptions{IdempotencyKey: r.Header.Get("Idempotency-Key"), Corrects: r.URL.Query().Get("corrects")})
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if rec.Replayed {
		status = http.StatusOK
	}
	w.Header().Set("Location", "/api/v1/receipts/"+rec.Ref)
	return web.WriteJSON(w, status, rec)
}

func (h *handlers) apiReceipt(w http.ResponseWriter, r *http.Request) error {
	rec, err := h.svc.Receipt(r.Context(), r.PathValue("ref"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Disposition", `attachment; filename="receipt-`+rec.Ref+`.json"`)
	return web.WriteJSON(w, http.StatusOK, rec)
}

func (h *handlers) apiVerify(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Ref           string `json:"reference"`
		SHA256        string `json:"sha256"`
		ContentBase64 string `json:"content_base64"`
	}
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	var v errs.Validator
	v.Check(in.Ref != "", "reference", "err.rep.reference_required")
	in.SHA256 = strings.TrimSpace(in.SHA256)
	_, herr := hex.DecodeString(in.SHA256)
	v.Check(len(in.SHA256) == 64 && herr == nil, "sha256", "err.rep.sha256_invalid")
	var content []byte
	if in.ContentBase64 != "" {
		b, err := base64.StdEncoding.DecodeString(in.ContentBase64)
		if v.Check(err == nil, "content_base64", "err.rep.base64_invalid") {
			content = b
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	res, err := h.svc.Verify(r.Context(), in.Ref, in.SHA256, content)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, res)
}
