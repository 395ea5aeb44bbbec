package nis2

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
)

func sigPtr[T any](v T) *T { return &v }

// quiet returns facts for an incident of type code in which nothing
// happened: every fact the test for the type reads is known and harmless,
// and no other fact is set.
func quiet(code string) SignificanceFacts {
	no := false
	f := SignificanceFacts{
		EntityType:        code,
		TurnoverPrevFYEUR: sigPtr(10e6), DirectFinancialLossEUR: sigPtr(0.0),
		TradeSecretExfiltration: &no, Death: &no, ConsiderableHealthDamage: &no, SuccessfulMaliciousUnauthorisedAccess: &no, CapableSevereDisruption: &no,
		IncidentDate: "2025-03-12", RootCause: "rc-patch", RelatedIncidents: []RelatedIncident{},
		ServiceUsersEU: sigPtr(int64(1_000_000)), CompleteUnavailabilityMinutes: sigPtr(0.0), CompleteUnavailabilityUsers: sigPtr(int64(0)),
		LimitedAvailabilityMinutes: sigPtr(0.0), LimitedAvailabilityUsers: sigPtr(int64(0)), AvgResponseTimeSeconds: sigPtr(0.05), AvgResponseTimeMinutes: sigPtr(0.0),
		CIACompromised: &no, SuspectedMalicious: &no, CIAAffectedUsers: sigPtr(int64(0)), PhysicalAccessCompromised: &no,
		DomainNamesAffected: sigPtr(int64(0)), DomainNamesManaged: sigPtr(int64(200_000)), WeekOutages: []Outage{},
		SevereOperationalDisruption: &no, SevereFinancialLoss: &no, ConsiderableDamageToOthers: &no,
	}
	art, relevant := SignificanceArticle(code)
	unused := f.unusedFacts(art, relevant)
	rv := reflect.ValueOf(&f).Elem()
	for i := range rv.NumField() {
		name, _, _ := strings.Cut(rv.Type().Field(i).Tag.Get("json"), ",")
		if slices.Contains(unused, name) {
			rv.Field(i).SetZero()
		}
	}
	return f
}

// sigWith returns quiet(code) changed by fn.
func sigWith(code string, fn func(*SignificanceFacts)) SignificanceFacts {
	f := quiet(code)
	fn(&f)
	return f
}

func assess(t *testing.T, f SignificanceFacts) SignificanceDecision {
	t.Helper()
	d, err := AssessSignificance(f)
	if err != nil {
		t.Fatalf("AssessSignificance(%s) = %v", f.EntityType, err)
	}
	return d
}

// criterion returns the criterion with code, failing the test if absent.
func criterion(t *testing.T, d SignificanceDecision, code string) Criterion {
	t.Helper()
	for _, c := range d.Criteria {
		if c.Code == code {
			return c
		}
	}
	t.Fatalf("no criterion %s in %v", code, d.Criteria)
	return Criterion{}
}

func threshold(t *testing.T, d SignificanceDecision, name string) Threshold {
	t.Helper()
	for _, th := range d.Thresholds {
		if th.Name == name {
			return th
		}
	}
	t.Fatalf("no threshold %s in %+v", name, d.Thresholds)
	return Threshold{}
}

var relevantTypes = []string{
	"digital_infra.dns", "digital_infra.tld_registry", "digital_infra.cloud", "digital_infra.data_centre", "digital_infra.cdn",
	"ict_b2b.msp", "ict_b2b.mssp", "digital_provider.marketplace", "digital_provider.search_engine",
	"digital_provider.social_network", "digital_infra.trust_service",
}

const (
	cloud = "digital_infra.cloud"
	dns   = "digital_infra.dns"
	tsp   = "digital_infra.trust_service"
)

// sigCase is one case: the outcome and the criteria that decided.
type sigCase struct {
	name      string
	facts     SignificanceFacts
	outcome   SignificanceOutcome
	decidedBy []string
	check     func(t *testing.T, d SignificanceDecision)
}

func runSigCases(t *testing.T, cases []sigCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := assess(t, tt.facts)
			if d.Outcome != tt.outcome || d.Significant != (tt.outcome == OutcomeSignificant) || !slices.Equal(d.DecidedBy, tt.decidedBy) {
				t.Errorf("AssessSignificance = %s (significant %v) by %v, want %s by %v", d.Outcome, d.Significant, d.DecidedBy, tt.outcome, tt.decidedBy)
				for _, c := range d.Criteria {
					t.Logf("  %s %s %s %v", c.Code, c.Status, c.ReasonKey, c.ReasonArgs)
				}
			}
			if tt.check != nil {
				tt.check(t, d)
			}
		})
	}
}

// wantStatus checks the status and reason key of a criterion.
func wantStatus(code string, status CriterionStatus, key string) func(*testing.T, SignificanceDecision) {
	return func(t *testing.T, d SignificanceDecision) {
		t.Helper()
		c := criterion(t, d, code)
		if c.Status != status || (key != "" && c.ReasonKey != key) {
			t.Errorf("criterion %s = %s (%s %v), want %s (%s)", code, c.Status, c.ReasonKey, c.ReasonArgs, status, key)
		}
		if c.Met != (status == CriterionMet) || c.Evaluated != (status != CriterionNotEvaluated) {
			t.Errorf("criterion %s: met %v, evaluated %v for status %s", code, c.Met, c.Evaluated, status)
		}
	}
}

func wantThreshold(name string, value float64) func(*testing.T, SignificanceDecision) {
	return func(t *testing.T, d SignificanceDecision) {
		t.Helper()
		if th := threshold(t, d, name); th.Value == nil || *th.Value != value {
			t.Errorf("threshold %s = %v, want %v", name, th.Value, value)
		}
	}
}

func all(checks ...func(*testing.T, SignificanceDecision)) func(*testing.T, SignificanceDecision) {
	return func(t *testing.T, d SignificanceDecision) {
		t.Helper()
		for _, c := range checks {
			c(t, d)
		}
	}
}

// TestSignificanceCases runs the cases S01 to S15 of nis2.md §7.2.
func TestSignificanceCases(t *testing.T) {
	t.Parallel()
	fourOutages := []Outage{{"2025-03-10", sigPtr(18.0)}, {"2025-03-11", sigPtr(18.0)}, {"2025-03-13", sigPtr(18.0)}, {"2025-03-16", sigPtr(18.0)}}
	cases := []sigCase{
		{"S01", sigWith(cloud, func(f *SignificanceFacts) { f.CompleteUnavailabilityMinutes = sigPtr(31.0) }), OutcomeSignificant, []string{"7a"},
			wantStatus("7a", CriterionMet, "nis2.sig.outage.met")},
		{"S02", sigWith(cloud, func(f *SignificanceFacts) { f.CompleteUnavailabilityMinutes = sigPtr(30.0) }), OutcomeNotSignificant, []string{},
			wantStatus("7a", CriterionNotMet, "nis2.sig.outage.not_met")},
		{"S03", sigWith(cloud, func(f *SignificanceFacts) {
			f.ServiceUsersEU, f.LimitedAvailabilityUsers, f.LimitedAvailabilityMinutes = sigPtr(int64(10_000_000)), sigPtr(int64(400_000)), sigPtr(120.0)
		}), OutcomeNotSignificant, []string{},
			all(wantThreshold("T(5 %, 1 000 000)", 500_000), wantStatus("7b", CriterionNotMet, "nis2.sig.limited.few"))},
		{"S04", sigWith(cloud, func(f *SignificanceFacts) {
			f.ServiceUsersEU, f.LimitedAvailabilityUsers, f.LimitedAvailabilityMinutes = sigPtr(int64(50_000_000)), sigPtr(int64(1_200_000)), sigPtr(61.0)
		}), OutcomeSignificant, []string{"7b"}, wantThreshold("T(5 %, 1 000 000)", 1_000_000)},
		{"S06/450000", sigWith(cloud, func(f *SignificanceFacts) {
			f.TurnoverPrevFYEUR, f.DirectFinancialLossEUR = sigPtr(20e6), sigPtr(450_000.0)
		}),
			OutcomeNotSignificant, []string{}, all(wantThreshold("T(5 %, 500 000)", 500_000), wantStatus("3a", CriterionNotMet, "nis2.sig.loss.not_met"))},
		{"S06/600000", sigWith(cloud, func(f *SignificanceFacts) {
			f.TurnoverPrevFYEUR, f.DirectFinancialLossEUR = sigPtr(20e6), sigPtr(600_000.0)
		}),
			OutcomeSignificant, []string{"3a"}, wantThreshold("T(5 %, 500 000)", 500_000)},
		{"S07/61min", sigWith(dns, func(f *SignificanceFacts) {
			f.AvgResponseTimeSeconds, f.AvgResponseTimeMinutes = sigPtr(12.0), sigPtr(61.0)
		}),
			OutcomeSignificant, []string{"5b"}, nil},
		{"S07/60min", sigWith(dns, func(f *SignificanceFacts) {
			f.AvgResponseTimeSeconds, f.AvgResponseTimeMinutes = sigPtr(12.0), sigPtr(60.0)
		}),
			OutcomeNotSignificant, []string{}, wantStatus("5b", CriterionNotMet, "nis2.sig.response.short")},
		{"S08", sigWith(dns, func(f *SignificanceFacts) {
			f.CIACompromised, f.Misconfiguration, f.DomainNamesAffected, f.DomainNamesManaged = sigPtr(true), true, sigPtr(int64(800)), sigPtr(int64(200_000))
		}), OutcomeNotSignificant, []string{}, func(t *testing.T, d SignificanceDecision) {
			wantStatus("5c", CriterionNotMet, "nis2.sig.dns_data.exception")(t, d)
			if got := criterion(t, d, "5c").ReasonArgs["share"]; got != json.Number("0.4") {
				t.Errorf("5c share = %v, want 0.4", got)
			}
		}},
		{"S09", sigWith(dns, func(f *SignificanceFacts) {
			f.CIACompromised, f.DomainNamesAffected, f.DomainNamesManaged = sigPtr(true), sigPtr(int64(800)), sigPtr(int64(200_000))
		}), OutcomeSignificant, []string{"5c"}, wantStatus("5c", CriterionMet, "nis2.sig.dns_data.met")},
		{"S10", sigWith(tsp, func(f *SignificanceFacts) {
			f.CompleteUnavailabilityMinutes, f.WeekOutages = sigPtr(25.0), []Outage{{"2025-03-12", sigPtr(25.0)}}
		}), OutcomeSignificant, []string{"14a"}, wantStatus("14b", CriterionNotMet, "nis2.sig.week.not_met")},
		{"S10b", sigWith(tsp, func(f *SignificanceFacts) {
			f.IncidentDate, f.CompleteUnavailabilityMinutes, f.WeekOutages = "2025-03-16", sigPtr(18.0), fourOutages
		}), OutcomeSignificant, []string{"14b"}, func(t *testing.T, d SignificanceDecision) {
			wantStatus("14a", CriterionNotMet, "nis2.sig.outage.not_met")(t, d)
			args := criterion(t, d, "14b").ReasonArgs
			if args["minutes"] != json.Number("72") || args["count"] != 4 || args["week"] != "2025-W11" {
				t.Errorf("14b args = %v, want 72 minutes, 4 outages in 2025-W11", args)
			}
		}},
		{"S11", sigWith("digital_infra.data_centre", func(f *SignificanceFacts) { f.PhysicalAccessCompromised = sigPtr(true) }),
			OutcomeSignificant, []string{"8d"}, nil},
		{"S12", sigWith(cloud, func(f *SignificanceFacts) {
			f.CompleteUnavailabilityMinutes, f.ScheduledMaintenance = sigPtr(120.0), true
		}),
			OutcomeNotSignificant, []string{ExclusionCode}, func(t *testing.T, d SignificanceDecision) {
				wantStatus("7a", CriterionMet, "")(t, d) // shown, but excluded
				if d.Notes[0].Key != "nis2.sig.note.scheduled_maintenance" {
					t.Errorf("notes = %v, want the Art. 3(2) note first", d.Notes)
				}
			}},
		{"S13", sigWith("digital_provider.marketplace", func(f *SignificanceFacts) {
			f.ServiceUsersEU, f.CompleteUnavailabilityUsers = sigPtr(int64(8_000_000)), sigPtr(int64(450_000))
		}), OutcomeSignificant, []string{"11a"}, wantThreshold("T(5 %, 1 000 000)", 400_000)},
		{"S14", sigWith("ict_b2b.mssp", func(f *SignificanceFacts) {
			f.CIACompromised, f.SuspectedMalicious, f.CIAAffectedUsers = sigPtr(true), sigPtr(true), sigPtr(int64(1))
		}), OutcomeSignificant, []string{"10c"}, wantStatus("10d", CriterionNotMet, "nis2.sig.cia_users.few")},
		{"S15", sigWith(cloud, func(f *SignificanceFacts) {
			f.TurnoverPrevFYEUR, f.IncidentDate, f.DirectFinancialLossEUR, f.RootCause = sigPtr(100e6), "2025-05-05", sigPtr(350_000.0), "rc-vpn"
			f.RelatedIncidents = []RelatedIncident{{Date: "2025-01-10", RootCause: "rc-vpn", DirectFinancialLossEUR: sigPtr(200_000.0)}}
		}), OutcomeSignificant, []string{"3f"}, func(t *testing.T, d SignificanceDecision) {
			wantStatus("3a", CriterionNotMet, "")(t, d)
			args := criterion(t, d, "3f").ReasonArgs
			if args["loss"] != json.Number("550000") || args["threshold"] != json.Number("500000") || args["count"] != 2 ||
				args["from"] != "2025-01-10" || args["to"] != "2025-05-05" {
				t.Errorf("3f args = %v", args)
			}
		}},
	}
	for _, code := range relevantTypes {
		cases = append(cases, sigCase{"S05/" + code, sigWith(code, func(f *SignificanceFacts) {
			f.TurnoverPrevFYEUR, f.DirectFinancialLossEUR = sigPtr(4e6), sigPtr(210_000.0)
		}), OutcomeSignificant, []string{"3a"}, wantThreshold("T(5 %, 500 000)", 200_000)})
	}
	runSigCases(t, cases)
}

// TestSignificanceQuiet checks that the facts each test reads are exactly
// the ones sigUsed lists: with them all known and harmless, every criterion
// is evaluated and the incident is not significant.
func TestSignificanceQuiet(t *testing.T) {
	t.Parallel()
	for _, ty := range Types() {
		d := assess(t, quiet(ty.Code))
		if d.Outcome != OutcomeNotSignificant {
			t.Errorf("%s: quiet incident = %s", ty.Code, d.Outcome)
		}
		for _, c := range d.Criteria {
			if !c.Evaluated {
				t.Errorf("%s: %s not evaluated, missing %v", ty.Code, c.Code, c.Missing)
			}
		}
		if d.Notes == nil || d.DecidedBy == nil || d.Thresholds == nil {
			// The decision's schema requires these lists, even empty.
			t.Errorf("%s: notes %v, decided_by %v, thresholds %v: want lists, not null", ty.Code, d.Notes, d.DecidedBy, d.Thresholds)
		}
		for _, n := range d.Notes {
			if n.Key == "nis2.sig.note.unused" {
				t.Errorf("%s: quiet facts reported unused: %v", ty.Code, n.Args)
			}
		}
		_, relevant := SignificanceArticle(ty.Code)
		if want := map[bool]SignificanceRegime{true: RegimeImplementingRegulation, false: RegimeQualitative}[relevant]; d.Regime != want {
			t.Errorf("%s: regime %s, want %s", ty.Code, d.Regime, want)
		}
	}
}

// TestSignificanceEdges covers unknown facts, boundaries and the other
// entity types.
func TestSignificanceEdges(t *testing.T) {
	t.Parallel()
	energy := "energy.electricity.dso"
	week := func(dates ...string) []Outage {
		var out []Outage
		for _, d := range dates {
			out = append(out, Outage{d, sigPtr(25.0)})
		}
		return out
	}
	related := func(date, cause string, loss *float64) RelatedIncident {
		return RelatedIncident{Date: date, RootCause: cause, DirectFinancialLossEUR: loss}
	}
	recurringFacts := func(date string, loss float64, rel ...RelatedIncident) SignificanceFacts {
		return sigWith(cloud, func(f *SignificanceFacts) {
			f.IncidentDate, f.DirectFinancialLossEUR, f.TurnoverPrevFYEUR, f.RelatedIncidents = date, sigPtr(loss), sigPtr(100e6), rel
		})
	}
	cases := []sigCase{
		// U unknown: the user-count criteria are not evaluated, unless the
		// count is above the cap N or zero.
		{"U unknown", sigWith(cloud, func(f *SignificanceFacts) {
			f.ServiceUsersEU, f.LimitedAvailabilityUsers, f.LimitedAvailabilityMinutes = nil, sigPtr(int64(400_000)), sigPtr(120.0)
		}), OutcomeUndetermined, []string{}, func(t *testing.T, d SignificanceDecision) {
			wantStatus("7b", CriterionNotEvaluated, "nis2.sig.not_evaluated")(t, d)
			if c := criterion(t, d, "7b"); !slices.Equal(c.Missing, []string{"service_users_eu"}) || c.ReasonArgs["facts"] != "service_users_eu" {
				t.Errorf("7b missing = %v, args %v", c.Missing, c.ReasonArgs)
			}
			if th := threshold(t, d, "T(5 %, 1 000 000)"); th.Value != nil || th.Base != nil {
				t.Errorf("threshold with U unknown = %+v, want no value", th)
			}
			if n := d.Notes[len(d.Notes)-1]; n.Key != "nis2.sig.note.undetermined" || n.Args["facts"] != "service_users_eu" {
				t.Errorf("last note = %v", n)
			}
		}},
		{"U unknown, count above the cap", sigWith(cloud, func(f *SignificanceFacts) {
			f.ServiceUsersEU, f.LimitedAvailabilityUsers, f.LimitedAvailabilityMinutes = nil, sigPtr(int64(1_000_001)), sigPtr(61.0)
		}), OutcomeSignificant, []string{"7b"}, nil},
		{"U unknown, short", sigWith(cloud, func(f *SignificanceFacts) {
			f.ServiceUsersEU, f.LimitedAvailabilityUsers, f.LimitedAvailabilityMinutes = nil, sigPtr(int64(400_000)), sigPtr(60.0)
		}), OutcomeNotSignificant, []string{}, wantStatus("7b", CriterionNotMet, "nis2.sig.limited.short")},
		{"U unknown, no user", sigWith("digital_provider.social_network", func(f *SignificanceFacts) { f.ServiceUsersEU = nil }),
			OutcomeNotSignificant, []string{}, wantStatus("13a", CriterionNotMet, "nis2.sig.no_users")},
		{"everything unknown", SignificanceFacts{EntityType: cloud}, OutcomeUndetermined, []string{}, func(t *testing.T, d SignificanceDecision) {
			for _, c := range d.Criteria {
				if c.Evaluated || len(c.Missing) == 0 {
					t.Errorf("%s evaluated %v with missing %v", c.Code, c.Evaluated, c.Missing)
				}
			}
		}},
		{"nothing known but one criterion met", SignificanceFacts{EntityType: cloud, Death: sigPtr(true)}, OutcomeSignificant, []string{"3c"}, nil},
		// Turnover unknown: 5 % cannot be computed; a loss above 500 000 is
		// decisive anyway.
		{"turnover unknown, loss 600000", sigWith(cloud, func(f *SignificanceFacts) { f.TurnoverPrevFYEUR, f.DirectFinancialLossEUR = nil, sigPtr(600_000.0) }),
			OutcomeSignificant, []string{"3a"}, func(t *testing.T, d SignificanceDecision) {
				if args := criterion(t, d, "3a").ReasonArgs; args["threshold"] != json.Number("500000") {
					t.Errorf("3a args = %v", args)
				}
				if th := threshold(t, d, "T(5 %, 500 000)"); th.Value != nil {
					t.Errorf("loss threshold = %v, want none", *th.Value)
				}
			}},
		{"turnover unknown, loss 400000", sigWith(cloud, func(f *SignificanceFacts) { f.TurnoverPrevFYEUR, f.DirectFinancialLossEUR = nil, sigPtr(400_000.0) }),
			OutcomeUndetermined, []string{}, wantStatus("3a", CriterionNotEvaluated, "")},
		{"turnover unknown, no loss", sigWith(cloud, func(f *SignificanceFacts) { f.TurnoverPrevFYEUR = nil }),
			OutcomeNotSignificant, []string{}, wantStatus("3a", CriterionNotMet, "nis2.sig.loss.none")},
		{"loss unknown", sigWith(cloud, func(f *SignificanceFacts) { f.DirectFinancialLossEUR = nil }), OutcomeUndetermined, []string{},
			wantStatus("3a", CriterionNotEvaluated, "")},
		{"turnover 0", sigWith(cloud, func(f *SignificanceFacts) { f.TurnoverPrevFYEUR, f.DirectFinancialLossEUR = sigPtr(0.0), sigPtr(1.0) }),
			OutcomeSignificant, []string{"3a"}, nil},
		// Boundaries: "more than" is strict.
		{"loss at the threshold", sigWith(cloud, func(f *SignificanceFacts) {
			f.TurnoverPrevFYEUR, f.DirectFinancialLossEUR = sigPtr(4e6), sigPtr(200_000.0)
		}),
			OutcomeNotSignificant, []string{}, nil},
		{"loss a cent above", sigWith(cloud, func(f *SignificanceFacts) {
			f.TurnoverPrevFYEUR, f.DirectFinancialLossEUR = sigPtr(4e6), sigPtr(200_000.01)
		}),
			OutcomeSignificant, []string{"3a"}, nil},
		{"users at T", sigWith(cloud, func(f *SignificanceFacts) {
			f.ServiceUsersEU, f.LimitedAvailabilityUsers, f.LimitedAvailabilityMinutes = sigPtr(int64(10_000_000)), sigPtr(int64(500_000)), sigPtr(61.0)
		}), OutcomeNotSignificant, []string{}, nil},
		{"users one above T", sigWith("digital_infra.cdn", func(f *SignificanceFacts) {
			f.ServiceUsersEU, f.LimitedAvailabilityUsers, f.LimitedAvailabilityMinutes = sigPtr(int64(10_000_000)), sigPtr(int64(500_001)), sigPtr(61.0)
		}), OutcomeSignificant, []string{"9b"}, nil},
		{"limited for exactly one hour", sigWith("ict_b2b.msp", func(f *SignificanceFacts) {
			f.LimitedAvailabilityUsers, f.LimitedAvailabilityMinutes = sigPtr(int64(1_000_000)), sigPtr(60.0)
		}), OutcomeNotSignificant, []string{}, nil},
		{"data centre limited 61 min", sigWith("digital_infra.data_centre", func(f *SignificanceFacts) { f.LimitedAvailabilityMinutes = sigPtr(61.0) }),
			OutcomeSignificant, []string{"8b"}, nil},
		{"data centre outage of one minute", sigWith("digital_infra.data_centre", func(f *SignificanceFacts) { f.CompleteUnavailabilityMinutes = sigPtr(1.0) }),
			OutcomeSignificant, []string{"8a"}, nil},
		{"TLD outage of one minute", sigWith("digital_infra.tld_registry", func(f *SignificanceFacts) { f.CompleteUnavailabilityMinutes = sigPtr(1.0) }),
			OutcomeSignificant, []string{"6a"}, nil},
		{"TLD data compromised", sigWith("digital_infra.tld_registry", func(f *SignificanceFacts) { f.CIACompromised = sigPtr(true) }),
			OutcomeSignificant, []string{"6c"}, nil},
		{"DNS outage of exactly 30 min", sigWith(dns, func(f *SignificanceFacts) { f.CompleteUnavailabilityMinutes = sigPtr(30.0) }),
			OutcomeNotSignificant, []string{}, nil},
		{"DNS slow response of 10 s", sigWith(dns, func(f *SignificanceFacts) {
			f.AvgResponseTimeSeconds, f.AvgResponseTimeMinutes = sigPtr(10.0), sigPtr(120.0)
		}),
			OutcomeNotSignificant, []string{}, wantStatus("5b", CriterionNotMet, "nis2.sig.response.fast")},
		{"TSP outage of exactly 20 min", sigWith(tsp, func(f *SignificanceFacts) {
			f.CompleteUnavailabilityMinutes, f.WeekOutages = sigPtr(20.0), []Outage{{"2025-03-12", sigPtr(20.0)}}
		}), OutcomeNotSignificant, []string{}, nil},
		{"TSP week of exactly 60 min", sigWith(tsp, func(f *SignificanceFacts) {
			f.WeekOutages = []Outage{{"2025-03-10", sigPtr(20.0)}, {"2025-03-12", sigPtr(20.0)}, {"2025-03-14", sigPtr(20.0)}}
		}), OutcomeNotSignificant, []string{}, nil},
		{"TSP 14(c) above T(1 %, 200 000)", sigWith(tsp, func(f *SignificanceFacts) {
			f.ServiceUsersEU, f.LimitedAvailabilityUsers = sigPtr(int64(10_000_000)), sigPtr(int64(100_001))
		}), OutcomeSignificant, []string{"14c"}, wantThreshold("T(1 %, 200 000)", 100_000)},
		{"TSP 14(e) at T(0.1 %, 100)", sigWith(tsp, func(f *SignificanceFacts) {
			f.ServiceUsersEU, f.CIACompromised, f.CIAAffectedUsers = sigPtr(int64(50_000)), sigPtr(true), sigPtr(int64(50))
		}), OutcomeNotSignificant, []string{}, wantThreshold("T(0.1 %, 100)", 50)},
		{"TSP 14(e) above T(0.1 %, 100)", sigWith(tsp, func(f *SignificanceFacts) {
			f.ServiceUsersEU, f.CIACompromised, f.CIAAffectedUsers = sigPtr(int64(50_000)), sigPtr(true), sigPtr(int64(51))
		}), OutcomeSignificant, []string{"14e"}, nil},
		{"TSP 14(e) capped at 100", sigWith(tsp, func(f *SignificanceFacts) {
			f.ServiceUsersEU, f.CIACompromised, f.CIAAffectedUsers = sigPtr(int64(10_000_000)), sigPtr(true), sigPtr(int64(101))
		}), OutcomeSignificant, []string{"14e"}, wantThreshold("T(0.1 %, 100)", 100)},
		{"TSP 14(d)", sigWith(tsp, func(f *SignificanceFacts) { f.PhysicalAccessCompromised = sigPtr(true) }), OutcomeSignificant, []string{"14d"}, nil},
		// Art. 14(b) by calendar week.
		{"TSP outages in two weeks", sigWith(tsp, func(f *SignificanceFacts) {
			f.IncidentDate, f.WeekOutages = "2025-03-16", week("2025-03-14", "2025-03-16", "2025-03-17")
		}),
			OutcomeNotSignificant, []string{}, func(t *testing.T, d SignificanceDecision) {
				if args := criterion(t, d, "14b").ReasonArgs; args["minutes"] != json.Number("50") || args["week"] != "2025-W11" {
					t.Errorf("14b args = %v", args)
				}
				if !slices.ContainsFunc(d.Notes, func(n SignificanceNote) bool { return n.Key == "nis2.sig.note.week_other" && n.Args["count"] == 1 }) {
					t.Errorf("notes = %v, want one outage left out", d.Notes)
				}
			}},
		{"TSP outages, no incident date", sigWith(tsp, func(f *SignificanceFacts) {
			f.IncidentDate, f.WeekOutages = "", week("2025-03-14", "2025-03-17", "2025-03-18", "2025-03-19")
		}),
			OutcomeSignificant, []string{"14b"}, func(t *testing.T, d SignificanceDecision) {
				if args := criterion(t, d, "14b").ReasonArgs; args["week"] != "2025-W12" || args["minutes"] != json.Number("75") {
					t.Errorf("14b args = %v, want the longest week", args)
				}
			}},
		{"TSP week unknown, one long outage", sigWith(tsp, func(f *SignificanceFacts) { f.WeekOutages, f.CompleteUnavailabilityMinutes = nil, sigPtr(61.0) }),
			OutcomeSignificant, []string{"14a", "14b"}, wantStatus("14b", CriterionMet, "nis2.sig.week.single")},
		{"TSP week unknown", sigWith(tsp, func(f *SignificanceFacts) { f.WeekOutages, f.CompleteUnavailabilityMinutes = nil, sigPtr(15.0) }),
			OutcomeUndetermined, []string{}, wantStatus("14b", CriterionNotEvaluated, "")},
		{"TSP week list shorter than this outage", sigWith(tsp, func(f *SignificanceFacts) {
			f.CompleteUnavailabilityMinutes, f.WeekOutages = sigPtr(45.0), []Outage{{"2025-03-12", sigPtr(20.0)}}
		}), OutcomeSignificant, []string{"14a"}, func(t *testing.T, d SignificanceDecision) {
			if args := criterion(t, d, "14b").ReasonArgs; args["minutes"] != json.Number("45") {
				t.Errorf("14b args = %v, want this outage's 45 minutes at least", args)
			}
		}},
		// Art. 5(c) exception.
		{"DNS misconfiguration, 999 names, exactly 1 %", sigWith(dns, func(f *SignificanceFacts) {
			f.CIACompromised, f.Misconfiguration, f.DomainNamesAffected, f.DomainNamesManaged = sigPtr(true), true, sigPtr(int64(999)), sigPtr(int64(99_900))
		}), OutcomeNotSignificant, []string{}, wantStatus("5c", CriterionNotMet, "nis2.sig.dns_data.exception")},
		{"DNS misconfiguration, 1000 names", sigWith(dns, func(f *SignificanceFacts) {
			f.CIACompromised, f.Misconfiguration, f.DomainNamesAffected, f.DomainNamesManaged = sigPtr(true), true, sigPtr(int64(1000)), sigPtr(int64(1_000_000))
		}), OutcomeSignificant, []string{"5c"}, nil},
		{"DNS misconfiguration, above 1 %", sigWith(dns, func(f *SignificanceFacts) {
			f.CIACompromised, f.Misconfiguration, f.DomainNamesAffected, f.DomainNamesManaged = sigPtr(true), true, sigPtr(int64(500)), sigPtr(int64(40_000))
		}), OutcomeSignificant, []string{"5c"}, nil},
		{"DNS misconfiguration, counts unknown", sigWith(dns, func(f *SignificanceFacts) {
			f.CIACompromised, f.Misconfiguration, f.DomainNamesAffected, f.DomainNamesManaged = sigPtr(true), true, nil, nil
		}), OutcomeUndetermined, []string{}, func(t *testing.T, d SignificanceDecision) {
			if c := criterion(t, d, "5c"); !slices.Equal(c.Missing, []string{"domain_names_affected", "domain_names_managed"}) {
				t.Errorf("5c missing = %v", c.Missing)
			}
		}},
		{"DNS counts unknown, no misconfiguration claimed", sigWith(dns, func(f *SignificanceFacts) {
			f.CIACompromised, f.DomainNamesAffected, f.DomainNamesManaged = sigPtr(true), nil, nil
		}), OutcomeSignificant, []string{"5c"}, nil},
		// Art. 3(1)(e).
		{"malicious access, severe", sigWith(cloud, func(f *SignificanceFacts) {
			f.SuccessfulMaliciousUnauthorisedAccess, f.CapableSevereDisruption = sigPtr(true), sigPtr(true)
		}), OutcomeSignificant, []string{"3e"}, nil},
		{"malicious access, not severe", sigWith(cloud, func(f *SignificanceFacts) { f.SuccessfulMaliciousUnauthorisedAccess = sigPtr(true) }),
			OutcomeNotSignificant, []string{}, wantStatus("3e", CriterionNotMet, "nis2.sig.access.not_severe")},
		{"malicious access, severity unknown", sigWith(cloud, func(f *SignificanceFacts) {
			f.SuccessfulMaliciousUnauthorisedAccess, f.CapableSevereDisruption = sigPtr(true), nil
		}), OutcomeUndetermined, []string{}, nil},
		{"several criteria", sigWith("digital_infra.data_centre", func(f *SignificanceFacts) {
			f.Death, f.CompleteUnavailabilityMinutes, f.CIACompromised, f.SuspectedMalicious = sigPtr(true), sigPtr(5.0), sigPtr(true), sigPtr(true)
		}), OutcomeSignificant, []string{"3c", "8a", "8c"}, nil},
		{"CIA compromised, not malicious", sigWith("digital_provider.search_engine", func(f *SignificanceFacts) { f.CIACompromised = sigPtr(true) }),
			OutcomeNotSignificant, []string{}, wantStatus("12c", CriterionNotMet, "nis2.sig.cia_malicious.not_malicious")},
		// Art. 4.
		{"Art. 4: exactly 6 months", recurringFacts("2025-07-10", 300_000, related("2025-01-10", "rc-patch", sigPtr(300_000.0))),
			OutcomeSignificant, []string{"3f"}, nil},
		{"Art. 4: 6 months and a day", recurringFacts("2025-07-11", 300_000, related("2025-01-10", "rc-patch", sigPtr(300_000.0))),
			OutcomeNotSignificant, []string{}, wantStatus("3f", CriterionNotMet, "nis2.sig.recurring.alone")},
		{"Art. 4: month end clamped", recurringFacts("2025-02-28", 300_000, related("2024-08-31", "rc-patch", sigPtr(300_000.0))),
			OutcomeSignificant, []string{"3f"}, nil},
		{"Art. 4: past the clamped month end", recurringFacts("2025-03-01", 300_000, related("2024-08-31", "rc-patch", sigPtr(300_000.0))),
			OutcomeNotSignificant, []string{}, nil},
		{"Art. 4: other root cause", recurringFacts("2025-05-05", 350_000, related("2025-01-10", "rc-other", sigPtr(200_000.0))),
			OutcomeNotSignificant, []string{}, wantStatus("3f", CriterionNotMet, "nis2.sig.recurring.alone")},
		{"Art. 4: combined loss at the threshold", recurringFacts("2025-05-05", 300_000, related("2025-01-10", "rc-patch", sigPtr(200_000.0))),
			OutcomeNotSignificant, []string{}, wantStatus("3f", CriterionNotMet, "nis2.sig.recurring.below")},
		{"Art. 4: a later incident", recurringFacts("2025-01-10", 200_000, related("2025-05-05", "rc-patch", sigPtr(350_000.0))),
			OutcomeSignificant, []string{"3f"}, nil},
		{"Art. 4: only windows holding this incident", recurringFacts("2025-06-01", 100_000,
			related("2024-11-15", "rc-patch", sigPtr(300_000.0)), related("2025-03-01", "rc-patch", sigPtr(150_000.0))),
			OutcomeNotSignificant, []string{}, func(t *testing.T, d SignificanceDecision) {
				if args := criterion(t, d, "3f").ReasonArgs; args["loss"] != json.Number("250000") || args["count"] != 2 {
					t.Errorf("3f args = %v", args)
				}
			}},
		{"Art. 4: significant incidents left out", recurringFacts("2025-05-05", 350_000,
			RelatedIncident{Date: "2025-01-10", RootCause: "rc-patch", DirectFinancialLossEUR: sigPtr(900_000.0), Significant: true}),
			OutcomeNotSignificant, []string{}, func(t *testing.T, d SignificanceDecision) {
				if !slices.ContainsFunc(d.Notes, func(n SignificanceNote) bool { return n.Key == "nis2.sig.note.recurring_skipped" }) {
					t.Errorf("notes = %v", d.Notes)
				}
			}},
		{"Art. 4: related loss unknown, known part enough", recurringFacts("2025-05-05", 350_000,
			related("2025-01-10", "rc-patch", nil), related("2025-02-10", "rc-patch", sigPtr(200_000.0))), OutcomeSignificant, []string{"3f"}, nil},
		{"Art. 4: related loss unknown", recurringFacts("2025-05-05", 350_000, related("2025-01-10", "rc-patch", nil)),
			OutcomeUndetermined, []string{}, func(t *testing.T, d SignificanceDecision) {
				if c := criterion(t, d, "3f"); !slices.Equal(c.Missing, []string{"related_incidents[].direct_financial_loss_eur"}) {
					t.Errorf("3f missing = %v", c.Missing)
				}
			}},
		{"Art. 4: related incidents unknown", sigWith(cloud, func(f *SignificanceFacts) { f.RelatedIncidents = nil }),
			OutcomeUndetermined, []string{}, wantStatus("3f", CriterionNotEvaluated, "")},
		{"Art. 4: no date or root cause", sigWith(cloud, func(f *SignificanceFacts) {
			f.IncidentDate, f.RootCause, f.RelatedIncidents = "", "", []RelatedIncident{related("2025-01-10", "rc-patch", sigPtr(1.0))}
		}), OutcomeUndetermined, []string{}, func(t *testing.T, d SignificanceDecision) {
			if c := criterion(t, d, "3f"); !slices.Equal(c.Missing, []string{"incident_date", "root_cause"}) {
				t.Errorf("3f missing = %v", c.Missing)
			}
		}},
		// Other entity types: the directive's qualitative test only.
		{"Art. 23(3): disruption", sigWith(energy, func(f *SignificanceFacts) { f.SevereOperationalDisruption = sigPtr(true) }),
			OutcomeSignificant, []string{"23.3a.disruption"}, func(t *testing.T, d SignificanceDecision) {
				if d.Regime != RegimeQualitative || len(d.Criteria) != 3 || d.Notes[0].Key != "nis2.sig.note.qualitative" {
					t.Errorf("regime %s, %d criteria, notes %v", d.Regime, len(d.Criteria), d.Notes)
				}
				if len(d.Thresholds) != 0 {
					t.Errorf("thresholds = %v, want none", d.Thresholds)
				}
			}},
		{"Art. 23(3): damage to others", sigWith("health.provider", func(f *SignificanceFacts) { f.ConsiderableDamageToOthers = sigPtr(true) }),
			OutcomeSignificant, []string{"23.3b"}, nil},
		{"Art. 23(3): unknown", SignificanceFacts{EntityType: energy, SevereFinancialLoss: sigPtr(false)}, OutcomeUndetermined, []string{}, nil},
		{"Art. 23(3): regulation facts not used", sigWith(energy, func(f *SignificanceFacts) {
			f.CompleteUnavailabilityMinutes, f.Death, f.ScheduledMaintenance = sigPtr(600.0), sigPtr(true), true
		}), OutcomeNotSignificant, []string{}, func(t *testing.T, d SignificanceDecision) {
			n := d.Notes[len(d.Notes)-1]
			if n.Key != "nis2.sig.note.unused" || n.Args["facts"] != "scheduled_maintenance, death, complete_unavailability_minutes" {
				t.Errorf("last note = %v", n)
			}
		}},
		{"relevant entity: Art. 23(3) facts not used", sigWith(cloud, func(f *SignificanceFacts) { f.SevereOperationalDisruption = sigPtr(true) }),
			OutcomeNotSignificant, []string{}, nil},
		{"registrar", SignificanceFacts{EntityType: Registrar, SevereOperationalDisruption: sigPtr(true)}, OutcomeSignificant, []string{"23.3a.disruption"},
			func(t *testing.T, d SignificanceDecision) {
				if !slices.ContainsFunc(d.Notes, func(n SignificanceNote) bool { return n.Key == "nis2.sig.note.registrar" }) {
					t.Errorf("notes = %v", d.Notes)
				}
			}},
	}
	runSigCases(t, cases)
}

func TestAssessSignificanceValidates(t *testing.T) {
	t.Parallel()
	for _, code := range []string{"", "cloud", "digital_infra"} {
		_, err := AssessSignificance(SignificanceFacts{EntityType: code})
		want := "err.nis2.unknown_type"
		if code == "" {
			want = "err.nis2sig.type_required"
		}
		if got := fieldCodes(t, err); got["entity_type"] != want {
			t.Errorf("AssessSignificance(%q) = %v, want entity_type %s", code, got, want)
		}
	}
}

func TestParseSignificanceFacts(t *testing.T) {
	t.Parallel()
	in := `{
	  "entity_type": "digital_infra.cloud", "scheduled_maintenance": false,
	  "turnover_prev_fy_eur": 100000000, "direct_financial_loss_eur": 350000,
	  "trade_secret_exfiltration": false, "death": false, "considerable_health_damage": null,
	  "successful_malicious_unauthorised_access": true, "capable_severe_disruption": false,
	  "incident_date": "2025-05-05", "root_cause": "rc-vpn",
	  "related_incidents": [{"date": "2025-01-10", "root_cause": "rc-vpn", "direct_financial_loss_eur": 200000, "reference": "CCB-2025-0042"}],
	  "service_users_eu": 10000000, "complete_unavailability_minutes": 12.5, "limited_availability_minutes": 90,
	  "limited_availability_users": 400000, "cia_compromised": false, "suspected_malicious": true, "cia_affected_users": 0,
	  "week_outages": null
	}`
	f, err := ParseSignificanceFacts(strings.NewReader(in))
	if err != nil {
		t.Fatalf("ParseSignificanceFacts = %v", err)
	}
	if f.EntityType != cloud || *f.ServiceUsersEU != 10_000_000 || *f.CompleteUnavailabilityMinutes != 12.5 || f.ConsiderableHealthDamage != nil ||
		len(f.RelatedIncidents) != 1 || f.RelatedIncidents[0].Reference != "CCB-2025-0042" || *f.RelatedIncidents[0].DirectFinancialLossEUR != 200_000 ||
		f.WeekOutages != nil || f.RelatedIncidents == nil {
		t.Errorf("ParseSignificanceFacts = %+v", f)
	}
	// The facts survive a round trip, "[]" (none) included.
	f.WeekOutages = []Outage{}
	b, _ := json.Marshal(f)
	g, err := ParseSignificanceFacts(strings.NewReader(string(b)))
	if err != nil || !reflect.DeepEqual(f, g) {
		t.Errorf("round trip of %s = %+v, %v", b, g, err)
	}
}

func TestParseSignificanceFactsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     map[string]string
	}{
		{"empty", " ", map[string]string{"": "err.nis2.empty"}},
		{"array", `[]`, map[string]string{"": "err.nis2sig.not_object"}},
		{"null", `null`, map[string]string{"": "err.nis2sig.not_object"}},
		{"malformed", `{"entity_type": "digital_infra.cloud",}`, map[string]string{"": "err.nis2.malformed"}},
		{"truncated", `{"entity_type": "digital_infra.cloud"`, map[string]string{"": "err.nis2.truncated"}},
		{"trailing data", `{"entity_type": "digital_infra.cloud"} {}`, map[string]string{"": "err.nis2.malformed"}},
		{"unknown fields, with their path", `{"entity_type": "digital_infra.cloud", "users": 1, "Death": true,
			"related_incidents": [{"date": "2025-01-10", "root_cause": "x", "loss": 1}], "week_outages": [{"date": "2025-01-10", "minutes": 3, "note": ""}]}`,
			map[string]string{"users": "err.nis2.unknown_field", "Death": "err.nis2.unknown_field", "related_incidents[0].loss": "err.nis2.unknown_field",
				"week_outages[0].note": "err.nis2.unknown_field"}},
		{"wrong types", `{"entity_type": 7, "death": "yes", "service_users_eu": 1.5, "direct_financial_loss_eur": "10",
			"related_incidents": [{"date": "2025-01-10", "root_cause": "x"}, {"date": "2025-01-11", "root_cause": "x", "direct_financial_loss_eur": "1"}]}`,
			map[string]string{"entity_type": "err.nis2sig.want_text", "death": "err.nis2.want_bool", "service_users_eu": "err.nis2sig.want_whole",
				"direct_financial_loss_eur": "err.nis2.want_number", "related_incidents[1].direct_financial_loss_eur": "err.nis2.want_number"}},
		{"lists", `{"entity_type": "digital_infra.trust_service", "related_incidents": {}, "week_outages": [3]}`,
			map[string]string{"related_incidents": "err.nis2sig.want_list", "week_outages[0]": "err.nis2sig.want_object"}},
		{"type required", `{"death": true}`, map[string]string{"entity_type": "err.nis2sig.type_required"}},
		{"unknown type", `{"entity_type": "cloud"}`, map[string]string{"entity_type": "err.nis2.unknown_type"}},
		{"negative numbers", `{"entity_type": "digital_infra.cloud", "turnover_prev_fy_eur": -1, "complete_unavailability_minutes": -0.5,
			"service_users_eu": -3, "cia_affected_users": -1, "related_incidents": [{"date": "2025-01-10", "root_cause": "x", "direct_financial_loss_eur": -2}]}`,
			map[string]string{"turnover_prev_fy_eur": "err.nis2.negative", "complete_unavailability_minutes": "err.nis2.negative",
				"service_users_eu": "err.nis2.negative", "cia_affected_users": "err.nis2.negative", "related_incidents[0].direct_financial_loss_eur": "err.nis2.negative"}},
		{"dates", `{"entity_type": "digital_infra.trust_service", "incident_date": "10/01/2025",
			"related_incidents": [{"date": "2025-13-01", "root_cause": "x"}, {"root_cause": " "}],
			"week_outages": [{"date": "2025-02-30", "minutes": 1}, {"date": "2025-02-28"}]}`,
			map[string]string{"incident_date": "err.nis2sig.date", "related_incidents[0].date": "err.nis2sig.date",
				"related_incidents[1].date": "err.nis2sig.date_required", "related_incidents[1].root_cause": "err.nis2sig.root_cause_required",
				"week_outages[0].date": "err.nis2sig.date", "week_outages[1].minutes": "err.nis2sig.minutes_required"}},
		{"counts above their totals", `{"entity_type": "digital_infra.dns", "service_users_eu": 100, "limited_availability_users": 101,
			"complete_unavailability_users": 100, "domain_names_affected": 11, "domain_names_managed": 10}`,
			map[string]string{"limited_availability_users": "err.nis2sig.above_total", "domain_names_affected": "err.nis2sig.above_managed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseSignificanceFacts(strings.NewReader(tt.in))
			if got := fieldCodes(t, err); !maps.Equal(got, tt.want) {
				t.Errorf("ParseSignificanceFacts = %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestParseSignificanceFactsTooLarge(t *testing.T) {
	t.Parallel()
	big := `{"entity_type": "digital_infra.cloud", "root_cause": "` + strings.Repeat("x", maxFactsBytes) + `"}`
	_, err := ParseSignificanceFacts(strings.NewReader(big))
	if e, ok := errs.As(err); !ok || e.Kind != errs.TooLarge || e.Code != "err.nis2.too_large" {
		t.Errorf("ParseSignificanceFacts(big) = %v", err)
	}
}

// TestSignificanceMessages checks that every message key the code names is
// in the catalogs with its placeholders, and that the catalog has no
// nis2sig key the code does not use.
func TestSignificanceMessages(t *testing.T) {
	t.Parallel()
	var src []byte
	for _, name := range []string{"significance.go", "significance_facts.go"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		src = append(src, b...)
	}
	cat := i18n.MustLoad()
	used := map[string]bool{}
	for _, m := range regexp.MustCompile(`"((?:nis2\.sig|err\.nis2sig|err\.nis2)\.[a-z0-9_.]+)"`).FindAllStringSubmatch(string(src), -1) {
		used[m[1]] = true
		if !cat.Has(m[1]) {
			t.Errorf("%s is not in the catalogs", m[1])
		}
	}
	for _, k := range cat.Keys() {
		if (strings.HasPrefix(k, "nis2.sig.") || strings.HasPrefix(k, "err.nis2sig.")) && !used[k] {
			t.Errorf("%s is in the catalogs but not used", k)
		}
	}
	// Every argument a decision carries fills a placeholder of its message.
	var facts []SignificanceFacts
	for _, code := range relevantTypes {
		facts = append(facts, quiet(code), SignificanceFacts{EntityType: code})
	}
	facts = append(facts, sigWith(dns, func(f *SignificanceFacts) {
		f.CIACompromised, f.Misconfiguration, f.DomainNamesAffected = sigPtr(true), true, sigPtr(int64(10))
	}), sigWith(tsp, func(f *SignificanceFacts) { f.WeekOutages = []Outage{{"2025-01-01", sigPtr(3.0)}} }))
	for _, f := range facts {
		d := assess(t, f)
		for _, c := range d.Criteria {
			for _, l := range i18n.Locales {
				if s := cat.T(l, c.ReasonKey, c.ReasonArgs); strings.Contains(s, "{") {
					t.Errorf("%s %s in %s: %q", f.EntityType, c.Code, l, s)
				}
			}
		}
		for _, n := range d.Notes {
			if s := cat.T("en", n.Key, n.Args); strings.Contains(s, "{") {
				t.Errorf("%s note: %q", f.EntityType, s)
			}
		}
	}
}

func TestSignificanceDecisionJSON(t *testing.T) {
	t.Parallel()
	d := assess(t, sigWith(cloud, func(f *SignificanceFacts) {
		f.ServiceUsersEU, f.LimitedAvailabilityUsers, f.LimitedAvailabilityMinutes = sigPtr(int64(50_000_000)), sigPtr(int64(1_200_000)), sigPtr(61.0)
	}))
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"significant":true`, `"outcome":"significant"`, `"decided_by":["7b"]`, `"code":"7b"`,
		`"id":"2024/2690 Art. 7(b)"`, `"reference":"Commission Implementing Regulation (EU) 2024/2690, Art. 7(b)"`,
		`"reason_args":{"minutes":61,"threshold":1000000,"users":1200000}`, `"name":"T(5 %, 1 000 000)"`, `"value":1000000`, `"criteria":["7b","7d"]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("decision JSON lacks %s:\n%s", want, b)
		}
	}
}

// TestSignificanceDocSchemas checks the JSON Schemas of
// docs/nis2-significance.md against the types.
func TestSignificanceDocSchemas(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "nis2-significance.md"))
	if err != nil {
		t.Fatal(err)
	}
	var schemas []map[string]any
	for _, block := range strings.Split(string(doc), "```json\n")[1:] {
		body, _, _ := strings.Cut(block, "```")
		var s map[string]any
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			t.Fatalf("JSON block: %v\n%s", err, body)
		}
		if _, ok := s["$schema"]; ok {
			schemas = append(schemas, s)
		}
	}
	if len(schemas) != 2 {
		t.Fatalf("%d schemas in the doc, want the facts and the decision", len(schemas))
	}
	props := func(s any) []string {
		return slices.Sorted(maps.Keys(s.(map[string]any)["properties"].(map[string]any)))
	}
	names := func(v any) []string {
		var out []string
		rt := reflect.TypeOf(v)
		for i := range rt.NumField() {
			n, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			out = append(out, n)
		}
		slices.Sort(out)
		return out
	}
	defs := func(s map[string]any, name string) any { return s["$defs"].(map[string]any)[name] }
	for _, c := range []struct {
		got  []string
		want any
	}{
		{props(schemas[0]), SignificanceFacts{}}, {props(defs(schemas[0], "related_incident")), RelatedIncident{}},
		{props(defs(schemas[0], "outage")), Outage{}}, {props(schemas[1]), SignificanceDecision{}},
		{props(defs(schemas[1], "criterion")), Criterion{}}, {props(defs(schemas[1], "threshold")), Threshold{}},
		{props(defs(schemas[1], "note")), SignificanceNote{}},
	} {
		if want := names(c.want); !slices.Equal(c.got, want) {
			t.Errorf("schema members = %v\nwant %v (%T)", c.got, want, c.want)
		}
	}
	var types []string
	for _, v := range defs(schemas[0], "entity_type").(map[string]any)["enum"].([]any) {
		types = append(types, v.(string))
	}
	var codes, want []string
	for _, ty := range Types() {
		want = append(want, ty.Code)
		for _, c := range sigCriteria(ty.Code) {
			codes = append(codes, c.code)
		}
	}
	if !slices.Equal(types, want) {
		t.Errorf("facts schema types = %v\nwant %v", types, want)
	}
	slices.Sort(codes)
	codes = slices.Compact(codes)
	var enum []string
	for _, v := range defs(schemas[1], "code").(map[string]any)["enum"].([]any) {
		enum = append(enum, v.(string))
	}
	if slices.Sort(enum); !slices.Equal(enum, codes) {
		t.Errorf("decision schema codes = %v\nwant %v", enum, codes)
	}
}
