package app_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// TestBrowserReporting drives the NIS2 incident-reporting journey in
// headless Chromium with JavaScript disabled: "An entity user can go from
// early warning to final report in the portal in each language". In each
// of the four languages a member of a separate entity follows the main
// navigation to the incidents, reports an incident with one error round on
// the typed awareness time, and files the early warning, the incident
// notification (pre-filled from the early warning) and the final report,
// each through its form, check answers and a double-clicked submit button
// that must file once. Every receipt shows the reference and the SHA-256
// stored; the task list ends with the three stages submitted. Every page
// gets checkPage and the structural checks of regCheckPage; the early
// warning form is checked for reflow at 320 px. Like TestBrowser it needs
// Debian's chromium: locally the test skips without it, under CI=true it
// fails.
func TestBrowserReporting(t *testing.T) {
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
	bxl, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		t.Fatal(err)
	}

	shots := t.TempDir()
	b := newBrowser(t, exe, e.Srv.URL, 90*time.Second)
	b.do(t, "viewport 1280", chromedp.EmulateViewport(1280, 900))

	step, broken := journeySteps(t)

	incidentRE := regexp.MustCompile(`^/[a-z]{2}/incidents/(\d+)$`)
	receiptRE := regexp.MustCompile(`^/[a-z]{2}/incidents/\d+/receipts/(INC-[A-Z0-9-]+)$`)
	hexRE := regexp.MustCompile(`^[0-9a-f]{64}$`)

	for i, l := range []string{"nl", "fr", "de", "en"} {
		tr := func(key string) string { return T(l, key, nil) }
		var (
			member   = fmt.Sprintf("soc-%s@water-%s.example", l, l) // no dots in the local part
			title    = fmt.Sprintf("Ransomware on the pumping station (%s)", l)
			summary  = fmt.Sprintf("Ransomware encrypted the SCADA gateway of the pumping station %s.", l)
			incID    int64
			base     string // /{lang}/incidents/{id}
			receipts = map[string]string{}
		)

		// filed checks the receipt page the browser is on for stage: the
		// reference and the SHA-256 are those stored, filed once.
		filed := func(t *testing.T, stage string) {
			t.Helper()
			p := b.path(t)
			m := receiptRE.FindStringSubmatch(p)
			if m == nil {
				t.Fatalf("after submitting the %s at %s (%s), want its receipt", stage, p, regErrorText(t, b))
			}
			regCheckPage(t, b, l)
			if h := b.text(t, "h1"); h != tr("repui.receipt.heading."+stage) {
				t.Errorf("receipt h1 %q, want %q", h, tr("repui.receipt.heading."+stage))
			}
			ref := b.text(t, "main .panel-confirmation strong.mono")
			sha := b.text(t, "main p.secret code")
			var n int
			var dbRef, dbSHA string
			if err := e.App.DB.QueryRow(t.Context(), `SELECT count(*), max(ref), max(sha256) FROM report_submissions WHERE incident_id = ? AND stage = ?`, incID, stage).Scan(&n, &dbRef, &dbSHA); err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Errorf("%d submissions of the %s after a double click, want 1", n, stage)
			}
			if ref != m[1] || ref != dbRef {
				t.Errorf("receipt shows reference %q (path %q), the database stored %q", ref, m[1], dbRef)
			}
			if !hexRE.MatchString(sha) || sha != dbSHA {
				t.Errorf("receipt shows SHA-256 %q, the database stored %q", sha, dbSHA)
			}
			receipts[stage] = ref
		}

		// fileStage goes from the stage form the browser is on, filled in,
		// to check answers and presses submit twice quickly.
		fileStage := func(t *testing.T, stage string, want ...string) {
			t.Helper()
			b.submit(t, `main form button[type=submit][name=action][value=continue]`, http.StatusOK)
			if p := b.path(t); p != base+"/"+stage+"/check" {
				t.Fatalf("after the %s form at %s (%s), want %s/%s/check", stage, p, regErrorText(t, b), base, stage)
			}
			regCheckPage(t, b, l)
			if h := b.text(t, "h1"); h != T(l, "repui.check.title", map[string]any{"stage": tr("nis2.stage." + stage)}) {
				t.Errorf("check answers h1 %q", h)
			}
			page := b.text(t, "main")
			for _, w := range want {
				if !strings.Contains(page, w) {
					t.Errorf("check answers page of the %s lacks %q", stage, w)
				}
			}
			regCheckChangeLinks(t, b, tr("repui.change"))
			repDoubleClick(t, b, `main form[action$="/check"] button[type=submit]`)
			filed(t, stage)
			b.submit(t, fmt.Sprintf(`main p > a[href=%q]`, base), http.StatusOK)
			if p := b.path(t); p != base {
				t.Fatalf("the receipt leads to %s, want %s", p, base)
			}
			regCheckPage(t, b, l)
		}

		step(l, "open incident", func(t *testing.T) {
			org := e.Org(t, fmt.Sprintf("Water Utility %s", strings.ToUpper(l)), "entity")
			e.User(t, org.ID, member, "member")
			b.open(t, "/"+l+"/login")
			regCheckPage(t, b, l)
			b.login(t, member, webtest.Password(member))
			if p := b.path(t); p != "/"+l+"/" && p != "/"+l {
				t.Fatalf("after sign-in at %s, want /%s/", p, l)
			}
			regCheckPage(t, b, l)

			// The main navigation leads to the list, which offers to report.
			href := eval[[]string](t, b, fmt.Sprintf(`[...document.querySelectorAll('header nav.main-nav a')].filter(a => a.innerText.trim() === %q).map(a => a.getAttribute('href'))`, tr("nav.incidents")))
			if len(href) != 1 || href[0] != "/"+l+"/incidents" {
				t.Fatalf("main navigation links %q named %q, want one to /%s/incidents", href, tr("nav.incidents"), l)
			}
			b.submit(t, fmt.Sprintf(`header nav.main-nav a[href=%q]`, href[0]), http.StatusOK)
			regCheckPage(t, b, l)
			newLink := fmt.Sprintf(`main a[href="/%s/incidents/new"]`, l)
			if s := b.text(t, newLink); s != tr("repui.list.new") {
				t.Errorf("the link to report is named %q, want %q", s, tr("repui.list.new"))
			}
			b.submit(t, newLink, http.StatusOK)
			regCheckPage(t, b, l)

			// One error round: the hour is missing.
			aware := time.Now().Add(-2 * time.Hour).In(bxl)
			b.sendKeys(t, "#title", title)
			regTick(t, b, `main input[name=aware_when][value="time"]`)
			b.sendKeys(t, "#aware_at", strconv.Itoa(aware.Day()))
			b.sendKeys(t, "#aware_at-month", strconv.Itoa(int(aware.Month())))
			b.sendKeys(t, "#aware_at-year", strconv.Itoa(aware.Year()))
			b.sendKeys(t, "#aware_at-minute", fmt.Sprintf("%02d", aware.Minute()))
			create := `main form[action$="/incidents/new"] button[type=submit]`
			b.submit(t, create, http.StatusUnprocessableEntity)
			regCheckPage(t, b, l)
			if n := eval[int](t, b, `document.querySelectorAll('.error-summary').length`); n != 1 {
				t.Fatalf("%d error summaries, want 1", n)
			}
			if f := b.focused(t); !strings.Contains(f, "error-summary") {
				t.Errorf("focus is on %q, want the error summary", f)
			}
			if s := b.title(t); !strings.HasPrefix(s, tr("error.title_prefix")+" ") {
				t.Errorf("title %q does not start with %q", s, tr("error.title_prefix"))
			}
			regCheckSummary(t, b, "#aware_at-hour")
			msg := T(l, "err.repui.time_missing_hour", map[string]any{"label": tr("repui.time_noun.aware_at")})
			if s := b.text(t, `.error-summary a[href="#aware_at-hour"]`); s != msg {
				t.Errorf("error summary says %q, want %q", s, msg)
			}
			if s := b.text(t, "#aware_at-error"); !strings.Contains(s, msg) {
				t.Errorf("inline error %q lacks %q", s, msg)
			}
			if v := b.attr(t, "#aware_at-hour", "aria-invalid"); v != "true" {
				t.Errorf(`#aware_at-hour aria-invalid = %q, want "true"`, v)
			}
			if bad := eval[[]string](t, b, `[...document.querySelectorAll('main [aria-invalid=true]')].map(el => el.id)`); len(bad) != 1 {
				t.Errorf("invalid fields %q, want only aware_at-hour", bad)
			}
			if d := b.attr(t, `fieldset:has(> .rep-date)`, "aria-describedby"); !strings.Contains(d, "aware_at-error") {
				t.Errorf("the time's fieldset aria-describedby = %q, want it to name aware_at-error", d)
			}
			if v := eval[string](t, b, `document.getElementById('title').value`); v != title {
				t.Errorf("the title typed was lost: %q", v)
			}
			if v := eval[string](t, b, `document.getElementById('aware_at').value`); v != strconv.Itoa(aware.Day()) {
				t.Errorf("the day typed was lost: %q", v)
			}
			b.sendKeys(t, "#aware_at-hour", strconv.Itoa(aware.Hour()))
			b.submit(t, create, http.StatusOK)
			p := b.path(t)
			m := incidentRE.FindStringSubmatch(p)
			if m == nil {
				t.Fatalf("after reporting at %s (%s), want /%s/incidents/{id}", p, regErrorText(t, b), l)
			}
			incID, _ = strconv.ParseInt(m[1], 10, 64)
			base = p
			regCheckPage(t, b, l)
			regCheckFlash(t, b, tr("repui.flash.created"))
			if h := b.text(t, "h1"); h != title {
				t.Errorf("incident h1 %q, want %q", h, title)
			}
			var stored time.Time
			if err := e.App.DB.QueryRow(t.Context(), `SELECT aware_at FROM incidents WHERE id = ?`, incID).Scan(&stored); err != nil {
				t.Logf("reading aware_at: %v", err)
			} else if want := aware.Truncate(time.Minute); !stored.Equal(want) {
				t.Errorf("aware_at stored %v, want %v (typed in Belgian time)", stored, want.UTC())
			}
			if n := eval[int](t, b, fmt.Sprintf(`document.querySelectorAll('main a[href=%q]').length`, base+"/incident_notification")); n != 0 {
				t.Error("the incident notification is a link before the early warning is filed")
			}
		})

		step(l, "early warning", func(t *testing.T) {
			b.submit(t, fmt.Sprintf(`main ul.task-list a[href=%q]`, base+"/early_warning"), http.StatusOK)
			regCheckPage(t, b, l)
			if h := b.text(t, "h1"); h != tr("nis2.stage.early_warning") {
				t.Errorf("h1 %q, want %q", h, tr("nis2.stage.early_warning"))
			}
			if v := eval[string](t, b, `document.getElementById('notifier_email').value`); v != member {
				t.Errorf("the notifier's e-mail starts as %q, want %q", v, member)
			}
			regReflow(t, b)
			if i == 0 {
				b.saveScreenshot(t, shots, "reporting-"+l+"-early-warning-1280.png")
			}
			regTick(t, b, `main input[name=incident_status][value="ongoing"]`)
			regTick(t, b, `main input[name=suspected_malicious][value="yes"]`)
			regTick(t, b, `main input[name=cross_border][value="unknown"]`)
			b.sendKeys(t, "#summary", summary)
			// A change of language half-way keeps every answer, there and
			// back: the switcher's buttons submit the form.
			other := []string{"nl", "fr", "de", "en"}[(i+1)%4]
			for _, to := range []string{other, l} {
				b.submit(t, fmt.Sprintf(`header nav.lang-nav button[name=switch_lang][value=%q]`, to), http.StatusOK)
				if p, want := b.path(t), strings.Replace(base, "/"+l+"/", "/"+to+"/", 1)+"/early_warning"; p != want {
					t.Fatalf("after choosing %s on the form at %s (%s), want %s", to, p, regErrorText(t, b), want)
				}
				regCheckPage(t, b, to)
				if v := eval[string](t, b, `document.getElementById('summary').value`); v != summary {
					t.Errorf("after choosing %s the summary holds %q, want %q", to, v, summary)
				}
				if !eval[bool](t, b, `!!document.querySelector('main input[name=cross_border][value="unknown"]')?.checked`) {
					t.Errorf("after choosing %s the cross-border answer is lost", to)
				}
			}
			// A file goes with the report: the upload button sends the whole
			// form, so what was typed is kept as the draft.
			evidence := filepath.Join(t.TempDir(), "gateway-"+l+".log")
			if err := os.WriteFile(evidence, []byte("2026-11-27 03:12:09 VPN login from 198.51.100.7 (account ops-"+l+")\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			b.do(t, "choose the evidence file", chromedp.SetUploadFiles(chromedp.CSS(`main input[type=file][name=file]`), []string{evidence}))
			b.submit(t, `main form button[formenctype="multipart/form-data"]`, http.StatusOK)
			if p := b.path(t); p != base+"/early_warning" {
				t.Fatalf("after the upload at %s (%s), want %s/early_warning", p, regErrorText(t, b), base)
			}
			regCheckPage(t, b, l)
			if s := b.text(t, "#attachments-caption + thead + tbody"); !strings.Contains(s, "gateway-"+l+".log") {
				t.Errorf("the attachments list %q lacks the file", s)
			}
			if v := eval[string](t, b, `document.getElementById('summary').value`); v != summary {
				t.Errorf("after the upload the summary holds %q, want %q", v, summary)
			}
			fileStage(t, "early_warning", "gateway-"+l+".log", summary, tr("repui.status.ongoing"), tr("repui.tristate.yes"), tr("repui.tristate.unknown"))
		})

		step(l, "incident notification", func(t *testing.T) {
			b.checkLandmarks(t)
			b.submit(t, fmt.Sprintf(`main ul.task-list a[href=%q]`, base+"/incident_notification"), http.StatusOK)
			regCheckPage(t, b, l)
			if h := b.text(t, "h1"); h != tr("nis2.stage.incident_notification") {
				t.Errorf("h1 %q, want %q", h, tr("nis2.stage.incident_notification"))
			}
			pre := T(l, "repui.stage.prefilled", map[string]any{"ref": receipts["early_warning"], "stage": tr("nis2.stage.early_warning")})
			if page := b.text(t, "main"); !strings.Contains(page, pre) {
				t.Errorf("the form does not say it is pre-filled: lacks %q", pre)
			}
			if v := eval[string](t, b, `document.getElementById('summary').value`); v != summary {
				t.Errorf("summary textarea holds %q, want the early warning's %q", v, summary)
			}
			for _, sel := range []string{`input[name=incident_status][value="ongoing"]`, `input[name=suspected_malicious][value="yes"]`, `input[name=cross_border][value="unknown"]`} {
				if !eval[bool](t, b, fmt.Sprintf(`!!document.querySelector(%q)?.checked`, "main "+sel)) {
					t.Errorf("%s is not pre-filled from the early warning", sel)
				}
			}
			regTick(t, b, `main input[name=severity][value="yellow"]`)
			impact := "The pumping station ran on manual control for six hours; no customer lost water."
			b.sendKeys(t, "#impact_assessment", impact)
			// The significance guidance, from the form and back: this
			// organisation has no registration, so the type is chosen.
			b.submit(t, `main form button[name=action][value=significance]`, http.StatusOK)
			if p := b.path(t); p != base+"/significance" {
				t.Fatalf("the significance button led to %s (%s)", p, regErrorText(t, b))
			}
			regCheckPage(t, b, l)
			b.do(t, "choose the entity type", chromedp.SetValue(chromedp.CSS(`#entity_type`), "digital_infra.cloud"))
			b.submit(t, `main form button[name=action][value=type]`, http.StatusOK)
			regCheckPage(t, b, l)
			b.sendKeys(t, "#complete_unavailability_minutes", "45")
			b.submit(t, `main form button[name=action][value=check]`, http.StatusOK)
			regCheckPage(t, b, l)
			if s := b.text(t, "#result h2"); !strings.Contains(s, tr("nis2.sig.outcome.significant")) || !strings.Contains(s, "7a") {
				t.Errorf("significance result %q, want %q with 7a", s, tr("nis2.sig.outcome.significant"))
			}
			b.submit(t, `#result form button[name=action][value=record]`, http.StatusOK)
			if p := b.path(t); p != base+"/incident_notification" {
				t.Fatalf("recording the criteria led to %s (%s)", p, regErrorText(t, b))
			}
			regCheckPage(t, b, l)
			if v := eval[string](t, b, `document.getElementById('impact_assessment').value`); v != impact {
				t.Errorf("after the guidance the impact holds %q, want %q", v, impact)
			}
			fileStage(t, "incident_notification", summary, impact, tr("repui.severity.yellow"), tr("repsig.summary.criteria"), "7a")
		})

		step(l, "final report", func(t *testing.T) {
			b.submit(t, fmt.Sprintf(`main ul.task-list a[href=%q]`, base+"/final_report"), http.StatusOK)
			regCheckPage(t, b, l)
			if h := b.text(t, "h1"); h != tr("nis2.stage.final_report") {
				t.Errorf("h1 %q, want %q", h, tr("nis2.stage.final_report"))
			}
			desc := "A phishing mail gave access to a VPN account; the attacker encrypted the SCADA gateway."
			mit := "The gateway was rebuilt from backups, the VPN now requires a second factor."
			b.sendKeys(t, "#detailed_description", desc)
			regTick(t, b, `main input[name=root_cause][value="malicious-actions"]`)
			b.sendKeys(t, "#mitigations", mit)
			regTick(t, b, `main input[name=cross_border][value="no"]`)
			regTick(t, b, `main input[name=incident_status][value="closed"]`)
			fileStage(t, "final_report", desc, mit, tr("repui.root_cause.malicious-actions"), tr("repui.status.closed"), tr("repui.tristate.no"))

			// The task list shows the three stages submitted.
			regCheckPage(t, b, l)
			b.checkLandmarks(t)
			sub := strings.TrimSpace(strings.SplitN(T(l, "repui.state.submitted", map[string]any{"time": "\x00"}), "\x00", 2)[0])
			for _, stage := range []string{"early_warning", "incident_notification", "final_report"} {
				sel := fmt.Sprintf("#task-%s-status", stage)
				if s := b.text(t, sel); !strings.Contains(s, sub) {
					t.Errorf("%s: status %q, want %q", stage, s, T(l, "repui.state.submitted", map[string]any{"time": "…"}))
				}
				if n := eval[int](t, b, fmt.Sprintf(`document.querySelectorAll('%s a[href="%s/receipts/%s"]').length`, sel, base, receipts[stage])); n != 1 {
					t.Errorf("%s: %d links to its receipt %s, want 1", stage, n, receipts[stage])
				}
			}
			var n int
			if err := e.App.DB.QueryRow(t.Context(), `SELECT count(*) FROM report_submissions WHERE incident_id = ?`, incID).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 3 {
				t.Errorf("%d submissions of the incident, want 3", n)
			}
			if i == 0 {
				b.saveScreenshot(t, shots, "reporting-"+l+"-tasks-1280.png")
			}
			b.signOut(t)
		})
		if broken[l] != "" {
			// Leave the language's session so that the next starts signed out.
			repSettle(t, b, "")
			b.open(t, "/"+l+"/")
			if eval[int](t, b, `document.querySelectorAll('header form[action$="/logout"]').length`) == 1 {
				b.signOut(t)
			}
		}
	}
}

// repDoubleClick presses the button sel twice quickly, as a person who
// double-clicks, and waits for the page it leads to.
func repDoubleClick(t *testing.T, b *browser, sel string) {
	t.Helper()
	if n := eval[int](t, b, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)); n != 1 {
		t.Fatalf("%d elements match %s on %s, want 1", n, sel, b.path(t))
	}
	xy := eval[[]float64](t, b, fmt.Sprintf(`(() => { const el = document.querySelector(%q); el.scrollIntoView({block: 'center'});
		const r = el.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()`, sel))
	from := b.path(t)
	b.call(t, "double click "+sel, func(ctx context.Context) error {
		_, err := chromedp.RunResponse(ctx,
			chromedp.MouseClickXY(xy[0], xy[1]),
			chromedp.MouseClickXY(xy[0], xy[1], chromedp.ClickCount(2)))
		// The second press sends the form again and aborts the navigation
		// of the first: then wait below for the page the second leads to.
		if err != nil && !strings.Contains(err.Error(), "ERR_ABORTED") {
			return err
		}
		return nil
	})
	repSettle(t, b, from)
}

// repSettle waits until the tab has left the page at path from and the new
// document has loaded.
func repSettle(t *testing.T, b *browser, from string) {
	t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, time.Second)
		state, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[location.pathname, document.readyState]`))
		cancel()
		if err == nil && len(state) == 2 && state[0] != from && state[1] == "complete" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still at %s after the double click (%q, %v)", from, state, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
