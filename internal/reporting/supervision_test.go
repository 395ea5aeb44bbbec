package reporting

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
)

// TestObligations: on 2 March 2026 at 09:00 UTC, A files the early warning
// of an incident it knew of a day and an hour before (late by an hour),
// and is asked for an intermediate report by 4 March 10:00; B knew of an
// incident at 08:30 and files nothing. On 5 March at 10:00 the list holds,
// most overdue first: B's early warning (49 h 30 min), A's notification
// (26 h), A's intermediate report (24 h), B's notification (1 h 30 min),
// then A's late early warning. A voluntary notification owes nothing.
func TestObligations(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newInboxFixture(t, db)
		at := func(s string) time.Time {
			x, err := time.Parse(time.RFC3339, s)
			if err != nil {
				t.Fatal(err)
			}
			return x
		}
		f.now = at("2026-03-02T09:00:00Z")
		open := func(p *auth.Principal, title, aware string, voluntary bool) *Incident {
			in, err := f.svc.CreateIncident(f.as(p), IncidentInput{Title: title, AwareAt: at(aware), Voluntary: voluntary})
			if err != nil {
				t.Fatal(err)
			}
			return in
		}
		x := open(f.memberA, "Late early warning", "2026-03-01T08:00:00Z", false)
		if _, err := f.svc.Submit(f.as(f.memberA), x.ID, EarlyWarning, earlyWarning, SubmitOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RequestReport(f.as(f.analyst), x.ID, RequestIntermediateReport, "Report on the restoration", at("2026-03-04T10:00:00Z")); err != nil {
			t.Fatal(err)
		}
		y := open(f.adminB, "Nothing filed", "2026-03-02T08:30:00Z", false)
		open(f.memberA, "Voluntary near miss", "2026-03-01T08:00:00Z", true)
		f.now = at("2026-03-05T10:00:00Z")

		if _, _, err := f.svc.Obligations(f.as(f.memberA), ObligationFilter{}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("the entity lists obligations = %v", err)
		}
		if _, _, err := f.svc.Obligations(f.as(f.auditor), ObligationFilter{}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("an auditor lists obligations = %v", err)
		}
		type row struct {
			ref    string
			stage  Stage
			status string
			late   int64
		}
		list := func(p *auth.Principal, flt ObligationFilter) ([]row, int) {
			t.Helper()
			obs, total, err := f.svc.Obligations(f.as(p), flt)
			if err != nil {
				t.Fatal(err)
			}
			var out []row
			for _, o := range obs {
				out = append(out, row{o.IncidentRef, o.Stage, o.Status, o.LateBy})
			}
			return out, total
		}
		// Incidents of the inbox fixture are on other days; keep to March.
		march := ObligationFilter{From: at("2026-03-01T00:00:00Z"), To: at("2026-04-01T00:00:00Z")}
		want := []row{
			{y.Ref, EarlyWarning, ObligationOverdue, 49*3600 + 1800},
			{x.Ref, IncidentNotification, ObligationOverdue, 26 * 3600},
			{x.Ref, IntermediateReport, ObligationOverdue, 24 * 3600},
			{y.Ref, IncidentNotification, ObligationOverdue, 3600 + 1800},
			{x.Ref, EarlyWarning, ObligationLate, 3600},
		}
		got, total := list(f.supervisor, march)
		if !slices.Equal(got, want) || total != 5 {
			t.Errorf("obligations (total %d):\n got %v\nwant %v", total, got, want)
		}
		page := march
		page.Offset, page.Limit = 1, 2
		if got, total := list(f.analyst, page); !slices.Equal(got, want[1:3]) || total != 5 {
			t.Errorf("page 2 of 2 rows = %v (total %d)", got, total)
		}
		late := march
		late.Status = ObligationLate
		obs, _, err := f.svc.Obligations(f.as(f.supervisor), late)
		if err != nil {
			t.Fatal(err)
		}
		if len(obs) != 1 || obs[0].SubmittedAt == nil || !obs[0].SubmittedAt.Equal(at("2026-03-02T09:00:00Z")) ||
			!obs[0].Due.Equal(at("2026-03-02T08:00:00Z")) || obs[0].OrgName != "Grid A" || obs[0].Class != "essential" ||
			!slices.Equal(obs[0].Sectors, []string{"energy"}) || obs[0].Rule != "NIS2 Art. 23(4)(a)" {
			t.Errorf("late rows = %+v", obs)
		}
		health := march
		health.Sector = "health"
		if got, _ := list(f.supervisor, health); !slices.Equal(got, []row{want[0], want[3]}) {
			t.Errorf("health = %v", got)
		}
		essential := march
		essential.Class, essential.OrgID = "essential", f.a
		if got, _ := list(f.supervisor, essential); !slices.Equal(got, []row{want[1], want[2], want[4]}) {
			t.Errorf("essential = %v", got)
		}
		days := ObligationFilter{From: at("2026-03-04T00:00:00Z"), To: at("2026-03-05T00:00:00Z")}
		if got, _ := list(f.supervisor, days); !slices.Equal(got, want[1:3]) {
			t.Errorf("due on 4 March = %v", got)
		}
		if _, _, err := f.svc.Obligations(f.as(f.supervisor), ObligationFilter{Status: "soon", Class: "big"}); !slices.Equal(fields(t, err), []string{"status", "class"}) {
			t.Errorf("invalid filter = %v", err)
		}

		// Filing the notification now turns its row into a late one.
		notif := Content{IncidentStatus: "ongoing", Summary: "s", SuspectedMalicious: "yes", CrossBorder: "no", Severity: "yellow", ImpactAssessment: "Some"}
		if _, err := f.svc.Submit(f.as(f.memberA), x.ID, IncidentNotification, notif, SubmitOptions{}); err != nil {
			t.Fatal(err)
		}
		got, _ = list(f.supervisor, march)
		if !slices.Contains(got, row{x.Ref, IncidentNotification, ObligationLate, 26 * 3600}) {
			t.Errorf("after a late notification: %v", got)
		}

		var buf bytes.Buffer
		if err := WriteObligationsCSV(&buf, obs); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		wantRec := []string{"Grid A", "", "energy", "essential", x.Ref, "early_warning", "late", "NIS2 Art. 23(4)(a)", "2026-03-02T08:00:00Z",
			"2026-03-02T09:00:00Z", "3600"}
		if len(recs) != 2 || !slices.Equal(recs[0], ObligationsCSVHeader) || !slices.Equal(recs[1], wantRec) {
			t.Errorf("CSV = %q", recs)
		}
	})
}

func TestCSVCell(t *testing.T) {
	for in, want := range map[string]string{"=HYPERLINK(1)": "'=HYPERLINK(1)", "Grid A": "Grid A", "": "", "-1": "'-1"} {
		if got := csvCell(in); got != want {
			t.Errorf("csvCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkObligations lists the obligations of 2,000 incidents on SQLite,
// each with an early warning and a notification of about 2 KiB of content
// (not read by the list); a quarter of them overdue.
func BenchmarkObligations(b *testing.B) {
	db := dbtest.SQLite(b)
	ctx := context.Background()
	now := time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
	var org, authority int64
	if err := db.QueryRow(ctx, `INSERT INTO organisations (name, kind, created_at, updated_at) VALUES ('Bench Grid', 'entity', ?, ?) RETURNING id`, now, now).Scan(&org); err != nil {
		b.Fatal(err)
	}
	if err := db.QueryRow(ctx, `INSERT INTO organisations (name, kind, created_at, updated_at) VALUES ('CCB', 'authority', ?, ?) RETURNING id`, now, now).Scan(&authority); err != nil {
		b.Fatal(err)
	}
	content := `{"tlp":"amber","summary":"` + strings.Repeat("x", 2000) + `"}`
	err := db.Tx(ctx, func(tx *store.Tx) error {
		for i := range 2000 {
			aware := now.Add(-time.Duration(i) * time.Hour)
			var id int64
			if err := tx.QueryRow(ctx, `INSERT INTO incidents (org_id, ref, kind, title, aware_at, status, created_at, updated_at)
				VALUES (?, ?, 'mandatory', 'Bench', ?, 'ongoing', ?, ?) RETURNING id`, org, fmt.Sprintf("INC-2026-%06d", i), aware, now, now).Scan(&id); err != nil {
				return err
			}
			if i%4 == 0 {
				continue // nothing filed: overdue
			}
			for j, st := range []Stage{EarlyWarning, IncidentNotification} {
				if _, err := tx.Exec(ctx, `INSERT INTO report_submissions (incident_id, org_id, ref, stage, content, sha256, submitted_at)
					VALUES (?, ?, ?, ?, ?, 'x', ?)`, id, org, fmt.Sprintf("INC-2026-%06d-%d", i, j), string(st), content, aware.Add(time.Duration(20+j*30)*time.Hour)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	svc := NewService(db, slog.New(slog.DiscardHandler))
	svc.SetClock(func() time.Time { return now })
	as := auth.With(ctx, &auth.Principal{OrgID: authority, OrgKind: "authority", Roles: []auth.Role{auth.RoleSupervisor}})
	b.ResetTimer()
	for b.Loop() {
		obs, total, err := svc.Obligations(as, ObligationFilter{Limit: 50})
		if err != nil || len(obs) != 50 || total < 1000 {
			b.Fatalf("obligations = %d of %d, %v", len(obs), total, err)
		}
	}
}
