package app_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/webtest"
)

var caseIDRE = regexp.MustCompile(`^/en/cases/(\d+)$`)

// createCasePage posts the new-case form and returns the case's path.
func createCasePage(t *testing.T, c *webtest.Client, form url.Values) string {
	t.Helper()
	res := c.PostForm("/cases/new", form)
	m := caseIDRE.FindStringSubmatch(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("new case = %d to %q; %.1500s", res.StatusCode, res.Header.Get("Location"), res.Body)
	}
	return "/cases/" + m[1]
}

// lacks fails when the page contains one of the texts.
func lacks(t *testing.T, what string, res *webtest.Response, texts ...string) {
	t.Helper()
	body := html.UnescapeString(res.Body)
	for _, s := range texts {
		if strings.Contains(body, s) {
			t.Errorf("%s shows %q", what, s)
		}
	}
}

// TestCasesPortal is a case worked in the portal: an analyst opens it from
// the ransomware template for an entity, works its tasks, observables
// (seen in two cases) and notes, closes it, finds it by search and
// filter, and sees a task in the overdue view once the clock passes it;
// an auditor reads but changes nothing; an entity member and an anonymous
// visitor reach no page of the cases. On both databases.
func TestCasesPortal(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := webtest.New(t, db, false)
		cat := e.App.Catalog
		T := func(key string, kv ...any) string {
			args := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				args[kv[i].(string)] = kv[i+1]
			}
			return cat.T("en", key, args)
		}
		now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
		clock := now
		e.App.Cases.SetClock(func() time.Time { return clock })

		var authority int64
		if err := db.QueryRow(t.Context(), `SELECT org_id FROM users WHERE email = ?`, e.AdminEmail).Scan(&authority); err != nil {
			t.Fatal(err)
		}
		analyst := e.User(t, authority, "ana@ccb.example", "analyst")
		auditor := e.User(t, authority, "aud@ccb.example", "auditor")
		grid := e.Org(t, "Grid Operator Example", "entity")
		member := e.User(t, grid.ID, "soc@grid.example", "member")

		a := e.Login(t, analyst.Email, webtest.Password(analyst.Email))
		wantBody(t, "home of an analyst", a.Get("/"), 200, `href="/en/cases"`, T("nav.cases"))
		wantBody(t, "empty list", a.Get("/cases"), 200, T("casesui.list.new"), T("casesui.list.none"), `href="/en/cases/tasks?overdue=yes"`)

		// A new case: the errors first, then opened from the template.
		res := a.PostForm("/cases/new", url.Values{"template": {"ransomware"}, "tlp": {"AMBER"}, "pap": {"AMBER"}, "description": {"kept"}})
		wantBody(t, "new case without title", res, http.StatusUnprocessableEntity, T("error.summary_title"), T("err.case.title_missing"),
			`href="#title"`, `aria-invalid="true"`, ">kept</textarea>", `value="ransomware" checked`)
		res = a.PostForm("/cases/new", url.Values{"title": {"x"}, "incident": {"INC-2026-999999"}, "tlp": {"AMBER"}, "pap": {"AMBER"}})
		wantBody(t, "new case from an unknown incident", res, http.StatusUnprocessableEntity,
			T("err.casesui.incident_unknown", "ref", "INC-2026-999999"), `href="#incident"`)
		res = a.PostForm("/cases/new", url.Values{"title": {"x"}, "events": {"12, abc"}, "tlp": {"AMBER"}, "pap": {"AMBER"}})
		wantBody(t, "new case from bad event ids", res, http.StatusUnprocessableEntity, T("err.casesui.events_format", "value", "abc"))
		const title = "Ransomware at the grid operator"
		base := createCasePage(t, a, url.Values{"title": {title}, "description": {"A **LockBit** ransom note was found on the file server."},
			"template": {"ransomware"}, "tlp": {"AMBER+STRICT"}, "pap": {"AMBER"}, "organisations": {strconv.FormatInt(grid.ID, 10)}})
		caseID, _ := strconv.ParseInt(strings.TrimPrefix(base, "/cases/"), 10, 64)
		res = a.Get(base)
		wantBody(t, "overview", res, 200, T("casesui.flash.created"), title, "CASE-2026-000001", "TLP:AMBER+STRICT",
			T("casesui.tlp_hint.AMBER+STRICT"), "PAP:AMBER", T("casesui.severity.4"), T("casesui.status.new"), grid.Name,
			"<strong>LockBit</strong>", T("casesui.template.ransomware"), "<title>"+title+" – CASE-2026-000001 TLP:AMBER+STRICT",
			`aria-current="page">`+T("casesui.tab.overview"), `href="/en`+base+`/tasks"`, T("casesui.edit.title"))
		if strings.Count(res.Body, "<h1") != 1 {
			t.Errorf("overview has %d h1", strings.Count(res.Body, "<h1"))
		}

		// The template's six tasks with their due times; the first done.
		res = a.Get(base + "/tasks")
		first := now.Add(time.Hour)
		wantBody(t, "tasks", res, 200, "TLP:AMBER+STRICT", cat.T("en", "casetmpl.ransomware.1", nil), cat.T("en", "casetmpl.ransomware.6", nil),
			`datetime="`+first.Format(time.RFC3339)+`"`, cat.DateTime("en", first), T("casesui.due.due_in", "time", "1 h"),
			T("casesui.tasks.sla_rule", "time", "1 h"), T("casesui.due.due_in", "time", "7 d"), `aria-current="page">`+T("casesui.tab.tasks"))
		if n := strings.Count(res.Body, `name="action" value="done"`); n != 6 {
			t.Errorf("tasks page offers %d tasks to mark done, want 6", n)
		}
		var taskIDs []int64
		rows, err := db.Query(t.Context(), `SELECT id FROM case_tasks WHERE case_id = ? ORDER BY id`, caseID)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			taskIDs = append(taskIDs, id)
		}
		rows.Close()
		wantRedirect(t, "mark done", a.PostForm(base+"/tasks/"+strconv.FormatInt(taskIDs[0], 10), url.Values{"action": {"done"}}), "/en"+base+"/tasks")
		res = a.Get(base + "/tasks")
		wantBody(t, "tasks after one is done", res, 200, T("casesui.flash.task_done"), T("casesui.task_status.done"),
			T("casesui.tasks.reopen", "task", cat.T("en", "casetmpl.ransomware.1", nil)))
		// A task of the analyst's own, with a due time that does not exist.
		res = a.PostForm(base+"/tasks", url.Values{"title": {"Call the SOC"}, "owner": {strconv.FormatInt(analyst.ID, 10)},
			"due-day": {"31"}, "due-month": {"4"}, "due-year": {"2027"}, "due-hour": {"10"}, "due-minute": {"00"}})
		wantBody(t, "task with 31 April", res, http.StatusUnprocessableEntity, T("err.casesui.due_invalid"), `href="#due"`, `value="Call the SOC"`)
		wantRedirect(t, "add task", a.PostForm(base+"/tasks", url.Values{"title": {"Call the SOC"}, "owner": {strconv.FormatInt(analyst.ID, 10)},
			"due-day": {"30"}, "due-month": {"4"}, "due-year": {"2027"}, "due-hour": {"10"}, "due-minute": {"00"}}), "/en"+base+"/tasks")
		wantBody(t, "own task", a.Get(base+"/tasks"), 200, "Call the SOC", `datetime="2027-04-30T08:00:00Z"`, "(UTC+2)")

		// Observables: one address in two cases.
		other := createCasePage(t, a, url.Values{"title": {"Scanning from a known host"}, "tlp": {"GREEN"}, "pap": {"GREEN"}})
		res = a.PostForm(base+"/observables", url.Values{"type": {"ip"}, "value": {"300.1.1.1"}, "tlp": {"AMBER"}})
		wantBody(t, "bad address", res, http.StatusUnprocessableEntity, T("err.case.observable_value", "type", "ip"), `href="#value"`)
		wantRedirect(t, "add observable", a.PostForm(base+"/observables", url.Values{"type": {"ip"}, "value": {" 192.0.2.10 "}, "tlp": {"AMBER"},
			"ioc": {"yes"}, "note": {"C2 server"}}), "/en"+base+"/observables")
		wantRedirect(t, "add observable to the other case", a.PostForm(other+"/observables", url.Values{"type": {"ip"}, "value": {"192.0.2.10"},
			"tlp": {"GREEN"}, "sighted": {"yes"}}), "/en"+other+"/observables")
		var obsID int64
		if err := db.QueryRow(t.Context(), `SELECT id FROM observables WHERE type = 'ip' AND value = '192.0.2.10'`).Scan(&obsID); err != nil {
			t.Fatal(err)
		}
		obsPath := base + "/observables/" + strconv.FormatInt(obsID, 10)
		wantBody(t, "observables", a.Get(base+"/observables"), 200, "192.0.2.10", T("casesui.obs.ioc"), "C2 server",
			T("casesui.obs.other_one", "value", "192.0.2.10"), `href="/en`+obsPath+`"`)
		wantBody(t, "similarity", a.Get(obsPath), 200, T("casesui.similar.title", "value", "192.0.2.10"), "CASE-2026-000002",
			"Scanning from a known host", "TLP:GREEN", "TLP:AMBER+STRICT", T("casesui.similar.no_events"))
		if res := a.Get(other + "/observables/999999"); res.StatusCode != http.StatusNotFound {
			t.Errorf("an observable not in the case = %d, want 404", res.StatusCode)
		}

		// A note in Markdown with a script: rendered, the script dropped.
		wantRedirect(t, "note", a.PostForm(base+"/notes", url.Values{"body": {"**Seen** at the gateway\n\n<script>alert(1)</script>"},
			"tlp": {"RED"}}), "/en"+base+"/timeline")
		res = a.Get(base + "/timeline")
		wantBody(t, "timeline", res, 200, "<strong>Seen</strong>", "TLP:RED", T("casesui.event.note"), T("casesui.event.create"),
			T("casesui.event.task_done"), T("casesui.timeline.by", "who", analyst.Email))
		lacks(t, "timeline", res, "<script>alert(1)")
		res = a.PostForm(base+"/notes", url.Values{"body": {"  "}, "tlp": {"AMBER"}})
		wantBody(t, "empty note", res, http.StatusUnprocessableEntity, T("err.case.note_missing"), `href="#body"`)

		// The overdue view lists the containment task once its 2 hours pass.
		wantBody(t, "overdue view before", a.Get("/cases/tasks?overdue=yes"), 200, T("casesui.alltasks.none_overdue"))
		wantBody(t, "open tasks", a.Get("/cases/tasks"), 200, cat.T("en", "casetmpl.ransomware.2", nil), "CASE-2026-000001", "Call the SOC")
		clock = now.Add(3*time.Hour + 10*time.Minute)
		res = a.Get("/cases/tasks?overdue=yes")
		wantBody(t, "overdue view after", res, 200, cat.T("en", "casetmpl.ransomware.2", nil), T("casesui.due.overdue_by", "time", "1 h 10 min"))
		lacks(t, "overdue view", res, cat.T("en", "casetmpl.ransomware.1", nil), "Call the SOC")
		wantBody(t, "my tasks", a.Get("/cases/tasks?mine=yes"), 200, "Call the SOC")
		lacks(t, "my tasks", a.Get("/cases/tasks?mine=yes"), cat.T("en", "casetmpl.ransomware.2", nil))

		// Closing needs a resolution.
		change := url.Values{"status": {"closed"}, "severity": {"4"}, "tlp": {"AMBER+STRICT"}, "pap": {"AMBER"}, "assignee_id": {strconv.FormatInt(analyst.ID, 10)}}
		res = a.PostForm(base, change)
		wantBody(t, "close without resolution", res, http.StatusUnprocessableEntity, T("err.case.resolution_missing"), `href="#resolution"`,
			`<option value="closed" selected>`)
		change.Set("resolution", "Restored from backups; no ransom paid.")
		wantRedirect(t, "close", a.PostForm(base, change), "/en"+base)
		wantBody(t, "closed case", a.Get(base), 200, T("casesui.status.closed"), "Restored from backups; no ransom paid.", T("casesui.field.closed"))

		// Search by a word of the description, filter by severity.
		res = a.Get("/cases?status=all&q=lockbit")
		wantBody(t, "search", res, 200, "CASE-2026-000001", T("list.remove_filter", "name", T("casesui.chosen.text", "text", "lockbit")))
		lacks(t, "search", res, "CASE-2026-000002")
		res = a.Get("/cases?status=all&severity=4")
		wantBody(t, "severity filter", res, 200, "CASE-2026-000001", grid.Name, analyst.Email)
		lacks(t, "severity filter", res, "CASE-2026-000002")
		res = a.Get("/cases")
		wantBody(t, "active cases", res, 200, "CASE-2026-000002")
		lacks(t, "active cases", res, "CASE-2026-000001")
		wantBody(t, "a bad filter", a.Get("/cases?status=bogus"), 200, T("err.casesui.filter_status"), "CASE-2026-000002")

		// Every page renders in every language.
		for _, l := range []string{"nl", "fr", "de", "en"} {
			a.Lang = l
			for _, p := range []string{"/cases", "/cases/new", "/cases/tasks", base, base + "/tasks", base + "/observables", obsPath, base + "/timeline"} {
				if res := a.Get(p); res.StatusCode != 200 || !strings.Contains(res.Body, `<html lang="`+l+`"`) {
					t.Errorf("%s %s = %d", l, p, res.StatusCode)
				}
			}
		}
		a.Lang = "en"

		// An auditor reads, changes nothing.
		aud := e.Login(t, auditor.Email, webtest.Password(auditor.Email))
		res = aud.Get("/cases?status=all")
		wantBody(t, "auditor's list", res, 200, "CASE-2026-000001")
		lacks(t, "auditor's list", res, T("casesui.list.new"))
		res = aud.Get(base + "/tasks")
		wantBody(t, "auditor's tasks", res, 200, "TLP:AMBER+STRICT")
		lacks(t, "auditor's tasks", res, `name="action"`)
		if res := aud.Get("/cases/new"); res.StatusCode != http.StatusForbidden {
			t.Errorf("auditor GET /cases/new = %d, want 403", res.StatusCode)
		}
		for _, post := range []struct {
			path string
			form url.Values
		}{
			{"/cases/new", url.Values{"title": {"x"}, "tlp": {"AMBER"}, "pap": {"AMBER"}}},
			{base, change},
			{base + "/links", url.Values{"kind": {"case"}, "target": {"CASE-2026-000002"}}},
			{base + "/tasks", url.Values{"title": {"x"}}},
			{base + "/tasks/" + strconv.FormatInt(taskIDs[1], 10), url.Values{"action": {"done"}}},
			{base + "/observables", url.Values{"type": {"ip"}, "value": {"192.0.2.1"}, "tlp": {"AMBER"}}},
			{obsPath + "/remove", nil},
			{base + "/notes", url.Values{"body": {"x"}}},
		} {
			if res := aud.PostForm(post.path, post.form); res.StatusCode != http.StatusForbidden {
				t.Errorf("auditor POST %s = %d, want 403", post.path, res.StatusCode)
			}
		}

		// An entity member and an anonymous visitor reach nothing.
		m := e.Login(t, member.Email, webtest.Password(member.Email))
		anon := e.Browser(t)
		lacks(t, "member's home", m.Get("/"), `href="/en/cases"`)
		for _, p := range []string{"/cases", "/cases/new", "/cases/tasks", base, base + "/tasks", base + "/observables", obsPath, base + "/timeline"} {
			res := m.Get(p)
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("member GET %s = %d, want 404", p, res.StatusCode)
			}
			lacks(t, "member's "+p, res, title, "CASE-2026-000001")
			res = anon.Get(p)
			if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "/login") {
				t.Errorf("anonymous GET %s = %d to %q, want the login page", p, res.StatusCode, res.Header.Get("Location"))
			}
		}
		for _, p := range []string{"/cases/new", base, base + "/notes", base + "/tasks", base + "/observables", obsPath + "/remove"} {
			if res := m.PostForm(p, url.Values{"title": {"x"}, "body": {"x"}}); res.StatusCode != http.StatusNotFound {
				t.Errorf("member POST %s = %d, want 404", p, res.StatusCode)
			}
			if res := anon.PostForm(p, url.Values{"title": {"x"}, "body": {"x"}}); res.StatusCode == http.StatusOK || res.StatusCode == http.StatusSeeOther &&
				!strings.Contains(res.Header.Get("Location"), "/login") {
				t.Errorf("anonymous POST %s = %d to %q", p, res.StatusCode, res.Header.Get("Location"))
			}
		}
		var notes int
		if err := db.QueryRow(t.Context(), `SELECT COUNT(*) FROM case_events WHERE case_id = ? AND kind = 'note'`, caseID).Scan(&notes); err != nil || notes != 1 {
			t.Errorf("notes on the case = %d, %v; want 1", notes, err)
		}
	})
}
