package identity

import (
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/web"
)

//go:embed templates/oidc_*.html
var oidcTemplates embed.FS

// oidcCookie keeps one sign-in attempt's secrets in the browser between
// the start and the callback; oidcCookieAge bounds how long the person may
// take at the provider.
const (
	oidcCookie    = "oidc"
	oidcCookieAge = 10 * 60
)

// oidcAttempt is what the start of a sign-in leaves in the cookie. The
// provider never sees the PKCE verifier or the locale; it echoes the state
// and puts the nonce into the ID token.
type oidcAttempt struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Locale   string `json:"l"`
	Next     string `json:"x"`
}

func (a oidcAttempt) encode() string {
	b, _ := json.Marshal(a)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeAttempt(s string) (oidcAttempt, bool) {
	var a oidcAttempt
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &a) != nil {
		return oidcAttempt{}, false
	}
	ok := a.State != "" && a.Nonce != "" && a.Verifier != "" && i18n.Supported(a.Locale)
	return a, ok
}

// OIDCRoutes registers the single sign-on pages: GET /login/oidc starts a
// sign-in, GET /login/oidc/callback is where the provider returns. Both
// answer 404 while single sign-on is off.
func (s *Service) OIDCRoutes(srv *web.Server) {
	srv.AddTemplates(oidcTemplates)
	srv.PublicPage("GET /login/oidc", s.oidcStart(srv))
	srv.PublicPage("GET "+OIDCCallbackPath, s.oidcCallback(srv))
}

// oidcStart sends the browser to the provider with a fresh state, nonce
// and PKCE challenge, keeping their secrets in a short-lived cookie.
func (s *Service) oidcStart(srv *web.Server) web.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		o := s.oidc
		if o == nil {
			return errs.E(errs.NotFound, "err.not_found")
		}
		a := oidcAttempt{
			State:    web.RandomToken(24),
			Nonce:    web.RandomToken(24),
			Verifier: web.RandomToken(32), // 43 characters, as RFC 7636 asks
			Locale:   web.Locale(r),
			Next:     safeNext(r.URL.Query().Get("next")),
		}
		if len(a.Next) > 1000 {
			a.Next = "/" // keep the cookie well under browsers' 4 KB
		}
		srv.SetCookie(w, oidcCookie, a.encode(), oidcCookieAge)
		http.Redirect(w, r, o.authURL(a.State, a.Nonce, a.Verifier), http.StatusFound)
		return nil
	}
}

// oidcCallback checks the provider's answer against the attempt in the
// cookie, redeems the code and signs the linked user in.
func (s *Service) oidcCallback(srv *web.Server) web.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		o := s.oidc
		if o == nil {
			return errs.E(errs.NotFound, "err.not_found")
		}
		q := r.URL.Query()
		a, ok := decodeAttempt(srv.Cookie(r, oidcCookie))
		if ok && a.Locale != web.Locale(r) {
			// The provider returns to the one registered URL; answer in the
			// language the person started in.
			http.Redirect(w, r, "/"+a.Locale+OIDCCallbackPath+"?"+r.URL.RawQuery, http.StatusSeeOther)
			return nil
		}
		srv.SetCookie(w, oidcCookie, "", -1) // one use only
		f := oidcFailure{srv: srv, s: s, name: o.cfg.Name, next: a.Next}
		switch {
		case !ok:
			return f.page(w, r, http.StatusBadRequest, "err.oidc.expired", "no or unreadable sign-in cookie", nil)
		case subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(a.State)) != 1:
			return f.page(w, r, http.StatusBadRequest, "err.oidc.state", "state does not match the cookie", nil)
		case q.Get("error") == "access_denied":
			return f.page(w, r, http.StatusForbidden, "err.oidc.cancelled", "provider error", errProvider(q))
		case q.Get("error") != "":
			return f.page(w, r, http.StatusBadGateway, "err.oidc.provider", "provider error", errProvider(q))
		case q.Get("code") == "":
			return f.page(w, r, http.StatusBadRequest, "err.oidc.state", "callback without code", nil)
		}
		id, err := o.identify(r.Context(), q.Get("code"), a.Nonce, a.Verifier)
		if err != nil {
			return f.page(w, r, http.StatusBadGateway, "err.oidc.exchange", "token exchange failed", err)
		}
		tok, sess, err := s.loginSSO(r.Context(), id, o.cfg.LinkByEmail, r.UserAgent())
		if e, ok := errs.As(err); ok && e.Kind == errs.Forbidden {
			s.log.Warn("oidc sign-in refused", "reason", e.Code, "issuer", id.Issuer, "subject", id.Subject)
			return f.page(w, r, http.StatusForbidden, e.Code, "", nil)
		}
		if err != nil {
			return err
		}
		srv.SetCookie(w, "session", tok, 0)
		l := a.Locale
		if pl := sess.Principal.Locale; i18n.Supported(pl) {
			l = pl
		}
		http.Redirect(w, r, "/"+l+a.Next, http.StatusSeeOther)
		return nil
	}
}

// providerError is the error a provider sent back instead of a code.
type providerError struct{ code, description string }

func (e providerError) Error() string { return "provider returned " + e.code + ": " + e.description }

func errProvider(q url.Values) error {
	return providerError{q.Get("error"), q.Get("error_description")}
}

// oidcFailure renders a failed sign-in as a page in the person's language,
// with the provider's name and a way to start again. Causes are logged
// here, once, and never shown.
type oidcFailure struct {
	srv  *web.Server
	s    *Service
	name string // the provider's display name
	next string // where the person was going, for "start again"
}

func (f oidcFailure) page(w http.ResponseWriter, r *http.Request, status int, code, what string, cause error) error {
	switch {
	case status >= 500:
		f.s.log.Error("oidc sign-in failed", "what", what, "err", cause)
	case what != "":
		f.s.log.Warn("oidc sign-in failed", "what", what, "err", cause)
	}
	l, cat := web.Locale(r), f.srv.Catalog()
	args := map[string]any{"name": f.name}
	refused := code == "err.oidc.no_account" || code == "err.oidc.disabled"
	title := "oidc.title.failed"
	if refused {
		title = "oidc.title.refused"
	}
	next := f.next
	if next == "/" {
		next = ""
	}
	p := &web.Page{Title: cat.T(l, title, args), Data: map[string]any{
		"Message": cat.T(l, code, args),
		"Retry":   !refused, // starting again cannot help a refused person
		"Next":    next,
	}}
	return f.srv.RenderPage(w, r, status, "oidc_error", p)
}
