package app_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/reporting"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// TestReportingRequests: an analyst requests an intermediate report with a
// deadline; the entity sees the request and the deadline on its incident,
// files the report (the clock is met), and both sides exchange messages;
// another organisation gets 404 on all of it.
func TestReportingRequests(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := webtest.New(t, db, false)
		var authorityID int64
		if err := db.QueryRow(t.Context(), `SELECT id FROM organisations WHERE kind = 'authority' ORDER BY id LIMIT 1`).Scan(&authorityID); err != nil {
			t.Fatal(err)
		}
		analyst := e.User(t, authorityID, "ana-requests@authority.example", "analyst")
		grid := e.Org(t, "Request Grid", "entity")
		gridAdmin := e.User(t, grid.ID, "admin@request-grid.example", "org_admin")
		other := e.Org(t, "Request Other", "entity")
		otherAdmin := e.User(t, other.ID, "admin@request-other.example", "org_admin")
		asGrid := auth.With(t.Context(), &auth.Principal{UserID: gridAdmin.ID, OrgID: grid.ID, OrgKind: "entity", Roles: []auth.Role{auth.RoleOrgAdmin}})
		in, err := e.App.Reports.CreateIncident(asGrid, reporting.IncidentInput{Title: "Requested substation outage", AwareAt: time.Now().Add(-2 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.App.Reports.Submit(asGrid, in.ID, reporting.EarlyWarning, reporting.Content{IncidentStatus: "ongoing",
			Summary: "Substation outage", SuspectedMalicious: "yes", CrossBorder: "no"}, reporting.SubmitOptions{}); err != nil {
			t.Fatal(err)
		}
		page := fmt.Sprintf("/incidents/%d/messages", in.ID)
		requests := fmt.Sprintf("/api/v1/incidents/%d/requests", in.ID)
		messages := fmt.Sprintf("/api/v1/incidents/%d/messages", in.ID)

		// The analyst requests an intermediate report within 48 hours, on
		// the page; the API refuses a deadline in the past.
		ana := e.Login(t, analyst.Email, webtest.Password(analyst.Email))
		anaAPI := e.API(t, e.Token(t, analyst, "read", "write"))
		if res := ana.Get(fmt.Sprintf("/incidents/%d/triage", in.ID)); !strings.Contains(res.Body, `href="/en`+page+`"`) {
			t.Errorf("the triage page does not link %s", page)
		}
		if res := ana.PostForm(page, url.Values{"action": {"request"}, "kind": {"intermediate_report"}, "request_body": {""}, "hours": {"48"}}); res.StatusCode != 422 {
			t.Errorf("request without text = %d", res.StatusCode)
		}
		if res := anaAPI.Do("POST", requests, map[string]any{"kind": "information", "body": "x", "deadline": time.Now().Add(-time.Hour)}); res.StatusCode != 422 {
			t.Errorf("request due in the past = %d", res.StatusCode)
		}
		if res := ana.PostForm(page, url.Values{"action": {"request"}, "kind": {"intermediate_report"}, "request_body": {"Report on the restoration."},
			"hours": {"48"}}); res.StatusCode != 303 {
			t.Fatalf("request = %d %s", res.StatusCode, res.Body)
		}
		var reqs struct{ Items []reporting.Request }
		anaAPI.Do("GET", requests, nil).JSON(t, &reqs)
		if len(reqs.Items) != 1 || !reqs.Items[0].Open() || reqs.Items[0].Kind != "intermediate_report" {
			t.Fatalf("requests = %+v", reqs.Items)
		}
		deadline := reqs.Items[0].Deadline
		if d := time.Until(deadline); d < 47*time.Hour || d > 48*time.Hour {
			t.Errorf("deadline %s, want in 48 hours", deadline)
		}

		// The entity sees the request and its deadline.
		entity := e.Login(t, gridAdmin.Email, webtest.Password(gridAdmin.Email))
		entityAPI := e.API(t, e.Token(t, gridAdmin, "read", "write"))
		var got reporting.Incident
		entityAPI.Do("GET", fmt.Sprintf("/api/v1/incidents/%d", in.ID), nil).JSON(t, &got)
		if d, _ := got.Deadlines.Stage(reporting.IntermediateReport); d.Status != "pending" || !d.Due.Equal(deadline) {
			t.Errorf("the entity's intermediate report clock = %+v, want due %s", d, deadline)
		}
		if res := entity.Get(fmt.Sprintf("/incidents/%d", in.ID)); !strings.Contains(res.Body, `href="/en`+page+`"`) {
			t.Errorf("the incident page does not link %s", page)
		}
		res := entity.Get(page)
		if res.StatusCode != 200 || !strings.Contains(res.Body, "Report on the restoration.") || strings.Contains(res.Body, `name="request_body"`) {
			t.Errorf("the entity's messages page = %d (request form shown: %v)", res.StatusCode, strings.Contains(res.Body, `name="request_body"`))
		}
		if res := entityAPI.Do("POST", requests, map[string]any{"kind": "information", "body": "x", "deadline": time.Now().Add(time.Hour)}); res.StatusCode != 403 {
			t.Errorf("the entity requests = %d", res.StatusCode)
		}

		// The entity files it: the clock is met and the request answered.
		if res := entityAPI.Do("POST", fmt.Sprintf("/api/v1/incidents/%d/reports/intermediate_report", in.ID),
			map[string]any{"incident_status": "ongoing", "update": "Restored 80%"}); res.StatusCode != 201 {
			t.Fatalf("intermediate report = %d %s", res.StatusCode, res.Body)
		}
		entityAPI.Do("GET", fmt.Sprintf("/api/v1/incidents/%d", in.ID), nil).JSON(t, &got)
		if d, _ := got.Deadlines.Stage(reporting.IntermediateReport); d.Status != "submitted_on_time" || !d.Due.Equal(deadline) {
			t.Errorf("after filing: %+v", d)
		}
		entityAPI.Do("GET", requests, nil).JSON(t, &reqs)
		if len(reqs.Items) != 1 || reqs.Items[0].Open() {
			t.Errorf("request after filing = %+v", reqs.Items)
		}

		// Messages both ways, by the page and the API.
		if res := ana.PostForm(page, url.Values{"action": {"message"}, "body": {"Analyst question about the root cause"}}); res.StatusCode != 303 {
			t.Fatalf("analyst message = %d %s", res.StatusCode, res.Body)
		}
		if res := entityAPI.Do("POST", messages, map[string]any{"body": "Entity answer: still analysing"}); res.StatusCode != 201 {
			t.Fatalf("entity message = %d %s", res.StatusCode, res.Body)
		}
		if res := entity.PostForm(page, url.Values{"action": {"message"}, "body": {" "}}); res.StatusCode != 422 {
			t.Errorf("empty message = %d", res.StatusCode)
		}
		var ms struct{ Items []reporting.Message }
		anaAPI.Do("GET", messages, nil).JSON(t, &ms)
		if len(ms.Items) != 2 || !ms.Items[0].FromAuthority || ms.Items[1].FromAuthority {
			t.Errorf("messages = %+v", ms.Items)
		}
		for _, c := range []*webtest.Client{ana, entity} {
			if res := c.Get(page); !strings.Contains(res.Body, "Analyst question about the root cause") || !strings.Contains(res.Body, "Entity answer: still analysing") {
				t.Errorf("a messages page lacks a message")
			}
		}

		// Another organisation learns nothing.
		outsider := e.Login(t, otherAdmin.Email, webtest.Password(otherAdmin.Email))
		outsiderAPI := e.API(t, e.Token(t, otherAdmin, "read", "write"))
		for name, res := range map[string]*webtest.Response{
			"GET page":     outsider.Get(page),
			"POST page":    outsider.PostForm(page, url.Values{"action": {"message"}, "body": {"x"}}),
			"API requests": outsiderAPI.Do("GET", requests, nil),
			"API messages": outsiderAPI.Do("GET", messages, nil),
			"API message":  outsiderAPI.Do("POST", messages, map[string]any{"body": "x"}),
			"API request":  outsiderAPI.Do("POST", requests, map[string]any{"kind": "information", "body": "x", "deadline": time.Now().Add(time.Hour)}),
		} {
			if res.StatusCode != 404 && !(name == "API request" && res.StatusCode == 403) {
				t.Errorf("another organisation's %s = %d", name, res.StatusCode)
			}
			if strings.Contains(res.Body, "Entity answer") || strings.Contains(res.Body, "restoration") {
				t.Errorf("another organisation's %s shows the incident", name)
			}
		}
	})
}
