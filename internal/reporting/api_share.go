package reporting

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

//go:embed openapi_share.json
var openapiShare []byte

// ShareRoutes registers the sharing of notifications beyond the authority
// (NIS2 Art. 23(6) and (8)): the cross-border assessment, the export for
// another Member State's SPOC or ENISA, the forwarding to a sector
// authority, the list of sector authorities, their pages and their API.
// The authority's staff only.
func (s *Service) ShareRoutes(srv *web.Server) {
	srv.AddOpenAPI(openapiShare)
	h := &handlers{svc: s, srv: srv}
	srv.Page("GET /incidents/{id}/share", h.pageShare)
	srv.Page("POST /incidents/{id}/share", h.pageShareAction)
	srv.Page("GET /incidents/{id}/shares/{share}", h.downloadShare)
	srv.Page("GET /sector-authorities", h.pageSectorAuthorities)
	srv.Page("POST /sector-authorities", h.pageSectorAuthoritiesAction)
	srv.API("GET /api/v1/incidents/{id}/share-export", h.apiShareExport)
	srv.API("GET /api/v1/incidents/{id}/shares", h.apiShares)
	srv.API("POST /api/v1/incidents/{id}/shares", h.apiShare)
	srv.API("GET /api/v1/incidents/{id}/cross-border", h.apiCrossBorder)
	srv.API("PUT /api/v1/incidents/{id}/cross-border", h.apiSetCrossBorder)
	srv.API("GET /api/v1/sector-authorities", h.apiSectorAuthorities)
	srv.API("POST /api/v1/sector-authorities", h.apiAddSectorAuthority)
	srv.API("PATCH /api/v1/sector-authorities/{id}", h.apiUpdateSectorAuthority)
}

// shareRequest reads a share's parameters from a query or a form.
func shareRequest(q url.Values) (ShareRequest, error) {
	req := ShareRequest{Recipient: q.Get("recipient"), Country: q.Get("country"), TLP: q.Get("tlp")}
	var v errs.Validator
	if s := q.Get("sector_authority_id"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if v.Check(err == nil && n > 0, "sector_authority_id", "err.share.sector_authority_invalid") {
			req.SectorAuthorityID = n
		}
	}
	switch q.Get("identity") {
	case "", "false", "no":
	case "true", "yes":
		req.Identity = true
	default:
		v.Add("identity", "err.share.identity_invalid", nil)
	}
	return req, v.Err()
}

// shareFileName names the document of a share of the incident ref.
func shareFileName(ref, kind string) string { return ref + "-" + kind + ".json" }

func writeShareDoc(w http.ResponseWriter, name string, b []byte) error {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(b)
	return err
}

func (h *handlers) apiShareExport(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	req, err := shareRequest(r.URL.Query())
	if err != nil {
		return err
	}
	doc, err := h.svc.ShareExport(r.Context(), id, req)
	if err != nil {
		return err
	}
	b, _, err := encodeShare(doc)
	if err != nil {
		return err
	}
	return writeShareDoc(w, shareFileName(doc.Incident.Ref, doc.Recipient.Kind), b)
}

func (h *handlers) apiShares(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	shares, err := h.svc.Shares(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"items": shares})
}

func (h *handlers) apiShare(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var req ShareRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	sh, doc, err := h.svc.ShareIncident(r.Context(), id, req)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, struct {
		*Share
		Document json.RawMessage `json:"document"`
	}{sh, doc})
}

func (h *handlers) apiCrossBorder(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	a, err := h.svc.CrossBorder(r.Context(), id)
	if err != nil {
		return err
	}
	if a == nil {
		return errs.E(errs.NotFound, "err.share.no_assessment")
	}
	return web.WriteJSON(w, http.StatusOK, a)
}

func (h *handlers) apiSetCrossBorder(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var in CrossBorderInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	a, err := h.svc.SetCrossBorder(r.Context(), id, in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, a)
}

func (h *handlers) apiSectorAuthorities(w http.ResponseWriter, r *http.Request) error {
	list, err := h.svc.SectorAuthorities(r.Context())
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"items": list})
}

func (h *handlers) apiAddSectorAuthority(w http.ResponseWriter, r *http.Request) error {
	var in SectorAuthorityInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	a, err := h.svc.SaveSectorAuthority(r.Context(), 0, in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, a)
}

func (h *handlers) apiUpdateSectorAuthority(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var in SectorAuthorityInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	a, err := h.svc.SaveSectorAuthority(r.Context(), id, in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, a)
}
