package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
)

// MaxFormBytes bounds portal form bodies; API bodies have MaxJSONBytes.
const MaxFormBytes = 1 << 20

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// RandomToken returns n random bytes, URL-safe encoded.
func RandomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return b64(b)
}

// CookieName prefixes name with __Host- when cookies are Secure, which
// browsers then pin to this exact host and path /.
func (s *Server) CookieName(name string) string {
	if s.cfg.Secure {
		return "__Host-" + name
	}
	return name
}

// SetCookie sets a cookie with Belfry's defaults: HttpOnly, SameSite=Lax,
// path /, Secure when served over TLS. maxAge 0 makes a session cookie,
// a negative one deletes it.
func (s *Server) SetCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: s.CookieName(name), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.cfg.Secure, SameSite: http.SameSiteLaxMode,
	})
}

// Cookie reads a cookie set by SetCookie.
func (s *Server) Cookie(r *http.Request, name string) string {
	c, err := r.Cookie(s.CookieName(name))
	if err != nil {
		return ""
	}
	return c.Value
}

func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if s.cfg.Secure {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.fail(w, r, fmt.Errorf("panic: %v\n%s", p, debug.Stack()))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics" {
			return
		}
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelError
		}
		s.log.LogAttrs(r.Context(), level, "http request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Int("bytes", sw.bytes),
			slog.Duration("duration", time.Since(start)), slog.String("client", auth.IP(r.Context())))
	})
}

// withClient records the client address for the audit log.
func (s *Server) withClient(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			ip = r.RemoteAddr
		}
		if s.cfg.TrustProxy {
			// The last entry is the one our proxy appended; earlier ones
			// come from the client and can be forged.
			if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
				hops := strings.Split(xff[len(xff)-1], ",")
				if a := net.ParseIP(strings.TrimSpace(hops[len(hops)-1])); a != nil {
					ip = a.String()
				}
			}
		}
		next.ServeHTTP(w, r.WithContext(auth.WithIP(r.Context(), ip)))
	})
}

// withBearer resolves an API token. A bad token is answered here (401) and
// nil returned.
func (s *Server) withBearer(w http.ResponseWriter, r *http.Request) *http.Request {
	ctx := withLocale(r.Context(), pickAPILocale(r))
	r = r.WithContext(ctx)
	h := r.Header.Get("Authorization")
	if h == "" {
		return r
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="belfry", error="invalid_request"`)
		s.problem(w, r, http.StatusUnauthorized, errs.E(errs.Unauthenticated, "err.bad_authorization"))
		return nil
	}
	p, err := s.authn.Bearer(ctx, strings.TrimSpace(tok))
	if err != nil {
		if errs.KindOf(err) == errs.Unauthenticated {
			w.Header().Set("WWW-Authenticate", `Bearer realm="belfry", error="invalid_token"`)
		}
		s.fail(w, r, err)
		return nil
	}
	return r.WithContext(auth.With(ctx, p))
}

func pickAPILocale(r *http.Request) string {
	if l := i18n.Negotiate(r.Header.Get("Accept-Language")); l != "" {
		return l
	}
	return i18n.Default
}

type localeKey struct{}
type sessionKey struct{}

func withLocale(ctx context.Context, l string) context.Context {
	return context.WithValue(ctx, localeKey{}, l)
}

// Locale returns the locale of the request.
func Locale(r *http.Request) string { return LocaleOf(r.Context()) }

// LocaleOf returns the locale stored in ctx, or the default.
func LocaleOf(ctx context.Context) string {
	if l, ok := ctx.Value(localeKey{}).(string); ok {
		return l
	}
	return i18n.Default
}

// LocalePath prefixes p with the request's locale: "/login" -> "/fr/login".
func LocalePath(r *http.Request, p string) string { return "/" + Locale(r) + p }

// SessionFrom returns the browser session of the request, or nil.
func SessionFrom(ctx context.Context) *Session {
	s, _ := ctx.Value(sessionKey{}).(*Session)
	return s
}

// WithSession returns a context carrying sess and its principal.
func WithSession(ctx context.Context, sess *Session) context.Context {
	ctx = context.WithValue(ctx, sessionKey{}, sess)
	if sess != nil && !sess.MFAPending {
		ctx = auth.With(ctx, sess.Principal)
	}
	return ctx
}

// localeRouter serves the portal under /{locale}/…: it strips the prefix,
// resolves the session and hands the rest to the portal mux. A path without
// a locale is redirected to the preferred one.
func (s *Server) localeRouter() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seg, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		sess := s.session(w, r)
		if !i18n.Supported(seg) {
			s.chooseLocale(w, r, sess)
			return
		}
		ctx := withLocale(r.Context(), seg)
		ctx = WithSession(ctx, sess)
		r2 := r.Clone(ctx)
		r2.URL.Path = "/" + rest
		r2.URL.RawPath = ""
		if s.Cookie(r, "lang") != seg && r.Method == http.MethodGet {
			// Remember the choice for the next visit without a locale.
			s.SetCookie(w, "lang", seg, 365*24*3600)
		}
		_, pattern := s.portal.Handler(r2)
		if r2.Body != nil {
			r2.Body = http.MaxBytesReader(w, r2.Body, s.bodyLimit(pattern))
		}
		s.ensureCSRFCookie(w, r2)
		if pattern == "" {
			s.errorPage(w, r2, http.StatusNotFound, errs.E(errs.NotFound, "err.not_found"))
			return
		}
		s.portal.ServeHTTP(w, r2)
	})
}

// chooseLocale redirects a locale-less path by path > account > cookie >
// Accept-Language, or shows the four-language choice page.
func (s *Server) chooseLocale(w http.ResponseWriter, r *http.Request, sess *Session) {
	l := ""
	if sess != nil && i18n.Supported(sess.Principal.Locale) {
		l = sess.Principal.Locale
	}
	if l == "" {
		if c := s.Cookie(r, "lang"); i18n.Supported(c) {
			l = c
		}
	}
	if l == "" {
		l = i18n.Negotiate(r.Header.Get("Accept-Language"))
	}
	if l == "" {
		s.languageChoice(w, r)
		return
	}
	target := "/" + l + r.URL.Path
	if r.URL.Path == "/" {
		target = "/" + l + "/"
	}
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// session resolves the session cookie; an expired or unknown one is cleared.
func (s *Server) session(w http.ResponseWriter, r *http.Request) *Session {
	tok := s.Cookie(r, "session")
	if tok == "" {
		return nil
	}
	sess, err := s.authn.Session(r.Context(), tok)
	if err != nil {
		if errs.KindOf(err) != errs.Unauthenticated {
			s.log.Error("session lookup", "err", err)
		}
		s.SetCookie(w, "session", "", -1)
		return nil
	}
	return sess
}

// ensureCSRFCookie gives every browser an anti-forgery cookie; forms carry
// a token derived from it.
func (s *Server) ensureCSRFCookie(w http.ResponseWriter, r *http.Request) {
	if s.Cookie(r, "csrf") != "" {
		return
	}
	v := RandomToken(32)
	s.SetCookie(w, "csrf", v, 0)
	// Visible to the rest of this request so that the page renders a token
	// that matches.
	r.AddCookie(&http.Cookie{Name: s.CookieName("csrf"), Value: v})
}

// CSRF returns the token a form on this request must carry.
func (s *Server) CSRF(r *http.Request) string {
	c := s.Cookie(r, "csrf")
	if c == "" {
		return ""
	}
	return s.csrfToken(c)
}

// checkCSRF verifies the token of a state-changing portal request.
func (s *Server) checkCSRF(r *http.Request) error {
	if err := s.parseForm(r); err != nil {
		return err
	}
	c := s.Cookie(r, "csrf")
	got := r.PostFormValue("csrf_token")
	if c == "" || got == "" || !hmac.Equal([]byte(got), []byte(s.csrfToken(c))) {
		return csrfError()
	}
	return nil
}

func (s *Server) parseForm(r *http.Request) error {
	if r.Form != nil {
		return nil
	}
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "multipart/form-data") {
		return r.ParseMultipartForm(s.bodyLimit(r.Pattern))
	}
	if err := r.ParseForm(); err != nil {
		if strings.Contains(err.Error(), "too large") {
			return errs.E(errs.TooLarge, "err.too_large")
		}
		return badRequest("err.bad_form")
	}
	return nil
}
