package app_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/csaf/csaftest"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/webtest"
)

var advIDRE = regexp.MustCompile(`^/en/advisories/manage/(\d+)$`)

// wantBody fails when the page lacks one of the texts (compared without
// HTML escaping).
func wantBody(t *testing.T, what string, res *webtest.Response, status int, texts ...string) {
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
}

func wantRedirect(t *testing.T, what string, res *webtest.Response, to string) {
	t.Helper()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != to {
		t.Fatalf("%s = %d to %q, want 303 to %q; body %.1500s", what, res.StatusCode, res.Header.Get("Location"), to, res.Body)
	}
}

// TestAdvisoryEditor is an advisory's life in the portal: analyst A writes
// it with the structured editor and submits it, A cannot approve it, B
// approves and publishes it, B starts a revision; an entity member and an
// anonymous visitor reach no page of the editor. On both databases.
func TestAdvisoryEditor(t *testing.T) {
	csaftest.Use(t)
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := webtest.New(t, db, false)
		cat := e.App.Catalog
		ctx := context.Background()
		var adminID, authority int64
		if err := db.QueryRow(ctx, `SELECT id, org_id FROM users WHERE email = ?`, e.AdminEmail).Scan(&adminID, &authority); err != nil {
			t.Fatal(err)
		}
		admin := &auth.Principal{UserID: adminID, OrgID: authority, OrgKind: "authority", Email: e.AdminEmail, Roles: []auth.Role{auth.RoleAdmin}}
		if _, err := e.App.Advisories.GenerateKey(auth.With(ctx, admin), "CCB CSAF", "csaf@ccb.example"); err != nil {
			t.Fatal(err)
		}
		anaA := e.User(t, authority, "ana.a@ccb.example", "analyst")
		anaB := e.User(t, authority, "ana.b@ccb.example", "analyst")
		entity := e.Org(t, "Grid Operator", "entity")
		member := e.User(t, entity.ID, "soc@grid.example", "member")

		a := e.Login(t, anaA.Email, webtest.Password(anaA.Email))
		wantBody(t, "home of an analyst", a.Get("/"), 200, `href="/en/advisories/manage"`, cat.T("en", "nav.advisories", nil))
		wantBody(t, "empty list", a.Get("/advisories/manage"), 200, cat.T("en", "advedit.list.new", nil), cat.T("en", "advedit.list.none", nil))

		// A new advisory: the errors first, then created.
		res := a.PostForm("/advisories/new", url.Values{"lang": {"en"}, "category": {"csaf_security_advisory"}})
		wantBody(t, "new without title and TLP", res, http.StatusUnprocessableEntity, cat.T("en", "err.adv.title_missing", nil),
			cat.T("en", "err.adv.tlp", nil), `href="#title"`, `href="#tlp"`)
		const title = "Example Gateway: remote code execution"
		res = a.PostForm("/advisories/new", url.Values{"title": {title}, "lang": {"en"}, "tlp": {"WHITE"}, "category": {"csaf_security_advisory"}})
		m := advIDRE.FindStringSubmatch(res.Header.Get("Location"))
		if res.StatusCode != http.StatusSeeOther || m == nil {
			t.Fatalf("create = %d to %q; %.800s", res.StatusCode, res.Header.Get("Location"), res.Body)
		}
		base := "/advisories/manage/" + m[1]
		wantBody(t, "overview of the new draft", a.Get(base), 200, title, "CCB-", cat.T("en", "advedit.state.draft", nil),
			cat.T("en", "advedit.task.document", nil), cat.T("en", "advedit.workflow.submit", nil), cat.T("en", "advedit.action.create", nil))

		// Two products, merged under one vendor and product.
		wantRedirect(t, "add product", a.PostForm(base+"/products", url.Values{"vendor": {"Example Networks"}, "product": {"Example Gateway"},
			"version": {"4.2.1"}, "cpe": {"cpe:2.3:h:example:gateway:4.2.1:*:*:*:*:*:*:*"}}), "/en"+base+"/products")
		wantRedirect(t, "add fixed product", a.PostForm(base+"/products", url.Values{"vendor": {"Example Networks"}, "product": {"Example Gateway"},
			"version": {"4.2.2"}}), "/en"+base+"/products")
		res = a.PostForm(base+"/products", url.Values{"vendor": {"example networks"}, "product": {"Example Gateway"}, "version": {"4.2.2"}, "purl": {"npm/x"}})
		wantBody(t, "duplicate product", res, http.StatusUnprocessableEntity,
			cat.T("en", "err.advedit.product_exists", map[string]any{"name": "Example Networks Example Gateway 4.2.2"}), cat.T("en", "err.advedit.purl", nil))
		wantBody(t, "products", a.Get(base+"/products"), 200, "CSAFPID-0001", "CSAFPID-0002", "Example Networks", "cpe:2.3:h:example:gateway:4.2.1")

		// A vulnerability: a bad vector and CVE are refused, then saved.
		wantBody(t, "new vulnerability form", a.Get(base+"/vulnerabilities/new"), 200, `name="ps-0"`, `name="ps-1-id" value="CSAFPID-0002"`)
		vuln := url.Values{"cve": {"CVE-2026-1"}, "title": {"Remote code execution"}, "description": {"Unauthenticated requests run code."},
			"cvss3": {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H"}, "products": {"2"}, "ps-0-id": {"CSAFPID-0001"}, "ps-0": {"known_affected"},
			"ps-1-id": {"CSAFPID-0002"}, "ps-1": {"fixed"}, "rems": {"1"}, "rem-0-category": {"vendor_fix"}, "rem-0-details": {"Update to 4.2.2."},
			"impact": {"Full compromise of the gateway."}}
		res = a.PostForm(base+"/vulnerabilities/new", vuln)
		wantBody(t, "bad vulnerability", res, http.StatusUnprocessableEntity, cat.T("en", "err.advedit.cve", nil), cat.T("en", "err.advedit.cvss3", nil),
			`href="#cvss3"`, `value="Remote code execution"`)
		vuln.Set("cve", "cve-2026-12345")
		vuln.Set("cvss3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
		wantRedirect(t, "save vulnerability", a.PostForm(base+"/vulnerabilities/new", vuln), "/en"+base+"/vulnerabilities")
		wantBody(t, "vulnerabilities", a.Get(base+"/vulnerabilities"), 200, "CVE-2026-12345",
			cat.T("en", "advedit.vulns.cvss3", map[string]any{"severity": cat.T("en", "advedit.severity.CRITICAL", nil), "score": "9.8"}))
		wantBody(t, "vulnerability 1", a.Get(base+"/vulnerabilities/1"), 200, `value="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"`, `value="known_affected" selected`)
		if res := a.Get(base + "/vulnerabilities/2"); res.StatusCode != http.StatusNotFound {
			t.Errorf("vulnerability 2 = %d, want 404", res.StatusCode)
		}

		// A product named by the vulnerability stays.
		res = a.PostForm(base+"/products/remove", url.Values{"product_id": {"CSAFPID-0001"}})
		wantBody(t, "remove a product in use", res, http.StatusUnprocessableEntity,
			cat.T("en", "err.advedit.product_in_use", map[string]any{"name": "Example Networks Example Gateway 4.2.1", "users": "CVE-2026-12345"}))

		// Document details: the summary and a reference.
		doc := url.Values{"title": {title}, "lang": {"en"}, "tlp": {"WHITE"}, "category": {"csaf_security_advisory"}, "summary": {""},
			"refs": {"1"}, "ref-0-url": {"vendor.example/sa-1"}, "ref-0-summary": {"Vendor advisory"}, "ref-0-category": {"external"}, "acks": {"1"}}
		res = a.PostForm(base+"/document", doc)
		wantBody(t, "document without summary", res, http.StatusUnprocessableEntity, cat.T("en", "err.advedit.summary_missing", nil),
			cat.T("en", "err.advedit.ref_url", map[string]any{"row": 1}), `href="#ref-0-url"`)
		doc.Set("summary", "A remote code execution flaw in Example Gateway; update to 4.2.2.")
		doc.Set("ref-0-url", "https://vendor.example/sa-1")
		doc.Set("ack-0-names", "Alice Example, Bob Example")
		wantRedirect(t, "save document", a.PostForm(base+"/document", doc), "/en"+base)
		wantBody(t, "document", a.Get(base+"/document"), 200, `value="https://vendor.example/sa-1"`, `value="Alice Example, Bob Example"`,
			cat.T("en", "advedit.document.remove_reference", map[string]any{"n": 1}))

		// The preview says it is valid.
		res = a.Get(base + "/preview")
		if !strings.Contains(html.UnescapeString(res.Body), cat.T("en", "advedit.preview.valid", nil)) {
			t.Fatalf("preview is not valid: %d %.4000s", res.StatusCode, res.Body)
		}
		wantBody(t, "preview", res, 200, "CVE-2026-12345", "Example Networks Example Gateway 4.2.1", `"vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"`)
		wantBody(t, "json", a.Get(base+"/json"), 200, `"csaf_version": "2.0"`, "CSAFPID-0001")

		// Submitted; the author cannot approve it.
		wantRedirect(t, "submit", a.PostForm(base+"/submit", url.Values{"status": {"final"}, "summary": {"Initial version"}}), "/en"+base)
		wantBody(t, "overview in review", a.Get(base), 200, cat.T("en", "advedit.state.review", nil), cat.T("en", "advedit.workflow.four_eyes_hint", nil))
		wantBody(t, "document in review", a.Get(base+"/document"), 200, cat.T("en", "advedit.readonly.review", nil), " readonly")
		res = a.PostForm(base+"/approve", url.Values{"when": {"now"}})
		wantBody(t, "approve by the author", res, http.StatusForbidden, cat.T("en", "err.adv.four_eyes", nil))
		res = a.PostForm(base+"/document", doc)
		wantBody(t, "edit in review", res, http.StatusConflict, cat.T("en", "err.adv.not_draft", nil))

		// Analyst B approves: published as version 1; then a revision.
		b := e.Login(t, anaB.Email, webtest.Password(anaB.Email))
		res = b.PostForm(base+"/approve", url.Values{"when": {"at"}, "publish_at": {"tomorrow"}})
		wantBody(t, "approve at a bad time", res, http.StatusUnprocessableEntity, cat.T("en", "err.advedit.publish_at_format", nil), `href="#publish_at"`)
		wantRedirect(t, "approve", b.PostForm(base+"/approve", url.Values{"when": {"now"}}), "/en"+base)
		wantBody(t, "published overview", b.Get(base), 200, cat.T("en", "advedit.flash.published", nil), cat.T("en", "advedit.state.published", nil),
			cat.T("en", "advedit.version_n", map[string]any{"n": 1}), cat.T("en", "advedit.action.publish", nil), cat.T("en", "advedit.workflow.revise", nil))
		wantBody(t, "list", b.Get("/advisories/manage?state=published"), 200, title, cat.T("en", "advedit.version_n", map[string]any{"n": 1}))
		wantRedirect(t, "revise", b.PostForm(base+"/revise", nil), "/en"+base)
		wantBody(t, "revised overview", b.Get(base), 200, cat.T("en", "advedit.state.draft", nil), cat.T("en", "advedit.action.revise", nil),
			cat.T("en", "advedit.version_n", map[string]any{"n": 1}))

		// An auditor reads the editor's pages but changes nothing.
		aud := e.User(t, authority, "aud@ccb.example", "auditor")
		ac := e.Login(t, aud.Email, webtest.Password(aud.Email))
		wantBody(t, "document for an auditor", ac.Get(base+"/document"), 200, cat.T("en", "advedit.readonly.not_editor", nil), " readonly")
		if res := ac.PostForm(base+"/document", doc); res.StatusCode != http.StatusForbidden {
			t.Errorf("document saved by an auditor = %d, want 403", res.StatusCode)
		}

		// The audience of AMBER and RED advisories.
		res = a.PostForm("/advisories/new", url.Values{"title": {"Amber advisory"}, "lang": {"en"}, "tlp": {"AMBER"}, "category": {"csaf_base"}})
		amber := strings.TrimPrefix(res.Header.Get("Location"), "/en")
		wantBody(t, "amber overview", a.Get(amber), 200, cat.T("en", "advedit.task.audience", nil))
		wantBody(t, "amber audience", a.Get(amber+"/audience"), 200, "Grid Operator", `name="org"`)
		wantRedirect(t, "amber audience saved", a.PostForm(amber+"/audience", url.Values{"org": {strconv.FormatInt(entity.ID, 10)}}), "/en"+amber)
		wantBody(t, "amber overview with audience", a.Get(amber), 200, cat.T("en", "advedit.task.orgs_n", map[string]any{"n": 1}))
		res = a.PostForm("/advisories/new", url.Values{"title": {"Red advisory"}, "lang": {"en"}, "tlp": {"RED"}, "category": {"csaf_base"}})
		red := strings.TrimPrefix(res.Header.Get("Location"), "/en")
		res = a.PostForm(red+"/audience", url.Values{"emails": {member.Email + ", nobody@nowhere.example"}})
		wantBody(t, "red audience with an unknown address", res, http.StatusUnprocessableEntity,
			cat.T("en", "err.advedit.email_unknown", map[string]any{"email": "nobody@nowhere.example"}), `href="#emails"`)
		wantRedirect(t, "red audience saved", a.PostForm(red+"/audience", url.Values{"emails": {member.Email}}), "/en"+red)
		wantBody(t, "red audience", a.Get(red+"/audience"), 200, `value="`+strconv.FormatInt(member.ID, 10)+`" checked`)

		// Import: refused JSON is shown on the form; a document becomes a draft.
		res = a.PostForm("/advisories/import", url.Values{"document": {`{"document": {"title": 1}}`}})
		wantBody(t, "import of bad JSON", res, http.StatusUnprocessableEntity, `href="#document"`, `{&#34;document&#34;`)
		imported := `{"document": {"category": "csaf_base", "csaf_version": "2.0", "title": "Imported advisory", "lang": "en",
			"distribution": {"tlp": {"label": "GREEN"}}, "publisher": {"category": "vendor", "name": "V", "namespace": "https://v.example"},
			"tracking": {"id": "V-2026-1", "current_release_date": "2026-01-01T00:00:00Z", "initial_release_date": "2026-01-01T00:00:00Z",
			"revision_history": [{"date": "2026-01-01T00:00:00Z", "number": "1", "summary": "First"}], "status": "final", "version": "1"}}}`
		res = a.PostForm("/advisories/import", url.Values{"document": {imported}})
		if !advIDRE.MatchString(res.Header.Get("Location")) {
			t.Fatalf("import = %d %q %.800s", res.StatusCode, res.Header.Get("Location"), res.Body)
		}
		wantBody(t, "imported overview", a.Get(strings.TrimPrefix(res.Header.Get("Location"), "/en")), 200, "Imported advisory",
			cat.T("en", "advedit.action.import", nil), "V-2026-1")

		// An entity member and an anonymous visitor reach nothing.
		mb := e.Login(t, member.Email, webtest.Password(member.Email))
		wantBody(t, "home of a member", mb.Get("/"), 200, `href="/en/advisories"`)
		anon := e.Browser(t)
		for _, r := range e.App.Web.Routes() {
			method, pattern, _ := strings.Cut(r.Pattern, " ")
			if r.API || !(strings.HasPrefix(pattern, "/advisories/manage") || pattern == "/advisories/new" || pattern == "/advisories/import") {
				continue
			}
			path := strings.NewReplacer("{id}", m[1], "{n}", "1").Replace(pattern)
			for who, c := range map[string]*webtest.Client{"member": mb, "anonymous": anon} {
				var res *webtest.Response
				if method == http.MethodGet {
					res = c.Get(path)
				} else {
					res = c.PostForm(path, url.Values{"title": {"x"}, "when": {"now"}, "note": {"x"}})
				}
				switch {
				case who == "anonymous" && (res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "/login")):
					t.Errorf("%s %s as anonymous = %d %q, want a redirect to sign in", method, path, res.StatusCode, res.Header.Get("Location"))
				case who == "member" && res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusForbidden:
					t.Errorf("%s %s as an entity member = %d, want 403 or 404", method, path, res.StatusCode)
				}
				if strings.Contains(res.Body, "Example Gateway") {
					t.Errorf("%s %s as %s shows the advisory", method, path, who)
				}
			}
		}
		var state string
		if err := db.QueryRow(ctx, `SELECT state FROM advisories WHERE id = ?`, m[1]).Scan(&state); err != nil || state != "draft" {
			t.Errorf("state after the intruders = %q, %v; want draft", state, err)
		}
	})
}
