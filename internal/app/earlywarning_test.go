package app_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/earlywarning"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// TestEarlyWarningPortalAndAPI drives an organisation's early warning page
// and API: settings, inhibitions, a ticket with its CSV download.
func TestEarlyWarningPortalAndAPI(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := webtest.New(t, db, false)
		a := e.Org(t, "Early Warning Water", "entity")
		admin := e.User(t, a.ID, "ew-admin@water.example", "org_admin")
		member := e.User(t, a.ID, "ew-member@water.example", "member")
		b := e.Org(t, "Early Warning Other", "entity")
		other := e.User(t, b.ID, "ew-other@other.example", "org_admin")
		page := fmt.Sprintf("/organisations/%d/early-warning", a.ID)

		c := e.Login(t, admin.Email, webtest.Password(admin.Email))
		if res := c.Get("/early-warning"); res.StatusCode != 303 || !strings.HasSuffix(res.Header.Get("Location"), page) {
			t.Errorf("GET /early-warning = %d to %q, want a redirect to %s", res.StatusCode, res.Header.Get("Location"), page)
		}
		res := c.Get(page)
		if res.StatusCode != 200 || !strings.Contains(res.Body, `name="min_severity"`) || !strings.Contains(res.Body, "Early warning") {
			t.Fatalf("GET %s = %d %.300s", page, res.StatusCode, res.Body)
		}
		res = c.PostForm(page+"/settings", url.Values{"enabled": {"yes"}, "channel": {"webhook"}, "interval": {"hourly"}, "min_severity": {"low"},
			"webhook_url": {"http://insecure.example"}})
		if res.StatusCode != 422 || !strings.Contains(res.Body, "error-summary") || !strings.Contains(res.Body, "https://") {
			t.Errorf("POST invalid settings = %d, want 422 with the errors", res.StatusCode)
		}
		res = c.PostForm(page+"/settings", url.Values{"enabled": {"yes"}, "channel": {"portal"}, "interval": {"immediate"}, "min_severity": {"low"},
			"report_types": {"scan_http\nevent4_sinkhole"}})
		if res.StatusCode != 303 {
			t.Fatalf("POST settings = %d %.300s", res.StatusCode, res.Body)
		}
		res = c.PostForm(page+"/inhibitions", url.Values{"prefix": {"192.0.2.0/28"}, "reason": {"Lab network under test"},
			"expires_at": {time.Now().AddDate(0, 0, 10).Format(time.DateOnly)}})
		if res.StatusCode != 303 {
			t.Fatalf("POST inhibition = %d %.300s", res.StatusCode, res.Body)
		}
		if res := c.Get(page); !strings.Contains(res.Body, "Lab network under test") || !strings.Contains(res.Body, "192.0.2.0/28") {
			t.Errorf("the page does not list the inhibition")
		}

		api := e.API(t, e.Token(t, member, "read"))
		var st earlywarning.Settings
		r := api.Do("GET", fmt.Sprintf("/api/v1/organisations/%d/early-warning/settings", a.ID), nil)
		r.JSON(t, &st)
		if r.StatusCode != 200 || st.Channel != "portal" || st.MinSeverity != "low" || len(st.ReportTypes) != 2 {
			t.Errorf("GET settings = %d %+v", r.StatusCode, st)
		}
		if r := api.Do("PUT", fmt.Sprintf("/api/v1/organisations/%d/early-warning/settings", a.ID), map[string]any{"channel": "email", "interval": "daily"}); r.StatusCode != 403 {
			t.Errorf("PUT settings with a read token = %d, want 403", r.StatusCode)
		}
		adminAPI := e.API(t, e.Token(t, admin, "read", "write"))
		if r := adminAPI.Do("PUT", fmt.Sprintf("/api/v1/organisations/%d/early-warning/settings", a.ID),
			map[string]any{"enabled": true, "channel": "portal", "interval": "immediate", "min_severity": "fatal"}); r.StatusCode != 422 {
			t.Errorf("PUT invalid settings = %d, want 422", r.StatusCode)
		}
		r = adminAPI.Do("POST", fmt.Sprintf("/api/v1/organisations/%d/early-warning/inhibitions", a.ID),
			map[string]any{"report_type": "scan_ftp", "reason": "Not ours", "expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
		var inh earlywarning.Inhibition
		r.JSON(t, &inh)
		if r.StatusCode != 201 || !inh.Active {
			t.Fatalf("POST inhibition = %d %s", r.StatusCode, r.Body)
		}
		if r := adminAPI.Do("DELETE", fmt.Sprintf("/api/v1/early-warning/inhibitions/%d", inh.ID), nil); r.StatusCode != 204 {
			t.Errorf("DELETE inhibition = %d %s", r.StatusCode, r.Body)
		}

		// Events: one inhibited by the lab prefix, one sent.
		var run int64
		if err := db.QueryRow(t.Context(), `INSERT INTO feed_runs (source, name, status, started_at) VALUES ('file', 'x.csv', 'done', ?) RETURNING id`,
			time.Now()).Scan(&run); err != nil {
			t.Fatal(err)
		}
		for _, ip := range []string{"192.0.2.5", "192.0.2.200"} {
			if _, err := db.Exec(t.Context(), `INSERT INTO feed_events (run_id, org_id, feed, severity, src_ip, src_port, notify, fields, created_at)
				VALUES (?, ?, 'scan_http', 'medium', ?, 443, ?, '{"protocol.transport":"tcp"}', ?)`, run, a.ID, ip, true, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := e.App.EarlyWarning.Dispatch(t.Context()); n != 1 || err != nil {
			t.Fatalf("Dispatch = %d, %v", n, err)
		}
		var list struct {
			Items []earlywarning.Ticket `json:"items"`
			Total int                   `json:"total"`
		}
		api.Do("GET", "/api/v1/early-warning/tickets", nil).JSON(t, &list)
		if list.Total != 1 || list.Items[0].Events != 1 {
			t.Fatalf("GET tickets = %+v", list)
		}
		tk := list.Items[0]
		res = c.Get(fmt.Sprintf("/early-warning/tickets/%d", tk.ID))
		if res.StatusCode != 200 || !strings.Contains(res.Body, tk.Ref) || !strings.Contains(res.Body, "192.0.2.200:443") || strings.Contains(res.Body, "192.0.2.5:") {
			t.Errorf("ticket page = %d, want the sent event only", res.StatusCode)
		}
		csv := c.Get(fmt.Sprintf("/early-warning/tickets/%d/events.csv", tk.ID))
		sum := sha256.Sum256([]byte(csv.Body))
		if csv.StatusCode != 200 || hex.EncodeToString(sum[:]) != tk.SHA256 || !strings.Contains(csv.Body, "192.0.2.200") {
			t.Errorf("CSV download = %d, SHA-256 %x, want the ticket's %s", csv.StatusCode, sum, tk.SHA256)
		}
		if r := api.Do("GET", fmt.Sprintf("/api/v1/early-warning/tickets/%d/events.csv", tk.ID), nil); r.Body != csv.Body {
			t.Errorf("API CSV differs from the portal's")
		}

		// Another organisation sees none of it; the authority sees all.
		otherAPI := e.API(t, e.Token(t, other, "read"))
		for _, p := range []string{fmt.Sprintf("/api/v1/early-warning/tickets/%d", tk.ID), fmt.Sprintf("/api/v1/organisations/%d/early-warning/settings", a.ID)} {
			if r := otherAPI.Do("GET", p, nil); r.StatusCode != 404 {
				t.Errorf("GET %s as another organisation = %d, want 404", p, r.StatusCode)
			}
		}
		if r := otherAPI.Do("GET", fmt.Sprintf("/api/v1/early-warning/tickets?org=%d", a.ID), nil); strings.Contains(r.Body, tk.Ref) {
			t.Errorf("another organisation lists A's tickets: %s", r.Body)
		}
		ac := e.Login(t, e.AdminEmail, e.AdminPassword)
		if res := ac.Get("/early-warning"); res.StatusCode != 200 || !strings.Contains(res.Body, tk.Ref) || !strings.Contains(res.Body, "Early Warning Water") {
			t.Errorf("authority's early warning page = %d, want A's ticket", res.StatusCode)
		}
	})
}
