package reporting_test

import (
	"context"
	"flag"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/app"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/notify"
	"github.com/belfry-cert/belfry/internal/reporting"
	"github.com/belfry-cert/belfry/internal/store"
)

// fakeMailer captures the messages queued.
type fakeMailer struct {
	mu   sync.Mutex
	msgs []notify.Message
}

func (m *fakeMailer) Enqueue(_ context.Context, tx *store.Tx, msg notify.Message) error {
	if tx == nil {
		panic("mail queued outside a transaction")
	}
	if err := msg.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, msg)
	return nil
}

// take returns the messages queued since the last call, by recipient.
func (m *fakeMailer) take() map[string]notify.Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]notify.Message{}
	for _, x := range m.msgs {
		out[x.To[0]] = x
	}
	m.msgs = nil
	return out
}

type remFixture struct {
	db     *store.DB
	now    time.Time
	mail   *fakeMailer
	svc    *reporting.Service
	member *auth.Principal
	orgA   int64
}

func (f *remFixture) service(cat *i18n.Catalog) *reporting.Service {
	s := reporting.NewService(f.db, slog.New(slog.DiscardHandler))
	s.SetClock(func() time.Time { return f.now })
	s.SetMail(f.mail, cat, "https://belfry.test/", []time.Duration{2 * time.Hour, 12 * time.Hour})
	return s
}

func newRemFixture(t *testing.T, db *store.DB) *remFixture {
	t.Helper()
	ctx := context.Background()
	f := &remFixture{db: db, mail: &fakeMailer{}, now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	f.svc = f.service(i18n.MustLoad())
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	org := func(name string) int64 {
		var id int64
		if err := db.QueryRow(ctx, `INSERT INTO organisations (name, kind, created_at, updated_at) VALUES (?, 'entity', ?, ?) RETURNING id`,
			name, f.now, f.now).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	user := func(org int64, email, locale string, disabled bool, roles ...auth.Role) int64 {
		var id int64
		if err := db.QueryRow(ctx, `INSERT INTO users (org_id, email, name, locale, disabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			org, email, strings.Split(email, "@")[0], locale, disabled, f.now, f.now).Scan(&id); err != nil {
			t.Fatal(err)
		}
		for _, r := range roles {
			exec(`INSERT INTO user_roles (user_id, role) VALUES (?, ?)`, id, string(r))
		}
		return id
	}
	f.orgA = org("Grid A")
	orgB := org("Water B")
	id := user(f.orgA, "soc@a.example", "nl", false, auth.RoleMember)
	f.member = &auth.Principal{UserID: id, OrgID: f.orgA, OrgKind: "entity", Email: "soc@a.example", Roles: []auth.Role{auth.RoleMember}}
	user(f.orgA, "boss@a.example", "fr", false, auth.RoleOrgAdmin, auth.RoleMember)
	user(f.orgA, "intern@a.example", "", false, auth.RoleMember) // no locale: English
	user(f.orgA, "gone@a.example", "nl", true, auth.RoleMember)  // disabled
	user(f.orgA, "norole@a.example", "nl", false)                // no role
	user(orgB, "admin@b.example", "en", false, auth.RoleOrgAdmin)
	// A's registration names a 24/7 incident contact (and the member again).
	exec(`INSERT INTO registrations (org_id, status, data, created_at, updated_at) VALUES (?, 'approved', ?, ?, ?)`, f.orgA,
		`{"contacts":[{"role":"incident_24x7","name":"SOC","email":"night@a.example","phone":"+32 2 000 00 00","language":"de"},
		{"role":"incident_24x7","name":"SOC","email":"SOC@a.example","language":"en"},
		{"role":"general","name":"Desk","email":"info@a.example","language":"fr"}]}`, f.now, f.now)
	return f
}

var ewContent = reporting.Content{IncidentStatus: "ongoing", Summary: "Ransomware", SuspectedMalicious: "yes", CrossBorder: "no"}

func TestSendReminders(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newRemFixture(t, db)
		ctx := context.Background()
		other := f.service(i18n.MustLoad()) // a second instance on the same database
		aware := f.now
		inc, err := f.svc.CreateIncident(auth.With(ctx, f.member), reporting.IncidentInput{Title: "Ransomware\non SCADA", AwareAt: aware})
		if err != nil {
			t.Fatal(err)
		}
		run := func(s *reporting.Service, at time.Duration, want int) map[string]notify.Message {
			t.Helper()
			f.now = aware.Add(at)
			n, err := s.SendReminders(ctx)
			if err != nil || n != want {
				t.Fatalf("at +%s: %d reminders (%v), want %d", at, n, err, want)
			}
			return f.mail.take()
		}
		everyone := []string{"SOC@a.example", "boss@a.example", "intern@a.example", "night@a.example"}
		wantTo := func(got map[string]notify.Message) {
			t.Helper()
			to := slices.Sorted(func(yield func(string) bool) {
				for k := range got {
					if !yield(k) {
						return
					}
				}
			})
			want := []string{"boss@a.example", "intern@a.example", "night@a.example", "soc@a.example"}
			if !slices.Equal(to, want) {
				t.Errorf("recipients = %v, want %v (of %v)", to, want, everyone)
			}
		}

		if got := run(f.svc, time.Hour, 0); len(got) != 0 {
			t.Errorf("mail before any window: %v", got)
		}
		// 12 hours before the early warning is due.
		got := run(f.svc, 12*time.Hour, 1)
		wantTo(got)
		nl, fr, de, en := got["soc@a.example"], got["boss@a.example"], got["night@a.example"], got["intern@a.example"]
		if nl.Subject != "[Belfry] Termijn nadert – Vroegtijdige waarschuwing: "+inc.Ref {
			t.Errorf("nl subject = %q", nl.Subject)
		}
		for _, want := range []string{inc.Ref, "Ransomware on SCADA", "dinsdag 3 maart 2026 om 10:00 CET (2026-03-03 09:00 UTC)",
			"https://belfry.test/nl/incidents/" + itoa(inc.ID)} {
			if !strings.Contains(nl.Text, want) {
				t.Errorf("nl body lacks %q:\n%s", want, nl.Text)
			}
		}
		if !strings.Contains(fr.Subject, "Échéance proche – Alerte précoce") || !strings.Contains(fr.Text, "/fr/incidents/") {
			t.Errorf("fr = %+v", fr)
		}
		if !strings.Contains(de.Subject, "Frist läuft bald ab – Frühwarnung") || !strings.Contains(de.Text, "Dienstag, 3. März 2026, 10:00 CET") {
			t.Errorf("de = %+v", de)
		}
		if en.Subject != "[Belfry] Early warning due soon: "+inc.Ref || !strings.Contains(en.Text, "/en/incidents/") {
			t.Errorf("en = %+v", en)
		}
		// Not again on the next run, nor from another instance.
		run(f.svc, 12*time.Hour+5*time.Minute, 0)
		run(other, 12*time.Hour+10*time.Minute, 0)
		// 2 hours before: once more, then no more.
		if got := run(other, 22*time.Hour, 1); len(got) != 4 || !strings.Contains(got["soc@a.example"].Subject, "Termijn nadert") {
			t.Errorf("2h reminder = %v", got)
		}
		run(f.svc, 22*time.Hour+5*time.Minute, 0)
		run(other, 23*time.Hour+59*time.Minute, 0)
		// Overdue: once.
		got = run(f.svc, 24*time.Hour+time.Minute, 1)
		wantTo(got)
		if s := got["soc@a.example"].Subject; s != "[Belfry] Termijn verstreken – Vroegtijdige waarschuwing: "+inc.Ref {
			t.Errorf("overdue subject = %q", s)
		}
		if s := got["intern@a.example"].Subject; s != "[Belfry] Early warning overdue: "+inc.Ref {
			t.Errorf("overdue subject = %q", s)
		}
		run(f.svc, 24*time.Hour+6*time.Minute, 0)
		run(other, 25*time.Hour, 0)

		// Filed late, then the notification well before its own window:
		// nothing more is sent for either.
		f.now = aware.Add(25*time.Hour + time.Minute)
		if _, err := f.svc.Submit(auth.With(ctx, f.member), inc.ID, reporting.EarlyWarning, ewContent, reporting.SubmitOptions{}); err != nil {
			t.Fatal(err)
		}
		f.now = aware.Add(30 * time.Hour)
		notif := ewContent
		notif.Severity, notif.ImpactAssessment = "yellow", "Two substations run manually"
		if _, err := f.svc.Submit(auth.With(ctx, f.member), inc.ID, reporting.IncidentNotification, notif, reporting.SubmitOptions{}); err != nil {
			t.Fatal(err)
		}
		run(f.svc, 60*time.Hour, 0)
		run(f.svc, 70*time.Hour, 0)
		run(f.svc, 73*time.Hour, 0)
	})
}

// A run that starts late inside both windows sends one mail, not two; a
// stage overdue before the reminders could see it gets no stale mail.
func TestRemindersLateRun(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newRemFixture(t, db)
		ctx := context.Background()
		aware := f.now
		if _, err := f.svc.CreateIncident(auth.With(ctx, f.member), reporting.IncidentInput{Title: "Outage", AwareAt: aware}); err != nil {
			t.Fatal(err)
		}
		// Early warning due in 1 h: one mail, the 12 h one counts as sent.
		f.now = aware.Add(23 * time.Hour)
		if n, err := f.svc.SendReminders(ctx); n != 1 || err != nil {
			t.Fatalf("late run = %d, %v", n, err)
		}
		if got := f.mail.take(); len(got) != 4 {
			t.Errorf("late run mailed %d", len(got))
		}
		f.now = aware.Add(23*time.Hour + 5*time.Minute)
		if n, err := f.svc.SendReminders(ctx); n != 0 || err != nil {
			t.Errorf("after the late run = %d, %v", n, err)
		}
		// Ten days later, the notification is long overdue: no mail.
		f.now = aware.Add(13 * 24 * time.Hour)
		if n, err := f.svc.SendReminders(ctx); n != 0 || err != nil {
			t.Errorf("stale overdue = %d, %v", n, err)
		}
	})
}

// Without SetMail, or with another organisation's incident, nothing goes
// to A's people.
func TestRemindersOtherOrganisation(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newRemFixture(t, db)
		ctx := context.Background()
		var orgB, userB int64
		if err := db.QueryRow(ctx, `SELECT org_id, id FROM users WHERE email = 'admin@b.example'`).Scan(&orgB, &userB); err != nil {
			t.Fatal(err)
		}
		adminB := &auth.Principal{UserID: userB, OrgID: orgB, OrgKind: "entity", Roles: []auth.Role{auth.RoleOrgAdmin}}
		aware := f.now
		if _, err := f.svc.CreateIncident(auth.With(ctx, adminB), reporting.IncidentInput{Title: "Leak", AwareAt: aware}); err != nil {
			t.Fatal(err)
		}
		f.now = aware.Add(12 * time.Hour)
		plain := reporting.NewService(db, slog.New(slog.DiscardHandler))
		plain.SetClock(func() time.Time { return f.now })
		if n, err := plain.SendReminders(ctx); n != 0 || err != nil {
			t.Errorf("without mail settings = %d, %v", n, err)
		}
		if n, err := f.svc.SendReminders(ctx); n != 1 || err != nil {
			t.Fatalf("B's reminder = %d, %v", n, err)
		}
		got := f.mail.take()
		if len(got) != 1 || got["admin@b.example"].Subject == "" {
			t.Errorf("B's reminder went to %v", got)
		}
	})
}

func TestParseLeadTimes(t *testing.T) {
	for in, want := range map[string][]time.Duration{
		"12h,2h":     {12 * time.Hour, 2 * time.Hour},
		" 2h , 12h ": {12 * time.Hour, 2 * time.Hour},
		"90m":        {90 * time.Minute},
		"":           nil,
		"none":       nil,
	} {
		got, err := reporting.ParseLeadTimes(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseLeadTimes(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"0s", "-1h", "soon", "2h,2h", "721h", "1.5s", "12h,"} {
		if _, err := reporting.ParseLeadTimes(in); err == nil {
			t.Errorf("ParseLeadTimes(%q) accepted", in)
		}
	}
}

func TestReportRemindersFlag(t *testing.T) {
	parse := func(args ...string) (*app.Config, error) {
		var c app.Config
		fs := flag.NewFlagSet("belfry", flag.ContinueOnError)
		c.Flags(fs)
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		return &c, c.Validate()
	}
	mentions := func(err error) bool { return err != nil && strings.Contains(err.Error(), "--report-reminders") }
	t.Setenv("BELFRY_REPORT_REMINDERS", "")
	c, err := parse("--report-reminders=24h,1h")
	if c.ReportReminders != "24h,1h" || mentions(err) {
		t.Errorf("flag = %q, %v", c.ReportReminders, err)
	}
	t.Setenv("BELFRY_REPORT_REMINDERS", "6h")
	if c, err := parse(); c.ReportReminders != "6h" || mentions(err) {
		t.Errorf("environment = %q, %v", c.ReportReminders, err)
	}
	if _, err := parse("--report-reminders=2h,soon"); !mentions(err) {
		t.Errorf("bad value: %v", err)
	}
	if _, err := parse("--report-reminders=0"); !mentions(err) {
		t.Errorf("zero lead: %v", err)
	}
}

func TestReportRemindersDefault(t *testing.T) {
	var c app.Config
	fs := flag.NewFlagSet("belfry", flag.ContinueOnError)
	c.Flags(fs)
	if f := fs.Lookup("report-reminders"); f == nil || f.DefValue != reporting.DefaultReminderLeads || reporting.DefaultReminderLeads != "12h,2h" {
		t.Errorf("default = %v", f)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
