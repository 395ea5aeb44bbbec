package app_test

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/belfry-cert/belfry/internal/crisis"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/web"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// crisisEnv starts an instance; app.go wires the crisis API.
func crisisEnv(t *testing.T, db *store.DB) *webtest.Env {
	t.Helper()
	e := webtest.New(t, db, false)
	if !slices.ContainsFunc(e.App.Web.Routes(), func(r web.Route) bool { return r.Pattern == "GET /api/v1/crises" }) {
		t.Fatal("the crisis API is not registered")
	}
	return e
}

// TestCrisisAPI runs a crisis through the API on both databases: declare,
// participants with their access, decisions, a sitrep published and
// exported, a call-out acknowledged through its link, and the tenant
// boundary on every crisis route.
func TestCrisisAPI(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := crisisEnv(t, db)
		spec := loadRegSpec(t, e)
		// Every crisis route is documented, and every documented one exists.
		paths := spec.pointer(t, "#/paths")
		documented := 0
		for _, r := range e.App.Web.Routes() {
			method, pattern, _ := strings.Cut(r.Pattern, " ")
			if !strings.HasPrefix(pattern, "/api/v1/crises") && !strings.HasPrefix(pattern, "/api/v1/callouts") {
				continue
			}
			documented++
			if item, _ := paths[pattern].(map[string]any); item == nil || item[strings.ToLower(method)] == nil {
				t.Errorf("route %s is not documented", r.Pattern)
			}
		}
		for p, item := range paths {
			if strings.HasPrefix(p, "/api/v1/crises") || strings.HasPrefix(p, "/api/v1/callouts") {
				documented -= len(item.(map[string]any))
			}
		}
		if documented != 0 {
			t.Errorf("documented and registered crisis operations differ by %d", documented)
		}
		var authorityID int64
		if err := db.QueryRow(t.Context(), `SELECT id FROM organisations WHERE kind = 'authority' ORDER BY id LIMIT 1`).Scan(&authorityID); err != nil {
			t.Fatal(err)
		}
		manager := e.User(t, authorityID, "crisis.manager@ccb.example", "crisis_manager")
		api := e.API(t, e.Token(t, manager, "read", "write"))
		a := e.Org(t, "Victim Grid Operator", "entity")
		aUser := e.User(t, a.ID, "soc@victim-grid.example", "member")
		aAPI := e.API(t, e.Token(t, aUser, "read", "write"))
		c := e.Org(t, "Intruder Logistics", "entity")
		cAPI := e.API(t, e.Token(t, e.User(t, c.ID, "intruder@intruder.example", "org_admin"), "read", "write"))

		res := api.Do("POST", "/api/v1/crises", map[string]any{"title": "Victim grid blackout", "level": "national_impact", "tlp": "AMBER",
			"exercise": true, "sitrep_interval": 60})
		spec.check(t, res, "POST", "/api/v1/crises", 201)
		var cr crisis.Crisis
		res.JSON(t, &cr)
		id := strconv.FormatInt(cr.ID, 10)
		base := "/api/v1/crises/" + id
		if cr.Ref == "" || cr.Access != "manage" || cr.LevelNumber != 3 {
			t.Errorf("declared %+v", cr)
		}
		res = api.Do("POST", base+"/participants", map[string]any{"organisation_id": a.ID, "party": "affected_organisation", "access": "sitreps"})
		spec.check(t, res, "POST", "/api/v1/crises/{id}/participants", 201)
		var part crisis.Participant
		res.JSON(t, &part)
		spec.check(t, api.Do("POST", base+"/decisions", map[string]any{"decision": "Victim decision: isolate substations", "basis": "RRT advice"}),
			"POST", "/api/v1/crises/{id}/decisions", 201)
		spec.check(t, api.Do("PUT", base+"/sectors", map[string]any{"sectors": []string{"energy"}}), "PUT", "/api/v1/crises/{id}/sectors", 200)
		res = api.Do("POST", base+"/actions", map[string]any{"title": "Victim action: call the DSOs", "owner": "CERT.be"})
		spec.check(t, res, "POST", "/api/v1/crises/{id}/actions", 201)
		var act crisis.Action
		res.JSON(t, &act)
		spec.check(t, api.Do("GET", base+"/actions?overdue=true", nil), "GET", "/api/v1/crises/{id}/actions", 200)
		res = api.Do("POST", base+"/sitreps", map[string]any{"situation": "Victim situation text", "impact": "Victim impact text"})
		spec.check(t, res, "POST", "/api/v1/crises/{id}/sitreps", 201)
		var draft crisis.Sitrep
		res.JSON(t, &draft)
		sid := strconv.FormatInt(draft.ID, 10)
		res = api.Do("POST", base+"/sitreps/"+sid+"/publish", nil)
		spec.check(t, res, "POST", "/api/v1/crises/{id}/sitreps/{sitrep}/publish", 200)
		var pub crisis.Sitrep
		res.JSON(t, &pub)
		if pub.Number != 1 || pub.Recipients != 2 { // the manager and A's member
			t.Errorf("published %+v", pub)
		}
		spec.check(t, api.Do("PATCH", base+"/sitreps/"+sid, map[string]any{"situation": "changed"}), "PATCH", "/api/v1/crises/{id}/sitreps/{sitrep}", 409)
		var subject string
		if err := db.QueryRow(t.Context(), `SELECT args FROM river_job WHERE kind = 'mail' ORDER BY id DESC LIMIT 1`).Scan(&subject); err != nil ||
			!strings.Contains(subject, `[TLP:AMBER] `+cr.Ref+`: [EXERCISE] `) {
			t.Errorf("queued sitrep mail: %.300s, %v", subject, err)
		}

		// Exports.
		res = aAPI.Do("GET", base+"/sitreps/"+sid+"/export?format=html", nil)
		spec.check(t, res, "GET", "/api/v1/crises/{id}/sitreps/{sitrep}/export", 200)
		if !strings.Contains(res.Body, "<strong>TLP:AMBER</strong>") || strings.Count(res.Body, "exercise exercise-") != 2 ||
			!strings.Contains(res.Header.Get("Content-Disposition"), cr.Ref+"-sitrep-1.html") {
			t.Errorf("html export: %s\n%.500s", res.Header, res.Body)
		}
		res = aAPI.Do("GET", base+"/sitreps/"+sid+"/export?format=md", nil)
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/markdown") || !strings.HasPrefix(res.Body, "**TLP:AMBER**") {
			t.Errorf("md export %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}

		// A reads sitreps, not decisions.
		spec.check(t, aAPI.Do("GET", base, nil), "GET", "/api/v1/crises/{id}", 200)
		spec.check(t, aAPI.Do("GET", base+"/sitreps", nil), "GET", "/api/v1/crises/{id}/sitreps", 200)
		spec.check(t, aAPI.Do("GET", base+"/decisions", nil), "GET", "/api/v1/crises/{id}/decisions", 403)
		spec.check(t, aAPI.Do("POST", base+"/decisions", map[string]any{"decision": "x", "basis": "y"}), "POST", "/api/v1/crises/{id}/decisions", 403)

		// A call-out to A, acknowledged through the personal link.
		res = api.Do("POST", base+"/callouts", map[string]any{"subject": "Victim bridge call", "message": "Join at 10:00", "participants": []int64{part.ID}})
		spec.check(t, res, "POST", "/api/v1/crises/{id}/callouts", 201)
		var co crisis.Callout
		res.JSON(t, &co)
		var args string
		if err := db.QueryRow(t.Context(), `SELECT args FROM river_job WHERE kind = 'mail' ORDER BY id DESC LIMIT 1`).Scan(&args); err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`/[a-z]{2}/callouts/ack\?token=([A-Za-z0-9%]+)`).FindStringSubmatch(args)
		if m == nil {
			t.Fatalf("no acknowledgement link in %.300s", args)
		}
		anon := e.API(t, "")
		spec.check(t, anon.Do("GET", "/api/v1/callouts/ack?token="+m[1], nil), "GET", "/api/v1/callouts/ack", 200)
		res = anon.Do("POST", "/api/v1/callouts/ack", map[string]any{"token": m[1]})
		spec.check(t, res, "POST", "/api/v1/callouts/ack", 200)
		spec.check(t, anon.Do("POST", "/api/v1/callouts/ack", map[string]any{"token": m[1]}), "POST", "/api/v1/callouts/ack", 200)
		spec.check(t, anon.Do("POST", "/api/v1/callouts/ack", map[string]any{"token": m[1] + "x"}), "POST", "/api/v1/callouts/ack", 404)
		spec.check(t, anon.Do("GET", "/api/v1/callouts/ack?token=nope", nil), "GET", "/api/v1/callouts/ack", 404)
		res = api.Do("GET", base+"/callouts/"+strconv.FormatInt(co.ID, 10), nil)
		spec.check(t, res, "GET", "/api/v1/crises/{id}/callouts/{callout}", 200)
		res.JSON(t, &co)
		if co.Acked != 1 || co.Read != 1 {
			t.Errorf("call-out after acknowledgement: %+v", co)
		}

		// The remaining routes answer with their documented bodies.
		for _, rt := range []struct{ path, pattern string }{
			{"/api/v1/crises", "/api/v1/crises"}, {"/api/v1/crises/levels", "/api/v1/crises/levels"},
			{"/api/v1/crises/statistics", "/api/v1/crises/statistics"}, {"/api/v1/crises/directory?sector=energy", "/api/v1/crises/directory"},
			{base + "/levels", "/api/v1/crises/{id}/levels"}, {base + "/timeline", "/api/v1/crises/{id}/timeline"},
			{base + "/participants", "/api/v1/crises/{id}/participants"}, {base + "/picture", "/api/v1/crises/{id}/picture"},
			{base + "/decisions", "/api/v1/crises/{id}/decisions"}, {base + "/sitreps/" + sid, "/api/v1/crises/{id}/sitreps/{sitrep}"},
			{base + "/callouts", "/api/v1/crises/{id}/callouts"},
		} {
			spec.check(t, api.Do("GET", rt.path, nil), "GET", rt.pattern, 200)
		}
		spec.check(t, api.Do("POST", base+"/level", map[string]any{"level": "federal_phase", "reason": "Minister's decision"}), "POST", "/api/v1/crises/{id}/level", 200)
		spec.check(t, api.Do("PATCH", base+"/actions/"+strconv.FormatInt(act.ID, 10), map[string]any{"status": "done"}), "PATCH", "/api/v1/crises/{id}/actions/{action}", 200)
		spec.check(t, api.Do("PATCH", base, map[string]any{"status": "stood_down"}), "PATCH", "/api/v1/crises/{id}", 200)

		// The tenant boundary: another organisation reaches nothing.
		res = cAPI.Do("GET", "/api/v1/crises", nil)
		if res.StatusCode != 200 || !strings.Contains(res.Body, `"total":0`) {
			t.Errorf("intruder's list: %d %s", res.StatusCode, res.Body)
		}
		crisisIsolation(t, e, cAPI, map[string]string{"id": id, "pid": strconv.FormatInt(part.ID, 10), "entry": "1",
			"action": strconv.FormatInt(act.ID, 10), "sitrep": sid, "callout": strconv.FormatInt(co.ID, 10)},
			[]string{"Victim grid blackout", "Victim decision", "Victim situation text", "Victim action", "soc@victim-grid.example", "Victim bridge call"})
	})
}

// crisisIsolation walks every crisis route as the intruder: each answers
// 403 or 404 and shows none of the markers.
func crisisIsolation(t *testing.T, e *webtest.Env, intruder *webtest.API, params map[string]string, markers []string) {
	t.Helper()
	re := regexp.MustCompile(`\{([a-z]+)\}`)
	n := 0
	for _, r := range e.App.Web.Routes() {
		method, pattern, _ := strings.Cut(r.Pattern, " ")
		if !strings.HasPrefix(pattern, "/api/v1/crises/{id}") {
			continue
		}
		n++
		path := re.ReplaceAllStringFunc(pattern, func(m string) string { return params[strings.Trim(m, "{}")] })
		var body any
		if method != "GET" && method != "DELETE" {
			body = "{}"
		}
		res := intruder.Do(method, path, body)
		if res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusForbidden {
			t.Errorf("intruder %s %s = %d, want 403 or 404", method, path, res.StatusCode)
		}
		for _, m := range markers {
			if strings.Contains(res.Body, m) {
				t.Errorf("intruder %s %s shows %q", method, path, m)
			}
		}
	}
	if n < 29 {
		t.Errorf("walked %d crisis routes, want every one", n)
	}
}
