package registry

// The authority's pages: review and designation, the registry, statistics, claims, import.

import (
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/web"
)

// ---- the authority's decisions ----

func (h *handlers) review(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.load(r)
	if err != nil {
		return err
	}
	if _, err := h.svc.Review(r.Context(), reg.OrgID, ReviewInput{Decision: r.PostFormValue("decision"), Note: r.PostFormValue("note")}); err != nil {
		if errs.Is(err, errs.Invalid) {
			return h.overviewWith(w, r, reg, err)
		}
		return err
	}
	h.srv.Flash(w, "reg.flash.reviewed")
	return web.Redirect(w, r, fmt.Sprintf("/registrations/%d", reg.OrgID))
}

func (h *handlers) overviewWith(w http.ResponseWriter, r *http.Request, reg *Registration, err error) error {
	check := taskState{Name: "check", Path: "/check", State: "cannot_start"}
	if allDone(reg) {
		check.State = "not_started"
	}
	vs, verr := h.svc.Versions(r.Context(), reg.OrgID)
	if verr != nil {
		return verr
	}
	data := map[string]any{"Tasks": tasks(reg), "Check": check, "Done": countDone(reg), "Classes": Classes, "Versions": vs}
	return h.regPage(w, r, "registration", "reg.title", reg, r.PostForm, data, err)
}

func (h *handlers) override(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.load(r)
	if err != nil {
		return err
	}
	if _, err := h.svc.SetOverride(r.Context(), reg.OrgID, OverrideInput{Class: r.PostFormValue("class"), Justification: r.PostFormValue("justification")}); err != nil {
		if errs.Is(err, errs.Invalid) {
			return h.overviewWith(w, r, reg, err)
		}
		return err
	}
	h.srv.Flash(w, "reg.flash.override_saved")
	return web.Redirect(w, r, fmt.Sprintf("/registrations/%d", reg.OrgID))
}

// ---- registry (authority) ----

func (h *handlers) filterData() map[string]any {
	return map[string]any{"Sectors": nis2.Sectors(), "Classes": append(slices.Clone(Classes), "unclassified"), "Statuses": Statuses, "Sizes": Sizes}
}

func (h *handlers) registry(w http.ResponseWriter, r *http.Request) error {
	if !auth.From(r.Context()).IsAuthority() {
		return forbidden()
	}
	f, ferr := filterFrom(r)
	if ferr != nil {
		f = Filter{Text: r.URL.Query().Get("q")}
	}
	f.Offset, f.Limit = web.PageOffset(r), web.PageSize
	list, total, err := h.svc.List(r.Context(), f)
	if err != nil {
		return err
	}
	data := h.filterData()
	data["Regs"], data["Pager"], data["Filter"] = list, web.NewPager(r, total), f
	q := r.URL.Query()
	q.Del("page")
	data["ExportQuery"] = q.Encode()
	return h.srv.RenderPage(w, r, http.StatusOK, "registry", &web.Page{Title: h.t(r, "registry.title", nil), Form: r.URL.Query(), Data: data})
}

func (h *handlers) stats(w http.ResponseWriter, r *http.Request) error {
	f, ferr := filterFrom(r)
	if ferr != nil {
		f = Filter{}
	}
	st, err := h.svc.Statistics(r.Context(), f)
	if err != nil {
		return err
	}
	data := h.filterData()
	data["Stats"] = st
	return h.srv.RenderPage(w, r, http.StatusOK, "registry_stats", &web.Page{Title: h.t(r, "registry.stats_title", nil), Form: r.URL.Query(), Data: data})
}

func (h *handlers) export(w http.ResponseWriter, r *http.Request) error {
	return h.apiExport(w, r)
}

func (h *handlers) claims(w http.ResponseWriter, r *http.Request) error {
	if !auth.From(r.Context()).IsAuthority() {
		return forbidden()
	}
	q := r.URL.Query()
	f := ClaimFilter{Status: q.Get("status"), Kind: q.Get("kind"), Text: q.Get("q"), Conflicts: q.Get("conflicts") == "yes", Offset: web.PageOffset(r), Limit: web.PageSize}
	if !slices.Contains([]string{"", ClaimPending, ClaimApproved, ClaimRejected}, f.Status) {
		f.Status = ""
	}
	if !slices.Contains([]string{"", "prefix", "asn", "domain"}, f.Kind) {
		f.Kind = ""
	}
	list, total, err := h.svc.Claims(r.Context(), f)
	if err != nil {
		return err
	}
	return h.srv.RenderPage(w, r, http.StatusOK, "claims", &web.Page{Title: h.t(r, "claims.title", nil), Form: q,
		Data: map[string]any{"Claims": list, "Pager": web.NewPager(r, total), "CanReview": CanReview(r.Context())}})
}

func (h *handlers) decideClaim(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if !auth.From(r.Context()).IsAuthority() {
		return errs.E(errs.NotFound, "err.claim.not_found")
	}
	d := r.PostFormValue("decision")
	if d != "approve" && d != "reject" {
		return errs.Field("decision", "err.claim.decision_invalid", nil)
	}
	if _, err := h.svc.DecideClaim(r.Context(), id, d == "approve", r.PostFormValue("note")); err != nil {
		if errs.Is(err, errs.Invalid) {
			h.srv.Flash(w, "claims.flash.reason_required")
			return web.Redirect(w, r, "/claims?"+safeQuery(r.PostFormValue("back")))
		}
		return err
	}
	h.srv.Flash(w, "claims.flash."+d)
	return web.Redirect(w, r, "/claims?"+safeQuery(r.PostFormValue("back")))
}

// safeQuery keeps a query string only if it is one.
func safeQuery(q string) string {
	v, err := url.ParseQuery(q)
	if err != nil {
		return ""
	}
	return v.Encode()
}

func (h *handlers) lookupPage(w http.ResponseWriter, r *http.Request) error {
	if !auth.From(r.Context()).IsAuthority() {
		return forbidden()
	}
	q := r.URL.Query().Get("q")
	data := map[string]any{}
	if values := strings.Fields(strings.ReplaceAll(q, ",", " ")); len(values) > 0 {
		if len(values) > 100 {
			values = values[:100]
		}
		res, err := h.svc.Lookup(r.Context(), values)
		if err != nil {
			return err
		}
		data["Results"] = res
	}
	return h.srv.RenderPage(w, r, http.StatusOK, "constituency", &web.Page{Title: h.t(r, "constituency.title", nil), Form: r.URL.Query(), Data: data})
}

// ---- import (authority) ----

func (h *handlers) importPage(w http.ResponseWriter, r *http.Request) error {
	if !CanReview(r.Context()) {
		return forbidden()
	}
	return h.srv.RenderPage(w, r, http.StatusOK, "registry_import", &web.Page{Title: h.t(r, "registry.import_title", nil),
		Form: url.Values{"dry_run": {"yes"}}})
}

func (h *handlers) importUpload(w http.ResponseWriter, r *http.Request) error {
	if !CanReview(r.Context()) {
		return forbidden()
	}
	page := &web.Page{Title: h.t(r, "registry.import_title", nil), Form: r.PostForm}
	var fh *multipart.FileHeader
	if r.MultipartForm != nil && len(r.MultipartForm.File["file"]) > 0 {
		fh = r.MultipartForm.File["file"][0]
	}
	if fh == nil || fh.Size == 0 {
		page.Errors = []web.FieldMessage{{Field: "file", Message: h.t(r, "err.import.file_required", nil)}}
		return h.srv.RenderPage(w, r, http.StatusUnprocessableEntity, "registry_import", page)
	}
	format := "csv"
	if strings.HasSuffix(strings.ToLower(fh.Filename), ".json") {
		format = "json"
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	dry := r.PostFormValue("dry_run") == "yes"
	report, err := h.svc.Import(r.Context(), f, format, dry, web.Locale(r))
	status := http.StatusOK
	if err != nil {
		if report == nil {
			if e, ok := errs.As(err); ok && (e.Kind == errs.Invalid || e.Kind == errs.TooLarge) {
				page.Errors = []web.FieldMessage{{Field: "file", Message: h.t(r, e.Code, e.Args)}}
				return h.srv.RenderPage(w, r, http.StatusUnprocessableEntity, "registry_import", page)
			}
			return err
		}
		status = http.StatusUnprocessableEntity
	}
	page.Data = map[string]any{"Report": report, "File": fh.Filename}
	return h.srv.RenderPage(w, r, status, "registry_import", page)
}
