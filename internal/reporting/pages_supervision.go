package reporting

// The supervisors' page of reporting obligations not met: filters by URL,
// the list a page at a time, and its downloads.

import (
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/registry"
	"github.com/belfry-cert/belfry/internal/web"
)

// obligationRow is a row of the list with its lateness in words.
type obligationRow struct {
	O         Obligation
	Late      string
	Submitted string
}

// obligationParams are the query parameters of the list's filters.
var obligationParams = []string{"status", "sector", "class", "q", "from", "to"}

func (h *handlers) pageObligations(w http.ResponseWriter, r *http.Request) error {
	if !CanSupervise(r.Context()) {
		return forbidden()
	}
	form := url.Values{}
	for _, k := range obligationParams {
		if v := r.URL.Query().Get(k); v != "" {
			form.Set(k, v)
		}
	}
	data := map[string]any{"Sectors": nis2.Sectors(), "Classes": append(slices.Clone(registry.Classes), "unclassified"),
		"Statuses": []string{ObligationOverdue, ObligationLate}, "Now": h.svc.tick(), "Query": form.Encode()}
	title := h.t(r, "sup.title", nil)
	f, err := obligationFilter(form)
	if err != nil {
		data["Pager"] = web.NewPager(r, 0)
		return h.render(w, r, "rep_supervision", title, form, data, err)
	}
	f.Offset, f.Limit = web.PageOffset(r), web.PageSize
	items, total, err := h.svc.Obligations(r.Context(), f)
	if err != nil {
		return err
	}
	rows := make([]obligationRow, 0, len(items))
	for _, o := range items {
		row := obligationRow{O: o, Late: h.duration(r, max(time.Duration(o.LateBy)*time.Second, time.Minute), true)}
		if o.SubmittedAt != nil {
			row.Submitted = h.srv.Catalog().DateTime(web.Locale(r), *o.SubmittedAt)
		}
		rows = append(rows, row)
	}
	data["Rows"], data["Pager"] = rows, web.NewPager(r, total)
	return h.render(w, r, "rep_supervision", title, form, data, nil)
}
