package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// clockD09 is case D09 of nis2.md §7.3: the notification came 8 hours late.
const clockD09 = `{"aware_at": "2025-06-02T08:00:00+02:00", "notification_submitted_at": "2025-06-05T14:00:00Z"}`

// deadlinesJSON runs nis2 deadlines and decodes what it prints.
func deadlinesJSON(t *testing.T, stdin string, args ...string) map[string]any {
	t.Helper()
	var out, errOut bytes.Buffer
	clock := time.Date(2025, 6, 6, 0, 0, 0, 0, time.UTC)
	if err := nis2DeadlinesFrom(args, strings.NewReader(stdin), &out, &errOut, clock); err != nil {
		t.Fatalf("nis2 deadlines %q = %v\nstderr: %s", args, err, errOut.String())
	}
	var d map[string]any
	if err := json.Unmarshal(out.Bytes(), &d); err != nil {
		t.Fatalf("nis2 deadlines %q printed %q: %v", args, out.String(), err)
	}
	return d
}

// deadlineStage returns the stage named s of printed deadlines.
func deadlineStage(t *testing.T, d map[string]any, s string) map[string]any {
	t.Helper()
	stages, _ := d["stages"].([]any)
	for _, x := range stages {
		if m, _ := x.(map[string]any); m["stage"] == s {
			return m
		}
	}
	t.Fatalf("no stage %s in %v", s, d)
	return nil
}

func TestNIS2DeadlinesJSON(t *testing.T) {
	t.Parallel()
	d09 := writeFacts(t, clockD09)
	withNow := writeFacts(t, `{"aware_at": "2025-06-02T06:00:00Z", "now": "2025-06-02T07:00:00Z"}`)
	tests := []struct {
		name, stdin string
		args        []string
		stage       string
		want        map[string]any
	}{
		{"file", "", []string{d09}, "incident_notification",
			map[string]any{"status": "submitted_late", "due": "2025-06-05T06:00:00Z", "late_by": 28800.0, "rule": "NIS2 Art. 23(4)(b)"}},
		{"stdin without argument", clockD09, nil, "final_report",
			map[string]any{"status": "pending", "due": "2025-07-05T14:00:00Z", "basis": "notification_submitted_at + 1 month"}},
		{"stdin as -", clockD09, []string{"-"}, "early_warning",
			map[string]any{"status": "overdue", "due": "2025-06-03T06:00:00Z", "late_by": 237600.0}},
		{"--now before the file", "", []string{"--now", "2025-06-03T05:00:00Z", d09}, "early_warning",
			map[string]any{"status": "pending", "late_by": 0.0}},
		{"--now after the file, with an offset", "", []string{d09, "--now=2025-06-03T09:00:00+02:00"}, "early_warning",
			map[string]any{"status": "overdue", "late_by": 3600.0}},
		{"now in the facts", "", []string{withNow}, "early_warning", map[string]any{"status": "pending"}},
		{"--now wins over the facts", "", []string{"--now", "2025-06-04T06:00:00Z", withNow}, "early_warning",
			map[string]any{"status": "overdue", "late_by": 86400.0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			x := deadlineStage(t, deadlinesJSON(t, tt.stdin, tt.args...), tt.stage)
			for k, v := range tt.want {
				if x[k] != v {
					t.Errorf("nis2 deadlines %q: %s %s = %v, want %v", tt.args, tt.stage, k, x[k], v)
				}
			}
		})
	}
	d := deadlinesJSON(t, clockD09)
	if d["aware_at"] != "2025-06-02T06:00:00Z" || d["now"] != "2025-06-06T00:00:00Z" {
		t.Errorf("nis2 deadlines: aware_at %v, now %v, want UTC times", d["aware_at"], d["now"])
	}
}

func TestNIS2DeadlinesText(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	facts := writeFacts(t, `{"aware_at": "2026-11-27T14:05:00+01:00", "early_warning_submitted_at": "2026-11-28T14:05:00Z"}`)
	if err := runNIS2Deadlines(t.Context(), []string{"--text", "--now", "2026-11-28T20:00:00Z", facts}, &out, &errOut); err != nil {
		t.Fatalf("nis2 deadlines --text = %v\nstderr: %s", err, errOut.String())
	}
	lines := strings.Split(out.String(), "\n")
	for _, want := range []string{
		"Aware at: Fri 27 Nov 2026 13:05 UTC (Fri 27 Nov 2026 14:05 CET)",
		"As of:    Sat 28 Nov 2026 20:00 UTC (Sat 28 Nov 2026 21:00 CET)",
		"STAGE ",
		"Early warning ",
		"Sat 28 Nov 2026 13:05 UTC  Sat 28 Nov 2026 14:05 CET  Sat 28 Nov 2026 14:05 UTC  1h  ",
		"Incident notification ",
		"Mon 30 Nov 2026 13:05 UTC  Mon 30 Nov 2026 14:05 CET",
		"CSIRT initial feedback (target)  Not yet known ",
		"Final report: The final report is due one month after the incident notification is submitted",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("nis2 deadlines --text lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.HasPrefix(lines[4], "Early warning") || !strings.Contains(lines[4], "Submitted late") {
		t.Errorf("nis2 deadlines --text line 5 = %q, want the early warning submitted late", lines[4])
	}
	if json.Valid(out.Bytes()) {
		t.Error("--text printed JSON")
	}
}

func TestNIS2DeadlinesInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, facts string
		stderr      []string
	}{
		{"field errors", `{"early_warning_submitted_at": "2025-03-10", "handled": true}`, []string{
			"early_warning_submitted_at: Enter a date and time in RFC 3339 format",
			"handled: Remove this field or correct its name",
			"aware_at: Enter when the entity became aware of the significant incident",
			"belfry nis2: standard input: the facts have 3 problems"}},
		{"submission before awareness", `{"aware_at": "2025-03-10T09:00:00+01:00", "notification_submitted_at": "2025-03-10T07:00:00Z"}`, []string{
			"notification_submitted_at: Enter a time from 2025-03-10T08:00:00Z on: this cannot come before the entity became aware of the incident\n"}},
		{"not JSON", `aware_at: today`, []string{"standard input: The facts are not well-formed JSON"}},
		{"not an object", `["2025-03-10T08:00:00Z"]`, []string{"standard input: The incident times must be one JSON object"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			err := nis2DeadlinesFrom(nil, strings.NewReader(tt.facts), &out, &errOut, time.Now())
			if err == nil || errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp) {
				t.Fatalf("nis2 deadlines = %v, want an error for exit status 1", err)
			}
			all := errOut.String() + "belfry nis2: " + err.Error() + "\n" // as main prints it
			for _, want := range tt.stderr {
				if !strings.Contains(all, want) {
					t.Errorf("stderr lacks %q:\n%s", want, all)
				}
			}
			if out.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", out.String())
			}
		})
	}
}

func TestNIS2DeadlinesUsage(t *testing.T) {
	t.Parallel()
	facts := writeFacts(t, clockD09)
	tests := []struct {
		args   []string
		want   error // errUsage, flag.ErrHelp or nil for another error
		stderr string
	}{
		{[]string{"-h"}, flag.ErrHelp, "Usage: belfry nis2 deadlines"},
		{[]string{"--help"}, flag.ErrHelp, "-now time"},
		{[]string{"--now", "2025-06-03", facts}, errUsage, "--now must be an RFC 3339 time"},
		{[]string{"--now", "2025-06-03T08:00:00", facts}, errUsage, "--now must be an RFC 3339 time"},
		{[]string{"--nosuch", facts}, errUsage, "flag provided but not defined"},
		{[]string{facts, facts}, errUsage, "one file at most"},
		{[]string{filepath.Join(t.TempDir(), "missing.json")}, nil, ""},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		err := runNIS2Deadlines(t.Context(), tt.args, &out, &errOut)
		switch {
		case err == nil:
			t.Errorf("nis2 deadlines %q = nil, want an error", tt.args)
		case tt.want != nil && !errors.Is(err, tt.want):
			t.Errorf("nis2 deadlines %q = %v, want %v", tt.args, err, tt.want)
		case tt.want == nil && (errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp)):
			t.Errorf("nis2 deadlines %q = %v, want an error for exit status 1", tt.args, err)
		case !strings.Contains(errOut.String(), tt.stderr):
			t.Errorf("nis2 deadlines %q stderr = %q, want %q in it", tt.args, short(errOut.String()), tt.stderr)
		}
	}
}

func TestDeadlinesLate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		s    int64
		want string
	}{{0, "-"}, {1, "1s"}, {28800, "8h"}, {237600, "2d 18h"}, {86400 + 3600 + 61, "1d 1h 1m 1s"}} {
		if got := deadlinesLate(tt.s); got != tt.want {
			t.Errorf("deadlinesLate(%d) = %q, want %q", tt.s, got, tt.want)
		}
	}
}
