package voluntary

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/belfry-cert/belfry/internal/audit"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/identity"
	"github.com/belfry-cert/belfry/internal/notify"
	"github.com/belfry-cert/belfry/internal/store"
)

// confirmTTL is how long a confirmation link stays valid; an unconfirmed
// notification is purged after it.
const confirmTTL = 72 * time.Hour

// Throttling of one e-mail address, so that the form cannot be used to
// flood somebody's mailbox: an identical notification within resendWindow
// is a repeat and sends nothing; beyond maxPending unconfirmed
// notifications within pendingWindow nothing more is sent.
const (
	resendWindow  = 5 * time.Minute
	pendingWindow = time.Hour
	maxPending    = 3
)

// Mailer queues e-mail in a transaction; notify.Service implements it.
type Mailer interface {
	Enqueue(ctx context.Context, tx *store.Tx, m notify.Message) error
}

// Service is the intake and the authority's queue of voluntary
// notifications.
type Service struct {
	db      *store.DB
	log     *slog.Logger
	now     func() time.Time
	mail    Mailer
	cat     *i18n.Catalog
	baseURL string
}

// NewService returns the service on db.
func NewService(db *store.DB, log *slog.Logger) *Service {
	return &Service{db: db, log: log, now: time.Now}
}

// SetMail lets the service send the confirmation links and receipts
// through mail, written from cat, with links under baseURL. Without it
// no mail is sent (and nobody can confirm).
func (s *Service) SetMail(mail Mailer, cat *i18n.Catalog, baseURL string) {
	s.mail, s.cat, s.baseURL = mail, cat, strings.TrimRight(baseURL, "/")
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

func (s *Service) tick() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// brussels is the zone of the year in references (the tzdata comes with
// the i18n package).
var brussels, _ = time.LoadLocation("Europe/Brussels")

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func notFound() error  { return errs.E(errs.NotFound, "err.vol.not_found") }
func forbidden() error { return errs.E(errs.Forbidden, "err.forbidden") }
func linkInvalid() error {
	return errs.E(errs.NotFound, "err.vol.link_invalid")
}

// canRead: the authority's staff; voluntary notifications never reach an
// organisation.
func canRead(p *auth.Principal) bool { return p.IsAuthority() }

// canHandle: the authority's analysts, supervisors and administrators
// change the status.
func canHandle(p *auth.Principal) bool {
	return p.IsAuthority() && p.CanWrite() && p.HasAny(auth.RoleAdmin, auth.RoleAnalyst, auth.RoleSupervisor)
}

// CanHandle reports whether the signed-in person changes the status of
// voluntary notifications.
func CanHandle(ctx context.Context) bool { return canHandle(auth.From(ctx)) }

// Submit stores c as pending and mails a confirmation link to its
// address. The answer is the same whatever the address and whether or
// not a mail went out (a repeat, or too many unconfirmed notifications
// from the address, send nothing), so that the form tells nobody
// anything about an address.
func (s *Service) Submit(ctx context.Context, c Content) error {
	_, err := s.SubmitToken(ctx, c)
	return err
}

// SubmitToken is Submit returning the token of the confirmation link ("" if
// none was sent), for the demonstration data; the portal and the API
// never show it.
func (s *Service) SubmitToken(ctx context.Context, c Content) (string, error) {
	now := s.tick()
	var v errs.Validator
	c.Check(&v, now)
	if err := v.Err(); err != nil {
		return "", err
	}
	canonical, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canonical)
	hash := hex.EncodeToString(sum[:])
	var token string
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		token = ""
		var repeats, pending int
		if err := tx.QueryRow(ctx, `SELECT
			COUNT(CASE WHEN sha256 = ? AND created_at > ? THEN 1 END),
			COUNT(CASE WHEN status = 'pending' AND created_at > ? THEN 1 END)
			FROM voluntary_notifications WHERE lower(email) = lower(?)`,
			hash, now.Add(-resendWindow), now.Add(-pendingWindow), c.Email).Scan(&repeats, &pending); err != nil {
			return err
		}
		if repeats > 0 || pending >= maxPending {
			s.log.Info("voluntary notification throttled", "repeat", repeats > 0, "pending", pending)
			return nil
		}
		t := rand.Text() + rand.Text()
		if _, err := tx.Exec(ctx, `INSERT INTO voluntary_notifications (status, token_hash, email, locale, reporter_kind, subject,
			sector, content, sha256, created_at, expires_at, updated_at) VALUES ('pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			identity.TokenHash(t), c.Email, c.Language, c.ReporterKind, c.Subject, c.Sector, string(canonical), hash, now,
			now.Add(confirmTTL), now); err != nil {
			return err
		}
		token = t
		link := s.baseURL + "/" + c.Language + "/voluntary/confirm?token=" + url.QueryEscape(t)
		return s.send(ctx, tx, c.Email, c.Language, "vol.mail.confirm", map[string]any{"link": link,
			"expires": s.datetime(c.Language, now.Add(confirmTTL))})
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

func (s *Service) datetime(l string, t time.Time) string {
	if s.cat == nil {
		return t.Format(time.RFC3339)
	}
	return s.cat.DateTime(l, t)
}

// send queues the mail key (its .subject and .body) to addr in locale l.
func (s *Service) send(ctx context.Context, tx *store.Tx, addr, l, key string, args map[string]any) error {
	if s.mail == nil || s.cat == nil {
		return nil
	}
	body := s.cat.T(l, key+".body", args) + "\n\n" + s.cat.T(l, "mail.auto_generated", nil) + "\n"
	return s.mail.Enqueue(ctx, tx, notify.Message{To: []string{addr}, Subject: "[Belfry] " + s.cat.T(l, key+".subject", args), Text: body})
}

// Pending is a notification as its confirmation link shows it.
type Pending struct {
	ID      int64
	Status  string
	Content Content
	Receipt *Receipt // once confirmed
}

// ByToken returns the notification of a confirmation link: a pending one
// whose link has not expired, or a confirmed one with its receipt (so
// that following the link again shows the proof). Anything else is
// NotFound.
func (s *Service) ByToken(ctx context.Context, token string) (*Pending, error) {
	return s.byToken(ctx, s.db, token)
}

func (s *Service) byToken(ctx context.Context, q store.Querier, token string) (*Pending, error) {
	if token == "" {
		return nil, linkInvalid()
	}
	var p Pending
	var content, hash string
	var ref sql.Null[string]
	var expires, received sql.Null[time.Time]
	err := q.QueryRow(ctx, `SELECT id, status, content, sha256, ref, expires_at, received_at FROM voluntary_notifications
		WHERE token_hash = ?`, identity.TokenHash(token)).Scan(&p.ID, &p.Status, &content, &hash, &ref, &expires, &received)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, linkInvalid()
	}
	if err != nil {
		return nil, err
	}
	if p.Status == StatusPending && (!expires.Valid || !expires.V.After(s.tick())) {
		return nil, linkInvalid()
	}
	if err := json.Unmarshal([]byte(content), &p.Content); err != nil {
		return nil, fmt.Errorf("voluntary: content of %d: %w", p.ID, err)
	}
	if p.Status != StatusPending {
		p.Receipt = &Receipt{Ref: ref.V, ReceivedAt: received.V.UTC(), SHA256: hash, Content: json.RawMessage(content)}
	}
	return &p, nil
}

// Confirm receives the notification of a confirmation link: it gets its
// reference and the time of receipt, and the reporter a mail with the
// reference. Confirming twice returns the first receipt.
func (s *Service) Confirm(ctx context.Context, token string) (*Receipt, error) {
	var rec *Receipt
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		p, err := s.byToken(ctx, tx, token)
		if err != nil {
			return err
		}
		if p.Receipt != nil {
			rec = p.Receipt
			return nil
		}
		now := s.tick()
		year := now.In(brussels).Format("2006")
		n, err := nextCounter(ctx, tx, "voluntary-"+year)
		if err != nil {
			return err
		}
		ref := fmt.Sprintf("VOL-%s-%06d", year, n)
		var content, hash string
		if err := tx.QueryRow(ctx, `UPDATE voluntary_notifications SET status = 'received', ref = ?, received_at = ?, expires_at = NULL,
			updated_at = ? WHERE id = ? AND status = 'pending' RETURNING content, sha256`, ref, now, now, p.ID).Scan(&content, &hash); err != nil {
			return err
		}
		rec = &Receipt{Ref: ref, ReceivedAt: now, SHA256: hash, Content: json.RawMessage(content)}
		// The reporter has no account: the change is the anonymous
		// visitor's, and belongs to no organisation.
		if err := audit.Append(ctx, tx, now, audit.Change{Action: "voluntary.receive", ObjectType: "voluntary_notification",
			ObjectID: itoa(p.ID), After: map[string]any{"reference": ref, "sha256": hash, "reporter_kind": p.Content.ReporterKind}}); err != nil {
			return err
		}
		l := p.Content.Language
		return s.send(ctx, tx, p.Content.Email, l, "vol.mail.received", map[string]any{"ref": ref, "time": s.datetime(l, now),
			"sha256": hash})
	})
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// nextCounter increments and returns the named counter, in tx: the row
// lock serialises concurrent writers on PostgreSQL.
func nextCounter(ctx context.Context, tx *store.Tx, name string) (int64, error) {
	var n int64
	err := tx.QueryRow(ctx, `INSERT INTO counters (name, value) VALUES (?, 1)
		ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value`, name).Scan(&n)
	return n, err
}

// Purge deletes the notifications never confirmed whose link expired, and
// reports how many.
func (s *Service) Purge(ctx context.Context) (int64, error) {
	res, err := s.db.Exec(ctx, `DELETE FROM voluntary_notifications WHERE status = 'pending' AND expires_at < ?`, s.tick())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// PurgeArgs is the periodic job that deletes unconfirmed notifications.
type PurgeArgs struct{}

// Kind names the job.
func (PurgeArgs) Kind() string { return "voluntary.purge" }

// PurgeWorker runs PurgeArgs.
type PurgeWorker struct {
	river.WorkerDefaults[PurgeArgs]
	Service *Service
}

// Work purges.
func (w *PurgeWorker) Work(ctx context.Context, _ *river.Job[PurgeArgs]) error {
	n, err := w.Service.Purge(ctx)
	if n > 0 {
		w.Service.log.Info("unconfirmed voluntary notifications purged", "notifications", n)
	}
	return err
}

// ---- the authority's queue ----

const selectNotification = `SELECT v.id, v.ref, v.status, v.content, v.sha256, v.received_at, v.status_note, v.updated_at,
	COALESCE(u.name, '') FROM voluntary_notifications v LEFT JOIN users u ON u.id = v.updated_by`

func scan(row interface{ Scan(...any) error }) (*Notification, error) {
	var n Notification
	var content string
	var received sql.Null[time.Time]
	if err := row.Scan(&n.ID, &n.Ref, &n.Status, &content, &n.SHA256, &received, &n.StatusNote, &n.UpdatedAt, &n.UpdatedBy); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound()
		}
		return nil, err
	}
	if err := json.Unmarshal([]byte(content), &n.Content); err != nil {
		return nil, fmt.Errorf("voluntary: content of %d: %w", n.ID, err)
	}
	if received.Valid {
		t := received.V.UTC()
		n.ReceivedAt = &t
	}
	n.UpdatedAt = n.UpdatedAt.UTC()
	return &n, nil
}

// List returns a page of the received notifications that match f, oldest
// first among the open ones (received, then triaged), then the handled
// ones newest first; and the number that match (the authority's staff).
func (s *Service) List(ctx context.Context, f Filter) ([]Notification, int, error) {
	if !canRead(auth.From(ctx)) {
		return nil, 0, forbidden()
	}
	if err := f.Validate(); err != nil {
		return nil, 0, err
	}
	where := []string{"v.status <> 'pending'"}
	var args []any
	add := func(cond string, arg any) { where = append(where, cond); args = append(args, arg) }
	if f.Status != "" {
		add("v.status = ?", f.Status)
	}
	if f.ReporterKind != "" {
		add("v.reporter_kind = ?", f.ReporterKind)
	}
	if f.Subject != "" {
		add("v.subject = ?", f.Subject)
	}
	if f.Sector != "" {
		add("v.sector = ?", f.Sector)
	}
	if !f.From.IsZero() {
		add("v.received_at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		add("v.received_at < ?", f.To.UTC())
	}
	cond := " WHERE " + strings.Join(where, " AND ")
	var total int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM voluntary_notifications v`+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	rows, err := s.db.Query(ctx, selectNotification+cond+` ORDER BY CASE v.status WHEN 'received' THEN 0 WHEN 'triaged' THEN 1 ELSE 2 END,
		CASE WHEN v.status IN ('received', 'triaged') THEN v.id ELSE -v.id END LIMIT ? OFFSET ?`, append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []Notification{}
	for rows.Next() {
		n, err := scan(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *n)
	}
	return out, total, rows.Err()
}

// Notification returns one received notification (the authority's staff).
func (s *Service) Notification(ctx context.Context, id int64) (*Notification, error) {
	if !canRead(auth.From(ctx)) {
		return nil, forbidden()
	}
	return s.get(ctx, s.db, id)
}

func (s *Service) get(ctx context.Context, q store.Querier, id int64) (*Notification, error) {
	return scan(q.QueryRow(ctx, selectNotification+` WHERE v.id = ? AND v.status <> 'pending'`, id))
}

// SetStatus moves a notification on: received to triaged, triaged to
// closed, or either to rejected (spam, abuse), with an optional note (the
// authority's analysts, supervisors and administrators). Audited.
func (s *Service) SetStatus(ctx context.Context, id int64, status, note string) (*Notification, error) {
	p := auth.From(ctx)
	if !canHandle(p) {
		return nil, forbidden()
	}
	note = strings.TrimSpace(strings.ReplaceAll(note, "\r\n", "\n"))
	var v errs.Validator
	switch {
	case status == "":
		v.Add("status", "err.vol.status_required", nil)
	case !slices.Contains(Statuses, status) || status == StatusReceived:
		v.Add("status", "err.vol.status_invalid", nil)
	}
	tooLong(&v, "note", note, maxNote)
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := s.tick()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		cur, err := s.get(ctx, tx, id)
		if err != nil {
			return err
		}
		if !CanMove(cur.Status, status) {
			return &errs.Error{Kind: errs.Conflict, Code: "err.vol.transition", Args: map[string]any{"from": cur.Status, "to": status}}
		}
		if _, err := tx.Exec(ctx, `UPDATE voluntary_notifications SET status = ?, status_note = ?, updated_by = ?, updated_at = ?
			WHERE id = ?`, status, note, nullID(p.UserID), now, id); err != nil {
			return err
		}
		return audit.Append(ctx, tx, now, audit.Change{Action: "voluntary.status", ObjectType: "voluntary_notification", ObjectID: itoa(id),
			Before: map[string]any{"status": cur.Status, "note": cur.StatusNote}, After: map[string]any{"status": status, "note": note}})
	})
	if err != nil {
		return nil, err
	}
	return s.get(ctx, s.db, id)
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
