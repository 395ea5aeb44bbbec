package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/advisory"
	"github.com/belfry-cert/belfry/internal/app"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/csaf"
	"github.com/belfry-cert/belfry/internal/csaf/csaftest"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// apubFill gives a draft one product of vendor (an affected and a fixed
// version), a vulnerability with its remediation, and a summary.
func apubFill(vendor, product, cve, vector string) func(*csaf.Document) error {
	return func(d *csaf.Document) error {
		cvss, err := csaf.CVSS3JSON(vector)
		if err != nil {
			return err
		}
		d.Document.Notes = []csaf.Note{{Category: "summary", Title: "Summary", Text: "A flaw in " + product + " lets attackers in."}}
		d.Document.References = []csaf.Reference{{Category: "external", Summary: "Vendor advisory", URL: "https://vendor.example/sa-1"}}
		d.ProductTree = &csaf.ProductTree{Branches: []csaf.Branch{{Category: "vendor", Name: vendor, Branches: []csaf.Branch{
			{Category: "product_name", Name: product, Branches: []csaf.Branch{
				{Category: "product_version", Name: "4.2.1", Product: &csaf.FullProductName{Name: product + " 4.2.1", ProductID: "P-1"}},
				{Category: "product_version", Name: "4.2.2", Product: &csaf.FullProductName{Name: product + " 4.2.2", ProductID: "P-2"}},
			}}}}}}
		d.Vulnerabilities = []csaf.Vulnerability{{CVE: cve, Title: "Remote code execution",
			Notes:         []csaf.Note{{Category: "description", Text: "Unauthenticated requests run code."}},
			ProductStatus: &csaf.ProductStatus{KnownAffected: []string{"P-1"}, Fixed: []string{"P-2"}},
			Remediations:  []csaf.Remediation{{Category: "vendor_fix", Details: "Update to 4.2.2 without delay.", ProductIDs: []string{"P-1"}}},
			Scores:        []csaf.ScoreSet{{CVSSv3: cvss, Products: []string{"P-1"}}},
			Threats:       []csaf.Threat{{Category: "impact", Details: "Full compromise.", ProductIDs: []string{"P-1"}}}}}
		return nil
	}
}

// apubPublish has author write and reviewer publish an advisory.
func apubPublish(t *testing.T, svc *advisory.Service, author, reviewer context.Context, title, tlp string, orgs []int64,
	edit func(*csaf.Document) error) string {
	t.Helper()
	a, err := svc.Create(author, advisory.NewInput{Title: title, Lang: "en", TLP: tlp})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Edit(author, a.ID, edit); err != nil {
		t.Fatal(err)
	}
	if orgs != nil {
		if _, err := svc.SetRecipients(author, a.ID, orgs, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Submit(author, a.ID, advisory.SubmitInput{Status: "final"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Approve(reviewer, a.ID, nil); err != nil {
		t.Fatalf("publish %s: %v", title, err)
	}
	return a.TrackingID
}

// apubMail reads a received message's subject and plain text.
func apubMail(t *testing.T, m webtest.Mail) (subject, text string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	return subject, apubPart(t, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
}

func apubPart(t *testing.T, ctype, enc string, body io.Reader) string {
	t.Helper()
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				t.Fatalf("no text part: %v", err)
			}
			if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") || strings.HasPrefix(p.Header.Get("Content-Type"), "multipart/") {
				return apubPart(t, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
			}
		}
	}
	switch strings.ToLower(enc) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// apubWaitMail waits for the messages to one address until n arrived.
func apubWaitMail(t *testing.T, smtp *webtest.MailServer, to string, n int) []webtest.Mail {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var got []webtest.Mail
		for _, m := range smtp.Messages() {
			if slices.Contains(m.To, to) {
				got = append(got, m)
			}
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s received %d messages, want %d", to, len(got), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func apubMailJobs(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow(t.Context(), `SELECT count(*) FROM river_job WHERE kind = 'mail'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func apubWant(t *testing.T, what string, res *webtest.Response, status int, texts ...string) string {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("%s = %d, want %d; body %.1500s", what, res.StatusCode, status, res.Body)
	}
	body := html.UnescapeString(res.Body)
	for _, s := range texts {
		if !strings.Contains(body, html.UnescapeString(s)) {
			t.Errorf("%s lacks %q", what, s)
		}
	}
	return body
}

var (
	apubConfirmRE = regexp.MustCompile(`/(nl|fr|de|en)/advisories/subscribe/confirm\?token=([A-Za-z0-9]+)`)
	apubUnsubRE   = regexp.MustCompile(`/(nl|fr|de|en)/advisories/unsubscribe\?token=(\S+)`)
)

// TestAdvisoryPublicPages is the public side of the advisories: the list
// and the page of one advisory under TLP, the downloads, the Atom feed,
// and e-mail alerts from the double opt-in to the unsubscribe link, mailed
// through a real SMTP server. On both databases.
func TestAdvisoryPublicPages(t *testing.T) {
	csaftest.Use(t)
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		smtp := webtest.StartMailServer(t)
		e := webtest.NewWith(t, db, true, func(c *app.Config) { c.SMTP = smtp.Config() })
		cat := e.App.Catalog
		svc := e.App.Advisories
		ctx := context.Background()
		var adminID, authority int64
		if err := db.QueryRow(ctx, `SELECT id, org_id FROM users WHERE email = ?`, e.AdminEmail).Scan(&adminID, &authority); err != nil {
			t.Fatal(err)
		}
		as := func(id, org int64, kind, email string, role auth.Role) context.Context {
			return auth.With(ctx, &auth.Principal{UserID: id, OrgID: org, OrgKind: kind, Email: email, Roles: []auth.Role{role}})
		}
		if _, err := svc.GenerateKey(as(adminID, authority, "authority", e.AdminEmail, auth.RoleAdmin), "CCB CSAF", "csaf@ccb.example"); err != nil {
			t.Fatal(err)
		}
		anaA := e.User(t, authority, "ana.a@ccb.example", "analyst")
		anaB := e.User(t, authority, "ana.b@ccb.example", "analyst")
		author := as(anaA.ID, authority, "authority", anaA.Email, auth.RoleAnalyst)
		reviewer := as(anaB.ID, authority, "authority", anaB.Email, auth.RoleAnalyst)
		grid := e.Org(t, "Grid A", "entity")
		member := e.User(t, grid.ID, "soc@grid.example", "member")
		water := e.Org(t, "Water B", "entity")
		outsider := e.User(t, water.ID, "soc@water.example", "member")

		// Two people ask for alerts: one in the portal for Example
		// Networks, one through the API, in French, for Other Corp.
		anon := e.Browser(t)
		apubWant(t, "subscribe form", anon.Get("/advisories/subscribe"), 200, `name="email"`, `name="vendor"`, `name="website"`,
			cat.T("en", "advpub.sub.submit", nil))
		res := anon.PostForm("/advisories/subscribe", url.Values{"email": {"not an address"}})
		apubWant(t, "bad subscription", res, http.StatusUnprocessableEntity, cat.T("en", "err.advpub.email_invalid", nil), `href="#email"`,
			`value="not an address"`)
		before := apubMailJobs(t, db)
		res = anon.PostForm("/advisories/subscribe", url.Values{"email": {"x@example.be"}, "website": {"http://spam.example"}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/en/advisories/subscribe/sent" || apubMailJobs(t, db) != before {
			t.Fatalf("honeypot = %d %q, or it sent mail", res.StatusCode, res.Header.Get("Location"))
		}
		res = anon.PostForm("/advisories/subscribe", url.Values{"email": {"x@example.be"}, "vendor": {"Example Networks"}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/en/advisories/subscribe/sent" {
			t.Fatalf("subscribe = %d %q %.500s", res.StatusCode, res.Header.Get("Location"), res.Body)
		}
		apubWant(t, "sent page", anon.Get("/advisories/subscribe/sent"), 200, cat.T("en", "advpub.sent.body", nil))
		api := e.API(t, "")
		res = api.Do("POST", "/api/v1/advisories/subscriptions", map[string]any{"email": "y@example.be", "locale": "fr", "vendor": "other corp"})
		if res.StatusCode != http.StatusAccepted || !strings.Contains(res.Body, `"message"`) {
			t.Fatalf("API subscribe = %d %s", res.StatusCode, res.Body)
		}
		if res = api.Do("POST", "/api/v1/advisories/subscriptions", map[string]any{"email": "y@"}); res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("API subscribe with a bad address = %d, want 422", res.StatusCode)
		}
		for _, who := range []string{"x@example.be", "y@example.be"} {
			subject, text := apubMail(t, apubWaitMail(t, smtp, who, 1)[0])
			m := apubConfirmRE.FindStringSubmatch(text)
			if m == nil || !strings.Contains(subject, cat.T(m[1], "advpub.mail.confirm.subject", nil)) {
				t.Fatalf("confirmation to %s: %q\n%s", who, subject, text)
			}
			c := e.Browser(t)
			c.Lang = m[1]
			// Following the link only shows a button: mail scanners
			// follow links.
			apubWant(t, "confirm page", c.Get("/advisories/subscribe/confirm?token="+m[2]), 200,
				`action="/`+m[1]+`/advisories/subscribe/confirm"`, cat.T(m[1], "advpub.confirm.submit", nil))
			var confirmed int
			db.QueryRow(ctx, `SELECT count(*) FROM advisory_subscriptions WHERE confirmed_at IS NOT NULL`).Scan(&confirmed)
			if (who == "x@example.be") != (confirmed == 0) {
				t.Fatalf("%d subscriptions confirmed after opening %s's link", confirmed, who)
			}
			res := c.PostForm("/advisories/subscribe/confirm", url.Values{"token": {m[2]}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("confirm = %d %.500s", res.StatusCode, res.Body)
			}
			apubWant(t, "confirmed page", c.Get("/advisories/subscribe/confirm?token="+m[2]), 200, cat.T(m[1], "advpub.confirmed.title", nil))
		}
		if res := anon.Get("/advisories/subscribe/confirm?token=nonsense"); res.StatusCode != http.StatusNotFound {
			t.Errorf("a wrong confirmation link = %d, want 404", res.StatusCode)
		}

		// Publications: nobody is mailed the AMBER one.
		jobs := apubMailJobs(t, db)
		amber := apubPublish(t, svc, author, reviewer, "Restricted: Example Gateway", "AMBER", []int64{grid.ID},
			apubFill("Example Networks", "Example Gateway", "CVE-2026-44444", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"))
		if n := apubMailJobs(t, db); n != jobs {
			t.Errorf("the AMBER advisory queued %d mails", n-jobs)
		}
		jobs = apubMailJobs(t, db)
		white := apubPublish(t, svc, author, reviewer, "Example Gateway: remote code execution", "WHITE", nil,
			apubFill("Example Networks", "Example Gateway", "CVE-2026-12345", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"))
		subject, text := apubMail(t, apubWaitMail(t, smtp, "x@example.be", 2)[1])
		if subject != "[TLP:CLEAR] "+white+": Example Gateway: remote code execution (Critical)" ||
			!strings.Contains(text, "/en/advisories/"+white) || !strings.Contains(text, "Example Networks Example Gateway") {
			t.Errorf("alert to x: %q\n%s", subject, text)
		}
		if n := apubMailJobs(t, db); n != jobs+1 {
			t.Errorf("the advisory about Example Networks queued %d mails, want 1 (x, not y)", n-jobs)
		}
		jobs = apubMailJobs(t, db)
		other := apubPublish(t, svc, author, reviewer, "Other Router: information leak", "WHITE", nil,
			apubFill("Other Corp", "Other Router", "CVE-2026-22222", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"))
		if n := apubMailJobs(t, db); n != jobs+1 {
			t.Errorf("the advisory about Other Corp queued %d mails, want 1 (y, not x)", n-jobs)
		}
		ysubject, ytext := apubMail(t, apubWaitMail(t, smtp, "y@example.be", 2)[1])
		if !strings.Contains(ysubject, other) || !strings.Contains(ytext, "/fr/advisories/"+other) {
			t.Errorf("alert to y: %q\n%s", ysubject, ytext)
		}

		// x stops the alerts with the link in the mail (a button again).
		m := apubUnsubRE.FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("no unsubscribe link in\n%s", text)
		}
		apubWant(t, "unsubscribe page", anon.Get("/advisories/unsubscribe?token="+m[2]), 200, "x@example.be", cat.T("en", "advpub.unsub.submit", nil))
		if res := anon.PostForm("/advisories/unsubscribe", url.Values{"token": {m[2]}}); res.StatusCode != http.StatusSeeOther ||
			res.Header.Get("Location") != "/en/advisories/unsubscribe/done" {
			t.Fatalf("unsubscribe = %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		apubWant(t, "unsubscribed", anon.Get("/advisories/unsubscribe/done"), 200, cat.T("en", "advpub.unsubscribed.body", nil))
		if res := anon.Get("/advisories/unsubscribe?token=" + m[2]); res.StatusCode != http.StatusNotFound {
			t.Errorf("the used unsubscribe link = %d, want 404", res.StatusCode)
		}
		var left int
		db.QueryRow(ctx, `SELECT count(*) FROM advisory_subscriptions WHERE email = 'x@example.be'`).Scan(&left)
		if left != 0 {
			t.Errorf("%d subscriptions of x left", left)
		}

		// The list under TLP, with its filters.
		list := apubWant(t, "anonymous list", anon.Get("/advisories"), 200, white, other, `href="/en/advisories.atom"`,
			`href="/en/advisories/subscribe"`, "CVE-2026-12345", "Other Corp Other Router", cat.T("en", "advpub.severity.critical", nil))
		if strings.Contains(list, amber) || strings.Contains(list, "CVE-2026-44444") {
			t.Error("the anonymous list shows the AMBER advisory")
		}
		mc := e.Login(t, member.Email, webtest.Password(member.Email))
		apubWant(t, "recipient's list", mc.Get("/advisories"), 200, amber, white, other)
		if body := apubWant(t, "outsider's list", e.Login(t, outsider.Email, webtest.Password(outsider.Email)).Get("/advisories"), 200, white); strings.Contains(body, amber) {
			t.Error("a member of another organisation sees the AMBER advisory")
		}
		for q, want := range map[string]string{"cve=CVE-2026-22222": other, "vendor=Example+Networks": white, "severity=medium": other} {
			body := apubWant(t, "list "+q, anon.Get("/advisories?"+q), 200, want)
			for _, tid := range []string{white, other} {
				if tid != want && strings.Contains(body, tid) {
					t.Errorf("list %s shows %s", q, tid)
				}
			}
		}
		apubWant(t, "list with a bad filter", anon.Get("/advisories?severity=dreadful"), 200, cat.T("en", "err.adv.severity", nil), white)

		// The advisory's page: what to do first, the downloads.
		page := apubWant(t, "advisory page", anon.Get("/advisories/"+white), 200, "TLP:CLEAR", `<h1 lang="en">`,
			"Update to 4.2.2 without delay.", "<code>CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H</code>",
			`href="/.well-known/csaf/white/2026/`+strings.ToLower(white)+`.json"`, `.json.sha256"`, `.json.sha512"`, `.json.asc"`,
			`href="/en/advisories/`+white+`/versions/1.json"`)
		what := strings.Index(page, cat.T("en", "advpub.view.what_to_do", nil))
		products := strings.Index(page, cat.T("en", "advpub.view.products", nil))
		vulns := strings.Index(page, cat.T("en", "advpub.view.vulnerabilities", nil))
		downloads := strings.Index(page, cat.T("en", "advpub.view.downloads", nil))
		if products < 0 || what < products || vulns < what || downloads < vulns {
			t.Errorf("order on the page: products %d, what to do %d, vulnerabilities %d, downloads %d", products, what, vulns, downloads)
		}
		notice := cat.T("fr", "advpub.view.only_en", nil)
		if strings.Contains(page, cat.T("en", "advpub.view.only_en", nil)) {
			t.Error("the English page says it is only in English")
		}
		fr := e.Browser(t)
		fr.Lang = "fr"
		frPage := apubWant(t, "French page", fr.Get("/advisories/"+white), 200, notice, `lang="en"`)
		if strings.Index(frPage, notice) > strings.Index(frPage, "<h1") {
			t.Error("the partial-translation notice is not above the h1")
		}
		if res := anon.Get("/advisories/" + amber); res.StatusCode != http.StatusNotFound {
			t.Errorf("anonymous AMBER page = %d, want 404", res.StatusCode)
		}
		apubWant(t, "recipient's AMBER page", mc.Get("/advisories/"+amber), 200, "TLP:AMBER")

		// Versions: the exact bytes, for those who may read them.
		v, err := svc.VersionContent(ctx, white, 1)
		if err != nil {
			t.Fatal(err)
		}
		res = anon.Get("/advisories/" + white + "/versions/1.json")
		if res.StatusCode != 200 || res.Body != string(v.Content) || res.Header.Get("Content-Type") != "application/json" ||
			!strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment;") {
			t.Errorf("version download = %d %q %q, same bytes %v", res.StatusCode, res.Header.Get("Content-Type"),
				res.Header.Get("Content-Disposition"), res.Body == string(v.Content))
		}
		for _, p := range []string{"/advisories/" + white + "/versions/2.json", "/advisories/" + white + "/versions/01.json",
			"/advisories/" + white + "/versions/1", "/advisories/" + amber + "/versions/1.json"} {
			if res := anon.Get(p); res.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s = %d, want 404", p, res.StatusCode)
			}
		}
		if res := mc.Get("/advisories/" + amber + "/versions/1.json"); res.StatusCode != 200 {
			t.Errorf("recipient's AMBER download = %d", res.StatusCode)
		}

		// The Atom feed: only TLP:CLEAR, even for a recipient of the AMBER one.
		for who, c := range map[string]*webtest.Client{"anonymous": anon, "recipient": mc} {
			res := c.Get("/advisories.atom")
			if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/atom+xml; charset=utf-8" {
				t.Fatalf("%s: atom = %d %q", who, res.StatusCode, res.Header.Get("Content-Type"))
			}
			var feed struct {
				XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
				Entries []struct {
					Title string `xml:"title"`
				} `xml:"entry"`
			}
			if err := xml.Unmarshal([]byte(res.Body), &feed); err != nil {
				t.Fatalf("%s: atom is not XML: %v", who, err)
			}
			if len(feed.Entries) != 2 || strings.Contains(res.Body, amber) {
				t.Errorf("%s: atom has %d entries (%s)", who, len(feed.Entries), res.Body)
			}
		}
	})
}
