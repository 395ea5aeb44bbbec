package nis2

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/belfry-cert/belfry/internal/i18n"
)

func TestTaxonomy(t *testing.T) {
	t.Parallel()
	types := Types()
	annex := map[string]int{}
	seen := map[string]bool{}
	for _, ty := range types {
		if seen[ty.Code] {
			t.Errorf("code %s listed twice", ty.Code)
		}
		seen[ty.Code] = true
		annex[ty.Annex]++
		if got, ok := Type(ty.Code); !ok || got != ty {
			t.Errorf("Type(%s) = %+v, %v", ty.Code, got, ok)
		}
		if ty.Ref == "" || !strings.HasPrefix(ty.Code, ty.Sector) || (ty.Annex != "") != strings.HasPrefix(ty.Point, "Annex "+ty.Annex+", point ") {
			t.Errorf("type %+v is incomplete", ty)
		}
	}
	// nis2.md §1.2 and §1.3 with the a/.b rows expanded, plus the registrar.
	if len(types) != 68 || annex[AnnexI] != 53 || annex[AnnexII] != 14 || annex[""] != 1 {
		t.Errorf("%d types: %v by annex, want 68: 53 in I, 14 in II, 1 outside", len(types), annex)
	}
	for code := range art27 {
		if !seen[code] {
			t.Errorf("Art. 27 list names unknown type %s", code)
		}
	}
	if _, ok := Type("energy.gas"); ok {
		t.Error(`Type("energy.gas") found a subsector`)
	}
}

func TestTypeDetails(t *testing.T) {
	t.Parallel()
	tests := []struct{ code, sector, subsector, annex, point, ref string }{
		{"energy.gas.dso", "energy", "energy.gas", "I", "Annex I, point 1(d)", "Directive 2009/73/EC, Art. 2(6)"},
		{"energy.gas.tso", "energy", "energy.gas", "I", "Annex I, point 1(d)", "Directive 2009/73/EC, Art. 2(4)"},
		{"transport.road.its_operator", "transport", "transport.road", "I", "Annex I, point 2(d)", "Directive 2010/40/EU, Art. 4(1)"},
		{"digital_infra.dns", "digital_infra", "", "I", "Annex I, point 8", "Directive (EU) 2022/2555, Art. 6(20)"},
		{"manufacturing.machinery", "manufacturing", "", "II", "Annex II, point 5(d)", "NACE Rev. 2, section C, division 28"},
		{"research.organisation", "research", "", "II", "Annex II, point 7", "Directive (EU) 2022/2555, Art. 6(41)"},
		{"registrar", "registrar", "", "", "", "Directive (EU) 2022/2555, Art. 6(22)"},
	}
	for _, tt := range tests {
		got, ok := Type(tt.code)
		want := EntityType{tt.code, tt.sector, tt.subsector, tt.annex, tt.point, tt.ref}
		if !ok || got != want {
			t.Errorf("Type(%s) = %+v, want %+v", tt.code, got, want)
		}
	}
	if ty, _ := Type("digital_infra.cloud"); !ty.MainEstablishment() {
		t.Error("cloud is not under its main establishment")
	}
	if ty, _ := Type("digital_infra.pecn"); ty.MainEstablishment() {
		t.Error("PECN is under its main establishment")
	}
}

func TestSectors(t *testing.T) {
	t.Parallel()
	ss := Sectors()
	var codes []string
	inSector := map[string]int{}
	for _, s := range ss {
		codes = append(codes, s.Code)
		for _, ty := range s.Types {
			inSector[ty.Code]++
			if ty.Sector != s.Code || ty.Annex != s.Annex {
				t.Errorf("type %s in sector %s (annex %s)", ty.Code, s.Code, s.Annex)
			}
		}
		n := 0
		for _, sub := range s.Subsectors {
			for _, ty := range sub.Types {
				n++
				if ty.Subsector != sub.Code {
					t.Errorf("type %s in subsector %s", ty.Code, sub.Code)
				}
			}
		}
		if len(s.Subsectors) > 0 && n != len(s.Types) {
			t.Errorf("sector %s: %d types in subsectors, %d in all", s.Code, n, len(s.Types))
		}
	}
	want := "energy transport banking fmi health drinking_water waste_water digital_infra ict_b2b public_admin space " +
		"postal waste chemicals food manufacturing digital_provider research registrar"
	if got := strings.Join(codes, " "); got != want {
		t.Errorf("Sectors() = %s\nwant        %s", got, want)
	}
	for _, ty := range Types() {
		if inSector[ty.Code] != 1 {
			t.Errorf("type %s is in %d sectors", ty.Code, inSector[ty.Code])
		}
	}
	if ss[0].Point != "Annex I, point 1" || ss[0].Subsectors[3].Code != "energy.gas" || ss[0].Subsectors[3].Point != "Annex I, point 1(d)" {
		t.Errorf("energy = %+v", ss[0])
	}
	// Sectors returns a copy.
	ss[0].Types[0].Code = "changed"
	ss[0].Subsectors[0].Types[0].Code = "changed"
	if Sectors()[0].Types[0].Code == "changed" || Sectors()[0].Subsectors[0].Types[0].Code == "changed" {
		t.Error("Sectors() shares its slices")
	}
}

// TestLabels checks that everything the portal shows has a message in all
// four languages.
func TestLabels(t *testing.T) {
	t.Parallel()
	cat := i18n.MustLoad()
	var keys []string
	for _, s := range Sectors() {
		keys = append(keys, s.LabelKey())
		for _, sub := range s.Subsectors {
			keys = append(keys, sub.LabelKey())
		}
	}
	for _, ty := range Types() {
		keys = append(keys, ty.LabelKey())
	}
	for _, c := range []Class{Essential, Important, RegistrarOnly, OutOfScope} {
		keys = append(keys, c.LabelKey())
	}
	for _, s := range []Size{Micro, Small, Medium, Large} {
		keys = append(keys, s.LabelKey())
	}
	for _, r := range Rules() {
		keys = append(keys, ReasonKey(r))
	}
	keys = append(keys, dora.Key, "nis2.size_rule.strict", "nis2.size_rule.ccb_simplified")
	for _, k := range keys {
		for _, l := range i18n.Locales {
			if cat.T(l, k, nil) == k {
				t.Errorf("%s: no message for %s", l, k)
			}
		}
	}
	if got := cat.T("en", dora.Key, nil); got != dora.Note {
		t.Errorf("DORA note %q differs from the catalog %q", dora.Note, got)
	}
	if got := cat.T("nl", "nis2.type.energy.electricity.dso", nil); got != "Distributiesysteembeheerders voor elektriciteit" {
		t.Errorf("nl DSO label = %q", got)
	}
}

// TestRulesReachable checks that every rule has a class and is returned by
// some case of the classification tests, so that no rule is dead.
func TestRulesReachable(t *testing.T) {
	t.Parallel()
	used := map[string]bool{}
	for _, tt := range append(append([]classifyCase(nil), nis2md71...), edgeCases...) {
		used[tt.rule] = true
	}
	for _, r := range Rules() {
		if rules[r].class == "" || len(rules[r].refs) == 0 {
			t.Errorf("rule %s has no class or references", r)
		}
		if !used[r] && r != "NIS2.2.2.b" && r != "NIS2.2.2.d" && r != "NIS2.2.2.e" {
			t.Errorf("rule %s is not tested", r)
		}
	}
}

// TestDocSchemas keeps the JSON Schemas of docs/nis2-classification.md in
// step with the code: the type and rule lists, and the decision's members.
func TestDocSchemas(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "nis2-classification.md"))
	if err != nil {
		t.Fatal(err)
	}
	var schemas []map[string]any
	for _, block := range strings.Split(string(doc), "```json\n")[1:] {
		body, _, _ := strings.Cut(block, "```")
		var s map[string]any
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			t.Fatalf("schema block: %v", err)
		}
		schemas = append(schemas, s)
	}
	if len(schemas) != 2 {
		t.Fatalf("%d JSON blocks in the doc, want the facts and the decision schemas", len(schemas))
	}
	enum := func(s map[string]any, def string) []string {
		var out []string
		for _, v := range s["$defs"].(map[string]any)[def].(map[string]any)["enum"].([]any) {
			out = append(out, v.(string))
		}
		return out
	}
	var codes []string
	for _, ty := range Types() {
		codes = append(codes, ty.Code)
	}
	if got := enum(schemas[0], "entity_type"); !slices.Equal(got, codes) {
		t.Errorf("facts schema types = %v\nwant %v", got, codes)
	}
	if got := enum(schemas[1], "rule"); !slices.Equal(got, Rules()) {
		t.Errorf("decision schema rules = %v\nwant %v", got, Rules())
	}
	props := func(s map[string]any) []string {
		return slices.Sorted(maps.Keys(s["properties"].(map[string]any)))
	}
	d, err := Classify(fx(300, 1, 1, "fmi.ccp"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	b, _ := json.Marshal(d)
	json.Unmarshal(b, &m)
	if got := slices.Sorted(maps.Keys(m)); !slices.Equal(got, props(schemas[1])) {
		t.Errorf("decision members = %v\nschema has %v", got, props(schemas[1]))
	}
	if got := props(schemas[0]); !slices.Equal(got, slices.Sorted(maps.Keys(jsonNames(reflect.TypeFor[Facts]())))) {
		t.Errorf("facts schema members = %v", got)
	}
}
