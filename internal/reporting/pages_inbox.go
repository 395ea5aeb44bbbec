package reporting

// The authority's pages of the inbox (UX.md pattern 18): the list by URL
// with its filters, and the triage page of an incident: its assignee, the
// CSIRT's feedback clock and internal notes.

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/registry"
	"github.com/belfry-cert/belfry/internal/web"
)

// inboxRow is an item of the inbox with its times in words.
type inboxRow struct {
	It       *InboxItem
	Next     *dueView
	Feedback *dueView
}

// chosenFilter is a filter above the list, with the link that removes it.
type chosenFilter struct {
	Label  string
	Remove string // query without it
}

// sortHeader is a sortable column heading: a link, and its aria-sort.
type sortHeader struct {
	Key, Label, Query, AriaSort string
}

// inboxParams are the query parameters of the inbox's filters.
var inboxParams = []string{"overdue", "sector", "class", "severity", "cross_border", "assigned", "q"}

// sanitise drops the filter values that are not valid, so that a bad
// bookmark still shows a list.
func sanitise(q url.Values) url.Values {
	out := url.Values{}
	for _, k := range append(slices.Clone(inboxParams), "sort", "order") {
		if v := strings.TrimSpace(q.Get(k)); v != "" {
			out.Set(k, v)
		}
	}
	for _, k := range []string{"sector", "class", "severity", "sort", "assigned"} {
		if out.Get(k) == "" {
			continue
		}
		f := inboxFilter(url.Values{k: {out.Get(k)}})
		if ValidateInboxFilter(f) != nil {
			out.Del(k)
		}
	}
	for _, k := range []string{"overdue", "cross_border"} {
		if out.Get(k) != "yes" {
			out.Del(k)
		}
	}
	if out.Get("order") != "desc" {
		out.Del("order")
	}
	return out
}

func (h *handlers) pageInbox(w http.ResponseWriter, r *http.Request) error {
	if !auth.From(r.Context()).IsAuthority() {
		return forbidden()
	}
	q := sanitise(r.URL.Query())
	f := inboxFilter(q)
	f.Offset, f.Limit = web.PageOffset(r), web.PageSize
	items, total, err := h.svc.Inbox(r.Context(), f)
	if err != nil {
		return err
	}
	assignees, err := h.svc.Assignees(r.Context())
	if err != nil {
		return err
	}
	now := h.svc.tick()
	rows := make([]inboxRow, 0, len(items))
	for _, it := range items {
		row := inboxRow{It: it, Feedback: h.due(r, it.inc, nis2.CSIRTFeedback, now)}
		if it.NextStage != "" {
			row.Next = h.due(r, it.inc, it.NextStage, now)
		}
		for _, v := range []*dueView{row.Next, row.Feedback} {
			if v != nil {
				v.RuleKey = "" // the triage page explains each rule
			}
		}
		rows = append(rows, row)
	}
	// Chosen filters, each removable.
	var chosen []chosenFilter
	without := func(k string) string {
		v := url.Values{}
		for key, vals := range q {
			if key != k {
				v[key] = vals
			}
		}
		return v.Encode()
	}
	for _, k := range inboxParams {
		val := q.Get(k)
		if val == "" {
			continue
		}
		var label string
		switch k {
		case "overdue":
			label = h.t(r, "inbox.filter.overdue", nil)
		case "cross_border":
			label = h.t(r, "inbox.filter.cross_border", nil)
		case "sector":
			label = h.t(r, "nis2.sector."+val, nil)
		case "class":
			if val == "unclassified" {
				label = h.t(r, "inbox.unclassified", nil)
			} else {
				label = h.t(r, "nis2.class."+val, nil)
			}
		case "severity":
			label = h.t(r, "repui.severity."+val, nil)
		case "assigned":
			label = h.assignedLabel(r, val, assignees)
		case "q":
			label = val
		}
		chosen = append(chosen, chosenFilter{Label: label, Remove: without(k)})
	}
	// Sortable headers: a link per column; the current one toggles.
	cur, desc := cmpOr(q.Get("sort"), "due"), q.Get("order") == "desc"
	var headers []sortHeader
	for _, k := range InboxSorts {
		v := url.Values{}
		for key, vals := range q {
			v[key] = vals
		}
		v.Set("sort", k)
		v.Del("order")
		hd := sortHeader{Key: k, Label: h.t(r, "inbox.col."+k, nil), AriaSort: "none"}
		if k == cur {
			hd.AriaSort = "ascending"
			if desc {
				hd.AriaSort = "descending"
			} else {
				v.Set("order", "desc")
			}
		}
		if k == "due" && v.Get("order") == "" {
			v.Del("sort")
		}
		hd.Query = v.Encode()
		headers = append(headers, hd)
	}
	data := map[string]any{"Rows": rows, "Pager": web.NewPager(r, total), "Now": now, "Chosen": chosen, "Headers": headers,
		"Sectors": nis2.Sectors(), "Classes": append(slices.Clone(registry.Classes), "unclassified"), "Severities": severities,
		"Assignees": assignees}
	return h.srv.RenderPage(w, r, http.StatusOK, "rep_inbox", &web.Page{Title: h.t(r, "inbox.title", nil), Form: q, Data: data})
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// assignedLabel names the assignee filter.
func (h *handlers) assignedLabel(r *http.Request, val string, users []InboxUser) string {
	switch val {
	case "me":
		return h.t(r, "inbox.assigned.me", nil)
	case "none":
		return h.t(r, "inbox.assigned.none", nil)
	}
	for _, u := range users {
		if strconv.FormatInt(u.ID, 10) == val {
			return h.t(r, "inbox.assigned.user", map[string]any{"name": u.Name})
		}
	}
	return val
}

// ---- triage of one incident ----

func (h *handlers) pageTriage(w http.ResponseWriter, r *http.Request) error {
	return h.renderTriage(w, r, nil, nil)
}

// renderTriage writes the triage page; err holds a failed POST's errors.
func (h *handlers) renderTriage(w http.ResponseWriter, r *http.Request, form url.Values, err error) error {
	if !auth.From(r.Context()).IsAuthority() {
		return forbidden()
	}
	id, perr := web.PathID(r, "id")
	if perr != nil {
		return perr
	}
	it, lerr := h.svc.InboxItem(r.Context(), id)
	if lerr != nil {
		return lerr
	}
	notes, lerr := h.svc.Notes(r.Context(), id)
	if lerr != nil {
		return lerr
	}
	assignees, lerr := h.svc.Assignees(r.Context())
	if lerr != nil {
		return lerr
	}
	now := h.svc.tick()
	in := it.inc
	var stamps []string
	for _, n := range notes {
		stamps = append(stamps, h.stamp(r, n.CreatedAt))
	}
	data := map[string]any{"It": it, "In": in, "Base": base(in), "Notes": notes, "NoteStamps": stamps, "Assignees": assignees,
		"Feedback": h.due(r, in, nis2.CSIRTFeedback, now), "Now": now, "CanTriage": CanTriage(r.Context()), "CanNote": CanNote(r.Context()),
		"HasEarlyWarning": in.First(EarlyWarning) != nil}
	if it.FeedbackAt != nil {
		data["FeedbackStamp"] = h.stamp(r, *it.FeedbackAt)
	}
	if form == nil {
		form = url.Values{}
		if it.Assignee != nil {
			form.Set("user_id", strconv.FormatInt(it.Assignee.ID, 10))
		}
	}
	return h.render(w, r, "rep_inbox_triage", h.t(r, "inbox.triage.title", map[string]any{"ref": in.Ref}), form, data, err)
}

func (h *handlers) pageTriageAction(w http.ResponseWriter, r *http.Request) error {
	if !auth.From(r.Context()).IsAuthority() {
		return forbidden()
	}
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	f := r.PostForm
	back := fmt.Sprintf("/incidents/%d/triage", id)
	switch f.Get("action") {
	case "assign":
		var uid int64
		if s := f.Get("user_id"); s != "" {
			if uid, err = strconv.ParseInt(s, 10, 64); err != nil || uid < 0 {
				return h.renderTriage(w, r, f, errs.Field("user_id", "err.inbox.assignee_invalid", nil))
			}
		}
		if _, err := h.svc.Assign(r.Context(), id, uid); err != nil {
			return h.renderTriage(w, r, f, err)
		}
		if uid == 0 {
			h.srv.Flash(w, "inbox.flash.unassigned")
		} else {
			h.srv.Flash(w, "inbox.flash.assigned")
		}
	case "feedback":
		if _, err := h.svc.RecordFeedback(r.Context(), id); err != nil {
			return h.renderTriage(w, r, f, err)
		}
		h.srv.Flash(w, "inbox.flash.feedback")
	case "note":
		if _, err := h.svc.AddNote(r.Context(), id, f.Get("body")); err != nil {
			return h.renderTriage(w, r, f, err)
		}
		h.srv.Flash(w, "inbox.flash.note")
	default:
		return errs.E(errs.NotFound, "err.not_found")
	}
	return web.Redirect(w, r, back)
}
