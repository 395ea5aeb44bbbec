package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/nis2"
)

const nis2Usage = `Usage:
  belfry nis2 classify [--size-rule strict|ccb_simplified] [--jurisdiction BE] [--research-in-scope] [--explain] [FILE|-]
  belfry nis2 deadlines [--now RFC3339] [--text] [FILE|-]
  belfry nis2 significance [--text] [FILE|-]`

// runNIS2 runs the NIS2 tools: classify an organisation, compute the
// reporting deadlines of an incident, assess an incident's significance.
func runNIS2(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, nis2Usage)
		return errUsage
	}
	switch args[0] {
	case "classify":
		return nis2Classify(args[1:], os.Stdin, stdout, stderr)
	case "deadlines":
		return runNIS2Deadlines(ctx, args[1:], stdout, stderr)
	case "significance":
		return runNIS2Significance(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stderr, nis2Usage)
		return flag.ErrHelp
	default:
		fmt.Fprintf(stderr, "belfry nis2: unknown subcommand %q (want classify, deadlines or significance)\n%s\n", args[0], nis2Usage)
		return errUsage
	}
}

// nis2Classify reads facts from the file named in args, or from stdin, and
// prints the decision as JSON or, with --explain, as an English trace.
func nis2Classify(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var o nis2.Options
	var sizeRule string
	var explain bool
	fs := newFlags("nis2 classify", stderr)
	fs.StringVar(&sizeRule, "size-rule", nis2EnvString("NIS2_SIZE_RULE", string(nis2.Strict)),
		"`rule` for reading the size ceilings: strict (Recommendation 2003/361/EC: one financial ceiling suffices) or ccb_simplified (any one criterion)")
	fs.StringVar(&o.Jurisdiction, "jurisdiction", nis2EnvString("NIS2_JURISDICTION", nis2.DefaultCountry), "the EU Member State whose jurisdiction is checked, as an ISO 3166 `code`")
	fs.BoolVar(&o.ResearchInScope, "research-in-scope", nis2EnvBool("NIS2_RESEARCH_IN_SCOPE", false), "treat research organisations (Annex II, point 7) as in scope; unverified for Belgium")
	fs.BoolVar(&explain, "explain", false, "print the checks and the decision in English instead of JSON")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "%s\n\nClassifies an organisation under NIS2 from a JSON facts file (standard input when FILE is - or absent).\nSee docs/nis2-classification.md.\n\nFlags:\n", nis2Usage)
		fs.PrintDefaults()
	}
	files, err := nis2Args(fs, args)
	if err != nil {
		return err
	}
	if o.SizeRule, err = nis2.ParseSizeRule(sizeRule); err != nil || sizeRule == "" {
		fmt.Fprintf(stderr, "belfry nis2 classify: --size-rule must be strict or ccb_simplified, not %q\n", sizeRule)
		return errUsage
	}
	o.Jurisdiction = strings.ToUpper(o.Jurisdiction)
	if !nis2.MemberState(o.Jurisdiction) {
		fmt.Fprintf(stderr, "belfry nis2 classify: --jurisdiction must be the 2-letter code of an EU Member State, like BE, not %q\n", o.Jurisdiction)
		return errUsage
	}
	in, name, err := nis2Input("classify", "facts file", nis2Usage, files, stdin, stderr)
	if err != nil {
		return err
	}
	defer in.Close()
	facts, err := nis2.ParseFacts(in)
	if err != nil {
		return nis2Report(err, name, stderr)
	}
	d, err := nis2.Classify(facts, o)
	if err != nil {
		return nis2Report(err, name, stderr)
	}
	if explain {
		return nis2Explain(stdout, facts, d)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

// nis2Args parses flags that may come before or after the
// positional arguments, which it returns.
func nis2Args(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parse(fs, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// nis2Report prints each problem of invalid facts as "field: message" in
// English on stderr and returns an error for the exit status.
func nis2Report(err error, name string, stderr io.Writer) error {
	e, ok := errs.As(err)
	if !ok {
		return err
	}
	cat, cerr := i18n.Load()
	msg := func(code string, args map[string]any) string {
		if cerr != nil {
			return code
		}
		return cat.T("en", code, args)
	}
	if len(e.Fields) == 0 {
		fmt.Fprintf(stderr, "%s: %s\n", name, msg(e.Code, e.Args))
		return fmt.Errorf("%s: the facts cannot be read", name)
	}
	for _, f := range e.Fields {
		fmt.Fprintf(stderr, "%s: %s\n", f.Field, msg(f.Code, f.Args))
	}
	problems := "problems"
	if len(e.Fields) == 1 {
		problems = "problem"
	}
	return fmt.Errorf("%s: the facts have %d %s", name, len(e.Fields), problems)
}

// nis2Explain writes the checks and the decision for people.
func nis2Explain(w io.Writer, f nis2.Facts, d nis2.Decision) error {
	cat, err := i18n.Load()
	t := func(key string, args map[string]any) string {
		if err != nil {
			return key
		}
		return cat.T("en", key, args)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Facts: %s; staff %s AWU, turnover %s, balance sheet %s\n", strings.Join(f.EntityTypes, ", "),
		nis2Num(f.Staff), nis2EUR(f.TurnoverEUR), nis2EUR(f.BalanceSheetEUR))
	if g := f.Group; g != nil {
		fmt.Fprintf(&b, "Group: staff %s AWU, turnover %s, balance sheet %s, independent systems %v\n",
			nis2Num(g.Staff), nis2EUR(g.TurnoverEUR), nis2EUR(g.BalanceSheetEUR), g.IndependentSystems)
	}
	fmt.Fprintf(&b, "Options: size rule %s, jurisdiction %s, research in scope %v\n\nChecks:\n", d.SizeRule, d.Options.Jurisdiction, d.Options.ResearchInScope)
	for i, s := range d.Trace {
		who := ""
		if s.EntityType != "" {
			who = "[" + s.EntityType + "] "
		}
		fmt.Fprintf(&b, "%3d. %s%s\n     → %s", i+1, who, s.Step, s.Result)
		if s.Reference != "" {
			fmt.Fprintf(&b, "  (%s)", s.Reference)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\nDecision: %s (rule %s)\n", t(d.Class.LabelKey(), nil), d.Rule)
	fmt.Fprintf(&b, "  Because: %s.\n", t(d.ReasonKey, d.ReasonArgs))
	fmt.Fprintf(&b, "  Entity type: %s (%s)\n", d.EntityType, t(nis2.TypeLabelKey(d.EntityType), nil))
	fmt.Fprintf(&b, "  Size: %s (%s figures, %s rule)\n", d.Size, d.SizedOn, d.SizeRule)
	j := d.Jurisdiction
	where := "in jurisdiction"
	if !j.InJurisdiction {
		where = "not in jurisdiction"
	}
	fmt.Fprintf(&b, "  Jurisdiction of %s: %s; competent: %s (%s, %s)\n", d.Options.Jurisdiction, where, nis2Country(j.Country), j.Basis, j.Rule)
	if l := d.LexSpecialis; l != nil {
		fmt.Fprintf(&b, "  Lex specialis: %s (%s): %s.\n", l.Act, l.Reference, l.Note)
	}
	if d.RegistrationUpdateWithin != "" {
		fmt.Fprintf(&b, "  Registration changes due within: %s\n", d.RegistrationUpdateWithin)
	}
	b.WriteString("  References:\n")
	for _, r := range d.References {
		fmt.Fprintf(&b, "    - %s\n", r)
	}
	if len(d.Notes) > 0 {
		b.WriteString("  Notes:\n")
		for _, n := range d.Notes {
			fmt.Fprintf(&b, "    - %s\n", n)
		}
	}
	_, werr := io.WriteString(w, b.String())
	return werr
}

func nis2Country(s string) string {
	if s == "" {
		return "none in the Union"
	}
	return s
}

func nis2Num(p *float64) string {
	if p == nil {
		return "?"
	}
	return strconv.FormatFloat(*p, 'f', -1, 64)
}

// nis2EUR writes an amount with thousands separators: €12,500,000.
func nis2EUR(p *float64) string {
	if p == nil {
		return "?"
	}
	whole, frac, _ := strings.Cut(strconv.FormatFloat(*p, 'f', -1, 64), ".")
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	return "€" + b.String()
}

// nis2EnvString returns BELFRY_<name> or def.
func nis2EnvString(name, def string) string {
	if v, ok := os.LookupEnv("BELFRY_" + name); ok {
		return v
	}
	return def
}

// nis2EnvBool returns BELFRY_<name> as a boolean, or def when it is unset or
// not a boolean.
func nis2EnvBool(name string, def bool) bool {
	if b, err := strconv.ParseBool(os.Getenv("BELFRY_" + name)); err == nil {
		return b
	}
	return def
}

// nis2Input opens the one input file of a nis2 subcommand, "-" or none
// meaning stdin; the caller closes it. More than one file is a usage
// error naming what the command reads (what: "facts file").
func nis2Input(cmd, what, usage string, files []string, stdin io.Reader, stderr io.Writer) (io.ReadCloser, string, error) {
	switch {
	case len(files) > 1:
		fmt.Fprintf(stderr, "belfry nis2 %s: one %s at most, got %d\n%s\n", cmd, what, len(files), usage)
		return nil, "", errUsage
	case len(files) == 0 || files[0] == "-":
		return io.NopCloser(stdin), "standard input", nil
	}
	f, err := os.Open(files[0])
	if err != nil {
		return nil, "", err
	}
	return f, files[0], nil
}
