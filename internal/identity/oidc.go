package identity

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/belfry-cert/belfry/internal/audit"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/web"
)

// OIDCCallbackPath is where the provider sends the browser back, after the
// locale: register https://HOST/en/login/oidc/callback at the provider.
const OIDCCallbackPath = "/login/oidc/callback"

// OIDCConfig configures single sign-on through an OpenID Connect provider
// (for example the Belgian federal authentication service, FAS / CSAM).
type OIDCConfig struct {
	Issuer       string // the provider's issuer URL; discovery runs on it
	ClientID     string
	ClientSecret string
	// RedirectURL is the full callback URL registered at the provider:
	// https://HOST/en/login/oidc/callback (any of Belfry's locales may stand
	// in for "en"; the person's own language is restored after the return).
	RedirectURL string
	Name        string // button label, e.g. "CSAM"
	// LinkByEmail lets a person's first sign-in attach the provider identity
	// to the existing user with the same, provider-verified, e-mail address.
	LinkByEmail bool
	Scopes      []string // default openid, email, profile
}

// validate checks c and fills its defaults, reporting every fault at once.
func (c *OIDCConfig) validate() error {
	var faults []error
	bad := func(format string, args ...any) {
		faults = append(faults, fmt.Errorf("identity: oidc: "+format, args...))
	}
	if err := checkOIDCURL(c.Issuer); err != nil {
		bad("issuer: %v", err)
	}
	if strings.TrimSpace(c.ClientID) == "" {
		bad("client ID is required")
	}
	if c.ClientSecret == "" {
		bad("client secret is required: Belfry is a confidential client")
	}
	if err := checkOIDCURL(c.RedirectURL); err != nil {
		bad("redirect URL: %v", err)
	} else if u, _ := url.Parse(c.RedirectURL); !isCallbackPath(u.Path) {
		bad("redirect URL path must be /LOCALE%s (e.g. /en%s), not %q", OIDCCallbackPath, OIDCCallbackPath, u.Path)
	}
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" {
		c.Name = "OpenID Connect"
	}
	if utf8.RuneCountInString(c.Name) > 40 {
		bad("name must be at most 40 characters")
	}
	if len(c.Scopes) == 0 {
		c.Scopes = []string{oidc.ScopeOpenID, oidc.ScopeEmail, oidc.ScopeProfile}
	}
	if !slices.Contains(c.Scopes, oidc.ScopeOpenID) {
		bad("scopes must include %q", oidc.ScopeOpenID)
	}
	if c.LinkByEmail && !slices.Contains(c.Scopes, oidc.ScopeEmail) {
		bad("linking by e-mail needs the %q scope", oidc.ScopeEmail)
	}
	return errors.Join(faults...)
}

// checkOIDCURL accepts absolute https URLs, and http ones on the loopback
// interface for development and tests.
func checkOIDCURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case s == "":
		return errors.New("required")
	case err != nil || u.Host == "" || u.Opaque != "":
		return fmt.Errorf("%q is not an absolute URL", s)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return fmt.Errorf("%q must not carry a query, fragment or credentials", s)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	default:
		return fmt.Errorf("%q must use https", s)
	}
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// isCallbackPath reports whether p is /LOCALE/login/oidc/callback.
func isCallbackPath(p string) bool {
	l, rest, ok := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	return ok && i18n.Supported(l) && "/"+rest == OIDCCallbackPath
}

// OIDC is single sign-on through an OpenID Connect provider: the
// authorization code flow with PKCE, a nonce, and ID tokens verified by the
// zitadel/oidc relying-party library against the provider's published keys.
type OIDC struct {
	cfg   OIDCConfig
	party rp.RelyingParty
}

// NewOIDC validates cfg and runs the provider's discovery. httpClient is
// used for discovery, the token and userinfo endpoints and the key set; nil
// means a client with a 10-second timeout.
func NewOIDC(ctx context.Context, cfg OIDCConfig, httpClient *http.Client) (*OIDC, error) {
	cfg.Scopes = slices.Clone(cfg.Scopes)
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 10 * time.Second}
	}
	party, err := rp.NewRelyingPartyOIDC(ctx, cfg.Issuer, cfg.ClientID, cfg.ClientSecret, cfg.RedirectURL, cfg.Scopes,
		rp.WithHTTPClient(httpClient),
		rp.WithSigningAlgsFromDiscovery(),
		rp.WithVerifierOpts(rp.WithNonce(nonceFrom)),
	)
	if err != nil {
		return nil, fmt.Errorf("identity: oidc: discovery at %s: %w", cfg.Issuer, err)
	}
	return &OIDC{cfg: cfg, party: party}, nil
}

// SetOIDC turns single sign-on on (or off, with nil). Call it before
// serving.
func (s *Service) SetOIDC(o *OIDC) { s.oidc = o }

// OIDCEnabled reports whether single sign-on is configured.
func (s *Service) OIDCEnabled() bool { return s.oidc != nil }

// OIDCName is the provider's display name for the sign-in button, or "".
func (s *Service) OIDCName() string {
	if s.oidc == nil {
		return ""
	}
	return s.oidc.cfg.Name
}

type nonceKey struct{}

// nonceFrom gives the ID token verifier the nonce that the browser's
// sign-in request carried.
func nonceFrom(ctx context.Context) string {
	n, _ := ctx.Value(nonceKey{}).(string)
	return n
}

// authURL is the provider's authorization URL for one sign-in attempt.
func (o *OIDC) authURL(state, nonce, verifier string) string {
	return rp.AuthURL(state, o.party,
		rp.WithCodeChallenge(oidc.NewSHACodeChallenge(verifier)),
		rp.AuthURLOpt(rp.WithURLParam("nonce", nonce)))
}

// ssoIdentity is what the provider asserts about the person signing in.
type ssoIdentity struct {
	Issuer        string
	Subject       string
	Email         string
	EmailVerified bool
}

// identify redeems the authorization code with the PKCE verifier and
// returns the identity of the verified ID token (signature, issuer,
// audience, expiry and nonce are checked by the library). When linking by
// e-mail is on and the ID token carries no address, the userinfo endpoint
// supplies it.
func (o *OIDC) identify(ctx context.Context, code, nonce, verifier string) (ssoIdentity, error) {
	ctx = context.WithValue(ctx, nonceKey{}, nonce)
	tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, code, o.party, rp.WithCodeVerifier(verifier))
	if err != nil {
		return ssoIdentity{}, fmt.Errorf("identity: oidc: code exchange: %w", err)
	}
	c := tokens.IDTokenClaims
	id := ssoIdentity{Issuer: c.Issuer, Subject: c.Subject, Email: c.Email, EmailVerified: bool(c.EmailVerified)}
	if o.cfg.LinkByEmail && id.Email == "" && o.party.UserinfoEndpoint() != "" {
		info, err := rp.Userinfo[*oidc.UserInfo](ctx, tokens.AccessToken, tokens.Type(), c.Subject, o.party)
		if err != nil {
			return ssoIdentity{}, fmt.Errorf("identity: oidc: userinfo: %w", err)
		}
		id.Email, id.EmailVerified = info.Email, bool(info.EmailVerified)
	}
	return id, nil
}

// loginSSO signs in the user that the provider vouches for: the one linked
// to (issuer, subject), or, when linkByEmail is set and this is the
// identity's first visit, the unlinked user with the same verified e-mail
// address, which is then linked. Nobody is created: an unknown person gets
// a Forbidden "err.oidc.no_account", a disabled user "err.oidc.disabled".
//
// The session starts fully signed in, even for users who have a TOTP second
// factor: the provider authenticated the person and is responsible for the
// second factor (CSAM signs people in with eID, itsme or a security code),
// so Belfry's own TOTP is not asked on top.
func (s *Service) loginSSO(ctx context.Context, id ssoIdentity, linkByEmail bool, userAgent string) (string, *web.Session, error) {
	if id.Issuer == "" || id.Subject == "" {
		return "", nil, errors.New("identity: oidc: identity without issuer or subject")
	}
	var tok string
	var sess *web.Session
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		u, err := s.ssoUser(ctx, tx, id, linkByEmail)
		if err != nil {
			return err
		}
		if u.MustChangePassword {
			if err := s.retireOneTimePassword(ctx, tx, u); err != nil {
				return err
			}
		}
		tok, sess, err = s.startSession(ctx, tx, u, false, userAgent)
		if err != nil {
			return err
		}
		return s.recordLogin(ctx, tx, u, "oidc")
	})
	if e, ok := errs.As(err); ok && e.Kind == errs.Forbidden {
		if aerr := s.recordSSORefusal(ctx, id, e.Code); aerr != nil {
			return "", nil, aerr
		}
	}
	return tok, sess, err
}

// ssoUser finds, and if need be links, the user of id inside tx.
func (s *Service) ssoUser(ctx context.Context, tx *store.Tx, id ssoIdentity, linkByEmail bool) (*userRow, error) {
	u, err := userBy(ctx, tx, "u.oidc_issuer = ? AND u.oidc_subject = ?", id.Issuer, id.Subject)
	switch {
	case err == nil:
	case !errs.Is(err, errs.NotFound):
		return nil, err
	case !linkByEmail || !id.EmailVerified || strings.TrimSpace(id.Email) == "":
		return nil, errs.E(errs.Forbidden, "err.oidc.no_account")
	default:
		u, err = userBy(ctx, tx, "lower(u.email) = lower(?)", strings.TrimSpace(id.Email))
		if errs.Is(err, errs.NotFound) || (err == nil && u.OIDCSubject != "") {
			// A user already linked to another identity is not re-linked
			// by e-mail: that would let a second provider account take
			// the first one's place.
			return nil, errs.E(errs.Forbidden, "err.oidc.no_account")
		}
		if err != nil {
			return nil, err
		}
		if u.Disabled {
			return nil, errs.E(errs.Forbidden, "err.oidc.disabled")
		}
		if err := s.linkSSO(ctx, tx, u, id); err != nil {
			return nil, err
		}
	}
	if u.Disabled {
		return nil, errs.E(errs.Forbidden, "err.oidc.disabled")
	}
	return u, nil
}

// linkSSO stores the provider identity on u, audited as the user's own act.
func (s *Service) linkSSO(ctx context.Context, tx *store.Tx, u *userRow, id ssoIdentity) error {
	now := s.tick()
	if _, err := tx.Exec(ctx, `UPDATE users SET oidc_issuer = ?, oidc_subject = ?, updated_at = ? WHERE id = ?`,
		id.Issuer, id.Subject, now, u.ID); err != nil {
		return fmt.Errorf("identity: link sso: %w", err)
	}
	u.OIDCIssuer, u.OIDCSubject, u.SSOLinked, u.UpdatedAt = id.Issuer, id.Subject, true, now
	ctx = auth.With(ctx, s.principal(u, 0, nil))
	return audit.Append(ctx, tx, now, audit.Change{Action: "user.link_sso", ObjectType: "user", ObjectID: itoa(u.ID),
		OrgID: u.OrgID, After: map[string]string{"issuer": id.Issuer, "subject": id.Subject, "email": id.Email}})
}

// retireOneTimePassword clears the one-time password that an
// administrator handed out and that u never used: the person signs in
// through the provider instead, so the password is not left valid, and the
// session is not held on the change-password page, which would ask for it.
// An administrator's password reset issues a new one if it is ever needed.
func (s *Service) retireOneTimePassword(ctx context.Context, tx *store.Tx, u *userRow) error {
	now := s.tick()
	if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = '', must_change_password = ?, updated_at = ? WHERE id = ?`,
		false, now, u.ID); err != nil {
		return fmt.Errorf("identity: retire one-time password: %w", err)
	}
	u.PasswordHash, u.MustChangePassword, u.UpdatedAt = "", false, now
	ctx = auth.With(ctx, s.principal(u, 0, nil))
	return audit.Append(ctx, tx, now, audit.Change{Action: "user.clear_password", ObjectType: "user", ObjectID: itoa(u.ID),
		OrgID: u.OrgID, After: map[string]string{"reason": "first single sign-on"}})
}

// recordSSORefusal audits a refused single sign-on, like a failed password.
func (s *Service) recordSSORefusal(ctx context.Context, id ssoIdentity, code string) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		return audit.Append(ctx, tx, s.tick(), audit.Change{Action: "session.login_failed", ObjectType: "login",
			ObjectID: id.Subject + "@" + id.Issuer,
			After:    map[string]string{"method": "oidc", "reason": strings.TrimPrefix(code, "err.oidc."), "email": id.Email}})
	})
}
