package voluntary_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"regexp"
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
	"github.com/belfry-cert/belfry/internal/voluntary"
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

// take returns the messages queued since the last call.
func (m *fakeMailer) take() []notify.Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.msgs
	m.msgs = nil
	return out
}

var linkRE = regexp.MustCompile(`https://belfry\.test/([a-z]{2})/voluntary/confirm\?token=([A-Za-z0-9]+)`)

type fixture struct {
	svc  *voluntary.Service
	mail *fakeMailer
	now  time.Time
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	f := &fixture{mail: &fakeMailer{}, now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	f.svc = voluntary.NewService(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	f.svc.SetClock(func() time.Time { return f.now })
	f.svc.SetMail(f.mail, i18n.MustLoad(), "https://belfry.test/")
	return f
}

// token returns the link's token of the one confirmation mail queued.
func (f *fixture) token(t *testing.T, wantLocale string) string {
	t.Helper()
	msgs := f.mail.take()
	if len(msgs) != 1 {
		t.Fatalf("%d mails queued, want 1", len(msgs))
	}
	m := linkRE.FindStringSubmatch(msgs[0].Text)
	if m == nil {
		t.Fatalf("no confirmation link in %q", msgs[0].Text)
	}
	if m[1] != wantLocale {
		t.Errorf("link locale = %s, want %s", m[1], wantLocale)
	}
	return m[2]
}

func citizen(desc string) voluntary.Content {
	return voluntary.Content{ReporterKind: voluntary.ReporterCitizen, Email: "Jan@Example.be", Language: "fr", Subject: "cyber_threat",
		Description: desc, Impact: "none", Consent: true}
}

var analyst = &auth.Principal{OrgID: 1, OrgKind: "authority", Roles: []auth.Role{auth.RoleAnalyst}}

func TestContentCheck(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	future := now.Add(time.Hour)
	tests := []struct {
		name   string
		edit   func(c *voluntary.Content)
		fields []string // the fields at fault, in order
	}{
		{"citizen without a name", func(c *voluntary.Content) {}, nil},
		{"everything missing", func(c *voluntary.Content) { *c = voluntary.Content{} },
			[]string{"reporter_kind", "email", "subject", "description", "impact", "consent"}},
		{"unknown reporter", func(c *voluntary.Content) { c.ReporterKind = "robot" }, []string{"reporter_kind"}},
		{"organisation needs its name and a person", func(c *voluntary.Content) { c.ReporterKind = voluntary.ReporterOrganisation },
			[]string{"name", "organisation"}},
		{"bad e-mail", func(c *voluntary.Content) { c.Email = "jan at example" }, []string{"email"}},
		{"bad phone", func(c *voluntary.Content) { c.Phone = "call me maybe" }, []string{"phone"}},
		{"unknown language", func(c *voluntary.Content) { c.Language = "es" }, []string{"language"}},
		{"unknown subject", func(c *voluntary.Content) { c.Subject = "rumour" }, []string{"subject"}},
		{"blank description", func(c *voluntary.Content) { c.Description = " \r\n " }, []string{"description"}},
		{"description too long", func(c *voluntary.Content) { c.Description = strings.Repeat("é", 10001) }, []string{"description"}},
		{"start in the future", func(c *voluntary.Content) { c.StartedAt = &future }, []string{"started_at"}},
		{"unknown classification", func(c *voluntary.Content) { c.Classification = "fraud/robbery" }, []string{"classification"}},
		{"taxonomy alone is fine", func(c *voluntary.Content) { c.Classification = "fraud" }, nil},
		{"unknown impact", func(c *voluntary.Content) { c.Impact = "huge" }, []string{"impact"}},
		{"unknown sector", func(c *voluntary.Content) { c.Sector = "bakeries" }, []string{"sector"}},
		{"known sector", func(c *voluntary.Content) { c.Sector = "energy" }, nil},
		{"unknown TLP", func(c *voluntary.Content) { c.TLP = "purple" }, []string{"tlp"}},
		{"TLP as written", func(c *voluntary.Content) { c.TLP = "TLP:AMBER+STRICT" }, nil},
		{"no consent", func(c *voluntary.Content) { c.Consent = false }, []string{"consent"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := citizen("Phishing SMS")
			tc.edit(&c)
			var v errs.Validator
			c.Check(&v, now)
			var got []string
			if e, ok := errs.As(v.Err()); ok {
				for _, f := range e.Fields {
					got = append(got, f.Field)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("Check() fields = %v, want %v", got, tc.fields)
			}
		})
	}
	c := citizen(" Phishing SMS\r\n")
	c.Organisation, c.TLP = "Ignored for a citizen", ""
	var v errs.Validator
	c.Check(&v, now)
	if c.Email != "Jan@example.be" || c.Description != "Phishing SMS" || c.Organisation != "" || c.TLP != "amber" {
		t.Errorf("normalised = %+v", c)
	}
}

func TestSubmitAndConfirm(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := t.Context()
		if err := f.svc.Submit(ctx, citizen("")); !errs.Is(err, errs.Invalid) {
			t.Fatalf("Submit(empty description) = %v, want invalid", err)
		}
		if len(f.mail.take()) != 0 {
			t.Fatal("a refused notification sent mail")
		}
		if err := f.svc.Submit(ctx, citizen("Fake bank SMS to many people")); err != nil {
			t.Fatal(err)
		}
		token := f.token(t, "fr")
		// Not listed until confirmed.
		list, total, err := f.svc.List(auth.With(ctx, analyst), voluntary.Filter{})
		if err != nil || total != 0 || len(list) != 0 {
			t.Fatalf("List before confirmation = %d items, %d, %v; want none", len(list), total, err)
		}
		p, err := f.svc.ByToken(ctx, token)
		if err != nil || p.Status != voluntary.StatusPending || p.Receipt != nil || p.Content.Description != "Fake bank SMS to many people" {
			t.Fatalf("ByToken = %+v, %v", p, err)
		}
		f.now = f.now.Add(time.Hour)
		rec, err := f.svc.Confirm(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Ref != "VOL-2026-000001" || !rec.ReceivedAt.Equal(f.now) {
			t.Errorf("receipt = %s at %v, want VOL-2026-000001 at %v", rec.Ref, rec.ReceivedAt, f.now)
		}
		sum := sha256.Sum256(rec.Content)
		if hex.EncodeToString(sum[:]) != rec.SHA256 {
			t.Errorf("sha256 %s is not the hash of the content %s", rec.SHA256, rec.Content)
		}
		msgs := f.mail.take()
		if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "VOL-2026-000001") || !strings.Contains(msgs[0].Text, rec.SHA256) ||
			msgs[0].To[0] != "Jan@example.be" || !strings.Contains(msgs[0].Subject, "reçue") {
			t.Errorf("receipt mail = %+v", msgs)
		}
		// Confirming again (a double click) gives the same receipt.
		again, err := f.svc.Confirm(ctx, token)
		if err != nil || again.Ref != rec.Ref || again.SHA256 != rec.SHA256 || len(f.mail.take()) != 0 {
			t.Errorf("second Confirm = %+v, %v", again, err)
		}
		if _, err := f.svc.Confirm(ctx, token+"x"); !errs.Is(err, errs.NotFound) {
			t.Errorf("Confirm(wrong token) = %v, want not found", err)
		}
		// The next one of the year gets the next number.
		if err := f.svc.Submit(ctx, citizen("Another one")); err != nil {
			t.Fatal(err)
		}
		rec2, err := f.svc.Confirm(ctx, f.token(t, "fr"))
		if err != nil || rec2.Ref != "VOL-2026-000002" {
			t.Errorf("second notification = %+v, %v", rec2, err)
		}
		var n int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'voluntary.receive' AND actor_type = 'anonymous'`).Scan(&n); err != nil || n != 2 {
			t.Errorf("audit records of receipts = %d, %v; want 2", n, err)
		}
	})
}

func TestExpiryAndPurge(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := t.Context()
		if err := f.svc.Submit(ctx, citizen("Kept")); err != nil {
			t.Fatal(err)
		}
		kept := f.token(t, "fr")
		c := citizen("Forgotten")
		c.Email = "other@example.be"
		if err := f.svc.Submit(ctx, c); err != nil {
			t.Fatal(err)
		}
		forgotten := f.token(t, "fr")
		f.now = f.now.Add(71 * time.Hour)
		if _, err := f.svc.Confirm(ctx, kept); err != nil {
			t.Fatalf("Confirm after 71 h = %v", err)
		}
		if n, err := f.svc.Purge(ctx); err != nil || n != 0 {
			t.Errorf("Purge before expiry = %d, %v; want 0", n, err)
		}
		f.now = f.now.Add(2 * time.Hour) // 73 h
		if _, err := f.svc.ByToken(ctx, forgotten); !errs.Is(err, errs.NotFound) {
			t.Errorf("ByToken after 73 h = %v, want not found", err)
		}
		if _, err := f.svc.Confirm(ctx, forgotten); !errs.Is(err, errs.NotFound) {
			t.Errorf("Confirm after 73 h = %v, want not found", err)
		}
		if n, err := f.svc.Purge(ctx); err != nil || n != 1 {
			t.Errorf("Purge = %d, %v; want 1", n, err)
		}
		// The confirmed one stays, and its link still shows its receipt.
		p, err := f.svc.ByToken(ctx, kept)
		if err != nil || p.Receipt == nil || p.Status != voluntary.StatusReceived {
			t.Errorf("confirmed after purge = %+v, %v", p, err)
		}
	})
}

func TestThrottle(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := t.Context()
		submit := func(c voluntary.Content) int {
			t.Helper()
			if err := f.svc.Submit(ctx, c); err != nil {
				t.Fatal(err)
			}
			return len(f.mail.take())
		}
		if n := submit(citizen("Same")); n != 1 {
			t.Fatalf("first = %d mails", n)
		}
		// The same notification again (a double click): nothing, whatever
		// the case of the address.
		again := citizen("Same")
		again.Email = "Jan@EXAMPLE.be"
		if n := submit(again); n != 0 {
			t.Errorf("repeat = %d mails, want 0", n)
		}
		f.now = f.now.Add(6 * time.Minute)
		if n := submit(citizen("Same")); n != 1 {
			t.Errorf("repeat after the window = %d mails, want 1", n)
		}
		if n := submit(citizen("Different")); n != 1 {
			t.Errorf("third pending = %d mails, want 1", n)
		}
		if n := submit(citizen("Yet another")); n != 0 {
			t.Errorf("fourth pending within the hour = %d mails, want 0", n)
		}
		other := citizen("Yet another")
		other.Email = "someone@example.be"
		if n := submit(other); n != 1 {
			t.Errorf("another address = %d mails, want 1", n)
		}
		f.now = f.now.Add(time.Hour)
		if n := submit(citizen("Yet another")); n != 1 {
			t.Errorf("after the hour = %d mails, want 1", n)
		}
	})
}

func TestStatus(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := t.Context()
		for _, d := range []string{"First", "Second"} {
			c := citizen(d)
			c.Sector = "energy"
			if err := f.svc.Submit(ctx, c); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Confirm(ctx, f.token(t, "fr")); err != nil {
				t.Fatal(err)
			}
			f.mail.take() // the receipt
			f.now = f.now.Add(time.Minute)
		}
		asAnalyst := auth.With(ctx, analyst)
		list, total, err := f.svc.List(asAnalyst, voluntary.Filter{})
		if err != nil || total != 2 || list[0].Content.Description != "First" {
			t.Fatalf("List = %+v, %d, %v", list, total, err)
		}
		id := list[0].ID
		entity := auth.With(ctx, &auth.Principal{OrgID: 2, OrgKind: "entity", Roles: []auth.Role{auth.RoleOrgAdmin}})
		auditor := auth.With(ctx, &auth.Principal{OrgID: 1, OrgKind: "authority", Roles: []auth.Role{auth.RoleAuditor}})
		if _, _, err := f.svc.List(entity, voluntary.Filter{}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("List as an entity = %v, want forbidden", err)
		}
		if _, err := f.svc.Notification(entity, id); !errs.Is(err, errs.Forbidden) {
			t.Errorf("Notification as an entity = %v, want forbidden", err)
		}
		if _, err := f.svc.Notification(auditor, id); err != nil {
			t.Errorf("Notification as the auditor = %v", err)
		}
		if _, err := f.svc.SetStatus(auditor, id, voluntary.StatusTriaged, ""); !errs.Is(err, errs.Forbidden) {
			t.Errorf("SetStatus as the auditor = %v, want forbidden", err)
		}
		if _, err := f.svc.SetStatus(entity, id, voluntary.StatusTriaged, ""); !errs.Is(err, errs.Forbidden) {
			t.Errorf("SetStatus as an entity = %v, want forbidden", err)
		}
		steps := []struct {
			to   string
			kind errs.Kind // 0: accepted
		}{
			{"", errs.Invalid},
			{voluntary.StatusReceived, errs.Invalid},
			{voluntary.StatusClosed, errs.Conflict}, // not before triage
			{voluntary.StatusTriaged, 0},
			{voluntary.StatusTriaged, errs.Conflict},
			{voluntary.StatusClosed, 0},
			{voluntary.StatusRejected, errs.Conflict}, // closed is final
		}
		for _, st := range steps {
			n, err := f.svc.SetStatus(asAnalyst, id, st.to, "checked "+st.to)
			switch {
			case st.kind == 0 && (err != nil || n.Status != st.to || n.StatusNote != "checked "+st.to):
				t.Errorf("SetStatus(%q) = %+v, %v", st.to, n, err)
			case st.kind != 0 && !errs.Is(err, st.kind):
				t.Errorf("SetStatus(%q) = %v, want %v", st.to, err, st.kind)
			}
		}
		if _, err := f.svc.SetStatus(asAnalyst, list[1].ID, voluntary.StatusRejected, strings.Repeat("x", 2001)); !errs.Is(err, errs.Invalid) {
			t.Errorf("SetStatus(long note) = %v, want invalid", err)
		}
		if _, err := f.svc.SetStatus(asAnalyst, list[1].ID, voluntary.StatusRejected, "spam"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SetStatus(asAnalyst, 999999, voluntary.StatusTriaged, ""); !errs.Is(err, errs.NotFound) {
			t.Errorf("SetStatus(missing) = %v, want not found", err)
		}
		for _, tc := range []struct {
			f    voluntary.Filter
			want int
		}{
			{voluntary.Filter{Status: voluntary.StatusClosed}, 1},
			{voluntary.Filter{Status: voluntary.StatusReceived}, 0},
			{voluntary.Filter{ReporterKind: voluntary.ReporterCitizen, Sector: "energy"}, 2},
			{voluntary.Filter{ReporterKind: voluntary.ReporterOrganisation}, 0},
			{voluntary.Filter{From: f.now.Add(-90 * time.Second)}, 1},
			{voluntary.Filter{To: f.now.Add(-90 * time.Second)}, 1},
			{voluntary.Filter{Limit: 1, Offset: 1}, 2},
		} {
			items, total, err := f.svc.List(asAnalyst, tc.f)
			if err != nil || total != tc.want {
				t.Errorf("List(%+v) total = %d, %v; want %d", tc.f, total, err, tc.want)
			}
			if tc.f.Limit == 1 && len(items) != 1 {
				t.Errorf("List(%+v) = %d items, want 1", tc.f, len(items))
			}
		}
		if _, _, err := f.svc.List(asAnalyst, voluntary.Filter{Status: "pending"}); !errs.Is(err, errs.Invalid) {
			t.Errorf("List(status pending) = %v, want invalid", err)
		}
		var n int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'voluntary.status'`).Scan(&n); err != nil || n != 3 {
			t.Errorf("audit records of status changes = %d, %v; want 3", n, err)
		}
	})
}
