package app_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/reporting"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// multipartBody builds a form with the fields and one file.
func multipartBody(t *testing.T, fields map[string]string, name, ctype string, data []byte) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if name != "" {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
		h.Set("Content-Type", ctype)
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	mw.Close()
	return &buf, mw.FormDataContentType()
}

func apiUpload(t *testing.T, api *webtest.API, incident int64, stage, name string, data []byte) *webtest.Response {
	t.Helper()
	body, ct := multipartBody(t, map[string]string{"stage": stage}, name, "application/octet-stream", data)
	return api.Raw().Do("POST", fmt.Sprintf("/api/v1/incidents/%d/attachments", incident), body,
		http.Header{"Authorization": {"Bearer " + api.Token()}, "Content-Type": {ct}})
}

func portalUpload(t *testing.T, c *webtest.Client, incident int64, stage, name string, data []byte) *webtest.Response {
	t.Helper()
	body, ct := multipartBody(t, map[string]string{"csrf_token": c.CSRF()}, name, "text/plain", data)
	return c.Do("POST", fmt.Sprintf("/en/incidents/%d/%s/attachments", incident, stage), body, http.Header{"Content-Type": {ct}})
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// downloadHeaders checks that a download can never be rendered or run.
func downloadHeaders(t *testing.T, what string, res *webtest.Response, name string, want []byte) {
	t.Helper()
	if res.StatusCode != 200 || res.Body != string(want) {
		t.Fatalf("%s = %d %.100q", what, res.StatusCode, res.Body)
	}
	for h, v := range map[string]string{
		"Content-Type":            "application/octet-stream",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "sandbox; default-src 'none'",
		"X-Frame-Options":         "DENY",
	} {
		if got := res.Header.Get(h); got != v {
			t.Errorf("%s: %s = %q, want %q", what, h, got, v)
		}
	}
	if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, "filename*=UTF-8''"+name) {
		t.Errorf("%s: Content-Disposition = %q", what, cd)
	}
}

// TestReportingAttachments: the entity attaches files by the API and the
// portal, within the limits and types; downloads are inert; filing seals
// the files into the submission and its receipt; a sealed file cannot be
// deleted; the authority reads what was filed; another organisation gets
// 404 on everything.
func TestReportingAttachments(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := webtest.New(t, db, false)
		var authorityID int64
		if err := db.QueryRow(t.Context(), `SELECT id FROM organisations WHERE kind = 'authority' ORDER BY id LIMIT 1`).Scan(&authorityID); err != nil {
			t.Fatal(err)
		}
		analyst := e.User(t, authorityID, "ana-files@authority.example", "analyst")
		grid := e.Org(t, "Files Grid", "entity")
		gridAdmin := e.User(t, grid.ID, "admin@files-grid.example", "org_admin")
		other := e.Org(t, "Files Other", "entity")
		otherAdmin := e.User(t, other.ID, "admin@files-other.example", "org_admin")
		asGrid := auth.With(t.Context(), &auth.Principal{UserID: gridAdmin.ID, OrgID: grid.ID, OrgKind: "entity", Roles: []auth.Role{auth.RoleOrgAdmin}})
		in, err := e.App.Reports.CreateIncident(asGrid, reporting.IncidentInput{Title: "Files substation outage", AwareAt: time.Now().Add(-time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		entityAPI := e.API(t, e.Token(t, gridAdmin, "read", "write"))
		entity := e.Login(t, gridAdmin.Email, webtest.Password(gridAdmin.Email))
		list := fmt.Sprintf("/api/v1/incidents/%d/attachments", in.ID)

		// By the API: a PDF is attached; the name is cleaned.
		pdf := []byte("%PDF-1.7\n% forensic timeline of the outage\n")
		res := apiUpload(t, entityAPI, in.ID, "early_warning", `..\..\timeline.pdf`, pdf)
		if res.StatusCode != 201 {
			t.Fatalf("upload = %d %s", res.StatusCode, res.Body)
		}
		var att reporting.Attachment
		res.JSON(t, &att)
		if att.Name != "timeline.pdf" || att.SHA256 != sum(pdf) || att.Size != int64(len(pdf)) || att.MediaType != "application/pdf" ||
			att.Stage != reporting.EarlyWarning || att.Sealed() {
			t.Errorf("attached %+v", att)
		}

		// Refusals name the file and the reason.
		p := problem(t, apiUpload(t, entityAPI, in.ID, "early_warning", "invoice.pdf", []byte("<html><script>alert(1)</script>")), 415, "file")
		if !strings.Contains(p.Errors[0].Detail, "invoice.pdf") || p.Errors[0].Code != "att.type_mismatch" {
			t.Errorf("mismatch problem = %+v", p)
		}
		p = problem(t, apiUpload(t, entityAPI, in.ID, "early_warning", "tool.exe", []byte("MZ\x90\x00")), 415, "file")
		if p.Errors[0].Code != "att.type_not_allowed" || !strings.Contains(p.Errors[0].Detail, "tool.exe") {
			t.Errorf("type problem = %+v", p)
		}
		problem(t, apiUpload(t, entityAPI, in.ID, "early_warning", "empty.txt", nil), 422, "file")
		problem(t, apiUpload(t, entityAPI, in.ID, "csirt_feedback", "notes.txt", []byte("x")), 422, "stage")
		problem(t, entityAPI.Do("POST", list, map[string]any{"stage": "early_warning"}), 415, "")
		e.App.Reports.SetAttachmentMaxSize(1 << 10)
		p = problem(t, apiUpload(t, entityAPI, in.ID, "early_warning", "big.txt", bytes.Repeat([]byte("a"), 1<<10+1)), 413, "file")
		if d := p.Errors[0].Detail; !strings.Contains(d, "big.txt") || !strings.Contains(d, "1 KB") {
			t.Errorf("too large detail = %q, want the name and the limit", d)
		}

		// By the portal: the stage form offers the upload and lists the
		// files; a refused file is shown on the form.
		page := fmt.Sprintf("/incidents/%d/early_warning", in.ID)
		res = entity.Get(page)
		if !strings.Contains(res.Body, `enctype="multipart/form-data"`) || !strings.Contains(res.Body, "timeline.pdf") || !strings.Contains(res.Body, "1 KB") {
			t.Errorf("stage page lacks the upload form, the file or the limit")
		}
		if res := portalUpload(t, entity, in.ID, "early_warning", "big.log", bytes.Repeat([]byte("b"), 1<<10+1)); res.StatusCode != 413 ||
			!strings.Contains(res.Body, "big.log") || !strings.Contains(res.Body, `id="file-error"`) {
			t.Errorf("portal too large = %d", res.StatusCode)
		}
		e.App.Reports.SetAttachmentMaxSize(reporting.DefaultAttachmentMaxSize)
		if res := portalUpload(t, entity, in.ID, "early_warning", "page.svg", []byte("<svg/>")); res.StatusCode != 415 || !strings.Contains(res.Body, "page.svg") {
			t.Errorf("portal svg = %d", res.StatusCode)
		}
		csv := []byte("type,value\nip,192.0.2.1\n")
		if res := portalUpload(t, entity, in.ID, "early_warning", "iocs.csv", csv); res.StatusCode != 303 {
			t.Fatalf("portal upload = %d %s", res.StatusCode, res.Body)
		}
		var items struct{ Items []reporting.Attachment }
		entityAPI.Do("GET", list, nil).JSON(t, &items)
		if len(items.Items) != 2 || items.Items[1].Name != "iocs.csv" || items.Items[1].SHA256 != sum(csv) {
			t.Fatalf("list = %+v", items.Items)
		}
		csvID := items.Items[1].ID
		res = entity.Get(page)
		if !strings.Contains(res.Body, "iocs.csv") || !strings.Contains(res.Body, sum(csv)) || !strings.Contains(res.Body, fmt.Sprintf("/attachments/%d/delete", csvID)) {
			t.Errorf("stage page lacks iocs.csv with its hash and delete button")
		}

		// Downloads are inert, by the API and the portal.
		fileAPI := fmt.Sprintf("%s/%d", list, att.ID)
		downloadHeaders(t, "API download", entityAPI.Do("GET", fileAPI, nil), "timeline.pdf", pdf)
		downloadHeaders(t, "portal download", entity.Get(fmt.Sprintf("/incidents/%d/attachments/%d", in.ID, att.ID)), "timeline.pdf", pdf)

		// The authority sees nothing before filing.
		ana := e.Login(t, analyst.Email, webtest.Password(analyst.Email))
		anaAPI := e.API(t, e.Token(t, analyst, "read", "write"))
		anaAPI.Do("GET", list, nil).JSON(t, &items)
		if len(items.Items) != 0 {
			t.Errorf("the analyst lists draft files: %+v", items.Items)
		}
		if res := anaAPI.Do("GET", fileAPI, nil); res.StatusCode != 404 {
			t.Errorf("the analyst downloads a draft file: %d", res.StatusCode)
		}

		// Delete the CSV in the portal; the check-answers page lists the PDF.
		if res := entity.PostForm(fmt.Sprintf("/incidents/%d/attachments/%d/delete", in.ID, csvID), nil); res.StatusCode != 303 {
			t.Fatalf("portal delete = %d %s", res.StatusCode, res.Body)
		}
		content := map[string]any{"incident_status": "ongoing", "summary": "Substation outage", "suspected_malicious": "yes", "cross_border": "no",
			"notifier": map[string]any{"name": "Grid SOC", "email": "soc@files-grid.example"}}
		if res := entityAPI.Do("PUT", fmt.Sprintf("/api/v1/incidents/%d/drafts/early_warning", in.ID), content); res.StatusCode != 200 {
			t.Fatalf("draft = %d %s", res.StatusCode, res.Body)
		}
		if res := entity.Get(page + "/check"); !strings.Contains(res.Body, "timeline.pdf") || strings.Contains(res.Body, "iocs.csv") {
			t.Errorf("check page = %d: timeline.pdf listed %v, iocs.csv listed %v", res.StatusCode, strings.Contains(res.Body, "timeline.pdf"), strings.Contains(res.Body, "iocs.csv"))
		}

		// Filing seals the PDF into the submission and its receipt.
		res = entityAPI.Do("POST", fmt.Sprintf("/api/v1/incidents/%d/reports/early_warning", in.ID), content)
		if res.StatusCode != 201 {
			t.Fatalf("submit = %d %s", res.StatusCode, res.Body)
		}
		var rec reporting.Receipt
		res.JSON(t, &rec)
		if want := (reporting.ReceiptAttachment{Name: "timeline.pdf", Size: int64(len(pdf)), SHA256: sum(pdf)}); len(rec.Attachments) != 1 || rec.Attachments[0] != want {
			t.Errorf("receipt attachments = %+v, want [%+v]", rec.Attachments, want)
		}
		if res := entity.Get(fmt.Sprintf("/incidents/%d/receipts/%s", in.ID, rec.Ref)); !strings.Contains(res.Body, "timeline.pdf") || !strings.Contains(res.Body, sum(pdf)) {
			t.Errorf("receipt page lacks the attachment")
		}
		if res := entityAPI.Do("DELETE", fileAPI, nil); res.StatusCode != 409 {
			t.Errorf("delete a sealed file by the API = %d", res.StatusCode)
		}
		if res := entity.PostForm(fmt.Sprintf("/incidents/%d/attachments/%d/delete", in.ID, att.ID), nil); res.StatusCode != 409 {
			t.Errorf("delete a sealed file in the portal = %d", res.StatusCode)
		}

		// The authority reads what was filed, and deletes nothing.
		anaAPI.Do("GET", list, nil).JSON(t, &items)
		if len(items.Items) != 1 || items.Items[0].SubmissionRef != rec.Ref {
			t.Errorf("the analyst's list = %+v", items.Items)
		}
		downloadHeaders(t, "analyst download", anaAPI.Do("GET", fileAPI, nil), "timeline.pdf", pdf)
		if res := ana.Get(page); !strings.Contains(res.Body, "timeline.pdf") || strings.Contains(res.Body, `enctype="multipart/form-data"`) {
			t.Errorf("the analyst's stage view: file listed %v, upload form shown %v", strings.Contains(res.Body, "timeline.pdf"), strings.Contains(res.Body, `enctype="multipart/form-data"`))
		}
		if res := anaAPI.Do("DELETE", fileAPI, nil); res.StatusCode != 403 {
			t.Errorf("the analyst deletes = %d", res.StatusCode)
		}
		if res := apiUpload(t, anaAPI, in.ID, "early_warning", "a.txt", []byte("x")); res.StatusCode != 403 {
			t.Errorf("the analyst uploads = %d", res.StatusCode)
		}

		// Another organisation learns nothing.
		outsider := e.Login(t, otherAdmin.Email, webtest.Password(otherAdmin.Email))
		outsiderAPI := e.API(t, e.Token(t, otherAdmin, "read", "write"))
		for name, res := range map[string]*webtest.Response{
			"API list":        outsiderAPI.Do("GET", list, nil),
			"API download":    outsiderAPI.Do("GET", fileAPI, nil),
			"API delete":      outsiderAPI.Do("DELETE", fileAPI, nil),
			"API upload":      apiUpload(t, outsiderAPI, in.ID, "early_warning", "x.txt", []byte("x")),
			"portal download": outsider.Get(fmt.Sprintf("/incidents/%d/attachments/%d", in.ID, att.ID)),
			"portal upload":   portalUpload(t, outsider, in.ID, "early_warning", "x.txt", []byte("x")),
			"portal delete":   outsider.PostForm(fmt.Sprintf("/incidents/%d/attachments/%d/delete", in.ID, att.ID), nil),
		} {
			if res.StatusCode != 404 {
				t.Errorf("another organisation's %s = %d", name, res.StatusCode)
			}
			if strings.Contains(res.Body, "timeline.pdf") || strings.Contains(res.Body, "forensic timeline") {
				t.Errorf("another organisation's %s shows the file", name)
			}
		}

		// Every upload and delete is audited.
		var adds, deletes int
		db.QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE action = 'report.attachment.add' AND org_id = ?`, grid.ID).Scan(&adds)
		db.QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE action = 'report.attachment.delete' AND org_id = ?`, grid.ID).Scan(&deletes)
		if adds != 2 || deletes != 1 {
			t.Errorf("audit: %d adds, %d deletes; want 2 and 1", adds, deletes)
		}
	})
}
