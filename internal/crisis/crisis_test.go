package crisis

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/notify"
	"github.com/belfry-cert/belfry/internal/store"
)

// fakeMail collects the messages the service queues.
type fakeMail struct {
	mu   sync.Mutex
	msgs []notify.Message
}

func (m *fakeMail) Enqueue(_ context.Context, _ *store.Tx, msg notify.Message) error {
	if err := msg.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, msg)
	return nil
}

func (m *fakeMail) take() []notify.Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.msgs
	m.msgs = nil
	return out
}

type fixture struct {
	db    *store.DB
	svc   *Service
	mail  *fakeMail
	now   time.Time
	ctx   context.Context
	orgA  int64 // an affected entity
	orgB  int64 // a sector authority's organisation
	orgC  int64 // an organisation taking no part
	lead  *auth.Principal
	other *auth.Principal // an analyst outside the crisis
	admin *auth.Principal
	memA  *auth.Principal // users of A, B, C
	memB  *auth.Principal
	memC  *auth.Principal
}

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	f := &fixture{db: db, mail: &fakeMail{}, now: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC), ctx: context.Background()}
	f.svc = NewService(db, slog.New(slog.DiscardHandler))
	f.svc.SetMail(f.mail, i18n.MustLoad(), "https://belfry.example")
	f.svc.SetClock(func() time.Time { return f.now })
	org := func(name, kind string) int64 {
		var id int64
		if err := db.QueryRow(f.ctx, `INSERT INTO organisations (name, kind, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id`, name, kind, f.now, f.now).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	user := func(org int64, kind, email, locale string, roles ...auth.Role) *auth.Principal {
		var id int64
		if err := db.QueryRow(f.ctx, `INSERT INTO users (org_id, email, name, locale, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			org, email, strings.Split(email, "@")[0], locale, f.now, f.now).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return &auth.Principal{UserID: id, OrgID: org, OrgKind: kind, Email: email, Locale: locale, Roles: roles}
	}
	authority := org("CCB", "authority")
	f.orgA, f.orgB, f.orgC = org("Grid A", "entity"), org("Regulator B", "entity"), org("Bystander C", "entity")
	f.lead = user(authority, "authority", "lead@ccb.example", "fr", auth.RoleCrisis)
	f.other = user(authority, "authority", "other@ccb.example", "en", auth.RoleAnalyst)
	f.admin = user(authority, "authority", "admin@ccb.example", "en", auth.RoleAdmin)
	f.memA = user(f.orgA, "entity", "soc@a.example", "nl", auth.RoleMember)
	user(f.orgA, "entity", "ciso@a.example", "de", auth.RoleOrgAdmin)
	f.memB = user(f.orgB, "entity", "desk@b.example", "en", auth.RoleMember)
	f.memC = user(f.orgC, "entity", "it@c.example", "en", auth.RoleOrgAdmin)
	return f
}

func (f *fixture) as(p *auth.Principal) context.Context { return auth.With(f.ctx, p) }

func (f *fixture) declare(t *testing.T, in DeclareInput) *Crisis {
	t.Helper()
	c, err := f.svc.Declare(f.as(f.lead), in)
	if err != nil {
		t.Fatalf("Declare(%+v) = %v", in, err)
	}
	return c
}

func wantKind(t *testing.T, what string, err error, k errs.Kind) {
	t.Helper()
	if !errs.Is(err, k) {
		t.Errorf("%s: err = %v, want %v", what, err, k)
	}
}

func str(s string) *string { return &s }

// TestDefaultLevels checks the default scale against nis2.md §6: the
// model escalation_level ∈ {entity, cert_be, national_impact,
// federal_phase, eu_cyclone, ipcr}, the Belgian federal phase (RD 22 May
// 2019) and the EU Blueprint's technical (CSIRTs network), operational
// (EU-CyCLONe) and political (IPCR) levels.
func TestDefaultLevels(t *testing.T) {
	sc := DefaultScale()
	cat := i18n.MustLoad()
	tests := []struct {
		code    string
		number  int
		bePhase string
		euLevel string
		nameEN  string
	}{
		{"entity", 1, "", "", "Entity"},
		{"cert_be", 2, "", "technical", "CERT.be coordination"},
		{"national_impact", 3, "", "technical", "National impact"},
		{"federal_phase", 4, "federal", "technical", "Federal phase"},
		{"eu_cyclone", 5, "federal", "operational", "EU-CyCLONe"},
		{"ipcr", 6, "federal", "political", "IPCR (EU political level)"},
	}
	if got := len(sc.Levels()); got != len(tests) {
		t.Fatalf("default scale has %d levels, want %d", got, len(tests))
	}
	for i, tt := range tests {
		l, ok := sc.Level(tt.code)
		if !ok {
			t.Errorf("Level(%q) missing", tt.code)
			continue
		}
		if l.Number != tt.number || l.BEPhase != tt.bePhase || l.EULevel != tt.euLevel {
			t.Errorf("Level(%q) = %+v, want number %d, BE phase %q, EU level %q", tt.code, l, tt.number, tt.bePhase, tt.euLevel)
		}
		if sc.Levels()[i].Code != tt.code {
			t.Errorf("level %d = %q, want %q (order of escalation)", i, sc.Levels()[i].Code, tt.code)
		}
		for _, loc := range i18n.Locales {
			if !cat.Has(l.NameKey()) || !cat.Has(l.NameKey()+".desc") {
				t.Errorf("%s: no name or description for %s", loc, tt.code)
			}
		}
		if got := cat.T("en", l.NameKey(), nil); got != tt.nameEN {
			t.Errorf("name of %s = %q, want %q", tt.code, got, tt.nameEN)
		}
	}
	// A setting may replace the scale; bad scales are refused.
	bad := [][]Level{
		{{Code: "one", Number: 1}},
		{{Code: "one", Number: 1}, {Code: "one", Number: 2}},
		{{Code: "one", Number: 2}, {Code: "two", Number: 2}},
		{{Code: "One", Number: 1}, {Code: "two", Number: 2}},
	}
	for _, b := range bad {
		if _, err := NewScale(b); err == nil {
			t.Errorf("NewScale(%v) accepted", b)
		}
	}
	custom, err := NewScale([]Level{{Code: "green", Number: 0, Label: "Watch"}, {Code: "red", Number: 4, Label: "Crisis"}})
	if err != nil {
		t.Fatal(err)
	}
	svc := NewService(nil, slog.New(slog.DiscardHandler))
	svc.SetCatalog(cat)
	svc.SetScale(custom)
	if got := svc.LevelName("fr", "red"); got != "Crisis" {
		t.Errorf("custom level name = %q, want Crisis", got)
	}
}

func TestDeclare(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		// A case with an incident and an affected organisation.
		var caseID int64
		if err := db.QueryRow(f.ctx, `INSERT INTO cases (ref, year, seq, title, severity, tlp, pap, status, source, exercise, created_at, updated_at)
			VALUES ('CASE-2026-000007', 2026, 7, 'Ransomware at grid operators', 4, 'AMBER+STRICT', 'AMBER', 'open', 'report', ?, ?, ?) RETURNING id`,
			true, f.now, f.now).Scan(&caseID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(f.ctx, `INSERT INTO incidents (org_id, ref, kind, title, aware_at, status, created_at, updated_at)
			VALUES (?, 'INC-2026-000123', 'nis2', 'Grid outage', ?, 'open', ?, ?)`, f.orgA, f.now, f.now, f.now); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(f.ctx, `INSERT INTO case_links (case_id, kind, target, created_at) VALUES (?, 'incident', 'INC-2026-000123', ?)`, caseID, f.now); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(f.ctx, `INSERT INTO case_orgs (case_id, org_id) VALUES (?, ?)`, caseID, f.orgA); err != nil {
			t.Fatal(err)
		}

		c := f.declare(t, DeclareInput{CaseRef: "case-2026-000007", Level: "national_impact", Reason: "Two DSOs down"})
		if c.Ref != "CRISIS-2026-001" || c.Title != "Ransomware at grid operators" || c.TLP != "AMBER+STRICT" || !c.Exercise ||
			c.CaseRef != "CASE-2026-000007" || c.Level != "national_impact" || c.LevelNumber != 3 || c.LevelName != "Impact national" ||
			c.Status != "open" || c.Access != "manage" {
			t.Errorf("declared from a case: %+v", c)
		}
		if got := c.DisplayTitle(); got != "[EXERCISE] Ransomware at grid operators" {
			t.Errorf("DisplayTitle = %q", got)
		}
		pic, err := f.svc.Picture(f.as(f.lead), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(pic.Links) != 2 || pic.Links[0] != (Link{"case", "CASE-2026-000007"}) || pic.Links[1] != (Link{"incident", "INC-2026-000123"}) {
			t.Errorf("links = %+v", pic.Links)
		}
		if len(pic.Orgs) != 1 || pic.Orgs[0].OrgID != f.orgA || pic.Orgs[0].Name != "Grid A" {
			t.Errorf("organisations = %+v", pic.Orgs)
		}
		team, err := f.svc.Participants(f.as(f.lead), c.ID)
		if err != nil || len(team) != 1 || team[0].UserID != f.lead.UserID || team[0].Role != "lead" {
			t.Fatalf("team = %+v, %v", team, err)
		}
		levels, err := f.svc.Levels(f.as(f.lead), c.ID)
		if err != nil || len(levels) != 1 || levels[0].Level != "national_impact" || levels[0].Reason != "Two DSOs down" || levels[0].Actor != "lead@ccb.example" {
			t.Fatalf("levels = %+v, %v", levels, err)
		}

		// On its own, with the next number; an unknown case is refused.
		own := f.declare(t, DeclareInput{Title: "DDoS wave", Level: "cert_be", TLP: "tlp:green"})
		if own.Ref != "CRISIS-2026-002" || own.Exercise || own.TLP != "GREEN" || own.CaseRef != "" {
			t.Errorf("declared on its own: %+v", own)
		}
		_, err = f.svc.Declare(f.as(f.lead), DeclareInput{CaseRef: "CASE-2026-999999"})
		wantKind(t, "unknown case", err, errs.Invalid)
		_, err = f.svc.Declare(f.as(f.lead), DeclareInput{Title: "x", Level: "apocalypse"})
		wantKind(t, "unknown level", err, errs.Invalid)
		_, err = f.svc.Declare(f.as(f.memA), DeclareInput{Title: "x"})
		wantKind(t, "organisation declares", err, errs.Forbidden)

		// Level changes record who, when and why.
		f.now = f.now.Add(time.Hour)
		if _, err := f.svc.ChangeLevel(f.as(f.lead), own.ID, "federal_phase", ""); !errs.Is(err, errs.Invalid) {
			t.Errorf("level change without a reason: %v", err)
		}
		up, err := f.svc.ChangeLevel(f.as(f.lead), own.ID, "federal_phase", "Minister declared the federal phase")
		if err != nil || up.Level != "federal_phase" || up.LevelNumber != 4 {
			t.Fatalf("ChangeLevel = %+v, %v", up, err)
		}
		levels, _ = f.svc.Levels(f.as(f.lead), own.ID)
		if len(levels) != 2 || levels[1].Previous != "cert_be" || levels[1].Level != "federal_phase" || !levels[1].At.Equal(f.now) ||
			levels[1].Reason != "Minister declared the federal phase" || levels[1].Actor != "lead@ccb.example" {
			t.Errorf("level history = %+v", levels)
		}
		// Statistics keep exercises apart.
		st, err := f.svc.Statistics(f.as(f.other))
		if err != nil || st.Real.Total != 1 || st.Exercise.Total != 1 || st.Real.ByLevel["federal_phase"] != 1 || st.Exercise.ByStatus["open"] != 1 {
			t.Errorf("Statistics = %+v, %v", st, err)
		}
		ex := true
		list, total, err := f.svc.List(f.as(f.lead), Filter{Exercise: &ex})
		if err != nil || total != 1 || list[0].ID != c.ID {
			t.Errorf("List(exercise) = %v, %d, %v", list, total, err)
		}
	})
}

// TestAccessPerLevel checks the tenant boundary: participants see what
// their access allows, everybody else sees nothing.
func TestAccessPerLevel(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c := f.declare(t, DeclareInput{Title: "Grid crisis", Level: "national_impact"})
		lead := f.as(f.lead)
		pa, err := f.svc.AddParticipant(lead, c.ID, ParticipantInput{OrgID: f.orgA, Party: "affected_organisation", Access: "sitreps"})
		if err != nil {
			t.Fatal(err)
		}
		pb, err := f.svc.AddParticipant(lead, c.ID, ParticipantInput{OrgID: f.orgB, Party: "sector_authority", Access: "read"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AddParticipant(lead, c.ID, ParticipantInput{OrgID: f.orgA, Access: "read"}); !errs.Is(err, errs.Conflict) {
			t.Errorf("participant twice: %v", err)
		}
		if _, err := f.svc.AddDecision(lead, c.ID, DecisionInput{Decision: "Isolate the SCADA network", Basis: "RRT advice"}); err != nil {
			t.Fatal(err)
		}
		draft, err := f.svc.CreateSitrep(lead, c.ID, SitrepInput{Situation: str("Two DSOs down")})
		if err != nil {
			t.Fatal(err)
		}
		pub, err := f.svc.CreateSitrep(lead, c.ID, SitrepInput{Situation: str("Restoring")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.PublishSitrep(lead, c.ID, pub.ID, PublishInput{}); err != nil {
			t.Fatal(err)
		}

		// A: sitreps only.
		a := f.as(f.memA)
		if got, err := f.svc.Get(a, c.ID); err != nil || got.Access != "sitreps" {
			t.Errorf("A Get = %+v, %v", got, err)
		}
		_, err = f.svc.Decisions(a, c.ID)
		wantKind(t, "A reads decisions", err, errs.Forbidden)
		_, err = f.svc.Participants(a, c.ID)
		wantKind(t, "A reads participants", err, errs.Forbidden)
		if ss, err := f.svc.Sitreps(a, c.ID); err != nil || len(ss) != 1 || ss[0].ID != pub.ID {
			t.Errorf("A sitreps = %v, %v", ss, err)
		}
		_, err = f.svc.Sitrep(a, c.ID, draft.ID)
		wantKind(t, "A reads a draft", err, errs.NotFound)
		if _, _, _, err := f.svc.Export(a, c.ID, pub.ID, "md", "nl"); err != nil {
			t.Errorf("A exports a published sitrep: %v", err)
		}
		// B: read all, write nothing.
		b := f.as(f.memB)
		if ds, err := f.svc.Decisions(b, c.ID); err != nil || len(ds) != 1 {
			t.Errorf("B decisions = %v, %v", ds, err)
		}
		_, err = f.svc.AddDecision(b, c.ID, DecisionInput{Decision: "x", Basis: "y"})
		wantKind(t, "B adds a decision", err, errs.Forbidden)
		// B contributes once allowed, but never runs the crisis.
		if _, err := f.svc.UpdateParticipant(lead, c.ID, pb.ID, ParticipantChange{Access: str("contribute")}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AddDecision(b, c.ID, DecisionInput{Decision: "Sector alert sent", Basis: "Sector plan"}); err != nil {
			t.Errorf("B contributes: %v", err)
		}
		_, err = f.svc.ChangeLevel(b, c.ID, "federal_phase", "x")
		wantKind(t, "B changes the level", err, errs.Forbidden)
		_, err = f.svc.PublishSitrep(b, c.ID, draft.ID, PublishInput{})
		wantKind(t, "B publishes", err, errs.Forbidden)

		// C, an analyst outside the crisis and an anonymous caller: 404.
		for name, ctx := range map[string]context.Context{"C": f.as(f.memC), "outside analyst": f.as(f.other), "anonymous": f.ctx} {
			_, err := f.svc.Get(ctx, c.ID)
			wantKind(t, name+" Get", err, errs.NotFound)
			_, err = f.svc.Sitreps(ctx, c.ID)
			wantKind(t, name+" Sitreps", err, errs.NotFound)
			_, err = f.svc.AddDecision(ctx, c.ID, DecisionInput{Decision: "x", Basis: "y"})
			wantKind(t, name+" AddDecision", err, errs.NotFound)
			_, _, _, err = f.svc.Export(ctx, c.ID, pub.ID, "html", "en")
			wantKind(t, name+" Export", err, errs.NotFound)
		}
		if list, total, err := f.svc.List(f.as(f.memC), Filter{}); err != nil || total != 0 || len(list) != 0 {
			t.Errorf("C List = %v, %d, %v", list, total, err)
		}
		if list, total, err := f.svc.List(f.as(f.memA), Filter{}); err != nil || total != 1 || list[0].Access != "sitreps" {
			t.Errorf("A List = %v, %d, %v", list, total, err)
		}
		// The authority's administrators see every crisis.
		if got, err := f.svc.Get(f.as(f.admin), c.ID); err != nil || got.Access != "manage" {
			t.Errorf("admin Get = %+v, %v", got, err)
		}
		// Removing A ends its access.
		if err := f.svc.RemoveParticipant(lead, c.ID, pa.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Get(a, c.ID)
		wantKind(t, "A after removal", err, errs.NotFound)
		// The last lead stays.
		team, _ := f.svc.Participants(lead, c.ID)
		err = f.svc.RemoveParticipant(lead, c.ID, team[0].ID)
		if team[0].Role != "lead" || !errs.Is(err, errs.Conflict) {
			t.Errorf("removing the last lead (%+v): %v", team[0], err)
		}
	})
}

func TestDecisionLogIsAppendOnly(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c := f.declare(t, DeclareInput{Title: "Grid crisis"})
		decided := f.now.Add(-30 * time.Minute)
		d, err := f.svc.AddDecision(f.as(f.lead), c.ID, DecisionInput{DecidedBy: "Minister of the Interior", DecidedAt: &decided,
			Decision: "Federal phase", Basis: "Two provinces affected (RD 22 May 2019)"})
		if err != nil {
			t.Fatal(err)
		}
		if d.DecidedBy != "Minister of the Interior" || !d.DecidedAt.Equal(decided) || d.RecordedBy != "lead@ccb.example" || !d.RecordedAt.Equal(f.now) {
			t.Errorf("decision = %+v", d)
		}
		if _, err := f.svc.AddDecision(f.as(f.lead), c.ID, DecisionInput{Decision: "No basis"}); !errs.Is(err, errs.Invalid) {
			t.Errorf("decision without basis: %v", err)
		}
		for _, q := range []string{`UPDATE crisis_decisions SET decision = 'rewritten' WHERE id = ?`, `DELETE FROM crisis_decisions WHERE id = ?`} {
			if _, err := db.Exec(f.ctx, q, d.ID); err == nil {
				t.Errorf("%s: the database accepted it", q)
			}
		}
		ds, err := f.svc.Decisions(f.as(f.lead), c.ID)
		if err != nil || len(ds) != 1 || ds[0].Decision != "Federal phase" {
			t.Errorf("Decisions = %+v, %v", ds, err)
		}
	})
}

func TestActionsOverdue(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c := f.declare(t, DeclareInput{Title: "Grid crisis"})
		lead := f.as(f.lead)
		due := f.now.Add(time.Hour)
		a, err := f.svc.SaveAction(lead, c.ID, 0, ActionInput{Title: str("Call the DSOs"), OwnerID: &f.other.UserID, DueAt: &due})
		if err != nil {
			t.Fatal(err)
		}
		b, err := f.svc.SaveAction(lead, c.ID, 0, ActionInput{Title: str("Brief the minister"), Owner: str("NCCN")})
		if err != nil {
			t.Fatal(err)
		}
		if a.Owner != "other@ccb.example" || a.Status != "open" || a.Overdue || b.Owner != "NCCN" || b.DueAt != nil {
			t.Errorf("actions = %+v, %+v", a, b)
		}
		f.now = f.now.Add(2 * time.Hour)
		over, err := f.svc.Actions(lead, c.ID, true)
		if err != nil || len(over) != 1 || over[0].ID != a.ID || !over[0].Overdue {
			t.Fatalf("overdue = %+v, %v", over, err)
		}
		done, err := f.svc.SaveAction(lead, c.ID, a.ID, ActionInput{Status: str("done")})
		if err != nil || done.Status != "done" || done.Overdue || done.DoneAt == nil || !done.DoneAt.Equal(f.now) {
			t.Fatalf("done = %+v, %v", done, err)
		}
		if over, _ := f.svc.Actions(lead, c.ID, true); len(over) != 0 {
			t.Errorf("overdue after done = %+v", over)
		}
		all, _ := f.svc.Actions(lead, c.ID, false)
		if len(all) != 2 || all[0].ID != b.ID {
			t.Errorf("all actions (open first) = %+v", all)
		}
		if _, err := f.svc.SaveAction(lead, c.ID, a.ID, ActionInput{Status: str("maybe")}); !errs.Is(err, errs.Invalid) {
			t.Errorf("bad status: %v", err)
		}
	})
}

func TestSitreps(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c := f.declare(t, DeclareInput{Title: "Grid crisis", Level: "federal_phase", TLP: "AMBER", Exercise: true, SitrepInterval: 120})
		lead := f.as(f.lead)
		if c.NextSitrepAt == nil || !c.NextSitrepAt.Equal(f.now.Add(2*time.Hour)) {
			t.Errorf("first sitrep due %v", c.NextSitrepAt)
		}
		if _, err := f.svc.AddDecision(lead, c.ID, DecisionInput{Decision: "Activate the RRT", Basis: "National impact"}); err != nil {
			t.Fatal(err)
		}
		due := f.now.Add(time.Hour)
		if _, err := f.svc.SaveAction(lead, c.ID, 0, ActionInput{Title: str("Call the DSOs"), Owner: str("CERT.be"), DueAt: &due}); err != nil {
			t.Fatal(err)
		}
		// A draft is prefilled with the open actions and the new decisions.
		d1, err := f.svc.CreateSitrep(lead, c.ID, SitrepInput{Situation: str("Two DSOs report outages."), Impact: str("40 000 households")})
		if err != nil {
			t.Fatal(err)
		}
		if d1.Number != 0 || d1.Status != "draft" || d1.TLP != "AMBER" || !strings.Contains(d1.Actions, "Call the DSOs (CERT.be)") ||
			!strings.Contains(d1.Decisions, "Activate the RRT (National impact)") {
			t.Errorf("draft = %+v", d1)
		}
		// A deleted draft takes no number.
		scrap, _ := f.svc.CreateSitrep(lead, c.ID, SitrepInput{})
		if err := f.svc.DeleteSitrep(lead, c.ID, scrap.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.PublishSitrep(lead, c.ID, d1.ID, PublishInput{Distribute: new(bool)}); err != nil {
			t.Fatal(err)
		}
		p1, _ := f.svc.Sitrep(lead, c.ID, d1.ID)
		if p1.Number != 1 || p1.Status != "published" || p1.Level != "federal_phase" || p1.LevelNumber != 4 || !p1.PublishedAt.Equal(f.now) ||
			p1.NextUpdateAt == nil || !p1.NextUpdateAt.Equal(f.now.Add(2*time.Hour)) || p1.PublishedBy != "lead@ccb.example" {
			t.Errorf("published = %+v", p1)
		}
		// Published sitreps do not change, in the service or the database.
		_, err = f.svc.UpdateSitrep(lead, c.ID, d1.ID, SitrepInput{Situation: str("rewritten")})
		wantKind(t, "update published", err, errs.Conflict)
		wantKind(t, "delete published", f.svc.DeleteSitrep(lead, c.ID, d1.ID), errs.Conflict)
		_, err = f.svc.PublishSitrep(lead, c.ID, d1.ID, PublishInput{})
		wantKind(t, "publish twice", err, errs.Conflict)
		for _, q := range []string{`UPDATE crisis_sitreps SET situation = 'rewritten' WHERE id = ?`, `DELETE FROM crisis_sitreps WHERE id = ?`} {
			if _, err := db.Exec(f.ctx, q, d1.ID); err == nil {
				t.Errorf("%s: the database accepted it", q)
			}
		}
		// The schedule: overdue once the next update is due.
		f.now = f.now.Add(3 * time.Hour)
		got, _ := f.svc.Get(lead, c.ID)
		if !got.SitrepOverdue || !got.NextSitrepAt.Equal(p1.NextUpdateAt.UTC()) {
			t.Errorf("schedule: %+v", got)
		}
		// The next one is number 2; decisions already reported are not repeated.
		d2, err := f.svc.CreateSitrep(lead, c.ID, SitrepInput{Situation: str("Recovering")})
		if err != nil {
			t.Fatal(err)
		}
		if d2.Decisions != "" {
			t.Errorf("second draft repeats decisions: %q", d2.Decisions)
		}
		if _, err := f.svc.PublishSitrep(lead, c.ID, d2.ID, PublishInput{Distribute: new(bool)}); err != nil {
			t.Fatal(err)
		}
		p2, _ := f.svc.Sitrep(lead, c.ID, d2.ID)
		got, _ = f.svc.Get(lead, c.ID)
		if p2.Number != 2 || got.SitrepOverdue {
			t.Errorf("second sitrep %d, crisis overdue %v", p2.Number, got.SitrepOverdue)
		}
		if _, err := f.svc.PublishSitrep(lead, c.ID, 0, PublishInput{}); !errs.Is(err, errs.NotFound) {
			t.Errorf("publish a missing sitrep: %v", err)
		}

		// Exports.
		html, name, mt, err := f.svc.Export(lead, c.ID, d1.ID, "html", "en")
		if err != nil {
			t.Fatal(err)
		}
		h := string(html)
		if name != "CRISIS-2026-001-sitrep-1.html" || !strings.HasPrefix(mt, "text/html") {
			t.Errorf("html export %s %s", name, mt)
		}
		body := h[strings.Index(h, "<body>"):]
		if !strings.HasPrefix(strings.TrimSpace(strings.TrimPrefix(body, "<body>")), `<p class="tlp tlp-top"><strong>TLP:AMBER</strong>`) {
			t.Errorf("html: the TLP is not on top:\n%s", body[:200])
		}
		for _, want := range []string{"<title>TLP:AMBER [EXERCISE] Situation report 1: Grid crisis</title>", `@top-center { content: "TLP:AMBER — EXERCISE"`,
			`@bottom-center { content: "TLP:AMBER — EXERCISE`, "@media print", `lang="en"`} {
			if !strings.Contains(h, want) {
				t.Errorf("html export lacks %q", want)
			}
		}
		if n := strings.Count(h, `class="exercise exercise-`); n != 2 || strings.Index(h, "exercise-top") > strings.Index(h, "<main>") ||
			strings.Index(h, "exercise-bottom") < strings.Index(h, "</main>") {
			t.Errorf("html: %d EXERCISE banners, want one before and one after the content", n)
		}
		wantOrder(t, "html", h, "<h2>Level</h2>", "<h2>TLP label</h2>", "<h2>Time</h2>", "<h2>Situation</h2>", "<h2>Impact</h2>",
			"<h2>Actions</h2>", "<h2>Decisions</h2>", "<h2>Next update due</h2>")
		if !strings.Contains(h, "4 — Federal phase") {
			t.Errorf("html: level number and name missing")
		}
		md, name, _, err := f.svc.Export(lead, c.ID, d1.ID, "md", "fr")
		if err != nil {
			t.Fatal(err)
		}
		m := string(md)
		if name != "CRISIS-2026-001-sitrep-1.md" || !strings.HasPrefix(m, "**TLP:AMBER**\n\n> **EXERCISE") || !strings.HasSuffix(m, "**TLP:AMBER**\n") ||
			strings.Count(m, "> **EXERCISE") != 2 {
			t.Errorf("markdown export %s:\n%s", name, m)
		}
		wantOrder(t, "markdown", m, "# CRISIS-2026-001 [EXERCISE] Rapport de situation 1: Grid crisis",
			"## Niveau\n\n4 — Phase fédérale", "## TLP\n\nTLP:AMBER", "## Heure", "## Situation\n\nTwo DSOs report outages.", "## Impact\n\n40 000 households",
			"## Actions\n\n- Call the DSOs", "## Décisions\n\n- ", "## Prochaine mise à jour")
		if _, _, _, err := f.svc.Export(lead, c.ID, d1.ID, "pdf", "en"); !errs.Is(err, errs.Invalid) {
			t.Errorf("pdf export: %v", err)
		}
	})
}

func wantOrder(t *testing.T, what, s string, parts ...string) {
	t.Helper()
	at := 0
	for _, p := range parts {
		i := strings.Index(s[at:], p)
		if i < 0 {
			t.Errorf("%s: %q missing or out of order in:\n%s", what, p, s)
			return
		}
		at += i + len(p)
	}
}

// TestSitrepDistribution mails a published sitrep to the participants its
// TLP allows: TLP:RED only to named participants.
func TestSitrepDistribution(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		lead := f.as(f.lead)
		c := f.declare(t, DeclareInput{Title: "Grid crisis", TLP: "AMBER", Exercise: true})
		for _, in := range []ParticipantInput{
			{OrgID: f.orgA, Access: "sitreps"}, // both users of A
			{OrgID: f.orgB, Name: "Duty officer", Email: "duty@b.example", Party: "sector_authority", Access: "read"}, // a named contact
			{Name: "NCCN desk", Email: "desk@nccn.example", Party: "crisis_centre", Access: "read"},
		} {
			if _, err := f.svc.AddParticipant(lead, c.ID, in); err != nil {
				t.Fatal(err)
			}
		}
		publish := func(tlp string) []notify.Message {
			t.Helper()
			d, err := f.svc.CreateSitrep(lead, c.ID, SitrepInput{Situation: str("Outage"), TLP: str(tlp)})
			if err != nil {
				t.Fatal(err)
			}
			p, err := f.svc.PublishSitrep(lead, c.ID, d.ID, PublishInput{})
			if err != nil {
				t.Fatal(err)
			}
			msgs := f.mail.take()
			if p.Recipients != len(msgs) {
				t.Errorf("%s: recipients %d, %d messages", tlp, p.Recipients, len(msgs))
			}
			return msgs
		}
		to := func(msgs []notify.Message) map[string]notify.Message {
			out := map[string]notify.Message{}
			for _, m := range msgs {
				if len(m.To) != 1 {
					t.Errorf("message to %v: one recipient per message", m.To)
				}
				out[m.To[0]] = m
			}
			return out
		}
		amber := to(publish("AMBER"))
		for _, addr := range []string{"lead@ccb.example", "soc@a.example", "ciso@a.example", "duty@b.example", "desk@nccn.example"} {
			if _, ok := amber[addr]; !ok {
				t.Errorf("AMBER: %s not mailed (got %v)", addr, amber)
			}
		}
		if len(amber) != 5 {
			t.Errorf("AMBER: %d recipients, want 5", len(amber))
		}
		if m := amber["soc@a.example"]; m.Subject != "[TLP:AMBER] CRISIS-2026-001: [EXERCISE] Situatierapport 1: Grid crisis" ||
			!strings.Contains(m.Text, "**TLP:AMBER**") || !strings.Contains(m.Text, "EXERCISE") || len(m.Attachments) != 1 ||
			!strings.Contains(string(m.Attachments[0].Data), "TLP:AMBER") {
			t.Errorf("AMBER message to A (Dutch): %q\n%s", m.Subject, m.Text)
		}
		if m := amber["lead@ccb.example"]; !strings.Contains(m.Subject, "Rapport de situation 1") {
			t.Errorf("lead's message is not in French: %q", m.Subject)
		}
		red := to(publish("RED"))
		if len(red) != 3 || red["lead@ccb.example"].Subject == "" || red["duty@b.example"].Subject == "" || red["desk@nccn.example"].Subject == "" {
			t.Errorf("RED went to %v, want only the named participants", red)
		}
		for _, m := range red {
			if !strings.HasPrefix(m.Subject, "[TLP:RED] ") || !strings.Contains(m.Subject, "[EXERCISE]") {
				t.Errorf("RED subject %q", m.Subject)
			}
		}
		// Not distributed on request.
		d, _ := f.svc.CreateSitrep(lead, c.ID, SitrepInput{Situation: str("Quiet")})
		if p, err := f.svc.PublishSitrep(lead, c.ID, d.ID, PublishInput{Distribute: new(bool)}); err != nil || p.Recipients != 0 || len(f.mail.take()) != 0 {
			t.Errorf("publish without distribution: %+v, %v", p, err)
		}
	})
}

func TestCallouts(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		lead := f.as(f.lead)
		// A's registration with its 24/7 contact, and a sector authority.
		data := `{"contacts": [{"role": "incident_24x7", "name": "Grid SOC", "email": "soc24@a.example", "phone": "+32 2 000 00 01", "language": "fr"},
			{"role": "general", "name": "Reception", "email": "info@a.example"}]}`
		if _, err := db.Exec(f.ctx, `INSERT INTO registrations (org_id, status, data, sectors, search, created_at, updated_at) VALUES (?, 'approved', ?, ' energy ', ?, ?, ?)`,
			f.orgA, data, " grid soc soc24@a.example reception info@a.example", f.now, f.now); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(f.ctx, `INSERT INTO sector_authorities (name, sectors, email, created_at, updated_at) VALUES ('Energy Regulator', ' energy ', 'cert@regulator.example', ?, ?)`,
			f.now, f.now); err != nil {
			t.Fatal(err)
		}
		dir, err := f.svc.Directory(lead, DirectoryFilter{Sector: "energy"})
		if err != nil || len(dir) != 2 || dir[0].Email != "soc24@a.example" || dir[0].Phone == "" || dir[1].Kind != "partner" {
			t.Fatalf("directory = %+v, %v", dir, err)
		}
		if dir, _ := f.svc.Directory(lead, DirectoryFilter{Text: "grid soc"}); len(dir) != 1 || dir[0].OrgID != f.orgA {
			t.Errorf("directory search by name = %+v", dir)
		}
		if dir, _ := f.svc.Directory(lead, DirectoryFilter{Sector: "health"}); len(dir) != 0 {
			t.Errorf("directory of another sector = %+v", dir)
		}
		_, err = f.svc.Directory(f.as(f.memA), DirectoryFilter{})
		wantKind(t, "organisation reads the directory", err, errs.NotFound)

		c := f.declare(t, DeclareInput{Title: "Grid crisis", Exercise: true, TLP: "AMBER"})
		person, err := f.svc.AddParticipant(lead, c.ID, ParticipantInput{Name: "NCCN desk", Email: "desk@nccn.example", Party: "crisis_centre", Access: "read"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.SendCallout(lead, c.ID, CalloutInput{Subject: "Join the call", Message: "x", Contacts: []string{"stranger@evil.example"}})
		wantKind(t, "contact outside the directory", err, errs.Invalid)
		co, err := f.svc.SendCallout(lead, c.ID, CalloutInput{Subject: "Join the bridge at 10:00", Message: "Dial +32 2 000 00 00",
			Participants: []int64{person.ID}, Contacts: []string{"SOC24@a.example", "cert@regulator.example"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(co.Recipients) != 3 || co.TLP != "AMBER" || co.Read != 0 || co.Acked != 0 {
			t.Errorf("call-out = %+v", co)
		}
		msgs := f.mail.take()
		if len(msgs) != 3 {
			t.Fatalf("%d messages, want 3", len(msgs))
		}
		tokens := map[string]string{}
		for _, m := range msgs {
			if m.Subject != "[EXERCISE] [TLP:AMBER] CRISIS-2026-001: Join the bridge at 10:00" {
				t.Errorf("subject %q", m.Subject)
			}
			_, after, ok := strings.Cut(m.Text, "/callouts/ack?token=")
			if !ok {
				t.Fatalf("no link in %q", m.Text)
			}
			tokens[m.To[0]] = strings.Fields(after)[0]
		}
		if !strings.Contains(msgs[1].Text, "Appel dans le cadre de la crise") {
			t.Errorf("the French contact's message: %q", msgs[1].Text)
		}
		// The database keeps only hashes.
		var n int
		if err := db.QueryRow(f.ctx, `SELECT COUNT(*) FROM crisis_callout_recipients WHERE token_hash = ?`, tokens["desk@nccn.example"]).Scan(&n); err != nil || n != 0 {
			t.Errorf("a token is stored in clear (%d, %v)", n, err)
		}

		f.now = f.now.Add(5 * time.Minute)
		a, err := f.svc.ReadAlert(f.ctx, tokens["desk@nccn.example"])
		if err != nil || a.Subject != "Join the bridge at 10:00" || a.Crisis != "[EXERCISE] Grid crisis" || a.Name != "NCCN desk" || a.AcknowledgedAt != nil || !a.ReadAt.Equal(f.now) {
			t.Fatalf("ReadAlert = %+v, %v", a, err)
		}
		f.now = f.now.Add(time.Minute)
		ack, err := f.svc.Acknowledge(f.ctx, tokens["desk@nccn.example"])
		if err != nil || ack.AcknowledgedAt == nil || !ack.AcknowledgedAt.Equal(f.now) || !ack.ReadAt.Equal(f.now.Add(-time.Minute)) {
			t.Fatalf("Acknowledge = %+v, %v", ack, err)
		}
		f.now = f.now.Add(time.Minute)
		again, err := f.svc.Acknowledge(f.ctx, tokens["desk@nccn.example"])
		if err != nil || !again.AcknowledgedAt.Equal(*ack.AcknowledgedAt) {
			t.Errorf("second Acknowledge = %+v, %v", again, err)
		}
		if _, err := f.svc.Acknowledge(f.ctx, tokens["desk@nccn.example"]+"x"); !errs.Is(err, errs.NotFound) {
			t.Errorf("wrong token: %v", err)
		}
		if _, err := f.svc.ReadAlert(f.ctx, ""); !errs.Is(err, errs.NotFound) {
			t.Errorf("empty token: %v", err)
		}
		if _, err := f.svc.Acknowledge(f.ctx, tokens["soc24@a.example"]); err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.Callout(lead, c.ID, co.ID)
		if err != nil || got.Read != 2 || got.Acked != 2 {
			t.Fatalf("Callout = %+v, %v", got, err)
		}
		for _, r := range got.Recipients {
			if (r.Email == "cert@regulator.example") != (r.AckedAt == nil) {
				t.Errorf("recipient %+v", r)
			}
		}
		list, err := f.svc.Callouts(lead, c.ID)
		if err != nil || len(list) != 1 {
			t.Errorf("Callouts = %v, %v", list, err)
		}
		_, err = f.svc.Callouts(f.as(f.memC), c.ID)
		wantKind(t, "outsider lists call-outs", err, errs.NotFound)
	})
}
