package app_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/reporting"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/web"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// Typed views of the reporting responses, for the fields the tests look at.
type repDeadline struct {
	Stage       string    `json:"stage"`
	Status      string    `json:"status"`
	Due         time.Time `json:"due"`
	SubmittedAt time.Time `json:"submitted_at"`
	LateBy      int64     `json:"late_by"`
	Soft        bool      `json:"soft"`
}

type repSubmission struct {
	Ref         string          `json:"reference"`
	Stage       string          `json:"stage"`
	SHA256      string          `json:"sha256"`
	Corrects    string          `json:"corrects"`
	SubmittedAt time.Time       `json:"submitted_at"`
	SubmittedBy string          `json:"submitted_by"`
	Content     json.RawMessage `json:"content"`
}

type repDraft struct {
	Stage   string `json:"stage"`
	Content struct {
		TLP      string `json:"tlp"`
		Summary  string `json:"summary"`
		Severity string `json:"severity"`
	} `json:"content"`
	UpdatedAt time.Time `json:"updated_at"`
}

type repIncident struct {
	ID          int64           `json:"id"`
	Ref         string          `json:"reference"`
	OrgID       int64           `json:"organisation_id"`
	OrgName     string          `json:"organisation_name"`
	Kind        string          `json:"kind"`
	Title       string          `json:"title"`
	AwareAt     time.Time       `json:"aware_at"`
	Status      string          `json:"status"`
	Submissions []repSubmission `json:"submissions"`
	Drafts      []repDraft      `json:"drafts"`
	Deadlines   *struct {
		AwareAt time.Time     `json:"aware_at"`
		Stages  []repDeadline `json:"stages"`
	} `json:"deadlines"`
}

func (in *repIncident) deadline(t *testing.T, stage string) repDeadline {
	t.Helper()
	if in.Deadlines == nil {
		t.Fatalf("incident %s has no deadlines", in.Ref)
	}
	for _, d := range in.Deadlines.Stages {
		if d.Stage == stage {
			return d
		}
	}
	t.Fatalf("incident %s: no deadline for %s", in.Ref, stage)
	return repDeadline{}
}

// repReceipt keeps the content's bytes exactly as the server sent them:
// the receipt's hash covers those bytes, and re-encoding would change them.
type repReceipt struct {
	Ref         string          `json:"reference"`
	IncidentRef string          `json:"incident_reference"`
	IncidentID  int64           `json:"incident_id"`
	Org         string          `json:"organisation"`
	Stage       string          `json:"stage"`
	SubmittedAt time.Time       `json:"submitted_at"`
	SHA256      string          `json:"sha256"`
	Corrects    string          `json:"corrects"`
	Replayed    bool            `json:"replayed"`
	Content     json.RawMessage `json:"content"`
}

type repPage struct {
	Items  []repIncident `json:"items"`
	Total  int           `json:"total"`
	Offset int           `json:"offset"`
	Limit  int           `json:"limit"`
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// repSchema returns the documented JSON schema of a response, or nil.
func repSchema(t *testing.T, spec *regSpec, method, path string, status int) map[string]any {
	t.Helper()
	op := spec.pointer(t, "#/paths")[path].(map[string]any)[strings.ToLower(method)].(map[string]any)
	r := spec.deref(t, op["responses"].(map[string]any)[fmt.Sprint(status)].(map[string]any))
	media, _ := r["content"].(map[string]any)["application/json"].(map[string]any)
	sch, _ := media["schema"].(map[string]any)
	return sch
}

// repUndocumented lists the members of v that the schema does not name,
// also where it leaves additionalProperties open: the fragment's response
// schemas must describe every member the handlers send.
func repUndocumented(t *testing.T, spec *regSpec, sch map[string]any, v any, at string) []string {
	t.Helper()
	if ref, ok := sch["$ref"].(string); ok {
		return repUndocumented(t, spec, spec.pointer(t, ref), v, at)
	}
	if alts, ok := sch["anyOf"].([]any); ok {
		for _, alt := range alts {
			if len(spec.validate(t, alt.(map[string]any), v, at)) == 0 {
				return repUndocumented(t, spec, alt.(map[string]any), v, at)
			}
		}
		return nil
	}
	var out []string
	switch x := v.(type) {
	case map[string]any:
		props, documented := sch["properties"].(map[string]any)
		for k, val := range x {
			if p, ok := props[k].(map[string]any); ok {
				out = append(out, repUndocumented(t, spec, p, val, at+"."+k)...)
			} else if documented {
				out = append(out, at+"."+k)
			}
		}
	case []any:
		if items, ok := sch["items"].(map[string]any); ok {
			for i, it := range x {
				out = append(out, repUndocumented(t, spec, items, it, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	}
	return out
}

// TestReportingAPI drives NIS2 incident reporting through the JSON API
// only, on both databases: an entity opens an incident and files its
// stages, the authority reads them, another organisation sees nothing.
// Every response is checked against the OpenAPI document.
func TestReportingAPI(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := webtest.New(t, db, false)
		spec := loadRegSpec(t, e)
		check := func(res *webtest.Response, method, path string, status int) *webtest.Response {
			t.Helper()
			spec.check(t, res, method, path, status)
			if sch := repSchema(t, spec, method, path, status); sch != nil && status < 300 {
				var body any
				res.JSON(t, &body)
				if extra := repUndocumented(t, spec, sch, body, "$"); len(extra) > 0 {
					t.Errorf("%s %s %d: members not in the OpenAPI schema: %v", method, path, status, extra)
				}
			}
			return res
		}
		code := func(res *webtest.Response, status int, want string) {
			t.Helper()
			if p := problem(t, res, status, ""); p.Code != want {
				t.Errorf("problem code = %q, want %q", p.Code, want)
			}
		}

		authority, err := e.App.Identity.AuthorityOrg(webtest.System())
		if err != nil {
			t.Fatal(err)
		}
		analyst := e.User(t, authority.ID, "analyst@ccb.example", "analyst")
		anAPI := e.API(t, e.Token(t, analyst, "read", "write"))
		grid := e.Org(t, "Grid Operator Test", "entity")
		member := e.User(t, grid.ID, "soc@grid.example", "member")
		gAPI := e.API(t, e.Token(t, member, "read", "write"))
		gRO := e.API(t, e.Token(t, member, "read"))
		water := e.Org(t, "Water Utility Test", "entity")
		wAdmin := e.User(t, water.ID, "admin@water.example", "org_admin")
		wAPI := e.API(t, e.Token(t, wAdmin, "read", "write"))
		anon := e.API(t, "")

		const (
			listTpl    = "/api/v1/incidents"
			incTpl     = "/api/v1/incidents/{id}"
			draftTpl   = "/api/v1/incidents/{id}/drafts/{stage}"
			reportTpl  = "/api/v1/incidents/{id}/reports/{stage}"
			receiptTpl = "/api/v1/receipts/{ref}"
			verifyTpl  = "/api/v1/receipts/verify"
		)

		// Opening an incident: what is required, and who may.
		problem(t, gAPI.Do("POST", listTpl, map[string]any{}), 422, "title")
		check(gAPI.Do("POST", listTpl, map[string]any{}), "POST", listTpl, 422)
		problem(t, gAPI.Do("POST", listTpl, map[string]any{}), 422, "aware_at")
		problem(t, gAPI.Do("POST", listTpl, map[string]any{"title": "X", "aware_at": time.Now().Add(time.Hour)}), 422, "aware_at")
		problem(t, gAPI.Do("POST", listTpl, `{"title":"X","aware_at":"2026-01-01T00:00:00Z","severity":"red"}`), 422, "severity")
		check(gAPI.Do("POST", listTpl, `{"title":`), "POST", listTpl, 400)
		check(gRO.Do("POST", listTpl, map[string]any{"title": "X", "aware_at": time.Now()}), "POST", listTpl, 403)
		check(anon.Do("POST", listTpl, map[string]any{"title": "X", "aware_at": time.Now()}), "POST", listTpl, 401)
		check(anAPI.Do("POST", listTpl, map[string]any{"title": "Filed by the authority", "aware_at": time.Now().Add(-time.Hour)}), "POST", listTpl, 403)

		aware := time.Now().Add(-time.Hour).Truncate(time.Second).UTC()
		brussels, err := time.LoadLocation("Europe/Brussels")
		if err != nil {
			t.Fatal(err)
		}
		yearBefore := time.Now().In(brussels).Format("INC-2006-")
		res := check(gAPI.Do("POST", listTpl, map[string]any{"title": "  Ransomware on substation SCADA  ", "aware_at": aware.Add(123 * time.Millisecond)}), "POST", listTpl, 201)
		var inc repIncident
		res.JSON(t, &inc)
		if yearAfter := time.Now().In(brussels).Format("INC-2006-"); !regexp.MustCompile(`^INC-\d{4}-\d{6}$`).MatchString(inc.Ref) ||
			(!strings.HasPrefix(inc.Ref, yearBefore) && !strings.HasPrefix(inc.Ref, yearAfter)) {
			t.Errorf("reference = %q, want INC-YYYY-NNNNNN of this year", inc.Ref)
		}
		if inc.OrgID != grid.ID || inc.OrgName != "Grid Operator Test" || inc.Kind != "mandatory" || inc.Status != "ongoing" ||
			inc.Title != "Ransomware on substation SCADA" || !inc.AwareAt.Equal(aware) || len(inc.Submissions) != 0 || len(inc.Drafts) != 0 {
			t.Errorf("created incident = %+v", inc)
		}
		if d := inc.deadline(t, "early_warning"); d.Status != "pending" || !d.Due.Equal(aware.Add(24*time.Hour)) {
			t.Errorf("early warning deadline of a new incident = %+v", d)
		}
		incPath := "/api/v1/incidents/" + itoa(inc.ID)
		report := func(stage string) string { return incPath + "/reports/" + stage }

		// The early warning needs its fields; the notification comes after it.
		p := problem(t, gAPI.Do("POST", report("early_warning"), map[string]any{}), 422, "summary")
		for _, f := range []string{"incident_status", "suspected_malicious", "cross_border"} {
			if !slices.ContainsFunc(p.Errors, func(e web.ProblemField) bool { return e.Field == f }) {
				t.Errorf("early warning without content: errors %+v do not name %s", p.Errors, f)
			}
		}
		check(gAPI.Do("POST", report("early_warning"), map[string]any{}), "POST", reportTpl, 422)
		ew := map[string]any{
			"tlp": "TLP:AMBER", "incident_status": "ongoing", "summary": " Ransomware on the R&D <lab> file servers ",
			"suspected_malicious": "yes", "cross_border": "unknown",
			"notifier":    map[string]any{"name": "Grid SOC", "email": "SOC@Grid.example", "phone": "+32 2 000 00 00"},
			"detected_at": aware.Add(30*time.Minute + 456*time.Millisecond),
		}
		in := map[string]any{}
		for k, v := range ew {
			in[k] = v
		}
		in["severity"], in["impact_assessment"] = "yellow", "Two substations run on manual control."
		in["indicators"] = []map[string]any{{"type": "ip", "value": "192.0.2.7", "tlp": "green"}, {"type": "hash", "value": strings.Repeat("ab", 32)}}
		in["classification"], in["quantities"] = "malicious-code/infected-system", map[string]any{"users_affected": 1200, "direct_loss_eur": 2500.5}
		res = gAPI.Do("POST", report("incident_notification"), in)
		check(res, "POST", reportTpl, 409)
		code(res, 409, "rep.stage_order.incident_notification")
		check(gAPI.Do("POST", report("final_report"), map[string]any{"incident_status": "closed", "detailed_description": "d", "root_cause": "malicious-actions",
			"mitigations": "m", "cross_border": "no"}), "POST", reportTpl, 409)

		// The early warning, with an idempotency key: a receipt whose
		// sha256 is the hash of the content's bytes.
		submit := func(api *webtest.API, path, key string, body any) *webtest.Response {
			t.Helper()
			h := http.Header{"Authorization": {"Bearer " + api.Token()}, "Content-Type": {"application/json"}}
			if key != "" {
				h.Set("Idempotency-Key", key)
			}
			b, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			return api.Raw().Do("POST", path, strings.NewReader(string(b)), h)
		}
		res = check(submit(gAPI, report("early_warning"), "ew-attempt-1", ew), "POST", reportTpl, 201)
		var ew1 repReceipt
		res.JSON(t, &ew1)
		if ew1.Ref != inc.Ref+"-EW-1" || ew1.IncidentRef != inc.Ref || ew1.IncidentID != inc.ID || ew1.Org != "Grid Operator Test" ||
			ew1.Stage != "early_warning" || ew1.Replayed || ew1.Corrects != "" || time.Since(ew1.SubmittedAt) > time.Minute {
			t.Errorf("early warning receipt = %+v", ew1)
		}
		if got := hexSHA256(ew1.Content); got != ew1.SHA256 {
			t.Errorf("receipt sha256 = %s, but its content %s hashes to %s", ew1.SHA256, ew1.Content, got)
		}
		var stored struct {
			TLP        string            `json:"tlp"`
			Summary    string            `json:"summary"`
			Notifier   map[string]string `json:"notifier"`
			DetectedAt string            `json:"detected_at"`
			Quantities map[string]any    `json:"quantities"`
		}
		if err := json.Unmarshal(ew1.Content, &stored); err != nil {
			t.Fatal(err)
		}
		if stored.TLP != "amber" || stored.Summary != "Ransomware on the R&D <lab> file servers" || stored.Notifier["email"] != "SOC@grid.example" ||
			stored.DetectedAt != aware.Add(30*time.Minute).Format(time.RFC3339) || stored.Quantities == nil {
			t.Errorf("stored content not normalised: %s", ew1.Content)
		}

		// A retry with the same key answers the same receipt; the same key
		// with other content is refused.
		res = check(submit(gAPI, report("early_warning"), "ew-attempt-1", ew), "POST", reportTpl, 200)
		var again repReceipt
		res.JSON(t, &again)
		if again.Ref != ew1.Ref || !again.Replayed || again.SHA256 != ew1.SHA256 || string(again.Content) != string(ew1.Content) || !again.SubmittedAt.Equal(ew1.SubmittedAt) {
			t.Errorf("replayed receipt = %+v, want %s replayed", again, ew1.Ref)
		}
		ew["summary"] = "Ransomware on the file servers, now also the mail server"
		res = submit(gAPI, report("early_warning"), "ew-attempt-1", ew)
		check(res, "POST", reportTpl, 422)
		problem(t, res, 422, "idempotency_key")
		problem(t, submit(gAPI, report("early_warning"), strings.Repeat("k", 201), ew), 422, "idempotency_key")

		// A second early warning must say what it corrects.
		res = gAPI.Do("POST", report("early_warning"), ew)
		check(res, "POST", reportTpl, 409)
		code(res, 409, "rep.already_submitted")
		problem(t, gAPI.Do("POST", report("early_warning")+"?corrects="+url.QueryEscape(inc.Ref+"-EW-7"), ew), 422, "corrects")
		res = check(gAPI.Do("POST", report("early_warning")+"?corrects="+url.QueryEscape(ew1.Ref), ew), "POST", reportTpl, 201)
		var ew2 repReceipt
		res.JSON(t, &ew2)
		if ew2.Ref != inc.Ref+"-EW-2" || ew2.Corrects != ew1.Ref || ew2.Replayed || ew2.SHA256 == ew1.SHA256 || hexSHA256(ew2.Content) != ew2.SHA256 {
			t.Errorf("correction receipt = %+v, want %s-EW-2 correcting %s", ew2, inc.Ref, ew1.Ref)
		}
		problem(t, gAPI.Do("POST", report("early_warning")+"?corrects="+url.QueryEscape(ew1.Ref), ew), 422, "corrects")
		problem(t, gAPI.Do("POST", report("incident_notification")+"?corrects="+url.QueryEscape(ew1.Ref), in), 422, "corrects")
		check(gAPI.Do("POST", report("csirt_feedback"), ew), "POST", reportTpl, 404)
		check(gAPI.Do("POST", "/api/v1/incidents/999999/reports/early_warning", ew), "POST", reportTpl, 404)

		// Drafts: incomplete is fine, malformed is not; the entity sees its
		// draft with the incident.
		draft := func(stage string) string { return incPath + "/drafts/" + stage }
		res = check(gAPI.Do("PUT", draft("incident_notification"), map[string]any{"summary": "  Half written ", "severity": "red"}), "PUT", draftTpl, 200)
		var d repDraft
		res.JSON(t, &d)
		if d.Stage != "incident_notification" || d.Content.Summary != "Half written" || d.Content.TLP != "amber" || d.Content.Severity != "red" {
			t.Errorf("saved draft = %+v", d)
		}
		for field, body := range map[string]any{
			"tlp":                         map[string]any{"tlp": "purple"},
			"severity":                    map[string]any{"severity": "orange"},
			"indicators[0].value":         map[string]any{"indicators": []map[string]any{{"type": "ip"}}},
			"indicators[1].type":          map[string]any{"indicators": []map[string]any{{"type": "ip", "value": "192.0.2.1"}, {"type": "asn", "value": "64500"}}},
			"affected_countries[0]":       map[string]any{"affected_countries": []string{"Belgium"}},
			"quantities.users_affected":   map[string]any{"quantities": map[string]any{"users_affected": -1}},
			"classification":              map[string]any{"classification": "malicious-code/ransomware"},
			"notifier.email":              map[string]any{"notifier": map[string]any{"name": "X", "email": "not-an-address"}},
			"suspected_malicious":         map[string]any{"suspected_malicious": "maybe"},
			"colour":                      `{"colour":"red"}`,
			"quantities.systems_affected": `{"quantities":{"systems_affected":"many"}}`,
		} {
			res := gAPI.Do("PUT", draft("incident_notification"), body)
			problem(t, res, 422, field)
			check(res, "PUT", draftTpl, 422)
		}
		// Every value the document enumerates is accepted.
		contentProps := spec.pointer(t, "#/components/schemas/ReportContentInput")["properties"].(map[string]any)
		for _, field := range []string{"severity", "root_cause", "suspected_malicious", "cross_border"} {
			for _, v := range contentProps[field].(map[string]any)["enum"].([]any) {
				check(gAPI.Do("PUT", draft("final_report"), map[string]any{field: v}), "PUT", draftTpl, 200)
			}
		}
		for _, tlp := range []string{"clear", "GREEN", "TLP:AMBER+STRICT", "tlp:red"} {
			check(gAPI.Do("PUT", draft("final_report"), map[string]any{"tlp": tlp}), "PUT", draftTpl, 200)
		}
		check(gAPI.Do("PUT", draft("csirt_feedback"), map[string]any{}), "PUT", draftTpl, 404)
		check(gRO.Do("PUT", draft("final_report"), map[string]any{}), "PUT", draftTpl, 403)

		// The incident, as its entity sees it: submissions oldest first,
		// the drafts, and the legal clocks.
		res = check(gAPI.Do("GET", incPath, nil), "GET", incTpl, 200)
		var got repIncident
		res.JSON(t, &got)
		if len(got.Submissions) != 2 || got.Submissions[0].Ref != ew1.Ref || got.Submissions[1].Ref != ew2.Ref || got.Submissions[1].Corrects != ew1.Ref ||
			got.Submissions[0].SHA256 != ew1.SHA256 || string(got.Submissions[0].Content) != string(ew1.Content) || got.Submissions[0].SubmittedBy != "soc" {
			t.Errorf("submissions = %+v", got.Submissions)
		}
		if len(got.Drafts) != 2 || got.Drafts[0].Stage != "final_report" || got.Drafts[1].Stage != "incident_notification" || got.Drafts[1].Content.Summary != "Half written" {
			t.Errorf("drafts = %+v, want final_report and incident_notification", got.Drafts)
		}
		if dl := got.deadline(t, "early_warning"); dl.Status != "submitted_on_time" || !dl.SubmittedAt.Equal(ew1.SubmittedAt) || dl.LateBy != 0 {
			t.Errorf("early warning deadline = %+v, want submitted on time at %s (corrections do not move it)", dl, ew1.SubmittedAt)
		}
		if dl := got.deadline(t, "incident_notification"); dl.Status != "pending" || !dl.Due.Equal(aware.Add(72*time.Hour)) || !dl.SubmittedAt.IsZero() {
			t.Errorf("incident notification deadline = %+v, want pending, due %s", dl, aware.Add(72*time.Hour))
		}
		if dl := got.deadline(t, "final_report"); dl.Status != "not_yet_known" || !dl.Due.IsZero() {
			t.Errorf("final report deadline = %+v, want not_yet_known", dl)
		}
		if dl := got.deadline(t, "csirt_feedback"); !dl.Soft || !dl.Due.Equal(ew1.SubmittedAt.Add(24*time.Hour)) {
			t.Errorf("CSIRT feedback deadline = %+v", dl)
		}
		if n := len(got.Deadlines.Stages); n != 6 {
			t.Errorf("%d deadlines, want 6", n)
		}
		// The schema's if/then/else, which the checker does not run: due
		// is absent exactly when the stage has no clock yet.
		for _, dl := range got.Deadlines.Stages {
			if noClock := dl.Status == "not_applicable" || dl.Status == "not_yet_known"; noClock != dl.Due.IsZero() {
				t.Errorf("deadline %+v: due does not match status %s", dl, dl.Status)
			}
		}

		// The receipt as a file.
		res = check(gAPI.Do("GET", "/api/v1/receipts/"+url.PathEscape(ew1.Ref), nil), "GET", receiptTpl, 200)
		if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="receipt-`+ew1.Ref+`.json"` {
			t.Errorf("Content-Disposition = %q", cd)
		}
		var rec repReceipt
		res.JSON(t, &rec)
		if rec.Ref != ew1.Ref || rec.SHA256 != ew1.SHA256 || string(rec.Content) != string(ew1.Content) || rec.Replayed || !rec.SubmittedAt.Equal(ew1.SubmittedAt) {
			t.Errorf("GET receipt = %+v, want %+v", rec, ew1)
		}
		check(gAPI.Do("GET", "/api/v1/receipts/"+url.PathEscape(inc.Ref+"-EW-9"), nil), "GET", receiptTpl, 404)

		// Verification: the real hash and content are valid, anything else
		// is not.
		verify := func(api *webtest.API, body map[string]any, status int) (v struct {
			Valid       bool       `json:"valid"`
			Ref         string     `json:"reference"`
			SubmittedAt *time.Time `json:"submitted_at"`
			Reason      string     `json:"reason"`
		}) {
			t.Helper()
			res := check(api.Do("POST", verifyTpl, body), "POST", verifyTpl, status)
			if status == 200 {
				res.JSON(t, &v)
			}
			return v
		}
		content64 := base64.StdEncoding.EncodeToString(ew1.Content)
		if v := verify(gAPI, map[string]any{"reference": ew1.Ref, "sha256": ew1.SHA256, "content_base64": content64}, 200); !v.Valid || v.Ref != ew1.Ref ||
			v.SubmittedAt == nil || !v.SubmittedAt.Equal(ew1.SubmittedAt) || v.Reason != "" {
			t.Errorf("verify the real receipt = %+v, want valid", v)
		}
		// Verifying changes nothing: a read-only token may do it.
		if v := verify(gRO, map[string]any{"reference": ew1.Ref, "sha256": ew1.SHA256}, 200); !v.Valid {
			t.Errorf("verify with a read-only token = %+v, want valid", v)
		}
		if v := verify(gAPI, map[string]any{"reference": ew1.Ref, "sha256": strings.ToUpper(ew1.SHA256)}, 200); !v.Valid {
			t.Errorf("verify without content, upper-case hash = %+v, want valid", v)
		}
		changed := strings.Replace(string(ew1.Content), `"ongoing"`, `"closed"`, 1)
		if changed == string(ew1.Content) {
			t.Fatalf("content %s has no incident_status to change", ew1.Content)
		}
		if v := verify(gAPI, map[string]any{"reference": ew1.Ref, "sha256": ew1.SHA256, "content_base64": base64.StdEncoding.EncodeToString([]byte(changed))}, 200); v.Valid || v.Reason == "" || v.SubmittedAt != nil {
			t.Errorf("verify changed content = %+v, want invalid with a reason", v)
		}
		if v := verify(gAPI, map[string]any{"reference": ew1.Ref, "sha256": hexSHA256([]byte(changed)), "content_base64": base64.StdEncoding.EncodeToString([]byte(changed))}, 200); v.Valid {
			t.Errorf("verify changed content with its own hash = %+v, want invalid", v)
		}
		if v := verify(gAPI, map[string]any{"reference": ew1.Ref, "sha256": ew2.SHA256}, 200); v.Valid {
			t.Errorf("verify another submission's hash = %+v, want invalid", v)
		}
		problem(t, gAPI.Do("POST", verifyTpl, map[string]any{"reference": ew1.Ref, "sha256": "abc"}), 422, "sha256")
		problem(t, gAPI.Do("POST", verifyTpl, map[string]any{"sha256": ew1.SHA256}), 422, "reference")
		problem(t, gAPI.Do("POST", verifyTpl, map[string]any{"reference": ew1.Ref, "sha256": ew1.SHA256, "content_base64": "not base64!"}), 422, "content_base64")
		verify(gAPI, map[string]any{"reference": inc.Ref + "-EW-9", "sha256": ew1.SHA256}, 404)
		verify(gAPI, map[string]any{"reference": ew1.Ref, "sha256": "abc"}, 422)

		// The authority's analyst lists and reads every incident, without
		// the drafts, and files nothing.
		res = check(anAPI.Do("GET", incPath, nil), "GET", incTpl, 200)
		var seen repIncident
		res.JSON(t, &seen)
		if seen.Ref != inc.Ref || len(seen.Submissions) != 2 || len(seen.Drafts) != 0 || seen.Deadlines == nil || strings.Contains(res.Body, "Half written") {
			t.Errorf("incident as the analyst sees it = %s", res.Body)
		}
		check(anAPI.Do("GET", "/api/v1/receipts/"+url.PathEscape(ew1.Ref), nil), "GET", receiptTpl, 200)
		if v := verify(anAPI, map[string]any{"reference": ew1.Ref, "sha256": ew1.SHA256, "content_base64": content64}, 200); !v.Valid {
			t.Errorf("verify as the analyst = %+v, want valid", v)
		}
		check(anAPI.Do("PUT", draft("incident_notification"), map[string]any{"summary": "x"}), "PUT", draftTpl, 403)
		check(anAPI.Do("POST", report("incident_notification"), in), "POST", reportTpl, 403)

		// Another organisation sees nothing of it.
		check(wAPI.Do("GET", incPath, nil), "GET", incTpl, 404)
		check(wAPI.Do("GET", "/api/v1/receipts/"+url.PathEscape(ew1.Ref), nil), "GET", receiptTpl, 404)
		check(wAPI.Do("PUT", draft("incident_notification"), map[string]any{"summary": "x"}), "PUT", draftTpl, 404)
		for _, stage := range []string{"early_warning", "incident_notification"} {
			check(wAPI.Do("POST", report(stage), in), "POST", reportTpl, 404)
			check(wAPI.Do("POST", report(stage)+"?corrects="+url.QueryEscape(ew2.Ref), in), "POST", reportTpl, 404)
			check(submit(wAPI, report(stage), "ew-attempt-1", ew), "POST", reportTpl, 404)
		}
		check(wAPI.Do("POST", report("early_warning"), map[string]any{}), "POST", reportTpl, 404)
		verify(wAPI, map[string]any{"reference": ew1.Ref, "sha256": ew1.SHA256, "content_base64": content64}, 404)
		res = check(wAPI.Do("GET", listTpl+"?organisation_id="+itoa(grid.ID), nil), "GET", listTpl, 200)
		var page repPage
		res.JSON(t, &page)
		if page.Total != 0 || len(page.Items) != 0 || strings.Contains(res.Body, inc.Ref) {
			t.Errorf("another organisation's list = %s", res.Body)
		}
		check(anon.Do("GET", incPath, nil), "GET", incTpl, 401)
		check(anon.Do("GET", listTpl, nil), "GET", listTpl, 401)
		check(anon.Do("POST", verifyTpl, map[string]any{"reference": ew1.Ref, "sha256": ew1.SHA256}), "POST", verifyTpl, 401)

		// The incident notification completes the incident's second stage:
		// its draft goes, and the final report's clock starts.
		res = check(gAPI.Do("POST", report("incident_notification"), in), "POST", reportTpl, 201)
		var in1 repReceipt
		res.JSON(t, &in1)
		if in1.Ref != inc.Ref+"-IN-1" || hexSHA256(in1.Content) != in1.SHA256 {
			t.Errorf("notification receipt = %+v", in1)
		}
		check(gAPI.Do("GET", incPath, nil), "GET", incTpl, 200).JSON(t, &got)
		if len(got.Drafts) != 1 || got.Drafts[0].Stage != "final_report" {
			t.Errorf("drafts after the notification = %+v, want only final_report", got.Drafts)
		}
		if dl := got.deadline(t, "incident_notification"); dl.Status != "submitted_on_time" || !dl.SubmittedAt.Equal(in1.SubmittedAt) {
			t.Errorf("notification deadline = %+v", dl)
		}
		if dl := got.deadline(t, "final_report"); dl.Status != "pending" || !dl.Due.Equal(nis2.AddMonths(in1.SubmittedAt, 1)) {
			t.Errorf("final report deadline = %+v, want pending one month after %s", dl, in1.SubmittedAt)
		}

		// Lists and their filters.
		res = check(wAPI.Do("POST", listTpl, map[string]any{"title": "Chlorine dosing anomaly", "aware_at": aware, "voluntary": true}), "POST", listTpl, 201)
		var winc repIncident
		res.JSON(t, &winc)
		if winc.Kind != "voluntary" || winc.OrgID != water.ID {
			t.Errorf("voluntary incident = %+v", winc)
		}
		list := func(api *webtest.API, query string) repPage {
			t.Helper()
			res := check(api.Do("GET", listTpl+query, nil), "GET", listTpl, 200)
			var p repPage
			res.JSON(t, &p)
			return p
		}
		refs := func(p repPage) []string {
			var out []string
			for _, it := range p.Items {
				out = append(out, it.Ref)
			}
			return out
		}
		if p := list(anAPI, ""); p.Total != 2 || !slices.Equal(refs(p), []string{winc.Ref, inc.Ref}) || p.Limit != 50 || p.Offset != 0 {
			t.Errorf("the analyst's list = %+v, want both incidents, newest first", p)
		}
		if p := list(anAPI, "?limit=1&offset=1"); p.Total != 2 || !slices.Equal(refs(p), []string{inc.Ref}) || p.Limit != 1 || p.Offset != 1 {
			t.Errorf("second page = %+v", p)
		}
		// List items carry their submissions and clocks, so that a list
		// shows what is due; the authority never sees drafts.
		if p := list(anAPI, ""); len(p.Items) != 2 || len(p.Items[1].Submissions) == 0 || p.Items[1].Deadlines == nil || len(p.Items[1].Drafts) != 0 {
			t.Errorf("list item = %+v, want its submissions and deadlines, no drafts", p.Items)
		}
		for query, want := range map[string][]string{
			"?organisation_id=" + itoa(grid.ID): {inc.Ref},
			"?stage=early_warning":              {inc.Ref},
			"?stage=final_report":               nil,
			"?status=ongoing":                   {winc.Ref, inc.Ref},
			"?status=closed":                    nil,
			"?q=" + url.QueryEscape("SCADA"):    {inc.Ref},
			"?q=" + url.QueryEscape("water u"):  {winc.Ref},
			"?q=" + url.QueryEscape(winc.Ref):   {winc.Ref},
		} {
			if p := list(anAPI, query); !slices.Equal(refs(p), want) || p.Total != len(want) {
				t.Errorf("analyst list %s = %v (total %d), want %v", query, refs(p), p.Total, want)
			}
		}
		if p := list(gAPI, ""); !slices.Equal(refs(p), []string{inc.Ref}) {
			t.Errorf("the entity's list = %v, want only its own", refs(p))
		}
		if p := list(wAPI, "?organisation_id="+itoa(grid.ID)); !slices.Equal(refs(p), []string{winc.Ref}) {
			t.Errorf("another organisation filtering on the entity = %v, want only its own", refs(p))
		}
		for param, query := range map[string]string{
			"stage": "?stage=bogus", "status": "?status=handled", "organisation_id": "?organisation_id=x", "limit": "?limit=0", "offset": "?offset=-1",
		} {
			res := anAPI.Do("GET", listTpl+query, nil)
			problem(t, res, 422, param)
			check(res, "GET", listTpl, 422)
		}
		problem(t, anAPI.Do("GET", listTpl+"?stage=csirt_feedback", nil), 422, "stage")
	})
}

// jsonMembers lists the JSON member names of a struct type, and those
// always present (without omitempty or omitzero).
func jsonMembers(typ reflect.Type) (all, always []string) {
	for i := range typ.NumField() {
		f := typ.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		all = append(all, name)
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
			always = append(always, name)
		}
	}
	slices.Sort(all)
	slices.Sort(always)
	return all, always
}

// TestReportingOpenAPIFragment checks the conventions of the reporting
// fragment and that its schemas follow the Go types and enumerations they
// describe.
func TestReportingOpenAPIFragment(t *testing.T) {
	e := webtest.New(t, dbtest.SQLite(t), false)
	spec := loadRegSpec(t, e)
	ops := 0
	for path, item := range spec.pointer(t, "#/paths") {
		if !strings.HasPrefix(path, "/api/v1/incidents") && !strings.HasPrefix(path, "/api/v1/receipts") {
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
			if tags, _ := op["tags"].([]any); !slices.Equal(tags, []any{"reporting"}) {
				t.Errorf("%s %s: tags %v, want [reporting]", method, path, tags)
			}
			responses := op["responses"].(map[string]any)
			if responses["401"] == nil {
				t.Errorf("%s %s does not document 401", method, path)
			}
			if body, ok := op["requestBody"].(map[string]any); ok {
				if _, isJSON := body["content"].(map[string]any)["application/json"]; isJSON {
					for _, st := range []string{"400", "401", "403", "413", "415", "422"} {
						if responses[st] == nil {
							t.Errorf("%s %s takes a JSON body but does not document %s", method, path, st)
						}
					}
				}
			}
		}
	}
	// Every served reporting route is documented once: the walk above saw
	// as many operations as the server has routes under those prefixes.
	routes := 0
	for _, r := range e.App.Web.Routes() {
		_, path, _ := strings.Cut(r.Pattern, " ")
		if r.API && (strings.HasPrefix(path, "/api/v1/incidents") || strings.HasPrefix(path, "/api/v1/receipts")) {
			routes++
		}
	}
	if ops != routes || ops < 15 {
		t.Errorf("%d reporting operations documented, %d routes served (at least 15 expected)", ops, routes)
	}
	for _, name := range []string{"IncidentInput", "ReportContentInput", "ReportPersonInput", "ReportIndicatorInput", "ReportQuantitiesInput", "ReceiptVerifyInput"} {
		if ap, ok := spec.pointer(t, "#/components/schemas/"+name)["additionalProperties"].(bool); !ok || ap {
			t.Errorf("schema %s: want additionalProperties false", name)
		}
	}

	// The schemas name exactly the members of the Go types: inputs take
	// every member, outputs require those always sent.
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
		"IncidentInput":         reflect.TypeFor[reporting.IncidentInput](),
		"ReportContentInput":    reflect.TypeFor[reporting.Content](),
		"ReportPersonInput":     reflect.TypeFor[reporting.Person](),
		"ReportIndicatorInput":  reflect.TypeFor[reporting.Indicator](),
		"ReportQuantitiesInput": reflect.TypeFor[reporting.Quantities](),
		"ReportContent":         reflect.TypeFor[reporting.Content](),
		"ReportPerson":          reflect.TypeFor[reporting.Person](),
		"ReportIndicator":       reflect.TypeFor[reporting.Indicator](),
		"ReportQuantities":      reflect.TypeFor[reporting.Quantities](),
		"ReportDraft":           reflect.TypeFor[reporting.Draft](),
		"ReportSubmission":      reflect.TypeFor[reporting.Submission](),
		"Incident":              reflect.TypeFor[reporting.Incident](),
		"Receipt":               reflect.TypeFor[reporting.Receipt](),
		"ReceiptVerification":   reflect.TypeFor[reporting.Verification](),
		"IncidentDeadlines":     reflect.TypeFor[nis2.Deadlines](),
		"IncidentDeadline":      reflect.TypeFor[nis2.Deadline](),
	} {
		sch := spec.pointer(t, "#/components/schemas/"+name)
		all, always := jsonMembers(typ)
		if props := keys(sch["properties"].(map[string]any)); !slices.Equal(props, all) {
			t.Errorf("schema %s documents %v; %s has %v", name, props, typ, all)
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

	// Enumerations follow the Go code.
	enum := func(sch map[string]any) []string {
		var out []string
		for _, v := range spec.deref(t, sch)["enum"].([]any) {
			out = append(out, v.(string))
		}
		return out
	}
	schema := func(name string) map[string]any { return spec.pointer(t, "#/components/schemas/"+name) }
	prop := func(name, p string) map[string]any {
		return schema(name)["properties"].(map[string]any)[p].(map[string]any)
	}
	var stages []string
	for _, s := range reporting.Stages {
		stages = append(stages, string(s))
	}
	if got := spec.enum(t, "ReportStage"); !slices.Equal(got, stages) {
		t.Errorf("ReportStage %v, want %v", got, stages)
	}
	if got := spec.enum(t, "ReportTLP"); !slices.Equal(got, reporting.TLPs) {
		t.Errorf("ReportTLP %v, want %v", got, reporting.TLPs)
	}
	for _, name := range []string{"ReportIndicatorInput", "ReportIndicator"} {
		if got := enum(prop(name, "type")); !slices.Equal(got, reporting.IndicatorTypes) {
			t.Errorf("%s.type %v, want %v", name, got, reporting.IndicatorTypes)
		}
	}
	for _, p := range []string{"severity", "root_cause", "suspected_malicious", "cross_border", "incident_status"} {
		if a, b := enum(prop("ReportContentInput", p)), enum(prop("ReportContent", p)); !slices.Equal(a, b) {
			t.Errorf("%s: input enum %v, output enum %v", p, a, b)
		}
	}
	var dstages, dstatuses []string
	for _, s := range nis2.Stages() {
		dstages = append(dstages, string(s))
	}
	for _, s := range nis2.Statuses() {
		dstatuses = append(dstatuses, string(s))
	}
	if got := enum(prop("IncidentDeadline", "stage")); !slices.Equal(got, dstages) {
		t.Errorf("IncidentDeadline.stage %v, want %v", got, dstages)
	}
	if got := enum(prop("IncidentDeadline", "status")); !slices.Equal(got, dstatuses) {
		t.Errorf("IncidentDeadline.status %v, want %v", got, dstatuses)
	}
	classes := spec.enum(t, "ReportClassification")
	for _, c := range classes {
		if !reporting.ValidRSIT(c) {
			t.Errorf("ReportClassification %q is not in the RSIT", c)
		}
	}
	if len(classes) < 50 || !slices.Contains(classes, "malicious-code/infected-system") || !slices.Contains(classes, "test") {
		t.Errorf("ReportClassification = %v", classes)
	}
}
