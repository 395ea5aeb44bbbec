package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/nis2"
)

const nis2SignificanceUsage = "Usage: belfry nis2 significance [--text] [FILE|-]"

// runNIS2Significance decides whether an incident is significant from the
// facts in the file named in args, or on standard input.
func runNIS2Significance(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return nis2Significance(args, os.Stdin, stdout, stderr)
}

// nis2Significance reads incident facts from the file named in args, or
// from stdin, and prints the decision as JSON or, with --text, as an
// English list of the criteria.
func nis2Significance(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var text bool
	fs := newFlags("nis2 significance", stderr)
	fs.BoolVar(&text, "text", false, "print the criteria and the outcome in English instead of JSON")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "%s\n\nDecides whether an incident is significant (NIS2 Art. 23(3); Implementing Regulation (EU) 2024/2690)\n"+
			"from a JSON facts file (standard input when FILE is - or absent). See docs/nis2-significance.md.\n\nFlags:\n", nis2SignificanceUsage)
		fs.PrintDefaults()
	}
	files, err := nis2Args(fs, args)
	if err != nil {
		return err
	}
	in, name, err := nis2Input("significance", "facts file", nis2SignificanceUsage, files, stdin, stderr)
	if err != nil {
		return err
	}
	defer in.Close()
	facts, err := nis2.ParseSignificanceFacts(in)
	if err != nil {
		return nis2Report(err, name, stderr)
	}
	d, err := nis2.AssessSignificance(facts)
	if err != nil {
		return nis2Report(err, name, stderr)
	}
	if text {
		return nis2SignificanceText(stdout, d)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

// nis2SignificanceText writes the decision for people, in English.
func nis2SignificanceText(w io.Writer, d nis2.SignificanceDecision) error {
	cat, err := i18n.Load()
	t := func(key string, args map[string]any) string {
		if err != nil {
			return key
		}
		return cat.T("en", key, nis2EnglishArgs(args))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Incident of %s (%s)\nTest: %s\n\nCriteria:\n", d.EntityType, t(nis2.TypeLabelKey(d.EntityType), nil), t(d.RegimeKey, nil))
	sw, cw := 0, 0
	for _, c := range d.Criteria {
		sw, cw = max(sw, len(t(c.Status.LabelKey(), nil))+2), max(cw, len(c.Code))
	}
	for _, c := range d.Criteria {
		fmt.Fprintf(&b, "  %-*s  %-*s  %s\n  %-*s  %-*s  %s\n", sw, "["+t(c.Status.LabelKey(), nil)+"]", cw, c.Code, t(c.ReasonKey, c.ReasonArgs),
			sw, "", cw, "", c.Reference)
	}
	if len(d.Thresholds) > 0 {
		b.WriteString("\nThresholds:\n")
	}
	for _, th := range d.Thresholds {
		base, value := "unknown", "unknown, at most "+nis2Amount(th.Cap)
		if th.Base != nil {
			base = nis2Amount(*th.Base)
		}
		if th.Value != nil {
			value = nis2Amount(*th.Value)
		}
		fmt.Fprintf(&b, "  %s with %s = %s: %s (criteria %s)\n", th.Name, th.Of, base, value, strings.Join(th.Criteria, ", "))
	}
	fmt.Fprintf(&b, "\nOutcome: %s", t(d.OutcomeKey, nil))
	if len(d.DecidedBy) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(d.DecidedBy, ", "))
	}
	b.WriteString("\n")
	if len(d.Notes) > 0 {
		b.WriteString("\nNotes:\n")
	}
	for _, n := range d.Notes {
		fmt.Fprintf(&b, "  - %s\n", t(n.Key, n.Args))
	}
	b.WriteString("\nReferences:\n")
	for _, r := range d.References {
		fmt.Fprintf(&b, "  - %s\n", r)
	}
	_, werr := io.WriteString(w, b.String())
	return werr
}

// nis2EnglishArgs formats the numbers among message arguments the English
// way: 1,000,000.
func nis2EnglishArgs(args map[string]any) map[string]any {
	out := make(map[string]any, len(args))
	for k, v := range args {
		switch x := v.(type) {
		case json.Number:
			if f, err := x.Float64(); err == nil {
				v = nis2Amount(f)
			}
		case int:
			v = i18n.Number("en", int64(x))
		case int64:
			v = i18n.Number("en", x)
		}
		out[k] = v
	}
	return out
}

// nis2Amount writes a number with English thousands separators and at most
// two decimals.
func nis2Amount(x float64) string {
	if x >= 1e15 {
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return i18n.Decimal("en", x)
}
