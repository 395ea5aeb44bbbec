package registry

import (
	"encoding/json"
	"mime"
	"net/http"
	"strings"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

// apiExport streams the registry as a CSV or JSON attachment:
// GET /api/v1/registry/export?format=csv|json plus the list's filters.
func (h *handlers) apiExport(w http.ResponseWriter, r *http.Request) error {
	f, err := filterFrom(r)
	if err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = FormatCSV
	}
	ct := map[string]string{FormatCSV: "text/csv; charset=utf-8", FormatJSON: "application/json"}[format]
	if ct == "" {
		return errs.Field("format", "err.import.format", nil)
	}
	day := h.svc.tick()
	if cat := h.srv.Catalog(); cat != nil {
		day = day.In(cat.Zone())
	}
	name := "registry-" + day.Format("2006-01-02") + "." + format
	lw := &lazyWriter{w: w, header: func(hd http.Header) {
		hd.Set("Content-Type", ct)
		hd.Set("Content-Disposition", `attachment; filename="`+name+`"`)
		hd.Set("Cache-Control", "no-store")
	}}
	err = h.svc.Export(r.Context(), lw, format, f)
	if err != nil && lw.started {
		// Part of the file is out: cut the connection so that the client
		// sees a failed download, not a short file.
		h.srv.Logger().Error("registry export failed", "err", err)
		panic(http.ErrAbortHandler)
	}
	return err
}

// lazyWriter sets the attachment headers with the first byte, so that an
// error before it is answered as problem details.
type lazyWriter struct {
	w       http.ResponseWriter
	header  func(http.Header)
	started bool
}

func (l *lazyWriter) Write(p []byte) (int, error) {
	if !l.started {
		l.started = true
		l.header(l.w.Header())
	}
	return l.w.Write(p)
}

// apiImport loads a registry file: POST /api/v1/registry/import with the
// file as the body. A file with faults is answered 422 with the full
// report, shaped as problem details with the extension member "errors".
func (h *handlers) apiImport(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var dryRun bool
	switch q.Get("dry_run") {
	case "", "false":
	case "true":
		dryRun = true
	default:
		return errs.Field("dry_run", "err.import.dry_run", nil)
	}
	format := q.Get("format")
	if format == "" {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch mt {
		case "text/csv":
			format = FormatCSV
		case "application/json":
			format = FormatJSON
		default:
			return errs.E(errs.Unsupported, "err.unsupported_media_type")
		}
	}
	body := http.MaxBytesReader(w, r.Body, MaxImportBytes+1)
	rep, err := h.svc.Import(r.Context(), body, format, dryRun, web.Locale(r))
	if e, ok := errs.As(err); ok && e.Kind == errs.Invalid && rep != nil {
		h.writeRefusal(w, r, rep, e)
		return nil
	}
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, rep)
}

// importProblem is the report on a refused file as RFC 9457 problem
// details, with the faults in the extension member "errors".
type importProblem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
	*ImportReport
}

func (h *handlers) writeRefusal(w http.ResponseWriter, r *http.Request, rep *ImportReport, e *errs.Error) {
	st := http.StatusUnprocessableEntity
	p := importProblem{Type: "about:blank", Title: http.StatusText(st), Status: st, Detail: e.Code,
		Code: strings.TrimPrefix(e.Code, "err."), ImportReport: rep}
	if cat := h.srv.Catalog(); cat != nil {
		p.Detail = cat.T(web.Locale(r), e.Code, e.Args)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(st)
	json.NewEncoder(w).Encode(p) // the status is out: a failed write has no one to tell
}
