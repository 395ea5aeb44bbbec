package reporting

// Requests of the authority to an entity about a reported incident, and
// the messages of both sides. A request for an intermediate report (NIS2
// Art. 23(4)(c); nis2.md §7.3 D12) sets that report's clock: it is due by
// the deadline of the request, and the entity's intermediate report
// answers it. A request for information is answered by the entity's next
// message. Every change is audited.

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/belfry-cert/belfry/internal/audit"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
)

// Kinds of request.
const (
	RequestIntermediateReport = "intermediate_report"
	RequestInformation        = "information"
)

// RequestKinds are the kinds of request, in the order forms list them.
var RequestKinds = []string{RequestIntermediateReport, RequestInformation}

const maxMessage = 5000

// Request is a request of the authority to the entity.
type Request struct {
	ID         int64      `json:"id"`
	IncidentID int64      `json:"incident_id"`
	Kind       string     `json:"kind"`
	Body       string     `json:"body"`
	Deadline   time.Time  `json:"deadline"`
	CreatedAt  time.Time  `json:"created_at"`
	AnsweredAt *time.Time `json:"answered_at,omitempty"`
}

// Open reports whether the request still waits for its answer.
func (r Request) Open() bool { return r.AnsweredAt == nil }

// RequestInput is a new request.
type RequestInput struct {
	Kind     string    `json:"kind"`
	Body     string    `json:"body"`
	Deadline time.Time `json:"deadline"`
}

// Message is a message about an incident, from the authority or the entity.
type Message struct {
	ID            int64     `json:"id"`
	IncidentID    int64     `json:"incident_id"`
	FromAuthority bool      `json:"from_authority"`
	AuthorName    string    `json:"author_name"`
	Body          string    `json:"body"`
	CreatedAt     time.Time `json:"created_at"`
}

// MessageInput is a new message.
type MessageInput struct {
	Body string `json:"body"`
}

// intermediateClock is the request that sets the intermediate report's
// clock (see Incident.clock).
type intermediateClock struct {
	RequestedAt, Deadline time.Time
	AnsweredAt            *time.Time
}

// intermediateRequest returns the latest open request for an intermediate
// report of the incident, else the latest answered one, else nil.
func intermediateRequest(ctx context.Context, q store.Querier, id int64) (*intermediateClock, error) {
	var c intermediateClock
	var answered sql.Null[time.Time]
	err := q.QueryRow(ctx, `SELECT created_at, deadline, answered_at FROM incident_requests WHERE incident_id = ? AND kind = ?
		ORDER BY CASE WHEN answered_at IS NULL THEN 0 ELSE 1 END, id DESC LIMIT 1`, id, RequestIntermediateReport).Scan(&c.RequestedAt, &c.Deadline, &answered)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c.RequestedAt, c.Deadline = c.RequestedAt.UTC(), c.Deadline.UTC()
	if answered.Valid {
		t := answered.V.UTC()
		c.AnsweredAt = &t
	}
	return &c, nil
}

// answerIntermediate marks the open requests for an intermediate report
// answered at now, in the transaction of its submission.
func answerIntermediate(ctx context.Context, tx *store.Tx, id int64, now time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE incident_requests SET answered_at = ? WHERE incident_id = ? AND kind = ? AND answered_at IS NULL`,
		now, id, RequestIntermediateReport)
	return err
}

// CanRequest reports whether the signed-in person sends requests to
// entities (the authority's analysts, supervisors and administrators).
func CanRequest(ctx context.Context) bool { return canTriage(auth.From(ctx)) }

// canMessage: the organisation's members and administrators, and the
// authority's staff who may write.
func canMessage(p *auth.Principal, org int64) bool {
	return p.IsAuthority() && p.CanWrite() || canFile(p, org)
}

// CanMessage reports whether the signed-in person writes messages on the
// incidents of org.
func CanMessage(ctx context.Context, org int64) bool {
	p := auth.From(ctx)
	return p != nil && canMessage(p, org)
}

func cleanBody(body, field, required string) (string, error) {
	body = strings.TrimSpace(strings.ReplaceAll(body, "\r\n", "\n"))
	switch {
	case body == "":
		return "", errs.Field(field, required, nil)
	case utf8.RuneCountInString(body) > maxMessage:
		return "", errs.Field(field, "err.too_long", map[string]any{"max": maxMessage})
	}
	return body, nil
}

// RequestReport asks the entity for an intermediate report or for
// information by deadline (the authority's analysts, supervisors and
// administrators). A request for an intermediate report sets its clock.
func (s *Service) RequestReport(ctx context.Context, id int64, kind, body string, deadline time.Time) (*Request, error) {
	p := auth.From(ctx)
	if !canTriage(p) {
		return nil, forbidden()
	}
	now := s.tick()
	var v errs.Validator
	if !slices.Contains(RequestKinds, kind) {
		v.Add("kind", "err.req.kind_invalid", nil)
	}
	body = strings.TrimSpace(strings.ReplaceAll(body, "\r\n", "\n"))
	switch {
	case body == "":
		v.Add("body", "err.req.body_required", nil)
	case utf8.RuneCountInString(body) > maxMessage:
		v.Add("body", "err.too_long", map[string]any{"max": maxMessage})
	}
	switch {
	case deadline.IsZero():
		v.Add("deadline", "err.req.deadline_required", nil)
	case !deadline.After(now):
		v.Add("deadline", "err.req.deadline_past", nil)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	req := &Request{IncidentID: id, Kind: kind, Body: body, Deadline: deadline.UTC().Truncate(time.Second), CreatedAt: now}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := tx.Lock(ctx, incidentLockBase+id); err != nil {
			return err
		}
		in, err := s.head(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO incident_requests (incident_id, kind, body, deadline, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, id, kind, body, req.Deadline, nullID(p.UserID), now).Scan(&req.ID); err != nil {
			return err
		}
		return audit.Append(ctx, tx, now, audit.Change{Action: "incident.request", ObjectType: "incident", ObjectID: itoa(id), OrgID: in.OrgID,
			After: req})
	})
	if err != nil {
		return nil, err
	}
	return req, nil
}

// Requests lists the requests of the authority on the incident, newest
// first (its organisation's people and the authority's staff).
func (s *Service) Requests(ctx context.Context, id int64) ([]Request, error) {
	if _, err := s.head(ctx, s.db, id); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT id, incident_id, kind, body, deadline, created_at, answered_at FROM incident_requests
		WHERE incident_id = ? ORDER BY id DESC`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Request{}
	for rows.Next() {
		var r Request
		var answered sql.Null[time.Time]
		if err := rows.Scan(&r.ID, &r.IncidentID, &r.Kind, &r.Body, &r.Deadline, &r.CreatedAt, &answered); err != nil {
			return nil, err
		}
		r.Deadline, r.CreatedAt = r.Deadline.UTC(), r.CreatedAt.UTC()
		if answered.Valid {
			t := answered.V.UTC()
			r.AnsweredAt = &t
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// PostMessage adds a message to the incident: from the entity (its
// members and administrators; it answers the open requests for
// information) or from the authority (its staff who may write).
func (s *Service) PostMessage(ctx context.Context, id int64, body string) (*Message, error) {
	p := auth.From(ctx)
	if p == nil || !p.CanWrite() {
		return nil, forbidden()
	}
	if cur, err := s.head(ctx, s.db, id); err != nil {
		return nil, err
	} else if !canMessage(p, cur.OrgID) {
		return nil, forbidden()
	}
	body, err := cleanBody(body, "body", "err.req.message_required")
	if err != nil {
		return nil, err
	}
	now := s.tick()
	m := &Message{IncidentID: id, FromAuthority: p.IsAuthority(), AuthorName: p.Name, Body: body, CreatedAt: now}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		in, err := s.head(ctx, tx, id)
		if err != nil {
			return err
		}
		if !canMessage(p, in.OrgID) {
			return forbidden()
		}
		if err := tx.QueryRow(ctx, `INSERT INTO incident_messages (incident_id, from_authority, author_id, body, created_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, id, m.FromAuthority, nullID(p.UserID), body, now).Scan(&m.ID); err != nil {
			return err
		}
		if p.UserID != 0 {
			if err := tx.QueryRow(ctx, `SELECT name FROM users WHERE id = ?`, p.UserID).Scan(&m.AuthorName); err != nil {
				return err
			}
		}
		if !m.FromAuthority {
			if _, err := tx.Exec(ctx, `UPDATE incident_requests SET answered_at = ? WHERE incident_id = ? AND kind = ? AND answered_at IS NULL`,
				now, id, RequestInformation); err != nil {
				return err
			}
		}
		return audit.Append(ctx, tx, now, audit.Change{Action: "incident.message", ObjectType: "incident", ObjectID: itoa(id), OrgID: in.OrgID,
			After: map[string]any{"message_id": m.ID, "from_authority": m.FromAuthority, "body": body}})
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Messages lists the messages of the incident, oldest first (its
// organisation's people and the authority's staff).
func (s *Service) Messages(ctx context.Context, id int64) ([]Message, error) {
	if _, err := s.head(ctx, s.db, id); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT m.id, m.incident_id, m.from_authority, COALESCE(u.name, ''), m.body, m.created_at
		FROM incident_messages m LEFT JOIN users u ON u.id = m.author_id WHERE m.incident_id = ? ORDER BY m.id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Message{}
	for rows.Next() {
		var m Message
		if err := rows.Scan(&m.ID, &m.IncidentID, &m.FromAuthority, &m.AuthorName, &m.Body, &m.CreatedAt); err != nil {
			return nil, err
		}
		m.CreatedAt = m.CreatedAt.UTC()
		out = append(out, m)
	}
	return out, rows.Err()
}
