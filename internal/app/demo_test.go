package app_test

import (
	"testing"

	"github.com/belfry-cert/belfry/internal/csaf/csaftest"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/demo"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// TestDemoData loads the demonstration data twice, as two runs of
// `belfry demo` on one data directory do: every loader succeeds and the
// second run adds nothing. The feeds demo leaves a run with matched and
// unmatched events and Brabant Water's first early warning ticket.
func TestDemoData(t *testing.T) {
	csaftest.Use(t)
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := webtest.New(t, db, false)
		ctx := t.Context()
		load := func() {
			t.Helper()
			if _, err := demo.Load(ctx, e.App.Identity, e.AdminEmail); err != nil {
				t.Fatal(err)
			}
			if err := demo.LoadRegistry(ctx, e.App.Registry, e.App.Identity); err != nil {
				t.Fatal(err)
			}
			if err := demo.LoadReports(ctx, e.App.Reports, e.App.Identity); err != nil {
				t.Fatal(err)
			}
			if err := demo.LoadVoluntary(ctx, e.App.Voluntary); err != nil {
				t.Fatal(err)
			}
			if err := demo.LoadFeeds(ctx, e.App.Registry, e.App.Feeds, e.App.Intake.Pipeline(), e.App.EarlyWarning); err != nil {
				t.Fatal(err)
			}
			if err := demo.LoadCases(ctx, e.App.Cases, e.App.Identity); err != nil {
				t.Fatal(err)
			}
			if err := demo.LoadAdvisories(ctx, e.App.Advisories, e.App.Identity); err != nil {
				t.Fatal(err)
			}
		}
		count := func(q string) int {
			t.Helper()
			var n int
			if err := db.QueryRow(ctx, q).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		load()
		counts := map[string]int{}
		for _, q := range []string{`SELECT count(*) FROM feed_runs`, `SELECT count(*) FROM feed_events`, `SELECT count(*) FROM feed_tickets`,
			`SELECT count(*) FROM incidents`, `SELECT count(*) FROM advisory_versions`, `SELECT count(*) FROM csaf_keys`,
			`SELECT count(*) FROM cases`, `SELECT count(*) FROM case_tasks`, `SELECT count(*) FROM case_observables`, `SELECT count(*) FROM voluntary_notifications`, `SELECT count(*) FROM registrations`} {
			counts[q] = count(q)
		}
		if counts[`SELECT count(*) FROM feed_runs`] != 1 || counts[`SELECT count(*) FROM feed_tickets`] != 1 {
			t.Errorf("feeds demo: %v", counts)
		}
		// Three cases: from the incident, from feed events, and a phishing
		// case with an overdue task.
		if n := count(`SELECT count(*) FROM cases`); n != 3 {
			t.Errorf("%d demo cases, want 3", n)
		}
		if n := count(`SELECT count(*) FROM case_tasks WHERE status = 'open' AND due_at < CURRENT_TIMESTAMP`); n == 0 {
			t.Error("no overdue demo task")
		}
		// Six signed advisories published (one AMBER for Brabant Water) and
		// one waiting for review.
		if n := count(`SELECT count(*) FROM advisory_versions`); n != 6 {
			t.Errorf("%d demo advisories published, want 6", n)
		}
		if n := count(`SELECT count(*) FROM advisories WHERE state = 'review'`); n != 1 {
			t.Errorf("%d demo advisories in review, want 1", n)
		}
		if n := count(`SELECT count(*) FROM advisory_recipients r JOIN organisations o ON o.id = r.org_id WHERE o.name = 'Brabant Water'`); n != 1 {
			t.Errorf("the AMBER demo advisory has no recipient Brabant Water")
		}
		if n := count(`SELECT count(*) FROM feed_events WHERE org_id IS NULL`); n != 1 {
			t.Errorf("%d unmatched demo events, want 1", n)
		}
		if n := count(`SELECT count(*) FROM feed_events WHERE ticket_id IS NOT NULL`); n != 4 {
			t.Errorf("%d demo events in the ticket, want the 4 of Brabant Water", n)
		}
		load()
		for q, n := range counts {
			if m := count(q); m != n {
				t.Errorf("%s: %d after loading twice, %d after once", q, m, n)
			}
		}
	})
}
