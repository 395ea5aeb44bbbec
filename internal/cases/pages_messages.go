package cases

// The portal's pages of messages: the CSIRT's page of a case's threads
// with the affected organisations (/cases/{id}/messages), and the
// organisation's side (/our-cases): the cases that affect it and, per
// case, its own thread with a reply form. Every page shows the case's TLP
// label and each message its own.

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

// messageRoutes registers the pages of messages.
func (h *handlers) messageRoutes() {
	h.srv.Page("GET /cases/{id}/messages", h.caseMessages)
	h.srv.Page("POST /cases/{id}/messages", h.sendMessage)
	h.srv.Page("GET /our-cases", h.ourCases)
	h.srv.Page("GET /our-cases/{id}", h.ourCase)
	h.srv.Page("POST /our-cases/{id}", h.ourReply)
}

// thread is the messages of a case with one organisation.
type thread struct {
	Org      Org
	Messages []*Message
}

// threads groups msgs by organisation: the case's affected organisations
// first, then any that no longer is.
func threads(c *Case, msgs []*Message) []thread {
	var out []thread
	for _, o := range c.Orgs {
		out = append(out, thread{Org: o})
	}
	for _, m := range msgs {
		i := slices.IndexFunc(out, func(t thread) bool { return t.Org.ID == m.OrgID })
		if i < 0 {
			out = append(out, thread{Org: Org{ID: m.OrgID, Name: m.Org}})
			i = len(out) - 1
		}
		out[i].Messages = append(out[i].Messages, m)
	}
	return out
}

// renderMsg writes a page of messages; err, if not nil, is a failed
// POST's Invalid error, shown with the values typed.
func (h *handlers) renderMsg(w http.ResponseWriter, r *http.Request, tpl, title string, form url.Values, data map[string]any, err error) error {
	p := &web.Page{Title: title, Form: form, Data: data}
	status := http.StatusOK
	if err != nil {
		e, ok := errs.As(err)
		if !ok || e.Kind != errs.Invalid {
			return err
		}
		for _, f := range e.Fields {
			p.Errors = append(p.Errors, web.FieldMessage{Field: f.Field, Message: h.srv.Message(r, f.Code, f.Args)})
		}
		if len(e.Fields) == 0 {
			p.Errors = append(p.Errors, web.FieldMessage{Message: h.srv.Message(r, e.Code, e.Args)})
		}
		status = http.StatusUnprocessableEntity
	}
	return h.srv.RenderPage(w, r, status, tpl, p)
}

// titled puts the label in front of a page title: it must show in the
// browser's tab and history too.
func (h *handlers) titled(r *http.Request, tlp, key string, args map[string]any) string {
	return "TLP:" + tlp + " – " + h.srv.Message(r, key, args)
}

func (h *handlers) caseMessages(w http.ResponseWriter, r *http.Request) error {
	return h.renderCaseMessages(w, r, nil, nil)
}

func (h *handlers) renderCaseMessages(w http.ResponseWriter, r *http.Request, form url.Values, ferr error) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	c, err := h.svc.Get(r.Context(), id)
	if err != nil {
		return err
	}
	msgs, err := h.svc.Messages(r.Context(), id)
	if err != nil {
		return err
	}
	people, err := h.svc.People(r.Context(), id)
	if err != nil {
		return err
	}
	if form == nil {
		form = url.Values{"tlp": {c.TLP}}
		if len(c.Orgs) == 1 {
			form.Set("organisation_id", itoa(c.Orgs[0].ID))
		}
		if o := r.URL.Query().Get("org"); o != "" {
			form.Set("organisation_id", o)
		}
	}
	data := caseData(r, c, "/messages") // pages.go: the case's header and tabs
	data["Threads"], data["People"], data["TLPs"], data["Chosen"] = threads(c, msgs), people, TLPs, chosen(form)
	return h.renderMsg(w, r, "case_msg_staff", h.caseTitle(r, h.srv.Message(r, "casemsg.staff.heading", nil), c), form, data, ferr)
}

// chosen is the set of recipients ticked on the form, by user id.
func chosen(form url.Values) map[int64]bool {
	out := map[int64]bool{}
	for _, v := range form["recipients"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			out[id] = true
		}
	}
	return out
}

// messageInput reads the message form; values that are not numbers are
// kept as 0 and refused by the service.
func messageInput(form url.Values) MessageInput {
	in := MessageInput{TLP: form.Get("tlp"), Body: form.Get("body")}
	in.OrgID, _ = strconv.ParseInt(form.Get("organisation_id"), 10, 64)
	for id := range chosen(form) {
		in.Recipients = append(in.Recipients, id)
	}
	slices.Sort(in.Recipients)
	if len(form["recipients"]) > len(in.Recipients) {
		in.Recipients = append(in.Recipients, -1) // a value that is not a person
	}
	return in
}

func (h *handlers) sendMessage(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return err
	}
	m, err := h.svc.SendMessage(r.Context(), id, messageInput(r.PostForm))
	if err != nil {
		return h.renderCaseMessages(w, r, r.PostForm, err)
	}
	h.srv.Flash(w, "casemsg.flash.sent")
	return web.Redirect(w, r, fmt.Sprintf("/cases/%d/messages#org-%d", id, m.OrgID))
}

func (h *handlers) ourCases(w http.ResponseWriter, r *http.Request) error {
	off := web.PageOffset(r)
	cs, more, err := h.svc.OurCases(r.Context(), off, web.PageSize)
	if err != nil {
		return err
	}
	page := off/web.PageSize + 1
	data := map[string]any{"Cases": cs, "Page": page, "Prev": page - 1, "Next": 0}
	if more {
		data["Next"] = page + 1
	}
	return h.renderMsg(w, r, "case_msg_our_list", h.srv.Message(r, "casemsg.our.title", nil), nil, data, nil)
}

func (h *handlers) ourCase(w http.ResponseWriter, r *http.Request) error {
	return h.renderOurCase(w, r, nil, nil)
}

func (h *handlers) renderOurCase(w http.ResponseWriter, r *http.Request, form url.Values, ferr error) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	c, err := h.svc.OurCase(r.Context(), id)
	if err != nil {
		return err
	}
	msgs, err := h.svc.OurMessages(r.Context(), id)
	if err != nil {
		return err
	}
	people, err := h.svc.People(r.Context(), id)
	if err != nil {
		return err
	}
	if form == nil {
		tlp := c.TLP
		if len(msgs) > 0 {
			tlp = msgs[len(msgs)-1].TLP // the thread's label
		}
		form = url.Values{"tlp": {tlp}}
	}
	p := auth.From(r.Context())
	data := map[string]any{"Case": c, "Messages": msgs, "People": people, "TLPs": TLPs, "Chosen": chosen(form), "CanWrite": p.CanWrite()}
	return h.renderMsg(w, r, "case_msg_our_case", h.titled(r, c.TLP, "casemsg.our.case_title", map[string]any{"ref": c.Ref}), form, data, ferr)
}

func (h *handlers) ourReply(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return err
	}
	in := messageInput(r.PostForm)
	in.OrgID = 0 // always the person's own organisation
	if _, err := h.svc.Reply(r.Context(), id, in); err != nil {
		return h.renderOurCase(w, r, r.PostForm, err)
	}
	h.srv.Flash(w, "casemsg.flash.sent")
	return web.Redirect(w, r, fmt.Sprintf("/our-cases/%d", id))
}
