package registry

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/web"
)

type list[T any] struct {
	Items  []T `json:"items"`
	Total  int `json:"total"`
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
}

func (s *Service) apiRoutes(srv *web.Server) {
	h := &handlers{svc: s, srv: srv}
	srv.API("GET /api/v1/registrations", h.apiList)
	srv.API("GET /api/v1/registrations/{id}", h.apiGet)
	srv.API("PUT /api/v1/registrations/{id}", h.apiPut)
	srv.API("POST /api/v1/registrations/{id}/submit", h.apiSubmit)
	srv.API("POST /api/v1/registrations/{id}/review", h.apiReview)
	srv.API("PUT /api/v1/registrations/{id}/override", h.apiOverride)
	srv.API("GET /api/v1/registrations/{id}/versions", h.apiVersions)
	srv.API("GET /api/v1/registry/stats", h.apiStats)
	srv.API("GET /api/v1/registry/export", h.apiExport)
	srv.API("POST /api/v1/registry/import", h.apiImport)
	srv.QueryAPI("POST /api/v1/nis2/classify", h.apiClassify)
	srv.PublicAPI("GET /api/v1/nis2/taxonomy", h.apiTaxonomy)
	srv.API("GET /api/v1/claims", h.apiClaims)
	srv.API("POST /api/v1/claims", h.apiAddClaims)
	srv.API("GET /api/v1/claims/{id}", h.apiClaim)
	srv.API("POST /api/v1/claims/{id}/decision", h.apiDecideClaim)
	srv.API("DELETE /api/v1/claims/{id}", h.apiDeleteClaim)
	srv.API("GET /api/v1/constituency/lookup", h.apiLookup)
}

// filterFrom reads the registry filters of a query string and checks them.
func filterFrom(r *http.Request) (Filter, error) {
	q := r.URL.Query()
	f := Filter{Sector: q.Get("sector"), Class: q.Get("class"), Status: q.Get("status"), Size: q.Get("size"), Text: q.Get("q")}
	var v errs.Validator
	if f.Sector != "" && !validSector(f.Sector) {
		v.Add("sector", "err.reg.sector_invalid", nil)
	}
	if f.Class != "" && f.Class != "unclassified" && !validClass(f.Class) {
		v.Add("class", "err.reg.class_invalid", nil)
	}
	if f.Status != "" && !Status(f.Status).Valid() {
		v.Add("status", "err.reg.status_invalid", nil)
	}
	if f.Size != "" && !validSize(f.Size) {
		v.Add("size", "err.reg.size_invalid", nil)
	}
	return f, v.Err()
}

func validSector(code string) bool {
	for _, s := range nis2.Sectors() {
		if s.Code == code {
			return true
		}
	}
	return code == "registrar"
}

// Sizes are the enterprise size categories of Recommendation 2003/361.
var Sizes = []string{"micro", "small", "medium", "large"}

func validSize(s string) bool {
	for _, x := range Sizes {
		if x == s {
			return true
		}
	}
	return false
}

func (h *handlers) apiList(w http.ResponseWriter, r *http.Request) error {
	off, lim, err := web.Paging(r)
	if err != nil {
		return err
	}
	f, err := filterFrom(r)
	if err != nil {
		return err
	}
	f.Offset, f.Limit = off, lim
	items, total, err := h.svc.List(r.Context(), f)
	if err != nil {
		return err
	}
	if items == nil {
		items = []*Registration{}
	}
	return web.WriteJSON(w, http.StatusOK, list[*Registration]{items, total, off, lim})
}

func (h *handlers) apiGet(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	reg, err := h.svc.Get(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, reg)
}

func (h *handlers) apiPut(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var in Profile
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	reg, err := h.svc.Update(r.Context(), id, func(p *Profile) error {
		tasks := p.Tasks
		*p = in
		if p.Tasks == nil {
			p.Tasks = tasks
		}
		return nil
	})
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, reg)
}

func (h *handlers) apiSubmit(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	reg, err := h.svc.Submit(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, reg)
}

func (h *handlers) apiReview(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var in ReviewInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	reg, err := h.svc.Review(r.Context(), id, in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, reg)
}

func (h *handlers) apiOverride(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var in OverrideInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	reg, err := h.svc.SetOverride(r.Context(), id, in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, reg)
}

func (h *handlers) apiVersions(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	vs, err := h.svc.Versions(r.Context(), id)
	if err != nil {
		return err
	}
	if vs == nil {
		vs = []Version{}
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"items": vs})
}

func (h *handlers) apiStats(w http.ResponseWriter, r *http.Request) error {
	f, err := filterFrom(r)
	if err != nil {
		return err
	}
	st, err := h.svc.Statistics(r.Context(), f)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, st)
}

func (h *handlers) apiClassify(w http.ResponseWriter, r *http.Request) error {
	var f nis2.Facts
	if err := web.DecodeJSON(w, r, &f); err != nil {
		return err
	}
	d, err := nis2.Classify(f, h.svc.cfg.Options)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, d)
}

// taxonomyType is an entity type in the taxonomy document.
type taxonomyType struct {
	nis2.EntityType
	Labels map[string]string `json:"labels"`
}

func (h *handlers) apiTaxonomy(w http.ResponseWriter, r *http.Request) error {
	type sector struct {
		Code   string            `json:"code"`
		Annex  string            `json:"annex"`
		Labels map[string]string `json:"labels"`
		Types  []taxonomyType    `json:"types"`
	}
	cat := h.srv.Catalog()
	labels := func(key string) map[string]string {
		m := map[string]string{}
		for _, l := range []string{"nl", "fr", "de", "en"} {
			m[l] = cat.T(l, key, nil)
		}
		return m
	}
	var out []sector
	for _, s := range nis2.Sectors() {
		sec := sector{Code: s.Code, Annex: s.Annex, Labels: labels(nis2.SectorLabelKey(s.Code))}
		for _, t := range nis2.Types() {
			if t.Sector == s.Code {
				sec.Types = append(sec.Types, taxonomyType{t, labels(nis2.TypeLabelKey(t.Code))})
			}
		}
		out = append(out, sec)
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"sectors": out})
}

func (h *handlers) apiClaims(w http.ResponseWriter, r *http.Request) error {
	off, lim, err := web.Paging(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := ClaimFilter{Status: q.Get("status"), Kind: q.Get("kind"), Text: q.Get("q"), Conflicts: q.Get("conflicts") == "true", Offset: off, Limit: lim}
	var v errs.Validator
	if s := q.Get("organisation_id"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if v.Check(err == nil && n > 0, "organisation_id", "err.reg.org_invalid") {
			f.OrgID = n
		}
	}
	if f.Status != "" && f.Status != ClaimPending && f.Status != ClaimApproved && f.Status != ClaimRejected {
		v.Add("status", "err.claim.status_invalid", nil)
	}
	if f.Kind != "" && f.Kind != "prefix" && f.Kind != "asn" && f.Kind != "domain" {
		v.Add("kind", "err.claim.kind_invalid", nil)
	}
	if err := v.Err(); err != nil {
		return err
	}
	items, total, err := h.svc.Claims(r.Context(), f)
	if err != nil {
		return err
	}
	if items == nil {
		items = []*Claim{}
	}
	return web.WriteJSON(w, http.StatusOK, list[*Claim]{items, total, off, lim})
}

// claimsInput is the body of POST /api/v1/claims: one claim, or many
// values of one organisation.
type claimsInput struct {
	OrgID  int64    `json:"organisation_id"`
	Kind   string   `json:"kind"`
	Value  string   `json:"value"`
	Values []string `json:"values"`
	Note   string   `json:"note"`
}

func (h *handlers) apiAddClaims(w http.ResponseWriter, r *http.Request) error {
	var in claimsInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.OrgID <= 0 {
		return errs.Field("organisation_id", "err.reg.org_invalid", nil)
	}
	if in.Value != "" && len(in.Values) > 0 {
		return errs.Field("values", "err.claim.value_or_values", nil)
	}
	var items []ClaimInput
	if in.Value != "" {
		items = append(items, ClaimInput{OrgID: in.OrgID, Kind: in.Kind, Value: in.Value, Note: in.Note})
	}
	for _, v := range in.Values {
		items = append(items, ClaimInput{OrgID: in.OrgID, Kind: in.Kind, Value: v, Note: in.Note})
	}
	out, err := h.svc.AddClaims(r.Context(), in.OrgID, items)
	if err != nil {
		if in.Value != "" {
			// One value sent as "value": name it so.
			if e, ok := errs.As(err); ok {
				for i := range e.Fields {
					if e.Fields[i].Field == "values[0]" {
						e.Fields[i].Field = "value"
					}
				}
			}
		}
		return err
	}
	if out == nil {
		out = []*Claim{}
	}
	return web.WriteJSON(w, http.StatusCreated, map[string]any{"items": out})
}

func (h *handlers) apiClaim(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	c, err := h.svc.Claim(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, c)
}

func (h *handlers) apiDecideClaim(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if !auth.From(r.Context()).IsAuthority() {
		return errs.E(errs.NotFound, "err.claim.not_found")
	}
	var in struct {
		Decision string `json:"decision"` // approve or reject
		Note     string `json:"note"`
	}
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Decision != "approve" && in.Decision != "reject" {
		return errs.Field("decision", "err.claim.decision_invalid", nil)
	}
	c, err := h.svc.DecideClaim(r.Context(), id, in.Decision == "approve", in.Note)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, c)
}

func (h *handlers) apiDeleteClaim(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.svc.DeleteClaim(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handlers) apiLookup(w http.ResponseWriter, r *http.Request) error {
	var values []string
	for _, q := range r.URL.Query()["q"] {
		values = append(values, strings.Fields(strings.ReplaceAll(q, ",", " "))...)
	}
	if len(values) == 0 {
		return errs.Field("q", "err.lookup.required", nil)
	}
	if len(values) > 1000 {
		return errs.Field("q", "err.lookup.too_many", map[string]any{"max": 1000})
	}
	res, err := h.svc.Lookup(r.Context(), values)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"results": res})
}
