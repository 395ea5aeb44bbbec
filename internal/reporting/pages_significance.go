package reporting

// The significance guidance page of an incident: the facts the criteria
// of the entity type need, asked as questions; the decision of
// nis2.AssessSignificance with its reasons; and, for the people who file,
// a button that records the criteria met in the report being written.

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/web"
)

// sigStages are the reports whose form links to the guidance: the early
// warning says whether the incident is significant at all, the incident
// notification gives its severity and impact (Art. 23(4)(a) and (b)).
var sigStages = []Stage{EarlyWarning, IncidentNotification}

// sigCriterionView is a criterion as the page shows it.
type sigCriterionView struct {
	Code, ID, Status, Reason, Reference string
}

// sigResultView is a decision as the page shows it, in the page's
// language.
type sigResultView struct {
	Significant bool
	Outcome     string // nis2.SignificanceOutcome
	DecidedBy   []string
	Criteria    []sigCriterionView
	Thresholds  []string
	Notes       []string
	References  []string
}

// sigView writes d for people in the request's language.
func (h *handlers) sigView(r *http.Request, d nis2.SignificanceDecision) *sigResultView {
	l := web.Locale(r)
	args := func(in map[string]any) map[string]any {
		out := make(map[string]any, len(in))
		for k, v := range in {
			if s, ok := sigNumber(l, v); ok {
				v = s
			}
			switch k {
			case "facts":
				// Names of facts: the questions that ask them.
				var names []string
				for _, f := range strings.Split(v.(string), ", ") {
					names = append(names, h.t(r, "repsig.fact."+f, nil))
				}
				v = strings.Join(names, "; ")
			case "type":
				if code, ok := v.(string); ok {
					v = h.t(r, nis2.TypeLabelKey(code), nil)
				}
			}
			out[k] = v
		}
		return out
	}
	out := &sigResultView{Significant: d.Significant, Outcome: string(d.Outcome), DecidedBy: d.DecidedBy, References: d.References}
	for _, c := range d.Criteria {
		out.Criteria = append(out.Criteria, sigCriterionView{Code: c.Code, ID: c.ID, Status: string(c.Status),
			Reason: h.t(r, c.ReasonKey, args(c.ReasonArgs)), Reference: c.Reference})
	}
	for _, th := range d.Thresholds {
		a := map[string]any{"name": th.Name, "of": h.t(r, "repsig.fact."+th.Of, nil), "criteria": strings.Join(th.Criteria, ", ")}
		a["cap"], _ = sigNumber(l, th.Cap)
		key := "repsig.threshold_unknown"
		if th.Value != nil {
			key = "repsig.threshold"
			a["value"], _ = sigNumber(l, *th.Value)
		}
		out.Thresholds = append(out.Thresholds, h.t(r, key, a))
	}
	for _, n := range d.Notes {
		out.Notes = append(out.Notes, h.t(r, n.Key, args(n.Args)))
	}
	return out
}

// sigStage is the report the guidance was opened from (?stage= or the
// form's stage), if it is one the guidance serves.
func sigStage(v string) Stage {
	if s := Stage(v); slices.Contains(sigStages, s) {
		return s
	}
	return ""
}

// sigPage renders the guidance with the answers form and, when d is not
// nil, the decision.
func (h *handlers) sigPage(w http.ResponseWriter, r *http.Request, in *Incident, form url.Values, d *nis2.SignificanceDecision, err error) error {
	types, _, lerr := h.svc.registeredFacts(r.Context(), in.OrgID)
	if lerr != nil {
		return lerr
	}
	all := nis2.Types()
	if len(types) == 0 {
		for _, t := range all {
			types = append(types, t.Code)
		}
	}
	if cur := form.Get("entity_type"); cur != "" && !slices.Contains(types, cur) {
		if _, ok := nis2.Type(cur); ok {
			types = append(types, cur) // chosen before; keep it on offer
		}
	}
	stage := sigStage(form.Get("stage"))
	data := map[string]any{"In": in, "Base": base(in), "Types": types, "Stage": stage, "Rows": make([]int, SigRows),
		"Tristate": tristate, "RootCauses": rootCauses, "Path": base(in) + "/significance", "LangForm": "significance-form",
		"MayFile": mayFile(r.Context(), in.OrgID) && stage != ""}
	if t := form.Get("entity_type"); t != "" {
		if _, ok := nis2.Type(t); ok {
			f, _ := SigFacts(form, web.Locale(r)) // what could be read, for the questions it leads to
			asked := sigAsk(t, f)
			data["Asked"] = &asked
		}
	}
	if d != nil {
		data["Result"] = h.sigView(r, *d)
	}
	return h.render(w, r, "rep_significance", h.t(r, "repsig.title", nil), form, data, err)
}

// pageSignificance shows the guidance, its first answers taken from the
// incident's latest report and from the registration.
func (h *handlers) pageSignificance(w http.ResponseWriter, r *http.Request) error {
	in, err := h.load(r)
	if err != nil {
		return err
	}
	stage := sigStage(r.URL.Query().Get("stage"))
	c, _, _ := startingPoint(r, in, orStage(stage, IncidentNotification))
	types, turnover, err := h.svc.registeredFacts(r.Context(), in.OrgID)
	if err != nil {
		return err
	}
	form := sigStart(in, c, types, turnover, web.Locale(r))
	if stage != "" {
		form.Set("stage", string(stage))
	}
	return h.sigPage(w, r, in, form, nil, nil)
}

func orStage(s, def Stage) Stage {
	if s == "" {
		return def
	}
	return s
}

// pageSignificanceAction checks the answers (action "check"), shows the
// questions of another entity type ("type"), or records the criteria met
// in the draft of the report the guidance was opened from ("record").
func (h *handlers) pageSignificanceAction(w http.ResponseWriter, r *http.Request) error {
	in, err := h.load(r)
	if err != nil {
		return err
	}
	form := r.PostForm
	if l, ok := web.SwitchLang(r); ok {
		// Nothing is stored here: the answers come back in the language
		// chosen (numbers were typed the old language's way, so they are
		// read with it and written again the new way).
		f, ferr := SigFacts(form, web.Locale(r))
		r = web.WithLocale(r, l)
		if ferr == nil {
			form = sigRewrite(form, f, l)
		}
		return h.sigPage(w, r, in, form, nil, nil)
	}
	if form.Get("action") == "type" {
		return h.sigPage(w, r, in, form, nil, nil)
	}
	var v errs.Validator
	if _, ok := nis2.Type(form.Get("entity_type")); !ok {
		v.Add("entity_type", "err.repsig.type_required", nil)
		return h.sigPage(w, r, in, form, nil, v.Err())
	}
	f, err := SigFacts(form, web.Locale(r))
	if err != nil {
		return h.sigPage(w, r, in, form, nil, err)
	}
	d, err := nis2.AssessSignificance(f)
	if err != nil {
		return h.sigPage(w, r, in, form, nil, err)
	}
	if form.Get("action") != "record" {
		return h.sigPage(w, r, in, form, &d, nil)
	}
	stage := sigStage(form.Get("stage"))
	if stage == "" || !mayFile(r.Context(), in.OrgID) {
		return forbidden()
	}
	if err := canStart(in, stage); err != nil {
		return err
	}
	if in.Submitted(stage) != nil && in.draft(stage) == nil {
		// A filed stage changes only by a correction, started from its form.
		return errs.E(errs.Conflict, "err.repsig.stage_filed")
	}
	c, _, _ := startingPoint(r, in, stage)
	c.SignificanceCriteria = sigCodes(d)
	if _, err := h.svc.SaveDraft(r.Context(), in.ID, stage, c); err != nil {
		return err
	}
	h.srv.Flash(w, "repsig.flash.recorded")
	return web.Redirect(w, r, base(in)+"/"+string(stage))
}

// sigRewrite writes the numbers of form again in locale l, from the facts
// read from it, so that a change of language keeps their value.
func sigRewrite(form url.Values, f nis2.SignificanceFacts, l string) url.Values {
	out := url.Values{}
	for k, v := range form {
		out[k] = slices.Clone(v)
	}
	num := map[string]*float64{"direct_financial_loss_eur": f.DirectFinancialLossEUR, "turnover_prev_fy_eur": f.TurnoverPrevFYEUR,
		"complete_unavailability_minutes": f.CompleteUnavailabilityMinutes, "limited_availability_minutes": f.LimitedAvailabilityMinutes,
		"avg_response_time_seconds": f.AvgResponseTimeSeconds, "avg_response_time_minutes": f.AvgResponseTimeMinutes}
	for k, x := range num {
		if x != nil {
			s, _ := sigNumber(l, *x)
			out.Set(k, s)
		}
	}
	// The rows read are the rows filled in, in order; empty rows were skipped.
	rows := func(list string, a, b string, n int, val func(int) *float64, name string) {
		j := 0
		for i := range SigRows {
			p := list + "-" + itoa(int64(i)) + "-"
			if strings.TrimSpace(form.Get(p+a)) == "" && strings.TrimSpace(form.Get(p+b)) == "" {
				continue
			}
			if j < n {
				if x := val(j); x != nil {
					s, _ := sigNumber(l, *x)
					out.Set(p+name, s)
				}
			}
			j++
		}
	}
	rows("related_incidents", "date", "loss", len(f.RelatedIncidents), func(j int) *float64 { return f.RelatedIncidents[j].DirectFinancialLossEUR }, "loss")
	rows("week_outages", "date", "minutes", len(f.WeekOutages), func(j int) *float64 { return f.WeekOutages[j].Minutes }, "minutes")
	return out
}
