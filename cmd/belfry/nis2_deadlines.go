package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/nis2"
)

const nis2DeadlinesUsage = "Usage: belfry nis2 deadlines [--now RFC3339] [--text] [FILE|-]"

// runNIS2Deadlines computes the NIS2 Art. 23 reporting deadlines of an
// incident from its times, read as JSON from the file named in args or
// from standard input, judged at --now or the current time.
func runNIS2Deadlines(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return nis2DeadlinesFrom(args, os.Stdin, stdout, stderr, time.Now())
}

// nis2DeadlinesFrom is runNIS2Deadlines with its input and clock given.
func nis2DeadlinesFrom(args []string, stdin io.Reader, stdout, stderr io.Writer, clock time.Time) error {
	var nowFlag string
	var text bool
	fs := newFlags("nis2 deadlines", stderr)
	fs.StringVar(&nowFlag, "now", "", "judge lateness at this `time` (RFC 3339, like 2025-03-12T08:00:00Z) instead of the facts' now or the current time")
	fs.BoolVar(&text, "text", false, "print a table for people, with due times in UTC and Europe/Brussels, instead of JSON")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "%s\n\nComputes the NIS2 Art. 23 reporting deadlines of an incident from its times as JSON\n(standard input when FILE is - or absent). See docs/nis2-deadlines.md.\n\nFlags:\n", nis2DeadlinesUsage)
		fs.PrintDefaults()
	}
	files, err := nis2Args(fs, args)
	if err != nil {
		return err
	}
	var now time.Time
	if nowFlag != "" {
		if now, err = time.Parse(time.RFC3339, nowFlag); err != nil {
			fmt.Fprintf(stderr, "belfry nis2 deadlines: --now must be an RFC 3339 time with its offset, like 2025-03-12T08:00:00Z, not %q\n", nowFlag)
			return errUsage
		}
	}
	in, name, err := nis2Input("deadlines", "file", nis2DeadlinesUsage, files, stdin, stderr)
	if err != nil {
		return err
	}
	defer in.Close()
	facts, err := nis2.ParseClockFacts(in)
	if err != nil {
		return nis2Report(err, name, stderr)
	}
	if !now.IsZero() {
		facts.Now = now // the flag wins over the facts' now
	}
	d, err := nis2.Due(facts, clock)
	if err != nil {
		return nis2Report(err, name, stderr)
	}
	if text {
		return deadlinesTable(stdout, d)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

// deadlinesTable writes the deadlines for people, in English.
func deadlinesTable(w io.Writer, d nis2.Deadlines) error {
	cat, err := i18n.Load()
	if err != nil {
		return err
	}
	zone := cat.Zone()
	t := func(key string) string { return cat.T("en", key, nil) }
	when := func(at time.Time) string {
		if at.IsZero() {
			return "-"
		}
		return at.UTC().Format("Mon 2 Jan 2006 15:04 MST")
	}
	local := func(at time.Time) string {
		if at.IsZero() {
			return "-"
		}
		return at.In(zone).Format("Mon 2 Jan 2006 15:04 MST")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Aware at: %s (%s)\nAs of:    %s (%s)\n\n", when(d.AwareAt), local(d.AwareAt), when(d.Now), local(d.Now))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STAGE\tSTATUS\tDUE (UTC)\tDUE (BRUSSELS)\tSUBMITTED (UTC)\tLATE BY\tRULE\tBASIS")
	for _, x := range d.Stages {
		stage := t(x.Stage.LabelKey())
		if x.Soft {
			stage += " (target)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", stage, t(x.Status.LabelKey()), when(x.Due), local(x.Due),
			when(x.SubmittedAt), deadlinesLate(x.LateBy), x.Rule, x.Basis)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	b.WriteString("\n")
	for _, x := range d.Stages {
		fmt.Fprintf(&b, "%s: %s\n", t(x.Stage.LabelKey()), t(x.HintKey))
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// deadlinesLate writes a lateness in seconds as days, hours, minutes and
// seconds: "8h", "2d 3h 15m"; "-" when not late.
func deadlinesLate(s int64) string {
	if s <= 0 {
		return "-"
	}
	var parts []string
	for _, u := range []struct {
		n    int64
		unit string
	}{{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}} {
		if q := s / u.n; q > 0 {
			parts = append(parts, fmt.Sprintf("%d%s", q, u.unit))
			s -= q * u.n
		}
	}
	return strings.Join(parts, " ")
}
