package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/belfry-cert/belfry/internal/app"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/cases"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// TestCaseMessages is the exchange between the CSIRT and an affected
// organisation, in the portal and through the API, mirrored by e-mail to a
// real SMTP server: a TLP:RED message reaches only its named recipient, a
// TLP:AMBER+STRICT one only the organisation's users and without its
// content; the organisation answers; another organisation reaches nothing.
// On both databases.
func TestCaseMessages(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		smtp := webtest.StartMailServer(t)
		e := webtest.NewWith(t, db, true, func(c *app.Config) { c.SMTP, c.PublicURL = smtp.Config(), "https://belfry.example" })
		cat := e.App.Catalog
		ctx := context.Background()
		var authority int64
		if err := db.QueryRow(ctx, `SELECT org_id FROM users WHERE email = ?`, e.AdminEmail).Scan(&authority); err != nil {
			t.Fatal(err)
		}
		ana := e.User(t, authority, "ana@ccb.example", "analyst")
		grid := e.Org(t, "Grid Operator A", "entity")
		soc := e.User(t, grid.ID, "soc@grid.example", "member")
		ciso := e.User(t, grid.ID, "ciso@grid.example", "org_admin")
		water := e.Org(t, "Water Works B", "entity")
		intruder := e.User(t, water.ID, "admin@water.example", "org_admin")
		orgs := []int64{grid.ID}
		title, amber := "Ransomware at Grid Operator A", "AMBER"
		c, err := e.App.Cases.Create(auth.With(ctx, &auth.Principal{UserID: ana.ID, OrgID: authority, OrgKind: "authority", Email: ana.Email,
			Roles: []auth.Role{auth.RoleAnalyst}}), cases.Input{Title: &title, TLP: &amber, Orgs: &orgs, AssigneeID: &ana.ID})
		if err != nil {
			t.Fatal(err)
		}
		staffPage := fmt.Sprintf("/cases/%d/messages", c.ID)
		ourPage := fmt.Sprintf("/our-cases/%d", c.ID)

		// The CSIRT's page: the case's label, the thread, the form.
		a := e.Login(t, ana.Email, webtest.Password(ana.Email))
		wantBody(t, "staff page", a.Get(staffPage), 200, "TLP:AMBER – ", `<strong class="tlp tlp-amber">TLP:AMBER</strong>`, c.Ref,
			"Grid Operator A", cat.T("en", "casemsg.none", nil), `name="recipients"`, `value="`+strconv.FormatInt(ciso.ID, 10)+`"`)
		res := a.PostForm(staffPage, url.Values{"organisation_id": {strconv.FormatInt(grid.ID, 10)}, "tlp": {"RED"}, "body": {"Keep this red"}})
		wantBody(t, "RED without recipients", res, http.StatusUnprocessableEntity, cat.T("en", "err.casemsg.recipients_missing", nil),
			`href="#recipients"`, "Keep this red", `value="RED" checked`)
		wantRedirect(t, "RED to the CISO", a.PostForm(staffPage, url.Values{"organisation_id": {strconv.FormatInt(grid.ID, 10)}, "tlp": {"RED"},
			"recipients": {strconv.FormatInt(ciso.ID, 10)}, "body": {"Redsecret attacker is inside"}}), fmt.Sprintf("/en%s#org-%d", staffPage, grid.ID))
		wantRedirect(t, "AMBER+STRICT", a.PostForm(staffPage, url.Values{"organisation_id": {strconv.FormatInt(grid.ID, 10)}, "tlp": {"AMBER+STRICT"},
			"body": {"Strictsecret indicators follow"}}), fmt.Sprintf("/en%s#org-%d", staffPage, grid.ID))
		wantBody(t, "staff page with messages", a.Get(staffPage), 200, cat.T("en", "casemsg.flash.sent", nil), "TLP:RED", "TLP:AMBER+STRICT",
			"Redsecret", "Strictsecret", "ciso (ciso@grid.example)")

		// The e-mails: RED to the CISO only, AMBER+STRICT to both; a link, never the content.
		cisoMail := apubWaitMail(t, smtp, ciso.Email, 2)
		socMail := apubWaitMail(t, smtp, soc.Email, 1)
		for _, m := range append(cisoMail, socMail...) {
			subject, text := apubMail(t, m)
			label, _, _ := strings.Cut(strings.TrimPrefix(subject, "["), "]")
			if !strings.HasPrefix(label, "TLP:") || !strings.HasPrefix(text, label+"\n") && !strings.HasPrefix(text, label+"\r\n") ||
				!strings.Contains(subject, c.Ref) || strings.Contains(text, "secret") || !strings.Contains(text, "https://belfry.example/en"+ourPage) {
				t.Errorf("mail to %v: %q\n%s", m.To, subject, text)
			}
		}
		for _, m := range socMail {
			if subject, _ := apubMail(t, m); strings.HasPrefix(subject, "[TLP:RED]") {
				t.Errorf("the member got the RED message meant for the CISO: %q", subject)
			}
		}

		// The organisation: its list and its thread, the RED message only for the CISO.
		s := e.Login(t, soc.Email, webtest.Password(soc.Email))
		wantBody(t, "our cases", s.Get("/our-cases"), 200, c.Ref, title, "TLP:AMBER", cat.T("en", "casemsg.status.new", nil),
			cat.T("en", "casemsg.our.last_csirt", nil))
		res = s.Get(ourPage)
		wantBody(t, "our case", res, 200, "TLP:AMBER – ", "Strictsecret", "TLP:AMBER+STRICT", `value="AMBER+STRICT" checked`)
		if strings.Contains(res.Body, "Redsecret") {
			t.Errorf("the member reads the RED message meant for the CISO")
		}
		wantBody(t, "our case for the CISO", e.Login(t, ciso.Email, webtest.Password(ciso.Email)).Get(ourPage), 200, "Redsecret", "Strictsecret")
		res = s.PostForm(ourPage, url.Values{"tlp": {"AMBER+STRICT"}, "body": {""}})
		wantBody(t, "empty reply", res, http.StatusUnprocessableEntity, cat.T("en", "err.casemsg.body_missing", nil), `href="#body"`)
		wantRedirect(t, "reply", s.PostForm(ourPage, url.Values{"tlp": {"GREEN"}, "body": {"Hosts isolated, replysecret"}}), "/en"+ourPage)
		wantBody(t, "thread with the reply", s.Get(ourPage), 200, "Hosts isolated", "TLP:GREEN", cat.T("en", "casemsg.from.org", map[string]any{"org": grid.Name}))
		subject, text := apubMail(t, apubWaitMail(t, smtp, ana.Email, 1)[0])
		if !strings.HasPrefix(subject, "[TLP:GREEN] "+c.Ref+": ") || strings.Contains(text, "replysecret") ||
			!strings.Contains(text, "https://belfry.example/en"+staffPage) {
			t.Errorf("mail to the assignee: %q\n%s", subject, text)
		}
		wantBody(t, "staff page with the reply", a.Get(staffPage), 200, "replysecret")

		// Another organisation sees nothing of it, by page or API, and cannot write.
		b := e.Login(t, intruder.Email, webtest.Password(intruder.Email))
		res = b.Get("/our-cases")
		wantBody(t, "intruder's list", res, 200, cat.T("en", "casemsg.our.none", nil))
		if strings.Contains(res.Body, c.Ref) {
			t.Error("the intruder's list shows A's case")
		}
		for _, r := range []*webtest.Response{b.Get(ourPage), b.PostForm(ourPage, url.Values{"body": {"x"}}), b.Get(staffPage),
			b.PostForm(staffPage, url.Values{"organisation_id": {strconv.FormatInt(water.ID, 10)}, "body": {"x"}})} {
			if r.StatusCode != http.StatusNotFound && r.StatusCode != http.StatusForbidden || strings.Contains(r.Body, "secret") {
				t.Errorf("intruder's request = %d", r.StatusCode)
			}
		}
		bAPI := e.API(t, e.Token(t, intruder, "read", "write"))
		for _, r := range []*webtest.Response{bAPI.Do("GET", fmt.Sprintf("/api/v1/our-cases/%d/messages", c.ID), nil),
			bAPI.Do("POST", fmt.Sprintf("/api/v1/our-cases/%d/messages", c.ID), map[string]any{"body": "x"}),
			bAPI.Do("GET", "/api/v1"+staffPage, nil)} {
			if r.StatusCode != http.StatusNotFound && r.StatusCode != http.StatusForbidden || strings.Contains(r.Body, "secret") {
				t.Errorf("intruder's API request = %d %s", r.StatusCode, r.Body)
			}
		}

		// The API: the staff send and list, the organisation lists and answers; every message carries its label.
		staffAPI := e.API(t, e.Token(t, ana, "read", "write"))
		res = staffAPI.Do("POST", "/api/v1"+staffPage, map[string]any{"organisation_id": grid.ID, "tlp": "RED", "body": "x"})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `"field":"recipients"`) {
			t.Errorf("API RED without recipients = %d %s", res.StatusCode, res.Body)
		}
		var sent cases.Message
		res = staffAPI.Do("POST", "/api/v1"+staffPage, map[string]any{"organisation_id": grid.ID, "body": "Case label by default"})
		if res.JSON(t, &sent); res.StatusCode != http.StatusCreated || sent.TLP != "AMBER" || sent.Direction != cases.FromCSIRT {
			t.Errorf("API send = %d %s", res.StatusCode, res.Body)
		}
		var all struct{ Items []cases.Message }
		staffAPI.Do("GET", "/api/v1"+staffPage, nil).JSON(t, &all)
		if len(all.Items) != 4 || all.Items[0].TLP != "RED" || len(all.Items[0].Recipients) != 1 || all.Items[2].Direction != cases.FromOrganisation {
			t.Errorf("API staff list %+v", all.Items)
		}
		if res := staffAPI.Do("GET", "/api/v1/our-cases", nil); res.StatusCode != http.StatusForbidden {
			t.Errorf("staff GET our-cases = %d", res.StatusCode)
		}
		socAPI := e.API(t, e.Token(t, soc, "read", "write"))
		var list struct {
			Items []cases.OurCase
			More  bool
		}
		socAPI.Do("GET", "/api/v1/our-cases", nil).JSON(t, &list)
		if len(list.Items) != 1 || list.Items[0].Ref != c.Ref || list.Items[0].TLP != "AMBER" || list.More || list.Items[0].LastFrom != cases.FromCSIRT {
			t.Errorf("API our cases %+v", list)
		}
		var thread struct {
			Case  cases.OurCase
			Items []cases.Message
		}
		socAPI.Do("GET", fmt.Sprintf("/api/v1/our-cases/%d/messages", c.ID), nil).JSON(t, &thread)
		if thread.Case.TLP != "AMBER" || len(thread.Items) != 3 || thread.Items[0].TLP != "AMBER+STRICT" || strings.Contains(fmt.Sprint(thread.Items), "Redsecret") {
			t.Errorf("API thread %+v", thread)
		}
		var reply cases.Message
		res = socAPI.Do("POST", fmt.Sprintf("/api/v1/our-cases/%d/messages", c.ID), map[string]any{"body": "Thanks"})
		if res.JSON(t, &reply); res.StatusCode != http.StatusCreated || reply.TLP != "AMBER" || reply.OrgID != grid.ID {
			t.Errorf("API reply = %d %s", res.StatusCode, res.Body)
		}
		if res := e.API(t, e.Token(t, soc, "read")).Do("POST", fmt.Sprintf("/api/v1/our-cases/%d/messages", c.ID), map[string]any{"body": "x"}); res.StatusCode != http.StatusForbidden {
			t.Errorf("read-only token replies = %d", res.StatusCode)
		}
		apubWaitMail(t, smtp, ana.Email, 2)
	})
}
