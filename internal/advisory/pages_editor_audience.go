package advisory

// The editor's audience page: who besides the staff reads a TLP:AMBER
// advisory (organisations) or a TLP:RED one (named people, ticked or given
// by e-mail address).

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

// audienceOrg is an organisation that may receive an AMBER advisory.
type audienceOrg struct {
	ID   int64
	Name string
	Kind string
}

// audienceUser is a person who may receive a RED advisory.
type audienceUser struct {
	ID    int64
	Name  string
	Email string
	Org   string
	Staff bool
}

// audienceOrgs lists the organisations other than the authority, by name.
func (s *Service) audienceOrgs(ctx context.Context) ([]audienceOrg, error) {
	rows, err := s.db.Query(ctx, `SELECT id, name, kind FROM organisations WHERE kind <> 'authority' ORDER BY lower(name), id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []audienceOrg
	for rows.Next() {
		var o audienceOrg
		if err := rows.Scan(&o.ID, &o.Name, &o.Kind); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// audienceUsers lists the people who are not disabled: the authority's
// staff first, then the organisations' members, by organisation and name.
func (s *Service) audienceUsers(ctx context.Context) ([]audienceUser, error) {
	rows, err := s.db.Query(ctx, `SELECT u.id, u.name, u.email, o.name, o.kind = 'authority' FROM users u JOIN organisations o ON o.id = u.org_id
		WHERE NOT u.disabled ORDER BY CASE WHEN o.kind = 'authority' THEN 0 ELSE 1 END, lower(o.name), lower(u.name), u.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []audienceUser
	for rows.Next() {
		var u audienceUser
		if err := rows.Scan(&u.ID, &u.Name, &u.Email, &u.Org, &u.Staff); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// userByEmail returns the id of the person with this e-mail address.
func (s *Service) userByEmail(ctx context.Context, email string) (int64, bool, error) {
	var id int64
	err := s.db.QueryRow(ctx, `SELECT id FROM users WHERE lower(email) = lower(?) AND NOT disabled ORDER BY id LIMIT 1`, email).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return id, err == nil, err
}

// splitEmails reads a list of e-mail addresses separated by commas,
// semicolons, spaces or new lines.
func splitEmails(s string) []string {
	var out []string
	for _, e := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		e = strings.Trim(e, "<>")
		if e != "" && !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

func ids(vals []string) []int64 {
	var out []int64
	for _, v := range vals {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}

func idStrings(xs []int64) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = strconv.FormatInt(x, 10)
	}
	return out
}

func (h *handlers) audienceForm(w http.ResponseWriter, r *http.Request) error {
	a, err := h.load(r)
	if err != nil {
		return err
	}
	return h.renderAudience(w, r, a, url.Values{"org": idStrings(a.RecipientOrgs), "user": idStrings(a.RecipientUsers)}, nil)
}

func (h *handlers) renderAudience(w http.ResponseWriter, r *http.Request, a *Advisory, form url.Values, ferr error) error {
	data := editData(r, a)
	// The audience may change in every state: a published advisory's
	// readers can be widened or narrowed.
	ed := CanEdit(auth.From(r.Context()))
	data["Editable"] = ed
	delete(data, "ReadOnly")
	if !ed {
		data["ReadOnly"] = "advedit.readonly.not_editor"
	}
	switch a.TLP {
	case "AMBER":
		orgs, err := h.svc.audienceOrgs(r.Context())
		if err != nil {
			return err
		}
		data["Orgs"] = orgs
	case "RED":
		users, err := h.svc.audienceUsers(r.Context())
		if err != nil {
			return err
		}
		data["Users"] = users
	}
	data["Checked"] = func(name string, id int64) bool { return slices.Contains(form[name], strconv.FormatInt(id, 10)) }
	p := &web.Page{Title: h.t(r, "advedit.audience.title", nil), Form: form, Data: data}
	return h.render(w, r, "adv_edit_audience", p, ferr, func(f string) bool { return f == "orgs" || f == "users" || f == "emails" })
}

func (h *handlers) saveAudience(w http.ResponseWriter, r *http.Request) error {
	a, err := h.load(r)
	if err != nil {
		return err
	}
	if !CanEdit(auth.From(r.Context())) {
		return forbidden()
	}
	f := r.PostForm
	orgs, users := a.RecipientOrgs, a.RecipientUsers
	switch a.TLP {
	case "AMBER":
		orgs = ids(f["org"])
	case "RED":
		users = ids(f["user"])
		var v errs.Validator
		for _, e := range splitEmails(f.Get("emails")) {
			id, ok, err := h.svc.userByEmail(r.Context(), e)
			if err != nil {
				return err
			}
			if !ok {
				v.Add("emails", "err.advedit.email_unknown", map[string]any{"email": e})
				continue
			}
			users = append(users, id)
		}
		if err := v.Err(); err != nil {
			return h.renderAudience(w, r, a, f, err)
		}
	default:
		return h.renderAudience(w, r, a, f, errs.E(errs.Conflict, "err.advedit.audience_not_needed"))
	}
	if _, err := h.svc.SetRecipients(r.Context(), a.ID, orgs, users); err != nil {
		return h.renderAudience(w, r, a, f, err)
	}
	return h.done(w, r, "advedit.flash.audience_saved", manageBase(a.ID))
}
