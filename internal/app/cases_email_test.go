package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/webtest"
)

const phishingEML = "Received: from mail.evil.example (mail.evil.example [198.51.100.23]) by mx.ccb.example; Fri, 27 Nov 2026 16:02:11 +0100\r\n" +
	"From: \"Helpdesk\" <help@evil.example>\r\n" +
	"To: soc@grid-a.example\r\n" +
	"Subject: =?UTF-8?Q?Votre_bo=C3=AEte_est_pleine?=\r\n" +
	"Date: Fri, 27 Nov 2026 16:02:08 +0100\r\n" +
	"Message-ID: <m1@mail.evil.example>\r\n" +
	"\r\n" +
	"Cliquez sur https://evil.example/quota pour continuer.\r\n"

// TestCasesFromEmailAPI: the raw message as message/rfc822 opens a case
// with its observables; other media types are 415, what is not an e-mail
// 422 on the field email; an organisation's member gets 404, an auditor
// 403.
func TestCasesFromEmailAPI(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := webtest.New(t, db, false)
		authority, err := e.App.Identity.AuthorityOrg(webtest.System())
		if err != nil {
			t.Fatal(err)
		}
		ana := e.User(t, authority.ID, "email.analyst@ccb.example", "analyst")
		aud := e.User(t, authority.ID, "email.auditor@ccb.example", "auditor")
		org := e.Org(t, "Grid A", "entity")
		mem := e.User(t, org.ID, "soc@grid-a.example", "member")
		post := func(token, ctype, query, body string) *webtest.Response {
			c := e.API(t, token)
			return c.Raw().Do("POST", "/api/v1/cases/from-email"+query, strings.NewReader(body),
				http.Header{"Authorization": {"Bearer " + token}, "Content-Type": {ctype}})
		}
		tok := e.Token(t, ana, "read", "write")
		res := post(tok, "message/rfc822", "?template=phishing&severity=3&tlp=GREEN", phishingEML)
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("from-email: %d %s", res.StatusCode, res.Body)
		}
		var c struct {
			ID          int64  `json:"id"`
			Title       string `json:"title"`
			Source      string `json:"source"`
			TLP         string `json:"tlp"`
			Severity    int    `json:"severity"`
			Template    string `json:"template"`
			Description string `json:"description"`
		}
		res.JSON(t, &c)
		if res.Header.Get("Location") != "/api/v1/cases/"+itoa(c.ID) {
			t.Errorf("Location = %q", res.Header.Get("Location"))
		}
		if c.Title != "E-mail: Votre boîte est pleine" || c.Source != "email" || c.TLP != "GREEN" || c.Severity != 3 || c.Template != "phishing" ||
			!strings.Contains(c.Description, "Message-ID: <m1@mail.evil.example>") {
			t.Errorf("case %+v", c)
		}
		res = e.API(t, tok).Do("GET", "/api/v1/cases/"+itoa(c.ID)+"/observables", nil)
		for _, want := range []string{`"help@evil.example"`, `"https://evil.example/quota"`, `"evil.example"`, `"198.51.100.23"`} {
			if !strings.Contains(res.Body, want) {
				t.Errorf("observables lack %s: %s", want, res.Body)
			}
		}
		if res := post(tok, "application/json", "", `{"email": "x"}`); res.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("JSON body = %d", res.StatusCode)
		}
		problem(t, post(tok, "message/rfc822", "", "this is not an e-mail"), http.StatusUnprocessableEntity, "email")
		problem(t, post(tok, "message/rfc822", "", ""), http.StatusUnprocessableEntity, "email")
		problem(t, post(tok, "message/rfc822", "?severity=high", phishingEML), http.StatusUnprocessableEntity, "severity")
		problem(t, post(tok, "message/rfc822", "?template=nope", phishingEML), http.StatusUnprocessableEntity, "template")
		if res := post(e.Token(t, mem, "read", "write"), "message/rfc822", "", phishingEML); res.StatusCode != http.StatusNotFound {
			t.Errorf("member: %d", res.StatusCode)
		}
		if res := post(e.Token(t, aud, "read", "write"), "message/rfc822", "", phishingEML); res.StatusCode != http.StatusForbidden {
			t.Errorf("auditor: %d", res.StatusCode)
		}
		if res := post(e.Token(t, ana, "read"), "message/rfc822", "", phishingEML); res.StatusCode != http.StatusForbidden {
			t.Errorf("read-only token: %d", res.StatusCode)
		}
		var n int
		if err := db.QueryRow(t.Context(), `SELECT COUNT(*) FROM cases`).Scan(&n); err != nil || n != 1 {
			t.Errorf("%d cases (%v), want 1", n, err)
		}
	})
}

// TestCasesFromEmailPortal: the list links to the form; an .eml file
// uploaded or a message pasted opens a case; both, neither or a message
// that is not an e-mail are errors on the form; a member gets 404, an
// auditor 403.
func TestCasesFromEmailPortal(t *testing.T) {
	e := webtest.New(t, dbtest.SQLite(t), false)
	authority, err := e.App.Identity.AuthorityOrg(webtest.System())
	if err != nil {
		t.Fatal(err)
	}
	ana := e.User(t, authority.ID, "email.portal@ccb.example", "analyst")
	aud := e.User(t, authority.ID, "email.portal.auditor@ccb.example", "auditor")
	org := e.Org(t, "Water B", "entity")
	mem := e.User(t, org.ID, "soc@water-b.example", "member")

	c := e.Login(t, ana.Email, webtest.Password(ana.Email))
	if res := c.Get("/cases"); !strings.Contains(res.Body, `/en/cases/new/email"`) {
		t.Errorf("the list does not link to the form")
	}
	res := c.Get("/cases/new/email")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `enctype="multipart/form-data"`) {
		t.Fatalf("form: %d", res.StatusCode)
	}
	form := map[string]string{"csrf_token": c.CSRF(), "template": "phishing", "severity": "", "tlp": "AMBER", "pap": "AMBER"}
	upload := func(fields map[string]string, name string, data []byte) *webtest.Response {
		body, ct := multipartBody(t, fields, name, "message/rfc822", data)
		return c.Do("POST", "/en/cases/new/email", body, http.Header{"Content-Type": {ct}})
	}
	res = upload(form, "phish.eml", []byte(phishingEML))
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "/cases/") {
		t.Fatalf("upload: %d %s", res.StatusCode, res.Body)
	}
	ctx := auth.With(t.Context(), principalOf(ana))
	var id int64
	if err := e.App.DB.QueryRow(t.Context(), `SELECT id FROM cases WHERE source = 'email'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	got, err := e.App.Cases.Get(ctx, id)
	if err != nil || got.Title != "E-mail: Votre boîte est pleine" || got.Template != "phishing" || !strings.HasSuffix(res.Header.Get("Location"), "/cases/"+itoa(id)) {
		t.Errorf("case %+v (%v), redirected to %s", got, err, res.Header.Get("Location"))
	}
	// The message is shown as it is: its web address is no link.
	if res := c.Get("/cases/" + itoa(id)); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "https://evil.example/quota") ||
		strings.Contains(res.Body, `href="https://evil.example`) {
		t.Errorf("case page: %d", res.StatusCode)
	}
	if obs, _ := e.App.Cases.Observables(ctx, id); len(obs) != 4 {
		t.Errorf("observables %+v", obs)
	}

	paste := url.Values{"message": {phishingEML}, "title": {"Reported by Grid A"}, "template": {""}, "tlp": {"RED"}, "pap": {"AMBER"}}
	res = c.PostForm("/cases/new/email", paste)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("paste: %d %s", res.StatusCode, res.Body)
	}
	both := map[string]string{"csrf_token": c.CSRF(), "message": phishingEML, "tlp": "AMBER", "pap": "AMBER"}
	if res := upload(both, "phish.eml", []byte(phishingEML)); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `id="message-error"`) {
		t.Errorf("both: %d", res.StatusCode)
	}
	if res := upload(form, "notes.eml", []byte("just some notes\n")); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `id="file-error"`) {
		t.Errorf("not an e-mail: %d", res.StatusCode)
	}
	if res := c.PostForm("/cases/new/email", url.Values{"tlp": {"AMBER"}, "pap": {"AMBER"}}); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `id="message-error"`) {
		t.Errorf("neither: %d", res.StatusCode)
	}
	var n int
	if err := e.App.DB.QueryRow(t.Context(), `SELECT COUNT(*) FROM cases`).Scan(&n); err != nil || n != 2 {
		t.Errorf("%d cases (%v), want 2", n, err)
	}

	m := e.Login(t, mem.Email, webtest.Password(mem.Email))
	if res := m.Get("/cases/new/email"); res.StatusCode != http.StatusNotFound {
		t.Errorf("member GET: %d", res.StatusCode)
	}
	paste.Del("csrf_token") // the analyst's, set by PostForm
	if res := m.PostForm("/cases/new/email", paste); res.StatusCode != http.StatusNotFound {
		t.Errorf("member POST: %d", res.StatusCode)
	}
	a := e.Login(t, aud.Email, webtest.Password(aud.Email))
	if res := a.Get("/cases/new/email"); res.StatusCode != http.StatusForbidden {
		t.Errorf("auditor GET: %d", res.StatusCode)
	}
}
