// Package advisory is the CSIRT's security advisories (issue 7): CSAF 2.0
// documents written in the portal or the API, validated by package csaf,
// reviewed by a second analyst, published (now or at a scheduled time) as
// signed, immutable versions, and served as a CSAF trusted provider with
// human-readable pages, an Atom feed and e-mail alerts. See docs/csaf.md.
package advisory

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
	"github.com/belfry-cert/belfry/internal/csaf"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/notify"
	"github.com/belfry-cert/belfry/internal/store"
)

// States of an advisory's working copy. A published advisory whose next
// revision is being written is in draft again, with PublishedVersion > 0.
const (
	StateDraft     = "draft"
	StateReview    = "review"
	StateScheduled = "scheduled"
	StatePublished = "published"
)

// TLP labels as CSAF 2.0 writes them (TLP:CLEAR is WHITE in CSAF 2.0).
var TLPs = []string{"WHITE", "GREEN", "AMBER", "RED"}

// Categories the editor offers for /document/category.
var Categories = []string{"csaf_security_advisory", "csaf_base"}

// Langs are the document languages the portal speaks.
var Langs = []string{"nl", "fr", "de", "en"}

// Config is what the service needs to know about the authority.
type Config struct {
	// Prefix starts every tracking id: "CCB" gives CCB-2026-0042.
	Prefix string
	// Publisher is written into every document on publication.
	Publisher csaf.Publisher
	// BaseURL is the public https:// address of the portal, for the
	// provider tree's canonical URLs and the links in e-mail.
	BaseURL string
	// TreeURL is the https:// origin of the provider tree's URLs (the
	// configured public URL); empty: the origin each request came to.
	TreeURL string
	// Contact is the security contact of security.txt (mailto: or https:).
	Contact string
	// Version is Belfry's version, written as the generator's.
	Version string
}

// Mailer queues e-mail in a transaction; notify.Service implements it.
type Mailer interface {
	Enqueue(ctx context.Context, tx *store.Tx, m notify.Message) error
}

// Service is the advisories capability.
type Service struct {
	db   *store.DB
	log  *slog.Logger
	now  func() time.Time
	cfg  Config
	keys *keyring
	mail Mailer
	cat  *i18n.Catalog
}

// NewService returns the service on db. dataKey (32 bytes) encrypts the
// signing key at rest; it is the instance's data key, the same on every
// instance.
func NewService(db *store.DB, log *slog.Logger, cfg Config, dataKey []byte) (*Service, error) {
	if cfg.Prefix == "" {
		return nil, errors.New("advisory: a tracking id prefix is needed")
	}
	if !validPrefix(cfg.Prefix) {
		return nil, fmt.Errorf("advisory: tracking id prefix %q: use letters, digits and hyphens", cfg.Prefix)
	}
	if cfg.Publisher.Category == "" {
		cfg.Publisher.Category = "coordinator"
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	cfg.TreeURL = strings.TrimRight(cfg.TreeURL, "/")
	k, err := newKeyring(db, dataKey)
	if err != nil {
		return nil, err
	}
	return &Service{db: db, log: log, now: time.Now, cfg: cfg, keys: k}, nil
}

func validPrefix(p string) bool {
	for _, r := range p {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// SetMail lets the service send alerts through mail, written from cat.
func (s *Service) SetMail(m Mailer, cat *i18n.Catalog) { s.mail, s.cat = m, cat }

// SetClock replaces the clock, for tests and the demonstration data.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Config returns the service's settings.
func (s *Service) Config() Config { return s.cfg }

// tick is now, to the second: CSAF dates and the provider tree's times are
// written to the second.
func (s *Service) tick() time.Time { return s.now().UTC().Truncate(time.Second) }

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func notFound() error  { return errs.E(errs.NotFound, "err.adv.not_found") }
func forbidden() error { return errs.E(errs.Forbidden, "err.forbidden") }

// CanEdit reports whether p writes and reviews advisories: the authority's
// analysts and administrators.
func CanEdit(p *auth.Principal) bool {
	return p.IsAuthority() && p.CanWrite() && p.HasAny(auth.RoleAdmin, auth.RoleAnalyst)
}

// CanManage reports whether p sees the working copies (drafts, reviews,
// schedules): the authority's staff.
func CanManage(p *auth.Principal) bool { return p.IsAuthority() }

// Advisory is an advisory's working state and a summary of its newest
// published version.
type Advisory struct {
	ID              int64      `json:"id"`
	TrackingID      string     `json:"tracking_id"`
	State           string     `json:"state"`
	Title           string     `json:"title"`
	Lang            string     `json:"lang"`
	TLP             string     `json:"tlp"`
	TargetStatus    string     `json:"target_status"`
	RevisionSummary string     `json:"revision_summary"`
	SubmittedBy     int64      `json:"submitted_by,omitempty"`
	SubmittedAt     *time.Time `json:"submitted_at,omitempty"`
	ReviewedBy      int64      `json:"reviewed_by,omitempty"`
	ReviewNote      string     `json:"review_note,omitempty"`
	PublishAt       *time.Time `json:"publish_at,omitempty"`
	CreatedBy       int64      `json:"created_by,omitempty"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedBy       int64      `json:"updated_by,omitempty"`
	UpdatedAt       time.Time  `json:"updated_at"`
	Published       *Published `json:"published,omitempty"`
	// Document is the working copy (CSAF JSON); only the authority's
	// staff see it.
	Document []byte `json:"-"`
	// Recipients of an AMBER (organisations) or RED (people) advisory.
	RecipientOrgs  []int64 `json:"recipient_orgs"`
	RecipientUsers []int64 `json:"recipient_users"`
}

// Published summarises the newest published version.
type Published struct {
	Version  int       `json:"version"`
	At       time.Time `json:"published_at"`
	Title    string    `json:"title"`
	TLP      string    `json:"tlp"`
	Lang     string    `json:"lang"`
	Status   string    `json:"status"`
	Score    *float64  `json:"score,omitempty"`
	Severity string    `json:"severity,omitempty"`
	FileName string    `json:"file_name"`
	Year     int       `json:"year"`
}

const advisoryCols = `a.id, a.tracking_id, a.state, a.title, a.lang, a.tlp, a.target_status, a.revision_summary, a.submitted_by,
	a.submitted_at, a.reviewed_by, a.review_note, a.publish_at, a.created_by, a.created_at, a.updated_by, a.updated_at,
	a.published_version, a.published_at, a.pub_title, a.pub_tlp, a.pub_lang, a.pub_status, a.pub_score, a.pub_severity,
	a.document, COALESCE(v.file_name, ''), COALESCE(v.folder_year, 0)`

const advisoryFrom = ` FROM advisories a LEFT JOIN advisory_versions v ON v.advisory_id = a.id AND v.version = a.published_version`

func scanAdvisory(row interface{ Scan(...any) error }) (*Advisory, error) {
	var a Advisory
	var sub, rev, cb, ub sql.Null[int64]
	var subAt, pubAt, publishedAt sql.Null[time.Time]
	var pv int
	var score sql.Null[float64]
	var p Published
	var doc string
	if err := row.Scan(&a.ID, &a.TrackingID, &a.State, &a.Title, &a.Lang, &a.TLP, &a.TargetStatus, &a.RevisionSummary, &sub,
		&subAt, &rev, &a.ReviewNote, &pubAt, &cb, &a.CreatedAt, &ub, &a.UpdatedAt,
		&pv, &publishedAt, &p.Title, &p.TLP, &p.Lang, &p.Status, &score, &p.Severity, &doc, &p.FileName, &p.Year); err != nil {
		return nil, err
	}
	a.SubmittedBy, a.ReviewedBy, a.CreatedBy, a.UpdatedBy = sub.V, rev.V, cb.V, ub.V
	if subAt.Valid {
		t := subAt.V.UTC()
		a.SubmittedAt = &t
	}
	if pubAt.Valid {
		t := pubAt.V.UTC()
		a.PublishAt = &t
	}
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	a.Document = []byte(doc)
	if pv > 0 {
		p.Version = pv
		p.At = publishedAt.V.UTC()
		if score.Valid {
			v := score.V
			p.Score = &v
		}
		a.Published = &p
	}
	return &a, nil
}

// get loads an advisory with its recipients, without access checks.
func (s *Service) get(ctx context.Context, q store.Querier, id int64) (*Advisory, error) {
	a, err := scanAdvisory(q.QueryRow(ctx, `SELECT `+advisoryCols+advisoryFrom+` WHERE a.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound()
	}
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `SELECT org_id, user_id FROM advisory_recipients WHERE advisory_id = ? ORDER BY org_id, user_id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	a.RecipientOrgs, a.RecipientUsers = []int64{}, []int64{}
	for rows.Next() {
		var o, u sql.Null[int64]
		if err := rows.Scan(&o, &u); err != nil {
			return nil, err
		}
		if o.Valid {
			a.RecipientOrgs = append(a.RecipientOrgs, o.V)
		} else {
			a.RecipientUsers = append(a.RecipientUsers, u.V)
		}
	}
	return a, rows.Err()
}

// Get returns an advisory with its working copy: the authority's staff
// only. Others read published versions (Public).
func (s *Service) Get(ctx context.Context, id int64) (*Advisory, error) {
	if !CanManage(auth.From(ctx)) {
		return nil, notFound()
	}
	return s.get(ctx, s.db, id)
}

// ByTrackingID returns the id of the advisory with this tracking id, for
// the staff.
func (s *Service) ByTrackingID(ctx context.Context, tid string) (*Advisory, error) {
	if !CanManage(auth.From(ctx)) {
		return nil, notFound()
	}
	var id int64
	err := s.db.QueryRow(ctx, `SELECT id FROM advisories WHERE lower(tracking_id) = lower(?)`, tid).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound()
	}
	if err != nil {
		return nil, err
	}
	return s.get(ctx, s.db, id)
}

// CanRead reports whether p may read a published advisory of this TLP
// with these recipients (TLP 2.0 as CSAF 2.0 labels it): WHITE is public;
// GREEN needs a signed-in person or token of the community; AMBER the
// authority's staff or a member of a recipient organisation; RED the
// staff or a named recipient.
func CanRead(p *auth.Principal, tlp string, orgs, users []int64) bool {
	switch tlp {
	case "WHITE":
		return true
	case "GREEN":
		return p != nil && !p.System || p.IsAuthority()
	case "AMBER":
		return p.IsAuthority() || p != nil && p.OrgID != 0 && slices.Contains(orgs, p.OrgID)
	case "RED":
		return p.IsAuthority() || p != nil && p.UserID != 0 && slices.Contains(users, p.UserID)
	}
	return false
}

// event records a workflow step for the advisory's page and the audit log.
func (s *Service) event(ctx context.Context, tx *store.Tx, now time.Time, a *Advisory, action string, version int, note string, before, after any) error {
	p := auth.From(ctx)
	var actor any
	label := "system"
	if p != nil && p.UserID != 0 {
		actor, label = p.UserID, p.Email
	}
	if _, err := tx.Exec(ctx, `INSERT INTO advisory_events (advisory_id, at, actor_id, actor_label, action, version, note)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, a.ID, now, actor, label, action, version, note); err != nil {
		return err
	}
	return audit.Append(ctx, tx, now, audit.Change{Action: "advisory." + action, ObjectType: "advisory", ObjectID: itoa(a.ID),
		Before: before, After: after})
}

// Event is a step of an advisory's history.
type Event struct {
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Version int       `json:"version,omitempty"`
	Note    string    `json:"note,omitempty"`
}

// History lists the workflow steps of an advisory, oldest first.
func (s *Service) History(ctx context.Context, id int64) ([]Event, error) {
	if !CanManage(auth.From(ctx)) {
		return nil, notFound()
	}
	rows, err := s.db.Query(ctx, `SELECT at, actor_label, action, version, note FROM advisory_events WHERE advisory_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.At, &e.Actor, &e.Action, &e.Version, &e.Note); err != nil {
			return nil, err
		}
		e.At = e.At.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}
