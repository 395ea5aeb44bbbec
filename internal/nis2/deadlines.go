package nis2

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/belfry-cert/belfry/internal/errs"
)

// This file computes the legal clocks of an incident under NIS2 Art. 23(4)
// and 23(5), following the platform convention of nis2.md §2.4: instants in
// UTC, hours as exact elapsed time, months by AddMonths, no extension for
// weekends or holidays. Registration change deadlines (Art. 3(4), 27(3))
// are not here: see registry.ChangeDeadline.

// Stage is a step of incident reporting, or the authority's feedback.
type Stage string

// Stages of Art. 23(4), and the CSIRT's response of Art. 23(5).
const (
	EarlyWarning         Stage = "early_warning"
	IncidentNotification Stage = "incident_notification"
	IntermediateReport   Stage = "intermediate_report"
	FinalReport          Stage = "final_report"
	ProgressReport       Stage = "progress_report"
	CSIRTFeedback        Stage = "csirt_feedback"
)

// Stages lists every stage in the order Due reports them.
func Stages() []Stage {
	return []Stage{EarlyWarning, IncidentNotification, IntermediateReport, FinalReport, ProgressReport, CSIRTFeedback}
}

// LabelKey is the message key of the stage's name.
func (s Stage) LabelKey() string { return "nis2.stage." + string(s) }

// Status says where a stage stands against its deadline.
type Status string

// Statuses of a stage.
const (
	Pending         Status = "pending"           // not submitted, not yet due
	SubmittedOnTime Status = "submitted_on_time" // submitted at or before the due time
	SubmittedLate   Status = "submitted_late"    // submitted after the due time
	Overdue         Status = "overdue"           // not submitted, and due time passed
	NotApplicable   Status = "not_applicable"    // the stage does not apply (no request, not ongoing)
	NotYetKnown     Status = "not_yet_known"     // it applies, but what it counts from has not happened
)

// Statuses lists every status.
func Statuses() []Status {
	return []Status{Pending, SubmittedOnTime, SubmittedLate, Overdue, NotApplicable, NotYetKnown}
}

// LabelKey is the message key of the status's name.
func (s Status) LabelKey() string { return "nis2.stage_status." + string(s) }

// ClockFacts are the times of one significant incident that its reporting
// deadlines count from. A zero time is unknown or has not happened. Times
// may carry any offset; Due works in UTC.
type ClockFacts struct {
	// AwareAt is when the entity became aware of the significant incident
	// (required).
	AwareAt time.Time `json:"aware_at"`
	// TrustServiceImpact: the entity is a trust service provider and the
	// incident impacts the provision of its trust services, so the
	// notification is due within 24 hours (Art. 23(4), second subparagraph).
	TrustServiceImpact bool `json:"trust_service_impact,omitempty"`

	EarlyWarningSubmittedAt time.Time `json:"early_warning_submitted_at,omitzero"`
	NotificationSubmittedAt time.Time `json:"notification_submitted_at,omitzero"`

	// An intermediate report is due only on request; IntermediateDeadline
	// is the absolute deadline the request set.
	IntermediateRequestedAt time.Time `json:"intermediate_requested_at,omitzero"`
	IntermediateDeadline    time.Time `json:"intermediate_deadline,omitzero"`
	IntermediateSubmittedAt time.Time `json:"intermediate_submitted_at,omitzero"`

	// OngoingAtFinalDue: the incident is still ongoing when the final report
	// is due, so a progress report is due then and the final report one
	// month after HandledAt (Art. 23(4)(e)). HandledAt is used only then.
	OngoingAtFinalDue         bool      `json:"ongoing_at_final_due,omitempty"`
	ProgressReportSubmittedAt time.Time `json:"progress_report_submitted_at,omitzero"`
	HandledAt                 time.Time `json:"handled_at,omitzero"`
	FinalReportSubmittedAt    time.Time `json:"final_report_submitted_at,omitzero"`

	// The authority's side (Art. 23(5)).
	CSIRTReceivedEarlyWarningAt time.Time `json:"csirt_received_early_warning_at,omitzero"`
	CSIRTFeedbackAt             time.Time `json:"csirt_feedback_at,omitzero"`

	// Now, when set, is the instant lateness is judged at, instead of the
	// clock the caller passes to Due.
	Now time.Time `json:"now,omitzero"`
}

// Deadlines are the clocks of one incident, judged at Now.
type Deadlines struct {
	AwareAt time.Time  `json:"aware_at"`
	Now     time.Time  `json:"now"`
	Stages  []Deadline `json:"stages"`
}

// Stage returns the deadline of stage s.
func (d Deadlines) Stage(s Stage) (Deadline, bool) {
	for _, x := range d.Stages {
		if x.Stage == s {
			return x, true
		}
	}
	return Deadline{}, false
}

// Deadline is the clock of one stage. Due is zero when the status is
// NotApplicable or NotYetKnown. LateBy is in whole seconds, rounded up:
// how late the submission was, or how far past due an unsubmitted stage is
// at Now; 0 otherwise. A Soft deadline is a target ("where possible"), not
// an obligation.
type Deadline struct {
	Stage       Stage     `json:"stage"`
	Status      Status    `json:"status"`
	Due         time.Time `json:"due,omitzero"`
	Rule        string    `json:"rule"`
	Basis       string    `json:"basis"`
	SubmittedAt time.Time `json:"submitted_at,omitzero"`
	LateBy      int64     `json:"late_by"`
	Soft        bool      `json:"soft"`
	HintKey     string    `json:"hint_key"`
}

// Legal references of the stages.
const (
	art23a   = "NIS2 Art. 23(4)(a)"
	art23b   = "NIS2 Art. 23(4)(b)"
	art23TSP = "NIS2 Art. 23(4), second subparagraph"
	art23c   = "NIS2 Art. 23(4)(c)"
	art23d   = "NIS2 Art. 23(4)(d)"
	art23e   = "NIS2 Art. 23(4)(e)"
	art23p5  = "NIS2 Art. 23(5)"
)

const clockDay = 24 * time.Hour

// Due computes the deadline and status of every stage of Stages. Lateness
// is judged at f.Now or, when that is zero, at now; a zero now makes
// nothing overdue. It returns an errs.Invalid error when f fails Validate.
func Due(f ClockFacts, now time.Time) (Deadlines, error) {
	if err := f.Validate(); err != nil {
		return Deadlines{}, err
	}
	f = f.utc()
	if !f.Now.IsZero() {
		now = f.Now
	}
	d := Deadlines{AwareAt: f.AwareAt, Now: now.UTC()}
	firstFinal := AddMonths(f.NotificationSubmittedAt, 1)
	for _, s := range Stages() {
		x := f.deadline(s, firstFinal)
		x.Stage = s
		x.assess(d.Now)
		d.Stages = append(d.Stages, x)
	}
	return d, nil
}

// deadline returns the rule of stage s for f. firstFinal is when the final
// report is first due (zero until the notification is submitted).
func (f ClockFacts) deadline(s Stage, firstFinal time.Time) Deadline {
	switch s {
	case EarlyWarning:
		return Deadline{Due: f.AwareAt.Add(clockDay), Rule: art23a, Basis: "aware_at + 24h",
			SubmittedAt: f.EarlyWarningSubmittedAt, HintKey: stageHint("early_warning")}
	case IncidentNotification:
		if f.TrustServiceImpact {
			return Deadline{Due: f.AwareAt.Add(clockDay), Rule: art23TSP, Basis: "aware_at + 24h",
				SubmittedAt: f.NotificationSubmittedAt, HintKey: stageHint("incident_notification_tsp")}
		}
		return Deadline{Due: f.AwareAt.Add(3 * clockDay), Rule: art23b, Basis: "aware_at + 72h",
			SubmittedAt: f.NotificationSubmittedAt, HintKey: stageHint("incident_notification")}
	case IntermediateReport:
		x := Deadline{Rule: art23c, Basis: "intermediate_deadline", SubmittedAt: f.IntermediateSubmittedAt}
		if f.IntermediateRequestedAt.IsZero() {
			x.Status, x.HintKey = NotApplicable, stageHint("intermediate_report_none")
			return x
		}
		x.Due, x.HintKey = f.IntermediateDeadline, stageHint("intermediate_report")
		return x
	case FinalReport:
		return f.finalReport(firstFinal)
	case ProgressReport:
		return f.progressReport(firstFinal)
	case CSIRTFeedback:
		x := Deadline{Rule: art23p5, Basis: "csirt_received_early_warning_at + 24h", SubmittedAt: f.CSIRTFeedbackAt, Soft: true}
		if f.CSIRTReceivedEarlyWarningAt.IsZero() {
			x.Status, x.HintKey = NotYetKnown, stageHint("csirt_feedback_unknown")
			return x
		}
		x.Due, x.HintKey = f.CSIRTReceivedEarlyWarningAt.Add(clockDay), stageHint("csirt_feedback")
		return x
	}
	panic("nis2: unknown stage " + string(s))
}

// finalReport is due one month after the notification (Art. 23(4)(d)) or,
// for an incident still ongoing then, one month after it was handled
// (Art. 23(4)(e)).
func (f ClockFacts) finalReport(firstFinal time.Time) Deadline {
	x := Deadline{Rule: art23d, Basis: "notification_submitted_at + 1 month", SubmittedAt: f.FinalReportSubmittedAt}
	switch {
	case firstFinal.IsZero():
		x.Status, x.HintKey = NotYetKnown, stageHint("final_report_unknown")
	case !f.OngoingAtFinalDue:
		x.Due, x.HintKey = firstFinal, stageHint("final_report")
	case f.HandledAt.IsZero():
		x.Rule, x.Basis = art23e, "handled_at + 1 month"
		x.Status, x.HintKey = NotYetKnown, stageHint("final_report_after_handling_unknown")
	default:
		x.Rule, x.Basis = art23e, "handled_at + 1 month"
		x.Due, x.HintKey = AddMonths(f.HandledAt, 1), stageHint("final_report_after_handling")
	}
	return x
}

// progressReport is due when the final report first is, for an incident
// still ongoing then (Art. 23(4)(e)).
func (f ClockFacts) progressReport(firstFinal time.Time) Deadline {
	x := Deadline{Rule: art23e, Basis: "notification_submitted_at + 1 month", SubmittedAt: f.ProgressReportSubmittedAt}
	switch {
	case !f.OngoingAtFinalDue:
		x.Status, x.HintKey = NotApplicable, stageHint("progress_report_none")
	case firstFinal.IsZero():
		x.Status, x.HintKey = NotYetKnown, stageHint("progress_report_unknown")
	default:
		x.Due, x.HintKey = firstFinal, stageHint("progress_report")
	}
	return x
}

func stageHint(name string) string { return "nis2.stage_hint." + name }

// assess sets the status and lateness of a stage with a due time.
func (x *Deadline) assess(now time.Time) {
	if x.Due.IsZero() {
		return
	}
	switch {
	case !x.SubmittedAt.IsZero() && x.SubmittedAt.After(x.Due):
		x.Status, x.LateBy = SubmittedLate, lateSeconds(x.SubmittedAt.Sub(x.Due))
	case !x.SubmittedAt.IsZero():
		x.Status = SubmittedOnTime
	case now.After(x.Due):
		x.Status, x.LateBy = Overdue, lateSeconds(now.Sub(x.Due))
	default:
		x.Status = Pending
	}
}

// lateSeconds rounds a positive duration up to whole seconds, so that any
// lateness shows.
func lateSeconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}

// AddMonths adds n calendar months to t in UTC, keeping the clock time and
// clamping the day to the last day of the target month (nis2.md §2.4): one
// month after 31 January 10:00 is 28 (or 29) February 10:00. The zero time
// stays zero.
func AddMonths(t time.Time, n int) time.Time {
	if t.IsZero() {
		return t
	}
	t = t.UTC()
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}

// clockMember is a member of ClockFacts by its JSON name: a time or a flag.
type clockMember struct {
	name string
	at   *time.Time
	flag *bool
}

// members lists the members of f in the order of the type.
func (f *ClockFacts) members() []clockMember {
	return []clockMember{
		{name: "aware_at", at: &f.AwareAt},
		{name: "trust_service_impact", flag: &f.TrustServiceImpact},
		{name: "early_warning_submitted_at", at: &f.EarlyWarningSubmittedAt},
		{name: "notification_submitted_at", at: &f.NotificationSubmittedAt},
		{name: "intermediate_requested_at", at: &f.IntermediateRequestedAt},
		{name: "intermediate_deadline", at: &f.IntermediateDeadline},
		{name: "intermediate_submitted_at", at: &f.IntermediateSubmittedAt},
		{name: "ongoing_at_final_due", flag: &f.OngoingAtFinalDue},
		{name: "progress_report_submitted_at", at: &f.ProgressReportSubmittedAt},
		{name: "handled_at", at: &f.HandledAt},
		{name: "final_report_submitted_at", at: &f.FinalReportSubmittedAt},
		{name: "csirt_received_early_warning_at", at: &f.CSIRTReceivedEarlyWarningAt},
		{name: "csirt_feedback_at", at: &f.CSIRTFeedbackAt},
		{name: "now", at: &f.Now},
	}
}

// utc returns f with every time in UTC.
func (f ClockFacts) utc() ClockFacts {
	for _, m := range f.members() {
		if m.at != nil && !m.at.IsZero() {
			*m.at = m.at.UTC()
		}
	}
	return f
}

// ParseClockFacts reads one JSON object of ClockFacts and validates it.
// Times are RFC 3339 strings with an offset ("2025-03-10T08:00:00Z",
// "2025-03-10T09:00:00+01:00"), stored in UTC; null or "" is absent.
// Problems are reported together as an errs.Invalid error whose fields are
// the JSON member names: every unknown member, every unreadable value and
// every inconsistency of Validate that does not involve an unreadable one.
func ParseClockFacts(r io.Reader) (ClockFacts, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxFactsBytes+1))
	if err != nil {
		return ClockFacts{}, fmt.Errorf("nis2: read clock facts: %w", err)
	}
	if len(b) > maxFactsBytes {
		return ClockFacts{}, &errs.Error{Kind: errs.TooLarge, Code: "err.nis2.too_large", Args: map[string]any{"max": "1 MiB"}}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return ClockFacts{}, errs.E(errs.Invalid, "err.nis2.empty")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return ClockFacts{}, errs.E(errs.Invalid, "err.nis2clock.not_object")
		}
		return ClockFacts{}, decodeError(err)
	}
	if obj == nil { // the JSON null
		return ClockFacts{}, errs.E(errs.Invalid, "err.nis2clock.not_object")
	}
	var f ClockFacts
	var v errs.Validator
	broken := map[string]bool{}
	known := map[string]bool{}
	for _, m := range f.members() {
		known[m.name] = true
		raw, ok := obj[m.name]
		switch {
		case !ok:
		case m.at != nil && !parseClockTime(raw, m.at):
			v.Add(m.name, "err.nis2clock.time", nil)
			broken[m.name] = true
		case m.flag != nil && json.Unmarshal(raw, m.flag) != nil:
			v.Add(m.name, "err.nis2.want_bool", nil)
			broken[m.name] = true
		}
	}
	for _, name := range slices.Sorted(maps.Keys(obj)) {
		if !known[name] {
			v.Add(name, "err.nis2.unknown_field", nil)
		}
	}
	// Checks that involve a value that could not be read would only
	// repeat its fault.
	if e, ok := errs.As(f.Validate()); ok {
		for _, fe := range e.Fields {
			if other, _ := fe.Args["other"].(string); !broken[fe.Field] && !broken[other] {
				v.Add(fe.Field, fe.Code, fe.Args)
			}
		}
	}
	if err := v.Err(); err != nil {
		return ClockFacts{}, err
	}
	return f.utc(), nil
}

// parseClockTime reads a JSON string holding an RFC 3339 time into *at, in
// UTC. null and "" leave *at zero.
func parseClockTime(raw json.RawMessage, at *time.Time) bool {
	var s *string
	if json.Unmarshal(raw, &s) != nil {
		return false
	}
	if s == nil || *s == "" {
		return true
	}
	t, err := time.Parse(time.RFC3339, *s)
	if err != nil {
		return false
	}
	*at = t.UTC()
	return true
}

// Validate reports every inconsistency of the facts at once, as an
// errs.Invalid error with one field error per problem, or nil: aware_at
// is required; nothing happens before aware_at; a time that counts from
// another needs it and cannot precede it; while the incident is ongoing at
// the final report's due time it cannot have been handled before then.
func (f ClockFacts) Validate() error {
	var v errs.Validator
	if f.AwareAt.IsZero() {
		v.Add("aware_at", "err.nis2clock.aware_required", nil)
	} else {
		aware := map[string]any{"aware": clockStamp(f.AwareAt)}
		for _, m := range f.members() {
			switch m.name {
			case "aware_at", "intermediate_deadline", "handled_at", "now":
				continue // checked against their own basis below, or free
			}
			if m.at != nil && !m.at.IsZero() && m.at.Before(f.AwareAt) {
				v.Add(m.name, "err.nis2clock.before_aware", aware)
			}
		}
	}
	for _, p := range []struct {
		name  string
		at    time.Time
		after string
		base  time.Time
		need  bool // at needs base
	}{
		{"intermediate_deadline", f.IntermediateDeadline, "intermediate_requested_at", f.IntermediateRequestedAt, true},
		{"intermediate_submitted_at", f.IntermediateSubmittedAt, "intermediate_requested_at", f.IntermediateRequestedAt, true},
		{"final_report_submitted_at", f.FinalReportSubmittedAt, "notification_submitted_at", f.NotificationSubmittedAt, true},
		{"progress_report_submitted_at", f.ProgressReportSubmittedAt, "notification_submitted_at", f.NotificationSubmittedAt, true},
		{"csirt_received_early_warning_at", f.CSIRTReceivedEarlyWarningAt, "early_warning_submitted_at", f.EarlyWarningSubmittedAt, false},
		{"csirt_feedback_at", f.CSIRTFeedbackAt, "csirt_received_early_warning_at", f.CSIRTReceivedEarlyWarningAt, true},
	} {
		switch {
		case p.at.IsZero() || v.Has(p.name):
		case p.base.IsZero() && p.need:
			v.Add(p.name, "err.nis2clock.requires", map[string]any{"other": p.after})
		case !p.base.IsZero() && p.at.Before(p.base):
			v.Add(p.name, "err.nis2clock.before", map[string]any{"other": p.after, "at": clockStamp(p.base)})
		}
	}
	if !f.IntermediateRequestedAt.IsZero() && f.IntermediateDeadline.IsZero() {
		v.Add("intermediate_deadline", "err.nis2clock.intermediate_deadline_required", nil)
	}
	f.validateOngoing(&v)
	return v.Err()
}

// validateOngoing checks the facts of Art. 23(4)(e).
func (f ClockFacts) validateOngoing(v *errs.Validator) {
	if !f.OngoingAtFinalDue {
		if !f.ProgressReportSubmittedAt.IsZero() && !v.Has("progress_report_submitted_at") {
			v.Add("progress_report_submitted_at", "err.nis2clock.progress_not_ongoing", nil)
		}
		return
	}
	if !f.FinalReportSubmittedAt.IsZero() && f.HandledAt.IsZero() && !v.Has("final_report_submitted_at") {
		v.Add("final_report_submitted_at", "err.nis2clock.requires", map[string]any{"other": "handled_at"})
	}
	switch h := f.HandledAt; {
	case h.IsZero():
	case !f.NotificationSubmittedAt.IsZero():
		if due := AddMonths(f.NotificationSubmittedAt, 1); h.Before(due) {
			v.Add("handled_at", "err.nis2clock.handled_before_final_due", map[string]any{"due": clockStamp(due)})
		}
	case !f.AwareAt.IsZero() && h.Before(f.AwareAt):
		v.Add("handled_at", "err.nis2clock.before_aware", map[string]any{"aware": clockStamp(f.AwareAt)})
	}
}

// clockStamp writes t for a message: RFC 3339 in UTC.
func clockStamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
