package feeds

// The JSON API of feed runs and events, and the exports of a search as CSV
// or JSON lines, streamed row by row.

import (
	"bufio"
	"embed"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

//go:embed openapi.json
var openapi []byte

//go:embed all:templates
var templates embed.FS

type handlers struct {
	svc *Service
	srv *web.Server
}

// Routes registers the pages and the API of feed runs and events on srv.
func (s *Service) Routes(srv *web.Server) {
	srv.AddOpenAPI(openapi)
	srv.AddTemplates(templates)
	h := &handlers{svc: s, srv: srv}
	srv.API("GET /api/v1/feeds/runs", h.apiRuns)
	srv.API("GET /api/v1/feeds/runs/{id}", h.apiRun)
	srv.API("GET /api/v1/feeds/events", h.apiEvents)
	srv.API("GET /api/v1/feeds/coverage", h.apiCoverage)
	srv.Page("GET /feeds/runs", h.pageRuns)
	srv.Page("GET /feeds/runs/{id}", h.pageRun)
	srv.Page("GET /feeds/events", h.pageEvents)
	srv.Page("GET /feeds/events/export", h.pageExport)
	srv.Page("GET /our-events", h.pageOurs)
}

type list[T any] struct {
	Items  []T `json:"items"`
	Total  int `json:"total"`
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
}

func (h *handlers) apiRuns(w http.ResponseWriter, r *http.Request) error {
	off, lim, err := web.Paging(r)
	if err != nil {
		return err
	}
	f, err := ParseRunFilter(r.URL.Query())
	if err != nil {
		return err
	}
	f.Offset, f.Limit = off, lim
	runs, total, err := h.svc.Runs(r.Context(), f)
	if err != nil {
		return err
	}
	if runs == nil {
		runs = []*Run{}
	}
	return web.WriteJSON(w, http.StatusOK, list[*Run]{runs, total, off, lim})
}

func (h *handlers) apiRun(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	d, err := h.svc.Run(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, d)
}

// eventList is a page of events; the count stops at CountCap, and
// TotalCapped says that more match.
type eventList struct {
	list[*StoredEvent]
	TotalCapped bool `json:"total_capped"`
}

func (h *handlers) apiEvents(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" && format != "jsonl" {
		return errs.Field("format", "err.feeds.format_invalid", nil)
	}
	f, err := ParseEventFilter(q)
	if err != nil {
		return err
	}
	if format == "csv" || format == "jsonl" {
		return h.export(w, r, f, format)
	}
	off, lim, err := web.Paging(r)
	if err != nil {
		return err
	}
	f.Offset, f.Limit = off, lim
	evs, total, capped, err := h.svc.Events(r.Context(), f)
	if err != nil {
		return err
	}
	if evs == nil {
		evs = []*StoredEvent{}
	}
	return web.WriteJSON(w, http.StatusOK, eventList{list[*StoredEvent]{evs, total, off, lim}, capped})
}

func (h *handlers) apiCoverage(w http.ResponseWriter, r *http.Request) error {
	from, to, feed, err := h.coverageParams(r)
	if err != nil {
		return err
	}
	c, err := h.svc.Coverage(r.Context(), from, to, feed)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, c)
}

// coverageParams reads from and to (days, inclusive; the last 7 days by
// default) and feed.
func (h *handlers) coverageParams(r *http.Request) (from, to time.Time, feed string, err error) {
	q := r.URL.Query()
	var v errs.Validator
	from, to = parseDay(&v, q, "from", false), parseDay(&v, q, "to", false)
	if err := v.Err(); err != nil {
		return from, to, "", err
	}
	today := h.svc.now().UTC().Truncate(24 * time.Hour)
	if to.IsZero() {
		to = today
	}
	to = to.Truncate(24 * time.Hour)
	if from.IsZero() {
		from = to.AddDate(0, 0, -6)
	}
	from = from.Truncate(24 * time.Hour)
	if from.After(to) {
		return from, to, "", errs.Field("from", "err.feeds.range_invalid", nil)
	}
	if to.Sub(from) > 366*24*time.Hour {
		return from, to, "", errs.Field("from", "err.feeds.range_too_long", nil)
	}
	return from, to, q.Get("feed"), nil
}

// exportHeader is the first line of a CSV export.
var exportHeader = []string{"id", "run_id", "organisation_id", "organisation", "feed", "time_source", "severity", "taxonomy", "type", "identifier",
	"source_ip", "source_port", "source_asn", "source_fqdn", "destination_ip", "destination_port", "destination_asn", "destination_fqdn",
	"matched_on", "matched_value", "notify", "fields", "created_at"}

func exportRecord(e *StoredEvent) []string {
	org, t := "", ""
	if e.OrgID != nil {
		org = strconv.FormatInt(*e.OrgID, 10)
	}
	if e.Time != nil {
		t = e.Time.Format(time.RFC3339)
	}
	itoa := strconv.Itoa
	i64 := func(n int64) string { return strconv.FormatInt(n, 10) }
	return []string{i64(e.ID), i64(e.RunID), org, csvSafe(e.OrgName), e.Feed, t, e.Severity, e.Taxonomy, e.Type, csvSafe(e.Identifier), e.SrcIP,
		itoa(e.SrcPort), i64(e.SrcASN), csvSafe(e.SrcFQDN), e.DstIP, itoa(e.DstPort), i64(e.DstASN), csvSafe(e.DstFQDN), e.MatchedOn,
		csvSafe(e.MatchedValue), strconv.FormatBool(e.Notify), string(e.Fields), e.CreatedAt.Format(time.RFC3339)}
}

// csvSafe keeps a spreadsheet from reading a value as a formula: feed
// data is written by strangers.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}

// export streams the events of f as CSV or JSON lines. The scope is
// checked before the first byte; an error after it cuts the file short,
// which the missing final line shows (each line ends with a newline).
func (h *handlers) export(w http.ResponseWriter, r *http.Request, f EventFilter, format string) error {
	if _, err := scope(r.Context(), f); err != nil {
		return err
	}
	name := "events-" + h.svc.now().UTC().Format("20060102-150405") + "." + format
	hd := w.Header()
	if format == "csv" {
		hd.Set("Content-Type", "text/csv; charset=utf-8")
	} else {
		hd.Set("Content-Type", "application/jsonl")
	}
	hd.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	hd.Set("Cache-Control", "no-store")
	sent := &countingWriter{w: w}
	bw := bufio.NewWriterSize(sent, 64<<10)
	var write func(*StoredEvent) error
	var cw *csv.Writer
	if format == "csv" {
		cw = csv.NewWriter(bw)
		cw.Write(exportHeader)
		write = func(e *StoredEvent) error {
			cw.Write(exportRecord(e))
			return cw.Error()
		}
	} else {
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		write = func(e *StoredEvent) error { return enc.Encode(e) }
	}
	err := h.svc.EachEvent(r.Context(), f, write)
	if err == nil && cw != nil {
		cw.Flush()
		err = cw.Error()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil && sent.n == 0 {
		hd.Del("Content-Disposition")
		return err // nothing sent yet: an error page or problem instead
	}
	if err != nil {
		// The status is sent; the file ends early, without its last newline.
		h.srv.Logger().Warn("feeds: export cut short", "err", err)
	}
	return nil
}

// countingWriter counts the bytes passed to w.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
