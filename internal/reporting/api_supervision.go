package reporting

import (
	_ "embed"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

//go:embed openapi_supervision.json
var openapiSupervision []byte

// SupervisionRoutes registers the supervision list of reporting
// obligations not met: its page, its downloads through the session, and
// its API. The authority's supervisors, analysts and administrators only.
func (s *Service) SupervisionRoutes(srv *web.Server) {
	srv.AddOpenAPI(openapiSupervision)
	h := &handlers{svc: s, srv: srv}
	srv.Page("GET /supervision/obligations", h.pageObligations)
	srv.Page("GET /supervision/obligations.csv", h.downloadObligations("csv"))
	srv.Page("GET /supervision/obligations.json", h.downloadObligations("json"))
	srv.API("GET /api/v1/supervision/obligations", h.apiObligations)
}

// supDay reads a day "2026-03-01" as its first instant in Brussels.
func supDay(s, name string, v *errs.Validator) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	t, err := time.ParseInLocation("2006-01-02", s, brussels)
	if err != nil {
		v.Add(name, "err.sup.date_invalid", nil)
	}
	return t
}

// obligationFilter reads the filters of the list from a query: status,
// sector, class, organisation_id, q, and the days from and to (both
// included, in Brussels).
func obligationFilter(q url.Values) (ObligationFilter, error) {
	f := ObligationFilter{Status: q.Get("status"), Sector: q.Get("sector"), Class: q.Get("class"), Text: q.Get("q")}
	if f.Status == "all" {
		f.Status = ""
	}
	var v errs.Validator
	if s := q.Get("organisation_id"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if v.Check(err == nil && n > 0, "organisation_id", "err.rep.org_invalid") {
			f.OrgID = n
		}
	}
	f.From = supDay(q.Get("from"), "from", &v)
	if to := supDay(q.Get("to"), "to", &v); !to.IsZero() {
		f.To = to.AddDate(0, 0, 1)
	}
	if err := v.Err(); err != nil {
		return f, err
	}
	return f, ValidateObligationFilter(f)
}

// writeObligations writes rows as a CSV or JSON attachment.
func writeObligations(w http.ResponseWriter, rows []Obligation, format string, now time.Time) error {
	return writeDownload(w, "reporting-obligations-"+now.In(brussels).Format("2006-01-02"), format,
		map[string]any{"generated_at": now, "items": rows, "total": len(rows)}, func(w io.Writer) error { return WriteObligationsCSV(w, rows) })
}

func (h *handlers) apiObligations(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		return errs.Field("format", "err.summary.format_invalid", nil)
	}
	f, err := obligationFilter(q)
	if err != nil {
		return err
	}
	if format != "" { // the whole filtered list, as a file
		rows, _, err := h.svc.Obligations(r.Context(), f)
		if err != nil {
			return err
		}
		return writeObligations(w, rows, format, h.svc.tick())
	}
	off, lim, err := web.Paging(r)
	if err != nil {
		return err
	}
	f.Offset, f.Limit = off, lim
	rows, total, err := h.svc.Obligations(r.Context(), f)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, list[Obligation]{rows, total, off, lim})
}

func (h *handlers) downloadObligations(format string) web.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		f, err := obligationFilter(r.URL.Query())
		if err != nil {
			return err
		}
		rows, _, err := h.svc.Obligations(r.Context(), f)
		if err != nil {
			return err
		}
		return writeObligations(w, rows, format, h.svc.tick())
	}
}
