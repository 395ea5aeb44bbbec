package registry

import (
	"embed"

	"github.com/belfry-cert/belfry/internal/web"
)

//go:embed all:templates
var templates embed.FS

//go:embed openapi.json
var openapi []byte

// handlers serve the registry's portal pages and API.
type handlers struct {
	svc *Service
	srv *web.Server
}

// Routes registers the registry's pages and API routes on srv.
func (s *Service) Routes(srv *web.Server) {
	srv.AddTemplates(templates)
	srv.AddOpenAPI(openapi)
	s.apiRoutes(srv)
	s.pageRoutes(srv)
	s.signupRoutes(srv)
}
