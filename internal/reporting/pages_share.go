package reporting

// The authority's sharing page of an incident: the entity's and the
// analyst's cross-border answers, the form to choose a recipient, a TLP
// and whether to include the entity's identity, a preview of the document,
// the confirmation that sends or records it, and the history of shares.
// Also the page of the sector authorities.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/web"
)

// shareRow is a recorded share with its time in words.
type shareRow struct {
	Sh    Share
	Stamp string
}

// shareParams are the fields of a share, carried from the preview to the
// confirmation.
var shareParams = []string{"recipient", "country", "sector_authority_id", "tlp", "identity"}

func (h *handlers) pageShare(w http.ResponseWriter, r *http.Request) error {
	return h.renderShare(w, r, nil, nil)
}

// entityCrossBorder is the entity's latest answers on cross-border impact.
func entityCrossBorder(in *Incident) (answer string, countries []string) {
	for _, sub := range in.Submissions { // oldest first: the latest answer wins
		var c Content
		if json.Unmarshal(sub.Canonical, &c) == nil {
			if c.CrossBorder != "" {
				answer = c.CrossBorder
			}
			if len(c.AffectedCountries) > 0 {
				countries = c.AffectedCountries
			}
		}
	}
	return answer, countries
}

// renderShare writes the sharing page; err holds a failed POST's errors.
// With a recipient in the query, it previews the document.
func (h *handlers) renderShare(w http.ResponseWriter, r *http.Request, form url.Values, err error) error {
	ctx := r.Context()
	if !auth.From(ctx).IsAuthority() {
		return forbidden()
	}
	in, lerr := h.load(r)
	if lerr != nil {
		return lerr
	}
	shares, lerr := h.svc.Shares(ctx, in.ID)
	if lerr != nil {
		return lerr
	}
	assessment, lerr := h.svc.CrossBorder(ctx, in.ID)
	if lerr != nil {
		return lerr
	}
	authorities, lerr := h.svc.SectorAuthorities(ctx)
	if lerr != nil {
		return lerr
	}
	facts, lerr := loadEntityFacts(ctx, h.svc.db, in.OrgID)
	if lerr != nil {
		return lerr
	}
	var active []SectorAuthority
	suggested := int64(0)
	for _, a := range authorities {
		if !a.Active {
			continue
		}
		active = append(active, a)
		if suggested == 0 && a.Covers(facts.sectors) {
			suggested = a.ID
		}
	}
	var rows []shareRow
	for _, sh := range shares {
		rows = append(rows, shareRow{Sh: sh, Stamp: h.stamp(r, sh.CreatedAt)})
	}
	answer, countries := entityCrossBorder(in)
	q := r.URL.Query()
	if form == nil {
		form = url.Values{}
		for _, k := range shareParams {
			if v := q.Get(k); v != "" {
				form.Set(k, v)
			}
		}
		if form.Get("sector_authority_id") == "" && suggested != 0 {
			form.Set("sector_authority_id", strconv.FormatInt(suggested, 10))
		}
		if assessment != nil {
			form.Set("cross_border", map[bool]string{true: "yes", false: "no"}[assessment.CrossBorder])
			form.Set("affected_countries", strings.Join(assessment.Countries, " "))
		}
	}
	floor := entityTLP(in)
	data := map[string]any{"In": in, "Base": base(in), "Shares": rows, "Assessment": assessment, "Authorities": active,
		"Suggested": suggested, "EntityAnswer": answer, "EntityCountries": countries, "Floor": floor, "TLPs": TLPs,
		"Recipients": RecipientKinds, "Countries": h.countries(r), "CanShare": CanShare(ctx), "Sectors": facts.sectors,
		"CanManage": CanManageSectorAuthorities(ctx)}
	if floor != "" {
		data["FloorLabel"] = TLPLabel(floor)
	}
	title := h.t(r, "share.page.title", map[string]any{"ref": in.Ref})
	if err == nil && q.Get("recipient") != "" {
		// The preview, and the confirmation that carries its choices.
		req, perr := shareRequest(form)
		var doc *ShareDoc
		if perr == nil {
			doc, perr = h.svc.ShareExport(ctx, in.ID, req)
		}
		if perr != nil {
			return h.render(w, r, "rep_share", title, form, data, perr)
		}
		b, hash, eerr := encodeShare(doc)
		if eerr != nil {
			return eerr
		}
		data["Preview"], data["PreviewSHA"], data["PreviewDoc"] = string(b), hash, doc
		data["PreviewClass"] = strings.ReplaceAll(normTLP(doc.TLP), "+", "-")
		confirm := url.Values{}
		for _, k := range shareParams {
			if v := form.Get(k); v != "" {
				confirm.Set(k, v)
			}
		}
		data["Confirm"] = confirm
	}
	return h.render(w, r, "rep_share", title, form, data, err)
}

func (h *handlers) pageShareAction(w http.ResponseWriter, r *http.Request) error {
	if !CanShare(r.Context()) {
		return forbidden()
	}
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	f := r.PostForm
	switch f.Get("action") {
	case "share":
		req, err := shareRequest(f)
		if err != nil {
			return h.renderShare(w, r, f, err)
		}
		sh, _, err := h.svc.ShareIncident(r.Context(), id, req)
		if err != nil {
			return h.renderShare(w, r, f, err)
		}
		h.srv.Flash(w, "share.flash."+sh.Method)
	case "cross_border":
		in := CrossBorderInput{CrossBorder: f.Get("cross_border") == "yes"}
		if v := f.Get("cross_border"); v != "yes" && v != "no" {
			return h.renderShare(w, r, f, errs.Field("cross_border", "err.share.cross_border_required", nil))
		}
		in.Countries = strings.FieldsFunc(f.Get("affected_countries"), func(c rune) bool { return c == ',' || c == ' ' || c == ';' })
		if _, err := h.svc.SetCrossBorder(r.Context(), id, in); err != nil {
			return h.renderShare(w, r, f, err)
		}
		h.srv.Flash(w, "share.flash.cross_border")
	default:
		return errs.E(errs.NotFound, "err.not_found")
	}
	return web.Redirect(w, r, fmt.Sprintf("/incidents/%d/share", id))
}

// downloadShare serves the document of a recorded share, byte for byte.
func (h *handlers) downloadShare(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	sid, err := web.PathID(r, "share")
	if err != nil {
		return err
	}
	sh, b, err := h.svc.ShareDocument(r.Context(), id, sid)
	if err != nil {
		return err
	}
	var ref struct {
		Incident struct {
			Ref string `json:"reference"`
		} `json:"incident"`
	}
	_ = json.Unmarshal(b, &ref)
	return writeShareDoc(w, shareFileName(ref.Incident.Ref, sh.Recipient+"-"+itoa(sh.ID)), b)
}

// ---- sector authorities ----

func (h *handlers) pageSectorAuthorities(w http.ResponseWriter, r *http.Request) error {
	var form url.Values
	if e := r.URL.Query().Get("edit"); e != "" && CanManageSectorAuthorities(r.Context()) {
		id, _ := strconv.ParseInt(e, 10, 64)
		a, err := h.svc.SectorAuthority(r.Context(), id)
		if err != nil {
			return err
		}
		form = url.Values{"id": {itoa(a.ID)}, "name": {a.Name}, "email": {a.Email}, "country": {a.Country}, "sectors": a.Sectors}
		if a.Active {
			form.Set("active", "yes")
		}
	}
	return h.renderSectorAuthorities(w, r, form, nil)
}

func (h *handlers) renderSectorAuthorities(w http.ResponseWriter, r *http.Request, form url.Values, err error) error {
	list, lerr := h.svc.SectorAuthorities(r.Context())
	if lerr != nil {
		return lerr
	}
	if form == nil {
		form = url.Values{"active": {"yes"}}
	}
	data := map[string]any{"List": list, "Sectors": nis2.Sectors(), "Countries": h.countries(r), "CanManage": CanManageSectorAuthorities(r.Context()),
		"Chosen": form["sectors"]}
	return h.render(w, r, "rep_sector_authorities", h.t(r, "secauth.title", nil), form, data, err)
}

func (h *handlers) pageSectorAuthoritiesAction(w http.ResponseWriter, r *http.Request) error {
	if !CanManageSectorAuthorities(r.Context()) {
		return forbidden()
	}
	f := r.PostForm
	var id int64
	if s := f.Get("id"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return errs.E(errs.NotFound, "err.not_found")
		}
		id = n
	}
	name, email, country, active := f.Get("name"), f.Get("email"), f.Get("country"), f.Get("active") == "yes"
	sectors := slices.Clone(f["sectors"])
	if sectors == nil {
		sectors = []string{}
	}
	in := SectorAuthorityInput{Name: &name, Email: &email, Country: &country, Active: &active, Sectors: &sectors}
	if _, err := h.svc.SaveSectorAuthority(r.Context(), id, in); err != nil {
		return h.renderSectorAuthorities(w, r, f, err)
	}
	h.srv.Flash(w, "secauth.flash.saved")
	return web.Redirect(w, r, "/sector-authorities")
}
