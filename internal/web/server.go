// Package web is what every capability shares at the HTTP edge: the router
// with its browser and API halves, middleware (security headers, sessions,
// CSRF, locale, metrics, logs), the page layout and renderer, form and JSON
// helpers, problem-details errors and the OpenAPI document.
package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
)

// Session is a signed-in browser session as the identity service resolves it.
type Session struct {
	Principal          *auth.Principal
	MFAPending         bool   // password accepted, second factor not yet
	MustChangePassword bool   // the password was set by someone else
	TOTPEnrolSecret    string // secret offered during TOTP enrolment
	Token              string // the cookie value
	ExpiresAt          time.Time
}

// Authenticator resolves credentials into principals. The identity
// capability implements it; web only asks.
type Authenticator interface {
	// Session returns the session of a cookie value, or an Unauthenticated
	// error when it is unknown or expired.
	Session(ctx context.Context, token string) (*Session, error)
	// Bearer returns the principal of an API token, or an Unauthenticated
	// error.
	Bearer(ctx context.Context, token string) (*auth.Principal, error)
}

// Config is what the HTTP edge needs to know about its deployment.
type Config struct {
	// Secure marks cookies Secure and uses __Host- names: set when Belfry
	// serves TLS itself or sits behind a TLS-terminating proxy.
	Secure bool
	// TrustProxy takes the client address from X-Forwarded-For.
	TrustProxy bool
	// Authority is the authority's display name ("CCB").
	Authority string
	// CERTPhone is the 24/7 number shown in the footer.
	CERTPhone string
	// IdleTimeout is how long a session lives without use; shown to users.
	IdleTimeout time.Duration
	// CSRFKey signs the anti-forgery tokens; the same on every instance.
	CSRFKey []byte
}

// Route is a registered handler, for the OpenAPI and tenant-isolation tests.
type Route struct {
	Pattern string // e.g. "GET /api/v1/users/{id}" or "POST /users/{id}"
	API     bool   // under /api/v1
	Public  bool   // reachable without signing in
	// Document: served at a fixed path outside the portal and the API
	// (Server.Document).
	Document bool
}

// Server is the HTTP edge of Belfry.
type Server struct {
	cfg     Config
	log     *slog.Logger
	cat     *i18n.Catalog
	authn   Authenticator
	portal  *http.ServeMux
	api     *http.ServeMux
	root    *http.ServeMux
	routes  []Route
	tpl     *renderer
	openapi []json.RawMessage
	metrics *metrics
	ready   func(context.Context) error
	static  *staticFiles
	// bodyLimits are the portal routes that take a larger body (UploadPage).
	bodyLimits map[string]int64
	// documents are the fixed-path routes (Document), mounted on the root.
	documents []documentRoute
}

// NewServer returns a server with the shared pages (home, language choice,
// accessibility statement, errors) and operational endpoints registered.
// Capabilities add their routes with Page, PublicPage, API and PublicAPI,
// then call Handler.
func NewServer(cfg Config, log *slog.Logger, cat *i18n.Catalog, authn Authenticator, reg *prometheus.Registry, ready func(context.Context) error) *Server {
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 60 * time.Minute
	}
	s := &Server{
		cfg: cfg, log: log, cat: cat, authn: authn, ready: ready,
		portal:  http.NewServeMux(),
		api:     http.NewServeMux(),
		root:    http.NewServeMux(),
		tpl:     newRenderer(cat),
		metrics: newMetrics(reg),
		static:  newStaticFiles(),
	}
	s.AddTemplates(templateFS)
	s.AddOpenAPI(openapiBase)
	s.registerShared()
	return s
}

// Catalog returns the message catalog.
func (s *Server) Catalog() *i18n.Catalog { return s.cat }

// Logger returns the server's logger.
func (s *Server) Logger() *slog.Logger { return s.log }

// Config returns the edge configuration.
func (s *Server) Config() Config { return s.cfg }

// AddTemplates adds a capability's templates (files named *.html under a
// templates/ directory); they are parsed by Handler.
func (s *Server) AddTemplates(fsys fs.FS) { s.tpl.add(fsys) }

// AddOpenAPI adds a capability's OpenAPI fragment (paths and components).
// A fragment that is not JSON is a programming error: it panics at once,
// naming the fragment's first bytes, rather than at the first request.
func (s *Server) AddOpenAPI(fragment []byte) {
	if !json.Valid(fragment) {
		panic(fmt.Sprintf("web: OpenAPI fragment is not valid JSON: %.60q", fragment))
	}
	s.openapi = append(s.openapi, fragment)
}

// PathID reads the path parameter name as a positive integer id; anything
// else is not found (404), like an id that does not exist.
func PathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.E(errs.NotFound, "err.not_found")
	}
	return id, nil
}

// Routes lists every registered route, sorted.
func (s *Server) Routes() []Route {
	out := append([]Route(nil), s.routes...)
	sort.Slice(out, func(i, j int) bool { return out[i].Pattern < out[j].Pattern })
	return out
}

// Page registers a portal page for signed-in users. The pattern has no
// locale prefix: "GET /users/{id}" serves /nl/users/7, /fr/users/7, …
func (s *Server) Page(pattern string, h Handler) { s.page(pattern, h, false) }

// PublicPage registers a portal page that needs no sign-in.
func (s *Server) PublicPage(pattern string, h Handler) { s.page(pattern, h, true) }

func (s *Server) page(pattern string, h Handler, public bool) {
	s.routes = append(s.routes, Route{Pattern: pattern, Public: public})
	_, path, _ := strings.Cut(pattern, " ")
	hh := s.pageHandler(path, h, public)
	s.portal.Handle(pattern, s.metrics.wrap(pattern, hh))
}

// API registers a JSON route for API-token holders. The pattern includes the
// /api/v1 prefix.
func (s *Server) API(pattern string, h Handler) { s.apiRoute(pattern, h, false, false) }

// PublicAPI registers a JSON route that needs no token.
func (s *Server) PublicAPI(pattern string, h Handler) { s.apiRoute(pattern, h, true, false) }

// QueryAPI registers a POST route that only computes or checks and changes
// nothing (its input is too large or too structured for a query string):
// read-only tokens may call it like a GET.
func (s *Server) QueryAPI(pattern string, h Handler) { s.apiRoute(pattern, h, false, true) }

func (s *Server) apiRoute(pattern string, h Handler, public, query bool) {
	s.routes = append(s.routes, Route{Pattern: pattern, API: true, Public: public})
	s.api.Handle(pattern, s.metrics.wrap(pattern, s.apiHandler(h, public, query)))
}

// Handler parses the templates, checks them, and returns the complete HTTP
// handler with its middleware.
func (s *Server) Handler() (http.Handler, error) {
	if err := s.tpl.parse(); err != nil {
		return nil, err
	}
	if _, err := s.OpenAPI(); err != nil {
		return nil, err
	}
	s.root.Handle("/api/", s.apiFallback(s.api))
	s.root.Handle("GET /static/", s.static)
	s.root.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	s.root.HandleFunc("GET /readyz", s.readyz)
	for _, d := range s.documents {
		s.root.Handle(d.pattern, s.metrics.wrap(d.pattern, s.documentHandler(d.h)))
	}
	s.root.Handle("/", s.localeRouter())
	var h http.Handler = s.root
	h = s.securityHeaders(h)
	h = s.recoverPanics(h)
	h = s.logRequests(h)
	h = s.withClient(h) // outermost, so that the request log has the address
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, csrfError())
	}))
	return cop.Handler(h), nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.ready != nil {
		if err := s.ready(ctx); err != nil {
			s.log.Warn("not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("not ready\n"))
			return
		}
	}
	w.Write([]byte("ready\n"))
}

// csrfToken derives the form token from the browser's anti-forgery cookie.
func (s *Server) csrfToken(cookie string) string {
	m := hmac.New(sha256.New, s.cfg.CSRFKey)
	m.Write([]byte(cookie))
	return b64(m.Sum(nil))
}

// Document registers a handler outside the portal's locale tree and the
// API, for files served at fixed paths (the CSAF provider tree under
// /.well-known/). The caller is resolved from an API token or, failing
// that, a browser session; the handler checks access itself. Errors are
// answered as problem details (JSON).
func (s *Server) Document(pattern string, h Handler) {
	s.routes = append(s.routes, Route{Pattern: pattern, Public: true, Document: true})
	s.documents = append(s.documents, documentRoute{pattern, h})
}

type documentRoute struct {
	pattern string
	h       Handler
}

func (s *Server) documentHandler(h Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			if r = s.withBearer(w, r); r == nil {
				return
			}
		} else {
			r = r.WithContext(withLocale(r.Context(), pickAPILocale(r)))
			if sess := s.session(w, r); sess != nil {
				r = r.WithContext(WithSession(r.Context(), sess))
			}
		}
		if err := h(w, r); err != nil {
			st := statusOf(err)
			if st >= 500 {
				s.log.Error("request failed", "path", r.URL.Path, "err", err)
			}
			if st == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="belfry"`)
			}
			s.problem(w, r, st, err)
		}
	})
}
