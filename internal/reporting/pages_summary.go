package reporting

// The authority's page of the quarterly ENISA summary: a quarter chooser,
// a table per dimension and the downloads.

import (
	"net/http"
	"net/url"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
)

// quarterRow is a cell of the summary with its label in words.
type quarterRow struct {
	Label string
	Cell  SummaryCell
}

// quarterTable is a dimension as the page shows it.
type quarterTable struct {
	Name, Caption string
	Rows          []quarterRow
}

// summaryLabel names a value of a dimension in the reader's language.
func (h *handlers) summaryLabel(r *http.Request, dim, v string) string {
	switch v {
	case SummaryUnknown, SummaryOther, SummaryNotYetKnown:
		return h.t(r, "summary.value."+v, nil)
	}
	switch dim {
	case DimSector:
		return h.t(r, "nis2.sector."+v, nil)
	case DimClass:
		return h.t(r, "nis2.class."+v, nil)
	case DimKind:
		return h.t(r, "repui.kind."+v, nil)
	case DimRootCause:
		return h.t(r, "repui.root_cause."+v, nil)
	case DimSeverity:
		return h.t(r, "repui.severity."+v, nil)
	case DimCrossBorder:
		return h.t(r, "summary.cross_border."+v, nil)
	case DimRSIT:
		return h.t(r, "repui.rsit."+v, nil)
	}
	return v
}

// summaryQuarters lists the quarters to choose from, newest first: from
// the one NIS2 began to apply in (Q4 2024) to the current one.
func summaryQuarters(now time.Time) []string {
	var out []string
	from, _, _ := ParseQuarter(QuarterLabel(now))
	first, _ := Quarter(2024, 4)
	for t := from; !t.Before(first); t = t.AddDate(0, -3, 0) {
		out = append(out, QuarterLabel(t))
	}
	return out
}

func (h *handlers) pageSummary(w http.ResponseWriter, r *http.Request) error {
	if !auth.From(r.Context()).IsAuthority() {
		return forbidden()
	}
	now := h.svc.tick()
	q := r.URL.Query().Get("quarter")
	if q == "" {
		q = LastQuarter(now)
	}
	form := url.Values{"quarter": {q}}
	data := map[string]any{"Quarters": summaryQuarters(now), "MinCell": SummaryMinCell}
	title := h.t(r, "summary.title", nil)
	from, to, err := ParseQuarter(q)
	if err != nil {
		return h.render(w, r, "rep_summary", title, form, data, err)
	}
	sum, err := h.svc.Summary(r.Context(), from, to)
	if err != nil {
		return err
	}
	var tables []quarterTable
	for _, d := range sum.Dimensions {
		t := quarterTable{Name: d.Name, Caption: h.t(r, "summary.dim."+d.Name, map[string]any{"quarter": sum.Quarter})}
		for _, c := range d.Cells {
			t.Rows = append(t.Rows, quarterRow{Label: h.summaryLabel(r, d.Name, c.Value), Cell: c})
		}
		tables = append(tables, t)
	}
	data["Summary"], data["Tables"] = sum, tables
	data["Query"] = url.Values{"quarter": {sum.Quarter}}.Encode()
	return h.render(w, r, "rep_summary", title, form, data, nil)
}
