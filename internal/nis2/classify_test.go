package nis2

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// fx builds facts for types with the given own figures, established in BE.
func fx(staff, turnover, balance float64, types ...string) Facts {
	return Facts{EntityTypes: types, Figures: Figures{Staff: new(staff), TurnoverEUR: new(turnover), BalanceSheetEUR: new(balance)}}
}

// with returns f changed by fn.
func with(f Facts, fn func(*Facts)) Facts {
	fn(&f)
	return f
}

var ccb = Options{SizeRule: CCBSimplified}

type classifyCase struct {
	name  string
	f     Facts
	o     Options
	class Class
	rule  string
	size  Size   // "" = not checked
	typ   string // deciding type; "" = not checked
	check func(t *testing.T, d Decision)
}

// nis2md71 are the classification cases of nis2.md §7.1 (strict size rule,
// established in BE, unless stated).
var nis2md71 = []classifyCase{
	{name: "C01", f: fx(300, 80e6, 60e6, "energy.electricity.dso"), class: Essential, rule: "NIS2.3.1.a", size: Large},
	{name: "C02", f: fx(120, 30e6, 25e6, "energy.electricity.dso"), class: Important, rule: "NIS2.3.2", size: Medium},
	{name: "C03/strict", f: fx(30, 8e6, 12e6, "energy.electricity.dso"), class: OutOfScope, rule: "NIS2.2.1", size: Small},
	{name: "C03/ccb_simplified", f: fx(30, 8e6, 12e6, "energy.electricity.dso"), o: ccb, class: Important, rule: "NIS2.3.2", size: Medium},
	{name: "C04", f: fx(30, 12e6, 11e6, "transport.rail.railway_undertaking"), class: Important, rule: "NIS2.3.2", size: Medium},
	{name: "C05/strict", f: fx(200, 60e6, 40e6, "energy.gas.tso"), class: Important, rule: "NIS2.3.2", size: Medium},
	{name: "C05/ccb_simplified", f: fx(200, 60e6, 40e6, "energy.gas.tso"), o: ccb, class: Essential, rule: "NIS2.3.1.a", size: Large},
	{name: "C06", f: fx(200, 60e6, 45e6, "energy.gas.tso"), class: Essential, rule: "NIS2.3.1.a", size: Large},
	{name: "C07", f: fx(250, 5e6, 5e6, "health.provider"), class: Essential, rule: "NIS2.3.1.a", size: Large},
	{name: "C08", f: fx(249, 49e6, 42e6, "health.provider"), class: Important, rule: "NIS2.3.2", size: Medium},
	{name: "C09", f: fx(1000, 900e6, 500e6, "food.business"), class: Important, rule: "NIS2.3.2", size: Large},
	{name: "C10", f: fx(40, 9e6, 20e6, "manufacturing.computer_electronic_optical"), class: OutOfScope, rule: "NIS2.2.1", size: Small},
	{name: "C11", f: fx(5, 1e6, 1e6, "digital_infra.dns"), class: Essential, rule: "NIS2.3.1.b", size: Micro},
	{name: "C12", f: with(fx(20, 1e6, 1e6, "digital_infra.dns"), func(f *Facts) { f.DNSRootServerOnly = true }), class: OutOfScope, rule: "NIS2.6.20"},
	{name: "C13", f: fx(8, 1e6, 1e6, "digital_infra.tld_registry"), class: Essential, rule: "NIS2.3.1.b", size: Micro},
	{name: "C14", f: with(fx(12, 2e6, 1e6, "digital_infra.trust_service"), func(f *Facts) { f.QualifiedTrustService = true }), class: Essential, rule: "NIS2.3.1.b", size: Small},
	{name: "C15", f: fx(12, 2e6, 1e6, "digital_infra.trust_service"), class: Important, rule: "NIS2.2.2.a.ii", size: Small},
	{name: "C16", f: fx(400, 60e6, 50e6, "digital_infra.trust_service"), class: Essential, rule: "NIS2.3.1.a", size: Large},
	{name: "C17", f: fx(20, 3e6, 2e6, "digital_infra.pecn"), class: Important, rule: "NIS2.2.2.a.i", size: Small},
	{name: "C18", f: fx(80, 15e6, 8e6, "digital_infra.pecs"), class: Essential, rule: "NIS2.3.1.c", size: Medium},
	{name: "C19", f: fx(40, 5e6, 5e6, "digital_infra.cloud"), class: OutOfScope, rule: "NIS2.2.1", size: Small},
	{name: "C20", f: with(fx(40, 5e6, 5e6, "digital_infra.cloud"), func(f *Facts) {
		f.Identification, f.IdentificationGround = IdentifiedEssential, SoleProvider
	}), class: Essential, rule: "NIS2.3.1.e", check: hasReference("Directive (EU) 2022/2555, Art. 2(2)(b)")},
	{name: "C21", f: fx(60, 8e6, 3e6, "ict_b2b.msp"), class: Important, rule: "NIS2.3.2", size: Medium},
	{name: "C22", f: fx(30, 0, 0, "public_admin.central"), class: Essential, rule: "NIS2.3.1.d", size: Small},
	{name: "C23", f: with(fx(3000, 0, 0, "public_admin.central"), func(f *Facts) { f.PAFunction = LawEnforcement }), class: OutOfScope, rule: "NIS2.2.7"},
	{name: "C24", f: with(fx(15, 2e6, 2e6, "waste_water.undertaking"), func(f *Facts) { f.CERCriticalEntity = true }), class: Essential, rule: "NIS2.3.1.f", size: Small},
	{name: "C24/annex_II", f: with(fx(15, 2e6, 2e6, "food.business"), func(f *Facts) { f.CERCriticalEntity = true }), class: Essential, rule: "NIS2.3.1.f"},
	{name: "C25", f: fx(5, 5e5, 2e5, Registrar), class: RegistrarOnly, rule: "NIS2.2.4", size: Micro, check: func(t *testing.T, d Decision) {
		if d.RegistrationUpdateWithin != UpdateWithin3Months || d.LexSpecialis != nil {
			t.Errorf("registration %q, lex %v; want P3M, none", d.RegistrationUpdateWithin, d.LexSpecialis)
		}
	}},
	{name: "C26", f: fx(300, 70e6, 50e6, "health.critical_device_manufacturer"), class: Essential, rule: "NIS2.3.1.a", size: Large},
	{name: "C27", f: fx(300, 70e6, 50e6, "manufacturing.medical_devices"), class: Important, rule: "NIS2.3.2", size: Large},
	{name: "C28", f: fx(2000, 900e6, 400e6, "energy.electricity.recharging_operator"), class: Essential, rule: "NIS2.3.1.a", typ: "energy.electricity.recharging_operator"},
	{name: "C29", f: fx(5000, 2e9, 40e9, "banking.credit_institution"), class: Essential, rule: "NIS2.3.1.a", check: func(t *testing.T, d Decision) {
		if d.LexSpecialis == nil || d.LexSpecialis.Key != "nis2.lex.dora" || !strings.Contains(d.LexSpecialis.Act, "2022/2554") {
			t.Errorf("LexSpecialis = %+v, want DORA", d.LexSpecialis)
		}
	}},
	{name: "C30/group", f: with(fx(30, 5e6, 4e6, "energy.electricity.producer"), func(f *Facts) {
		f.Group = &Group{Figures: Figures{Staff: new(800.0), TurnoverEUR: new(400e6), BalanceSheetEUR: new(300e6)}}
	}), class: Essential, rule: "NIS2.3.1.a", size: Large, check: sizedOn("group")},
	{name: "C30/independent_systems", f: with(fx(30, 5e6, 4e6, "energy.electricity.producer"), func(f *Facts) {
		f.Group = &Group{Figures: Figures{Staff: new(800.0), TurnoverEUR: new(400e6), BalanceSheetEUR: new(300e6)}, IndependentSystems: true}
	}), class: OutOfScope, rule: "NIS2.2.1", size: Small, check: sizedOn("own")},
	{name: "C31", f: with(fx(500, 100e6, 80e6, "digital_infra.cloud"), func(f *Facts) {
		f.Establishment, f.MainEstablishment, f.ServiceCountries = "DE", "DE", []string{"BE", "DE"}
	}), class: OutOfScope, rule: "NIS2.26", size: Large, check: juris(false, "DE", "NIS2.26.1.b")},
	{name: "C32", f: with(fx(80, 15e6, 8e6, "digital_infra.pecn"), func(f *Facts) {
		f.Establishment, f.ServiceCountries = "FR", []string{"BE"}
	}), class: Essential, rule: "NIS2.3.1.c", size: Medium, check: juris(true, "BE", "NIS2.26.1.a")},
	{name: "C33/research_in_scope", f: fx(300, 20e6, 20e6, "research.organisation"), o: Options{ResearchInScope: true}, class: Important, rule: "NIS2.3.2", size: Large},
	{name: "C33/research_out_of_scope", f: fx(300, 20e6, 20e6, "research.organisation"), class: OutOfScope, rule: "NIS2.annex.II.7"},
	{name: "C34", f: fx(400, 0, 0, "public_admin.regional"), class: OutOfScope, rule: "NIS2.2.2.f.ii.pending"},
}

// edgeCases go beyond nis2.md.
var edgeCases = []classifyCase{
	{name: "regional PA after risk assessment", f: with(fx(10, 0, 0, "public_admin.regional"), func(f *Facts) { f.PARiskAssessed = true }), class: Important, rule: "NIS2.2.2.f.ii"},
	{name: "strongest type wins", f: fx(300, 1e6, 1e6, "food.business", "energy.gas.tso"), class: Essential, rule: "NIS2.3.1.a", typ: "energy.gas.tso",
		check: func(t *testing.T, d Decision) {
			want := []TypeDecision{{"food.business", Important, "NIS2.3.2"}, {"energy.gas.tso", Essential, "NIS2.3.1.a"}}
			if !slices.Equal(d.Types, want) {
				t.Errorf("Types = %v, want %v", d.Types, want)
			}
			if last := d.Trace[len(d.Trace)-1]; last.Check != "strongest" || !strings.HasPrefix(last.Result, "energy.gas.tso") {
				t.Errorf("last step = %+v, want strongest energy.gas.tso", last)
			}
		}},
	{name: "first type wins a tie", f: fx(100, 1e6, 1e6, "food.business", "waste.undertaking"), class: Important, rule: "NIS2.3.2", typ: "food.business"},
	{name: "out-of-scope type does not hide an in-scope one", f: fx(5, 1e6, 1e6, "manufacturing.machinery", "digital_infra.dns"), class: Essential, rule: "NIS2.3.1.b", typ: "digital_infra.dns"},
	{name: "registrar beats an out-of-scope type", f: fx(20, 1e6, 1e6, Registrar, "manufacturing.machinery"), class: RegistrarOnly, rule: "NIS2.2.4", typ: Registrar},
	{name: "annex type beats registrar", f: fx(60, 1e6, 1e6, Registrar, "digital_infra.cloud"), class: Important, rule: "NIS2.3.2", typ: "digital_infra.cloud"},
	{name: "PA in law enforcement acting as qualified TSP", f: with(fx(3000, 0, 0, "public_admin.central", "digital_infra.trust_service"), func(f *Facts) {
		f.PAFunction, f.QualifiedTrustService = LawEnforcement, true
	}), class: Essential, rule: "NIS2.3.1.b", typ: "digital_infra.trust_service", check: func(t *testing.T, d Decision) {
		if d.Types[0].Rule != "NIS2.2.7" {
			t.Errorf("public_admin.central rule = %s, want NIS2.2.7", d.Types[0].Rule)
		}
	}},
	{name: "PA in defence, any other type", f: with(fx(300, 50e6, 50e6, "health.provider"), func(f *Facts) { f.PAFunction = Defence }), class: OutOfScope, rule: "NIS2.2.7"},
	{name: "DORA exempt", f: with(fx(5000, 2e9, 40e9, "banking.credit_institution"), func(f *Facts) { f.DORAExempt = true }), class: OutOfScope, rule: "NIS2.2.10",
		check: func(t *testing.T, d Decision) {
			if d.LexSpecialis != nil || d.RegistrationUpdateWithin != "" {
				t.Errorf("out of scope with lex %v, registration %q", d.LexSpecialis, d.RegistrationUpdateWithin)
			}
		}},
	{name: "FMI large gets DORA note", f: fx(300, 1e6, 1e6, "fmi.ccp"), class: Essential, rule: "NIS2.3.1.a", check: func(t *testing.T, d Decision) {
		if d.LexSpecialis == nil {
			t.Error("LexSpecialis = nil, want DORA")
		}
	}},
	{name: "CER beats root-server-free DNS size", f: with(fx(1, 0, 0, "health.provider"), func(f *Facts) { f.CERCriticalEntity = true }), class: Essential, rule: "NIS2.3.1.f"},
	{name: "identified important, public safety", f: with(fx(20, 1e6, 1e6, "digital_infra.cloud"), func(f *Facts) {
		f.Identification, f.IdentificationGround = IdentifiedImportant, PublicSafety
	}), class: Important, rule: "NIS2.2.2.c"},
	{name: "identified important but large Annex I stays essential", f: with(fx(300, 1e6, 1e6, "digital_infra.cloud"), func(f *Facts) {
		f.Identification, f.IdentificationGround = IdentifiedImportant, NationalImportance
	}), class: Essential, rule: "NIS2.3.1.a"},
	{name: "former NIS1 OES", f: with(fx(20, 1e6, 1e6, "transport.water.port_body"), func(f *Facts) {
		f.Identification, f.IdentificationGround = IdentifiedEssential, NIS1OES
	}), class: Essential, rule: "NIS2.3.1.g"},
	{name: "Art 27 type outside the Union with representative here", f: with(fx(500, 1e9, 1e9, "digital_provider.search_engine"), func(f *Facts) {
		f.Establishment, f.EURepresentative = "US", "BE"
	}), class: Important, rule: "NIS2.3.2", check: juris(true, "BE", "NIS2.26.3")},
	{name: "Art 27 type outside the Union with representative elsewhere", f: with(fx(500, 1e9, 1e9, "digital_provider.search_engine"), func(f *Facts) {
		f.Establishment, f.EURepresentative = "US", "NL"
	}), class: OutOfScope, rule: "NIS2.26", check: juris(false, "NL", "NIS2.26.3")},
	{name: "Art 27 type outside the Union without representative, services here", f: with(fx(500, 1e9, 1e9, "digital_infra.cdn"), func(f *Facts) {
		f.Establishment, f.ServiceCountries = "US", []string{"FR", "BE"}
	}), class: Essential, rule: "NIS2.3.1.a", check: juris(true, "BE", "NIS2.26.3")},
	{name: "main establishment here, established elsewhere", f: with(fx(500, 1e9, 1e9, "digital_infra.cloud"), func(f *Facts) {
		f.Establishment, f.MainEstablishment = "IE", "BE"
	}), class: Essential, rule: "NIS2.3.1.a", check: juris(true, "BE", "NIS2.26.1.b")},
	{name: "established outside the Union", f: with(fx(500, 1e9, 1e9, "food.business"), func(f *Facts) { f.Establishment = "US" }),
		class: OutOfScope, rule: "NIS2.26", check: juris(false, "", "NIS2.26.1")},
	{name: "PECN established here, services only elsewhere", f: with(fx(80, 15e6, 8e6, "digital_infra.pecn"), func(f *Facts) { f.ServiceCountries = []string{"FR", "LU"} }),
		class: OutOfScope, rule: "NIS2.26", check: juris(false, "FR", "NIS2.26.1.a")},
	{name: "PA established by another Member State", f: with(fx(30, 0, 0, "public_admin.central"), func(f *Facts) { f.Establishment = "FR" }),
		class: OutOfScope, rule: "NIS2.26", check: juris(false, "FR", "NIS2.26.1.c")},
	{name: "registrar with main establishment elsewhere", f: with(fx(5, 1e5, 1e5, Registrar), func(f *Facts) { f.MainEstablishment = "DE" }),
		class: OutOfScope, rule: "NIS2.26"},
	{name: "jurisdiction FR option", f: with(fx(300, 1e6, 1e6, "energy.gas.tso"), func(f *Facts) { f.Establishment = "FR" }), o: Options{Jurisdiction: "FR"},
		class: Essential, rule: "NIS2.3.1.a", check: juris(true, "FR", "NIS2.26.1")},
	{name: "independent systems ignored outside Belgium", o: Options{Jurisdiction: "FR"}, f: with(fx(30, 5e6, 4e6, "energy.electricity.producer"), func(f *Facts) {
		f.Establishment = "FR"
		f.Group = &Group{Figures: Figures{Staff: new(800.0), TurnoverEUR: new(400e6), BalanceSheetEUR: new(300e6)}, IndependentSystems: true}
	}), class: Essential, rule: "NIS2.3.1.a", check: sizedOn("group")},
	{name: "Annex II large is never essential by size", f: fx(1e5, 1e10, 1e10, "digital_provider.social_network"), class: Important, rule: "NIS2.3.2", size: Large},
	{name: "staff exactly 50 is medium", f: fx(50, 0, 0, "waste.undertaking"), class: Important, rule: "NIS2.3.2", size: Medium},
	{name: "staff 49.5 is small", f: fx(49.5, 0, 0, "waste.undertaking"), class: OutOfScope, rule: "NIS2.2.1", size: Small},
	{name: "staff exactly 250 is large", f: fx(250, 0, 0, "energy.oil.pipeline_operator"), class: Essential, rule: "NIS2.3.1.a", size: Large},
	{name: "ceilings 50M and 43M exactly are medium", f: fx(0, 50e6, 43e6, "energy.oil.pipeline_operator"), class: Important, rule: "NIS2.3.2", size: Medium},
	{name: "just above 50M and 43M is large", f: fx(0, 50e6+1, 43e6+1, "energy.oil.pipeline_operator"), class: Essential, rule: "NIS2.3.1.a", size: Large},
	{name: "ceilings 10M and 10M exactly are small", f: fx(0, 10e6, 10e6, "waste.undertaking"), class: OutOfScope, rule: "NIS2.2.1", size: Small},
	{name: "ccb: balance sheet alone over 43M is large", o: ccb, f: fx(0, 1e6, 43e6+1, "energy.oil.pipeline_operator"), class: Essential, rule: "NIS2.3.1.a", size: Large},
}

func TestClassify(t *testing.T) {
	t.Parallel()
	for _, tt := range append(slices.Clone(nis2md71), edgeCases...) {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := Classify(tt.f, tt.o)
			if err != nil {
				t.Fatalf("Classify() error = %v", err)
			}
			if d.Class != tt.class || d.Rule != tt.rule {
				t.Errorf("Classify() = %s by %s, want %s by %s\ntrace:\n%s", d.Class, d.Rule, tt.class, tt.rule, traceText(d))
			}
			if tt.size != "" && d.Size != tt.size {
				t.Errorf("Size = %s, want %s", d.Size, tt.size)
			}
			if tt.typ != "" && d.EntityType != tt.typ {
				t.Errorf("EntityType = %s, want %s", d.EntityType, tt.typ)
			}
			if d.ReasonKey != "nis2.rule."+d.Rule || len(d.References) == 0 || len(d.Trace) == 0 {
				t.Errorf("ReasonKey %q, %d references, %d steps", d.ReasonKey, len(d.References), len(d.Trace))
			}
			if tt.check != nil {
				tt.check(t, d)
			}
		})
	}
}

func hasReference(ref string) func(*testing.T, Decision) {
	return func(t *testing.T, d Decision) {
		t.Helper()
		if !slices.Contains(d.References, ref) {
			t.Errorf("References = %q, want %q among them", d.References, ref)
		}
	}
}

func sizedOn(on string) func(*testing.T, Decision) {
	return func(t *testing.T, d Decision) {
		t.Helper()
		if d.SizedOn != on {
			t.Errorf("SizedOn = %q, want %q", d.SizedOn, on)
		}
	}
}

func juris(in bool, country, rule string) func(*testing.T, Decision) {
	return func(t *testing.T, d Decision) {
		t.Helper()
		j := d.Jurisdiction
		if j.InJurisdiction != in || j.Country != country || j.Rule != rule {
			t.Errorf("Jurisdiction = %+v, want in=%v country=%q rule=%s", j, in, country, rule)
		}
	}
}

func traceText(d Decision) string {
	var b strings.Builder
	for _, s := range d.Trace {
		b.WriteString("  " + s.EntityType + " " + s.Check + ": " + s.Result + "\n")
	}
	return b.String()
}

func TestSizeOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a              amounts
		strict, simple Size
	}{
		{amounts{0, 0, 0}, Micro, Micro},
		{amounts{9.9, 2e6, 2e6}, Micro, Micro},
		{amounts{10, 0, 0}, Small, Small},
		{amounts{0, 2e6 + 1, 2e6 + 1}, Small, Small},
		{amounts{0, 3e6, 1e6}, Micro, Small},
		{amounts{49, 10e6, 10e6}, Small, Small},
		{amounts{49, 11e6, 9e6}, Small, Medium},
		{amounts{49, 9e6, 11e6}, Small, Medium},
		{amounts{50, 0, 0}, Medium, Medium},
		{amounts{249, 50e6, 43e6}, Medium, Medium},
		{amounts{249, 51e6, 43e6}, Medium, Large},
		{amounts{249, 50e6, 44e6}, Medium, Large},
		{amounts{249, 51e6, 44e6}, Large, Large},
		{amounts{250, 0, 0}, Large, Large},
	}
	for _, tt := range tests {
		if got, why := sizeOf(tt.a, Strict); got != tt.strict {
			t.Errorf("sizeOf(%v, strict) = %s (%s), want %s", tt.a, got, why, tt.strict)
		}
		if got, why := sizeOf(tt.a, CCBSimplified); got != tt.simple {
			t.Errorf("sizeOf(%v, ccb_simplified) = %s (%s), want %s", tt.a, got, why, tt.simple)
		}
	}
}

func TestSizeExplanation(t *testing.T) {
	t.Parallel()
	// C05 under the strict rule: medium because the balance sheet respects
	// the medium ceiling although the turnover does not.
	_, why := sizeOf(amounts{200, 60e6, 40e6}, Strict)
	for _, want := range []string{"staff 200 AWU ≥ 50", "turnover €60 M > €50 M but balance sheet €40 M ≤ €43 M"} {
		if !strings.Contains(why, want) {
			t.Errorf("sizeOf(C05) explanation %q lacks %q", why, want)
		}
	}
}

func TestParseSizeRule(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]SizeRule{"": Strict, "strict": Strict, "ccb_simplified": CCBSimplified} {
		if got, err := ParseSizeRule(in); got != want || err != nil {
			t.Errorf("ParseSizeRule(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"Strict", "ccb", "simplified"} {
		if _, err := ParseSizeRule(in); err == nil {
			t.Errorf("ParseSizeRule(%q) = nil error, want one", in)
		}
	}
}

func TestClassifyBadOptions(t *testing.T) {
	t.Parallel()
	f := fx(1, 1, 1, "food.business")
	for _, o := range []Options{{SizeRule: "loose"}, {Jurisdiction: "US"}, {Jurisdiction: "be"}} {
		if _, err := Classify(f, o); err == nil {
			t.Errorf("Classify(%+v) = nil error, want one", o)
		}
	}
}

func TestClassifyValidates(t *testing.T) {
	t.Parallel()
	_, err := Classify(Facts{EntityTypes: []string{"nope"}}, Options{})
	if got := fieldCodes(t, err); got["entity_types[0]"] != "err.nis2.unknown_type" || got["staff"] != "err.nis2.staff_required" {
		t.Errorf("Classify(bad facts) fields = %v", got)
	}
}

// TestTraceOrder checks that the trace follows the reference order and
// stops at the deciding check.
func TestTraceOrder(t *testing.T) {
	t.Parallel()
	d, err := Classify(fx(12, 2e6, 1e6, "digital_infra.trust_service"), Options{}) // C15
	if err != nil {
		t.Fatal(err)
	}
	var checks []string
	for _, s := range d.Trace {
		checks = append(checks, s.Check)
	}
	want := []string{"size", "dora_exempt", "pa_exclusion", "jurisdiction", "cer", "identified_essential", "size_independent_essential", "annex_i_large", "medium", "tsp_any_size"}
	if !slices.Equal(checks, want) {
		t.Errorf("checks = %v\nwant     %v", checks, want)
	}
	if last := d.Trace[len(d.Trace)-1]; !strings.HasPrefix(last.Result, "yes") || last.Reference != "Directive (EU) 2022/2555, Art. 2(2)(a)(ii)" {
		t.Errorf("last step = %+v", last)
	}
}

func TestDecisionJSON(t *testing.T) {
	t.Parallel()
	d, err := Classify(fx(5000, 2e9, 40e9, "banking.credit_institution"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"class", "rule", "reason_key", "reason_args", "references", "entity_type", "size", "size_rule", "sized_on",
		"jurisdiction", "lex_specialis", "registration_update_within", "notes", "types", "trace", "options"} {
		if _, ok := m[k]; !ok {
			t.Errorf("decision JSON lacks %q: %s", k, b)
		}
	}
	j := m["jurisdiction"].(map[string]any)
	if j["in_jurisdiction"] != true || j["country"] != "BE" || j["rule"] != "NIS2.26.1" {
		t.Errorf("jurisdiction = %v", j)
	}
	if m["registration_update_within"] != "P14D" || m["size_rule"] != "strict" || m["class"] != "essential" {
		t.Errorf("decision = %s", b)
	}
}

func TestNotes(t *testing.T) {
	t.Parallel()
	d, err := Classify(fx(60, 8e6, 3e6, "ict_b2b.msp"), Options{}) // C21: an Art. 27 type
	if err != nil {
		t.Fatal(err)
	}
	if d.RegistrationUpdateWithin != UpdateWithin3Months || !strings.Contains(strings.Join(d.Notes, " "), "3 months (Art. 27(3))") {
		t.Errorf("MSP registration = %q, notes %q", d.RegistrationUpdateWithin, d.Notes)
	}
	d, err = Classify(fx(120, 30e6, 25e6, "energy.electricity.dso"), Options{}) // C02
	if err != nil {
		t.Fatal(err)
	}
	if d.RegistrationUpdateWithin != UpdateWithin2Weeks || !strings.Contains(strings.Join(d.Notes, " "), "2 weeks (Art. 3(4))") {
		t.Errorf("DSO registration = %q, notes %q", d.RegistrationUpdateWithin, d.Notes)
	}
	d, err = Classify(fx(40, 9e6, 20e6, "manufacturing.machinery"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d.RegistrationUpdateWithin != "" || d.Notes == nil {
		t.Errorf("out of scope: registration %q, notes %#v", d.RegistrationUpdateWithin, d.Notes)
	}
}
