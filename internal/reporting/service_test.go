package reporting

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/store"
)

type fixture struct {
	svc              *Service
	db               *store.DB
	now              time.Time
	a, b             int64
	memberA, adminB  *auth.Principal
	analyst, auditor *auth.Principal
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: db, svc: NewService(db, slog.New(slog.DiscardHandler)), now: time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC)}
	f.svc.SetClock(func() time.Time { return f.now })
	org := func(name, kind string) int64 {
		var id int64
		if err := db.QueryRow(ctx, `INSERT INTO organisations (name, kind, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id`, name, kind, f.now, f.now).Scan(&id); err != nil {
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
		return &auth.Principal{UserID: id, OrgID: org, OrgKind: kind, Email: email, Roles: roles}
	}
	authority := org("CCB", "authority")
	f.a, f.b = org("Grid A", "entity"), org("Water B", "entity")
	f.memberA = user(f.a, "entity", "soc@a.example", auth.RoleMember)
	f.adminB = user(f.b, "entity", "admin@b.example", auth.RoleOrgAdmin)
	f.analyst = user(authority, "authority", "ana@ccb.example", auth.RoleAnalyst)
	f.auditor = user(authority, "authority", "aud@ccb.example", auth.RoleAuditor)
	return f
}

func (f *fixture) as(p *auth.Principal) context.Context { return auth.With(context.Background(), p) }

func fields(t *testing.T, err error) []string {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.Invalid {
		t.Fatalf("err = %v, want Invalid", err)
	}
	var out []string
	for _, x := range e.Fields {
		out = append(out, x.Field)
	}
	return out
}

var earlyWarning = Content{IncidentStatus: "ongoing", Summary: "Ransomware on the SCADA gateway", SuspectedMalicious: "yes", CrossBorder: "unknown", TLP: "TLP:AMBER"}

func TestStagesReceiptsAndCorrections(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := f.as(f.memberA)

		_, err := f.svc.CreateIncident(ctx, IncidentInput{AwareAt: f.now.Add(time.Hour)})
		if got := fields(t, err); !slices.Equal(got, []string{"title", "aware_at"}) {
			t.Errorf("bad incident: %v", got)
		}
		if _, err := f.svc.CreateIncident(f.as(f.analyst), IncidentInput{Title: "x", AwareAt: f.now}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("authority files for an entity: %v", err)
		}
		inc, err := f.svc.CreateIncident(ctx, IncidentInput{Title: "Ransomware", AwareAt: f.now.Add(-2 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		// The year of the reference is Belgium's: 31 Dec 23:30 UTC is
		// already 1 January in Brussels.
		if inc.Ref != "INC-2027-000001" || inc.Kind != KindMandatory || inc.Status != StatusOngoing {
			t.Errorf("incident = %+v", inc)
		}

		// The notification cannot come before the early warning.
		if _, err := f.svc.Submit(ctx, inc.ID, IncidentNotification, Content{IncidentStatus: "ongoing", Summary: "s", SuspectedMalicious: "yes",
			CrossBorder: "no", Severity: "yellow", ImpactAssessment: "i"}, SubmitOptions{}); !errs.Is(err, errs.Conflict) {
			t.Errorf("notification first: %v", err)
		}
		// An incomplete early warning names what it lacks.
		got := fields(t, func() error {
			_, err := f.svc.Submit(ctx, inc.ID, EarlyWarning, Content{TLP: "purple"}, SubmitOptions{})
			return err
		}())
		for _, want := range []string{"tlp", "incident_status", "summary", "suspected_malicious", "cross_border"} {
			if !slices.Contains(got, want) {
				t.Errorf("incomplete early warning: %v lacks %s", got, want)
			}
		}

		// A draft is kept until the stage is submitted.
		if _, err := f.svc.SaveDraft(ctx, inc.ID, EarlyWarning, Content{Summary: "half"}); err != nil {
			t.Fatal(err)
		}
		rec, err := f.svc.Submit(ctx, inc.ID, EarlyWarning, earlyWarning, SubmitOptions{IdempotencyKey: "ew-1"})
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(rec.Content)
		if rec.Ref != "INC-2027-000001-EW-1" || rec.SHA256 != hex.EncodeToString(sum[:]) || !rec.SubmittedAt.Equal(f.now) || rec.Replayed {
			t.Errorf("receipt = %+v", rec)
		}
		if !strings.Contains(string(rec.Content), `"tlp":"amber"`) {
			t.Errorf("content not normalised: %s", rec.Content)
		}
		// A retry with the same key files nothing and returns the receipt.
		again, err := f.svc.Submit(ctx, inc.ID, EarlyWarning, earlyWarning, SubmitOptions{IdempotencyKey: "ew-1"})
		if err != nil || !again.Replayed || again.Ref != rec.Ref || again.SHA256 != rec.SHA256 {
			t.Errorf("retry = %+v, %v", again, err)
		}
		// The same key for other content is refused.
		other := earlyWarning
		other.Summary = "something else"
		if _, err := f.svc.Submit(ctx, inc.ID, EarlyWarning, other, SubmitOptions{IdempotencyKey: "ew-1"}); !slices.Contains(fields(t, err), "idempotency_key") {
			t.Errorf("reused key: %v", err)
		}
		// A second early warning must say what it corrects.
		if _, err := f.svc.Submit(ctx, inc.ID, EarlyWarning, other, SubmitOptions{}); !errs.Is(err, errs.Conflict) {
			t.Errorf("second early warning: %v", err)
		}
		if _, err := f.svc.Submit(ctx, inc.ID, EarlyWarning, other, SubmitOptions{Corrects: "INC-2027-000001-IN-1"}); !slices.Contains(fields(t, err), "corrects") {
			t.Errorf("correction of the wrong submission: %v", err)
		}
		f.now = f.now.Add(time.Hour)
		fix, err := f.svc.Submit(ctx, inc.ID, EarlyWarning, other, SubmitOptions{Corrects: rec.Ref})
		if err != nil || fix.Ref != "INC-2027-000001-EW-2" || fix.Corrects != rec.Ref {
			t.Fatalf("correction = %+v, %v", fix, err)
		}

		got2, err := f.svc.Incident(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got2.Submissions) != 2 || len(got2.Drafts) != 0 || got2.Submitted(EarlyWarning).Ref != fix.Ref {
			t.Errorf("incident after correction = %+v", got2)
		}
		// The first submission is unchanged: its receipt still verifies.
		v, err := f.svc.Verify(ctx, rec.Ref, rec.SHA256, rec.Content)
		if err != nil || !v.Valid {
			t.Errorf("verify original = %+v, %v", v, err)
		}
		bad := []byte(strings.Replace(string(rec.Content), "SCADA", "scada", 1))
		if v, _ := f.svc.Verify(ctx, rec.Ref, rec.SHA256, bad); v.Valid {
			t.Error("altered content verified")
		}
		if v, _ := f.svc.Verify(ctx, rec.Ref, fix.SHA256, nil); v.Valid {
			t.Error("another submission's hash verified")
		}

		// Then the notification and the final report.
		notif := Content{IncidentStatus: "ongoing", Summary: "s", SuspectedMalicious: "yes", CrossBorder: "yes", Severity: "yellow",
			ImpactAssessment: "Two substations controlled manually", Classification: "malicious-code/infected-system",
			Indicators: []Indicator{{Type: "ip", Value: "203.0.113.7", TLP: "amber"}}}
		if _, err := f.svc.Submit(ctx, inc.ID, FinalReport, Content{}, SubmitOptions{}); err == nil {
			t.Error("an empty final report was accepted")
		}
		if _, err := f.svc.Submit(ctx, inc.ID, IncidentNotification, notif, SubmitOptions{}); err != nil {
			t.Fatal(err)
		}
		final := Content{IncidentStatus: "closed", DetailedDescription: "d", RootCause: "malicious-actions", Mitigations: "m", CrossBorder: "yes"}
		if got := fields(t, func() error { _, err := f.svc.Submit(ctx, inc.ID, FinalReport, final, SubmitOptions{}); return err }()); !slices.Equal(got, []string{"cross_border_impact", "affected_countries"}) {
			t.Errorf("cross-border final report without its impact: %v", got)
		}
		final.CrossBorderImpact, final.AffectedCountries = "Grid frequency support to NL reduced", []string{"nl"}
		if _, err := f.svc.Submit(ctx, inc.ID, FinalReport, final, SubmitOptions{}); err != nil {
			t.Fatal(err)
		}
		done, _ := f.svc.Incident(ctx, inc.ID)
		if done.Status != StatusClosed {
			t.Errorf("status after the final report = %s", done.Status)
		}

		// Isolation: B and its idempotency keys are separate.
		if _, err := f.svc.Incident(f.as(f.adminB), inc.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("B reads A's incident: %v", err)
		}
		if _, err := f.svc.Receipt(f.as(f.adminB), rec.Ref); !errs.Is(err, errs.NotFound) {
			t.Errorf("B reads A's receipt: %v", err)
		}
		if _, err := f.svc.Submit(f.as(f.adminB), inc.ID, EarlyWarning, earlyWarning, SubmitOptions{Corrects: fix.Ref}); !errs.Is(err, errs.NotFound) {
			t.Errorf("B files on A's incident: %v", err)
		}
		if _, err := f.svc.SaveDraft(f.as(f.adminB), inc.ID, FinalReport, Content{}); !errs.Is(err, errs.NotFound) {
			t.Errorf("B drafts on A's incident: %v", err)
		}
		list, total, err := f.svc.Incidents(f.as(f.adminB), Filter{})
		if err != nil || total != 0 || len(list) != 0 {
			t.Errorf("B's list = %d, %v", total, err)
		}
		incB, err := f.svc.CreateIncident(f.as(f.adminB), IncidentInput{Title: "Leak", AwareAt: f.now})
		if err != nil {
			t.Fatal(err)
		}
		if incB.Ref != "INC-2027-000002" {
			t.Errorf("second reference = %s", incB.Ref)
		}
		if r, err := f.svc.Submit(f.as(f.adminB), incB.ID, EarlyWarning, earlyWarning, SubmitOptions{IdempotencyKey: "ew-1"}); err != nil || r.Replayed {
			t.Errorf("B's own key ew-1 = %+v, %v", r, err)
		}
		// The authority reads everything, without drafts; the auditor too.
		all, total, err := f.svc.Incidents(f.as(f.analyst), Filter{Stage: FinalReport})
		if err != nil || total != 1 || all[0].ID != inc.ID {
			t.Errorf("analyst list with a final report = %d, %v", total, err)
		}
		if _, err := f.svc.Incident(f.as(f.auditor), inc.ID); err != nil {
			t.Errorf("auditor read: %v", err)
		}
	})
}

// TestConcurrentRetries sends the same submission with the same key from
// many goroutines: exactly one is filed.
func TestConcurrentRetries(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := f.as(f.memberA)
		inc, err := f.svc.CreateIncident(ctx, IncidentInput{Title: "DDoS", AwareAt: f.now})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		refs := make([]string, 8)
		for i := range refs {
			wg.Go(func() {
				r, err := f.svc.Submit(ctx, inc.ID, EarlyWarning, earlyWarning, SubmitOptions{IdempotencyKey: "retry-storm"})
				if err != nil {
					t.Errorf("submit %d: %v", i, err)
					return
				}
				refs[i] = r.Ref
			})
		}
		wg.Wait()
		var n int
		if err := db.QueryRow(context.Background(), `SELECT count(*) FROM report_submissions WHERE incident_id = ?`, inc.ID).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d submissions filed (%v), want 1", n, err)
		}
		for _, r := range refs {
			if r != refs[0] {
				t.Errorf("receipts differ: %v", refs)
			}
		}
	})
}

func TestIncidentDeadlines(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := f.as(f.memberA)
		f.now = time.Date(2025, 3, 29, 11, 0, 0, 0, time.UTC) // nis2.md §7.3 D06: DST starts the next night
		inc, err := f.svc.CreateIncident(ctx, IncidentInput{Title: "Outage", AwareAt: f.now})
		if err != nil {
			t.Fatal(err)
		}
		stage := func(in *Incident, s Stage) nis2.Deadline {
			t.Helper()
			d, ok := in.Deadlines.Stage(s)
			if !ok {
				t.Fatalf("no deadline for %s", s)
			}
			return d
		}
		ew := stage(inc, EarlyWarning)
		if ew.Status != nis2.Pending || !ew.Due.Equal(time.Date(2025, 3, 30, 11, 0, 0, 0, time.UTC)) {
			t.Errorf("early warning = %+v", ew)
		}
		if fr := stage(inc, FinalReport); fr.Status != nis2.NotYetKnown {
			t.Errorf("final report before the notification = %+v", fr)
		}
		// Filed 26 hours after awareness: late by 2 hours.
		f.now = f.now.Add(26 * time.Hour)
		if _, err := f.svc.Submit(ctx, inc.ID, EarlyWarning, earlyWarning, SubmitOptions{}); err != nil {
			t.Fatal(err)
		}
		f.now = f.now.Add(10 * time.Hour)
		notif := Content{IncidentStatus: "ongoing", Summary: "s", SuspectedMalicious: "no", CrossBorder: "no", Severity: "green", ImpactAssessment: "i"}
		if _, err := f.svc.Submit(ctx, inc.ID, IncidentNotification, notif, SubmitOptions{}); err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.Incident(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ew := stage(got, EarlyWarning); ew.Status != nis2.SubmittedLate || ew.LateBy != 7200 {
			t.Errorf("late early warning = %+v", ew)
		}
		if in := stage(got, IncidentNotification); in.Status != nis2.SubmittedOnTime {
			t.Errorf("notification = %+v", in)
		}
		// The final report counts from the notification's actual time.
		if fr := stage(got, FinalReport); !fr.Due.Equal(nis2.AddMonths(f.now, 1)) || fr.Status != nis2.Pending {
			t.Errorf("final report = %+v, want due %s", fr, nis2.AddMonths(f.now, 1))
		}
		// Still ongoing when the final report falls due: a progress report
		// is due then.
		f.now = nis2.AddMonths(f.now, 1).Add(time.Hour)
		got, _ = f.svc.Incident(ctx, inc.ID)
		if pr := stage(got, ProgressReport); pr.Status != nis2.Overdue {
			t.Errorf("progress report of an ongoing incident = %+v", pr)
		}
		// The progress report, then the incident is handled: the final
		// report is due a month after (Art. 23(4)(e); §7.3 D10).
		if _, err := f.svc.Submit(ctx, inc.ID, ProgressReport, Content{IncidentStatus: "ongoing", Update: "restoring"}, SubmitOptions{}); err != nil {
			t.Fatal(err)
		}
		f.now = f.now.Add(48 * time.Hour)
		if _, err := f.svc.Submit(ctx, inc.ID, IntermediateReport, Content{IncidentStatus: "closed", Update: "restored"}, SubmitOptions{}); err != nil {
			t.Fatal(err)
		}
		got, err = f.svc.Incident(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.HandledAt == nil || !got.HandledAt.Equal(f.now) {
			t.Fatalf("handled at = %v, want %s", got.HandledAt, f.now)
		}
		if fr := stage(got, FinalReport); !fr.Due.Equal(nis2.AddMonths(f.now, 1)) || fr.Status != nis2.Pending {
			t.Errorf("final report after handling = %+v, want due %s", fr, nis2.AddMonths(f.now, 1))
		}
		if pr := stage(got, ProgressReport); pr.Status != nis2.SubmittedLate {
			t.Errorf("progress report = %+v", pr)
		}
	})
}
