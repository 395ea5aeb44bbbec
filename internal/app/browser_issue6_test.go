package app_test

import (
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/belfry-cert/belfry/internal/cases"
	"github.com/belfry-cert/belfry/internal/crisis"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/identity"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// TestBrowserCaseToCrisis drives the whole journey of issue 6 in headless
// Chromium with JavaScript disabled, in English and in French: a member
// of an entity files the early warning of an NIS2 incident; analyst A
// takes it to a case with the ransomware template, marks a task done and
// sends the organisation a message, which the member answers at
// /our-cases; a crisis manager opens the case, follows "Declare a crisis
// from this case", declares it at a level with a reason, adds the
// organisation with access to the situation reports only, records a
// decision and an action, writes a situation report, publishes it with
// e-mail and opens its HTML export, then stands the crisis down and
// closes it; A closes the case with a resolution; the member reads the
// published report on the crisis's page and sees no decision log. The
// API then shows the crisis closed with its case and the case closed.
// Every portal page gets regCheckPage and checkLandmarks.
func TestBrowserCaseToCrisis(t *testing.T) {
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

	e := webtest.New(t, dbtest.SQLite(t), false)
	T := func(lang, key string, args map[string]any) string { return e.App.Catalog.T(lang, key, args) }
	var authorityID int64
	if err := e.App.DB.QueryRow(t.Context(), `SELECT id FROM organisations WHERE kind = 'authority' ORDER BY id LIMIT 1`).Scan(&authorityID); err != nil {
		t.Fatal(err)
	}
	// No dots in the local parts: header names must not look like message keys.
	anaA := e.User(t, authorityID, "analyst-a@authority.example", "analyst")
	manager := e.User(t, authorityID, "crisis-manager@authority.example", "crisis_manager")

	type journey struct {
		org, member, title             string
		message, reply, resolution     string
		reason, decision, basis        string
		action, situation, impact      string
		orgID                          int64
		incidentRef                    string
		caseBase, caseID, caseRef      string // /{lang}/cases/{id}, its id, CASE-…
		crisisBase, crisisID, sitrepID string // /{lang}/crises/{id}, its id, the sitrep's id
	}
	journeys := map[string]*journey{
		"en": {org: "Harbour Grid", member: "soc-en@harbour-grid.example",
			title:      "Ransomware on the control centre of the harbour grid",
			message:    "Please send us the ransom note and keep the control centre offline.",
			reply:      "The ransom note is on its way by the secure channel.",
			resolution: "Restored from backups; the crisis is closed.",
			reason:     "Two substations are out; national impact is likely.",
			decision:   "Switch the harbour grid to manual operation.",
			basis:      "Advice of the grid operator and the CSIRT.",
			action:     "Share the indicators with the sector",
			situation:  "The control centre is encrypted; the grid runs by hand.",
			impact:     "Two substations out of remote control."},
		"fr": {org: "Réseau Portuaire", member: "soc-fr@reseau-portuaire.example",
			title:      "Rançongiciel sur le centre de conduite du réseau portuaire",
			message:    "Envoyez-nous la demande de rançon et gardez le centre de conduite hors ligne.",
			reply:      "La demande de rançon arrive par le canal sécurisé.",
			resolution: "Restauré depuis les sauvegardes ; la crise est close.",
			reason:     "Deux sous-stations sont à l'arrêt ; impact national probable.",
			decision:   "Passer le réseau portuaire en conduite manuelle.",
			basis:      "Avis du gestionnaire de réseau et du CSIRT.",
			action:     "Partager les indicateurs avec le secteur",
			situation:  "Le centre de conduite est chiffré ; le réseau est conduit à la main.",
			impact:     "Deux sous-stations hors de la conduite à distance."},
	}
	for _, j := range journeys {
		org := e.Org(t, j.org, "entity")
		mem := e.User(t, org.ID, j.member, "member")
		j.orgID = org.ID
		j.incidentRef = fileEarlyWarning(t, e, mem, j.title, "Control centre encrypted; operations on manual control.", "browser-issue6-"+j.member)
	}

	shots := t.TempDir()
	b := newBrowser(t, exe, e.Srv.URL, 300*time.Second)
	b.do(t, "viewport 1280", chromedp.EmulateViewport(1280, 900))

	step, broken := journeySteps(t)
	check := func(t *testing.T, l string) {
		t.Helper()
		regCheckPage(t, b, l)
		b.checkLandmarks(t)
	}
	signIn := func(t *testing.T, l, email string) {
		t.Helper()
		b.open(t, "/"+l+"/login")
		check(t, l)
		b.login(t, email, webtest.Password(email))
		if p := b.path(t); p != "/"+l+"/" && p != "/"+l {
			t.Fatalf("after sign-in of %s at %s (%s), want /%s/", email, p, regErrorText(t, b), l)
		}
		check(t, l)
	}
	// follow clicks the single element sel and expects to land on want.
	follow := func(t *testing.T, l, sel, want string) {
		t.Helper()
		b.submit(t, sel, http.StatusOK)
		if p := b.path(t); p != want {
			t.Fatalf("%s leads to %s (%s), want %s", sel, p, regErrorText(t, b), want)
		}
		check(t, l)
	}
	// posted checks the page after a successful POST: where it landed, no
	// errors, the notice.
	posted := func(t *testing.T, l, want, flash string) {
		t.Helper()
		if p := b.path(t); p != want || eval[int](t, b, `document.querySelectorAll('.error-summary').length`) != 0 {
			t.Fatalf("after the form at %s (%s), want %s", p, regErrorText(t, b), want)
		}
		check(t, l)
		regCheckFlash(t, b, T(l, flash, nil))
	}
	texts := func(t *testing.T, sel string) []string {
		t.Helper()
		return eval[[]string](t, b, fmt.Sprintf(`[...document.querySelectorAll(%q)].map(e => e.innerText.trim())`, sel))
	}
	caseRE := regexp.MustCompile(`^/[a-z]{2}/cases/(\d+)$`)
	crisisRE := regexp.MustCompile(`^/[a-z]{2}/crises/(\d+)$`)
	sitrepRE := regexp.MustCompile(`^/[a-z]{2}/crises/\d+/sitreps/(\d+)$`)

	for _, l := range []string{"en", "fr"} {
		j := journeys[l]
		tr := func(key string) string { return T(l, key, nil) }
		// crisisTab follows the crisis's sub-navigation to the page suffix.
		crisisTab := func(t *testing.T, suffix, key string) {
			t.Helper()
			sel := fmt.Sprintf(`main nav.case-nav a[href=%q]`, j.crisisBase+suffix)
			if s := b.text(t, sel); s != tr(key) {
				t.Errorf("the crisis's tab to %s is named %q, want %q", j.crisisBase+suffix, s, tr(key))
			}
			follow(t, l, sel, j.crisisBase+suffix)
			if c := b.attr(t, sel, "aria-current"); c != "page" {
				t.Errorf("the current tab %s has aria-current %q, want page", j.crisisBase+suffix, c)
			}
		}

		step(l, "case from the early warning", func(t *testing.T) {
			// Task titles follow the analyst's account language.
			if _, err := e.App.Identity.UpdateUser(webtest.System(), anaA.ID, identity.UserInput{Locale: &l}); err != nil {
				t.Fatal(err)
			}
			signIn(t, l, anaA.Email)
			follow(t, l, fmt.Sprintf(`header nav.main-nav a[href="/%s/cases"]`, l), "/"+l+"/cases")
			follow(t, l, fmt.Sprintf(`main a[href="/%s/cases/new"]`, l), "/"+l+"/cases/new")
			b.sendKeys(t, "#incident", j.incidentRef)
			regTick(t, b, `main input[name=template][value="ransomware"]`)
			b.submit(t, `main form[action$="/cases/new"] button[type=submit]`, http.StatusOK)
			p := b.path(t)
			m := caseRE.FindStringSubmatch(p)
			if m == nil {
				t.Fatalf("after opening the case at %s (%s), want /%s/cases/{id}", p, regErrorText(t, b), l)
			}
			j.caseBase, j.caseID = p, m[1]
			check(t, l)
			regCheckFlash(t, b, tr("casesui.flash.created"))
			j.caseRef = b.text(t, "main .caption")
			if !regexp.MustCompile(`^CASE-\d{4}-\d{6}$`).MatchString(j.caseRef) {
				t.Errorf("case reference %q, want CASE-YYYY-NNNNNN", j.caseRef)
			}
			if page := b.text(t, "main"); !strings.Contains(page, j.org) || !strings.Contains(page, j.incidentRef) {
				t.Errorf("the case lacks the organisation %q or the incident %q", j.org, j.incidentRef)
			}
		})

		step(l, "task done", func(t *testing.T) {
			follow(t, l, fmt.Sprintf(`main nav.case-nav a[href=%q]`, j.caseBase+"/tasks"), j.caseBase+"/tasks")
			if n := eval[int](t, b, `document.querySelectorAll('main li.case-task').length`); n != 6 {
				t.Fatalf("%d tasks, want the ransomware template's 6", n)
			}
			b.submit(t, `main li.case-task:first-child form.inline-form button[name=action][value=done]`, http.StatusOK)
			posted(t, l, j.caseBase+"/tasks", "casesui.flash.task_done")
			if s := texts(t, `main li.case-task:first-child dl .summary-row:first-child dd .tag`); len(s) != 1 || s[0] != tr("casesui.task_status.done") {
				t.Errorf("the first task's status %q, want %q", s, tr("casesui.task_status.done"))
			}
		})

		step(l, "message to the organisation", func(t *testing.T) {
			follow(t, l, fmt.Sprintf(`main nav.case-nav a[href=%q]`, j.caseBase+"/messages"), j.caseBase+"/messages")
			regTick(t, b, `main input[name=tlp][value="AMBER"]`)
			b.sendKeys(t, "#body", j.message)
			b.submit(t, `main form[action$="/messages"] button[type=submit]`, http.StatusOK)
			posted(t, l, j.caseBase+"/messages", "casemsg.flash.sent")
			b.signOut(t)
		})

		step(l, "organisation replies", func(t *testing.T) {
			signIn(t, l, j.member)
			follow(t, l, fmt.Sprintf(`header nav.main-nav a[href="/%s/our-cases"]`, l), "/"+l+"/our-cases")
			our := "/" + l + "/our-cases/" + j.caseID
			follow(t, l, fmt.Sprintf(`main table a[href=%q]`, our), our)
			if msgs := texts(t, "main article"); len(msgs) != 1 || !strings.Contains(msgs[0], j.message) {
				t.Fatalf("the organisation reads %q, want the CSIRT's message %q", msgs, j.message)
			}
			b.sendKeys(t, "#body", j.reply)
			b.submit(t, fmt.Sprintf(`main form[action=%q] button[type=submit]`, our), http.StatusOK)
			posted(t, l, our, "casemsg.flash.sent")
			if msgs := texts(t, "main article"); len(msgs) != 2 || !strings.Contains(msgs[1], j.reply) {
				t.Errorf("the thread after the reply %q, want the reply %q last", msgs, j.reply)
			}
			b.signOut(t)
		})

		step(l, "declare from the case", func(t *testing.T) {
			signIn(t, l, manager.Email)
			// The crisis manager reaches the case from the cases list.
			follow(t, l, fmt.Sprintf(`header nav.main-nav a[href="/%s/cases"]`, l), "/"+l+"/cases")
			follow(t, l, fmt.Sprintf(`main table a[href=%q]`, j.caseBase), j.caseBase)
			declare := fmt.Sprintf(`main a[href="/%s/crises/new?case=%s"]`, l, j.caseRef)
			if s := b.text(t, declare); s != tr("crisisui.case.declare") {
				t.Errorf("the case's crisis button says %q, want %q", s, tr("crisisui.case.declare"))
			}
			follow(t, l, declare, "/"+l+"/crises/new")
			if h := b.text(t, "h1"); h != tr("crisisui.new.title") {
				t.Errorf("new crisis h1 %q, want %q", h, tr("crisisui.new.title"))
			}
			// The form starts from the case.
			vals := eval[[]string](t, b, `['case_ref', 'title', 'tlp'].map(id => document.getElementById(id).value)`)
			wantTitle := j.title + " (" + j.incidentRef + ")"
			if len(vals) != 3 || vals[0] != j.caseRef || vals[1] != wantTitle || vals[2] != "AMBER" {
				t.Errorf("the new crisis starts with case, title, TLP %q, want [%s %q AMBER]", vals, j.caseRef, wantTitle)
			}
			regTick(t, b, `main input[name=level][value="national_impact"]`)
			b.sendKeys(t, "#reason", j.reason)
			b.submit(t, `main form[action$="/crises/new"] button[type=submit]`, http.StatusOK)
			p := b.path(t)
			m := crisisRE.FindStringSubmatch(p)
			if m == nil {
				t.Fatalf("after declaring at %s (%s), want /%s/crises/{id}", p, regErrorText(t, b), l)
			}
			j.crisisBase, j.crisisID = p, m[1]
			check(t, l)
			regCheckFlash(t, b, tr("crisisui.flash.declared"))
			if h := b.text(t, "h1"); h != wantTitle {
				t.Errorf("crisis h1 %q, want the case's title %q", h, wantTitle)
			}
			if s := texts(t, "main .case-tlp-line .tlp"); len(s) != 2 || s[0] != "TLP:AMBER" || s[1] != "TLP:AMBER" {
				t.Errorf("TLP labels at the top and bottom of the crisis: %q, want TLP:AMBER twice", s)
			}
			level := T(l, "crisisui.level_n", map[string]any{"number": 3, "name": e.App.Crises.LevelName(l, "national_impact")})
			facts := b.text(t, "main ul.case-facts")
			if !strings.Contains(facts, level) || !strings.Contains(facts, tr("crisisui.status.open")) {
				t.Errorf("the crisis's facts %q lack the level %q or the status %q", facts, level, tr("crisisui.status.open"))
			}
			page := b.text(t, "main")
			for _, w := range []string{j.org, j.caseRef, j.incidentRef, j.reason} {
				if !strings.Contains(page, w) {
					t.Errorf("the situation picture lacks %q", w)
				}
			}
			b.saveScreenshot(t, shots, "issue6-"+l+"-crisis-1280.png")
		})

		step(l, "organisation takes part", func(t *testing.T) {
			crisisTab(t, "/participants", "crisisui.tab.participants")
			b.do(t, "choose the organisation", chromedp.SetValue(chromedp.CSS(`main #organisation_id`), fmt.Sprint(j.orgID)))
			b.do(t, "choose the access", chromedp.SetValue(chromedp.CSS(`main #org_access`), "sitreps"))
			b.submit(t, `main form:has(input[name=kind][value=organisation]) button[type=submit]`, http.StatusOK)
			posted(t, l, j.crisisBase+"/participants", "crisisui.flash.participant_added")
			rows := texts(t, "main table tbody tr")
			found := false
			for _, r := range rows {
				if strings.Contains(r, j.org) {
					found = true
					if !strings.Contains(r, tr("crisisui.access.sitreps")) {
						t.Errorf("the organisation's row %q lacks %q", r, tr("crisisui.access.sitreps"))
					}
				}
			}
			if !found {
				t.Errorf("participants %q lack %q", rows, j.org)
			}
		})

		step(l, "decision", func(t *testing.T) {
			crisisTab(t, "/decisions", "crisisui.tab.decisions")
			b.sendKeys(t, "#decision", j.decision)
			b.sendKeys(t, "#basis", j.basis)
			b.submit(t, `main form[action$="/decisions"] button[type=submit]`, http.StatusOK)
			posted(t, l, j.crisisBase+"/decisions", "crisisui.flash.decision")
			if rows := texts(t, "main table tbody tr"); len(rows) != 1 || !strings.Contains(rows[0], j.decision) || !strings.Contains(rows[0], j.basis) {
				t.Errorf("the decision log %q, want the decision %q on %q", rows, j.decision, j.basis)
			}
		})

		step(l, "action", func(t *testing.T) {
			crisisTab(t, "/actions", "crisisui.tab.actions")
			b.sendKeys(t, "#title", j.action)
			b.do(t, "choose the owner", chromedp.SetValue(chromedp.CSS(`main #owner_id`), fmt.Sprint(anaA.ID)))
			b.submit(t, `main form[action$="/actions"] button[type=submit]`, http.StatusOK)
			posted(t, l, j.crisisBase+"/actions", "crisisui.flash.action_added")
			rows := texts(t, "main table tbody tr")
			if len(rows) != 1 || !strings.Contains(rows[0], j.action) || !strings.Contains(rows[0], anaA.Name) || !strings.Contains(rows[0], tr("crisisui.action_status.open")) {
				t.Errorf("the actions %q, want %q, open, owned by %s", rows, j.action, anaA.Name)
			}
		})

		step(l, "sitrep", func(t *testing.T) {
			crisisTab(t, "/sitreps", "crisisui.tab.sitreps")
			follow(t, l, fmt.Sprintf(`main a[href=%q]`, j.crisisBase+"/sitreps/new"), j.crisisBase+"/sitreps/new")
			b.sendKeys(t, "#situation", j.situation)
			b.sendKeys(t, "#impact", j.impact)
			b.submit(t, `#sitrep-form button[type=submit]`, http.StatusOK)
			p := b.path(t)
			m := sitrepRE.FindStringSubmatch(p)
			if m == nil || !strings.HasPrefix(p, j.crisisBase+"/") {
				t.Fatalf("after saving the draft at %s (%s), want %s/sitreps/{id}", p, regErrorText(t, b), j.crisisBase)
			}
			j.sitrepID = m[1]
			posted(t, l, p, "crisisui.flash.sitrep_saved")
			if h := b.text(t, "h1"); h != tr("crisisui.sitrep.draft_title") {
				t.Errorf("draft h1 %q, want %q", h, tr("crisisui.sitrep.draft_title"))
			}
			// Empty, the actions and decisions are written from the crisis.
			if v := eval[string](t, b, `document.getElementById('decisions').value`); !strings.Contains(v, j.decision) {
				t.Errorf("the draft's decisions %q lack %q", v, j.decision)
			}
			if v := eval[string](t, b, `document.getElementById('actions').value`); !strings.Contains(v, j.action) {
				t.Errorf("the draft's actions %q lack %q", v, j.action)
			}
			// Published with e-mail: the test instance has no SMTP server,
			// the messages wait in the queue.
			if !eval[bool](t, b, `document.getElementById('distribute').checked`) {
				regTick(t, b, "#distribute")
			}
			b.submit(t, `main form[action$="/publish"] button[type=submit]`, http.StatusOK)
			posted(t, l, p, "crisisui.flash.sitrep_published")
			heading := b.text(t, "h1")
			if !strings.Contains(heading, "1") {
				t.Errorf("the published sitrep's h1 %q has no number 1", heading)
			}
			sections := texts(t, "main .crisis-sitrep section")
			if len(sections) < 6 {
				t.Errorf("%d sections in the sitrep %q, want the fixed structure", len(sections), sections)
			}
			all := strings.Join(sections, "\n")
			for _, w := range []string{j.situation, j.impact, j.decision, j.action} {
				if !strings.Contains(all, w) {
					t.Errorf("the published sitrep lacks %q", w)
				}
			}
			b.saveScreenshot(t, shots, "issue6-"+l+"-sitrep-1280.png")

			// The PDF-ready HTML export: a standalone page, not a portal
			// page (no header or footer), with the label.
			export := fmt.Sprintf(`main a[href=%q]`, p+"/export?format=html")
			b.submit(t, export, http.StatusOK)
			if s := eval[string](t, b, `document.body.innerText`); !strings.Contains(s, "TLP:AMBER") || !strings.Contains(s, j.situation) {
				t.Errorf("the HTML export lacks TLP:AMBER or the situation: %.300q", s)
			}
			if lang := eval[string](t, b, `document.documentElement.getAttribute('lang') ?? ''`); lang != l {
				t.Errorf("the export's <html lang=%q>, want %q", lang, l)
			}
			b.open(t, p)
			check(t, l)
		})

		step(l, "stand down and close", func(t *testing.T) {
			crisisTab(t, "", "crisisui.tab.overview")
			for _, st := range []string{"stood_down", "closed"} {
				b.do(t, "choose "+st, chromedp.SetValue(chromedp.CSS(`main #status`), st))
				b.submit(t, `main form[action$="/status"] button[type=submit]`, http.StatusOK)
				posted(t, l, j.crisisBase, "crisisui.flash.status")
				if s := b.text(t, "main ul.case-facts"); !strings.Contains(s, tr("crisisui.status."+st)) {
					t.Errorf("the crisis's facts %q lack %q", s, tr("crisisui.status."+st))
				}
			}
			b.signOut(t)
		})

		step(l, "close the case", func(t *testing.T) {
			signIn(t, l, anaA.Email)
			follow(t, l, fmt.Sprintf(`header nav.main-nav a[href="/%s/cases"]`, l), "/"+l+"/cases")
			follow(t, l, fmt.Sprintf(`main table a[href=%q]`, j.caseBase), j.caseBase)
			b.do(t, "choose closed", chromedp.SetValue(chromedp.CSS(`main #status`), "closed"))
			b.sendKeys(t, "#resolution", j.resolution)
			b.submit(t, fmt.Sprintf(`main form[action=%q] button[type=submit]`, j.caseBase), http.StatusOK)
			posted(t, l, j.caseBase, "casesui.flash.updated")
			if s := b.text(t, "main ul.case-facts"); !strings.Contains(s, tr("casesui.status.closed")) {
				t.Errorf("the case's facts %q lack %q", s, tr("casesui.status.closed"))
			}
			if !strings.Contains(b.text(t, "main dl.summary-list"), j.resolution) {
				t.Errorf("the case does not show its resolution %q", j.resolution)
			}
			b.signOut(t)
		})

		step(l, "organisation reads the sitrep", func(t *testing.T) {
			signIn(t, l, j.member)
			// Participants reach their crises by link.
			b.open(t, j.crisisBase)
			check(t, l)
			tabs := eval[[]string](t, b, `[...document.querySelectorAll('main nav.case-nav a')].map(a => a.getAttribute('href'))`)
			if strings.Join(tabs, " ") != j.crisisBase+" "+j.crisisBase+"/sitreps" {
				t.Errorf("a sitreps participant's tabs %q, want the situation and the situation reports", tabs)
			}
			if s := b.text(t, "main ul.case-facts"); !strings.Contains(s, tr("crisisui.status.closed")) || !strings.Contains(s, tr("crisisui.access.sitreps")) {
				t.Errorf("the organisation's facts %q lack %q or %q", s, tr("crisisui.status.closed"), tr("crisisui.access.sitreps"))
			}
			page := b.text(t, "main")
			if strings.Contains(page, j.decision) || strings.Contains(page, tr("crisisui.view.latest_decisions")) {
				t.Errorf("the organisation sees the decision log on the situation page: %q", page)
			}
			// The level in the page's language, although the member's
			// account has none (the service names it in English).
			level := T(l, "crisisui.level_n", map[string]any{"number": 3, "name": e.App.Crises.LevelName(l, "national_impact")})
			if s := b.text(t, "main ul.case-facts"); !strings.Contains(s, level) {
				t.Errorf("the organisation's facts %q lack the level %q", s, level)
			}
			crisisTab(t, "/sitreps", "crisisui.tab.sitreps")
			if rows := texts(t, "main table tbody tr"); len(rows) != 1 || !strings.Contains(rows[0], level) || !strings.Contains(rows[0], "TLP:AMBER") {
				t.Errorf("the organisation's sitreps %q, want the published one at %q, TLP:AMBER", rows, level)
			}
			crisisTab(t, "", "crisisui.tab.overview")
			last := fmt.Sprintf(`main a[href=%q]`, j.crisisBase+"/sitreps/"+j.sitrepID)
			if s := b.text(t, last); s != T(l, "crisis.sitrep.title", map[string]any{"number": 1}) {
				t.Errorf("the last sitrep's link says %q", s)
			}
			follow(t, l, last, j.crisisBase+"/sitreps/"+j.sitrepID)
			if s := strings.Join(texts(t, "main .crisis-sitrep section"), "\n"); !strings.Contains(s, j.situation) {
				t.Errorf("the organisation's sitrep %q lacks %q", s, j.situation)
			}
			b.saveScreenshot(t, shots, "issue6-"+l+"-org-sitrep-1280.png")
			// The decision log is not theirs: 403.
			res := run(t, b, "open decisions", chromedp.NavigateResponse(b.base+j.crisisBase+"/decisions"))
			if res == nil || res.Status != http.StatusForbidden {
				t.Errorf("the organisation's GET of the decisions answered %v, want 403", res)
			}
			check(t, l)
			if strings.Contains(b.text(t, "main"), j.decision) {
				t.Errorf("the refusal shows the decision")
			}
			b.open(t, "/"+l+"/")
			b.signOut(t)
		})

		step(l, "API", func(t *testing.T) {
			api := e.API(t, e.Token(t, manager, "read"))
			res := api.Do("GET", "/api/v1/crises/"+j.crisisID, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET crisis: %d %s", res.StatusCode, res.Body)
			}
			var c crisis.Crisis
			res.JSON(t, &c)
			if c.Status != "closed" || c.ClosedAt == nil || c.CaseRef != j.caseRef || c.Level != "national_impact" || c.TLP != "AMBER" {
				t.Errorf("the crisis through the API: status %q closed at %v, case %q, level %q, TLP %q; want closed, %s, national_impact, AMBER",
					c.Status, c.ClosedAt, c.CaseRef, c.Level, c.TLP, j.caseRef)
			}
			res = api.Do("GET", "/api/v1/crises/"+j.crisisID+"/picture", nil)
			var pic crisis.Picture
			res.JSON(t, &pic)
			links := map[string]bool{}
			for _, k := range pic.Links {
				links[k.Kind+":"+k.Target] = true
			}
			if !links["case:"+j.caseRef] || !links["incident:"+j.incidentRef] {
				t.Errorf("the crisis's links %+v lack case %s or incident %s", pic.Links, j.caseRef, j.incidentRef)
			}
			res = api.Do("GET", "/api/v1/crises/"+j.crisisID+"/sitreps", nil)
			if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `"published"`) {
				t.Errorf("GET sitreps: %d %.300s", res.StatusCode, res.Body)
			}

			ca := e.API(t, e.Token(t, anaA, "read"))
			res = ca.Do("GET", "/api/v1/cases/"+j.caseID, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET case: %d %s", res.StatusCode, res.Body)
			}
			var cs cases.Case
			res.JSON(t, &cs)
			if cs.Status != "closed" || cs.Resolution != j.resolution || cs.ClosedAt == nil || cs.Ref != j.caseRef {
				t.Errorf("the case through the API: %s status %q resolution %q closed at %v; want %s closed with %q", cs.Ref, cs.Status, cs.Resolution, cs.ClosedAt, j.caseRef, j.resolution)
			}
		})

		if broken[l] != "" {
			// Leave the language's session so that the next starts signed out.
			b.open(t, "/"+l+"/")
			if eval[int](t, b, `document.querySelectorAll('header form[action$="/logout"]').length`) == 1 {
				b.signOut(t)
			}
		}
	}
}
