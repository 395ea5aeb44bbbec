// Package voluntary is the intake of voluntary notifications (NIS2 Art. 30;
// Belgian NIS2 law Art. 38): citizens, organisations outside NIS2 and
// regulated entities acting on their own initiative report an incident, a
// cyber threat or a near miss without an account. A notification counts
// once the link sent to its e-mail address is followed; it then gets a
// reference (VOL-2026-000123) and a receipt with the SHA-256 of its
// content. The authority handles them in a queue of their own, after the
// mandatory notifications (Art. 30(2)).
package voluntary

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/identity"
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/reporting"
)

// Kinds of reporter.
const (
	ReporterCitizen      = "citizen"
	ReporterOrganisation = "organisation"     // not regulated by NIS2
	ReporterEntity       = "regulated_entity" // an essential or important entity, voluntarily
)

// ReporterKinds are the kinds of reporter, in the order the form lists them.
var ReporterKinds = []string{ReporterCitizen, ReporterOrganisation, ReporterEntity}

// Subjects are what Art. 30(1) lets anyone notify (reporting-forms.md §1.2).
var Subjects = []string{"incident", "cyber_threat", "near_miss"}

// Impacts are how badly the reporter was hit.
var Impacts = []string{"none", "limited", "significant"}

// Statuses of a notification: pending until confirmed by e-mail, then
// received, triaged and closed, or rejected (spam, abuse).
const (
	StatusPending  = "pending"
	StatusReceived = "received"
	StatusTriaged  = "triaged"
	StatusClosed   = "closed"
	StatusRejected = "rejected"
)

// Statuses lists the statuses a confirmed notification can have.
var Statuses = []string{StatusReceived, StatusTriaged, StatusClosed, StatusRejected}

// transitions are the status changes the authority makes.
var transitions = map[string][]string{
	StatusReceived: {StatusTriaged, StatusRejected},
	StatusTriaged:  {StatusClosed, StatusRejected},
}

// CanMove reports whether a notification in status from may move to to.
func CanMove(from, to string) bool { return slices.Contains(transitions[from], to) }

// Next lists the statuses a notification in status from may move to.
func Next(from string) []string { return transitions[from] }

// Limits of the free text.
const (
	maxDescription = 10000
	maxName        = 200
	maxPhone       = 40
	maxNote        = 2000
)

// Content is a notification as the reporter gave it. Its JSON encoding,
// stored byte for byte, is what the receipt's SHA-256 covers.
type Content struct {
	ReporterKind   string     `json:"reporter_kind"`
	Name           string     `json:"name,omitempty"`
	Organisation   string     `json:"organisation,omitempty"`
	Email          string     `json:"email"`
	Phone          string     `json:"phone,omitempty"`
	Language       string     `json:"language"`
	Subject        string     `json:"subject"`
	Description    string     `json:"description"`
	StartedAt      *time.Time `json:"started_at,omitempty"`
	Classification string     `json:"classification,omitempty"` // RSIT "taxonomy/type" or taxonomy
	Impact         string     `json:"impact"`
	Sector         string     `json:"sector,omitempty"` // NIS2 sector code
	ContactWanted  bool       `json:"contact_wanted"`
	TLP            string     `json:"tlp"`
	Consent        bool       `json:"consent"`
}

// TLPLabel is the content's TLP as people read it: "TLP:AMBER+STRICT".
func (c Content) TLPLabel() string { return "TLP:" + strings.ToUpper(c.TLP) }

// TLPClass is the style of the content's TLP label: "amber-strict".
func (c Content) TLPClass() string { return strings.ReplaceAll(c.TLP, "+", "-") }

// Check normalises c and adds a field error to v for each problem; now
// bounds the start time. The field names are those of the JSON body and
// of the form.
func (c *Content) Check(v *errs.Validator, now time.Time) {
	trim := func(s *string) { *s = strings.TrimSpace(strings.ReplaceAll(*s, "\r\n", "\n")) }
	for _, s := range []*string{&c.ReporterKind, &c.Name, &c.Organisation, &c.Email, &c.Phone, &c.Language, &c.Subject,
		&c.Description, &c.Classification, &c.Impact, &c.Sector, &c.TLP} {
		trim(s)
	}
	switch {
	case c.ReporterKind == "":
		v.Add("reporter_kind", "err.vol.reporter_kind_required", nil)
	case !slices.Contains(ReporterKinds, c.ReporterKind):
		v.Add("reporter_kind", "err.vol.reporter_kind_invalid", nil)
	}
	if c.Name == "" && (c.ReporterKind == ReporterOrganisation || c.ReporterKind == ReporterEntity) {
		v.Add("name", "err.vol.name_required", nil)
	}
	tooLong(v, "name", c.Name, maxName)
	if c.Organisation == "" && (c.ReporterKind == ReporterOrganisation || c.ReporterKind == ReporterEntity) {
		v.Add("organisation", "err.vol.organisation_required", nil)
	}
	tooLong(v, "organisation", c.Organisation, maxName)
	if c.ReporterKind == ReporterCitizen {
		c.Organisation = "" // a citizen reports for themselves
	}
	if c.Email == "" {
		v.Add("email", "err.vol.email_required", nil)
	} else if e, ok := identity.NormalizeEmail(c.Email); ok {
		c.Email = e
	} else {
		v.Add("email", "err.vol.email_invalid", nil)
	}
	c.Phone = strings.Join(strings.Fields(c.Phone), " ")
	if c.Phone != "" && strings.Trim(c.Phone, "+0123456789 ()./-") != "" {
		v.Add("phone", "err.vol.phone_invalid", nil)
	}
	tooLong(v, "phone", c.Phone, maxPhone)
	if c.Language == "" {
		c.Language = i18n.Default
	}
	if !i18n.Supported(c.Language) {
		v.Add("language", "err.vol.language_invalid", nil)
	}
	oneOf(v, "subject", c.Subject, Subjects, "err.vol.subject_required", "err.vol.subject_invalid")
	switch {
	case c.Description == "":
		v.Add("description", "err.vol.description_required", nil)
	default:
		tooLong(v, "description", c.Description, maxDescription)
	}
	if c.StartedAt != nil {
		t := c.StartedAt.UTC().Truncate(time.Minute)
		c.StartedAt = &t
		if t.After(now) {
			v.Add("started_at", "err.vol.started_future", nil)
		}
	}
	if c.Classification != "" && !reporting.ValidRSIT(c.Classification) {
		v.Add("classification", "err.vol.classification_invalid", nil)
	}
	oneOf(v, "impact", c.Impact, Impacts, "err.vol.impact_required", "err.vol.impact_invalid")
	if c.Sector != "" && !slices.ContainsFunc(nis2.Sectors(), func(s nis2.Sector) bool { return s.Code == c.Sector }) {
		v.Add("sector", "err.vol.sector_invalid", nil)
	}
	c.TLP = strings.ToLower(strings.TrimPrefix(strings.ToUpper(c.TLP), "TLP:"))
	if c.TLP == "" {
		c.TLP = "amber"
	}
	if !slices.Contains(reporting.TLPs, c.TLP) {
		v.Add("tlp", "err.vol.tlp_invalid", nil)
	}
	if !c.Consent {
		v.Add("consent", "err.vol.consent_required", nil)
	}
}

func tooLong(v *errs.Validator, field, s string, max int) {
	if utf8.RuneCountInString(s) > max {
		v.Add(field, "err.too_long", map[string]any{"max": max})
	}
}

func oneOf(v *errs.Validator, field, s string, allowed []string, required, invalid string) {
	switch {
	case s == "":
		v.Add(field, required, nil)
	case !slices.Contains(allowed, s):
		v.Add(field, invalid, nil)
	}
}

// Notification is a voluntary notification as the authority sees it.
type Notification struct {
	ID         int64      `json:"id"`
	Ref        string     `json:"reference"`
	Status     string     `json:"status"`
	Content    Content    `json:"content"`
	SHA256     string     `json:"sha256"`
	ReceivedAt *time.Time `json:"received_at"`
	StatusNote string     `json:"status_note,omitempty"`
	UpdatedAt  time.Time  `json:"updated_at"`
	UpdatedBy  string     `json:"updated_by,omitempty"`
}

// Receipt proves that a notification was received: its reference, the
// server time, and the SHA-256 of the content, which is included byte for
// byte.
type Receipt struct {
	Ref        string          `json:"reference"`
	ReceivedAt time.Time       `json:"received_at"`
	SHA256     string          `json:"sha256"`
	Content    json.RawMessage `json:"content"`
}

// Filter selects notifications of the authority's queue.
type Filter struct {
	Status, ReporterKind, Subject, Sector string
	From, To                              time.Time // received_at in [From, To)
	Offset, Limit                         int
}

// Validate checks the values of f.
func (f Filter) Validate() error {
	var v errs.Validator
	if f.Status != "" && !slices.Contains(Statuses, f.Status) {
		v.Add("status", "err.vol.status_invalid", nil)
	}
	if f.ReporterKind != "" && !slices.Contains(ReporterKinds, f.ReporterKind) {
		v.Add("kind", "err.vol.reporter_kind_invalid", nil)
	}
	if f.Subject != "" && !slices.Contains(Subjects, f.Subject) {
		v.Add("subject", "err.vol.subject_invalid", nil)
	}
	if f.Sector != "" && !slices.ContainsFunc(nis2.Sectors(), func(s nis2.Sector) bool { return s.Code == f.Sector }) {
		v.Add("sector", "err.vol.sector_invalid", nil)
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		v.Add("to", "err.vol.range_invalid", nil)
	}
	return v.Err()
}
