package nis2

import (
	"fmt"
	"strconv"
)

// Size is the enterprise category of Recommendation 2003/361/EC.
type Size string

// Size categories, smallest first.
const (
	Micro  Size = "micro"
	Small  Size = "small"
	Medium Size = "medium"
	Large  Size = "large"
)

// AtLeastMedium reports whether s is medium or large, the threshold of
// Art. 2(1).
func (s Size) AtLeastMedium() bool { return s == Medium || s == Large }

// LabelKey is the i18n message key of the category's name.
func (s Size) LabelKey() string { return "nis2.size." + string(s) }

// SizeRule chooses how the financial ceilings of the Recommendation are
// read.
type SizeRule string

const (
	// Strict follows the Recommendation: a category's ceilings are kept when
	// the staff is below its limit and the turnover or (and/or) the balance
	// sheet total is within its limit; only one financial ceiling has to be
	// respected.
	Strict SizeRule = "strict"
	// CCBSimplified follows the CCB web pages: exceeding any one of the
	// three limits moves the entity up.
	CCBSimplified SizeRule = "ccb_simplified"
)

// ParseSizeRule parses "strict" or "ccb_simplified"; "" means strict.
func ParseSizeRule(s string) (SizeRule, error) {
	switch SizeRule(s) {
	case "", Strict:
		return Strict, nil
	case CCBSimplified:
		return CCBSimplified, nil
	}
	return "", fmt.Errorf("nis2: unknown size rule %q (want strict or ccb_simplified)", s)
}

// ceiling is the upper limit of a category: an entity that exceeds it is
// of category above.
type ceiling struct {
	of, above                Size
	staff, turnover, balance float64
}

// ceilings are checked largest first (Recommendation, Annex, Art. 2).
var ceilings = []ceiling{
	{Medium, Large, 250, 50e6, 43e6},
	{Small, Medium, 50, 10e6, 10e6},
	{Micro, Small, 10, 2e6, 2e6},
}

// amounts are the figures a size is computed on.
type amounts struct{ staff, turnover, balance float64 }

// exceeds reports whether a exceeds the ceiling c under rule, and why.
func (c ceiling) exceeds(a amounts, rule SizeRule) (bool, string) {
	staff := a.staff >= c.staff
	to, bs := a.turnover > c.turnover, a.balance > c.balance
	switch {
	case staff:
		return true, fmt.Sprintf("staff %s AWU ≥ %s", num(a.staff), num(c.staff))
	case to && bs:
		return true, fmt.Sprintf("turnover %s > %s and balance sheet %s > %s", eur(a.turnover), eur(c.turnover), eur(a.balance), eur(c.balance))
	case rule == CCBSimplified && to:
		return true, fmt.Sprintf("turnover %s > %s", eur(a.turnover), eur(c.turnover))
	case rule == CCBSimplified && bs:
		return true, fmt.Sprintf("balance sheet %s > %s", eur(a.balance), eur(c.balance))
	}
	why := fmt.Sprintf("staff %s AWU < %s", num(a.staff), num(c.staff))
	switch {
	case to:
		why += fmt.Sprintf(", turnover %s > %s but balance sheet %s ≤ %s (one financial ceiling suffices)", eur(a.turnover), eur(c.turnover), eur(a.balance), eur(c.balance))
	case bs:
		why += fmt.Sprintf(", balance sheet %s > %s but turnover %s ≤ %s (one financial ceiling suffices)", eur(a.balance), eur(c.balance), eur(a.turnover), eur(c.turnover))
	default:
		why += fmt.Sprintf(", turnover %s ≤ %s and balance sheet %s ≤ %s", eur(a.turnover), eur(c.turnover), eur(a.balance), eur(c.balance))
	}
	return false, why
}

// sizeOf returns the category of a and an explanation.
func sizeOf(a amounts, rule SizeRule) (Size, string) {
	var within string
	for _, c := range ceilings {
		ok, why := c.exceeds(a, rule)
		if ok {
			if within != "" {
				why += "; within the " + string(c.above) + " ceilings: " + within
			}
			return c.above, why
		}
		within = why
	}
	return Micro, within
}

// sizing is the size of the entity, computed once for all its types.
type sizing struct {
	size  Size
	on    string // "own" or "group"
	refs  []string
	steps []Step
}

// measure sizes the entity on its own figures or, when it has partner or
// linked enterprises, on the group's consolidated ones; under Belgian law
// the group is disregarded when the entity's systems are independent.
func measure(f Facts, o Options) sizing {
	s := sizing{on: "own", refs: []string{refRec}}
	fig := f.Figures
	if g := f.Group; g != nil {
		step := Step{Check: "group", Step: "Partner or linked enterprises: size on the consolidated figures?", Reference: refRecGroup}
		switch {
		case g.IndependentSystems && o.Jurisdiction == "BE":
			step.Result = "no: the network and information systems are independent of the group, so the authority may disregard it"
			step.Reference = refBELaw
			s.refs = append(s.refs, refRecGroup, refBELaw)
		default:
			fig, s.on = g.Figures, "group"
			step.Result = fmt.Sprintf("yes: staff %s AWU, turnover %s, balance sheet %s", num(*fig.Staff), eur(*fig.TurnoverEUR), eur(*fig.BalanceSheetEUR))
			if g.IndependentSystems {
				step.Result += "; independent systems count only under Belgian law (BE NIS2 law, Art. 3 §2)"
			}
			s.refs = append(s.refs, refRecGroup)
		}
		s.steps = append(s.steps, step)
	}
	a := amounts{*fig.Staff, *fig.TurnoverEUR, *fig.BalanceSheetEUR}
	size, why := sizeOf(a, o.SizeRule)
	s.size = size
	on := "the entity's own figures"
	if s.on == "group" {
		on = "the group's consolidated figures"
	}
	s.steps = append(s.steps, Step{Check: "size", Step: fmt.Sprintf("Size category on %s (%s reading of the ceilings)", on, o.SizeRule),
		Result: string(size) + ": " + why, Reference: refRec})
	return s
}

// num formats a number without needless decimals.
func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// eur formats an amount, in millions from €1 M up.
func eur(v float64) string {
	if v >= 1e6 {
		return "€" + num(v/1e6) + " M"
	}
	return "€" + num(v)
}
