package identity

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

// ---- organisations ----

func (h *handlers) orgs(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := OrgFilter{Kind: q.Get("kind"), Text: strings.TrimSpace(q.Get("q")), Offset: web.PageOffset(r), Limit: web.PageSize}
	if f.Kind != "" && !OrgKind(f.Kind).Valid() {
		f.Kind = ""
	}
	list, total, err := h.svc.Organisations(r.Context(), f)
	if err != nil {
		return err
	}
	return h.srv.RenderPage(w, r, http.StatusOK, "organisations", &web.Page{
		Title: h.srv.Catalog().T(web.Locale(r), "orgs.title", nil), Form: q,
		Data: map[string]any{"Orgs": list, "Pager": web.NewPager(r, total), "Kinds": OrgKinds}})
}

func (h *handlers) org(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	o, err := h.svc.Organisation(r.Context(), id)
	if err != nil {
		return err
	}
	var users []*User
	p := auth.From(r.Context())
	if p.CanReadAll() || (p.OrgID == id && p.Has(auth.RoleOrgAdmin)) {
		if users, _, err = h.svc.Users(r.Context(), UserFilter{OrgID: id, Limit: 500}); err != nil {
			return err
		}
	}
	return h.srv.RenderPage(w, r, http.StatusOK, "organisation", &web.Page{Title: o.Name,
		Data: map[string]any{"Org": o, "Users": users, "EnterpriseNumber": FormatEnterpriseNumber(o.EnterpriseNumber)}})
}

func (h *handlers) orgForm(w http.ResponseWriter, r *http.Request) error {
	data := map[string]any{"Kinds": OrgKinds}
	form := url.Values{"kind": {string(KindEntity)}, "country": {"BE"}}
	title := "orgs.new_title"
	if r.PathValue("id") != "" {
		id, err := web.PathID(r, "id")
		if err != nil {
			return err
		}
		o, err := h.svc.Organisation(r.Context(), id)
		if err != nil {
			return err
		}
		if !auth.From(r.Context()).CanManageOrg(id) {
			return errs.E(errs.Forbidden, "err.forbidden")
		}
		data["Org"] = o
		form = url.Values{"name": {o.Name}, "kind": {string(o.Kind)}, "enterprise_number": {FormatEnterpriseNumber(o.EnterpriseNumber)},
			"country": {o.Country}, "email": {o.Email}, "phone": {o.Phone}, "status": {o.Status}}
		title = "orgs.edit_title"
	} else if !auth.From(r.Context()).IsAuthorityAdmin() {
		return errs.E(errs.Forbidden, "err.forbidden")
	}
	data["Full"] = auth.From(r.Context()).IsAuthorityAdmin()
	return h.srv.RenderPage(w, r, http.StatusOK, "organisation_form", &web.Page{
		Title: h.srv.Catalog().T(web.Locale(r), title, nil), Form: form, Data: data})
}

func orgInputFromForm(r *http.Request, full bool) OrgInput {
	f := func(k string) *string {
		if _, ok := r.PostForm[k]; !ok {
			return nil
		}
		v := r.PostFormValue(k)
		return &v
	}
	in := OrgInput{Email: f("email"), Phone: f("phone")}
	if full {
		in.Name, in.Kind, in.EnterpriseNumber, in.Country, in.Status = f("name"), f("kind"), f("enterprise_number"), f("country"), f("status")
	}
	return in
}

func (h *handlers) createOrg(w http.ResponseWriter, r *http.Request) error {
	o, err := h.svc.CreateOrganisation(r.Context(), orgInputFromForm(r, true))
	if err != nil {
		return h.srv.RenderForm(w, r, "organisation_form", "orgs.new_title", map[string]any{"Kinds": OrgKinds, "Full": true}, err)
	}
	h.srv.Flash(w, "flash.org_created")
	return web.Redirect(w, r, "/organisations/"+itoa(o.ID))
}

func (h *handlers) updateOrg(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	full := auth.From(r.Context()).IsAuthorityAdmin()
	o, err := h.svc.UpdateOrganisation(r.Context(), id, orgInputFromForm(r, full))
	if err != nil {
		cur, _ := h.svc.Organisation(r.Context(), id)
		return h.srv.RenderForm(w, r, "organisation_form", "orgs.edit_title", map[string]any{"Kinds": OrgKinds, "Org": cur, "Full": full}, err)
	}
	h.srv.Flash(w, "flash.org_saved")
	return web.Redirect(w, r, "/organisations/"+itoa(o.ID))
}

// ---- users ----

func (h *handlers) users(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	orgID, _ := strconv.ParseInt(q.Get("org"), 10, 64)
	f := UserFilter{OrgID: orgID, Role: q.Get("role"), Text: strings.TrimSpace(q.Get("q")), Offset: web.PageOffset(r), Limit: web.PageSize}
	if f.Role != "" && !auth.Role(f.Role).Valid() {
		f.Role = ""
	}
	list, total, err := h.svc.Users(r.Context(), f)
	if err != nil {
		return err
	}
	return h.srv.RenderPage(w, r, http.StatusOK, "users", &web.Page{
		Title: h.srv.Catalog().T(web.Locale(r), "users.title", nil), Form: q,
		Data: map[string]any{"Users": list, "Pager": web.NewPager(r, total), "Roles": auth.AllRoles()}})
}

func (h *handlers) user(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	u, err := h.svc.User(r.Context(), id)
	if err != nil {
		return err
	}
	p := auth.From(r.Context())
	return h.srv.RenderPage(w, r, http.StatusOK, "user", &web.Page{Title: u.Name,
		Data: map[string]any{"User": u, "CanManage": p.CanManageOrg(u.OrgID) && p.UserID != u.ID}})
}

// userFormData lists the organisations a new user may join and the roles
// that fit them.
func (h *handlers) userFormData(r *http.Request, u *User) (map[string]any, error) {
	p := auth.From(r.Context())
	data := map[string]any{"User": u}
	if u == nil {
		if p.IsAuthorityAdmin() {
			orgs, _, err := h.svc.Organisations(r.Context(), OrgFilter{Limit: 500})
			if err != nil {
				return nil, err
			}
			data["Orgs"] = orgs
		} else if p.Has(auth.RoleOrgAdmin) {
			o, err := h.svc.Organisation(r.Context(), p.OrgID)
			if err != nil {
				return nil, err
			}
			data["Orgs"] = []*Organisation{o}
		} else {
			return nil, errs.E(errs.Forbidden, "err.forbidden")
		}
	}
	kind := OrgKind(p.OrgKind)
	if u != nil {
		kind = u.OrgKind
	}
	switch {
	case u == nil && p.IsAuthorityAdmin():
		data["Roles"] = auth.AllRoles()
	case kind == KindAuthority:
		data["Roles"] = auth.AuthorityRoles
	default:
		data["Roles"] = auth.OrgRoles
	}
	return data, nil
}

func (h *handlers) userForm(w http.ResponseWriter, r *http.Request) error {
	var u *User
	form := url.Values{}
	title := "users.new_title"
	if r.PathValue("id") != "" {
		id, err := web.PathID(r, "id")
		if err != nil {
			return err
		}
		if u, err = h.svc.User(r.Context(), id); err != nil {
			return err
		}
		if !auth.From(r.Context()).CanManageOrg(u.OrgID) {
			return errs.E(errs.Forbidden, "err.forbidden")
		}
		form = url.Values{"name": {u.Name}, "email": {u.Email}, "locale": {u.Locale}}
		for _, ro := range u.Roles {
			form.Add("roles", string(ro))
		}
		if u.Disabled {
			form.Set("disabled", "on")
		}
		title = "users.edit_title"
	} else {
		if org := r.URL.Query().Get("org"); org != "" {
			form.Set("organisation_id", org)
		}
		form.Set("roles", string(auth.RoleMember))
	}
	data, err := h.userFormData(r, u)
	if err != nil {
		return err
	}
	return h.srv.RenderPage(w, r, http.StatusOK, "user_form", &web.Page{
		Title: h.srv.Catalog().T(web.Locale(r), title, nil), Form: form, Data: data})
}

func userInputFromForm(r *http.Request, creating bool) UserInput {
	name, email, locale := r.PostFormValue("name"), r.PostFormValue("email"), r.PostFormValue("locale")
	roles := r.PostForm["roles"]
	in := UserInput{Name: &name, Email: &email, Locale: &locale, Roles: &roles}
	if creating {
		id, _ := strconv.ParseInt(r.PostFormValue("organisation_id"), 10, 64)
		in.OrgID = &id
	} else {
		d := r.PostFormValue("disabled") == "on"
		in.Disabled = &d
	}
	return in
}

func (h *handlers) createUser(w http.ResponseWriter, r *http.Request) error {
	u, pw, err := h.svc.CreateUser(r.Context(), userInputFromForm(r, true))
	if err != nil {
		data, derr := h.userFormData(r, nil)
		if derr != nil {
			return derr
		}
		return h.srv.RenderForm(w, r, "user_form", "users.new_title", data, err)
	}
	return h.srv.Render(w, r, http.StatusCreated, "user_created", "users.created_title", map[string]any{"User": u, "Password": pw})
}

func (h *handlers) updateUser(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := h.svc.UpdateUser(r.Context(), id, userInputFromForm(r, false)); err != nil {
		cur, cerr := h.svc.User(r.Context(), id)
		if cerr != nil {
			return cerr
		}
		data, derr := h.userFormData(r, cur)
		if derr != nil {
			return derr
		}
		if errs.KindOf(err) == errs.Conflict {
			e, _ := errs.As(err)
			err = &errs.Error{Kind: errs.Invalid, Code: e.Code, Args: map[string]any{"status": http.StatusConflict}, Fields: e.Fields}
		}
		return h.srv.RenderForm(w, r, "user_form", "users.edit_title", data, err)
	}
	h.srv.Flash(w, "flash.user_saved")
	return web.Redirect(w, r, "/users/"+itoa(id))
}

func (h *handlers) resetPassword(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	pw, err := h.svc.ResetPassword(r.Context(), id)
	if err != nil {
		return err
	}
	u, err := h.svc.User(r.Context(), id)
	if err != nil {
		return err
	}
	return h.srv.Render(w, r, http.StatusOK, "user_created", "users.reset_title", map[string]any{"User": u, "Password": pw, "Reset": true})
}

func (h *handlers) resetTOTP(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.svc.ResetTOTP(r.Context(), id); err != nil {
		return err
	}
	h.srv.Flash(w, "flash.totp_reset")
	return web.Redirect(w, r, "/users/"+itoa(id))
}
