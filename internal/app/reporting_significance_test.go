package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/registry"
	"github.com/belfry-cert/belfry/internal/reporting"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// TestReportingSignificanceGuidance follows the significance guidance of
// a stage form, without JavaScript: the form saves its draft and opens the
// guidance, which asks the facts of the criteria of the entity's registered
// type (a cloud provider: Art. 7 of Implementing Regulation (EU) 2024/2690),
// pre-filled from the registration and the reports; a bad figure is
// named; the decision lists the criteria with their reasons; recording it
// puts the criteria met in the draft, which the form and check answers
// show. The authority's analyst may consult it but not record; another
// organisation gets 404.
func TestReportingSignificanceGuidance(t *testing.T) {
	e := webtest.New(t, dbtest.SQLite(t), false)
	cat := e.App.Catalog
	T := func(key string, args map[string]any) string { return cat.T("en", key, args) }
	org := e.Org(t, "Nimbus Cloud", "entity")
	admin := e.User(t, org.ID, "admin@nimbus.example", "org_admin")
	as := auth.With(t.Context(), &auth.Principal{UserID: admin.ID, OrgID: org.ID, OrgKind: "entity", Roles: []auth.Role{auth.RoleOrgAdmin}})
	turnover := 40_000_000.0
	if _, err := e.App.Registry.Update(as, org.ID, func(p *registry.Profile) error {
		p.Facts.EntityTypes = []string{"digital_infra.cloud"}
		p.Facts.TurnoverEUR = &turnover
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	inc, err := e.App.Reports.CreateIncident(as, reporting.IncidentInput{Title: "Storage cluster outage", AwareAt: time.Now().Add(-5 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	loss := 80_000.0
	if _, err := e.App.Reports.Submit(as, inc.ID, reporting.EarlyWarning, reporting.Content{Notifier: &reporting.Person{Name: "Ops", Email: admin.Email},
		IncidentStatus: "ongoing", Summary: "Object storage down", SuspectedMalicious: "no", CrossBorder: "no",
		Quantities: reporting.Quantities{DirectLossEUR: &loss}}, reporting.SubmitOptions{}); err != nil {
		t.Fatal(err)
	}
	c := e.Login(t, admin.Email, webtest.Password(admin.Email))
	base := fmt.Sprintf("/incidents/%d", inc.ID)
	stage := base + "/incident_notification"
	checkPage(t, c.Get(stage), 200, "notification form", T("repsig.box.title", nil), `name="action" value="significance"`)

	form := url.Values{"notifier_name": {"Ops"}, "notifier_email": {admin.Email}, "incident_status": {"ongoing"}, "suspected_malicious": {"no"}, "quantities_direct_loss_eur": {"80,000"},
		"cross_border": {"no"}, "summary": {"Object storage down in two zones"}, "tlp": {"amber"}, "action": {"significance"}}
	res := c.PostForm(stage, form)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/en"+base+"/significance?stage=incident_notification" {
		t.Fatalf("save and check significance = %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	page := base + "/significance?stage=incident_notification"
	res = c.Get(page)
	checkPage(t, res, 200, "guidance", T("repsig.title", nil), `<option value="digital_infra.cloud" selected>`,
		`name="complete_unavailability_minutes"`, `name="cia_affected_users"`, `name="related"`,
		`name="direct_financial_loss_eur" type="text" value="80,000"`, `name="turnover_prev_fy_eur" type="text" value="40,000,000"`,
		`id="suspected_malicious-no" name="suspected_malicious" type="radio" value="no" checked`, `form="significance-form" name="switch_lang"`)
	for _, absent := range []string{`name="severe_operational_disruption"`, `name="avg_response_time_seconds"`, `name="action" value="record"`} {
		if strings.Contains(res.Body, absent) {
			t.Errorf("guidance for a cloud provider shows %s", absent)
		}
	}

	answers := url.Values{"stage": {"incident_notification"}, "entity_type": {"digital_infra.cloud"}, "direct_financial_loss_eur": {"80,000"},
		"turnover_prev_fy_eur": {"40,000,000"}, "complete_unavailability_minutes": {"a while"}, "action": {"check"}}
	checkPage(t, c.PostForm(base+"/significance", answers), 422, "bad minutes", `href="#complete_unavailability_minutes"`,
		T("err.repsig.number_invalid", nil), `value="a while"`)

	// 45 minutes of complete unavailability: more than 30 (Art. 7(a)).
	answers.Set("complete_unavailability_minutes", "45")
	res = c.PostForm(base+"/significance", answers)
	checkPage(t, res, 200, "decision", T("nis2.sig.outcome.significant", nil), "7a", T("repsig.result_is_guidance", nil),
		T("nis2.sig.outage.met", map[string]any{"minutes": "45", "limit": "30"}), `name="action" value="record"`,
		T("repsig.record", map[string]any{"stage": T("nis2.stage.incident_notification", nil)}))
	// Facts not given leave their criteria unevaluated, named as questions.
	if !strings.Contains(res.Body, T("repsig.fact.trade_secret_exfiltration", nil)) {
		t.Error("the decision does not name the unanswered facts by their questions")
	}

	// A change of language keeps the answers, figures written the new way.
	sw := url.Values{}
	for k, v := range answers {
		sw[k] = v
	}
	sw.Set("complete_unavailability_minutes", "45.5")
	sw.Set("switch_lang", "nl")
	checkPage(t, c.PostForm(base+"/significance", sw), 200, "guidance in Dutch", `<html lang="nl">`, cat.T("nl", "repsig.title", nil),
		`name="direct_financial_loss_eur" type="text" value="80.000"`, `name="complete_unavailability_minutes" type="text" value="45,5"`,
		`action="/nl/incidents/`)

	// The analyst may look, not record.
	var authorityID int64
	if err := e.App.DB.QueryRow(t.Context(), `SELECT id FROM organisations WHERE kind = 'authority' ORDER BY id LIMIT 1`).Scan(&authorityID); err != nil {
		t.Fatal(err)
	}
	analyst := e.User(t, authorityID, "ana-sig@authority.example", "analyst")
	a := e.Login(t, analyst.Email, webtest.Password(analyst.Email))
	checkPage(t, a.Get(page), 200, "analyst's guidance", T("repsig.title", nil))
	answers.Del("csrf_token") // the entity's
	checkPage(t, a.PostForm(base+"/significance", answers), 200, "analyst's check", T("nis2.sig.outcome.significant", nil))
	rec := url.Values{}
	for k, v := range answers {
		rec[k] = v
	}
	rec.Set("action", "record")
	rec.Del("csrf_token")
	if res := a.PostForm(base+"/significance", rec); res.StatusCode != http.StatusForbidden {
		t.Errorf("the analyst records criteria: %d, want 403", res.StatusCode)
	}
	// Another organisation sees nothing.
	other := e.Org(t, "Elsewhere Hosting", "entity")
	x := e.Login(t, e.User(t, other.ID, "admin@elsewhere-hosting.example", "org_admin").Email, webtest.Password("admin@elsewhere-hosting.example"))
	x.Get("/incidents")
	rec.Del("csrf_token")
	for _, res := range []*webtest.Response{x.Get(page), x.PostForm(base+"/significance", rec)} {
		if res.StatusCode != http.StatusNotFound || strings.Contains(res.Body, "Storage cluster outage") {
			t.Errorf("another organisation: %d", res.StatusCode)
		}
	}

	// Recording puts the criteria met in the draft and returns to the form.
	rec.Del("csrf_token")
	res = c.PostForm(base+"/significance", rec)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/en"+stage {
		t.Fatalf("record = %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	checkPage(t, c.Get(stage), 200, "form after recording", T("repsig.flash.recorded", nil),
		T("repsig.box.recorded", map[string]any{"criteria": "7a"}), "Object storage down in two zones</textarea>")
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
	if draft == nil || !slices.Equal(draft.Content.SignificanceCriteria, []string{"7a"}) || draft.Content.Summary != "Object storage down in two zones" {
		t.Fatalf("draft after recording: %+v", draft)
	}
	// The check-answers page lists them (when the draft is complete).
	form.Set("action", "continue")
	form.Set("severity", "yellow")
	form.Set("impact_assessment", "Two zones without storage for 45 minutes")
	if res := c.PostForm(stage, form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("continue = %d: %.800s", res.StatusCode, res.Body)
	}
	checkPage(t, c.Get(stage+"/check"), 200, "check answers", T("repsig.summary.criteria", nil), "7a")

	// A stage already filed takes criteria only through a correction.
	ew := url.Values{}
	for k, v := range rec {
		ew[k] = v
	}
	ew.Set("stage", "early_warning")
	ew.Del("csrf_token")
	if res := c.PostForm(base+"/significance", ew); res.StatusCode != http.StatusConflict {
		t.Errorf("recording into the filed early warning = %d, want 409", res.StatusCode)
	}
}
