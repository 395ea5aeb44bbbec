package app_test

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/reporting"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// TestReportingInbox: the authority's analyst sees every incident in the
// inbox, overdue first, filters it, assigns an incident, records the
// CSIRT's initial feedback (its clock then shows submitted) and writes
// internal notes, which the entity never sees; the entity gets 403 or 404
// on everything of the inbox.
func TestReportingInbox(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := webtest.New(t, db, false)
		var authorityID int64
		if err := db.QueryRow(t.Context(), `SELECT id FROM organisations WHERE kind = 'authority' ORDER BY id LIMIT 1`).Scan(&authorityID); err != nil {
			t.Fatal(err)
		}
		analyst := e.User(t, authorityID, "ana-inbox@authority.example", "analyst")
		grid := e.Org(t, "Inbox Grid", "entity")
		gridAdmin := e.User(t, grid.ID, "admin@inbox-grid.example", "org_admin")
		water := e.Org(t, "Inbox Water", "entity")
		waterAdmin := e.User(t, water.ID, "admin@inbox-water.example", "org_admin")
		now := time.Now()
		for org, reg := range map[int64][2]string{grid.ID: {"essential", " energy "}, water.ID: {"important", " drinking_water "}} {
			if _, err := db.Exec(t.Context(), `INSERT INTO registrations (org_id, status, data, class, sectors, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				org, "approved", "{}", reg[0], reg[1], now, now); err != nil {
				t.Fatal(err)
			}
		}
		asGrid := auth.With(t.Context(), &auth.Principal{UserID: gridAdmin.ID, OrgID: grid.ID, OrgKind: "entity", Roles: []auth.Role{auth.RoleOrgAdmin}})
		asWater := auth.With(t.Context(), &auth.Principal{UserID: waterAdmin.ID, OrgID: water.ID, OrgKind: "entity", Roles: []auth.Role{auth.RoleOrgAdmin}})
		// Water's incident is fresh, with an early warning; Grid's has no
		// early warning 30 hours after awareness: overdue.
		fresh, err := e.App.Reports.CreateIncident(asWater, reporting.IncidentInput{Title: "Fresh pump fault", AwareAt: now.Add(-time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.App.Reports.Submit(asWater, fresh.ID, reporting.EarlyWarning, reporting.Content{IncidentStatus: "ongoing",
			Summary: "Pump controller fault", SuspectedMalicious: "no", CrossBorder: "yes"}, reporting.SubmitOptions{}); err != nil {
			t.Fatal(err)
		}
		late, err := e.App.Reports.CreateIncident(asGrid, reporting.IncidentInput{Title: "Late substation outage", AwareAt: now.Add(-30 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}

		browser := e.Login(t, analyst.Email, webtest.Password(analyst.Email))
		api := e.API(t, e.Token(t, analyst, "read", "write"))
		res := browser.Get("/inbox")
		if res.StatusCode != 200 {
			t.Fatalf("GET /inbox = %d", res.StatusCode)
		}
		i, j := strings.Index(res.Body, late.Ref), strings.Index(res.Body, fresh.Ref)
		if i < 0 || j < 0 || i > j {
			t.Errorf("inbox: overdue %s at %d, fresh %s at %d", late.Ref, i, fresh.Ref, j)
		}
		for _, want := range []string{`aria-sort="ascending"`, "<caption", `href="/en/incidents/` + strconv.FormatInt(late.ID, 10) + `/triage"`, `href="/en/inbox"`} {
			if !strings.Contains(res.Body, want) {
				t.Errorf("inbox lacks %s", want)
			}
		}
		// Filters are a GET form; chosen ones are removable.
		res = browser.Get("/inbox?cross_border=yes&sector=drinking_water")
		if !strings.Contains(res.Body, fresh.Ref) || strings.Contains(res.Body, late.Ref) || !strings.Contains(res.Body, `href="/en/inbox?sector=drinking_water"`) {
			t.Errorf("cross-border filter:\n%s", res.Body)
		}
		res = browser.Get("/inbox?overdue=yes&class=essential")
		if !strings.Contains(res.Body, late.Ref) || strings.Contains(res.Body, fresh.Ref) {
			t.Errorf("overdue filter")
		}
		var page struct {
			Items []reporting.InboxItem `json:"items"`
			Total int                   `json:"total"`
		}
		api.Do("GET", "/api/v1/inbox", nil).JSON(t, &page)
		if page.Total != 2 || page.Items[0].ID != late.ID || !page.Items[0].Overdue || page.Items[1].Feedback.Status != "pending" {
			t.Errorf("API inbox = %+v", page)
		}

		// Assignment, through the page and the API.
		triage := fmt.Sprintf("/incidents/%d/triage", fresh.ID)
		if res := browser.Get(triage); res.StatusCode != 200 || !strings.Contains(res.Body, fresh.Ref) {
			t.Fatalf("GET triage = %d", res.StatusCode)
		}
		res = browser.PostForm(triage, url.Values{"action": {"assign"}, "user_id": {strconv.FormatInt(analyst.ID, 10)}})
		if res.StatusCode != 303 {
			t.Fatalf("assign = %d %s", res.StatusCode, res.Body)
		}
		if res := browser.Get("/inbox?assigned=me"); !strings.Contains(res.Body, fresh.Ref) || strings.Contains(res.Body, late.Ref) {
			t.Errorf("assigned to me")
		}
		if res := api.Do("POST", fmt.Sprintf("/api/v1/incidents/%d/assign", late.ID), map[string]any{"user_id": gridAdmin.ID}); res.StatusCode != 422 {
			t.Errorf("assign to an entity user = %d", res.StatusCode)
		}
		if res := api.Do("POST", fmt.Sprintf("/api/v1/incidents/%d/assign", late.ID), map[string]any{"user_id": analyst.ID}); res.StatusCode != 200 {
			t.Errorf("API assign = %d %s", res.StatusCode, res.Body)
		}

		// The CSIRT's feedback turns its clock to submitted.
		if res := browser.PostForm(triage, url.Values{"action": {"feedback"}}); res.StatusCode != 303 {
			t.Fatalf("feedback = %d %s", res.StatusCode, res.Body)
		}
		if res := api.Do("POST", fmt.Sprintf("/api/v1/incidents/%d/feedback", fresh.ID), nil); res.StatusCode != 409 {
			t.Errorf("second feedback = %d", res.StatusCode)
		}
		api.Do("GET", "/api/v1/inbox?cross_border=yes", nil).JSON(t, &page)
		if len(page.Items) != 1 || page.Items[0].Feedback.Status != "submitted_on_time" || page.Items[0].FeedbackAt == nil ||
			page.Items[0].Assignee == nil || page.Items[0].Assignee.ID != analyst.ID {
			t.Errorf("after feedback: %+v", page.Items)
		}

		// Internal notes, never shown to the entity.
		if res := browser.PostForm(triage, url.Values{"action": {"note"}, "body": {"Portal internal note"}}); res.StatusCode != 303 {
			t.Fatalf("note = %d %s", res.StatusCode, res.Body)
		}
		if res := browser.PostForm(triage, url.Values{"action": {"note"}, "body": {" "}}); res.StatusCode != 422 {
			t.Errorf("empty note = %d", res.StatusCode)
		}
		notes := fmt.Sprintf("/api/v1/incidents/%d/notes", fresh.ID)
		if res := api.Do("POST", notes, map[string]any{"body": "API internal note"}); res.StatusCode != 201 {
			t.Fatalf("API note = %d %s", res.StatusCode, res.Body)
		}
		var ns struct{ Items []reporting.Note }
		api.Do("GET", notes, nil).JSON(t, &ns)
		if len(ns.Items) != 2 || ns.Items[0].Body != "API internal note" {
			t.Errorf("notes = %+v", ns.Items)
		}
		if res := browser.Get(triage); !strings.Contains(res.Body, "Portal internal note") || !strings.Contains(res.Body, "API internal note") {
			t.Errorf("triage page lacks the notes")
		}

		entity := e.Login(t, waterAdmin.Email, webtest.Password(waterAdmin.Email))
		entityAPI := e.API(t, e.Token(t, waterAdmin, "read", "write"))
		for _, res := range []*webtest.Response{entity.Get(fmt.Sprintf("/incidents/%d", fresh.ID)), entityAPI.Do("GET", fmt.Sprintf("/api/v1/incidents/%d", fresh.ID), nil)} {
			if res.StatusCode != 200 || strings.Contains(res.Body, "internal note") {
				t.Errorf("the entity's incident = %d, shows a note: %v", res.StatusCode, strings.Contains(res.Body, "internal note"))
			}
		}
		for name, res := range map[string]*webtest.Response{
			"GET /inbox":   entity.Get("/inbox"),
			"GET triage":   entity.Get(triage),
			"POST triage":  entity.PostForm(triage, url.Values{"action": {"note"}, "body": {"x"}}),
			"API inbox":    entityAPI.Do("GET", "/api/v1/inbox", nil),
			"API notes":    entityAPI.Do("GET", notes, nil),
			"API add note": entityAPI.Do("POST", notes, map[string]any{"body": "x"}),
			"API assign":   entityAPI.Do("POST", fmt.Sprintf("/api/v1/incidents/%d/assign", fresh.ID), map[string]any{"user_id": waterAdmin.ID}),
			"API feedback": entityAPI.Do("POST", fmt.Sprintf("/api/v1/incidents/%d/feedback", fresh.ID), nil),
		} {
			if res.StatusCode != 403 && res.StatusCode != 404 {
				t.Errorf("entity %s = %d", name, res.StatusCode)
			}
			if strings.Contains(res.Body, "internal note") {
				t.Errorf("entity %s shows a note", name)
			}
		}
		if strings.Contains(entity.Get("/").Body, `href="/en/inbox"`) {
			t.Error("the entity's navigation links the inbox")
		}
	})
}
