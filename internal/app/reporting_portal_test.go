package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/reporting"
	"github.com/belfry-cert/belfry/internal/webtest"
)

var (
	incidentPathRE = regexp.MustCompile(`^/[a-z]{2}/incidents/(\d+)$`)
	receiptPathRE  = regexp.MustCompile(`^/[a-z]{2}/incidents/\d+/receipts/(INC-\d{4}-\d{6}-[A-Z]{2}-\d+)$`)
	tokenRE        = regexp.MustCompile(`name="token" value="([^"]+)"`)
	// untranslated finds a message key shown instead of its message.
	untranslated = regexp.MustCompile(`(err\.)?(repui|rep|nis2|country)\.[a-z_]+[.a-z0-9_+/-]*`)
)

// TestReportingPortal files an incident's early warning and notification
// through the portal, without JavaScript, once in each language: opening
// the incident with one error round on the typed time, the early warning
// through form, check answers and submit, a double submit that files once,
// the receipt whose reference and SHA-256 are those stored, the incident
// notification pre-filled from the early warning, and the task list with
// both submitted and the final report pending with its due time. Another
// organisation gets 404 on every page of the incident; the authority's
// analyst reads the list and the incident without forms.
func TestReportingPortal(t *testing.T) {
	e := webtest.New(t, dbtest.SQLite(t), false)
	var authorityID int64
	if err := e.App.DB.QueryRow(t.Context(), `SELECT id FROM organisations WHERE kind = 'authority' ORDER BY id LIMIT 1`).Scan(&authorityID); err != nil {
		t.Fatal(err)
	}
	analyst := e.User(t, authorityID, "ana-reports@authority.example", "analyst")
	other := e.Org(t, "Elsewhere Shipping", "entity")
	otherAdmin := e.User(t, other.ID, "admin@elsewhere.example", "org_admin")
	bxl, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		t.Fatal(err)
	}
	cat := e.App.Catalog
	// Figures typed as people in each language write them.
	users := map[string]string{"nl": "1.200", "fr": "1 200", "de": "1.200", "en": "1,200"}
	loss := map[string]string{"nl": "25.000,50", "fr": "25 000,50", "de": "25.000,50", "en": "25,000.50"}
	type filed struct {
		lang, title string
		id          int64
		ew, in      *reporting.Receipt
	}
	var all []filed

	for i, lang := range []string{"nl", "fr", "de", "en"} {
		t.Run(lang, func(t *testing.T) {
			org := e.Org(t, "Grid operator "+lang, "entity")
			member := e.User(t, org.ID, fmt.Sprintf("soc%d@grid-%s.example", i, lang), "member")
			c := e.Login(t, member.Email, webtest.Password(member.Email))
			c.Lang = lang
			T := func(key string, args ...any) string {
				var m map[string]any
				if len(args) > 0 {
					m = map[string]any{}
					for j := 0; j+1 < len(args); j += 2 {
						m[args[j].(string)] = args[j+1]
					}
				}
				return cat.T(lang, key, m)
			}
			expect := func(res *webtest.Response, status int, what string, contains ...string) {
				t.Helper()
				checkPage(t, res, status, what, contains...)
			}
			redirect := func(res *webtest.Response, what string) string {
				t.Helper()
				if res.StatusCode != http.StatusSeeOther {
					t.Fatalf("%s: status %d, want 303; body %.1500s", what, res.StatusCode, res.Body)
				}
				return res.Header.Get("Location")
			}

			// The navigation leads to the list, which offers to report.
			expect(c.Get("/"), 200, "home", `href="/`+lang+`/incidents"`, T("nav.incidents"))
			expect(c.Get("/incidents"), 200, "empty list", T("repui.list.new"), T("repui.list.none"))
			expect(c.Get("/incidents/new"), 200, "new form", T("repui.new.just_now"), T("repui.date.hint"), `inputmode="numeric"`, T("repui.new.tsp_hint"))

			// One error round: no title, and a time without month and hour.
			res := c.PostForm("/incidents/new", url.Values{"title": {" "}, "aware_when": {"time"}, "aware_at-day": {"3"}, "aware_at-year": {"2026"}, "aware_at-minute": {"05"}})
			noun := T("repui.time_noun.aware_at")
			expect(res, 422, "new incident with a broken time", T("error.summary_title"), `href="#title"`, T("err.rep.title_required"),
				`href="#aware_at-month"`, T("err.repui.time_missing_month", "label", noun), `href="#aware_at-hour"`, T("err.repui.time_missing_hour", "label", noun),
				`id="aware_at-month" name="aware_at-month" type="text" inputmode="numeric" autocomplete="off" spellcheck="false" value="" aria-invalid="true"`,
				`name="aware_at-day" type="text" inputmode="numeric" autocomplete="off" spellcheck="false" value="3"`)
			if !strings.Contains(res.Body, "<title>"+T("error.title_prefix")) {
				t.Errorf("error page title lacks %q", T("error.title_prefix"))
			}
			// A time in the future is refused.
			future := time.Now().Add(48 * time.Hour).In(bxl)
			res = c.PostForm("/incidents/new", timeForm(url.Values{"title": {"Ransomware " + lang}, "aware_when": {"time"}}, "aware_at", future))
			expect(res, 422, "awareness in the future", T("err.repui.time_future", "label", noun))

			title := fmt.Sprintf("Ransomware on the SCADA gateway (%s)", lang)
			aware := time.Now().Add(-2 * time.Hour).In(bxl).Truncate(time.Minute)
			loc := redirect(c.PostForm("/incidents/new", timeForm(url.Values{"title": {title}, "aware_when": {"time"}}, "aware_at", aware)), "new incident")
			m := incidentPathRE.FindStringSubmatch(loc)
			if m == nil {
				t.Fatalf("new incident went to %q", loc)
			}
			id, _ := strconv.ParseInt(m[1], 10, 64)
			base := fmt.Sprintf("/incidents/%d", id)
			asMember := auth.With(t.Context(), &auth.Principal{UserID: member.ID, OrgID: org.ID, OrgKind: "entity", Roles: []auth.Role{auth.RoleMember}})
			inc, err := e.App.Reports.Incident(asMember, id)
			if err != nil {
				t.Fatal(err)
			}
			if !inc.AwareAt.Equal(aware.UTC()) {
				t.Errorf("aware_at = %v, want %v (typed in Belgian time)", inc.AwareAt, aware.UTC())
			}
			ewDue := aware.Add(24 * time.Hour).UTC()
			res = c.Get(base)
			expect(res, 200, "new incident page", T("repui.flash.created"), title, T("repui.state.not_started"), T("repui.state.cannot_start"),
				T("repui.state.on_request"), `datetime="`+ewDue.Format(time.RFC3339)+`"`, cat.DateTime(lang, ewDue), T("repui.left", "time", ""),
				`href="/`+lang+base+`/early_warning"`)
			if strings.Contains(res.Body, `href="/`+lang+base+`/incident_notification"`) {
				t.Error("the incident notification is a link before the early warning is filed")
			}

			// Early warning: the form starts with the person signed in.
			expect(c.Get(base+"/early_warning"), 200, "early warning form", member.Email, T("form.all_required"), T("repui.save_later"),
				T("repui.tristate.unknown"), `value="amber" selected`)
			// Save and come back later keeps an incomplete draft.
			ew := url.Values{"notifier_name": {"Soc " + lang}, "notifier_email": {member.Email}, "incident_status": {"ongoing"},
				"summary": {"Ransomware encrypted the SCADA gateway " + lang}, "tlp": {"amber"}}
			ew.Set("action", "later")
			if to := redirect(c.PostForm(base+"/early_warning", ew), "save for later"); to != "/"+lang+base {
				t.Errorf("save for later went to %q", to)
			}
			expect(c.Get(base), 200, "incident with a draft", T("repui.flash.draft_saved"), T("repui.state.draft"))
			// Continue without the required answers shows them as errors.
			ew.Set("action", "continue")
			expect(c.PostForm(base+"/early_warning", ew), 422, "early warning without answers", `href="#suspected_malicious"`,
				T("err.rep.suspected_malicious_required"), `href="#cross_border"`, "Ransomware encrypted the SCADA gateway "+lang)
			ew.Set("suspected_malicious", "yes")
			ew.Set("cross_border", "unknown")
			ew.Set("classification", "malicious-code/infected-system")
			ew.Set("detected_at-day", strconv.Itoa(aware.Day()))
			ew.Set("detected_at-month", strconv.Itoa(int(aware.Month())))
			ew.Set("detected_at-year", strconv.Itoa(aware.Year()))
			ew.Set("detected_at-hour", strconv.Itoa(aware.Hour()))
			ew.Set("detected_at-minute", strconv.Itoa(aware.Minute()))
			check := base + "/early_warning/check"
			if to := redirect(c.PostForm(base+"/early_warning", ew), "early warning"); to != "/"+lang+check {
				t.Fatalf("continue went to %q", to)
			}
			res = c.Get(check)
			expect(res, 200, "check answers", T("repui.check.submit.early_warning"), "Ransomware encrypted the SCADA gateway "+lang,
				T("repui.rsit.malicious-code/infected-system"), "TLP:AMBER", `href="/`+lang+base+`/early_warning#summary"`, T("repui.change"),
				T("repui.check.declaration", "authority", "CCB"))
			tok := tokenRE.FindStringSubmatch(res.Body)
			if tok == nil {
				t.Fatal("the check page has no one-time token")
			}
			// Submit, then the same form again (a double click): one filing.
			loc = redirect(c.PostForm(check, url.Values{"token": {tok[1]}}), "submit early warning")
			rm := receiptPathRE.FindStringSubmatch(loc)
			if rm == nil {
				t.Fatalf("submit went to %q", loc)
			}
			if again := redirect(c.PostForm(check, url.Values{"token": {tok[1]}}), "second submit"); again != loc {
				t.Errorf("second submit went to %q, want the first receipt %q", again, loc)
			}
			var n int
			if err := e.App.DB.QueryRow(t.Context(), `SELECT count(*) FROM report_submissions WHERE incident_id = ?`, id).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Errorf("%d submissions after a double submit, want 1", n)
			}
			ewRec, err := e.App.Reports.Receipt(webtest.System(), rm[1])
			if err != nil {
				t.Fatal(err)
			}
			res = c.Get(strings.TrimPrefix(loc, "/"+lang))
			expect(res, 200, "receipt", T("repui.receipt.heading.early_warning"), ewRec.Ref, ewRec.SHA256, `datetime="`+ewRec.SubmittedAt.Format(time.RFC3339)+`"`,
				ewRec.SubmittedAt.In(bxl).Format("15:04:05"), ewRec.SubmittedAt.UTC().Format("2006-01-02 15:04:05")+" UTC", T("repui.next.feedback"),
				T("repui.next.report", "stage", T("nis2.stage.incident_notification")), "2 501 05 60", ewRec.Ref+`.json"`)
			js := c.Get(strings.TrimPrefix(loc, "/"+lang) + ".json")
			if js.StatusCode != 200 || !strings.Contains(js.Header.Get("Content-Disposition"), "attachment") {
				t.Fatalf("JSON receipt = %d %q", js.StatusCode, js.Header.Get("Content-Disposition"))
			}
			var got reporting.Receipt
			js.JSON(t, &got)
			if got.Ref != ewRec.Ref || got.SHA256 != ewRec.SHA256 || string(got.Content) != string(ewRec.Content) {
				t.Errorf("JSON receipt %s %s, want %s %s", got.Ref, got.SHA256, ewRec.Ref, ewRec.SHA256)
			}
			// Back to the check page after submitting: already submitted.
			expect(c.Get(check), 200, "check after submit", T("repui.check.already_title"), ewRec.Ref)

			// The incident notification starts from the early warning.
			res = c.Get(base + "/incident_notification")
			expect(res, 200, "notification form", T("repui.stage.prefilled", "ref", ewRec.Ref, "stage", T("nis2.stage.early_warning")),
				"Ransomware encrypted the SCADA gateway "+lang+"</textarea>", `value="ongoing" checked`, `value="yes" checked`,
				`value="malicious-code/infected-system" selected`, "Soc "+lang,
				`name="detected_at-hour" type="text" inputmode="numeric" autocomplete="off" spellcheck="false" value="`+strconv.Itoa(aware.Hour())+`"`)
			in := url.Values{"notifier_name": {"Soc " + lang}, "notifier_email": {member.Email}, "incident_status": {"ongoing"},
				"suspected_malicious": {"yes"}, "cross_border": {"yes"}, "affected_countries": {"NL", "FR"},
				"summary": {"Ransomware encrypted the SCADA gateway " + lang}, "severity": {"yellow"}, "impact_assessment": {"Control room blind for 3 hours"},
				"quantities_users_affected": {users[lang]}, "quantities_direct_loss_eur": {loss[lang]}, "quantities_systems_affected": {"x"},
				"indicators": {"ip 192.0.2.10\nbogus evil.example\n\ndomain evil.example tlp:red"}, "classification": {"malicious-code/infected-system"},
				"tlp": {"amber"}, "action": {"continue"}}
			timeForm(in, "detected_at", aware) // sent back as the form shows it
			expect(c.PostForm(base+"/incident_notification", in), 422, "notification with bad figures", T("err.repui.count_invalid"),
				T("err.repui.indicator_type", "line", 2), `href="#quantities_systems_affected"`, `href="#indicators"`)
			in.Set("quantities_systems_affected", "4")
			in.Set("indicators", "ip 192.0.2.10\n\nDomain evil.example tlp:red\nsha256 "+strings.Repeat("ab", 32))
			redirect(c.PostForm(base+"/incident_notification", in), "incident notification")
			res = c.Get(base + "/incident_notification/check")
			expect(res, 200, "check notification", T("repui.check.submit.incident_notification"), "domain evil.example tlp:red", T("country.NL"))
			tok = tokenRE.FindStringSubmatch(res.Body)
			loc = redirect(c.PostForm(base+"/incident_notification/check", url.Values{"token": {tok[1]}}), "submit notification")
			rm = receiptPathRE.FindStringSubmatch(loc)
			if rm == nil {
				t.Fatalf("submit went to %q", loc)
			}
			inRec, err := e.App.Reports.Receipt(webtest.System(), rm[1])
			if err != nil {
				t.Fatal(err)
			}
			var content reporting.Content
			if err := json.Unmarshal(inRec.Content, &content); err != nil {
				t.Fatal(err)
			}
			if q := content.Quantities; q.UsersAffected == nil || *q.UsersAffected != 1200 || q.DirectLossEUR == nil || *q.DirectLossEUR != 25000.5 {
				t.Errorf("figures %+v, want 1200 users and 25000.50 EUR", q)
			}
			if len(content.Indicators) != 3 || content.Indicators[1] != (reporting.Indicator{Type: "domain", Value: "evil.example", TLP: "red"}) || content.Indicators[2].Type != "hash" {
				t.Errorf("indicators %+v", content.Indicators)
			}
			if content.DetectedAt == nil || !content.DetectedAt.Equal(aware.UTC()) {
				t.Errorf("detected_at %v carried from the early warning, want %v", content.DetectedAt, aware.UTC())
			}
			expect(c.Get(strings.TrimPrefix(loc, "/"+lang)), 200, "notification receipt", inRec.Ref, inRec.SHA256)

			// The task list: both submitted with their times, the final
			// report due one month after the notification.
			inc, err = e.App.Reports.Incident(asMember, id)
			if err != nil {
				t.Fatal(err)
			}
			fr, _ := inc.Deadlines.Stage(reporting.FinalReport)
			frDue := fr.Due.UTC().Truncate(time.Minute)
			res = c.Get(base)
			expect(res, 200, "incident after two reports",
				T("repui.state.submitted", "time", cat.Short(lang, ewRec.SubmittedAt)), T("repui.state.submitted", "time", cat.Short(lang, inRec.SubmittedAt)),
				`datetime="`+frDue.Format(time.RFC3339)+`"`, cat.DateTime(lang, frDue), frDue.Format("2006-01-02 15:04:05")+" UTC",
				`href="/`+lang+base+`/final_report"`, ewRec.SHA256, inRec.SHA256, ewRec.Ref, inRec.Ref, inRec.SubmittedAt.In(bxl).Format("15:04:05"))
			all = append(all, filed{lang: lang, title: title, id: id, ew: ewRec, in: inRec})
		})
	}
	if len(all) != 4 {
		t.Fatal("not every language filed")
	}

	// Another organisation learns nothing.
	x := e.Login(t, otherAdmin.Email, webtest.Password(otherAdmin.Email))
	for _, f := range all {
		base := fmt.Sprintf("/incidents/%d", f.id)
		for _, p := range []string{base, base + "/early_warning", base + "/early_warning/check", base + "/incident_notification",
			base + "/receipts/" + f.ew.Ref, base + "/receipts/" + f.ew.Ref + ".json"} {
			if res := x.Get(p); res.StatusCode != http.StatusNotFound || strings.Contains(res.Body, f.title) || strings.Contains(res.Body, f.ew.SHA256) {
				t.Errorf("GET %s as another organisation = %d", p, res.StatusCode)
			}
		}
		for _, p := range []string{base + "/early_warning", base + "/early_warning/check", base + "/final_report"} {
			if res := x.PostForm(p, url.Values{"summary": {"x"}, "token": {"t"}}); res.StatusCode != http.StatusNotFound {
				t.Errorf("POST %s as another organisation = %d", p, res.StatusCode)
			}
		}
	}
	if res := x.Get("/incidents"); res.StatusCode != 200 || strings.Contains(res.Body, all[0].title) {
		t.Errorf("another organisation's list = %d, or shows others' incidents", res.StatusCode)
	}

	// The analyst reads every incident, without forms.
	a := e.Login(t, analyst.Email, webtest.Password(analyst.Email))
	res := a.Get("/incidents")
	checkPage(t, res, 200, "analyst list", cat.T("en", "repui.list.title_all", nil), cat.T("en", "repui.incident.organisation", nil))
	if strings.Contains(res.Body, `href="/en/incidents/new"`) {
		t.Error("the analyst is offered to report an incident")
	}
	for _, f := range all {
		if !strings.Contains(res.Body, f.title) || !strings.Contains(res.Body, "Grid operator "+f.lang) {
			t.Errorf("analyst's list lacks %q of its organisation", f.title)
		}
	}
	f := all[0]
	base := fmt.Sprintf("/incidents/%d", f.id)
	res = a.Get(base)
	checkPage(t, res, 200, "analyst incident", f.title, f.in.SHA256, "Grid operator nl")
	if strings.Contains(res.Body, `method="post" action="/en/incidents`) {
		t.Error("the analyst's incident page has a form")
	}
	res = a.Get(base + "/early_warning")
	checkPage(t, res, 200, "analyst early warning", f.ew.Ref, "Ransomware encrypted the SCADA gateway nl")
	if strings.Contains(res.Body, `action="/en`+base) {
		t.Error("the analyst's view of the early warning has a form")
	}
	checkPage(t, a.Get(base+"/incident_notification/check"), 200, "analyst check page", f.in.Ref)
	checkPage(t, a.Get(base+"/final_report"), 200, "analyst final report", cat.T("en", "repui.view.not_submitted", nil))
	checkPage(t, a.Get(base+"/receipts/"+f.ew.Ref), 200, "analyst receipt", f.ew.SHA256)
	if res := a.PostForm(base+"/final_report", url.Values{"summary": {"x"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("analyst's POST = %d, want 403", res.StatusCode)
	}
	if res := a.Get("/incidents/new"); res.StatusCode != http.StatusForbidden {
		t.Errorf("analyst's new incident = %d, want 403", res.StatusCode)
	}
}

// checkPage checks a page's status, that it shows every one of contains,
// and that no message key shows instead of its message.
func checkPage(t *testing.T, res *webtest.Response, status int, what string, contains ...string) {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("%s: status %d, want %d; body %.800s", what, res.StatusCode, status, res.Body)
	}
	for _, s := range contains {
		if !strings.Contains(res.Body, s) {
			t.Errorf("%s: body lacks %q", what, s)
		}
	}
	if k := untranslated.FindString(res.Body); k != "" {
		t.Errorf("%s: untranslated message %q", what, k)
	}
}

// timeForm adds the five boxes of a typed time to v.
func timeForm(v url.Values, name string, t time.Time) url.Values {
	v.Set(name+"-day", strconv.Itoa(t.Day()))
	v.Set(name+"-month", strconv.Itoa(int(t.Month())))
	v.Set(name+"-year", strconv.Itoa(t.Year()))
	v.Set(name+"-hour", strconv.Itoa(t.Hour()))
	v.Set(name+"-minute", fmt.Sprintf("%02d", t.Minute()))
	return v
}

// TestReportingTypedTimes reads Belgian times typed in boxes, across the
// changes of the clocks, with month names in four languages.
func TestReportingTypedTimes(t *testing.T) {
	for _, tc := range []struct {
		y, mo, d, h, mi int
		want            string
	}{
		{2026, 11, 25, 14, 5, "2026-11-25T13:05:00Z"}, // CET
		{2026, 7, 1, 14, 5, "2026-07-01T12:05:00Z"},   // CEST
		{2026, 3, 29, 2, 30, "2026-03-29T01:30:00Z"},  // does not exist: read as 03:30 CEST
		{2026, 10, 25, 2, 30, "2026-10-25T00:30:00Z"}, // happens twice: the first, in summer time
		{2026, 10, 25, 3, 30, "2026-10-25T02:30:00Z"},
	} {
		got := reporting.BrusselsTime(tc.y, time.Month(tc.mo), tc.d, tc.h, tc.mi).Format(time.RFC3339)
		if got != tc.want {
			t.Errorf("BrusselsTime(%d-%02d-%02d %02d:%02d) = %s, want %s", tc.y, tc.mo, tc.d, tc.h, tc.mi, got, tc.want)
		}
	}
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	for month, want := range map[string]time.Month{"11": 11, "nov": 11, "novembre": 11, "Nov.": 11, "März": 3, "mrt": 3, "juil": 7, "déc": 12, "okt": 10} {
		var v errs.Validator
		f := url.Values{"t-day": {"3"}, "t-month": {month}, "t-year": {"2026"}, "t-hour": {"9"}, "t-minute": {"05"}}
		got := reporting.ParseTime(f, "t", "repui.time_noun.detected_at", false, now, &v)
		if err := v.Err(); err != nil || got == nil || got.In(time.FixedZone("", 0)).Month() != want {
			t.Errorf("month %q: %v %v, want %v", month, got, err, want)
		}
	}
	for _, month := range []string{"jui", "ju", "13", "0", "foo"} {
		var v errs.Validator
		f := url.Values{"t-day": {"3"}, "t-month": {month}, "t-year": {"2026"}, "t-hour": {"9"}, "t-minute": {"05"}}
		if got := reporting.ParseTime(f, "t", "x", false, now, &v); got != nil || !v.Has("t-month") {
			t.Errorf("month %q accepted: %v", month, got)
		}
	}
	var v errs.Validator
	if got := reporting.ParseTime(url.Values{"t-day": {"31"}, "t-month": {"2"}, "t-year": {"2026"}, "t-hour": {"9"}, "t-minute": {"0"}}, "t", "x", false, now, &v); got != nil || !v.Has("t") {
		t.Errorf("31 February accepted: %v", got)
	}
}
