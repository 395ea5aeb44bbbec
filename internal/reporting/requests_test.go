package reporting

import (
	"slices"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/store"
)

// TestRequestsAndMessages: a request for an intermediate report sets its
// clock with the requester's deadline (nis2.md §7.3 D12: requested
// 2025-03-14T10:00Z with 48 h, due 2025-03-16T10:00Z), met once the entity
// files it; messages are seen by both sides, never by another
// organisation.
func TestRequestsAndMessages(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		at := func(s string) time.Time {
			x, err := time.Parse(time.RFC3339, s)
			if err != nil {
				t.Fatal(err)
			}
			return x
		}
		f.now = at("2025-03-14T09:00:00Z")
		in, err := f.svc.CreateIncident(f.as(f.memberA), IncidentInput{Title: "SCADA ransomware", AwareAt: at("2025-03-14T08:00:00Z")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Submit(f.as(f.memberA), in.ID, EarlyWarning, earlyWarning, SubmitOptions{}); err != nil {
			t.Fatal(err)
		}
		stage := func(s nis2.Stage) nis2.Deadline {
			t.Helper()
			got, err := f.svc.Incident(f.as(f.memberA), in.ID)
			if err != nil {
				t.Fatal(err)
			}
			d, _ := got.Deadlines.Stage(s)
			return d
		}
		if d := stage(IntermediateReport); d.Status != nis2.NotApplicable {
			t.Errorf("intermediate report before any request: %+v", d)
		}

		f.now = at("2025-03-14T10:00:00Z")
		due := f.now.Add(48 * time.Hour)
		if _, err := f.svc.RequestReport(f.as(f.memberA), in.ID, RequestIntermediateReport, "Send it", due); !errs.Is(err, errs.Forbidden) {
			t.Errorf("the entity requests = %v", err)
		}
		if _, err := f.svc.RequestReport(f.as(f.auditor), in.ID, RequestIntermediateReport, "Send it", due); !errs.Is(err, errs.Forbidden) {
			t.Errorf("an auditor requests = %v", err)
		}
		_, err = f.svc.RequestReport(f.as(f.analyst), in.ID, "gossip", " ", f.now.Add(-time.Hour))
		if got := fields(t, err); !slices.Equal(got, []string{"kind", "body", "deadline"}) {
			t.Errorf("invalid request: fields %v", got)
		}
		req, err := f.svc.RequestReport(f.as(f.analyst), in.ID, RequestIntermediateReport, "Please report on the restoration.", due)
		if err != nil {
			t.Fatal(err)
		}
		if d := stage(IntermediateReport); d.Status != nis2.Pending || !d.Due.Equal(at("2025-03-16T10:00:00Z")) {
			t.Errorf("intermediate report requested: %+v", d)
		}
		reqs, err := f.svc.Requests(f.as(f.memberA), in.ID)
		if err != nil || len(reqs) != 1 || reqs[0].ID != req.ID || !reqs[0].Open() || !reqs[0].Deadline.Equal(due) {
			t.Errorf("the entity's requests = %+v, %v", reqs, err)
		}
		if _, err := f.svc.Requests(f.as(f.adminB), in.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("another organisation's requests = %v", err)
		}

		// The entity files it in time: the clock is met, the request answered.
		f.now = at("2025-03-15T12:00:00Z")
		if _, err := f.svc.Submit(f.as(f.memberA), in.ID, IntermediateReport, Content{IncidentStatus: "ongoing", Update: "Restored 80%"},
			SubmitOptions{}); err != nil {
			t.Fatal(err)
		}
		if d := stage(IntermediateReport); d.Status != nis2.SubmittedOnTime || !d.Due.Equal(at("2025-03-16T10:00:00Z")) {
			t.Errorf("intermediate report filed: %+v", d)
		}
		if reqs, _ := f.svc.Requests(f.as(f.analyst), in.ID); len(reqs) != 1 || reqs[0].Open() || !reqs[0].AnsweredAt.Equal(f.now) {
			t.Errorf("answered request = %+v", reqs)
		}

		// Messages both ways.
		if _, err := f.svc.PostMessage(f.as(f.analyst), in.ID, "Thanks; what is the root cause?"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.PostMessage(f.as(f.memberA), in.ID, "Still under analysis."); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.PostMessage(f.as(f.memberA), in.ID, "  "); !errs.Is(err, errs.Invalid) {
			t.Errorf("empty message = %v", err)
		}
		if _, err := f.svc.PostMessage(f.as(f.adminB), in.ID, "Intrusion"); !errs.Is(err, errs.NotFound) {
			t.Errorf("another organisation's message = %v", err)
		}
		if _, err := f.svc.Messages(f.as(f.adminB), in.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("another organisation's messages = %v", err)
		}
		for name, who := range map[string]*auth.Principal{"entity": f.memberA, "authority": f.analyst} {
			ms, err := f.svc.Messages(f.as(who), in.ID)
			if err != nil || len(ms) != 2 || !ms[0].FromAuthority || ms[1].FromAuthority || ms[1].AuthorName != "soc" {
				t.Errorf("%s's messages = %+v, %v", name, ms, err)
			}
		}
		var n int
		if err := db.QueryRow(f.as(f.analyst), `SELECT count(*) FROM audit_log WHERE action IN ('incident.request', 'incident.message')`).Scan(&n); err != nil || n != 3 {
			t.Errorf("audited %d, %v; want 3", n, err)
		}
	})
}
