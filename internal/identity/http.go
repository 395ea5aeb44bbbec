package identity

import (
	"embed"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/web"
)

//go:embed all:templates
var templateFS embed.FS

//go:embed openapi.json
var openapiFragment []byte

type handlers struct {
	svc *Service
	srv *web.Server
}

// Routes registers the identity pages and API on srv.
func (s *Service) Routes(srv *web.Server) {
	h := &handlers{svc: s, srv: srv}
	srv.AddTemplates(templateFS)
	srv.AddOpenAPI(openapiFragment)

	srv.PublicPage("GET /login", h.loginForm)
	srv.PublicPage("POST /login", h.login)
	srv.PublicPage("GET /login/totp", h.totpForm)
	srv.PublicPage("POST /login/totp", h.totpLogin)
	srv.PublicPage("POST /logout", h.logout)

	srv.Page("GET /account", h.account)
	srv.Page("POST /account", h.saveAccount)
	srv.Page("GET /account/password", h.passwordForm)
	srv.Page("POST /account/password", h.changePassword)
	srv.Page("GET /account/totp", h.totpEnrol)
	srv.Page("GET /account/totp/qr.png", h.totpQR)
	srv.Page("POST /account/totp", h.totpConfirm)
	srv.Page("POST /account/totp/disable", h.totpDisable)
	srv.Page("GET /account/tokens", h.tokens)
	srv.Page("POST /account/tokens", h.createToken)
	srv.Page("POST /account/tokens/{id}/revoke", h.revokeToken)

	srv.Page("GET /organisations", h.orgs)
	srv.Page("GET /organisations/new", h.orgForm)
	srv.Page("POST /organisations", h.createOrg)
	srv.Page("GET /organisations/{id}", h.org)
	srv.Page("GET /organisations/{id}/edit", h.orgForm)
	srv.Page("POST /organisations/{id}", h.updateOrg)

	srv.Page("GET /users", h.users)
	srv.Page("GET /users/new", h.userForm)
	srv.Page("POST /users", h.createUser)
	srv.Page("GET /users/{id}", h.user)
	srv.Page("GET /users/{id}/edit", h.userForm)
	srv.Page("POST /users/{id}", h.updateUser)
	srv.Page("POST /users/{id}/reset-password", h.resetPassword)
	srv.Page("POST /users/{id}/reset-totp", h.resetTOTP)

	s.apiRoutes(srv)
}

// safeNext keeps a post-login destination only when it is a local path.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, `\`) {
		return "/"
	}
	return next
}

// ---- sign-in ----

func (h *handlers) loginForm(w http.ResponseWriter, r *http.Request) error {
	if sess := web.SessionFrom(r.Context()); sess != nil && !sess.MFAPending {
		return web.Redirect(w, r, safeNext(r.URL.Query().Get("next")))
	}
	p := &web.Page{Title: h.srv.Catalog().T(web.Locale(r), "login.title", nil), Form: url.Values{"next": {r.URL.Query().Get("next")}}}
	p.Data = h.loginData()
	return h.srv.RenderPage(w, r, http.StatusOK, "login", p)
}

func (h *handlers) loginData() map[string]any {
	return map[string]any{"OIDC": h.svc.OIDCEnabled(), "OIDCName": h.svc.OIDCName()}
}

func (h *handlers) login(w http.ResponseWriter, r *http.Request) error {
	tok, sess, err := h.svc.Login(r.Context(), r.PostFormValue("email"), r.PostFormValue("password"), r.UserAgent())
	if err != nil {
		switch errs.KindOf(err) {
		case errs.Unauthenticated, errs.RateLimited:
			e, _ := errs.As(err)
			err = &errs.Error{Kind: errs.Invalid, Code: e.Code, Fields: []errs.FieldError{{Field: "email", Code: e.Code, Args: e.Args}},
				Args: map[string]any{"status": map[errs.Kind]int{errs.Unauthenticated: 401, errs.RateLimited: 429}[e.Kind]}}
		}
		return h.srv.RenderForm(w, r, "login", "login.title", h.loginData(), err)
	}
	h.srv.SetCookie(w, "session", tok, 0)
	next := safeNext(r.PostFormValue("next"))
	if sess.MFAPending {
		return web.Redirect(w, r, "/login/totp?next="+url.QueryEscape(next))
	}
	if l := sess.Principal.Locale; i18n.Supported(l) && l != web.Locale(r) {
		http.Redirect(w, r, "/"+l+next, http.StatusSeeOther)
		return nil
	}
	return web.Redirect(w, r, next)
}

func (h *handlers) totpForm(w http.ResponseWriter, r *http.Request) error {
	sess := web.SessionFrom(r.Context())
	if sess == nil {
		return web.Redirect(w, r, "/login")
	}
	if !sess.MFAPending {
		return web.Redirect(w, r, "/")
	}
	p := &web.Page{Title: h.srv.Catalog().T(web.Locale(r), "totp_login.title", nil), Form: url.Values{"next": {r.URL.Query().Get("next")}}}
	return h.srv.RenderPage(w, r, http.StatusOK, "login_totp", p)
}

func (h *handlers) totpLogin(w http.ResponseWriter, r *http.Request) error {
	sess := web.SessionFrom(r.Context())
	if sess == nil {
		return web.Redirect(w, r, "/login")
	}
	if err := h.svc.VerifySecondFactor(r.Context(), sess, r.PostFormValue("code")); err != nil {
		if errs.KindOf(err) == errs.RateLimited {
			e, _ := errs.As(err)
			err = &errs.Error{Kind: errs.Invalid, Code: e.Code, Fields: []errs.FieldError{{Field: "code", Code: e.Code, Args: e.Args}}, Args: map[string]any{"status": 429}}
		}
		return h.srv.RenderForm(w, r, "login_totp", "totp_login.title", nil, err)
	}
	return web.Redirect(w, r, safeNext(r.PostFormValue("next")))
}

func (h *handlers) logout(w http.ResponseWriter, r *http.Request) error {
	if sess := web.SessionFrom(r.Context()); sess != nil {
		if err := h.svc.Logout(r.Context(), sess); err != nil {
			return err
		}
	}
	h.srv.SetCookie(w, "session", "", -1)
	h.srv.Flash(w, "flash.signed_out")
	return web.Redirect(w, r, "/login")
}

// ---- own account ----

// accountData is what the account page shows of the signed-in user.
func (h *handlers) accountData(r *http.Request) (*User, map[string]any, error) {
	u, err := h.svc.User(r.Context(), auth.From(r.Context()).UserID)
	if err != nil {
		return nil, nil, err
	}
	left := 0
	if u.TOTPEnabled {
		if left, err = h.svc.RecoveryCodesLeft(r.Context()); err != nil {
			return nil, nil, err
		}
	}
	return u, map[string]any{"User": u, "RecoveryLeft": left, "Locales": i18n.Locales}, nil
}

func (h *handlers) account(w http.ResponseWriter, r *http.Request) error {
	u, data, err := h.accountData(r)
	if err != nil {
		return err
	}
	page := &web.Page{Title: h.srv.Catalog().T(web.Locale(r), "account.title", nil),
		Form: url.Values{"name": {u.Name}, "locale": {u.Locale}}, Data: data}
	return h.srv.RenderPage(w, r, http.StatusOK, "account", page)
}

func (h *handlers) saveAccount(w http.ResponseWriter, r *http.Request) error {
	p := auth.From(r.Context())
	name, locale := r.PostFormValue("name"), r.PostFormValue("locale")
	u, err := h.svc.UpdateUser(r.Context(), p.UserID, UserInput{Name: &name, Locale: &locale})
	if err != nil {
		return h.accountForm(w, r, err)
	}
	h.srv.Flash(w, "flash.account_saved")
	if i18n.Supported(u.Locale) {
		http.Redirect(w, r, "/"+u.Locale+"/account", http.StatusSeeOther)
		return nil
	}
	return web.Redirect(w, r, "/account")
}

// accountForm re-shows the account page with the errors of err.
func (h *handlers) accountForm(w http.ResponseWriter, r *http.Request, err error) error {
	_, data, derr := h.accountData(r)
	if derr != nil {
		return derr
	}
	return h.srv.RenderForm(w, r, "account", "account.title", data, err)
}

func (h *handlers) passwordForm(w http.ResponseWriter, r *http.Request) error {
	return h.srv.Render(w, r, http.StatusOK, "password", "password.title", nil)
}

func (h *handlers) changePassword(w http.ResponseWriter, r *http.Request) error {
	sess := web.SessionFrom(r.Context())
	err := h.svc.ChangePassword(r.Context(), sess, r.PostFormValue("current_password"), r.PostFormValue("new_password"), r.PostFormValue("confirm_password"))
	if err != nil {
		return h.srv.RenderForm(w, r, "password", "password.title", nil, err)
	}
	h.srv.Flash(w, "flash.password_changed")
	return web.Redirect(w, r, "/account")
}

func (h *handlers) totpEnrol(w http.ResponseWriter, r *http.Request) error {
	sess := web.SessionFrom(r.Context())
	u, err := h.svc.User(r.Context(), sess.Principal.UserID)
	if err != nil {
		return err
	}
	if u.TOTPEnabled {
		return web.Redirect(w, r, "/account")
	}
	e, err := h.svc.BeginTOTP(r.Context(), sess)
	if err != nil {
		return err
	}
	return h.srv.Render(w, r, http.StatusOK, "totp_enrol", "totp.title", e)
}

func (h *handlers) totpQR(w http.ResponseWriter, r *http.Request) error {
	png, err := h.svc.QRCode(web.SessionFrom(r.Context()))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(png)
	return err
}

func (h *handlers) totpConfirm(w http.ResponseWriter, r *http.Request) error {
	sess := web.SessionFrom(r.Context())
	codes, err := h.svc.ConfirmTOTP(r.Context(), sess, r.PostFormValue("code"))
	if err != nil {
		e, _ := h.svc.BeginTOTP(r.Context(), sess)
		return h.srv.RenderForm(w, r, "totp_enrol", "totp.title", e, err)
	}
	return h.srv.Render(w, r, http.StatusOK, "totp_codes", "totp.codes_title", codes)
}

func (h *handlers) totpDisable(w http.ResponseWriter, r *http.Request) error {
	sess := web.SessionFrom(r.Context())
	if err := h.svc.DisableTOTP(r.Context(), sess, r.PostFormValue("password")); err != nil {
		// The account page has two password-free forms besides this
		// one; its password field is disable_password.
		if e, ok := errs.As(err); ok && e.Kind == errs.Invalid {
			for i := range e.Fields {
				e.Fields[i].Field = "disable_password"
			}
		}
		return h.accountForm(w, r, err)
	}
	h.srv.Flash(w, "flash.totp_disabled")
	return web.Redirect(w, r, "/account")
}

// ---- API tokens ----

func (h *handlers) tokenPage(w http.ResponseWriter, r *http.Request, status int, secret string, formErr error) error {
	ts, err := h.svc.Tokens(r.Context())
	if err != nil {
		return err
	}
	data := map[string]any{"Tokens": ts, "Secret": secret, "Now": time.Now()}
	if formErr != nil {
		return h.srv.RenderForm(w, r, "tokens", "tokens.title", data, formErr)
	}
	p := &web.Page{Title: h.srv.Catalog().T(web.Locale(r), "tokens.title", nil), Data: data,
		Form: url.Values{"days": {"90"}, "scope": {"read"}}}
	return h.srv.RenderPage(w, r, status, "tokens", p)
}

func (h *handlers) tokens(w http.ResponseWriter, r *http.Request) error {
	return h.tokenPage(w, r, http.StatusOK, "", nil)
}

func (h *handlers) createToken(w http.ResponseWriter, r *http.Request) error {
	in := TokenInput{Name: r.PostFormValue("name")}
	switch r.PostFormValue("scope") {
	case "write":
		in.Scopes = []string{"read", "write"}
	case "read":
		in.Scopes = []string{"read"}
	}
	days, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("days")))
	if err != nil || days < 1 {
		return h.tokenPage(w, r, 0, "", errs.Field("days", "err.days.invalid", nil))
	}
	in.ExpiresAt = time.Now().Add(time.Duration(days) * 24 * time.Hour)
	_, secret, err := h.svc.CreateToken(r.Context(), in)
	if err != nil {
		if e, ok := errs.As(err); ok {
			for i := range e.Fields {
				if e.Fields[i].Field == "expires_at" {
					e.Fields[i].Field = "days"
				}
				if e.Fields[i].Field == "scopes" {
					e.Fields[i].Field = "scope"
				}
			}
		}
		return h.tokenPage(w, r, 0, "", err)
	}
	return h.tokenPage(w, r, http.StatusCreated, secret, nil)
}

func (h *handlers) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.svc.RevokeToken(r.Context(), id); err != nil {
		return err
	}
	h.srv.Flash(w, "flash.token_revoked")
	return web.Redirect(w, r, "/account/tokens")
}
