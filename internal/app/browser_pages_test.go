package app_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/cases"
	"github.com/belfry-cert/belfry/internal/csaf/csaftest"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/demo"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// TestBrowserPages opens, in Chromium without JavaScript and in every
// language, the pages of the capabilities built after the browser
// journeys (voluntary notifications, sharing and supervision, the early
// warning, feed runs and events, the significance guidance, the CSAF
// advisories' public pages and editor, the CSIRT's cases and an
// organisation's cases with the CSIRT) with the demonstration data, as the
// person each is for. Every page must pass the structural checks of the
// other browser tests: one h1, the page's language, no raw message key,
// unique ids, every input labelled and every radio or checkbox in a
// fieldset with a legend, no form without novalidate, and one main,
// banner and contentinfo landmark.
func TestBrowserPages(t *testing.T) {
	exe := chromiumPath()
	if exe == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is required under CI=true (apt-get install -y chromium)")
		}
		t.Skip("chromium not installed (apt-get install -y chromium)")
	}
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	csaftest.Use(t) // the advisories' publication validates with the schemas
	db := dbtest.SQLite(t)
	e := webtest.New(t, db, false)
	ctx := t.Context()
	logins, err := demo.Load(ctx, e.App.Identity, e.AdminEmail)
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.LoadRegistry(ctx, e.App.Registry, e.App.Identity); err != nil {
		t.Fatal(err)
	}
	if err := demo.LoadReports(ctx, e.App.Reports, e.App.Identity); err != nil {
		t.Fatal(err)
	}
	if err := demo.LoadVoluntary(ctx, e.App.Voluntary); err != nil {
		t.Fatal(err)
	}
	if err := demo.LoadFeeds(ctx, e.App.Registry, e.App.Feeds, e.App.Intake.Pipeline(), e.App.EarlyWarning); err != nil {
		t.Fatal(err)
	}
	if err := demo.LoadCases(ctx, e.App.Cases, e.App.Identity); err != nil {
		t.Fatal(err)
	}
	if err := demo.LoadAdvisories(ctx, e.App.Advisories, e.App.Identity); err != nil {
		t.Fatal(err)
	}
	password := map[string]string{}
	for _, l := range logins {
		password[l.Email] = l.Password
	}
	id := func(q string) int64 {
		t.Helper()
		var n int64
		if err := db.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	incident := id(`SELECT min(id) FROM incidents`)
	vol := id(`SELECT min(id) FROM voluntary_notifications`)
	run := id(`SELECT min(id) FROM feed_runs`)
	ticket := id(`SELECT min(id) FROM feed_tickets`)
	str := func(q string) string {
		t.Helper()
		var s string
		if err := db.QueryRow(ctx, q).Scan(&s); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return s
	}
	white := str(`SELECT tracking_id FROM advisories WHERE pub_tlp = 'WHITE' ORDER BY id LIMIT 1`)
	amberTID := str(`SELECT tracking_id FROM advisories WHERE pub_tlp = 'AMBER' ORDER BY id LIMIT 1`)
	amber := fmt.Sprintf("/advisories/manage/%d", id(`SELECT id FROM advisories WHERE tlp = 'AMBER' ORDER BY id LIMIT 1`))
	review := fmt.Sprintf("/advisories/manage/%d", id(`SELECT id FROM advisories WHERE state = 'review' ORDER BY id LIMIT 1`))
	// A published advisory taken back to draft by Tim, so that the
	// editor's forms are shown editable to Sofie, with existing rows.
	tim, err := e.App.Identity.UserByEmail(auth.With(ctx, auth.System), "tim.analyst@ccb.example")
	if err != nil {
		t.Fatal(err)
	}
	timCtx := auth.With(ctx, &auth.Principal{UserID: tim.ID, OrgID: tim.OrgID, OrgKind: string(tim.OrgKind), Email: tim.Email, Name: tim.Name, Roles: tim.Roles})
	draftID := id(`SELECT id FROM advisories WHERE pub_tlp = 'WHITE' ORDER BY id LIMIT 1 OFFSET 1`)
	if _, err := e.App.Advisories.Revise(timCtx, draftID); err != nil {
		t.Fatal(err)
	}
	draft := fmt.Sprintf("/advisories/manage/%d", draftID)
	// The first demo case, Brabant Water's ransomware, with a message from
	// Sofie so that both sides show a thread.
	caseID := id(`SELECT min(id) FROM cases`)
	kase := fmt.Sprintf("/cases/%d", caseID)
	obs := id(fmt.Sprintf(`SELECT min(observable_id) FROM case_observables WHERE case_id = %d`, caseID))
	sofie, err := e.App.Identity.UserByEmail(auth.With(ctx, auth.System), "sofie.analyst@ccb.example")
	if err != nil {
		t.Fatal(err)
	}
	an, err := e.App.Identity.UserByEmail(auth.With(ctx, auth.System), "an.peeters@brabantwater.example")
	if err != nil {
		t.Fatal(err)
	}
	sofieCtx := auth.With(ctx, &auth.Principal{UserID: sofie.ID, OrgID: sofie.OrgID, OrgKind: string(sofie.OrgKind), Email: sofie.Email, Name: sofie.Name, Roles: sofie.Roles})
	if _, err := e.App.Cases.SendMessage(sofieCtx, caseID, cases.MessageInput{OrgID: an.OrgID, TLP: "AMBER",
		Body: "Please send us the ransom note and the **hash** of the encryptor."}); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, exe, e.Srv.URL, 5*time.Minute)
	b.do(t, "viewport 1280", chromedp.EmulateViewport(1280, 900))
	for _, who := range []struct {
		email string // "" for a visitor without an account
		pages []string
	}{
		{"", []string{"/voluntary", "/advisories", "/advisories/" + white, "/advisories/subscribe"}},
		{"sofie.analyst@ccb.example", []string{"/voluntary/inbox", fmt.Sprintf("/voluntary/inbox/%d", vol), "/supervision/obligations",
			fmt.Sprintf("/incidents/%d/share", incident), fmt.Sprintf("/incidents/%d/triage", incident), "/feeds/runs",
			fmt.Sprintf("/feeds/runs/%d", run), "/feeds/events", "/early-warning", fmt.Sprintf("/early-warning/tickets/%d", ticket),
			"/advisories/manage", "/advisories/new", "/advisories/import", amber, amber + "/document", amber + "/products",
			amber + "/vulnerabilities", amber + "/vulnerabilities/1", amber + "/audience", amber + "/json", amber + "/preview", review,
			draft, draft + "/document", draft + "/products", draft + "/vulnerabilities", draft + "/vulnerabilities/1",
			draft + "/vulnerabilities/new", draft + "/json", draft + "/preview",
			"/cases", "/cases/new", "/cases/tasks", kase, kase + "/tasks", kase + "/observables", fmt.Sprintf("%s/observables/%d", kase, obs),
			kase + "/timeline", kase + "/messages"}},
		{e.AdminEmail, []string{"/sector-authorities"}},
		{"an.peeters@brabantwater.example", []string{"/early-warning", "/our-events", fmt.Sprintf("/early-warning/tickets/%d", ticket),
			fmt.Sprintf("/incidents/%d/significance", incident), "/advisories/" + amberTID, "/our-cases", fmt.Sprintf("/our-cases/%d", caseID)}},
	} {
		if who.email != "" {
			pw := password[who.email]
			if pw == "" {
				t.Fatalf("no demo password for %s", who.email)
			}
			b.open(t, "/en/login")
			b.login(t, who.email, pw)
			if p := b.path(t); strings.HasSuffix(p, "/login") {
				t.Fatalf("%s could not sign in: %s", who.email, regErrorText(t, b))
			}
		}
		for _, page := range who.pages {
			for _, l := range []string{"nl", "fr", "de", "en"} {
				t.Run(fmt.Sprintf("%s %s %s", strings.SplitN(who.email+"@visitor", "@", 2)[0], page, l), func(t *testing.T) {
					b.open(t, "/"+l+page)
					regCheckPage(t, b, l)
					b.checkLandmarks(t)
				})
			}
		}
		if who.email != "" {
			b.signOut(t)
		}
	}
}
