package cases

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/web"
)

// sessions is an authenticator whose cookie value is the principal's
// e-mail address.
type sessions map[string]*auth.Principal

func (s sessions) Session(_ context.Context, token string) (*web.Session, error) {
	if p, ok := s[token]; ok {
		return &web.Session{Principal: p, Token: token, ExpiresAt: time.Now().Add(time.Hour)}, nil
	}
	return nil, errs.E(errs.Unauthenticated, "err.unauthenticated")
}

func (s sessions) Bearer(context.Context, string) (*auth.Principal, error) {
	return nil, errs.E(errs.Unauthenticated, "err.unauthenticated")
}

func testHandlers(t *testing.T, svc *Service, people sessions) (*handlers, http.Handler) {
	t.Helper()
	srv := web.NewServer(web.Config{Authority: "CCB", CSRFKey: []byte("0123456789abcdef0123456789abcdef")}, slog.New(slog.DiscardHandler),
		i18n.MustLoad(), people, prometheus.NewRegistry(), nil)
	svc.Routes(srv)
	hd, err := srv.Handler()
	if err != nil {
		t.Fatal(err)
	}
	return &handlers{svc: svc, srv: srv}, hd
}

func get(t *testing.T, hd http.Handler, who, path string) (int, string) {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	if who != "" {
		req.AddCookie(&http.Cookie{Name: "session", Value: who})
	}
	rec := httptest.NewRecorder()
	hd.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(b)
}

var (
	idRE       = regexp.MustCompile(`\sid="([^"]+)"`)
	forRE      = regexp.MustCompile(`\sfor="([^"]+)"`)
	describeRE = regexp.MustCompile(`aria-(?:describedby|labelledby)="([^"]+)"`)
	formRE     = regexp.MustCompile(`(?s)<form [^>]*method="post"[^>]*>.*?</form>`)
	inputRE    = regexp.MustCompile(`<(?:input|select|textarea) [^>]*>`)
	keyRE      = regexp.MustCompile(`\b(?:err\.)?casesui\.[a-z_.]+`)
)

// checkHTML asserts the structure every page of the cases keeps (UX.md
// section 4): one h1, unique ids, labels and descriptions that resolve,
// a label for every input, POST forms with novalidate and the CSRF token,
// and no message key left untranslated.
func checkHTML(t *testing.T, what, body string) {
	t.Helper()
	if n := strings.Count(body, "<h1"); n != 1 {
		t.Errorf("%s: %d h1", what, n)
	}
	ids := map[string]bool{}
	for _, m := range idRE.FindAllStringSubmatch(body, -1) {
		if ids[m[1]] {
			t.Errorf("%s: id %q twice", what, m[1])
		}
		ids[m[1]] = true
	}
	for _, m := range forRE.FindAllStringSubmatch(body, -1) {
		if !ids[m[1]] {
			t.Errorf("%s: label for %q has no field", what, m[1])
		}
	}
	for _, m := range describeRE.FindAllStringSubmatch(body, -1) {
		for _, id := range strings.Fields(m[1]) {
			if !ids[id] {
				t.Errorf("%s: aria reference %q resolves to nothing", what, id)
			}
		}
	}
	labels := map[string]bool{}
	for _, m := range forRE.FindAllStringSubmatch(body, -1) {
		labels[m[1]] = true
	}
	for _, in := range inputRE.FindAllString(body, -1) {
		if strings.Contains(in, `type="hidden"`) {
			continue
		}
		m := idRE.FindStringSubmatch(in)
		if m == nil || !labels[m[1]] {
			t.Errorf("%s: field without a label: %s", what, in)
		}
	}
	for _, f := range formRE.FindAllString(body, -1) {
		if !strings.Contains(f, "novalidate") || !strings.Contains(f, `name="csrf_token"`) {
			t.Errorf("%s: POST form without novalidate or CSRF token: %.200s", what, f)
		}
	}
	if k := keyRE.FindString(body); k != "" {
		t.Errorf("%s: message key %q shown as is", what, k)
	}
}

// TestCasePagesStructure renders every page of a worked case in every
// language, as an analyst and as an auditor, and checks its structure and
// that the case's TLP label is on it; an organisation's member gets 404.
func TestCasePagesStructure(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := f.analystCtx
		orgs := []int64{f.orgA}
		c, err := f.svc.Create(ctx, Input{Title: str("Ransomware at Grid A"), Description: str("**LockBit** note"), Template: "ransomware",
			TLP: str("RED"), Orgs: &orgs, Exercise: new(true)})
		if err != nil {
			t.Fatal(err)
		}
		other, _ := f.svc.Create(ctx, Input{Title: str("Other")})
		o, err := f.svc.AddObservable(ctx, c.ID, ObservableInput{Type: "ip", Value: "192.0.2.1", TLP: "AMBER", IOC: true})
		if err != nil {
			t.Fatal(err)
		}
		f.svc.AddObservable(ctx, other.ID, ObservableInput{Type: "ip", Value: "192.0.2.1", TLP: "GREEN"})
		f.svc.AddNote(ctx, c.ID, "A *note*", "")
		if _, err := f.svc.AddLink(ctx, c.ID, Link{Kind: "case", Target: other.Ref}); err != nil {
			t.Fatal(err)
		}
		people := sessions{"analyst": f.analyst, "auditor": f.auditor, "member": f.member}
		_, hd := testHandlers(t, f.svc, people)
		base := caseBase(c.ID)
		pages := []string{"/cases", "/cases?status=all&q=lockbit&severity=4", "/cases/new", "/cases/tasks", "/cases/tasks?overdue=yes&mine=yes",
			base, base + "/tasks", base + "/observables", base + "/observables/" + strconv.FormatInt(o.ID, 10), base + "/timeline"}
		for _, who := range []string{"analyst", "auditor"} {
			for _, l := range i18n.Locales {
				for _, p := range pages {
					if who == "auditor" && p == "/cases/new" {
						continue
					}
					code, body := get(t, hd, who, "/"+l+p)
					what := who + " " + l + p
					if code != http.StatusOK {
						t.Errorf("%s = %d", what, code)
						continue
					}
					checkHTML(t, what, body)
					if strings.HasPrefix(p, base) && (!strings.Contains(body, "TLP:RED") || !strings.Contains(body, i18n.MustLoad().T(l, "casesui.exercise_banner", nil))) {
						t.Errorf("%s: no TLP label or exercise banner", what)
					}
				}
			}
		}
		for _, p := range pages {
			if code, body := get(t, hd, "member", "/en"+p); code != http.StatusNotFound || strings.Contains(body, "Grid A") {
				t.Errorf("member GET %s = %d", p, code)
			}
		}
	})
}

func TestParseDue(t *testing.T) {
	h := &handlers{srv: web.NewServer(web.Config{}, slog.New(slog.DiscardHandler), i18n.MustLoad(), sessions{}, prometheus.NewRegistry(), nil)}
	form := func(d, mo, y, hh, mi string) url.Values {
		return url.Values{"due-day": {d}, "due-month": {mo}, "due-year": {y}, "due-hour": {hh}, "due-minute": {mi}}
	}
	for _, tc := range []struct {
		form url.Values
		want string // RFC 3339, "" for none, or an error code
	}{
		{form("28", "11", "2026", "14", "05"), "2026-11-28T13:05:00Z"}, // CET
		{form("30", "4", "2027", "10", "00"), "2027-04-30T08:00:00Z"},  // CEST
		{form(" 1", "01", "2027", "0", "0"), "2026-12-31T23:00:00Z"},
		{form("", "", "", "", ""), ""},
		{form("28", "11", "", "14", "05"), "err.casesui.due_incomplete"},
		{form("31", "4", "2027", "10", "00"), "err.casesui.due_invalid"},
		{form("28", "13", "2026", "10", "00"), "err.casesui.due_invalid"},
		{form("28", "11", "2026", "24", "00"), "err.casesui.due_invalid"},
		{form("xx", "11", "2026", "10", "00"), "err.casesui.due_invalid"},
	} {
		got, err := h.parseDue(tc.form, "due", "due")
		var s string
		switch {
		case err != nil:
			e, _ := errs.As(err)
			s = e.Fields[0].Code
		case got != nil:
			s = got.Format(time.RFC3339)
		}
		if s != tc.want {
			t.Errorf("parseDue(%v) = %q, want %q", tc.form, s, tc.want)
		}
		if got != nil {
			back := url.Values{}
			h.setDue(back, "due", got)
			if again, _ := h.parseDue(back, "due", "due"); again == nil || !again.Equal(*got) {
				t.Errorf("setDue(%s) does not read back: %v", got, back)
			}
		}
	}
}

func TestDurationAndDue(t *testing.T) {
	h := &handlers{srv: web.NewServer(web.Config{}, slog.New(slog.DiscardHandler), i18n.MustLoad(), sessions{}, prometheus.NewRegistry(), nil)}
	r := httptest.NewRequest("GET", "/", nil) // English without a locale in the context
	for d, want := range map[time.Duration]string{
		45 * time.Minute: "45 min", 2*time.Hour + 10*time.Minute: "2 h 10 min", 2 * time.Hour: "2 h",
		50*time.Hour + 59*time.Minute: "2 d 2 h", 7 * 24 * time.Hour: "7 d", 30 * time.Second: "0 min",
	} {
		if got := h.duration(r, d); got != want {
			t.Errorf("duration(%s) = %q, want %q", d, got, want)
		}
	}
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	at := now.Add(-(2*time.Hour + 10*time.Minute + 30*time.Second))
	if v := h.due(r, &at, now, true); v.Overdue != "2 h 10 min" || v.Left != "" || v.Offset != "UTC+1" || v.At.Second() != 0 {
		t.Errorf("overdue %+v", v)
	}
	at = now.Add(45 * time.Minute)
	if v := h.due(r, &at, now, true); v.Left != "45 min" || !v.Soon || v.Overdue != "" {
		t.Errorf("due soon %+v", v)
	}
	if v := h.due(r, &at, now, false); v.Left != "" || v.Overdue != "" {
		t.Errorf("a done task has no relative time: %+v", v)
	}
	if h.due(r, nil, now, true) != nil {
		t.Error("no due time")
	}
	if got := h.slaText(r, "4h"); got != "Service level: within 4 h of opening the case" {
		t.Errorf("slaText = %q", got)
	}
}

func TestFormReaders(t *testing.T) {
	if ids, err := eventIDs("12, 13;14\n15"); err != nil || len(ids) != 4 || ids[3] != 15 {
		t.Errorf("eventIDs = %v, %v", ids, err)
	}
	if _, err := eventIDs("12, abc"); !errs.Is(err, errs.Invalid) {
		t.Errorf("eventIDs(abc) = %v", err)
	}
	in, err := newInput(url.Values{"title": {" "}, "severity": {""}, "tlp": {"AMBER"}, "pap": {"RED"}, "exercise": {"yes"},
		"organisations": {"3", "4"}})
	if err != nil || in.Title != nil || in.Severity != nil || *in.TLP != "AMBER" || !*in.Exercise || len(*in.Orgs) != 2 {
		t.Errorf("newInput = %+v, %v", in, err)
	}
	if _, err := newInput(url.Values{"organisations": {"x"}}); !errs.Is(err, errs.Invalid) {
		t.Errorf("newInput(bad organisation) = %v", err)
	}
	h := &handlers{}
	me := &auth.Principal{UserID: 7}
	for q, want := range map[string]string{
		"": "active", "status=all": "", "status=closed": "closed", "assignee=me": "active/7", "exercise=yes&severity=3": "active/x/3",
	} {
		v, _ := url.ParseQuery(q)
		f, val := h.listFilter(v, me)
		got := f.Status
		if f.AssigneeID != 0 {
			got += "/" + strconv.FormatInt(f.AssigneeID, 10)
		}
		if f.Exercise != nil && *f.Exercise {
			got += "/x/" + strconv.Itoa(f.Severity)
		}
		if got != want || val.Err() != nil {
			t.Errorf("listFilter(%q) = %q, %v; want %q", q, got, val.Err(), want)
		}
	}
	for _, q := range []string{"status=bogus", "severity=9", "assignee=you", "org=x", "template=nope", "exercise=maybe"} {
		v, _ := url.ParseQuery(q)
		if _, val := h.listFilter(v, me); val.Err() == nil {
			t.Errorf("listFilter(%q) accepted", q)
		}
	}
}
