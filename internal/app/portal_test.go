package app_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/webtest"
)

func TestPortalEdge(t *testing.T) {
	e := webtest.New(t, dbtest.SQLite(t), false)
	o := e.Org(t, "Acme", "entity")
	u := e.User(t, o.ID, "ann@acme.example", "member")
	b := e.Browser(t)

	t.Run("locale from Accept-Language", func(t *testing.T) {
		res := b.Do("GET", "/", nil, http.Header{"Accept-Language": {"de-BE,de;q=0.9"}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/de/" {
			t.Errorf("GET / (de) = %d %q, want 303 /de/", res.StatusCode, res.Header.Get("Location"))
		}
		res = e.Browser(t).Do("GET", "/login?next=%2Fusers", nil, http.Header{"Accept-Language": {"es"}})
		if res.StatusCode != 200 || !strings.Contains(res.Body, `hreflang="nl"`) || !strings.Contains(res.Body, `href="/fr/login"`) {
			t.Errorf("GET /login (es) = %d, want the four-language choice page", res.StatusCode)
		}
	})
	t.Run("security headers", func(t *testing.T) {
		res := b.Get("/login")
		for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"} {
			if got := res.Header.Get(h); got != want {
				t.Errorf("%s = %q, want %q", h, got, want)
			}
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("CSP = %q", csp)
		}
		for _, c := range res.Header.Values("Set-Cookie") {
			if !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Lax") {
				t.Errorf("cookie %q lacks HttpOnly or SameSite", c)
			}
		}
	})
	t.Run("missing CSRF token", func(t *testing.T) {
		c := e.Browser(t)
		c.Get("/login")
		res := c.Do("POST", "/fr/login", strings.NewReader(url.Values{"email": {u.Email}, "password": {webtest.Password(u.Email)}}.Encode()),
			http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
		if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Body, `lang="fr"`) {
			t.Errorf("POST without token = %d, want 403 French page", res.StatusCode)
		}
		if strings.Contains(res.Header.Get("Set-Cookie"), "session=") {
			t.Error("a session was created without a CSRF token")
		}
	})
	t.Run("cross-origin post refused", func(t *testing.T) {
		c := e.Browser(t)
		c.Get("/login")
		res := c.Do("POST", "/en/login", strings.NewReader(url.Values{"csrf_token": {c.CSRF()}, "email": {u.Email}}.Encode()),
			http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}})
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site POST = %d, want 403", res.StatusCode)
		}
	})
	t.Run("wrong password re-shows the form", func(t *testing.T) {
		res := e.Browser(t).PostForm("/login", url.Values{"email": {u.Email}, "password": {"wrong password"}})
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(res.Body, "error-summary") ||
			!strings.Contains(res.Body, `aria-invalid="true"`) || !strings.Contains(res.Body, `value="ann@acme.example"`) {
			t.Errorf("wrong password = %d; want 401 with error summary, invalid field and the e-mail kept", res.StatusCode)
		}
		if !strings.Contains(res.Body, "<title>Error:") {
			t.Errorf("title lacks the Error: prefix")
		}
	})
	t.Run("oversized form", func(t *testing.T) {
		c := e.Browser(t)
		big := url.Values{"csrf_token": {c.CSRF()}, "email": {strings.Repeat("a", 2<<20)}}
		res := c.Do("POST", "/en/login", strings.NewReader(big.Encode()), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("2 MiB form = %d, want 413", res.StatusCode)
		}
	})
	t.Run("pages need a session", func(t *testing.T) {
		res := e.Browser(t).Get("/users?q=x")
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/en/login?next=%2Fusers%3Fq%3Dx" {
			t.Errorf("GET /users signed out = %d %q", res.StatusCode, res.Header.Get("Location"))
		}
	})
	t.Run("sign in, remembered language, sign out", func(t *testing.T) {
		c := e.Login(t, u.Email, webtest.Password(u.Email))
		if res := c.Get("/account"); res.StatusCode != 200 || !strings.Contains(res.Body, u.Email) {
			t.Fatalf("GET /account = %d", res.StatusCode)
		}
		res := c.PostForm("/account", url.Values{"name": {"Ann"}, "locale": {"nl"}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/nl/account" {
			t.Errorf("save locale = %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		if res := c.Do("GET", "/", nil, nil); res.Header.Get("Location") != "/nl/" {
			t.Errorf("GET / after choosing Dutch = %q, want /nl/", res.Header.Get("Location"))
		}
		if res := c.PostForm("/logout", nil); res.StatusCode != http.StatusSeeOther {
			t.Errorf("logout = %d", res.StatusCode)
		}
		if res := c.Get("/account"); res.StatusCode != http.StatusSeeOther {
			t.Errorf("GET /account after logout = %d, want redirect to login", res.StatusCode)
		}
	})
	t.Run("first sign-in forces a new password", func(t *testing.T) {
		name, email, roles := "New", "new@acme.example", []string{"member"}
		_, pw, err := e.App.Identity.CreateUser(webtest.System(), identityInput(o.ID, name, email, roles))
		if err != nil {
			t.Fatal(err)
		}
		c := e.Login(t, email, pw)
		if res := c.Get("/account"); res.Header.Get("Location") != "/en/account/password" {
			t.Fatalf("GET /account with a one-time password = %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		res := c.PostForm("/account/password", url.Values{"current_password": {pw}, "new_password": {"short"}, "confirm_password": {"short"}})
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("short password = %d, want 422", res.StatusCode)
		}
		res = c.PostForm("/account/password", url.Values{"current_password": {pw}, "new_password": {"a much better password"}, "confirm_password": {"a much better password"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("change password = %d", res.StatusCode)
		}
		if res := c.Get("/account"); res.StatusCode != 200 {
			t.Errorf("GET /account after the change = %d", res.StatusCode)
		}
	})
}

// TestAccountErrors re-shows the account page with field errors (never a
// success notice or a 500) when turning off two-step verification with a
// wrong password or saving an empty name.
func TestAccountErrors(t *testing.T) {
	e := webtest.New(t, dbtest.SQLite(t), false)
	o := e.Org(t, "Acme", "entity")
	u := e.User(t, o.ID, "ann@acme.example", "member")
	c := e.Login(t, u.Email, webtest.Password(u.Email))
	page := c.Get("/account/totp")
	m := regexp.MustCompile(`class="secret"><code>([A-Z2-7 ]+)</code>`).FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatalf("no secret on the enrolment page")
	}
	code, err := totp.GenerateCode(strings.ReplaceAll(m[1], " ", ""), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if res := c.PostForm("/account/totp", url.Values{"code": {code}}); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "recovery-codes") {
		t.Fatalf("confirm TOTP = %d", res.StatusCode)
	}
	res := c.PostForm("/account/totp/disable", url.Values{"password": {"wrong password"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `id="disable_password-error"`) ||
		!strings.Contains(res.Body, `href="#disable_password"`) || strings.Contains(res.Body, "notice-success") {
		t.Errorf("disable with a wrong password = %d; want 422 with an error on disable_password and no success notice", res.StatusCode)
	}
	res = c.PostForm("/account", url.Values{"name": {""}, "locale": {"en"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `href="#name"`) {
		t.Errorf("save an empty name = %d; want 422 with an error on name", res.StatusCode)
	}
	if res := c.PostForm("/account/totp/disable", url.Values{"password": {webtest.Password(u.Email)}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("disable with the right password = %d", res.StatusCode)
	}
}
