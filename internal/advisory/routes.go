package advisory

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

// Routes registers the advisories' portal pages, API and CSAF provider
// tree on srv.
func (s *Service) Routes(srv *web.Server) {
	srv.AddTemplates(templates)
	names, _ := fs.Glob(openapiFS, "openapi*.json")
	for _, n := range names {
		b, _ := openapiFS.ReadFile(n)
		srv.AddOpenAPI(b)
	}
	h := &handlers{svc: s, srv: srv}
	h.providerRoutes()     // provider.go: the CSAF provider tree
	h.editorRoutes()       // pages_editor.go: writing and reviewing
	h.publicRoutes()       // pages_public.go: the advisories' pages and Atom feed
	h.subscriptionRoutes() // subscriptions.go: e-mail alerts
	h.apiRoutes()          // api.go: /api/v1/advisories
}
