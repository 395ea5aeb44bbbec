package earlywarning

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/belfry-cert/belfry/internal/audit"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/jobs"
	"github.com/belfry-cert/belfry/internal/notify"
	"github.com/belfry-cert/belfry/internal/store"
)

// Sender sends one e-mail now; notify.Service implements it. The
// delivery job calls it, so that the ticket records each delivery.
type Sender interface {
	Send(ctx context.Context, m notify.Message) error
}

// Inserter queues a job in a transaction; jobs.Queue implements it.
type Inserter interface {
	InsertTx(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) error
}

var _ Inserter = (*jobs.Queue)(nil)

// Service holds the settings, inhibitions and tickets, and dispatches.
type Service struct {
	db      *store.DB
	log     *slog.Logger
	cat     *i18n.Catalog
	baseURL string
	now     func() time.Time
	mail    Sender
	queue   Inserter
	client  *http.Client
}

// NewService returns the service on db; mail is written from cat with
// links under baseURL. Webhooks go only to public addresses.
func NewService(db *store.DB, log *slog.Logger, cat *i18n.Catalog, baseURL string) *Service {
	return &Service{db: db, log: log.With("component", "earlywarning"), cat: cat, baseURL: strings.TrimRight(baseURL, "/"),
		now: time.Now, client: webhookClient(false)}
}

// SetDelivery gives the service what delivers tickets: the mail sender
// and the job queue. The queue is built after Register, hence the setter.
func (s *Service) SetDelivery(mail Sender, queue Inserter) { s.mail, s.queue = mail, queue }

// SetHTTPClient replaces the webhook client, for tests (a client that
// trusts a test server and may reach loopback addresses).
func (s *Service) SetHTTPClient(c *http.Client) { s.client = c }

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

func (s *Service) tick() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func notFound() error  { return errs.E(errs.NotFound, "err.ew.not_found") }
func forbidden() error { return errs.E(errs.Forbidden, "err.forbidden") }

// canRead: the organisation's own users and the authority's staff.
func canRead(p *auth.Principal, org int64) bool {
	return p != nil && (p.IsAuthority() || (p.OrgID == org && org != 0))
}

// canChange: the organisation's administrators, and the authority's
// administrators and analysts, change settings and inhibitions.
func canChange(p *auth.Principal, org int64) bool {
	if !p.CanWrite() {
		return false
	}
	return (p.OrgID == org && p.Has(auth.RoleOrgAdmin)) || (p.IsAuthority() && p.HasAny(auth.RoleAdmin, auth.RoleAnalyst))
}

// CanChange reports whether the principal in ctx may change org's
// settings and inhibitions.
func CanChange(ctx context.Context, org int64) bool { return canChange(auth.From(ctx), org) }

// orgName returns the organisation's name, or NotFound.
func orgName(ctx context.Context, q store.Querier, org int64) (string, error) {
	var name string
	err := q.QueryRow(ctx, `SELECT name FROM organisations WHERE id = ?`, org).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound()
	}
	return name, err
}

// ---- settings ----

// Settings returns org's settings (the defaults when none were saved).
func (s *Service) Settings(ctx context.Context, org int64) (*Settings, error) {
	if !canRead(auth.From(ctx), org) {
		return nil, notFound()
	}
	if _, err := orgName(ctx, s.db, org); err != nil {
		return nil, err
	}
	return loadSettings(ctx, s.db, org)
}

func loadSettings(ctx context.Context, q store.Querier, org int64) (*Settings, error) {
	st := DefaultSettings(org)
	var feeds, rcpt string
	var at time.Time
	err := q.QueryRow(ctx, `SELECT enabled, feeds, min_severity, channel, send_interval, recipients, webhook_url, webhook_secret, updated_at
		FROM feed_settings WHERE org_id = ?`, org).Scan(&st.Enabled, &feeds, &st.MinSeverity, &st.Channel, &st.Interval, &rcpt,
		&st.WebhookURL, &st.secret, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("earlywarning: settings of %d: %w", org, err)
	}
	if err := json.Unmarshal([]byte(feeds), &st.ReportTypes); err != nil {
		return nil, fmt.Errorf("earlywarning: settings of %d: %w", org, err)
	}
	if err := json.Unmarshal([]byte(rcpt), &st.Recipients); err != nil {
		return nil, fmt.Errorf("earlywarning: settings of %d: %w", org, err)
	}
	at = at.UTC()
	st.Saved, st.UpdatedAt, st.WebhookSecretSet = true, &at, st.secret != ""
	return st, nil
}

// UpdateSettings replaces org's settings.
func (s *Service) UpdateSettings(ctx context.Context, org int64, in SettingsInput) (*Settings, error) {
	p := auth.From(ctx)
	if !canRead(p, org) {
		return nil, notFound()
	}
	if !canChange(p, org) {
		return nil, forbidden()
	}
	now := s.tick()
	var out *Settings
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := orgName(ctx, tx, org); err != nil {
			return err
		}
		before, err := loadSettings(ctx, tx, org)
		if err != nil {
			return err
		}
		var v errs.Validator
		in.normalise(&v, before.secret != "")
		if err := v.Err(); err != nil {
			return err
		}
		secret := in.WebhookSecret
		if secret == "" {
			secret = before.secret
		}
		feeds, _ := json.Marshal(in.ReportTypes)
		rcpt, _ := json.Marshal(in.Recipients)
		if _, err := tx.Exec(ctx, `INSERT INTO feed_settings (org_id, enabled, feeds, min_severity, channel, send_interval, recipients,
			webhook_url, webhook_secret, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (org_id) DO UPDATE SET enabled = excluded.enabled, feeds = excluded.feeds, min_severity = excluded.min_severity,
			channel = excluded.channel, send_interval = excluded.send_interval, recipients = excluded.recipients,
			webhook_url = excluded.webhook_url, webhook_secret = excluded.webhook_secret, updated_by = excluded.updated_by,
			updated_at = excluded.updated_at`, org, in.Enabled, string(feeds), in.MinSeverity, in.Channel, in.Interval, string(rcpt),
			in.WebhookURL, secret, nullID(p.UserID), now); err != nil {
			return err
		}
		out, err = loadSettings(ctx, tx, org)
		if err != nil {
			return err
		}
		var b any
		if before.Saved {
			b = before
		}
		return audit.Append(ctx, tx, now, audit.Change{Action: "earlywarning.settings_update", ObjectType: "feed_settings",
			ObjectID: itoa(org), OrgID: org, Before: b, After: out})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// ---- inhibitions ----

// Inhibitions lists org's inhibitions that were not deleted, the active
// ones first, then those expired in the last 90 days.
func (s *Service) Inhibitions(ctx context.Context, org int64) ([]Inhibition, error) {
	if !canRead(auth.From(ctx), org) {
		return nil, notFound()
	}
	if _, err := orgName(ctx, s.db, org); err != nil {
		return nil, err
	}
	now := s.tick()
	out, err := loadInhibitions(ctx, s.db, `i.org_id = ? AND i.deleted_at IS NULL AND i.expires_at > ?`, org, now.Add(-90*24*time.Hour))
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Active = out[i].ExpiresAt.After(now)
	}
	return out, nil
}

// activeInhibitions are org's inhibitions in force at now.
func activeInhibitions(ctx context.Context, q store.Querier, org int64, now time.Time) ([]Inhibition, error) {
	out, err := loadInhibitions(ctx, q, `i.org_id = ? AND i.deleted_at IS NULL AND i.expires_at > ?`, org, now)
	for i := range out {
		out[i].Active = true
	}
	return out, err
}

func loadInhibitions(ctx context.Context, q store.Querier, where string, args ...any) ([]Inhibition, error) {
	rows, err := q.Query(ctx, `SELECT i.id, i.org_id, i.prefix, i.feed, i.reason, COALESCE(u.email, 'system'), i.created_at, i.expires_at
		FROM feed_inhibitions i LEFT JOIN users u ON u.id = i.created_by WHERE `+where+` ORDER BY i.expires_at DESC, i.id DESC`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Inhibition{}
	for rows.Next() {
		var in Inhibition
		if err := rows.Scan(&in.ID, &in.OrgID, &in.Prefix, &in.ReportType, &in.Reason, &in.CreatedBy, &in.CreatedAt, &in.ExpiresAt); err != nil {
			return nil, err
		}
		in.CreatedAt, in.ExpiresAt = in.CreatedAt.UTC(), in.ExpiresAt.UTC()
		if in.Prefix != "" {
			if in.prefix, err = netip.ParsePrefix(in.Prefix); err != nil {
				return nil, fmt.Errorf("earlywarning: inhibition %d: %w", in.ID, err)
			}
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// AddInhibition suppresses org's events as in says, until it expires.
func (s *Service) AddInhibition(ctx context.Context, org int64, in InhibitionInput) (*Inhibition, error) {
	p := auth.From(ctx)
	if !canRead(p, org) {
		return nil, notFound()
	}
	if !canChange(p, org) {
		return nil, forbidden()
	}
	now := s.tick()
	var v errs.Validator
	in.normalise(&v, now)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out *Inhibition
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := orgName(ctx, tx, org); err != nil {
			return err
		}
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO feed_inhibitions (org_id, prefix, feed, reason, created_by, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, org, in.Prefix, in.ReportType, in.Reason, nullID(p.UserID), now, in.ExpiresAt).Scan(&id); err != nil {
			return err
		}
		list, err := loadInhibitions(ctx, tx, `i.id = ?`, id)
		if err != nil {
			return err
		}
		out = &list[0]
		out.Active = true
		return audit.Append(ctx, tx, now, audit.Change{Action: "earlywarning.inhibition_add", ObjectType: "feed_inhibition",
			ObjectID: itoa(id), OrgID: org, After: out})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteInhibition ends an inhibition now. The row stays, marked deleted,
// since events it withheld name it.
func (s *Service) DeleteInhibition(ctx context.Context, id int64) error {
	p := auth.From(ctx)
	now := s.tick()
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		list, err := loadInhibitions(ctx, tx, `i.id = ? AND i.deleted_at IS NULL`, id)
		if err != nil {
			return err
		}
		if len(list) == 0 || !canRead(p, list[0].OrgID) {
			return notFound()
		}
		in := list[0]
		if !canChange(p, in.OrgID) {
			return forbidden()
		}
		if _, err := tx.Exec(ctx, `UPDATE feed_inhibitions SET deleted_at = ?, deleted_by = ? WHERE id = ?`, now, nullID(p.UserID), id); err != nil {
			return err
		}
		in.Active = in.ExpiresAt.After(now)
		return audit.Append(ctx, tx, now, audit.Change{Action: "earlywarning.inhibition_delete", ObjectType: "feed_inhibition",
			ObjectID: itoa(id), OrgID: in.OrgID, Before: in})
	})
}

// ---- tickets ----

// TicketFilter selects tickets. Org 0 is every organisation (the
// authority only; an organisation's users always get their own).
type TicketFilter struct {
	Org           int64
	Offset, Limit int
}

const selectTicket = `SELECT t.id, t.ref, t.org_id, o.name, t.channel, t.events, t.deliveries, t.delivered, t.status, t.attempts, t.error,
	t.sha256, t.created_at, t.sent_at FROM feed_tickets t JOIN organisations o ON o.id = t.org_id`

func scanTicket(row interface{ Scan(...any) error }) (*Ticket, error) {
	var t Ticket
	var sent sql.Null[time.Time]
	if err := row.Scan(&t.ID, &t.Ref, &t.OrgID, &t.OrgName, &t.Channel, &t.Events, &t.Deliveries, &t.Delivered, &t.Status, &t.Attempts,
		&t.Error, &t.SHA256, &t.CreatedAt, &sent); err != nil {
		return nil, err
	}
	t.CreatedAt = t.CreatedAt.UTC()
	if sent.Valid {
		at := sent.V.UTC()
		t.SentAt = &at
	}
	return &t, nil
}

// Tickets lists tickets, newest first, with the total.
func (s *Service) Tickets(ctx context.Context, f TicketFilter) ([]Ticket, int, error) {
	p := auth.From(ctx)
	if p == nil {
		return nil, 0, forbidden()
	}
	if !p.IsAuthority() {
		f.Org = p.OrgID
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	where, args := "", []any{}
	if f.Org != 0 {
		where, args = ` WHERE t.org_id = ?`, append(args, f.Org)
	}
	var total int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM feed_tickets t`+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.Query(ctx, selectTicket+where+` ORDER BY t.created_at DESC, t.id DESC LIMIT ? OFFSET ?`, append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []Ticket{}
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *t)
	}
	return out, total, rows.Err()
}

// Ticket returns one ticket; NotFound when the principal may not see it.
func (s *Service) Ticket(ctx context.Context, id int64) (*Ticket, error) {
	t, err := scanTicket(s.db.QueryRow(ctx, selectTicket+` WHERE t.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound()
	}
	if err != nil {
		return nil, err
	}
	if !canRead(auth.From(ctx), t.OrgID) {
		return nil, notFound()
	}
	return t, nil
}

// TicketEvents returns a ticket's events in the order they were stored.
func (s *Service) TicketEvents(ctx context.Context, id int64) (*Ticket, []Event, error) {
	t, err := s.Ticket(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	evs, err := loadEvents(ctx, s.db, `ticket_id = ? ORDER BY id`, t.ID)
	if err != nil {
		return nil, nil, err
	}
	return t, evs, nil
}

const selectEvent = `SELECT id, feed, time_source, severity, taxonomy, type, identifier, src_ip, src_port, src_asn, src_fqdn, dst_ip, dst_port,
	dst_asn, dst_fqdn, matched_on, matched_value, fields FROM feed_events WHERE `

func loadEvents(ctx context.Context, q store.Querier, where string, args ...any) ([]Event, error) {
	rows, err := q.Query(ctx, selectEvent+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var t sql.Null[time.Time]
		if err := rows.Scan(&e.ID, &e.ReportType, &t, &e.Severity, &e.Taxonomy, &e.Type, &e.Identifier, &e.SrcIP, &e.SrcPort, &e.SrcASN,
			&e.SrcFQDN, &e.DstIP, &e.DstPort, &e.DstASN, &e.DstFQDN, &e.MatchedOn, &e.MatchedValue, &e.Fields); err != nil {
			return nil, err
		}
		if t.Valid {
			at := t.V.UTC()
			e.Time = &at
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
