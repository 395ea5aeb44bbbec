// Package cases is the national CSIRT's case work (issue 6): cases made
// by hand, from NIS2 incident reports or from feed events, with their
// affected organisations, links, tasks whose due dates come from SLAs per
// template and severity, observables with their sightings in other cases
// and in the feeds, and a timeline of notes and changes. See docs/cases.md.
package cases

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/audit"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/reporting"
	"github.com/belfry-cert/belfry/internal/store"
)

// Statuses of a case, in lifecycle order: new (not yet triaged), open
// (worked on), waiting (on the organisation or a third party), resolved
// (work done, may reopen), closed.
var Statuses = []string{"new", "open", "waiting", "resolved", "closed"}

// TLPs are the TLP 2.0 labels of cases, observables and notes.
var TLPs = []string{"CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"}

// PAPs are the Permissible Actions Protocol labels.
var PAPs = []string{"CLEAR", "GREEN", "AMBER", "RED"}

// Severities are 1 (low) to 4 (critical), as TheHive and the RSIT use.
var Severities = []int{1, 2, 3, 4}

// SeverityName is the word of a severity, for message keys.
func SeverityName(s int) string {
	switch s {
	case 1:
		return "low"
	case 2:
		return "medium"
	case 3:
		return "high"
	case 4:
		return "critical"
	}
	return ""
}

// Service is the cases capability.
type Service struct {
	db      *store.DB
	log     *slog.Logger
	now     func() time.Time
	reports *reporting.Service
	cat     *i18n.Catalog
	// msgMail mirrors messages to organisations by e-mail (messages.go).
	msgMail *messageMail
	// att encrypts attachments at rest (attachments.go).
	att *attCipher
}

// SetCatalog gives the service the messages that template tasks' titles
// are written from, in the language of the person opening the case.
func (s *Service) SetCatalog(cat *i18n.Catalog) { s.cat = cat }

// NewService returns the service on db; reports (may be nil) reads the
// NIS2 incidents cases are made from.
func NewService(db *store.DB, log *slog.Logger, reports *reporting.Service) *Service {
	return &Service{db: db, log: log, now: time.Now, reports: reports}
}

// DB is the service's database, for the demonstration data.
func (s *Service) DB() *store.DB { return s.db }

// SetClock replaces the clock, for tests and the demonstration data.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

func (s *Service) tick() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func notFound() error  { return errs.E(errs.NotFound, "err.case.not_found") }
func forbidden() error { return errs.E(errs.Forbidden, "err.forbidden") }

// CanRead reports whether p reads cases: the authority's staff. Cases hold
// what the CSIRT knows of many organisations; no organisation reads them.
func CanRead(p *auth.Principal) bool { return p.IsAuthority() }

// CanWork reports whether p works cases: the authority's analysts, crisis
// managers and administrators.
func CanWork(p *auth.Principal) bool {
	return p.IsAuthority() && p.CanWrite() && p.HasAny(auth.RoleAdmin, auth.RoleAnalyst, auth.RoleCrisis)
}

// Case is a case with its affected organisations and links.
type Case struct {
	ID             int64      `json:"id"`
	Ref            string     `json:"ref"`
	Title          string     `json:"title"`
	Description    string     `json:"description"`
	Classification string     `json:"classification"`
	Severity       int        `json:"severity"`
	TLP            string     `json:"tlp"`
	PAP            string     `json:"pap"`
	Status         string     `json:"status"`
	Resolution     string     `json:"resolution"`
	Template       string     `json:"template"`
	Source         string     `json:"source"`
	AssigneeID     int64      `json:"assignee_id,omitempty"`
	Assignee       string     `json:"assignee,omitempty"`
	MergedInto     string     `json:"merged_into,omitempty"`
	Exercise       bool       `json:"exercise"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	ClosedAt       *time.Time `json:"closed_at,omitempty"`
	Orgs           []Org      `json:"organisations"`
	Links          []Link     `json:"links"`
}

// Org is an affected organisation.
type Org struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Link points at what the case is about.
type Link struct {
	Kind   string `json:"kind"` // incident, feed_event, advisory, case, voluntary
	Target string `json:"target"`
}

// LinkKinds are the kinds of links.
var LinkKinds = []string{"incident", "feed_event", "advisory", "case", "voluntary"}

const caseCols = `c.id, c.ref, c.title, c.description, c.classification, c.severity, c.tlp, c.pap, c.status, c.resolution,
	c.template, c.source, c.assignee_id, COALESCE(u.email, ''), COALESCE(m.ref, ''), c.exercise, c.created_at, c.updated_at, c.closed_at`

const caseFrom = ` FROM cases c LEFT JOIN users u ON u.id = c.assignee_id LEFT JOIN cases m ON m.id = c.merged_into`

func scanCase(row interface{ Scan(...any) error }) (*Case, error) {
	var c Case
	var assignee sql.Null[int64]
	var closed sql.Null[time.Time]
	if err := row.Scan(&c.ID, &c.Ref, &c.Title, &c.Description, &c.Classification, &c.Severity, &c.TLP, &c.PAP, &c.Status,
		&c.Resolution, &c.Template, &c.Source, &assignee, &c.Assignee, &c.MergedInto, &c.Exercise, &c.CreatedAt, &c.UpdatedAt, &closed); err != nil {
		return nil, err
	}
	c.AssigneeID = assignee.V
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	if closed.Valid {
		t := closed.V.UTC()
		c.ClosedAt = &t
	}
	return &c, nil
}

func (s *Service) get(ctx context.Context, q store.Querier, id int64) (*Case, error) {
	c, err := scanCase(q.QueryRow(ctx, `SELECT `+caseCols+caseFrom+` WHERE c.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound()
	}
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `SELECT o.id, o.name FROM case_orgs co JOIN organisations o ON o.id = co.org_id WHERE co.case_id = ? ORDER BY o.name`, id)
	if err != nil {
		return nil, err
	}
	c.Orgs = []Org{}
	for rows.Next() {
		var o Org
		if err := rows.Scan(&o.ID, &o.Name); err != nil {
			rows.Close()
			return nil, err
		}
		c.Orgs = append(c.Orgs, o)
	}
	rows.Close()
	rows, err = q.Query(ctx, `SELECT kind, target FROM case_links WHERE case_id = ? ORDER BY kind, target`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	c.Links = []Link{}
	for rows.Next() {
		var l Link
		if err := rows.Scan(&l.Kind, &l.Target); err != nil {
			return nil, err
		}
		c.Links = append(c.Links, l)
	}
	return c, rows.Err()
}

// readable checks that the reader of ctx reads cases and that case id
// exists: the lists of a case's parts answer NotFound for a case that
// does not, like the case itself.
func (s *Service) readable(ctx context.Context, id int64) error {
	if !CanRead(auth.From(ctx)) {
		return notFound()
	}
	var one int
	err := s.db.QueryRow(ctx, `SELECT 1 FROM cases WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound()
	}
	return err
}

// Get returns a case.
func (s *Service) Get(ctx context.Context, id int64) (*Case, error) {
	if !CanRead(auth.From(ctx)) {
		return nil, notFound()
	}
	return s.get(ctx, s.db, id)
}

// ByRef returns a case by its reference (CASE-2026-000123).
func (s *Service) ByRef(ctx context.Context, ref string) (*Case, error) {
	if !CanRead(auth.From(ctx)) {
		return nil, notFound()
	}
	var id int64
	err := s.db.QueryRow(ctx, `SELECT id FROM cases WHERE ref = ?`, strings.ToUpper(strings.TrimSpace(ref))).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound()
	}
	if err != nil {
		return nil, err
	}
	return s.get(ctx, s.db, id)
}

// Input is what a new case or a change of one says; nil fields of a change
// stay as they are.
type Input struct {
	Title          *string `json:"title,omitempty"`
	Description    *string `json:"description,omitempty"`
	Classification *string `json:"classification,omitempty"`
	Severity       *int    `json:"severity,omitempty"`
	TLP            *string `json:"tlp,omitempty"`
	PAP            *string `json:"pap,omitempty"`
	Status         *string `json:"status,omitempty"`
	Resolution     *string `json:"resolution,omitempty"`
	AssigneeID     *int64  `json:"assignee_id,omitempty"`
	Exercise       *bool   `json:"exercise,omitempty"`
	// Template (new cases only) prefills the tasks with their SLAs.
	Template string `json:"template,omitempty"`
	// Orgs are the affected organisations (replacing the list on change).
	Orgs *[]int64 `json:"organisations,omitempty"`
	// Locale (new cases only) is the language the template's task titles
	// are written in: the page's or the API request's; "" is the
	// person's own.
	Locale string `json:"-"`
}

// apply checks in and writes it over c.
func (in *Input) apply(c *Case, v *errs.Validator) {
	if in.Title != nil {
		c.Title = strings.TrimSpace(*in.Title)
	}
	v.Check(c.Title != "", "title", "err.case.title_missing")
	if in.Description != nil {
		c.Description = strings.TrimSpace(*in.Description)
	}
	if in.Classification != nil {
		c.Classification = strings.TrimSpace(*in.Classification)
	}
	v.Check(c.Classification == "" || reporting.ValidRSIT(c.Classification), "classification", "err.case.classification")
	if in.Severity != nil {
		c.Severity = *in.Severity
	}
	v.Check(slices.Contains(Severities, c.Severity), "severity", "err.case.severity")
	if in.TLP != nil {
		c.TLP = strings.ToUpper(strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(*in.TLP)), "TLP:"))
	}
	v.Check(slices.Contains(TLPs, c.TLP), "tlp", "err.case.tlp")
	if in.PAP != nil {
		c.PAP = strings.ToUpper(strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(*in.PAP)), "PAP:"))
	}
	v.Check(slices.Contains(PAPs, c.PAP), "pap", "err.case.pap")
	if in.Status != nil {
		c.Status = *in.Status
	}
	v.Check(slices.Contains(Statuses, c.Status), "status", "err.case.status")
	if in.Resolution != nil {
		c.Resolution = strings.TrimSpace(*in.Resolution)
	}
	if c.Status == "closed" || c.Status == "resolved" {
		v.Check(c.Resolution != "", "resolution", "err.case.resolution_missing")
	}
	if in.AssigneeID != nil {
		c.AssigneeID = *in.AssigneeID
	}
	if in.Exercise != nil {
		c.Exercise = *in.Exercise
	}
}

// checkPeople refuses an assignee who is not of the authority's staff and
// affected organisations that do not exist.
func checkPeople(ctx context.Context, q store.Querier, c *Case, orgs []int64, v *errs.Validator) error {
	if c.AssigneeID != 0 {
		var kind string
		err := q.QueryRow(ctx, `SELECT o.kind FROM users u JOIN organisations o ON o.id = u.org_id WHERE u.id = ?`, c.AssigneeID).Scan(&kind)
		if errors.Is(err, sql.ErrNoRows) || err == nil && kind != "authority" {
			v.Add("assignee_id", "err.case.assignee", nil)
		} else if err != nil {
			return err
		}
	}
	for _, o := range orgs {
		var kind string
		err := q.QueryRow(ctx, `SELECT kind FROM organisations WHERE id = ?`, o).Scan(&kind)
		if errors.Is(err, sql.ErrNoRows) || err == nil && kind == "authority" {
			v.Add("organisations", "err.case.org", map[string]any{"id": o})
		} else if err != nil {
			return err
		}
	}
	return nil
}

// Create opens a case by hand.
func (s *Service) Create(ctx context.Context, in Input) (*Case, error) {
	return s.create(ctx, in, "manual", nil, nil)
}

// create opens a case from in, with links, in one transaction; then, if
// not nil, adds to it in the same transaction.
func (s *Service) create(ctx context.Context, in Input, source string, links []Link, then func(tx *store.Tx, c *Case, now time.Time) error) (*Case, error) {
	p := auth.From(ctx)
	if !CanWork(p) {
		return nil, forbidden()
	}
	now := s.tick()
	c := &Case{Severity: 2, TLP: "AMBER", PAP: "AMBER", Status: "new", Source: source}
	var tmpl *Template
	if in.Template != "" {
		tmpl = TemplateByName(in.Template)
		if tmpl == nil {
			return nil, errs.Field("template", "err.case.template", nil)
		}
		c.Template, c.Classification, c.Severity = tmpl.Name, tmpl.Classification, tmpl.Severity
	}
	var v errs.Validator
	in.apply(c, &v)
	var orgs []int64
	if in.Orgs != nil {
		orgs = compact(*in.Orgs)
	}
	var id int64
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := checkPeople(ctx, tx, c, orgs, &v); err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		year := now.Year()
		var seq int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM cases WHERE year = ?`, year).Scan(&seq); err != nil {
			return err
		}
		c.Ref = fmt.Sprintf("CASE-%d-%06d", year, seq)
		if err := tx.QueryRow(ctx, `INSERT INTO cases (ref, year, seq, title, description, classification, severity, tlp, pap, status,
			resolution, template, source, assignee_id, exercise, created_by, created_at, updated_at) VALUES
			(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			c.Ref, year, seq, c.Title, c.Description, c.Classification, c.Severity, c.TLP, c.PAP, c.Status, c.Resolution, c.Template,
			c.Source, nullID(c.AssigneeID), c.Exercise, nullID(p.UserID), now, now).Scan(&id); err != nil {
			return err
		}
		c.ID = id
		for _, o := range orgs {
			if _, err := tx.Exec(ctx, `INSERT INTO case_orgs (case_id, org_id) VALUES (?, ?)`, id, o); err != nil {
				return err
			}
		}
		for _, l := range links {
			if err := s.addLink(ctx, tx, c, l, now); err != nil {
				return err
			}
		}
		if tmpl != nil {
			for _, t := range tmpl.Tasks {
				due := now.Add(t.Due(c.Severity))
				if _, err := tx.Exec(ctx, `INSERT INTO case_tasks (case_id, title, status, due_at, sla, created_at) VALUES (?, ?, 'open', ?, ?, ?)`,
					id, s.text(in.Locale, p, t.Key), due, t.SLA(c.Severity), now); err != nil {
					return err
				}
			}
		}
		if err := s.event(ctx, tx, now, c, "create", "", fmt.Sprintf("%s (%s)", c.Title, source), nil,
			map[string]any{"ref": c.Ref, "title": c.Title, "severity": c.Severity, "tlp": c.TLP, "source": source, "template": c.Template}); err != nil {
			return err
		}
		if then != nil {
			return then(tx, c, now)
		}
		return nil
	})
	if store.IsUniqueViolation(err) {
		return s.create(ctx, in, source, links, then) // another instance took the number
	}
	if err != nil {
		return nil, err
	}
	return s.get(ctx, s.db, id)
}

// text is a message in locale l, or else in p's language (English
// without one).
func (s *Service) text(l string, p *auth.Principal, key string) string {
	if s.cat == nil {
		return key
	}
	if !i18n.Supported(l) {
		l = "en"
		if p != nil && i18n.Supported(p.Locale) {
			l = p.Locale
		}
	}
	return s.cat.T(l, key, nil)
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func compact(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// Update changes a case. A merged case does not change.
func (s *Service) Update(ctx context.Context, id int64, in Input) (*Case, error) {
	p := auth.From(ctx)
	if !CanWork(p) {
		return nil, forbidden()
	}
	now := s.tick()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := s.get(ctx, tx, id)
		if err != nil {
			return err
		}
		if c.MergedInto != "" {
			return errs.E(errs.Conflict, "err.case.merged")
		}
		before := *c
		var v errs.Validator
		in.apply(c, &v)
		var orgs []int64
		if in.Orgs != nil {
			orgs = compact(*in.Orgs)
		}
		if err := checkPeople(ctx, tx, c, orgs, &v); err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		closed := any(nil)
		if c.Status == "closed" {
			closed = now
			if before.ClosedAt != nil {
				closed = *before.ClosedAt
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE cases SET title = ?, description = ?, classification = ?, severity = ?, tlp = ?, pap = ?,
			status = ?, resolution = ?, assignee_id = ?, exercise = ?, updated_at = ?, closed_at = ? WHERE id = ?`,
			c.Title, c.Description, c.Classification, c.Severity, c.TLP, c.PAP, c.Status, c.Resolution, nullID(c.AssigneeID),
			c.Exercise, now, closed, id); err != nil {
			return err
		}
		if in.Orgs != nil {
			if _, err := tx.Exec(ctx, `DELETE FROM case_orgs WHERE case_id = ?`, id); err != nil {
				return err
			}
			for _, o := range orgs {
				if _, err := tx.Exec(ctx, `INSERT INTO case_orgs (case_id, org_id) VALUES (?, ?)`, id, o); err != nil {
					return err
				}
			}
		}
		return s.event(ctx, tx, now, c, "update", "", changes(&before, c), summaryOf(&before), summaryOf(c))
	})
	if err != nil {
		return nil, err
	}
	return s.get(ctx, s.db, id)
}

func summaryOf(c *Case) map[string]any {
	return map[string]any{"title": c.Title, "status": c.Status, "severity": c.Severity, "tlp": c.TLP, "pap": c.PAP,
		"classification": c.Classification, "assignee_id": c.AssigneeID, "resolution": c.Resolution}
}

// changes says in one line what a change did, for the timeline.
func changes(a, b *Case) string {
	var out []string
	add := func(name string, x, y any) {
		if fmt.Sprint(x) != fmt.Sprint(y) {
			out = append(out, fmt.Sprintf("%s: %v → %v", name, x, y))
		}
	}
	add("status", a.Status, b.Status)
	add("severity", a.Severity, b.Severity)
	add("tlp", a.TLP, b.TLP)
	add("pap", a.PAP, b.PAP)
	add("classification", a.Classification, b.Classification)
	add("assignee", a.AssigneeID, b.AssigneeID)
	add("title", a.Title, b.Title)
	if a.Description != b.Description {
		out = append(out, "description")
	}
	if a.Resolution != b.Resolution {
		out = append(out, "resolution")
	}
	return strings.Join(out, "; ")
}

// event adds a timeline entry and the audit record of a change.
func (s *Service) event(ctx context.Context, tx *store.Tx, now time.Time, c *Case, kind, tlp, body string, before, after any) error {
	p := auth.From(ctx)
	var actor any
	label := "system"
	if p != nil && p.UserID != 0 {
		actor, label = p.UserID, p.Email
	}
	if _, err := tx.Exec(ctx, `INSERT INTO case_events (case_id, at, actor_id, actor_label, kind, tlp, body) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.ID, now, actor, label, kind, tlp, body); err != nil {
		return err
	}
	if kind == "note" {
		after = map[string]any{"note": len(body)}
	}
	return audit.Append(ctx, tx, now, audit.Change{Action: "case." + kind, ObjectType: "case", ObjectID: itoa(c.ID), Before: before, After: after})
}

// AddLink links a case to an incident, a feed event, an advisory, a
// voluntary notification or another case.
func (s *Service) AddLink(ctx context.Context, id int64, l Link) (*Case, error) {
	if !CanWork(auth.From(ctx)) {
		return nil, forbidden()
	}
	now := s.tick()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := s.get(ctx, tx, id)
		if err != nil {
			return err
		}
		return s.addLink(ctx, tx, c, l, now)
	})
	if err != nil {
		return nil, err
	}
	return s.get(ctx, s.db, id)
}

func (s *Service) addLink(ctx context.Context, tx *store.Tx, c *Case, l Link, now time.Time) error {
	l.Target = strings.TrimSpace(l.Target)
	if !slices.Contains(LinkKinds, l.Kind) {
		return errs.Field("kind", "err.case.link_kind", nil)
	}
	if l.Target == "" {
		return errs.Field("target", "err.case.link_target", nil)
	}
	var exists int
	var q string
	switch l.Kind {
	case "incident":
		q = `SELECT COUNT(*) FROM incidents WHERE ref = ?`
	case "feed_event":
		q = `SELECT COUNT(*) FROM feed_events WHERE CAST(id AS TEXT) = ?`
	case "advisory":
		q = `SELECT COUNT(*) FROM advisories WHERE tracking_id = ?`
	case "voluntary":
		q = `SELECT COUNT(*) FROM voluntary_notifications WHERE ref = ?`
	case "case":
		l.Target = strings.ToUpper(l.Target)
		if l.Target == c.Ref {
			return errs.Field("target", "err.case.link_self", nil)
		}
		q = `SELECT COUNT(*) FROM cases WHERE ref = ?`
	}
	if err := tx.QueryRow(ctx, q, l.Target).Scan(&exists); err != nil {
		return err
	}
	if exists == 0 {
		return errs.Field("target", "err.case.link_unknown", map[string]any{"target": l.Target})
	}
	res, err := tx.Exec(ctx, `INSERT INTO case_links (case_id, kind, target, created_by, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (case_id, kind, target) DO NOTHING`, c.ID, l.Kind, l.Target, nullID(auth.From(ctx).UserID), now)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE cases SET updated_at = ? WHERE id = ?`, now, c.ID); err != nil {
		return err
	}
	return s.event(ctx, tx, now, c, "link", "", l.Kind+" "+l.Target, nil, map[string]any{"kind": l.Kind, "target": l.Target})
}

// FromIncident opens a case from a NIS2 incident report: its title, the
// reporting organisation as affected, a link to the incident, and the
// template the analyst chose.
func (s *Service) FromIncident(ctx context.Context, incidentID int64, in Input) (*Case, error) {
	if !CanWork(auth.From(ctx)) {
		return nil, forbidden()
	}
	if s.reports == nil {
		return nil, errs.E(errs.Unsupported, "err.case.no_reports")
	}
	inc, err := s.reports.Incident(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	if in.Title == nil {
		t := inc.Title + " (" + inc.Ref + ")"
		in.Title = &t
	}
	if in.Orgs == nil {
		in.Orgs = &[]int64{inc.OrgID}
	}
	if in.Severity == nil && in.Template == "" {
		sev := 3
		in.Severity = &sev
	}
	return s.create(ctx, in, "report", []Link{{Kind: "incident", Target: inc.Ref}}, nil)
}

// FromFeedEvents opens a case from feed events: their organisations as
// affected, a link to each event, and their source addresses as
// observables.
func (s *Service) FromFeedEvents(ctx context.Context, eventIDs []int64, in Input) (*Case, error) {
	if !CanWork(auth.From(ctx)) {
		return nil, forbidden()
	}
	eventIDs = compact(eventIDs)
	if len(eventIDs) == 0 || len(eventIDs) > 500 {
		return nil, errs.Field("events", "err.case.events", nil)
	}
	var links []Link
	orgs := map[int64]bool{}
	var ips []string
	for _, e := range eventIDs {
		var org sql.Null[int64]
		var ip, feed string
		err := s.db.QueryRow(ctx, `SELECT org_id, COALESCE(src_ip, ''), feed FROM feed_events WHERE id = ?`, e).Scan(&org, &ip, &feed)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.Field("events", "err.case.link_unknown", map[string]any{"target": itoa(e)})
		}
		if err != nil {
			return nil, err
		}
		links = append(links, Link{Kind: "feed_event", Target: itoa(e)})
		if org.Valid {
			orgs[org.V] = true
		}
		if ip != "" && !slices.Contains(ips, ip) {
			ips = append(ips, ip)
		}
		if in.Title == nil {
			t := "Feed: " + feed
			in.Title = &t
		}
	}
	if in.Orgs == nil {
		var ids []int64
		for o := range orgs {
			ids = append(ids, o)
		}
		in.Orgs = &ids
	}
	return s.create(ctx, in, "feed", links, func(tx *store.Tx, c *Case, now time.Time) error {
		for _, ip := range ips {
			if err := s.addObservable(ctx, tx, c, ObservableInput{Type: "ip", Value: ip, TLP: c.TLP, Sighted: true}, now); err != nil {
				return err
			}
		}
		return nil
	})
}
