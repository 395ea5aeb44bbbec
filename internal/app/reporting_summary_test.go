package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/reporting"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// TestReportingSummary: the authority's staff get the quarter's ENISA
// summary as a page, as CSV and JSON downloads through the session and
// through the API; an entity gets 403 everywhere; no name, reference,
// title or summary of an incident appears in any of them.
func TestReportingSummary(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := webtest.New(t, db, false)
		var authorityID int64
		if err := db.QueryRow(t.Context(), `SELECT id FROM organisations WHERE kind = 'authority' ORDER BY id LIMIT 1`).Scan(&authorityID); err != nil {
			t.Fatal(err)
		}
		analyst := e.User(t, authorityID, "ana-summary@authority.example", "analyst")
		grid := e.Org(t, "Summary Grid Operator", "entity")
		gridAdmin := e.User(t, grid.ID, "admin@summary-grid.example", "org_admin")
		now := time.Now()
		if _, err := db.Exec(t.Context(), `INSERT INTO registrations (org_id, status, data, class, sectors, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			grid.ID, "approved", "{}", "essential", " energy ", now, now); err != nil {
			t.Fatal(err)
		}
		asGrid := auth.With(t.Context(), &auth.Principal{UserID: gridAdmin.ID, OrgID: grid.ID, OrgKind: "entity", Roles: []auth.Role{auth.RoleOrgAdmin}})
		secret := []string{"Summary Grid Operator", "admin@summary-grid.example"}
		for _, title := range []string{"Summary turbine breach", "Summary meter leak", "Summary control outage"} {
			in, err := e.App.Reports.CreateIncident(asGrid, reporting.IncidentInput{Title: title, AwareAt: now.Add(-time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			rec, err := e.App.Reports.Submit(asGrid, in.ID, reporting.EarlyWarning, reporting.Content{IncidentStatus: "ongoing",
				Summary: "Confidential summary of " + title, SuspectedMalicious: "yes", CrossBorder: "no"}, reporting.SubmitOptions{})
			if err != nil {
				t.Fatal(err)
			}
			secret = append(secret, title, "Confidential summary of "+title, in.Ref, rec.Ref)
		}
		q := "?quarter=" + reporting.QuarterLabel(now)

		browser := e.Login(t, analyst.Email, webtest.Password(analyst.Email))
		api := e.API(t, e.Token(t, analyst, "read"))
		page := browser.Get("/reporting/summary" + q)
		if page.StatusCode != 200 {
			t.Fatalf("GET /reporting/summary = %d %s", page.StatusCode, page.Body)
		}
		for _, want := range []string{"<caption", `href="/en/reporting/summary.csv` + q + `"`, `href="/en/reporting/summary.json` + q + `"`, `name="quarter"`} {
			if !strings.Contains(page.Body, want) {
				t.Errorf("summary page lacks %s", want)
			}
		}
		csvPage := browser.Get("/reporting/summary.csv" + q)
		jsonPage := browser.Get("/reporting/summary.json" + q)
		csvAPI := api.Do("GET", "/api/v1/reporting/summary"+q+"&format=csv", nil)
		jsonAPI := api.Do("GET", "/api/v1/reporting/summary"+q, nil)
		for _, res := range []*webtest.Response{csvPage, csvAPI} {
			if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
				!strings.Contains(res.Body, reporting.QuarterLabel(now)+",sector,energy,3\n") || !strings.Contains(res.Body, ",class,essential,3\n") {
				t.Errorf("CSV = %d %s:\n%s", res.StatusCode, res.Header.Get("Content-Type"), res.Body)
			}
		}
		for _, res := range []*webtest.Response{jsonPage, jsonAPI} {
			var s reporting.Summary
			res.JSON(t, &s)
			if res.StatusCode != 200 || s.Total.Count == nil || *s.Total.Count != 3 || s.Dimension("sector") == nil {
				t.Errorf("JSON = %d %s", res.StatusCode, res.Body)
			}
		}
		if res := api.Do("GET", "/api/v1/reporting/summary?quarter=2026-Q9", nil); res.StatusCode != 422 {
			t.Errorf("bad quarter = %d", res.StatusCode)
		}
		if res := api.Do("GET", "/api/v1/reporting/summary"+q+"&format=xml", nil); res.StatusCode != 422 {
			t.Errorf("bad format = %d", res.StatusCode)
		}
		if res := browser.Get("/reporting/summary?quarter=nonsense"); res.StatusCode != 422 || !strings.Contains(res.Body, "error-summary") {
			t.Errorf("bad quarter page = %d", res.StatusCode)
		}
		for _, res := range []*webtest.Response{page, csvPage, jsonPage, csvAPI, jsonAPI} {
			for _, x := range secret {
				if strings.Contains(res.Body, x) {
					t.Errorf("the summary shows %q", x)
				}
			}
		}

		entity := e.Login(t, gridAdmin.Email, webtest.Password(gridAdmin.Email))
		entityAPI := e.API(t, e.Token(t, gridAdmin, "read"))
		for _, res := range []*webtest.Response{entity.Get("/reporting/summary" + q), entity.Get("/reporting/summary.csv" + q),
			entity.Get("/reporting/summary.json" + q), entityAPI.Do("GET", "/api/v1/reporting/summary"+q, nil),
			entityAPI.Do("GET", "/api/v1/reporting/summary"+q+"&format=csv", nil)} {
			if res.StatusCode != 403 {
				t.Errorf("entity = %d", res.StatusCode)
			}
		}
	})
}
