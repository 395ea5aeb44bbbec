package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/notify"
	"github.com/belfry-cert/belfry/internal/reporting"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// TestReportingShare: the authority's administrator keeps the sector
// authorities; an analyst sets the cross-border flag, previews the
// document, forwards it to the suggested sector authority (a mail with
// the TLP in its subject, recorded and audited) and exports it for a
// SPOC; TLP:RED to a mailbox and a TLP below the entity's are refused;
// the entity gets 403 everywhere.
func TestReportingShare(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := webtest.New(t, db, false)
		ctx := t.Context()
		var authorityID int64
		if err := db.QueryRow(ctx, `SELECT id FROM organisations WHERE kind = 'authority' ORDER BY id LIMIT 1`).Scan(&authorityID); err != nil {
			t.Fatal(err)
		}
		analyst := e.User(t, authorityID, "ana-share@authority.example", "analyst")
		grid := e.Org(t, "Share Grid", "entity")
		gridAdmin := e.User(t, grid.ID, "admin@share-grid.example", "org_admin")
		now := time.Now().UTC()
		if _, err := db.Exec(ctx, `INSERT INTO registrations (org_id, status, data, class, sectors, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			grid.ID, "approved", "{}", "essential", " energy ", now, now); err != nil {
			t.Fatal(err)
		}
		asGrid := auth.With(context.Background(), &auth.Principal{UserID: gridAdmin.ID, OrgID: grid.ID, OrgKind: "entity", Roles: []auth.Role{auth.RoleOrgAdmin}})
		in, err := e.App.Reports.CreateIncident(asGrid, reporting.IncidentInput{Title: "Shared substation outage", AwareAt: now.Add(-2 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.App.Reports.Submit(asGrid, in.ID, reporting.EarlyWarning, reporting.Content{TLP: "amber", IncidentStatus: "ongoing",
			Summary: "Substation outage in two countries", SuspectedMalicious: "yes", CrossBorder: "yes", AffectedCountries: []string{"FR"},
			Notifier: &reporting.Person{Name: "Nora Notifier", Email: "nora@share-grid.example"}}, reporting.SubmitOptions{}); err != nil {
			t.Fatal(err)
		}
		page := fmt.Sprintf("/incidents/%d/share", in.ID)

		// The administrator adds sector authorities on the page and by the API.
		adminUser := e.User(t, authorityID, "adm-share@authority.example", "admin")
		admin := e.Login(t, adminUser.Email, webtest.Password(adminUser.Email))
		if res := admin.PostForm("/sector-authorities", url.Values{"name": {"Energy Regulator"}, "email": {"cert@energy-regulator.example"},
			"sectors": {"energy"}, "active": {"yes"}}); res.StatusCode != 303 {
			t.Fatalf("add sector authority = %d %s", res.StatusCode, res.Body)
		}
		if res := admin.PostForm("/sector-authorities", url.Values{"name": {"No Sector"}, "email": {"x@y.example"}}); res.StatusCode != 422 {
			t.Errorf("sector authority without sectors = %d", res.StatusCode)
		}
		adminAPI := e.API(t, e.Token(t, adminUser, "read", "write"))
		var health reporting.SectorAuthority
		res := adminAPI.Do("POST", "/api/v1/sector-authorities", map[string]any{"name": "Health Inspectorate", "email": "cert@health.example", "sectors": []string{"health"}})
		if res.StatusCode != 201 {
			t.Fatalf("API add = %d %s", res.StatusCode, res.Body)
		}
		res.JSON(t, &health)
		if res := adminAPI.Do("PATCH", fmt.Sprintf("/api/v1/sector-authorities/%d", health.ID), map[string]any{"active": false}); res.StatusCode != 200 || !strings.Contains(res.Body, `"active":false`) {
			t.Errorf("API deactivate = %d %s", res.StatusCode, res.Body)
		}
		var list struct{ Items []reporting.SectorAuthority }
		adminAPI.Do("GET", "/api/v1/sector-authorities", nil).JSON(t, &list)
		if len(list.Items) != 2 || list.Items[0].Name != "Energy Regulator" {
			t.Fatalf("sector authorities = %+v", list.Items)
		}
		energy := list.Items[0]

		ana := e.Login(t, analyst.Email, webtest.Password(analyst.Email))
		anaAPI := e.API(t, e.Token(t, analyst, "read", "write"))
		if res := anaAPI.Do("POST", "/api/v1/sector-authorities", map[string]any{"name": "X", "email": "x@x.example", "sectors": []string{"energy"}}); res.StatusCode != 403 {
			t.Errorf("an analyst adds a sector authority = %d", res.StatusCode)
		}
		if res := ana.Get(fmt.Sprintf("/incidents/%d/triage", in.ID)); !strings.Contains(res.Body, `href="/en`+page+`"`) {
			t.Errorf("the triage page does not link %s", page)
		}

		// The cross-border flag, on the page and by the API.
		if res := ana.PostForm(page, url.Values{"action": {"cross_border"}, "cross_border": {"yes"}, "affected_countries": {""}}); res.StatusCode != 422 {
			t.Errorf("cross-border without countries = %d", res.StatusCode)
		}
		if res := ana.PostForm(page, url.Values{"action": {"cross_border"}, "cross_border": {"yes"}, "affected_countries": {"fr, nl"}}); res.StatusCode != 303 {
			t.Fatalf("cross-border = %d %s", res.StatusCode, res.Body)
		}
		var cb reporting.CrossBorderAssessment
		anaAPI.Do("GET", fmt.Sprintf("/api/v1/incidents/%d/cross-border", in.ID), nil).JSON(t, &cb)
		if !cb.CrossBorder || strings.Join(cb.Countries, " ") != "FR NL" {
			t.Errorf("assessment = %+v", cb)
		}
		// The triage page and the inbox show the assessment.
		assessed := e.App.Catalog.T("en", "inbox.col.assessed_cross_border", nil) + "</dt><dd>" + e.App.Catalog.T("en", "repui.yes", nil)
		if res := ana.Get(fmt.Sprintf("/incidents/%d/triage", in.ID)); !strings.Contains(res.Body, assessed) {
			t.Errorf("the triage page does not show the assessment %q", assessed)
		}
		var inbox struct {
			Items []reporting.InboxItem `json:"items"`
		}
		anaAPI.Do("GET", "/api/v1/inbox?cross_border=yes", nil).JSON(t, &inbox)
		if len(inbox.Items) != 1 || inbox.Items[0].ID != in.ID || inbox.Items[0].AssessedCrossBorder == nil || !*inbox.Items[0].AssessedCrossBorder {
			t.Errorf("cross-border inbox = %+v", inbox.Items)
		}

		// The page suggests the energy regulator and previews the document.
		res = ana.Get(page)
		if res.StatusCode != 200 || !strings.Contains(res.Body, fmt.Sprintf(`<option value="%d" selected>Energy Regulator`, energy.ID)) {
			t.Errorf("share page = %d, energy regulator not suggested", res.StatusCode)
		}
		preview := fmt.Sprintf("%s?recipient=sector_authority&sector_authority_id=%d&tlp=amber", page, energy.ID)
		res = ana.Get(preview)
		if res.StatusCode != 200 || !strings.Contains(res.Body, "TLP:AMBER") || !strings.Contains(res.Body, in.Ref) || strings.Contains(res.Body, "Nora") {
			t.Errorf("preview = %d", res.StatusCode)
		}
		if res := ana.Get(page + "?recipient=enisa&tlp=red"); res.StatusCode != 422 || !strings.Contains(res.Body, "TLP:RED is for named people only") {
			t.Errorf("preview at TLP:RED to ENISA = %d", res.StatusCode)
		}

		// Forwarding mails the document with the TLP in the subject.
		if res := ana.PostForm(page, url.Values{"action": {"share"}, "recipient": {"sector_authority"}, "sector_authority_id": {fmt.Sprint(energy.ID)},
			"tlp": {"amber"}}); res.StatusCode != 303 {
			t.Fatalf("forward = %d %s", res.StatusCode, res.Body)
		}
		q := `SELECT args::text FROM river_job WHERE kind = 'mail' ORDER BY id`
		if db.Dialect() == store.SQLite {
			q = `SELECT json(args) FROM river_job WHERE kind = 'mail' ORDER BY id` // River stores JSONB there
		}
		rows, err := db.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var mail *notify.Message
		for rows.Next() {
			var raw string
			var job struct{ Message notify.Message }
			if err := rows.Scan(&raw); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(raw), &job); err != nil {
				t.Fatal(err)
			}
			if slices.Contains(job.Message.To, "cert@energy-regulator.example") {
				mail = &job.Message
			}
		}
		rows.Close()
		if mail == nil {
			t.Fatal("no mail to the sector authority")
		}
		if !strings.HasPrefix(mail.Subject, "[TLP:AMBER] ") || !strings.HasPrefix(mail.Text, "TLP:AMBER\n") || len(mail.Attachments) != 1 ||
			mail.Attachments[0].ContentType != "application/json" || !strings.Contains(string(mail.Attachments[0].Data), in.Ref) {
			t.Errorf("mail to the sector authority: subject %q, text %.30q, attachments %d", mail.Subject, mail.Text, len(mail.Attachments))
		}

		// The API: export for ENISA, TLP refusals, a SPOC export recorded.
		export := fmt.Sprintf("/api/v1/incidents/%d/share-export", in.ID)
		res = anaAPI.Do("GET", export+"?recipient=enisa", nil)
		if res.StatusCode != 200 || !strings.HasPrefix(res.Body, "{\n  \"tlp\": \"TLP:AMBER\"") || strings.Contains(res.Body, "Share Grid") ||
			!strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
			t.Errorf("ENISA export = %d %.200s", res.StatusCode, res.Body)
		}
		problem(t, anaAPI.Do("GET", export+"?recipient=enisa&tlp=red", nil), 422, "tlp")
		problem(t, anaAPI.Do("GET", export+"?recipient=spoc&country=DE&tlp=green", nil), 422, "tlp")
		problem(t, anaAPI.Do("POST", fmt.Sprintf("/api/v1/incidents/%d/shares", in.ID), map[string]any{"recipient": "sector_authority",
			"sector_authority_id": energy.ID, "tlp": "red"}), 422, "tlp")
		res = anaAPI.Do("POST", fmt.Sprintf("/api/v1/incidents/%d/shares", in.ID), map[string]any{"recipient": "spoc", "country": "FR", "identity": true})
		if res.StatusCode != 201 || !strings.Contains(res.Body, `"method":"exported"`) || !strings.Contains(res.Body, `"name":"Share Grid"`) {
			t.Fatalf("SPOC share = %d %s", res.StatusCode, res.Body)
		}
		var shares struct{ Items []reporting.Share }
		anaAPI.Do("GET", fmt.Sprintf("/api/v1/incidents/%d/shares", in.ID), nil).JSON(t, &shares)
		if len(shares.Items) != 2 || shares.Items[1].Method != "mailed" || shares.Items[1].TLP != "amber" || shares.Items[0].Country != "FR" {
			t.Fatalf("shares = %+v", shares.Items)
		}
		doc := ana.Get(fmt.Sprintf("/incidents/%d/shares/%d", in.ID, shares.Items[1].ID))
		sum := sha256.Sum256([]byte(doc.Body))
		if doc.StatusCode != 200 || hex.EncodeToString(sum[:]) != shares.Items[1].SHA256 {
			t.Errorf("the recorded document (%d) does not hash to the share's SHA-256", doc.StatusCode)
		}
		var audited int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'incident.share' AND org_id = ?`, grid.ID).Scan(&audited); err != nil || audited != 2 {
			t.Errorf("audited shares = %d, %v", audited, err)
		}
		if res := ana.Get(page); !strings.Contains(res.Body, shares.Items[1].SHA256) {
			t.Errorf("the share page does not list the share")
		}

		// The entity sees none of it.
		entity := e.Login(t, gridAdmin.Email, webtest.Password(gridAdmin.Email))
		entityAPI := e.API(t, e.Token(t, gridAdmin, "read", "write"))
		for name, res := range map[string]*webtest.Response{
			"page":                 entity.Get(page),
			"forward":              entity.PostForm(page, url.Values{"action": {"share"}, "recipient": {"enisa"}}),
			"document":             entity.Get(fmt.Sprintf("/incidents/%d/shares/%d", in.ID, shares.Items[1].ID)),
			"sector page":          entity.Get("/sector-authorities"),
			"API export":           entityAPI.Do("GET", export+"?recipient=enisa", nil),
			"API shares":           entityAPI.Do("GET", fmt.Sprintf("/api/v1/incidents/%d/shares", in.ID), nil),
			"API share":            entityAPI.Do("POST", fmt.Sprintf("/api/v1/incidents/%d/shares", in.ID), map[string]any{"recipient": "enisa"}),
			"API cross-border":     entityAPI.Do("PUT", fmt.Sprintf("/api/v1/incidents/%d/cross-border", in.ID), map[string]any{"cross_border": false}),
			"API sector list":      entityAPI.Do("GET", "/api/v1/sector-authorities", nil),
			"API sector authority": entityAPI.Do("PATCH", fmt.Sprintf("/api/v1/sector-authorities/%d", energy.ID), map[string]any{"active": false}),
		} {
			if res.StatusCode != 403 {
				t.Errorf("the entity's %s = %d, want 403", name, res.StatusCode)
			}
			if strings.Contains(res.Body, "energy-regulator.example") || strings.Contains(res.Body, shares.Items[1].SHA256) {
				t.Errorf("the entity's %s shows sharing data", name)
			}
		}
	})
}
