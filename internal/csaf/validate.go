// Package csaf validates CSAF 2.0 documents (OASIS Common Security
// Advisory Framework, section 6): the JSON schema, the mandatory tests
// 6.1.x (a failure makes a document invalid), the optional tests 6.2.x
// (warnings) and the informative tests 6.3.x (information) that need no
// network or dictionary. See docs/csaf.md and ../shared/domain/csaf.md.
package csaf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Level is the weight of a test's findings.
type Level int

// Levels of tests (CSAF 2.0 section 6).
const (
	Mandatory   Level = iota // 6.1: the document is invalid
	Optional                 // 6.2: a warning
	Informative              // 6.3: information
)

func (l Level) String() string {
	return [...]string{"mandatory", "optional", "informative"}[l]
}

// MarshalText writes the level's name.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// Preset selects the tests to run.
type Preset string

// Presets: the schema and the mandatory tests, plus the optional ones, or
// every test.
const (
	PresetMandatory   Preset = "mandatory"
	PresetOptional    Preset = "optional"
	PresetInformative Preset = "informative"
	PresetAll         Preset = "all"
)

// ParsePreset reads a preset name.
func ParsePreset(s string) (Preset, error) {
	switch p := Preset(s); p {
	case PresetMandatory, PresetOptional, PresetInformative, PresetAll:
		return p, nil
	}
	return "", fmt.Errorf("csaf: preset %q: want mandatory, optional, informative or all", s)
}

// runs reports whether the preset runs tests of level l. The optional
// preset runs the mandatory and the optional tests, the informative one
// the mandatory and the informative tests, all of them every test.
func (p Preset) runs(l Level) bool {
	switch l {
	case Mandatory:
		return true
	case Optional:
		return p == PresetOptional || p == PresetAll
	default:
		return p == PresetInformative || p == PresetAll
	}
}

// Finding is one failure of one test: Test is its number ("6.1.1", or
// "schema" for the JSON schema), Path the JSON pointer of what failed
// ("/product_tree/branches/0/product/product_id").
type Finding struct {
	Test    string `json:"test"`
	Level   Level  `json:"level"`
	Path    string `json:"path"`
	Message string `json:"message"`
}

// Report is the outcome of a validation. Valid is false when the schema
// or a mandatory test failed.
type Report struct {
	Valid    bool      `json:"valid"`
	Findings []Finding `json:"findings"`
}

// Doc is a decoded document. Numbers are json.Number, so that a test sees
// them as written.
type Doc struct {
	Root map[string]any
	raw  []byte
}

// Raw returns the document's bytes as given.
func (d *Doc) Raw() []byte { return d.raw }

// A check runs one test over a document and returns its findings.
type check func(d *Doc) []Finding

type test struct {
	id    string
	level Level
	run   check
}

var registry []test

// register adds a test; the files of this package register theirs in
// init. An id registered twice is a programming error.
func register(id string, level Level, run check) {
	for _, t := range registry {
		if t.id == id {
			panic("csaf: test " + id + " registered twice")
		}
	}
	registry = append(registry, test{id: id, level: level, run: run})
}

// Tests lists the ids of the tests this validator runs, in order.
func Tests() []string {
	out := make([]string, 0, len(registry))
	for _, t := range registry {
		out = append(out, t.id)
	}
	slices.SortFunc(out, compareIDs)
	return out
}

// compareIDs orders "6.1.2" before "6.1.10".
func compareIDs(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		if len(pa[i]) != len(pb[i]) {
			return len(pa[i]) - len(pb[i])
		}
		if c := strings.Compare(pa[i], pb[i]); c != 0 {
			return c
		}
	}
	return len(pa) - len(pb)
}

// Parse decodes a document. A document that is not one JSON object is an
// error.
func Parse(raw []byte) (*Doc, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("csaf: not a JSON object: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("csaf: data after the JSON object")
	}
	return &Doc{Root: root, raw: raw}, nil
}

// Validate checks the document against the schema and the tests of the
// preset. The schema's findings come first, then each test's in order.
func Validate(raw []byte, preset Preset) (*Report, error) {
	d, err := Parse(raw)
	if err != nil {
		return nil, err
	}
	rep := &Report{Valid: true, Findings: []Finding{}}
	for _, f := range schemaCheck(d) {
		f.Test, f.Level = "schema", Mandatory
		rep.Findings = append(rep.Findings, f)
		rep.Valid = false
	}
	ts := slices.Clone(registry)
	slices.SortFunc(ts, func(a, b test) int { return compareIDs(a.id, b.id) })
	for _, t := range ts {
		if !preset.runs(t.level) {
			continue
		}
		for _, f := range t.run(d) {
			f.Test, f.Level = t.id, t.level
			rep.Findings = append(rep.Findings, f)
			if t.level == Mandatory {
				rep.Valid = false
			}
		}
	}
	return rep, nil
}

// schemaCheck validates against the CSAF 2.0 JSON schema (schema.go); it
// is a variable so that the package builds before the schema validator
// exists.
var schemaCheck = func(d *Doc) []Finding { return nil }
