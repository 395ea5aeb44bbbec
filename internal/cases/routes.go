package cases

import (
	"embed"
	"io/fs"

	"github.com/belfry-cert/belfry/internal/web"
)

//go:embed all:templates
var templates embed.FS

//go:embed openapi*.json
var openapiFS embed.FS

// handlers are the HTTP handlers of the capability.
type handlers struct {
	svc *Service
	srv *web.Server
}

// Routes registers the cases' portal pages and API on srv.
func (s *Service) Routes(srv *web.Server) {
	srv.AddTemplates(templates)
	names, _ := fs.Glob(openapiFS, "openapi*.json")
	for _, n := range names {
		b, _ := openapiFS.ReadFile(n)
		srv.AddOpenAPI(b)
	}
	h := &handlers{svc: s, srv: srv}
	h.pageRoutes()       // pages.go: the portal
	h.apiRoutes()        // api.go: /api/v1/cases
	h.messageRoutes()    // pages_messages.go: messages with the organisations
	h.messageAPIRoutes() // api_messages.go
	h.mergeRoutes()      // pages_merge.go
	h.mergeAPIRoutes()   // api_merge.go
	h.emailRoutes()      // pages_email.go: a case from an e-mail
	h.emailAPIRoutes()   // api_email.go
	h.attachmentRoutes()
	h.attachmentAPIRoutes()
}
