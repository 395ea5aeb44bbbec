package cases

// Observables (IP, domain, URL, hash, e-mail, file name) of a case, each
// with its TLP and whether it is an indicator of compromise and was
// sighted. A value is stored once (observables) and linked to every case
// it appears in; its other cases and the feed events with the same
// address are index lookups, so "where else does this appear" stays fast
// at tens of millions of values.

import (
	"context"
	"database/sql"
	"errors"
	"net/mail"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/constituency"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/feeds"
	"github.com/belfry-cert/belfry/internal/store"
)

// ObservableTypes are the kinds of observables.
var ObservableTypes = []string{"ip", "domain", "url", "hash", "email", "file"}

// Observable is an observable of a case.
type Observable struct {
	ID        int64     `json:"id"`
	Type      string    `json:"type"`
	Value     string    `json:"value"`
	TLP       string    `json:"tlp"`
	IOC       bool      `json:"ioc"`
	Sighted   bool      `json:"sighted"`
	Note      string    `json:"note"`
	CreatedAt time.Time `json:"created_at"`
	// OtherCases is how many other cases have the same value.
	OtherCases int `json:"other_cases"`
}

// ObservableInput adds an observable.
type ObservableInput struct {
	Type    string `json:"type"`
	Value   string `json:"value"`
	TLP     string `json:"tlp"`
	IOC     bool   `json:"ioc"`
	Sighted bool   `json:"sighted"`
	Note    string `json:"note"`
}

var hashRE = regexp.MustCompile(`^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}|[0-9a-f]{128})$`)

// NormalizeObservable checks a value of a type and writes it in the one
// form it is stored and matched in: addresses canonical, domains lower
// case without a final dot, hashes lower-case hex (MD5, SHA-1, SHA-256,
// SHA-512), e-mail addresses with a lower-case domain.
func NormalizeObservable(typ, value string) (string, error) {
	v := strings.TrimSpace(value)
	bad := errs.Field("value", "err.case.observable_value", map[string]any{"type": typ})
	if v == "" {
		return "", errs.Field("value", "err.case.observable_missing", nil)
	}
	switch typ {
	case "ip":
		a, err := netip.ParseAddr(strings.Trim(v, "[]"))
		if err != nil {
			return "", bad
		}
		return a.Unmap().String(), nil
	case "domain":
		d, err := constituency.NormalizeDomain(v)
		if err != nil {
			return "", bad
		}
		return d, nil
	case "url":
		u, err := url.Parse(v)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return "", bad
		}
		u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
		return u.String(), nil
	case "hash":
		h := strings.ToLower(v)
		if !hashRE.MatchString(h) {
			return "", bad
		}
		return h, nil
	case "email":
		a, err := mail.ParseAddress(v)
		if err != nil || a.Name != "" {
			return "", bad
		}
		local, domain, _ := strings.Cut(a.Address, "@")
		return local + "@" + strings.ToLower(domain), nil
	case "file":
		if strings.ContainsAny(v, "\x00\n") {
			return "", bad
		}
		return v, nil
	}
	return "", errs.Field("type", "err.case.observable_type", nil)
}

// AddObservable adds a value to a case (or updates its marks when the case
// has it already).
func (s *Service) AddObservable(ctx context.Context, caseID int64, in ObservableInput) (*Observable, error) {
	if !CanWork(auth.From(ctx)) {
		return nil, forbidden()
	}
	var v errs.Validator
	v.Check(slices.Contains(ObservableTypes, in.Type), "type", "err.case.observable_type")
	value, err := NormalizeObservable(in.Type, in.Value)
	if e, ok := errs.As(err); ok && slices.Contains(ObservableTypes, in.Type) {
		for _, f := range e.Fields {
			v.Add(f.Field, f.Code, f.Args)
		}
	}
	in.TLP = strings.ToUpper(strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(in.TLP)), "TLP:"))
	v.Check(slices.Contains(TLPs, in.TLP), "tlp", "err.case.tlp")
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := s.tick()
	in.Value = value
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := s.get(ctx, tx, caseID)
		if err != nil {
			return err
		}
		return s.addObservable(ctx, tx, c, in, now)
	})
	if err != nil {
		return nil, err
	}
	obsID, err := observableIDOf(ctx, s.db, in.Type, value)
	if err != nil {
		return nil, err
	}
	os, err := s.observables(ctx, ` AND o.id = ?`, caseID, obsID)
	if err != nil || len(os) == 0 {
		return nil, err
	}
	return os[0], nil
}

// addObservable links a checked, normalised value to case c in tx.
func (s *Service) addObservable(ctx context.Context, tx *store.Tx, c *Case, in ObservableInput, now time.Time) error {
	obsID, err := observableID(ctx, tx, in.Type, in.Value)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO case_observables (case_id, observable_id, tlp, ioc, sighted, note, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (case_id, observable_id) DO UPDATE SET tlp = excluded.tlp, ioc = excluded.ioc,
		sighted = excluded.sighted, note = excluded.note`,
		c.ID, obsID, in.TLP, in.IOC, in.Sighted, strings.TrimSpace(in.Note), nullID(auth.From(ctx).UserID), now); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE cases SET updated_at = ? WHERE id = ?`, now, c.ID); err != nil {
		return err
	}
	return s.event(ctx, tx, now, c, "observable", in.TLP, in.Type+" "+in.Value, nil,
		map[string]any{"type": in.Type, "value": in.Value, "tlp": in.TLP, "ioc": in.IOC, "sighted": in.Sighted})
}

func observableIDOf(ctx context.Context, q store.Querier, typ, value string) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `SELECT id FROM observables WHERE type = ? AND value = ?`, typ, value).Scan(&id)
	return id, err
}

// observableID returns the id of a value, storing it on first sight.
func observableID(ctx context.Context, tx *store.Tx, typ, value string) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM observables WHERE type = ? AND value = ?`, typ, value).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	err = tx.QueryRow(ctx, `INSERT INTO observables (type, value) VALUES (?, ?) ON CONFLICT (type, value) DO UPDATE SET value = excluded.value
		RETURNING id`, typ, value).Scan(&id)
	return id, err
}

// RemoveObservable takes a value off a case.
func (s *Service) RemoveObservable(ctx context.Context, caseID, obsID int64) error {
	if !CanWork(auth.From(ctx)) {
		return forbidden()
	}
	now := s.tick()
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := s.get(ctx, tx, caseID)
		if err != nil {
			return err
		}
		var typ, value string
		err = tx.QueryRow(ctx, `SELECT o.type, o.value FROM case_observables co JOIN observables o ON o.id = co.observable_id
			WHERE co.case_id = ? AND co.observable_id = ?`, caseID, obsID).Scan(&typ, &value)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(errs.NotFound, "err.case.observable_not_found")
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM case_observables WHERE case_id = ? AND observable_id = ?`, caseID, obsID); err != nil {
			return err
		}
		return s.event(ctx, tx, now, c, "observable_remove", "", typ+" "+value, map[string]any{"type": typ, "value": value}, nil)
	})
}

// Observables lists the observables of a case with how many other cases
// have each.
func (s *Service) Observables(ctx context.Context, caseID int64) ([]*Observable, error) {
	if err := s.readable(ctx, caseID); err != nil {
		return nil, err
	}
	return s.observables(ctx, ``, caseID)
}

func (s *Service) observables(ctx context.Context, extra string, caseID int64, args ...any) ([]*Observable, error) {
	rows, err := s.db.Query(ctx, `SELECT o.id, o.type, o.value, co.tlp, co.ioc, co.sighted, co.note, co.created_at,
		(SELECT COUNT(*) FROM case_observables x WHERE x.observable_id = o.id AND x.case_id <> co.case_id)
		FROM case_observables co JOIN observables o ON o.id = co.observable_id WHERE co.case_id = ?`+extra+` ORDER BY o.type, o.value`,
		append([]any{caseID}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Observable{}
	for rows.Next() {
		var o Observable
		if err := rows.Scan(&o.ID, &o.Type, &o.Value, &o.TLP, &o.IOC, &o.Sighted, &o.Note, &o.CreatedAt, &o.OtherCases); err != nil {
			return nil, err
		}
		o.CreatedAt = o.CreatedAt.UTC()
		out = append(out, &o)
	}
	return out, rows.Err()
}

// Sightings is where a value appears besides one case: the other cases
// (newest first) and, for an address or a domain, the feed events.
type Sightings struct {
	Type       string          `json:"type"`
	Value      string          `json:"value"`
	Cases      []CaseSighting  `json:"cases"`
	FeedEvents []EventSighting `json:"feed_events"`
}

// CaseSighting is another case with the value.
type CaseSighting struct {
	ID     int64  `json:"id"`
	Ref    string `json:"ref"`
	Title  string `json:"title"`
	Status string `json:"status"`
	TLP    string `json:"tlp"`
}

// EventSighting is a feed event with the value.
type EventSighting struct {
	ID   int64     `json:"id"`
	Feed string    `json:"feed"`
	Time time.Time `json:"time"`
}

// Similar lists the other cases and the feed events where the value of an
// observable appears (at most limit of each).
func (s *Service) Similar(ctx context.Context, obsID, exceptCase int64, limit int) (*Sightings, error) {
	if !CanRead(auth.From(ctx)) {
		return nil, notFound()
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	var out Sightings
	err := s.db.QueryRow(ctx, `SELECT type, value FROM observables WHERE id = ?`, obsID).Scan(&out.Type, &out.Value)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "err.case.observable_not_found")
	}
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT c.id, c.ref, c.title, c.status, co.tlp FROM case_observables co JOIN cases c ON c.id = co.case_id
		WHERE co.observable_id = ? AND co.case_id <> ? ORDER BY co.case_id DESC LIMIT ?`, obsID, exceptCase, limit)
	if err != nil {
		return nil, err
	}
	out.Cases = []CaseSighting{}
	for rows.Next() {
		var c CaseSighting
		if err := rows.Scan(&c.ID, &c.Ref, &c.Title, &c.Status, &c.TLP); err != nil {
			rows.Close()
			return nil, err
		}
		out.Cases = append(out.Cases, c)
	}
	rows.Close()
	out.FeedEvents = []EventSighting{}
	// Feed events by source address, through the indexed 16-byte column
	// the feeds' own search uses. (Domains are matched in cases only: the
	// feeds keep no index on host names, to keep ingestion fast.)
	if out.Type != "ip" {
		return &out, nil
	}
	a, err := netip.ParseAddr(out.Value)
	if err != nil {
		return &out, nil
	}
	rows, err = s.db.Query(ctx, `SELECT id, feed, time_source FROM feed_events WHERE src_ipn = ? ORDER BY id DESC LIMIT ?`, feeds.IPKey(a), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var e EventSighting
		var at sql.Null[time.Time]
		if err := rows.Scan(&e.ID, &e.Feed, &at); err != nil {
			return nil, err
		}
		e.Time = at.V.UTC()
		out.FeedEvents = append(out.FeedEvents, e)
	}
	return &out, rows.Err()
}
