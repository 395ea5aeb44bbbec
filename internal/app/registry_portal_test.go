package app_test

import (
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// TestRegistrationPortal walks the registration task list through the
// portal, without JavaScript, once in each language: errors re-show the
// page with a summary, the classification appears as a result after
// Services and Size, and the authority approves the submission.
func TestRegistrationPortal(t *testing.T) {
	e := webtest.New(t, dbtest.SQLite(t), false)
	var authorityID int64
	if err := e.App.DB.QueryRow(t.Context(), `SELECT id FROM organisations WHERE kind = 'authority' ORDER BY id LIMIT 1`).Scan(&authorityID); err != nil {
		t.Fatal(err)
	}
	sup := e.User(t, authorityID, "sup@authority.example", "supervisor")
	cat := e.App.Catalog
	// Staff typed as people in each language write it.
	staff := map[string]string{"nl": "2.100", "fr": "2 100", "de": "2.100", "en": "2,100"}
	for i, lang := range []string{"nl", "fr", "de", "en"} {
		t.Run(lang, func(t *testing.T) {
			org := e.Org(t, "Hospital "+lang, "entity")
			admin := e.User(t, org.ID, fmt.Sprintf("admin%d@hospital-%s.example", i, lang), "org_admin")
			c := e.Login(t, admin.Email, webtest.Password(admin.Email))
			c.Lang = lang
			base := fmt.Sprintf("/registrations/%d", org.ID)
			T := func(key string) string { return cat.T(lang, key, nil) }
			expect := func(res *webtest.Response, status int, what string, contains ...string) {
				t.Helper()
				if res.StatusCode != status {
					t.Fatalf("%s: status %d, want %d; body %.500s", what, res.StatusCode, status, res.Body)
				}
				for _, s := range contains {
					if !strings.Contains(res.Body, s) {
						t.Errorf("%s: body lacks %q", what, s)
					}
				}
			}
			redirect := func(res *webtest.Response, what, to string) {
				t.Helper()
				expect(res, http.StatusSeeOther, what)
				if loc := res.Header.Get("Location"); loc != "/"+lang+to {
					t.Errorf("%s: redirect to %q, want %q", what, loc, "/"+lang+to)
				}
			}

			// The navigation leads to the task list.
			home := c.Get("/")
			expect(home, 200, "home", `href="/`+lang+base+`"`, T("nav.registration"))
			res := c.Get(base)
			expect(res, 200, "task list", T("reg.tasks_title"), T("reg.task_state.cannot_start"))

			// Organisation: a missing street is an error, shown in the summary.
			res = c.PostForm(base+"/organisation", url.Values{"address_postcode": {"1000"}, "address_city": {"Brussel"}, "address_country": {"be"}})
			expect(res, 422, "organisation without street", T("error.summary_title"), `href="#address_street"`, T("err.reg.street_required"), `aria-invalid="true"`)
			if !strings.Contains(res.Body, "<title>"+T("error.title_prefix")) {
				t.Errorf("error page title lacks the prefix %q", T("error.title_prefix"))
			}
			redirect(c.PostForm(base+"/organisation", url.Values{"address_street": {"Rue Haute 1"}, "address_postcode": {"1000"}, "address_city": {"Brussel"}, "address_country": {"be"}}),
				"organisation", base)

			// Services, then size: the result page follows.
			res = c.PostForm(base+"/services", url.Values{"establishment": {"BE"}})
			expect(res, 422, "services without types", T("err.reg.types_required"), T("err.reg.service_countries_required"))
			redirect(c.PostForm(base+"/services", url.Values{"entity_types": {"health.provider"}, "service_countries": {"BE", "NL"}, "establishment": {"BE"}}),
				"services", base+"/size")
			res = c.PostForm(base+"/size", url.Values{"staff": {"many"}, "annual_turnover_eur": {""}, "balance_sheet_eur": {"1"}, "group": {"no"}})
			expect(res, 422, "size with bad numbers", T("err.reg.number_invalid"), T("err.reg.annual_turnover_eur_required"))
			redirect(c.PostForm(base+"/size", url.Values{"staff": {staff[lang]}, "annual_turnover_eur": {"5 000 000"}, "balance_sheet_eur": {"4 000 000"}, "group": {"no"}}),
				"size", base+"/result")
			res = c.Get(base + "/result")
			expect(res, 200, "result", T("reg.result.likely.essential"), "NIS2.3.1.a")

			// Contacts: the 24/7 contact is required and needs a phone.
			res = c.PostForm(base+"/contacts", nil)
			expect(res, 422, "contacts without 24/7", T("err.reg.contact_24x7_required"))
			res = c.PostForm(base+"/contacts/new", url.Values{"role": {"incident_24x7"}, "name": {"SOC"}, "email": {"soc@hospital.example"}, "language": {lang}})
			expect(res, 422, "24/7 contact without phone", T("err.reg.contact_phone_24x7"), `href="#phone"`)
			redirect(c.PostForm(base+"/contacts/new", url.Values{"role": {"incident_24x7"}, "name": {"SOC"}, "email": {"soc@hospital.example"}, "phone": {"+32 2 555 00 00"}, "language": {lang}}),
				"contact", base+"/contacts")
			redirect(c.PostForm(base+"/contacts", nil), "contacts done", base)

			// Networks: every bad line is reported and nothing is added.
			res = c.PostForm(base+"/networks", url.Values{"values": {fmt.Sprintf("192.0.%d.0/24\n10.0.0.1/8\nAS%d", i, 64500+i)}})
			expect(res, 422, "networks with a bad prefix", "10.0.0.1/8")
			if strings.Contains(res.Body, T("claims.status.pending")) {
				t.Error("a rejected batch was stored")
			}
			redirect(c.PostForm(base+"/networks", url.Values{"values": {fmt.Sprintf("192.0.%d.0/24\nAS%d\nhospital-%s.example", i, 64500+i, lang)}}),
				"networks", base+"/networks")
			res = c.Get(base + "/networks")
			expect(res, 200, "networks list", fmt.Sprintf("192.0.%d.0/24", i), T("claims.status.pending"))
			redirect(c.PostForm(base+"/networks/done", nil), "networks done", base)

			// Check answers, then submit.
			res = c.Get(base + "/check")
			expect(res, 200, "check", T("reg.check.title"), "Rue Haute 1", "soc@hospital.example", T("reg.check.submit"))
			redirect(c.PostForm(base+"/check", nil), "submit", base)
			res = c.Get(base)
			expect(res, 200, "after submit", T("reg.flash.submitted"), T("reg.status.submitted"))
			// A second submission (double click) files nothing new.
			redirect(c.PostForm(base+"/check", nil), "second submit", base)

			// The authority approves.
			s := e.Login(t, sup.Email, webtest.Password(sup.Email))
			s.Lang = lang
			res = s.PostForm(base+"/review", url.Values{"decision": {"reject"}})
			expect(res, 422, "reject without note", T("err.reg.note_required"))
			redirect(s.PostForm(base+"/review", url.Values{"decision": {"approve"}}), "approve", base)
			res = c.Get(base)
			expect(res, 200, "approved", T("reg.status.approved"))
			res = s.Get("/registry?class=essential&q=" + url.QueryEscape("Hospital "+lang))
			expect(res, 200, "registry list", "Hospital "+lang)
			res = s.Get("/claims?status=pending")
			expect(res, 200, "claims to review", fmt.Sprintf("192.0.%d.0/24", i))
		})
	}
}

// TestSignupPortal registers a new organisation from the sign-in page:
// the link arrives by queued e-mail, the password is chosen, and the new
// administrator lands on the registration task list.
func TestSignupPortal(t *testing.T) {
	e := webtest.New(t, dbtest.SQLite(t), false)
	c := e.Browser(t)
	c.Lang = "fr"
	res := c.Get("/login")
	if !strings.Contains(res.Body, `href="/fr/signup"`) {
		t.Fatal("the sign-in page does not link to the sign-up")
	}
	res = c.PostForm("/signup", url.Values{"legal_name": {""}, "enterprise_number": {"0431150351"}, "name": {"Luc"}, "email": {"luc@port.example"}})
	if res.StatusCode != 422 || !strings.Contains(res.Body, e.App.Catalog.T("fr", "err.enterprise_number.checksum", nil)) {
		t.Fatalf("bad sign-up = %d %.300s", res.StatusCode, res.Body)
	}
	res = c.PostForm("/signup", url.Values{"legal_name": {"Port de Liège SA"}, "enterprise_number": {"0353.456.320"}, "name": {"Luc"}, "email": {"luc@port.example"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/fr/signup/sent" {
		t.Fatalf("sign-up = %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	var args string
	if err := e.App.DB.QueryRow(t.Context(), `SELECT args FROM river_job WHERE kind = 'mail' ORDER BY id DESC LIMIT 1`).Scan(&args); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`/fr/signup/confirm\?token=([A-Za-z0-9]+)`).FindStringSubmatch(args)
	if m == nil {
		t.Fatalf("no link in the queued mail %.300s", args)
	}
	res = c.Get("/signup/confirm?token=" + m[1])
	if res.StatusCode != 200 || !strings.Contains(res.Body, "Port de Liège SA") {
		t.Fatalf("confirm page = %d", res.StatusCode)
	}
	res = c.PostForm("/signup/confirm", url.Values{"token": {m[1]}, "password": {"port de liège 2026"}, "confirm": {"port de liège 2026"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/fr/login" {
		t.Fatalf("confirm = %d %q %.300s", res.StatusCode, res.Header.Get("Location"), res.Body)
	}
	u := e.Login(t, "luc@port.example", "port de liège 2026")
	res = u.Get("/registration")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/en/registrations/") {
		t.Fatalf("registration = %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	res = u.Get(strings.TrimPrefix(res.Header.Get("Location"), "/en"))
	if res.StatusCode != 200 || !strings.Contains(res.Body, "Port de Liège SA") {
		t.Errorf("task list = %d", res.StatusCode)
	}
	// The link is used up.
	res = c.Get("/signup/confirm?token=" + m[1])
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("used link = %d, want 404", res.StatusCode)
	}
}

// TestRegistryImportPortal uploads a file through the portal: a check
// lists every bad row and imports nothing; a clean file is imported.
func TestRegistryImportPortal(t *testing.T) {
	e := webtest.New(t, dbtest.SQLite(t), false)
	var authorityID int64
	if err := e.App.DB.QueryRow(t.Context(), `SELECT id FROM organisations WHERE kind = 'authority' ORDER BY id LIMIT 1`).Scan(&authorityID); err != nil {
		t.Fatal(err)
	}
	sup := e.User(t, authorityID, "sup@authority.example", "supervisor")
	analyst := e.User(t, authorityID, "ana@authority.example", "analyst")
	s := e.Login(t, sup.Email, webtest.Password(sup.Email))
	upload := func(c *webtest.Client, name, content string, dry bool) *webtest.Response {
		t.Helper()
		var buf strings.Builder
		mw := multipart.NewWriter(&buf)
		mw.WriteField("csrf_token", c.CSRF())
		if dry {
			mw.WriteField("dry_run", "yes")
		}
		fw, _ := mw.CreateFormFile("file", name)
		fw.Write([]byte(content))
		mw.Close()
		return c.Do("POST", "/en/registry/import", strings.NewReader(buf.String()), http.Header{"Content-Type": {mw.FormDataContentType()}})
	}
	bad := "enterprise_number,legal_name,entity_types,staff,annual_turnover_eur,balance_sheet_eur\n" +
		"0403019261,Port One,transport.water.port_body,300,60000000,50000000\n" +
		"0431150351,Bad Number,transport.water.port_body,300,60000000,50000000\n" +
		"0428759497,Bad Type,transport.water.spaceport,-3,1,1\n"
	res := upload(s, "ports.csv", bad, false)
	if res.StatusCode != 422 || !strings.Contains(res.Body, "ports.csv") || strings.Count(res.Body, `<th scope="row" class="numeric">`) < 3 {
		t.Fatalf("bad file = %d %.800s", res.StatusCode, res.Body)
	}
	var n int
	if err := e.App.DB.QueryRow(t.Context(), `SELECT count(*) FROM organisations WHERE kind = 'entity'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("a refused file created %d organisations (%v)", n, err)
	}
	good := "enterprise_number,legal_name,entity_types,staff,annual_turnover_eur,balance_sheet_eur,domains\n" +
		"0403019261,Port One,transport.water.port_body,300,60000000,50000000,port-one.example\n"
	res = upload(s, "ports.csv", good, true)
	if res.StatusCode != 200 || !strings.Contains(res.Body, e.App.Catalog.T("en", "registry.import_clean", map[string]any{"file": "ports.csv"})) {
		t.Fatalf("dry run = %d %.800s", res.StatusCode, res.Body)
	}
	if err := e.App.DB.QueryRow(t.Context(), `SELECT count(*) FROM organisations WHERE kind = 'entity'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("a dry run created %d organisations (%v)", n, err)
	}
	res = upload(s, "ports.csv", good, false)
	if res.StatusCode != 200 || !strings.Contains(res.Body, e.App.Catalog.T("en", "registry.import_done", map[string]any{"file": "ports.csv"})) {
		t.Fatalf("import = %d %.800s", res.StatusCode, res.Body)
	}
	res = s.Get("/registry?q=port")
	if !strings.Contains(res.Body, "Port One") {
		t.Error("the imported organisation is not in the registry")
	}
	// The export of the filtered view has it too; an analyst may export
	// but not import.
	a := e.Login(t, analyst.Email, webtest.Password(analyst.Email))
	res = a.Get("/registry/export?format=csv&q=port")
	if res.StatusCode != 200 || !strings.Contains(res.Body, "0403019261,Port One") || !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("export = %d %q %.300s", res.StatusCode, res.Header.Get("Content-Disposition"), res.Body)
	}
	if res := upload(a, "ports.csv", good, true); res.StatusCode != http.StatusForbidden {
		t.Errorf("analyst import = %d, want 403", res.StatusCode)
	}
}
