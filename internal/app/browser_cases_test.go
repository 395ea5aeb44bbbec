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

	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/identity"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// TestBrowserCases drives the CSIRT cases journey of issue 6 in headless
// Chromium with JavaScript disabled. An entity has filed the early warning
// of an NIS2 incident. In English and in Dutch, analyst A follows the
// main navigation to the cases, opens "New case", takes the incident into
// a case with the ransomware template by its reference, sees the tasks
// with their due times and service levels, marks the first done, adds an
// IP address as an observable (in the second language it is found in the
// first language's case too), adds a Markdown note, and sends the
// affected organisation a TLP:AMBER message from the case's Messages tab.
// A member of the entity follows its navigation to its cases with the
// CSIRT, reads the message and replies. A sees the reply on the Messages
// tab and closes the case: first without a resolution (one error round:
// the error summary focused, the title prefixed), then with one. Every
// page gets regCheckPage and checkLandmarks. Like TestBrowser it needs
// Debian's chromium: locally the test skips without it, under CI=true it
// fails.
func TestBrowserCases(t *testing.T) {
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

	// One entity per language, each with a member who files the early
	// warning of an incident, as the reporting demo does.
	type journey struct {
		org, member, title                   string
		ip, note, noteStrong, message, reply string
		resolution                           string
		orgID                                int64
		incidentRef                          string
	}
	journeys := map[string]*journey{
		"en": {org: "Harbour Water", member: "soc-en@harbour-water.example",
			title:   "Ransomware on the SCADA historians of the harbour pumping station",
			ip:      "203.0.113.45",
			note:    "Called the SOC at 10:05.\n\n- Historians isolated\n- **No payment** intended",
			message: "Please send us the ransom note and the encryptor's hash. Keep the historians offline.",
			reply:   "The ransom note and the hash are on their way by the secure channel.", resolution: "Restored from backups; the indicators are shared.",
			noteStrong: "No payment"},
		"nl": {org: "Waterbedrijf Schelde", member: "soc-nl@waterbedrijf-schelde.example",
			title:   "Ransomware op de telemetrieservers van de pompstations",
			ip:      "203.0.113.45", // the English case's address: now in one other case
			note:    "SOC gebeld om 10.05 uur.\n\n- Servers geïsoleerd\n- **Geen betaling** gepland",
			message: "Stuur ons het losgeldbriefje en de hash van de versleutelaar. Houd de servers offline.",
			reply:   "Het losgeldbriefje en de hash komen via het beveiligde kanaal.", resolution: "Hersteld uit back-ups; de indicatoren zijn gedeeld.",
			noteStrong: "Geen betaling"},
	}
	for _, j := range journeys {
		org := e.Org(t, j.org, "entity")
		mem := e.User(t, org.ID, j.member, "member")
		j.orgID = org.ID
		j.incidentRef = fileEarlyWarning(t, e, mem, j.title, "Servers encrypted; operations on local control.", "browser-cases-"+j.member)
	}

	shots := t.TempDir()
	b := newBrowser(t, exe, e.Srv.URL, 200*time.Second)
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
	// followNav follows the main navigation's link named by key.
	followNav := func(t *testing.T, l, key, want string) {
		t.Helper()
		name := T(l, key, nil)
		href := eval[[]string](t, b, fmt.Sprintf(`[...document.querySelectorAll('header nav.main-nav a')].filter(a => a.innerText.trim() === %q).map(a => a.getAttribute('href'))`, name))
		if len(href) != 1 || href[0] != want {
			t.Fatalf("main navigation links %q named %q, want one to %s", href, name, want)
		}
		b.submit(t, fmt.Sprintf(`header nav.main-nav a[href=%q]`, want), http.StatusOK)
		if p := b.path(t); p != want {
			t.Fatalf("the navigation leads to %s, want %s", p, want)
		}
		check(t, l)
	}
	idRE := regexp.MustCompile(`^/[a-z]{2}/cases/(\d+)$`)
	dueInRE := regexp.MustCompile(`^\d+$`)

	for _, l := range []string{"en", "nl"} {
		j := journeys[l]
		tr := func(key string) string { return T(l, key, nil) }
		var (
			base   string // /{lang}/cases/{id}
			caseID string
			ref    string // CASE-YYYY-NNNNNN
		)
		// tab follows the case's sub-navigation to the page suffix.
		tab := func(t *testing.T, suffix, key string) {
			t.Helper()
			sel := fmt.Sprintf(`main nav.case-nav a[href=%q]`, base+suffix)
			if s := b.text(t, sel); s != tr(key) {
				t.Errorf("the case's tab to %s is named %q, want %q", base+suffix, s, tr(key))
			}
			b.submit(t, sel, http.StatusOK)
			if p := b.path(t); p != base+suffix {
				t.Fatalf("the tab leads to %s, want %s", p, base+suffix)
			}
			check(t, l)
			if c := b.attr(t, sel, "aria-current"); c != "page" {
				t.Errorf("the current tab %s has aria-current %q, want page", base+suffix, c)
			}
		}
		tlpLine := func(t *testing.T) {
			t.Helper()
			if s := eval[[]string](t, b, `[...document.querySelectorAll('main .case-tlp-line .tlp')].map(e => e.innerText.trim())`); len(s) != 2 || s[0] != "TLP:AMBER" || s[1] != "TLP:AMBER" {
				t.Errorf("TLP labels at the top and bottom of the case: %q, want TLP:AMBER twice", s)
			}
		}

		step(l, "open case", func(t *testing.T) {
			// The template's tasks are written in the language of the
			// analyst's account (English when it has none), not the page's:
			// A works in the journey's language.
			if _, err := e.App.Identity.UpdateUser(webtest.System(), anaA.ID, identity.UserInput{Locale: &l}); err != nil {
				t.Fatal(err)
			}
			signIn(t, l, anaA.Email)
			followNav(t, l, "nav.cases", "/"+l+"/cases")
			if h := b.text(t, "h1"); h != tr("casesui.list.title") {
				t.Errorf("list h1 %q, want %q", h, tr("casesui.list.title"))
			}
			newLink := fmt.Sprintf(`main a[href="/%s/cases/new"]`, l)
			if s := b.text(t, newLink); s != tr("casesui.list.new") {
				t.Errorf("the link to a new case is named %q, want %q", s, tr("casesui.list.new"))
			}
			b.submit(t, newLink, http.StatusOK)
			check(t, l)
			if h := b.text(t, "h1"); h != tr("casesui.new.title") {
				t.Errorf("new case h1 %q, want %q", h, tr("casesui.new.title"))
			}
			b.sendKeys(t, "#incident", j.incidentRef)
			regTick(t, b, `main input[name=template][value="ransomware"]`)
			b.submit(t, `main form[action$="/cases/new"] button[type=submit]`, http.StatusOK)
			p := b.path(t)
			m := idRE.FindStringSubmatch(p)
			if m == nil {
				t.Fatalf("after opening the case at %s (%s), want /%s/cases/{id}", p, regErrorText(t, b), l)
			}
			base, caseID = p, m[1]
			check(t, l)
			regCheckFlash(t, b, tr("casesui.flash.created"))
			tlpLine(t)
			if h := b.text(t, "h1"); h != j.title+" ("+j.incidentRef+")" {
				t.Errorf("overview h1 %q, want the incident's title and reference %q", h, j.title+" ("+j.incidentRef+")")
			}
			ref = b.text(t, "main .caption")
			if !regexp.MustCompile(`^CASE-\d{4}-\d{6}$`).MatchString(ref) {
				t.Errorf("case reference %q, want CASE-YYYY-NNNNNN", ref)
			}
			if s := b.text(t, "main ul.case-facts"); !strings.Contains(s, tr("casesui.severity.4")) || !strings.Contains(s, tr("casesui.status.new")) {
				t.Errorf("the case's facts %q lack the template's severity %q or the status %q", s, tr("casesui.severity.4"), tr("casesui.status.new"))
			}
			page := b.text(t, "main")
			for _, w := range []string{j.org, j.incidentRef, tr("casesui.template.ransomware"), "malicious-code/infected-system"} {
				if !strings.Contains(page, w) {
					t.Errorf("the overview lacks %q", w)
				}
			}
			b.saveScreenshot(t, shots, "case-"+l+"-overview-1280.png")
		})

		step(l, "tasks", func(t *testing.T) {
			tab(t, "/tasks", "casesui.tab.tasks")
			tlpLine(t)
			titles := eval[[]string](t, b, `[...document.querySelectorAll('main li.case-task > h2')].map(h => h.innerText.trim())`)
			if len(titles) != 6 {
				t.Fatalf("%d tasks %q, want the ransomware template's 6", len(titles), titles)
			}
			for i, s := range titles {
				if want := tr(fmt.Sprintf("casetmpl.ransomware.%d", i+1)); s != want {
					t.Errorf("task %d is %q, want %q", i+1, s, want)
				}
			}
			// Every task has a due time; the first, critical, is due an
			// hour after opening.
			if n := eval[int](t, b, `document.querySelectorAll('main li.case-task time[datetime]').length`); n != 6 {
				t.Errorf("%d due times, want 6", n)
			}
			first := `main li.case-task:first-child`
			at, err := time.Parse(time.RFC3339, b.attr(t, first+" time[datetime]", "datetime"))
			if err != nil {
				t.Fatalf("the first task's due time: %v", err)
			}
			if d := time.Until(at); d < 50*time.Minute || d > time.Hour {
				t.Errorf("the first task is due at %s, in %s, want in about an hour", at, d.Round(time.Second))
			}
			sla := T(l, "casesui.tasks.sla_rule", map[string]any{"time": T(l, "time.dur_short.hour", map[string]any{"n": i18n.Number(l, 1)})})
			if s := b.text(t, first+" dd span.hint"); s != sla {
				t.Errorf("the first task's service level %q, want %q", s, sla)
			}
			// "Due in 59 min", as a tag: due within a day.
			left := b.text(t, first+" .tag-due-soon")
			pre, post, _ := strings.Cut(T(l, "casesui.due.due_in", map[string]any{"time": T(l, "time.dur_short.minute", map[string]any{"n": "\x00"})}), "\x00")
			if n := strings.TrimSuffix(strings.TrimPrefix(left, pre), post); !strings.HasPrefix(left, pre) || !strings.HasSuffix(left, post) || !dueInRE.MatchString(n) {
				t.Errorf("the first task says %q, want %q", left, pre+"59"+post)
			}

			done := first + ` form.inline-form button[name=action][value=done]`
			if s := b.text(t, done); s != T(l, "casesui.tasks.mark_done", map[string]any{"task": titles[0]}) {
				t.Errorf("the done button says %q", s)
			}
			b.submit(t, done, http.StatusOK)
			if p := b.path(t); p != base+"/tasks" {
				t.Fatalf("after marking the task done at %s (%s), want %s/tasks", p, regErrorText(t, b), base)
			}
			check(t, l)
			regCheckFlash(t, b, tr("casesui.flash.task_done"))
			status := eval[[]string](t, b, `[...document.querySelectorAll('main li.case-task dl .summary-row:first-child dd .tag')].map(s => s.innerText.trim())`)
			if len(status) != 6 || status[0] != tr("casesui.task_status.done") || status[1] != tr("casesui.task_status.open") {
				t.Errorf("task statuses %q, want the first %q and the others %q", status, tr("casesui.task_status.done"), tr("casesui.task_status.open"))
			}
			if n := eval[int](t, b, fmt.Sprintf(`document.querySelectorAll(%q).length`, first+` .tag-due-soon`)); n != 0 {
				t.Errorf("the task done still shows the time left")
			}
			if n := eval[int](t, b, fmt.Sprintf(`document.querySelectorAll(%q).length`, first+` button[value=open]`)); n != 1 {
				t.Errorf("the task done has %d reopen buttons, want 1", n)
			}
		})

		step(l, "observable", func(t *testing.T) {
			tab(t, "/observables", "casesui.tab.observables")
			tlpLine(t)
			if v := eval[string](t, b, `document.getElementById('type').value`); v != "ip" {
				t.Errorf("the type chosen first is %q, want ip", v)
			}
			b.sendKeys(t, "#value", j.ip)
			regTick(t, b, "#ioc")
			b.sendKeys(t, "#note", "C2")
			b.submit(t, `main form[action$="/observables"] button[type=submit]`, http.StatusOK)
			if p := b.path(t); p != base+"/observables" || eval[int](t, b, `document.querySelectorAll('.error-summary').length`) != 0 {
				t.Fatalf("after adding the observable at %s (%s)", p, regErrorText(t, b))
			}
			check(t, l)
			regCheckFlash(t, b, tr("casesui.flash.observable_added"))
			rows := eval[[]string](t, b, `[...document.querySelectorAll('main table tbody tr')].map(tr => [...tr.children].slice(0, 4).map(c => c.innerText.trim()).join('|'))`)
			want := tr("casesui.obs_type.ip") + "|" + j.ip + "|TLP:AMBER|" + tr("casesui.obs.ioc")
			if len(rows) != 1 || rows[0] != want {
				t.Errorf("observables %q, want [%q]", rows, want)
			}
			other := "casesui.obs.other_none"
			if l == "nl" {
				other = "casesui.obs.other_one" // the English case has the address too
			}
			if s := b.text(t, "main table tbody td a"); s != T(l, other, map[string]any{"value": j.ip}) {
				t.Errorf("where else %s appears: %q, want %q", j.ip, s, T(l, other, map[string]any{"value": j.ip}))
			}
			b.submit(t, "main table tbody td a", http.StatusOK)
			if p := b.path(t); !strings.HasPrefix(p, base+"/observables/") {
				t.Fatalf("the observable's link leads to %s", p)
			}
			check(t, l)
			if l == "nl" && !strings.Contains(b.text(t, "main"), journeys["en"].title) {
				t.Errorf("the observable's page does not name the English case %q", journeys["en"].title)
			}
		})

		step(l, "note", func(t *testing.T) {
			tab(t, "/timeline", "casesui.tab.timeline")
			tlpLine(t)
			before := eval[int](t, b, `document.querySelectorAll('main li.case-event').length`)
			b.sendKeys(t, "#body", j.note)
			b.submit(t, `main form[action$="/notes"] button[type=submit]`, http.StatusOK)
			if p := b.path(t); p != base+"/timeline" || eval[int](t, b, `document.querySelectorAll('.error-summary').length`) != 0 {
				t.Fatalf("after adding the note at %s (%s)", p, regErrorText(t, b))
			}
			check(t, l)
			regCheckFlash(t, b, tr("casesui.flash.note_added"))
			if n := eval[int](t, b, `document.querySelectorAll('main li.case-event').length`); n != before+1 {
				t.Errorf("%d timeline entries after the note, want %d", n, before+1)
			}
			// Newest first: the note, rendered from Markdown.
			note := `main li.case-event:first-child .prose`
			if s := b.text(t, note+" strong"); s != j.noteStrong {
				t.Errorf("the note's bold text %q, want %q", s, j.noteStrong)
			}
			if n := eval[int](t, b, fmt.Sprintf(`document.querySelectorAll(%q).length`, note+" ul li")); n != 2 {
				t.Errorf("the note's list has %d items, want 2", n)
			}
			if s := b.text(t, note); strings.Contains(s, "**") {
				t.Errorf("the note shows its Markdown: %q", s)
			}
		})

		step(l, "message", func(t *testing.T) {
			tab(t, "/messages", "casesui.tab.messages")
			tlpLine(t)
			if h := b.text(t, "h1"); h != tr("casemsg.staff.heading") {
				t.Errorf("messages h1 %q, want %q", h, tr("casemsg.staff.heading"))
			}
			if s := b.text(t, fmt.Sprintf(`main section[aria-labelledby="org-%d"] h2`, j.orgID)); s != j.org {
				t.Errorf("the thread is headed %q, want %q", s, j.org)
			}
			if v := eval[string](t, b, `document.getElementById('organisation_id').value`); v != fmt.Sprint(j.orgID) {
				t.Errorf("the organisation chosen is %q, want the only affected one, %d", v, j.orgID)
			}
			regTick(t, b, `main input[name=tlp][value="AMBER"]`)
			b.sendKeys(t, "#body", j.message)
			b.submit(t, `main form[action$="/messages"] button[type=submit]`, http.StatusOK)
			if p := b.path(t); p != base+"/messages" || eval[int](t, b, `document.querySelectorAll('.error-summary').length`) != 0 {
				t.Fatalf("after sending the message at %s (%s)", p, regErrorText(t, b))
			}
			check(t, l)
			regCheckFlash(t, b, tr("casemsg.flash.sent"))
			msgs := eval[[]string](t, b, fmt.Sprintf(`[...document.querySelectorAll('main section[aria-labelledby="org-%d"] article')].map(a => a.innerText.trim())`, j.orgID))
			if len(msgs) != 1 || !strings.Contains(msgs[0], j.message) || !strings.Contains(msgs[0], "TLP:AMBER") || !strings.Contains(msgs[0], tr("casemsg.from.csirt")) {
				t.Errorf("the thread %q, want one TLP:AMBER message from the CSIRT saying %q", msgs, j.message)
			}
			b.signOut(t)
		})

		step(l, "reply", func(t *testing.T) {
			signIn(t, l, j.member)
			// The organisation's own navigation has its cases with the CSIRT.
			followNav(t, l, "nav.our_cases", "/"+l+"/our-cases")
			if h := b.text(t, "h1"); h != tr("casemsg.our.title") {
				t.Errorf("our cases h1 %q, want %q", h, tr("casemsg.our.title"))
			}
			our := "/" + l + "/our-cases/" + caseID
			link := fmt.Sprintf(`main table a[href=%q]`, our)
			if s := b.text(t, link); s != ref {
				t.Errorf("the list links %q, want %q", s, ref)
			}
			if s := b.text(t, "main table tbody tr"); !strings.Contains(s, j.title) || !strings.Contains(s, "TLP:AMBER") || !strings.Contains(s, tr("casemsg.our.last_csirt")) {
				t.Errorf("the case's row %q lacks the title, TLP:AMBER or %q", s, tr("casemsg.our.last_csirt"))
			}
			b.submit(t, link, http.StatusOK)
			if p := b.path(t); p != our {
				t.Fatalf("at %s, want %s", p, our)
			}
			check(t, l)
			if h := b.text(t, "h1"); h != j.title+" ("+j.incidentRef+")" {
				t.Errorf("h1 %q, want %q", h, j.title+" ("+j.incidentRef+")")
			}
			if s := b.title(t); !strings.HasPrefix(s, "TLP:AMBER") {
				t.Errorf("title %q does not start with the label TLP:AMBER", s)
			}
			msgs := eval[[]string](t, b, `[...document.querySelectorAll('main article')].map(a => a.innerText.trim())`)
			if len(msgs) != 1 || !strings.Contains(msgs[0], j.message) || !strings.Contains(msgs[0], "TLP:AMBER") || !strings.Contains(msgs[0], tr("casemsg.from.csirt")) {
				t.Fatalf("the organisation reads %q, want the CSIRT's TLP:AMBER message %q", msgs, j.message)
			}
			if page := b.text(t, "main"); strings.Contains(page, j.noteStrong) || strings.Contains(page, j.ip) {
				t.Errorf("the organisation sees the case's internal work: %q", page)
			}
			if !eval[bool](t, b, `!!document.querySelector('main input[name=tlp][value="AMBER"]')?.checked`) {
				t.Errorf("the reply's label is not the thread's, TLP:AMBER")
			}
			b.sendKeys(t, "#body", j.reply)
			b.submit(t, fmt.Sprintf(`main form[action=%q] button[type=submit]`, our), http.StatusOK)
			if p := b.path(t); p != our || eval[int](t, b, `document.querySelectorAll('.error-summary').length`) != 0 {
				t.Fatalf("after the reply at %s (%s)", p, regErrorText(t, b))
			}
			check(t, l)
			regCheckFlash(t, b, tr("casemsg.flash.sent"))
			msgs = eval[[]string](t, b, `[...document.querySelectorAll('main article')].map(a => a.innerText.trim())`)
			if len(msgs) != 2 || !strings.Contains(msgs[1], j.reply) || !strings.Contains(msgs[1], T(l, "casemsg.from.org", map[string]any{"org": j.org})) {
				t.Errorf("the thread after the reply %q, want the reply %q last", msgs, j.reply)
			}
			b.saveScreenshot(t, shots, "case-"+l+"-our-case-1280.png")
			b.signOut(t)
		})

		step(l, "close", func(t *testing.T) {
			signIn(t, l, anaA.Email)
			followNav(t, l, "nav.cases", "/"+l+"/cases")
			link := fmt.Sprintf(`main table a[href=%q]`, base)
			if s := b.text(t, link); s != ref {
				t.Errorf("the list links %q, want %q", s, ref)
			}
			b.submit(t, link, http.StatusOK)
			check(t, l)
			tab(t, "/messages", "casesui.tab.messages")
			msgs := eval[[]string](t, b, fmt.Sprintf(`[...document.querySelectorAll('main section[aria-labelledby="org-%d"] article')].map(a => a.innerText.trim())`, j.orgID))
			if len(msgs) != 2 || !strings.Contains(msgs[1], j.reply) || !strings.Contains(msgs[1], T(l, "casemsg.from.org", map[string]any{"org": j.org})) ||
				!strings.Contains(msgs[1], "TLP:AMBER") {
				t.Errorf("the thread %q, want the organisation's TLP:AMBER reply %q last", msgs, j.reply)
			}
			b.saveScreenshot(t, shots, "case-"+l+"-messages-1280.png")
			tab(t, "", "casesui.tab.overview")

			// Closed without a resolution: one error round.
			save := fmt.Sprintf(`main form[action=%q] button[type=submit]`, base)
			b.do(t, "choose closed", chromedp.SetValue(chromedp.CSS(`main #status`), "closed"))
			eval[chromedp.Void](t, b, `document.getElementById('resolution').value = ''`)
			b.submit(t, save, http.StatusUnprocessableEntity)
			check(t, l)
			if l == "en" {
				if s := b.title(t); !strings.HasPrefix(s, "Error: ") {
					t.Errorf("title %q does not start with %q", s, "Error:")
				}
			}
			regCheckErrors(t, b, tr("error.title_prefix"), "resolution")
			regCheckSummary(t, b, "#resolution")
			if s := b.text(t, `.error-summary a[href="#resolution"]`); s != tr("err.case.resolution_missing") {
				t.Errorf("the error summary says %q, want %q", s, tr("err.case.resolution_missing"))
			}
			if v := eval[string](t, b, `document.getElementById('status').value`); v != "closed" {
				t.Errorf("the status chosen is not kept after the error round: %q", v)
			}

			b.sendKeys(t, "#resolution", j.resolution)
			b.submit(t, save, http.StatusOK)
			if p := b.path(t); p != base || eval[int](t, b, `document.querySelectorAll('.error-summary').length`) != 0 {
				t.Fatalf("after closing at %s (%s), want %s", p, regErrorText(t, b), base)
			}
			check(t, l)
			regCheckFlash(t, b, tr("casesui.flash.updated"))
			if s := b.text(t, "main ul.case-facts"); !strings.Contains(s, tr("casesui.status.closed")) {
				t.Errorf("the case's facts %q lack %q", s, tr("casesui.status.closed"))
			}
			res := eval[string](t, b, fmt.Sprintf(`[...document.querySelectorAll('main dl.summary-list .summary-row')].find(r => r.querySelector('dt').innerText.trim() === %q)?.querySelector('dd').innerText.trim() ?? ''`, tr("casesui.field.resolution")))
			if res != j.resolution {
				t.Errorf("resolution %q, want %q", res, j.resolution)
			}
			b.signOut(t)
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
