package cases

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
)

// msgFixture adds to the cases fixture the people of the organisations
// (with their roles), a registration with contacts, and a case that
// affects organisation A.
type msgFixture struct {
	*fixture
	a1, a2, aOff, b1 *auth.Principal
	c                *Case
	mail             *mailer
}

func newMsgFixture(t *testing.T, db *store.DB) *msgFixture {
	t.Helper()
	ctx := context.Background()
	f := &msgFixture{fixture: newFixture(t, db), mail: &mailer{}}
	f.svc.SetMessageMail(f.mail, "https://belfry.example/")
	person := func(org int64, email, locale string, disabled bool, role auth.Role) *auth.Principal {
		var id int64
		if err := db.QueryRow(ctx, `INSERT INTO users (org_id, email, name, locale, disabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
			RETURNING id`, org, email, strings.Split(email, "@")[0], locale, disabled, f.now, f.now).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, `INSERT INTO user_roles (user_id, role) VALUES (?, ?)`, id, string(role)); err != nil {
			t.Fatal(err)
		}
		return &auth.Principal{UserID: id, OrgID: org, OrgKind: "entity", Email: email, Name: strings.Split(email, "@")[0], Locale: locale,
			Roles: []auth.Role{role}}
	}
	f.a1 = person(f.orgA, "a1@a.example", "nl", false, auth.RoleMember)
	f.a2 = person(f.orgA, "a2@a.example", "fr", false, auth.RoleOrgAdmin)
	f.aOff = person(f.orgA, "gone@a.example", "en", true, auth.RoleMember)
	f.b1 = person(f.orgB, "b1@b.example", "en", false, auth.RoleOrgAdmin)
	data := `{"contacts": [{"role": "incident_24x7", "name": "SOC", "email": "soc24@a.example", "language": "de"},
		{"role": "legal_representative", "name": "Legal", "email": "legal@a.example"}]}`
	if _, err := db.Exec(ctx, `INSERT INTO registrations (org_id, status, data, created_at, updated_at) VALUES (?, 'approved', ?, ?, ?)`,
		f.orgA, data, f.now, f.now); err != nil {
		t.Fatal(err)
	}
	orgs := []int64{f.orgA}
	c, err := f.svc.Create(f.analystCtx, Input{Title: str("Ransomware at Grid A"), Orgs: &orgs})
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	return f
}

func (f *msgFixture) as(p *auth.Principal) context.Context { return auth.With(context.Background(), p) }

func mailTos(m *mailer) []string {
	var out []string
	for _, x := range m.msgs {
		out = append(out, x.To...)
	}
	slices.Sort(out)
	return out
}

// TestMessageTLPRules: per label, who gets the CSIRT's message by e-mail,
// whether the e-mail holds the content, and who reads it in the portal.
func TestMessageTLPRules(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newMsgFixture(t, db)
		everyone := []string{"a1@a.example", "a2@a.example", "soc24@a.example"}
		for _, tc := range []struct {
			tlp        string
			recipients []*auth.Principal
			mailTo     []string
			content    bool
			readers    []*auth.Principal // of organisation A, besides the staff
		}{
			{"CLEAR", nil, everyone, true, []*auth.Principal{f.a1, f.a2}},
			{"GREEN", nil, everyone, true, []*auth.Principal{f.a1, f.a2}},
			{"AMBER", nil, everyone, true, []*auth.Principal{f.a1, f.a2}},
			{"AMBER+STRICT", nil, []string{"a1@a.example", "a2@a.example"}, false, []*auth.Principal{f.a1, f.a2}},
			{"RED", []*auth.Principal{f.a2}, []string{"a2@a.example"}, false, []*auth.Principal{f.a2}},
		} {
			t.Run(tc.tlp, func(t *testing.T) {
				f.mail.msgs = nil
				secret := "Content-of-" + tc.tlp
				var ids []int64
				for _, p := range tc.recipients {
					ids = append(ids, p.UserID)
				}
				m, err := f.svc.SendMessage(f.analystCtx, f.c.ID, MessageInput{OrgID: f.orgA, TLP: "tlp:" + strings.ToLower(tc.tlp), Body: secret, Recipients: ids})
				if err != nil {
					t.Fatal(err)
				}
				if m.TLP != tc.tlp || m.Direction != FromCSIRT || m.Org != "Grid A" || len(m.Recipients) != len(tc.recipients) {
					t.Errorf("message %+v", m)
				}
				if got := mailTos(f.mail); !slices.Equal(got, tc.mailTo) {
					t.Errorf("mailed to %v, want %v", got, tc.mailTo)
				}
				for _, x := range f.mail.msgs {
					if !strings.HasPrefix(x.Subject, "[TLP:"+tc.tlp+"] "+f.c.Ref+": ") || !strings.HasPrefix(x.Text, "TLP:"+tc.tlp+"\n") {
						t.Errorf("mail to %v: subject %q, text %.40q: the label must come first", x.To, x.Subject, x.Text)
					}
					if strings.Contains(x.Text, secret) != tc.content || !strings.Contains(x.Text, "https://belfry.example/") {
						t.Errorf("mail to %v holds the content: %v, want %v: %s", x.To, !tc.content, tc.content, x.Text)
					}
					if strings.Contains(x.Text, "/cases/") {
						t.Errorf("mail to %v links the CSIRT's case page: %s", x.To, x.Text)
					}
				}
				for _, p := range []*auth.Principal{f.a1, f.a2, f.b1} {
					ms, _ := f.svc.OurMessages(f.as(p), f.c.ID)
					sees := slices.ContainsFunc(ms, func(x *Message) bool { return x.ID == m.ID })
					if want := slices.Contains(tc.readers, p); sees != want {
						t.Errorf("%s reads it in the portal: %v, want %v", p.Email, sees, want)
					}
				}
				all, err := f.svc.Messages(f.analystCtx, f.c.ID)
				if err != nil || !slices.ContainsFunc(all, func(x *Message) bool { return x.ID == m.ID && x.TLP == tc.tlp }) {
					t.Errorf("the staff do not read it: %v", err)
				}
			})
		}
		// The mails are in each person's language; the contact's in theirs.
		f.mail.msgs = nil
		f.svc.SendMessage(f.analystCtx, f.c.ID, MessageInput{OrgID: f.orgA, TLP: "GREEN", Body: "x"})
		for _, x := range f.mail.msgs {
			want := map[string]string{"a1@a.example": "/nl/", "a2@a.example": "/fr/", "soc24@a.example": "/de/"}[x.To[0]]
			if !strings.Contains(x.Text, "https://belfry.example"+want+"our-cases/") {
				t.Errorf("mail to %v: %s", x.To, x.Text)
			}
		}
	})
}

func TestMessageRefusals(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newMsgFixture(t, db)
		ctx := f.analystCtx
		field := field0
		if _, err := f.svc.SendMessage(ctx, f.c.ID, MessageInput{OrgID: f.orgA, TLP: "RED", Body: "x"}); field(err) != "recipients" {
			t.Errorf("RED without recipients = %v", err)
		}
		if _, err := f.svc.SendMessage(ctx, f.c.ID, MessageInput{OrgID: f.orgA, TLP: "RED", Body: "x", Recipients: []int64{f.b1.UserID}}); field(err) != "recipients" {
			t.Errorf("RED to a person of another organisation = %v", err)
		}
		if _, err := f.svc.SendMessage(ctx, f.c.ID, MessageInput{OrgID: f.orgA, TLP: "RED", Body: "x", Recipients: []int64{f.aOff.UserID}}); field(err) != "recipients" {
			t.Errorf("RED to a disabled person = %v", err)
		}
		if _, err := f.svc.SendMessage(ctx, f.c.ID, MessageInput{OrgID: f.orgB, Body: "x"}); field(err) != "organisation_id" {
			t.Errorf("message to an organisation the case does not affect = %v", err)
		}
		if _, err := f.svc.SendMessage(ctx, f.c.ID, MessageInput{OrgID: f.orgA, TLP: "PINK", Body: " "}); field(err) != "body" {
			t.Errorf("empty body and bad label = %v", err)
		}
		if _, err := f.svc.SendMessage(f.as(f.auditor), f.c.ID, MessageInput{OrgID: f.orgA, Body: "x"}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("auditor sends = %v", err)
		}
		if _, err := f.svc.SendMessage(f.as(f.a1), f.c.ID, MessageInput{OrgID: f.orgA, Body: "x"}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("organisation uses the CSIRT's route = %v", err)
		}
		if len(f.mail.msgs) != 0 {
			t.Errorf("refused messages mailed: %+v", f.mail.msgs)
		}
		// Nothing was stored, and no audit record names organisation A.
		var n int
		db.QueryRow(context.Background(), `SELECT COUNT(*) FROM case_messages`).Scan(&n)
		if n != 0 {
			t.Errorf("%d messages stored", n)
		}
	})
}

func errorString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

// TestOrganisationSide: the organisation's people see only the cases that
// affect it and only its thread; another organisation sees nothing, even
// with the case's id; replies notify the assignee with a link only.
func TestOrganisationSide(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newMsgFixture(t, db)
		// The case also affects B, which gets its own message.
		both := []int64{f.orgA, f.orgB}
		if _, err := f.svc.Update(f.analystCtx, f.c.ID, Input{Orgs: &both, AssigneeID: &f.analyst.UserID}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SendMessage(f.analystCtx, f.c.ID, MessageInput{OrgID: f.orgB, TLP: "AMBER", Body: "For B only"}); err != nil {
			t.Fatal(err)
		}
		other, err := f.svc.Create(f.analystCtx, Input{Title: str("Case of nobody")})
		if err != nil {
			t.Fatal(err)
		}
		cs, more, err := f.svc.OurCases(f.as(f.a1), 0, 10)
		if err != nil || more || len(cs) != 1 || cs[0].ID != f.c.ID || cs[0].TLP != "AMBER" || cs[0].LastMessageAt != nil {
			t.Fatalf("A's cases = %+v, %v, %v", cs, more, err)
		}
		if _, err := f.svc.OurCase(f.as(f.a1), other.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("A reads a case that does not affect it: %v", err)
		}
		ms, err := f.svc.OurMessages(f.as(f.a1), f.c.ID)
		if err != nil || len(ms) != 0 {
			t.Errorf("A reads B's thread: %+v %v", ms, err)
		}
		// A replies: its thread's label by default (the case's AMBER), then RED to a colleague.
		f.mail.msgs = nil
		m, err := f.svc.Reply(f.as(f.a1), f.c.ID, MessageInput{OrgID: f.orgB, Body: "We isolated the hosts.", Recipients: []int64{f.a2.UserID}})
		if err != nil || m.OrgID != f.orgA || m.Direction != FromOrganisation || m.TLP != "AMBER" || len(m.Recipients) != 0 {
			t.Fatalf("reply = %+v, %v", m, err)
		}
		if len(f.mail.msgs) != 1 || f.mail.msgs[0].To[0] != "ana@ccb.example" || !strings.HasPrefix(f.mail.msgs[0].Subject, "[TLP:AMBER] ") ||
			strings.Contains(f.mail.msgs[0].Text, "isolated") || !strings.Contains(f.mail.msgs[0].Text, "/fr/cases/") {
			t.Errorf("mail to the assignee: %+v", f.mail.msgs)
		}
		red, err := f.svc.Reply(f.as(f.a1), f.c.ID, MessageInput{TLP: "RED", Body: "Our backups are gone."})
		if err != nil {
			t.Fatal(err)
		}
		if ms, _ := f.svc.OurMessages(f.as(f.a2), f.c.ID); slices.ContainsFunc(ms, func(x *Message) bool { return x.ID == red.ID }) {
			t.Error("a colleague who is not named reads A's RED message")
		}
		if ms, _ := f.svc.OurMessages(f.as(f.a1), f.c.ID); len(ms) != 2 {
			t.Errorf("the author reads %d messages, want 2", len(ms))
		}
		if m, err := f.svc.Reply(f.as(f.a1), f.c.ID, MessageInput{Body: "Still red?"}); err != nil || m.TLP != "RED" {
			t.Errorf("the thread's label is not the default: %+v %v", m, err)
		}
		// Another organisation: nothing, whatever it tries, and no trace in A's audit.
		var before int
		db.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE org_id = ?`, f.orgA).Scan(&before)
		intruder := f.as(f.b1)
		if ms, _ := f.svc.OurMessages(intruder, f.c.ID); len(ms) != 1 || ms[0].OrgID != f.orgB {
			t.Errorf("B reads %+v", ms)
		}
		if _, err := f.svc.Reply(intruder, other.ID, MessageInput{Body: "x"}); !errs.Is(err, errs.NotFound) {
			t.Errorf("B replies on a case that does not affect it: %v", err)
		}
		if _, err := f.svc.OurMessages(intruder, other.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("B reads a case that does not affect it: %v", err)
		}
		if _, err := f.svc.Messages(intruder, f.c.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("B reads the staff's view: %v", err)
		}
		if _, err := f.svc.Reply(intruder, f.c.ID, MessageInput{TLP: "RED", Body: "x", Recipients: []int64{f.a1.UserID}}); field0(err) != "recipients" {
			t.Errorf("B names A's person: %v", err)
		}
		var after int
		db.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE org_id = ?`, f.orgA).Scan(&after)
		if after != before {
			t.Errorf("B's attempts changed A's audit trail: %d -> %d", before, after)
		}
		// Each message is audited under its organisation, and in the timeline without content.
		var n int
		db.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE org_id = ? AND action = 'case.message'`, f.orgA).Scan(&n)
		if n != 3 {
			t.Errorf("%d audit records of A's messages, want 3", n)
		}
		tl, _ := f.svc.Timeline(f.analystCtx, f.c.ID)
		for _, e := range tl {
			if e.Kind == "message" && (strings.Contains(e.Body, "backups") || !strings.Contains(e.Body, "Grid A") && !strings.Contains(e.Body, "Water B")) {
				t.Errorf("timeline entry %+v", e)
			}
		}
		// Read-only tokens read but do not write; the staff have no "our cases".
		ro := *f.a1
		ro.TokenID, ro.Scopes = 1, []auth.Scope{auth.ScopeRead}
		if _, err := f.svc.Reply(f.as(&ro), f.c.ID, MessageInput{Body: "x"}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("read-only token replies: %v", err)
		}
		if _, _, err := f.svc.OurCases(f.analystCtx, 0, 10); !errs.Is(err, errs.Forbidden) {
			t.Errorf("staff list our cases: %v", err)
		}
	})
}

func field0(err error) string {
	if e, ok := errs.As(err); ok && e.Kind == errs.Invalid && len(e.Fields) > 0 {
		return e.Fields[0].Field
	}
	return errorString(err)
}
