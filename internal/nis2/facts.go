package nis2

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/belfry-cert/belfry/internal/errs"
)

// Figures are the size figures of Recommendation 2003/361/EC: staff in
// annual work units (AWU, full-time people over a year) and the last
// approved annual accounts in euro. A nil figure is missing, which is not
// the same as 0.
type Figures struct {
	Staff           *float64 `json:"staff"`
	TurnoverEUR     *float64 `json:"annual_turnover_eur"`
	BalanceSheetEUR *float64 `json:"balance_sheet_eur"`
}

// Group holds the consolidated figures of the entity together with its
// partner and linked enterprises (Recommendation 2003/361/EC, Annex, Art. 3
// and 6). IndependentSystems records that the entity's network and
// information systems are independent of the group, so that the Belgian
// authority may disregard the group (BE NIS2 law, Art. 3 §2).
type Group struct {
	Figures
	IndependentSystems bool `json:"independent_systems,omitempty"`
}

// PAFunction is the area of a public administration entity that takes it
// out of scope (Art. 2(7)).
type PAFunction string

// Public administration functions of Art. 2(7).
const (
	NationalSecurity PAFunction = "national_security"
	PublicSecurity   PAFunction = "public_security"
	Defence          PAFunction = "defence"
	LawEnforcement   PAFunction = "law_enforcement"
)

// Identification is the class given by an identification decision of the
// authority (Art. 2(2)(b) to (e), Art. 3(1)(e) and (g); BE law Art. 11–12).
type Identification string

// Identification outcomes.
const (
	IdentifiedEssential Identification = "essential"
	IdentifiedImportant Identification = "important"
)

// Ground is the legal ground of an identification decision.
type Ground string

// Identification grounds.
const (
	SoleProvider       Ground = "sole_provider"       // Art. 2(2)(b)
	PublicSafety       Ground = "public_safety"       // Art. 2(2)(c)
	SystemicRisk       Ground = "systemic_risk"       // Art. 2(2)(d)
	NationalImportance Ground = "national_importance" // Art. 2(2)(e)
	NIS1OES            Ground = "nis1_oes"            // Art. 3(1)(g)
)

// Facts describe one organisation for classification. Figures are its own;
// Group, when present, holds the consolidated figures including its own.
type Facts struct {
	EntityTypes []string `json:"entity_types"`
	Figures
	Group *Group `json:"group,omitempty"`

	// Establishment is the ISO 3166 alpha-2 country where the entity is
	// established; empty means BE. MainEstablishment is where cybersecurity
	// decisions are taken (Art. 26(2)), used for the Art. 27 digital types;
	// empty means Establishment. EURepresentative is the Member State of the
	// representative of an Art. 27 type not established in the Union
	// (Art. 26(3)). ServiceCountries are the Member States where services
	// are provided (used for PECN/PECS); empty means Establishment.
	Establishment     string   `json:"establishment,omitempty"`
	MainEstablishment string   `json:"main_establishment,omitempty"`
	EURepresentative  string   `json:"eu_representative,omitempty"`
	ServiceCountries  []string `json:"service_countries,omitempty"`

	QualifiedTrustService bool           `json:"qualified_trust_service,omitempty"`
	DNSRootServerOnly     bool           `json:"dns_root_server_only,omitempty"`
	PAFunction            PAFunction     `json:"public_administration_function,omitempty"`
	PARiskAssessed        bool           `json:"pa_risk_assessed,omitempty"`
	CERCriticalEntity     bool           `json:"cer_critical_entity,omitempty"`
	Identification        Identification `json:"identification,omitempty"`
	IdentificationGround  Ground         `json:"identification_ground,omitempty"`
	DORAExempt            bool           `json:"dora_exempt,omitempty"`
}

// DefaultCountry is the establishment assumed when none is given.
const DefaultCountry = "BE"

// maxFactsBytes bounds the facts document.
const maxFactsBytes = 1 << 20

// ParseFacts reads one JSON object of facts and validates it. Problems are
// reported together as an errs.Invalid error whose fields are JSON paths
// such as "entity_types[1]" or "group.staff": every unknown field and every
// invalid fact; a value of the wrong type is reported alone.
func ParseFacts(r io.Reader) (Facts, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxFactsBytes+1))
	if err != nil {
		return Facts{}, fmt.Errorf("nis2: read facts: %w", err)
	}
	if len(b) > maxFactsBytes {
		return Facts{}, &errs.Error{Kind: errs.TooLarge, Code: "err.nis2.too_large", Args: map[string]any{"max": "1 MiB"}}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return Facts{}, errs.E(errs.Invalid, "err.nis2.empty")
	}
	var v errs.Validator
	unknown, err := unknownFields(b, &v)
	if err != nil {
		return Facts{}, err
	}
	var f Facts
	dec := json.NewDecoder(bytes.NewReader(b))
	if !unknown {
		dec.DisallowUnknownFields() // a second guard; unknownFields names them with their path
	}
	if err := dec.Decode(&f); err != nil {
		err = decodeError(err)
		if !unknown || !addFields(&v, err) {
			return Facts{}, err
		}
		return Facts{}, v.Err()
	}
	addFields(&v, f.Validate())
	if err := v.Err(); err != nil {
		return Facts{}, err
	}
	return f, nil
}

// addFields adds the field errors of err to v and reports whether it had
// any.
func addFields(v *errs.Validator, err error) bool {
	e, ok := errs.As(err)
	if !ok || len(e.Fields) == 0 {
		return false
	}
	for _, fe := range e.Fields {
		v.Add(fe.Field, fe.Code, fe.Args)
	}
	return true
}

// unknownFields reports every member of the facts object, and of its group,
// that Facts does not define, with its path, and whether there was any. It
// returns an error when the input is not a JSON object.
func unknownFields(b []byte, v *errs.Validator) (bool, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return false, errs.E(errs.Invalid, "err.nis2.not_object")
		}
		return false, decodeError(err)
	}
	unknown := false
	check := func(prefix string, m map[string]json.RawMessage, t reflect.Type) {
		known := jsonNames(t)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if !known[k] {
				v.Add(prefix+k, "err.nis2.unknown_field", nil)
				unknown = true
			}
		}
	}
	check("", top, reflect.TypeFor[Facts]())
	if raw, ok := top["group"]; ok {
		var g map[string]json.RawMessage
		if json.Unmarshal(raw, &g) == nil { // a wrong type is reported by the decoder
			check("group.", g, reflect.TypeFor[Group]())
		}
	}
	return unknown, nil
}

// jsonNames lists the JSON member names of struct type t, following
// embedded structs as encoding/json does.
func jsonNames(t reflect.Type) map[string]bool {
	names := map[string]bool{}
	for sf := range t.Fields() {
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if sf.Anonymous && name == "" {
			for n := range jsonNames(sf.Type) {
				names[n] = true
			}
			continue
		}
		if name != "" && name != "-" {
			names[name] = true
		}
	}
	return names
}

// decodeError maps an encoding/json error to an errs.Invalid error.
func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := jsonPath(te.Field)
		if field == "" {
			return errs.E(errs.Invalid, "err.nis2.not_object")
		}
		return errs.Field(field, wantCode(te.Type), nil)
	case errors.As(err, &se) && strings.Contains(se.Error(), "unexpected end"):
		return &errs.Error{Kind: errs.Invalid, Code: "err.nis2.truncated", Err: err}
	case errors.As(err, &se):
		return &errs.Error{Kind: errs.Invalid, Code: "err.nis2.malformed", Args: map[string]any{"offset": se.Offset}, Err: err}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &errs.Error{Kind: errs.Invalid, Code: "err.nis2.truncated", Err: err}
	default:
		return fmt.Errorf("nis2: decode facts: %w", err)
	}
}

// jsonPath drops the names of embedded Go structs ("Figures") from the path
// of an UnmarshalTypeError, leaving the JSON member names.
func jsonPath(p string) string {
	var out []string
	for _, seg := range strings.Split(p, ".") {
		if seg != "" && !(seg[0] >= 'A' && seg[0] <= 'Z') {
			out = append(out, seg)
		}
	}
	return strings.Join(out, ".")
}

// wantCode names the kind of value a field expects.
func wantCode(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Float64:
		return "err.nis2.want_number"
	case reflect.Bool:
		return "err.nis2.want_bool"
	case reflect.String:
		return "err.nis2.want_text"
	case reflect.Slice:
		return "err.nis2.want_list"
	default:
		return "err.nis2.want_object"
	}
}

// Validate reports every problem of the facts at once, as an errs.Invalid
// error with one field error per problem, or nil.
func (f Facts) Validate() error {
	var v errs.Validator
	types := f.validateTypes(&v)
	f.Figures.validate(&v, "", "err.nis2")
	if g := f.Group; g != nil {
		g.Figures.validate(&v, "group.", "err.nis2.group")
		g.notBelow(&v, f.Figures)
	}
	country(&v, "establishment", f.Establishment)
	country(&v, "main_establishment", f.MainEstablishment)
	country(&v, "eu_representative", f.EURepresentative)
	for i, c := range f.ServiceCountries {
		country(&v, fmt.Sprintf("service_countries[%d]", i), c)
	}
	switch f.PAFunction {
	case "", NationalSecurity, PublicSecurity, Defence, LawEnforcement:
	default:
		v.Add("public_administration_function", "err.nis2.pa_function", nil)
	}
	f.validateIdentification(&v)
	needsType(&v, types, f.QualifiedTrustService, "qualified_trust_service", typeTrustService)
	needsType(&v, types, f.DNSRootServerOnly, "dns_root_server_only", typeDNS)
	needsType(&v, types, f.PARiskAssessed, "pa_risk_assessed", typeRegionalPA)
	return v.Err()
}

// validateTypes checks the entity types and returns the known ones.
func (f Facts) validateTypes(v *errs.Validator) map[string]bool {
	known := map[string]bool{}
	if len(f.EntityTypes) == 0 {
		v.Add("entity_types", "err.nis2.types_required", nil)
	}
	for i, code := range f.EntityTypes {
		field := fmt.Sprintf("entity_types[%d]", i)
		switch _, ok := Type(code); {
		case !ok:
			v.Add(field, "err.nis2.unknown_type", map[string]any{"code": code})
		case known[code]:
			v.Add(field, "err.nis2.duplicate_type", map[string]any{"code": code})
		default:
			known[code] = true
		}
	}
	return known
}

// validate checks that every figure is present and not negative. The
// message keys are prefix+".staff_required" and so on.
func (fg Figures) validate(v *errs.Validator, path, prefix string) {
	for _, x := range []struct {
		name, key string
		val       *float64
	}{
		{"staff", "staff", fg.Staff},
		{"annual_turnover_eur", "turnover", fg.TurnoverEUR},
		{"balance_sheet_eur", "balance", fg.BalanceSheetEUR},
	} {
		switch {
		case x.val == nil:
			v.Add(path+x.name, prefix+"."+x.key+"_required", nil)
		case *x.val < 0:
			v.Add(path+x.name, "err.nis2.negative", nil)
		}
	}
}

// notBelow checks that consolidated figures include the entity's own.
func (g Group) notBelow(v *errs.Validator, own Figures) {
	for _, x := range []struct {
		name     string
		grp, own *float64
	}{
		{"staff", g.Staff, own.Staff},
		{"annual_turnover_eur", g.TurnoverEUR, own.TurnoverEUR},
		{"balance_sheet_eur", g.BalanceSheetEUR, own.BalanceSheetEUR},
	} {
		if x.grp != nil && x.own != nil && *x.grp >= 0 && *x.grp < *x.own {
			v.Add("group."+x.name, "err.nis2.group_below_own", map[string]any{"own": strconv.FormatFloat(*x.own, 'f', -1, 64)})
		}
	}
}

func (f Facts) validateIdentification(v *errs.Validator) {
	switch f.Identification {
	case "", IdentifiedEssential, IdentifiedImportant:
	default:
		v.Add("identification", "err.nis2.identification", nil)
		return
	}
	switch f.IdentificationGround {
	case "":
		if f.Identification != "" {
			v.Add("identification_ground", "err.nis2.ground_required", nil)
		}
	case SoleProvider, PublicSafety, SystemicRisk, NationalImportance, NIS1OES:
		switch {
		case f.Identification == "":
			v.Add("identification_ground", "err.nis2.ground_without_identification", nil)
		case f.IdentificationGround == NIS1OES && f.Identification != IdentifiedEssential:
			v.Add("identification_ground", "err.nis2.nis1_oes_essential", nil)
		}
	default:
		v.Add("identification_ground", "err.nis2.ground", nil)
	}
}

// country checks an optional ISO 3166 alpha-2 code in capitals.
func country(v *errs.Validator, field, c string) {
	if c == "" {
		return
	}
	ok := len(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z'
	v.Check(ok, field, "err.nis2.country")
}

// needsType reports an attribute set for a type the facts do not list.
func needsType(v *errs.Validator, types map[string]bool, set bool, field, code string) {
	if set && !types[code] {
		v.Add(field, "err.nis2.needs_type", map[string]any{"type": code})
	}
}
