package cases

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/notify"
	"github.com/belfry-cert/belfry/internal/reporting"
	"github.com/belfry-cert/belfry/internal/store"
)

type fixture struct {
	db               *store.DB
	svc              *Service
	now              time.Time
	orgA, orgB       int64
	analyst, auditor *auth.Principal
	member           *auth.Principal
	analystCtx       context.Context
}

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: db, now: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	f.svc = NewService(db, slog.New(slog.DiscardHandler), nil)
	f.svc.SetCatalog(i18n.MustLoad())
	f.svc.SetClock(func() time.Time { return f.now })
	org := func(name, kind string) int64 {
		var id int64
		if err := db.QueryRow(ctx, `INSERT INTO organisations (name, kind, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id`, name, kind, f.now, f.now).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	user := func(org int64, kind, email, locale string, roles ...auth.Role) *auth.Principal {
		var id int64
		if err := db.QueryRow(ctx, `INSERT INTO users (org_id, email, name, locale, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			org, email, strings.Split(email, "@")[0], locale, f.now, f.now).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return &auth.Principal{UserID: id, OrgID: org, OrgKind: kind, Email: email, Locale: locale, Roles: roles}
	}
	authority := org("CCB", "authority")
	f.orgA, f.orgB = org("Grid A", "entity"), org("Water B", "entity")
	f.analyst = user(authority, "authority", "ana@ccb.example", "fr", auth.RoleAnalyst)
	f.auditor = user(authority, "authority", "aud@ccb.example", "en", auth.RoleAuditor)
	f.member = user(f.orgA, "entity", "soc@a.example", "nl", auth.RoleMember)
	f.analystCtx = auth.With(ctx, f.analyst)
	return f
}

func str(s string) *string { return &s }
func num(n int) *int       { return &n }

func TestCaseLifecycleAndTemplates(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := f.analystCtx
		if _, err := f.svc.Create(ctx, Input{}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("Create(empty) = %v", err)
		}
		if _, err := f.svc.Create(auth.With(context.Background(), f.auditor), Input{Title: str("x")}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("auditor Create = %v", err)
		}
		orgs := []int64{f.orgA}
		c, err := f.svc.Create(ctx, Input{Title: str("Rançongiciel chez Grid A"), Template: "ransomware", Orgs: &orgs})
		if err != nil {
			t.Fatal(err)
		}
		if c.Ref != "CASE-2026-000001" || c.Severity != 4 || c.Classification != "malicious-code/infected-system" || len(c.Orgs) != 1 {
			t.Errorf("created %+v", c)
		}
		tasks, err := f.svc.Tasks(ctx, c.ID)
		if err != nil || len(tasks) != 6 {
			t.Fatalf("tasks %d, %v", len(tasks), err)
		}
		// The template's SLA at critical severity: first contact within the hour,
		// in the analyst's language.
		if tasks[0].DueAt == nil || !tasks[0].DueAt.Equal(f.now.Add(time.Hour)) || tasks[0].SLA != "1h" ||
			tasks[0].Title != "Contacter l’organisation et confirmer l’étendue" {
			t.Errorf("first task %+v", tasks[0])
		}
		// Closing needs a resolution.
		if _, err := f.svc.Update(ctx, c.ID, Input{Status: str("closed")}); !errs.Is(err, errs.Invalid) {
			t.Errorf("close without resolution = %v", err)
		}
		f.now = f.now.Add(2 * time.Hour)
		if _, err := f.svc.UpdateTask(ctx, c.ID, tasks[0].ID, TaskInput{Status: str("done")}); err != nil {
			t.Fatal(err)
		}
		over, err := f.svc.AllTasks(ctx, TaskFilter{Overdue: true})
		if err != nil {
			t.Fatal(err)
		}
		// 2 h after opening: task 2 (2 h at critical) is not yet past, none is.
		if len(over) != 0 {
			t.Errorf("overdue at +2h: %d", len(over))
		}
		f.now = f.now.Add(3 * time.Hour)
		if over, _ = f.svc.AllTasks(ctx, TaskFilter{Overdue: true}); len(over) != 3 { // 2 h, 4 h and 4 h tasks
			t.Errorf("overdue at +5h: %d", len(over))
		}
		c, err = f.svc.Update(ctx, c.ID, Input{Status: str("closed"), Resolution: str("Restored from backups.")})
		if err != nil || c.ClosedAt == nil {
			t.Fatalf("close: %v %+v", err, c)
		}
		tl, err := f.svc.Timeline(ctx, c.ID)
		if err != nil || len(tl) < 3 || tl[0].Kind != "update" || !strings.Contains(tl[0].Body, "status: new → closed") {
			t.Errorf("timeline %v %+v", err, tl[0])
		}
	})
}

func TestObservablesSimilarity(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := f.analystCtx
		a, _ := f.svc.Create(ctx, Input{Title: str("Phishing wave one"), Template: "phishing"})
		b, _ := f.svc.Create(ctx, Input{Title: str("Phishing wave two"), Template: "phishing"})
		for _, tc := range []struct{ typ, in, want string }{
			{"ip", "2001:DB8::1", "2001:db8::1"}, {"domain", "Login-Bank.Example.", "login-bank.example"},
			{"hash", "D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e"},
			{"email", "Fraud@Mail.EXAMPLE", "Fraud@mail.example"}, {"url", "HTTPS://Login-Bank.Example/x?a=1", "https://login-bank.example/x?a=1"},
		} {
			got, err := NormalizeObservable(tc.typ, tc.in)
			if err != nil || got != tc.want {
				t.Errorf("NormalizeObservable(%s, %q) = %q, %v; want %q", tc.typ, tc.in, got, err, tc.want)
			}
		}
		for _, bad := range [][2]string{{"ip", "300.1.1.1"}, {"hash", "xyz"}, {"email", "Name <a@b.example>"}, {"url", "login"}, {"nope", "x"}} {
			if _, err := f.svc.AddObservable(ctx, a.ID, ObservableInput{Type: bad[0], Value: bad[1], TLP: "AMBER"}); !errs.Is(err, errs.Invalid) {
				t.Errorf("AddObservable(%v) = %v", bad, err)
			}
		}
		oa, err := f.svc.AddObservable(ctx, a.ID, ObservableInput{Type: "domain", Value: "login-bank.example", TLP: "GREEN", IOC: true})
		if err != nil {
			t.Fatal(err)
		}
		ob, err := f.svc.AddObservable(ctx, b.ID, ObservableInput{Type: "domain", Value: "LOGIN-BANK.example", TLP: "AMBER"})
		if err != nil {
			t.Fatal(err)
		}
		if oa.ID != ob.ID || ob.OtherCases != 1 {
			t.Errorf("one value, two cases: ids %d %d, other cases %d", oa.ID, ob.ID, ob.OtherCases)
		}
		sim, err := f.svc.Similar(ctx, oa.ID, a.ID, 10)
		if err != nil || len(sim.Cases) != 1 || sim.Cases[0].Ref != b.Ref {
			t.Errorf("similar: %v %+v", err, sim)
		}
		if err := f.svc.RemoveObservable(ctx, b.ID, ob.ID); err != nil {
			t.Fatal(err)
		}
		if sim, _ = f.svc.Similar(ctx, oa.ID, a.ID, 10); len(sim.Cases) != 0 {
			t.Errorf("after removal: %+v", sim.Cases)
		}
	})
}

func TestNotesAreRenderedSafely(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c, _ := f.svc.Create(f.analystCtx, Input{Title: str("Notes")})
		e, err := f.svc.AddNote(f.analystCtx, c.ID, "**Seen** at [the gateway](https://gw.example)\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))", "")
		if err != nil {
			t.Fatal(err)
		}
		html := string(e.HTML())
		if !strings.Contains(html, "<strong>Seen</strong>") || !strings.Contains(html, `href="https://gw.example"`) ||
			strings.Contains(html, "<script") || strings.Contains(html, "javascript:") {
			t.Errorf("note HTML: %s", html)
		}
		if e.TLP != "AMBER" { // the case's label by default
			t.Errorf("note TLP %q", e.TLP)
		}
	})
}

func TestSearchAndFilters(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := f.analystCtx
		orgs := []int64{f.orgB}
		f.svc.Create(ctx, Input{Title: str("Ransomware at the water utility"), Description: str("LockBit note found"), Severity: num(4), Orgs: &orgs})
		f.svc.Create(ctx, Input{Title: str("Défiguration du site"), Severity: num(2)})
		f.svc.Create(ctx, Input{Title: str("DDoS on the ministry")})
		for _, tc := range []struct {
			f    Filter
			want int
		}{
			{Filter{Text: "lockbit"}, 1}, {Filter{Text: "ranso"}, 1}, {Filter{Text: "defiguration"}, 1}, {Filter{Text: "ransomware ddos"}, 0},
			{Filter{Text: `"); DROP TABLE cases; --`}, 0}, {Filter{Severity: 4}, 1}, {Filter{OrgID: f.orgB}, 1}, {Filter{Status: "active"}, 3},
			{Filter{Status: "closed"}, 0}, {Filter{}, 3}, {Filter{Text: "CASE-2026-000002"}, 1},
		} {
			got, _, err := f.svc.List(ctx, tc.f)
			if err != nil || len(got) != tc.want {
				if tc.f.Text == "defiguration" && db.Dialect() == store.Postgres && len(got) == 0 {
					continue // PostgreSQL's simple configuration keeps accents
				}
				t.Errorf("List(%+v) = %d, %v; want %d", tc.f, len(got), err, tc.want)
			}
		}
		if _, _, err := f.svc.List(auth.With(context.Background(), f.member), Filter{}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("an organisation lists cases: %v", err)
		}
	})
}

type mailer struct{ msgs []notify.Message }

func (m *mailer) Enqueue(_ context.Context, _ *store.Tx, msg notify.Message) error {
	m.msgs = append(m.msgs, msg)
	return nil
}

func TestTaskReminders(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c, _ := f.svc.Create(f.analystCtx, Input{Title: str("Reminders")})
		due := f.now.Add(90 * time.Minute)
		if _, err := f.svc.AddTask(f.analystCtx, c.ID, TaskInput{Title: str("Call the SOC"), OwnerID: &f.analyst.UserID, DueAt: &due}); err != nil {
			t.Fatal(err)
		}
		m := &mailer{}
		if n, err := f.svc.Remind(context.Background(), m, "https://belfry.example"); n != 0 || err != nil {
			t.Fatalf("remind 90 min before = %d, %v", n, err)
		}
		f.now = f.now.Add(45 * time.Minute)
		if n, err := f.svc.Remind(context.Background(), m, "https://belfry.example"); n != 1 || err != nil {
			t.Fatalf("remind 45 min before = %d, %v", n, err)
		}
		if n, _ := f.svc.Remind(context.Background(), m, "https://belfry.example"); n != 0 {
			t.Error("reminded twice")
		}
		if len(m.msgs) != 1 || !strings.Contains(m.msgs[0].Subject, "Call the SOC") || !strings.Contains(m.msgs[0].Text, "/fr/cases/") {
			t.Errorf("mail %+v", m.msgs)
		}
	})
}

// TestTemplates: every template has a valid classification and severity,
// and every task a title in each language and a due time per severity
// that does not grow with severity.
func TestTemplates(t *testing.T) {
	cat := i18n.MustLoad()
	for _, tm := range Templates {
		if !reporting.ValidRSIT(tm.Classification) || tm.Severity < 1 || tm.Severity > 4 || len(tm.Tasks) == 0 {
			t.Errorf("template %s: %+v", tm.Name, tm)
		}
		for _, task := range tm.Tasks {
			for _, l := range []string{"nl", "fr", "de", "en"} {
				if got := cat.T(l, task.Key, nil); got == task.Key || got == "" {
					t.Errorf("%s: no %s title", task.Key, l)
				}
			}
			for sev := 2; sev <= 4; sev++ {
				if task.Due(sev) > task.Due(sev-1) || task.Due(sev) <= 0 {
					t.Errorf("%s: %s at severity %d, %s at %d", task.Key, task.Due(sev), sev, task.Due(sev-1), sev-1)
				}
			}
		}
	}
}

func TestMergeAndSplit(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := f.analystCtx
		oa, ob := []int64{f.orgA}, []int64{f.orgB}
		a, _ := f.svc.Create(ctx, Input{Title: str("Phishing against Grid A"), Template: "phishing", Orgs: &oa})
		b, _ := f.svc.Create(ctx, Input{Title: str("Same phishing against Water B"), Orgs: &ob})
		shared, _ := f.svc.AddObservable(ctx, a.ID, ObservableInput{Type: "domain", Value: "grid-login.example", TLP: "AMBER", IOC: true})
		f.svc.AddObservable(ctx, b.ID, ObservableInput{Type: "domain", Value: "grid-login.example", TLP: "GREEN"})
		f.svc.AddObservable(ctx, b.ID, ObservableInput{Type: "ip", Value: "192.0.2.80", TLP: "AMBER"})
		bt, _ := f.svc.AddTask(ctx, b.ID, TaskInput{Title: str("Ask Water B for headers")})
		if _, err := f.svc.Merge(ctx, a.ID, a.ID); !errs.Is(err, errs.Invalid) {
			t.Errorf("merge into itself = %v", err)
		}
		m, err := f.svc.Merge(ctx, b.ID, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		obs, _ := f.svc.Observables(ctx, a.ID)
		tasks, _ := f.svc.Tasks(ctx, a.ID)
		if len(m.Orgs) != 2 || len(obs) != 2 || len(tasks) != 6 || !containsLink(m.Links, "case", b.Ref) {
			t.Errorf("after merge: orgs %d observables %d tasks %d links %+v", len(m.Orgs), len(obs), len(tasks), m.Links)
		}
		for _, o := range obs {
			if o.ID == shared.ID && o.TLP != "AMBER" {
				t.Errorf("the target's marks were overwritten: %+v", o)
			}
		}
		old, _ := f.svc.Get(ctx, b.ID)
		if old.Status != "closed" || old.MergedInto != a.Ref {
			t.Errorf("merged case %+v", old)
		}
		if _, err := f.svc.Update(ctx, b.ID, Input{Title: str("x")}); !errs.Is(err, errs.Conflict) {
			t.Errorf("update of a merged case = %v", err)
		}
		if tl, _ := f.svc.Timeline(ctx, b.ID); len(tl) < 4 { // its history is kept
			t.Errorf("merged case's timeline: %d", len(tl))
		}

		// Split the IP and the moved task off into a new case.
		var ip int64
		for _, o := range obs {
			if o.Type == "ip" {
				ip = o.ID
			}
		}
		if _, err := f.svc.Split(ctx, a.ID, SplitInput{Title: "Water B infrastructure"}); !errs.Is(err, errs.Invalid) {
			t.Errorf("empty split = %v", err)
		}
		if _, err := f.svc.Split(ctx, a.ID, SplitInput{Title: "Bad", Observables: []int64{999999}}); !errs.Is(err, errs.Invalid) {
			t.Errorf("split of an unknown observable = %v", err)
		}
		if list, _, _ := f.svc.List(ctx, Filter{Text: "bad"}); len(list) != 0 {
			t.Error("a failed split left a case behind")
		}
		n, err := f.svc.Split(ctx, a.ID, SplitInput{Title: "Water B infrastructure", Observables: []int64{ip}, Tasks: []int64{bt.ID}})
		if err != nil {
			t.Fatal(err)
		}
		nobs, _ := f.svc.Observables(ctx, n.ID)
		ntasks, _ := f.svc.Tasks(ctx, n.ID)
		aobs, _ := f.svc.Observables(ctx, a.ID)
		if len(nobs) != 1 || len(ntasks) != 1 || len(aobs) != 1 || n.Source != "split" || len(n.Orgs) != 2 || !containsLink(n.Links, "case", a.Ref) {
			t.Errorf("split: new %d obs %d tasks, source %d obs; %+v", len(nobs), len(ntasks), len(aobs), n)
		}
	})
}

func containsLink(ls []Link, kind, target string) bool {
	for _, l := range ls {
		if l.Kind == kind && l.Target == target {
			return true
		}
	}
	return false
}

func TestFromFeedEvents(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		var run int64
		if err := db.QueryRow(ctx, `INSERT INTO feed_runs (source, name, status, started_at) VALUES ('file', 'x.csv', 'done', ?) RETURNING id`, f.now).Scan(&run); err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, ip := range []string{"192.0.2.10", "192.0.2.11", "192.0.2.10"} {
			var id int64
			if err := db.QueryRow(ctx, `INSERT INTO feed_events (run_id, org_id, feed, src_ip, notify, fields, created_at)
				VALUES (?, ?, 'scan_rdp', ?, ?, '{}', ?) RETURNING id`, run, f.orgA, ip, true, f.now).Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		c, err := f.svc.FromFeedEvents(f.analystCtx, ids, Input{Template: "vulnerability_exploitation"})
		if err != nil {
			t.Fatal(err)
		}
		obs, _ := f.svc.Observables(f.analystCtx, c.ID)
		if c.Source != "feed" || c.Title != "Feed: scan_rdp" || len(c.Orgs) != 1 || c.Orgs[0].ID != f.orgA || len(c.Links) != 3 || len(obs) != 2 {
			t.Errorf("case from feed events: %+v, %d observables", c, len(obs))
		}
		for _, o := range obs {
			sim, err := f.svc.Similar(f.analystCtx, o.ID, c.ID, 10)
			want := map[string]int{"192.0.2.10": 2, "192.0.2.11": 1}[o.Value]
			if err != nil || len(sim.FeedEvents) != want {
				t.Errorf("feed events of %s: %v %+v, want %d", o.Value, err, sim, want)
			}
		}
		if _, err := f.svc.FromFeedEvents(f.analystCtx, []int64{999999}, Input{}); !errs.Is(err, errs.Invalid) {
			t.Errorf("unknown event = %v", err)
		}
	})
}
