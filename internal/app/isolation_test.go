package app_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/advisory"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/cases"
	"github.com/belfry-cert/belfry/internal/crisis"
	"github.com/belfry-cert/belfry/internal/csaf/csaftest"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/earlywarning"
	"github.com/belfry-cert/belfry/internal/registry"
	"github.com/belfry-cert/belfry/internal/reporting"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/voluntary"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// TestTenantIsolation walks every route as an administrator of organisation
// B against organisation A's objects, on both databases.
func TestTenantIsolation(t *testing.T) {
	csaftest.Use(t)
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := webtest.New(t, db, false)
		if _, err := e.App.Advisories.GenerateKey(webtest.System(), "Belfry test", "csaf@ccb.example"); err != nil {
			t.Fatal(err)
		}
		a := e.Org(t, "Victim Water Works", "entity")
		aAdmin := e.User(t, a.ID, "victim.admin@victim.example", "org_admin")
		aMember := e.User(t, a.ID, "victim.member@victim.example", "member")
		aToken := e.Token(t, aMember, "read")
		_ = aToken
		b := e.Org(t, "Intruder Logistics", "entity")
		bAdmin := e.User(t, b.ID, "intruder@intruder.example", "org_admin")

		// The token of A's member, as a row id the intruder might guess.
		var aTokenID int64
		if err := db.QueryRow(t.Context(), `SELECT id FROM api_tokens WHERE user_id = ?`, aMember.ID).Scan(&aTokenID); err != nil {
			t.Fatal(err)
		}
		// A's registration, with a contact and a network claim only A has.
		asA := auth.With(t.Context(), &auth.Principal{UserID: aAdmin.ID, OrgID: a.ID, OrgKind: "entity", Roles: []auth.Role{auth.RoleOrgAdmin}})
		if _, err := e.App.Registry.Update(asA, a.ID, func(p *registry.Profile) error {
			p.Address = registry.Address{Street: "Victimstraat 1", Postcode: "1000", City: "Victimville", Country: "BE"}
			p.Contacts = []registry.Contact{{Role: registry.RoleIncident24x7, Name: "Victim SOC", Email: "victim-soc@victim.example", Phone: "+32 2 000 00 01"}}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		aClaims, err := e.App.Registry.AddClaims(asA, a.ID, []registry.ClaimInput{{Value: "victim-network.example"}})
		if err != nil {
			t.Fatal(err)
		}
		aClaim := strconv.FormatInt(aClaims[0].ID, 10)
		// A's incident, with a submitted early warning and a draft.
		aInc, err := e.App.Reports.CreateIncident(asA, reporting.IncidentInput{Title: "Victim ransomware outbreak", AwareAt: time.Now().Add(-time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		// A's attachment, sealed into the early warning below.
		aAtt, err := e.App.Reports.AddAttachment(asA, aInc.ID, reporting.Upload{Stage: reporting.EarlyWarning,
			Name: "victim-evidence-7f3a.txt", Data: []byte("Victim-only attachment text\n")})
		if err != nil {
			t.Fatal(err)
		}
		aRec, err := e.App.Reports.Submit(asA, aInc.ID, reporting.EarlyWarning, reporting.Content{IncidentStatus: "ongoing",
			Summary: "Victim-only summary text", SuspectedMalicious: "yes", CrossBorder: "no"}, reporting.SubmitOptions{IdempotencyKey: "victim-key"})
		if err != nil {
			t.Fatal(err)
		}
		// The authority's internal note on A's incident, which no
		// organisation ever sees.
		var authorityID int64
		if err := db.QueryRow(t.Context(), `SELECT id FROM organisations WHERE kind = 'authority' ORDER BY id LIMIT 1`).Scan(&authorityID); err != nil {
			t.Fatal(err)
		}
		analyst := e.User(t, authorityID, "victim-analyst@authority.example", "analyst")
		asAnalyst := auth.With(t.Context(), &auth.Principal{UserID: analyst.ID, OrgID: authorityID, OrgKind: "authority", Roles: []auth.Role{auth.RoleAnalyst}})
		if _, err := e.App.Reports.AddNote(asAnalyst, aInc.ID, "Victim internal triage note"); err != nil {
			t.Fatal(err)
		}
		// A share of A's incident (exported for another Member State's
		// SPOC) and a sector authority: the authority's staff see them, no
		// organisation does.
		aShare, _, err := e.App.Reports.ShareIncident(asAnalyst, aInc.ID, reporting.ShareRequest{Recipient: reporting.RecipientSPOC, Country: "FR"})
		if err != nil {
			t.Fatal(err)
		}
		secName, secEmail, secSectors := "Victim Sector Regulator", "regulator@sector.example", []string{"drinking_water"}
		secAuth, err := e.App.Reports.SaveSectorAuthority(webtest.System(), 0, reporting.SectorAuthorityInput{Name: &secName, Email: &secEmail, Sectors: &secSectors})
		if err != nil {
			t.Fatal(err)
		}
		// A voluntary notification (Art. 30), which only the authority's
		// staff see.
		volToken, err := e.App.Voluntary.SubmitToken(t.Context(), voluntary.Content{ReporterKind: voluntary.ReporterCitizen,
			Email: "victim-reporter@mail.example", Subject: "incident", Description: "Victim voluntary phishing wave", Impact: "none", Consent: true})
		if err != nil {
			t.Fatal(err)
		}
		volRec, err := e.App.Voluntary.Confirm(t.Context(), volToken)
		if err != nil {
			t.Fatal(err)
		}
		var volID int64
		if err := db.QueryRow(t.Context(), `SELECT id FROM voluntary_notifications WHERE ref = ?`, volRec.Ref).Scan(&volID); err != nil {
			t.Fatal(err)
		}
		// A's early warning: settings, an inhibition and a ticket of one event.
		if _, err := e.App.EarlyWarning.UpdateSettings(asA, a.ID, earlywarning.SettingsInput{Enabled: true, Channel: "portal", Interval: "immediate",
			Recipients: []string{"victim-ew@victim.example"}}); err != nil {
			t.Fatal(err)
		}
		aInh, err := e.App.EarlyWarning.AddInhibition(asA, a.ID, earlywarning.InhibitionInput{Prefix: "192.0.2.66", Reason: "Victim EW honeypot reason",
			ExpiresAt: time.Now().Add(24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		var feedRun int64
		if err := db.QueryRow(t.Context(), `INSERT INTO feed_runs (source, name, status, started_at) VALUES ('file', 'victim.csv', 'done', ?) RETURNING id`,
			time.Now()).Scan(&feedRun); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(t.Context(), `INSERT INTO feed_events (run_id, org_id, feed, src_ip, src_fqdn, notify, fields, created_at)
			VALUES (?, ?, 'scan_http', '192.0.2.77', 'victim-ew-host.example', ?, '{}', ?)`, feedRun, a.ID, true, time.Now()); err != nil {
			t.Fatal(err)
		}
		if n, err := e.App.EarlyWarning.Dispatch(t.Context()); n != 1 || err != nil {
			t.Fatalf("early warning Dispatch = %d, %v", n, err)
		}
		aTickets, _, err := e.App.EarlyWarning.Tickets(asA, earlywarning.TicketFilter{})
		if err != nil || len(aTickets) != 1 {
			t.Fatalf("A's early warning tickets = %v, %v", aTickets, err)
		}
		// A's feed event, in a run only the authority's staff see (issue 5).
		aFeedRun := strconv.FormatInt(feedRunFor(t, db, a.ID), 10)
		// The authority's saved CSV column mapping, with a marker in it.
		if _, err := db.Exec(t.Context(), `INSERT INTO feed_mappings (name, mapping, created_at, updated_at) VALUES ('victim-mapping', ?, ?, ?)`,
			`{"delimiter": ",", "header": true, "columns": {"Victim mapping column": "source.ip"}}`, time.Now().UTC(), time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
		// An AMBER advisory for A only, and a draft only the authority's
		// staff see (issue 7).
		reviewer := e.User(t, authorityID, "victim-reviewer@authority.example", "analyst")
		aAdv := publishAdvisory(t, e.App.Advisories, principalOf(analyst), principalOf(reviewer), "Victim AMBER advisory title", "AMBER",
			"Victimvendor", []int64{a.ID}, nil)
		if _, err := e.App.Advisories.Create(asAnalyst, advisory.NewInput{Title: "Victim draft advisory", Lang: "en", TLP: "WHITE"}); err != nil {
			t.Fatal(err)
		}
		aAdvVersion, err := e.App.Advisories.VersionContent(asAnalyst, aAdv.TrackingID, 0)
		if err != nil {
			t.Fatal(err)
		}
		// A case affecting A, with a message to A, an observable and a
		// note; a crisis A takes part in, with a decision, a draft sitrep
		// and a call-out (issue 6).
		aOrgs := []int64{a.ID}
		caseTitle := "Victim case title"
		aCase, err := e.App.Cases.Create(asAnalyst, cases.Input{Title: &caseTitle, Template: "ransomware", Orgs: &aOrgs})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.App.Cases.SendMessage(asAnalyst, aCase.ID, cases.MessageInput{OrgID: a.ID, TLP: "AMBER", Body: "Victim case message text"}); err != nil {
			t.Fatal(err)
		}
		aObs, err := e.App.Cases.AddObservable(asAnalyst, aCase.ID, cases.ObservableInput{Type: "domain", Value: "victim-observable.example", TLP: "AMBER"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.App.Cases.AddNote(asAnalyst, aCase.ID, "Victim case note", ""); err != nil {
			t.Fatal(err)
		}
		aAtt2, err := e.App.Cases.AddAttachment(asAnalyst, aCase.ID, "victim-case-file-5c1e.txt", []byte("Victim case file text\n"), "")
		if err != nil {
			t.Fatal(err)
		}
		aTasks, err := e.App.Cases.Tasks(asAnalyst, aCase.ID)
		if err != nil || len(aTasks) == 0 {
			t.Fatalf("victim case tasks: %v", err)
		}
		crisisMgr := e.User(t, authorityID, "victim-crisis@authority.example", "crisis_manager")
		asCrisis := auth.With(t.Context(), principalOf(crisisMgr))
		aCrisis, err := e.App.Crises.Declare(asCrisis, crisis.DeclareInput{Title: "Victim crisis title", Level: "national_impact", TLP: "AMBER"})
		if err != nil {
			t.Fatal(err)
		}
		aPart, err := e.App.Crises.AddParticipant(asCrisis, aCrisis.ID, crisis.ParticipantInput{OrgID: a.ID, Party: "affected_organisation", Access: "contribute"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.App.Crises.AddDecision(asCrisis, aCrisis.ID, crisis.DecisionInput{DecidedBy: "Crisis cell", Decision: "Victim crisis decision", Basis: "Victim basis"}); err != nil {
			t.Fatal(err)
		}
		situation := "Victim sitrep situation"
		aSitrep, err := e.App.Crises.CreateSitrep(asCrisis, aCrisis.ID, crisis.SitrepInput{Situation: &situation})
		if err != nil {
			t.Fatal(err)
		}
		aCallout, err := e.App.Crises.SendCallout(asCrisis, aCrisis.ID, crisis.CalloutInput{Subject: "Victim call-out", Message: "Victim call-out text", TLP: "AMBER",
			Participants: []int64{aPart.ID}})
		if err != nil {
			t.Fatal(err)
		}
		browser := e.Login(t, bAdmin.Email, webtest.Password(bAdmin.Email))
		api := e.API(t, e.Token(t, bAdmin, "read", "write"))
		webtest.Isolate(t, e, browser, api, webtest.Fixture{
			OrgID: a.ID,
			Params: func(pattern string) map[string]string {
				aID := strconv.FormatInt(a.ID, 10)
				switch {
				case strings.Contains(pattern, "/crises/{id}"):
					return map[string]string{"id": strconv.FormatInt(aCrisis.ID, 10), "pid": strconv.FormatInt(aPart.ID, 10), "entry": "1", "action": "1",
						"sitrep": strconv.FormatInt(aSitrep.ID, 10), "callout": strconv.FormatInt(aCallout.ID, 10)}
				case strings.Contains(pattern, "/cases/{id}"), strings.Contains(pattern, "/our-cases/{id}"):
					return map[string]string{"id": strconv.FormatInt(aCase.ID, 10), "obs": strconv.FormatInt(aObs.ID, 10),
						"task": strconv.FormatInt(aTasks[0].ID, 10), "ref": aCase.Ref, "att": strconv.FormatInt(aAtt2.ID, 10)}
				case strings.Contains(pattern, "/cases/by-ref/{ref}"):
					return map[string]string{"ref": aCase.Ref}
				case strings.Contains(pattern, "/advisories/manage/{id}"), strings.Contains(pattern, "/api/v1/advisories/{id}"):
					return map[string]string{"id": strconv.FormatInt(aAdv.ID, 10), "n": "1"}
				case strings.Contains(pattern, "by-tracking-id/{tid}"):
					return map[string]string{"tid": aAdv.TrackingID, "n": "1"}
				case strings.Contains(pattern, "/advisories/{tid}"):
					return map[string]string{"tid": aAdv.TrackingID, "rest": "versions/1.json"}
				case strings.Contains(pattern, "/.well-known/csaf/openpgp/{file}"):
					return map[string]string{"file": "0000000000000000000000000000000000000000.asc"}
				case strings.Contains(pattern, "/.well-known/csaf/{tlp}/{rest...}"):
					return map[string]string{"tlp": "amber", "rest": strconv.Itoa(aAdvVersion.Year) + "/" + aAdvVersion.FileName}
				case strings.Contains(pattern, "/early-warning/tickets/{id}"):
					return map[string]string{"id": strconv.FormatInt(aTickets[0].ID, 10)}
				case strings.Contains(pattern, "/early-warning/inhibitions/{id}"):
					return map[string]string{"id": strconv.FormatInt(aInh.ID, 10)}
				case strings.Contains(pattern, "/attachments"):
					// Upload, list, download and delete: A's sealed attachment.
					return map[string]string{"id": strconv.FormatInt(aInc.ID, 10), "stage": "early_warning", "att": strconv.FormatInt(aAtt.ID, 10)}
				case strings.Contains(pattern, "/networks/{claim}"):
					return map[string]string{"id": aID, "claim": aClaim}
				case strings.Contains(pattern, "/contacts/{n}"):
					return map[string]string{"id": aID, "n": "0"}
				case strings.Contains(pattern, "/registrations/{id}"):
					return map[string]string{"id": aID}
				case strings.Contains(pattern, "/claims/{id}"):
					return map[string]string{"id": aClaim}
				case strings.Contains(pattern, "/shares/{share}"):
					return map[string]string{"id": strconv.FormatInt(aInc.ID, 10), "share": strconv.FormatInt(aShare.ID, 10)}
				case strings.Contains(pattern, "/sector-authorities/{id}"):
					return map[string]string{"id": strconv.FormatInt(secAuth.ID, 10)}
				case strings.Contains(pattern, "/incidents/{id}/{stage}/{page}"):
					// The portal's check-answers pages and receipts share one
					// pattern; the receipt shows the most.
					return map[string]string{"id": strconv.FormatInt(aInc.ID, 10), "stage": "receipts", "page": aRec.Ref}
				case strings.Contains(pattern, "/incidents/{id}/triage"), strings.Contains(pattern, "/incidents/{id}/assign"),
					strings.Contains(pattern, "/incidents/{id}/feedback"), strings.Contains(pattern, "/incidents/{id}/notes"),
					strings.Contains(pattern, "/incidents/{id}/requests"), strings.Contains(pattern, "/incidents/{id}/messages"):
					// The authority's inbox, requests and messages: the victim's incident.
					return map[string]string{"id": strconv.FormatInt(aInc.ID, 10)}
				case strings.Contains(pattern, "/incidents/{id}"):
					return map[string]string{"id": strconv.FormatInt(aInc.ID, 10), "stage": "early_warning"}
				case strings.Contains(pattern, "/receipts/{ref}"):
					return map[string]string{"ref": aRec.Ref}
				case strings.Contains(pattern, "voluntary"):
					return map[string]string{"id": strconv.FormatInt(volID, 10)}
				case strings.Contains(pattern, "/feeds/mappings/{name}"):
					// Column mappings are the authority's: no organisation reads or writes one.
					return map[string]string{"name": "victim-mapping"}
				case strings.Contains(pattern, "/feeds/runs/{id}"):
					return map[string]string{"id": aFeedRun}
				case strings.Contains(pattern, "/tokens/{id}"):
					return map[string]string{"id": strconv.FormatInt(aTokenID, 10)}
				case strings.Contains(pattern, "/users/{id}"):
					return map[string]string{"id": strconv.FormatInt(aAdmin.ID, 10)}
				case strings.Contains(pattern, "/organisations/{id}"):
					return map[string]string{"id": strconv.FormatInt(a.ID, 10)}
				}
				return nil
			},
			Markers: []string{aShare.SHA256, "regulator@sector.example", "Victim Water Works", "victim.admin@victim.example", "victim.member@victim.example",
				"victim-soc@victim.example", "Victimville", "victim-network.example", "Victim ransomware outbreak", "Victim-only summary text", aRec.SHA256,
				"Victim internal triage note", "Victim voluntary phishing wave", "victim-reporter@mail.example", volRec.SHA256, aAtt.Name, aAtt.SHA256, "Victim-only attachment text",
				"victim-ew@victim.example", "Victim EW honeypot reason", "victim-ew-host.example", aTickets[0].Ref, feedMarker, "Victim mapping column",
				"Victim AMBER advisory title", "Victimvendor", "Victim draft advisory", aAdvVersion.SHA256,
				caseTitle, "Victim case message text", "victim-case-file-5c1e.txt", "Victim case file text", aAtt2.SHA256, "victim-observable.example", "Victim case note",
				"Victim crisis title", "Victim crisis decision", "Victim basis", "Victim sitrep situation", "Victim call-out"},
		})
	})
}
