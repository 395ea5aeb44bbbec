// Package reporting is the NIS2 incident reporting intake (Art. 23): an
// entity opens an incident and files its stages (early warning, incident
// notification, intermediate, final and progress reports); drafts are
// saved, submissions are immutable and each gets a receipt with the
// SHA-256 of its canonical content. Corrections are new submissions that
// reference the earlier one.
package reporting

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/identity"
	"github.com/belfry-cert/belfry/internal/nis2"
)

// Stage is one report of an incident (reporting-forms.md §1.2); the codes
// and their legal clocks are those of the nis2 package.
type Stage = nis2.Stage

// The stages of NIS2 Art. 23(4).
const (
	EarlyWarning         = nis2.EarlyWarning         // 23(4)(a)
	IncidentNotification = nis2.IncidentNotification // 23(4)(b)
	IntermediateReport   = nis2.IntermediateReport   // 23(4)(c), on request
	FinalReport          = nis2.FinalReport          // 23(4)(d)
	ProgressReport       = nis2.ProgressReport       // 23(4)(e)
)

// Stages lists the stages an entity files, in order.
var Stages = []Stage{EarlyWarning, IncidentNotification, IntermediateReport, FinalReport, ProgressReport}

// ValidStage reports whether s is a stage an entity files.
func ValidStage(s Stage) bool { return slices.Contains(Stages, s) }

// abbrev is the stage's part of a submission reference.
func abbrev(s Stage) string {
	return map[Stage]string{EarlyWarning: "EW", IncidentNotification: "IN", IntermediateReport: "IR", FinalReport: "FR", ProgressReport: "PR"}[s]
}

// Incident kinds: a regulated entity's mandatory notification (Art. 23) or
// a voluntary one (Art. 30).
const (
	KindMandatory = "mandatory"
	KindVoluntary = "voluntary"
)

// Incident statuses as the entity reports them.
const (
	StatusOngoing = "ongoing"
	StatusClosed  = "closed"
)

// Tristate answers where NIS2 asks "where applicable" (UX.md pattern 4).
var tristate = []string{"yes", "no", "unknown"}

// Severities are the NIS impact-severity values (reporting-forms.md §2.2).
var severities = []string{"red", "yellow", "green", "white"}

// RootCauses are the NIS nature-root-cause values (reporting-forms.md §2.2).
var rootCauses = []string{"system-failures", "natural-phenomena", "human-errors", "malicious-actions", "third-party-failures"}

// TLPs are the TLP 2.0 labels a report may carry (nis2.md §4).
var TLPs = []string{"clear", "green", "amber", "amber+strict", "red"}

// IndicatorTypes are the kinds of indicators of compromise.
var IndicatorTypes = []string{"ip", "domain", "url", "hash", "email", "file"}

// Person is a notifier or a contact.
type Person struct {
	Name  string `json:"name"`
	Title string `json:"title,omitempty"`
	Email string `json:"email"`
	Phone string `json:"phone,omitempty"`
}

// Indicator is an indicator of compromise with its TLP.
type Indicator struct {
	Type  string `json:"type"`
	Value string `json:"value"`
	TLP   string `json:"tlp,omitempty"`
}

// Quantities are the figures of an incident's impact.
type Quantities struct {
	UsersAffected   *int64   `json:"users_affected,omitempty"`
	SystemsAffected *int64   `json:"systems_affected,omitempty"`
	DurationMinutes *int64   `json:"duration_minutes,omitempty"`
	DirectLossEUR   *float64 `json:"direct_loss_eur,omitempty"`
}

// Content is what a stage reports (reporting-forms.md §1.3). Every stage
// uses the same structure; which fields are required depends on the stage
// (Art. 23(4)). It is encoded to JSON once, at submission, and those bytes
// are what the receipt's SHA-256 covers.
type Content struct {
	TLP               string     `json:"tlp"`
	Notifier          *Person    `json:"notifier,omitempty"`
	IncidentStatus    string     `json:"incident_status,omitempty"`
	Summary           string     `json:"summary,omitempty"`
	InternalReference string     `json:"internal_reference,omitempty"`
	PoliceReference   string     `json:"police_reference,omitempty"`
	DetectedAt        *time.Time `json:"detected_at,omitempty"`
	StartedAt         *time.Time `json:"started_at,omitempty"`
	ResolvedAt        *time.Time `json:"resolved_at,omitempty"`

	// Early warning (Art. 23(4)(a)), updated later.
	SuspectedMalicious string   `json:"suspected_malicious,omitempty"`
	CrossBorder        string   `json:"cross_border,omitempty"`
	AffectedCountries  []string `json:"affected_countries,omitempty"`
	AssistanceWanted   bool     `json:"assistance_wanted,omitempty"`

	// Incident notification (Art. 23(4)(b)).
	Severity             string      `json:"severity,omitempty"`
	ImpactAssessment     string      `json:"impact_assessment,omitempty"`
	Indicators           []Indicator `json:"indicators,omitempty"`
	Classification       string      `json:"classification,omitempty"` // RSIT taxonomy/type
	SignificanceCriteria []string    `json:"significance_criteria,omitempty"`
	Quantities           Quantities  `json:"quantities"`

	// Final report (Art. 23(4)(d)).
	DetailedDescription string `json:"detailed_description,omitempty"`
	RootCause           string `json:"root_cause,omitempty"`
	RootCauseText       string `json:"root_cause_text,omitempty"`
	Mitigations         string `json:"mitigations,omitempty"`
	CrossBorderImpact   string `json:"cross_border_impact,omitempty"`
	RecipientsInformed  *bool  `json:"recipients_informed,omitempty"`

	// Intermediate and progress reports: what changed.
	Update string `json:"update,omitempty"`
}

func text(s string, max int, field string, v *errs.Validator) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > max {
		v.Add(field, "err.too_long", map[string]any{"max": max})
	}
	return s
}

func oneOf(s string, allowed []string, field, code string, v *errs.Validator) string {
	s = strings.TrimSpace(s)
	if s != "" && !slices.Contains(allowed, s) {
		v.Add(field, code, nil)
	}
	return s
}

// normalise cleans c and reports what is malformed, whatever the stage.
func (c *Content) normalise(v *errs.Validator) {
	c.TLP = normTLP(c.TLP)
	if c.TLP == "" {
		c.TLP = "amber"
	}
	oneOf(c.TLP, TLPs, "tlp", "err.rep.tlp_invalid", v)
	if p := c.Notifier; p != nil {
		p.Name = text(p.Name, 200, "notifier.name", v)
		p.Title = text(p.Title, 200, "notifier.title", v)
		p.Email = strings.TrimSpace(p.Email)
		if p.Email != "" {
			if e, ok := identity.NormalizeEmail(p.Email); ok {
				p.Email = e
			} else {
				v.Add("notifier.email", "err.email.invalid", nil)
			}
		}
		p.Phone = strings.TrimSpace(p.Phone)
		if p.Phone != "" && !identity.ValidPhone(p.Phone) {
			v.Add("notifier.phone", "err.phone.invalid", nil)
		}
	}
	c.IncidentStatus = oneOf(c.IncidentStatus, []string{StatusOngoing, StatusClosed}, "incident_status", "err.rep.status_invalid", v)
	c.Summary = text(c.Summary, 2000, "summary", v)
	c.InternalReference = text(c.InternalReference, 100, "internal_reference", v)
	c.PoliceReference = text(c.PoliceReference, 100, "police_reference", v)
	c.SuspectedMalicious = oneOf(c.SuspectedMalicious, tristate, "suspected_malicious", "err.rep.tristate_invalid", v)
	c.CrossBorder = oneOf(c.CrossBorder, tristate, "cross_border", "err.rep.tristate_invalid", v)
	for i, cc := range c.AffectedCountries {
		c.AffectedCountries[i] = strings.ToUpper(strings.TrimSpace(cc))
		if len(c.AffectedCountries[i]) != 2 || strings.Trim(c.AffectedCountries[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			v.Add(field("affected_countries", i), "err.country.invalid", nil)
		}
	}
	c.Severity = oneOf(c.Severity, severities, "severity", "err.rep.severity_invalid", v)
	c.ImpactAssessment = text(c.ImpactAssessment, 20000, "impact_assessment", v)
	if len(c.Indicators) > 1000 {
		v.Add("indicators", "err.rep.too_many_indicators", map[string]any{"max": 1000})
	}
	for i := range c.Indicators {
		ind := &c.Indicators[i]
		ind.Type = oneOf(ind.Type, IndicatorTypes, field("indicators", i)+".type", "err.rep.indicator_type_invalid", v)
		if ind.Type == "" {
			v.Add(field("indicators", i)+".type", "err.rep.indicator_type_invalid", nil)
		}
		ind.Value = text(ind.Value, 2000, field("indicators", i)+".value", v)
		if ind.Value == "" {
			v.Add(field("indicators", i)+".value", "err.rep.indicator_value_required", nil)
		}
		ind.TLP = normTLP(ind.TLP)
		oneOf(ind.TLP, TLPs, field("indicators", i)+".tlp", "err.rep.tlp_invalid", v)
	}
	if len(c.SignificanceCriteria) > 50 {
		v.Add("significance_criteria", "err.rep.too_many_criteria", map[string]any{"max": 50})
	}
	for i, code := range c.SignificanceCriteria {
		c.SignificanceCriteria[i] = text(code, 40, field("significance_criteria", i), v)
	}
	c.Classification = strings.TrimSpace(c.Classification)
	if c.Classification != "" && !ValidRSIT(c.Classification) {
		v.Add("classification", "err.rep.classification_invalid", nil)
	}
	q := c.Quantities
	for name, n := range map[string]*int64{"quantities.users_affected": q.UsersAffected, "quantities.systems_affected": q.SystemsAffected, "quantities.duration_minutes": q.DurationMinutes} {
		if n != nil && *n < 0 {
			v.Add(name, "err.rep.negative", nil)
		}
	}
	if q.DirectLossEUR != nil && *q.DirectLossEUR < 0 {
		v.Add("quantities.direct_loss_eur", "err.rep.negative", nil)
	}
	c.DetailedDescription = text(c.DetailedDescription, 50000, "detailed_description", v)
	c.RootCause = oneOf(c.RootCause, rootCauses, "root_cause", "err.rep.root_cause_invalid", v)
	c.RootCauseText = text(c.RootCauseText, 20000, "root_cause_text", v)
	c.Mitigations = text(c.Mitigations, 20000, "mitigations", v)
	c.CrossBorderImpact = text(c.CrossBorderImpact, 20000, "cross_border_impact", v)
	c.Update = text(c.Update, 20000, "update", v)
	for _, t := range []*time.Time{c.DetectedAt, c.StartedAt, c.ResolvedAt} {
		if t != nil {
			*t = t.UTC().Truncate(time.Second)
		}
	}
}

// require reports what stage s needs and c lacks (Art. 23(4); "where
// applicable" answers accept "unknown").
func (c *Content) require(s Stage, v *errs.Validator) {
	need := func(ok bool, f, code string) {
		if !ok {
			v.Add(f, code, nil)
		}
	}
	need(c.IncidentStatus != "", "incident_status", "err.rep.status_required")
	if p := c.Notifier; p != nil {
		need(p.Name != "", "notifier.name", "err.rep.notifier_name_required")
		need(p.Email != "", "notifier.email", "err.email.required")
	}
	switch s {
	case EarlyWarning:
		need(c.Summary != "", "summary", "err.rep.summary_required")
		need(c.SuspectedMalicious != "", "suspected_malicious", "err.rep.suspected_malicious_required")
		need(c.CrossBorder != "", "cross_border", "err.rep.cross_border_required")
	case IncidentNotification:
		need(c.Summary != "", "summary", "err.rep.summary_required")
		need(c.SuspectedMalicious != "", "suspected_malicious", "err.rep.suspected_malicious_required")
		need(c.CrossBorder != "", "cross_border", "err.rep.cross_border_required")
		need(c.Severity != "", "severity", "err.rep.severity_required")
		need(c.ImpactAssessment != "", "impact_assessment", "err.rep.impact_required")
	case IntermediateReport, ProgressReport:
		need(c.Update != "", "update", "err.rep.update_required")
	case FinalReport:
		need(c.DetailedDescription != "", "detailed_description", "err.rep.description_required")
		need(c.RootCause != "", "root_cause", "err.rep.root_cause_required")
		need(c.Mitigations != "", "mitigations", "err.rep.mitigations_required")
		need(c.CrossBorder != "", "cross_border", "err.rep.cross_border_required")
		if c.CrossBorder == "yes" {
			need(c.CrossBorderImpact != "", "cross_border_impact", "err.rep.cross_border_impact_required")
			need(len(c.AffectedCountries) > 0, "affected_countries", "err.rep.countries_required")
		}
	}
}

// normTLP reads "TLP:AMBER+STRICT", "amber+strict" and the like.
func normTLP(s string) string {
	return strings.ToLower(strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "TLP:"))
}

func field(name string, i int) string { return name + "[" + itoa(int64(i)) + "]" }

// rsit is the ENISA Reference Security Incident Taxonomy, v1003
// (reporting-forms.md §2.1): taxonomy → types.
var rsit = map[string][]string{
	"abusive-content":              {"spam", "harmful-speech", "violence"},
	"malicious-code":               {"infected-system", "c2-server", "malware-distribution", "malware-configuration"},
	"information-gathering":        {"scanner", "sniffing", "social-engineering"},
	"intrusion-attempts":           {"ids-alert", "brute-force", "exploit"},
	"intrusions":                   {"privileged-account-compromise", "unprivileged-account-compromise", "application-compromise", "system-compromise", "burglary"},
	"availability":                 {"dos", "ddos", "misconfiguration", "sabotage", "outage"},
	"information-content-security": {"unauthorised-information-access", "unauthorised-information-modification", "data-loss", "data-leak"},
	"fraud":                        {"unauthorised-use-of-resources", "copyright", "masquerade", "phishing"},
	"vulnerable":                   {"weak-crypto", "ddos-amplifier", "potentially-unwanted-accessible", "information-disclosure", "vulnerable-system"},
	"other":                        {"other", "undetermined"},
	"test":                         {"test"},
}

// ValidRSIT reports whether s is "taxonomy/type" (or a taxonomy alone) of
// the RSIT.
func ValidRSIT(s string) bool {
	tax, typ, hasType := strings.Cut(s, "/")
	types, ok := rsit[tax]
	if !ok {
		return false
	}
	return !hasType || slices.Contains(types, typ)
}
