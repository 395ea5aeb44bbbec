package cases

import (
	"net/http"
	"strings"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

// Merging and splitting cases by API (merge.go); documented in
// openapi_merge.json.
func (h *handlers) mergeAPIRoutes() {
	h.srv.API("POST /api/v1/cases/{id}/merge", h.apiMerge)
	h.srv.API("POST /api/v1/cases/{id}/split", h.apiSplit)
}

type mergeInput struct {
	// Into is the reference of the case this one goes into.
	Into string `json:"into"`
}

func (h *handlers) apiMerge(w http.ResponseWriter, r *http.Request) error {
	id, err := apiCaseID(r)
	if err != nil {
		return err
	}
	if err := apiCanWork(r); err != nil {
		return err
	}
	var in mergeInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	target, err := h.svc.ByRef(r.Context(), in.Into)
	if errs.Is(err, errs.NotFound) {
		return errs.Field("into", "err.case.link_unknown", map[string]any{"target": strings.TrimSpace(in.Into)})
	}
	if err != nil {
		return err
	}
	c, err := h.svc.Merge(r.Context(), id, target.ID)
	if e, ok := errs.As(err); ok && e.Kind == errs.Invalid {
		return errs.Field("into", "err.case.merge_self", nil)
	}
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, c)
}

func (h *handlers) apiSplit(w http.ResponseWriter, r *http.Request) error {
	id, err := apiCaseID(r)
	if err != nil {
		return err
	}
	if err := apiCanWork(r); err != nil {
		return err
	}
	var in SplitInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := h.svc.Split(r.Context(), id, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/cases/"+itoa(c.ID))
	return web.WriteJSON(w, http.StatusCreated, c)
}
