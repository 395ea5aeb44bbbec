package reporting

// The authority's inbox of incoming incident reports: every incident with
// its organisation's class and sectors, what is due next, the CSIRT's
// 24-hour feedback clock on the early warning (NIS2 Art. 23(5); nis2.md
// §2.2), who handles it, and internal notes the entity never sees.

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/belfry-cert/belfry/internal/audit"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/registry"
	"github.com/belfry-cert/belfry/internal/store"
)

// InboxFilter selects and orders the inbox. Empty members select all.
type InboxFilter struct {
	Overdue     bool   // a stage (or the CSIRT's feedback) is overdue
	Sector      string // a sector code of the organisation's registration
	Class       string // a registry class, or "unclassified"
	Severity    string // the latest severity reported
	CrossBorder bool   // the latest report says cross-border "yes"
	Assigned    string // "me", "none" or a user id
	Text        string // in the title, the reference or the organisation's name
	// Sort: due (default: overdue first, then the earliest due time),
	// reference, organisation or aware_at. Desc reverses it.
	Sort   string
	Desc   bool
	Offset int
	Limit  int
}

// InboxSorts are the orders of the inbox.
var InboxSorts = []string{"due", "reference", "organisation", "aware_at"}

// InboxUser is an authority user an incident can be assigned to.
type InboxUser struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// InboxItem is an incident as the authority's inbox lists it.
type InboxItem struct {
	ID                 int64     `json:"id"`
	Ref                string    `json:"reference"`
	OrgID              int64     `json:"organisation_id"`
	OrgName            string    `json:"organisation_name"`
	Kind               string    `json:"kind"`
	Title              string    `json:"title"`
	AwareAt            time.Time `json:"aware_at"`
	TrustServiceImpact bool      `json:"trust_service_impact"`
	Status             string    `json:"status"`
	UpdatedAt          time.Time `json:"updated_at"`
	// Class and Sectors are the organisation's registration ("" and
	// empty when it has none).
	Class   string   `json:"class"`
	Sectors []string `json:"sectors"`
	// Severity and CrossBorder are the latest values the reports gave.
	Severity    string `json:"severity"`
	CrossBorder string `json:"cross_border"`
	// AssessedCrossBorder is the analyst's own assessment (share.go), nil
	// until one is recorded; it prevails over the reports' answer.
	AssessedCrossBorder *bool `json:"assessed_cross_border,omitempty"`
	// NextStage is the entity's earliest unsubmitted stage with a due
	// time; NextDue its due time.
	NextStage Stage     `json:"next_stage,omitempty"`
	NextDue   time.Time `json:"next_due,omitzero"`
	// Overdue: a stage of the entity or the CSIRT's feedback is overdue.
	Overdue bool `json:"overdue"`
	// Feedback is the CSIRT's clock (Art. 23(5)); FeedbackAt when the
	// initial feedback was recorded.
	Feedback   nis2.Deadline `json:"csirt_feedback"`
	FeedbackAt *time.Time    `json:"feedback_at,omitempty"`
	Assignee   *InboxUser    `json:"assignee,omitempty"`

	inc     *Incident // with deadlines that count the feedback
	sortDue time.Time // earliest open due time, entity's or CSIRT's
}

// Note is an internal note of the authority on an incident.
type Note struct {
	ID         int64     `json:"id"`
	IncidentID int64     `json:"incident_id"`
	AuthorID   int64     `json:"author_id,omitempty"`
	AuthorName string    `json:"author_name"`
	Body       string    `json:"body"`
	CreatedAt  time.Time `json:"created_at"`
}

// NoteInput is a new note.
type NoteInput struct {
	Body string `json:"body"`
}

// AssignInput names the authority user who handles an incident; 0 or
// null unassigns it.
type AssignInput struct {
	UserID int64 `json:"user_id"`
}

const maxNote = 5000

// canTriage: the authority's CSIRT analysts, supervisors and
// administrators assign incidents and record the CSIRT's feedback.
func canTriage(p *auth.Principal) bool {
	return p.IsAuthority() && p.CanWrite() && p.HasAny(auth.RoleAdmin, auth.RoleAnalyst, auth.RoleSupervisor)
}

// CanTriage reports whether the signed-in person triages incidents.
func CanTriage(ctx context.Context) bool { return canTriage(auth.From(ctx)) }

// CanNote reports whether the signed-in person writes internal notes.
func CanNote(ctx context.Context) bool {
	p := auth.From(ctx)
	return p.IsAuthority() && p.CanWrite()
}

// inboxWhere builds the conditions done in SQL.
func inboxWhere(p *auth.Principal, f InboxFilter) (string, []any, error) {
	var conds []string
	var args []any
	if f.Sector != "" {
		conds, args = append(conds, "COALESCE(r.sectors, '') LIKE ? ESCAPE '\\'"), append(args, "% "+store.EscapeLike(f.Sector)+" %")
	}
	switch f.Class {
	case "":
	case "unclassified":
		conds = append(conds, "COALESCE(r.class, '') = ''")
	default:
		conds, args = append(conds, "r.class = ?"), append(args, f.Class)
	}
	switch f.Assigned {
	case "":
	case "me":
		conds, args = append(conds, "t.assignee_id = ?"), append(args, p.UserID)
	case "none":
		conds = append(conds, "t.assignee_id IS NULL")
	default:
		id, err := strconv.ParseInt(f.Assigned, 10, 64)
		if err != nil || id <= 0 {
			return "", nil, errs.Field("assigned", "err.inbox.assigned_invalid", nil)
		}
		conds, args = append(conds, "t.assignee_id = ?"), append(args, id)
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		like := "%" + store.EscapeLike(strings.ToLower(t)) + "%"
		conds, args = append(conds, `(lower(i.title) LIKE ? ESCAPE '\' OR lower(i.ref) LIKE ? ESCAPE '\' OR lower(o.name) LIKE ? ESCAPE '\')`), append(args, like, like, like)
	}
	if len(conds) == 0 {
		return "", nil, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, nil
}

// ValidateInboxFilter checks the values of f.
func ValidateInboxFilter(f InboxFilter) error {
	var v errs.Validator
	if f.Sector != "" && !slices.ContainsFunc(nis2.Sectors(), func(s nis2.Sector) bool { return s.Code == f.Sector }) {
		v.Add("sector", "err.inbox.sector_invalid", nil)
	}
	if f.Class != "" && f.Class != "unclassified" && !slices.Contains(registry.Classes, f.Class) {
		v.Add("class", "err.inbox.class_invalid", nil)
	}
	if f.Severity != "" && !slices.Contains(severities, f.Severity) {
		v.Add("severity", "err.inbox.severity_invalid", nil)
	}
	if f.Sort != "" && !slices.Contains(InboxSorts, f.Sort) {
		v.Add("sort", "err.inbox.sort_invalid", nil)
	}
	if a := f.Assigned; a != "" && a != "me" && a != "none" {
		if id, err := strconv.ParseInt(a, 10, 64); err != nil || id <= 0 {
			v.Add("assigned", "err.inbox.assigned_invalid", nil)
		}
	}
	return v.Err()
}

const selectInbox = `SELECT i.id, i.ref, i.org_id, o.name, i.kind, i.title, i.aware_at, i.trust_service_impact, i.status,
	i.handled_at, i.created_at, i.updated_at, COALESCE(r.class, ''), COALESCE(r.sectors, ''), t.assignee_id, COALESCE(u.name, ''), t.feedback_at,
	cb.cross_border
	FROM incidents i JOIN organisations o ON o.id = i.org_id LEFT JOIN registrations r ON r.org_id = i.org_id
	LEFT JOIN incident_triage t ON t.incident_id = i.id LEFT JOIN users u ON u.id = t.assignee_id
	LEFT JOIN incident_cross_border cb ON cb.incident_id = i.id`

// Inbox lists the incidents for the authority's staff. Filters that
// depend on the reports' content or the clocks are applied after reading,
// which is fine at the scale of a national CSIRT's intake.
func (s *Service) Inbox(ctx context.Context, f InboxFilter) ([]*InboxItem, int, error) {
	p := auth.From(ctx)
	if !p.IsAuthority() {
		return nil, 0, forbidden()
	}
	if err := ValidateInboxFilter(f); err != nil {
		return nil, 0, err
	}
	where, args, err := inboxWhere(p, f)
	if err != nil {
		return nil, 0, err
	}
	rows, err := s.db.Query(ctx, selectInbox+where, args...)
	if err != nil {
		return nil, 0, err
	}
	var items []*InboxItem
	byID := map[int64]*InboxItem{}
	for rows.Next() {
		it, err := scanInbox(rows)
		if err != nil {
			rows.Close()
			return nil, 0, err
		}
		items = append(items, it)
		byID[it.ID] = it
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if len(items) > 0 {
		// The submissions of the listed incidents, in one query.
		srows, err := s.db.Query(ctx, `SELECT s.incident_id, s.id, s.ref, s.stage, s.submitted_at, s.content FROM report_submissions s
			JOIN incidents i ON i.id = s.incident_id JOIN organisations o ON o.id = i.org_id LEFT JOIN registrations r ON r.org_id = i.org_id
			LEFT JOIN incident_triage t ON t.incident_id = i.id`+where+` ORDER BY s.id`, args...)
		if err != nil {
			return nil, 0, err
		}
		for srows.Next() {
			var incID int64
			var sub Submission
			var content string
			if err := srows.Scan(&incID, &sub.ID, &sub.Ref, &sub.Stage, &sub.SubmittedAt, &content); err != nil {
				srows.Close()
				return nil, 0, err
			}
			if it := byID[incID]; it != nil {
				sub.SubmittedAt, sub.Canonical = sub.SubmittedAt.UTC(), json.RawMessage(content)
				it.inc.Submissions = append(it.inc.Submissions, sub)
			}
		}
		srows.Close()
		if err := srows.Err(); err != nil {
			return nil, 0, err
		}
	}
	now := s.tick()
	out := items[:0]
	for _, it := range items {
		// A requested intermediate report has a clock too (requests.go).
		if it.inc.intermediate, err = intermediateRequest(ctx, s.db, it.inc.ID); err != nil {
			return nil, 0, err
		}
		if err := it.settle(now); err != nil {
			return nil, 0, err
		}
		switch {
		case f.Overdue && !it.Overdue,
			f.Severity != "" && it.Severity != f.Severity,
			f.CrossBorder && !it.IsCrossBorder():
			continue
		}
		out = append(out, it)
	}
	sortInbox(out, f.Sort, f.Desc)
	total := len(out)
	if f.Limit > 0 {
		out = out[min(f.Offset, total):min(f.Offset+f.Limit, total)]
	}
	return slices.Clip(out), total, nil
}

func scanInbox(row interface{ Scan(...any) error }) (*InboxItem, error) {
	in := &Incident{Submissions: []Submission{}, Drafts: []Draft{}}
	var handled, feedback sql.Null[time.Time]
	var assignee sql.Null[int64]
	var assessed sql.Null[bool]
	var sectors, assigneeName string
	it := &InboxItem{inc: in}
	err := row.Scan(&in.ID, &in.Ref, &in.OrgID, &in.OrgName, &in.Kind, &in.Title, &in.AwareAt, &in.TrustServiceImpact, &in.Status,
		&handled, &in.CreatedAt, &in.UpdatedAt, &it.Class, &sectors, &assignee, &assigneeName, &feedback, &assessed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound()
	}
	if err != nil {
		return nil, err
	}
	in.AwareAt, in.CreatedAt, in.UpdatedAt = in.AwareAt.UTC(), in.CreatedAt.UTC(), in.UpdatedAt.UTC()
	if handled.Valid {
		t := handled.V.UTC()
		in.HandledAt = &t
	}
	if feedback.Valid {
		t := feedback.V.UTC()
		it.FeedbackAt = &t
	}
	if assignee.Valid {
		it.Assignee = &InboxUser{ID: assignee.V, Name: assigneeName}
	}
	if assessed.Valid {
		it.AssessedCrossBorder = &assessed.V
	}
	it.ID, it.Ref, it.OrgID, it.OrgName, it.Kind, it.Title = in.ID, in.Ref, in.OrgID, in.OrgName, in.Kind, in.Title
	it.AwareAt, it.TrustServiceImpact, it.Status, it.UpdatedAt = in.AwareAt, in.TrustServiceImpact, in.Status, in.UpdatedAt
	it.Sectors = strings.Fields(sectors)
	return it, nil
}

// settle computes the clocks of the item, counting the CSIRT's feedback,
// and the latest severity and cross-border answers of its reports.
func (it *InboxItem) settle(now time.Time) error {
	in := it.inc
	f := in.clock()
	if it.FeedbackAt != nil {
		f.CSIRTFeedbackAt = *it.FeedbackAt
	}
	d, err := nis2.Due(f, now)
	if err != nil {
		return err
	}
	if fr, ok := d.Stage(FinalReport); ok && in.Status == StatusOngoing && f.FinalReportSubmittedAt.IsZero() && !fr.Due.IsZero() && !now.Before(fr.Due) {
		f.OngoingAtFinalDue = true
		if d, err = nis2.Due(f, now); err != nil {
			return err
		}
	}
	in.Deadlines = &d
	for _, x := range d.Stages {
		open := !x.Due.IsZero() && (x.Status == nis2.Pending || x.Status == nis2.Overdue)
		if !open {
			continue
		}
		if x.Status == nis2.Overdue {
			it.Overdue = true
		}
		if it.sortDue.IsZero() || x.Due.Before(it.sortDue) {
			it.sortDue = x.Due
		}
		if x.Stage != nis2.CSIRTFeedback && in.Submitted(x.Stage) == nil && (it.NextDue.IsZero() || x.Due.Before(it.NextDue)) {
			it.NextStage, it.NextDue = x.Stage, x.Due
		}
	}
	it.Feedback, _ = d.Stage(nis2.CSIRTFeedback)
	for _, sub := range in.Submissions { // oldest first: the latest answer wins
		var c struct {
			Severity    string `json:"severity"`
			CrossBorder string `json:"cross_border"`
		}
		if json.Unmarshal(sub.Canonical, &c) != nil {
			continue
		}
		if c.Severity != "" {
			it.Severity = c.Severity
		}
		if c.CrossBorder != "" {
			it.CrossBorder = c.CrossBorder
		}
	}
	return nil
}

// IsCrossBorder says whether the incident counts as cross-border: as the
// analyst assessed it, else as the latest report says.
func (it *InboxItem) IsCrossBorder() bool {
	if it.AssessedCrossBorder != nil {
		return *it.AssessedCrossBorder
	}
	return it.CrossBorder == "yes"
}

// sortInbox orders items; by due time, overdue ones come first, then the
// earliest open due time, then those with nothing due, newest first.
func sortInbox(items []*InboxItem, by string, desc bool) {
	slices.SortStableFunc(items, func(a, b *InboxItem) int {
		var c int
		switch by {
		case "reference":
			c = cmp.Compare(a.Ref, b.Ref)
		case "organisation":
			c = cmp.Or(cmp.Compare(strings.ToLower(a.OrgName), strings.ToLower(b.OrgName)), cmp.Compare(a.Ref, b.Ref))
		case "aware_at":
			c = cmp.Or(a.AwareAt.Compare(b.AwareAt), cmp.Compare(a.ID, b.ID))
		default:
			switch {
			case a.Overdue != b.Overdue:
				c = -1
				if b.Overdue {
					c = 1
				}
			case a.sortDue.IsZero() != b.sortDue.IsZero():
				c = -1
				if a.sortDue.IsZero() {
					c = 1
				}
			default:
				c = cmp.Or(a.sortDue.Compare(b.sortDue), cmp.Compare(b.ID, a.ID))
			}
		}
		if desc {
			c = -c
		}
		return c
	})
}

// InboxItem returns one incident as the inbox shows it.
func (s *Service) InboxItem(ctx context.Context, id int64) (*InboxItem, error) {
	return s.inboxItem(ctx, s.db, id)
}

func (s *Service) inboxItem(ctx context.Context, q store.Querier, id int64) (*InboxItem, error) {
	if !auth.From(ctx).IsAuthority() {
		return nil, forbidden()
	}
	it, err := scanInbox(q.QueryRow(ctx, selectInbox+` WHERE i.id = ?`, id))
	if err != nil {
		return nil, err
	}
	in, err := s.incident(ctx, q, id)
	if err != nil {
		return nil, err
	}
	it.inc.Submissions, it.inc.intermediate = in.Submissions, in.intermediate
	if err := it.settle(s.tick()); err != nil {
		return nil, err
	}
	return it, nil
}

// Assignees lists the authority users an incident can be assigned to.
func (s *Service) Assignees(ctx context.Context) ([]InboxUser, error) {
	if !auth.From(ctx).IsAuthority() {
		return nil, forbidden()
	}
	rows, err := s.db.Query(ctx, `SELECT u.id, u.name FROM users u JOIN organisations o ON o.id = u.org_id
		WHERE o.kind = 'authority' AND NOT u.disabled ORDER BY lower(u.name), u.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []InboxUser{}
	for rows.Next() {
		var u InboxUser
		if err := rows.Scan(&u.ID, &u.Name); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// triageTarget locks and returns the incident for a change by the authority, in tx.
func (s *Service) triageTarget(ctx context.Context, tx *store.Tx, id int64) (*InboxItem, error) {
	if err := tx.Lock(ctx, incidentLockBase+id); err != nil {
		return nil, err
	}
	return s.inboxItem(ctx, tx, id)
}

// setTriage writes the triage row of an incident.
func setTriage(ctx context.Context, tx *store.Tx, id int64, assignee, feedback any, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO incident_triage (incident_id, assignee_id, feedback_at, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (incident_id) DO UPDATE SET assignee_id = excluded.assignee_id, feedback_at = excluded.feedback_at,
		updated_at = excluded.updated_at`, id, assignee, feedback, now)
	return err
}

func triageValues(it *InboxItem) (assignee, feedback any) {
	if it.Assignee != nil {
		assignee = it.Assignee.ID
	}
	if it.FeedbackAt != nil {
		feedback = *it.FeedbackAt
	}
	return assignee, feedback
}

// Assign gives the incident to an authority user, or to no one when
// userID is 0 (the authority's analysts, supervisors and administrators).
func (s *Service) Assign(ctx context.Context, id, userID int64) (*InboxItem, error) {
	if !canTriage(auth.From(ctx)) {
		return nil, forbidden()
	}
	now := s.tick()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		it, err := s.triageTarget(ctx, tx, id)
		if err != nil {
			return err
		}
		var user *InboxUser
		if userID != 0 {
			u := InboxUser{ID: userID}
			var kind string
			var disabled bool
			err := tx.QueryRow(ctx, `SELECT u.name, o.kind, u.disabled FROM users u JOIN organisations o ON o.id = u.org_id WHERE u.id = ?`,
				userID).Scan(&u.Name, &kind, &disabled)
			if errors.Is(err, sql.ErrNoRows) || err == nil && (kind != "authority" || disabled) {
				return errs.Field("user_id", "err.inbox.assignee_invalid", nil)
			}
			if err != nil {
				return err
			}
			user = &u
		}
		before := it.Assignee
		it.Assignee = user
		assignee, feedback := triageValues(it)
		if err := setTriage(ctx, tx, id, assignee, feedback, now); err != nil {
			return err
		}
		return audit.Append(ctx, tx, now, audit.Change{Action: "incident.assign", ObjectType: "incident", ObjectID: itoa(id), OrgID: it.OrgID,
			Before: map[string]any{"assignee": before}, After: map[string]any{"assignee": user}})
	})
	if err != nil {
		return nil, err
	}
	return s.InboxItem(ctx, id)
}

// RecordFeedback records that the CSIRT gave its initial feedback on the
// early warning now (Art. 23(5)): the feedback clock then shows it
// submitted. It needs an early warning, and counts once.
func (s *Service) RecordFeedback(ctx context.Context, id int64) (*InboxItem, error) {
	p := auth.From(ctx)
	if !canTriage(p) {
		return nil, forbidden()
	}
	now := s.tick()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		it, err := s.triageTarget(ctx, tx, id)
		if err != nil {
			return err
		}
		if it.inc.First(EarlyWarning) == nil {
			return errs.E(errs.Conflict, "err.inbox.no_early_warning")
		}
		if it.FeedbackAt != nil {
			return errs.E(errs.Conflict, "err.inbox.feedback_recorded")
		}
		it.FeedbackAt = &now
		assignee, feedback := triageValues(it)
		if err := setTriage(ctx, tx, id, assignee, feedback, now); err != nil {
			return err
		}
		return audit.Append(ctx, tx, now, audit.Change{Action: "incident.csirt_feedback", ObjectType: "incident", ObjectID: itoa(id), OrgID: it.OrgID,
			After: map[string]any{"feedback_at": now}})
	})
	if err != nil {
		return nil, err
	}
	return s.InboxItem(ctx, id)
}

// AddNote adds an internal note of the authority to the incident. Notes
// are never shown to the entity.
func (s *Service) AddNote(ctx context.Context, id int64, body string) (*Note, error) {
	p := auth.From(ctx)
	if !p.IsAuthority() || !p.CanWrite() {
		return nil, forbidden()
	}
	body = strings.TrimSpace(strings.ReplaceAll(body, "\r\n", "\n"))
	switch {
	case body == "":
		return nil, errs.Field("body", "err.inbox.note_required", nil)
	case utf8.RuneCountInString(body) > maxNote:
		return nil, errs.Field("body", "err.too_long", map[string]any{"max": maxNote})
	}
	now := s.tick()
	n := &Note{IncidentID: id, AuthorID: p.UserID, AuthorName: p.Name, Body: body, CreatedAt: now}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		it, err := s.inboxItem(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO incident_notes (incident_id, author_id, body, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
			id, nullID(p.UserID), body, now).Scan(&n.ID); err != nil {
			return err
		}
		if p.UserID != 0 {
			if err := tx.QueryRow(ctx, `SELECT name FROM users WHERE id = ?`, p.UserID).Scan(&n.AuthorName); err != nil {
				return err
			}
		}
		return audit.Append(ctx, tx, now, audit.Change{Action: "incident.note", ObjectType: "incident", ObjectID: itoa(id), OrgID: it.OrgID,
			After: map[string]any{"note_id": n.ID, "body": body}})
	})
	if err != nil {
		return nil, err
	}
	return n, nil
}

// Notes lists the internal notes of the incident, newest first (the
// authority's staff only).
func (s *Service) Notes(ctx context.Context, id int64) ([]Note, error) {
	if !auth.From(ctx).IsAuthority() {
		return nil, forbidden()
	}
	if _, err := s.head(ctx, s.db, id); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT n.id, n.incident_id, COALESCE(n.author_id, 0), COALESCE(u.name, ''), n.body, n.created_at
		FROM incident_notes n LEFT JOIN users u ON u.id = n.author_id WHERE n.incident_id = ? ORDER BY n.id DESC`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Note{}
	for rows.Next() {
		var n Note
		if err := rows.Scan(&n.ID, &n.IncidentID, &n.AuthorID, &n.AuthorName, &n.Body, &n.CreatedAt); err != nil {
			return nil, err
		}
		n.CreatedAt = n.CreatedAt.UTC()
		out = append(out, n)
	}
	return out, rows.Err()
}
