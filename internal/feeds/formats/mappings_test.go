package formats_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/feeds"
	"github.com/belfry-cert/belfry/internal/feeds/formats"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/web"
)

// tokens is the test's authenticator: a bearer token names a principal.
type tokens map[string]*auth.Principal

func (t tokens) Session(context.Context, string) (*web.Session, error) {
	return nil, errs.E(errs.Unauthenticated, "err.unauthenticated")
}

func (t tokens) Bearer(_ context.Context, tok string) (*auth.Principal, error) {
	if p, ok := t[tok]; ok {
		return p, nil
	}
	return nil, errs.E(errs.Unauthenticated, "err.unauthenticated")
}

var principals = tokens{
	"analyst": {OrgKind: "authority", Email: "analyst@ccb.example", Roles: []auth.Role{auth.RoleAnalyst}, Scopes: []auth.Scope{auth.ScopeWrite}},
	"auditor": {OrgKind: "authority", Email: "auditor@ccb.example", Roles: []auth.Role{auth.RoleAuditor}, Scopes: []auth.Scope{auth.ScopeWrite}},
	"member":  {OrgID: 7, OrgKind: "entity", Email: "member@org.example", Roles: []auth.Role{auth.RoleMember}, Scopes: []auth.Scope{auth.ScopeWrite}},
}

const goodMapping = `{"delimiter": ";", "header": true, "columns": {"ip": "source.ip", "seen": "time.source"},
  "constants": {"protocol.transport": "tcp"}, "classification": {"taxonomy": "vulnerable", "type": "vulnerable-system"}}`

// TestMappingsAPI drives the saved mappings through the real web server
// and database: who may do what, validation by field, the audit log.
func TestMappingsAPI(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		log := slog.New(slog.DiscardHandler)
		srv := web.NewServer(web.Config{CSRFKey: []byte("0123456789abcdef0123456789abcdef")}, log, i18n.MustLoad(), principals, prometheus.NewRegistry(), nil)
		formats.NewMappingService(db, log).Routes(srv)
		h, err := srv.Handler()
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(h)
		defer ts.Close()
		do := func(who, method, path, body string) (int, string) {
			t.Helper()
			req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
			if who != "" {
				req.Header.Set("Authorization", "Bearer "+who)
			}
			if body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(b)
		}
		const path = "/api/v1/feeds/mappings/cert-xy.daily"
		steps := []struct {
			who, method, path, body string
			status                  int
			want                    []string
		}{
			{"", "GET", "/api/v1/feeds/mappings", "", 401, nil},
			{"member", "GET", "/api/v1/feeds/mappings", "", 403, nil},
			{"analyst", "GET", path, "", 404, nil},
			{"auditor", "PUT", path, goodMapping, 403, nil},
			{"member", "PUT", path, goodMapping, 403, nil},
			{"analyst", "PUT", path, goodMapping, 201, []string{`"name":"cert-xy.daily"`, `"source.ip"`}},
			{"analyst", "PUT", path, strings.Replace(goodMapping, `"tcp"`, `"udp"`, 1), 200, []string{`"udp"`}},
			{"auditor", "GET", path, "", 200, []string{`"udp"`}},
			{"analyst", "GET", "/api/v1/feeds/mappings", "", 200, []string{`"items":[{"name":"cert-xy.daily"`}},
			{"analyst", "PUT", "/api/v1/feeds/mappings/Bad%20Name", `{"delimiter": "::", "header": false, "columns": {"ip": "source.where"}, "time_format": "soon"}`, 422,
				[]string{`"field":"name"`, `"field":"delimiter"`, `"field":"columns.ip","code":"feedmapping.column_number"`, `"code":"feedmapping.key_unknown"`, `"field":"time_format"`}},
			{"analyst", "PUT", path, `{"columns": {"ip": "source.ip"}, "surprise": 1}`, 422, []string{`"field":"surprise"`}},
			{"auditor", "DELETE", path, "", 403, nil},
			{"analyst", "DELETE", path, "", 204, nil},
			{"analyst", "DELETE", path, "", 404, nil},
			{"analyst", "GET", "/api/v1/feeds/mappings", "", 200, []string{`"items":[]`}},
		}
		for _, s := range steps {
			st, body := do(s.who, s.method, s.path, s.body)
			if st != s.status {
				t.Fatalf("%s %s as %q = %d, want %d: %s", s.method, s.path, s.who, st, s.status, body)
			}
			for _, w := range s.want {
				if !strings.Contains(body, w) {
					t.Errorf("%s %s as %q: body lacks %s: %s", s.method, s.path, s.who, w, body)
				}
			}
		}
		rows, err := db.Query(t.Context(), `SELECT action, object_id, actor_label FROM audit_log ORDER BY seq`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var a, id, who string
			if err := rows.Scan(&a, &id, &who); err != nil {
				t.Fatal(err)
			}
			got = append(got, a+" "+id+" "+who)
		}
		want := []string{"feed_mapping.create cert-xy.daily analyst@ccb.example", "feed_mapping.update cert-xy.daily analyst@ccb.example",
			"feed_mapping.delete cert-xy.daily analyst@ccb.example"}
		if !slices.Equal(got, want) {
			t.Errorf("audit log = %q, want %q", got, want)
		}
	})
}

// TestMappingUse reads a CSV file through a mapping taken back from the
// store, as intake does.
func TestMappingUse(t *testing.T) {
	db := dbtest.SQLite(t)
	svc := formats.NewMappingService(db, slog.New(slog.DiscardHandler))
	ctx := auth.With(t.Context(), auth.System)
	var m formats.Mapping
	if err := json.Unmarshal([]byte(goodMapping), &m); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Save(ctx, "daily", m); err != nil {
		t.Fatal(err)
	}
	got, err := svc.Mapping(t.Context(), "daily")
	if err != nil {
		t.Fatal(err)
	}
	parse, err := formats.ParseFunc(formats.CSV, formats.Options{Mapping: got}, strings.NewReader("seen;ip\n2026-03-01T00:00:00Z;192.0.2.3\n"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := parse(t.Context(), func(e *feeds.Event) error { n++; return nil }, nil); err != nil || n != 1 {
		t.Errorf("parse = %v with %d events, want 1", err, n)
	}
}
