package reporting

import (
	"net/http"
	"net/url"

	"github.com/belfry-cert/belfry/internal/web"
)

// InboxRoutes registers the authority's inbox: its pages, the triage page
// of an incident, and their API.
func (s *Service) InboxRoutes(srv *web.Server) {
	h := &handlers{svc: s, srv: srv}
	srv.Page("GET /inbox", h.pageInbox)
	srv.Page("GET /incidents/{id}/triage", h.pageTriage)
	srv.Page("POST /incidents/{id}/triage", h.pageTriageAction)
	srv.API("GET /api/v1/inbox", h.apiInbox)
	srv.API("POST /api/v1/incidents/{id}/assign", h.apiAssign)
	srv.API("POST /api/v1/incidents/{id}/feedback", h.apiFeedback)
	srv.API("GET /api/v1/incidents/{id}/notes", h.apiNotes)
	srv.API("POST /api/v1/incidents/{id}/notes", h.apiAddNote)
}

// inboxFilter reads the filters of the inbox from a query.
func inboxFilter(q url.Values) InboxFilter {
	return InboxFilter{Overdue: q.Get("overdue") == "yes", Sector: q.Get("sector"), Class: q.Get("class"), Severity: q.Get("severity"),
		CrossBorder: q.Get("cross_border") == "yes", Assigned: q.Get("assigned"), Text: q.Get("q"), Sort: q.Get("sort"), Desc: q.Get("order") == "desc"}
}

func (h *handlers) apiInbox(w http.ResponseWriter, r *http.Request) error {
	off, lim, err := web.Paging(r)
	if err != nil {
		return err
	}
	f := inboxFilter(r.URL.Query())
	f.Offset, f.Limit = off, lim
	items, total, err := h.svc.Inbox(r.Context(), f)
	if err != nil {
		return err
	}
	if items == nil {
		items = []*InboxItem{}
	}
	return web.WriteJSON(w, http.StatusOK, list[*InboxItem]{items, total, off, lim})
}

func (h *handlers) apiAssign(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var in AssignInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	it, err := h.svc.Assign(r.Context(), id, in.UserID)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, it)
}

func (h *handlers) apiFeedback(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	it, err := h.svc.RecordFeedback(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, it)
}

func (h *handlers) apiNotes(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	notes, err := h.svc.Notes(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"items": notes})
}

func (h *handlers) apiAddNote(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var in NoteInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	n, err := h.svc.AddNote(r.Context(), id, in.Body)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, n)
}
