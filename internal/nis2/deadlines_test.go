package nis2

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
)

// clockAt parses an RFC 3339 time or fails the test.
func clockAt(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// stageWant is the expected clock of one stage. An empty due means no due time;
// late is the lateness in seconds.
type stageWant struct {
	status Status
	due    string
	late   int64
}

// deadlineCase is a ClockFacts document, the instant it is judged at, and
// the expected clocks of some stages. local, when set, is the Brussels
// rendering of the early warning's due time.
type deadlineCase struct {
	id, facts, now string
	want           map[Stage]stageWant
	local          string
}

// nis2md73 are the cases D01–D12 and D16 of nis2.md §7.3. D13/D14
// (registration changes) are registry.ChangeDeadline's; D15 (EUCC) is not
// an Art. 23 clock.
var nis2md73 = []deadlineCase{
	{id: "D01", facts: `{"aware_at": "2025-03-10T08:00:00Z"}`, now: "2025-03-10T09:00:00Z",
		want: map[Stage]stageWant{
			EarlyWarning:         {Pending, "2025-03-11T08:00:00Z", 0},
			IncidentNotification: {Pending, "2025-03-13T08:00:00Z", 0},
			IntermediateReport:   {NotApplicable, "", 0},
			FinalReport:          {NotYetKnown, "", 0},
			ProgressReport:       {NotApplicable, "", 0},
			CSIRTFeedback:        {NotYetKnown, "", 0},
		}},
	{id: "D02", facts: `{"aware_at": "2025-03-10T08:00:00Z", "trust_service_impact": true}`, now: "2025-03-10T09:00:00Z",
		want: map[Stage]stageWant{
			EarlyWarning:         {Pending, "2025-03-11T08:00:00Z", 0},
			IncidentNotification: {Pending, "2025-03-11T08:00:00Z", 0},
		}},
	{id: "D03", facts: `{"aware_at": "2025-03-10T08:00:00Z", "notification_submitted_at": "2025-03-12T15:30:00Z"}`, now: "2025-03-20T00:00:00Z",
		want: map[Stage]stageWant{
			IncidentNotification: {SubmittedOnTime, "2025-03-13T08:00:00Z", 0},
			FinalReport:          {Pending, "2025-04-12T15:30:00Z", 0},
		}},
	{id: "D04", facts: `{"aware_at": "2025-01-30T10:00:00Z", "notification_submitted_at": "2025-01-31T10:00:00Z"}`, now: "2025-02-01T00:00:00Z",
		want: map[Stage]stageWant{FinalReport: {Pending, "2025-02-28T10:00:00Z", 0}}},
	{id: "D05", facts: `{"aware_at": "2024-01-30T10:00:00Z", "notification_submitted_at": "2024-01-31T10:00:00Z"}`, now: "2024-02-01T00:00:00Z",
		want: map[Stage]stageWant{FinalReport: {Pending, "2024-02-29T10:00:00Z", 0}}},
	{id: "D06", facts: `{"aware_at": "2025-03-29T12:00:00+01:00"}`, now: "2025-03-29T12:00:00Z",
		want:  map[Stage]stageWant{EarlyWarning: {Pending, "2025-03-30T11:00:00Z", 0}},
		local: "2025-03-30T13:00:00+02:00"},
	{id: "D07", facts: `{"aware_at": "2025-10-25T12:00:00+02:00"}`, now: "2025-10-25T12:00:00Z",
		want:  map[Stage]stageWant{EarlyWarning: {Pending, "2025-10-26T10:00:00Z", 0}},
		local: "2025-10-26T11:00:00+01:00"},
	{id: "D08", facts: `{"aware_at": "2025-06-02T06:00:00Z", "notification_submitted_at": "2025-06-02T16:00:00Z"}`, now: "2025-06-03T00:00:00Z",
		want: map[Stage]stageWant{
			IncidentNotification: {SubmittedOnTime, "2025-06-05T06:00:00Z", 0},
			FinalReport:          {Pending, "2025-07-02T16:00:00Z", 0},
		}},
	{id: "D09", facts: `{"aware_at": "2025-06-02T06:00:00Z", "notification_submitted_at": "2025-06-05T14:00:00Z"}`, now: "2025-06-06T00:00:00Z",
		want: map[Stage]stageWant{
			EarlyWarning:         {Overdue, "2025-06-03T06:00:00Z", 3*86400 - 6*3600},
			IncidentNotification: {SubmittedLate, "2025-06-05T06:00:00Z", 8 * 3600},
			FinalReport:          {Pending, "2025-07-05T14:00:00Z", 0},
		}},
	{id: "D10", facts: `{"aware_at": "2025-04-30T09:00:00Z", "notification_submitted_at": "2025-05-02T09:00:00Z",
		"ongoing_at_final_due": true, "handled_at": "2025-06-20T17:00:00Z"}`, now: "2025-06-21T00:00:00Z",
		want: map[Stage]stageWant{
			ProgressReport: {Overdue, "2025-06-02T09:00:00Z", 18*86400 + 15*3600},
			FinalReport:    {Pending, "2025-07-20T17:00:00Z", 0},
		}},
	{id: "D11", facts: `{"aware_at": "2025-03-10T08:00:00Z", "early_warning_submitted_at": "2025-03-11T07:40:00Z",
		"csirt_received_early_warning_at": "2025-03-11T07:45:00Z"}`, now: "2025-03-11T08:00:00Z",
		want: map[Stage]stageWant{
			EarlyWarning:  {SubmittedOnTime, "2025-03-11T08:00:00Z", 0},
			CSIRTFeedback: {Pending, "2025-03-12T07:45:00Z", 0},
		}},
	{id: "D12", facts: `{"aware_at": "2025-03-10T08:00:00Z", "intermediate_requested_at": "2025-03-14T10:00:00Z",
		"intermediate_deadline": "2025-03-16T10:00:00Z"}`, now: "2025-03-15T00:00:00Z",
		want: map[Stage]stageWant{IntermediateReport: {Pending, "2025-03-16T10:00:00Z", 0}}},
	{id: "D16", facts: `{"aware_at": "2025-08-30T12:00:00Z", "notification_submitted_at": "2025-08-31T12:00:00Z"}`, now: "2025-09-01T00:00:00Z",
		want: map[Stage]stageWant{FinalReport: {Pending, "2025-09-30T12:00:00Z", 0}}},
}

// edgeDeadlines are cases of our own.
var edgeDeadlines = []deadlineCase{
	{id: "final from 30 April: 30 May, nothing to clamp", facts: `{"aware_at": "2025-04-29T10:00:00Z", "notification_submitted_at": "2025-04-30T10:00:00Z"}`,
		want: map[Stage]stageWant{FinalReport: {Pending, "2025-05-30T10:00:00Z", 0}}},
	{id: "final from 31 March clamped to 30 April", facts: `{"aware_at": "2025-03-30T10:00:00Z", "notification_submitted_at": "2025-03-31T10:00:00Z"}`,
		want: map[Stage]stageWant{FinalReport: {Pending, "2025-04-30T10:00:00Z", 0}}},
	{id: "final across the year end", facts: `{"aware_at": "2025-12-29T22:00:00Z", "notification_submitted_at": "2025-12-31T22:00:00Z"}`,
		want: map[Stage]stageWant{FinalReport: {Pending, "2026-01-31T22:00:00Z", 0}}},
	{id: "month counted in UTC, not on the Brussels calendar", facts: `{"aware_at": "2025-01-29T08:00:00Z", "notification_submitted_at": "2025-01-31T00:30:00+01:00"}`,
		// 30 Jan 23:30 UTC + 1 month = 28 Feb 23:30 UTC (1 March 00:30 in
		// Brussels), not 28 Feb 00:30 Brussels.
		want: map[Stage]stageWant{FinalReport: {Pending, "2025-02-28T23:30:00Z", 0}}},
	{id: "month across DST keeps the UTC clock time", facts: `{"aware_at": "2025-03-09T08:00:00Z", "notification_submitted_at": "2025-03-10T09:00:00+01:00"}`,
		want: map[Stage]stageWant{FinalReport: {Pending, "2025-04-10T08:00:00Z", 0}}},
	{id: "72 hours across DST are exact", facts: `{"aware_at": "2025-10-24T12:00:00+02:00"}`, now: "2025-10-27T09:59:59Z",
		want: map[Stage]stageWant{IncidentNotification: {Pending, "2025-10-27T10:00:00Z", 0}}},
	{id: "submitted at the due instant is on time", facts: `{"aware_at": "2025-03-10T08:00:00Z", "early_warning_submitted_at": "2025-03-11T09:00:00+01:00"}`,
		want: map[Stage]stageWant{EarlyWarning: {SubmittedOnTime, "2025-03-11T08:00:00Z", 0}}},
	{id: "half a second late counts as one second", facts: `{"aware_at": "2025-03-10T08:00:00Z", "early_warning_submitted_at": "2025-03-11T08:00:00.5Z"}`,
		want: map[Stage]stageWant{EarlyWarning: {SubmittedLate, "2025-03-11T08:00:00Z", 1}}},
	{id: "overdue at now", facts: `{"aware_at": "2025-03-10T08:00:00Z"}`, now: "2025-03-13T10:30:00Z",
		want: map[Stage]stageWant{
			EarlyWarning:         {Overdue, "2025-03-11T08:00:00Z", 2*86400 + 2*3600 + 1800},
			IncidentNotification: {Overdue, "2025-03-13T08:00:00Z", 2*3600 + 1800},
		}},
	{id: "now in the facts wins over the caller's clock", facts: `{"aware_at": "2025-03-10T08:00:00Z", "now": "2025-03-11T08:00:01Z"}`, now: "2025-03-10T09:00:00Z",
		want: map[Stage]stageWant{EarlyWarning: {Overdue, "2025-03-11T08:00:00Z", 1}}},
	{id: "no clock: nothing is overdue", facts: `{"aware_at": "2025-03-10T08:00:00Z"}`,
		want: map[Stage]stageWant{EarlyWarning: {Pending, "2025-03-11T08:00:00Z", 0}}},
	{id: "TSP notification late", facts: `{"aware_at": "2025-03-10T08:00:00Z", "trust_service_impact": true, "notification_submitted_at": "2025-03-12T08:00:00Z"}`,
		want: map[Stage]stageWant{IncidentNotification: {SubmittedLate, "2025-03-11T08:00:00Z", 86400}}},
	{id: "ongoing, not yet handled", facts: `{"aware_at": "2025-04-30T09:00:00Z", "notification_submitted_at": "2025-05-02T09:00:00Z", "ongoing_at_final_due": true,
		"progress_report_submitted_at": "2025-06-01T12:00:00Z"}`, now: "2025-06-10T00:00:00Z",
		want: map[Stage]stageWant{
			ProgressReport: {SubmittedOnTime, "2025-06-02T09:00:00Z", 0},
			FinalReport:    {NotYetKnown, "", 0},
		}},
	{id: "ongoing before the notification", facts: `{"aware_at": "2025-04-30T09:00:00Z", "ongoing_at_final_due": true}`,
		want: map[Stage]stageWant{ProgressReport: {NotYetKnown, "", 0}, FinalReport: {NotYetKnown, "", 0}}},
	{id: "handled at 31 January, final report clamped", facts: `{"aware_at": "2024-12-01T09:00:00Z", "notification_submitted_at": "2024-12-02T09:00:00Z", "ongoing_at_final_due": true,
		"handled_at": "2025-01-31T18:00:00Z", "final_report_submitted_at": "2025-03-01T09:00:00Z"}`,
		want: map[Stage]stageWant{
			ProgressReport: {Pending, "2025-01-02T09:00:00Z", 0},
			FinalReport:    {SubmittedLate, "2025-02-28T18:00:00Z", 15 * 3600},
		}},
	{id: "intermediate report late, CSIRT feedback on time", facts: `{"aware_at": "2025-03-10T08:00:00Z", "intermediate_requested_at": "2025-03-14T10:00:00Z",
		"intermediate_deadline": "2025-03-16T10:00:00Z", "intermediate_submitted_at": "2025-03-16T11:00:00+01:00",
		"early_warning_submitted_at": "2025-03-10T20:00:00Z", "csirt_received_early_warning_at": "2025-03-10T20:00:00Z",
		"csirt_feedback_at": "2025-03-11T19:00:00Z"}`,
		want: map[Stage]stageWant{
			IntermediateReport: {SubmittedOnTime, "2025-03-16T10:00:00Z", 0},
			CSIRTFeedback:      {SubmittedOnTime, "2025-03-11T20:00:00Z", 0},
		}},
	{id: "CSIRT feedback target missed", facts: `{"aware_at": "2025-03-10T08:00:00Z", "csirt_received_early_warning_at": "2025-03-10T20:00:00Z"}`, now: "2025-03-12T20:00:00Z",
		want: map[Stage]stageWant{CSIRTFeedback: {Overdue, "2025-03-11T20:00:00Z", 86400}}},
}

func TestDue(t *testing.T) {
	t.Parallel()
	brussels, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		t.Fatal(err)
	}
	cat := i18n.MustLoad()
	for _, tc := range slices.Concat(nis2md73, edgeDeadlines) {
		t.Run(tc.id, func(t *testing.T) {
			t.Parallel()
			f, err := ParseClockFacts(strings.NewReader(tc.facts))
			if err != nil {
				t.Fatalf("ParseClockFacts(%s) = %v", tc.facts, err)
			}
			var now time.Time
			if tc.now != "" {
				now = clockAt(t, tc.now)
			}
			d, err := Due(f, now)
			if err != nil {
				t.Fatalf("Due(%s) = %v", tc.facts, err)
			}
			if got := deadlineStages(d); !slices.Equal(got, Stages()) {
				t.Errorf("Due(%s) stages = %v, want %v", tc.id, got, Stages())
			}
			for s, w := range tc.want {
				x, _ := d.Stage(s)
				got := stageWant{x.Status, "", x.LateBy}
				if !x.Due.IsZero() {
					got.due = x.Due.Format(time.RFC3339)
					if x.Due.Location() != time.UTC {
						t.Errorf("%s due %v is not in UTC", s, x.Due)
					}
				}
				if got != w {
					t.Errorf("Due(%s) %s = %+v, want %+v", tc.id, s, got, w)
				}
			}
			for _, x := range d.Stages {
				for _, key := range []string{x.HintKey, x.Stage.LabelKey(), x.Status.LabelKey()} {
					if !cat.Has(key) {
						t.Errorf("%s: key %q is not in the catalogs", x.Stage, key)
					}
				}
			}
			if tc.local != "" {
				x, _ := d.Stage(EarlyWarning)
				if got := x.Due.In(brussels).Format(time.RFC3339); got != tc.local {
					t.Errorf("Due(%s) early warning in Brussels = %s, want %s", tc.id, got, tc.local)
				}
			}
		})
	}
}

func deadlineStages(d Deadlines) []Stage {
	var out []Stage
	for _, x := range d.Stages {
		out = append(out, x.Stage)
	}
	return out
}

// TestDueRulesAndBases pins the legal reference and the basis of every
// stage in the D10 situation and in the plain one.
func TestDueRulesAndBases(t *testing.T) {
	t.Parallel()
	plain := ClockFacts{AwareAt: clockAt(t, "2025-03-10T08:00:00Z"), TrustServiceImpact: true, NotificationSubmittedAt: clockAt(t, "2025-03-11T07:00:00Z"),
		IntermediateRequestedAt: clockAt(t, "2025-03-12T08:00:00Z"), IntermediateDeadline: clockAt(t, "2025-03-13T08:00:00Z"),
		CSIRTReceivedEarlyWarningAt: clockAt(t, "2025-03-10T09:00:00Z")}
	ongoing := plain
	ongoing.TrustServiceImpact, ongoing.OngoingAtFinalDue, ongoing.HandledAt = false, true, clockAt(t, "2025-05-01T00:00:00Z")
	tests := []struct {
		f    ClockFacts
		want map[Stage][3]string // rule, basis, hint key
	}{
		{plain, map[Stage][3]string{
			EarlyWarning:         {"NIS2 Art. 23(4)(a)", "aware_at + 24h", "nis2.stage_hint.early_warning"},
			IncidentNotification: {"NIS2 Art. 23(4), second subparagraph", "aware_at + 24h", "nis2.stage_hint.incident_notification_tsp"},
			IntermediateReport:   {"NIS2 Art. 23(4)(c)", "intermediate_deadline", "nis2.stage_hint.intermediate_report"},
			FinalReport:          {"NIS2 Art. 23(4)(d)", "notification_submitted_at + 1 month", "nis2.stage_hint.final_report"},
			ProgressReport:       {"NIS2 Art. 23(4)(e)", "notification_submitted_at + 1 month", "nis2.stage_hint.progress_report_none"},
			CSIRTFeedback:        {"NIS2 Art. 23(5)", "csirt_received_early_warning_at + 24h", "nis2.stage_hint.csirt_feedback"},
		}},
		{ongoing, map[Stage][3]string{
			IncidentNotification: {"NIS2 Art. 23(4)(b)", "aware_at + 72h", "nis2.stage_hint.incident_notification"},
			FinalReport:          {"NIS2 Art. 23(4)(e)", "handled_at + 1 month", "nis2.stage_hint.final_report_after_handling"},
			ProgressReport:       {"NIS2 Art. 23(4)(e)", "notification_submitted_at + 1 month", "nis2.stage_hint.progress_report"},
		}},
	}
	for i, tt := range tests {
		d, err := Due(tt.f, time.Time{})
		if err != nil {
			t.Fatalf("Due(#%d) = %v", i, err)
		}
		for s, w := range tt.want {
			x, _ := d.Stage(s)
			if got := [3]string{x.Rule, x.Basis, x.HintKey}; got != w {
				t.Errorf("Due(#%d) %s = %q, want %q", i, s, got, w)
			}
			if x.Soft != (s == CSIRTFeedback) {
				t.Errorf("Due(#%d) %s soft = %v", i, s, x.Soft)
			}
		}
	}
}

// TestDueUTC checks that times with other offsets, given through the Go
// API, come out in UTC.
func TestDueUTC(t *testing.T) {
	t.Parallel()
	cet := time.FixedZone("CET", 3600)
	f := ClockFacts{AwareAt: time.Date(2025, 3, 10, 9, 0, 0, 0, cet), NotificationSubmittedAt: time.Date(2025, 3, 11, 9, 0, 0, 0, cet)}
	d, err := Due(f, time.Date(2025, 3, 12, 0, 0, 0, 0, cet))
	if err != nil {
		t.Fatal(err)
	}
	if d.AwareAt.Location() != time.UTC || d.Now.Location() != time.UTC {
		t.Errorf("Due: aware_at %v, now %v, want UTC", d.AwareAt, d.Now)
	}
	for _, x := range d.Stages {
		for _, v := range []time.Time{x.Due, x.SubmittedAt} {
			if !v.IsZero() && v.Location() != time.UTC {
				t.Errorf("Due: %s has %v, want UTC", x.Stage, v)
			}
		}
	}
	if x, _ := d.Stage(FinalReport); !x.Due.Equal(clockAt(t, "2025-04-11T08:00:00Z")) {
		t.Errorf("final report due %v, want 2025-04-11T08:00:00Z", x.Due)
	}
}

func TestAddMonths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		from string
		n    int
		want string
	}{
		{"2025-01-31T10:00:00Z", 1, "2025-02-28T10:00:00Z"},
		{"2024-01-31T10:00:00Z", 1, "2024-02-29T10:00:00Z"},
		{"2024-02-29T10:00:00Z", 1, "2024-03-29T10:00:00Z"},
		{"2024-02-29T10:00:00Z", 12, "2025-02-28T10:00:00Z"},
		{"2025-04-30T10:00:00Z", 1, "2025-05-30T10:00:00Z"},
		{"2025-03-31T10:00:00Z", 1, "2025-04-30T10:00:00Z"},
		{"2025-05-31T23:59:59Z", 1, "2025-06-30T23:59:59Z"},
		{"2025-12-15T08:00:00Z", 1, "2026-01-15T08:00:00Z"},
		{"2025-12-31T23:00:00Z", 1, "2026-01-31T23:00:00Z"},
		{"2026-11-30T08:15:00Z", 3, "2027-02-28T08:15:00Z"},
		{"2025-03-31T10:00:00Z", -1, "2025-02-28T10:00:00Z"},
		{"2025-03-31T10:00:00Z", 0, "2025-03-31T10:00:00Z"},
		{"2025-01-31T00:30:00+01:00", 1, "2025-02-28T23:30:00Z"}, // 30 Jan 23:30 UTC
		{"2025-06-30T12:00:00.25Z", 1, "2025-07-30T12:00:00.25Z"},
	}
	for _, tt := range tests {
		got := AddMonths(clockAt(t, tt.from), tt.n)
		if got.Format(time.RFC3339Nano) != tt.want {
			t.Errorf("AddMonths(%s, %d) = %s, want %s", tt.from, tt.n, got.Format(time.RFC3339Nano), tt.want)
		}
	}
	if got := AddMonths(time.Time{}, 1); !got.IsZero() {
		t.Errorf("AddMonths(zero, 1) = %v, want zero", got)
	}
}

func TestParseClockFactsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     map[string]string // field → code; "" → code of the whole input
	}{
		{"empty", " ", map[string]string{"": "err.nis2.empty"}},
		{"not an object", `["aware_at"]`, map[string]string{"": "err.nis2clock.not_object"}},
		{"null", `null`, map[string]string{"": "err.nis2clock.not_object"}},
		{"malformed", `{"aware_at": 2025-03-10}`, map[string]string{"": "err.nis2.malformed"}},
		{"truncated", `{"aware_at": "2025-03-10T08:00:00Z"`, map[string]string{"": "err.nis2.truncated"}},
		{"aware_at required", `{"early_warning_submitted_at": "2025-03-10T08:00:00Z"}`, map[string]string{"aware_at": "err.nis2clock.aware_required"}},
		{"aware_at empty", `{"aware_at": ""}`, map[string]string{"aware_at": "err.nis2clock.aware_required"}},
		{"bad times", `{"aware_at": "2025-03-10", "handled_at": "yesterday", "now": 1741593600, "final_report_submitted_at": "2025-03-10 08:00:00Z"}`, map[string]string{
			"aware_at": "err.nis2clock.time", "handled_at": "err.nis2clock.time", "now": "err.nis2clock.time", "final_report_submitted_at": "err.nis2clock.time"}},
		{"no offset", `{"aware_at": "2025-03-10T08:00:00"}`, map[string]string{"aware_at": "err.nis2clock.time"}},
		{"flag not a boolean", `{"aware_at": "2025-03-10T08:00:00Z", "trust_service_impact": "yes"}`, map[string]string{"trust_service_impact": "err.nis2.want_bool"}},
		{"unknown fields", `{"aware_at": "2025-03-10T08:00:00Z", "aware": 1, "notification_submited_at": "2025-03-11T08:00:00Z"}`, map[string]string{
			"aware": "err.nis2.unknown_field", "notification_submited_at": "err.nis2.unknown_field"}},
		{"submissions before awareness", `{"aware_at": "2025-03-10T09:00:00+01:00", "early_warning_submitted_at": "2025-03-10T07:59:59Z",
			"notification_submitted_at": "2025-03-09T08:00:00Z", "csirt_received_early_warning_at": "2025-03-10T07:00:00Z", "intermediate_requested_at": "2025-03-01T00:00:00Z",
			"intermediate_deadline": "2025-03-02T00:00:00Z"}`, map[string]string{
			"early_warning_submitted_at": "err.nis2clock.before_aware", "notification_submitted_at": "err.nis2clock.before_aware",
			"csirt_received_early_warning_at": "err.nis2clock.before_aware", "intermediate_requested_at": "err.nis2clock.before_aware"}},
		{"final report before the notification", `{"aware_at": "2025-03-10T08:00:00Z", "notification_submitted_at": "2025-03-12T08:00:00Z",
			"final_report_submitted_at": "2025-03-11T08:00:00Z"}`, map[string]string{"final_report_submitted_at": "err.nis2clock.before"}},
		{"final report without notification", `{"aware_at": "2025-03-10T08:00:00Z", "final_report_submitted_at": "2025-04-11T08:00:00Z"}`,
			map[string]string{"final_report_submitted_at": "err.nis2clock.requires"}},
		{"unreadable notification is reported alone", `{"aware_at": "2025-03-10T08:00:00Z", "notification_submitted_at": "12 March",
			"final_report_submitted_at": "2025-04-11T08:00:00Z", "progress_report_submitted_at": "2025-04-11T08:00:00Z"}`,
			map[string]string{"notification_submitted_at": "err.nis2clock.time"}},
		{"unreadable aware_at is reported alone", `{"aware_at": "10/03/2025", "early_warning_submitted_at": "2025-03-10T08:00:00Z"}`,
			map[string]string{"aware_at": "err.nis2clock.time"}},
		{"handled before the notification", `{"aware_at": "2025-03-10T08:00:00Z", "notification_submitted_at": "2025-03-12T08:00:00Z",
			"ongoing_at_final_due": true, "handled_at": "2025-03-11T08:00:00Z"}`, map[string]string{"handled_at": "err.nis2clock.handled_before_final_due"}},
		{"handled before the final report was due", `{"aware_at": "2025-03-10T08:00:00Z", "notification_submitted_at": "2025-03-12T08:00:00Z",
			"ongoing_at_final_due": true, "handled_at": "2025-04-12T07:59:59Z"}`, map[string]string{"handled_at": "err.nis2clock.handled_before_final_due"}},
		{"ongoing, handled before awareness", `{"aware_at": "2025-03-10T08:00:00Z", "ongoing_at_final_due": true, "handled_at": "2025-03-01T08:00:00Z"}`,
			map[string]string{"handled_at": "err.nis2clock.before_aware"}},
		{"ongoing, final report without handled_at", `{"aware_at": "2025-03-10T08:00:00Z", "notification_submitted_at": "2025-03-12T08:00:00Z",
			"ongoing_at_final_due": true, "final_report_submitted_at": "2025-05-01T08:00:00Z"}`, map[string]string{"final_report_submitted_at": "err.nis2clock.requires"}},
		{"progress report while not ongoing", `{"aware_at": "2025-03-10T08:00:00Z", "notification_submitted_at": "2025-03-12T08:00:00Z",
			"progress_report_submitted_at": "2025-04-12T08:00:00Z"}`, map[string]string{"progress_report_submitted_at": "err.nis2clock.progress_not_ongoing"}},
		{"intermediate deadline without request", `{"aware_at": "2025-03-10T08:00:00Z", "intermediate_deadline": "2025-03-16T10:00:00Z",
			"intermediate_submitted_at": "2025-03-16T09:00:00Z"}`, map[string]string{
			"intermediate_deadline": "err.nis2clock.requires", "intermediate_submitted_at": "err.nis2clock.requires"}},
		{"request without deadline", `{"aware_at": "2025-03-10T08:00:00Z", "intermediate_requested_at": "2025-03-14T10:00:00Z"}`,
			map[string]string{"intermediate_deadline": "err.nis2clock.intermediate_deadline_required"}},
		{"deadline before the request", `{"aware_at": "2025-03-10T08:00:00Z", "intermediate_requested_at": "2025-03-14T10:00:00Z",
			"intermediate_deadline": "2025-03-14T09:00:00Z", "intermediate_submitted_at": "2025-03-14T09:30:00Z"}`, map[string]string{
			"intermediate_deadline": "err.nis2clock.before", "intermediate_submitted_at": "err.nis2clock.before"}},
		{"early warning received before it was sent", `{"aware_at": "2025-03-10T08:00:00Z", "early_warning_submitted_at": "2025-03-10T12:00:00Z",
			"csirt_received_early_warning_at": "2025-03-10T11:00:00Z"}`, map[string]string{"csirt_received_early_warning_at": "err.nis2clock.before"}},
		{"feedback without receipt, and before it", `{"aware_at": "2025-03-10T08:00:00Z", "csirt_feedback_at": "2025-03-10T12:00:00Z"}`,
			map[string]string{"csirt_feedback_at": "err.nis2clock.requires"}},
		{"feedback before receipt", `{"aware_at": "2025-03-10T08:00:00Z", "csirt_received_early_warning_at": "2025-03-10T12:00:00Z",
			"csirt_feedback_at": "2025-03-10T11:00:00Z"}`, map[string]string{"csirt_feedback_at": "err.nis2clock.before"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseClockFacts(strings.NewReader(tt.in))
			if got := fieldCodes(t, err); !maps.Equal(got, tt.want) {
				t.Errorf("ParseClockFacts(%s) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseClockFactsTooLarge(t *testing.T) {
	t.Parallel()
	in := `{"aware_at": "2025-03-10T08:00:00Z", "x": "` + strings.Repeat("a", maxFactsBytes) + `"}`
	_, err := ParseClockFacts(strings.NewReader(in))
	if !errs.Is(err, errs.TooLarge) {
		t.Errorf("ParseClockFacts(2 MiB) = %v, want TooLarge", err)
	}
}

// TestValidateArgs checks the placeholders of the messages.
func TestValidateArgs(t *testing.T) {
	t.Parallel()
	f := ClockFacts{AwareAt: clockAt(t, "2025-03-10T09:00:00+01:00"), EarlyWarningSubmittedAt: clockAt(t, "2025-03-10T07:00:00Z"),
		NotificationSubmittedAt: clockAt(t, "2025-03-12T08:00:00Z"), FinalReportSubmittedAt: clockAt(t, "2025-03-11T08:00:00Z")}
	e, _ := errs.As(f.Validate())
	if e == nil || len(e.Fields) != 2 {
		t.Fatalf("Validate() = %v, want 2 field errors", f.Validate())
	}
	cat := i18n.MustLoad()
	for i, want := range []string{
		"early_warning_submitted_at: Enter a time from 2025-03-10T08:00:00Z on: this cannot come before the entity became aware of the incident",
		"final_report_submitted_at: Enter a time from 2025-03-12T08:00:00Z on: this cannot come before notification_submitted_at",
	} {
		fe := e.Fields[i]
		if got := fe.Field + ": " + cat.T("en", fe.Code, fe.Args); got != want {
			t.Errorf("field error %d = %q, want %q", i, got, want)
		}
	}
	if _, err := Due(f, time.Time{}); !errs.Is(err, errs.Invalid) {
		t.Errorf("Due(invalid) = %v, want Invalid", err)
	}
}

// TestClockFactsJSON checks that the member list follows the struct and
// that facts survive a round trip through JSON.
func TestClockFactsJSON(t *testing.T) {
	t.Parallel()
	var f ClockFacts
	var names []string
	for _, m := range f.members() {
		names = append(names, m.name)
	}
	if want := slices.Sorted(maps.Keys(jsonNames(reflect.TypeFor[ClockFacts]()))); !slices.Equal(slices.Sorted(slices.Values(names)), want) {
		t.Errorf("members() = %v, want the JSON names %v", names, want)
	}
	f = ClockFacts{AwareAt: clockAt(t, "2025-04-30T09:00:00Z"), NotificationSubmittedAt: clockAt(t, "2025-05-02T09:00:00Z"), OngoingAtFinalDue: true,
		HandledAt: clockAt(t, "2025-06-20T17:00:00Z"), Now: clockAt(t, "2025-06-21T00:00:00Z")}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"aware_at":"2025-04-30T09:00:00Z","notification_submitted_at":"2025-05-02T09:00:00Z","ongoing_at_final_due":true,"handled_at":"2025-06-20T17:00:00Z","now":"2025-06-21T00:00:00Z"}`; string(b) != want {
		t.Errorf("json.Marshal(facts) = %s, want %s", b, want)
	}
	g, err := ParseClockFacts(strings.NewReader(string(b)))
	if err != nil || g != f {
		t.Errorf("ParseClockFacts(%s) = %+v, %v, want %+v", b, g, err, f)
	}
}

func TestDeadlinesJSON(t *testing.T) {
	t.Parallel()
	f := ClockFacts{AwareAt: clockAt(t, "2025-06-02T06:00:00Z"), NotificationSubmittedAt: clockAt(t, "2025-06-05T14:00:00Z")}
	d, err := Due(f, clockAt(t, "2025-06-06T00:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`{"aware_at":"2025-06-02T06:00:00Z","now":"2025-06-06T00:00:00Z","stages":[`,
		`{"stage":"incident_notification","status":"submitted_late","due":"2025-06-05T06:00:00Z","rule":"NIS2 Art. 23(4)(b)","basis":"aware_at + 72h","submitted_at":"2025-06-05T14:00:00Z","late_by":28800,"soft":false,"hint_key":"nis2.stage_hint.incident_notification"}`,
		`{"stage":"final_report","status":"pending","due":"2025-07-05T14:00:00Z","rule":"NIS2 Art. 23(4)(d)","basis":"notification_submitted_at + 1 month","late_by":0,"soft":false,"hint_key":"nis2.stage_hint.final_report"}`,
		`{"stage":"progress_report","status":"not_applicable","rule":"NIS2 Art. 23(4)(e)","basis":"notification_submitted_at + 1 month","late_by":0,"soft":false,"hint_key":"nis2.stage_hint.progress_report_none"}`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("json.Marshal(deadlines) = %s\nlacks %s", b, want)
		}
	}
}

// TestStageKeys checks that every stage and status has a name in the
// catalogs.
func TestStageKeys(t *testing.T) {
	t.Parallel()
	cat := i18n.MustLoad()
	for _, s := range Stages() {
		if !cat.Has(s.LabelKey()) {
			t.Errorf("%s has no label", s)
		}
	}
	for _, s := range Statuses() {
		if !cat.Has(s.LabelKey()) {
			t.Errorf("%s has no label", s)
		}
	}
}
