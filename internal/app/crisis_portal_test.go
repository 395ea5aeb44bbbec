package app_test

import (
	"html"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/belfry-cert/belfry/internal/app"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/webtest"
)

var crisisPathRE = regexp.MustCompile(`^/en(/crises/\d+)$`)

// TestCrisisPortal is a crisis run in the portal, without JavaScript: a
// crisis manager declares it from a case (through the case page's link),
// changes its level, adds an organisation reading sitreps only and a
// staff member, records a decision and an action, writes and publishes a
// sitrep (mailed, exports reachable), and sends a call-out that its
// recipient acknowledges on the public page reached from the e-mail; then
// sets the affected sectors, organisations and links, edits the crisis,
// changes a participant's role and access, deletes a draft and reads the
// timeline, each form with an error round where it validates. The
// organisation reads the published sitrep but not the decision log;
// nor do organisations (contributing or not) change the picture, the crisis
// or the team; another organisation reaches nothing; an anonymous visitor is sent to
// the login page, except on the acknowledgement page. On both databases.
func TestCrisisPortal(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		smtp := webtest.StartMailServer(t)
		e := webtest.NewWith(t, db, true, func(c *app.Config) { c.SMTP, c.PublicURL = smtp.Config(), "https://belfry.example" })
		cat := e.App.Catalog
		T := func(key string, kv ...any) string {
			args := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				args[kv[i].(string)] = kv[i+1]
			}
			return cat.T("en", key, args)
		}
		var authority int64
		if err := db.QueryRow(t.Context(), `SELECT org_id FROM users WHERE email = ?`, e.AdminEmail).Scan(&authority); err != nil {
			t.Fatal(err)
		}
		cm := e.User(t, authority, "cm@ccb.example", "crisis_manager")
		ana := e.User(t, authority, "ana@ccb.example", "analyst")
		grid := e.Org(t, "Grid Operator Example", "entity")
		soc := e.User(t, grid.ID, "soc@grid.example", "member")
		water := e.Org(t, "Water Works Example", "entity")
		waterUser := e.User(t, water.ID, "it@water.example", "member")

		m := e.Login(t, cm.Email, webtest.Password(cm.Email))
		wantBody(t, "home of a crisis manager", m.Get("/"), 200, `href="/en/crises"`, T("nav.crises"))
		wantBody(t, "empty list", m.Get("/crises"), 200, T("crisisui.list.declare"), T("crisisui.list.none"))

		// From the case: its page links to the declaration, prefilled.
		casePath := createCasePage(t, m, url.Values{"title": {"Grid outage"}, "tlp": {"AMBER"}, "pap": {"AMBER"},
			"organisations": {strconv.FormatInt(grid.ID, 10)}})
		wantBody(t, "case page", m.Get(casePath), 200, `href="/en/crises/new?case=CASE-2026-000001"`, T("crisisui.case.declare"))
		wantBody(t, "declaration from the case", m.Get("/crises/new?case=CASE-2026-000001"), 200, `value="CASE-2026-000001"`,
			`value="Grid outage"`, `<option value="AMBER" selected>`, T("crisisui.level_n", "number", 1, "name", T("crisis.level.entity")))
		res := m.PostForm("/crises/new", url.Values{"title": {""}, "case_ref": {"CASE-2026-999999"}, "level": {"entity"}, "tlp": {"AMBER"},
			"sitrep_interval": {"abc"}, "description": {"kept"}})
		wantBody(t, "declaration with errors", res, http.StatusUnprocessableEntity, T("error.summary_title"),
			T("err.crisis.case_unknown", "ref", "CASE-2026-999999"), `href="#case_ref"`, ">kept</textarea>", "<title>"+T("error.title_prefix"))
		res = m.PostForm("/crises/new", url.Values{"title": {"Grid outage"}, "case_ref": {"CASE-2026-000001"}, "level": {"cert_be"},
			"tlp": {"AMBER"}, "sitrep_interval": {"60"}, "reason": {"Several substations down"}})
		mm := crisisPathRE.FindStringSubmatch(res.Header.Get("Location"))
		if res.StatusCode != http.StatusSeeOther || mm == nil {
			t.Fatalf("declare = %d to %q; %.1500s", res.StatusCode, res.Header.Get("Location"), res.Body)
		}
		base := mm[1]
		wantBody(t, "situation picture", m.Get(base), 200, T("crisisui.flash.declared"), "CRISIS-2026-001", "TLP:AMBER",
			T("crisisui.level_n", "number", 2, "name", T("crisis.level.cert_be")), grid.Name, "CASE-2026-000001",
			"<title>Grid outage – CRISIS-2026-001 TLP:AMBER", strings.TrimSpace(T("crisisui.due.due_in", "time", "")), T("crisisui.view.change_level"))

		// The level: a reason is needed.
		res = m.PostForm(base+"/level", url.Values{"new_level": {"national_impact"}})
		wantBody(t, "level without reason", res, http.StatusUnprocessableEntity, T("err.crisis.reason_missing"), `href="#level_reason"`)
		wantRedirect(t, "level", m.PostForm(base+"/level", url.Values{"new_level": {"national_impact"}, "level_reason": {"Two provinces"}}), "/en"+base)
		wantBody(t, "after the level change", m.Get(base), 200, T("crisisui.flash.level"),
			T("crisisui.level_n", "number", 3, "name", T("crisis.level.national_impact")), "Two provinces")

		// Participants: the organisation reads sitreps only; a staff member.
		wantRedirect(t, "add organisation", m.PostForm(base+"/participants", url.Values{"kind": {"organisation"},
			"organisation_id": {strconv.FormatInt(grid.ID, 10)}, "org_party": {"affected_organisation"}, "org_access": {"sitreps"}}), "/en"+base+"/participants")
		wantRedirect(t, "add staff", m.PostForm(base+"/participants", url.Values{"kind": {"user"}, "user_id": {strconv.FormatInt(ana.ID, 10)},
			"role": {"member"}}), "/en"+base+"/participants")
		res = m.PostForm(base+"/participants", url.Values{"kind": {"person"}, "person_name": {"Jan"}, "person_email": {"not an address"},
			"person_party": {"other"}, "person_access": {"read"}})
		wantBody(t, "person with a bad address", res, http.StatusUnprocessableEntity, T("err.crisis.email"), `href="#person_email"`)
		wantBody(t, "participants", m.Get(base+"/participants"), 200, grid.Name, ana.Email, T("crisisui.access.sitreps"), T("crisisui.role.member"))

		// A decision and an action.
		res = m.PostForm(base+"/decisions", url.Values{"decision": {"Isolate the substations"}})
		wantBody(t, "decision without basis", res, http.StatusUnprocessableEntity, T("err.crisis.basis_missing"), `href="#basis"`)
		wantRedirect(t, "decision", m.PostForm(base+"/decisions", url.Values{"decision": {"Isolate the substations"}, "basis": {"CERT advice"}}),
			"/en"+base+"/decisions")
		wantBody(t, "decision log", m.Get(base+"/decisions"), 200, "Isolate the substations", "CERT advice", cm.Email)
		wantRedirect(t, "action", m.PostForm(base+"/actions", url.Values{"title": {"Call the DSO"}, "owner_id": {strconv.FormatInt(ana.ID, 10)},
			"due-day": {"1"}, "due-month": {"1"}, "due-year": {"2020"}, "due-hour": {"10"}, "due-minute": {"00"}}), "/en"+base+"/actions")
		wantBody(t, "actions", m.Get(base+"/actions"), 200, "Call the DSO", ana.Email, "Overdue by", T("crisisui.actions.mark_done", "action", "Call the DSO"))

		// A sitrep: drafted, published with distribution, exported.
		res = m.PostForm(base+"/sitreps/new", url.Values{"tlp": {"AMBER"}, "situation": {"Three substations down"}, "impact": {"40 000 homes"}})
		loc := res.Header.Get("Location")
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/en"+base+"/sitreps/") {
			t.Fatalf("new sitrep = %d to %q; %.1500s", res.StatusCode, loc, res.Body)
		}
		sitrep := strings.TrimPrefix(loc, "/en")
		wantBody(t, "draft", m.Get(sitrep), 200, "Three substations down", "- Call the DSO", "Isolate the substations", T("crisisui.sitrep.distribute"))
		wantRedirect(t, "publish", m.PostForm(sitrep+"/publish", url.Values{"distribute": {"yes"}}), "/en"+sitrep)
		wantBody(t, "published sitrep", m.Get(sitrep), 200, T("crisisui.flash.sitrep_published"), T("crisis.sitrep.title", "number", 1),
			"Three substations down", T("crisis.sitrep.next_update"), T("crisisui.export.html"))
		if res := m.Get(sitrep + "/export?format=html"); res.StatusCode != 200 || !strings.Contains(res.Body, "<h1>CRISIS-2026-001") {
			t.Errorf("HTML export = %d %.300s", res.StatusCode, res.Body)
		}
		if res := m.Get(sitrep + "/export?format=md"); res.StatusCode != 200 || !strings.HasPrefix(res.Body, "**TLP:AMBER**") ||
			!strings.Contains(res.Header.Get("Content-Disposition"), "CRISIS-2026-001-sitrep-1.md") {
			t.Errorf("Markdown export = %d %q %.300s", res.StatusCode, res.Header.Get("Content-Disposition"), res.Body)
		}
		if subject, _ := apubMail(t, apubWaitMail(t, smtp, soc.Email, 1)[0]); !strings.Contains(subject, "CRISIS-2026-001") {
			t.Errorf("sitrep mail subject %q", subject)
		}

		// A call-out to the staff member, acknowledged from the e-mail.
		var pid int64
		if err := db.QueryRow(t.Context(), `SELECT id FROM crisis_participants WHERE user_id = ?`, ana.ID).Scan(&pid); err != nil {
			t.Fatal(err)
		}
		res = m.PostForm(base+"/callouts", url.Values{"subject": {"Bridge call"}, "message": {"Join at 10:00"}, "callout_tlp": {"AMBER"}})
		wantBody(t, "call-out without recipients", res, http.StatusUnprocessableEntity, T("err.crisis.recipients_missing"), `href="#recipients"`)
		res = m.PostForm(base+"/callouts", url.Values{"subject": {"Bridge call"}, "message": {"Join at 10:00"}, "callout_tlp": {"AMBER"},
			"participants": {strconv.FormatInt(pid, 10)}})
		callout := strings.TrimPrefix(res.Header.Get("Location"), "/en")
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(callout, base+"/callouts/") {
			t.Fatalf("call-out = %d to %q; %.1500s", res.StatusCode, callout, res.Body)
		}
		wantBody(t, "call-out sent", m.Get(callout), 200, "Bridge call", ana.Email, T("crisisui.callouts.not_read"), T("crisisui.callouts.not_acked"))
		var token string
		for _, mail := range apubWaitMail(t, smtp, ana.Email, 2) {
			if _, text := apubMail(t, mail); strings.Contains(text, "callouts/ack?token=") {
				_, after, _ := strings.Cut(text, "callouts/ack?token=")
				token, _ = url.QueryUnescape(strings.Fields(after)[0])
			}
		}
		if token == "" {
			t.Fatal("no acknowledgement link in the call-out mail")
		}
		anon := e.Browser(t)
		ackPath := "/callouts/ack?token=" + url.QueryEscape(token)
		wantBody(t, "acknowledgement page", anon.Get(ackPath), 200, "Join at 10:00", "TLP:AMBER", T("crisisui.ack.submit"))
		wantBody(t, "read, not acknowledged", m.Get(callout), 200, T("crisisui.callouts.n_of", "n", 1, "total", 1), T("crisisui.callouts.not_acked"))
		wantRedirect(t, "acknowledge", anon.PostForm("/callouts/ack", url.Values{"token": {token}}), "/en"+ackPath)
		wantRedirect(t, "acknowledge again", anon.PostForm("/callouts/ack", url.Values{"token": {token}}), "/en"+ackPath)
		res = anon.Get(ackPath)
		wantBody(t, "acknowledged", res, 200, T("crisisui.flash.acknowledged"))
		lacks(t, "acknowledged page", res, T("crisisui.ack.submit"))
		wantBody(t, "call-out acknowledged", m.Get(callout), 200, T("crisisui.callouts.acked"))
		if res := anon.PostForm("/callouts/ack", url.Values{"token": {token + "x"}}); res.StatusCode != http.StatusNotFound {
			t.Errorf("unknown token = %d", res.StatusCode)
		}

		// The organisation reads the published sitrep, not the decisions.
		o := e.Login(t, soc.Email, webtest.Password(soc.Email))
		wantBody(t, "organisation's list", o.Get("/crises"), 200, "CRISIS-2026-001")
		res = o.Get(base)
		wantBody(t, "organisation's view", res, 200, "CRISIS-2026-001", T("crisisui.view.sitreps_only"))
		lacks(t, "organisation's view", res, "Isolate the substations", "Call the DSO", T("crisisui.view.change_level"), `href="/en`+base+`/decisions"`)
		wantBody(t, "organisation's sitrep", o.Get(sitrep), 200, "Three substations down", T("crisisui.export.md"))
		if res := o.Get(sitrep + "/export?format=md"); res.StatusCode != 200 {
			t.Errorf("organisation's export = %d", res.StatusCode)
		}
		for _, p := range []string{base + "/decisions", base + "/actions", base + "/participants", base + "/callouts"} {
			if res := o.Get(p); res.StatusCode != http.StatusForbidden {
				t.Errorf("organisation GET %s = %d, want 403", p, res.StatusCode)
			}
		}

		// Another organisation and the anonymous visitor.
		w := e.Login(t, waterUser.Email, webtest.Password(waterUser.Email))
		pages := []string{base, base + "/participants", base + "/decisions", base + "/actions", base + "/sitreps", sitrep, sitrep + "/export?format=md",
			base + "/callouts", callout}
		for _, p := range pages {
			if res := w.Get(p); res.StatusCode != http.StatusNotFound || strings.Contains(html.UnescapeString(res.Body), "Grid outage") {
				t.Errorf("other organisation GET %s = %d, want 404", p, res.StatusCode)
			}
		}
		for _, p := range []string{"/crises/new", "/crises/directory"} {
			if res := w.Get(p); res.StatusCode != http.StatusNotFound {
				t.Errorf("other organisation GET %s = %d, want 404", p, res.StatusCode)
			}
		}
		lacks(t, "other organisation's list", w.Get("/crises"), "CRISIS-2026-001")
		for _, p := range append(pages, "/crises", "/crises/new", "/crises/directory") {
			if res := anon.Get(p); res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "/login") {
				t.Errorf("anonymous GET %s = %d to %q, want the login page", p, res.StatusCode, res.Header.Get("Location"))
			}
		}
		if res := anon.PostForm(base+"/decisions", url.Values{"decision": {"x"}, "basis": {"y"}}); res.StatusCode == http.StatusSeeOther &&
			!strings.Contains(res.Header.Get("Location"), "/login") || res.StatusCode == 200 {
			t.Errorf("anonymous POST = %d to %q", res.StatusCode, res.Header.Get("Location"))
		}

		// The situation picture's forms: the sectors, an affected
		// organisation (added, refused twice, removed), a link.
		res = m.PostForm(base+"/sectors", url.Values{"sectors": {"energy", "nonsense"}})
		wantBody(t, "unknown sector", res, http.StatusUnprocessableEntity, T("err.crisis.sector", "sector", "nonsense"), `href="#sectors"`,
			`value="energy" checked`)
		wantRedirect(t, "sectors", m.PostForm(base+"/sectors", url.Values{"sectors": {"energy", "transport"}}), "/en"+base)
		wantBody(t, "after the sectors", m.Get(base), 200, T("crisisui.flash.sectors"), "<li>"+T("nis2.sector.energy")+"</li>",
			"<li>"+T("nis2.sector.transport")+"</li>", `value="transport" checked`)
		res = m.PostForm(base+"/organisations", url.Values{"affected_org": {"0"}, "affected_note": {"kept note"}})
		wantBody(t, "affected organisation without a name", res, http.StatusUnprocessableEntity, T("err.crisis.name_missing"),
			`href="#affected_org"`, `value="kept note"`)
		waterID := strconv.FormatInt(water.ID, 10)
		wantRedirect(t, "affected organisation", m.PostForm(base+"/organisations", url.Values{"affected_org": {waterID},
			"affected_note": {"pumps on backup power"}}), "/en"+base)
		wantBody(t, "after the affected organisation", m.Get(base), 200, T("crisisui.flash.org_added"), "Water Works Example – pumps on backup power")
		wantBody(t, "affected organisation twice", m.PostForm(base+"/organisations", url.Values{"affected_org": {waterID}}), http.StatusConflict,
			T("err.crisis.org_exists"))
		crisisID, _ := strconv.ParseInt(strings.TrimPrefix(base, "/crises/"), 10, 64)
		var entry int64
		if err := db.QueryRow(t.Context(), `SELECT id FROM crisis_orgs WHERE crisis_id = ? AND org_id = ?`, crisisID, water.ID).Scan(&entry); err != nil {
			t.Fatal(err)
		}
		orgRemove := base + "/organisations/" + strconv.FormatInt(entry, 10) + "/remove"
		wantRedirect(t, "remove the affected organisation", m.PostForm(orgRemove, nil), "/en"+base)
		res = m.Get(base)
		wantBody(t, "after the removal", res, 200, T("crisisui.flash.org_removed"), grid.Name)
		lacks(t, "after the removal", res, "pumps on backup power")
		if res := m.PostForm(orgRemove, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("removing a removed organisation = %d", res.StatusCode)
		}
		res = m.PostForm(base+"/links", url.Values{"link_kind": {"incident"}, "link_target": {"nis2-2026-999"}})
		wantBody(t, "unknown link", res, http.StatusUnprocessableEntity, T("err.crisis.link_unknown", "target", "NIS2-2026-999"), `href="#link_target"`,
			`<option value="incident" selected>`)
		createCasePage(t, m, url.Values{"title": {"Substation intrusion"}, "tlp": {"AMBER"}, "pap": {"AMBER"}})
		wantRedirect(t, "link", m.PostForm(base+"/links", url.Values{"link_kind": {"case"}, "link_target": {"case-2026-000002"}}), "/en"+base)
		wantBody(t, "after the link", m.Get(base), 200, T("crisisui.flash.link_added"), "CASE-2026-000002", "CASE-2026-000001")

		// Editing the title, description and schedule.
		wantBody(t, "edit page", m.Get(base+"/edit"), 200, `value="Grid outage"`, `value="60"`, T("crisisui.edit.submit"))
		res = m.PostForm(base+"/edit", url.Values{"title": {" "}, "description": {"kept text"}, "sitrep_interval": {"often"}})
		wantBody(t, "edit with errors", res, http.StatusUnprocessableEntity, T("err.crisis.title_missing"), T("err.crisis.interval"),
			`href="#title"`, `href="#sitrep_interval"`, ">kept text</textarea>")
		wantRedirect(t, "edit", m.PostForm(base+"/edit", url.Values{"title": {"Grid outage south"}, "description": {"Substations in the south"},
			"sitrep_interval": {"120"}}), "/en"+base)
		wantBody(t, "after the edit", m.Get(base), 200, T("crisisui.flash.edited"), "<h1>Grid outage south</h1>", "Substations in the south",
			T("crisisui.view.interval", "minutes", 120))

		// A participant's role and access: the last lead stays.
		pidS := strconv.FormatInt(pid, 10)
		res = m.PostForm(base+"/participants/"+pidS, url.Values{"role": {"boss"}})
		wantBody(t, "unknown role", res, http.StatusUnprocessableEntity, T("err.crisis.role"), `href="#role-`+pidS+`"`)
		wantRedirect(t, "role", m.PostForm(base+"/participants/"+pidS, url.Values{"role": {"observer"}}), "/en"+base+"/participants")
		wantBody(t, "after the role", m.Get(base+"/participants"), 200, T("crisisui.flash.participant_changed"), `<option value="observer" selected>`)
		var leadPid, gridPid int64
		if err := db.QueryRow(t.Context(), `SELECT id FROM crisis_participants WHERE user_id = ?`, cm.ID).Scan(&leadPid); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(t.Context(), `SELECT id FROM crisis_participants WHERE org_id = ?`, grid.ID).Scan(&gridPid); err != nil {
			t.Fatal(err)
		}
		wantBody(t, "the last lead", m.PostForm(base+"/participants/"+strconv.FormatInt(leadPid, 10), url.Values{"role": {"member"}}),
			http.StatusConflict, T("err.crisis.last_lead"))
		gridPath := base + "/participants/" + strconv.FormatInt(gridPid, 10)
		wantBody(t, "unknown access", m.PostForm(gridPath, url.Values{"access": {"all"}}), http.StatusUnprocessableEntity, T("err.crisis.access"),
			`href="#access-`+strconv.FormatInt(gridPid, 10)+`"`)
		wantRedirect(t, "access", m.PostForm(gridPath, url.Values{"access": {"read"}}), "/en"+base+"/participants")
		if res := o.Get(base + "/decisions"); res.StatusCode != 200 {
			t.Errorf("organisation reading everything GET decisions = %d", res.StatusCode)
		}
		wantRedirect(t, "access back", m.PostForm(gridPath, url.Values{"access": {"sitreps"}}), "/en"+base+"/participants")

		// Deleting a draft needs its confirmation; a published sitrep stays.
		res = m.PostForm(base+"/sitreps/new", url.Values{"tlp": {"AMBER"}, "situation": {"Wrong draft"}})
		draft := strings.TrimPrefix(res.Header.Get("Location"), "/en")
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(draft, base+"/sitreps/") {
			t.Fatalf("new draft = %d to %q", res.StatusCode, draft)
		}
		wantBody(t, "draft to delete", m.Get(draft), 200, `action="/en`+draft+`/delete"`, T("crisisui.sitrep.delete_confirm"))
		wantBody(t, "delete unconfirmed", m.PostForm(draft+"/delete", nil), http.StatusUnprocessableEntity, T("err.crisisui.confirm_delete"),
			`href="#confirm_delete"`, "Wrong draft")
		wantRedirect(t, "delete", m.PostForm(draft+"/delete", url.Values{"confirm_delete": {"yes"}}), "/en"+base+"/sitreps")
		wantBody(t, "after the deletion", m.Get(base+"/sitreps"), 200, T("crisisui.flash.sitrep_deleted"))
		if res := m.Get(draft); res.StatusCode != http.StatusNotFound {
			t.Errorf("deleted draft = %d", res.StatusCode)
		}
		if res := m.PostForm(sitrep+"/delete", url.Values{"confirm_delete": {"yes"}}); res.StatusCode != http.StatusConflict {
			t.Errorf("deleting a published sitrep = %d", res.StatusCode)
		}

		// The timeline, newest first, with who did what.
		res = m.Get(base + "/timeline")
		wantBody(t, "timeline", res, 200, T("crisisui.timeline.title"), T("crisisui.event.declare"), T("crisisui.event.sitrep_delete"),
			T("crisisui.event.sectors"), cm.Email, "energy, transport")
		if b := html.UnescapeString(res.Body); strings.Index(b, T("crisisui.event.sitrep_delete")) > strings.Index(b, T("crisisui.event.declare")) {
			t.Error("the timeline is not newest first")
		}

		// Who may not: an organisation contributing, one reading sitreps
		// only (403), one taking no part (404).
		telco := e.Org(t, "Telco Example", "entity")
		noc := e.User(t, telco.ID, "noc@telco.example", "member")
		wantRedirect(t, "add a contributing organisation", m.PostForm(base+"/participants", url.Values{"kind": {"organisation"},
			"organisation_id": {strconv.FormatInt(telco.ID, 10)}, "org_party": {"affected_organisation"}, "org_access": {"contribute"}}),
			"/en"+base+"/participants")
		contrib := e.Login(t, noc.Email, webtest.Password(noc.Email))
		res = contrib.Get(base)
		wantBody(t, "contributor's view", res, 200, T("crisisui.view.sectors"))
		lacks(t, "contributor's view", res, `action="/en`+base+`/sectors"`, `action="/en`+base+`/organisations"`, `action="/en`+base+`/links"`,
			`href="/en`+base+`/edit"`)
		wantBody(t, "contributor's timeline", contrib.Get(base+"/timeline"), 200, T("crisisui.event.declare"))
		writes := map[string]url.Values{
			base + "/sectors":       {"sectors": {"energy"}},
			base + "/organisations": {"affected_org": {waterID}},
			orgRemove:               nil,
			base + "/links":         {"link_kind": {"case"}, "link_target": {"CASE-2026-000002"}},
			base + "/edit":          {"title": {"Hijacked"}, "sitrep_interval": {"0"}},
			gridPath:                {"access": {"contribute"}},
		}
		for p, form := range writes {
			// Each client sends its own CSRF token: a copy of the form each.
			if res := contrib.PostForm(p, maps.Clone(form)); res.StatusCode != http.StatusForbidden {
				t.Errorf("contributing organisation POST %s = %d, want 403", p, res.StatusCode)
			}
			if res := o.PostForm(p, maps.Clone(form)); res.StatusCode != http.StatusForbidden {
				t.Errorf("organisation reading sitreps POST %s = %d, want 403", p, res.StatusCode)
			}
			if res := w.PostForm(p, maps.Clone(form)); res.StatusCode != http.StatusNotFound {
				t.Errorf("other organisation POST %s = %d, want 404", p, res.StatusCode)
			}
		}
		for _, p := range []string{base + "/edit", base + "/timeline"} {
			if res := o.Get(p); res.StatusCode != http.StatusForbidden {
				t.Errorf("organisation reading sitreps GET %s = %d, want 403", p, res.StatusCode)
			}
		}
		if res := contrib.Get(base + "/edit"); res.StatusCode != http.StatusForbidden {
			t.Errorf("contributing organisation GET edit = %d, want 403", res.StatusCode)
		}
		if res := o.PostForm(sitrep+"/delete", url.Values{"confirm_delete": {"yes"}}); res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusForbidden {
			t.Errorf("organisation reading sitreps POST delete = %d", res.StatusCode)
		}
		for _, p := range []string{base + "/edit", base + "/timeline"} {
			if res := w.Get(p); res.StatusCode != http.StatusNotFound {
				t.Errorf("other organisation GET %s = %d, want 404", p, res.StatusCode)
			}
			if res := anon.Get(p); res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "/login") {
				t.Errorf("anonymous GET %s = %d", p, res.StatusCode)
			}
		}
		wantBody(t, "the picture unchanged", m.Get(base), 200, "<h1>Grid outage south</h1>", "<li>"+T("nis2.sector.transport")+"</li>")
		pages = append(pages, base+"/edit", base+"/timeline")

		// Stand down, then every page in every language.
		wantRedirect(t, "stand down", m.PostForm(base+"/status", url.Values{"status": {"stood_down"}}), "/en"+base)
		for _, l := range []string{"nl", "fr", "de", "en"} {
			m.Lang = l
			for _, p := range append(pages, "/crises", "/crises/new", "/crises/directory") {
				if res := m.Get(p); res.StatusCode != 200 {
					t.Errorf("%s %s = %d", l, p, res.StatusCode)
				}
			}
		}
	})
}
