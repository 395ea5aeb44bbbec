package app_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/cases"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// TestCaseAttachments: on both databases, an analyst uploads, downloads
// (with the safe headers) and removes files in the portal and through the
// API; a PDF that is not one is refused; the stored bytes are not the
// file's; an auditor reads but does not upload; an organisation's member
// gets 404 everywhere.
func TestCaseAttachments(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := webtest.New(t, db, false) // app.go gives the cases service the instance's data key
		authority, err := e.App.Identity.AuthorityOrg(webtest.System())
		if err != nil {
			t.Fatal(err)
		}
		ana := e.User(t, authority.ID, "att.analyst@ccb.example", "analyst")
		aud := e.User(t, authority.ID, "att.auditor@ccb.example", "auditor")
		org := e.Org(t, "Grid A", "entity")
		mem := e.User(t, org.ID, "soc@grid-a.example", "member")
		title, tlp := "Phishing wave", "AMBER"
		c, err := e.App.Cases.Create(auth.With(t.Context(), principalOf(ana)), cases.Input{Title: &title, TLP: &tlp})
		if err != nil {
			t.Fatal(err)
		}
		base := "/cases/" + itoa(c.ID)

		// ---- portal ----
		b := e.Login(t, ana.Email, webtest.Password(ana.Email))
		res := b.Get(base + "/attachments")
		if res.StatusCode != 200 || !strings.Contains(res.Body, `enctype="multipart/form-data"`) || !strings.Contains(res.Body, `href="/en`+base+`/attachments"`) {
			t.Fatalf("attachments page: %d", res.StatusCode)
		}
		upload := func(cl *webtest.Client, fields map[string]string, name string, data []byte) *webtest.Response {
			fields["csrf_token"] = cl.CSRF()
			body, ct := multipartBody(t, fields, name, "text/html", data)
			return cl.Do("POST", "/en"+base+"/attachments", body, http.Header{"Content-Type": {ct}})
		}
		logText := []byte("Nov 28 09:00:01 mx postfix: reject from 198.51.100.7 <script>x</script>\n")
		res = upload(b, map[string]string{"tlp": "RED"}, "mail.log", logText)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/en"+base+"/attachments" {
			t.Fatalf("upload: %d %s", res.StatusCode, res.Body)
		}
		var id int64
		var ct []byte
		if err := db.QueryRow(t.Context(), `SELECT id, ciphertext FROM case_attachments WHERE case_id = ?`, c.ID).Scan(&id, &ct); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(ct, logText[:20]) {
			t.Error("the stored bytes hold the plaintext")
		}
		page := b.Get(base + "/attachments")
		for _, want := range []string{"mail.log", sum(logText), "TLP:RED", ana.Email, fmt.Sprintf("%d bytes", len(logText)), "/remove"} {
			if !strings.Contains(page.Body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		downloadHeaders(t, "portal download", b.Get(fmt.Sprintf("%s/attachments/%d", base, id)), "mail.log", logText)
		if res := b.Get(base + "/timeline"); !strings.Contains(res.Body, "File attached") || !strings.Contains(res.Body, sum(logText)) {
			t.Errorf("timeline does not record the upload")
		}
		// A PDF that is not one is shown on the form, naming the file.
		res = upload(b, map[string]string{"tlp": "AMBER"}, "invoice.pdf", []byte("<html>not a pdf</html>"))
		if res.StatusCode != http.StatusUnsupportedMediaType || !strings.Contains(res.Body, "The content of invoice.pdf does not match its extension") ||
			!strings.Contains(res.Body, `aria-invalid="true"`) {
			t.Errorf("fake PDF: %d %.300s", res.StatusCode, res.Body)
		}
		if res := upload(b, map[string]string{"tlp": "AMBER"}, "", nil); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "Choose a file") {
			t.Errorf("no file: %d", res.StatusCode)
		}
		res = upload(b, map[string]string{"tlp": "AMBER"}, "big.txt", bytes.Repeat([]byte("a"), cases.MaxAttachmentSize+1))
		if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(res.Body, "big.txt is larger than the limit of 20 MB") {
			t.Errorf("too large: %d %.300s", res.StatusCode, res.Body)
		}

		// The auditor reads and downloads, and neither uploads nor removes.
		ba := e.Login(t, aud.Email, webtest.Password(aud.Email))
		if res := ba.Get(base + "/attachments"); res.StatusCode != 200 || !strings.Contains(res.Body, "mail.log") || strings.Contains(res.Body, `type="file"`) || strings.Contains(res.Body, "/remove") {
			t.Errorf("auditor's page: %d", res.StatusCode)
		}
		downloadHeaders(t, "auditor download", ba.Get(fmt.Sprintf("%s/attachments/%d", base, id)), "mail.log", logText)
		if res := upload(ba, map[string]string{"tlp": "AMBER"}, "a.txt", []byte("x")); res.StatusCode != http.StatusForbidden {
			t.Errorf("auditor uploads: %d", res.StatusCode)
		}
		if res := ba.PostForm(fmt.Sprintf("%s/attachments/%d/remove", base, id), url.Values{}); res.StatusCode != http.StatusForbidden {
			t.Errorf("auditor removes: %d", res.StatusCode)
		}
		// The organisation's member: 404 on every page.
		bm := e.Login(t, mem.Email, webtest.Password(mem.Email))
		for _, res := range []*webtest.Response{
			bm.Get(base + "/attachments"),
			bm.Get(fmt.Sprintf("%s/attachments/%d", base, id)),
			upload(bm, map[string]string{"tlp": "AMBER"}, "a.txt", []byte("x")),
			bm.PostForm(fmt.Sprintf("%s/attachments/%d/remove", base, id), url.Values{}),
		} {
			if res.StatusCode != http.StatusNotFound || strings.Contains(res.Body, "mail.log") {
				t.Errorf("member: %d", res.StatusCode)
			}
		}

		// ---- API ----
		spec := loadRegSpec(t, e)
		tok := e.Token(t, ana, "read", "write")
		api := e.API(t, tok)
		list := "/api/v1/cases/{id}/attachments"
		one := "/api/v1/cases/{id}/attachments/{att}"
		path := func(att int64) string { return fmt.Sprintf("/api/v1/cases/%d/attachments/%d", c.ID, att) }
		apiUpload := func(token string, fields map[string]string, name string, data []byte) *webtest.Response {
			body, ct := multipartBody(t, fields, name, "application/octet-stream", data)
			return api.Raw().Do("POST", fmt.Sprintf("/api/v1/cases/%d/attachments", c.ID), body,
				http.Header{"Authorization": {"Bearer " + token}, "Content-Type": {ct}})
		}
		png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 32)...)
		res = apiUpload(tok, map[string]string{"tlp": "green"}, "screen.png", png)
		spec.check(t, res, "POST", list, 201)
		var a cases.Attachment
		res.JSON(t, &a)
		if a.Name != "screen.png" || a.TLP != "GREEN" || a.ContentType != "image/png" || a.SHA256 != sum(png) || res.Header.Get("Location") != path(a.ID) {
			t.Errorf("uploaded %+v, Location %s", a, res.Header.Get("Location"))
		}
		res = api.Do("GET", fmt.Sprintf("/api/v1/cases/%d/attachments", c.ID), nil)
		spec.check(t, res, "GET", list, 200)
		if !strings.Contains(res.Body, `"mail.log"`) || !strings.Contains(res.Body, `"screen.png"`) || strings.Contains(res.Body, "ciphertext") {
			t.Errorf("list %s", res.Body)
		}
		res = api.Do("GET", path(a.ID), nil)
		spec.check(t, res, "GET", one, 200)
		downloadHeaders(t, "API download", res, "screen.png", png)
		problem(t, apiUpload(tok, map[string]string{}, "fake.pdf", []byte("plain text")), http.StatusUnsupportedMediaType, "file")
		problem(t, apiUpload(tok, map[string]string{"tlp": "PURPLE"}, "a.txt", []byte("x")), http.StatusUnprocessableEntity, "tlp")
		problem(t, apiUpload(tok, map[string]string{"tlp": "RED"}, "", nil), http.StatusUnprocessableEntity, "file")
		problem(t, apiUpload(tok, nil, "big.txt", bytes.Repeat([]byte("a"), cases.MaxAttachmentSize+1)), http.StatusRequestEntityTooLarge, "file")
		if res := api.Do("POST", fmt.Sprintf("/api/v1/cases/%d/attachments", c.ID), map[string]string{"file": "x"}); res.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("JSON upload: %d", res.StatusCode)
		}
		if res := api.Do("GET", path(a.ID+1000), nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("no such file: %d", res.StatusCode)
		}
		// Auditor: reads, 403 on writes; read-only token: 403.
		audTok := e.Token(t, aud, "read", "write")
		if res := e.API(t, audTok).Do("GET", path(a.ID), nil); res.StatusCode != 200 {
			t.Errorf("auditor API download: %d", res.StatusCode)
		}
		if res := apiUpload(audTok, nil, "a.txt", []byte("x")); res.StatusCode != http.StatusForbidden {
			t.Errorf("auditor API upload: %d", res.StatusCode)
		}
		if res := e.API(t, audTok).Do("DELETE", path(a.ID), nil); res.StatusCode != http.StatusForbidden {
			t.Errorf("auditor API delete: %d", res.StatusCode)
		}
		if res := apiUpload(e.Token(t, ana, "read"), nil, "a.txt", []byte("x")); res.StatusCode != http.StatusForbidden {
			t.Errorf("read-only token: %d", res.StatusCode)
		}
		// Member: 404 on every route.
		memTok := e.Token(t, mem, "read", "write")
		for _, res := range []*webtest.Response{
			e.API(t, memTok).Do("GET", fmt.Sprintf("/api/v1/cases/%d/attachments", c.ID), nil),
			apiUpload(memTok, nil, "a.txt", []byte("x")),
			e.API(t, memTok).Do("GET", path(a.ID), nil),
			e.API(t, memTok).Do("DELETE", path(a.ID), nil),
		} {
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("member API: %d %s", res.StatusCode, res.Body)
			}
		}
		res = api.Do("DELETE", path(a.ID), nil)
		spec.check(t, res, "DELETE", one, 204)
		if res := api.Do("GET", path(a.ID), nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("removed file: %d", res.StatusCode)
		}
		// Portal remove.
		res = b.PostForm(fmt.Sprintf("%s/attachments/%d/remove", base, id), url.Values{})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("portal remove: %d %s", res.StatusCode, res.Body)
		}
		var n int
		if err := db.QueryRow(t.Context(), `SELECT count(*) FROM case_attachments`).Scan(&n); err != nil || n != 0 {
			t.Errorf("%d rows left (%v)", n, err)
		}
		if res := b.Get(base + "/timeline"); strings.Count(res.Body, "<h3>File removed</h3>") != 2 {
			t.Errorf("timeline does not record both removals")
		}
	})
}
