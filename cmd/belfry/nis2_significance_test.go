package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"
)

const (
	// sigS01 is case S01 of nis2.md §7.2 with every other fact harmless.
	sigS01 = `{"entity_type": "digital_infra.cloud", "turnover_prev_fy_eur": 40000000, "direct_financial_loss_eur": 120000,
		"trade_secret_exfiltration": false, "death": false, "considerable_health_damage": false,
		"successful_malicious_unauthorised_access": false, "capable_severe_disruption": false,
		"incident_date": "2025-03-12", "root_cause": "rc-storage-firmware", "related_incidents": [],
		"service_users_eu": 10000000, "complete_unavailability_minutes": 31, "limited_availability_minutes": 120,
		"limited_availability_users": 400000, "cia_compromised": false}`
	// sigS02 is case S02: a 30-minute outage, nothing else.
	sigS02 = `{"entity_type": "digital_infra.cloud", "turnover_prev_fy_eur": 40000000, "direct_financial_loss_eur": 0,
		"trade_secret_exfiltration": false, "death": false, "considerable_health_damage": false,
		"successful_malicious_unauthorised_access": false, "capable_severe_disruption": false, "related_incidents": [],
		"service_users_eu": 10000000, "complete_unavailability_minutes": 30, "limited_availability_minutes": 0,
		"limited_availability_users": 0, "cia_compromised": false}`
	sigUnknownU = `{"entity_type": "digital_infra.cloud", "limited_availability_users": 400000, "limited_availability_minutes": 120}`
)

// significanceJSON runs nis2 significance and decodes the decision it
// prints.
func significanceJSON(t *testing.T, stdin string, args ...string) map[string]any {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := nis2Significance(args, strings.NewReader(stdin), &out, &errOut); err != nil {
		t.Fatalf("nis2 significance %q = %v\nstderr: %s", args, err, errOut.String())
	}
	var d map[string]any
	if err := json.Unmarshal(out.Bytes(), &d); err != nil {
		t.Fatalf("nis2 significance %q printed %q: %v", args, out.String(), err)
	}
	return d
}

func TestNIS2SignificanceJSON(t *testing.T) {
	t.Parallel()
	s01 := writeFacts(t, sigS01)
	tests := []struct {
		name, stdin string
		args        []string
		outcome     string
		decidedBy   []any
	}{
		{"file", "", []string{s01}, "significant", []any{"7a"}},
		{"stdin without argument", sigS02, nil, "not_significant", []any{}},
		{"stdin as -", sigS02, []string{"-"}, "not_significant", []any{}},
		{"unknown facts", sigUnknownU, nil, "undetermined", []any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := significanceJSON(t, tt.stdin, tt.args...)
			got, _ := json.Marshal(d["decided_by"])
			want, _ := json.Marshal(tt.decidedBy)
			if d["outcome"] != tt.outcome || d["significant"] != (tt.outcome == "significant") || string(got) != string(want) {
				t.Errorf("nis2 significance %q = %v by %s, want %s by %s", tt.args, d["outcome"], got, tt.outcome, want)
			}
		})
	}
}

// TestRunNIS2Significance calls the entry point that nis2.go dispatches to.
func TestRunNIS2Significance(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if err := runNIS2Significance(t.Context(), []string{writeFacts(t, sigS01)}, &out, &errOut); err != nil {
		t.Fatalf("runNIS2Significance = %v\nstderr: %s", err, errOut.String())
	}
	for _, want := range []string{"\"outcome\": \"significant\"", "\"code\": \"7a\"", "\"reference\": \"Commission Implementing Regulation (EU) 2024/2690, Art. 7(a)\""} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %s:\n%s", want, out.String())
		}
	}
}

func TestNIS2SignificanceText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, facts string
		want        []string
	}{
		{"S01", sigS01, []string{
			"Incident of digital_infra.cloud (Cloud computing service providers)\nTest: Thresholds of Implementing Regulation (EU) 2024/2690\n",
			"  [met]      7a  The service was completely unavailable for 31 minutes, more than 30 minutes.\n" +
				"                 Commission Implementing Regulation (EU) 2024/2690, Art. 7(a)\n",
			"  [not met]  7b  Availability was limited for 400,000 users in the Union, not more than the threshold of 500,000.\n",
			"  T(5 %, 1 000 000) with service_users_eu = 10,000,000: 500,000 (criteria 7b, 7d)\n",
			"\nOutcome: Significant incident (7a)\n",
			"  - Commission Implementing Regulation (EU) 2024/2690, Art. 7\n",
		}},
		{"unknown facts", sigUnknownU, []string{
			"[not evaluated]  7b  Not evaluated: these facts are unknown: service_users_eu.\n",
			"  T(5 %, 1 000 000) with service_users_eu = unknown: unknown, at most 1,000,000 (criteria 7b, 7d)\n",
			"\nOutcome: Not determined: facts are missing\n",
			"  - No criterion is met, but some could not be evaluated: give ",
		}},
		{"other entity type", `{"entity_type": "food.business", "severe_operational_disruption": true}`, []string{
			"Test: Qualitative test of Article 23(3) of the NIS2 Directive, as the entity assesses it\n",
			"[met]            23.3a.disruption  The entity considers that the incident has caused, or is capable of causing, severe operational disruption of its services.\n",
			"Outcome: Significant incident (23.3a.disruption)\n",
			"  - Implementing Regulation (EU) 2024/2690 does not cover food.business: only the qualitative test",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			if err := nis2Significance([]string{"--text"}, strings.NewReader(tt.facts), &out, &errOut); err != nil {
				t.Fatalf("nis2 significance --text = %v\nstderr: %s", err, errOut.String())
			}
			for _, want := range tt.want {
				if !strings.Contains(out.String(), want) {
					t.Errorf("text lacks %q:\n%s", want, out.String())
				}
			}
			if json.Valid(out.Bytes()) {
				t.Error("--text printed JSON")
			}
		})
	}
}

func TestNIS2SignificanceInvalidFacts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, facts string
		stderr      []string
	}{
		{"field errors", `{"entity_type": "cloud", "direct_financial_loss_eur": -5, "users": 3,
			"related_incidents": [{"date": "2025-13-01", "root_cause": "rc"}]}`, []string{
			"entity_type: Choose an entity type from the NIS2 list: cloud is not one of them\n",
			"direct_financial_loss_eur: Enter a number of 0 or more\n",
			"users: Remove this field or correct its name",
			"related_incidents[0].date: Enter the date as YYYY-MM-DD, like 2025-03-10\n"}},
		{"not an object", `[1, 2]`, []string{"standard input: The incident facts must be one JSON object"}},
		{"not JSON", `entity_type: cloud`, []string{"standard input: The facts are not well-formed JSON"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			err := nis2Significance(nil, strings.NewReader(tt.facts), &out, &errOut)
			if err == nil || errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp) {
				t.Fatalf("nis2 significance = %v, want an error for exit status 1", err)
			}
			for _, want := range tt.stderr {
				if !strings.Contains(errOut.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
				}
			}
			if out.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", out.String())
			}
		})
	}
}

func TestNIS2SignificanceUsage(t *testing.T) {
	t.Parallel()
	s01 := writeFacts(t, sigS01)
	tests := []struct {
		args   []string
		want   error // errUsage, flag.ErrHelp or nil for another error
		stderr string
	}{
		{[]string{"-h"}, flag.ErrHelp, "Usage: belfry nis2 significance [--text] [FILE|-]"},
		{[]string{"--explain", s01}, errUsage, "flag provided but not defined"},
		{[]string{s01, s01}, errUsage, "one facts file at most"},
		{[]string{filepath.Join(t.TempDir(), "missing.json")}, nil, ""},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		err := runNIS2Significance(t.Context(), tt.args, &out, &errOut)
		switch {
		case err == nil:
			t.Errorf("nis2 significance %q = nil, want an error", tt.args)
		case tt.want != nil && !errors.Is(err, tt.want):
			t.Errorf("nis2 significance %q = %v, want %v", tt.args, err, tt.want)
		case tt.want == nil && (errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp)):
			t.Errorf("nis2 significance %q = %v, want an error for exit status 1", tt.args, err)
		case !strings.Contains(errOut.String(), tt.stderr):
			t.Errorf("nis2 significance %q stderr = %q, want %q in it", tt.args, short(errOut.String()), tt.stderr)
		}
	}
}
