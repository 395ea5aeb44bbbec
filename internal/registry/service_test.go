package registry

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/constituency"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/notify"
	"github.com/belfry-cert/belfry/internal/store"
)

// mailbox records queued mail.
type mailbox struct {
	mu   sync.Mutex
	sent []notify.Message
}

func (m *mailbox) Enqueue(_ context.Context, _ *store.Tx, msg notify.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, msg)
	return nil
}

func (m *mailbox) take() []notify.Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.sent
	m.sent = nil
	return out
}

// fixture is a database with the authority, two entities and their people.
type fixture struct {
	svc                  *Service
	db                   *store.DB
	mail                 *mailbox
	now                  time.Time
	authority, a, b      int64
	supervisor, analyst  *auth.Principal
	adminA, memberA, adB *auth.Principal
}

func (f *fixture) as(p *auth.Principal) context.Context { return auth.With(context.Background(), p) }

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, mail: &mailbox{}, now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	f.svc = NewService(db, slog.New(slog.DiscardHandler), Config{BaseURL: "https://belfry.example"}, f.mail, constituency.NewIndex(), cat)
	f.svc.SetClock(func() time.Time { return f.now })
	org := func(name, kind, number string) int64 {
		var id int64
		var num any
		if number != "" {
			num = number
		}
		if err := db.QueryRow(ctx, `INSERT INTO organisations (name, kind, enterprise_number, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			name, kind, num, f.now, f.now).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	user := func(org int64, kind, email string, roles ...auth.Role) *auth.Principal {
		var id int64
		if err := db.QueryRow(ctx, `INSERT INTO users (org_id, email, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			org, email, strings.Split(email, "@")[0], f.now, f.now).Scan(&id); err != nil {
			t.Fatal(err)
		}
		for _, r := range roles {
			if _, err := db.Exec(ctx, `INSERT INTO user_roles (user_id, role) VALUES (?, ?)`, id, string(r)); err != nil {
				t.Fatal(err)
			}
		}
		return &auth.Principal{UserID: id, OrgID: org, OrgKind: kind, Email: email, Roles: roles}
	}
	f.authority = org("CCB", "authority", "")
	f.a = org("Hospital A", "entity", "0403019261")
	f.b = org("Grid B", "entity", "0428759497")
	f.supervisor = user(f.authority, "authority", "sup@ccb.example", auth.RoleSupervisor)
	f.analyst = user(f.authority, "authority", "ana@ccb.example", auth.RoleAnalyst)
	f.adminA = user(f.a, "entity", "admin@a.example", auth.RoleOrgAdmin)
	f.memberA = user(f.a, "entity", "member@a.example", auth.RoleMember)
	f.adB = user(f.b, "entity", "admin@b.example", auth.RoleOrgAdmin)
	return f
}

func num(v float64) *float64 { return &v }

// completeProfile is a registration that can be submitted: a large
// hospital, essential under Art. 3(1)(a).
func completeProfile() Profile {
	return Profile{
		Address: Address{Street: "Rue Haute 1", Postcode: "1000", City: "Brussels", Country: "be"},
		Facts: nis2.Facts{EntityTypes: []string{"health.provider"}, Figures: nis2.Figures{Staff: num(300), TurnoverEUR: num(80e6), BalanceSheetEUR: num(60e6)},
			ServiceCountries: []string{"BE"}},
		Contacts: []Contact{
			{Role: RoleIncident24x7, Name: "SOC", Email: "soc@A.Example", Phone: "+32 2 000 00 00"},
			{Role: RoleNIS2Contact, Name: "CISO", Email: "ciso@a.example", Language: "fr"},
		},
	}
}

func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.Invalid {
		t.Fatalf("err = %v, want an Invalid error", err)
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestRegistrationLifecycle(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := f.as(f.adminA)

		// An empty draft exists before anything is saved.
		reg, err := f.svc.Get(ctx, f.a)
		if err != nil || reg.Status != StatusDraft || reg.Class != "" || reg.Name != "Hospital A" {
			t.Fatalf("Get before start = %+v, %v", reg, err)
		}
		// Submitting an empty registration names every missing part.
		_, err = f.svc.Submit(ctx, f.a)
		got := fieldsOf(t, err)
		for _, want := range []string{"address.street", "contacts", "facts.service_countries", "facts.entity_types"} {
			if !slices.Contains(got, want) {
				t.Errorf("submit of an empty registration: fields %v lack %q", got, want)
			}
		}

		// A partial draft saves; its classification waits for the facts.
		reg, err = f.svc.Update(ctx, f.a, func(p *Profile) error {
			p.Facts.EntityTypes = []string{"health.provider"}
			return nil
		})
		if err != nil || reg.Class != "" || reg.Decision != nil {
			t.Fatalf("partial draft = class %q decision %v err %v", reg.Class, reg.Decision, err)
		}
		// A wrong fact is refused even in a draft, named by its path.
		_, err = f.svc.Update(ctx, f.a, func(p *Profile) error {
			p.Facts.EntityTypes = []string{"health.provider", "health.nonsense"}
			return nil
		})
		if got := fieldsOf(t, err); !slices.Contains(got, "facts.entity_types[1]") {
			t.Errorf("unknown type: fields %v", got)
		}

		reg, err = f.svc.Update(ctx, f.a, func(p *Profile) error { *p = completeProfile(); return nil })
		if err != nil {
			t.Fatal(err)
		}
		if reg.Class != "essential" || reg.Decision.Rule != "NIS2.3.1.a" || reg.Size != "large" {
			t.Errorf("complete profile: class %q rule %q size %q", reg.Class, reg.Decision.Rule, reg.Size)
		}
		if reg.Profile.Address.Country != "BE" || reg.Profile.Contacts[0].Email != "soc@a.example" || reg.Profile.Facts.Establishment != "BE" {
			t.Errorf("not normalised: %+v", reg.Profile)
		}
		if !slices.Equal(reg.Sectors, []string{"health"}) {
			t.Errorf("sectors = %v", reg.Sectors)
		}

		// A member may read but not change; the other entity sees nothing.
		if _, err := f.svc.Get(f.as(f.memberA), f.a); err != nil {
			t.Errorf("member read: %v", err)
		}
		if _, err := f.svc.Update(f.as(f.memberA), f.a, func(*Profile) error { return nil }); !errs.Is(err, errs.Forbidden) {
			t.Errorf("member update: %v, want Forbidden", err)
		}
		for name, call := range map[string]func() error{
			"get": func() error { _, err := f.svc.Get(f.as(f.adB), f.a); return err },
			"update": func() error {
				_, err := f.svc.Update(f.as(f.adB), f.a, func(*Profile) error { return nil })
				return err
			},
			"submit":   func() error { _, err := f.svc.Submit(f.as(f.adB), f.a); return err },
			"versions": func() error { _, err := f.svc.Versions(f.as(f.adB), f.a); return err },
		} {
			if err := call(); !errs.Is(err, errs.NotFound) {
				t.Errorf("other entity %s: %v, want NotFound", name, err)
			}
		}
		if _, _, err := f.svc.List(f.as(f.adB), Filter{}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("entity lists the registry: %v", err)
		}
		// The entity cannot review itself.
		if _, err := f.svc.Review(ctx, f.a, ReviewInput{Decision: ReviewApprove}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("self review: %v", err)
		}

		reg, err = f.svc.Submit(ctx, f.a)
		if err != nil || reg.Status != StatusSubmitted || reg.Version != 1 {
			t.Fatalf("submit = %+v, %v", reg, err)
		}
		if _, err := f.svc.Submit(ctx, f.a); !errs.Is(err, errs.Conflict) {
			t.Errorf("second submit: %v, want Conflict", err)
		}

		// The authority: an analyst reads but does not decide.
		if _, err := f.svc.Get(f.as(f.analyst), f.a); err != nil {
			t.Errorf("analyst read: %v", err)
		}
		if _, err := f.svc.Review(f.as(f.analyst), f.a, ReviewInput{Decision: ReviewApprove}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("analyst review: %v", err)
		}
		sup := f.as(f.supervisor)
		if _, err := f.svc.Review(sup, f.a, ReviewInput{Decision: ReviewRequestChanges}); !slices.Contains(fieldsOf(t, err), "note") {
			t.Errorf("request without note: %v", err)
		}
		f.now = f.now.Add(time.Hour)
		reg, err = f.svc.Review(sup, f.a, ReviewInput{Decision: ReviewRequestChanges, Note: "Add your IP ranges."})
		if err != nil || reg.Status != StatusChangesRequested || reg.ChangeStartedAt == nil {
			t.Fatalf("request changes = %+v, %v", reg, err)
		}
		mail := f.mail.take()
		if len(mail) != 1 || mail[0].To[0] != "ciso@a.example" || !strings.Contains(mail[0].Text, "Add your IP ranges.") {
			t.Errorf("request mail = %+v", mail)
		}
		if !strings.Contains(mail[0].Text, "https://belfry.example/fr/registrations/") {
			t.Errorf("mail link not in the contact's language: %q", mail[0].Text)
		}
		if _, err := f.svc.Submit(ctx, f.a); err != nil {
			t.Fatal(err)
		}
		reg, err = f.svc.Review(sup, f.a, ReviewInput{Decision: ReviewApprove})
		if err != nil || reg.Status != StatusApproved || reg.ApprovedAt == nil || reg.ChangeStartedAt != nil {
			t.Fatalf("approve = %+v, %v", reg, err)
		}

		// A change after approval starts the two-week clock (Art. 3(4)).
		f.now = f.now.Add(24 * time.Hour)
		reg, err = f.svc.Update(ctx, f.a, func(p *Profile) error { p.Website = "a.example"; return nil })
		if err != nil || reg.Status != StatusDraft || reg.ChangeDueAt == nil || !reg.ChangeDueAt.Equal(f.now.Add(14*24*time.Hour)) {
			t.Fatalf("change after approval = status %s due %v, %v", reg.Status, reg.ChangeDueAt, err)
		}
		if reg.Profile.Website != "https://a.example" {
			t.Errorf("website = %q", reg.Profile.Website)
		}

		// The designation decision overrides the computed class.
		if _, err := f.svc.SetOverride(sup, f.a, OverrideInput{Class: "important"}); !slices.Contains(fieldsOf(t, err), "justification") {
			t.Errorf("override without justification: %v", err)
		}
		if _, err := f.svc.SetOverride(sup, f.a, OverrideInput{Class: "vital", Justification: "x"}); !slices.Contains(fieldsOf(t, err), "class") {
			t.Errorf("override with unknown class: %v", err)
		}
		reg, err = f.svc.SetOverride(sup, f.a, OverrideInput{Class: "important", Justification: "Decision 2026/014, Art. 2(2)(e)"})
		if err != nil || reg.Class != "important" || reg.Decision.Class != "essential" || reg.Override.By != f.supervisor.UserID {
			t.Fatalf("override = %+v, %v", reg, err)
		}
		if _, err := f.svc.SetOverride(f.as(f.adminA), f.a, OverrideInput{Class: "out_of_scope", Justification: "we say so"}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("entity override: %v", err)
		}

		vs, err := f.svc.Versions(ctx, f.a)
		if err != nil {
			t.Fatal(err)
		}
		var events []string
		for _, v := range vs {
			events = append(events, v.Event)
		}
		if want := []string{"override", "approved", "submitted", "changes_requested", "submitted"}; !slices.Equal(events, want) {
			t.Errorf("versions = %v, want %v", events, want)
		}
		if vs[1].ActorName != "sup" {
			t.Errorf("approval actor = %q", vs[1].ActorName)
		}

		// Every change is in the audit log.
		var n int
		if err := db.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE object_type = 'registration' AND object_id = ?`, itoa(f.a)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		// Two drafts, two submissions, two reviews, a change, an override.
		if n != 8 {
			t.Errorf("audit records = %d, want 8", n)
		}
	})
}

func TestRegistryListAndStatistics(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		if _, err := f.svc.Update(f.as(f.adminA), f.a, func(p *Profile) error { *p = completeProfile(); return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Update(f.as(f.adB), f.b, func(p *Profile) error {
			p.Facts = nis2.Facts{EntityTypes: []string{"energy.electricity.dso", "energy.gas.dso"}, Figures: nis2.Figures{Staff: num(120), TurnoverEUR: num(30e6), BalanceSheetEUR: num(25e6)}}
			p.Contacts = []Contact{{Role: RoleNIS2Contact, Name: "Grid 100%_ team", Email: "grid@b.example"}}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		ctx := f.as(f.analyst)
		for _, tc := range []struct {
			name string
			f    Filter
			want []int64
		}{
			{"all", Filter{}, []int64{f.b, f.a}},
			{"sector", Filter{Sector: "energy"}, []int64{f.b}},
			{"sector prefix is not a sector", Filter{Sector: "ener"}, nil},
			{"class", Filter{Class: "essential"}, []int64{f.a}},
			{"important", Filter{Class: "important"}, []int64{f.b}},
			{"size", Filter{Size: "medium"}, []int64{f.b}},
			{"status", Filter{Status: "draft"}, []int64{f.b, f.a}},
			{"text name", Filter{Text: "hosp"}, []int64{f.a}},
			{"text contact", Filter{Text: "GRID@B"}, []int64{f.b}},
			{"text LIKE metacharacters", Filter{Text: "100%_"}, []int64{f.b}},
			{"text % is a literal percent sign", Filter{Text: "%"}, []int64{f.b}},
			{"text x%y matches nothing", Filter{Text: "x%y"}, nil},
			{"enterprise number digits", Filter{Text: "0428.759"}, []int64{f.b}},
		} {
			list, total, err := f.svc.List(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, r := range list {
				ids = append(ids, r.OrgID)
			}
			if !slices.Equal(ids, tc.want) || total != len(tc.want) {
				t.Errorf("%s: ids %v total %d, want %v", tc.name, ids, total, tc.want)
			}
		}
		st, err := f.svc.Statistics(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if st.Total != 2 || st.Totals["essential"] != 1 || st.Totals["important"] != 1 {
			t.Errorf("stats totals = %+v", st)
		}
		if len(st.Rows) != 2 || st.Rows[0].Sector != "energy" || st.Rows[0].Counts["important"] != 1 || st.Rows[1].Sector != "health" {
			t.Errorf("stats rows = %+v", st.Rows)
		}
		if _, err := f.svc.Statistics(f.as(f.adminA), Filter{}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("entity statistics: %v", err)
		}
	})
}

func TestReminders(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := f.as(f.adminA)
		if _, err := f.svc.Update(ctx, f.a, func(p *Profile) error { *p = completeProfile(); return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Submit(ctx, f.a); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Review(f.as(f.supervisor), f.a, ReviewInput{Decision: ReviewApprove}); err != nil {
			t.Fatal(err)
		}
		f.mail.take()
		started := f.now
		if _, err := f.svc.Update(ctx, f.a, func(p *Profile) error { p.Website = "https://a.example"; return nil }); err != nil {
			t.Fatal(err)
		}
		// Not yet within three days of the two-week deadline.
		f.now = started.Add(10 * 24 * time.Hour)
		if n, err := f.svc.SendReminders(context.Background()); err != nil || n != 0 {
			t.Fatalf("day 10: %d reminders, %v", n, err)
		}
		f.now = started.Add(11*24*time.Hour + time.Minute)
		if n, err := f.svc.SendReminders(context.Background()); err != nil || n != 1 {
			t.Fatalf("day 11: %d reminders, %v", n, err)
		}
		mail := f.mail.take()
		if len(mail) != 1 || !strings.Contains(mail[0].Text, "2026-03-16 09:00 UTC") || mail[0].To[0] != "ciso@a.example" {
			t.Errorf("reminder = %+v", mail)
		}
		// Sent once per change.
		if n, _ := f.svc.SendReminders(context.Background()); n != 0 {
			t.Errorf("reminder repeated: %d", n)
		}
		// Submitted and approved again: a yearly check follows.
		if _, err := f.svc.Submit(ctx, f.a); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Review(f.as(f.supervisor), f.a, ReviewInput{Decision: ReviewApprove}); err != nil {
			t.Fatal(err)
		}
		f.mail.take()
		f.now = f.now.Add(364 * 24 * time.Hour)
		if n, _ := f.svc.SendReminders(context.Background()); n != 0 {
			t.Errorf("review reminder before a year: %d", n)
		}
		f.now = f.now.Add(2 * 24 * time.Hour)
		if n, _ := f.svc.SendReminders(context.Background()); n != 1 {
			t.Errorf("review reminder after a year: %d", n)
		}
		if n, _ := f.svc.SendReminders(context.Background()); n != 0 {
			t.Errorf("review reminder repeated: %d", n)
		}
	})
}

// TestChangeDeadline takes its cases from nis2.md §2.4: two weeks in exact
// hours, three months for Art. 27 entities with the day clamped.
func TestChangeDeadline(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		types []string
		from  string
		want  string
	}{
		{[]string{"health.provider"}, "2026-03-20T10:00:00Z", "2026-04-03T10:00:00Z"},                       // across the DST change: exact hours
		{[]string{"digital_infra.cloud"}, "2026-11-30T08:15:00Z", "2027-02-28T08:15:00Z"},                   // 30 Feb does not exist
		{[]string{"registrar"}, "2027-11-30T08:15:00Z", "2028-02-29T08:15:00Z"},                             // leap year
		{[]string{"energy.electricity.dso", "ict_b2b.msp"}, "2026-01-31T23:59:59Z", "2026-04-30T23:59:59Z"}, // any Art. 27 type
		{[]string{"digital_infra.pecn"}, "2026-01-31T12:00:00Z", "2026-02-14T12:00:00Z"},                    // PECN is not in Art. 27
		{[]string{"energy.electricity.dso"}, "2025-04-01T00:00:00Z", "2025-04-15T00:00:00Z"},                // nis2.md §7.3 D13
		{[]string{"digital_infra.cloud"}, "2025-04-01T00:00:00Z", "2025-07-01T00:00:00Z"},                   // nis2.md §7.3 D14
	} {
		if got := ChangeDeadline(tc.types, at(tc.from)); !got.Equal(at(tc.want)) {
			t.Errorf("ChangeDeadline(%v, %s) = %s, want %s", tc.types, tc.from, got.Format(time.RFC3339), tc.want)
		}
	}
}

func TestClaimsAndIndex(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := f.as(f.adminA)
		bg := context.Background()
		// Every bad value is reported, and nothing is stored.
		_, err := f.svc.AddClaims(ctx, f.a, []ClaimInput{{Value: "198.51.100.0/22"}, {Value: "192.0.2.1/24"}, {Value: "AS0"}, {Value: "not a domain"},
			{Value: "10.1.0.0/16"}, {Value: "fd00::/8"}, {Value: "172.0.0.0/8"}})
		if got := fieldsOf(t, err); !slices.Equal(got, []string{"values[1]", "values[2]", "values[3]", "values[4]", "values[5]", "values[6]"}) {
			t.Errorf("bad claims: fields %v", got)
		}
		if list, _, _ := f.svc.Claims(ctx, ClaimFilter{}); len(list) != 0 {
			t.Fatalf("a bad batch stored %d claims", len(list))
		}
		claims, err := f.svc.AddClaims(ctx, f.a, []ClaimInput{{Value: "198.51.100.0/22"}, {Value: "as64500"}, {Value: "Example.BE."}, {Value: "198.51.100.0/22"}})
		if err != nil || len(claims) != 3 {
			t.Fatalf("claims = %v, %v", claims, err)
		}
		for _, c := range claims {
			if c.Status != ClaimPending {
				t.Errorf("entity claim %s is %s", c.Value, c.Status)
			}
		}
		if claims[1].Value != "64500" || claims[1].Kind != "asn" || claims[2].Value != "example.be" {
			t.Errorf("normalised claims = %+v %+v", claims[1], claims[2])
		}
		// Pending claims match nothing yet.
		res, err := f.svc.Lookup(f.as(f.analyst), []string{"198.51.100.200"})
		if err != nil || len(res[0].Owners) != 0 {
			t.Fatalf("pending claim matched: %+v, %v", res, err)
		}
		if _, err := f.svc.Lookup(ctx, []string{"198.51.100.200"}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("entity lookup: %v", err)
		}
		if _, err := f.svc.DecideClaim(ctx, claims[0].ID, true, ""); !errs.Is(err, errs.NotFound) {
			t.Errorf("entity approves its own claim: %v", err)
		}
		sup := f.as(f.supervisor)
		for _, c := range claims {
			if _, err := f.svc.DecideClaim(sup, c.ID, true, ""); err != nil {
				t.Fatal(err)
			}
		}
		// A customer's /25 inside the provider's /22, approved at once
		// because the supervisor entered it.
		cust, err := f.svc.AddClaims(sup, f.b, []ClaimInput{{Value: "198.51.100.128/25"}, {Value: "example.be"}})
		if err != nil || cust[0].Status != ClaimApproved {
			t.Fatalf("authority claims = %+v, %v", cust, err)
		}
		res, err = f.svc.Lookup(f.as(f.analyst), []string{"198.51.100.10", "198.51.100.130", "www.example.be", "AS64500", "203.0.113.1", "???"})
		if err != nil {
			t.Fatal(err)
		}
		owners := func(r LookupResult) []int64 {
			var ids []int64
			for _, o := range r.Owners {
				ids = append(ids, o.OrgID)
			}
			return ids
		}
		if !slices.Equal(owners(res[0]), []int64{f.a}) || res[0].Matched != "198.51.100.0/22" {
			t.Errorf("provider address: %+v", res[0])
		}
		if !slices.Equal(owners(res[1]), []int64{f.b}) || res[1].Matched != "198.51.100.128/25" {
			t.Errorf("customer address: %+v", res[1])
		}
		if got := owners(res[2]); len(got) != 2 || !res[2].Tie {
			t.Errorf("tied domain: %+v", res[2])
		}
		if !slices.Equal(owners(res[3]), []int64{f.a}) {
			t.Errorf("ASN: %+v", res[3])
		}
		if len(res[4].Owners) != 0 || res[5].Error == "" {
			t.Errorf("no match / not understood: %+v %+v", res[4], res[5])
		}
		// The tie is flagged as a conflict for the authority.
		conf, _, err := f.svc.Claims(sup, ClaimFilter{Conflicts: true})
		if err != nil || len(conf) != 2 || len(conf[0].Conflicts) != 1 {
			t.Errorf("conflicts = %+v, %v", conf, err)
		}
		// An entity sees only its own claims, without the others' names.
		own, _, err := f.svc.Claims(f.as(f.adB), ClaimFilter{OrgID: f.a})
		if err != nil || len(own) != 2 || own[0].OrgID != f.b || own[0].Conflicts != nil {
			t.Errorf("entity B's view = %+v, %v", own, err)
		}
		if _, err := f.svc.Claim(f.as(f.adB), claims[0].ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("B reads A's claim: %v", err)
		}
		if err := f.svc.DeleteClaim(f.as(f.adB), claims[0].ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("B deletes A's claim: %v", err)
		}

		// A claim stored under looser rules is left out of the index, and
		// the others still get in.
		if _, err := db.Exec(bg, `INSERT INTO constituency_claims (org_id, kind, value, status, created_at) VALUES (?, 'prefix', '10.0.0.0/8', 'approved', ?)`, f.b, f.now); err != nil {
			t.Fatal(err)
		}
		if _, claimsNow, err := f.svc.LoadClaims(bg); err != nil || len(claimsNow) != 5 {
			t.Errorf("LoadClaims = %d claims, %v; want the 5 valid ones", len(claimsNow), err)
		}

		// Another instance, polling the version, sees the same claims.
		other := NewService(db, slog.New(slog.DiscardHandler), Config{}, nil, constituency.NewIndex(), nil)
		v1, err := other.ConstituencyVersion(bg)
		if err != nil {
			t.Fatal(err)
		}
		if err := other.Index().Refresh(bg, other.LoadClaims); err != nil {
			t.Fatal(err)
		}
		if m, _, _ := other.Index().Load().Lookup("198.51.100.130"); !m.Found() || m.Orgs[0] != f.b {
			t.Errorf("other instance lookup = %+v", m)
		}
		if err := f.svc.DeleteClaim(sup, cust[0].ID); err != nil {
			t.Fatal(err)
		}
		v2, _ := other.ConstituencyVersion(bg)
		if v2 <= v1 {
			t.Errorf("version after delete %d, before %d", v2, v1)
		}
		if m, _, _ := f.svc.Index().Load().Lookup("198.51.100.130"); !m.Found() || m.Orgs[0] != f.a {
			t.Errorf("after deleting the /25 the /22 should match: %+v", m)
		}
		// Rejection needs a reason and takes the claim out of the index.
		if _, err := f.svc.DecideClaim(sup, claims[1].ID, false, ""); !slices.Contains(fieldsOf(t, err), "note") {
			t.Errorf("reject without reason: %v", err)
		}
		if _, err := f.svc.DecideClaim(sup, claims[1].ID, false, "AS64500 belongs to another network"); err != nil {
			t.Fatal(err)
		}
		if m, _, _ := f.svc.Index().Load().Lookup("AS64500"); m.Found() {
			t.Errorf("rejected ASN still matches: %+v", m)
		}
	})
}

func TestPGPKeyValidation(t *testing.T) {
	var v errs.Validator
	c := Contact{Role: RoleTechnicalAlerts, Name: "x", Email: "x@example.be", PGPKey: "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot a key\n-----END PGP PUBLIC KEY BLOCK-----"}
	c.normalise("contacts[0]", &v)
	if !v.Has("contacts[0].pgp_key") {
		t.Error("a broken key was accepted")
	}
}
