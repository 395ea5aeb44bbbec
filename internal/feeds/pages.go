package feeds

// The portal: the authority's feed runs (counts, errors, timing) and a
// run's problems; the authority's search of events with its exports and
// the coverage of the period; an organisation's own events. Filters are
// GET forms, so that every view can be bookmarked (UX.md pattern 18).

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/web"
)

func (h *handlers) t(r *http.Request, key string, args map[string]any) string {
	return h.srv.Catalog().T(web.Locale(r), key, args)
}

// chosenFilter is a filter above a list, with the query that removes it.
type chosenFilter struct {
	Label  string
	Remove string
}

// chosen lists the filters of q among params, each with its label.
func (h *handlers) chosen(r *http.Request, q url.Values, params []string, label func(k, v string) string) []chosenFilter {
	var out []chosenFilter
	for _, k := range params {
		v := q.Get(k)
		if v == "" {
			continue
		}
		rest := url.Values{}
		for key, vals := range q {
			if key != k && key != "page" {
				rest[key] = vals
			}
		}
		out = append(out, chosenFilter{Label: h.t(r, "feeds.filter."+k, nil) + ": " + label(k, v), Remove: rest.Encode()})
	}
	return out
}

// only keeps the non-empty values of params in q.
func only(q url.Values, params ...string) url.Values {
	out := url.Values{}
	for _, k := range params {
		if v := q.Get(k); v != "" {
			out.Set(k, v)
		}
	}
	return out
}

// fieldErrors turns an Invalid error into the page's messages.
func (h *handlers) fieldErrors(r *http.Request, err error) ([]web.FieldMessage, error) {
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.Invalid {
		return nil, err
	}
	var out []web.FieldMessage
	for _, f := range e.Fields {
		out = append(out, web.FieldMessage{Field: f.Field, Message: h.t(r, f.Code, f.Args)})
	}
	return out, nil
}

// runView is a run with its timing in words.
type runView struct {
	*Run
	Counts  counts
	Seconds string // the run's duration, "" while running
	Rate    string // rows a second
}

// counts are a run's counts for the templates' number function.
type counts struct{ Rows, Events, Matched, Unmatched, New, Duplicates, Problems int }

func (h *handlers) runView(r *http.Request, run *Run) runView {
	s := run.Stats
	v := runView{Run: run, Counts: counts{int(s.Rows), int(s.Events), int(s.Matched), int(s.Unmatched), int(s.New), int(s.Duplicates), int(s.Problems)}}
	if run.FinishedAt != nil {
		d := run.FinishedAt.Sub(run.StartedAt)
		v.Seconds = h.t(r, "feeds.seconds", map[string]any{"n": strconv.FormatFloat(d.Seconds(), 'f', 1, 64)})
		if d > 0 {
			v.Rate = h.t(r, "feeds.rate", map[string]any{"n": strconv.FormatInt(int64(float64(run.Stats.Rows)/d.Seconds()), 10)})
		}
	}
	return v
}

var runParams = []string{"status", "feed", "from", "to"}

func (h *handlers) pageRuns(w http.ResponseWriter, r *http.Request) error {
	if !staff(r.Context()) {
		return forbidden()
	}
	q := only(r.URL.Query(), runParams...)
	p := &web.Page{Title: h.t(r, "feeds.runs.title", nil), Form: q}
	f, err := ParseRunFilter(q)
	if p.Errors, err = h.fieldErrors(r, err); err != nil {
		return err
	}
	data := map[string]any{"Statuses": RunStatuses}
	if p.Errors == nil {
		f.Offset, f.Limit = web.PageOffset(r), web.PageSize
		runs, total, err := h.svc.Runs(r.Context(), f)
		if err != nil {
			return err
		}
		var views []runView
		for _, run := range runs {
			views = append(views, h.runView(r, run))
		}
		data["Runs"], data["Pager"] = views, web.NewPager(r, total)
		data["Chosen"] = h.chosen(r, q, runParams, func(k, v string) string {
			if k == "status" {
				return h.t(r, "feeds.status."+v, nil)
			}
			return v
		})
	}
	if data["Feeds"], err = h.svc.FeedNames(r.Context()); err != nil {
		return err
	}
	p.Data = data
	return h.srv.RenderPage(w, r, statusFor(p), "feeds_runs", p)
}

func statusFor(p *web.Page) int {
	if len(p.Errors) > 0 {
		return http.StatusUnprocessableEntity
	}
	return http.StatusOK
}

func (h *handlers) pageRun(w http.ResponseWriter, r *http.Request) error {
	if !staff(r.Context()) {
		return forbidden()
	}
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	d, err := h.svc.Run(r.Context(), id)
	if err != nil {
		return err
	}
	title := h.t(r, "feeds.run.title", map[string]any{"id": d.ID})
	return h.srv.RenderPage(w, r, http.StatusOK, "feeds_run", &web.Page{Title: title, Data: map[string]any{"Run": h.runView(r, &d.Run), "Problems": d.Problems}})
}

var eventParams = []string{"ip", "asn", "organisation_id", "feed", "severity", "matched", "notify", "run_id", "from", "to"}

// ourParams are the filters of an organisation's own events.
var ourParams = []string{"ip", "asn", "feed", "severity", "notify", "from", "to"}

// orgOption is an organisation of the filter's list.
type orgOption struct {
	ID   int64
	Name string
}

func (h *handlers) organisations(ctx context.Context) ([]orgOption, error) {
	rows, err := h.svc.db.Query(ctx, `SELECT id, name FROM organisations WHERE kind <> 'authority' ORDER BY name, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []orgOption
	for rows.Next() {
		var o orgOption
		if err := rows.Scan(&o.ID, &o.Name); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// searchPage renders the search of events for the authority (authority
// set) or an organisation's own events.
func (h *handlers) searchPage(w http.ResponseWriter, r *http.Request, authority bool) error {
	params, name, path, title := eventParams, "feeds_events", "/feeds/events", "feeds.events.title"
	if !authority {
		params, name, path, title = ourParams, "feeds_ours", "/our-events", "feeds.ours.title"
	}
	q := only(r.URL.Query(), params...)
	p := &web.Page{Title: h.t(r, title, nil), Form: q}
	f, err := ParseEventFilter(q)
	if p.Errors, err = h.fieldErrors(r, err); err != nil {
		return err
	}
	data := map[string]any{"Severities": Severities, "Path": path, "Query": q.Encode()}
	var orgs []orgOption
	if authority {
		if orgs, err = h.organisations(r.Context()); err != nil {
			return err
		}
		data["Orgs"] = orgs
	}
	if data["Feeds"], err = h.svc.FeedNames(r.Context()); err != nil {
		return err
	}
	if p.Errors == nil {
		f.Offset, f.Limit = web.PageOffset(r), web.PageSize
		evs, total, capped, err := h.svc.Events(r.Context(), f)
		if err != nil {
			return err
		}
		data["Events"], data["Pager"], data["Capped"] = evs, web.NewPager(r, total), capped
		data["Chosen"] = h.chosen(r, q, params, func(k, v string) string {
			switch k {
			case "severity":
				return h.t(r, "feeds.severity."+v, nil)
			case "matched", "notify":
				return h.t(r, "feeds.filter."+k+"."+v, nil)
			case "organisation_id":
				if i := slices.IndexFunc(orgs, func(o orgOption) bool { return strconv.FormatInt(o.ID, 10) == v }); i >= 0 {
					return orgs[i].Name
				}
			}
			return v
		})
		if authority {
			from, to := f.From, f.To
			if !to.IsZero() {
				to = to.AddDate(0, 0, -1)
			}
			if to.IsZero() {
				to = h.svc.now().UTC().Truncate(24 * time.Hour)
			}
			if from.IsZero() || from.After(to) || to.Sub(from) > 366*24*time.Hour {
				from = to.AddDate(0, 0, -6)
			}
			c, err := h.svc.Coverage(r.Context(), from.Truncate(24*time.Hour), to.Truncate(24*time.Hour), f.Feed)
			if err != nil {
				return err
			}
			data["Coverage"] = h.coverageView(r, c)
		}
	}
	p.Data = data
	return h.srv.RenderPage(w, r, statusFor(p), name, p)
}

// coverageLine is a line of the coverage table, in words.
type coverageLine struct{ Feed, Matched, Unmatched, Share string }

// coverageView sums a coverage per report type over its days, the
// largest first, with the total.
func (h *handlers) coverageView(r *http.Request, c *Coverage) map[string]any {
	var sums []CoverageRow
	idx := map[string]int{}
	for _, row := range c.Rows {
		i, ok := idx[row.Feed]
		if !ok {
			i = len(sums)
			idx[row.Feed] = i
			sums = append(sums, CoverageRow{Feed: row.Feed})
		}
		sums[i].Matched += row.Matched
		sums[i].Unmatched += row.Unmatched
	}
	slices.SortStableFunc(sums, func(a, b CoverageRow) int { return cmp.Compare(b.Matched+b.Unmatched, a.Matched+a.Unmatched) })
	l := web.Locale(r)
	line := func(x CoverageRow) coverageLine {
		return coverageLine{Feed: x.Feed, Matched: i18n.Number(l, x.Matched), Unmatched: i18n.Number(l, x.Unmatched),
			Share: h.t(r, "feeds.percent", map[string]any{"n": i18n.Decimal(l, 100*share(x.Matched, x.Unmatched))})}
	}
	var lines []coverageLine
	for _, x := range sums {
		lines = append(lines, line(x))
	}
	return map[string]any{"From": c.From, "To": c.To, "Rows": lines, "Total": line(c.Total)}
}

func (h *handlers) pageEvents(w http.ResponseWriter, r *http.Request) error {
	if !staff(r.Context()) {
		return forbidden()
	}
	return h.searchPage(w, r, true)
}

func (h *handlers) pageOurs(w http.ResponseWriter, r *http.Request) error {
	if p := auth.From(r.Context()); p == nil || p.IsAuthority() {
		return forbidden()
	}
	return h.searchPage(w, r, false)
}

// pageExport downloads the events of a search, for the authority's staff
// and for organisations (their own events, as the service scopes them).
func (h *handlers) pageExport(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	format := q.Get("format")
	if format != "csv" && format != "jsonl" {
		return errs.Field("format", "err.feeds.format_invalid", nil)
	}
	f, err := ParseEventFilter(q)
	if err != nil {
		return err
	}
	return h.export(w, r, f, format)
}
