package app_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// lastMail returns the arguments of the last mail job queued.
func lastMail(t *testing.T, e *webtest.Env) string {
	t.Helper()
	var args string
	if err := e.App.DB.QueryRow(t.Context(), `SELECT args FROM river_job WHERE kind = 'mail' ORDER BY id DESC LIMIT 1`).Scan(&args); err != nil {
		t.Fatal(err)
	}
	return args
}

func mailCount(t *testing.T, e *webtest.Env) int {
	t.Helper()
	var n int
	if err := e.App.DB.QueryRow(t.Context(), `SELECT count(*) FROM river_job WHERE kind = 'mail'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

var (
	volLinkRE = regexp.MustCompile(`/([a-z]{2})/voluntary/confirm\?token=([A-Za-z0-9]+)`)
	volRefRE  = regexp.MustCompile(`VOL-\d{4}-\d{6}`)
	volShaRE  = regexp.MustCompile(`<code>([0-9a-f]{64})</code>`)
	volPreRE  = regexp.MustCompile(`(?s)<pre class="mono">(.*?)</pre>`)
)

// TestVoluntaryPortal is the whole journey of a citizen without an
// account, then the authority's handling, on both databases.
func TestVoluntaryPortal(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := webtest.New(t, db, false)
		c := e.Browser(t)
		c.Lang = "de"
		res := c.Get("/voluntary")
		if res.StatusCode != 200 || !strings.Contains(res.Body, `name="reporter_kind"`) || !strings.Contains(res.Body, `value="amber" selected`) {
			t.Fatalf("form = %d %.300s", res.StatusCode, res.Body)
		}
		form := url.Values{"reporter_kind": {"organisation"}, "name": {"Lena Weber"}, "email": {"lena@eupen-bakery.example"},
			"subject": {"near_miss"}, "description": {"Eine gefälschte Rechnung kam per Mail; niemand hat bezahlt."},
			"started_at-day": {"31"}, "started_at-month": {"2"}, "started_at-year": {"2026"}, "started_at-hour": {"9"}, "started_at-minute": {"15"},
			"impact": {"limited"}, "tlp": {"green"}, "consent": {"yes"}}
		before := mailCount(t, e)
		// Errors: each named, the answers kept.
		res = c.PostForm("/voluntary", form)
		cat := e.App.Catalog
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("bad form = %d, want 422", res.StatusCode)
		}
		for _, want := range []string{cat.T("de", "err.vol.organisation_required", nil), `href="#organisation"`,
			cat.T("de", "err.repui.time_not_real", map[string]any{"label": cat.T("de", "vol.time_noun.started_at", nil)}),
			"Eine gefälschte Rechnung kam per Mail; niemand hat bezahlt.", `value="lena@eupen-bakery.example"`, `value="31"`,
			`value="near_miss" checked`, `value="green" selected`} {
			if !strings.Contains(html.UnescapeString(res.Body), html.UnescapeString(want)) {
				t.Errorf("the refused form lacks %q", want)
			}
		}
		if strings.Contains(res.Body, "{label}") {
			t.Error("an error message shows its placeholder")
		}
		// The honeypot: a robot is told the same and nothing is stored.
		bot := url.Values{"website": {"http://spam.example"}}
		for k, v := range form {
			bot[k] = v
		}
		res = c.PostForm("/voluntary", bot)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/de/voluntary/sent" {
			t.Fatalf("honeypot = %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		if mailCount(t, e) != before {
			t.Error("the honeypot sent mail")
		}
		form.Set("organisation", "Bäckerei Eupen")
		form.Set("started_at-day", "27")
		res = c.PostForm("/voluntary", form)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/de/voluntary/sent" {
			t.Fatalf("send = %d %q %.500s", res.StatusCode, res.Header.Get("Location"), res.Body)
		}
		if res = c.Get("/voluntary/sent"); res.StatusCode != 200 || !strings.Contains(res.Body, cat.T("de", "vol.sent.body", nil)) {
			t.Errorf("sent page = %d", res.StatusCode)
		}
		mail := lastMail(t, e)
		m := volLinkRE.FindStringSubmatch(mail)
		if m == nil || m[1] != "de" || !strings.Contains(mail, "lena@eupen-bakery.example") ||
			!strings.Contains(mail, cat.T("de", "vol.mail.confirm.subject", nil)) {
			t.Fatalf("confirmation mail %.400s", mail)
		}
		token := m[2]
		var n int
		if err := db.QueryRow(t.Context(), `SELECT count(*) FROM voluntary_notifications`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d notifications stored (%v), want 1 (the robot's and the refused one not)", n, err)
		}
		// Following the link shows the answers and a button; it confirms
		// nothing by itself (mail scanners follow links).
		res = c.Get("/voluntary/confirm?token=" + token)
		if res.StatusCode != 200 || !strings.Contains(res.Body, "Bäckerei Eupen") || !strings.Contains(res.Body, `action="/de/voluntary/confirm"`) {
			t.Fatalf("confirm page = %d %.300s", res.StatusCode, res.Body)
		}
		var status string
		if err := db.QueryRow(t.Context(), `SELECT status FROM voluntary_notifications`).Scan(&status); err != nil || status != "pending" {
			t.Fatalf("status after GET = %q, %v; want pending", status, err)
		}
		if res = c.Get("/voluntary/confirm?token=WRONG" + token); res.StatusCode != http.StatusNotFound {
			t.Errorf("wrong link = %d, want 404", res.StatusCode)
		}
		res = c.PostForm("/voluntary/confirm", url.Values{"token": {token}})
		if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "/de/voluntary/confirm?token=") {
			t.Fatalf("confirm = %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		res = c.Get(strings.TrimPrefix(res.Header.Get("Location"), "/de"))
		ref := volRefRE.FindString(res.Body)
		sha := volShaRE.FindStringSubmatch(res.Body)
		pre := volPreRE.FindStringSubmatch(res.Body)
		if res.StatusCode != 200 || ref == "" || sha == nil || pre == nil || !strings.Contains(res.Body, " UTC") {
			t.Fatalf("receipt = %d %.600s", res.StatusCode, res.Body)
		}
		sum := sha256.Sum256([]byte(html.UnescapeString(pre[1])))
		if hex.EncodeToString(sum[:]) != sha[1] {
			t.Errorf("the receipt's SHA-256 %s is not that of the content it shows", sha[1])
		}
		if mail := lastMail(t, e); !strings.Contains(mail, ref) || !strings.Contains(mail, sha[1]) {
			t.Errorf("receipt mail %.400s lacks the reference or the hash", mail)
		}

		// The authority's queue.
		authority, err := e.App.Identity.AuthorityOrg(webtest.System())
		if err != nil {
			t.Fatal(err)
		}
		analyst := e.User(t, authority.ID, "vol-analyst@ccb.example", "analyst")
		a := e.Login(t, analyst.Email, webtest.Password(analyst.Email))
		res = a.Get("/voluntary/inbox")
		if res.StatusCode != 200 || !strings.Contains(res.Body, ref) || !strings.Contains(res.Body, `href="/en/voluntary/inbox"`) {
			t.Fatalf("queue = %d %.300s", res.StatusCode, res.Body)
		}
		if res = a.Get("/voluntary/inbox?kind=citizen"); res.StatusCode != 200 || strings.Contains(res.Body, ref) {
			t.Errorf("queue of citizens = %d, shows %s: %v", res.StatusCode, ref, strings.Contains(res.Body, ref))
		}
		if res = a.Get("/voluntary/inbox?from=someday"); res.StatusCode != 200 || !strings.Contains(res.Body, cat.T("en", "err.vol.date_invalid", nil)) {
			t.Errorf("queue with a bad date = %d", res.StatusCode)
		}
		var id int64
		if err := db.QueryRow(t.Context(), `SELECT id FROM voluntary_notifications WHERE ref = ?`, ref).Scan(&id); err != nil {
			t.Fatal(err)
		}
		detail := fmt.Sprintf("/voluntary/inbox/%d", id)
		res = a.Get(detail)
		if res.StatusCode != 200 || !strings.Contains(res.Body, "Eine gefälschte Rechnung") || !strings.Contains(res.Body, `value="triaged"`) {
			t.Fatalf("detail = %d %.300s", res.StatusCode, res.Body)
		}
		res = a.PostForm(detail, url.Values{"status": {"closed"}})
		if res.StatusCode != http.StatusConflict {
			t.Errorf("closing before triage = %d, want 409", res.StatusCode)
		}
		res = a.PostForm(detail, url.Values{"status": {"triaged"}, "note": {"Known invoice fraud wave"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("triage = %d %.300s", res.StatusCode, res.Body)
		}
		if res = a.Get(detail); !strings.Contains(res.Body, "Known invoice fraud wave") || !strings.Contains(res.Body, cat.T("en", "vol.status.triaged", nil)) {
			t.Errorf("detail after triage lacks the note or the status")
		}
		if err := db.QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE action = 'voluntary.status' AND object_id = ?`,
			fmt.Sprint(id)).Scan(&n); err != nil || n != 1 {
			t.Errorf("audit of the status change = %d, %v", n, err)
		}

		// An entity's user sees none of it.
		org := e.Org(t, "Some Entity", "entity")
		eu := e.User(t, org.ID, "admin@some-entity.example", "org_admin")
		b := e.Login(t, eu.Email, webtest.Password(eu.Email))
		for _, p := range []string{"/voluntary/inbox", detail} {
			if res := b.Get(p); (res.StatusCode != 403 && res.StatusCode != 404) || strings.Contains(res.Body, ref) {
				t.Errorf("entity GET %s = %d", p, res.StatusCode)
			}
		}
		if res := b.PostForm(detail, url.Values{"status": {"closed"}}); res.StatusCode != 403 && res.StatusCode != 404 {
			t.Errorf("entity POST %s = %d", detail, res.StatusCode)
		}
		if res := b.Get("/"); strings.Contains(res.Body, `href="/en/voluntary/inbox"`) {
			t.Error("an entity's navigation links the voluntary queue")
		}
	})
}

// TestVoluntaryAPI is the same through the API: a machine sends and
// confirms, the authority lists, reads and moves it on.
func TestVoluntaryAPI(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := webtest.New(t, db, false)
		anon := e.API(t, "")
		body := map[string]any{"reporter_kind": "citizen", "email": "pieter@example.be", "language": "nl", "subject": "incident",
			"description": "Mijn webshopaccount werd overgenomen.", "started_at": "2026-01-05T08:30:00Z", "classification": "intrusions/unprivileged-account-compromise",
			"impact": "significant", "sector": "digital_infra", "contact_wanted": true, "consent": true}
		problem(t, anon.Do("POST", "/api/v1/voluntary-notifications", `{"email": "x@example.be", "colour": "red"}`), 422, "colour")
		p := problem(t, anon.Do("POST", "/api/v1/voluntary-notifications", map[string]any{"reporter_kind": "organisation", "email": "x@example.be"}), 422, "organisation")
		for _, f := range []string{"name", "subject", "description", "impact", "consent"} {
			found := false
			for _, fe := range p.Errors {
				found = found || fe.Field == f
			}
			if !found {
				t.Errorf("problem lacks field %s: %+v", f, p.Errors)
			}
		}
		problem(t, anon.Raw().Do("POST", "/api/v1/voluntary-notifications", strings.NewReader("{}"), http.Header{"Content-Type": {"text/plain"}}), 415, "")
		bad := map[string]any{}
		for k, v := range body {
			bad[k] = v
		}
		bad["sector"] = "bakeries"
		problem(t, anon.Do("POST", "/api/v1/voluntary-notifications", bad), 422, "sector")

		res := anon.Do("POST", "/api/v1/voluntary-notifications", body)
		var acc struct{ Message string }
		res.JSON(t, &acc)
		if res.StatusCode != http.StatusAccepted || acc.Message == "" {
			t.Fatalf("submit = %d %s", res.StatusCode, res.Body)
		}
		m := volLinkRE.FindStringSubmatch(lastMail(t, e))
		if m == nil || m[1] != "nl" {
			t.Fatalf("no Dutch link in the mail")
		}
		// The same answer for a repeat, which sends nothing.
		mails := mailCount(t, e)
		again := anon.Do("POST", "/api/v1/voluntary-notifications", body)
		if again.StatusCode != http.StatusAccepted || again.Body != res.Body || mailCount(t, e) != mails {
			t.Errorf("repeat = %d %s, %d mails (was %d)", again.StatusCode, again.Body, mailCount(t, e), mails)
		}
		problem(t, anon.Do("POST", "/api/v1/voluntary-notifications/confirm", map[string]string{"token": "nope"}), 404, "")
		res = anon.Do("POST", "/api/v1/voluntary-notifications/confirm", map[string]string{"token": m[2]})
		var rec struct {
			Reference  string `json:"reference"`
			ReceivedAt string `json:"received_at"`
			SHA256     string `json:"sha256"`
			Content    any    `json:"content"`
		}
		res.JSON(t, &rec)
		if res.StatusCode != 200 || !volRefRE.MatchString(rec.Reference) || rec.ReceivedAt == "" {
			t.Fatalf("confirm = %d %s", res.StatusCode, res.Body)
		}
		raw := regexp.MustCompile(`"content":(\{.*\})\}\s*$`).FindStringSubmatch(res.Body)
		if raw == nil {
			t.Fatalf("no content in %s", res.Body)
		}
		sum := sha256.Sum256([]byte(raw[1]))
		if hex.EncodeToString(sum[:]) != rec.SHA256 {
			t.Errorf("sha256 %s is not that of the content %s", rec.SHA256, raw[1])
		}

		authority, err := e.App.Identity.AuthorityOrg(webtest.System())
		if err != nil {
			t.Fatal(err)
		}
		analyst := e.API(t, e.Token(t, e.User(t, authority.ID, "api-analyst@ccb.example", "analyst"), "read", "write"))
		readOnly := e.API(t, e.Token(t, e.User(t, authority.ID, "api-auditor@ccb.example", "auditor"), "read"))
		org := e.Org(t, "Entity With Token", "entity")
		entity := e.API(t, e.Token(t, e.User(t, org.ID, "member@entity-token.example", "org_admin"), "read", "write"))

		var list struct {
			Items []struct {
				ID      int64  `json:"id"`
				Ref     string `json:"reference"`
				Status  string `json:"status"`
				Content struct {
					Description string `json:"description"`
				} `json:"content"`
			} `json:"items"`
			Total int `json:"total"`
		}
		res = analyst.Do("GET", "/api/v1/voluntary-notifications?kind=citizen&sector=digital_infra&from=2020-01-01", nil)
		res.JSON(t, &list)
		if res.StatusCode != 200 || list.Total != 1 || list.Items[0].Ref != rec.Reference || list.Items[0].Content.Description == "" {
			t.Fatalf("list = %d %s", res.StatusCode, res.Body)
		}
		if res = analyst.Do("GET", "/api/v1/voluntary-notifications?status=closed", nil); !strings.Contains(res.Body, `"total":0`) {
			t.Errorf("closed list = %s", res.Body)
		}
		problem(t, analyst.Do("GET", "/api/v1/voluntary-notifications?status=pending&to=tomorrow", nil), 422, "to")
		path := fmt.Sprintf("/api/v1/voluntary-notifications/%d", list.Items[0].ID)
		if res = readOnly.Do("GET", path, nil); res.StatusCode != 200 || !strings.Contains(res.Body, rec.SHA256) {
			t.Errorf("get as the auditor = %d %s", res.StatusCode, res.Body)
		}
		problem(t, readOnly.Do("POST", path+"/status", map[string]string{"status": "triaged"}), 403, "")
		problem(t, analyst.Do("POST", path+"/status", map[string]string{"status": "closed"}), 409, "")
		problem(t, analyst.Do("POST", path+"/status", map[string]string{"status": "deleted"}), 422, "status")
		problem(t, analyst.Do("POST", "/api/v1/voluntary-notifications/999999/status", map[string]string{"status": "triaged"}), 404, "")
		res = analyst.Do("POST", path+"/status", map[string]string{"status": "rejected", "note": "Test message"})
		if res.StatusCode != 200 || !strings.Contains(res.Body, `"status":"rejected"`) || !strings.Contains(res.Body, "Test message") {
			t.Errorf("reject = %d %s", res.StatusCode, res.Body)
		}
		// Organisations and anonymous callers are refused.
		problem(t, anon.Do("GET", "/api/v1/voluntary-notifications", nil), 401, "")
		problem(t, entity.Do("GET", "/api/v1/voluntary-notifications", nil), 403, "")
		problem(t, entity.Do("GET", path, nil), 403, "")
		problem(t, entity.Do("POST", path+"/status", map[string]string{"status": "closed"}), 403, "")
	})
}
