package crisis

// The team and participants, the decision log and the actions of a crisis.

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

// participantFields maps the service's fields to the inputs of each of
// the three forms of the participants page.
var participantFields = map[string]map[string]string{
	"user":         {"user_id": "user_id", "role": "role"},
	"organisation": {"user_id": "organisation_id", "organisation_id": "organisation_id", "party": "org_party", "access": "org_access", "email": "org_email", "name": "org_name"},
	"person":       {"user_id": "person_name", "name": "person_name", "email": "person_email", "party": "person_party", "access": "person_access"},
}

func (h *handlers) participantsPage(w http.ResponseWriter, r *http.Request) error {
	c, err := h.loadWith(r, AccessRead)
	if err != nil {
		return err
	}
	return h.renderParticipants(w, r, c, url.Values{"role": {"member"}, "org_access": {"sitreps"}, "person_access": {"sitreps"},
		"org_party": {"affected_organisation"}, "person_party": {"other"}}, nil, nil)
}

func (h *handlers) renderParticipants(w http.ResponseWriter, r *http.Request, c *Crisis, form url.Values, ferr error, anchors map[string]string) error {
	ps, err := h.svc.Participants(r.Context(), c.ID)
	if err != nil {
		return err
	}
	d := crisisData(c, "/participants")
	d["Participants"] = ps
	d["Roles"], d["Parties"], d["Accesses"] = Roles, Parties, ParticipantAccess
	if accessOf(c.Access) >= AccessManage {
		if d["Staff"], err = h.staffChoices(r.Context()); err != nil {
			return err
		}
		if d["Orgs"], err = h.orgChoices(r.Context()); err != nil {
			return err
		}
	}
	p := &web.Page{Title: crisisTitle(h.t(r, "crisisui.participants.title", nil), c), Form: form, Data: d}
	return h.render(w, r, "crisis_participants", p, ferr, anchors)
}

func (h *handlers) addParticipantPost(w http.ResponseWriter, r *http.Request) error {
	c, err := h.loadWith(r, AccessManage)
	if err != nil {
		return err
	}
	f := r.PostForm
	kind := f.Get("kind")
	var in ParticipantInput
	switch kind {
	case "user":
		in = ParticipantInput{UserID: parseID(f.Get("user_id")), Role: f.Get("role")}
	case "organisation":
		in = ParticipantInput{OrgID: parseID(f.Get("organisation_id")), Party: f.Get("org_party"), Access: f.Get("org_access"),
			Name: f.Get("org_name"), Email: f.Get("org_email")}
	default:
		kind = "person"
		in = ParticipantInput{Name: f.Get("person_name"), Email: f.Get("person_email"), Party: f.Get("person_party"), Access: f.Get("person_access")}
		// A person is reached by e-mail only: without an address the
		// service could not tell this form from the others.
		var v errs.Validator
		v.Check(strings.TrimSpace(in.Name) != "", "name", "err.crisis.name_missing")
		v.Check(strings.TrimSpace(in.Email) != "", "email", "err.crisis.email")
		if err := v.Err(); err != nil {
			return h.renderParticipants(w, r, c, f, err, participantFields[kind])
		}
	}
	if _, err := h.svc.AddParticipant(r.Context(), c.ID, in); err != nil {
		return h.renderParticipants(w, r, c, f, err, participantFields[kind])
	}
	return h.done(w, r, "crisisui.flash.participant_added", crisisBase(c.ID)+"/participants")
}

func (h *handlers) removeParticipantPost(w http.ResponseWriter, r *http.Request) error {
	c, err := h.loadWith(r, AccessManage)
	if err != nil {
		return err
	}
	pid, err := web.PathID(r, "pid")
	if err != nil {
		return err
	}
	if err := h.svc.RemoveParticipant(r.Context(), c.ID, pid); err != nil {
		return h.renderParticipants(w, r, c, url.Values{}, err, nil)
	}
	return h.done(w, r, "crisisui.flash.participant_removed", crisisBase(c.ID)+"/participants")
}

// updateParticipantPost changes the role of a member of the team or the
// access of an external participant: the small form of its row sends
// the one it has.
func (h *handlers) updateParticipantPost(w http.ResponseWriter, r *http.Request) error {
	c, err := h.loadWith(r, AccessManage)
	if err != nil {
		return err
	}
	pid, err := web.PathID(r, "pid")
	if err != nil {
		return err
	}
	f := r.PostForm
	var in ParticipantChange
	if _, ok := f["role"]; ok {
		role := f.Get("role")
		in.Role = &role
	}
	if _, ok := f["access"]; ok {
		access := f.Get("access")
		in.Access = &access
	}
	if _, err := h.svc.UpdateParticipant(r.Context(), c.ID, pid, in); err != nil {
		anchors := map[string]string{"role": "role-" + itoa(pid), "access": "access-" + itoa(pid)}
		return h.renderParticipants(w, r, c, url.Values{}, err, anchors)
	}
	return h.done(w, r, "crisisui.flash.participant_changed", crisisBase(c.ID)+"/participants")
}

// ---- decisions ----

var decisionFields = same("decision", "basis", "decided_by", "decided_at")

func (h *handlers) decisionsPage(w http.ResponseWriter, r *http.Request) error {
	c, err := h.loadWith(r, AccessRead)
	if err != nil {
		return err
	}
	return h.renderDecisions(w, r, c, url.Values{}, nil)
}

func (h *handlers) renderDecisions(w http.ResponseWriter, r *http.Request, c *Crisis, form url.Values, ferr error) error {
	ds, err := h.svc.Decisions(r.Context(), c.ID)
	if err != nil {
		return err
	}
	d := crisisData(c, "/decisions")
	d["Decisions"] = ds
	p := &web.Page{Title: crisisTitle(h.t(r, "crisisui.decisions.title", nil), c), Form: form, Data: d}
	return h.render(w, r, "crisis_decisions", p, ferr, decisionFields)
}

func (h *handlers) addDecisionPost(w http.ResponseWriter, r *http.Request) error {
	c, err := h.loadWith(r, AccessContribute)
	if err != nil {
		return err
	}
	f := r.PostForm
	at, err := h.parseTime(f, "decided_at", "decided_at")
	if err == nil {
		_, err = h.svc.AddDecision(r.Context(), c.ID, DecisionInput{DecidedBy: f.Get("decided_by"), DecidedAt: at,
			Decision: f.Get("decision"), Basis: f.Get("basis")})
	}
	if err != nil {
		return h.renderDecisions(w, r, c, f, err)
	}
	return h.done(w, r, "crisisui.flash.decision", crisisBase(c.ID)+"/decisions")
}

// ---- actions ----

var actionFields = map[string]string{"title": "title", "description": "description", "owner_id": "owner_id", "owner": "owner", "due_at": "due"}

func (h *handlers) actionsPage(w http.ResponseWriter, r *http.Request) error {
	c, err := h.loadWith(r, AccessRead)
	if err != nil {
		return err
	}
	return h.renderActions(w, r, c, url.Values{}, nil)
}

func (h *handlers) renderActions(w http.ResponseWriter, r *http.Request, c *Crisis, form url.Values, ferr error) error {
	acts, err := h.svc.Actions(r.Context(), c.ID, false)
	if err != nil {
		return err
	}
	type actionView struct {
		*Action
		Due *dueView
	}
	var views []actionView
	for _, a := range acts {
		views = append(views, actionView{a, h.due(r, a.DueAt, a.Status == "open")})
	}
	d := crisisData(c, "/actions")
	d["Actions"] = views
	if accessOf(c.Access) >= AccessContribute {
		if d["Staff"], err = h.staffChoices(r.Context()); err != nil {
			return err
		}
	}
	p := &web.Page{Title: crisisTitle(h.t(r, "crisisui.actions.title", nil), c), Form: form, Data: d}
	return h.render(w, r, "crisis_actions", p, ferr, actionFields)
}

func (h *handlers) addActionPost(w http.ResponseWriter, r *http.Request) error {
	c, err := h.loadWith(r, AccessContribute)
	if err != nil {
		return err
	}
	f := r.PostForm
	due, err := h.parseTime(f, "due", "due_at")
	if err == nil {
		title, desc, owner := f.Get("title"), f.Get("description"), strings.TrimSpace(f.Get("owner"))
		in := ActionInput{Title: &title, Description: &desc, DueAt: due}
		if id := parseID(f.Get("owner_id")); id != 0 {
			in.OwnerID = &id
		} else if owner != "" {
			in.Owner = &owner
		}
		_, err = h.svc.SaveAction(r.Context(), c.ID, 0, in)
	}
	if err != nil {
		return h.renderActions(w, r, c, f, err)
	}
	return h.done(w, r, "crisisui.flash.action_added", crisisBase(c.ID)+"/actions")
}

func (h *handlers) actionStatusPost(w http.ResponseWriter, r *http.Request) error {
	c, err := h.loadWith(r, AccessContribute)
	if err != nil {
		return err
	}
	aid, err := web.PathID(r, "action")
	if err != nil {
		return err
	}
	st := r.PostForm.Get("status")
	if _, err := h.svc.SaveAction(r.Context(), c.ID, aid, ActionInput{Status: &st}); err != nil {
		return h.renderActions(w, r, c, url.Values{}, err)
	}
	flash := "crisisui.flash.action_done"
	if st == "open" {
		flash = "crisisui.flash.action_reopened"
	}
	return h.done(w, r, flash, crisisBase(c.ID)+"/actions")
}
