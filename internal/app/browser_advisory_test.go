package app_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/belfry-cert/belfry/internal/csaf"
	"github.com/belfry-cert/belfry/internal/csaf/csaftest"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// TestBrowserAdvisory drives the CSAF advisory journey of issue 7 in
// headless Chromium with JavaScript disabled: "An analyst writes, reviews
// and publishes an advisory in the portal". In English and in French,
// analyst A follows the main navigation to the advisories, starts a new
// advisory with one error round, fills the document details (summary, a
// reference), two products and a vulnerability (CVE, CWE, description,
// CVSS v3.1 vector, the status of each product, a vendor fix), checks that
// the preview passes and submits it for review; A is refused approval
// (four eyes). Analyst B finds it in the list filtered on "waiting for
// review" and approves it for publication now. An anonymous visitor then
// finds it in the public list, reads the remediation, severity and score
// on its page, and downloads its CSAF JSON from the provider tree (valid,
// with the right tracking id and version) with its signature and hash.
// Every page gets regCheckPage and checkLandmarks. Like TestBrowser it
// needs Debian's chromium: locally the test skips without it, under
// CI=true it fails.
func TestBrowserAdvisory(t *testing.T) {
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
	csaftest.Use(t)

	e := webtest.New(t, dbtest.SQLite(t), false)
	T := func(lang, key string, args map[string]any) string { return e.App.Catalog.T(lang, key, args) }
	if _, err := e.App.Advisories.GenerateKey(webtest.System(), "CCB CSAF", "csaf@ccb.example"); err != nil {
		t.Fatal(err)
	}
	var authorityID int64
	if err := e.App.DB.QueryRow(t.Context(), `SELECT id FROM organisations WHERE kind = 'authority' ORDER BY id LIMIT 1`).Scan(&authorityID); err != nil {
		t.Fatal(err)
	}
	// No dots in the local parts: header names must not look like message keys.
	anaA := e.User(t, authorityID, "analyst-a@authority.example", "analyst")
	anaB := e.User(t, authorityID, "analyst-b@authority.example", "analyst")

	shots := t.TempDir()
	b := newBrowser(t, exe, e.Srv.URL, 150*time.Second)
	b.do(t, "viewport 1280", chromedp.EmulateViewport(1280, 900))

	step, broken := journeySteps(t)

	// check is what every page of the journey gets.
	check := func(t *testing.T, l string) {
		t.Helper()
		regCheckPage(t, b, l)
		b.checkLandmarks(t)
	}
	// signIn signs in on the sign-in page of lang and expects the home page.
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
	// followNav follows the main navigation's link named nav.advisories.
	followNav := func(t *testing.T, l, want string) {
		t.Helper()
		name := T(l, "nav.advisories", nil)
		href := eval[[]string](t, b, fmt.Sprintf(`[...document.querySelectorAll('header nav.main-nav a')].filter(a => a.innerText.trim() === %q).map(a => a.getAttribute('href'))`, name))
		if len(href) != 1 || href[0] != want {
			t.Fatalf("main navigation links %q named %q, want one to %s", href, name, want)
		}
		b.submit(t, fmt.Sprintf(`header nav.main-nav a[href=%q]`, want), http.StatusOK)
		check(t, l)
	}
	stateTag := func(t *testing.T, l, state string) {
		t.Helper()
		if s := b.text(t, "main dl.summary-list .tag"); s != T(l, "advedit.state."+state, nil) {
			t.Errorf("state %q, want %q", s, T(l, "advedit.state."+state, nil))
		}
	}

	type journey struct {
		title, vendor, product, summary, refURL, refSummary string
		cve, cweID, vulnTitle, description, fix, fixURL     string
		score                                               string // 9.8 as the locale writes it
	}
	const vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" // 9.8, critical
	journeys := map[string]journey{
		"en": {title: "Harbour Gateway: remote code execution in the web console", vendor: "Scheldt Networks", product: "Harbour Gateway",
			summary: "An unauthenticated attacker can run code on Harbour Gateway 1.0. Update to 1.1 now.",
			refURL:  "https://scheldt-networks.example/psirt/SN-2026-01", refSummary: "Scheldt Networks security advisory",
			cve: "CVE-2026-51001", cweID: "CWE-78", vulnTitle: "Command injection in the web console",
			description: "The diagnostics page passes the host name to a shell without escaping it.",
			fix:         "Update Harbour Gateway to version 1.1.", fixURL: "https://scheldt-networks.example/download/1.1", score: "9.8"},
		"fr": {title: "Passerelle Meuse : exécution de code à distance", vendor: "Meuse Réseaux", product: "Passerelle Meuse",
			summary: "Un attaquant non authentifié peut exécuter du code sur la Passerelle Meuse 1.0. Installez la version 1.1.",
			refURL:  "https://meuse-reseaux.example/securite/MR-2026-02", refSummary: "Avis de sécurité de Meuse Réseaux",
			cve: "CVE-2026-51002", cweID: "CWE-78", vulnTitle: "Injection de commandes dans la console",
			description: "La page de diagnostic transmet le nom d’hôte à un shell sans l’échapper.",
			fix:         "Installez la version 1.1 de la Passerelle Meuse.", fixURL: "https://meuse-reseaux.example/telechargement/1.1", score: "9,8"},
	}
	idRE := regexp.MustCompile(`^/[a-z]{2}/advisories/manage/(\d+)$`)
	tidRE := regexp.MustCompile(`^.+-(\d{4})-\d{4,}$`) // PREFIX-YEAR-NNNN
	jsonRE := regexp.MustCompile(`^/\.well-known/csaf/white/(\d{4})/([a-z0-9+_-]+\.json)$`)

	for _, l := range []string{"en", "fr"} {
		j := journeys[l]
		tr := func(key string) string { return T(l, key, nil) }
		var (
			base string // /{lang}/advisories/manage/{id}
			tid  string // the tracking id
		)
		taskLink := func(task string) string { return fmt.Sprintf(`main ul.task-list a[href=%q]`, base+"/"+task) }
		backToOverview := func(t *testing.T) {
			t.Helper()
			b.submit(t, fmt.Sprintf(`a.back-link[href=%q]`, base), http.StatusOK)
			if p := b.path(t); p != base {
				t.Fatalf("the back link leads to %s, want %s", p, base)
			}
			check(t, l)
		}

		step(l, "write", func(t *testing.T) {
			signIn(t, l, anaA.Email)
			followNav(t, l, "/"+l+"/advisories/manage")
			if h := b.text(t, "h1"); h != tr("advedit.list.title") {
				t.Errorf("list h1 %q, want %q", h, tr("advedit.list.title"))
			}
			newLink := fmt.Sprintf(`main a[href="/%s/advisories/new"]`, l)
			if s := b.text(t, newLink); s != tr("advedit.list.new") {
				t.Errorf("the link to a new advisory is named %q, want %q", s, tr("advedit.list.new"))
			}
			b.submit(t, newLink, http.StatusOK)
			check(t, l)

			// One error round: nothing typed, no TLP label chosen.
			create := `main form[action$="/advisories/new"] button[type=submit]`
			b.submit(t, create, http.StatusUnprocessableEntity)
			check(t, l)
			regCheckErrors(t, b, tr("error.title_prefix"), "title") // the TLP radios: the fieldset names the error
			regCheckSummary(t, b, "#title", "#tlp")
			if s := b.text(t, `.error-summary a[href="#title"]`); s != tr("err.adv.title_missing") {
				t.Errorf("error summary says %q for the title, want %q", s, tr("err.adv.title_missing"))
			}
			if d := b.attr(t, `fieldset:has(#tlp)`, "aria-describedby"); !strings.Contains(d, "tlp-error") {
				t.Errorf("the TLP fieldset aria-describedby = %q, want it to name tlp-error", d)
			}
			if !eval[bool](t, b, fmt.Sprintf(`!!document.querySelector('main input[name=lang][value=%q]')?.checked`, l)) {
				t.Errorf("the language radio %s is not kept after the error round", l)
			}

			b.sendKeys(t, "#title", j.title)
			regTick(t, b, fmt.Sprintf(`main input[name=lang][value=%q]`, l))
			regTick(t, b, `main input[name=tlp][value="WHITE"]`)
			regTick(t, b, `main input[name=category][value="csaf_security_advisory"]`)
			b.submit(t, create, http.StatusOK)
			p := b.path(t)
			if !idRE.MatchString(p) {
				t.Fatalf("after creating at %s (%s), want /%s/advisories/manage/{id}", p, regErrorText(t, b), l)
			}
			base = p
			check(t, l)
			regCheckFlash(t, b, tr("advedit.flash.created"))
			if h := b.text(t, "h1"); h != j.title {
				t.Errorf("overview h1 %q, want %q", h, j.title)
			}
			tid = b.text(t, "main .caption .mono")
			if !tidRE.MatchString(tid) {
				t.Fatalf("tracking id %q, want PREFIX-YEAR-NNNN", tid)
			}
			stateTag(t, l, "draft")

			// Document details: the summary and one reference.
			b.submit(t, taskLink("document"), http.StatusOK)
			check(t, l)
			if v := eval[string](t, b, `document.getElementById('title').value`); v != j.title {
				t.Errorf("the document's title field holds %q, want %q", v, j.title)
			}
			b.sendKeys(t, "#summary", j.summary)
			b.sendKeys(t, "#ref-0-url", j.refURL)
			b.sendKeys(t, "#ref-0-summary", j.refSummary)
			regTick(t, b, `main input[name="ref-0-category"][value="external"]`)
			b.submit(t, `main form[action$="/document"] button[type=submit]`, http.StatusOK)
			if p := b.path(t); p != base {
				t.Fatalf("after the document details at %s (%s), want %s", p, regErrorText(t, b), base)
			}
			check(t, l)
			regCheckFlash(t, b, tr("advedit.flash.saved"))
			if s := b.text(t, "#task-0-status"); s != tr("advedit.task.done") {
				t.Errorf("document details task: %q, want %q", s, tr("advedit.task.done"))
			}

			// Two products: versions 1.0 and 1.1.
			b.submit(t, taskLink("products"), http.StatusOK)
			check(t, l)
			for _, version := range []string{"1.0", "1.1"} {
				b.sendKeys(t, "#vendor", j.vendor)
				b.sendKeys(t, "#product", j.product)
				b.sendKeys(t, "#version", version)
				b.submit(t, `main form[action$="/products"] button[type=submit]`, http.StatusOK)
				if p := b.path(t); p != base+"/products" || eval[int](t, b, `document.querySelectorAll('.error-summary').length`) != 0 {
					t.Fatalf("adding version %s: at %s (%s)", version, p, regErrorText(t, b))
				}
				check(t, l)
				regCheckFlash(t, b, tr("advedit.flash.product_added"))
			}
			rows := eval[[]string](t, b, `[...document.querySelectorAll('main table tbody tr')].map(tr => [...tr.children].slice(0, 4).map(c => c.innerText.trim()).join('|'))`)
			want := []string{"CSAFPID-0001|" + j.vendor + "|" + j.product + "|1.0", "CSAFPID-0002|" + j.vendor + "|" + j.product + "|1.1"}
			if strings.Join(rows, "\n") != strings.Join(want, "\n") {
				t.Errorf("products table %q, want %q", rows, want)
			}

			// A vulnerability: 1.0 known affected, 1.1 fixed, a vendor fix.
			b.submit(t, fmt.Sprintf(`main a[href=%q]`, base+"/vulnerabilities"), http.StatusOK)
			check(t, l)
			b.submit(t, fmt.Sprintf(`main a.button[href=%q]`, base+"/vulnerabilities/new"), http.StatusOK)
			check(t, l)
			b.sendKeys(t, "#cve", j.cve)
			b.sendKeys(t, "#title", j.vulnTitle)
			b.sendKeys(t, "#cwe_id", j.cweID)
			b.sendKeys(t, "#description", j.description)
			b.sendKeys(t, "#cvss3", vector)
			if ids := eval[[]string](t, b, `[...document.querySelectorAll('main input[type=hidden][name^="ps-"]')].map(i => i.value)`); strings.Join(ids, " ") != "CSAFPID-0001 CSAFPID-0002" {
				t.Fatalf("the product status selects are for %q, want CSAFPID-0001 and CSAFPID-0002", ids)
			}
			b.do(t, "status of 1.0", chromedp.SetValue(chromedp.CSS(`#ps-0`), "known_affected"))
			b.do(t, "status of 1.1", chromedp.SetValue(chromedp.CSS(`#ps-1`), "fixed"))
			b.do(t, "remediation category", chromedp.SetValue(chromedp.CSS(`#rem-0-category`), "vendor_fix"))
			b.sendKeys(t, "#rem-0-details", j.fix)
			b.sendKeys(t, "#rem-0-url", j.fixURL)
			b.submit(t, `main form[action$="/vulnerabilities/new"] button[type=submit]`, http.StatusOK)
			if p := b.path(t); p != base+"/vulnerabilities" {
				t.Fatalf("after the vulnerability at %s (%s), want %s/vulnerabilities", p, regErrorText(t, b), base)
			}
			check(t, l)
			regCheckFlash(t, b, tr("advedit.flash.vuln_saved"))
			row := b.text(t, "main table tbody tr")
			for _, w := range []string{j.cve, j.vulnTitle, T(l, "advedit.vulns.cvss3", map[string]any{"severity": tr("advedit.severity.CRITICAL"), "score": j.score})} {
				if !strings.Contains(row, w) {
					t.Errorf("vulnerabilities row %q lacks %q", row, w)
				}
			}
			// The form read back: the CWE's name from the CWE list, the statuses.
			b.submit(t, fmt.Sprintf(`main table a[href=%q]`, base+"/vulnerabilities/1"), http.StatusOK)
			check(t, l)
			if v := eval[string](t, b, `document.getElementById('cwe_name').value`); !strings.Contains(v, "OS Command") {
				t.Errorf("CWE name %q, want the CWE list's name of %s", v, j.cweID)
			}
			if v := eval[[]string](t, b, `['ps-0', 'ps-1', 'rem-0-category'].map(id => document.getElementById(id).value)`); strings.Join(v, " ") != "known_affected fixed vendor_fix" {
				t.Errorf("statuses and remediation read back as %q", v)
			}
		})

		step(l, "submit", func(t *testing.T) {
			b.submit(t, fmt.Sprintf(`a.back-link[href=%q]`, base+"/vulnerabilities"), http.StatusOK)
			check(t, l)
			backToOverview(t)
			b.submit(t, taskLink("preview"), http.StatusOK)
			check(t, l)
			if n := eval[int](t, b, `document.querySelectorAll('.error-summary').length`); n != 0 {
				t.Fatalf("the preview blocks publication: %s", b.text(t, ".error-summary"))
			}
			if s := b.text(t, "main .panel-result"); s != tr("advedit.preview.valid") {
				t.Errorf("preview says %q, want %q", s, tr("advedit.preview.valid"))
			}
			page := b.text(t, "main")
			for _, w := range []string{j.title, j.cve, j.fix, j.refSummary, `"id": "` + tid + `"`} {
				if !strings.Contains(page, w) {
					t.Errorf("the preview lacks %q", w)
				}
			}
			b.saveScreenshot(t, shots, "advisory-"+l+"-preview-1280.png")
			backToOverview(t)

			// Submitted for review as final, with a summary.
			regTick(t, b, `main form[action$="/submit"] input[name=status][value="final"]`)
			b.sendKeys(t, `main form[action$="/submit"] #summary`, "Initial version ("+l+")")
			b.submit(t, `main form[action$="/submit"] button[type=submit]`, http.StatusOK)
			if p := b.path(t); p != base {
				t.Fatalf("after submitting at %s (%s), want %s", p, regErrorText(t, b), base)
			}
			check(t, l)
			regCheckFlash(t, b, tr("advedit.flash.submitted"))
			stateTag(t, l, "review")

			// The author cannot approve: four eyes.
			if s := b.text(t, "main .warning-text"); s != tr("advedit.workflow.four_eyes_hint") {
				t.Errorf("four-eyes hint %q, want %q", s, tr("advedit.workflow.four_eyes_hint"))
			}
			regTick(t, b, `main input[name=when][value="now"]`)
			b.submit(t, `main form[action$="/approve"] button[type=submit]`, http.StatusForbidden)
			if p := b.path(t); p != base+"/approve" {
				t.Errorf("the refusal is at %s, want %s/approve", p, base)
			}
			check(t, l)
			if n := eval[int](t, b, `document.querySelectorAll('.error-summary').length`); n != 1 {
				t.Fatalf("%d error summaries after A's approval, want 1", n)
			}
			if s := b.text(t, ".error-summary"); !strings.Contains(s, tr("err.adv.four_eyes")) {
				t.Errorf("error summary %q lacks %q", s, tr("err.adv.four_eyes"))
			}
			if f := b.focused(t); !strings.Contains(f, "error-summary") {
				t.Errorf("focus is on %q, want the error summary", f)
			}
			if s := b.title(t); !strings.HasPrefix(s, tr("error.title_prefix")+" ") {
				t.Errorf("title %q does not start with %q", s, tr("error.title_prefix"))
			}
			stateTag(t, l, "review")
			b.signOut(t)
		})

		step(l, "approve", func(t *testing.T) {
			signIn(t, l, anaB.Email)
			followNav(t, l, "/"+l+"/advisories/manage")
			b.do(t, "choose the state", chromedp.SetValue(chromedp.CSS(`main form[role=search] select#state`), "review"))
			b.submit(t, `main form[role=search] button[type=submit]`, http.StatusOK)
			loc := run(t, b, "location", chromedp.Location())
			if u, err := url.Parse(loc); err != nil || u.Path != "/"+l+"/advisories/manage" || u.Query().Get("state") != "review" {
				t.Fatalf("the filter leads to %s, want /%s/advisories/manage?…state=review", loc, l)
			}
			check(t, l)
			if v := eval[string](t, b, `document.getElementById('state').value`); v != "review" {
				t.Errorf("the chosen state is not kept in the filter: %q", v)
			}
			if s := b.text(t, "main ul.chosen-filters"); !strings.Contains(s, tr("advedit.state.review")) {
				t.Errorf("chosen filters %q lack %q", s, tr("advedit.state.review"))
			}
			ids := eval[[]string](t, b, `[...document.querySelectorAll('main table tbody th[scope=row]')].map(th => th.innerText.trim())`)
			if !containsString(ids, tid) {
				t.Fatalf("advisories waiting for review %q lack %s", ids, tid)
			}
			b.submit(t, fmt.Sprintf(`main table a[href=%q]`, base), http.StatusOK)
			if p := b.path(t); p != base {
				t.Fatalf("at %s, want %s", p, base)
			}
			check(t, l)
			if n := eval[int](t, b, `document.querySelectorAll('main .warning-text').length`); n != 0 {
				t.Errorf("the reviewer is shown the four-eyes hint")
			}
			regTick(t, b, `main input[name=when][value="now"]`)
			b.submit(t, `main form[action$="/approve"] button[type=submit]`, http.StatusOK)
			if p := b.path(t); p != base {
				t.Fatalf("after approving at %s (%s), want %s", p, regErrorText(t, b), base)
			}
			check(t, l)
			regCheckFlash(t, b, tr("advedit.flash.published"))
			stateTag(t, l, "published")
			pub := eval[string](t, b, fmt.Sprintf(`[...document.querySelectorAll('main dl.summary-list .summary-row')].find(r => r.querySelector('dt').innerText.trim() === %q)?.querySelector('dd').innerText.trim() ?? ''`, tr("advedit.overview.published")))
			if v1 := T(l, "advedit.version_n", map[string]any{"n": 1}); !strings.HasPrefix(pub, v1+",") {
				t.Errorf("published: %q, want %s, …", pub, v1)
			}
			if s := b.text(t, "main table:has(#adv-versions) tbody th[scope=row]"); s != T(l, "advedit.version_n", map[string]any{"n": 1}) {
				t.Errorf("versions table: %q", s)
			}
			b.signOut(t)
		})

		step(l, "public", func(t *testing.T) {
			b.open(t, "/"+l+"/advisories")
			check(t, l)
			link := fmt.Sprintf(`main table a[href=%q]`, "/"+l+"/advisories/"+tid)
			if s := b.text(t, link); s != j.title {
				t.Errorf("the list links %q, want %q", s, j.title)
			}
			b.submit(t, link, http.StatusOK)
			check(t, l)
			if h := b.text(t, "h1"); h != j.title {
				t.Errorf("advisory h1 %q, want %q", h, j.title)
			}
			// The advisory's first summary list; each vulnerability has its own.
			sev := eval[string](t, b, fmt.Sprintf(`[...document.querySelector('main dl.summary-list').querySelectorAll(':scope > .summary-row')].find(r => r.querySelector('dt').innerText.trim() === %q)?.querySelector('dd').innerText.trim() ?? ''`, tr("advpub.field.severity")))
			for _, w := range []string{tr("advpub.severity.critical"), T(l, "advpub.view.cvss_score", map[string]any{"version": "3.1", "score": j.score}), vector} {
				if !strings.Contains(sev, w) {
					t.Errorf("severity %q lacks %q", sev, w)
				}
			}
			remedies := eval[[]string](t, b, `[...document.querySelectorAll('main .summary-card')].map(c => c.innerText.trim())`)
			if len(remedies) != 1 || !strings.Contains(remedies[0], tr("advpub.remediation.vendor_fix")) || !strings.Contains(remedies[0], j.fix) ||
				!strings.Contains(remedies[0], j.vendor+" "+j.product+" 1.0") {
				t.Errorf("what to do: %q, want one vendor fix %q for %s %s 1.0", remedies, j.fix, j.vendor, j.product)
			}
			products := eval[[]string](t, b, `[...document.querySelectorAll('#products-caption ~ tbody tr')].map(tr => [...tr.children].map(c => c.innerText.trim()).join('|'))`)
			wantProducts := []string{j.vendor + " " + j.product + "|1.0|" + tr("advpub.status.known_affected"),
				j.vendor + " " + j.product + "|1.1|" + tr("advpub.status.fixed")}
			if strings.Join(products, "\n") != strings.Join(wantProducts, "\n") {
				t.Errorf("products %q, want %q", products, wantProducts)
			}
			b.saveScreenshot(t, shots, "advisory-"+l+"-public-1280.png")

			// The CSAF JSON from the provider tree, as a client fetches it.
			hrefs := eval[[]string](t, b, `[...document.querySelectorAll('main a[href^="/.well-known/csaf/white/"][href$=".json"]')].map(a => a.getAttribute('href'))`)
			if len(hrefs) != 1 {
				t.Fatalf("links to the JSON in the provider tree: %q, want 1", hrefs)
			}
			m := jsonRE.FindStringSubmatch(hrefs[0])
			if year := tidRE.FindStringSubmatch(tid)[1]; m == nil || m[1] != year || m[2] != csaf.FileName(tid) {
				t.Errorf("JSON link %s, want /.well-known/csaf/white/%s/%s", hrefs[0], year, csaf.FileName(tid))
			}
			body := advFetch(t, e.Srv.URL+hrefs[0], "application/json")
			rep, err := csaf.Validate(body, csaf.PresetMandatory)
			if err != nil {
				t.Fatalf("validate %s: %v", hrefs[0], err)
			}
			if !rep.Valid || len(rep.Findings) > 0 {
				t.Errorf("%s is not valid CSAF: %+v", hrefs[0], rep.Findings)
			}
			var doc struct {
				Document struct {
					Lang     string `json:"lang"`
					Title    string `json:"title"`
					Tracking struct {
						ID      string `json:"id"`
						Status  string `json:"status"`
						Version string `json:"version"`
					} `json:"tracking"`
				} `json:"document"`
			}
			if err := json.Unmarshal(body, &doc); err != nil {
				t.Fatal(err)
			}
			if d := doc.Document; d.Tracking.ID != tid || d.Tracking.Version != "1" || d.Tracking.Status != "final" || d.Title != j.title || d.Lang != l {
				t.Errorf("document %+v, want tracking id %s, version 1, final, title %q, lang %s", d, tid, j.title, l)
			}
			for _, ext := range []string{".asc", ".sha256"} {
				if n := eval[int](t, b, fmt.Sprintf(`document.querySelectorAll('main a[href=%q]').length`, hrefs[0]+ext)); n != 1 {
					t.Errorf("%d links to %s%s, want 1", n, hrefs[0], ext)
				}
			}
			sig := advFetch(t, e.Srv.URL+hrefs[0]+".asc", "")
			if !strings.Contains(string(sig), "-----BEGIN PGP SIGNATURE-----") {
				t.Errorf("%s.asc is not an armoured signature: %.200s", hrefs[0], sig)
			}
			sum := sha256.Sum256(body)
			if f := strings.Fields(string(advFetch(t, e.Srv.URL+hrefs[0]+".sha256", ""))); len(f) != 2 || f[0] != hex.EncodeToString(sum[:]) || f[1] != csaf.FileName(tid) {
				t.Errorf("%s.sha256 says %q, want %s  %s", hrefs[0], f, hex.EncodeToString(sum[:]), csaf.FileName(tid))
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

// advFetch GETs u without a session and expects 200 and, when ctype is
// not empty, that Content-Type.
func advFetch(t *testing.T, u, ctype string) []byte {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d, want 200: %.300s", u, res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); ctype != "" && !strings.HasPrefix(ct, ctype) {
		t.Errorf("GET %s: Content-Type %q, want %s", u, ct, ctype)
	}
	return body
}
