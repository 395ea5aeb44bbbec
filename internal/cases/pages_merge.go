package cases

// The portal's merge and split of a case (merge.go): one page with both
// forms, under the case's "Merge or split" tab.

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

func (h *handlers) mergeRoutes() {
	h.srv.Page("GET /cases/{id}/merge", h.mergePage)
	h.srv.Page("POST /cases/{id}/merge", h.mergePost)
	h.srv.Page("POST /cases/{id}/split", h.splitPost)
}

func (h *handlers) renderMerge(w http.ResponseWriter, r *http.Request, c *Case, form url.Values, err error) error {
	obs, oerr := h.svc.Observables(r.Context(), c.ID)
	if oerr != nil {
		return oerr
	}
	tasks, terr := h.svc.Tasks(r.Context(), c.ID)
	if terr != nil {
		return terr
	}
	data := caseData(r, c, "/merge")
	data["Observables"], data["Tasks"] = obs, tasks
	p := &web.Page{Title: h.caseTitle(r, h.t(r, "casemerge.title", nil), c), Form: form, Data: data}
	return h.render(w, r, "case_merge", p, err, map[string]string{"into": "into", "target": "into", "title": "title",
		"observables": "split-observables", "tasks": "split-observables"})
}

func (h *handlers) mergePage(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r)
	if err != nil {
		return err
	}
	return h.renderMerge(w, r, c, nil, nil)
}

func (h *handlers) mergePost(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r)
	if err != nil {
		return err
	}
	if err := worker(r); err != nil {
		return err
	}
	into := strings.TrimSpace(r.PostForm.Get("into"))
	target, err := h.svc.ByRef(r.Context(), into)
	if errs.Is(err, errs.NotFound) {
		return h.renderMerge(w, r, c, r.PostForm, errs.Field("into", "err.case.link_unknown", map[string]any{"target": into}))
	}
	if err != nil {
		return err
	}
	if _, err := h.svc.Merge(r.Context(), c.ID, target.ID); err != nil {
		if e, ok := errs.As(err); ok && e.Kind == errs.Invalid {
			err = errs.Field("into", "err.case.merge_self", nil)
		}
		return h.renderMerge(w, r, c, r.PostForm, err)
	}
	h.srv.Flash(w, "casemerge.merged")
	return web.Redirect(w, r, caseBase(target.ID))
}

func (h *handlers) splitPost(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r)
	if err != nil {
		return err
	}
	if err := worker(r); err != nil {
		return err
	}
	in := SplitInput{Title: strings.TrimSpace(r.PostForm.Get("title"))}
	for _, v := range r.PostForm["observable"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			in.Observables = append(in.Observables, id)
		}
	}
	for _, v := range r.PostForm["task"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			in.Tasks = append(in.Tasks, id)
		}
	}
	n, err := h.svc.Split(r.Context(), c.ID, in)
	if err != nil {
		return h.renderMerge(w, r, c, r.PostForm, err)
	}
	h.srv.Flash(w, "casemerge.split")
	return web.Redirect(w, r, caseBase(n.ID))
}
