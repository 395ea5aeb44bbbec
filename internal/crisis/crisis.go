// Package crisis is national cyber crisis coordination (issue 6): crises
// declared from a case or on their own, with an escalation level on a
// replaceable scale, a team of authority users and external participants
// with per-participant access, a shared situation picture (affected
// sectors and organisations, linked cases and NIS2 incidents, an
// append-only decision log, actions), situation reports published on a
// schedule and exported or mailed with their TLP, a contact directory and
// call-outs with acknowledgement tracking. Exercises run the same
// workflows and are marked as such in every output.
package crisis

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
	"github.com/belfry-cert/belfry/internal/notify"
	"github.com/belfry-cert/belfry/internal/store"
)

// Statuses of a crisis: open, stood down (the crisis is over, follow-up
// continues) and closed.
var Statuses = []string{"open", "stood_down", "closed"}

// TLPs are the TLP 2.0 labels, least restrictive first.
var TLPs = []string{"CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"}

// Mailer queues e-mail in a transaction; notify.Service implements it.
type Mailer interface {
	Enqueue(ctx context.Context, tx *store.Tx, m notify.Message) error
}

// Service is the crisis coordination capability.
type Service struct {
	db      *store.DB
	log     *slog.Logger
	now     func() time.Time
	scale   *Scale
	mail    Mailer
	cat     *i18n.Catalog
	baseURL string
}

// NewService returns the service on db with the default scale.
func NewService(db *store.DB, log *slog.Logger) *Service {
	return &Service{db: db, log: log, now: time.Now, scale: DefaultScale()}
}

// SetMail lets the service send sitreps and call-outs through m, written
// from cat; baseURL is the portal's public address for links.
func (s *Service) SetMail(m Mailer, cat *i18n.Catalog, baseURL string) {
	s.mail, s.cat, s.baseURL = m, cat, strings.TrimRight(baseURL, "/")
}

// SetCatalog gives the service the messages of level names and exports
// without mail.
func (s *Service) SetCatalog(cat *i18n.Catalog) { s.cat = cat }

// SetClock replaces the clock, for tests and the demonstration data.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// SetScale replaces the escalation scale (a setting of the authority).
// Crises at a level the new scale lacks keep their code.
func (s *Service) SetScale(sc *Scale) { s.scale = sc }

// Scale returns the escalation scale.
func (s *Service) Scale() *Scale { return s.scale }

func (s *Service) tick() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func notFound() error  { return errs.E(errs.NotFound, "err.crisis.not_found") }
func forbidden() error { return errs.E(errs.Forbidden, "err.forbidden") }

// Access is what a principal may do with one crisis, in increasing order.
type Access int

const (
	AccessNone       Access = iota
	AccessSitreps           // the crisis's heading and its published sitreps
	AccessRead              // everything of the crisis
	AccessContribute        // and add to the situation picture, decisions, actions, draft sitreps
	AccessManage            // and run it: level, team, publication, call-outs, status
)

var accessNames = map[Access]string{AccessSitreps: "sitreps", AccessRead: "read", AccessContribute: "contribute", AccessManage: "manage"}

func (a Access) String() string { return accessNames[a] }

// ParticipantAccess are the access levels of external participants.
var ParticipantAccess = []string{"sitreps", "read", "contribute"}

func accessOf(name string) Access {
	for a, n := range accessNames {
		if n == name {
			return a
		}
	}
	return AccessNone
}

// CanDeclare reports whether p declares crises and searches the contact
// directory: the authority's crisis managers, analysts and administrators.
func CanDeclare(p *auth.Principal) bool {
	return p.IsAuthority() && p.CanWrite() && p.HasAny(auth.RoleAdmin, auth.RoleCrisis, auth.RoleAnalyst)
}

// access returns what p may do with crisis id. Only participants and the
// authority's administrators see a crisis; an organisation sees only
// crises it takes part in, as far as its access level goes.
func (s *Service) access(ctx context.Context, q store.Querier, p *auth.Principal, id int64) (Access, error) {
	if p == nil {
		return AccessNone, nil
	}
	if p.System || p.IsAuthorityAdmin() {
		return s.capWrite(p, AccessManage), nil
	}
	var role, access string
	var err error
	if p.IsAuthority() {
		err = q.QueryRow(ctx, `SELECT role, access FROM crisis_participants WHERE crisis_id = ? AND user_id = ?`, id, p.UserID).Scan(&role, &access)
	} else {
		err = q.QueryRow(ctx, `SELECT role, access FROM crisis_participants WHERE crisis_id = ? AND org_id = ?`, id, p.OrgID).Scan(&role, &access)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return AccessNone, nil
	}
	if err != nil {
		return AccessNone, err
	}
	a := accessOf(access)
	if role == "lead" || role == "member" {
		a = AccessManage
	}
	return s.capWrite(p, a), nil
}

// capWrite limits a principal that may not write (auditors, read-only
// tokens) to reading.
func (s *Service) capWrite(p *auth.Principal, a Access) Access {
	if a > AccessRead && !p.CanWrite() {
		return AccessRead
	}
	return a
}

// need loads crisis id for p and checks that p has at least access want:
// a principal without any access gets not found, one with too little
// forbidden.
func (s *Service) need(ctx context.Context, q store.Querier, id int64, want Access) (*Crisis, error) {
	p := auth.From(ctx)
	a, err := s.access(ctx, q, p, id)
	if err != nil {
		return nil, err
	}
	if a == AccessNone {
		return nil, notFound()
	}
	c, err := s.get(ctx, q, id)
	if err != nil {
		return nil, err
	}
	if a < want {
		return nil, forbidden()
	}
	c.Access = a.String()
	return c, nil
}

// Crisis is a crisis as its participants see it.
type Crisis struct {
	ID          int64  `json:"id"`
	Ref         string `json:"ref"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Status      string `json:"status"`
	Level       string `json:"level"`
	LevelNumber int    `json:"level_number"`
	LevelName   string `json:"level_name"`
	TLP         string `json:"tlp"`
	Exercise    bool   `json:"exercise"`
	CaseRef     string `json:"case_ref,omitempty"`
	// SitrepInterval is the minutes between sitreps (0: no schedule).
	SitrepInterval int        `json:"sitrep_interval"`
	NextSitrepAt   *time.Time `json:"next_sitrep_at,omitempty"`
	SitrepOverdue  bool       `json:"sitrep_overdue"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	ClosedAt       *time.Time `json:"closed_at,omitempty"`
	// Access is what the caller may do: sitreps, read, contribute, manage.
	Access string `json:"access"`
}

// DisplayTitle is the title as every output shows it: "[EXERCISE] …" in
// exercise mode.
func (c *Crisis) DisplayTitle() string {
	if c.Exercise {
		return "[EXERCISE] " + c.Title
	}
	return c.Title
}

const crisisCols = `id, ref, title, description, status, level, tlp, exercise, case_ref, sitrep_interval, next_sitrep_at,
	created_at, updated_at, closed_at`

func (s *Service) scan(row interface{ Scan(...any) error }) (*Crisis, error) {
	var c Crisis
	var next, closed sql.Null[time.Time]
	if err := row.Scan(&c.ID, &c.Ref, &c.Title, &c.Description, &c.Status, &c.Level, &c.TLP, &c.Exercise, &c.CaseRef,
		&c.SitrepInterval, &next, &c.CreatedAt, &c.UpdatedAt, &closed); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	c.NextSitrepAt, c.ClosedAt = utcPtr(next), utcPtr(closed)
	if l, ok := s.scale.Level(c.Level); ok {
		c.LevelNumber = l.Number
	}
	c.SitrepOverdue = c.Status == "open" && c.NextSitrepAt != nil && s.now().After(*c.NextSitrepAt)
	return &c, nil
}

func utcPtr(t sql.Null[time.Time]) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.V.UTC()
	return &u
}

func (s *Service) get(ctx context.Context, q store.Querier, id int64) (*Crisis, error) {
	c, err := s.scan(q.QueryRow(ctx, `SELECT `+crisisCols+` FROM crises WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound()
	}
	if err != nil {
		return nil, err
	}
	c.LevelName = s.LevelName(localeOf(auth.From(ctx)), c.Level)
	return c, nil
}

// LevelName is the name of level code in locale.
func (s *Service) LevelName(locale, code string) string {
	l, ok := s.scale.Level(code)
	if s.cat != nil && s.cat.Has("crisis.level."+code) {
		return s.cat.T(locale, "crisis.level."+code, nil)
	}
	if ok && l.Label != "" {
		return l.Label
	}
	return code
}

func localeOf(p *auth.Principal) string {
	if p != nil && i18n.Supported(p.Locale) {
		return p.Locale
	}
	return i18n.Default
}

// Get returns a crisis the caller takes part in.
func (s *Service) Get(ctx context.Context, id int64) (*Crisis, error) {
	return s.need(ctx, s.db, id, AccessSitreps)
}

// ByRef returns a crisis by its reference (CRISIS-2026-001).
func (s *Service) ByRef(ctx context.Context, ref string) (*Crisis, error) {
	var id int64
	err := s.db.QueryRow(ctx, `SELECT id FROM crises WHERE ref = ?`, strings.ToUpper(strings.TrimSpace(ref))).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound()
	}
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// DeclareInput declares a crisis. From a case (CaseRef), the title, TLP
// and exercise flag default to the case's, and the case, its NIS2
// incidents and its affected organisations enter the situation picture.
type DeclareInput struct {
	Title          string `json:"title"`
	Description    string `json:"description"`
	Level          string `json:"level"`
	TLP            string `json:"tlp"`
	Exercise       bool   `json:"exercise"`
	CaseRef        string `json:"case_ref"`
	Reason         string `json:"reason"`
	SitrepInterval int    `json:"sitrep_interval"`
}

// caseFacts are what a crisis takes from the case it is declared from.
type caseFacts struct {
	id       int64
	ref      string
	title    string
	tlp      string
	exercise bool
}

func findCase(ctx context.Context, q store.Querier, ref string) (*caseFacts, error) {
	var c caseFacts
	err := q.QueryRow(ctx, `SELECT id, ref, title, tlp, exercise FROM cases WHERE ref = ?`, strings.ToUpper(strings.TrimSpace(ref))).
		Scan(&c.id, &c.ref, &c.title, &c.tlp, &c.exercise)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.Field("case_ref", "err.crisis.case_unknown", map[string]any{"ref": ref})
	}
	return &c, err
}

func normTLP(t string) string {
	return strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(t)), "TLP:")
}

// Declare opens a crisis; the declaring user leads its team.
func (s *Service) Declare(ctx context.Context, in DeclareInput) (*Crisis, error) {
	p := auth.From(ctx)
	if !CanDeclare(p) {
		return nil, forbidden()
	}
	now := s.tick()
	var id int64
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var cf *caseFacts
		if strings.TrimSpace(in.CaseRef) != "" {
			var err error
			if cf, err = findCase(ctx, tx, in.CaseRef); err != nil {
				return err
			}
			in.Title = cmpOr(strings.TrimSpace(in.Title), cf.title)
			in.TLP = cmpOr(in.TLP, cf.tlp)
			in.Exercise = in.Exercise || cf.exercise
		}
		c, err := s.validateDeclare(&in)
		if err != nil {
			return err
		}
		if err := s.insert(ctx, tx, c, now); err != nil {
			return err
		}
		id = c.ID
		if err := s.declareTeam(ctx, tx, c, p, in.Reason, now); err != nil {
			return err
		}
		if cf != nil {
			if err := s.fromCase(ctx, tx, c, cf, now); err != nil {
				return err
			}
		}
		return s.event(ctx, tx, now, c, "declare", c.DisplayTitle(), nil,
			map[string]any{"ref": c.Ref, "title": c.Title, "level": c.Level, "tlp": c.TLP, "exercise": c.Exercise, "case_ref": c.CaseRef})
	})
	if store.IsUniqueViolation(err) && id == 0 {
		return s.Declare(ctx, in) // another instance took the number
	}
	if err != nil {
		return nil, err
	}
	return s.need(ctx, s.db, id, AccessSitreps)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (s *Service) validateDeclare(in *DeclareInput) (*Crisis, error) {
	c := &Crisis{Title: strings.TrimSpace(in.Title), Description: strings.TrimSpace(in.Description), Status: "open",
		Level: strings.TrimSpace(in.Level), TLP: normTLP(cmpOr(in.TLP, "AMBER")), Exercise: in.Exercise,
		SitrepInterval: in.SitrepInterval}
	if cf := strings.TrimSpace(in.CaseRef); cf != "" {
		c.CaseRef = strings.ToUpper(cf)
	}
	if c.Level == "" {
		c.Level = s.scale.First().Code
	}
	var v errs.Validator
	v.Check(c.Title != "", "title", "err.crisis.title_missing")
	v.Check(len(c.Title) <= 300, "title", "err.crisis.too_long")
	_, ok := s.scale.Level(c.Level)
	v.Check(ok, "level", "err.crisis.level")
	v.Check(slices.Contains(TLPs, c.TLP), "tlp", "err.crisis.tlp")
	v.Check(c.SitrepInterval >= 0 && c.SitrepInterval <= 7*24*60, "sitrep_interval", "err.crisis.interval")
	return c, v.Err()
}

// insert writes a new crisis with the next reference of the year.
func (s *Service) insert(ctx context.Context, tx *store.Tx, c *Crisis, now time.Time) error {
	year := now.Year()
	var seq int
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM crises WHERE year = ?`, year).Scan(&seq); err != nil {
		return err
	}
	c.Ref = fmt.Sprintf("CRISIS-%d-%03d", year, seq)
	var next any
	if c.SitrepInterval > 0 {
		t := now.Add(time.Duration(c.SitrepInterval) * time.Minute)
		c.NextSitrepAt, next = &t, t
	}
	return tx.QueryRow(ctx, `INSERT INTO crises (ref, year, seq, title, description, status, level, tlp, exercise, case_ref,
		sitrep_interval, next_sitrep_at, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		c.Ref, year, seq, c.Title, c.Description, c.Level, c.TLP, c.Exercise, c.CaseRef, c.SitrepInterval, next,
		nullID(auth.From(ctx).UserID), now, now).Scan(&c.ID)
}

// declareTeam records the first level and makes the declaring user lead.
func (s *Service) declareTeam(ctx context.Context, tx *store.Tx, c *Crisis, p *auth.Principal, reason string, now time.Time) error {
	actor, label := actorOf(p)
	if _, err := tx.Exec(ctx, `INSERT INTO crisis_levels (crisis_id, level, previous, reason, actor_id, actor_label, at) VALUES (?, ?, '', ?, ?, ?, ?)`,
		c.ID, c.Level, cmpOr(strings.TrimSpace(reason), "declared"), actor, label, now); err != nil {
		return err
	}
	if p.UserID == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO crisis_participants (crisis_id, kind, user_id, name, email, role, access, created_by, created_at)
		SELECT ?, 'user', id, name, email, 'lead', 'contribute', id, ? FROM users WHERE id = ?`, c.ID, now, p.UserID)
	return err
}

// fromCase links the case, its NIS2 incidents and its affected
// organisations.
func (s *Service) fromCase(ctx context.Context, tx *store.Tx, c *Crisis, cf *caseFacts, now time.Time) error {
	by := nullID(auth.From(ctx).UserID)
	if _, err := tx.Exec(ctx, `INSERT INTO crisis_links (crisis_id, kind, target, created_by, created_at) VALUES (?, 'case', ?, ?, ?)`,
		c.ID, cf.ref, by, now); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO crisis_links (crisis_id, kind, target, created_by, created_at)
		SELECT ?, 'incident', target, ?, ? FROM case_links WHERE case_id = ? AND kind = 'incident'`, c.ID, by, now, cf.id); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO crisis_orgs (crisis_id, org_id, name, note)
		SELECT ?, o.id, o.name, '' FROM case_orgs co JOIN organisations o ON o.id = co.org_id WHERE co.case_id = ?`, c.ID, cf.id)
	return err
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func actorOf(p *auth.Principal) (any, string) {
	if p != nil && p.UserID != 0 {
		return p.UserID, p.Email
	}
	return nil, "system"
}

// event adds a timeline entry and the audit record of a change.
func (s *Service) event(ctx context.Context, tx *store.Tx, now time.Time, c *Crisis, kind, body string, before, after any) error {
	actor, label := actorOf(auth.From(ctx))
	if _, err := tx.Exec(ctx, `INSERT INTO crisis_events (crisis_id, at, actor_id, actor_label, kind, body) VALUES (?, ?, ?, ?, ?, ?)`,
		c.ID, now, actor, label, kind, body); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE crises SET updated_at = ? WHERE id = ?`, now, c.ID); err != nil {
		return err
	}
	return audit.Append(ctx, tx, now, audit.Change{Action: "crisis." + kind, ObjectType: "crisis", ObjectID: itoa(c.ID), Before: before, After: after})
}

// Filter selects crises for List.
type Filter struct {
	Status   string
	Exercise *bool
	Text     string
	Offset   int
	Limit    int
}

// List returns the crises the caller takes part in (all of them for the
// authority's administrators), newest change first, and their total.
func (s *Service) List(ctx context.Context, f Filter) ([]*Crisis, int, error) {
	p := auth.From(ctx)
	if p == nil {
		return nil, 0, errs.E(errs.Unauthenticated, "err.unauthenticated")
	}
	var where []string
	var args []any
	switch {
	case p.System || p.IsAuthorityAdmin():
	case p.IsAuthority():
		where, args = append(where, `id IN (SELECT crisis_id FROM crisis_participants WHERE user_id = ?)`), append(args, p.UserID)
	default:
		where, args = append(where, `id IN (SELECT crisis_id FROM crisis_participants WHERE org_id = ?)`), append(args, p.OrgID)
	}
	if f.Status != "" {
		if !slices.Contains(Statuses, f.Status) {
			return nil, 0, errs.Field("status", "err.crisis.status", nil)
		}
		where, args = append(where, `status = ?`), append(args, f.Status)
	}
	if f.Exercise != nil {
		where, args = append(where, `exercise = ?`), append(args, *f.Exercise)
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		like := "%" + store.EscapeLike(strings.ToLower(t)) + "%"
		where, args = append(where, `(lower(title) LIKE ? ESCAPE '\' OR lower(ref) LIKE ? ESCAPE '\')`), append(args, like, like)
	}
	q := `SELECT ` + crisisCols + `, COUNT(*) OVER () FROM crises`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	q += ` ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?`
	rows, err := s.db.Query(ctx, q, append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out, total := []*Crisis{}, 0
	for rows.Next() {
		c, err := s.scan(scanWithTotal{rows, &total})
		if err != nil {
			return nil, 0, err
		}
		c.LevelName = s.LevelName(localeOf(p), c.Level)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	for _, c := range out {
		a, err := s.access(ctx, s.db, p, c.ID)
		if err != nil {
			return nil, 0, err
		}
		c.Access = a.String()
	}
	return out, total, nil
}

// scanWithTotal scans a crisis row followed by its window total.
type scanWithTotal struct {
	rows  *sql.Rows
	total *int
}

func (s scanWithTotal) Scan(dst ...any) error { return s.rows.Scan(append(dst, s.total)...) }

// UpdateInput changes a crisis; nil fields stay as they are.
type UpdateInput struct {
	Title          *string    `json:"title,omitempty"`
	Description    *string    `json:"description,omitempty"`
	TLP            *string    `json:"tlp,omitempty"`
	Status         *string    `json:"status,omitempty"`
	SitrepInterval *int       `json:"sitrep_interval,omitempty"`
	NextSitrepAt   *time.Time `json:"next_sitrep_at,omitempty"`
}

// Update changes a crisis's title, description, TLP, status or sitrep
// schedule (its team's leads and members).
func (s *Service) Update(ctx context.Context, id int64, in UpdateInput) (*Crisis, error) {
	now := s.tick()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := s.need(ctx, tx, id, AccessManage)
		if err != nil {
			return err
		}
		before := summaryOf(c)
		if err := apply(c, in); err != nil {
			return err
		}
		var closed any
		if c.Status == "closed" {
			closed = now
			if c.ClosedAt != nil {
				closed = *c.ClosedAt
			}
		}
		if in.SitrepInterval != nil && in.NextSitrepAt == nil && c.SitrepInterval > 0 && c.NextSitrepAt == nil {
			t := now.Add(time.Duration(c.SitrepInterval) * time.Minute)
			c.NextSitrepAt = &t
		}
		var next any
		if c.NextSitrepAt != nil {
			next = c.NextSitrepAt.UTC()
		}
		if _, err := tx.Exec(ctx, `UPDATE crises SET title = ?, description = ?, tlp = ?, status = ?, sitrep_interval = ?, next_sitrep_at = ?,
			closed_at = ? WHERE id = ?`, c.Title, c.Description, c.TLP, c.Status, c.SitrepInterval, next, closed, id); err != nil {
			return err
		}
		return s.event(ctx, tx, now, c, "update", changes(before, summaryOf(c)), before, summaryOf(c))
	})
	if err != nil {
		return nil, err
	}
	return s.need(ctx, s.db, id, AccessSitreps)
}

func apply(c *Crisis, in UpdateInput) error {
	var v errs.Validator
	if in.Title != nil {
		c.Title = strings.TrimSpace(*in.Title)
		v.Check(c.Title != "", "title", "err.crisis.title_missing")
		v.Check(len(c.Title) <= 300, "title", "err.crisis.too_long")
	}
	if in.Description != nil {
		c.Description = strings.TrimSpace(*in.Description)
	}
	if in.TLP != nil {
		c.TLP = normTLP(*in.TLP)
		v.Check(slices.Contains(TLPs, c.TLP), "tlp", "err.crisis.tlp")
	}
	if in.Status != nil {
		c.Status = *in.Status
		v.Check(slices.Contains(Statuses, c.Status), "status", "err.crisis.status")
	}
	if in.SitrepInterval != nil {
		c.SitrepInterval = *in.SitrepInterval
		v.Check(c.SitrepInterval >= 0 && c.SitrepInterval <= 7*24*60, "sitrep_interval", "err.crisis.interval")
		if c.SitrepInterval == 0 {
			c.NextSitrepAt = nil
		}
	}
	if in.NextSitrepAt != nil {
		t := in.NextSitrepAt.UTC()
		c.NextSitrepAt = &t
	}
	return v.Err()
}

func summaryOf(c *Crisis) map[string]any {
	return map[string]any{"title": c.Title, "status": c.Status, "tlp": c.TLP, "sitrep_interval": c.SitrepInterval, "level": c.Level}
}

// changes says in one line what a change did, for the timeline.
func changes(a, b map[string]any) string {
	var out []string
	for _, k := range []string{"status", "level", "tlp", "sitrep_interval", "title"} {
		if fmt.Sprint(a[k]) != fmt.Sprint(b[k]) {
			out = append(out, fmt.Sprintf("%s: %v → %v", k, a[k], b[k]))
		}
	}
	return strings.Join(out, "; ")
}

// LevelChange is one change of a crisis's level.
type LevelChange struct {
	Level    string    `json:"level"`
	Number   int       `json:"number"`
	Name     string    `json:"name"`
	Previous string    `json:"previous,omitempty"`
	Reason   string    `json:"reason"`
	Actor    string    `json:"actor"`
	At       time.Time `json:"at"`
}

// ChangeLevel escalates or de-escalates a crisis, saying why.
func (s *Service) ChangeLevel(ctx context.Context, id int64, level, reason string) (*Crisis, error) {
	level, reason = strings.TrimSpace(level), strings.TrimSpace(reason)
	var v errs.Validator
	_, ok := s.scale.Level(level)
	v.Check(ok, "level", "err.crisis.level")
	v.Check(reason != "", "reason", "err.crisis.reason_missing")
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := s.tick()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := s.need(ctx, tx, id, AccessManage)
		if err != nil {
			return err
		}
		if c.Status == "closed" {
			return errs.E(errs.Conflict, "err.crisis.closed")
		}
		if c.Level == level {
			return errs.Field("level", "err.crisis.level_same", nil)
		}
		actor, label := actorOf(auth.From(ctx))
		if _, err := tx.Exec(ctx, `INSERT INTO crisis_levels (crisis_id, level, previous, reason, actor_id, actor_label, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			id, level, c.Level, reason, actor, label, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE crises SET level = ? WHERE id = ?`, level, id); err != nil {
			return err
		}
		return s.event(ctx, tx, now, c, "level", fmt.Sprintf("%s → %s: %s", c.Level, level, reason),
			map[string]any{"level": c.Level}, map[string]any{"level": level, "reason": reason})
	})
	if err != nil {
		return nil, err
	}
	return s.need(ctx, s.db, id, AccessSitreps)
}

// Levels lists a crisis's level changes, oldest first.
func (s *Service) Levels(ctx context.Context, id int64) ([]LevelChange, error) {
	if _, err := s.need(ctx, s.db, id, AccessRead); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT level, previous, reason, actor_label, at FROM crisis_levels WHERE crisis_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	loc := localeOf(auth.From(ctx))
	out := []LevelChange{}
	for rows.Next() {
		var l LevelChange
		if err := rows.Scan(&l.Level, &l.Previous, &l.Reason, &l.Actor, &l.At); err != nil {
			return nil, err
		}
		l.At = l.At.UTC()
		if lv, ok := s.scale.Level(l.Level); ok {
			l.Number = lv.Number
		}
		l.Name = s.LevelName(loc, l.Level)
		out = append(out, l)
	}
	return out, rows.Err()
}

// Event is an entry of a crisis's timeline.
type Event struct {
	ID    int64     `json:"id"`
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	Kind  string    `json:"kind"`
	Body  string    `json:"body"`
}

// Timeline lists a crisis's changes, newest first.
func (s *Service) Timeline(ctx context.Context, id int64) ([]Event, error) {
	if _, err := s.need(ctx, s.db, id, AccessRead); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT id, at, actor_label, kind, body FROM crisis_events WHERE crisis_id = ? ORDER BY id DESC`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.Kind, &e.Body); err != nil {
			return nil, err
		}
		e.At = e.At.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// Stats counts crises by status and by level, real crises and exercises
// apart.
type Stats struct {
	Real     Counts `json:"real"`
	Exercise Counts `json:"exercise"`
}

// Counts are the crises of one kind.
type Counts struct {
	Total    int            `json:"total"`
	ByStatus map[string]int `json:"by_status"`
	ByLevel  map[string]int `json:"by_level"`
}

// Statistics counts all crises (the authority's staff: it names none).
func (s *Service) Statistics(ctx context.Context) (*Stats, error) {
	if !auth.From(ctx).IsAuthority() {
		return nil, forbidden()
	}
	st := &Stats{Real: Counts{ByStatus: map[string]int{}, ByLevel: map[string]int{}}, Exercise: Counts{ByStatus: map[string]int{}, ByLevel: map[string]int{}}}
	rows, err := s.db.Query(ctx, `SELECT exercise, status, level, COUNT(*) FROM crises GROUP BY exercise, status, level`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var ex bool
		var status, level string
		var n int
		if err := rows.Scan(&ex, &status, &level, &n); err != nil {
			return nil, err
		}
		c := &st.Real
		if ex {
			c = &st.Exercise
		}
		c.Total += n
		c.ByStatus[status] += n
		c.ByLevel[level] += n
	}
	return st, rows.Err()
}
