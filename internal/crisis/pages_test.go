package crisis

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
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

// sessions is an authenticator whose cookie value names the principal.
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

func testServer(t *testing.T, svc *Service, people sessions) http.Handler {
	t.Helper()
	srv := web.NewServer(web.Config{Authority: "CCB", CSRFKey: []byte("0123456789abcdef0123456789abcdef")}, slog.New(slog.DiscardHandler),
		i18n.MustLoad(), people, prometheus.NewRegistry(), nil)
	svc.Routes(srv)
	hd, err := srv.Handler()
	if err != nil {
		t.Fatal(err)
	}
	return hd
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
	keyRE      = regexp.MustCompile(`\b(?:err\.)?crisis(?:ui)?\.[a-z_]+\.[a-z_.]+`)
	titleRE    = regexp.MustCompile(`<title>([^<]*)</title>`)
)

// checkHTML asserts the structure every crisis page keeps (UX.md section
// 4): one h1, unique ids, labels and descriptions that resolve, a label
// for every input, POST forms with novalidate and the CSRF token, and no
// message key left untranslated.
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
	labels := map[string]bool{}
	for _, m := range forRE.FindAllStringSubmatch(body, -1) {
		if !ids[m[1]] {
			t.Errorf("%s: label for %q has no field", what, m[1])
		}
		labels[m[1]] = true
	}
	for _, m := range describeRE.FindAllStringSubmatch(body, -1) {
		for _, id := range strings.Fields(m[1]) {
			if !ids[id] {
				t.Errorf("%s: aria reference %q resolves to nothing", what, id)
			}
		}
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

// TestCrisisPagesStructure renders every page of a worked exercise crisis
// in every language, as its lead, as an organisation contributing and as
// one reading sitreps only, and checks the structure, the TLP label and
// the EXERCISE marks; forms are shown only to those who may send them; an
// organisation that takes no part gets 404 everywhere.
func TestCrisisPagesStructure(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.svc.SetCatalog(i18n.MustLoad())
		lead := f.as(f.lead)
		c := f.declare(t, DeclareInput{Title: "Grid blackout", Exercise: true, TLP: "RED", SitrepInterval: 60})
		if _, err := f.svc.AddParticipant(lead, c.ID, ParticipantInput{OrgID: f.orgA, Party: "affected_organisation", Access: "sitreps"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AddParticipant(lead, c.ID, ParticipantInput{OrgID: f.orgB, Party: "sector_authority", Access: "contribute",
			Name: "Desk", Email: "desk@b.example"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AddDecision(lead, c.ID, DecisionInput{Decision: "Isolate the substations", Basis: "CERT advice"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SetSectors(lead, c.ID, []string{"energy"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AddOrg(lead, c.ID, AffectedOrgInput{Name: "Substation operator", Note: "three sites"}); err != nil {
			t.Fatal(err)
		}
		due := f.now.Add(-30 * time.Minute)
		if _, err := f.svc.SaveAction(lead, c.ID, 0, ActionInput{Title: str("Call the DSO"), DueAt: &due}); err != nil {
			t.Fatal(err)
		}
		pub, err := f.svc.CreateSitrep(lead, c.ID, SitrepInput{Situation: str("Three substations down")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.PublishSitrep(lead, c.ID, pub.ID, PublishInput{}); err != nil {
			t.Fatal(err)
		}
		draft, err := f.svc.CreateSitrep(lead, c.ID, SitrepInput{Situation: str("Restoring")})
		if err != nil {
			t.Fatal(err)
		}
		ps, _ := f.svc.Participants(lead, c.ID)
		co, err := f.svc.SendCallout(lead, c.ID, CalloutInput{Subject: "Bridge call at 10:00", Message: "Join the bridge", Participants: []int64{ps[0].ID}})
		if err != nil {
			t.Fatal(err)
		}
		f.now = f.now.Add(2 * time.Hour) // the sitrep and the action are overdue
		people := sessions{"lead": f.lead, "memA": f.memA, "memB": f.memB, "memC": f.memC, "other": f.other}
		hd := testServer(t, f.svc, people)
		base := crisisBase(c.ID)
		pages := []string{"/crises", "/crises/new", "/crises/new?case=CASE-2026-000001", "/crises/directory", "/crises/directory?q=grid&sector=energy",
			base, base + "/participants", base + "/decisions", base + "/actions", base + "/sitreps", base + "/sitreps/new",
			fmt.Sprintf("%s/sitreps/%d", base, pub.ID), fmt.Sprintf("%s/sitreps/%d", base, draft.ID),
			base + "/callouts", base + "/callouts?q=grid", fmt.Sprintf("%s/callouts/%d", base, co.ID), base + "/edit", base + "/timeline"}
		cat := i18n.MustLoad()
		for _, l := range i18n.Locales {
			for _, p := range pages {
				code, body := get(t, hd, "lead", "/"+l+p)
				what := "lead " + l + p
				if code != http.StatusOK {
					t.Errorf("%s = %d", what, code)
					continue
				}
				checkHTML(t, what, body)
				if strings.HasPrefix(p, base) {
					title := titleRE.FindStringSubmatch(body)
					if !strings.Contains(body, "TLP:RED") || strings.Count(body, "EXERCISE — EXERCISE — EXERCISE") != 2 ||
						title == nil || !strings.HasPrefix(title[1], "[EXERCISE] ") || !strings.Contains(title[1], "TLP:RED") {
						t.Errorf("%s: TLP label, exercise banners or title missing", what)
					}
				}
			}
			// The situation picture in words: level number and name, the
			// overdue sitrep and action.
			_, body := get(t, hd, "lead", "/"+l+base)
			for _, s := range []string{cat.T(l, "crisisui.level_n", map[string]any{"number": 1, "name": cat.T(l, "crisis.level.entity", nil)}),
				cat.T(l, "crisisui.due.overdue_by", map[string]any{"time": cat.T(l, "time.dur_short.hour", map[string]any{"n": "1"})}),
				"Call the DSO", "Isolate the substations", `action="/` + l + base + `/level"`,
				// The picture's forms: the sectors in a fieldset, the
				// affected organisations, the links, the edit page.
				`action="/` + l + base + `/sectors"`, "<legend class=\"legend-small\">" + cat.T(l, "crisisui.view.sectors_legend", nil) + "</legend>",
				`name="sectors" type="checkbox" value="energy" checked`, `name="sectors" type="checkbox" value="transport">`,
				`action="/` + l + base + `/organisations"`, `name="affected_org"`, `name="affected_note"`, "Substation operator – three sites",
				cat.T(l, "crisisui.view.org_remove", map[string]any{"name": "Substation operator"}),
				`action="/` + l + base + `/links"`, `name="link_target"`, `href="/` + l + base + `/edit"`} {
				if !strings.Contains(body, s) {
					t.Errorf("%s overview lacks %q", l, s)
				}
			}
			// The edit page holds the crisis's values; the timeline lists
			// the events newest first with their actor; the participants
			// page has a form per row; the draft can be deleted.
			_, body = get(t, hd, "lead", "/"+l+base+"/edit")
			for _, s := range []string{`action="/` + l + base + `/edit"`, `value="Grid blackout"`, `name="sitrep_interval" type="text" value="60"`} {
				if !strings.Contains(body, s) {
					t.Errorf("%s edit page lacks %q", l, s)
				}
			}
			_, body = get(t, hd, "lead", "/"+l+base+"/timeline")
			callout, declared := strings.Index(body, cat.T(l, "crisisui.event.callout", nil)), strings.Index(body, cat.T(l, "crisisui.event.declare", nil))
			if callout < 0 || declared < callout || !strings.Contains(body, f.lead.Email) || !strings.Contains(body, `aria-current="page">`+cat.T(l, "crisisui.tab.timeline", nil)) {
				t.Errorf("%s timeline: call-out at %d, declaration at %d, or actor or tab missing", l, callout, declared)
			}
			_, body = get(t, hd, "lead", "/"+l+base+"/participants")
			for _, s := range []string{fmt.Sprintf(`action="/%s%s/participants/%d"`, l, base, ps[0].ID), `name="role"`, `name="access"`,
				cat.T(l, "crisisui.participants.change_col", nil)} {
				if !strings.Contains(body, s) {
					t.Errorf("%s participants page lacks %q", l, s)
				}
			}
			_, body = get(t, hd, "lead", fmt.Sprintf("/%s%s/sitreps/%d", l, base, draft.ID))
			if !strings.Contains(body, fmt.Sprintf(`action="/%s%s/sitreps/%d/delete"`, l, base, draft.ID)) || !strings.Contains(body, `name="confirm_delete" type="checkbox"`) {
				t.Errorf("%s draft lacks the delete form", l)
			}
			if _, body = get(t, hd, "lead", fmt.Sprintf("/%s%s/sitreps/%d", l, base, pub.ID)); strings.Contains(body, "/delete\"") {
				t.Errorf("%s published sitrep offers deletion", l)
			}
		}
		// An organisation contributing: every page of the crisis, no
		// management form; one reading sitreps only: the heading and the
		// published sitrep, nothing else.
		for _, p := range []string{base, base + "/participants", base + "/decisions", base + "/actions", base + "/sitreps",
			fmt.Sprintf("%s/sitreps/%d", base, pub.ID), fmt.Sprintf("%s/sitreps/%d", base, draft.ID), base + "/callouts"} {
			code, body := get(t, hd, "memB", "/en"+p)
			if code != http.StatusOK {
				t.Errorf("memB %s = %d", p, code)
				continue
			}
			checkHTML(t, "memB "+p, body)
			for _, s := range []string{"/level\"", "/participants\" novalidate", "/publish\"", "/callouts\" novalidate", "/status\"",
				"/sectors\"", "/organisations\"", "/remove\"", "/links\"", "/edit\"", fmt.Sprintf("/participants/%d\"", ps[0].ID)} {
				if strings.Contains(body, s) {
					t.Errorf("memB %s shows a form for %s", p, s)
				}
			}
		}
		if _, body := get(t, hd, "memB", "/en"+base+"/decisions"); !strings.Contains(body, `action="/en`+base+`/decisions"`) {
			t.Error("a contributing organisation has no decision form")
		}
		if _, body := get(t, hd, "memB", fmt.Sprintf("/en%s/sitreps/%d", base, draft.ID)); !strings.Contains(body, "/delete\"") {
			t.Error("a contributing organisation cannot delete a draft")
		}
		if code, _ := get(t, hd, "memB", "/en"+base+"/edit"); code != http.StatusForbidden {
			t.Errorf("memB edit page = %d, want 403", code)
		}
		if code, body := get(t, hd, "memB", "/en"+base+"/timeline"); code != 200 {
			t.Errorf("memB timeline = %d", code)
		} else {
			checkHTML(t, "memB timeline", body)
		}
		pubPath, draftPath := fmt.Sprintf("%s/sitreps/%d", base, pub.ID), fmt.Sprintf("%s/sitreps/%d", base, draft.ID)
		for p, want := range map[string]int{
			base: 200, base + "/sitreps": 200, pubPath: 200, pubPath + "/export?format=md": 200,
			draftPath: 404, base + "/decisions": 403, base + "/actions": 403, base + "/participants": 403, base + "/callouts": 403,
			base + "/sitreps/new": 403, "/crises/new": 404, "/crises/directory": 404, base + "/edit": 403, base + "/timeline": 403,
		} {
			code, body := get(t, hd, "memA", "/en"+p)
			if code != want {
				t.Errorf("memA %s = %d, want %d", p, code, want)
			}
			if code == 200 && !strings.Contains(p, "export") {
				checkHTML(t, "memA "+p, body)
				// The published sitrep lists the decisions and actions it was written with.
				if !strings.Contains(p, "/sitreps/") && (strings.Contains(body, "Isolate the substations") || strings.Contains(body, "Call the DSO")) {
					t.Errorf("memA %s shows the situation picture", p)
				}
			}
		}
		for _, p := range pages {
			if strings.HasPrefix(p, "/crises/new") || strings.HasPrefix(p, "/crises/directory") {
				continue
			}
			for _, who := range []string{"memC", "other"} {
				code, body := get(t, hd, who, "/en"+p)
				if p == "/crises" {
					if code != 200 || strings.Contains(body, "Grid blackout") {
						t.Errorf("%s sees the crisis in the list (%d)", who, code)
					}
					continue
				}
				if code != http.StatusNotFound || strings.Contains(body, "Grid blackout") {
					t.Errorf("%s GET %s = %d, want 404", who, p, code)
				}
			}
		}
		// The public acknowledgement page: an unknown token is not found.
		if code, _ := get(t, hd, "", "/en/callouts/ack?token=nope"); code != http.StatusNotFound {
			t.Errorf("unknown token = %d", code)
		}
	})
}
