package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/reporting"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// TestReportingAttachmentsKeepAnswers: on a stage form, the upload and
// delete buttons send the whole form (formaction), and the answers typed
// become the stage's draft before the file is added or removed. Answers
// that cannot be read come back with their errors, and the file is not
// stored.
func TestReportingAttachmentsKeepAnswers(t *testing.T) {
	e := webtest.New(t, dbtest.SQLite(t), false)
	org := e.Org(t, "Keepsake Grid", "entity")
	admin := e.User(t, org.ID, "admin@keepsake.example", "org_admin")
	as := auth.With(t.Context(), &auth.Principal{UserID: admin.ID, OrgID: org.ID, OrgKind: "entity", Roles: []auth.Role{auth.RoleOrgAdmin}})
	in, err := e.App.Reports.CreateIncident(as, reporting.IncidentInput{Title: "Keepsake outage", AwareAt: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	c := e.Login(t, admin.Email, webtest.Password(admin.Email))
	stage := fmt.Sprintf("/incidents/%d/early_warning", in.ID)
	res := c.Get(stage)
	checkPage(t, res, 200, "stage form", `name="stage_form" value="1"`, `formenctype="multipart/form-data"`,
		`formaction="/en`+stage+`/attachments"`, `<button type="submit" name="action" value="enter" class="visually-hidden" tabindex="-1" aria-hidden="true">`)
	if strings.Count(res.Body, "<form") != strings.Count(res.Body, "</form>") || strings.Contains(res.Body, `enctype="multipart/form-data" novalidate class="form">`) {
		t.Error("the stage page nests or adds a separate upload form")
	}
	draftSummary := func() string {
		t.Helper()
		got, err := e.App.Reports.Incident(as, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range got.Drafts {
			if d.Stage == reporting.EarlyWarning {
				return d.Content.Summary
			}
		}
		return ""
	}
	files := func() int {
		t.Helper()
		as, err := e.App.Reports.Attachments(as, in.ID, reporting.EarlyWarning)
		if err != nil {
			t.Fatal(err)
		}
		return len(as)
	}
	upload := func(fields map[string]string) *webtest.Response {
		fields["csrf_token"] = c.CSRF()
		fields["stage_form"] = "1"
		body, ct := multipartBody(t, fields, "pumps.csv", "text/csv", []byte("pump,state\nP1,down\n"))
		return c.Do("POST", "/en"+stage+"/attachments", body, http.Header{"Content-Type": {ct}})
	}

	// Unreadable answers: back on the form with the error, no file.
	res = upload(map[string]string{"summary": "Typed before the upload", "detected_at-day": "x", "detected_at-month": "11",
		"detected_at-year": "2026", "detected_at-hour": "9", "detected_at-minute": "00"})
	checkPage(t, res, 422, "upload with a bad time", `href="#detected_at"`, "Typed before the upload</textarea>")
	if n := files(); n != 0 {
		t.Errorf("%d files stored after a refused form", n)
	}

	res = upload(map[string]string{"summary": "Typed before the upload", "suspected_malicious": "yes"})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload = %d: %.600s", res.StatusCode, res.Body)
	}
	if s := draftSummary(); s != "Typed before the upload" || files() != 1 {
		t.Fatalf("after the upload: draft summary %q, %d files", s, files())
	}
	checkPage(t, c.Get(stage), 200, "form after the upload", "Typed before the upload</textarea>", "pumps.csv",
		`name="suspected_malicious" type="radio" value="yes" checked`)

	// Delete from the form: the answers changed since are kept too.
	as2, err := e.App.Reports.Attachments(as, in.ID, reporting.EarlyWarning)
	if err != nil {
		t.Fatal(err)
	}
	del := fmt.Sprintf("/incidents/%d/attachments/%d/delete", in.ID, as2[0].ID)
	res = c.PostForm(del, url.Values{"stage_form": {"1"}, "summary": {"Changed, then a file removed"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete = %d: %.600s", res.StatusCode, res.Body)
	}
	if s := draftSummary(); s != "Changed, then a file removed" || files() != 0 {
		t.Errorf("after the delete: draft summary %q, %d files", s, files())
	}
}
