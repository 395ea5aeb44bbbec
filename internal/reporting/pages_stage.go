package reporting

// The pages of one stage: its form, check answers and submit, the
// read-only view, and the receipt of a submission.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/web"
)

// canStart refuses a stage whose prerequisite has not been filed.
func canStart(in *Incident, stage Stage) error {
	if pre, ok := stagePrerequisite[stage]; ok && in.Submitted(pre) == nil {
		return errs.E(errs.Conflict, "err.rep.stage_order."+string(stage))
	}
	return nil
}

// startingPoint is what a stage form starts from (UX.md pattern 12): the
// stage's draft; else its latest submission, for a correction; else the
// latest submission of the incident, since each report updates the one
// before. The notifier defaults to the person signed in.
func startingPoint(r *http.Request, in *Incident, stage Stage) (c Content, from *Submission, draft *Draft) {
	if d := in.draft(stage); d != nil {
		return d.Content, nil, d
	}
	if s := in.Submitted(stage); s != nil {
		from = s
	} else if n := len(in.Submissions); n > 0 {
		from = &in.Submissions[n-1]
	}
	if from != nil {
		_ = json.Unmarshal(from.Canonical, &c) // written by us from a Content
	}
	if c.Notifier == nil {
		if p := auth.From(r.Context()); p != nil && !p.System {
			c.Notifier = &Person{Name: p.Name, Email: p.Email}
		}
	}
	if c.TLP == "" {
		c.TLP = "amber"
	}
	return c, from, nil
}

// requireNotifier: every report names who sends it (reporting-forms.md §1.3).
func requireNotifier(c *Content, v *errs.Validator) {
	if c.Notifier == nil || c.Notifier.Name == "" {
		v.Add("notifier.name", "err.repui.notifier_name_required", nil)
	}
	if c.Notifier == nil || c.Notifier.Email == "" {
		v.Add("notifier.email", "err.repui.notifier_email_required", nil)
	}
}

// complete reports what stage still lacks in c, as Submit would, plus the
// notifier.
func complete(stage Stage, c Content) error {
	var v errs.Validator
	c.Notifier = clonePerson(c.Notifier)
	c.AffectedCountries = append([]string(nil), c.AffectedCountries...)
	c.Indicators = append([]Indicator(nil), c.Indicators...)
	c.normalise(&v)
	requireNotifier(&c, &v)
	c.require(stage, &v)
	return v.Err()
}

func clonePerson(p *Person) *Person {
	if p == nil {
		return nil
	}
	x := *p
	return &x
}

func (h *handlers) stageTitle(r *http.Request, stage Stage) string {
	return h.t(r, stage.LabelKey(), nil)
}

// stageData is what every page of a stage shows about it.
func (h *handlers) stageData(r *http.Request, in *Incident, stage Stage) map[string]any {
	now := h.svc.tick()
	data := map[string]any{"In": in, "Base": base(in), "Stage": stage, "Sub": in.Submitted(stage), "Due": h.due(r, in, stage, now),
		"Draft": in.draft(stage), "Path": base(in) + "/" + string(stage)}
	if d, ok := in.Deadlines.Stage(stage); ok {
		data["HintKey"] = d.HintKey
	}
	return data
}

// ---- the form ----

func (h *handlers) stageForm(w http.ResponseWriter, r *http.Request, in *Incident, stage Stage, form url.Values, from *Submission, err error) error {
	data := h.stageData(r, in, stage)
	data["Q"] = Questions(stage)
	data["From"] = from
	data["Countries"] = h.countries(r)
	data["Severities"] = severities
	data["RootCauses"] = rootCauses
	data["RSIT"] = RSIT()
	data["TLPs"] = TLPs
	data["Tristate"] = tristate
	data["Statuses"] = []string{StatusOngoing, StatusClosed}
	if err := h.addAttachments(r, data, in, stage, true); err != nil { // pages_attachments.go
		return err
	}
	data["LangForm"] = "stage-form"
	if slices.Contains(sigStages, stage) {
		// The significance guidance, and the criteria it recorded.
		data["Significance"] = true
		if d := in.draft(stage); d != nil {
			data["SigCodes"] = d.Content.SignificanceCriteria
		} else if from != nil && from.Stage == stage {
			var c Content
			_ = json.Unmarshal(from.Canonical, &c)
			data["SigCodes"] = c.SignificanceCriteria
		}
	}
	return h.render(w, r, "rep_stage", h.stageTitle(r, stage), form, data, err)
}

// stageRequest reads the incident and the stage of a stage page. For a
// person who may file for the incident's organisation it also checks that
// the stage can start; readOnly says the person may only look (the
// authority's staff).
func (h *handlers) stageRequest(r *http.Request) (in *Incident, stage Stage, readOnly bool, err error) {
	if in, err = h.load(r); err != nil {
		return nil, "", false, err
	}
	if stage, err = pathStage(r); err != nil {
		return nil, "", false, err
	}
	if !mayFile(r.Context(), in.OrgID) {
		return in, stage, true, nil
	}
	return in, stage, false, canStart(in, stage)
}

func (h *handlers) pageStage(w http.ResponseWriter, r *http.Request) error {
	in, stage, readOnly, err := h.stageRequest(r)
	if err != nil {
		return err
	}
	if readOnly {
		return h.view(w, r, in, stage)
	}
	c, from, _ := startingPoint(r, in, stage)
	return h.stageForm(w, r, in, stage, FormValues(c, web.Locale(r)), from, nil)
}

func (h *handlers) pageSaveStage(w http.ResponseWriter, r *http.Request) error {
	in, stage, readOnly, err := h.stageRequest(r)
	if err != nil {
		return err
	}
	if readOnly {
		return forbidden()
	}
	start, from, _ := startingPoint(r, in, stage)
	c, err := ParseForm(stage, r.PostForm, web.Locale(r), start, h.svc.tick())
	if err != nil {
		return h.stageForm(w, r, in, stage, r.PostForm, from, err)
	}
	d, err := h.svc.SaveDraft(r.Context(), in.ID, stage, c)
	if err != nil {
		return h.stageForm(w, r, in, stage, r.PostForm, from, err)
	}
	if r.PostFormValue("action") == "significance" {
		// To the significance guidance, the answers kept in the draft.
		return web.Redirect(w, r, base(in)+"/significance?stage="+string(stage))
	}
	if l, ok := web.SwitchLang(r); ok {
		// A change of language: the answers are in the draft, and the form
		// comes back in the language chosen, numbers and all written its way.
		h.srv.Flash(w, "repui.flash.language_kept")
		return web.Redirect(w, web.WithLocale(r, l), base(in)+"/"+string(stage))
	}
	if r.PostFormValue("action") == "later" {
		h.srv.Flash(w, "repui.flash.draft_saved")
		return web.Redirect(w, r, base(in))
	}
	// Continue: the draft is kept, and the form comes back until the stage
	// has every answer it needs.
	if err := complete(stage, d.Content); err != nil {
		if fresh, lerr := h.svc.Incident(r.Context(), in.ID); lerr == nil {
			in = fresh // with the draft just saved
		}
		return h.stageForm(w, r, in, stage, r.PostForm, from, err)
	}
	h.srv.Flash(w, "repui.flash.draft_saved")
	return web.Redirect(w, r, base(in)+"/"+string(stage)+"/check")
}

// ---- check answers, read-only view ----

// summaryRow is an answer of a report on a check-answers or receipt page.
type summaryRow struct {
	Key   string   // message key of the question
	ID    string   // id of the input the Change link goes to
	Lines []string // the answer, a line each; none when not given
	Text  string   // a long answer, shown with its line breaks
	Mono  bool     // identifiers, like indicators
	// TLP is a TLP label ("TLP:AMBER+STRICT"), shown as such, and
	// TLPClass its style ("amber-strict").
	TLP, TLPClass string
}

// summary lists the answers of c to the questions of stage.
func (h *handlers) summary(r *http.Request, stage Stage, c Content) []summaryRow {
	l := web.Locale(r)
	cat := h.srv.Catalog()
	yesNo := func(b bool) string {
		if b {
			return h.t(r, "repui.yes", nil)
		}
		return h.t(r, "repui.no", nil)
	}
	label := func(prefix, v string) []string {
		if v == "" {
			return nil
		}
		return []string{h.t(r, prefix+v, nil)}
	}
	figure := func(key, v string) string {
		return h.t(r, "repui.figure", map[string]any{"label": h.t(r, key, nil), "value": v})
	}
	var out []summaryRow
	for _, q := range questions[stage] {
		row := summaryRow{Key: "repui.q." + q, ID: q}
		switch q {
		case qNotifier:
			row.ID = "notifier_name"
			if p := c.Notifier; p != nil {
				for _, s := range []string{p.Name, p.Title, p.Email, p.Phone} {
					if s != "" {
						row.Lines = append(row.Lines, s)
					}
				}
			}
		case qInternalRef:
			row.Lines = nonEmpty(c.InternalReference)
		case qPoliceRef:
			row.Lines = nonEmpty(c.PoliceReference)
		case qDetectedAt, qStartedAt, qResolvedAt:
			if tp := timeOf(c, q); tp != nil {
				row.Lines = []string{cat.DateTime(l, *tp)}
			}
		case qStatus:
			row.Lines = label("repui.status.", c.IncidentStatus)
		case qMalicious:
			row.Lines = label("repui.tristate.", c.SuspectedMalicious)
		case qCrossBorder:
			row.Lines = label("repui.tristate.", c.CrossBorder)
		case qCountries:
			var names []string
			for _, cc := range c.AffectedCountries {
				names = append(names, h.t(r, "country."+cc, nil))
			}
			if len(names) > 0 {
				row.Lines = []string{strings.Join(names, ", ")}
			}
		case qUpdate:
			row.Text = c.Update
		case qSummary:
			row.Text = c.Summary
		case qSeverity:
			row.Lines = label("repui.severity.", c.Severity)
		case qImpact:
			row.Text = c.ImpactAssessment
		case qQuantities:
			row.ID = "quantities_users_affected"
			qt := c.Quantities
			if qt.UsersAffected != nil {
				row.Lines = append(row.Lines, figure("repui.q.users_affected", i18n.Number(l, *qt.UsersAffected)))
			}
			if qt.SystemsAffected != nil {
				row.Lines = append(row.Lines, figure("repui.q.systems_affected", i18n.Number(l, *qt.SystemsAffected)))
			}
			if qt.DurationMinutes != nil {
				row.Lines = append(row.Lines, figure("repui.q.duration_minutes", i18n.Number(l, *qt.DurationMinutes)))
			}
			if qt.DirectLossEUR != nil {
				row.Lines = append(row.Lines, figure("repui.q.direct_loss_eur", i18n.Decimal(l, *qt.DirectLossEUR)+" EUR"))
			}
		case qIndicators:
			row.Mono = true
			for _, s := range strings.Split(IndicatorText(c.Indicators), "\n") {
				if s != "" {
					row.Lines = append(row.Lines, s)
				}
			}
		case qClassification:
			if tax, _, ok := strings.Cut(c.Classification, "/"); ok {
				row.Lines = []string{h.t(r, "repui.rsit."+tax, nil) + ": " + h.t(r, "repui.rsit."+c.Classification, nil) + " (" + c.Classification + ")"}
			} else if c.Classification != "" {
				row.Lines = []string{h.t(r, "repui.rsit."+c.Classification, nil) + " (" + c.Classification + ")"}
			}
		case qRootCause:
			row.Lines = label("repui.root_cause.", c.RootCause)
			row.Text = c.RootCauseText
		case qDescription:
			row.Text = c.DetailedDescription
		case qMitigations:
			row.Text = c.Mitigations
		case qCrossBorderImpact:
			row.Text = c.CrossBorderImpact
		case qRecipients:
			if c.RecipientsInformed != nil {
				row.Lines = []string{yesNo(*c.RecipientsInformed)}
			}
		case qAssistance:
			row.Lines = []string{yesNo(c.AssistanceWanted)}
		case qTLP:
			v := c.TLP
			if v == "" {
				v = "amber"
			}
			row.TLP, row.TLPClass = "TLP:"+strings.ToUpper(v), strings.ReplaceAll(v, "+", "-")
		}
		out = append(out, row)
	}
	if slices.Contains(sigStages, stage) && len(c.SignificanceCriteria) > 0 {
		out = append(out, summaryRow{Key: "repsig.summary.criteria", ID: "significance", Lines: []string{strings.Join(c.SignificanceCriteria, ", ")}})
	}
	return out
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func timeOf(c Content, q string) *time.Time {
	switch q {
	case qDetectedAt:
		return c.DetectedAt
	case qStartedAt:
		return c.StartedAt
	case qResolvedAt:
		return c.ResolvedAt
	}
	return nil
}

// checkError is an error of the check-answers page: it links to the
// question on the form.
type checkError struct {
	Href    string
	Message string
}

// check renders the check-answers page; err holds the reasons a submit
// was refused.
func (h *handlers) check(w http.ResponseWriter, r *http.Request, in *Incident, stage Stage, err error) error {
	data := h.stageData(r, in, stage)
	d := in.draft(stage)
	if d != nil {
		data["Rows"] = h.summary(r, stage, d.Content)
	}
	if err := h.addAttachments(r, data, in, stage, false); err != nil {
		return err
	}
	// A new token on every rendering: the submit it carries files once.
	data["Token"] = web.RandomToken(18)
	if s := in.Submitted(stage); s != nil {
		data["Corrects"] = s.Ref
	}
	title := h.t(r, "repui.check.title", map[string]any{"stage": h.stageTitle(r, stage)})
	status := http.StatusOK
	if err != nil {
		msgs, ok := h.fieldMessages(r, err, "")
		if !ok {
			return err
		}
		var ces []checkError
		for _, m := range msgs {
			ce := checkError{Message: m.Message}
			if m.Field != "" {
				ce.Href = web.LocalePath(r, base(in)+"/"+string(stage)) + "#" + m.Field
			}
			ces = append(ces, ce)
		}
		data["CheckErrors"] = ces
		title = h.t(r, "error.title_prefix", nil) + " " + title
		status = http.StatusUnprocessableEntity
		if errs.Is(err, errs.Conflict) {
			status = http.StatusConflict
		}
	}
	return h.srv.RenderPage(w, r, status, "rep_check", &web.Page{Title: title, Data: data})
}

// view shows the latest submission of a stage to those who read but do
// not file (the authority's staff).
func (h *handlers) view(w http.ResponseWriter, r *http.Request, in *Incident, stage Stage) error {
	data := h.stageData(r, in, stage)
	if s := in.Submitted(stage); s != nil {
		var c Content
		_ = json.Unmarshal(s.Canonical, &c)
		data["Rows"] = h.summary(r, stage, c)
		data["Stamp"] = h.stamp(r, s.SubmittedAt)
	}
	if err := h.addAttachments(r, data, in, stage, false); err != nil {
		return err
	}
	return h.render(w, r, "rep_view", h.stageTitle(r, stage), nil, data, nil)
}

// pageStageSub serves /incidents/{id}/{stage}/check and
// /incidents/{id}/receipts/{ref}.
func (h *handlers) pageStageSub(w http.ResponseWriter, r *http.Request) error {
	if r.PathValue("stage") == "receipts" {
		return h.receipt(w, r)
	}
	if r.PathValue("page") != "check" {
		return errs.E(errs.NotFound, "err.not_found")
	}
	in, stage, readOnly, err := h.stageRequest(r)
	if err != nil {
		return err
	}
	if readOnly {
		return h.view(w, r, in, stage)
	}
	if in.draft(stage) == nil && in.Submitted(stage) == nil {
		return web.Redirect(w, r, base(in)+"/"+string(stage))
	}
	return h.check(w, r, in, stage, nil)
}

// pageSubmit files the draft of a stage (UX.md patterns 13, 14).
func (h *handlers) pageSubmit(w http.ResponseWriter, r *http.Request) error {
	in, err := h.load(r)
	if err != nil {
		return err
	}
	stage, err := pathStage(r)
	if err != nil {
		return err
	}
	if !mayFile(r.Context(), in.OrgID) {
		return forbidden()
	}
	key := ""
	if tok := strings.TrimSpace(r.PostFormValue("token")); tok != "" && len(tok) <= 100 {
		key = "portal-" + tok
		// The same form sent again (a double click, a reload) finds what
		// the first one filed.
		ref, incident, err := h.svc.submissionByKey(r.Context(), in.OrgID, key)
		if err != nil {
			return err
		}
		if ref != "" && incident == in.ID {
			return web.Redirect(w, r, base(in)+"/receipts/"+ref)
		}
	}
	d := in.draft(stage)
	if d == nil {
		if in.Submitted(stage) != nil {
			return web.Redirect(w, r, base(in)+"/"+string(stage)+"/check")
		}
		return web.Redirect(w, r, base(in)+"/"+string(stage))
	}
	if err := complete(stage, d.Content); err != nil {
		return h.check(w, r, in, stage, err)
	}
	o := SubmitOptions{IdempotencyKey: key}
	if in.Submitted(stage) != nil {
		o.Corrects = r.PostFormValue("corrects")
	}
	rec, err := h.svc.Submit(r.Context(), in.ID, stage, d.Content, o)
	if err != nil {
		if errs.Is(err, errs.Invalid) || errs.Is(err, errs.Conflict) {
			if fresh, lerr := h.svc.Incident(r.Context(), in.ID); lerr == nil {
				in = fresh
			}
			return h.check(w, r, in, stage, err)
		}
		return err
	}
	return web.Redirect(w, r, base(in)+"/receipts/"+rec.Ref)
}

// ---- the receipt ----

// receipt shows the confirmation and receipt of a submission (UX.md
// pattern 15), or serves it as JSON when the reference ends in ".json".
func (h *handlers) receipt(w http.ResponseWriter, r *http.Request) error {
	in, err := h.load(r)
	if err != nil {
		return err
	}
	ref := r.PathValue("page")
	asJSON := strings.HasSuffix(ref, ".json")
	ref = strings.TrimSuffix(ref, ".json")
	rec, err := h.svc.Receipt(r.Context(), ref)
	if err != nil {
		return err
	}
	if rec.IncidentID != in.ID {
		return errs.E(errs.NotFound, "err.rep.receipt_not_found")
	}
	if asJSON {
		w.Header().Set("Content-Disposition", `attachment; filename="receipt-`+rec.Ref+`.json"`)
		return web.WriteJSON(w, http.StatusOK, rec)
	}
	if r.URL.Query().Get("download") == "html" {
		w.Header().Set("Content-Disposition", `attachment; filename="receipt-`+rec.Ref+`.html"`)
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	var c Content
	_ = json.Unmarshal(rec.Content, &c)
	now := h.svc.tick()
	data := h.stageData(r, in, rec.Stage)
	data["Rec"] = rec
	data["Stamp"] = h.stamp(r, rec.SubmittedAt)
	data["Rows"] = h.summary(r, rec.Stage, c)
	data["JSONSize"] = kilobytes(web.Locale(r), len(b)+1)
	data["Latest"] = in.Submitted(rec.Stage).Ref == rec.Ref
	data["LatestRef"] = in.Submitted(rec.Stage).Ref
	next, nextDue := h.nextDue(r, in, now)
	data["NextStage"], data["Next"] = next, nextDue
	if rec.Stage == EarlyWarning {
		data["Feedback"] = h.due(r, in, nis2.CSIRTFeedback, now)
	}
	data["CanFile"] = mayFile(r.Context(), in.OrgID)
	title := h.t(r, "repui.receipt.title", map[string]any{"stage": h.stageTitle(r, rec.Stage), "ref": rec.Ref})
	return h.render(w, r, "rep_receipt", title, nil, data, nil)
}
