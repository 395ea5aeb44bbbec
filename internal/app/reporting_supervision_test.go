package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/reporting"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// TestReportingSupervision: of three incidents known 30 hours ago, 30
// hours ago and an hour ago, the first has filed nothing (its early
// warning is overdue), the second filed its early warning 6 hours late,
// the third owes nothing yet. A supervisor sees them on the page, in the
// nav, in the downloads and in the API; the entity gets 403 and no nav
// item.
func TestReportingSupervision(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := webtest.New(t, db, false)
		ctx := t.Context()
		var authorityID int64
		if err := db.QueryRow(ctx, `SELECT id FROM organisations WHERE kind = 'authority' ORDER BY id LIMIT 1`).Scan(&authorityID); err != nil {
			t.Fatal(err)
		}
		supervisor := e.User(t, authorityID, "sup-obligations@authority.example", "supervisor")
		port := e.Org(t, "Obligation Port", "entity")
		portAdmin := e.User(t, port.ID, "admin@obligation-port.example", "org_admin")
		asPort := auth.With(context.Background(), &auth.Principal{UserID: portAdmin.ID, OrgID: port.ID, OrgKind: "entity", Roles: []auth.Role{auth.RoleOrgAdmin}})
		open := func(title string, aware time.Duration) *reporting.Incident {
			in, err := e.App.Reports.CreateIncident(asPort, reporting.IncidentInput{Title: title, AwareAt: time.Now().Add(-aware)})
			if err != nil {
				t.Fatal(err)
			}
			return in
		}
		overdue := open("Crane control outage", 30*time.Hour)
		late := open("Late phishing wave", 30*time.Hour)
		if _, err := e.App.Reports.Submit(asPort, late.ID, reporting.EarlyWarning, reporting.Content{IncidentStatus: "ongoing",
			Summary: "Phishing", SuspectedMalicious: "yes", CrossBorder: "no"}, reporting.SubmitOptions{}); err != nil {
			t.Fatal(err)
		}
		fresh := open("Fresh scan", time.Hour)

		sup := e.Login(t, supervisor.Email, webtest.Password(supervisor.Email))
		res := sup.Get("/supervision/obligations")
		if res.StatusCode != 200 || !strings.Contains(res.Body, overdue.Ref) || !strings.Contains(res.Body, late.Ref) || strings.Contains(res.Body, fresh.Ref) {
			t.Errorf("obligations page = %d", res.StatusCode)
		}
		if !strings.Contains(res.Body, `href="/en/supervision/obligations"`) {
			t.Errorf("the supervisor's nav lacks the obligations")
		}
		if i, j := strings.Index(res.Body, overdue.Ref), strings.Index(res.Body, late.Ref); i > j {
			t.Errorf("the overdue early warning is not listed first")
		}
		if res := sup.Get("/supervision/obligations?status=late"); strings.Contains(res.Body, overdue.Ref) || !strings.Contains(res.Body, late.Ref) {
			t.Errorf("the late filter shows the overdue incident, or not the late one")
		}
		if res := sup.Get("/supervision/obligations?from=yesterday"); res.StatusCode != 422 {
			t.Errorf("a bad day = %d", res.StatusCode)
		}
		csv := sup.Get("/supervision/obligations.csv?status=overdue")
		if csv.StatusCode != 200 || !strings.HasPrefix(csv.Header.Get("Content-Type"), "text/csv") ||
			!strings.HasPrefix(csv.Body, "organisation,enterprise_number,") || !strings.Contains(csv.Body, overdue.Ref+",early_warning,overdue,") ||
			strings.Contains(csv.Body, late.Ref) {
			t.Errorf("CSV download = %d %q", csv.StatusCode, csv.Body)
		}
		if res := sup.Get("/supervision/obligations.json"); res.StatusCode != 200 || !strings.Contains(res.Body, `"status":"late"`) {
			t.Errorf("JSON download = %d", res.StatusCode)
		}

		api := e.API(t, e.Token(t, supervisor, "read"))
		var page struct {
			Items []reporting.Obligation
			Total int
		}
		api.Do("GET", "/api/v1/supervision/obligations", nil).JSON(t, &page)
		if page.Total != 2 || len(page.Items) != 2 || page.Items[0].IncidentRef != overdue.Ref || page.Items[0].Status != "overdue" ||
			page.Items[1].IncidentRef != late.Ref || page.Items[1].SubmittedAt == nil || page.Items[1].LateBy < 6*3600-120 || page.Items[1].OrgName != "Obligation Port" {
			t.Errorf("API obligations = %+v", page)
		}
		if res := api.Do("GET", "/api/v1/supervision/obligations?format=csv&status=late", nil); res.StatusCode != 200 || !strings.Contains(res.Body, late.Ref) || strings.Contains(res.Body, overdue.Ref) {
			t.Errorf("API CSV = %d %s", res.StatusCode, res.Body)
		}
		problem(t, api.Do("GET", "/api/v1/supervision/obligations?status=soon", nil), 422, "status")

		// The entity: 403, and no nav item.
		entity := e.Login(t, portAdmin.Email, webtest.Password(portAdmin.Email))
		if res := entity.Get("/supervision/obligations"); res.StatusCode != 403 || strings.Contains(res.Body, overdue.Ref) {
			t.Errorf("the entity's page = %d", res.StatusCode)
		}
		if res := entity.Get("/supervision/obligations.csv"); res.StatusCode != 403 {
			t.Errorf("the entity's download = %d", res.StatusCode)
		}
		if res := entity.Get("/incidents"); strings.Contains(res.Body, "/supervision/obligations") {
			t.Errorf("the entity's nav links the obligations")
		}
		if res := e.API(t, e.Token(t, portAdmin, "read")).Do("GET", "/api/v1/supervision/obligations", nil); res.StatusCode != 403 {
			t.Errorf("the entity's API = %d", res.StatusCode)
		}
	})
}
