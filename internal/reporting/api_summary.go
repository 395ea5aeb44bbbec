package reporting

import (
	"bytes"
	"io"
	"net/http"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

// SummaryRoutes registers the quarterly anonymised summary to ENISA (NIS2
// Art. 23(9)): its page, its downloads through the session, and its API.
// The authority's staff only.
func (s *Service) SummaryRoutes(srv *web.Server) {
	h := &handlers{svc: s, srv: srv}
	srv.Page("GET /reporting/summary", h.pageSummary)
	srv.Page("GET /reporting/summary.csv", h.downloadSummary("csv"))
	srv.Page("GET /reporting/summary.json", h.downloadSummary("json"))
	srv.API("GET /api/v1/reporting/summary", h.apiSummary)
}

// summaryOf reads the quarter of a request ("" for the last complete
// one) and computes its summary.
func (h *handlers) summaryOf(r *http.Request) (*Summary, error) {
	q := r.URL.Query().Get("quarter")
	if q == "" {
		q = LastQuarter(h.svc.tick())
	}
	from, to, err := ParseQuarter(q)
	if err != nil {
		return nil, err
	}
	return h.svc.Summary(r.Context(), from, to)
}

// writeSummary writes sum as a CSV or JSON attachment.
func writeSummary(w http.ResponseWriter, sum *Summary, format string) error {
	return writeDownload(w, "enisa-summary-"+sum.Quarter, format, sum, sum.WriteCSV)
}

// writeDownload writes an attachment named name.format: the JSON document
// v, or the CSV that csv writes (all of it first, so that a failure is an
// error page, not a short file).
func writeDownload(w http.ResponseWriter, name, format string, v any, csv func(io.Writer) error) error {
	disp := `attachment; filename="` + name + `.` + format + `"`
	switch format {
	case "json":
		w.Header().Set("Content-Disposition", disp)
		return web.WriteJSON(w, http.StatusOK, v)
	case "csv":
		var buf bytes.Buffer
		if err := csv(&buf); err != nil {
			return err
		}
		h := w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", disp)
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		_, err := w.Write(buf.Bytes())
		return err
	}
	return errs.Field("format", "err.summary.format_invalid", nil)
}

func (h *handlers) apiSummary(w http.ResponseWriter, r *http.Request) error {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "json"
	}
	if format != "json" && format != "csv" {
		return errs.Field("format", "err.summary.format_invalid", nil)
	}
	sum, err := h.summaryOf(r)
	if err != nil {
		return err
	}
	return writeSummary(w, sum, format)
}

func (h *handlers) downloadSummary(format string) web.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		sum, err := h.summaryOf(r)
		if err != nil {
			return err
		}
		return writeSummary(w, sum, format)
	}
}
