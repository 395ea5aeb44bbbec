package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
)

// Handler is an HTTP handler that returns its error instead of writing it;
// the server maps the error, once, to a status and a message.
type Handler func(w http.ResponseWriter, r *http.Request) error

// status maps error kinds to HTTP statuses.
func status(k errs.Kind) int {
	switch k {
	case errs.Invalid:
		return http.StatusUnprocessableEntity
	case errs.NotFound:
		return http.StatusNotFound
	case errs.Forbidden:
		return http.StatusForbidden
	case errs.Unauthenticated:
		return http.StatusUnauthorized
	case errs.Conflict:
		return http.StatusConflict
	case errs.TooLarge:
		return http.StatusRequestEntityTooLarge
	case errs.Unsupported:
		return http.StatusUnsupportedMediaType
	case errs.RateLimited:
		return http.StatusTooManyRequests
	default:
		return http.StatusInternalServerError
	}
}

// badRequest is an Invalid error about the request as a whole (malformed
// JSON, unreadable form) rather than about a field: HTTP 400.
func badRequest(code string) *errs.Error {
	return &errs.Error{Kind: errs.Invalid, Code: code, Args: map[string]any{"status": http.StatusBadRequest}}
}

func statusOf(err error) int {
	if e, ok := errs.As(err); ok {
		if st, ok := e.Args["status"].(int); ok {
			return st
		}
	}
	return status(errs.KindOf(err))
}

func csrfError() error { return errs.E(errs.Forbidden, "err.csrf") }

// pageHandler wraps a portal handler: it resolves the session and sends
// people who are not signed in to the login page, keeping where they were.
func (s *Server) pageHandler(path string, h Handler, public bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess := SessionFrom(r.Context())
		if !public {
			switch {
			case sess == nil:
				s.redirectToLogin(w, r)
				return
			case sess.MFAPending:
				http.Redirect(w, r, LocalePath(r, "/login/totp"), http.StatusSeeOther)
				return
			case sess.MustChangePassword && path != "/account/password" && path != "/logout":
				http.Redirect(w, r, LocalePath(r, "/account/password"), http.StatusSeeOther)
				return
			}
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := s.checkCSRF(r); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		if err := h(w, r); err != nil {
			s.fail(w, r, err)
		}
	})
}

func (s *Server) redirectToLogin(w http.ResponseWriter, r *http.Request) {
	next := strings.TrimPrefix(r.URL.Path, "/"+Locale(r))
	if r.Method != http.MethodGet || next == "" {
		next = "/"
	}
	if r.URL.RawQuery != "" && r.Method == http.MethodGet {
		next += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, LocalePath(r, "/login")+"?next="+url.QueryEscape(next), http.StatusSeeOther)
}

// apiHandler wraps an API handler: it resolves the bearer token and checks
// that read-only tokens only read (GET, HEAD, or a query route).
func (s *Server) apiHandler(h Handler, public, query bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := auth.From(r.Context())
		if !public {
			if p == nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="belfry"`)
				s.fail(w, r, errs.E(errs.Unauthenticated, "err.unauthenticated"))
				return
			}
			if r.Method != http.MethodGet && r.Method != http.MethodHead && !query && !p.CanWrite() {
				s.fail(w, r, errs.E(errs.Forbidden, "err.token_read_only"))
				return
			}
		}
		if err := h(w, r); err != nil {
			s.fail(w, r, err)
		}
	})
}

// apiFallback answers unknown API routes and wrong methods with problem
// details instead of the mux's plain text.
func (s *Server) apiFallback(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = s.withBearer(w, r)
		if r == nil {
			return
		}
		if _, pattern := mux.Handler(r); pattern == "" {
			code := "err.not_found"
			st := http.StatusNotFound
			if allowed := s.allowedMethods(r); allowed != "" {
				w.Header().Set("Allow", allowed)
				code, st = "err.method_not_allowed", http.StatusMethodNotAllowed
			}
			s.problem(w, r, st, &errs.Error{Kind: errs.NotFound, Code: code})
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (s *Server) allowedMethods(r *http.Request) string {
	var ms []string
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		r2 := r.Clone(r.Context())
		r2.Method = m
		if _, p := s.api.Handler(r2); p != "" {
			ms = append(ms, m)
		}
	}
	return strings.Join(ms, ", ")
}

// fail maps err to a response: problem details under /api, a page in the
// portal. Internal errors are logged with their cause and shown without it.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	st := statusOf(err)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		st, err = http.StatusRequestEntityTooLarge, errs.E(errs.TooLarge, "err.too_large")
	}
	if st >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if isAPI(r) {
		s.problem(w, r, st, err)
		return
	}
	if st == http.StatusUnauthorized {
		s.redirectToLogin(w, r)
		return
	}
	s.errorPage(w, r, st, err)
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// Problem is an RFC 9457 problem-details body.
type Problem struct {
	Type   string         `json:"type"`
	Title  string         `json:"title"`
	Status int            `json:"status"`
	Detail string         `json:"detail,omitempty"`
	Code   string         `json:"code,omitempty"`
	Errors []ProblemField `json:"errors,omitempty"`
}

// ProblemField names a field at fault and why.
type ProblemField struct {
	Field  string `json:"field"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

func (s *Server) problem(w http.ResponseWriter, r *http.Request, st int, err error) {
	loc := Locale(r)
	p := Problem{Type: "about:blank", Title: http.StatusText(st), Status: st}
	if e, ok := errs.As(err); ok && st < 500 {
		p.Code = strings.TrimPrefix(e.Code, "err.")
		p.Detail = s.cat.T(loc, e.Code, e.Args)
		for _, f := range e.Fields {
			p.Errors = append(p.Errors, ProblemField{Field: f.Field, Code: strings.TrimPrefix(f.Code, "err."), Detail: s.cat.T(loc, f.Code, f.Args)})
		}
	} else {
		p.Detail = s.cat.T(loc, "err.internal", nil)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(st)
	json.NewEncoder(w).Encode(p)
}
