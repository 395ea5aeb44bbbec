package identity

import (
	"net/http"
	"strconv"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/web"
)

func (s *Service) apiRoutes(srv *web.Server) {
	h := &handlers{svc: s, srv: srv}
	srv.API("GET /api/v1/me", h.apiMe)
	srv.API("GET /api/v1/organisations", h.apiOrgs)
	srv.API("POST /api/v1/organisations", h.apiCreateOrg)
	srv.API("GET /api/v1/organisations/{id}", h.apiOrg)
	srv.API("PATCH /api/v1/organisations/{id}", h.apiUpdateOrg)
	srv.API("GET /api/v1/users", h.apiUsers)
	srv.API("POST /api/v1/users", h.apiCreateUser)
	srv.API("GET /api/v1/users/{id}", h.apiUser)
	srv.API("PATCH /api/v1/users/{id}", h.apiUpdateUser)
	srv.API("POST /api/v1/users/{id}/reset-password", h.apiResetPassword)
	srv.API("POST /api/v1/users/{id}/reset-totp", h.apiResetTOTP)
	srv.API("GET /api/v1/tokens", h.apiTokens)
	srv.API("POST /api/v1/tokens", h.apiCreateToken)
	srv.API("DELETE /api/v1/tokens/{id}", h.apiRevokeToken)
}

type list[T any] struct {
	Items  []T `json:"items"`
	Total  int `json:"total"`
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
}

func (h *handlers) apiMe(w http.ResponseWriter, r *http.Request) error {
	u, err := h.svc.User(r.Context(), auth.From(r.Context()).UserID)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, u)
}

func (h *handlers) apiOrgs(w http.ResponseWriter, r *http.Request) error {
	off, lim, err := web.Paging(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if k := q.Get("kind"); k != "" && !OrgKind(k).Valid() {
		return errs.Field("kind", "err.org_kind.invalid", nil)
	}
	items, total, err := h.svc.Organisations(r.Context(), OrgFilter{Kind: q.Get("kind"), Text: q.Get("q"), Offset: off, Limit: lim})
	if err != nil {
		return err
	}
	if items == nil {
		items = []*Organisation{}
	}
	return web.WriteJSON(w, http.StatusOK, list[*Organisation]{items, total, off, lim})
}

func (h *handlers) apiOrg(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	o, err := h.svc.Organisation(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, o)
}

func (h *handlers) apiCreateOrg(w http.ResponseWriter, r *http.Request) error {
	var in OrgInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	o, err := h.svc.CreateOrganisation(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/organisations/"+itoa(o.ID))
	return web.WriteJSON(w, http.StatusCreated, o)
}

func (h *handlers) apiUpdateOrg(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var in OrgInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	o, err := h.svc.UpdateOrganisation(r.Context(), id, in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, o)
}

func (h *handlers) apiUsers(w http.ResponseWriter, r *http.Request) error {
	off, lim, err := web.Paging(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := UserFilter{Role: q.Get("role"), Text: q.Get("q"), Offset: off, Limit: lim}
	if s := q.Get("organisation_id"); s != "" {
		if f.OrgID, err = strconv.ParseInt(s, 10, 64); err != nil {
			return errs.Field("organisation_id", "err.id.invalid", nil)
		}
	}
	if f.Role != "" && !auth.Role(f.Role).Valid() {
		return errs.Field("role", "err.role.invalid", map[string]any{"role": f.Role})
	}
	items, total, err := h.svc.Users(r.Context(), f)
	if err != nil {
		return err
	}
	if items == nil {
		items = []*User{}
	}
	return web.WriteJSON(w, http.StatusOK, list[*User]{items, total, off, lim})
}

func (h *handlers) apiUser(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	u, err := h.svc.User(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, u)
}

// createdUser is the answer to a user creation: the one-time password is
// shown here and never again.
type createdUser struct {
	*User
	OneTimePassword string `json:"one_time_password"`
}

func (h *handlers) apiCreateUser(w http.ResponseWriter, r *http.Request) error {
	var in UserInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	u, pw, err := h.svc.CreateUser(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/users/"+itoa(u.ID))
	return web.WriteJSON(w, http.StatusCreated, createdUser{u, pw})
}

func (h *handlers) apiUpdateUser(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var in UserInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	u, err := h.svc.UpdateUser(r.Context(), id, in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, u)
}

func (h *handlers) apiResetPassword(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	pw, err := h.svc.ResetPassword(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]string{"one_time_password": pw})
}

func (h *handlers) apiResetTOTP(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.svc.ResetTOTP(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handlers) apiTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := h.svc.Tokens(r.Context())
	if err != nil {
		return err
	}
	if ts == nil {
		ts = []*Token{}
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"items": ts})
}

type createdToken struct {
	*Token
	Secret string `json:"token"`
}

func (h *handlers) apiCreateToken(w http.ResponseWriter, r *http.Request) error {
	var in TokenInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	t, secret, err := h.svc.CreateToken(r.Context(), in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, createdToken{t, secret})
}

func (h *handlers) apiRevokeToken(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.svc.RevokeToken(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
