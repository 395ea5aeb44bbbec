package crisis

import (
	"context"
	"database/sql"
	"errors"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
)

// Roles of the authority's users in a crisis team: leads and members run
// the crisis, observers read it.
var Roles = []string{"lead", "member", "observer"}

// Parties are the kinds of external participants.
var Parties = []string{"crisis_centre", "sector_authority", "affected_organisation", "other"}

// Participant is a member of the crisis team or an external participant.
type Participant struct {
	ID int64 `json:"id"`
	// Kind is user (an authority user), organisation (an organisation of
	// the platform: all its users) or person (by name and e-mail, reached
	// by e-mail only).
	Kind   string `json:"kind"`
	UserID int64  `json:"user_id,omitempty"`
	OrgID  int64  `json:"organisation_id,omitempty"`
	// Name and Email name the person; for an organisation, its name and,
	// when given, its named contact's e-mail address.
	Name      string    `json:"name"`
	Email     string    `json:"email,omitempty"`
	Role      string    `json:"role,omitempty"`
	Party     string    `json:"party,omitempty"`
	Access    string    `json:"access"`
	CreatedAt time.Time `json:"created_at"`
}

// ParticipantInput adds a participant: exactly one of UserID (with Role),
// OrgID or Email (with Name). Access is for external participants.
type ParticipantInput struct {
	UserID int64  `json:"user_id"`
	OrgID  int64  `json:"organisation_id"`
	Name   string `json:"name"`
	Email  string `json:"email"`
	Role   string `json:"role"`
	Party  string `json:"party"`
	Access string `json:"access"`
}

const participantCols = `id, kind, COALESCE(user_id, 0), COALESCE(org_id, 0), name, email, role, party, access, created_at`

func scanParticipant(row interface{ Scan(...any) error }) (*Participant, error) {
	var p Participant
	if err := row.Scan(&p.ID, &p.Kind, &p.UserID, &p.OrgID, &p.Name, &p.Email, &p.Role, &p.Party, &p.Access, &p.CreatedAt); err != nil {
		return nil, err
	}
	p.CreatedAt = p.CreatedAt.UTC()
	return &p, nil
}

// Participants lists a crisis's team and participants.
func (s *Service) Participants(ctx context.Context, id int64) ([]*Participant, error) {
	if _, err := s.need(ctx, s.db, id, AccessRead); err != nil {
		return nil, err
	}
	return participants(ctx, s.db, id)
}

func participants(ctx context.Context, q store.Querier, id int64) ([]*Participant, error) {
	rows, err := q.Query(ctx, `SELECT `+participantCols+` FROM crisis_participants WHERE crisis_id = ? ORDER BY kind DESC, id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Participant{}
	for rows.Next() {
		p, err := scanParticipant(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// AddParticipant adds a team member or an external participant.
func (s *Service) AddParticipant(ctx context.Context, id int64, in ParticipantInput) (*Participant, error) {
	now := s.tick()
	var pid int64
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := s.need(ctx, tx, id, AccessManage)
		if err != nil {
			return err
		}
		p, err := resolveParticipant(ctx, tx, in)
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `INSERT INTO crisis_participants (crisis_id, kind, user_id, org_id, name, email, role, party, access, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, id, p.Kind, nullID(p.UserID), nullID(p.OrgID), p.Name, p.Email,
			p.Role, p.Party, p.Access, nullID(actorID(ctx)), now).Scan(&pid)
		if store.IsUniqueViolation(err) {
			return errs.E(errs.Conflict, "err.crisis.participant_exists")
		}
		if err != nil {
			return err
		}
		return s.event(ctx, tx, now, c, "participant.add", p.Kind+" "+p.Name+" ("+cmpOr(p.Role, p.Access)+")", nil,
			map[string]any{"kind": p.Kind, "user_id": p.UserID, "organisation_id": p.OrgID, "role": p.Role, "access": p.Access})
	})
	if err != nil {
		return nil, err
	}
	return scanParticipant(s.db.QueryRow(ctx, `SELECT `+participantCols+` FROM crisis_participants WHERE id = ?`, pid))
}

// resolveParticipant checks in and fills in the names it refers to.
func resolveParticipant(ctx context.Context, q store.Querier, in ParticipantInput) (*Participant, error) {
	p := &Participant{Name: strings.TrimSpace(in.Name), Email: strings.TrimSpace(in.Email), Role: in.Role, Party: in.Party, Access: in.Access}
	var v errs.Validator
	n := 0
	for _, set := range []bool{in.UserID != 0, in.OrgID != 0, in.UserID == 0 && in.OrgID == 0 && p.Email != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, errs.Field("user_id", "err.crisis.participant_one", nil)
	}
	if p.Email != "" {
		_, err := mail.ParseAddress(p.Email)
		v.Check(err == nil, "email", "err.crisis.email")
	}
	switch {
	case in.UserID != 0:
		var kind string
		err := q.QueryRow(ctx, `SELECT u.name, u.email, o.kind FROM users u JOIN organisations o ON o.id = u.org_id WHERE u.id = ? AND NOT u.disabled`,
			in.UserID).Scan(&p.Name, &p.Email, &kind)
		if errors.Is(err, sql.ErrNoRows) || err == nil && kind != "authority" {
			v.Add("user_id", "err.crisis.user", nil)
		} else if err != nil {
			return nil, err
		}
		p.Kind, p.UserID, p.Party = "user", in.UserID, ""
		v.Check(slices.Contains(Roles, p.Role), "role", "err.crisis.role")
		p.Access = "contribute"
		if p.Role == "observer" {
			p.Access = "read"
		}
	case in.OrgID != 0:
		var name, kind string
		err := q.QueryRow(ctx, `SELECT name, kind FROM organisations WHERE id = ?`, in.OrgID).Scan(&name, &kind)
		if errors.Is(err, sql.ErrNoRows) || err == nil && kind == "authority" {
			v.Add("organisation_id", "err.crisis.org", nil)
		} else if err != nil {
			return nil, err
		}
		p.Kind, p.OrgID, p.Role = "organisation", in.OrgID, ""
		if p.Email == "" || p.Name == "" {
			p.Name = name // without a named contact, the organisation's name
		}
	default:
		p.Kind, p.Role = "person", ""
		v.Check(p.Name != "", "name", "err.crisis.name_missing")
	}
	if p.Kind != "user" {
		p.Party = cmpOr(p.Party, "other")
		v.Check(slices.Contains(Parties, p.Party), "party", "err.crisis.party")
		v.Check(slices.Contains(ParticipantAccess, p.Access), "access", "err.crisis.access")
	}
	return p, v.Err()
}

// ParticipantChange changes a participant's role (team) or access
// (external participants).
type ParticipantChange struct {
	Role   *string `json:"role,omitempty"`
	Access *string `json:"access,omitempty"`
}

// UpdateParticipant changes a participant's role or access.
func (s *Service) UpdateParticipant(ctx context.Context, id, pid int64, in ParticipantChange) (*Participant, error) {
	now := s.tick()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := s.need(ctx, tx, id, AccessManage)
		if err != nil {
			return err
		}
		p, err := participant(ctx, tx, id, pid)
		if err != nil {
			return err
		}
		before := *p
		var v errs.Validator
		if p.Kind == "user" && in.Role != nil {
			p.Role = *in.Role
			v.Check(slices.Contains(Roles, p.Role), "role", "err.crisis.role")
			p.Access = "contribute"
			if p.Role == "observer" {
				p.Access = "read"
			}
		}
		if p.Kind != "user" && in.Access != nil {
			p.Access = *in.Access
			v.Check(slices.Contains(ParticipantAccess, p.Access), "access", "err.crisis.access")
		}
		if err := v.Err(); err != nil {
			return err
		}
		if before.Role == "lead" && p.Role != "lead" {
			if err := keepLead(ctx, tx, id); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE crisis_participants SET role = ?, access = ? WHERE id = ?`, p.Role, p.Access, pid); err != nil {
			return err
		}
		return s.event(ctx, tx, now, c, "participant.update", p.Name+": "+cmpOr(p.Role, p.Access),
			map[string]any{"id": pid, "role": before.Role, "access": before.Access}, map[string]any{"id": pid, "role": p.Role, "access": p.Access})
	})
	if err != nil {
		return nil, err
	}
	return participant(ctx, s.db, id, pid)
}

// keepLead refuses to leave a crisis without any lead.
func keepLead(ctx context.Context, q store.Querier, id int64) error {
	var n int
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM crisis_participants WHERE crisis_id = ? AND role = 'lead'`, id).Scan(&n); err != nil {
		return err
	}
	if n <= 1 {
		return errs.E(errs.Conflict, "err.crisis.last_lead")
	}
	return nil
}

func participant(ctx context.Context, q store.Querier, id, pid int64) (*Participant, error) {
	p, err := scanParticipant(q.QueryRow(ctx, `SELECT `+participantCols+` FROM crisis_participants WHERE crisis_id = ? AND id = ?`, id, pid))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "err.crisis.participant_not_found")
	}
	return p, err
}

// RemoveParticipant removes a participant; the last lead stays.
func (s *Service) RemoveParticipant(ctx context.Context, id, pid int64) error {
	now := s.tick()
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := s.need(ctx, tx, id, AccessManage)
		if err != nil {
			return err
		}
		p, err := participant(ctx, tx, id, pid)
		if err != nil {
			return err
		}
		if p.Role == "lead" {
			if err := keepLead(ctx, tx, id); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM crisis_participants WHERE id = ?`, pid); err != nil {
			return err
		}
		return s.event(ctx, tx, now, c, "participant.remove", p.Kind+" "+p.Name,
			map[string]any{"id": pid, "kind": p.Kind, "user_id": p.UserID, "organisation_id": p.OrgID, "access": p.Access}, nil)
	})
}

// recipient is one address a crisis mails to.
type recipient struct {
	name   string
	email  string
	locale string
	orgID  int64
	source string
}

// recipients lists the addresses of a crisis's participants: users and
// persons by their address, organisations by their named contact or, when
// named is false, by all their active users. With named set (TLP:RED:
// individual recipients only), organisations without a named contact are
// left out.
func recipients(ctx context.Context, q store.Querier, id int64, named bool, only []int64) ([]recipient, error) {
	ps, err := participants(ctx, q, id)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []recipient
	add := func(r recipient) {
		if k := strings.ToLower(r.email); r.email != "" && !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	for _, p := range ps {
		if only != nil && !slices.Contains(only, p.ID) {
			continue
		}
		switch {
		case p.Kind == "user":
			var loc string
			if err := q.QueryRow(ctx, `SELECT locale FROM users WHERE id = ?`, p.UserID).Scan(&loc); err != nil {
				return nil, err
			}
			add(recipient{name: p.Name, email: p.Email, locale: loc, source: "participant"})
		case p.Kind == "person" || p.Email != "":
			add(recipient{name: p.Name, email: p.Email, orgID: p.OrgID, source: "participant"})
		case !named:
			users, err := orgUsers(ctx, q, p.OrgID)
			if err != nil {
				return nil, err
			}
			for _, u := range users {
				add(u)
			}
		}
	}
	return out, nil
}

func orgUsers(ctx context.Context, q store.Querier, org int64) ([]recipient, error) {
	rows, err := q.Query(ctx, `SELECT name, email, locale FROM users WHERE org_id = ? AND NOT disabled ORDER BY id`, org)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []recipient
	for rows.Next() {
		r := recipient{orgID: org, source: "participant"}
		if err := rows.Scan(&r.name, &r.email, &r.locale); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
