package identity

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"

	"github.com/belfry-cert/belfry/internal/audit"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/web"
)

// oidcPeople are the provider's accounts: zitadel's example OpenID
// Provider looks them up through this storage.UserStore. The subject of
// each ID token is the map key.
type oidcPeople map[string]*storage.User

func (p oidcPeople) GetUserByID(id string) *storage.User { return p[id] }
func (p oidcPeople) ExampleClientID() string             { return "service" }

func (p oidcPeople) GetUserByUsername(name string) *storage.User {
	for _, u := range p {
		if u.Username == name {
			return u
		}
	}
	return nil
}

func oidcPerson(sub, username, email string, verified bool) *storage.User {
	return &storage.User{ID: sub, Username: username, Password: "provider-pw", FirstName: "Test", LastName: username,
		Email: email, EmailVerified: verified}
}

// testPeople is the provider's side of every flow test.
var testPeople = oidcPeople{
	"sub-linked":   oidcPerson("sub-linked", "linked", "linked@example.be", true),
	"sub-alice":    oidcPerson("sub-alice", "alice", "Alice@example.be", true), // case differs from Belfry's
	"sub-mallory":  oidcPerson("sub-mallory", "mallory", "bob@example.be", false),
	"sub-stranger": oidcPerson("sub-stranger", "stranger", "stranger@example.org", true),
	"sub-dora":     oidcPerson("sub-dora", "dora", "dora@example.be", true),
}

// oidcEnv is a Belfry server and a real OpenID Provider, each on its own
// httptest server, with Belfry registered at the provider as a client.
type oidcEnv struct {
	db       *store.DB
	svc      *Service
	belfry   *httptest.Server
	provider *httptest.Server
	issuer   string
	orgID    int64
}

const (
	oidcTestClient = "belfry"
	oidcTestSecret = "client-secret"
)

func newOIDCEnv(t *testing.T, db *store.DB, linkByEmail bool) *oidcEnv {
	t.Helper()
	ctx := t.Context()
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	e := &oidcEnv{db: db, svc: NewService(db, log, Config{}, nil)}
	if _, err := e.svc.Bootstrap(ctx, "CCB", "admin@example.be"); err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}
	org, err := e.svc.AuthorityOrg(ctx)
	if err != nil {
		t.Fatalf("AuthorityOrg: %v", err)
	}
	e.orgID = org.ID

	// Listeners first: each side must know the other's address.
	e.belfry = httptest.NewUnstartedServer(nil)
	e.provider = httptest.NewUnstartedServer(nil)
	t.Cleanup(e.belfry.Close)
	t.Cleanup(e.provider.Close)
	redirect := "http://" + e.belfry.Listener.Addr().String() + "/en" + OIDCCallbackPath
	// Another host name than Belfry's, so that the browser's cookie jar
	// keeps the two sites apart as a real browser would.
	e.issuer = "http://localhost:" + portOf(t, e.provider.Listener.Addr().String())

	clients := map[string]*storage.Client{oidcTestClient: storage.WebClient(oidcTestClient, oidcTestSecret, redirect)}
	e.provider.Config.Handler = exampleop.SetupServer(e.issuer, storage.NewStorageWithClients(testPeople, clients), nil, false)
	e.provider.Start()

	o, err := NewOIDC(ctx, OIDCConfig{Issuer: e.issuer, ClientID: oidcTestClient, ClientSecret: oidcTestSecret,
		RedirectURL: redirect, Name: "CSAM", LinkByEmail: linkByEmail}, &http.Client{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("NewOIDC: %v", err)
	}
	e.svc.SetOIDC(o)
	srv := web.NewServer(web.Config{CSRFKey: []byte("k")}, log, i18n.MustLoad(), e.svc, prometheus.NewRegistry(), nil)
	e.svc.OIDCRoutes(srv)
	h, err := srv.Handler()
	if err != nil {
		t.Fatalf("Handler: %v", err)
	}
	e.belfry.Config.Handler = h
	e.belfry.Start()
	return e
}

func portOf(t *testing.T, addr string) string {
	t.Helper()
	u, err := url.Parse("http://" + addr)
	if err != nil {
		t.Fatalf("parse %q: %v", addr, err)
	}
	return u.Port()
}

// user creates a Belfry user in the authority's organisation; linkSub, when
// set, links it to that provider subject as an earlier sign-in would have.
func (e *oidcEnv) user(t *testing.T, email, linkSub string) *User {
	t.Helper()
	ctx := auth.With(t.Context(), auth.System)
	name, roles := "Test User", []string{string(auth.RoleAnalyst)}
	u, _, err := e.svc.CreateUser(ctx, UserInput{OrgID: &e.orgID, Email: &email, Name: &name, Roles: &roles})
	if err != nil {
		t.Fatalf("CreateUser(%s): %v", email, err)
	}
	if linkSub != "" {
		if _, err := e.db.Exec(ctx, `UPDATE users SET oidc_issuer = ?, oidc_subject = ? WHERE id = ?`, e.issuer, linkSub, u.ID); err != nil {
			t.Fatalf("link %s: %v", email, err)
		}
	}
	return u
}

// link returns the provider identity stored on user id.
func (e *oidcEnv) link(t *testing.T, id int64) (issuer, subject string) {
	t.Helper()
	err := e.db.QueryRow(t.Context(), `SELECT COALESCE(oidc_issuer, ''), COALESCE(oidc_subject, '') FROM users WHERE id = ?`, id).
		Scan(&issuer, &subject)
	if err != nil {
		t.Fatalf("read link: %v", err)
	}
	return issuer, subject
}

// auditActions lists the audit log's actions, oldest first.
func auditActions(t *testing.T, db *store.DB) []string {
	t.Helper()
	p, err := audit.List(auth.With(t.Context(), auth.System), db, audit.Filter{Limit: 500})
	if err != nil {
		t.Fatalf("audit.List: %v", err)
	}
	var out []string
	for i := len(p.Records) - 1; i >= 0; i-- {
		out = append(out, p.Records[i].Action)
	}
	return out
}

// browser is an http.Client with a cookie jar that follows redirects one
// at a time, as a browser does, and remembers every step.
type browser struct {
	t     *testing.T
	c     *http.Client
	steps []step
	// tamper, when set, may change a redirect target before it is followed.
	tamper func(*url.URL)
}

type step struct {
	URL    *url.URL
	Status int
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, c: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends req and follows redirects, turning each into a GET of the
// Location (resolved against the request's URL); it returns the final
// response and its body.
func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	for range 20 {
		resp, err := b.c.Do(req)
		if err != nil {
			b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		b.steps = append(b.steps, step{req.URL, resp.StatusCode})
		if resp.StatusCode < 300 || resp.StatusCode > 399 {
			return resp, string(body)
		}
		next, err := resp.Location()
		if err != nil {
			b.t.Fatalf("%s %s: %d without Location: %v", req.Method, req.URL, resp.StatusCode, err)
		}
		if b.tamper != nil {
			b.tamper(next)
		}
		req, _ = http.NewRequestWithContext(b.t.Context(), http.MethodGet, next.String(), nil)
	}
	b.t.Fatalf("too many redirects: %v", b.steps)
	return nil, ""
}

func (b *browser) get(u string) (*http.Response, string) {
	req, _ := http.NewRequestWithContext(b.t.Context(), http.MethodGet, u, nil)
	return b.do(req)
}

// cookie returns the value of the named cookie the jar holds for u.
func (b *browser) cookie(u, name string) string {
	pu, _ := url.Parse(u)
	for _, c := range b.c.Jar.Cookies(pu) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

var loginFormID = regexp.MustCompile(`name="id" value="([^"]+)"`)

// signIn starts at Belfry's start path, signs in at the provider's login
// form as username and returns Belfry's final answer.
func (e *oidcEnv) signIn(b *browser, start, username string) (*http.Response, string) {
	b.t.Helper()
	resp, body := b.get(e.belfry.URL + start)
	m := loginFormID.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil || !strings.HasPrefix(resp.Request.URL.String(), e.issuer) {
		b.t.Fatalf("GET %s ended at %s (%d), want the provider's login form; body:\n%s", start, resp.Request.URL, resp.StatusCode, body)
	}
	action, _ := resp.Request.URL.Parse("/login/username")
	form := url.Values{"id": {m[1]}, "username": {username}, "password": {"provider-pw"}}
	req, _ := http.NewRequestWithContext(b.t.Context(), http.MethodPost, action.String(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// callbackStep returns the step at Belfry's callback, or fails.
func (b *browser) callbackStep() step {
	b.t.Helper()
	for _, s := range b.steps {
		q := s.URL.Query()
		if strings.HasSuffix(s.URL.Path, OIDCCallbackPath) && (q.Has("code") || q.Has("error")) {
			return s
		}
	}
	b.t.Fatalf("no callback among %v", b.steps)
	return step{}
}

func TestOIDCFlow(t *testing.T) {
	t.Parallel()
	tamperState := func(u *url.URL) {
		if strings.HasSuffix(u.Path, OIDCCallbackPath) && u.Query().Has("state") {
			q := u.Query()
			q.Set("state", q.Get("state")+"x")
			u.RawQuery = q.Encode()
		}
	}
	badCode := func(u *url.URL) {
		if strings.HasSuffix(u.Path, OIDCCallbackPath) && u.Query().Has("code") {
			q := u.Query()
			q.Set("code", "not-a-code")
			u.RawQuery = q.Encode()
		}
	}
	denied := func(u *url.URL) {
		if strings.HasSuffix(u.Path, OIDCCallbackPath) && u.Query().Has("code") {
			q := u.Query()
			q.Del("code")
			q.Set("error", "access_denied")
			u.RawQuery = q.Encode()
		}
	}
	tests := []struct {
		name        string
		linkByEmail bool
		start       string
		username    string
		tamper      func(*url.URL)
		wantUser    string // e-mail of the signed-in user; "" when refused
		wantPath    string // final path after a success
		wantStatus  int    // final status when refused
		wantText    string // on the refusal page
		wantActions []string
	}{
		{name: "linked subject", start: "/en/login/oidc?next=/users%3Fpage%3D2", username: "linked",
			wantUser: "linked@example.be", wantPath: "/en/users?page=2", wantActions: []string{"user.clear_password", "session.login"}},
		{name: "first login links verified e-mail", linkByEmail: true, start: "/en/login/oidc", username: "alice",
			wantUser: "alice@example.be", wantPath: "/en/", wantActions: []string{"user.link_sso", "user.clear_password", "session.login"}},
		{name: "foreign next is dropped", start: "/nl/login/oidc?next=//evil.example/", username: "linked",
			wantUser: "linked@example.be", wantPath: "/nl/", wantActions: []string{"user.clear_password", "session.login"}},
		{name: "unverified e-mail refused", linkByEmail: true, start: "/en/login/oidc", username: "mallory",
			wantStatus: http.StatusForbidden, wantText: "no Belfry account is linked", wantActions: []string{"session.login_failed"}},
		{name: "unknown person refused", linkByEmail: true, start: "/fr/login/oidc", username: "stranger",
			wantStatus: http.StatusForbidden, wantText: "aucun compte Belfry", wantActions: []string{"session.login_failed"}},
		{name: "no e-mail linking without the option", start: "/en/login/oidc", username: "alice",
			wantStatus: http.StatusForbidden, wantText: "no Belfry account is linked", wantActions: []string{"session.login_failed"}},
		{name: "disabled user refused", start: "/de/login/oidc", username: "dora",
			wantStatus: http.StatusForbidden, wantText: "Ihr Belfry-Konto wurde deaktiviert", wantActions: []string{"session.login_failed"}},
		{name: "tampered state refused", start: "/en/login/oidc", username: "linked", tamper: tamperState,
			wantStatus: http.StatusBadRequest, wantText: "rejected for your protection"},
		{name: "provider error", start: "/nl/login/oidc", username: "linked", tamper: denied,
			wantStatus: http.StatusForbidden, wantText: "bij CSAM geannuleerd of geweigerd"},
		{name: "token exchange failure", start: "/en/login/oidc", username: "linked", tamper: badCode,
			wantStatus: http.StatusBadGateway, wantText: "could not confirm your sign-in with CSAM"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newOIDCEnv(t, dbtest.SQLite(t), tc.linkByEmail)
			want := map[string]*User{
				"linked@example.be": e.user(t, "linked@example.be", "sub-linked"),
				"alice@example.be":  e.user(t, "alice@example.be", ""),
			}
			e.user(t, "bob@example.be", "")
			dora := e.user(t, "dora@example.be", "sub-dora")
			disabled := true
			if _, err := e.svc.UpdateUser(auth.With(t.Context(), auth.System), dora.ID, UserInput{Disabled: &disabled}); err != nil {
				t.Fatalf("disable: %v", err)
			}
			before := len(auditActions(t, e.db))

			b := newBrowser(t)
			b.tamper = tc.tamper
			resp, body := e.signIn(b, tc.start, tc.username)
			tok := b.cookie(e.belfry.URL, "session")

			if tc.wantUser == "" {
				if resp.StatusCode != tc.wantStatus || !strings.Contains(body, tc.wantText) {
					t.Errorf("sign-in as %s = %d, want %d with %q; body:\n%s", tc.username, resp.StatusCode, tc.wantStatus, tc.wantText, body)
				}
				if tok != "" {
					t.Errorf("refused sign-in set a session cookie")
				}
			} else {
				if tok == "" {
					t.Fatalf("sign-in as %s set no session cookie; steps %v, body:\n%s", tc.username, b.steps, body)
				}
				sess, err := e.svc.Session(t.Context(), tok)
				if err != nil {
					t.Fatalf("Session(cookie) = %v", err)
				}
				if u := want[tc.wantUser]; sess.Principal.UserID != u.ID || sess.MFAPending {
					t.Errorf("session = user %d (mfa pending %v), want user %d (%s) fully signed in",
						sess.Principal.UserID, sess.MFAPending, u.ID, tc.wantUser)
				}
				if got := resp.Request.URL.RequestURI(); got != tc.wantPath {
					t.Errorf("landed on %s, want %s", got, tc.wantPath)
				}
				if iss, sub := e.link(t, want[tc.wantUser].ID); iss != e.issuer || sub != "sub-"+tc.username {
					t.Errorf("link = (%q, %q), want (%q, %q)", iss, sub, e.issuer, "sub-"+tc.username)
				}
			}
			if cb := b.callbackStep(); cb.URL.Host != strings.TrimPrefix(e.belfry.URL, "http://") {
				t.Errorf("callback went to %s, want Belfry", cb.URL)
			}
			if b.cookie(e.belfry.URL, oidcCookie) != "" {
				t.Errorf("the sign-in cookie outlived the callback")
			}
			got := auditActions(t, e.db)[before:]
			if strings.Join(got, " ") != strings.Join(tc.wantActions, " ") {
				t.Errorf("audit actions = %v, want %v", got, tc.wantActions)
			}
			if res, err := audit.Verify(t.Context(), e.db); err != nil || !res.OK() {
				t.Errorf("audit.Verify = %+v, %v", res, err)
			}
		})
	}
}

// TestOIDCCallbackWithoutStart covers a callback that no sign-in of this
// browser started, and the routes while single sign-on is off.
func TestOIDCCallbackWithoutStart(t *testing.T) {
	t.Parallel()
	e := newOIDCEnv(t, dbtest.SQLite(t), false)
	b := newBrowser(t)
	resp, body := b.get(e.belfry.URL + "/nl" + OIDCCallbackPath + "?code=abc&state=def")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Uw aanmeldverzoek is verlopen") {
		t.Errorf("callback without cookie = %d; body:\n%s", resp.StatusCode, body)
	}

	e.svc.SetOIDC(nil)
	for _, p := range []string{"/en/login/oidc", "/en" + OIDCCallbackPath} {
		if resp, _ := b.get(e.belfry.URL + p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s with SSO off = %d, want 404", p, resp.StatusCode)
		}
	}
}

// TestOIDCLinking runs the account matching on both databases.
func TestOIDCLinking(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		svc := NewService(db, slog.New(slog.NewTextHandler(io.Discard, nil)), Config{}, nil)
		if _, err := svc.Bootstrap(ctx, "CCB", "admin@example.be"); err != nil {
			t.Fatal(err)
		}
		sys := auth.With(ctx, auth.System)
		org, _ := svc.AuthorityOrg(ctx)
		mk := func(email string) *User {
			name, roles := "Someone", []string{"analyst"}
			u, _, err := svc.CreateUser(sys, UserInput{OrgID: &org.ID, Email: &email, Name: &name, Roles: &roles})
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		carol, erin, frank := mk("carol@example.be"), mk("Erin@Example.be"), mk("frank@example.be")
		// Carol has a TOTP second factor; the provider's sign-in replaces it.
		if _, err := db.Exec(ctx, `UPDATE users SET totp_enabled = ?, totp_secret = ? WHERE id = ?`, true, "JBSWY3DPEHPK3PXP", carol.ID); err != nil {
			t.Fatal(err)
		}
		disabled := true
		if _, err := svc.UpdateUser(sys, frank.ID, UserInput{Disabled: &disabled}); err != nil {
			t.Fatal(err)
		}
		const iss = "https://idp.example.be"
		steps := []struct {
			name    string
			id      ssoIdentity
			byEmail bool
			want    int64  // user signed in
			wantErr string // or the refusal
		}{
			{"verified e-mail links", ssoIdentity{iss, "s-carol", "CAROL@example.be", true}, true, carol.ID, ""},
			{"then the subject alone", ssoIdentity{iss, "s-carol", "", false}, false, carol.ID, ""},
			{"other subject, same e-mail", ssoIdentity{iss, "s-carol-2", "carol@example.be", true}, true, 0, "err.oidc.no_account"},
			{"same subject, other issuer", ssoIdentity{"https://other.example", "s-carol", "", false}, true, 0, "err.oidc.no_account"},
			{"unverified e-mail", ssoIdentity{iss, "s-erin", "erin@example.be", false}, true, 0, "err.oidc.no_account"},
			{"linking off", ssoIdentity{iss, "s-erin", "erin@example.be", true}, false, 0, "err.oidc.no_account"},
			{"case-insensitive e-mail", ssoIdentity{iss, "s-erin", "erin@EXAMPLE.be", true}, true, erin.ID, ""},
			{"unknown e-mail", ssoIdentity{iss, "s-zed", "zed@example.be", true}, true, 0, "err.oidc.no_account"},
			{"disabled, not linked", ssoIdentity{iss, "s-frank", "frank@example.be", true}, true, 0, "err.oidc.disabled"},
		}
		for _, s := range steps {
			tok, sess, err := svc.loginSSO(ctx, s.id, s.byEmail, "test")
			if s.wantErr != "" {
				if code := errs.KindCode(err); err == nil || code != s.wantErr {
					t.Errorf("%s: loginSSO error = %v, want %s", s.name, err, s.wantErr)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: loginSSO: %v", s.name, err)
			}
			got, err := svc.Session(ctx, tok)
			if err != nil || got.Principal.UserID != s.want || got.MFAPending || sess.MFAPending {
				t.Errorf("%s: session = %+v, %v; want user %d without a pending second factor", s.name, got, err, s.want)
			}
		}
		var linked string
		if err := db.QueryRow(ctx, `SELECT COALESCE(oidc_subject, '') FROM users WHERE id = ?`, frank.ID).Scan(&linked); err != nil || linked != "" {
			t.Errorf("disabled user was linked to %q (%v)", linked, err)
		}
		actions := strings.Join(auditActions(t, db), " ")
		if n := strings.Count(actions, "user.link_sso"); n != 2 {
			t.Errorf("audit has %d user.link_sso, want 2: %s", n, actions)
		}
	})
}

func TestOIDCConfigValidate(t *testing.T) {
	t.Parallel()
	ok := OIDCConfig{Issuer: "https://idp.iamfas.belgium.be/fas/oauth2", ClientID: "belfry", ClientSecret: "s",
		RedirectURL: "https://belfry.example.be/en/login/oidc/callback"}
	tests := []struct {
		name string
		edit func(*OIDCConfig)
		want string // substring of the error; "" for none
	}{
		{"complete", func(*OIDCConfig) {}, ""},
		{"loopback http", func(c *OIDCConfig) {
			c.Issuer, c.RedirectURL = "http://127.0.0.1:9000", "http://localhost:8080/fr/login/oidc/callback"
		}, ""},
		{"plain http issuer", func(c *OIDCConfig) { c.Issuer = "http://idp.example.be" }, "must use https"},
		{"relative redirect", func(c *OIDCConfig) { c.RedirectURL = "/en/login/oidc/callback" }, "not an absolute URL"},
		{"redirect without locale", func(c *OIDCConfig) { c.RedirectURL = "https://belfry.example.be/oidc/callback" }, "path must be"},
		{"redirect with unknown locale", func(c *OIDCConfig) { c.RedirectURL = "https://belfry.example.be/es/login/oidc/callback" }, "path must be"},
		{"no client ID", func(c *OIDCConfig) { c.ClientID = " " }, "client ID is required"},
		{"no secret", func(c *OIDCConfig) { c.ClientSecret = "" }, "client secret is required"},
		{"no openid scope", func(c *OIDCConfig) { c.Scopes = []string{"profile"} }, `include "openid"`},
		{"e-mail linking without e-mail scope", func(c *OIDCConfig) { c.Scopes, c.LinkByEmail = []string{"openid"}, true }, `"email" scope`},
	}
	for _, tc := range tests {
		c := ok
		tc.edit(&c)
		err := c.validate()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: validate() = %v, want %q", tc.name, err, tc.want)
		}
	}
	c := ok
	if err := c.validate(); err != nil || c.Name != "OpenID Connect" || strings.Join(c.Scopes, " ") != "openid email profile" {
		t.Errorf("defaults = %q %v (%v)", c.Name, c.Scopes, err)
	}
}

func TestOIDCDiscoveryFailure(t *testing.T) {
	t.Parallel()
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err := NewOIDC(ctx, OIDCConfig{Issuer: dead.URL, ClientID: "c", ClientSecret: "s",
		RedirectURL: "http://127.0.0.1/en/login/oidc/callback"}, nil)
	if err == nil || !strings.Contains(err.Error(), "discovery") {
		t.Errorf("NewOIDC(unreachable issuer) = %v, want a discovery error", err)
	}
}
