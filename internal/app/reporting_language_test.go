package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/reporting"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// TestReportingLanguageSwitch changes language in the middle of the
// reporting forms, without JavaScript: the switcher of a form page submits
// the form, so nothing typed is lost. Opening an incident, the form comes
// back in the language chosen with the answers; on a stage form, the
// answers become the draft and the form comes back in the new language,
// figures written that language's way. Answers that cannot be read stay
// on the page with their errors rather than being dropped.
func TestReportingLanguageSwitch(t *testing.T) {
	e := webtest.New(t, dbtest.SQLite(t), false)
	cat := e.App.Catalog
	org := e.Org(t, "Polyglot Water", "entity")
	member := e.User(t, org.ID, "soc@polyglot.example", "member")
	c := e.Login(t, member.Email, webtest.Password(member.Email))
	c.Lang = "nl"

	// The switcher of a form page is a set of buttons of that form.
	res := c.Get("/incidents/new")
	checkPage(t, res, 200, "new incident form", `id="new-incident"`,
		`<button type="submit" form="new-incident" name="switch_lang" value="fr" formnovalidate`, cat.T("nl", "layout.language_keeps", nil))
	if strings.Contains(res.Body, `form="new-incident" name="switch_lang" value="nl"`) {
		t.Error("the current language is offered as a switch")
	}
	// Pages without a form keep links.
	checkPage(t, c.Get("/incidents"), 200, "list", `href="/fr/incidents"`)

	title := "Lekkage van klantgegevens"
	res = c.PostForm("/incidents/new", url.Values{"title": {title}, "aware_when": {"time"}, "aware_at-day": {"3"},
		"aware_at-month": {"11"}, "aware_at-year": {"2026"}, "aware_at-hour": {"9"}, "aware_at-minute": {"05"}, "switch_lang": {"fr"}})
	checkPage(t, res, 200, "new incident in French", `<html lang="fr">`, cat.T("fr", "repui.new.title", nil), `value="`+title+`"`,
		`name="aware_at-month" type="text" inputmode="numeric" autocomplete="off" spellcheck="false" value="11"`,
		`action="/fr/incidents/new"`)
	var n int
	if err := e.App.DB.QueryRow(t.Context(), `SELECT count(*) FROM incidents WHERE org_id = ?`, org.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("a language switch opened %d incidents", n)
	}

	// A stage form: the early warning is filed, the notification is typed
	// in Dutch and the switch goes to English.
	as := auth.With(t.Context(), &auth.Principal{UserID: member.ID, OrgID: org.ID, OrgKind: "entity", Roles: []auth.Role{auth.RoleMember}})
	inc, err := e.App.Reports.CreateIncident(as, reporting.IncidentInput{Title: title, AwareAt: time.Now().Add(-3 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Reports.Submit(as, inc.ID, reporting.EarlyWarning, reporting.Content{Notifier: &reporting.Person{Name: "Soc", Email: member.Email},
		IncidentStatus: "ongoing", Summary: "Gegevens gelekt", SuspectedMalicious: "yes", CrossBorder: "no"}, reporting.SubmitOptions{}); err != nil {
		t.Fatal(err)
	}
	page := fmt.Sprintf("/incidents/%d/incident_notification", inc.ID)
	checkPage(t, c.Get(page), 200, "notification form", `id="stage-form"`, `form="stage-form" name="switch_lang" value="en"`)
	form := url.Values{"notifier_name": {"Soc"}, "notifier_email": {member.Email}, "incident_status": {"ongoing"},
		"suspected_malicious": {"yes"}, "cross_border": {"no"}, "summary": {"Klantgegevens gelekt via een lek in de webwinkel"},
		"impact_assessment": {"Twaalfhonderd klanten"}, "quantities_users_affected": {"1.200"}, "quantities_direct_loss_eur": {"25.000,50"},
		"tlp": {"amber"}}

	// Unreadable figures: the answers stay on the Dutch page with the error.
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("quantities_systems_affected", "veel")
	bad.Set("switch_lang", "en")
	checkPage(t, c.PostForm(page, bad), 422, "switch with a bad figure", `<html lang="nl">`, `value="veel"`,
		"Klantgegevens gelekt via een lek in de webwinkel</textarea>", `href="#quantities_systems_affected"`)

	form.Set("switch_lang", "en")
	res = c.PostForm(page, form)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/en"+page {
		t.Fatalf("switch to English = %d to %q, want 303 to /en%s", res.StatusCode, res.Header.Get("Location"), page)
	}
	c.Lang = "en"
	checkPage(t, c.Get(page), 200, "notification in English", `<html lang="en">`, cat.T("en", "repui.flash.language_kept", nil),
		"Klantgegevens gelekt via een lek in de webwinkel</textarea>", `name="quantities_users_affected" type="text" value="1200"`, `value="25,000.5"`, "Twaalfhonderd klanten")
	got, err := e.App.Reports.Incident(as, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var draft *reporting.Draft
	for i := range got.Drafts {
		if got.Drafts[i].Stage == reporting.IncidentNotification {
			draft = &got.Drafts[i]
		}
	}
	if draft == nil {
		t.Fatal("the switch saved no draft")
	}
	q := draft.Content.Quantities
	if q.UsersAffected == nil || *q.UsersAffected != 1200 || q.DirectLossEUR == nil || *q.DirectLossEUR != 25000.5 {
		t.Errorf("draft quantities %+v, want 1200 users and 25000.50 euro (read the Dutch way)", q)
	}
	if len(got.Submissions) != 1 {
		t.Errorf("%d submissions after a language switch, want only the early warning", len(got.Submissions))
	}
}
