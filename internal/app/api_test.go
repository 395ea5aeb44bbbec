package app_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/identity"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/web"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// TestOpenAPIMatchesRoutes proves that every API route is documented and
// every documented operation exists.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := webtest.New(t, dbtest.SQLite(t), false)
	res := e.API(t, "").Do("GET", "/api/v1/openapi.json", nil)
	if res.StatusCode != 200 {
		t.Fatalf("GET openapi.json = %d", res.StatusCode)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	res.JSON(t, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	var documented, registered []string
	for p, ops := range doc.Paths {
		for m := range ops {
			if m == "parameters" {
				continue
			}
			documented = append(documented, strings.ToUpper(m)+" "+p)
		}
	}
	for _, r := range e.App.Web.Routes() {
		if r.API {
			registered = append(registered, r.Pattern)
		}
	}
	sort.Strings(documented)
	sort.Strings(registered)
	for _, r := range registered {
		if !slices.Contains(documented, r) {
			t.Errorf("route %q is not documented in the OpenAPI document", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(registered, d) {
			t.Errorf("documented operation %q has no route", d)
		}
	}
	if len(registered) < 10 {
		t.Errorf("only %d API routes registered", len(registered))
	}
}

func problem(t *testing.T, res *webtest.Response, status int, field string) web.Problem {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("status = %d, want %d (body %s)", res.StatusCode, status, res.Body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json", ct)
	}
	var p web.Problem
	res.JSON(t, &p)
	if p.Status != status || p.Title == "" || p.Detail == "" {
		t.Errorf("problem = %+v, want status %d with title and detail", p, status)
	}
	if field != "" {
		found := false
		for _, f := range p.Errors {
			if f.Field == field && f.Detail != "" {
				found = true
			}
		}
		if !found {
			t.Errorf("problem errors = %+v, want one for field %q", p.Errors, field)
		}
	}
	return p
}

// TestAPIErrors checks every error status the API promises, and that a
// refused request writes nothing.
func TestAPIErrors(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := webtest.New(t, db, false)
		authority, err := e.App.Identity.AuthorityOrg(webtest.System())
		if err != nil {
			t.Fatal(err)
		}
		admin := e.User(t, authority.ID, "root@ccb.example", "admin")
		api := e.API(t, e.Token(t, admin, "read", "write"))
		ro := e.API(t, e.Token(t, admin, "read"))
		anon := e.API(t, "")

		count := func() int {
			var n int
			db.QueryRow(t.Context(), `SELECT COUNT(*) FROM organisations`).Scan(&n)
			return n
		}
		n0 := count()

		problem(t, anon.Do("GET", "/api/v1/organisations", nil), 401, "")
		problem(t, e.API(t, "bfy_not-a-real-token").Do("GET", "/api/v1/me", nil), 401, "")
		problem(t, api.Do("GET", "/api/v1/nope", nil), 404, "")
		problem(t, api.Do("GET", "/api/v1/organisations/999999", nil), 404, "")
		problem(t, api.Do("PUT", "/api/v1/organisations", "{}"), 405, "")
		problem(t, ro.Do("POST", "/api/v1/organisations", `{"name":"X","kind":"entity"}`), 403, "")
		problem(t, api.Do("POST", "/api/v1/organisations", `{"name":`), 400, "")
		problem(t, api.Do("POST", "/api/v1/organisations", `{"name":"X","kind":"entity"} {}`), 400, "")
		problem(t, api.Do("POST", "/api/v1/organisations", `{"name":"X","kind":"entity","colour":"red"}`), 422, "colour")
		problem(t, api.Do("POST", "/api/v1/organisations", `{"name":42,"kind":"entity"}`), 422, "name")
		problem(t, api.Do("POST", "/api/v1/organisations", `{"name":"X","kind":"spaceship"}`), 422, "kind")
		problem(t, api.Do("POST", "/api/v1/organisations", `{"name":"X","kind":"entity","enterprise_number":"0431150351"}`), 422, "enterprise_number")
		problem(t, api.Do("POST", "/api/v1/organisations", `{"name":"X","kind":"entity","email":"not-an-address"}`), 422, "email")
		big := `{"name":"` + strings.Repeat("x", web.MaxJSONBytes) + `","kind":"entity"}`
		problem(t, api.Do("POST", "/api/v1/organisations", big), 413, "")
		res := api.Raw().Do("POST", "/api/v1/organisations", strings.NewReader(`name=X`), http.Header{
			"Authorization": {"Bearer " + api.Token()}, "Content-Type": {"application/x-www-form-urlencoded"}})
		problem(t, res, 415, "")
		if n := count(); n != n0 {
			t.Fatalf("refused requests wrote organisations: %d -> %d", n0, n)
		}

		ok := api.Do("POST", "/api/v1/organisations", map[string]any{"name": "Port of Antwerp-Bruges Test", "kind": "entity", "enterprise_number": "BE 0403.019.261"})
		if ok.StatusCode != 201 {
			t.Fatalf("create = %d %s", ok.StatusCode, ok.Body)
		}
		var o struct {
			ID               int64  `json:"id"`
			EnterpriseNumber string `json:"enterprise_number"`
		}
		ok.JSON(t, &o)
		if o.EnterpriseNumber != "0403019261" {
			t.Errorf("enterprise_number = %q, want normalised 0403019261", o.EnterpriseNumber)
		}
		problem(t, api.Do("POST", "/api/v1/organisations", map[string]any{"name": "port of antwerp-bruges test", "kind": "entity"}), 409, "name")
		problem(t, api.Do("POST", "/api/v1/organisations", map[string]any{"name": "Other", "kind": "entity", "enterprise_number": "0403019261"}), 409, "enterprise_number")

		// Localised details follow Accept-Language.
		req := api.Raw().Do("POST", "/api/v1/organisations", strings.NewReader(`{"name":"","kind":"entity"}`), http.Header{
			"Authorization": {"Bearer " + api.Token()}, "Content-Type": {"application/json"}, "Accept-Language": {"fr-BE,fr;q=0.9"}})
		p := problem(t, req, 422, "name")
		en := problem(t, api.Do("POST", "/api/v1/organisations", `{"name":"","kind":"entity"}`), 422, "name")
		if p.Errors[0].Detail == en.Errors[0].Detail {
			t.Errorf("French detail %q equals English %q", p.Errors[0].Detail, en.Errors[0].Detail)
		}
	})
}

// TestTokens covers creation (secret once, stored hashed), scopes, expiry
// and revocation.
func TestTokens(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := webtest.New(t, db, false)
		o := e.Org(t, "Token Org", "entity")
		u := e.User(t, o.ID, "tok@org.example", "member")
		api := e.API(t, e.Token(t, u, "read", "write"))

		res := api.Do("POST", "/api/v1/tokens", map[string]any{"name": "ci", "scopes": []string{"read"}, "expires_at": time.Now().Add(48 * time.Hour)})
		if res.StatusCode != 201 {
			t.Fatalf("create token = %d %s", res.StatusCode, res.Body)
		}
		var tok struct {
			ID     int64  `json:"id"`
			Secret string `json:"token"`
		}
		res.JSON(t, &tok)
		if !strings.HasPrefix(tok.Secret, "bfy_") {
			t.Fatalf("token = %q, want bfy_ prefix", tok.Secret)
		}
		var stored string
		db.QueryRow(t.Context(), `SELECT hash FROM api_tokens WHERE id = ?`, tok.ID).Scan(&stored)
		if stored == "" || strings.Contains(stored, tok.Secret) {
			t.Errorf("stored hash %q: want a hash, not the secret", stored)
		}
		if list := api.Do("GET", "/api/v1/tokens", nil); strings.Contains(list.Body, tok.Secret) {
			t.Errorf("token list shows a secret")
		}
		ro := e.API(t, tok.Secret)
		if r := ro.Do("GET", "/api/v1/me", nil); r.StatusCode != 200 || !strings.Contains(r.Body, "tok@org.example") {
			t.Errorf("GET /me with new token = %d %s", r.StatusCode, r.Body)
		}
		problem(t, ro.Do("POST", "/api/v1/tokens", map[string]any{"name": "x", "scopes": []string{"write"}, "expires_at": time.Now().Add(time.Hour)}), 403, "")
		problem(t, api.Do("POST", "/api/v1/tokens", map[string]any{"name": "x", "scopes": []string{"write"}, "expires_at": time.Now().Add(400 * 24 * time.Hour)}), 422, "expires_at")
		problem(t, api.Do("POST", "/api/v1/tokens", map[string]any{"name": "x", "scopes": []string{"admin"}, "expires_at": time.Now().Add(time.Hour)}), 422, "scopes")
		if r := api.Do("DELETE", "/api/v1/tokens/"+itoa(tok.ID), nil); r.StatusCode != 204 {
			t.Fatalf("revoke = %d %s", r.StatusCode, r.Body)
		}
		problem(t, ro.Do("GET", "/api/v1/me", nil), 401, "")

		// An expired token stops working.
		short := e.API(t, e.Token(t, u, "read"))
		e.App.Identity.SetClock(func() time.Time { return time.Now().Add(25 * time.Hour) })
		defer e.App.Identity.SetClock(time.Now)
		problem(t, short.Do("GET", "/api/v1/me", nil), 401, "")
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func identityInput(org int64, name, email string, roles []string) identity.UserInput {
	return identity.UserInput{OrgID: &org, Name: &name, Email: &email, Roles: &roles}
}
