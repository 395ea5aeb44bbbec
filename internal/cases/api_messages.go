package cases

// The API of messages: the staff's /api/v1/cases/{id}/messages and the
// organisations' /api/v1/our-cases (openapi_messages.json). Every message
// carries its TLP label, every case its own.

import (
	"net/http"

	"github.com/belfry-cert/belfry/internal/web"
)

// messageAPIRoutes registers the API of messages.
func (h *handlers) messageAPIRoutes() {
	h.srv.API("GET /api/v1/cases/{id}/messages", h.apiCaseMessages)
	h.srv.API("POST /api/v1/cases/{id}/messages", h.apiSendMessage)
	h.srv.API("GET /api/v1/our-cases", h.apiOurCases)
	h.srv.API("GET /api/v1/our-cases/{id}/messages", h.apiOurMessages)
	h.srv.API("POST /api/v1/our-cases/{id}/messages", h.apiReply)
}

func (h *handlers) apiCaseMessages(w http.ResponseWriter, r *http.Request) error {
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

func (h *handlers) apiSendMessage(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var in MessageInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	m, err := h.svc.SendMessage(r.Context(), id, in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, m)
}

func (h *handlers) apiOurCases(w http.ResponseWriter, r *http.Request) error {
	off, limit, err := web.Paging(r)
	if err != nil {
		return err
	}
	cs, more, err := h.svc.OurCases(r.Context(), off, limit)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"items": cs, "more": more})
}

func (h *handlers) apiOurMessages(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	c, err := h.svc.OurCase(r.Context(), id)
	if err != nil {
		return err
	}
	ms, err := h.svc.OurMessages(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"case": c, "items": ms})
}

// ourReplyInput is an organisation's message: its thread is its own.
type ourReplyInput struct {
	TLP        string  `json:"tlp,omitempty"`
	Body       string  `json:"body"`
	Recipients []int64 `json:"recipients,omitempty"`
}

func (h *handlers) apiReply(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var in ourReplyInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	m, err := h.svc.Reply(r.Context(), id, MessageInput{TLP: in.TLP, Body: in.Body, Recipients: in.Recipients})
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, m)
}
