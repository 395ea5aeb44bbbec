package nis2

import (
	"cmp"
	"slices"
	"strings"
)

// memberStates are the ISO 3166 alpha-2 codes of the EU Member States; EL
// is accepted for Greece as the EU institutions write it.
var memberStates = map[string]bool{
	"AT": true, "BE": true, "BG": true, "HR": true, "CY": true, "CZ": true, "DK": true, "EE": true, "FI": true,
	"FR": true, "DE": true, "GR": true, "EL": true, "HU": true, "IE": true, "IT": true, "LV": true, "LT": true,
	"LU": true, "MT": true, "NL": true, "PL": true, "PT": true, "RO": true, "SK": true, "SI": true, "ES": true, "SE": true,
}

// MemberState reports whether code is an EU Member State.
func MemberState(code string) bool { return memberStates[code] }

// jurisdictionOf applies Art. 26 to one entity type: which Member State has
// jurisdiction, and whether it is here. It also returns an explanation.
func jurisdictionOf(t EntityType, f Facts, here string) (Jurisdiction, string) {
	est := cmp.Or(f.Establishment, DefaultCountry)
	var j Jurisdiction
	var why string
	switch {
	case t.Code == typePECN || t.Code == typePECS:
		cs := f.ServiceCountries
		if len(cs) == 0 {
			cs = []string{est}
		}
		j = Jurisdiction{Rule: "NIS2.26.1.a", Basis: BasisServices, Countries: euOnly(cs)}
		why = "services provided in " + list(cs)
		j.InJurisdiction = slices.Contains(cs, here)
		j.Country = firstOr(j.Countries, here, j.InJurisdiction)
	case t.MainEstablishment():
		main := cmp.Or(f.MainEstablishment, est)
		switch {
		case MemberState(main):
			j = Jurisdiction{Country: main, Rule: "NIS2.26.1.b", Basis: BasisMainEstablishment}
			why = "main establishment in the Union: " + main
		case f.EURepresentative != "":
			j = Jurisdiction{Country: f.EURepresentative, Rule: "NIS2.26.3", Basis: BasisRepresentative}
			why = "main establishment " + main + " outside the Union; representative in " + f.EURepresentative
		default:
			cs := f.ServiceCountries
			j = Jurisdiction{Rule: "NIS2.26.3", Basis: BasisNoRepresentative, Countries: euOnly(cs)}
			j.InJurisdiction = slices.Contains(cs, here)
			j.Country = firstOr(j.Countries, here, j.InJurisdiction)
			why = "main establishment " + main + " outside the Union and no representative: each Member State where services are provided (" + list(cs) + ") may act"
			return j, why
		}
		j.InJurisdiction = j.Country == here
	case t.Sector == sectorPublicAdmin:
		j = Jurisdiction{Country: est, Rule: "NIS2.26.1.c", Basis: BasisEstablishingState, InJurisdiction: est == here}
		why = "established by " + est
	default:
		j = Jurisdiction{Country: est, Rule: "NIS2.26.1", Basis: BasisEstablishment, InJurisdiction: est == here}
		why = "established in " + est
	}
	if j.Country != "" && !MemberState(j.Country) {
		why += ", outside the Union: no Member State has jurisdiction under Art. 26"
		j.Country, j.InJurisdiction = "", false
	}
	return j, why
}

// euOnly keeps the Member States of cs.
func euOnly(cs []string) []string {
	var out []string
	for _, c := range cs {
		if MemberState(c) && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// firstOr returns here when it has jurisdiction, else the first of cs.
func firstOr(cs []string, here string, in bool) string {
	if in {
		return here
	}
	if len(cs) > 0 {
		return cs[0]
	}
	return ""
}

func list(cs []string) string {
	if len(cs) == 0 {
		return "none given"
	}
	return strings.Join(cs, ", ")
}
