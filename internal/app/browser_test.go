package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/pquerna/otp/totp"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/identity"
	"github.com/belfry-cert/belfry/internal/reporting"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// TestBrowser drives the real portal in headless Chromium with JavaScript
// disabled, as UX.md §4 asks: sign-in, the error summary, two-step
// verification, the language switcher, the accessibility statement and
// reflow at 320 px. It needs Debian's chromium: locally the test skips
// without it, under CI=true it fails.
func TestBrowser(t *testing.T) {
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
	org := e.Org(t, "Acme Water", "entity")
	// No dot in the local part: the name shown in the header must not look
	// like a message key to the raw-key check.
	email := "ann-browser@acme.example"
	e.User(t, org.ID, email, "member")
	const name = "ann-browser" // webtest.User names users after the local part

	shots := t.TempDir()
	// A hard cap for the whole run; it normally takes 20–50 s, depending on
	// how long it waits for the next TOTP step.
	b := newBrowser(t, exe, e.Srv.URL, 100*time.Second)
	if got := eval[int](t, b, `1 + 1`); got != 2 {
		t.Fatalf("CDP evaluation with scripts disabled = %d, want 2", got)
	}
	if got := eval[[]string](t, b, rawKeyJS); len(got) != 1 || got[0] != "p: login.title" {
		t.Fatalf("the raw-key check finds %q on a page showing login.title", got)
	}

	// step runs a subtest; after one stops with Fatal, the later ones,
	// which build on its state, are skipped.
	broken := ""
	step := func(name string, f func(t *testing.T)) {
		t.Run(name, func(t *testing.T) {
			if broken != "" {
				t.Skipf("skipped: step %q stopped", broken)
			}
			done := false
			defer func() {
				if !done {
					broken = name
				}
			}()
			f(t)
			done = true
		})
	}

	password := webtest.Password(email)
	var homeEN string // the English h1 of the signed-in home page

	step("login", func(t *testing.T) {
		b.open(t, "/en/login")
		b.checkPage(t, "en")
		b.login(t, email, password)
		if p := b.path(t); p != "/en/" && p != "/en" {
			t.Fatalf("after sign-in at %s, want the home page /en/", p)
		}
		b.checkPage(t, "en")
		homeEN = b.text(t, "h1")
		if want := e.App.Catalog.T("en", "home.welcome", map[string]any{"name": name}); homeEN != want {
			t.Errorf("h1 = %q, want %q", homeEN, want)
		}
		b.checkLandmarks(t)
		b.checkSkipLink(t)
	})

	step("wrong password", func(t *testing.T) {
		b.signOut(t)
		if p := b.path(t); p != "/en/login" {
			t.Fatalf("after sign-out at %s, want /en/login", p)
		}
		b.checkPage(t, "en")
		b.sendKeys(t, "#email", email)
		b.sendKeys(t, "#password", "not-the-password")
		b.submit(t, `main form[action$="/login"] button[type=submit]`, http.StatusUnauthorized)
		b.checkPage(t, "en")
		if n := eval[int](t, b, `document.querySelectorAll('.error-summary').length`); n != 1 {
			t.Fatalf("%d error summaries, want 1", n)
		}
		if n := eval[int](t, b, `document.querySelectorAll('.error-summary a[href="#email"]').length`); n != 1 {
			t.Errorf("error summary has %d links to #email, want 1", n)
		}
		if title := b.title(t); !strings.HasPrefix(title, "Error:") {
			t.Errorf("title %q does not start with %q", title, "Error:")
		}
		if v := b.attr(t, "#email", "aria-invalid"); v != "true" {
			t.Errorf(`#email aria-invalid = %q, want "true"`, v)
		}
		if v := eval[string](t, b, `document.getElementById('email').value`); v != email {
			t.Errorf("#email lost its value: %q, want %q", v, email)
		}
		// The summary has autofocus, which the browser honours without
		// script (UX §4.8: "summary present and focused").
		if f := b.focused(t); !strings.Contains(f, "error-summary") {
			t.Errorf("focus after the failed sign-in is on %q, want the error summary", f)
		}
		b.login(t, email, password)
		if p := b.path(t); p != "/en/" && p != "/en" {
			t.Fatalf("after sign-in at %s, want /en/", p)
		}
	})

	// TOTP: enrol now, sign in with a second factor at the end, so that the
	// next 30-second step (the server refuses a replayed step) comes while
	// the other steps run instead of in a sleep.
	var lastStep int64 = -1
	var lastCode, secret string
	step("totp enrolment", func(t *testing.T) {
		b.open(t, "/en/account")
		b.checkPage(t, "en")
		b.submit(t, `main a[href="/en/account/totp"]`, http.StatusOK)
		if p := b.path(t); p != "/en/account/totp" {
			t.Fatalf("at %s, want /en/account/totp", p)
		}
		b.checkPage(t, "en")
		secret = strings.Join(strings.Fields(b.text(t, ".secret")), "")
		if secret == "" {
			t.Fatal("no secret on the enrolment page")
		}
		now := time.Now()
		code, err := totp.GenerateCode(secret, now)
		if err != nil {
			t.Fatalf("secret %q: %v", secret, err)
		}
		lastStep, lastCode = now.Unix()/30, code
		b.sendKeys(t, "#code", code)
		b.submit(t, `form[action$="/account/totp"] button[type=submit]`, http.StatusOK)
		b.checkPage(t, "en")
		if n := eval[int](t, b, `document.querySelectorAll('.error-summary').length`); n != 0 {
			t.Fatalf("enrolment refused the code: %s", b.text(t, ".error-summary"))
		}
		if n := eval[int](t, b, `document.querySelectorAll('ol.recovery-codes li').length`); n != 10 {
			t.Errorf("%d recovery codes, want 10", n)
		}
		if n := eval[int](t, b, `[...document.querySelectorAll('ol.recovery-codes li')].filter(li => li.innerText.trim() !== '').length`); n != 10 {
			t.Errorf("%d non-empty recovery codes, want 10", n)
		}
	})

	step("language", func(t *testing.T) {
		b.open(t, "/en/")
		for _, l := range []string{"fr", "nl", "de"} {
			b.submit(t, fmt.Sprintf(`nav.lang-nav a[lang=%q]`, l), http.StatusOK)
			if p := b.path(t); !strings.HasPrefix(p, "/"+l+"/") {
				t.Errorf("after choosing %s at %s, want /%s/…", l, p, l)
			}
			b.checkPage(t, l)
			h1 := b.text(t, "h1")
			if h1 == homeEN || h1 == "" {
				t.Errorf("%s: h1 %q is not translated (English %q)", l, h1, homeEN)
			}
			if want := e.App.Catalog.T(l, "home.welcome", map[string]any{"name": name}); h1 != want {
				t.Errorf("%s: h1 %q, want %q", l, h1, want)
			}
			cur := eval[[]string](t, b, `[...document.querySelectorAll('nav.lang-nav a[aria-current]')].map(a => a.lang + '=' + a.getAttribute('aria-current'))`)
			if len(cur) != 1 || cur[0] != l+"=true" {
				t.Errorf("%s: aria-current links in the language navigation: %q, want [%s=true]", l, cur, l)
			}
		}
	})

	step("accessibility statement", func(t *testing.T) {
		b.submit(t, `nav.lang-nav a[lang="fr"]`, http.StatusOK)
		if n := eval[int](t, b, `document.querySelectorAll('footer a[href="/fr/accessibility"]').length`); n != 1 {
			t.Fatalf("the French footer has %d links to /fr/accessibility, want 1", n)
		}
		b.submit(t, `footer a[href="/fr/accessibility"]`, http.StatusOK)
		if p := b.path(t); p != "/fr/accessibility" {
			t.Fatalf("at %s, want /fr/accessibility", p)
		}
		b.checkPage(t, "fr")
		if h1 := b.text(t, "h1"); h1 != e.App.Catalog.T("fr", "a11y.title", nil) {
			t.Errorf("h1 %q, want the French title %q", h1, e.App.Catalog.T("fr", "a11y.title", nil))
		}
		b.checkLandmarks(t)
	})

	step("reflow 320", func(t *testing.T) {
		b.do(t, "viewport 320", chromedp.EmulateViewport(320, 640))
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
			defer cancel()
			_ = chromedp.Do(ctx, chromedp.ResetViewport())
		})
		b.open(t, "/fr/")
		b.checkPage(t, "fr")
		sw := eval[[]int](t, b, `[document.documentElement.scrollWidth, document.documentElement.clientWidth]`)
		if sw[0] > sw[1] {
			wide := eval[[]string](t, b, `[...document.body.querySelectorAll('*')].filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5).slice(0, 8).map(el => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).trim().replace(/\s+/g, '.') : '') + ' right=' + Math.round(el.getBoundingClientRect().right))`)
			t.Errorf("horizontal scroll at 320 px: scrollWidth %d > clientWidth %d; too wide: %q", sw[0], sw[1], wide)
		}
		b.saveScreenshot(t, shots, "home-fr-320.png")
		// The wide layout too (UX §4: key pages at 320 and 1280 px).
		b.do(t, "viewport 1280", chromedp.EmulateViewport(1280, 900))
		b.open(t, "/fr/")
		b.saveScreenshot(t, shots, "home-fr-1280.png")
	})

	step("totp sign-in", func(t *testing.T) {
		b.open(t, "/en/")
		b.signOut(t)
		b.login(t, email, password)
		if p := b.path(t); p != "/en/login/totp" {
			t.Fatalf("after the password of a TOTP user at %s, want /en/login/totp", p)
		}
		b.checkPage(t, "en")
		code := nextTOTP(t, secret, lastStep, lastCode)
		b.sendKeys(t, "#code", code)
		b.submit(t, `main form[action$="/login/totp"]:has(#code) button[type=submit]`, http.StatusOK)
		if n := eval[int](t, b, `document.querySelectorAll('.error-summary').length`); n != 0 {
			t.Fatalf("second factor refused: %s", b.text(t, ".error-summary"))
		}
		if p := b.path(t); p != "/en/" && p != "/en" {
			t.Fatalf("after the second factor at %s, want /en/", p)
		}
		b.checkPage(t, "en")
		if h := b.text(t, "h1"); h != homeEN {
			t.Errorf("h1 after two-step sign-in = %q, want %q", h, homeEN)
		}
		if n := eval[int](t, b, `document.querySelectorAll('header form[action$="/logout"]').length`); n != 1 {
			t.Errorf("not signed in after the second factor: %d sign-out forms in the header", n)
		}
	})
}

// newBrowser starts headless Chromium (exe) with page scripts turned off,
// for the portal at base, and proves that scripts really do not run. The
// whole run is capped at limit. The profile directory is created before
// the allocator so that its cleanup runs after Chromium has exited
// (cleanups run last in, first out).
func newBrowser(t *testing.T, exe, base string, limit time.Duration) *browser {
	t.Helper()
	profile := t.TempDir()
	root, cancelRoot := context.WithTimeout(context.Background(), limit)
	t.Cleanup(cancelRoot)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(root,
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(profile),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.WindowSize(1280, 900),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	b := &browser{ctx: ctx, base: base}
	// Start the browser with the long-lived context, then turn page
	// scripts off before the first navigation. The setting belongs to the
	// tab and survives navigations.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	b.call(t, "disable scripts", func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	})
	b.do(t, "sanity page", chromedp.Navigate(`data:text/html,<title>nojs</title><script>document.title="js"</script><p>login.title</p>`))
	if got := b.title(t); got != "nojs" {
		t.Fatalf("page script ran although scripts are disabled: title %q", got)
	}
	return b
}

// chromiumPath returns Debian's Chromium, or "" when it is missing.
func chromiumPath() string {
	if fi, err := os.Stat("/usr/bin/chromium"); err == nil && !fi.IsDir() {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// nextTOTP returns a code for a time step after lastStep, waiting for the
// next 30-second step when needed: the server refuses a replayed step.
func nextTOTP(t *testing.T, secret string, lastStep int64, lastCode string) string {
	t.Helper()
	deadline := time.Now().Add(35 * time.Second)
	for {
		now := time.Now()
		code, err := totp.GenerateCode(secret, now)
		if err != nil {
			t.Fatal(err)
		}
		if now.Unix()/30 > lastStep && code != lastCode {
			return code
		}
		if now.After(deadline) {
			t.Fatalf("no fresh TOTP step before %s", deadline.Format(time.TimeOnly))
		}
		next := time.Unix((now.Unix()/30+1)*30, 0).Add(200 * time.Millisecond)
		t.Logf("waiting %s for the next TOTP step", time.Until(next).Round(100*time.Millisecond))
		time.Sleep(min(time.Until(next), time.Until(deadline)) + 10*time.Millisecond)
	}
}

// browser is one Chromium tab with page scripts disabled.
type browser struct {
	ctx  context.Context
	base string
}

const stepTimeout = 15 * time.Second

func (b *browser) call(t *testing.T, what string, f func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := f(ctx); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func (b *browser) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	b.call(t, what, func(ctx context.Context) error { return chromedp.Do(ctx, steps...) })
}

func run[T any](t *testing.T, b *browser, what string, a chromedp.Action[T]) T {
	t.Helper()
	var v T
	b.call(t, what, func(ctx context.Context) (err error) {
		v, err = chromedp.Run(ctx, a)
		return err
	})
	return v
}

// eval evaluates an expression through CDP (Runtime.evaluate), which works
// although page scripts are disabled.
func eval[T any](t *testing.T, b *browser, expr string) T {
	t.Helper()
	return run(t, b, "evaluate "+expr, chromedp.Evaluate[T](expr))
}

// open navigates to a portal path and expects 200.
func (b *browser) open(t *testing.T, path string) {
	t.Helper()
	res := run(t, b, "open "+path, chromedp.NavigateResponse(b.base+path))
	if res == nil {
		t.Fatalf("GET %s: no document response", path)
	}
	if res.Status != http.StatusOK {
		t.Fatalf("GET %s: status %d", path, res.Status)
	}
}

// submit clicks the element (a button or a link) and waits for the page
// it leads to; want is the expected status of the final document, 0 for
// any.
func (b *browser) submit(t *testing.T, sel string, want int64) {
	t.Helper()
	if n := eval[int](t, b, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)); n != 1 {
		t.Fatalf("%d elements match %s on %s, want 1", n, sel, b.path(t))
	}
	var res *responseInfo
	b.call(t, "click "+sel, func(ctx context.Context) error {
		r, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
		if r != nil {
			res = &responseInfo{status: r.Status, url: r.URL}
		}
		return err
	})
	if res == nil {
		t.Fatalf("click %s: no document response", sel)
	}
	if want != 0 && res.status != want {
		t.Fatalf("click %s: %s answered %d, want %d", sel, res.url, res.status, want)
	}
}

type responseInfo struct {
	status int64
	url    string
}

// sendKeys empties the field, then types s into it key by key.
func (b *browser) sendKeys(t *testing.T, sel, s string) {
	t.Helper()
	// (chromedp.SetValue cannot set "": it reads the empty result back as
	// a failure.)
	eval[chromedp.Void](t, b, fmt.Sprintf(`document.querySelector(%q).value = ''`, sel))
	b.do(t, "type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), s))
}

func (b *browser) login(t *testing.T, email, password string) {
	t.Helper()
	b.sendKeys(t, "#email", email)
	b.sendKeys(t, "#password", password)
	b.submit(t, `main form[action$="/login"] button[type=submit]`, http.StatusOK)
}

// signOut presses the sign-out button in the header.
func (b *browser) signOut(t *testing.T) {
	t.Helper()
	b.submit(t, `header form[action$="/logout"] button[type=submit]`, http.StatusOK)
}

func (b *browser) path(t *testing.T) string {
	t.Helper()
	loc := run(t, b, "location", chromedp.Location())
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("location %q: %v", loc, err)
	}
	return u.Path
}

func (b *browser) title(t *testing.T) string {
	t.Helper()
	return run(t, b, "title", chromedp.Title())
}

// text returns the trimmed rendered text of the single element matching sel.
func (b *browser) text(t *testing.T, sel string) string {
	t.Helper()
	v := eval[[]string](t, b, fmt.Sprintf(`[...document.querySelectorAll(%q)].map(el => el.innerText.trim())`, sel))
	if len(v) != 1 {
		t.Fatalf("%d elements match %s on %s, want 1", len(v), sel, b.path(t))
	}
	return v[0]
}

func (b *browser) attr(t *testing.T, sel, name string) string {
	t.Helper()
	return eval[string](t, b, fmt.Sprintf(`(document.querySelector(%q)?.getAttribute(%q)) ?? ''`, sel, name))
}

// focused describes document.activeElement as tag#id.class[href].
func (b *browser) focused(t *testing.T) string {
	t.Helper()
	return eval[string](t, b, `(() => { const a = document.activeElement; if (!a || a === document.body) return 'body';
		return a.tagName.toLowerCase() + (a.id ? '#' + a.id : '') + (a.className ? '.' + String(a.className).trim().replace(/\s+/g, '.') : '') + (a.getAttribute('href') ? '[href=' + a.getAttribute('href') + ']' : ''); })()`)
}

// saveScreenshot saves a full-page PNG under dir and, when
// BELFRY_SCREENSHOTS names a directory, there too.
func (b *browser) saveScreenshot(t *testing.T, dir, name string) {
	t.Helper()
	png := run(t, b, "screenshot", chromedp.FullScreenshot(100)) // quality 100: PNG
	dirs := []string{dir}
	if d := os.Getenv("BELFRY_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		if err := os.WriteFile(filepath.Join(d, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshot %s (%d bytes) in %q", name, len(png), dirs)
}

// rawKeyJS lists the rendered elements whose whole text, or whose
// accessible-name attributes, look like an untranslated message key
// ("login.title"), and the title's first part.
const rawKeyJS = `(() => {
	const re = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/;
	const out = [];
	const t = document.title.split(' – ')[0].trim();
	if (re.test(t)) out.push('title: ' + t);
	for (const el of document.querySelectorAll('body, body *')) {
		if (!el.checkVisibility()) continue;
		const s = (el.innerText || '').trim();
		// Report the innermost element only.
		if (re.test(s) && ![...el.children].some(c => (c.innerText || '').trim() === s)) out.push(el.tagName.toLowerCase() + ': ' + s);
		for (const a of ['aria-label', 'alt', 'title', 'placeholder']) {
			const v = (el.getAttribute(a) || '').trim();
			if (re.test(v)) out.push(el.tagName.toLowerCase() + '[' + a + ']: ' + v);
		}
		if (el.tagName === 'INPUT' && (el.type === 'submit' || el.type === 'button') && re.test(el.value.trim())) out.push('input[value]: ' + el.value);
	}
	return [...new Set(out)];
})()`

// checkPage runs the checks every page gets: <html lang> equals the path
// locale and lang, a non-empty title, one h1 and no raw message keys.
func (b *browser) checkPage(t *testing.T, lang string) {
	t.Helper()
	p := b.path(t)
	if seg := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 2)[0]; seg != lang {
		t.Errorf("%s: path locale %q, want %q", p, seg, lang)
	}
	if got := eval[string](t, b, `document.documentElement.getAttribute('lang') ?? ''`); got != lang {
		t.Errorf(`%s: <html lang=%q>, want %q`, p, got, lang)
	}
	if title := b.title(t); strings.TrimSpace(title) == "" {
		t.Errorf("%s: empty <title>", p)
	}
	if n := eval[int](t, b, `document.querySelectorAll('h1').length`); n != 1 {
		t.Errorf("%s: %d h1 elements, want 1", p, n)
	}
	if raw := eval[[]string](t, b, rawKeyJS); len(raw) > 0 {
		t.Errorf("%s: raw message keys on the page: %q", p, raw)
	}
}

// checkLandmarks counts the landmarks in the accessibility tree Chromium
// computes: exactly one main, banner and contentinfo.
func (b *browser) checkLandmarks(t *testing.T) {
	t.Helper()
	var nodes []*accessibility.Node
	b.call(t, "accessibility tree", func(ctx context.Context) error {
		res, err := chromedp.Call(ctx, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
		nodes = res.Nodes
		return err
	})
	count := map[string]int{}
	for _, n := range nodes {
		if n.Ignored || n.Role == nil {
			continue
		}
		var role string
		if err := json.Unmarshal([]byte(n.Role.Value), &role); err == nil {
			count[role]++
		}
	}
	for _, role := range []string{"main", "banner", "contentinfo"} {
		if count[role] != 1 {
			t.Errorf("%s: %d %s landmarks in the accessibility tree, want 1", b.path(t), count[role], role)
		}
	}
}

// checkSkipLink presses Tab once from the top of the page: the skip link
// must take focus, and following it must move focus into main.
func (b *browser) checkSkipLink(t *testing.T) {
	t.Helper()
	p := b.path(t)
	b.open(t, p) // a fresh document: nothing focused
	if f := b.focused(t); f != "body" {
		t.Fatalf("%s: focus on %s before any key press", p, f)
	}
	b.do(t, "Tab", chromedp.KeyEvent(kb.Tab))
	f := b.focused(t)
	if !strings.Contains(f, ".skip-link") || !strings.Contains(f, "[href=#main]") {
		t.Fatalf("%s: the first Tab stop is %s, want the skip link a.skip-link[href=#main]", p, f)
	}
	if s := b.text(t, ".skip-link"); s == "" {
		t.Errorf("%s: the skip link has no text", p)
	}
	b.do(t, "Enter", chromedp.KeyEvent(kb.Enter))
	b.do(t, "settle", chromedp.Sleep(100*time.Millisecond))
	if f := b.focused(t); f != "main#main" {
		t.Errorf("%s: after following the skip link focus is on %s, want main#main", p, f)
	}
}

// journeySteps returns the runner of a browser journey's steps: each runs
// as a subtest, and after one stops with Fatal the later steps of the
// same language, which build on its state, are skipped; the other
// languages start afresh. broken names the step that stopped a language,
// or "".
func journeySteps(t *testing.T) (step func(lang, name string, f func(t *testing.T)), broken map[string]string) {
	broken = map[string]string{}
	return func(lang, name string, f func(t *testing.T)) {
		t.Run(name+" "+lang, func(t *testing.T) {
			if broken[lang] != "" {
				t.Skipf("skipped: step %q stopped", broken[lang])
			}
			done := false
			defer func() {
				if !done {
					broken[lang] = name
				}
			}()
			f(t)
			done = true
		})
	}, broken
}

// fileEarlyWarning has member mem file an incident with its early warning,
// as internal/demo/reporting.go does, and returns the incident's
// reference: the start of the case journeys.
func fileEarlyWarning(t *testing.T, e *webtest.Env, mem *identity.User, title, summary, key string) string {
	t.Helper()
	as := auth.With(t.Context(), &auth.Principal{UserID: mem.ID, OrgID: mem.OrgID, OrgKind: "entity", Email: mem.Email, Name: mem.Name, Roles: mem.Roles})
	inc, err := e.App.Reports.CreateIncident(as, reporting.IncidentInput{Title: title, AwareAt: time.Now().Add(-3 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Reports.Submit(as, inc.ID, reporting.EarlyWarning, reporting.Content{IncidentStatus: "ongoing",
		Summary: summary, SuspectedMalicious: "yes", CrossBorder: "no", TLP: "amber",
		Notifier: &reporting.Person{Name: mem.Name, Email: mem.Email, Phone: "+32 3 200 00 00"}},
		reporting.SubmitOptions{IdempotencyKey: key}); err != nil {
		t.Fatal(err)
	}
	return inc.Ref
}
