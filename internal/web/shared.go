package web

import (
	"net/http"

	"github.com/belfry-cert/belfry/internal/auth"
)

// sharedOpenAPI documents the routes that web itself registers.
const sharedOpenAPI = `{"paths": {"/api/v1/openapi.json": {"get": {
  "operationId": "getOpenAPI", "summary": "This document.", "security": [],
  "responses": {"200": {"description": "The OpenAPI 3.1 document.", "content": {"application/json": {}}}}}}}}`

func (s *Server) registerShared() {
	s.AddOpenAPI([]byte(sharedOpenAPI))
	s.PublicAPI("GET /api/v1/openapi.json", s.serveOpenAPI)
	s.PublicPage("GET /{$}", s.home)
	s.PublicPage("GET /accessibility", func(w http.ResponseWriter, r *http.Request) error {
		return s.Render(w, r, http.StatusOK, "accessibility", "a11y.title", nil)
	})
}

// home shows the start page: a welcome for visitors, the signed-in user's
// overview otherwise.
func (s *Server) home(w http.ResponseWriter, r *http.Request) error {
	sess := SessionFrom(r.Context())
	if sess != nil && sess.MFAPending {
		return Redirect(w, r, "/login/totp")
	}
	if sess != nil && sess.MustChangePassword {
		return Redirect(w, r, "/account/password")
	}
	p := auth.From(r.Context())
	return s.Render(w, r, http.StatusOK, "home", "home.title", map[string]any{"SignedIn": p != nil})
}
