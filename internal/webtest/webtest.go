// Package webtest starts a complete Belfry instance on a test database and
// drives it like a browser (sessions, CSRF tokens) or an API client (bearer
// tokens). Isolate walks every registered route as a user of another
// organisation; every capability's tests reuse it.
package webtest

import (
	"bytes"
	"context"
	"encoding/json"
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

	"github.com/belfry-cert/belfry/internal/app"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/identity"
	"github.com/belfry-cert/belfry/internal/store"
)

// Env is a running instance.
type Env struct {
	App *app.App
	Srv *httptest.Server
	// AdminEmail and AdminPassword sign in the authority's administrator.
	AdminEmail, AdminPassword string
}

// New starts an instance on db. Background job workers stay off unless
// work is set, so that tests decide when jobs run.
func New(t testing.TB, db *store.DB, work bool) *Env { return NewWith(t, db, work, nil) }

// NewWith is New with settings of the test's own: configure, if not nil,
// changes the configuration before the instance is built (an SMTP server,
// a feeds schema).
func NewWith(t testing.TB, db *store.DB, work bool, configure func(*app.Config)) *Env {
	t.Helper()
	ctx := context.Background()
	cfg := app.Config{Addr: "127.0.0.1:0", Authority: "CCB", CERTPhone: "+32 2 501 05 60", AdminEmail: "admin@ccb.example",
		Workers: work, IdleTimeout: time.Hour, LogFormat: "text"}
	if configure != nil {
		configure(&cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	a, err := app.New(ctx, cfg, log, db)
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	pw, err := a.Identity.Bootstrap(ctx, "CCB", cfg.AdminEmail)
	if err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}
	// A known password without the forced change, so tests can sign in.
	if pw != "" {
		pw = "admin-password-for-tests"
		if err := a.Identity.SetPassword(ctx, cfg.AdminEmail, pw, false); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	if work {
		jctx, cancel := context.WithCancel(ctx)
		if err := a.Jobs.Start(jctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			sctx, c := context.WithTimeout(context.Background(), 10*time.Second)
			defer c()
			a.Jobs.Stop(sctx)
			cancel()
		})
	}
	return &Env{App: a, Srv: srv, AdminEmail: cfg.AdminEmail, AdminPassword: pw}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// System returns a context acting as the platform itself.
func System() context.Context { return auth.With(context.Background(), auth.System) }

// Org creates an organisation.
func (e *Env) Org(t testing.TB, name, kind string) *identity.Organisation {
	t.Helper()
	o, err := e.App.Identity.CreateOrganisation(System(), identity.OrgInput{Name: &name, Kind: &kind})
	if err != nil {
		t.Fatalf("create organisation %s: %v", name, err)
	}
	return o
}

// User creates a user with a known password (no forced change) and
// returns it.
func (e *Env) User(t testing.TB, org int64, email string, roles ...string) *identity.User {
	t.Helper()
	name := strings.Split(email, "@")[0]
	u, _, err := e.App.Identity.CreateUser(System(), identity.UserInput{OrgID: &org, Email: &email, Name: &name, Roles: &roles})
	if err != nil {
		t.Fatalf("create user %s: %v", email, err)
	}
	if err := e.App.Identity.SetPassword(System(), email, Password(email), false); err != nil {
		t.Fatal(err)
	}
	return u
}

// Password is the test password of a user created by User.
func Password(email string) string { return "pw-" + email + "-secret" }

// Token creates an API token for the user with the given scopes.
func (e *Env) Token(t testing.TB, u *identity.User, scopes ...string) string {
	t.Helper()
	p := &auth.Principal{UserID: u.ID, OrgID: u.OrgID, OrgKind: string(u.OrgKind), Email: u.Email, Roles: u.Roles}
	_, secret, err := e.App.Identity.CreateToken(auth.With(context.Background(), p),
		identity.TokenInput{Name: "test", Scopes: scopes, ExpiresAt: time.Now().Add(24 * time.Hour)})
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	return secret
}

// Client is a browser with a cookie jar that does not follow redirects, so
// that tests see them.
type Client struct {
	t    testing.TB
	base string
	http *http.Client
	csrf string
	// Lang is the locale prefix of portal paths (default "en").
	Lang string
}

// Browser returns a client without a session.
func (e *Env) Browser(t testing.TB) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{t: t, base: e.Srv.URL, Lang: "en", http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Login signs in with email and password and fails the test otherwise.
func (e *Env) Login(t testing.TB, email, password string) *Client {
	t.Helper()
	c := e.Browser(t)
	res := c.PostForm("/login", url.Values{"email": {email}, "password": {password}})
	if res.StatusCode != http.StatusSeeOther || strings.Contains(res.Header.Get("Location"), "/login") {
		t.Fatalf("login %s: status %d, location %q, body %.300s", email, res.StatusCode, res.Header.Get("Location"), res.Body)
	}
	return c
}

// Response is a read response.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       string
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// Do sends a request; path is absolute ("/api/…", "/en/…").
func (c *Client) Do(method, path string, body io.Reader, header http.Header) *Response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if m := csrfRE.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return &Response{StatusCode: res.StatusCode, Header: res.Header, Body: string(b)}
}

// Get fetches a portal page: "/login" means "/en/login".
func (c *Client) Get(path string) *Response { return c.Do("GET", "/"+c.Lang+path, nil, nil) }

// CSRF returns a current form token, fetching a page for it if needed.
func (c *Client) CSRF() string {
	if c.csrf == "" {
		c.Get("/login")
	}
	return c.csrf
}

// PostForm submits a portal form with the CSRF token.
func (c *Client) PostForm(path string, v url.Values) *Response {
	c.t.Helper()
	if v == nil {
		v = url.Values{}
	}
	if v.Get("csrf_token") == "" {
		v.Set("csrf_token", c.CSRF())
	}
	return c.Do("POST", "/"+c.Lang+path, strings.NewReader(v.Encode()),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
}

// API is an API client with a bearer token.
type API struct {
	c     *Client
	token string
}

// API returns an API client; token may be "".
func (e *Env) API(t testing.TB, token string) *API { return &API{c: e.Browser(t), token: token} }

// Do sends a JSON request; body may be nil, a string (sent as is) or a
// value to encode.
func (a *API) Do(method, path string, body any) *Response {
	a.c.t.Helper()
	h := http.Header{}
	if a.token != "" {
		h.Set("Authorization", "Bearer "+a.token)
	}
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
		h.Set("Content-Type", "application/json")
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			a.c.t.Fatal(err)
		}
		r = bytes.NewReader(buf)
		h.Set("Content-Type", "application/json")
	}
	return a.c.Do(method, path, r, h)
}

// JSON decodes the body into v and fails the test otherwise.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.Body), v); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
}

// Token returns the client's bearer token.
func (a *API) Token() string { return a.token }

// Raw returns the underlying client, for requests that need custom
// headers.
func (a *API) Raw() *Client { return a.c }
