package nis2

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Class is the outcome of a classification.
type Class string

// Classes, strongest first.
const (
	Essential     Class = "essential"
	Important     Class = "important"
	RegistrarOnly Class = "registrar_only" // Art. 2(4), 27, 28 only
	OutOfScope    Class = "out_of_scope"
)

func (c Class) rank() int {
	switch c {
	case Essential:
		return 3
	case Important:
		return 2
	case RegistrarOnly:
		return 1
	}
	return 0
}

// LabelKey is the i18n message key of the class's name.
func (c Class) LabelKey() string { return "nis2.class." + string(c) }

// Options tune the classification where the law leaves a choice or where a
// fact is unverified. The zero value is the Belgian default: strict size
// rule, jurisdiction BE, research organisations out of scope.
type Options struct {
	SizeRule        SizeRule
	Jurisdiction    string // ISO 3166 alpha-2 code of an EU Member State; "" means BE
	ResearchInScope bool   // whether the jurisdiction applies Annex II, point 7
}

func (o Options) normalise() (Options, error) {
	r, err := ParseSizeRule(string(o.SizeRule))
	if err != nil {
		return o, err
	}
	o.SizeRule = r
	if o.Jurisdiction == "" {
		o.Jurisdiction = DefaultCountry
	}
	if !MemberState(o.Jurisdiction) {
		return o, fmt.Errorf("nis2: jurisdiction %q is not the code of an EU Member State", o.Jurisdiction)
	}
	return o, nil
}

// Decision is the result of Classify. Rule is a stable identifier of the
// deciding rule; ReasonKey is the i18n key of a sentence that explains it
// ("… because ReasonKey"), filled from ReasonArgs.
type Decision struct {
	Class                    Class           `json:"class"`
	Rule                     string          `json:"rule"`
	ReasonKey                string          `json:"reason_key"`
	ReasonArgs               map[string]any  `json:"reason_args"`
	References               []string        `json:"references"`
	EntityType               string          `json:"entity_type"`
	Size                     Size            `json:"size"`
	SizeRule                 SizeRule        `json:"size_rule"`
	SizedOn                  string          `json:"sized_on"` // "own" or "group"
	Jurisdiction             Jurisdiction    `json:"jurisdiction"`
	LexSpecialis             *LexSpecialis   `json:"lex_specialis,omitempty"`
	RegistrationUpdateWithin string          `json:"registration_update_within,omitempty"` // ISO 8601 period
	Notes                    []string        `json:"notes"`
	Types                    []TypeDecision  `json:"types"`
	Trace                    []Step          `json:"trace"`
	Options                  DecisionOptions `json:"options"`
}

// DecisionOptions records the options a decision was made with.
type DecisionOptions struct {
	Jurisdiction    string `json:"jurisdiction"`
	ResearchInScope bool   `json:"research_in_scope"`
}

// TypeDecision is the outcome for one of the entity types of the facts.
type TypeDecision struct {
	EntityType string `json:"entity_type"`
	Class      Class  `json:"class"`
	Rule       string `json:"rule"`
}

// Jurisdiction says whether the Member State of the options has
// jurisdiction over the deciding entity type (Art. 26). Country is the
// Member State that has it, when known; Countries lists every Member State
// where a PECN/PECS provides services (each has jurisdiction).
type Jurisdiction struct {
	Country        string   `json:"country,omitempty"`
	InJurisdiction bool     `json:"in_jurisdiction"`
	Rule           string   `json:"rule"`
	Basis          string   `json:"basis"`
	Countries      []string `json:"countries,omitempty"`
}

// Bases of jurisdiction.
const (
	BasisEstablishment     = "establishment"      // Art. 26(1)
	BasisServices          = "service_provision"  // Art. 26(1)(a)
	BasisMainEstablishment = "main_establishment" // Art. 26(1)(b)
	BasisEstablishingState = "establishing_state" // Art. 26(1)(c)
	BasisRepresentative    = "representative"     // Art. 26(3)
	BasisNoRepresentative  = "no_representative"  // Art. 26(3), last sentence
)

// LexSpecialis notes a sector act that displaces NIS2's measures,
// reporting and supervision (Art. 4). Key is the i18n key of Note.
type LexSpecialis struct {
	Act       string `json:"act"`
	Reference string `json:"reference"`
	Key       string `json:"key"`
	Note      string `json:"note"`
}

// Step is one check of the trace, in English.
type Step struct {
	EntityType string `json:"entity_type,omitempty"`
	Check      string `json:"check"` // stable identifier of the check
	Step       string `json:"step"`
	Result     string `json:"result"`
	Reference  string `json:"reference,omitempty"`
}

// Citation helpers.
const (
	refRec      = "Commission Recommendation 2003/361/EC, Annex, Art. 2"
	refRecGroup = "Commission Recommendation 2003/361/EC, Annex, Art. 3 and 6"
	refBELaw    = "Belgian NIS2 law of 26 April 2024, Art. 3 §2"
	refDORA     = "Regulation (EU) 2022/2554 (DORA)"
)

func art(s string) string { return dirNIS2 + "Art. " + s }

// rule describes a rule: the class it gives, its legal references, and
// whether size decided it.
type rule struct {
	class Class
	refs  []string
	sized bool
}

// rules holds every rule Classify can return. Each has the message key
// "nis2.rule."+id.
var rules = map[string]rule{
	"NIS2.2.10":             {OutOfScope, []string{art("2(10)"), "Regulation (EU) 2022/2554, Art. 2(4)"}, false},
	"NIS2.2.7":              {OutOfScope, []string{art("2(7)"), art("2(9)")}, false},
	"NIS2.6.20":             {OutOfScope, []string{art("6(20)")}, false},
	"NIS2.annex.II.7":       {OutOfScope, []string{art("2(1)"), dirNIS2 + "Annex II, point 7"}, false},
	"NIS2.26":               {OutOfScope, []string{art("26")}, false},
	"NIS2.2.4":              {RegistrarOnly, []string{art("2(4)"), art("3(3)"), art("27"), art("28")}, false},
	"NIS2.3.1.f":            {Essential, []string{art("3(1)(f)"), art("2(3)"), "Directive (EU) 2022/2557"}, false},
	"NIS2.3.1.e":            {Essential, []string{art("3(1)(e)")}, false},
	"NIS2.3.1.g":            {Essential, []string{art("3(1)(g)")}, false},
	"NIS2.3.1.b":            {Essential, []string{art("3(1)(b)"), art("2(2)(a)")}, false},
	"NIS2.3.1.c":            {Essential, []string{art("3(1)(c)"), art("2(2)(a)(i)")}, true},
	"NIS2.2.2.a.i":          {Important, []string{art("2(2)(a)(i)"), art("3(2)")}, true},
	"NIS2.3.1.d":            {Essential, []string{art("3(1)(d)"), art("2(2)(f)(i)")}, false},
	"NIS2.2.2.f.ii":         {Important, []string{art("2(2)(f)(ii)"), art("3(2)")}, false},
	"NIS2.2.2.f.ii.pending": {OutOfScope, []string{art("2(2)(f)(ii)")}, false},
	"NIS2.3.1.a":            {Essential, []string{art("3(1)(a)"), art("2(1)")}, true},
	"NIS2.3.2":              {Important, []string{art("3(2)"), art("2(1)")}, true},
	"NIS2.2.2.a.ii":         {Important, []string{art("2(2)(a)(ii)"), art("3(2)")}, false},
	"NIS2.2.2.b":            {Important, []string{art("2(2)(b)"), art("3(2)")}, false},
	"NIS2.2.2.c":            {Important, []string{art("2(2)(c)"), art("3(2)")}, false},
	"NIS2.2.2.d":            {Important, []string{art("2(2)(d)"), art("3(2)")}, false},
	"NIS2.2.2.e":            {Important, []string{art("2(2)(e)"), art("3(2)")}, false},
	"NIS2.2.1":              {OutOfScope, []string{art("2(1)")}, true},
}

// groundRef is the article of each identification ground.
var groundRef = map[Ground]string{
	SoleProvider: "2(2)(b)", PublicSafety: "2(2)(c)", SystemicRisk: "2(2)(d)", NationalImportance: "2(2)(e)", NIS1OES: "3(1)(g)",
}

// ReasonKey returns the message key that explains rule id.
func ReasonKey(id string) string { return "nis2.rule." + id }

// Rules lists the identifiers of every rule Classify can return, sorted.
func Rules() []string { return slices.Sorted(maps.Keys(rules)) }

// verdict is the outcome for one entity type.
type verdict struct {
	typ   EntityType
	rule  string
	juris Jurisdiction
	steps []Step
}

func (v verdict) class() Class { return rules[v.rule].class }

// Classify decides the class of the organisation the facts describe. With
// several entity types each is classified and the strongest class wins
// (essential > important > registrar_only > out_of_scope; the first listed
// type on a tie). It validates the facts and returns an errs.Invalid error
// for bad facts, and a plain error for bad options.
func Classify(f Facts, o Options) (Decision, error) {
	o, err := o.normalise()
	if err != nil {
		return Decision{}, err
	}
	if err := f.Validate(); err != nil {
		return Decision{}, err
	}
	sz := measure(f, o)
	trace := slices.Clone(sz.steps)
	var best verdict
	var types []TypeDecision
	for i, code := range f.EntityTypes {
		t, _ := Type(code)
		v := classifyType(t, f, o, sz)
		trace = append(trace, v.steps...)
		types = append(types, TypeDecision{EntityType: code, Class: v.class(), Rule: v.rule})
		if i == 0 || v.class().rank() > best.class().rank() {
			best = v
		}
	}
	if len(types) > 1 {
		trace = append(trace, Step{Check: "strongest", Step: "Several entity types: keep the strongest class (essential, important, registrar_only, out_of_scope)",
			Result: fmt.Sprintf("%s decides: %s (%s)", best.typ.Code, best.class(), best.rule)})
	}
	d := Decision{
		Class:        best.class(),
		Rule:         best.rule,
		ReasonKey:    ReasonKey(best.rule),
		ReasonArgs:   reasonArgs(best, sz, o),
		References:   references(best, sz, f),
		EntityType:   best.typ.Code,
		Size:         sz.size,
		SizeRule:     o.SizeRule,
		SizedOn:      sz.on,
		Jurisdiction: best.juris,
		Types:        types,
		Trace:        trace,
		Options:      DecisionOptions{Jurisdiction: o.Jurisdiction, ResearchInScope: o.ResearchInScope},
	}
	d.addObligations(f)
	d.Notes = append(d.Notes, notes(f, o, sz, d)...)
	if d.Notes == nil {
		d.Notes = []string{}
	}
	return d, nil
}

// classifyType applies the reference algorithm (nis2.md §1.7), extended
// with Art. 2(10) and Art. 26, to one entity type. The checks run in order
// and the first that holds decides; only the checks that concern the type
// are traced.
func classifyType(t EntityType, f Facts, o Options, sz sizing) verdict {
	c := &checker{t: t}
	j, jwhy := jurisdictionOf(t, f, o.Jurisdiction)
	isPECN := t.Code == typePECN || t.Code == typePECS
	medium := sz.size.AtLeastMedium()
	decide := func(id string) verdict { return verdict{typ: t, rule: id, juris: j, steps: c.steps} }
	switch {
	case c.ask("dora_exempt", "Exempted from DORA by a Member State under DORA Art. 2(4)?", art("2(10)"), f.DORAExempt, ""):
		return decide("NIS2.2.10")
	case c.ask("pa_exclusion", "Public administration entity in national security, public security, defence or law enforcement, not acting as a trust service provider?",
		art("2(7) and 2(9)"), f.PAFunction != "" && t.Code != typeTrustService, paDetail(f, t)):
		return decide("NIS2.2.7")
	case t.Code == typeDNS && c.ask("root_dns", "Operates only root name servers (excluded from DNS service providers)?", art("6(20)"), f.DNSRootServerOnly, ""):
		return decide("NIS2.6.20")
	case t.Code == typeResearch && c.ask("annex_listed", "Research organisations left out of the annex as applied in "+o.Jurisdiction+"?",
		dirNIS2+"Annex II, point 7", !o.ResearchInScope, "option research_in_scope = "+fmt.Sprint(o.ResearchInScope)):
		return decide("NIS2.annex.II.7")
	case c.ask("jurisdiction", "Does a country other than "+o.Jurisdiction+" have jurisdiction?", art(articleOf(j.Rule)), !j.InJurisdiction, jwhy):
		return decide("NIS2.26")
	case t.Code == Registrar && c.ask("registrar", "Provides domain name registration services (in scope whatever its size, but not as an essential or important entity)?", art("2(4)"), true, ""):
		return decide("NIS2.2.4")
	case c.ask("cer", "Identified as a critical entity under the CER Directive (EU) 2022/2557?", art("3(1)(f)"), f.CERCriticalEntity, ""):
		return decide("NIS2.3.1.f")
	case c.ask("identified_essential", "Identified as essential by the authority?", art("3(1)(e) and (g)"), f.Identification == IdentifiedEssential, groundDetail(f)):
		if f.IdentificationGround == NIS1OES {
			return decide("NIS2.3.1.g")
		}
		return decide("NIS2.3.1.e")
	case (t.Code == typeDNS || t.Code == typeTLD || t.Code == typeTrustService) &&
		c.ask("size_independent_essential", "Qualified trust service provider, TLD name registry or DNS service provider?", art("3(1)(b)"),
			t.Code != typeTrustService || f.QualifiedTrustService, tspDetail(f, t)):
		return decide("NIS2.3.1.b")
	case isPECN && c.ask("pecn_medium", "Provider of public electronic communications, at least medium-sized?", art("3(1)(c)"), medium, string(sz.size)):
		return decide("NIS2.3.1.c")
	case isPECN && c.ask("pecn_any_size", "Provider of public electronic communications below medium size (in scope whatever its size)?", art("2(2)(a)(i)"), true, ""):
		return decide("NIS2.2.2.a.i")
	case t.Code == typeCentralPA && c.ask("pa_central", "Public administration entity of central government?", art("3(1)(d)"), true, ""):
		return decide("NIS2.3.1.d")
	case t.Code == typeRegionalPA:
		if c.ask("pa_regional", "Regional public administration entity found critical by a risk-based assessment?", art("2(2)(f)(ii)"), f.PARiskAssessed, "") {
			return decide("NIS2.2.2.f.ii")
		}
		return decide("NIS2.2.2.f.ii.pending")
	case t.Annex == AnnexI && c.ask("annex_i_large", "Annex I type and large?", art("3(1)(a)"), sz.size == Large, string(sz.size)):
		return decide("NIS2.3.1.a")
	case c.ask("medium", "At least medium-sized?", art("2(1) and 3(2)"), medium, string(sz.size)):
		return decide("NIS2.3.2")
	case t.Code == typeTrustService && c.ask("tsp_any_size", "Trust service provider (in scope whatever its size)?", art("2(2)(a)(ii)"), true, ""):
		return decide("NIS2.2.2.a.ii")
	case c.ask("identified_important", "Identified as important by the authority?", art("2(2)(b) to (e)"), f.Identification == IdentifiedImportant, groundDetail(f)):
		return decide("NIS2.2.2." + strings.TrimSuffix(strings.TrimPrefix(groundRef[f.IdentificationGround], "2(2)("), ")"))
	default:
		c.steps = append(c.steps, Step{EntityType: t.Code, Check: "no_rule", Step: "Any other ground to be in scope below medium size?", Result: "no: out of scope", Reference: art("2(1)")})
		return decide("NIS2.2.1")
	}
}

// checker records the checks of one entity type.
type checker struct {
	t     EntityType
	steps []Step
}

// ask records a check and its answer, and returns the answer.
func (c *checker) ask(id, question, ref string, yes bool, detail string) bool {
	res := "no"
	if yes {
		res = "yes"
	}
	if detail != "" {
		res += ": " + detail
	}
	c.steps = append(c.steps, Step{EntityType: c.t.Code, Check: id, Step: question, Result: res, Reference: ref})
	return yes
}

func paDetail(f Facts, t EntityType) string {
	switch {
	case f.PAFunction == "":
		return ""
	case t.Code == typeTrustService:
		return string(f.PAFunction) + ", but acting as a trust service provider (Art. 2(9))"
	default:
		return string(f.PAFunction)
	}
}

func tspDetail(f Facts, t EntityType) string {
	if t.Code != typeTrustService {
		return ""
	}
	if f.QualifiedTrustService {
		return "qualified trust service provider"
	}
	return "trust service provider, not qualified"
}

func groundDetail(f Facts) string {
	if f.Identification == "" {
		return ""
	}
	return fmt.Sprintf("%s, ground %s (Art. %s)", f.Identification, f.IdentificationGround, groundRef[f.IdentificationGround])
}

// articleOf turns a rule id such as "NIS2.26.1.b" into "26(1)(b)".
func articleOf(id string) string {
	parts := strings.Split(strings.TrimPrefix(id, "NIS2."), ".")
	s := parts[0]
	for _, p := range parts[1:] {
		s += "(" + p + ")"
	}
	return s
}

func reasonArgs(v verdict, sz sizing, o Options) map[string]any {
	args := map[string]any{
		"entity_type":  v.typ.Code,
		"size":         string(sz.size),
		"jurisdiction": o.Jurisdiction,
	}
	if v.juris.Country != "" {
		args["country"] = v.juris.Country
	}
	return args
}

// references lists the legal basis of the decision: the rule, the annex
// point of the type, and the size rules where size decided.
func references(v verdict, sz sizing, f Facts) []string {
	r := rules[v.rule]
	refs := slices.Clone(r.refs)
	switch v.rule {
	case "NIS2.26":
		refs = append(refs, art(articleOf(v.juris.Rule)))
	case "NIS2.3.1.e":
		refs = append(refs, art(groundRef[f.IdentificationGround]))
	}
	if v.typ.Point != "" {
		refs = append(refs, dirNIS2+v.typ.Point)
	}
	if r.sized {
		refs = append(refs, sz.refs...)
	}
	return slices.Compact(refs)
}
