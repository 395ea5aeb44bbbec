package crisis

import (
	"fmt"
	"regexp"
)

// Level is one step of an escalation scale. Its name and meaning are the
// catalog messages crisis.level.CODE and crisis.level.CODE.desc; a scale
// set by the authority may give Label instead for codes the catalog does
// not know.
type Level struct {
	Code   string `json:"code"`
	Number int    `json:"number"`
	// BEPhase is the phase of the Belgian emergency planning (Royal Decree
	// of 22 May 2019) the level corresponds to, if any: "federal".
	BEPhase string `json:"be_phase,omitempty"`
	// EULevel is the level of the EU Cyber Blueprint the level involves, if
	// any: "technical" (CSIRTs network), "operational" (EU-CyCLONe) or
	// "political" (Council, IPCR).
	EULevel string `json:"eu_level,omitempty"`
	// Label names a level of a custom scale that has no catalog message.
	Label string `json:"label,omitempty"`
}

// NameKey is the catalog key of the level's name.
func (l Level) NameKey() string { return "crisis.level." + l.Code }

// Scale is an ordered escalation scale: numbers strictly increase.
type Scale struct {
	levels []Level
}

// DefaultLevels is the default scale, after the model of nis2.md §6
// (escalation_level ∈ {entity, cert_be, national_impact, federal_phase,
// eu_cyclone, ipcr}), which combines:
//
//   - Belgium: CERT.be evaluates each report and determines its seriousness;
//     incidents with a national impact are escalated and handled by ad hoc
//     Rapid Reaction Teams with the police and the NCCN (National Cyber
//     Emergency Plan, 2017, replaced in 2026 by a plan adopted by Royal
//     Decree under the NIS2 law and the Law of 25 May 2007 on civil
//     security); the federal phase of the general emergency planning
//     (Royal Decree of 22 May 2019) is declared by the Minister of the
//     Interior, and the NCCN then chairs coordination and writes the
//     situation reports.
//   - The EU Cyber Blueprint (Council Recommendation of 6 June 2025,
//     C/2025/3445, replacing Commission Recommendation 2017/1584): a
//     technical level (CSIRTs network, NIS2 Art. 15), an operational level
//     (EU-CyCLONe, NIS2 Art. 16) and a political level (Council, IPCR
//     activated by the Presidency).
//
// The levels of the 2026 Belgian plan and the Blueprint's 0–4 severity
// scale are not verified (nis2.md §8 item 9): the scale is replaceable
// (NewScale, Service.SetScale) so that a setting can follow the plan.
var DefaultLevels = []Level{
	{Code: "entity", Number: 1},
	{Code: "cert_be", Number: 2, EULevel: "technical"},
	{Code: "national_impact", Number: 3, EULevel: "technical"},
	{Code: "federal_phase", Number: 4, BEPhase: "federal", EULevel: "technical"},
	{Code: "eu_cyclone", Number: 5, BEPhase: "federal", EULevel: "operational"},
	{Code: "ipcr", Number: 6, BEPhase: "federal", EULevel: "political"},
}

// DefaultScale returns the default scale.
func DefaultScale() *Scale {
	s, err := NewScale(DefaultLevels)
	if err != nil {
		panic(err) // DefaultLevels is a constant of this package
	}
	return s
}

var levelCode = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// NewScale checks levels (at least two, codes unique and made of lower-case
// letters, digits and underscores, numbers strictly increasing) and returns
// the scale.
func NewScale(levels []Level) (*Scale, error) {
	if len(levels) < 2 {
		return nil, fmt.Errorf("crisis: a scale needs at least two levels, not %d", len(levels))
	}
	seen := map[string]bool{}
	for i, l := range levels {
		if !levelCode.MatchString(l.Code) {
			return nil, fmt.Errorf("crisis: level code %q: use lower-case letters, digits and underscores", l.Code)
		}
		if seen[l.Code] {
			return nil, fmt.Errorf("crisis: level %q appears twice", l.Code)
		}
		seen[l.Code] = true
		if i > 0 && l.Number <= levels[i-1].Number {
			return nil, fmt.Errorf("crisis: level %q: numbers must increase (%d after %d)", l.Code, l.Number, levels[i-1].Number)
		}
	}
	return &Scale{levels: append([]Level(nil), levels...)}, nil
}

// Levels returns the levels in order.
func (s *Scale) Levels() []Level { return append([]Level(nil), s.levels...) }

// Level returns the level of code.
func (s *Scale) Level(code string) (Level, bool) {
	for _, l := range s.levels {
		if l.Code == code {
			return l, true
		}
	}
	return Level{}, false
}

// First is the lowest level, the default of a new crisis.
func (s *Scale) First() Level { return s.levels[0] }
