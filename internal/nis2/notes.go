package nis2

import "slices"

// Periods for reporting changes of registration data (nis2.md §2.4).
const (
	UpdateWithin2Weeks  = "P14D" // Art. 3(4)
	UpdateWithin3Months = "P3M"  // Art. 27(3)
)

// dora is the lex specialis note for banks and financial market
// infrastructures (Art. 4).
var dora = LexSpecialis{
	Act:       refDORA,
	Reference: art("4"),
	Key:       "nis2.lex.dora",
	Note: "DORA imposes at least equivalent ICT risk-management and incident-reporting duties on financial entities, " +
		"so the NIS2 measures, reporting and supervision do not apply to them; the classification still stands",
}

// addObligations sets the registration period and the lex specialis of an
// entity in scope.
func (d *Decision) addObligations(f Facts) {
	if d.Class == OutOfScope {
		return
	}
	t, _ := Type(d.EntityType)
	if t.MainEstablishment() {
		d.RegistrationUpdateWithin = UpdateWithin3Months
	} else {
		d.RegistrationUpdateWithin = UpdateWithin2Weeks
	}
	if d.Class == RegistrarOnly {
		return
	}
	for _, code := range f.EntityTypes {
		if t, _ := Type(code); t.Sector == sectorBanking || t.Sector == sectorFMI {
			l := dora
			d.LexSpecialis = &l
			return
		}
	}
}

// notes returns the remarks that go with a decision, in English.
func notes(f Facts, o Options, sz sizing, d Decision) []string {
	var n []string
	switch d.RegistrationUpdateWithin {
	case UpdateWithin2Weeks:
		n = append(n, "Register with the authority; changes to the registration data must be reported within 2 weeks (Art. 3(4)).")
	case UpdateWithin3Months:
		n = append(n, "Register with the authority under Art. 27; changes to the registration data must be reported within 3 months (Art. 27(3)).")
	}
	switch d.Class {
	case Essential:
		n = append(n, "Essential entities are supervised ex ante and ex post (Art. 32).")
	case Important:
		n = append(n, "Important entities are supervised ex post, on evidence or indication of non-compliance (Art. 33).")
	case RegistrarOnly:
		n = append(n, "Domain name registration data must be collected, kept accurate and made available as Art. 28 requires; Art. 21 and 23 do not apply as such.")
	}
	if f.Group != nil && sz.on == "own" {
		n = append(n, "Sized on the entity's own figures: this assumes the authority disregards the group because the network and information systems are independent (BE NIS2 law, Art. 3 §2).")
	}
	if slices.Contains(f.EntityTypes, typeResearch) {
		n = append(n, "Whether the Belgian annex includes research organisations is unverified; the option research_in_scope decides (now "+onOff(o.ResearchInScope)+").")
	}
	if slices.Contains(f.EntityTypes, typeCentralPA) || slices.Contains(f.EntityTypes, typeRegionalPA) {
		n = append(n, "Public administration scope follows Art. 2(2)(f) only; the Belgian list of public administration entities is unverified and the authority may identify others.")
	}
	if rules[d.Rule].sized {
		n = append(n, "Size is read from the last approved accounts; the category changes only when a ceiling is crossed in two consecutive financial years (Recommendation 2003/361/EC, Annex, Art. 4(2); unverified).")
	}
	return n
}

func onOff(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
