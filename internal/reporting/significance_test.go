package reporting

import (
	"net/url"
	"slices"
	"testing"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/nis2"
)

// TestSigAsk: the guidance asks the facts of the criteria that apply to
// the entity type (Implementing Regulation (EU) 2024/2690 Art. 3 to 14, or
// the qualitative test of Art. 23(3) NIS2), and those that go with them.
func TestSigAsk(t *testing.T) {
	names := func(a SigAsked) []string {
		var out []string
		for _, q := range a.Questions {
			out = append(out, q.Name)
		}
		return out
	}
	for _, tc := range []struct {
		typ           string
		facts         nis2.SignificanceFacts
		want, notWant []string
		related, week bool
	}{
		{typ: "digital_infra.cloud", want: []string{"scheduled_maintenance", "direct_financial_loss_eur", "turnover_prev_fy_eur", "death",
			"complete_unavailability_minutes", "limited_availability_users", "service_users_eu", "cia_compromised", "suspected_malicious",
			"cia_affected_users", "incident_date", "root_cause"}, notWant: []string{"severe_operational_disruption", "avg_response_time_seconds",
			"physical_access_compromised", "misconfiguration"}, related: true},
		{typ: "digital_infra.dns", want: []string{"avg_response_time_seconds", "avg_response_time_minutes", "cia_compromised",
			"misconfiguration", "domain_names_affected", "domain_names_managed"}, notWant: []string{"cia_affected_users"}, related: true},
		{typ: "digital_infra.trust_service", want: []string{"physical_access_compromised", "limited_availability_users"}, related: true, week: true},
		{typ: "digital_infra.data_centre", want: []string{"physical_access_compromised", "limited_availability_minutes"},
			notWant: []string{"service_users_eu", "limited_availability_users"}, related: true},
		// Outside 2024/2690: only the directive's qualitative test.
		{typ: "energy.electricity.dso", want: []string{"severe_operational_disruption", "severe_financial_loss", "considerable_damage_to_others"},
			notWant: []string{"scheduled_maintenance", "direct_financial_loss_eur", "incident_date"}},
	} {
		a := sigAsk(tc.typ, tc.facts)
		got := names(a)
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("%s: %s not asked (asked %v)", tc.typ, w, got)
			}
		}
		for _, w := range tc.notWant {
			if slices.Contains(got, w) {
				t.Errorf("%s: %s asked, but plays no part", tc.typ, w)
			}
		}
		if a.Related != tc.related || a.Week != tc.week {
			t.Errorf("%s: related %v week %v, want %v %v", tc.typ, a.Related, a.Week, tc.related, tc.week)
		}
	}
}

// TestSigFacts reads the form's answers as facts: numbers the locale's
// way, "don't know" as unknown, other incidents as a list, and every
// problem named by the input at fault.
func TestSigFacts(t *testing.T) {
	form := url.Values{"entity_type": {"digital_infra.cloud"}, "direct_financial_loss_eur": {"12.500,75"}, "turnover_prev_fy_eur": {"3.000.000"},
		"death": {"no"}, "trade_secret_exfiltration": {"unknown"}, "complete_unavailability_minutes": {"45,5"}, "service_users_eu": {"1.200.000"},
		"scheduled_maintenance": {""}, "incident_date": {"2026-11-03"}, "root_cause": {"system-failures"}, "related": {"some"},
		"related_incidents-0-date": {"2026-09-01"}, "related_incidents-0-loss": {"1.000"}, "related_incidents-2-date": {"2026-10-01"},
		"related_incidents-2-significant": {"yes"}}
	f, err := SigFacts(form, "nl")
	if err != nil {
		t.Fatal(err)
	}
	if f.DirectFinancialLossEUR == nil || *f.DirectFinancialLossEUR != 12500.75 || f.TurnoverPrevFYEUR == nil || *f.TurnoverPrevFYEUR != 3e6 {
		t.Errorf("amounts %v %v", f.DirectFinancialLossEUR, f.TurnoverPrevFYEUR)
	}
	if f.Death == nil || *f.Death || f.TradeSecretExfiltration != nil {
		t.Errorf("death %v, trade secrets %v: want false and unknown", f.Death, f.TradeSecretExfiltration)
	}
	if f.CompleteUnavailabilityMinutes == nil || *f.CompleteUnavailabilityMinutes != 45.5 || f.ServiceUsersEU == nil || *f.ServiceUsersEU != 1200000 {
		t.Errorf("minutes %v users %v", f.CompleteUnavailabilityMinutes, f.ServiceUsersEU)
	}
	if len(f.RelatedIncidents) != 2 || f.RelatedIncidents[0].RootCause != "system-failures" || *f.RelatedIncidents[0].DirectFinancialLossEUR != 1000 ||
		f.RelatedIncidents[0].Significant || !f.RelatedIncidents[1].Significant || f.RelatedIncidents[1].DirectFinancialLossEUR != nil {
		t.Errorf("related incidents %+v", f.RelatedIncidents)
	}
	// No other incident is an empty list; "don't know" leaves it unknown.
	form.Set("related", "none")
	if f, err := SigFacts(form, "nl"); err != nil || f.RelatedIncidents == nil || len(f.RelatedIncidents) != 0 {
		t.Errorf("none: %v %v, want an empty list", f.RelatedIncidents, err)
	}
	form.Set("related", "unknown")
	if f, err := SigFacts(form, "nl"); err != nil || f.RelatedIncidents != nil {
		t.Errorf("unknown: %v %v, want nil", f.RelatedIncidents, err)
	}

	for _, tc := range []struct {
		name  string
		set   url.Values
		field string
	}{
		{"bad amount", url.Values{"direct_financial_loss_eur": {"veel"}}, "direct_financial_loss_eur"},
		{"bad minutes", url.Values{"complete_unavailability_minutes": {"1h"}}, "complete_unavailability_minutes"},
		{"bad count", url.Values{"service_users_eu": {"12,5"}}, "service_users_eu"},
		{"bad date", url.Values{"incident_date": {"3/11/2026"}}, "incident_date"},
		{"bad row date", url.Values{"related": {"some"}, "related_incidents-0-date": {"gisteren"}}, "related_incidents-0-date"},
		{"rows missing", url.Values{"related": {"some"}}, "related"},
		{"unknown type", url.Values{"entity_type": {"bakery"}}, "entity_type"},
		{"users above total", url.Values{"service_users_eu": {"100"}, "cia_affected_users": {"1000"}}, "cia_affected_users"},
	} {
		f := url.Values{"entity_type": {"digital_infra.cloud"}}
		for k, v := range tc.set {
			f[k] = v
		}
		_, err := SigFacts(f, "nl")
		e, ok := errs.As(err)
		if !ok || e.Kind != errs.Invalid {
			t.Errorf("%s: error %v, want invalid", tc.name, err)
			continue
		}
		var fields []string
		for _, fe := range e.Fields {
			fields = append(fields, fe.Field)
		}
		if !slices.Contains(fields, tc.field) {
			t.Errorf("%s: fields %v, want %s", tc.name, fields, tc.field)
		}
	}
}

// TestSigRewrite writes the figures of a form again in another language,
// row by row, skipping the rows left empty as the reading did.
func TestSigRewrite(t *testing.T) {
	form := url.Values{"entity_type": {"digital_infra.cloud"}, "direct_financial_loss_eur": {"12.500,75"}, "related": {"some"},
		"root_cause": {"system-failures"}, "incident_date": {"2026-11-03"},
		"related_incidents-0-date": {"2026-09-01"}, "related_incidents-0-loss": {"1.000"},
		"related_incidents-2-date": {"2026-10-01"}, "related_incidents-2-loss": {"2.500,5"}}
	f, err := SigFacts(form, "nl")
	if err != nil {
		t.Fatal(err)
	}
	out := sigRewrite(form, f, "en")
	for k, want := range map[string]string{"direct_financial_loss_eur": "12,500.75", "related_incidents-0-loss": "1,000",
		"related_incidents-2-loss": "2,500.5", "related_incidents-1-loss": "", "related_incidents-2-date": "2026-10-01"} {
		if got := out.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if form.Get("direct_financial_loss_eur") != "12.500,75" {
		t.Error("sigRewrite changed the form it was given")
	}
}
