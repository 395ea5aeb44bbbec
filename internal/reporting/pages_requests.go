package reporting

// The page of an incident's requests and messages, shared by the entity
// and the authority: the requests with their deadlines, the messages of
// both sides with a reply form, and (for the authority's analysts,
// supervisors and administrators) a form to request a report.

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/web"
)

// requestView is a request with its deadline in words.
type requestView struct {
	Req   Request
	Due   *dueView
	Stamp string
}

// messageView is a message with its time in words.
type messageView struct {
	Msg   Message
	Stamp string
}

// maxRequestHours bounds the deadline of a request typed on the page (90 days).
const maxRequestHours = 90 * 24

func (h *handlers) pageMessages(w http.ResponseWriter, r *http.Request) error {
	return h.renderMessages(w, r, nil, nil)
}

// renderMessages writes the page; err holds a failed POST's errors.
func (h *handlers) renderMessages(w http.ResponseWriter, r *http.Request, form url.Values, err error) error {
	in, lerr := h.load(r)
	if lerr != nil {
		return lerr
	}
	reqs, lerr := h.svc.Requests(r.Context(), in.ID)
	if lerr != nil {
		return lerr
	}
	msgs, lerr := h.svc.Messages(r.Context(), in.ID)
	if lerr != nil {
		return lerr
	}
	now := h.svc.tick()
	var open, answered []requestView
	for _, q := range reqs {
		v := requestView{Req: q, Stamp: h.stamp(r, q.CreatedAt)}
		if q.Open() {
			v.Due = h.dueAt(q.Deadline, now, r)
			open = append(open, v)
		} else {
			answered = append(answered, v)
		}
	}
	var mv []messageView
	for _, m := range msgs {
		mv = append(mv, messageView{Msg: m, Stamp: h.stamp(r, m.CreatedAt)})
	}
	if form == nil {
		form = url.Values{"hours": {"48"}, "kind": {RequestIntermediateReport}}
	}
	data := map[string]any{"In": in, "Base": base(in), "Open": open, "Answered": answered, "Messages": mv, "Now": now,
		"CanRequest": CanRequest(r.Context()), "CanMessage": CanMessage(r.Context(), in.OrgID), "Kinds": RequestKinds}
	return h.render(w, r, "rep_messages", h.t(r, "req.page.title", map[string]any{"ref": in.Ref}), form, data, err)
}

// dueAt is a request's deadline as people read it.
func (h *handlers) dueAt(at, now time.Time, r *http.Request) *dueView {
	at = at.Truncate(time.Minute)
	v := &dueView{At: at, Offset: offset(at), Status: nis2.Pending}
	if now.After(at) {
		v.Overdue, v.Status = h.duration(r, max(now.Sub(at), time.Minute), true), nis2.Overdue
	} else {
		v.Left, v.Soon = h.duration(r, at.Sub(now), false), at.Sub(now) <= 24*time.Hour
	}
	return v
}

func (h *handlers) pageMessagesAction(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	f := r.PostForm
	switch f.Get("action") {
	case "message":
		if _, err := h.svc.PostMessage(r.Context(), id, f.Get("body")); err != nil {
			return h.renderMessages(w, r, f, err)
		}
		h.srv.Flash(w, "req.flash.message")
	case "request":
		hours, herr := strconv.Atoi(strings.TrimSpace(f.Get("hours")))
		if herr != nil || hours < 1 || hours > maxRequestHours {
			if !CanRequest(r.Context()) {
				return forbidden()
			}
			return h.renderMessages(w, r, f, errs.Field("hours", "err.req.hours_invalid", map[string]any{"max": maxRequestHours}))
		}
		deadline := h.svc.tick().Truncate(time.Minute).Add(time.Duration(hours) * time.Hour)
		if _, err := h.svc.RequestReport(r.Context(), id, f.Get("kind"), f.Get("request_body"), deadline); err != nil {
			err = renameFields(err, map[string]string{"body": "request_body", "deadline": "hours"})
			return h.renderMessages(w, r, f, err)
		}
		h.srv.Flash(w, "req.flash.request")
	default:
		return errs.E(errs.NotFound, "err.not_found")
	}
	return web.Redirect(w, r, fmt.Sprintf("/incidents/%d/messages", id))
}

// renameFields names the fields of an Invalid error as the page's form
// does (the request's text box is request_body, its deadline hours).
func renameFields(err error, names map[string]string) error {
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.Invalid {
		return err
	}
	c := *e
	c.Fields = append([]errs.FieldError(nil), e.Fields...)
	for i, f := range c.Fields {
		if n, ok := names[f.Field]; ok {
			c.Fields[i].Field = n
		}
	}
	return &c
}
