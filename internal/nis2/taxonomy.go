// Package nis2 classifies an organisation under the NIS2 Directive (EU)
// 2022/2555 as transposed in Belgium: from a few facts (entity types, size,
// establishment, decisions of the authority) it derives whether the
// organisation is an essential or an important entity, only a domain name
// registrar, or out of scope, with the rule, the legal references and a
// trace of every check. It is pure code: no I/O beyond decoding facts, no
// database.
package nis2

import "strings"

// Annexes of the directive.
const (
	AnnexI  = "I"
	AnnexII = "II"
)

// EntityType is one type of entity of Annex I or II (or the registrar,
// which is outside the annexes). Code is stable: sector.subsector.type or
// sector.type.
type EntityType struct {
	Code      string `json:"code"`
	Sector    string `json:"sector"`
	Subsector string `json:"subsector,omitempty"` // full code, such as "energy.electricity"
	Annex     string `json:"annex"`               // "I", "II" or "" (registrar)
	Point     string `json:"point"`               // "Annex I, point 1(a)"
	Ref       string `json:"ref"`                 // the act that defines the type
}

// Subsector groups the types of an annex subsector such as energy.gas.
type Subsector struct {
	Code  string       `json:"code"` // "energy.gas"
	Point string       `json:"point"`
	Types []EntityType `json:"types"`
}

// Sector is an annex sector with its subsectors (if any) and all its types.
type Sector struct {
	Code       string       `json:"code"`
	Annex      string       `json:"annex"`
	Point      string       `json:"point"`
	Subsectors []Subsector  `json:"subsectors,omitempty"`
	Types      []EntityType `json:"types"`
}

const dirNIS2 = "Directive (EU) 2022/2555, "

// sectorPoints gives the annex point of each sector and subsector, in annex
// order.
var sectorPoints = []struct{ code, annex, point string }{
	{"energy", AnnexI, "1"},
	{"energy.electricity", AnnexI, "1(a)"},
	{"energy.district_heating", AnnexI, "1(b)"},
	{"energy.oil", AnnexI, "1(c)"},
	{"energy.gas", AnnexI, "1(d)"},
	{"energy.hydrogen", AnnexI, "1(e)"},
	{"transport", AnnexI, "2"},
	{"transport.air", AnnexI, "2(a)"},
	{"transport.rail", AnnexI, "2(b)"},
	{"transport.water", AnnexI, "2(c)"},
	{"transport.road", AnnexI, "2(d)"},
	{"banking", AnnexI, "3"},
	{"fmi", AnnexI, "4"},
	{"health", AnnexI, "5"},
	{"drinking_water", AnnexI, "6"},
	{"waste_water", AnnexI, "7"},
	{"digital_infra", AnnexI, "8"},
	{"ict_b2b", AnnexI, "9"},
	{"public_admin", AnnexI, "10"},
	{"space", AnnexI, "11"},
	{"postal", AnnexII, "1"},
	{"waste", AnnexII, "2"},
	{"chemicals", AnnexII, "3"},
	{"food", AnnexII, "4"},
	{"manufacturing", AnnexII, "5"},
	{"digital_provider", AnnexII, "6"},
	{"research", AnnexII, "7"},
	{"registrar", "", ""},
}

// typeTable lists every entity type in annex order: code, annex point
// (empty: the point of its sector or subsector) and defining act.
var typeTable = []struct{ code, point, ref string }{
	{"energy.electricity.supply_undertaking", "", "Directive (EU) 2019/944, Art. 2(57) and 2(12)"},
	{"energy.electricity.dso", "", "Directive (EU) 2019/944, Art. 2(29)"},
	{"energy.electricity.tso", "", "Directive (EU) 2019/944, Art. 2(35)"},
	{"energy.electricity.producer", "", "Directive (EU) 2019/944, Art. 2(38)"},
	{"energy.electricity.nemo", "", "Regulation (EU) 2019/943, Art. 2(8)"},
	{"energy.electricity.market_participant", "", "Regulation (EU) 2019/943, Art. 2(25)"},
	{"energy.electricity.recharging_operator", "", dirNIS2 + "Annex I, point 1(a)"},
	{"energy.district_heating.operator", "", "Directive (EU) 2018/2001, Art. 2(19)"},
	{"energy.oil.pipeline_operator", "", dirNIS2 + "Annex I, point 1(c)"},
	{"energy.oil.facility_operator", "", dirNIS2 + "Annex I, point 1(c)"},
	{"energy.oil.central_stockholding", "", "Council Directive 2009/119/EC, Art. 2(f)"},
	{"energy.gas.supply_undertaking", "", "Directive 2009/73/EC, Art. 2(8)"},
	{"energy.gas.dso", "", "Directive 2009/73/EC, Art. 2(6)"},
	{"energy.gas.tso", "", "Directive 2009/73/EC, Art. 2(4)"},
	{"energy.gas.storage_operator", "", "Directive 2009/73/EC, Art. 2(10)"},
	{"energy.gas.lng_operator", "", "Directive 2009/73/EC, Art. 2(12)"},
	{"energy.gas.natural_gas_undertaking", "", "Directive 2009/73/EC, Art. 2(1)"},
	{"energy.gas.refining_operator", "", dirNIS2 + "Annex I, point 1(d)"},
	{"energy.hydrogen.operator", "", dirNIS2 + "Annex I, point 1(e)"},
	{"transport.air.carrier", "", "Regulation (EC) No 300/2008, Art. 3(4)"},
	{"transport.air.airport", "", "Directive 2009/12/EC, Art. 2(1) and 2(2)"},
	{"transport.air.atc", "", "Regulation (EC) No 549/2004, Art. 2(1)"},
	{"transport.rail.infrastructure_manager", "", "Directive 2012/34/EU, Art. 3(2)"},
	{"transport.rail.railway_undertaking", "", "Directive 2012/34/EU, Art. 3(1) and 3(12)"},
	{"transport.water.company", "", "Regulation (EC) No 725/2004, Annex I"},
	{"transport.water.port_body", "", "Directive 2005/65/EC, Art. 3(1)"},
	{"transport.water.vts_operator", "", "Directive 2002/59/EC, Art. 3(o)"},
	{"transport.road.road_authority", "", "Commission Delegated Regulation (EU) 2015/962, Art. 2(12)"},
	{"transport.road.its_operator", "", "Directive 2010/40/EU, Art. 4(1)"},
	{"banking.credit_institution", "", "Regulation (EU) No 575/2013, Art. 4(1), point (1)"},
	{"fmi.trading_venue", "", "Directive 2014/65/EU, Art. 4(1), point (24)"},
	{"fmi.ccp", "", "Regulation (EU) No 648/2012, Art. 2(1)"},
	{"health.provider", "", "Directive 2011/24/EU, Art. 3(g)"},
	{"health.eu_reference_lab", "", "Regulation (EU) 2022/2371, Art. 15"},
	{"health.medicinal_rnd", "", "Directive 2001/83/EC, Art. 1(2)"},
	{"health.pharma_manufacturer", "", "NACE Rev. 2, section C, division 21"},
	{"health.critical_device_manufacturer", "", "Regulation (EU) 2022/123, Art. 22"},
	{"drinking_water.supplier", "", "Directive (EU) 2020/2184, Art. 2(1)(a)"},
	{"waste_water.undertaking", "", "Council Directive 91/271/EEC, Art. 2(1) to 2(3)"},
	{"digital_infra.ixp", "", dirNIS2 + "Art. 6(18)"},
	{"digital_infra.dns", "", dirNIS2 + "Art. 6(20)"},
	{"digital_infra.tld_registry", "", dirNIS2 + "Art. 6(21)"},
	{"digital_infra.cloud", "", dirNIS2 + "Art. 6(30)"},
	{"digital_infra.data_centre", "", dirNIS2 + "Art. 6(31)"},
	{"digital_infra.cdn", "", dirNIS2 + "Art. 6(32)"},
	{"digital_infra.trust_service", "", "Regulation (EU) No 910/2014, Art. 3(19) and 3(20)"},
	{"digital_infra.pecn", "", "Directive (EU) 2018/1972, Art. 2(8)"},
	{"digital_infra.pecs", "", "Directive (EU) 2018/1972, Art. 2(4)"},
	{"ict_b2b.msp", "", dirNIS2 + "Art. 6(39)"},
	{"ict_b2b.mssp", "", dirNIS2 + "Art. 6(40)"},
	{"public_admin.central", "", dirNIS2 + "Art. 6(35); Annex I, point 10"},
	{"public_admin.regional", "", dirNIS2 + "Art. 6(35); Annex I, point 10"},
	{"space.ground_infra", "", dirNIS2 + "Annex I, point 11"},
	{"postal.provider", "", "Directive 97/67/EC, Art. 2(1a)"},
	{"waste.undertaking", "", "Directive 2008/98/EC, Art. 3(9)"},
	{"chemicals.undertaking", "", "Regulation (EC) No 1907/2006, Art. 3(3), 3(9) and 3(14)"},
	{"food.business", "", "Regulation (EC) No 178/2002, Art. 3(2)"},
	{"manufacturing.medical_devices", "5(a)", "Regulation (EU) 2017/745, Art. 2(1); Regulation (EU) 2017/746, Art. 2(2)"},
	{"manufacturing.computer_electronic_optical", "5(b)", "NACE Rev. 2, section C, division 26"},
	{"manufacturing.electrical_equipment", "5(c)", "NACE Rev. 2, section C, division 27"},
	{"manufacturing.machinery", "5(d)", "NACE Rev. 2, section C, division 28"},
	{"manufacturing.motor_vehicles", "5(e)", "NACE Rev. 2, section C, division 29"},
	{"manufacturing.other_transport", "5(f)", "NACE Rev. 2, section C, division 30"},
	{"digital_provider.marketplace", "", "Directive 2005/29/EC, Art. 2(n)"},
	{"digital_provider.search_engine", "", "Regulation (EU) 2019/1150, Art. 2(5)"},
	{"digital_provider.social_network", "", dirNIS2 + "Art. 6(33)"},
	{"research.organisation", "", dirNIS2 + "Art. 6(41)"},
	{Registrar, "", dirNIS2 + "Art. 6(22)"},
}

// Codes the rules single out.
const (
	Registrar         = "registrar"
	typeDNS           = "digital_infra.dns"
	typeTLD           = "digital_infra.tld_registry"
	typeTrustService  = "digital_infra.trust_service"
	typePECN          = "digital_infra.pecn"
	typePECS          = "digital_infra.pecs"
	typeCentralPA     = "public_admin.central"
	typeRegionalPA    = "public_admin.regional"
	typeResearch      = "research.organisation"
	sectorBanking     = "banking"
	sectorFMI         = "fmi"
	sectorPublicAdmin = "public_admin"
)

// art27 lists the digital types registered under Art. 27 and under the
// jurisdiction of their main establishment (Art. 26(1)(b)).
var art27 = map[string]bool{
	typeDNS: true, typeTLD: true, Registrar: true,
	"digital_infra.cloud": true, "digital_infra.data_centre": true, "digital_infra.cdn": true,
	"ict_b2b.msp": true, "ict_b2b.mssp": true,
	"digital_provider.marketplace": true, "digital_provider.search_engine": true, "digital_provider.social_network": true,
}

// taxonomy is built once from the tables; it is never modified afterwards.
var taxonomy = buildTaxonomy()

type index struct {
	sectors []Sector
	types   []EntityType
	byCode  map[string]EntityType
}

func buildTaxonomy() index {
	points := map[string]struct{ annex, point string }{}
	for _, p := range sectorPoints {
		points[p.code] = struct{ annex, point string }{p.annex, p.point}
	}
	ix := index{byCode: map[string]EntityType{}}
	for _, row := range typeTable {
		parts := strings.Split(row.code, ".")
		t := EntityType{Code: row.code, Sector: parts[0], Ref: row.ref}
		where := t.Sector
		if len(parts) == 3 {
			t.Subsector = parts[0] + "." + parts[1]
			where = t.Subsector
		}
		t.Annex = points[t.Sector].annex
		p := row.point
		if p == "" {
			p = points[where].point
		}
		if t.Annex != "" {
			t.Point = "Annex " + t.Annex + ", point " + p
		}
		ix.types = append(ix.types, t)
		ix.byCode[t.Code] = t
	}
	for _, p := range sectorPoints {
		if strings.Contains(p.code, ".") {
			continue
		}
		s := Sector{Code: p.code, Annex: p.annex}
		if p.annex != "" {
			s.Point = "Annex " + p.annex + ", point " + p.point
		}
		for _, sp := range sectorPoints {
			if strings.HasPrefix(sp.code, p.code+".") {
				s.Subsectors = append(s.Subsectors, Subsector{Code: sp.code, Point: "Annex " + sp.annex + ", point " + sp.point})
			}
		}
		for _, t := range ix.types {
			if t.Sector != s.Code {
				continue
			}
			s.Types = append(s.Types, t)
			for i := range s.Subsectors {
				if s.Subsectors[i].Code == t.Subsector {
					s.Subsectors[i].Types = append(s.Subsectors[i].Types, t)
				}
			}
		}
		ix.sectors = append(ix.sectors, s)
	}
	return ix
}

// Sectors returns the sectors in annex order (Annex I, Annex II, then the
// registrar outside the annexes). The result is a copy.
func Sectors() []Sector {
	out := make([]Sector, len(taxonomy.sectors))
	for i, s := range taxonomy.sectors {
		s.Types = append([]EntityType(nil), s.Types...)
		subs := make([]Subsector, len(s.Subsectors))
		for j, sub := range s.Subsectors {
			sub.Types = append([]EntityType(nil), sub.Types...)
			subs[j] = sub
		}
		if s.Subsectors != nil {
			s.Subsectors = subs
		}
		out[i] = s
	}
	return out
}

// Types returns every entity type in annex order.
func Types() []EntityType { return append([]EntityType(nil), taxonomy.types...) }

// Type returns the entity type with code.
func Type(code string) (EntityType, bool) {
	t, ok := taxonomy.byCode[code]
	return t, ok
}

// LabelKey is the i18n message key of the type's name, such as
// "nis2.type.energy.electricity.dso".
func (t EntityType) LabelKey() string { return TypeLabelKey(t.Code) }

// MainEstablishment reports whether the type falls under the jurisdiction
// of its main establishment and registers under Art. 27.
func (t EntityType) MainEstablishment() bool { return art27[t.Code] }

// LabelKey is the i18n message key of the sector's name.
func (s Sector) LabelKey() string { return SectorLabelKey(s.Code) }

// LabelKey is the i18n message key of the subsector's name.
func (s Subsector) LabelKey() string { return SubsectorLabelKey(s.Code) }

// TypeLabelKey returns the message key of an entity type's name.
func TypeLabelKey(code string) string { return "nis2.type." + code }

// SectorLabelKey returns the message key of a sector's name.
func SectorLabelKey(code string) string { return "nis2.sector." + code }

// SubsectorLabelKey returns the message key of a subsector's name, such as
// "nis2.subsector.energy.gas".
func SubsectorLabelKey(code string) string { return "nis2.subsector." + code }
