package audit

import (
	"embed"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/web"
)

//go:embed all:templates
var templateFS embed.FS

//go:embed openapi.json
var openapiFragment []byte

// Routes registers the audit-log pages and API: browsing for the
// authority's administrators and auditors, and chain verification.
func Routes(srv *web.Server, db *store.DB) {
	srv.AddTemplates(templateFS)
	srv.AddOpenAPI(openapiFragment)
	srv.Page("GET /audit", func(w http.ResponseWriter, r *http.Request) error {
		f, err := filterFrom(r, srv)
		if err != nil {
			return srv.RenderForm(w, r, "audit", "audit.title", map[string]any{"Page": Page{}}, err)
		}
		p, err := List(r.Context(), db, f)
		if err != nil {
			return err
		}
		return srv.RenderPage(w, r, http.StatusOK, "audit", &web.Page{
			Title: srv.Catalog().T(web.Locale(r), "audit.title", nil), Form: r.URL.Query(),
			Data: map[string]any{"Page": p, "Offset": f.Offset, "Limit": f.Limit, "Next": f.Offset + len(p.Records)}})
	})
	srv.API("GET /api/v1/audit", func(w http.ResponseWriter, r *http.Request) error {
		f, err := filterFrom(r, srv)
		if err != nil {
			return err
		}
		p, err := List(r.Context(), db, f)
		if err != nil {
			return err
		}
		if p.Records == nil {
			p.Records = []Record{}
		}
		return web.WriteJSON(w, http.StatusOK, p)
	})
	srv.API("GET /api/v1/audit/verify", func(w http.ResponseWriter, r *http.Request) error {
		if !auth.From(r.Context()).CanReadAll() {
			return errs.E(errs.Forbidden, "err.forbidden")
		}
		res, err := Verify(r.Context(), db)
		if err != nil {
			return err
		}
		if res.Problems == nil {
			res.Problems = []Problem{}
		}
		return web.WriteJSON(w, http.StatusOK, map[string]any{"ok": res.OK(), "records": res.Records, "problems": res.Problems})
	})
}

// filterFrom reads the filter from the query string; dates are calendar
// days in Brussels time (from inclusive, to inclusive).
func filterFrom(r *http.Request, srv *web.Server) (Filter, error) {
	q := r.URL.Query()
	f := Filter{Action: strings.TrimSpace(q.Get("action")), Actor: strings.TrimSpace(q.Get("actor")),
		ObjectType: strings.TrimSpace(q.Get("object_type")), ObjectID: strings.TrimSpace(q.Get("object_id"))}
	var v errs.Validator
	tz := srv.Catalog().Zone()
	if s := q.Get("org"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if v.Check(err == nil && n > 0, "org", "err.id.invalid") {
			f.OrgID = n
		}
	}
	if s := q.Get("from"); s != "" {
		t, err := time.ParseInLocation("2006-01-02", s, tz)
		if v.Check(err == nil, "from", "err.date.invalid") {
			f.From = t
		}
	}
	if s := q.Get("to"); s != "" {
		t, err := time.ParseInLocation("2006-01-02", s, tz)
		if v.Check(err == nil, "to", "err.date.invalid") {
			f.To = t.AddDate(0, 0, 1)
		}
	}
	off, lim, perr := web.Paging(r)
	f.Offset, f.Limit = off, lim
	if e, ok := errs.As(perr); ok {
		for _, fe := range e.Fields {
			v.Add(fe.Field, fe.Code, fe.Args)
		}
	}
	return f, v.Err()
}
