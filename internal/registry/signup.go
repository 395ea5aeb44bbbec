package registry

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/identity"
	"github.com/belfry-cert/belfry/internal/notify"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/web"
)

// Self-registration (Safeonweb@Work style): an organisation's
// representative asks for an account; a link sent to the e-mail address
// proves control of it; following it and choosing a password creates the
// organisation (kind entity) and its first administrator, who then fills in
// the registration. The authority reviews the registration itself, so a
// false claim to an enterprise number stops there.

// signupTTL is how long a sign-up link stays valid.
const signupTTL = 48 * time.Hour

// signupResend is the shortest interval between two links to one address.
const signupResend = 5 * time.Minute

// SignupInput is what the sign-up form asks.
type SignupInput struct {
	LegalName        string
	EnterpriseNumber string
	Name             string
	Email            string
}

func (in *SignupInput) validate() error {
	var v errs.Validator
	in.LegalName = strings.TrimSpace(in.LegalName)
	switch {
	case in.LegalName == "":
		v.Add("legal_name", "err.org_name.required", nil)
	case utf8.RuneCountInString(in.LegalName) > 200:
		v.Add("legal_name", "err.too_long", map[string]any{"max": 200})
	}
	if strings.TrimSpace(in.EnterpriseNumber) == "" {
		v.Add("enterprise_number", "err.signup.enterprise_number_required", nil)
	} else if n, err := identity.NormalizeEnterpriseNumber(in.EnterpriseNumber); err != nil {
		v.Add("enterprise_number", errs.KindCode(err), nil)
	} else {
		in.EnterpriseNumber = n
	}
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "":
		v.Add("name", "err.user_name.required", nil)
	case utf8.RuneCountInString(in.Name) > 200:
		v.Add("name", "err.too_long", map[string]any{"max": 200})
	}
	if strings.TrimSpace(in.Email) == "" {
		v.Add("email", "err.email.required", nil)
	} else if e, ok := identity.NormalizeEmail(in.Email); ok {
		in.Email = e
	} else {
		v.Add("email", "err.email.invalid", nil)
	}
	return v.Err()
}

// RequestSignup validates in and sends the applicant a link. The answer
// is the same whether or not the organisation or the address is known, so
// that the form tells nobody who is registered; the e-mail says which.
func (s *Service) RequestSignup(ctx context.Context, in SignupInput, locale string) error {
	if err := in.validate(); err != nil {
		return err
	}
	if !i18n.Supported(locale) {
		locale = i18n.Default
	}
	now := s.tick()
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM signup_requests WHERE expires_at < ?`, now); err != nil {
			return err
		}
		var recent int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM signup_requests WHERE email = ? AND created_at > ?`,
			in.Email, now.Add(-signupResend)).Scan(&recent); err != nil {
			return err
		}
		if recent > 0 {
			return nil // a link went out moments ago; do not flood the mailbox
		}
		taken, err := signupTaken(ctx, tx, in.EnterpriseNumber, in.LegalName, in.Email)
		if err != nil {
			return err
		}
		args := map[string]any{"org": in.LegalName, "name": in.Name, "authority": s.cfg.Authority}
		key := "reg.mail.signup"
		if taken != "" {
			key = "reg.mail.signup_exists"
		} else {
			token := rand.Text() + rand.Text()
			if _, err := tx.Exec(ctx, `INSERT INTO signup_requests (token_hash, legal_name, enterprise_number, name, email, locale,
				created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, identity.TokenHash(token), in.LegalName, in.EnterpriseNumber,
				in.Name, in.Email, locale, now, now.Add(signupTTL)); err != nil {
				return err
			}
			args["link"] = strings.TrimRight(s.cfg.BaseURL, "/") + "/" + locale + "/signup/confirm?token=" + url.QueryEscape(token)
			args["expires"] = s.cat.DateTime(locale, now.Add(signupTTL))
		}
		if s.mail == nil || s.cat == nil {
			return nil
		}
		body := s.cat.T(locale, key+".body", args) + "\n\n" + s.cat.T(locale, "mail.auto_generated", nil) + "\n"
		return s.mail.Enqueue(ctx, tx, notify.Message{To: []string{in.Email}, Subject: "[Belfry] " + s.cat.T(locale, key+".subject", args), Text: body})
	})
}

// signupTaken says why a sign-up cannot create a new organisation: its
// enterprise number or name is registered, or the address has an account.
func signupTaken(ctx context.Context, q store.Querier, number, name, email string) (string, error) {
	var n int
	if err := q.QueryRow(ctx, `SELECT count(*) FROM organisations WHERE enterprise_number = ? OR lower(name) = lower(?)`, number, name).Scan(&n); err != nil {
		return "", err
	}
	if n > 0 {
		return "organisation", nil
	}
	if err := q.QueryRow(ctx, `SELECT count(*) FROM users WHERE lower(email) = lower(?)`, email).Scan(&n); err != nil {
		return "", err
	}
	if n > 0 {
		return "email", nil
	}
	return "", nil
}

// signupRequest is a pending sign-up.
type signupRequest struct {
	ID                                int64
	LegalName, EnterpriseNumber, Name string
	Email, Locale                     string
	ExpiresAt                         time.Time
}

func (s *Service) signupByToken(ctx context.Context, q store.Querier, token string) (*signupRequest, error) {
	if token == "" {
		return nil, errs.E(errs.NotFound, "err.signup.link_invalid")
	}
	var r signupRequest
	err := q.QueryRow(ctx, `SELECT id, legal_name, enterprise_number, name, email, locale, expires_at FROM signup_requests
		WHERE token_hash = ? AND expires_at > ?`, identity.TokenHash(token), s.tick()).Scan(&r.ID, &r.LegalName, &r.EnterpriseNumber,
		&r.Name, &r.Email, &r.Locale, &r.ExpiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "err.signup.link_invalid")
	}
	return &r, err
}

// CompleteSignup creates the organisation and its first administrator
// from a pending request, with the chosen password, and uses the link up.
func (s *Service) CompleteSignup(ctx context.Context, token, password, confirm string) (*identity.Organisation, *identity.User, error) {
	var org *identity.Organisation
	var user *identity.User
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		req, err := s.signupByToken(ctx, tx, token)
		if err != nil {
			return err
		}
		if password != confirm {
			return errs.Field("confirm", "err.password.mismatch", nil)
		}
		if err := identity.CheckNewPassword("password", password, req.Email); err != nil {
			return err
		}
		if taken, err := signupTaken(ctx, tx, req.EnterpriseNumber, req.LegalName, req.Email); err != nil {
			return err
		} else if taken != "" {
			return errs.E(errs.Conflict, "err.signup.taken")
		}
		ctx := auth.With(ctx, &auth.Principal{Email: req.Email, Name: req.Name, OrgKind: "entity"})
		number := req.EnterpriseNumber
		org, user, err = identity.SignUpTx(ctx, tx, identity.OrgInput{Name: &req.LegalName, EnterpriseNumber: &number}, req.Name, req.Email, req.Locale, password, s.tick())
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM signup_requests WHERE id = ? OR email = ?`, req.ID, req.Email)
		return err
	})
	return org, user, err
}

// PurgeSignups deletes expired sign-up requests.
func (s *Service) PurgeSignups(ctx context.Context) error {
	_, err := s.db.Exec(ctx, `DELETE FROM signup_requests WHERE expires_at < ?`, s.tick())
	return err
}

// ---- pages ----

func (s *Service) signupRoutes(srv *web.Server) {
	h := &handlers{svc: s, srv: srv}
	srv.PublicPage("GET /signup", h.signupForm)
	srv.PublicPage("POST /signup", h.signup)
	srv.PublicPage("GET /signup/sent", h.signupSent)
	srv.PublicPage("GET /signup/confirm", h.signupConfirmForm)
	srv.PublicPage("POST /signup/confirm", h.signupConfirm)
}

func (h *handlers) signupForm(w http.ResponseWriter, r *http.Request) error {
	return h.srv.Render(w, r, http.StatusOK, "signup", "signup.title", nil)
}

func (h *handlers) signup(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	if f.Get("fax") != "" {
		// The honeypot field is invisible to people; only robots fill it.
		return web.Redirect(w, r, "/signup/sent")
	}
	in := SignupInput{LegalName: f.Get("legal_name"), EnterpriseNumber: f.Get("enterprise_number"), Name: f.Get("name"), Email: f.Get("email")}
	if err := h.svc.RequestSignup(r.Context(), in, web.Locale(r)); err != nil {
		return h.srv.RenderForm(w, r, "signup", "signup.title", nil, err)
	}
	return web.Redirect(w, r, "/signup/sent")
}

func (h *handlers) signupSent(w http.ResponseWriter, r *http.Request) error {
	return h.srv.Render(w, r, http.StatusOK, "signup_sent", "signup.sent_title", nil)
}

func (h *handlers) signupConfirmForm(w http.ResponseWriter, r *http.Request) error {
	token := r.URL.Query().Get("token")
	req, err := h.svc.signupByToken(r.Context(), h.svc.db, token)
	if err != nil {
		return h.srv.Render(w, r, http.StatusNotFound, "signup_invalid", "signup.invalid_title", nil)
	}
	return h.srv.RenderPage(w, r, http.StatusOK, "signup_confirm", &web.Page{Title: h.t(r, "signup.confirm_title", nil),
		Form: url.Values{"token": {token}}, Data: map[string]any{"Request": req}})
}

func (h *handlers) signupConfirm(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	token := f.Get("token")
	_, _, err := h.svc.CompleteSignup(r.Context(), token, f.Get("password"), f.Get("confirm"))
	switch {
	case err == nil:
		h.srv.Flash(w, "signup.flash.created")
		return web.Redirect(w, r, "/login")
	case errs.Is(err, errs.NotFound):
		return h.srv.Render(w, r, http.StatusNotFound, "signup_invalid", "signup.invalid_title", nil)
	case errs.Is(err, errs.Conflict):
		return h.srv.Render(w, r, http.StatusConflict, "signup_invalid", "signup.taken_title", map[string]any{"Taken": true})
	}
	req, rerr := h.svc.signupByToken(r.Context(), h.svc.db, token)
	if rerr != nil {
		return rerr
	}
	return h.srv.RenderForm(w, r, "signup_confirm", "signup.confirm_title", map[string]any{"Request": req}, err)
}
