package app_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/webtest"
)

const (
	nis2SigPath   = "/api/v1/nis2/significance"
	nis2ClockPath = "/api/v1/nis2/deadlines"
)

// nis2Env starts an instance and returns the spec and an API client of an
// entity's member with a write token: any signed-in caller may use the
// calculators.
func nis2Env(t *testing.T) (*webtest.Env, *regSpec, *webtest.API) {
	t.Helper()
	e := webtest.New(t, dbtest.SQLite(t), false)
	spec := loadRegSpec(t, e)
	org := e.Org(t, "Cloud Provider Test", "entity")
	u := e.User(t, org.ID, "member@cloud.example", "member")
	return e, spec, e.API(t, e.Token(t, u, "read", "write"))
}

// asJSON decodes a JSON text into any, or marshals a value and decodes
// it, so that two JSON documents compare by value.
func asJSON(t *testing.T, v any) any {
	t.Helper()
	var b []byte
	switch x := v.(type) {
	case string:
		b = []byte(x)
	default:
		var err error
		if b, err = json.Marshal(x); err != nil {
			t.Fatal(err)
		}
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("decode %.200s: %v", b, err)
	}
	return out
}

// requestSchema is the documented JSON request body schema of POST path.
func requestSchema(t *testing.T, spec *regSpec, path string) map[string]any {
	t.Helper()
	op := spec.pointer(t, "#/paths")[path].(map[string]any)["post"].(map[string]any)
	return op["requestBody"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)
}

// problemFields returns the fields a problem names, sorted.
func problemFields(t *testing.T, res *webtest.Response) []string {
	t.Helper()
	var p struct {
		Errors []struct{ Field, Code, Detail string }
	}
	res.JSON(t, &p)
	var out []string
	for _, f := range p.Errors {
		if f.Detail == "" || f.Code == "" {
			t.Errorf("field error %+v without code or detail", f)
		}
		out = append(out, f.Field)
	}
	slices.Sort(out)
	return out
}

// errFields returns the fields of an errs.Error, sorted.
func errFields(t *testing.T, err error) []string {
	t.Helper()
	e, ok := errs.As(err)
	if !ok {
		t.Fatalf("error %v is not an errs.Error", err)
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	slices.Sort(out)
	return out
}

// TestNis2SignificanceAPI checks that POST /api/v1/nis2/significance
// answers exactly what the pure function decides for the same facts, in
// the documented shape.
func TestNis2SignificanceAPI(t *testing.T) {
	_, spec, api := nis2Env(t)
	reqSchema := requestSchema(t, spec, nis2SigPath)
	for _, c := range []struct {
		name, facts, outcome, regime string
		decidedBy                    []string
	}{
		{"cloud outage of 31 minutes", `{
			"entity_type": "digital_infra.cloud", "turnover_prev_fy_eur": 40000000, "direct_financial_loss_eur": 120000,
			"trade_secret_exfiltration": false, "death": false, "considerable_health_damage": false,
			"successful_malicious_unauthorised_access": false, "capable_severe_disruption": false,
			"incident_date": "2025-03-12", "root_cause": "rc-storage-firmware", "related_incidents": [],
			"service_users_eu": 10000000, "complete_unavailability_minutes": 31, "limited_availability_minutes": 120,
			"limited_availability_users": 400000, "cia_compromised": false}`,
			"significant", "reg_2024_2690", []string{"7a"}},
		{"four trust-service outages in one week", `{
			"entity_type": "digital_infra.trust_service", "turnover_prev_fy_eur": 8000000, "direct_financial_loss_eur": 0,
			"trade_secret_exfiltration": false, "death": false, "considerable_health_damage": false,
			"successful_malicious_unauthorised_access": false, "capable_severe_disruption": false,
			"incident_date": "2025-03-16", "root_cause": "rc-hsm-failover",
			"related_incidents": [{"date": "2025-01-20", "root_cause": "rc-hsm-failover", "direct_financial_loss_eur": 0, "reference": "CCB-2025-0113"}],
			"service_users_eu": 2500000, "complete_unavailability_minutes": 18,
			"week_outages": [{"date": "2025-03-10", "minutes": 18}, {"date": "2025-03-11", "minutes": 18},
				{"date": "2025-03-13", "minutes": 18}, {"date": "2025-03-16", "minutes": 18}],
			"limited_availability_users": 0, "physical_access_compromised": false, "cia_compromised": false}`,
			"significant", "reg_2024_2690", []string{"14b"}},
		// Most facts missing, but one met criterion settles it.
		{"early assessment settled by 11c", `{"entity_type": "digital_provider.marketplace", "service_users_eu": 8000000,
			"complete_unavailability_users": 350000, "cia_compromised": true, "suspected_malicious": true}`,
			"significant", "reg_2024_2690", []string{"11c"}},
		// Facts missing and nothing met: no decision either way.
		{"early assessment undetermined", `{"entity_type": "digital_infra.cloud", "complete_unavailability_minutes": 12,
			"death": false, "related_incidents": null}`,
			"undetermined", "reg_2024_2690", []string{}},
		{"hospital, qualitative test", `{"entity_type": "health.provider", "severe_operational_disruption": true,
			"severe_financial_loss": false, "complete_unavailability_minutes": 240}`,
			"significant", "nis2_23_3_qualitative", []string{"23.3a.disruption"}},
		{"nothing happened in a data centre", `{"entity_type": "digital_infra.data_centre", "scheduled_maintenance": false,
			"turnover_prev_fy_eur": 1000000, "direct_financial_loss_eur": 0, "trade_secret_exfiltration": false, "death": false,
			"considerable_health_damage": false, "successful_malicious_unauthorised_access": false, "capable_severe_disruption": false,
			"related_incidents": [], "complete_unavailability_minutes": 0, "limited_availability_minutes": 0,
			"cia_compromised": false, "physical_access_compromised": false}`,
			"not_significant", "reg_2024_2690", []string{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if e := spec.validate(t, reqSchema, asJSON(t, c.facts), "$"); len(e) > 0 {
				t.Errorf("the facts do not match the documented request schema: %v", e)
			}
			f, err := nis2.ParseSignificanceFacts(strings.NewReader(c.facts))
			if err != nil {
				t.Fatalf("ParseSignificanceFacts: %v", err)
			}
			want, err := nis2.AssessSignificance(f)
			if err != nil {
				t.Fatalf("AssessSignificance: %v", err)
			}
			res := api.Do("POST", nis2SigPath, c.facts)
			spec.check(t, res, "POST", nis2SigPath, http.StatusOK)
			if ct := res.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if got := asJSON(t, res.Body); !reflect.DeepEqual(got, asJSON(t, want)) {
				t.Errorf("body differs from nis2.AssessSignificance:\n got  %.3000s\n want %.3000s", res.Body, asJSON(t, want))
			}
			var d struct {
				Significant bool     `json:"significant"`
				Outcome     string   `json:"outcome"`
				Regime      string   `json:"regime"`
				DecidedBy   []string `json:"decided_by"`
			}
			res.JSON(t, &d)
			if d.Outcome != c.outcome || d.Significant != (c.outcome == "significant") || d.Regime != c.regime || !slices.Equal(d.DecidedBy, c.decidedBy) {
				t.Errorf("decision = %+v, want outcome %s, regime %s, decided by %v", d, c.outcome, c.regime, c.decidedBy)
			}
		})
	}
}

// TestNis2DeadlinesAPI checks that POST /api/v1/nis2/deadlines answers
// exactly what nis2.Due computes for the same times, judged at the
// server's clock unless the facts give now.
func TestNis2DeadlinesAPI(t *testing.T) {
	e, spec, api := nis2Env(t)
	reqSchema := requestSchema(t, spec, nis2ClockPath)
	clock := time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC)
	e.App.Reports.SetClock(func() time.Time { return clock })
	t.Cleanup(func() { e.App.Reports.SetClock(time.Now) })

	type stage struct {
		Stage   string    `json:"stage"`
		Status  string    `json:"status"`
		Due     time.Time `json:"due"`
		Rule    string    `json:"rule"`
		LateBy  int64     `json:"late_by"`
		HintKey string    `json:"hint_key"`
	}
	type deadlines struct {
		AwareAt time.Time `json:"aware_at"`
		Now     time.Time `json:"now"`
		Stages  []stage   `json:"stages"`
	}
	post := func(t *testing.T, facts string, clock time.Time) deadlines {
		t.Helper()
		if e := spec.validate(t, reqSchema, asJSON(t, facts), "$"); len(e) > 0 {
			t.Errorf("the facts do not match the documented request schema: %v", e)
		}
		res := api.Do("POST", nis2ClockPath, facts)
		spec.check(t, res, "POST", nis2ClockPath, http.StatusOK)
		var got deadlines
		res.JSON(t, &got)
		if clock.IsZero() { // the live clock: compare at the instant it answered
			clock = got.Now
		}
		f, err := nis2.ParseClockFacts(strings.NewReader(facts))
		if err != nil {
			t.Fatalf("ParseClockFacts: %v", err)
		}
		want, err := nis2.Due(f, clock)
		if err != nil {
			t.Fatalf("Due: %v", err)
		}
		if !reflect.DeepEqual(asJSON(t, res.Body), asJSON(t, want)) {
			t.Errorf("body differs from nis2.Due:\n got  %s\n want %v", res.Body, asJSON(t, want))
		}
		return got
	}
	find := func(t *testing.T, d deadlines, s string) stage {
		t.Helper()
		for _, x := range d.Stages {
			if x.Stage == s {
				return x
			}
		}
		t.Fatalf("stage %s missing from %+v", s, d)
		return stage{}
	}
	const times = `"aware_at": "2025-06-09T10:00:00+02:00", "early_warning_submitted_at": "2025-06-09T20:00:00Z"`

	t.Run("ordinary entity at the server clock", func(t *testing.T) {
		d := post(t, `{`+times+`}`, clock)
		if !d.Now.Equal(clock) || !d.AwareAt.Equal(time.Date(2025, 6, 9, 8, 0, 0, 0, time.UTC)) {
			t.Errorf("aware_at %v, now %v; want 2025-06-09T08:00Z and the server clock %v", d.AwareAt, d.Now, clock)
		}
		if x := find(t, d, "early_warning"); x.Status != "submitted_on_time" {
			t.Errorf("early warning = %+v, want submitted_on_time", x)
		}
		if x := find(t, d, "incident_notification"); x.Status != "pending" || !x.Due.Equal(time.Date(2025, 6, 12, 8, 0, 0, 0, time.UTC)) ||
			x.Rule != "NIS2 Art. 23(4)(b)" {
			t.Errorf("notification = %+v, want pending, due 72 h after awareness under Art. 23(4)(b)", x)
		}
	})
	t.Run("trust service provider", func(t *testing.T) {
		d := post(t, `{`+times+`, "trust_service_impact": true}`, clock)
		x := find(t, d, "incident_notification")
		if x.Status != "overdue" || !x.Due.Equal(time.Date(2025, 6, 10, 8, 0, 0, 0, time.UTC)) || x.LateBy != 4*3600 ||
			x.Rule != "NIS2 Art. 23(4), second subparagraph" || x.HintKey != "nis2.stage_hint.incident_notification_tsp" {
			t.Errorf("notification = %+v, want overdue by 4 h, due 24 h after awareness", x)
		}
	})
	t.Run("the facts' now wins over the server clock", func(t *testing.T) {
		d := post(t, `{
			"aware_at": "2025-04-30T11:00:00+02:00", "early_warning_submitted_at": "2025-05-01T08:30:00Z",
			"csirt_received_early_warning_at": "2025-05-01T08:30:00Z", "csirt_feedback_at": "2025-05-01T15:00:00Z",
			"notification_submitted_at": "2025-05-02T09:00:00Z", "ongoing_at_final_due": true,
			"progress_report_submitted_at": "2025-06-02T08:00:00Z", "handled_at": "2025-06-20T17:00:00Z",
			"intermediate_requested_at": null, "intermediate_deadline": "", "now": "2025-06-01T00:00:00Z"}`, time.Time{})
		if !d.Now.Equal(time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("now = %v, want the facts' now", d.Now)
		}
		if x := find(t, d, "final_report"); x.Status != "pending" || !x.Due.Equal(time.Date(2025, 7, 20, 17, 0, 0, 0, time.UTC)) {
			t.Errorf("final report = %+v, want pending, due one month after handling", x)
		}
	})
	t.Run("live clock", func(t *testing.T) {
		e.App.Reports.SetClock(time.Now)
		before := time.Now()
		d := post(t, `{`+times+`}`, time.Time{})
		if d.Now.Before(before) || d.Now.After(time.Now()) {
			t.Errorf("now = %v, want the time of the request (from %v)", d.Now, before)
		}
		if x := find(t, d, "incident_notification"); x.Status != "overdue" {
			t.Errorf("notification = %+v, want overdue today", x)
		}
	})
}

// TestNis2APIErrors checks the refusals of both calculators: each is
// documented, carries problem details, and names the fields at fault by
// their JSON path, as the parsers do.
func TestNis2APIErrors(t *testing.T) {
	e, spec, api := nis2Env(t)
	parse := map[string]func(string) error{
		nis2SigPath: func(s string) error {
			_, err := nis2.ParseSignificanceFacts(strings.NewReader(s))
			return err
		},
		nis2ClockPath: func(s string) error {
			_, err := nis2.ParseClockFacts(strings.NewReader(s))
			return err
		},
	}
	for _, c := range []struct {
		name, path, body string
		fields           []string // sorted
		codes            []string // the codes of the fields, in the order of fields
	}{
		{"unknown field", nis2SigPath, `{"entity_type": "digital_infra.cloud", "outage_minutes": 31}`,
			[]string{"outage_minutes"}, []string{"nis2.unknown_field"}},
		{"unknown field in a list", nis2SigPath, `{"entity_type": "digital_infra.cloud", "related_incidents": [{"date": "2025-01-02", "root_cause": "x", "loss": 3}]}`,
			[]string{"related_incidents[0].loss"}, []string{"nis2.unknown_field"}},
		{"wrong types", nis2SigPath, `{"entity_type": "digital_infra.cloud", "death": "yes", "service_users_eu": 1.5e6, "week_outages": {}}`,
			[]string{"death", "service_users_eu", "week_outages"}, []string{"nis2.want_bool", "nis2sig.want_whole", "nis2sig.want_list"}},
		{"every problem at once", nis2SigPath, `{"entity_type": "digital_infra.cloud", "service_users_eu": 1.5e6, "limited_availability_users": -3,
			"outage_minutes": 31, "related_incidents": [{"date": "12/01/2025"}]}`,
			[]string{"limited_availability_users", "outage_minutes", "related_incidents[0].date", "related_incidents[0].root_cause", "service_users_eu"},
			[]string{"nis2.negative", "nis2.unknown_field", "nis2sig.date", "nis2sig.root_cause_required", "nis2sig.want_whole"}},
		{"unknown entity type", nis2SigPath, `{"entity_type": "cloud"}`, []string{"entity_type"}, []string{"nis2.unknown_type"}},
		{"no entity type", nis2SigPath, `{}`, []string{"entity_type"}, []string{"nis2sig.type_required"}},
		{"unknown field", nis2ClockPath, `{"aware_at": "2025-06-01T08:00:00Z", "handled": true}`,
			[]string{"handled"}, []string{"nis2.unknown_field"}},
		{"wrong types", nis2ClockPath, `{"aware_at": "2025-06-01", "trust_service_impact": "yes"}`,
			[]string{"aware_at", "trust_service_impact"}, []string{"nis2clock.time", "nis2.want_bool"}},
		{"times out of order", nis2ClockPath, `{"aware_at": "2025-06-02T08:00:00+02:00", "notification_submitted_at": "2025-06-01T09:00:00Z"}`,
			[]string{"notification_submitted_at"}, []string{"nis2clock.before_aware"}},
		{"no aware_at", nis2ClockPath, `{"trust_service_impact": true}`, []string{"aware_at"}, []string{"nis2clock.aware_required"}},
	} {
		t.Run(c.path+" "+c.name, func(t *testing.T) {
			res := api.Do("POST", c.path, c.body)
			spec.check(t, res, "POST", c.path, http.StatusUnprocessableEntity)
			p := problem(t, res, http.StatusUnprocessableEntity, c.fields[0])
			got := problemFields(t, res)
			if !slices.Equal(got, c.fields) {
				t.Errorf("fields = %v, want %v", got, c.fields)
			}
			if want := errFields(t, parse[c.path](c.body)); !slices.Equal(got, want) {
				t.Errorf("fields = %v, the parser names %v", got, want)
			}
			for _, f := range p.Errors {
				if i := slices.Index(c.fields, f.Field); i < 0 || f.Code != c.codes[i] {
					t.Errorf("field %s: code %s, want %v", f.Field, f.Code, c.codes)
				}
			}
		})
	}

	for _, path := range []string{nis2SigPath, nis2ClockPath} {
		t.Run(path+" not an object", func(t *testing.T) {
			for _, body := range []string{`[]`, `null`, `"facts"`} {
				res := api.Do("POST", path, body)
				spec.check(t, res, "POST", path, http.StatusUnprocessableEntity)
				if p := problem(t, res, http.StatusUnprocessableEntity, ""); !strings.HasSuffix(p.Code, ".not_object") {
					t.Errorf("%s: code %q, want …not_object", body, p.Code)
				}
			}
		})
		t.Run(path+" not JSON", func(t *testing.T) {
			for body, code := range map[string]string{"": "nis2.empty", "  \n": "nis2.empty", `{"aware_at": `: "nis2.truncated",
				`{"entity_type" "x"}`: "nis2.malformed", `{} {}`: "nis2.malformed"} {
				res := api.Do("POST", path, body)
				spec.check(t, res, "POST", path, http.StatusBadRequest)
				if p := problem(t, res, http.StatusBadRequest, ""); p.Code != code {
					t.Errorf("%q: code %q, want %s", body, p.Code, code)
				}
			}
		})
		t.Run(path+" wrong media type", func(t *testing.T) {
			for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded"} {
				h := http.Header{"Authorization": {"Bearer " + api.Token()}}
				if ct != "" {
					h.Set("Content-Type", ct)
				}
				res := api.Raw().Do("POST", path, strings.NewReader(`{"aware_at": "2025-06-01T08:00:00Z"}`), h)
				spec.check(t, res, "POST", path, http.StatusUnsupportedMediaType)
				if p := problem(t, res, http.StatusUnsupportedMediaType, ""); p.Code != "unsupported_media_type" {
					t.Errorf("Content-Type %q: code %q", ct, p.Code)
				}
			}
			// A +json media type and parameters are accepted, as elsewhere.
			h := http.Header{"Authorization": {"Bearer " + api.Token()}, "Content-Type": {"application/merge-patch+json; charset=utf-8"}}
			res := api.Raw().Do("POST", nis2ClockPath, strings.NewReader(`{"aware_at": "2025-06-01T08:00:00Z"}`), h)
			spec.check(t, res, "POST", nis2ClockPath, http.StatusOK)
		})
		t.Run(path+" too large", func(t *testing.T) {
			body := `{"entity_type": "digital_infra.cloud"` + strings.Repeat(" ", 1<<20) + `}`
			res := api.Do("POST", path, body)
			spec.check(t, res, "POST", path, http.StatusRequestEntityTooLarge)
			problem(t, res, http.StatusRequestEntityTooLarge, "")
		})
		t.Run(path+" without a token", func(t *testing.T) {
			res := e.API(t, "").Do("POST", path, `{"aware_at": "2025-06-01T08:00:00Z"}`)
			spec.check(t, res, "POST", path, http.StatusUnauthorized)
			if p := problem(t, res, http.StatusUnauthorized, ""); p.Code != "unauthenticated" {
				t.Errorf("code %q", p.Code)
			}
			res = e.API(t, "bfy_not-a-token").Do("POST", path, `{"aware_at": "2025-06-01T08:00:00Z"}`)
			spec.check(t, res, "POST", path, http.StatusUnauthorized)
		})
	}

	// A read-only token may ask too: these POSTs store nothing
	// (web.QueryAPI).
	t.Run("read-only token", func(t *testing.T) {
		authority, err := e.App.Identity.AuthorityOrg(webtest.System())
		if err != nil {
			t.Fatal(err)
		}
		ro := e.API(t, e.Token(t, e.User(t, authority.ID, "analyst@ccb.example", "analyst"), "read"))
		for path, body := range map[string]string{nis2SigPath: `{"entity_type": "digital_infra.cloud"}`, nis2ClockPath: `{"aware_at": "2025-06-01T08:00:00Z"}`} {
			res := ro.Do("POST", path, body)
			spec.check(t, res, "POST", path, http.StatusOK)
		}
	})

	// The messages follow Accept-Language like the rest of the API.
	t.Run("language", func(t *testing.T) {
		h := http.Header{"Authorization": {"Bearer " + api.Token()}, "Content-Type": {"application/json"}, "Accept-Language": {"fr"}}
		fr := api.Raw().Do("POST", nis2SigPath, strings.NewReader(`{"entity_type": "digital_infra.cloud", "death": "yes"}`), h)
		en := api.Do("POST", nis2SigPath, `{"entity_type": "digital_infra.cloud", "death": "yes"}`)
		pf, pe := problem(t, fr, 422, "death"), problem(t, en, 422, "death")
		if pf.Errors[0].Detail == pe.Errors[0].Detail || pf.Errors[0].Code != pe.Errors[0].Code {
			t.Errorf("French %q and English %q details", pf.Errors[0].Detail, pe.Errors[0].Detail)
		}
	})
}

// TestNis2OpenAPIFragment checks that the calculators' schemas name the
// members of the Go types they describe.
func TestNis2OpenAPIFragment(t *testing.T) {
	e := webtest.New(t, dbtest.SQLite(t), false)
	spec := loadRegSpec(t, e)
	for name, typ := range map[string]reflect.Type{
		"Nis2SignificanceFacts":           reflect.TypeFor[nis2.SignificanceFacts](),
		"Nis2SignificanceRelatedIncident": reflect.TypeFor[nis2.RelatedIncident](),
		"Nis2SignificanceOutage":          reflect.TypeFor[nis2.Outage](),
		"Nis2SignificanceDecision":        reflect.TypeFor[nis2.SignificanceDecision](),
		"Nis2SignificanceCriterion":       reflect.TypeFor[nis2.Criterion](),
		"Nis2SignificanceThreshold":       reflect.TypeFor[nis2.Threshold](),
		"Nis2SignificanceNote":            reflect.TypeFor[nis2.SignificanceNote](),
		"Nis2ClockFacts":                  reflect.TypeFor[nis2.ClockFacts](),
		"Nis2Deadlines":                   reflect.TypeFor[nis2.Deadlines](),
		"Nis2Deadline":                    reflect.TypeFor[nis2.Deadline](),
	} {
		sch := spec.pointer(t, "#/components/schemas/"+name)
		var documented []string
		for k := range sch["properties"].(map[string]any) {
			documented = append(documented, k)
		}
		slices.Sort(documented)
		all, _ := jsonMembers(typ)
		if !slices.Equal(documented, all) {
			t.Errorf("schema %s has %v, the Go type %v", name, documented, all)
		}
		if ap, ok := sch["additionalProperties"].(bool); !ok || ap {
			t.Errorf("schema %s: want additionalProperties false", name)
		}
	}
	for name, all := range map[string][]nis2.Stage{"Nis2Deadline": nis2.Stages()} {
		var want []any
		for _, s := range all {
			want = append(want, string(s))
		}
		if got := spec.pointer(t, "#/components/schemas/"+name)["properties"].(map[string]any)["stage"].(map[string]any)["enum"]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s.stage enum = %v, want %v", name, got, want)
		}
	}
}

// TestNis2OpenAPIMatchesDocSchemas keeps the components of the fragment
// the translation of the JSON Schemas in docs/nis2-significance.md and
// docs/nis2-deadlines.md: the same schemas, with $defs as components and
// descriptions added.
func TestNis2OpenAPIMatchesDocSchemas(t *testing.T) {
	e := webtest.New(t, dbtest.SQLite(t), false)
	spec := loadRegSpec(t, e)
	docSchemas := func(name string) []map[string]any {
		b, err := os.ReadFile(filepath.Join("..", "..", "docs", name))
		if err != nil {
			t.Fatal(err)
		}
		var out []map[string]any
		for _, block := range strings.Split(string(b), "```json\n")[1:] {
			body, _, _ := strings.Cut(block, "```")
			var s map[string]any
			if err := json.Unmarshal([]byte(body), &s); err == nil && s["$schema"] != nil {
				out = append(out, s)
			}
		}
		if len(out) != 2 {
			t.Fatalf("%s: %d JSON Schemas, want 2", name, len(out))
		}
		return out
	}
	// rename turns $defs references into component references.
	var rename func(v any, names map[string]string) any
	rename = func(v any, names map[string]string) any {
		switch x := v.(type) {
		case map[string]any:
			out := map[string]any{}
			for k, val := range x {
				if ref, ok := val.(string); ok && k == "$ref" && strings.HasPrefix(ref, "#/$defs/") {
					val = "#/components/schemas/" + names[strings.TrimPrefix(ref, "#/$defs/")]
				}
				out[k] = rename(val, names)
			}
			return out
		case []any:
			out := make([]any, len(x))
			for i, val := range x {
				out[i] = rename(val, names)
			}
			return out
		}
		return v
	}
	// component is a served schema without its top-level description
	// (compared without the doc's either) and that of stages.
	component := func(name string) map[string]any {
		c := maps.Clone(spec.pointer(t, "#/components/schemas/"+name))
		delete(c, "description")
		if name == "Nis2Deadlines" {
			props := maps.Clone(c["properties"].(map[string]any))
			stages := maps.Clone(props["stages"].(map[string]any))
			delete(stages, "description")
			props["stages"] = stages
			c["properties"] = props
		}
		return asJSON(t, c).(map[string]any)
	}
	sig, clock := docSchemas("nis2-significance.md"), docSchemas("nis2-deadlines.md")
	for _, c := range []struct {
		schema map[string]any
		name   string
		defs   map[string]string
	}{
		{sig[0], "Nis2SignificanceFacts", map[string]string{"amount": "Nis2SignificanceAmount", "count": "Nis2SignificanceCount",
			"fact": "Nis2SignificanceFact", "date": "Nis2SignificanceDate", "related_incident": "Nis2SignificanceRelatedIncident",
			"outage": "Nis2SignificanceOutage", "entity_type": "Nis2EntityTypeCode"}},
		{sig[1], "Nis2SignificanceDecision", map[string]string{"criterion": "Nis2SignificanceCriterion",
			"threshold": "Nis2SignificanceThreshold", "note": "Nis2SignificanceNote", "code": "Nis2SignificanceCriterionCode"}},
		{clock[0], "Nis2ClockFacts", map[string]string{"time": "Nis2ClockTime"}},
		{clock[1], "Nis2Deadlines", map[string]string{"deadline": "Nis2Deadline"}},
	} {
		top := maps.Clone(c.schema)
		for _, k := range []string{"$schema", "$id", "title", "$defs"} {
			delete(top, k)
		}
		if got, want := component(c.name), rename(top, c.defs); !reflect.DeepEqual(got, want) {
			t.Errorf("%s differs from the doc's schema:\n got  %v\n want %v", c.name, got, want)
		}
		for def, name := range c.defs {
			want := maps.Clone(rename(c.schema["$defs"].(map[string]any)[def], c.defs).(map[string]any))
			delete(want, "description")
			if name == "Nis2EntityTypeCode" { // the registry's, with a type
				want["type"] = "string"
			}
			if got := component(name); !reflect.DeepEqual(got, want) {
				t.Errorf("%s differs from the doc's $defs/%s:\n got  %v\n want %v", name, def, got, want)
			}
		}
	}
}
