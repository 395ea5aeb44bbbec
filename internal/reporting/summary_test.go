package reporting

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
)

func TestQuarters(t *testing.T) {
	from, to, err := ParseQuarter("2026-q3")
	if err != nil || !from.Equal(time.Date(2026, 6, 30, 22, 0, 0, 0, time.UTC)) || !to.Equal(time.Date(2026, 9, 30, 22, 0, 0, 0, time.UTC)) {
		t.Errorf("2026-Q3 = %v – %v, %v", from, to, err)
	}
	// Winter time in Brussels: UTC+1.
	if from, to := Quarter(2027, 1); !from.Equal(time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC)) || !to.Equal(time.Date(2027, 3, 31, 22, 0, 0, 0, time.UTC)) {
		t.Errorf("2027-Q1 = %v – %v", from, to)
	}
	for _, bad := range []string{"", "2026", "2026-Q5", "2026-Q0", "26-Q1", "2026-Q1x", "Q1-2026", "1999-Q4"} {
		if _, _, err := ParseQuarter(bad); !errs.Is(err, errs.Invalid) {
			t.Errorf("ParseQuarter(%q) = %v", bad, err)
		}
	}
	if got := QuarterLabel(time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC)); got != "2027-Q1" {
		t.Errorf("label = %s", got)
	}
	if got := LastQuarter(time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC)); got != "2026-Q4" {
		t.Errorf("last quarter = %s", got)
	}
}

func cell(t *testing.T, s *Summary, dim, value string) SummaryCell {
	t.Helper()
	d := s.Dimension(dim)
	if d == nil {
		t.Fatalf("no dimension %s", dim)
	}
	for _, c := range d.Cells {
		if c.Value == value {
			return c
		}
	}
	t.Fatalf("no cell %s/%s", dim, value)
	return SummaryCell{}
}

func wantCount(t *testing.T, s *Summary, dim, value string, n int) {
	t.Helper()
	if c := cell(t, s, dim, value); c.Suppressed || c.Count == nil || *c.Count != n {
		t.Errorf("%s/%s = %+v, want %d", dim, value, c, n)
	}
}

func wantSuppressed(t *testing.T, s *Summary, dim, value string) {
	t.Helper()
	if c := cell(t, s, dim, value); !c.Suppressed || c.Count != nil {
		t.Errorf("%s/%s = %+v, want suppressed", dim, value, c)
	}
}

func TestSummary(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		// Q1 2027 in Brussels (the fixture's now is 00:30 on 1 January):
		// A's notified incident (yellow, cross-border, malicious-code), B's
		// early warning, and three of A's with final reports.
		f := newInboxFixture(t, db)
		secret := []string{"Grid A", "Water B", "Substation outage", "Phishing wave", "Pump controller fault", "Mailboxes compromised",
			earlyWarning.Summary, "soc@a.example", "admin@b.example", f.notified.Ref, f.fresh.Ref, f.overdue.Ref}
		if _, err := f.svc.Submit(f.as(f.adminB), f.fresh.ID, EarlyWarning, earlyWarning, SubmitOptions{}); err != nil {
			t.Fatal(err)
		}
		for i, title := range []string{"Turbine SCADA breach", "Meter data leak", "Control room outage"} {
			in, err := f.svc.CreateIncident(f.as(f.memberA), IncidentInput{Title: title, AwareAt: f.now.Add(-time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			secret = append(secret, title, in.Ref)
			summary := "Secret summary number " + string(rune('1'+i))
			secret = append(secret, summary)
			steps := []struct {
				stage Stage
				c     Content
			}{
				{EarlyWarning, Content{IncidentStatus: "ongoing", Summary: summary, SuspectedMalicious: "no", CrossBorder: "unknown"}},
				{IncidentNotification, Content{IncidentStatus: "ongoing", Summary: summary, SuspectedMalicious: "no", CrossBorder: "no",
					Severity: "red", ImpactAssessment: "Secret impact text", Classification: "availability/outage"}},
				{FinalReport, Content{IncidentStatus: "closed", DetailedDescription: "Secret detailed description", RootCause: "system-failures",
					RootCauseText: "Secret root cause text", Mitigations: "Secret mitigations", CrossBorder: "no"}},
			}
			for _, st := range steps {
				if _, err := f.svc.Submit(f.as(f.memberA), in.ID, st.stage, st.c, SubmitOptions{}); err != nil {
					t.Fatalf("%s: %v", st.stage, err)
				}
			}
		}
		secret = append(secret, "Secret impact text", "Secret detailed description", "Secret root cause text", "Secret mitigations")
		// Q4 2026: an early warning at 23:00 in Brussels on 31 December;
		// its later notification (in Q1) does not move it.
		late := f.now
		f.now = time.Date(2026, 12, 31, 22, 0, 0, 0, time.UTC)
		q4, err := f.svc.CreateIncident(f.as(f.memberA), IncidentInput{Title: "New year's eve intrusion", AwareAt: f.now.Add(-time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Submit(f.as(f.memberA), q4.ID, EarlyWarning, earlyWarning, SubmitOptions{}); err != nil {
			t.Fatal(err)
		}
		f.now = late
		if _, err := f.svc.Submit(f.as(f.memberA), q4.ID, IncidentNotification, Content{IncidentStatus: "ongoing", Summary: "s", SuspectedMalicious: "yes",
			CrossBorder: "no", Severity: "green", ImpactAssessment: "i"}, SubmitOptions{}); err != nil {
			t.Fatal(err)
		}
		secret = append(secret, "New year's eve intrusion", q4.Ref)

		from, to := Quarter(2027, 1)
		if _, err := f.svc.Summary(f.as(f.memberA), from, to); !errs.Is(err, errs.Forbidden) {
			t.Errorf("entity: %v", err)
		}
		s, err := f.svc.Summary(f.as(f.auditor), from, to)
		if err != nil {
			t.Fatal(err)
		}
		if s.Quarter != "2027-Q1" || s.MinCell != 3 || s.Total.Count == nil || *s.Total.Count != 5 {
			t.Fatalf("summary = %+v, total %+v", s, s.Total)
		}
		// Sector: energy 4; health and drinking water 1 each (B's counts
		// in both of its sectors), suppressed.
		wantCount(t, s, DimSector, "energy", 4)
		wantSuppressed(t, s, DimSector, "health")
		wantSuppressed(t, s, DimSector, "drinking_water")
		wantCount(t, s, DimSector, "unknown", 0)
		// Class: important 1 is suppressed, so essential 4 is too: it
		// would give important away as total − 4.
		wantSuppressed(t, s, DimClass, "important")
		wantSuppressed(t, s, DimClass, "essential")
		wantCount(t, s, DimClass, "other", 0)
		wantCount(t, s, DimKind, KindMandatory, 5)
		wantCount(t, s, DimKind, KindVoluntary, 0)
		wantSuppressed(t, s, DimRootCause, "not_yet_known")
		wantSuppressed(t, s, DimRootCause, "system-failures")
		wantCount(t, s, DimSeverity, "red", 3)
		wantSuppressed(t, s, DimSeverity, "yellow")
		wantSuppressed(t, s, DimSeverity, "unknown")
		wantCount(t, s, DimCrossBorder, "no", 3)
		wantSuppressed(t, s, DimCrossBorder, "yes")
		wantCount(t, s, DimRSIT, "availability", 3)
		wantSuppressed(t, s, DimRSIT, "malicious-code")

		var csvOut bytes.Buffer
		if err := s.WriteCSV(&csvOut); err != nil {
			t.Fatal(err)
		}
		jsonOut, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"quarter,dimension,value,count\n", "2027-Q1,total,all,5\n", "2027-Q1,sector,energy,4\n", "2027-Q1,sector,health,<3\n", "2027-Q1,kind,voluntary,0\n"} {
			if !strings.Contains(csvOut.String(), want) {
				t.Errorf("CSV lacks %q:\n%s", want, csvOut.String())
			}
		}
		if !strings.Contains(string(jsonOut), `{"value":"health","count":null,"suppressed":true}`) {
			t.Errorf("JSON: %s", jsonOut)
		}
		for _, out := range []string{csvOut.String(), string(jsonOut)} {
			for _, x := range secret {
				if strings.Contains(out, x) {
					t.Errorf("the summary shows %q", x)
				}
			}
		}

		// Q4 2026: the one incident; a total of 1 hides everything.
		from, to = Quarter(2026, 4)
		s, err = f.svc.Summary(f.as(f.analyst), from, to)
		if err != nil {
			t.Fatal(err)
		}
		if s.Quarter != "2026-Q4" || !s.Total.Suppressed || s.Total.Count != nil {
			t.Errorf("Q4 total = %+v", s.Total)
		}
		wantSuppressed(t, s, DimSector, "energy")
		wantSuppressed(t, s, DimSeverity, "green")
		wantCount(t, s, DimSeverity, "red", 0)
	})
}
