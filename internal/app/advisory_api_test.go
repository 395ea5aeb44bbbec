package app_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/advisory"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/csaf"
	"github.com/belfry-cert/belfry/internal/csaf/csaftest"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/web"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// advDocument is a CSAF 2.0 security advisory as another publisher (a
// vendor) writes it: one product, one vulnerability, with label tlp.
// affected is the product id the vulnerability names as affected: a
// product id of the tree keeps it valid, another breaks test 6.1.1.
func advDocument(title, tlp, affected string) map[string]any {
	return map[string]any{
		"document": map[string]any{
			"category":     "csaf_security_advisory",
			"csaf_version": "2.0",
			"lang":         "en",
			"title":        title,
			"distribution": map[string]any{"tlp": map[string]any{"label": tlp}},
			"publisher":    map[string]any{"category": "vendor", "name": "Acme Industrial", "namespace": "https://acme.example"},
			"notes": []any{map[string]any{"category": "summary", "title": "Summary",
				"text": "A path traversal in the Acme PLC web interface lets an attacker read files."}},
			"references": []any{map[string]any{"category": "external", "summary": "Acme advisory", "url": "https://acme.example/psirt/acme-sa-2026-07"}},
			"tracking": map[string]any{
				"id": "ACME-SA-2026-07", "status": "final", "version": "1",
				"initial_release_date": "2026-03-02T08:00:00Z", "current_release_date": "2026-03-02T08:00:00Z",
				"revision_history": []any{map[string]any{"date": "2026-03-02T08:00:00Z", "number": "1", "summary": "Initial release"}},
			},
		},
		"product_tree": map[string]any{"branches": []any{map[string]any{"category": "vendor", "name": "Acme Industrial", "branches": []any{
			map[string]any{"category": "product_name", "name": "Acme PLC 900", "branches": []any{
				map[string]any{"category": "product_version", "name": "3.1.0", "product": map[string]any{"name": "Acme PLC 900 3.1.0", "product_id": "PLC-310"}},
				map[string]any{"category": "product_version", "name": "3.1.1", "product": map[string]any{"name": "Acme PLC 900 3.1.1", "product_id": "PLC-311"}},
			}}}}}},
		"vulnerabilities": []any{map[string]any{
			"cve":            "CVE-2026-40001",
			"title":          "Path traversal",
			"notes":          []any{map[string]any{"category": "description", "text": "Crafted requests read any file of the controller."}},
			"product_status": map[string]any{"known_affected": []any{affected}, "fixed": []any{"PLC-311"}},
			"remediations":   []any{map[string]any{"category": "vendor_fix", "details": "Update to 3.1.1.", "product_ids": []any{"PLC-310"}}},
			"scores": []any{map[string]any{"products": []any{"PLC-310"}, "cvss_v3": map[string]any{
				"version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "baseScore": 9.8, "baseSeverity": "CRITICAL",
				"attackVector": "NETWORK", "attackComplexity": "LOW", "privilegesRequired": "NONE", "userInteraction": "NONE",
				"scope": "UNCHANGED", "confidentialityImpact": "HIGH", "integrityImpact": "HIGH", "availabilityImpact": "HIGH"}}},
		}},
	}
}

// advReport is a validation report (csaf.Report) as the API sends it.
type advReport struct {
	Valid    bool         `json:"valid"`
	Findings []advFinding `json:"findings"`
}

type advFinding struct {
	Test    string `json:"test"`
	Level   string `json:"level"`
	Path    string `json:"path"`
	Message string `json:"message"`
}

// advView is the part of an Advisory the tests look at.
type advView struct {
	ID         int64  `json:"id"`
	TrackingID string `json:"tracking_id"`
	State      string `json:"state"`
	Title      string `json:"title"`
	TLP        string `json:"tlp"`
	PublishAt  string `json:"publish_at"`
	Published  *struct {
		Version  int    `json:"version"`
		Title    string `json:"title"`
		Severity string `json:"severity"`
	} `json:"published"`
}

// TestAdvisoryAPI drives advisories through the JSON API only, on both
// databases: an analyst imports a CSAF document, previews and submits it;
// a second analyst schedules, then publishes it; readers list and fetch
// what TLP lets them; every response is checked against the OpenAPI
// document.
func TestAdvisoryAPI(t *testing.T) {
	csaftest.Use(t)
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := webtest.New(t, db, false)
		spec := loadRegSpec(t, e)
		authority, err := e.App.Identity.AuthorityOrg(webtest.System())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.App.Advisories.GenerateKey(auth.With(t.Context(), auth.System), "CCB CSAF", "csaf@ccb.example"); err != nil {
			t.Fatal(err)
		}
		anaA := e.User(t, authority.ID, "ana@ccb.example", "analyst")
		anaB := e.User(t, authority.ID, "bert@ccb.example", "analyst")
		auditor := e.User(t, authority.ID, "aud@ccb.example", "auditor")
		orgX, orgY := e.Org(t, "Grid X", "entity"), e.Org(t, "Water Y", "entity")
		memX := e.User(t, orgX.ID, "soc@x.example", "member")
		memY := e.User(t, orgY.ID, "soc@y.example", "member")
		a := e.API(t, e.Token(t, anaA, "read", "write"))
		b := e.API(t, e.Token(t, anaB, "read", "write"))
		aud := e.API(t, e.Token(t, auditor, "read", "write"))
		roX := e.API(t, e.Token(t, memX, "read"))
		rwX := e.API(t, e.Token(t, memX, "read", "write"))
		roY := e.API(t, e.Token(t, memY, "read"))
		anon := e.API(t, "")

		const (
			list    = "/api/v1/advisories"
			one     = "/api/v1/advisories/{id}"
			docP    = "/api/v1/advisories/{id}/document"
			recP    = "/api/v1/advisories/{id}/recipients"
			prevP   = "/api/v1/advisories/{id}/preview"
			versP   = "/api/v1/advisories/{id}/versions"
			pubVers = "/api/v1/advisories/by-tracking-id/{tid}/versions"
			content = "/api/v1/advisories/by-tracking-id/{tid}/versions/{n}"
		)
		at := func(tmpl string, id int64) string { return strings.Replace(tmpl, "{id}", fmt.Sprint(id), 1) }
		step := func(c *webtest.API, id int64, action string, body any, status int) advView {
			t.Helper()
			res := c.Do("POST", at(one, id)+"/"+action, body)
			spec.check(t, res, "POST", one+"/"+action, status)
			var v advView
			if status == 200 {
				res.JSON(t, &v)
			}
			return v
		}

		// A imports a vendor's document: a draft with the authority's
		// tracking id, the vendor's kept as an alias.
		res := a.Do("POST", list, map[string]any{"document": advDocument("Acme PLC 900: path traversal", "WHITE", "PLC-310")})
		spec.check(t, res, "POST", list, 201)
		var adv advView
		res.JSON(t, &adv)
		if adv.State != advisory.StateDraft || !strings.HasPrefix(adv.TrackingID, "CCB-") || res.Header.Get("Location") != at(one, adv.ID) {
			t.Fatalf("import: %+v, Location %q", adv, res.Header.Get("Location"))
		}
		res = a.Do("GET", at(one, adv.ID), nil)
		spec.check(t, res, "GET", one, 200)
		var det struct {
			Document map[string]any `json:"document"`
			History  []struct {
				Action string `json:"action"`
			} `json:"history"`
		}
		res.JSON(t, &det)
		tr := det.Document["document"].(map[string]any)["tracking"].(map[string]any)
		if tr["id"] != adv.TrackingID || !slices.Contains(tr["aliases"].([]any), any("ACME-SA-2026-07")) || len(det.History) != 1 || det.History[0].Action != "import" {
			t.Errorf("detail: tracking %v, history %+v", tr, det.History)
		}
		// Working copies are the staff's: others get 404, even with a write token.
		problem(t, roX.Do("GET", at(one, adv.ID), nil), 404, "")
		problem(t, rwX.Do("POST", at(one, adv.ID)+"/submit", map[string]any{}), 404, "")
		problem(t, rwX.Do("POST", list, map[string]any{"title": "X", "lang": "en", "tlp": "WHITE"}), 403, "")
		problem(t, roX.Do("GET", list+"?manage=true", nil), 403, "")

		// The preview is valid; A submits.
		res = a.Do("GET", at(prevP, adv.ID), nil)
		spec.check(t, res, "GET", prevP, 200)
		var prev struct {
			Version    int            `json:"version"`
			Document   map[string]any `json:"document"`
			Validation advReport      `json:"validation"`
		}
		res.JSON(t, &prev)
		if prev.Version != 1 || !prev.Validation.Valid {
			t.Fatalf("preview: version %d, report %+v", prev.Version, prev.Validation)
		}
		if v := step(a, adv.ID, "submit", map[string]any{"status": "final", "summary": "Initial version"}, 200); v.State != advisory.StateReview {
			t.Fatalf("submitted: %+v", v)
		}
		// Wrong state: a draft's working copy only changes in draft.
		problem(t, a.Do("PUT", at(docP, adv.ID), advDocument("Changed", "WHITE", "PLC-310")), 409, "")
		problem(t, a.Do("POST", at(one, adv.ID)+"/cancel", nil), 409, "")

		// Four eyes: A cannot approve, nor can an auditor.
		problem(t, a.Do("POST", at(one, adv.ID)+"/approve", map[string]any{}), 403, "")
		problem(t, aud.Do("POST", at(one, adv.ID)+"/approve", nil), 403, "")
		problem(t, b.Do("POST", at(one, adv.ID)+"/approve", map[string]any{"publish_at": "tomorrow"}), 422, "publish_at")
		problem(t, b.Do("POST", at(one, adv.ID)+"/approve", map[string]any{"publish_at": time.Now().Add(-time.Hour).Format(time.RFC3339)}), 422, "publish_at")

		// B schedules it; the schedule is cancelled; B publishes it now.
		later := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
		v := step(b, adv.ID, "approve", map[string]any{"publish_at": later.Format(time.RFC3339)}, 200)
		if v.State != advisory.StateScheduled || v.PublishAt != later.Format(time.RFC3339) {
			t.Fatalf("scheduled: %+v", v)
		}
		problem(t, anon.Do("GET", strings.Replace(strings.Replace(content, "{tid}", adv.TrackingID, 1), "{n}", "1", 1), nil), 404, "")
		if v := step(b, adv.ID, "cancel", nil, 200); v.State != advisory.StateDraft || v.PublishAt != "" {
			t.Fatalf("cancelled: %+v", v)
		}
		step(a, adv.ID, "submit", nil, 200)
		v = step(b, adv.ID, "approve", nil, 200)
		if v.State != advisory.StatePublished || v.Published == nil || v.Published.Version != 1 || v.Published.Severity != "critical" {
			t.Fatalf("published: %+v %+v", v, v.Published)
		}
		problem(t, b.Do("POST", at(one, adv.ID)+"/approve", nil), 409, "")

		// The exact bytes, to anyone (TLP:WHITE), with their checksum.
		path := strings.Replace(strings.Replace(content, "{tid}", strings.ToLower(adv.TrackingID), 1), "{n}", "1", 1)
		res = anon.Do("GET", path, nil)
		spec.check(t, res, "GET", content, 200)
		if ct := res.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		if got := res.Header.Get("X-Checksum-SHA256"); got != hexSHA256([]byte(res.Body)) {
			t.Errorf("X-Checksum-SHA256 %s, body's %s", got, hexSHA256([]byte(res.Body)))
		}
		ver, err := e.App.Advisories.VersionContent(t.Context(), adv.TrackingID, 1)
		if err != nil {
			t.Fatal(err)
		}
		if string(ver.Content) != res.Body || ver.SHA256 != res.Header.Get("X-Checksum-SHA256") {
			t.Errorf("served bytes differ from the stored version")
		}
		if latest := anon.Do("GET", strings.TrimSuffix(path, "1")+"latest", nil); latest.Body != res.Body {
			t.Errorf("latest differs from version 1")
		}
		// The published document is the preview's but for the tracking.
		var pubDoc map[string]any
		res.JSON(t, &pubDoc)
		ptr := pubDoc["document"].(map[string]any)["tracking"].(map[string]any)
		if ptr["id"] != adv.TrackingID || ptr["version"] != "1" || ptr["status"] != "final" {
			t.Errorf("published tracking %v", ptr)
		}
		delete(pubDoc["document"].(map[string]any), "tracking")
		delete(prev.Document["document"].(map[string]any), "tracking")
		if !reflect.DeepEqual(pubDoc, prev.Document) {
			t.Errorf("published document differs from the preview:\n got  %v\n want %v", pubDoc, prev.Document)
		}
		res = a.Do("GET", at(versP, adv.ID), nil)
		spec.check(t, res, "GET", versP, 200)
		problem(t, roX.Do("GET", at(versP, adv.ID), nil), 404, "")
		res = anon.Do("GET", strings.Replace(pubVers, "{tid}", adv.TrackingID, 1), nil)
		spec.check(t, res, "GET", pubVers, 200)

		// AMBER for X, AMBER for Y, RED for Y's member.
		publish := func(title, tlp string, orgs, users []int64) advView {
			t.Helper()
			res := a.Do("POST", list, map[string]any{"document": advDocument(title, tlp, "PLC-310")})
			spec.check(t, res, "POST", list, 201)
			var d advView
			res.JSON(t, &d)
			res = a.Do("PUT", at(recP, d.ID), map[string]any{"orgs": orgs, "users": users})
			spec.check(t, res, "PUT", recP, 200)
			step(a, d.ID, "submit", nil, 200)
			return step(b, d.ID, "approve", nil, 200)
		}
		amberX := publish("Amber for X", "AMBER", []int64{orgX.ID}, nil)
		amberY := publish("Amber for Y", "AMBER", []int64{orgY.ID}, nil)
		red := publish("Red for Y's SOC", "RED", nil, []int64{memY.ID})

		titles := func(c *webtest.API, query string) []string {
			t.Helper()
			res := c.Do("GET", list+query, nil)
			spec.check(t, res, "GET", list, 200)
			var p struct {
				Items []struct {
					TrackingID string `json:"tracking_id"`
					Title      string `json:"title"`
				} `json:"items"`
				Total int `json:"total"`
			}
			res.JSON(t, &p)
			var out []string
			for _, it := range p.Items {
				out = append(out, it.Title)
			}
			slices.Sort(out)
			if p.Total != len(out) && !strings.Contains(query, "limit=") {
				t.Errorf("GET %s: total %d, %d items", query, p.Total, len(out))
			}
			return out
		}
		if got, want := titles(roX, ""), []string{"Acme PLC 900: path traversal", "Amber for X"}; !slices.Equal(got, want) {
			t.Errorf("X's member lists %v, want %v", got, want)
		}
		if got, want := titles(roY, "?tlp=red"), []string{"Red for Y's SOC"}; !slices.Equal(got, want) {
			t.Errorf("Y's member lists RED %v, want %v", got, want)
		}
		if got, want := titles(anon, "?cve=cve-2026-40001"), []string{"Acme PLC 900: path traversal"}; !slices.Equal(got, want) {
			t.Errorf("anonymous lists %v, want %v", got, want)
		}
		if got := titles(a, "?severity=critical&limit=2"); len(got) != 2 {
			t.Errorf("staff list page %v", got)
		}
		problem(t, roX.Do("GET", list+"?severity=dire", nil), 422, "severity")
		res = a.Do("GET", list+"?manage=true&state=published", nil)
		spec.check(t, res, "GET", list, 200)
		contentOf := func(c *webtest.API, tid string) *webtest.Response {
			return c.Do("GET", strings.Replace(strings.Replace(content, "{tid}", tid, 1), "{n}", "1", 1), nil)
		}
		spec.check(t, contentOf(roX, amberX.TrackingID), "GET", content, 200)
		problem(t, contentOf(roX, amberY.TrackingID), 404, "")
		problem(t, contentOf(roX, red.TrackingID), 404, "")
		problem(t, roX.Do("GET", strings.Replace(pubVers, "{tid}", red.TrackingID, 1), nil), 404, "")
		spec.check(t, contentOf(roY, red.TrackingID), "GET", content, 200)
		problem(t, contentOf(anon, amberX.TrackingID), 404, "")

		// A revision: readers keep seeing the published title while the
		// next one is written (the working copy may be under embargo).
		if v := step(a, adv.ID, "revise", nil, 200); v.State != advisory.StateDraft {
			t.Fatalf("revise: %+v", v)
		}
		res = a.Do("PUT", at(docP, adv.ID), advDocument("EMBARGOED: worse than thought", "WHITE", "PLC-310"))
		spec.check(t, res, "PUT", docP, 200)
		if l := anon.Do("GET", list, nil); strings.Contains(l.Body, "EMBARGOED") || !strings.Contains(l.Body, "Acme PLC 900: path traversal") {
			t.Errorf("readers' list during a revision: %s", l.Body)
		}
		// An invalid document is refused with each failing test, and
		// nothing is stored; validate=false stores a draft that does not
		// pass yet, which submission then refuses.
		p := problem(t, a.Do("PUT", at(docP, adv.ID), advDocument("Broken", "WHITE", "PLC-999")), 422, "document")
		if !slices.ContainsFunc(p.Errors, func(f web.ProblemField) bool { return f.Field == "document" && strings.Contains(f.Detail, "6.1.1") }) {
			t.Errorf("errors %+v, want test 6.1.1 named", p.Errors)
		}
		res = a.Do("GET", at(one, adv.ID), nil)
		if strings.Contains(res.Body, "PLC-999") {
			t.Errorf("a refused document was stored")
		}
		res = a.Do("PUT", at(docP, adv.ID)+"?validate=false", advDocument("Broken", "WHITE", "PLC-999"))
		spec.check(t, res, "PUT", docP, 200)
		p = problem(t, a.Do("POST", at(one, adv.ID)+"/submit", nil), 422, "document")
		if !slices.ContainsFunc(p.Errors, func(f web.ProblemField) bool { return strings.Contains(f.Detail, "6.1.1") }) {
			t.Errorf("submit errors %+v, want test 6.1.1 named", p.Errors)
		}
		problem(t, a.Do("PUT", at(docP, adv.ID), `{"document": `), 400, "")
		problem(t, a.Do("PUT", at(docP, adv.ID), `{"document": {"title": 42}}`), 422, "document")
		problem(t, roX.Do("PUT", at(docP, adv.ID), advDocument("X", "WHITE", "PLC-310")), 403, "") // read-only token
		problem(t, aud.Do("PUT", at(docP, adv.ID), advDocument("X", "WHITE", "PLC-310")), 403, "")
		problem(t, a.Do("POST", list, map[string]any{"title": "", "lang": "xx", "tlp": "WHITE"}), 422, "lang")
		problem(t, a.Do("POST", list, map[string]any{"title": "T", "lang": "en", "tlp": "WHITE", "document": map[string]any{}}), 422, "title")

		// A new draft from a few facts.
		res = a.Do("POST", list, map[string]any{"title": "Example Gateway", "lang": "nl", "tlp": "GREEN"})
		spec.check(t, res, "POST", list, 201)

		// The signing keys are public, without private data.
		res = anon.Do("GET", "/api/v1/csaf/keys", nil)
		spec.check(t, res, "GET", "/api/v1/csaf/keys", 200)
		if strings.Contains(res.Body, "PRIVATE") || strings.Contains(res.Body, "private") || !strings.Contains(res.Body, "csaf@ccb.example") {
			t.Errorf("keys: %s", res.Body)
		}

		// Validation changes nothing: a read-only token may call it.
		res = roX.Do("POST", "/api/v1/csaf/validate?preset=all", advDocument("Broken", "WHITE", "PLC-999"))
		spec.check(t, res, "POST", "/api/v1/csaf/validate", 200)
		var rep advReport
		res.JSON(t, &rep)
		if rep.Valid || !slices.ContainsFunc(rep.Findings, func(f advFinding) bool { return f.Test == "6.1.1" && f.Level == "mandatory" }) {
			t.Errorf("validate broken: %+v", rep)
		}
		res = roX.Do("POST", "/api/v1/csaf/validate", string(ver.Content))
		spec.check(t, res, "POST", "/api/v1/csaf/validate", 200)
		res.JSON(t, &rep)
		if !rep.Valid {
			t.Errorf("validate published version: %+v", rep)
		}
		problem(t, roX.Do("POST", "/api/v1/csaf/validate?preset=paranoid", advDocument("X", "WHITE", "PLC-310")), 422, "preset")
		problem(t, roX.Do("POST", "/api/v1/csaf/validate", `[1, 2]`), 422, "document")
		problem(t, anon.Do("POST", "/api/v1/csaf/validate", `{}`), 401, "")
	})
}

// TestAdvisoryOpenAPIFragment checks the conventions of the advisories'
// fragment and that its schemas follow the Go types and enumerations.
func TestAdvisoryOpenAPIFragment(t *testing.T) {
	e := webtest.New(t, dbtest.SQLite(t), false)
	spec := loadRegSpec(t, e)
	// The fragment of this API (other files of the package document
	// other routes under /api/v1/advisories).
	b, err := os.ReadFile(filepath.Join("..", "advisory", "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	var frag struct {
		Paths map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(b, &frag); err != nil {
		t.Fatal(err)
	}
	ours := func(path string) bool { _, ok := frag.Paths[path]; return ok }
	ops := 0
	for path, item := range spec.pointer(t, "#/paths") {
		if !ours(path) {
			continue
		}
		for method, raw := range item.(map[string]any) {
			if method == "parameters" {
				continue
			}
			ops++
			op := raw.(map[string]any)
			if op["operationId"] == nil || op["summary"] == nil {
				t.Errorf("%s %s: operationId or summary missing", method, path)
			}
			if tags, _ := op["tags"].([]any); !slices.Equal(tags, []any{"advisories"}) {
				t.Errorf("%s %s: tags %v, want [advisories]", method, path, tags)
			}
			responses := op["responses"].(map[string]any)
			if responses["401"] == nil {
				t.Errorf("%s %s does not document 401", method, path)
			}
			if strings.Contains(path, "{id}") && responses["404"] == nil {
				t.Errorf("%s %s does not document 404", method, path)
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
	routes := 0
	for _, r := range e.App.Web.Routes() {
		_, path, _ := strings.Cut(r.Pattern, " ")
		if r.API && ours(path) {
			routes++
		}
	}
	if ops != routes || ops < 16 {
		t.Errorf("%d advisory operations documented, %d routes served (at least 16 expected)", ops, routes)
	}
	keys := func(m map[string]any) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
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
		"Advisory":            reflect.TypeFor[advisory.Advisory](),
		"AdvisoryPublished":   reflect.TypeFor[advisory.Published](),
		"AdvisoryEvent":       reflect.TypeFor[advisory.Event](),
		"AdvisoryVersion":     reflect.TypeFor[advisory.Version](),
		"AdvisoryNewInput":    reflect.TypeFor[advisory.NewInput](),
		"AdvisorySubmitInput": reflect.TypeFor[advisory.SubmitInput](),
		"CsafReport":          reflect.TypeFor[csaf.Report](),
		"CsafFinding":         reflect.TypeFor[csaf.Finding](),
		"CsafKey":             reflect.TypeFor[advisory.Key](),
	} {
		sch := spec.pointer(t, "#/components/schemas/"+name)
		all, always := jsonMembers(typ)
		if props := keys(sch["properties"].(map[string]any)); !slices.Equal(props, all) {
			t.Errorf("schema %s documents %v; %s has %v", name, props, typ, all)
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
	// The detail is the advisory with its document and history; the
	// readers' item the published summary with its tracking id and URL.
	adv := spec.pointer(t, "#/components/schemas/Advisory")
	det := spec.pointer(t, "#/components/schemas/AdvisoryDetail")
	if got, want := keys(det["properties"].(map[string]any)), append(keys(adv["properties"].(map[string]any)), "document", "history"); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Errorf("AdvisoryDetail documents %v", got)
	}
	pub := spec.pointer(t, "#/components/schemas/AdvisoryPublished")
	item := spec.pointer(t, "#/components/schemas/AdvisoryPublishedItem")
	if got, want := keys(item["properties"].(map[string]any)), append(keys(pub["properties"].(map[string]any)), "tracking_id", "url"); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Errorf("AdvisoryPublishedItem documents %v", got)
	}
	for name, want := range map[string][]string{"AdvisoryTLP": advisory.TLPs, "AdvisoryLang": advisory.Langs, "AdvisoryCategory": advisory.Categories,
		"AdvisoryState": {advisory.StateDraft, advisory.StateReview, advisory.StateScheduled, advisory.StatePublished},
		"CsafPreset":    {string(csaf.PresetMandatory), string(csaf.PresetOptional), string(csaf.PresetInformative), string(csaf.PresetAll)}} {
		if got := spec.enum(t, name); !slices.Equal(got, want) {
			t.Errorf("%s %v, want %v", name, got, want)
		}
	}
	var sev []string
	for _, v := range pub["properties"].(map[string]any)["severity"].(map[string]any)["enum"].([]any) {
		sev = append(sev, v.(string))
	}
	if !slices.Equal(sev, advisory.Severities) {
		t.Errorf("AdvisoryPublished.severity %v, want %v", sev, advisory.Severities)
	}
	var levels []string
	for _, v := range spec.pointer(t, "#/components/schemas/CsafFinding")["properties"].(map[string]any)["level"].(map[string]any)["enum"].([]any) {
		levels = append(levels, v.(string))
	}
	if want := []string{csaf.Mandatory.String(), csaf.Optional.String(), csaf.Informative.String()}; !slices.Equal(levels, want) {
		t.Errorf("CsafFinding.level %v, want %v", levels, want)
	}
}
