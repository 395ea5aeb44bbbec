package registry

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/audit"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/constituency"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/notify"
	"github.com/belfry-cert/belfry/internal/store"
)

// Mailer queues e-mail in a transaction; notify.Service implements it.
type Mailer interface {
	Enqueue(ctx context.Context, tx *store.Tx, m notify.Message) error
}

// Config holds the registry's settings.
type Config struct {
	// Options are the classification settings: size reading,
	// jurisdiction, research organisations in scope.
	Options nis2.Options
	// ReviewAfter is how long approved data may go unconfirmed before the
	// entity is reminded to check it (default one year).
	ReviewAfter time.Duration
	// RemindBefore is how long before a change deadline the reminder goes
	// out (default 3 days).
	RemindBefore time.Duration
	// BaseURL is the portal's public address for links in e-mail.
	BaseURL string
	// Authority is the authority's short name, for e-mail.
	Authority string
}

// Service is the registry.
type Service struct {
	db    *store.DB
	log   *slog.Logger
	cfg   Config
	mail  Mailer
	index *constituency.Index
	cat   *i18n.Catalog
	now   func() time.Time
}

// NewService returns the registry on db. index receives the approved
// constituency claims; mail may be nil.
func NewService(db *store.DB, log *slog.Logger, cfg Config, mail Mailer, index *constituency.Index, cat *i18n.Catalog) *Service {
	if cfg.ReviewAfter == 0 {
		cfg.ReviewAfter = 365 * 24 * time.Hour
	}
	if cfg.RemindBefore == 0 {
		cfg.RemindBefore = 3 * 24 * time.Hour
	}
	if cfg.Options.Jurisdiction == "" {
		cfg.Options.Jurisdiction = "BE"
	}
	return &Service{db: db, log: log, cfg: cfg, mail: mail, index: index, cat: cat, now: time.Now}
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Options returns the classification settings in force.
func (s *Service) Options() nis2.Options { return s.cfg.Options }

// Index returns the constituency index the service keeps current.
func (s *Service) Index() *constituency.Index { return s.index }

func (s *Service) tick() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func forbidden() error { return errs.E(errs.Forbidden, "err.forbidden") }
func notFound() error  { return errs.E(errs.NotFound, "err.reg.not_found") }

// canRead: the authority's staff read the whole registry (analysts need
// the contacts and networks); an organisation reads its own entry.
func canRead(p *auth.Principal, org int64) bool {
	return p != nil && (p.IsAuthority() || p.OrgID == org)
}

// canEdit: the organisation's administrators keep their registration
// current; the authority's administrators and supervisors may too.
func canEdit(p *auth.Principal, org int64) bool {
	if !p.CanWrite() {
		return false
	}
	return (p.OrgID == org && p.Has(auth.RoleOrgAdmin)) || canReview(p)
}

// canReview: the authority's administrators and NIS2 supervisors decide.
func canReview(p *auth.Principal) bool {
	return p.CanWrite() && p.IsAuthority() && p.HasAny(auth.RoleAdmin, auth.RoleSupervisor)
}

// CanEdit reports whether the principal in ctx may change org's
// registration.
func CanEdit(ctx context.Context, org int64) bool { return canEdit(auth.From(ctx), org) }

// CanReview reports whether the principal in ctx takes the authority's
// registry decisions.
func CanReview(ctx context.Context) bool { return canReview(auth.From(ctx)) }

// Get returns org's registration. An entity that has not started yet gets
// an empty draft (not stored).
func (s *Service) Get(ctx context.Context, org int64) (*Registration, error) {
	if !canRead(auth.From(ctx), org) {
		return nil, notFound()
	}
	r, err := regByOrg(ctx, s.db, org)
	if err != nil {
		return nil, err
	}
	if r.orgKind != "entity" {
		return nil, notFound()
	}
	s.derive(r.Registration)
	return r.Registration, nil
}

// derive fills the computed fields that are not stored, and gives empty
// lists as [] rather than null.
func (s *Service) derive(r *Registration) {
	if r.Sectors == nil {
		r.Sectors = []string{}
	}
	if r.Profile.Contacts == nil {
		r.Profile.Contacts = []Contact{}
	}
	if r.Profile.Facts.EntityTypes == nil {
		r.Profile.Facts.EntityTypes = []string{}
	}
	if r.ChangeStartedAt != nil && (r.Status == StatusDraft || r.Status == StatusChangesRequested) && r.ApprovedAt != nil {
		due := ChangeDeadline(r.Profile.Facts.EntityTypes, *r.ChangeStartedAt)
		r.ChangeDueAt = &due
	}
}

// classify recomputes the classification of r from its facts. Facts that
// are not complete yet leave it unclassified.
func (s *Service) classify(r *Registration) {
	r.Decision, r.computedClass, r.Size = nil, "", ""
	if d, err := nis2.Classify(r.Profile.Facts, s.cfg.Options); err == nil {
		r.Decision = &d
		r.computedClass = string(d.Class)
		r.Size = string(d.Size)
	}
	r.Class = r.computedClass
	if r.Override != nil {
		r.Class = r.Override.Class
	}
	var sectors []string
	for _, t := range r.Profile.Facts.EntityTypes {
		sec, _, _ := strings.Cut(t, ".")
		if sec != "" && !slices.Contains(sectors, sec) {
			sectors = append(sectors, sec)
		}
	}
	slices.Sort(sectors)
	r.Sectors = sectors
	var b strings.Builder
	for _, c := range r.Profile.Contacts {
		b.WriteString(" " + c.Name + " " + c.Email)
	}
	b.WriteString(" " + r.Profile.Website + " " + r.Profile.Address.City)
	r.search = strings.ToLower(b.String())
}

// Preview classifies p under the service's settings without storing it.
func (s *Service) Preview(p Profile) (*Decision, error) {
	d, err := nis2.Classify(p.Facts, s.cfg.Options)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// Update changes org's registration data with edit, which gets the current
// profile to modify, and saves it as a draft. A change to an approved or
// submitted registration starts the legal clock for notifying changes
// (NIS2 Art. 3(4), 27(3)).
func (s *Service) Update(ctx context.Context, org int64, edit func(p *Profile) error) (*Registration, error) {
	p := auth.From(ctx)
	if !canRead(p, org) {
		return nil, notFound()
	}
	if !canEdit(p, org) {
		return nil, forbidden()
	}
	return s.change(ctx, org, "registration.update", func(tx *store.Tx, r *regRow, now time.Time) (string, string, error) {
		if err := edit(&r.Profile); err != nil {
			return "", "", err
		}
		var v errs.Validator
		r.Profile.normalise(&v)
		if err := v.Err(); err != nil {
			return "", "", err
		}
		syncFacts(&r.Profile)
		if err := draftErrors(r.Profile.Facts.Validate()); err != nil {
			return "", "", prefixFields(err, "facts.")
		}
		switch r.Status {
		case StatusApproved, StatusRejected, StatusSubmitted:
			r.Status = StatusDraft
			if r.ChangeStartedAt == nil && r.ApprovedAt != nil {
				r.ChangeStartedAt = &now
			}
		}
		return "", "", nil
	})
}

// change runs fn on org's registration in one transaction: it loads the
// row (not found for organisations that are not entities), lets fn change
// it, reclassifies and saves it, records a version when fn names an event,
// and appends the audit record action with the states before and after.
func (s *Service) change(ctx context.Context, org int64, action string, fn func(tx *store.Tx, r *regRow, now time.Time) (event, note string, err error)) (*Registration, error) {
	var out *Registration
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		r, err := regByOrg(ctx, tx, org)
		if err != nil {
			return err
		}
		if r.orgKind != "entity" {
			return notFound()
		}
		before, err := auditView(r.Registration)
		if err != nil {
			return err
		}
		now := s.tick()
		if !r.exists {
			r.CreatedAt = now
		}
		event, note, err := fn(tx, r, now)
		if err != nil {
			return err
		}
		r.UpdatedAt = now
		s.classify(r.Registration)
		if err := saveReg(ctx, tx, r); err != nil {
			return err
		}
		if event != "" {
			if err := insertVersion(ctx, tx, r.Registration, event, note, auth.From(ctx).UserID, now); err != nil {
				return err
			}
		}
		after, err := auditView(r.Registration)
		if err != nil {
			return err
		}
		out = r.Registration
		return audit.Append(ctx, tx, now, audit.Change{Action: action, ObjectType: "registration",
			ObjectID: itoa(org), OrgID: org, Before: before, After: after})
	})
	if err != nil {
		return nil, err
	}
	s.derive(out)
	return out, nil
}

// syncFacts fills the classification's countries from the addresses when
// the facts leave them empty.
func syncFacts(p *Profile) {
	if p.Facts.Establishment == "" && p.Address.Country != "" {
		p.Facts.Establishment = p.Address.Country
	}
	if p.Facts.MainEstablishment == "" && p.MainEstablishment.Country != "" {
		p.Facts.MainEstablishment = p.MainEstablishment.Country
	}
}

// draftErrors keeps the faults of a draft's facts that are wrong, not
// merely missing: a draft is saved before every fact is known.
func draftErrors(err error) error {
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.Invalid {
		return err
	}
	var v errs.Validator
	for _, f := range e.Fields {
		if !strings.HasSuffix(f.Code, "required") {
			v.Add(f.Field, f.Code, f.Args)
		}
	}
	return v.Err()
}

// auditView is what the audit log records of a registration, encoded at
// once so that later changes to the registration's lists and maps cannot
// alter the "before" state.
func auditView(r *Registration) (json.RawMessage, error) { return json.Marshal(auditFields(r)) }

func auditFields(r *Registration) map[string]any {
	return map[string]any{"status": r.Status, "version": r.Version, "class": r.Class, "profile": r.Profile, "override": r.Override}
}

// prefixFields puts prefix before every field name of an Invalid error.
func prefixFields(err error, prefix string) error {
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.Invalid {
		return err
	}
	out := *e
	out.Fields = make([]errs.FieldError, len(e.Fields))
	for i, f := range e.Fields {
		f.Field = prefix + f.Field
		out.Fields[i] = f
	}
	return &out
}

// Submit sends the registration to the authority: every required part
// must be there and the facts must classify.
func (s *Service) Submit(ctx context.Context, org int64) (*Registration, error) {
	p := auth.From(ctx)
	if !canRead(p, org) {
		return nil, notFound()
	}
	if !canEdit(p, org) {
		return nil, forbidden()
	}
	return s.change(ctx, org, "registration.submit", func(tx *store.Tx, r *regRow, now time.Time) (string, string, error) {
		if r.exists && r.Status == StatusSubmitted {
			return "", "", errs.E(errs.Conflict, "err.reg.already_submitted")
		}
		var v errs.Validator
		r.Profile.normalise(&v)
		r.Profile.complete(&v)
		if _, err := nis2.Classify(r.Profile.Facts, s.cfg.Options); err != nil {
			e, ok := errs.As(prefixFields(err, "facts."))
			if !ok || e.Kind != errs.Invalid {
				return "", "", err
			}
			for _, f := range e.Fields {
				v.Add(f.Field, f.Code, f.Args)
			}
		}
		if err := v.Err(); err != nil {
			return "", "", err
		}
		r.Status, r.SubmittedAt, r.Version = StatusSubmitted, &now, r.Version+1
		return "submitted", "", nil
	})
}

// Review decisions the authority takes on a submitted registration.
const (
	ReviewApprove        = "approve"
	ReviewReject         = "reject"
	ReviewRequestChanges = "request_changes"
)

// ReviewInput is the authority's decision on a submission.
type ReviewInput struct {
	Decision string `json:"decision"`
	Note     string `json:"note"`
}

// Review approves or rejects a submitted registration, or asks the entity
// for corrections. A rejection or a request needs a note for the entity.
func (s *Service) Review(ctx context.Context, org int64, in ReviewInput) (*Registration, error) {
	p := auth.From(ctx)
	if !canRead(p, org) {
		return nil, notFound()
	}
	if !canReview(p) {
		return nil, forbidden()
	}
	var v errs.Validator
	in.Decision = strings.TrimSpace(in.Decision)
	in.Note = trimmed(in.Note, 4000, "note", &v)
	var status Status
	switch in.Decision {
	case ReviewApprove:
		status = StatusApproved
	case ReviewReject:
		status = StatusRejected
	case ReviewRequestChanges:
		status = StatusChangesRequested
	case "":
		v.Add("decision", "err.reg.decision_required", nil)
	default:
		v.Add("decision", "err.reg.decision_invalid", nil)
	}
	if status != StatusApproved && status != "" && in.Note == "" {
		v.Add("note", "err.reg.note_required", nil)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.change(ctx, org, "registration.review", func(tx *store.Tx, r *regRow, now time.Time) (string, string, error) {
		if !r.exists || r.Status != StatusSubmitted {
			return "", "", errs.E(errs.Conflict, "err.reg.not_submitted")
		}
		r.Status, r.ReviewNote, r.ReviewedAt, r.Version = status, in.Note, &now, r.Version+1
		switch status {
		case StatusApproved:
			r.ApprovedAt, r.ChangeStartedAt = &now, nil
		case StatusChangesRequested:
			r.ChangeStartedAt = &now
		}
		if _, err := tx.Exec(ctx, `UPDATE registrations SET reviewed_by = ?, reminded_at = NULL WHERE org_id = ?`, nullID(p.UserID), org); err != nil {
			return "", "", err
		}
		return string(status), in.Note, s.tellEntity(ctx, tx, r.Registration, "reg.mail.review."+in.Decision, map[string]any{"note": in.Note})
	})
}

// OverrideInput sets or clears the authority's designation decision.
type OverrideInput struct {
	Class         string `json:"class"` // "" clears the override
	Justification string `json:"justification"`
}

// SetOverride records the authority's designation decision replacing the
// computed class, with its justification (NIS2 Art. 2(2)(b)–(e), 3(1)(e)).
func (s *Service) SetOverride(ctx context.Context, org int64, in OverrideInput) (*Registration, error) {
	p := auth.From(ctx)
	if !canRead(p, org) {
		return nil, notFound()
	}
	if !canReview(p) {
		return nil, forbidden()
	}
	var v errs.Validator
	in.Class = strings.TrimSpace(in.Class)
	in.Justification = trimmed(in.Justification, 4000, "justification", &v)
	if in.Class != "" && !validClass(in.Class) {
		v.Add("class", "err.reg.class_invalid", nil)
	}
	if in.Justification == "" {
		v.Add("justification", "err.reg.justification_required", nil)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	event := "override"
	if in.Class == "" {
		event = "override_cleared"
	}
	return s.change(ctx, org, "registration."+event, func(tx *store.Tx, r *regRow, now time.Time) (string, string, error) {
		if in.Class == "" {
			if r.Override == nil {
				return "", "", errs.E(errs.Conflict, "err.reg.no_override")
			}
			r.Override = nil
		} else {
			r.Override = &Override{Class: in.Class, Justification: in.Justification, By: p.UserID, At: now}
		}
		r.Version++
		return event, in.Justification, nil
	})
}

// Versions lists the recorded versions of org's registration, newest first.
func (s *Service) Versions(ctx context.Context, org int64) ([]Version, error) {
	if _, err := s.Get(ctx, org); err != nil {
		return nil, err
	}
	return listVersions(ctx, s.db, org)
}

// List returns the registrations that match f. Only the authority's staff
// see the registry.
func (s *Service) List(ctx context.Context, f Filter) ([]*Registration, int, error) {
	if !auth.From(ctx).IsAuthority() {
		return nil, 0, forbidden()
	}
	list, total, err := listRegs(ctx, s.db, f)
	for _, r := range list {
		s.derive(r)
	}
	return list, total, err
}

// Stats counts registrations per sector and class.
type Stats struct {
	Classes []string       `json:"classes"`
	Rows    []StatsRow     `json:"sectors"`
	Totals  map[string]int `json:"totals"`
	Status  map[string]int `json:"statuses"`
	Total   int            `json:"total"`
}

// StatsRow is one sector's counts per class.
type StatsRow struct {
	Sector string         `json:"sector"`
	Counts map[string]int `json:"counts"`
	Total  int            `json:"total"`
}

// Statistics counts the registrations matching f per sector and class (an
// entity in two sectors counts in both rows, once in the totals).
func (s *Service) Statistics(ctx context.Context, f Filter) (*Stats, error) {
	if !auth.From(ctx).IsAuthority() {
		return nil, forbidden()
	}
	f.Offset, f.Limit = 0, 0
	where, args := f.where()
	rows, err := s.db.Query(ctx, `SELECT COALESCE(r.sectors, ''), COALESCE(r.class, ''), COALESCE(r.status, 'draft')
		FROM organisations o LEFT JOIN registrations r ON r.org_id = o.id`+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	st := &Stats{Classes: append(slices.Clone(Classes), "unclassified"), Rows: []StatsRow{}, Totals: map[string]int{}, Status: map[string]int{}}
	by := map[string]*StatsRow{}
	for rows.Next() {
		var sectors, class, status string
		if err := rows.Scan(&sectors, &class, &status); err != nil {
			return nil, err
		}
		if class == "" {
			class = "unclassified"
		}
		secs := strings.Fields(sectors)
		if len(secs) == 0 {
			secs = []string{"none"}
		}
		for _, sec := range secs {
			row := by[sec]
			if row == nil {
				row = &StatsRow{Sector: sec, Counts: map[string]int{}}
				by[sec] = row
			}
			row.Counts[class]++
			row.Total++
		}
		st.Totals[class]++
		st.Status[status]++
		st.Total++
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, sec := range nis2.Sectors() {
		if row := by[sec.Code]; row != nil {
			st.Rows = append(st.Rows, *row)
			delete(by, sec.Code)
		}
	}
	rest := make([]string, 0, len(by))
	for k := range by {
		rest = append(rest, k)
	}
	slices.Sort(rest)
	for _, k := range rest {
		st.Rows = append(st.Rows, *by[k])
	}
	return st, nil
}

// art27Types are the digital entity types that register with more data
// and have three months to notify changes (NIS2 Art. 27(1), 27(3)).
var art27Types = []string{"digital_infra.dns", "digital_infra.tld_registry", "registrar", "digital_infra.cloud",
	"digital_infra.data_centre", "digital_infra.cdn", "ict_b2b.msp", "ict_b2b.mssp", "digital_provider.marketplace",
	"digital_provider.search_engine", "digital_provider.social_network"}

// IsArt27 reports whether any of types is an Art. 27 digital entity type.
func IsArt27(types []string) bool {
	for _, t := range types {
		if slices.Contains(art27Types, t) {
			return true
		}
	}
	return false
}

// ChangeDeadline is when a change to registration data that began at from
// must have been notified: two weeks (NIS2 Art. 3(4)), or three months for
// Art. 27 entities (Art. 27(3)), months counted per nis2.md §2.4 (same day
// and time, clamped to the month's last day).
func ChangeDeadline(types []string, from time.Time) time.Time {
	if IsArt27(types) {
		return nis2.AddMonths(from, 3)
	}
	return from.Add(14 * 24 * time.Hour)
}
