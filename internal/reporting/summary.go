package reporting

// The quarterly anonymised summary to ENISA (NIS2 Art. 23(9);
// reporting-forms.md §3): counts of the incidents notified in a calendar
// quarter by sector, class, kind, root cause, severity, cross-border and
// RSIT taxonomy. It holds counts only: no organisation, reference, title
// or free text of any report ever enters it, and every value of a
// dimension comes from a closed list (anything else counts as unknown).
//
// Small cells. A count of 1 or 2 could single out an entity (a sector
// with one essential entity, say), so such cells are suppressed: "<3" in
// the CSV, a null count with "suppressed": true in the JSON. Zero is
// published (it names nobody). When a dimension has exactly one
// suppressed cell, the next-smallest non-zero cell is suppressed too, so
// that the suppressed count cannot be recovered by subtracting the others
// from the total. The same rule applies to the total. The threshold is
// the k = 3 that reporting-forms.md §3.2 proposes.

import (
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/nis2"
)

// SummaryMinCell is the smallest count published; smaller non-zero
// counts are suppressed.
const SummaryMinCell = 3

// Values a dimension uses when the reports or the registry do not say.
const (
	SummaryUnknown     = "unknown"
	SummaryOther       = "other"
	SummaryNotYetKnown = "not_yet_known"
)

// The dimensions of the summary, in the order of the exports.
const (
	DimSector      = "sector"
	DimClass       = "class"
	DimKind        = "kind"
	DimRootCause   = "root_cause"
	DimSeverity    = "severity"
	DimCrossBorder = "cross_border"
	DimRSIT        = "rsit_taxonomy"
)

// SummaryDimensions lists the dimensions in order.
var SummaryDimensions = []string{DimSector, DimClass, DimKind, DimRootCause, DimSeverity, DimCrossBorder, DimRSIT}

// SummaryCell is one count. Count is nil when Suppressed.
type SummaryCell struct {
	Value      string `json:"value"`
	Count      *int   `json:"count"`
	Suppressed bool   `json:"suppressed"`
	n          int
}

// SummaryDimension is the counts by one dimension, every value of its
// list (zeros included) in a fixed order.
type SummaryDimension struct {
	Name  string        `json:"name"`
	Cells []SummaryCell `json:"cells"`
}

// Summary is the anonymised summary of a quarter.
type Summary struct {
	Quarter     string             `json:"quarter"`
	From        time.Time          `json:"from"`
	To          time.Time          `json:"to"`
	GeneratedAt time.Time          `json:"generated_at"`
	MinCell     int                `json:"min_cell"`
	Total       SummaryCell        `json:"total"`
	Dimensions  []SummaryDimension `json:"dimensions"`
}

// Dimension returns the dimension called name, or nil.
func (s *Summary) Dimension(name string) *SummaryDimension {
	for i := range s.Dimensions {
		if s.Dimensions[i].Name == name {
			return &s.Dimensions[i]
		}
	}
	return nil
}

// Quarter returns the calendar quarter q (1–4) of year in Brussels time:
// from its first instant, to the first instant of the next one.
func Quarter(year, q int) (from, to time.Time) {
	from = time.Date(year, time.Month(3*(q-1)+1), 1, 0, 0, 0, 0, brussels)
	return from, from.AddDate(0, 3, 0)
}

// ParseQuarter reads "2026-Q3" (the q may be lower case).
func ParseQuarter(s string) (from, to time.Time, err error) {
	ys, qs, ok := strings.Cut(strings.ToUpper(strings.TrimSpace(s)), "-Q")
	y, yerr := strconv.Atoi(ys)
	q, qerr := strconv.Atoi(qs)
	if !ok || yerr != nil || qerr != nil || len(ys) != 4 || len(qs) != 1 || y < 2000 || q < 1 || q > 4 {
		return time.Time{}, time.Time{}, errs.Field("quarter", "err.summary.quarter_invalid", nil)
	}
	from, to = Quarter(y, q)
	return from, to, nil
}

// QuarterLabel names the quarter t falls in, in Brussels: "2026-Q3".
func QuarterLabel(t time.Time) string {
	t = t.In(brussels)
	return fmt.Sprintf("%04d-Q%d", t.Year(), (int(t.Month())-1)/3+1)
}

// LastQuarter names the last complete quarter before now.
func LastQuarter(now time.Time) string {
	from, _, _ := ParseQuarter(QuarterLabel(now))
	return QuarterLabel(from.AddDate(0, -1, 0))
}

// summaryValues are the values of each dimension, in order.
func summaryValues() map[string][]string {
	var sectors []string
	for _, s := range nis2.Sectors() {
		sectors = append(sectors, s.Code)
	}
	return map[string][]string{
		DimSector:      append(sectors, SummaryUnknown),
		DimClass:       {"essential", "important", SummaryOther, SummaryUnknown},
		DimKind:        {KindMandatory, KindVoluntary},
		DimRootCause:   append(slices.Clone(rootCauses), SummaryNotYetKnown),
		DimSeverity:    append(slices.Clone(severities), SummaryUnknown),
		DimCrossBorder: {"yes", "no", SummaryUnknown},
		DimRSIT:        append(slices.Sorted(maps.Keys(rsit)), SummaryUnknown),
	}
}

// summaryIncident is what the summary knows of one incident: the values
// of its dimensions, nothing else.
type summaryIncident struct {
	anchor time.Time // first early warning, else first submission
	dims   map[string][]string
}

// Summary counts the incidents notified between from and to (usually a
// quarter; see Quarter): an incident counts in the period of its first
// early warning, or of its first submission when it has none. Sector and
// class are the registry's at the time of the export; the reports'
// answers are their latest. The authority's staff only.
func (s *Service) Summary(ctx context.Context, from, to time.Time) (*Summary, error) {
	if !auth.From(ctx).IsAuthority() {
		return nil, forbidden()
	}
	if !from.Before(to) {
		return nil, errs.Field("quarter", "err.summary.quarter_invalid", nil)
	}
	from, to = from.UTC(), to.UTC()
	// Only incidents with a submission in the period can have their
	// first one (or their first early warning) in it.
	rows, err := s.db.Query(ctx, `SELECT i.id, i.kind, COALESCE(r.class, ''), COALESCE(r.sectors, ''), s.stage, s.submitted_at, s.content
		FROM incidents i LEFT JOIN registrations r ON r.org_id = i.org_id JOIN report_submissions s ON s.incident_id = i.id
		WHERE i.id IN (SELECT incident_id FROM report_submissions WHERE submitted_at >= ? AND submitted_at < ?)
		ORDER BY i.id, s.id`, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type acc struct {
		kind, class, sectors           string
		first, firstEW                 time.Time
		rootCause, severity, cb, rsitT string
	}
	var order []int64
	byID := map[int64]*acc{}
	for rows.Next() {
		var id int64
		var kind, class, sectors, content string
		var stage Stage
		var at time.Time
		if err := rows.Scan(&id, &kind, &class, &sectors, &stage, &at, &content); err != nil {
			return nil, err
		}
		a := byID[id]
		if a == nil {
			a = &acc{kind: kind, class: class, sectors: sectors, first: at}
			byID[id] = a
			order = append(order, id)
		}
		if stage == EarlyWarning && a.firstEW.IsZero() {
			a.firstEW = at
		}
		var c struct {
			Severity       string `json:"severity"`
			CrossBorder    string `json:"cross_border"`
			RootCause      string `json:"root_cause"`
			Classification string `json:"classification"`
		}
		if json.Unmarshal([]byte(content), &c) != nil {
			continue
		}
		// Oldest first: the latest answer wins.
		a.severity = cmp.Or(c.Severity, a.severity)
		a.cb = cmp.Or(c.CrossBorder, a.cb)
		a.rsitT = cmp.Or(c.Classification, a.rsitT)
		if stage == FinalReport && c.RootCause != "" {
			a.rootCause = c.RootCause
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	values := summaryValues()
	closed := func(dim, v, fallback string) string {
		if v != "" && slices.Contains(values[dim], v) {
			return v
		}
		return fallback
	}
	var incs []summaryIncident
	for _, id := range order {
		a := byID[id]
		anchor := cmp.Or(a.firstEW, a.first)
		if anchor.Before(from) || !anchor.Before(to) {
			continue
		}
		var sectors []string
		for _, sec := range strings.Fields(a.sectors) {
			if v := closed(DimSector, sec, ""); v != "" && v != SummaryUnknown && !slices.Contains(sectors, v) {
				sectors = append(sectors, v)
			}
		}
		if len(sectors) == 0 {
			sectors = []string{SummaryUnknown}
		}
		class := SummaryUnknown
		switch a.class {
		case "essential", "important":
			class = a.class
		case "":
		default:
			class = SummaryOther
		}
		tax, _, _ := strings.Cut(a.rsitT, "/")
		incs = append(incs, summaryIncident{anchor: anchor, dims: map[string][]string{
			DimSector:      sectors,
			DimClass:       {class},
			DimKind:        {closed(DimKind, a.kind, KindMandatory)},
			DimRootCause:   {closed(DimRootCause, a.rootCause, SummaryNotYetKnown)},
			DimSeverity:    {closed(DimSeverity, a.severity, SummaryUnknown)},
			DimCrossBorder: {closed(DimCrossBorder, a.cb, SummaryUnknown)},
			DimRSIT:        {closed(DimRSIT, tax, SummaryUnknown)},
		}})
	}
	out := &Summary{From: from, To: to, GeneratedAt: s.tick(), MinCell: SummaryMinCell, Total: SummaryCell{Value: "all", n: len(incs)}}
	if f, t, err := ParseQuarter(QuarterLabel(from)); err == nil && f.Equal(from) && t.Equal(to) {
		out.Quarter = QuarterLabel(from)
	}
	out.Total.publish()
	for _, dim := range SummaryDimensions {
		d := SummaryDimension{Name: dim}
		counts := map[string]int{}
		for _, in := range incs {
			for _, v := range in.dims[dim] {
				counts[v]++
			}
		}
		for _, v := range values[dim] {
			d.Cells = append(d.Cells, SummaryCell{Value: v, n: counts[v]})
		}
		suppress(d.Cells, out.Total.Suppressed)
		out.Dimensions = append(out.Dimensions, d)
	}
	return out, nil
}

// small reports whether a count is suppressed on its own.
func small(n int) bool { return n > 0 && n < SummaryMinCell }

// publish sets the published count of c from its true one.
func (c *SummaryCell) publish() {
	c.Suppressed = c.Suppressed || small(c.n)
	c.Count = nil
	if !c.Suppressed {
		n := c.n
		c.Count = &n
	}
}

// suppress applies the small-cell rule to the cells of a dimension: the
// small ones, and when exactly one is (and the total is published), the
// next-smallest non-zero one.
func suppress(cells []SummaryCell, totalSuppressed bool) {
	var hidden int
	for i := range cells {
		if small(cells[i].n) {
			cells[i].Suppressed = true
			hidden++
		}
	}
	if hidden == 1 && !totalSuppressed {
		next := -1
		for i, c := range cells {
			if !c.Suppressed && c.n > 0 && (next < 0 || c.n < cells[next].n) {
				next = i
			}
		}
		if next >= 0 {
			cells[next].Suppressed = true
		}
	}
	for i := range cells {
		cells[i].publish()
	}
}

// SummaryCSVHeader is the header row of the CSV export.
var SummaryCSVHeader = []string{"quarter", "dimension", "value", "count"}

// text is the count as the CSV writes it: "<3" when suppressed.
func (c SummaryCell) text() string {
	if c.Suppressed || c.Count == nil {
		return "<" + strconv.Itoa(SummaryMinCell)
	}
	return strconv.Itoa(*c.Count)
}

// WriteCSV writes the summary as CSV: a row per cell, the total first.
func (s *Summary) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	label := cmp.Or(s.Quarter, s.From.Format(time.RFC3339)+"/"+s.To.Format(time.RFC3339))
	if err := cw.Write(SummaryCSVHeader); err != nil {
		return err
	}
	if err := cw.Write([]string{label, "total", s.Total.Value, s.Total.text()}); err != nil {
		return err
	}
	for _, d := range s.Dimensions {
		for _, c := range d.Cells {
			if err := cw.Write([]string{label, d.Name, c.Value, c.text()}); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
