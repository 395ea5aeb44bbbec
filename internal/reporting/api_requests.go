package reporting

import (
	"net/http"

	"github.com/belfry-cert/belfry/internal/web"
)

// RequestRoutes registers the requests of the authority to an entity and
// the messages of both sides about an incident: the shared page and the API.
func (s *Service) RequestRoutes(srv *web.Server) {
	h := &handlers{svc: s, srv: srv}
	srv.Page("GET /incidents/{id}/messages", h.pageMessages)
	srv.Page("POST /incidents/{id}/messages", h.pageMessagesAction)
	srv.API("GET /api/v1/incidents/{id}/requests", h.apiRequests)
	srv.API("POST /api/v1/incidents/{id}/requests", h.apiAddRequest)
	srv.API("GET /api/v1/incidents/{id}/messages", h.apiMessages)
	srv.API("POST /api/v1/incidents/{id}/messages", h.apiAddMessage)
}

func (h *handlers) apiRequests(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	reqs, err := h.svc.Requests(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"items": reqs})
}

func (h *handlers) apiAddRequest(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var in RequestInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	req, err := h.svc.RequestReport(r.Context(), id, in.Kind, in.Body, in.Deadline)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, req)
}

func (h *handlers) apiMessages(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	ms, err := h.svc.Messages(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"items": ms})
}

func (h *handlers) apiAddMessage(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var in MessageInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	m, err := h.svc.PostMessage(r.Context(), id, in.Body)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, m)
}
