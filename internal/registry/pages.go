package registry

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/web"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

func (s *Service) pageRoutes(srv *web.Server) {
	h := &handlers{svc: s, srv: srv}
	srv.Page("GET /registration", h.myRegistration)
	srv.Page("GET /registrations/{id}", h.overview)
	srv.Page("GET /registrations/{id}/organisation", h.orgForm)
	srv.Page("POST /registrations/{id}/organisation", h.saveOrg)
	srv.Page("GET /registrations/{id}/services", h.servicesForm)
	srv.Page("POST /registrations/{id}/services", h.saveServices)
	srv.Page("GET /registrations/{id}/size", h.sizeForm)
	srv.Page("POST /registrations/{id}/size", h.saveSize)
	srv.Page("GET /registrations/{id}/result", h.result)
	srv.Page("GET /registrations/{id}/contacts", h.contacts)
	srv.Page("POST /registrations/{id}/contacts", h.contactsDone)
	srv.Page("GET /registrations/{id}/contacts/{n}", h.contactForm)
	srv.Page("POST /registrations/{id}/contacts/{n}", h.saveContact)
	srv.Page("POST /registrations/{id}/contacts/{n}/remove", h.removeContact)
	srv.Page("GET /registrations/{id}/networks", h.networks)
	srv.Page("POST /registrations/{id}/networks", h.addNetworks)
	srv.Page("POST /registrations/{id}/networks/done", h.networksDone)
	srv.Page("POST /registrations/{id}/networks/{claim}/remove", h.removeNetwork)
	srv.Page("GET /registrations/{id}/check", h.check)
	srv.Page("POST /registrations/{id}/check", h.submit)
	srv.Page("GET /registrations/{id}/versions", h.versions)
	srv.Page("POST /registrations/{id}/review", h.review)
	srv.Page("POST /registrations/{id}/override", h.override)
	srv.Page("GET /registry", h.registry)
	srv.Page("GET /registry/stats", h.stats)
	srv.Page("GET /registry/export", h.export)
	srv.Page("GET /registry/import", h.importPage)
	srv.Page("POST /registry/import", h.importUpload)
	srv.Page("GET /claims", h.claims)
	srv.Page("POST /claims/{id}/decision", h.decideClaim)
	srv.Page("GET /constituency", h.lookupPage)
}

func (h *handlers) t(r *http.Request, key string, args map[string]any) string {
	return h.srv.Catalog().T(web.Locale(r), key, args)
}

// regPage renders a registration page with the registration, the form
// values, extra data and, for a failed POST, the errors of err.
func (h *handlers) regPage(w http.ResponseWriter, r *http.Request, tpl, title string, reg *Registration, form url.Values, data map[string]any, err error) error {
	if data == nil {
		data = map[string]any{}
	}
	data["Reg"] = reg
	data["CanEdit"] = CanEdit(r.Context(), reg.OrgID)
	data["CanReview"] = CanReview(r.Context())
	data["Base"] = fmt.Sprintf("/registrations/%d", reg.OrgID)
	data["BackToCheck"] = backToCheck(r)
	p := &web.Page{Title: h.t(r, title, nil), Form: form, Data: data}
	status := http.StatusOK
	if err != nil {
		e, ok := errs.As(err)
		if !ok || e.Kind != errs.Invalid {
			return err
		}
		status = http.StatusUnprocessableEntity
		for _, f := range e.Fields {
			p.Errors = append(p.Errors, web.FieldMessage{Field: formField(f.Field), Message: h.t(r, f.Code, f.Args)})
		}
		if len(e.Fields) == 0 {
			p.Errors = append(p.Errors, web.FieldMessage{Message: h.t(r, e.Code, e.Args)})
		}
		p.Title = h.t(r, title, nil)
	}
	if p.Form == nil {
		p.Form = url.Values{}
	}
	return h.srv.RenderPage(w, r, status, tpl, p)
}

// backToCheck reports whether a task page was opened from a Change link
// of the check-answers page, to which it then returns (UX.md pattern 13).
func backToCheck(r *http.Request) bool { return r.FormValue("back") == "check" }

// next is where a saved task goes: back to check answers when it came from
// there, else to path under the registration.
func next(r *http.Request, reg *Registration, path string) string {
	base := fmt.Sprintf("/registrations/%d", reg.OrgID)
	if backToCheck(r) {
		return base + "/check"
	}
	return base + path
}

// formField maps a JSON path of the model to the id of its form input.
func formField(f string) string {
	f = strings.TrimPrefix(f, "facts.")
	f = strings.TrimPrefix(f, "contact.")
	if i := strings.IndexByte(f, '['); i >= 0 {
		f = f[:i]
	}
	return strings.ReplaceAll(f, ".", "_")
}

func (h *handlers) load(r *http.Request) (*Registration, error) {
	id, err := web.PathID(r, "id")
	if err != nil {
		return nil, err
	}
	return h.svc.Get(r.Context(), id)
}

// editable loads the registration for a change and refuses people who
// may only read it.
func (h *handlers) editable(r *http.Request) (*Registration, error) {
	reg, err := h.load(r)
	if err != nil {
		return nil, err
	}
	if !CanEdit(r.Context(), reg.OrgID) {
		return nil, forbidden()
	}
	return reg, nil
}

func (h *handlers) myRegistration(w http.ResponseWriter, r *http.Request) error {
	p := auth.From(r.Context())
	if p.IsAuthority() {
		return web.Redirect(w, r, "/registry")
	}
	return web.Redirect(w, r, fmt.Sprintf("/registrations/%d", p.OrgID))
}

// taskState says where a task of the list stands.
type taskState struct {
	Name, Path, State string // State: completed, not_started, cannot_start
}

func tasks(reg *Registration) []taskState {
	var out []taskState
	for _, t := range Tasks {
		st := "not_started"
		if reg.Profile.Tasks[t] {
			st = "completed"
		}
		out = append(out, taskState{Name: t, Path: "/" + t, State: st})
	}
	return out
}

func allDone(reg *Registration) bool {
	for _, t := range Tasks {
		if !reg.Profile.Tasks[t] {
			return false
		}
	}
	return true
}

func (h *handlers) overview(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.load(r)
	if err != nil {
		return err
	}
	check := taskState{Name: "check", Path: "/check", State: "cannot_start"}
	if allDone(reg) {
		check.State = "not_started"
	}
	data := map[string]any{"Tasks": tasks(reg), "Check": check, "Done": countDone(reg), "Classes": Classes}
	if CanReview(r.Context()) {
		vs, err := h.svc.Versions(r.Context(), reg.OrgID)
		if err != nil {
			return err
		}
		data["Versions"] = vs
	}
	return h.regPage(w, r, "registration", "reg.title", reg, nil, data, nil)
}

func countDone(reg *Registration) int {
	n := 0
	for _, t := range Tasks {
		if reg.Profile.Tasks[t] {
			n++
		}
	}
	return n
}

// ---- organisation ----

func orgValues(reg *Registration) url.Values {
	a := reg.Profile.Address
	m := reg.Profile.MainEstablishment
	return url.Values{"address_street": {a.Street}, "address_postcode": {a.Postcode}, "address_city": {a.City},
		"address_country": {orDefault(a.Country, "BE")}, "website": {reg.Profile.Website}, "main_establishment_street": {m.Street},
		"main_establishment_postcode": {m.Postcode}, "main_establishment_city": {m.City}, "main_establishment_country": {m.Country}}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func (h *handlers) orgForm(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.editable(r)
	if err != nil {
		return err
	}
	return h.regPage(w, r, "registration_organisation", "reg.task.organisation", reg, orgValues(reg), nil, nil)
}

func (h *handlers) saveOrg(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.editable(r)
	if err != nil {
		return err
	}
	f := r.PostForm
	_, err = h.svc.Update(r.Context(), reg.OrgID, func(p *Profile) error {
		p.Address = Address{Street: f.Get("address_street"), Postcode: f.Get("address_postcode"), City: f.Get("address_city"), Country: f.Get("address_country")}
		p.MainEstablishment = Address{Street: f.Get("main_establishment_street"), Postcode: f.Get("main_establishment_postcode"),
			City: f.Get("main_establishment_city"), Country: f.Get("main_establishment_country")}
		p.Website = f.Get("website")
		var v errs.Validator
		p.Address.normalise("address", &v)
		p.Address.complete("address", &v)
		if err := v.Err(); err != nil {
			return err
		}
		setTask(p, TaskOrganisation)
		return nil
	})
	if err != nil {
		return h.regPage(w, r, "registration_organisation", "reg.task.organisation", reg, f, nil, err)
	}
	h.srv.Flash(w, "reg.flash.saved")
	return web.Redirect(w, r, next(r, reg, ""))
}

func setTask(p *Profile, t string) {
	if p.Tasks == nil {
		p.Tasks = map[string]bool{}
	}
	p.Tasks[t] = true
}

// ---- services ----

// special facts asked on the services page, as checkboxes.
var specialFacts = []string{"qualified_trust_service", "dns_root_server_only", "cer_critical_entity", "pa_risk_assessed"}

func servicesValues(reg *Registration) url.Values {
	f := reg.Profile.Facts
	v := url.Values{"entity_types": f.EntityTypes, "service_countries": f.ServiceCountries,
		"establishment":      {orDefault(f.Establishment, orDefault(reg.Profile.Address.Country, "BE"))},
		"main_establishment": {f.MainEstablishment}, "public_administration_function": {string(f.PAFunction)}}
	for name, on := range map[string]bool{"qualified_trust_service": f.QualifiedTrustService, "dns_root_server_only": f.DNSRootServerOnly,
		"cer_critical_entity": f.CERCriticalEntity, "pa_risk_assessed": f.PARiskAssessed} {
		if on {
			v.Add("special", name)
		}
	}
	return v
}

// countries are the Member States in the alphabetical order of their
// names in the page's language (Österreich after Niederlande, Zypern last).
func (h *handlers) countries(r *http.Request) []string {
	l := web.Locale(r)
	out := slices.Clone(MemberStates)
	c := collate.New(language.Make(l))
	slices.SortFunc(out, func(a, b string) int {
		return c.CompareString(h.t(r, "country."+a, nil), h.t(r, "country."+b, nil))
	})
	return out
}

func (h *handlers) servicesData(r *http.Request) map[string]any {
	return map[string]any{"Sectors": nis2.Sectors(), "MemberStates": h.countries(r), "Special": specialFacts,
		"PAFunctions": []string{"", string(nis2.NationalSecurity), string(nis2.PublicSecurity), string(nis2.Defence), string(nis2.LawEnforcement)}}
}

func (h *handlers) servicesForm(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.editable(r)
	if err != nil {
		return err
	}
	return h.regPage(w, r, "registration_services", "reg.task.services", reg, servicesValues(reg), h.servicesData(r), nil)
}

func (h *handlers) saveServices(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.editable(r)
	if err != nil {
		return err
	}
	f := r.PostForm
	updated, err := h.svc.Update(r.Context(), reg.OrgID, func(p *Profile) error {
		fa := &p.Facts
		fa.EntityTypes = f["entity_types"]
		fa.ServiceCountries = f["service_countries"]
		fa.Establishment = strings.ToUpper(strings.TrimSpace(f.Get("establishment")))
		fa.MainEstablishment = strings.ToUpper(strings.TrimSpace(f.Get("main_establishment")))
		fa.PAFunction = nis2.PAFunction(f.Get("public_administration_function"))
		special := f["special"]
		fa.QualifiedTrustService = slices.Contains(special, "qualified_trust_service")
		fa.DNSRootServerOnly = slices.Contains(special, "dns_root_server_only")
		fa.CERCriticalEntity = slices.Contains(special, "cer_critical_entity")
		fa.PARiskAssessed = slices.Contains(special, "pa_risk_assessed")
		var v errs.Validator
		if len(fa.EntityTypes) == 0 {
			v.Add("entity_types", "err.reg.types_required", nil)
		}
		if len(fa.ServiceCountries) == 0 {
			v.Add("service_countries", "err.reg.service_countries_required", nil)
		}
		if err := v.Err(); err != nil {
			return err
		}
		setTask(p, TaskServices)
		return nil
	})
	if err != nil {
		return h.regPage(w, r, "registration_services", "reg.task.services", reg, f, h.servicesData(r), err)
	}
	switch {
	case !updated.Profile.Tasks[TaskSize]:
		return web.Redirect(w, r, fmt.Sprintf("/registrations/%d/size", reg.OrgID))
	case backToCheck(r):
		return web.Redirect(w, r, next(r, reg, ""))
	}
	return web.Redirect(w, r, fmt.Sprintf("/registrations/%d/result", reg.OrgID))
}

// ---- size ----

func figure(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'f', -1, 64)
}

func sizeValues(reg *Registration) url.Values {
	f := reg.Profile.Facts
	v := url.Values{"staff": {figure(f.Staff)}, "annual_turnover_eur": {figure(f.TurnoverEUR)}, "balance_sheet_eur": {figure(f.BalanceSheetEUR)}, "group": {"no"}}
	if g := f.Group; g != nil {
		v.Set("group", "yes")
		v.Set("group_staff", figure(g.Staff))
		v.Set("group_annual_turnover_eur", figure(g.TurnoverEUR))
		v.Set("group_balance_sheet_eur", figure(g.BalanceSheetEUR))
		if g.IndependentSystems {
			v.Set("group_independent_systems", "yes")
		}
	}
	return v
}

func (h *handlers) sizeForm(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.editable(r)
	if err != nil {
		return err
	}
	return h.regPage(w, r, "registration_size", "reg.task.size", reg, sizeValues(reg), nil, nil)
}

func (h *handlers) saveSize(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.editable(r)
	if err != nil {
		return err
	}
	f := r.PostForm
	l := web.Locale(r)
	updated, err := h.svc.Update(r.Context(), reg.OrgID, func(p *Profile) error {
		var v errs.Validator
		num := func(name string, required bool) *float64 {
			x, err := i18n.ParseAmount(f.Get(name), l)
			switch {
			case err != nil:
				v.Add(name, "err.reg.number_invalid", nil)
			case x == nil && required:
				v.Add(name, "err.reg."+name+"_required", nil)
			}
			return x
		}
		fa := &p.Facts
		fa.Staff, fa.TurnoverEUR, fa.BalanceSheetEUR = num("staff", true), num("annual_turnover_eur", true), num("balance_sheet_eur", true)
		fa.Group = nil
		switch f.Get("group") {
		case "yes":
			g := &nis2.Group{IndependentSystems: f.Get("group_independent_systems") == "yes"}
			g.Staff, g.TurnoverEUR, g.BalanceSheetEUR = num("group_staff", true), num("group_annual_turnover_eur", true), num("group_balance_sheet_eur", true)
			fa.Group = g
		case "no":
		default:
			v.Add("group", "err.reg.group_required", nil)
		}
		if err := v.Err(); err != nil {
			return err
		}
		setTask(p, TaskSize)
		return nil
	})
	if err != nil {
		return h.regPage(w, r, "registration_size", "reg.task.size", reg, f, nil, err)
	}
	switch {
	case backToCheck(r):
		return web.Redirect(w, r, next(r, reg, ""))
	case updated.Profile.Tasks[TaskServices]:
		return web.Redirect(w, r, fmt.Sprintf("/registrations/%d/result", reg.OrgID))
	}
	return web.Redirect(w, r, fmt.Sprintf("/registrations/%d", reg.OrgID))
}

// result shows the likely classification with its reasons: a result,
// never an error (UX.md pattern 17).
func (h *handlers) result(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.load(r)
	if err != nil {
		return err
	}
	data := map[string]any{}
	if reg.Decision == nil {
		if _, err := h.svc.Preview(reg.Profile); err != nil {
			var missing []string
			if e, ok := errs.As(err); ok {
				for _, f := range e.Fields {
					missing = append(missing, h.t(r, f.Code, f.Args))
				}
			}
			data["Missing"] = missing
		}
	} else {
		var types []string
		for _, c := range reg.Profile.Facts.EntityTypes {
			types = append(types, h.t(r, nis2.TypeLabelKey(c), nil))
		}
		data["TypeLabels"] = types
	}
	return h.regPage(w, r, "registration_result", "reg.result.title", reg, nil, data, nil)
}
