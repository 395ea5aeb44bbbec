package crisis

import (
	"embed"

	"github.com/belfry-cert/belfry/internal/web"
)

//go:embed openapi.json
var openapi []byte

//go:embed all:templates
var templates embed.FS

// handlers are the HTTP handlers of the capability.
type handlers struct {
	svc *Service
	srv *web.Server
}

// Routes registers the crisis portal pages and API on srv.
func (s *Service) Routes(srv *web.Server) {
	srv.AddOpenAPI(openapi)
	srv.AddTemplates(templates)
	h := &handlers{svc: s, srv: srv}
	h.pageRoutes() // pages.go: the portal
	h.apiRoutes()  // api.go: /api/v1/crises, /api/v1/callouts/ack
}
