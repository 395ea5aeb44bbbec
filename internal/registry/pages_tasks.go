package registry

// The later tasks of the registration: contacts, networks, check and submit.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/web"
)

// ---- contacts ----

func (h *handlers) contacts(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.load(r)
	if err != nil {
		return err
	}
	return h.regPage(w, r, "registration_contacts", "reg.task.contacts", reg, nil, map[string]any{"Roles": ContactRoles}, nil)
}

func (h *handlers) contactsDone(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.editable(r)
	if err != nil {
		return err
	}
	_, err = h.svc.Update(r.Context(), reg.OrgID, func(p *Profile) error {
		var v errs.Validator
		has := false
		for _, c := range p.Contacts {
			if c.Role == RoleIncident24x7 {
				has = true
			}
		}
		if !has {
			v.Add("add-contact", "err.reg.contact_24x7_required", nil)
		}
		if err := v.Err(); err != nil {
			return err
		}
		setTask(p, TaskContacts)
		return nil
	})
	if err != nil {
		return h.regPage(w, r, "registration_contacts", "reg.task.contacts", reg, nil, map[string]any{"Roles": ContactRoles}, err)
	}
	h.srv.Flash(w, "reg.flash.saved")
	return web.Redirect(w, r, next(r, reg, ""))
}

// networksPath is the networks page, keeping the way back to check answers.
func networksPath(r *http.Request, reg *Registration) string {
	p := fmt.Sprintf("/registrations/%d/networks", reg.OrgID)
	if backToCheck(r) {
		p += "?back=check"
	}
	return p
}

// contactsPath is the contacts page, keeping the way back to check answers.
func contactsPath(r *http.Request, reg *Registration) string {
	p := fmt.Sprintf("/registrations/%d/contacts", reg.OrgID)
	if backToCheck(r) {
		p += "?back=check"
	}
	return p
}

// contactIndex reads {n}: "new" or the position of a contact.
func contactIndex(r *http.Request, reg *Registration) (int, error) {
	n := r.PathValue("n")
	if n == "new" {
		return -1, nil
	}
	i, err := strconv.Atoi(n)
	if err != nil || i < 0 || i >= len(reg.Profile.Contacts) {
		return 0, errs.E(errs.NotFound, "err.not_found")
	}
	return i, nil
}

func (h *handlers) contactForm(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.editable(r)
	if err != nil {
		return err
	}
	i, err := contactIndex(r, reg)
	if err != nil {
		return err
	}
	form := url.Values{"language": {web.Locale(r)}}
	if i >= 0 {
		c := reg.Profile.Contacts[i]
		form = url.Values{"role": {string(c.Role)}, "name": {c.Name}, "email": {c.Email}, "phone": {c.Phone}, "pgp_key": {c.PGPKey}, "language": {c.Language}}
	} else if role := r.URL.Query().Get("role"); ContactRole(role).valid() {
		form.Set("role", role)
	}
	return h.regPage(w, r, "registration_contact", "reg.contact.title", reg, form, map[string]any{"Roles": ContactRoles, "Index": r.PathValue("n")}, nil)
}

func (h *handlers) saveContact(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.editable(r)
	if err != nil {
		return err
	}
	i, err := contactIndex(r, reg)
	if err != nil {
		return err
	}
	f := r.PostForm
	c := Contact{Role: ContactRole(f.Get("role")), Name: f.Get("name"), Email: f.Get("email"), Phone: f.Get("phone"), PGPKey: f.Get("pgp_key"), Language: f.Get("language")}
	_, err = h.svc.Update(r.Context(), reg.OrgID, func(p *Profile) error {
		var v errs.Validator
		c.normalise("contact", &v)
		if err := v.Err(); err != nil {
			return err
		}
		if i < 0 {
			p.Contacts = append(p.Contacts, c)
		} else if i < len(p.Contacts) {
			p.Contacts[i] = c
		}
		return nil
	})
	if err != nil {
		return h.regPage(w, r, "registration_contact", "reg.contact.title", reg, f, map[string]any{"Roles": ContactRoles, "Index": r.PathValue("n")}, err)
	}
	h.srv.Flash(w, "reg.flash.contact_saved")
	return web.Redirect(w, r, contactsPath(r, reg))
}

func (h *handlers) removeContact(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.editable(r)
	if err != nil {
		return err
	}
	i, err := contactIndex(r, reg)
	if err != nil || i < 0 {
		return errs.E(errs.NotFound, "err.not_found")
	}
	want := reg.Profile.Contacts[i]
	_, err = h.svc.Update(r.Context(), reg.OrgID, func(p *Profile) error {
		// Remove the contact shown, even if the list moved meanwhile.
		for j, c := range p.Contacts {
			if c.Email == want.Email && c.Role == want.Role {
				p.Contacts = slices.Delete(p.Contacts, j, j+1)
				break
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	h.srv.Flash(w, "reg.flash.contact_removed")
	return web.Redirect(w, r, contactsPath(r, reg))
}

// ---- networks ----

func (h *handlers) networksPage(w http.ResponseWriter, r *http.Request, reg *Registration, form url.Values, err error) error {
	claims, _, lerr := h.svc.Claims(r.Context(), ClaimFilter{OrgID: reg.OrgID})
	if lerr != nil {
		return lerr
	}
	return h.regPage(w, r, "registration_networks", "reg.task.networks", reg, form, map[string]any{"Claims": claims}, err)
}

func (h *handlers) networks(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.load(r)
	if err != nil {
		return err
	}
	return h.networksPage(w, r, reg, nil, nil)
}

// maxUpload bounds an uploaded list of networks.
const maxUpload = web.MaxFormBytes

// readValues reads claim values, one per line or separated by commas or
// semicolons, from the text box and the uploaded file (a CSV whose first
// column holds the values; a header line is skipped).
func readValues(r *http.Request) ([]string, error) {
	if err := r.ParseMultipartForm(maxUpload); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return nil, errs.Field("file", "err.reg.upload_invalid", nil)
	}
	split := func(s string) []string {
		return strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' || r == ';' || r == ' ' || r == '\t' })
	}
	values := split(r.FormValue("values"))
	if r.MultipartForm != nil {
		for _, fh := range r.MultipartForm.File["file"] {
			vs, err := readFile(fh)
			if err != nil {
				return nil, err
			}
			values = append(values, vs...)
		}
	}
	return values, nil
}

func readFile(fh *multipart.FileHeader) ([]string, error) {
	if fh.Size > maxUpload {
		return nil, errs.Field("file", "err.reg.upload_too_large", map[string]any{"max": "1 MB"})
	}
	f, err := fh.Open()
	if err != nil {
		return nil, errs.Field("file", "err.reg.upload_invalid", nil)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(io.LimitReader(f, maxUpload))
	first := true
	for sc.Scan() {
		line := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		cell, _, _ := strings.Cut(line, ",")
		if c2, _, ok := strings.Cut(cell, ";"); ok {
			cell = c2
		}
		cell = strings.Trim(strings.TrimSpace(cell), `"`)
		if first {
			first = false
			if l := strings.ToLower(cell); l == "value" || l == "network" || l == "prefix" || l == "domain" || l == "asn" {
				continue
			}
		}
		if cell != "" && !strings.HasPrefix(cell, "#") {
			out = append(out, cell)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, errs.Field("file", "err.reg.upload_invalid", nil)
	}
	return out, nil
}

func (h *handlers) addNetworks(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.editable(r)
	if err != nil {
		return err
	}
	values, err := readValues(r)
	if err == nil {
		in := make([]ClaimInput, len(values))
		for i, v := range values {
			in[i] = ClaimInput{OrgID: reg.OrgID, Value: v}
		}
		if len(in) == 0 {
			err = errs.Field("values", "err.reg.networks_empty", nil)
		} else {
			_, err = h.svc.AddClaims(r.Context(), reg.OrgID, in)
		}
	}
	if err != nil {
		if e, ok := errs.As(err); ok && e.Kind == errs.Invalid {
			// Show each faulty line with its value on the text box.
			for i := range e.Fields {
				if strings.HasPrefix(e.Fields[i].Field, "values[") || e.Fields[i].Field == "value" {
					e.Fields[i].Field = "values"
				}
			}
		}
		return h.networksPage(w, r, reg, r.Form, err)
	}
	h.srv.Flash(w, "reg.flash.networks_added")
	return web.Redirect(w, r, networksPath(r, reg))
}

func (h *handlers) networksDone(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.editable(r)
	if err != nil {
		return err
	}
	if _, err := h.svc.Update(r.Context(), reg.OrgID, func(p *Profile) error { setTask(p, TaskNetworks); return nil }); err != nil {
		return err
	}
	h.srv.Flash(w, "reg.flash.saved")
	return web.Redirect(w, r, next(r, reg, ""))
}

func (h *handlers) removeNetwork(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.editable(r)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("claim"), 10, 64)
	if err != nil {
		return errs.E(errs.NotFound, "err.not_found")
	}
	c, err := h.svc.Claim(r.Context(), id)
	if err != nil || c.OrgID != reg.OrgID {
		return errs.E(errs.NotFound, "err.claim.not_found")
	}
	if err := h.svc.DeleteClaim(r.Context(), id); err != nil {
		return err
	}
	h.srv.Flash(w, "reg.flash.network_removed")
	return web.Redirect(w, r, networksPath(r, reg))
}

// ---- check and submit ----

func (h *handlers) checkData(r *http.Request, reg *Registration) (map[string]any, error) {
	claims, _, err := h.svc.Claims(r.Context(), ClaimFilter{OrgID: reg.OrgID})
	if err != nil {
		return nil, err
	}
	var types []string
	for _, c := range reg.Profile.Facts.EntityTypes {
		types = append(types, h.t(r, nis2.TypeLabelKey(c), nil))
	}
	return map[string]any{"Claims": claims, "TypeLabels": types}, nil
}

func (h *handlers) check(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.load(r)
	if err != nil {
		return err
	}
	data, err := h.checkData(r, reg)
	if err != nil {
		return err
	}
	return h.regPage(w, r, "registration_check", "reg.check.title", reg, nil, data, nil)
}

func (h *handlers) submit(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.editable(r)
	if err != nil {
		return err
	}
	if _, err := h.svc.Submit(r.Context(), reg.OrgID); err != nil {
		data, derr := h.checkData(r, reg)
		if derr != nil {
			return derr
		}
		if errs.Is(err, errs.Conflict) {
			h.srv.Flash(w, "reg.flash.already_submitted")
			return web.Redirect(w, r, fmt.Sprintf("/registrations/%d", reg.OrgID))
		}
		return h.regPage(w, r, "registration_check", "reg.check.title", reg, nil, data, err)
	}
	h.srv.Flash(w, "reg.flash.submitted")
	return web.Redirect(w, r, fmt.Sprintf("/registrations/%d", reg.OrgID))
}

func (h *handlers) versions(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.load(r)
	if err != nil {
		return err
	}
	vs, err := h.svc.Versions(r.Context(), reg.OrgID)
	if err != nil {
		return err
	}
	return h.regPage(w, r, "registration_versions", "reg.versions.title", reg, nil, map[string]any{"Versions": vs}, nil)
}
