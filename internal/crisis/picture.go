package crisis

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/store"
)

func actorID(ctx context.Context) int64 {
	if p := auth.From(ctx); p != nil {
		return p.UserID
	}
	return 0
}

// Picture is the shared situation picture: affected sectors and
// organisations, and the linked cases and NIS2 incidents.
type Picture struct {
	Sectors []string      `json:"sectors"`
	Orgs    []AffectedOrg `json:"organisations"`
	Links   []Link        `json:"links"`
}

// AffectedOrg is an affected organisation: one of the platform, or named.
type AffectedOrg struct {
	ID    int64  `json:"id"`
	OrgID int64  `json:"organisation_id,omitempty"`
	Name  string `json:"name"`
	Note  string `json:"note,omitempty"`
}

// Link points at a case or a NIS2 incident by its reference.
type Link struct {
	Kind   string `json:"kind"` // case, incident
	Target string `json:"target"`
}

// LinkKinds are the kinds of links.
var LinkKinds = []string{"case", "incident"}

// Picture returns a crisis's situation picture.
func (s *Service) Picture(ctx context.Context, id int64) (*Picture, error) {
	if _, err := s.need(ctx, s.db, id, AccessRead); err != nil {
		return nil, err
	}
	return picture(ctx, s.db, id)
}

func picture(ctx context.Context, q store.Querier, id int64) (*Picture, error) {
	pic := &Picture{Sectors: []string{}, Orgs: []AffectedOrg{}, Links: []Link{}}
	rows, err := q.Query(ctx, `SELECT sector FROM crisis_sectors WHERE crisis_id = ? ORDER BY sector`, id)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var sec string
		if err := rows.Scan(&sec); err != nil {
			rows.Close()
			return nil, err
		}
		pic.Sectors = append(pic.Sectors, sec)
	}
	rows.Close()
	rows, err = q.Query(ctx, `SELECT id, COALESCE(org_id, 0), name, note FROM crisis_orgs WHERE crisis_id = ? ORDER BY name, id`, id)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var o AffectedOrg
		if err := rows.Scan(&o.ID, &o.OrgID, &o.Name, &o.Note); err != nil {
			rows.Close()
			return nil, err
		}
		pic.Orgs = append(pic.Orgs, o)
	}
	rows.Close()
	rows, err = q.Query(ctx, `SELECT kind, target FROM crisis_links WHERE crisis_id = ? ORDER BY kind, target`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var l Link
		if err := rows.Scan(&l.Kind, &l.Target); err != nil {
			return nil, err
		}
		pic.Links = append(pic.Links, l)
	}
	return pic, rows.Err()
}

// SetSectors replaces the affected sectors (NIS2 sector codes).
func (s *Service) SetSectors(ctx context.Context, id int64, sectors []string) (*Picture, error) {
	var codes []string
	var v errs.Validator
	for _, sec := range sectors {
		sec = strings.TrimSpace(sec)
		if !slices.ContainsFunc(nis2.Sectors(), func(x nis2.Sector) bool { return x.Code == sec }) {
			v.Add("sectors", "err.crisis.sector", map[string]any{"sector": sec})
		} else if !slices.Contains(codes, sec) {
			codes = append(codes, sec)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := s.tick()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := s.need(ctx, tx, id, AccessContribute)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM crisis_sectors WHERE crisis_id = ?`, id); err != nil {
			return err
		}
		for _, sec := range codes {
			if _, err := tx.Exec(ctx, `INSERT INTO crisis_sectors (crisis_id, sector) VALUES (?, ?)`, id, sec); err != nil {
				return err
			}
		}
		return s.event(ctx, tx, now, c, "sectors", strings.Join(codes, ", "), nil, map[string]any{"sectors": codes})
	})
	if err != nil {
		return nil, err
	}
	return picture(ctx, s.db, id)
}

// AffectedOrgInput adds an affected organisation: of the platform by
// OrgID, or by Name.
type AffectedOrgInput struct {
	OrgID int64  `json:"organisation_id"`
	Name  string `json:"name"`
	Note  string `json:"note"`
}

// AddOrg adds an affected organisation.
func (s *Service) AddOrg(ctx context.Context, id int64, in AffectedOrgInput) (*Picture, error) {
	now := s.tick()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := s.need(ctx, tx, id, AccessContribute)
		if err != nil {
			return err
		}
		name := strings.TrimSpace(in.Name)
		if in.OrgID != 0 {
			var kind string
			err := tx.QueryRow(ctx, `SELECT name, kind FROM organisations WHERE id = ?`, in.OrgID).Scan(&name, &kind)
			if errors.Is(err, sql.ErrNoRows) || err == nil && kind == "authority" {
				return errs.Field("organisation_id", "err.crisis.org", nil)
			} else if err != nil {
				return err
			}
		}
		if name == "" {
			return errs.Field("name", "err.crisis.name_missing", nil)
		}
		_, err = tx.Exec(ctx, `INSERT INTO crisis_orgs (crisis_id, org_id, name, note) VALUES (?, ?, ?, ?)`, id, nullID(in.OrgID), name, strings.TrimSpace(in.Note))
		if store.IsUniqueViolation(err) {
			return errs.E(errs.Conflict, "err.crisis.org_exists")
		}
		if err != nil {
			return err
		}
		return s.event(ctx, tx, now, c, "organisation.add", name, nil, map[string]any{"organisation_id": in.OrgID, "name": name})
	})
	if err != nil {
		return nil, err
	}
	return picture(ctx, s.db, id)
}

// RemoveOrg removes an affected organisation (by the id of its entry).
func (s *Service) RemoveOrg(ctx context.Context, id, entry int64) (*Picture, error) {
	now := s.tick()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := s.need(ctx, tx, id, AccessContribute)
		if err != nil {
			return err
		}
		var name string
		err = tx.QueryRow(ctx, `DELETE FROM crisis_orgs WHERE crisis_id = ? AND id = ? RETURNING name`, id, entry).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(errs.NotFound, "err.not_found")
		}
		if err != nil {
			return err
		}
		return s.event(ctx, tx, now, c, "organisation.remove", name, map[string]any{"name": name}, nil)
	})
	if err != nil {
		return nil, err
	}
	return picture(ctx, s.db, id)
}

// AddLink links a case or a NIS2 incident by its reference.
func (s *Service) AddLink(ctx context.Context, id int64, l Link) (*Picture, error) {
	l.Target = strings.ToUpper(strings.TrimSpace(l.Target))
	var q string
	switch l.Kind {
	case "case":
		q = `SELECT COUNT(*) FROM cases WHERE ref = ?`
	case "incident":
		q = `SELECT COUNT(*) FROM incidents WHERE ref = ?`
	default:
		return nil, errs.Field("kind", "err.crisis.link_kind", nil)
	}
	now := s.tick()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := s.need(ctx, tx, id, AccessContribute)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, q, l.Target).Scan(&n); err != nil {
			return err
		}
		if n == 0 || !auth.From(ctx).IsAuthority() {
			// Organisations do not learn which references exist.
			return errs.Field("target", "err.crisis.link_unknown", map[string]any{"target": l.Target})
		}
		res, err := tx.Exec(ctx, `INSERT INTO crisis_links (crisis_id, kind, target, created_by, created_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (crisis_id, kind, target) DO NOTHING`, id, l.Kind, l.Target, nullID(actorID(ctx)), now)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return s.event(ctx, tx, now, c, "link", l.Kind+" "+l.Target, nil, map[string]any{"kind": l.Kind, "target": l.Target})
	})
	if err != nil {
		return nil, err
	}
	return picture(ctx, s.db, id)
}

// Decision is an entry of the decision log.
type Decision struct {
	ID         int64     `json:"id"`
	DecidedAt  time.Time `json:"decided_at"`
	DecidedBy  string    `json:"decided_by"`
	Decision   string    `json:"decision"`
	Basis      string    `json:"basis"`
	RecordedBy string    `json:"recorded_by"`
	RecordedAt time.Time `json:"recorded_at"`
}

// DecisionInput records a decision: who took it (default: the one
// recording it), when (default: now), what, and on which basis.
type DecisionInput struct {
	DecidedBy string     `json:"decided_by"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
	Decision  string     `json:"decision"`
	Basis     string     `json:"basis"`
}

// AddDecision appends a decision to the log; entries never change.
func (s *Service) AddDecision(ctx context.Context, id int64, in DecisionInput) (*Decision, error) {
	now := s.tick()
	p := auth.From(ctx)
	d := Decision{DecidedBy: strings.TrimSpace(in.DecidedBy), Decision: strings.TrimSpace(in.Decision), Basis: strings.TrimSpace(in.Basis), DecidedAt: now, RecordedAt: now}
	_, d.RecordedBy = actorOf(p)
	d.DecidedBy = cmpOr(d.DecidedBy, d.RecordedBy)
	if in.DecidedAt != nil {
		d.DecidedAt = in.DecidedAt.UTC().Truncate(time.Microsecond)
	}
	var v errs.Validator
	v.Check(d.Decision != "", "decision", "err.crisis.decision_missing")
	v.Check(d.Basis != "", "basis", "err.crisis.basis_missing")
	v.Check(!d.DecidedAt.After(now.Add(time.Minute)), "decided_at", "err.crisis.decided_future")
	if err := v.Err(); err != nil {
		return nil, err
	}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := s.need(ctx, tx, id, AccessContribute)
		if err != nil {
			return err
		}
		actor, _ := actorOf(p)
		if err := tx.QueryRow(ctx, `INSERT INTO crisis_decisions (crisis_id, decided_at, decided_by, decision, basis, actor_id, actor_label, recorded_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, id, d.DecidedAt, d.DecidedBy, d.Decision, d.Basis, actor, d.RecordedBy, now).Scan(&d.ID); err != nil {
			return err
		}
		return s.event(ctx, tx, now, c, "decision", d.DecidedBy+": "+d.Decision, nil,
			map[string]any{"id": d.ID, "decided_by": d.DecidedBy, "decision": d.Decision, "basis": d.Basis})
	})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// Decisions lists the decision log, oldest first.
func (s *Service) Decisions(ctx context.Context, id int64) ([]Decision, error) {
	if _, err := s.need(ctx, s.db, id, AccessRead); err != nil {
		return nil, err
	}
	return decisions(ctx, s.db, id, time.Time{})
}

func decisions(ctx context.Context, q store.Querier, id int64, since time.Time) ([]Decision, error) {
	rows, err := q.Query(ctx, `SELECT id, decided_at, decided_by, decision, basis, actor_label, recorded_at FROM crisis_decisions
		WHERE crisis_id = ? AND recorded_at > ? ORDER BY decided_at, id`, id, since)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Decision{}
	for rows.Next() {
		var d Decision
		if err := rows.Scan(&d.ID, &d.DecidedAt, &d.DecidedBy, &d.Decision, &d.Basis, &d.RecordedBy, &d.RecordedAt); err != nil {
			return nil, err
		}
		d.DecidedAt, d.RecordedAt = d.DecidedAt.UTC(), d.RecordedAt.UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

// Action is a task of the crisis with an owner and a deadline.
type Action struct {
	ID          int64      `json:"id"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	OwnerID     int64      `json:"owner_id,omitempty"`
	Owner       string     `json:"owner"`
	Status      string     `json:"status"`
	DueAt       *time.Time `json:"due_at,omitempty"`
	Overdue     bool       `json:"overdue"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	DoneAt      *time.Time `json:"done_at,omitempty"`
}

// ActionInput creates or changes an action; nil fields stay as they are.
// The owner is a user of the platform (OwnerID) or named (Owner).
type ActionInput struct {
	Title       *string    `json:"title,omitempty"`
	Description *string    `json:"description,omitempty"`
	OwnerID     *int64     `json:"owner_id,omitempty"`
	Owner       *string    `json:"owner,omitempty"`
	DueAt       *time.Time `json:"due_at,omitempty"`
	Status      *string    `json:"status,omitempty"`
}

const actionCols = `a.id, a.title, a.description, COALESCE(a.owner_id, 0), COALESCE(u.email, a.owner), a.status, a.due_at, a.created_at, a.updated_at, a.done_at`

func (s *Service) scanAction(row interface{ Scan(...any) error }) (*Action, error) {
	var a Action
	var due, done sql.Null[time.Time]
	if err := row.Scan(&a.ID, &a.Title, &a.Description, &a.OwnerID, &a.Owner, &a.Status, &due, &a.CreatedAt, &a.UpdatedAt, &done); err != nil {
		return nil, err
	}
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	a.DueAt, a.DoneAt = utcPtr(due), utcPtr(done)
	a.Overdue = a.Status == "open" && a.DueAt != nil && s.now().After(*a.DueAt)
	return &a, nil
}

// Actions lists a crisis's actions, the open ones by deadline first; with
// overdue set, only the open actions past their deadline.
func (s *Service) Actions(ctx context.Context, id int64, overdue bool) ([]*Action, error) {
	if _, err := s.need(ctx, s.db, id, AccessRead); err != nil {
		return nil, err
	}
	return s.actions(ctx, s.db, id, overdue)
}

func (s *Service) actions(ctx context.Context, q store.Querier, id int64, overdue bool) ([]*Action, error) {
	query := `SELECT ` + actionCols + ` FROM crisis_actions a LEFT JOIN users u ON u.id = a.owner_id WHERE a.crisis_id = ?`
	args := []any{id}
	if overdue {
		query += ` AND a.status = 'open' AND a.due_at < ?`
		args = append(args, s.tick())
	}
	query += ` ORDER BY CASE WHEN a.status = 'open' THEN 0 ELSE 1 END, CASE WHEN a.due_at IS NULL THEN 1 ELSE 0 END, a.due_at, a.id`
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Action{}
	for rows.Next() {
		a, err := s.scanAction(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func (s *Service) action(ctx context.Context, q store.Querier, id, aid int64) (*Action, error) {
	a, err := s.scanAction(q.QueryRow(ctx, `SELECT `+actionCols+` FROM crisis_actions a LEFT JOIN users u ON u.id = a.owner_id
		WHERE a.crisis_id = ? AND a.id = ?`, id, aid))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "err.crisis.action_not_found")
	}
	return a, err
}

// SaveAction creates an action (aid 0) or changes one.
func (s *Service) SaveAction(ctx context.Context, id, aid int64, in ActionInput) (*Action, error) {
	now := s.tick()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := s.need(ctx, tx, id, AccessContribute)
		if err != nil {
			return err
		}
		a := &Action{Status: "open"}
		if aid != 0 {
			if a, err = s.action(ctx, tx, id, aid); err != nil {
				return err
			}
		}
		before := *a
		if err := applyAction(ctx, tx, a, in, now); err != nil {
			return err
		}
		var owner, due, done any = nullID(a.OwnerID), nil, nil
		if a.DueAt != nil {
			due = *a.DueAt
		}
		if a.DoneAt != nil {
			done = *a.DoneAt
		}
		if a.OwnerID != 0 {
			a.Owner = ""
		}
		if aid == 0 {
			err = tx.QueryRow(ctx, `INSERT INTO crisis_actions (crisis_id, title, description, owner_id, owner, status, due_at, created_by, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?, ?) RETURNING id`, id, a.Title, a.Description, owner, a.Owner, due, nullID(actorID(ctx)), now, now).Scan(&aid)
		} else {
			_, err = tx.Exec(ctx, `UPDATE crisis_actions SET title = ?, description = ?, owner_id = ?, owner = ?, status = ?, due_at = ?, updated_at = ?,
				done_at = ? WHERE id = ?`, a.Title, a.Description, owner, a.Owner, a.Status, due, now, done, aid)
		}
		if err != nil {
			return err
		}
		kind := "action.update"
		if before.ID == 0 {
			kind = "action.add"
		}
		return s.event(ctx, tx, now, c, kind, a.Title+" ("+a.Status+")", nil,
			map[string]any{"id": aid, "title": a.Title, "owner_id": a.OwnerID, "owner": a.Owner, "status": a.Status, "due_at": due})
	})
	if err != nil {
		return nil, err
	}
	return s.action(ctx, s.db, id, aid)
}

func applyAction(ctx context.Context, q store.Querier, a *Action, in ActionInput, now time.Time) error {
	var v errs.Validator
	if in.Title != nil {
		a.Title = strings.TrimSpace(*in.Title)
	}
	v.Check(a.Title != "", "title", "err.crisis.title_missing")
	if in.Description != nil {
		a.Description = strings.TrimSpace(*in.Description)
	}
	if in.Owner != nil {
		a.Owner, a.OwnerID = strings.TrimSpace(*in.Owner), 0
	}
	if in.OwnerID != nil {
		a.OwnerID = *in.OwnerID
		if a.OwnerID != 0 {
			var n int
			if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM users WHERE id = ?`, a.OwnerID).Scan(&n); err != nil {
				return err
			}
			v.Check(n == 1, "owner_id", "err.crisis.user")
		}
	}
	if in.DueAt != nil {
		t := in.DueAt.UTC().Truncate(time.Microsecond)
		a.DueAt = &t
	}
	if in.Status != nil {
		if v.Check(*in.Status == "open" || *in.Status == "done", "status", "err.crisis.action_status") && *in.Status != a.Status {
			a.Status = *in.Status
			a.DoneAt = nil
			if a.Status == "done" {
				a.DoneAt = &now
			}
		}
	}
	return v.Err()
}
