package nis2

import (
	"maps"
	"strings"
	"testing"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
)

// fieldCodes returns field → code of an errs.Invalid error, and checks that
// every code is a message of the catalogs.
func fieldCodes(t *testing.T, err error) map[string]string {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.Invalid {
		t.Fatalf("error = %v, want an errs.Invalid error", err)
	}
	cat := i18n.MustLoad()
	got := map[string]string{}
	for _, f := range e.Fields {
		got[f.Field] = f.Code
		if !cat.Has(f.Code) {
			t.Errorf("code %s of %s is not in the catalogs", f.Code, f.Field)
		}
	}
	if len(e.Fields) == 0 {
		got[""] = e.Code
		if !cat.Has(e.Code) {
			t.Errorf("code %s is not in the catalogs", e.Code)
		}
	}
	return got
}

const validFacts = `{
  "entity_types": ["energy.electricity.producer"],
  "staff": 30, "annual_turnover_eur": 5000000, "balance_sheet_eur": 4000000,
  "group": {"staff": 800, "annual_turnover_eur": 400000000, "balance_sheet_eur": 300000000, "independent_systems": true},
  "establishment": "BE", "main_establishment": "BE", "eu_representative": "", "service_countries": ["BE"],
  "qualified_trust_service": false, "dns_root_server_only": false, "public_administration_function": "",
  "pa_risk_assessed": false, "cer_critical_entity": false, "identification": "", "identification_ground": "", "dora_exempt": false
}`

func TestParseFacts(t *testing.T) {
	t.Parallel()
	f, err := ParseFacts(strings.NewReader(validFacts))
	if err != nil {
		t.Fatalf("ParseFacts(valid) = %v", err)
	}
	if f.Staff == nil || *f.Staff != 30 || f.Group == nil || *f.Group.BalanceSheetEUR != 300e6 || !f.Group.IndependentSystems || f.EntityTypes[0] != "energy.electricity.producer" {
		t.Errorf("ParseFacts(valid) = %+v", f)
	}
}

func TestParseFactsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     map[string]string
	}{
		{"empty", "  \n", map[string]string{"": "err.nis2.empty"}},
		{"array", `[1]`, map[string]string{"": "err.nis2.not_object"}},
		{"malformed", `{"staff": 1,}`, map[string]string{"": "err.nis2.malformed"}},
		{"truncated", `{"entity_types": ["food.business"`, map[string]string{"": "err.nis2.truncated"}},
		{"unknown fields and invalid facts together", `{"entity_types": ["food.business"], "staf": 1, "group": {"staff": 1, "turnover": 2},
			"annual_turnover_eur": 1, "balance_sheet_eur": -1}`,
			map[string]string{"staf": "err.nis2.unknown_field", "group.turnover": "err.nis2.unknown_field", "staff": "err.nis2.staff_required",
				"balance_sheet_eur": "err.nis2.negative", "group.annual_turnover_eur": "err.nis2.group.turnover_required",
				"group.balance_sheet_eur": "err.nis2.group.balance_required"}},
		{"unknown field and wrong type", `{"entity_types": ["food.business"], "staf": 1, "staff": "1"}`, map[string]string{
			"staf": "err.nis2.unknown_field", "staff": "err.nis2.want_number"}},
		{"number as text", `{"entity_types": ["food.business"], "staff": "300"}`, map[string]string{"staff": "err.nis2.want_number"}},
		{"group figure as text", `{"entity_types": ["food.business"], "group": {"balance_sheet_eur": "1"}}`, map[string]string{"group.balance_sheet_eur": "err.nis2.want_number"}},
		{"type as string", `{"entity_types": "food.business"}`, map[string]string{"entity_types": "err.nis2.want_list"}},
		{"group as list", `{"entity_types": ["food.business"], "group": []}`, map[string]string{"group": "err.nis2.want_object"}},
		{"bool as text", `{"entity_types": ["food.business"], "dora_exempt": "yes"}`, map[string]string{"dora_exempt": "err.nis2.want_bool"}},
		{"missing figures", `{"entity_types": ["food.business"], "staff": null}`, map[string]string{
			"staff": "err.nis2.staff_required", "annual_turnover_eur": "err.nis2.turnover_required", "balance_sheet_eur": "err.nis2.balance_required"}},
		{"trailing value", `{"entity_types": []} {}`, map[string]string{"": "err.nis2.malformed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseFacts(strings.NewReader(tt.in))
			if got := fieldCodes(t, err); !maps.Equal(got, tt.want) {
				t.Errorf("ParseFacts(%s) fields = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseFactsTooLarge(t *testing.T) {
	t.Parallel()
	_, err := ParseFacts(strings.NewReader(`{"entity_types": ["` + strings.Repeat("x", maxFactsBytes) + `"]}`))
	if !errs.Is(err, errs.TooLarge) {
		t.Errorf("ParseFacts(huge) = %v, want TooLarge", err)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	ok := fx(10, 1, 1, "food.business", "digital_infra.trust_service")
	tests := []struct {
		name string
		f    Facts
		want map[string]string
	}{
		{"valid", ok, map[string]string{}},
		{"no types", fx(1, 1, 1), map[string]string{"entity_types": "err.nis2.types_required"}},
		{"unknown and duplicate types", fx(1, 1, 1, "food.business", "food", "food.business"), map[string]string{
			"entity_types[1]": "err.nis2.unknown_type", "entity_types[2]": "err.nis2.duplicate_type"}},
		{"negative figures", fx(-1, 0, -0.01, "food.business"), map[string]string{"staff": "err.nis2.negative", "balance_sheet_eur": "err.nis2.negative"}},
		{"missing figures", Facts{EntityTypes: []string{"food.business"}, Figures: Figures{Staff: new(0.0)}}, map[string]string{
			"annual_turnover_eur": "err.nis2.turnover_required", "balance_sheet_eur": "err.nis2.balance_required"}},
		{"group incomplete and negative", with(ok, func(f *Facts) { f.Group = &Group{Figures: Figures{Staff: new(-5.0), TurnoverEUR: new(1e6)}} }), map[string]string{
			"group.staff": "err.nis2.negative", "group.balance_sheet_eur": "err.nis2.group.balance_required"}},
		{"group below own", with(fx(100, 1e6, 1e6, "food.business"), func(f *Facts) {
			f.Group = &Group{Figures: Figures{Staff: new(99.0), TurnoverEUR: new(1e6), BalanceSheetEUR: new(2e6)}}
		}), map[string]string{"group.staff": "err.nis2.group_below_own"}},
		{"countries", with(ok, func(f *Facts) {
			f.Establishment, f.MainEstablishment, f.EURepresentative, f.ServiceCountries = "be", "BEL", "B1", []string{"FR", "fr"}
		}), map[string]string{"establishment": "err.nis2.country", "main_establishment": "err.nis2.country", "eu_representative": "err.nis2.country",
			"service_countries[1]": "err.nis2.country"}},
		{"choices", with(ok, func(f *Facts) { f.PAFunction, f.Identification = "army", "critical" }), map[string]string{
			"public_administration_function": "err.nis2.pa_function", "identification": "err.nis2.identification"}},
		{"identification without ground", with(ok, func(f *Facts) { f.Identification = IdentifiedImportant }), map[string]string{
			"identification_ground": "err.nis2.ground_required"}},
		{"ground without identification", with(ok, func(f *Facts) { f.IdentificationGround = SoleProvider }), map[string]string{
			"identification_ground": "err.nis2.ground_without_identification"}},
		{"unknown ground", with(ok, func(f *Facts) { f.Identification, f.IdentificationGround = IdentifiedEssential, "whim" }), map[string]string{
			"identification_ground": "err.nis2.ground"}},
		{"NIS1 OES as important", with(ok, func(f *Facts) { f.Identification, f.IdentificationGround = IdentifiedImportant, NIS1OES }), map[string]string{
			"identification_ground": "err.nis2.nis1_oes_essential"}},
		{"attributes without their type", with(fx(1, 1, 1, "food.business"), func(f *Facts) {
			f.QualifiedTrustService, f.DNSRootServerOnly, f.PARiskAssessed = true, true, true
		}), map[string]string{"qualified_trust_service": "err.nis2.needs_type", "dns_root_server_only": "err.nis2.needs_type", "pa_risk_assessed": "err.nis2.needs_type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.f.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if got := fieldCodes(t, err); !maps.Equal(got, tt.want) {
				t.Errorf("Validate() fields = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNeedsTypeArgs(t *testing.T) {
	t.Parallel()
	err := with(fx(1, 1, 1, "food.business"), func(f *Facts) { f.QualifiedTrustService = true }).Validate()
	e, _ := errs.As(err)
	if e == nil || len(e.Fields) != 1 {
		t.Fatalf("Validate() = %v", err)
	}
	msg := i18n.MustLoad().T("en", e.Fields[0].Code, e.Fields[0].Args)
	if !strings.Contains(msg, "digital_infra.trust_service") {
		t.Errorf("message = %q, want the type named", msg)
	}
}
