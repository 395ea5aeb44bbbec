package reporting

import (
	"context"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/store"
)

// inboxFixture adds to the fixture a supervisor, a registration of each
// organisation, and three incidents: A's overdue one (no early warning
// after 30 hours), A's with an early warning and a notification (yellow,
// cross-border), and B's fresh one.
type inboxFixture struct {
	*fixture
	supervisor        *auth.Principal
	overdue, notified *Incident
	fresh             *Incident
	authorityOrg      int64
	supID, outsiderID int64
}

func newInboxFixture(t *testing.T, db *store.DB) *inboxFixture {
	t.Helper()
	f := &inboxFixture{fixture: newFixture(t, db)}
	ctx := context.Background()
	if err := db.QueryRow(ctx, `SELECT org_id FROM users WHERE id = ?`, f.analyst.UserID).Scan(&f.authorityOrg); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(ctx, `INSERT INTO users (org_id, email, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		f.authorityOrg, "sup@ccb.example", "Sup", f.now, f.now).Scan(&f.supID); err != nil {
		t.Fatal(err)
	}
	f.supervisor = &auth.Principal{UserID: f.supID, OrgID: f.authorityOrg, OrgKind: "authority", Roles: []auth.Role{auth.RoleSupervisor}}
	f.outsiderID = f.adminB.UserID
	for org, reg := range map[int64][2]string{f.a: {"essential", " energy "}, f.b: {"important", " health drinking_water "}} {
		if _, err := db.Exec(ctx, `INSERT INTO registrations (org_id, status, data, class, sectors, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			org, "approved", "{}", reg[0], reg[1], f.now, f.now); err != nil {
			t.Fatal(err)
		}
	}
	open := func(p *auth.Principal, title string, aware time.Duration) *Incident {
		in, err := f.svc.CreateIncident(f.as(p), IncidentInput{Title: title, AwareAt: f.now.Add(-aware)})
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	f.overdue = open(f.memberA, "Substation outage", 30*time.Hour)
	f.notified = open(f.memberA, "Phishing wave", 2*time.Hour)
	if _, err := f.svc.Submit(f.as(f.memberA), f.notified.ID, EarlyWarning, earlyWarning, SubmitOptions{}); err != nil {
		t.Fatal(err)
	}
	notif := Content{IncidentStatus: "ongoing", Summary: "s", SuspectedMalicious: "yes", CrossBorder: "yes", Severity: "yellow",
		ImpactAssessment: "Mailboxes compromised", Classification: "malicious-code/infected-system"}
	if _, err := f.svc.Submit(f.as(f.memberA), f.notified.ID, IncidentNotification, notif, SubmitOptions{}); err != nil {
		t.Fatal(err)
	}
	f.fresh = open(f.adminB, "Pump controller fault", time.Hour)
	return f
}

func refs(items []*InboxItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Ref)
	}
	return out
}

func TestInboxFiltersAndOrder(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newInboxFixture(t, db)
		ctx := f.as(f.analyst)
		items, total, err := f.svc.Inbox(ctx, InboxFilter{})
		if err != nil {
			t.Fatal(err)
		}
		// Overdue first, then by the earliest due time: the fresh incident's
		// early warning (in 23 hours) before the CSIRT's feedback on the
		// notified one (22 hours after its early warning at now).
		if total != 3 || len(items) != 3 || items[0].ID != f.overdue.ID {
			t.Fatalf("inbox = %d %v", total, refs(items))
		}
		if !items[0].Overdue || items[0].NextStage != EarlyWarning || items[0].Class != "essential" || len(items[0].Sectors) != 1 {
			t.Errorf("overdue item = %+v", items[0])
		}
		var notified *InboxItem
		for _, it := range items {
			if it.ID == f.notified.ID {
				notified = it
			}
		}
		if notified == nil || notified.Severity != "yellow" || notified.CrossBorder != "yes" || notified.Feedback.Status != nis2.Pending ||
			!notified.Feedback.Due.Equal(f.now.Add(24*time.Hour)) || notified.NextStage != FinalReport {
			t.Errorf("notified item = %+v", notified)
		}

		for _, c := range []struct {
			name string
			f    InboxFilter
			want []int64
		}{
			{"overdue", InboxFilter{Overdue: true}, []int64{f.overdue.ID}},
			{"sector", InboxFilter{Sector: "health"}, []int64{f.fresh.ID}},
			{"class", InboxFilter{Class: "essential", Sort: "reference"}, []int64{f.overdue.ID, f.notified.ID}},
			{"severity", InboxFilter{Severity: "yellow"}, []int64{f.notified.ID}},
			{"cross-border", InboxFilter{CrossBorder: true}, []int64{f.notified.ID}},
			{"text", InboxFilter{Text: "pump"}, []int64{f.fresh.ID}},
			{"unassigned", InboxFilter{Assigned: "none", Sort: "reference", Desc: true}, []int64{f.fresh.ID, f.notified.ID, f.overdue.ID}},
			{"mine", InboxFilter{Assigned: "me"}, nil},
			{"paged", InboxFilter{Offset: 1, Limit: 1}, []int64{items[1].ID}},
		} {
			got, _, err := f.svc.Inbox(ctx, c.f)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			var ids []int64
			for _, it := range got {
				ids = append(ids, it.ID)
			}
			if len(ids) != len(c.want) || (len(ids) > 0 && !equalIDs(ids, c.want)) {
				t.Errorf("%s: %v, want %v", c.name, ids, c.want)
			}
		}
		if _, _, err := f.svc.Inbox(ctx, InboxFilter{Sector: "nonsense", Severity: "purple"}); !errs.Is(err, errs.Invalid) {
			t.Errorf("bad filters: %v", err)
		}
		// The entity has no inbox.
		if _, _, err := f.svc.Inbox(f.as(f.memberA), InboxFilter{}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("entity inbox: %v", err)
		}

		// The analyst's cross-border assessment prevails over the reports'
		// answer: the outage without any report is cross-border, the
		// phishing wave whose notification says so is not.
		if _, err := f.svc.SetCrossBorder(ctx, f.overdue.ID, CrossBorderInput{CrossBorder: true, Countries: []string{"NL"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SetCrossBorder(ctx, f.notified.ID, CrossBorderInput{CrossBorder: false}); err != nil {
			t.Fatal(err)
		}
		got, _, err := f.svc.Inbox(ctx, InboxFilter{CrossBorder: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != f.overdue.ID || got[0].AssessedCrossBorder == nil || !*got[0].AssessedCrossBorder {
			t.Errorf("cross-border after the assessments: %+v", got)
		}
		if it, err := f.svc.InboxItem(ctx, f.notified.ID); err != nil || it.CrossBorder != "yes" || it.AssessedCrossBorder == nil || *it.AssessedCrossBorder {
			t.Errorf("notified item: %+v %v, want the report's yes and the analyst's no", it, err)
		}
	})
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestInboxTriage(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newInboxFixture(t, db)
		ctx := f.as(f.analyst)
		// Assignment: to an authority user only; by analysts and supervisors.
		it, err := f.svc.Assign(ctx, f.notified.ID, f.supID)
		if err != nil {
			t.Fatal(err)
		}
		if it.Assignee == nil || it.Assignee.ID != f.supID || it.Assignee.Name != "Sup" {
			t.Errorf("assignee = %+v", it.Assignee)
		}
		if _, err := f.svc.Assign(ctx, f.notified.ID, f.outsiderID); !errs.Is(err, errs.Invalid) {
			t.Errorf("assign to an entity user: %v", err)
		}
		if _, err := f.svc.Assign(f.as(f.auditor), f.notified.ID, f.analyst.UserID); !errs.Is(err, errs.Forbidden) {
			t.Errorf("auditor assigns: %v", err)
		}
		if _, err := f.svc.Assign(f.as(f.memberA), f.notified.ID, f.analyst.UserID); !errs.Is(err, errs.Forbidden) {
			t.Errorf("entity assigns: %v", err)
		}
		if _, err := f.svc.Assign(f.as(f.supervisor), f.overdue.ID, f.analyst.UserID); err != nil {
			t.Fatal(err)
		}
		mine, _, err := f.svc.Inbox(ctx, InboxFilter{Assigned: "me"})
		if err != nil || len(mine) != 1 || mine[0].ID != f.overdue.ID {
			t.Errorf("mine = %v, %v", refs(mine), err)
		}
		if _, err := f.svc.Assign(ctx, f.overdue.ID, 0); err != nil {
			t.Fatal(err)
		}
		if mine, _, _ := f.svc.Inbox(ctx, InboxFilter{Assigned: "me"}); len(mine) != 0 {
			t.Errorf("after unassigning, mine = %v", refs(mine))
		}

		// The CSIRT's feedback: only after an early warning, once.
		if _, err := f.svc.RecordFeedback(ctx, f.overdue.ID); !errs.Is(err, errs.Conflict) {
			t.Errorf("feedback without early warning: %v", err)
		}
		f.now = f.now.Add(3 * time.Hour)
		it, err = f.svc.RecordFeedback(ctx, f.notified.ID)
		if err != nil {
			t.Fatal(err)
		}
		if it.Feedback.Status != nis2.SubmittedOnTime || !it.Feedback.SubmittedAt.Equal(f.now) || it.Assignee == nil {
			t.Errorf("feedback = %+v, assignee %+v", it.Feedback, it.Assignee)
		}
		if _, err := f.svc.RecordFeedback(ctx, f.notified.ID); !errs.Is(err, errs.Conflict) {
			t.Errorf("second feedback: %v", err)
		}
		// The entity sees on its incident that the feedback was given.
		seen, err := f.svc.Incident(f.as(f.memberA), f.notified.ID)
		if err != nil {
			t.Fatal(err)
		}
		if fb, _ := seen.Deadlines.Stage(nis2.CSIRTFeedback); fb.Status != nis2.SubmittedOnTime || !fb.SubmittedAt.Equal(f.now) {
			t.Errorf("the entity's view of the feedback clock = %+v", fb)
		}
		if _, err := f.svc.RecordFeedback(f.as(f.adminB), f.notified.ID); !errs.Is(err, errs.Forbidden) {
			t.Errorf("entity feedback: %v", err)
		}

		// Notes: the authority's only, newest first.
		if _, err := f.svc.AddNote(ctx, f.notified.ID, "  "); !errs.Is(err, errs.Invalid) {
			t.Errorf("empty note: %v", err)
		}
		for _, body := range []string{"Called the SOC", "Asked for IoCs"} {
			if _, err := f.svc.AddNote(ctx, f.notified.ID, body); err != nil {
				t.Fatal(err)
			}
		}
		notes, err := f.svc.Notes(f.as(f.auditor), f.notified.ID)
		if err != nil || len(notes) != 2 || notes[0].Body != "Asked for IoCs" || notes[0].AuthorName != "ana" {
			t.Errorf("notes = %+v, %v", notes, err)
		}
		if _, err := f.svc.AddNote(f.as(f.auditor), f.notified.ID, "x"); !errs.Is(err, errs.Forbidden) {
			t.Errorf("auditor notes: %v", err)
		}
		if _, err := f.svc.Notes(f.as(f.memberA), f.notified.ID); !errs.Is(err, errs.Forbidden) {
			t.Errorf("entity reads notes: %v", err)
		}
		if _, err := f.svc.AddNote(f.as(f.memberA), f.notified.ID, "x"); !errs.Is(err, errs.Forbidden) {
			t.Errorf("entity writes notes: %v", err)
		}
		if _, err := f.svc.Notes(ctx, 999999); !errs.Is(err, errs.NotFound) {
			t.Errorf("notes of no incident: %v", err)
		}

		// Every change is audited.
		var n int
		if err := db.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action IN ('incident.assign', 'incident.csirt_feedback', 'incident.note')`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 6 {
			t.Errorf("%d triage audit records, want 6", n)
		}
	})
}
