package formats

// The JSON API of saved CSV mappings, for the authority's staff.

import (
	_ "embed"
	"net/http"

	"github.com/belfry-cert/belfry/internal/web"
)

//go:embed openapi.json
var openapi []byte

// Routes registers the API of saved mappings on srv.
func (s *MappingService) Routes(srv *web.Server) {
	srv.AddOpenAPI(openapi)
	srv.API("GET /api/v1/feeds/mappings", s.apiList)
	srv.API("GET /api/v1/feeds/mappings/{name}", s.apiGet)
	srv.API("PUT /api/v1/feeds/mappings/{name}", s.apiPut)
	srv.API("DELETE /api/v1/feeds/mappings/{name}", s.apiDelete)
}

func (s *MappingService) apiList(w http.ResponseWriter, r *http.Request) error {
	ms, err := s.List(r.Context())
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, struct {
		Items []*SavedMapping `json:"items"`
	}{ms})
}

func (s *MappingService) apiGet(w http.ResponseWriter, r *http.Request) error {
	sm, err := s.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, sm)
}

func (s *MappingService) apiPut(w http.ResponseWriter, r *http.Request) error {
	if err := mayWrite(r.Context()); err != nil {
		return err // before reading the body
	}
	var m Mapping
	if err := web.DecodeJSON(w, r, &m); err != nil {
		return err
	}
	sm, created, err := s.Save(r.Context(), r.PathValue("name"), m)
	if err != nil {
		return err
	}
	st := http.StatusOK
	if created {
		st = http.StatusCreated
	}
	return web.WriteJSON(w, st, sm)
}

func (s *MappingService) apiDelete(w http.ResponseWriter, r *http.Request) error {
	if err := s.Delete(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
