package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/cases"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/reporting"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/web"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// caseView is the part of a Case the tests look at.
type caseView struct {
	ID             int64        `json:"id"`
	Ref            string       `json:"ref"`
	Title          string       `json:"title"`
	Classification string       `json:"classification"`
	Severity       int          `json:"severity"`
	TLP            string       `json:"tlp"`
	Status         string       `json:"status"`
	Source         string       `json:"source"`
	Template       string       `json:"template"`
	ClosedAt       *time.Time   `json:"closed_at"`
	Orgs           []cases.Org  `json:"organisations"`
	Links          []cases.Link `json:"links"`
	AssigneeID     int64        `json:"assignee_id"`
}

// casesFragment reads the paths of the cases' API fragment: other files of
// the package document other routes under /api/v1/cases.
func casesFragment(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "cases", "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	var frag struct {
		Paths map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(b, &frag); err != nil {
		t.Fatal(err)
	}
	return frag.Paths
}

// TestCasesAPI works cases through the JSON API only, on both databases:
// an analyst opens a case from a template and one from a NIS2 incident,
// works tasks (with the overdue view), observables and their sightings,
// notes and links, and closes the case; every response is checked
// against the OpenAPI document, and every refusal is checked too.
func TestCasesAPI(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := webtest.New(t, db, false)
		spec := loadRegSpec(t, e)
		authority, err := e.App.Identity.AuthorityOrg(webtest.System())
		if err != nil {
			t.Fatal(err)
		}
		ana := e.User(t, authority.ID, "ana@ccb.example", "analyst")
		aud := e.User(t, authority.ID, "aud@ccb.example", "auditor")
		orgA, orgB := e.Org(t, "Grid A", "entity"), e.Org(t, "Water B", "entity")
		memA := e.User(t, orgA.ID, "soc@a.example", "member")
		anaTok := e.Token(t, ana, "read", "write")
		a := e.API(t, anaTok)
		aRO := e.API(t, e.Token(t, ana, "read"))
		audAPI := e.API(t, e.Token(t, aud, "read", "write"))
		mem := e.API(t, e.Token(t, memA, "read", "write"))
		anon := e.API(t, "")

		// Grid A reports an incident through the reporting service.
		asA := auth.With(t.Context(), &auth.Principal{UserID: memA.ID, OrgID: orgA.ID, OrgKind: "entity", Email: memA.Email, Roles: []auth.Role{auth.RoleMember}})
		inc, err := e.App.Reports.CreateIncident(asA, reporting.IncidentInput{Title: "Ransomware at Grid A", AwareAt: time.Now().Add(-2 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}

		const (
			list     = "/api/v1/cases"
			one      = "/api/v1/cases/{id}"
			byRef    = "/api/v1/cases/by-ref"
			tmplP    = "/api/v1/cases/templates"
			allTasks = "/api/v1/cases/tasks"
			linksP   = "/api/v1/cases/{id}/links"
			tasksP   = "/api/v1/cases/{id}/tasks"
			taskP    = "/api/v1/cases/{id}/tasks/{task}"
			obsP     = "/api/v1/cases/{id}/observables"
			oneObs   = "/api/v1/cases/{id}/observables/{obs}"
			simP     = "/api/v1/cases/{id}/observables/{obs}/similar"
			tlP      = "/api/v1/cases/{id}/timeline"
			notesP   = "/api/v1/cases/{id}/notes"
		)
		at := func(tmpl string, ids ...int64) string {
			for i, name := range []string{"{id}", "{task}", "{obs}"} {
				if i < len(ids) {
					tmpl = strings.Replace(tmpl, name, fmt.Sprint(ids[i]), 1)
				}
			}
			return tmpl
		}
		atObs := func(tmpl string, id, obs int64) string {
			return strings.Replace(at(tmpl, id), "{obs}", fmt.Sprint(obs), 1)
		}

		// The templates, with their tasks' titles in the request's language.
		res := a.Raw().Do("GET", tmplP, nil, http.Header{"Authorization": {"Bearer " + anaTok}, "Accept-Language": {"fr"}})
		spec.check(t, res, "GET", tmplP, 200)
		var tmpls struct {
			Items []struct {
				Name  string `json:"name"`
				Tasks []struct {
					Title      string    `json:"title"`
					SLA        [4]string `json:"sla"`
					DueSeconds [4]int64  `json:"due_seconds"`
				} `json:"tasks"`
			} `json:"items"`
		}
		res.JSON(t, &tmpls)
		if len(tmpls.Items) != len(cases.Templates) {
			t.Fatalf("templates: %d, want %d", len(tmpls.Items), len(cases.Templates))
		}
		for _, tm := range tmpls.Items {
			if tm.Name != "ransomware" {
				continue
			}
			first := tm.Tasks[0]
			if first.Title != "Contacter l’organisation et confirmer l’étendue" || first.SLA != [4]string{"1d", "8h", "2h", "1h"} || first.DueSeconds[3] != 3600 {
				t.Errorf("ransomware's first task: %+v", first)
			}
		}

		// A case from the ransomware template: tasks due by its SLAs.
		res = a.Do("POST", list, map[string]any{"title": "Ransomware at Grid A", "template": "ransomware", "organisations": []int64{orgA.ID},
			"assignee_id": ana.ID})
		spec.check(t, res, "POST", list, 201)
		var c1 caseView
		res.JSON(t, &c1)
		if !strings.HasPrefix(c1.Ref, "CASE-") || c1.Severity != 4 || c1.Template != "ransomware" || c1.Classification != "malicious-code/infected-system" ||
			len(c1.Orgs) != 1 || c1.Orgs[0].ID != orgA.ID || c1.Status != "new" || c1.Source != "manual" || c1.AssigneeID != ana.ID {
			t.Fatalf("created: %+v", c1)
		}
		if loc := res.Header.Get("Location"); loc != at(one, c1.ID) {
			t.Errorf("Location %q", loc)
		}

		// A case from the NIS2 incident: its title, organisation and a link.
		res = a.Do("POST", list, map[string]any{"from": map[string]any{"incident": inc.ID}, "template": "phishing", "tlp": "tlp:green"})
		spec.check(t, res, "POST", list, 201)
		var c2 caseView
		res.JSON(t, &c2)
		if c2.Source != "report" || c2.TLP != "GREEN" || !strings.Contains(c2.Title, inc.Ref) || len(c2.Orgs) != 1 || c2.Orgs[0].ID != orgA.ID ||
			!slices.Contains(c2.Links, cases.Link{Kind: "incident", Target: inc.Ref}) {
			t.Fatalf("from incident: %+v", c2)
		}
		problem(t, a.Do("POST", list, map[string]any{"from": map[string]any{"incident": 999999}}), 422, "from.incident")
		problem(t, a.Do("POST", list, map[string]any{"from": map[string]any{"incident": inc.ID, "feed_events": []int64{1}}}), 422, "from")
		problem(t, a.Do("POST", list, map[string]any{"from": map[string]any{}}), 422, "from")
		problem(t, a.Do("POST", list, map[string]any{"from": map[string]any{"feed_events": []int64{999999}}}), 422, "from.feed_events")

		// Reading: by id and by reference (any case).
		res = a.Do("GET", at(one, c1.ID), nil)
		spec.check(t, res, "GET", one, 200)
		res = aRO.Do("GET", byRef+"?ref="+strings.ToLower(c1.Ref), nil)
		spec.check(t, res, "GET", byRef, 200)
		var got caseView
		res.JSON(t, &got)
		if got.ID != c1.ID {
			t.Errorf("by ref: %+v", got)
		}
		problem(t, a.Do("GET", byRef+"?ref=CASE-1999-000001", nil), 404, "")
		problem(t, a.Do("GET", byRef, nil), 404, "")
		problem(t, a.Do("GET", at(one, 999999), nil), 404, "")

		// Tasks: the template's six, one added by hand already overdue.
		res = a.Do("GET", at(tasksP, c1.ID), nil)
		spec.check(t, res, "GET", tasksP, 200)
		var tasks struct {
			Items []struct {
				ID     int64      `json:"id"`
				Title  string     `json:"title"`
				Status string     `json:"status"`
				DueAt  *time.Time `json:"due_at"`
				SLA    string     `json:"sla"`
			} `json:"items"`
		}
		res.JSON(t, &tasks)
		if len(tasks.Items) != 6 || tasks.Items[0].SLA != "1h" || tasks.Items[0].DueAt == nil {
			t.Fatalf("template tasks: %+v", tasks.Items)
		}
		past := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
		res = a.Do("POST", at(tasksP, c1.ID), map[string]any{"title": "Call the SOC of Grid A", "owner_id": ana.ID, "due_at": past})
		spec.check(t, res, "POST", tasksP, 201)
		var task struct {
			ID      int64  `json:"id"`
			Status  string `json:"status"`
			CaseRef string `json:"case_ref"`
		}
		res.JSON(t, &task)
		if task.Status != "open" || task.CaseRef != c1.Ref {
			t.Errorf("added task %+v", task)
		}
		problem(t, a.Do("POST", at(tasksP, c1.ID), map[string]any{"title": " "}), 422, "title")
		problem(t, a.Do("POST", at(tasksP, c1.ID), map[string]any{"title": "X", "owner_id": memA.ID}), 422, "owner_id")
		overdue := func(query string) []string {
			t.Helper()
			res := aRO.Do("GET", allTasks+query, nil)
			spec.check(t, res, "GET", allTasks, 200)
			var p struct {
				Items []struct {
					Title string `json:"title"`
				} `json:"items"`
				More bool `json:"more"`
			}
			res.JSON(t, &p)
			var out []string
			for _, it := range p.Items {
				out = append(out, it.Title)
			}
			return out
		}
		if got := overdue("?overdue=true"); !slices.Equal(got, []string{"Call the SOC of Grid A"}) {
			t.Errorf("overdue: %v", got)
		}
		if got := overdue("?owner=me"); len(got) != 1 {
			t.Errorf("my tasks: %v", got)
		}
		if got := overdue(""); len(got) != 6+5+1 { // every open task with a due time
			t.Errorf("open tasks: %d", len(got))
		}
		if got := overdue("?limit=2"); len(got) != 2 {
			t.Errorf("a page of 2: %v", got)
		}
		problem(t, a.Do("GET", allTasks+"?overdue=maybe", nil), 422, "overdue")
		problem(t, a.Do("GET", allTasks+"?owner=someone", nil), 422, "owner")
		res = a.Do("PATCH", at(taskP, c1.ID, task.ID), map[string]any{"status": "done"})
		spec.check(t, res, "PATCH", taskP, 200)
		if got := overdue("?overdue=true"); len(got) != 0 {
			t.Errorf("overdue after done: %v", got)
		}
		problem(t, a.Do("PATCH", at(taskP, c1.ID, task.ID), map[string]any{"status": "finished"}), 422, "status")
		problem(t, a.Do("PATCH", at(taskP, c2.ID, task.ID), map[string]any{"status": "open"}), 404, "") // another case's task
		problem(t, a.Do("PATCH", at(taskP, c1.ID, 999999), map[string]any{"status": "open"}), 404, "")

		// Observables: one value in two cases is one observable, with its
		// sightings.
		res = a.Do("POST", at(obsP, c1.ID), map[string]any{"type": "domain", "value": "Login-Bank.Example.", "tlp": "green", "ioc": true})
		spec.check(t, res, "POST", obsP, 201)
		var o1 struct {
			ID         int64  `json:"id"`
			Value      string `json:"value"`
			OtherCases int    `json:"other_cases"`
		}
		res.JSON(t, &o1)
		if o1.Value != "login-bank.example" || o1.OtherCases != 0 {
			t.Errorf("observable %+v", o1)
		}
		res = a.Do("POST", at(obsP, c2.ID), map[string]any{"type": "domain", "value": "LOGIN-BANK.example", "tlp": "AMBER"})
		spec.check(t, res, "POST", obsP, 201)
		o2 := o1
		res.JSON(t, &o2)
		if o2.ID != o1.ID || o2.OtherCases != 1 {
			t.Errorf("same value in the second case: %+v", o2)
		}
		problem(t, a.Do("POST", at(obsP, c1.ID), map[string]any{"type": "ip", "value": "300.1.1.1", "tlp": "AMBER"}), 422, "value")
		problem(t, a.Do("POST", at(obsP, c1.ID), map[string]any{"type": "ip", "value": "192.0.2.1", "tlp": "PURPLE"}), 422, "tlp")
		res = a.Do("GET", at(obsP, c1.ID), nil)
		spec.check(t, res, "GET", obsP, 200)
		similar := func(caseID int64) []string {
			t.Helper()
			res := aRO.Do("GET", atObs(simP, caseID, o1.ID), nil)
			spec.check(t, res, "GET", simP, 200)
			var s struct {
				Cases []struct {
					Ref string `json:"ref"`
				} `json:"cases"`
			}
			res.JSON(t, &s)
			var out []string
			for _, c := range s.Cases {
				out = append(out, c.Ref)
			}
			return out
		}
		if got := similar(c1.ID); !slices.Equal(got, []string{c2.Ref}) {
			t.Errorf("similar to c1's: %v", got)
		}
		res = a.Do("DELETE", atObs(oneObs, c2.ID, o1.ID), nil)
		spec.check(t, res, "DELETE", oneObs, 204)
		if got := similar(c1.ID); len(got) != 0 {
			t.Errorf("similar after removal: %v", got)
		}
		problem(t, a.Do("DELETE", atObs(oneObs, c2.ID, o1.ID), nil), 404, "")
		problem(t, a.Do("GET", atObs(simP, c2.ID, o1.ID), nil), 404, "") // no longer c2's
		problem(t, a.Do("GET", atObs(simP, c1.ID, o1.ID)+"?limit=0", nil), 422, "limit")

		// Notes: Markdown rendered safely, with their label.
		res = a.Do("POST", at(notesP, c1.ID), map[string]any{"body": "**Seen** at [the gateway](https://gw.example)\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))", "tlp": "red"})
		spec.check(t, res, "POST", notesP, 201)
		var note struct {
			Kind string `json:"kind"`
			TLP  string `json:"tlp"`
			HTML string `json:"html"`
		}
		res.JSON(t, &note)
		if note.Kind != "note" || note.TLP != "RED" || !strings.Contains(note.HTML, "<strong>Seen</strong>") || strings.Contains(note.HTML, "<script") ||
			strings.Contains(note.HTML, "javascript:") {
			t.Errorf("note %+v", note)
		}
		problem(t, a.Do("POST", at(notesP, c1.ID), map[string]any{"body": "  "}), 422, "body")

		// Links: to the incident, and to the other case.
		res = a.Do("POST", at(linksP, c1.ID), map[string]any{"kind": "incident", "target": inc.Ref})
		spec.check(t, res, "POST", linksP, 200)
		res = a.Do("POST", at(linksP, c1.ID), map[string]any{"kind": "case", "target": strings.ToLower(c2.Ref)})
		spec.check(t, res, "POST", linksP, 200)
		res.JSON(t, &got)
		if !slices.Contains(got.Links, cases.Link{Kind: "incident", Target: inc.Ref}) || !slices.Contains(got.Links, cases.Link{Kind: "case", Target: c2.Ref}) {
			t.Errorf("links %+v", got.Links)
		}
		problem(t, a.Do("POST", at(linksP, c1.ID), map[string]any{"kind": "incident", "target": "INC-1999-000001"}), 422, "target")
		problem(t, a.Do("POST", at(linksP, c1.ID), map[string]any{"kind": "ticket", "target": "X"}), 422, "kind")
		problem(t, a.Do("POST", at(linksP, c1.ID), map[string]any{"kind": "case", "target": c1.Ref}), 422, "target")

		// The timeline has every step, newest first, each with its HTML.
		res = aRO.Do("GET", at(tlP, c1.ID), nil)
		spec.check(t, res, "GET", tlP, 200)
		var tl struct {
			Items []struct {
				Kind string `json:"kind"`
				HTML string `json:"html"`
			} `json:"items"`
		}
		res.JSON(t, &tl)
		var kinds []string
		for _, it := range tl.Items {
			kinds = append(kinds, it.Kind)
		}
		if len(kinds) < 6 || kinds[0] != "link" || kinds[len(kinds)-1] != "create" || !slices.Contains(kinds, "note") || !slices.Contains(kinds, "task_done") {
			t.Errorf("timeline kinds %v", kinds)
		}

		// Closing needs a resolution.
		problem(t, a.Do("PATCH", at(one, c1.ID), map[string]any{"status": "closed"}), 422, "resolution")
		problem(t, a.Do("PATCH", at(one, c1.ID), map[string]any{"template": "ddos"}), 422, "template")
		problem(t, a.Do("PATCH", at(one, c1.ID), map[string]any{"severity": 7, "tlp": "PURPLE", "assignee_id": memA.ID}), 422, "severity")
		res = a.Do("PATCH", at(one, c1.ID), map[string]any{"status": "closed", "resolution": "Restored from backups."})
		spec.check(t, res, "PATCH", one, 200)
		res.JSON(t, &got)
		if got.Status != "closed" || got.ClosedAt == nil || got.Severity != 4 {
			t.Errorf("closed: %+v", got)
		}

		// The list: filters, search and pages without a count.
		page := func(c *webtest.API, query string) ([]string, bool) {
			t.Helper()
			res := c.Do("GET", list+query, nil)
			spec.check(t, res, "GET", list, 200)
			var p struct {
				Items []caseView `json:"items"`
				More  bool       `json:"more"`
			}
			res.JSON(t, &p)
			var out []string
			for _, c := range p.Items {
				out = append(out, c.Ref)
			}
			return out, p.More
		}
		for query, want := range map[string][]string{
			"":                                {c1.Ref, c2.Ref},
			"?status=closed":                  {c1.Ref},
			"?status=active":                  {c2.Ref},
			"?severity=critical":              {c1.Ref},
			"?severity=4":                     {c1.Ref},
			"?template=phishing":              {c2.Ref},
			"?org=" + fmt.Sprint(orgA.ID):     {c1.Ref, c2.Ref},
			"?org=" + fmt.Sprint(orgB.ID):     nil,
			"?assignee=" + fmt.Sprint(ana.ID): {c1.Ref},
			"?exercise=true":                  nil,
			"?q=ransom":                       {c1.Ref, c2.Ref},
			"?q=" + c2.Ref:                    {c2.Ref},
		} {
			got, more := page(audAPI, query)
			slices.Sort(got)
			if !slices.Equal(got, want) || more {
				t.Errorf("GET %s%s: %v (more %v), want %v", list, query, got, more, want)
			}
		}
		if got, _ := page(a, "?assignee=me"); !slices.Equal(got, []string{c1.Ref}) {
			t.Errorf("my cases: %v", got)
		}
		// List items carry their organisations and links as a case does.
		res = a.Do("GET", list+"?q="+c2.Ref, nil)
		var items struct {
			Items []caseView `json:"items"`
		}
		res.JSON(t, &items)
		if len(items.Items) != 1 || len(items.Items[0].Orgs) != 1 || items.Items[0].Orgs[0].Name != "Grid A" || len(items.Items[0].Links) != 1 {
			t.Errorf("list item %+v", items.Items)
		}
		if got, more := page(a, "?limit=1"); len(got) != 1 || !more {
			t.Errorf("a page of 1: %v, more %v", got, more)
		}
		if got, more := page(a, "?limit=1&offset=1"); len(got) != 1 || more {
			t.Errorf("the second page of 1: %v, more %v", got, more)
		}
		for param, query := range map[string]string{"severity": "?severity=9", "status": "?status=gone", "exercise": "?exercise=maybe",
			"org": "?org=x", "assignee": "?assignee=-1", "template": "?template=flood", "limit": "?limit=0"} {
			problem(t, a.Do("GET", list+query, nil), 422, param)
		}

		// Field errors and malformed bodies.
		problem(t, a.Do("POST", list, map[string]any{}), 422, "title")
		p := problem(t, a.Do("POST", list, map[string]any{"title": "X", "severity": 9, "tlp": "PURPLE", "pap": "X"}), 422, "severity")
		for _, f := range []string{"tlp", "pap"} {
			if !slices.ContainsFunc(p.Errors, func(e web.ProblemField) bool { return e.Field == f }) {
				t.Errorf("errors %+v, want %s too", p.Errors, f)
			}
		}
		problem(t, a.Do("POST", list, map[string]any{"title": "X", "template": "flood"}), 422, "template")
		problem(t, a.Do("POST", list, map[string]any{"title": "X", "organisations": []int64{authority.ID}}), 422, "organisations")
		problem(t, a.Do("POST", list, map[string]any{"title": "X", "colour": "red"}), 422, "colour")
		problem(t, a.Do("POST", list, `{"title": `), 400, "")

		// Who may do what: no token 401; a read-only token and staff who do
		// not work cases 403 on writes; organisations 403 on the
		// collections and 404 on every route naming a case.
		problem(t, anon.Do("GET", list, nil), 401, "")
		problem(t, anon.Do("GET", at(one, c2.ID), nil), 401, "")
		problem(t, aRO.Do("POST", list, map[string]any{"title": "X"}), 403, "")
		problem(t, aRO.Do("PATCH", at(one, c2.ID), map[string]any{"title": "X"}), 403, "")
		problem(t, aRO.Do("POST", at(notesP, c2.ID), map[string]any{"body": "X"}), 403, "")
		problem(t, audAPI.Do("POST", list, map[string]any{"title": "X"}), 403, "")
		problem(t, audAPI.Do("PATCH", at(one, c2.ID), map[string]any{"title": "X"}), 403, "")
		problem(t, audAPI.Do("POST", at(tasksP, c2.ID), map[string]any{"title": "X"}), 403, "")
		problem(t, audAPI.Do("DELETE", atObs(oneObs, c1.ID, o1.ID), nil), 403, "")
		spec.check(t, audAPI.Do("GET", at(one, c2.ID), nil), "GET", one, 200)
		problem(t, mem.Do("GET", list, nil), 403, "")
		problem(t, mem.Do("POST", list, map[string]any{"title": "X"}), 403, "")
		problem(t, mem.Do("GET", allTasks, nil), 403, "")
		problem(t, mem.Do("GET", tmplP, nil), 403, "")
		problem(t, mem.Do("GET", byRef+"?ref="+c2.Ref, nil), 404, "")
		frag := casesFragment(t)
		walked := 0
		for _, r := range e.App.Web.Routes() {
			method, path, _ := strings.Cut(r.Pattern, " ")
			if _, ours := frag[path]; !ours || !strings.Contains(path, "{id}") {
				continue
			}
			walked++
			var body any
			if method != "GET" && method != "DELETE" {
				body = map[string]any{}
			}
			res := mem.Do(method, atObs(strings.Replace(path, "{task}", fmt.Sprint(task.ID), 1), c1.ID, o1.ID), body)
			problem(t, res, 404, "")
			if strings.Contains(res.Body, "Grid A") || strings.Contains(res.Body, c1.Ref) {
				t.Errorf("%s as an organisation shows the case: %s", r.Pattern, res.Body)
			}
		}
		if walked < 12 {
			t.Errorf("%d routes naming a case walked", walked)
		}
		// Nothing the refusals tried was written.
		res = a.Do("GET", at(one, c2.ID), nil)
		res.JSON(t, &got)
		if got.Title == "X" {
			t.Errorf("a refused change was written: %+v", got)
		}
	})
}

// TestCasesOpenAPIFragment checks the conventions of the cases' fragment:
// it documents exactly the routes of the cases' API, and its schemas
// follow the Go types and enumerations.
func TestCasesOpenAPIFragment(t *testing.T) {
	e := webtest.New(t, dbtest.SQLite(t), false)
	spec := loadRegSpec(t, e)
	frag := casesFragment(t)
	documented := map[string]bool{}
	for path, item := range frag {
		for method, raw := range item.(map[string]any) {
			if method == "parameters" {
				continue
			}
			documented[strings.ToUpper(method)+" "+path] = true
			op := raw.(map[string]any)
			if op["operationId"] == nil || op["summary"] == nil {
				t.Errorf("%s %s: operationId or summary missing", method, path)
			}
			if tags, _ := op["tags"].([]any); !slices.Equal(tags, []any{"cases"}) {
				t.Errorf("%s %s: tags %v, want [cases]", method, path, tags)
			}
			responses := op["responses"].(map[string]any)
			if responses["401"] == nil {
				t.Errorf("%s %s does not document 401", method, path)
			}
			if strings.Contains(path, "{id}") && responses["404"] == nil {
				t.Errorf("%s %s does not document 404", method, path)
			}
			if method != "get" && responses["403"] == nil {
				t.Errorf("%s %s writes but does not document 403", method, path)
			}
			if body, ok := op["requestBody"].(map[string]any); ok {
				for _, st := range []string{"400", "401", "413", "415", "422"} {
					if responses[st] == nil {
						t.Errorf("%s %s takes a JSON body but does not document %s", method, path, st)
					}
				}
				if _, isJSON := body["content"].(map[string]any)["application/json"]; !isJSON {
					t.Errorf("%s %s: body is not JSON", method, path)
				}
			}
		}
	}
	// Exactly the routes: every documented operation is served, and every
	// route on a path of the fragment is documented in it. (The global
	// TestOpenAPIMatchesRoutes finds routes no fragment documents.)
	served := map[string]bool{}
	for _, r := range e.App.Web.Routes() {
		if _, path, _ := strings.Cut(r.Pattern, " "); r.API && frag[path] != nil {
			served[r.Pattern] = true
		}
	}
	for op := range documented {
		if !served[op] {
			t.Errorf("%s is documented but not served", op)
		}
	}
	for op := range served {
		if !documented[op] {
			t.Errorf("%s is served but not documented in the cases' fragment", op)
		}
	}
	if len(documented) < 17 {
		t.Errorf("%d case operations documented, want at least 17", len(documented))
	}
	keys := func(m map[string]any) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	props := func(name string) []string {
		return keys(spec.pointer(t, "#/components/schemas/"+name)["properties"].(map[string]any))
	}
	strs := func(v any) []string {
		var out []string
		for _, x := range v.([]any) {
			out = append(out, x.(string))
		}
		slices.Sort(out)
		return out
	}
	for name, typ := range map[string]reflect.Type{
		"Case":                reflect.TypeFor[cases.Case](),
		"CaseOrg":             reflect.TypeFor[cases.Org](),
		"CaseLink":            reflect.TypeFor[cases.Link](),
		"CaseTask":            reflect.TypeFor[cases.Task](),
		"CaseTaskInput":       reflect.TypeFor[cases.TaskInput](),
		"CaseObservable":      reflect.TypeFor[cases.Observable](),
		"CaseObservableInput": reflect.TypeFor[cases.ObservableInput](),
		"CaseSightings":       reflect.TypeFor[cases.Sightings](),
		"CaseSighting":        reflect.TypeFor[cases.CaseSighting](),
		"CaseEventSighting":   reflect.TypeFor[cases.EventSighting](),
		"CaseTemplate":        reflect.TypeFor[cases.Template](),
	} {
		sch := spec.pointer(t, "#/components/schemas/"+name)
		all, always := jsonMembers(typ)
		if got := props(name); !slices.Equal(got, all) {
			t.Errorf("schema %s documents %v; %s has %v", name, got, typ, all)
		}
		if ap, ok := sch["additionalProperties"].(bool); !ok || ap {
			t.Errorf("schema %s: want additionalProperties false", name)
		}
		if strings.HasSuffix(name, "Input") {
			continue
		}
		var req []string
		if sch["required"] != nil {
			req = strs(sch["required"])
		}
		if !slices.Equal(req, always) {
			t.Errorf("schema %s requires %v; %s always sends %v", name, req, typ, always)
		}
	}
	// The API's own shapes around the service's types.
	input, _ := jsonMembers(reflect.TypeFor[cases.Input]())
	event, _ := jsonMembers(reflect.TypeFor[cases.Event]())
	sorted := func(xs ...string) []string { return slices.Sorted(slices.Values(xs)) }
	for name, want := range map[string][]string{
		"CaseCreateInput":  sorted(append(slices.Clone(input), "from")...),
		"CaseUpdateInput":  slices.DeleteFunc(slices.Clone(input), func(s string) bool { return s == "template" }),
		"CaseFrom":         {"feed_events", "incident"},
		"CaseEvent":        sorted(append(slices.Clone(event), "html")...),
		"CaseNoteInput":    {"body", "tlp"},
		"CaseTemplateTask": {"due_seconds", "key", "sla", "title"},
		"CasePage":         {"items", "limit", "more", "offset"},
		"CaseTaskPage":     {"items", "limit", "more", "offset"},
	} {
		if got := props(name); !slices.Equal(got, want) {
			t.Errorf("schema %s documents %v, want %v", name, got, want)
		}
	}
	var names []string
	for _, tm := range cases.Templates {
		names = append(names, tm.Name)
	}
	for name, want := range map[string][]string{"CaseStatus": cases.Statuses, "CaseTLP": cases.TLPs, "CasePAP": cases.PAPs,
		"CaseLinkKind": cases.LinkKinds, "CaseTaskStatus": cases.TaskStatuses, "CaseObservableType": cases.ObservableTypes, "CaseTemplateName": names} {
		if got := spec.enum(t, name); !slices.Equal(got, want) {
			t.Errorf("%s %v, want %v", name, got, want)
		}
	}
	var sev []int
	for _, v := range spec.pointer(t, "#/components/schemas/CaseSeverity")["enum"].([]any) {
		sev = append(sev, int(v.(float64)))
	}
	if !slices.Equal(sev, cases.Severities) {
		t.Errorf("CaseSeverity %v, want %v", sev, cases.Severities)
	}
}
