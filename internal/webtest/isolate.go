package webtest

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// Fixture describes organisation A, the victim of the walk.
type Fixture struct {
	// OrgID is organisation A.
	OrgID int64
	// Params returns the path values that name organisation A's objects
	// for a route pattern (e.g. {"id": "7"} for "GET /users/{id}"), or nil
	// when the walk does not know the route — which fails the test, so
	// that every new route gets a fixture.
	Params func(pattern string) map[string]string
	// Markers occur only in organisation A's data (names, e-mail
	// addresses); no response to the intruder may contain them.
	Markers []string
}

var paramRE = regexp.MustCompile(`\{([a-zA-Z_]+)(\.\.\.)?\}`)

// Isolate walks every route registered on the server as the intruder (a
// user of another organisation, through its browser session and its API
// token) against organisation A's objects: routes naming A's objects must
// answer 403 or 404, no response may contain A's markers, and nothing of
// A's may change (no audit record about A appears).
func Isolate(t *testing.T, e *Env, browser *Client, api *API, f Fixture) {
	t.Helper()
	ctx := context.Background()
	before := e.auditCount(t, ctx, f.OrgID)
	for _, r := range e.App.Web.Routes() {
		if r.Pattern == "POST /logout" {
			continue // it would end the intruder's session; it touches nobody else's
		}
		method, pattern, _ := strings.Cut(r.Pattern, " ")
		path := pattern
		hasParams := paramRE.MatchString(pattern)
		if hasParams {
			vals := f.Params(r.Pattern)
			if vals == nil {
				t.Errorf("isolation: route %q has no fixture: add its parameters to the walk", r.Pattern)
				continue
			}
			path = paramRE.ReplaceAllStringFunc(pattern, func(m string) string {
				name := paramRE.FindStringSubmatch(m)[1]
				return url.PathEscape(vals[name])
			})
		}
		path = strings.TrimSuffix(path, "{$}")
		var res *Response
		if r.Document {
			// Fixed paths outside the locale tree: read with the
			// intruder's token here, with its browser session below.
			check(t, f, method, path, hasParams, browser.Do(method, path, nil, http.Header{"Authorization": {"Bearer " + api.Token()}}))
			res = browser.Do(method, path, nil, nil)
		} else if r.API {
			var body any
			if method == http.MethodPost || method == http.MethodPatch || method == http.MethodPut {
				body = "{}"
			}
			res = api.Do(method, path, body)
		} else if method == http.MethodGet {
			res = browser.Get(path)
		} else {
			res = browser.PostForm(path, nil)
		}
		if loc := res.Header.Get("Location"); strings.Contains(loc, "/login") && !r.Public {
			t.Fatalf("isolation: %s %s redirected to %s: the intruder's session was lost, so the walk proves nothing", method, path, loc)
		}
		check(t, f, method, path, hasParams, res)
	}
	if after := e.auditCount(t, ctx, f.OrgID); after != before {
		t.Errorf("isolation: the walk changed organisation %d: audit records %d -> %d", f.OrgID, before, after)
	}
}

// check fails the test when the intruder's response res reached A's
// object or shows one of A's markers.
func check(t *testing.T, f Fixture, method, path string, hasParams bool, res *Response) {
	t.Helper()
	if hasParams && res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusNotFound {
		t.Errorf("isolation: %s %s as another organisation = %d, want 403 or 404", method, path, res.StatusCode)
	}
	for _, m := range f.Markers {
		if strings.Contains(res.Body, m) {
			t.Errorf("isolation: %s %s as another organisation shows %q", method, path, m)
		}
	}
}

func (e *Env) auditCount(t *testing.T, ctx context.Context, org int64) int {
	var n int
	if err := e.App.DB.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE org_id = ?`, org).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
