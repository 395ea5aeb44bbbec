package feeds

// The service that shows what the pipeline stored, and who may see what:
// the authority's staff see every run, problem and event; an
// organisation's users see their own events only (never the unmatched
// ones, nor runs and problems, which hold everybody's rows). The scope is
// applied here, to every query, whatever filter was asked for.

import (
	"context"
	"log/slog"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
)

// Service reads feed runs and events for the portal and the API.
type Service struct {
	db  *store.DB
	log *slog.Logger
	now func() time.Time
}

// NewService returns the service on db.
func NewService(db *store.DB, log *slog.Logger) *Service {
	return &Service{db: db, log: log, now: time.Now}
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

func forbidden() error { return errs.E(errs.Forbidden, "err.forbidden") }

// staff reports whether the caller of ctx is the authority's staff.
func staff(ctx context.Context) bool { return auth.From(ctx).IsAuthority() }

// Runs lists feed runs, newest first: the authority's staff only.
func (s *Service) Runs(ctx context.Context, f RunFilter) ([]*Run, int, error) {
	if !staff(ctx) {
		return nil, 0, forbidden()
	}
	return listRuns(ctx, s.db, f)
}

// Run returns a run with its problems: the authority's staff only.
func (s *Service) Run(ctx context.Context, id int64) (*RunDetail, error) {
	if !staff(ctx) {
		return nil, forbidden()
	}
	return loadRun(ctx, s.db, id)
}

// scope narrows f to what the caller may see: everything for the
// authority's staff; for anybody else their organisation's events, and a
// filter reaching beyond them (another organisation, the unmatched events,
// a run) is refused rather than silently narrowed, so that nobody mistakes
// an empty answer for "nothing there".
func scope(ctx context.Context, f EventFilter) (EventFilter, error) {
	p := auth.From(ctx)
	if p == nil {
		return f, errs.E(errs.Unauthenticated, "err.unauthenticated")
	}
	if p.IsAuthority() {
		return f, nil
	}
	if p.OrgID == 0 || (f.OrgID != 0 && f.OrgID != p.OrgID) || f.Matched == "no" || f.RunID != 0 {
		return f, forbidden()
	}
	f.OrgID = p.OrgID
	f.Matched = ""
	return f, nil
}

// Events returns a page of the events of f the caller may see, the count
// (at most CountCap) and whether more match.
func (s *Service) Events(ctx context.Context, f EventFilter) ([]*StoredEvent, int, bool, error) {
	f, err := scope(ctx, f)
	if err != nil {
		return nil, 0, false, err
	}
	return searchEvents(ctx, s.db, f)
}

// EachEvent calls fn for every event of f the caller may see, for
// exports.
func (s *Service) EachEvent(ctx context.Context, f EventFilter, fn func(*StoredEvent) error) error {
	f, err := scope(ctx, f)
	if err != nil {
		return err
	}
	return eachEvent(ctx, s.db, f, fn)
}

// Coverage sums matched and unmatched events per day and report type from
// from to to (both days, inclusive): the authority's staff only.
func (s *Service) Coverage(ctx context.Context, from, to time.Time, feed string) (*Coverage, error) {
	if !staff(ctx) {
		return nil, forbidden()
	}
	return coverage(ctx, s.db, from, to.AddDate(0, 0, 1), feed)
}

// FeedNames lists the report types received, for filters.
func (s *Service) FeedNames(ctx context.Context) ([]string, error) {
	if auth.From(ctx) == nil {
		return nil, errs.E(errs.Unauthenticated, "err.unauthenticated")
	}
	return feedNames(ctx, s.db)
}

// ---- reading filters from a query ----

// parseDay reads a day (YYYY-MM-DD, or an RFC 3339 time) as a UTC time;
// end moves a day to the start of the next one, so that "to" includes it.
func parseDay(v *errs.Validator, q url.Values, name string, end bool) time.Time {
	s := strings.TrimSpace(q.Get(name))
	if s == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC()
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		v.Add(name, "err.feeds.date_invalid", nil)
		return time.Time{}
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t
}

func parseID(v *errs.Validator, q url.Values, name, code string) int64 {
	s := strings.TrimSpace(q.Get(name))
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		v.Add(name, code, nil)
		return 0
	}
	return n
}

func oneOf(v *errs.Validator, q url.Values, name, code string, allowed []string) string {
	s := strings.TrimSpace(q.Get(name))
	if s != "" && !slices.Contains(allowed, s) {
		v.Add(name, code, nil)
		return ""
	}
	return s
}

// ParseRunFilter reads the filters of the runs list: status, feed, from
// and to (days, inclusive).
func ParseRunFilter(q url.Values) (RunFilter, error) {
	var v errs.Validator
	f := RunFilter{Status: oneOf(&v, q, "status", "err.feeds.status_invalid", RunStatuses), Feed: strings.TrimSpace(q.Get("feed")),
		From: parseDay(&v, q, "from", false), To: parseDay(&v, q, "to", true)}
	return f, v.Err()
}

// ParseEventFilter reads the search of events: ip (an address or a
// prefix), asn, organisation_id, feed, severity, matched, notify, run_id,
// from and to.
func ParseEventFilter(q url.Values) (EventFilter, error) {
	var v errs.Validator
	f := EventFilter{Feed: strings.TrimSpace(q.Get("feed")), Severity: oneOf(&v, q, "severity", "err.feeds.severity_invalid", Severities),
		Matched: oneOf(&v, q, "matched", "err.feeds.yes_no", []string{"yes", "no"}), Notify: oneOf(&v, q, "notify", "err.feeds.yes_no", []string{"yes", "no"}),
		OrgID: parseID(&v, q, "organisation_id", "err.feeds.organisation_invalid"), RunID: parseID(&v, q, "run_id", "err.feeds.run_invalid"),
		From: parseDay(&v, q, "from", false), To: parseDay(&v, q, "to", true)}
	if s := strings.TrimSpace(q.Get("ip")); s != "" {
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			switch {
			case err != nil:
				v.Add("ip", "err.feeds.ip_invalid", nil)
			default:
				if p.Addr().Is4In6() && p.Bits() >= 96 { // ::ffff:192.0.2.0/120 is 192.0.2.0/24
					p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
				}
				if p.Bits() == p.Addr().BitLen() {
					f.IP = p.Addr()
				} else {
					f.Prefix = p.Masked()
				}
			}
		} else if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
			f.IP = a.Unmap()
		} else {
			v.Add("ip", "err.feeds.ip_invalid", nil)
		}
	}
	if s := strings.TrimSpace(q.Get("asn")); s != "" {
		s = strings.TrimPrefix(strings.ToUpper(s), "AS")
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 || n > 4294967295 {
			v.Add("asn", "err.feeds.asn_invalid", nil)
		} else {
			f.ASN = n
		}
	}
	return f, v.Err()
}
