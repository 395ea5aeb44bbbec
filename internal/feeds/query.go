package feeds

// Reading what the pipeline stored: the runs with their problems, the
// events by address, prefix, AS, organisation, type and time, and the
// coverage of the constituency (which share of the events reaches an
// organisation). The SQL is here; who may read what is in service.go.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
)

// IPKey is the 16-byte form of an address stored in feed_events.src_ipn:
// an IPv4 address in its IPv4-mapped IPv6 form, so that both families sort
// in one index without mixing and a prefix is one range. It is nil for the
// zero Addr. The migration's trigger computes the same bytes from src_ip
// when the pipeline does not write them.
func IPKey(a netip.Addr) []byte {
	if !a.IsValid() {
		return nil
	}
	b := a.Unmap().As16()
	return b[:]
}

// prefixRange is the first and last key of the addresses in p.
func prefixRange(p netip.Prefix) (lo, hi []byte) {
	p = p.Masked()
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	first := p.Addr().Unmap().As16()
	last := first
	for i := bits; i < 128; i++ {
		last[i/8] |= 1 << (7 - i%8)
	}
	return first[:], last[:]
}

// RunStatuses are the states of a run.
var RunStatuses = []string{"running", "done", "failed"}

// Severities are Shadowserver's, most severe first.
var Severities = []string{"critical", "high", "medium", "low", "info"}

// RunFilter selects runs; zero values select everything.
type RunFilter struct {
	Status   string
	Feed     string
	From, To time.Time // started at or after From, before To
	Offset   int
	Limit    int
}

// RunDetail is a run with the rows it could not read.
type RunDetail struct {
	Run
	Problems []Problem `json:"problems"`
}

const runCols = `id, source, name, feed, status, error, rows_read, events, problems, matched, unmatched, duplicates, new_events, started_at, finished_at`

func scanRun(sc interface{ Scan(...any) error }) (*Run, error) {
	var r Run
	var fin sql.Null[time.Time]
	s := &r.Stats
	if err := sc.Scan(&r.ID, &r.Source, &r.Name, &r.Feed, &r.Status, &r.Error, &s.Rows, &s.Events, &s.Problems, &s.Matched, &s.Unmatched,
		&s.Duplicates, &s.New, &r.StartedAt, &fin); err != nil {
		return nil, err
	}
	r.StartedAt = r.StartedAt.UTC()
	if fin.Valid {
		t := fin.V.UTC()
		r.FinishedAt = &t
	}
	return &r, nil
}

// listRuns returns a page of runs, newest first, and how many match.
func listRuns(ctx context.Context, db *store.DB, f RunFilter) ([]*Run, int, error) {
	var where []string
	var args []any
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if f.Feed != "" {
		where, args = append(where, "feed = ?"), append(args, f.Feed)
	}
	if !f.From.IsZero() {
		where, args = append(where, "started_at >= ?"), append(args, f.From)
	}
	if !f.To.IsZero() {
		where, args = append(where, "started_at < ?"), append(args, f.To)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM feed_runs`+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("feeds: count runs: %w", err)
	}
	rows, err := db.Query(ctx, `SELECT `+runCols+` FROM feed_runs`+cond+` ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?`,
		append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("feeds: list runs: %w", err)
	}
	defer rows.Close()
	var out []*Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, r)
	}
	return out, total, rows.Err()
}

// loadRun returns a run with its problems, or a NotFound error.
func loadRun(ctx context.Context, db *store.DB, id int64) (*RunDetail, error) {
	r, err := scanRun(db.QueryRow(ctx, `SELECT `+runCols+` FROM feed_runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "err.not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("feeds: load run: %w", err)
	}
	d := &RunDetail{Run: *r, Problems: []Problem{}}
	rows, err := db.Query(ctx, `SELECT row_no, reason, raw FROM feed_problems WHERE run_id = ? ORDER BY row_no`, id)
	if err != nil {
		return nil, fmt.Errorf("feeds: load problems: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p Problem
		if err := rows.Scan(&p.Row, &p.Reason, &p.Raw); err != nil {
			return nil, err
		}
		d.Problems = append(d.Problems, p)
	}
	return d, rows.Err()
}

// EventFilter selects stored events; zero values select everything. An
// organisation's users get their own organisation filled in by the
// service, whatever they ask.
type EventFilter struct {
	IP       netip.Addr   // the source address, exactly
	Prefix   netip.Prefix // the source address within a prefix
	ASN      int64        // the source's AS
	OrgID    int64
	Feed     string // the report type, e.g. scan_http
	Severity string
	Matched  string // "yes": of an organisation; "no": of nobody
	Notify   string // "yes": new, to notify; "no": a duplicate or unmatched
	RunID    int64
	From, To time.Time // time.source at or after From, before To
	Offset   int
	Limit    int
}

// StoredEvent is an event as stored: one row per event and organisation.
type StoredEvent struct {
	ID           int64           `json:"id"`
	RunID        int64           `json:"run_id"`
	OrgID        *int64          `json:"organisation_id"`
	OrgName      string          `json:"organisation,omitempty"`
	Feed         string          `json:"feed"`
	Time         *time.Time      `json:"time_source"`
	Severity     string          `json:"severity"`
	Taxonomy     string          `json:"taxonomy"`
	Type         string          `json:"type"`
	Identifier   string          `json:"identifier"`
	SrcIP        string          `json:"source_ip"`
	SrcPort      int             `json:"source_port"`
	SrcASN       int64           `json:"source_asn"`
	SrcFQDN      string          `json:"source_fqdn"`
	DstIP        string          `json:"destination_ip"`
	DstPort      int             `json:"destination_port"`
	DstASN       int64           `json:"destination_asn"`
	DstFQDN      string          `json:"destination_fqdn"`
	MatchedOn    string          `json:"matched_on"`
	MatchedValue string          `json:"matched_value"`
	Notify       bool            `json:"notify"`
	Fields       json.RawMessage `json:"fields"`
	CreatedAt    time.Time       `json:"created_at"`
}

const eventSelect = `SELECT e.id, e.run_id, e.org_id, COALESCE(o.name, ''), e.feed, e.time_source, e.severity, e.taxonomy, e.type, e.identifier,
	e.src_ip, e.src_port, e.src_asn, e.src_fqdn, e.dst_ip, e.dst_port, e.dst_asn, e.dst_fqdn, e.matched_on, e.matched_value, e.notify, e.fields,
	e.created_at FROM feed_events e LEFT JOIN organisations o ON o.id = e.org_id`

func scanEvent(sc interface{ Scan(...any) error }) (*StoredEvent, error) {
	var e StoredEvent
	var org sql.Null[int64]
	var t sql.Null[time.Time]
	var fields string
	if err := sc.Scan(&e.ID, &e.RunID, &org, &e.OrgName, &e.Feed, &t, &e.Severity, &e.Taxonomy, &e.Type, &e.Identifier, &e.SrcIP, &e.SrcPort,
		&e.SrcASN, &e.SrcFQDN, &e.DstIP, &e.DstPort, &e.DstASN, &e.DstFQDN, &e.MatchedOn, &e.MatchedValue, &e.Notify, &fields, &e.CreatedAt); err != nil {
		return nil, err
	}
	if org.Valid {
		e.OrgID = &org.V
	}
	if t.Valid {
		v := t.V.UTC()
		e.Time = &v
	}
	e.CreatedAt = e.CreatedAt.UTC()
	if fields == "" {
		fields = "{}"
	}
	e.Fields = json.RawMessage(fields)
	return &e, nil
}

// where is the condition of f, on feed_events aliased e.
func (f EventFilter) where() (string, []any) {
	var w []string
	var args []any
	add := func(cond string, a ...any) { w, args = append(w, cond), append(args, a...) }
	if f.IP.IsValid() {
		add("e.src_ipn = ?", IPKey(f.IP))
	}
	if f.Prefix.IsValid() {
		lo, hi := prefixRange(f.Prefix)
		add("e.src_ipn BETWEEN ? AND ?", lo, hi)
	}
	if f.ASN != 0 {
		add("e.src_asn = ?", f.ASN)
	}
	if f.OrgID != 0 {
		add("e.org_id = ?", f.OrgID)
	}
	if f.Feed != "" {
		add("e.feed = ?", f.Feed)
	}
	if f.Severity != "" {
		add("e.severity = ?", f.Severity)
	}
	switch f.Matched {
	case "yes":
		add("e.org_id IS NOT NULL")
	case "no":
		add("e.org_id IS NULL")
	}
	switch f.Notify {
	case "yes":
		add("e.notify = ?", true)
	case "no":
		add("e.notify = ?", false)
	}
	if f.RunID != 0 {
		add("e.run_id = ?", f.RunID)
	}
	if !f.From.IsZero() {
		add("e.time_source >= ?", f.From)
	}
	if !f.To.IsZero() {
		add("e.time_source < ?", f.To)
	}
	if len(w) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(w, " AND "), args
}

// CountCap bounds the count of a search: counting tens of millions of rows
// for a pager costs more than the page. Beyond it the count says "more
// than".
const CountCap = 10000

// searchEvents returns a page of events, newest stored first (the id
// order, stable while rows arrive), the number that match up to CountCap,
// and whether there are more than that.
func searchEvents(ctx context.Context, db *store.DB, f EventFilter) ([]*StoredEvent, int, bool, error) {
	cond, args := f.where()
	var total int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM feed_events e`+cond+` LIMIT ?) AS n`, append(args, CountCap+1)...).
		Scan(&total); err != nil {
		return nil, 0, false, fmt.Errorf("feeds: count events: %w", err)
	}
	capped := total > CountCap
	total = min(total, CountCap)
	rows, err := db.Query(ctx, eventSelect+cond+` ORDER BY e.id DESC LIMIT ? OFFSET ?`, append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, false, fmt.Errorf("feeds: search events: %w", err)
	}
	defer rows.Close()
	var out []*StoredEvent
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, 0, false, err
		}
		out = append(out, e)
	}
	return out, total, capped, rows.Err()
}

// eachEvent calls fn for every event of f (its Offset and Limit ignored),
// in the search's order, reading row by row: an export of millions of
// events holds one in memory at a time.
func eachEvent(ctx context.Context, db *store.DB, f EventFilter, fn func(*StoredEvent) error) error {
	cond, args := f.where()
	rows, err := db.Query(ctx, eventSelect+cond+` ORDER BY e.id DESC`, args...)
	if err != nil {
		return fmt.Errorf("feeds: export events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// CoverageRow is one day and report type: how many events reached an
// organisation and how many reached nobody.
type CoverageRow struct {
	Day       string  `json:"day"` // YYYY-MM-DD, UTC, the day the runs started
	Feed      string  `json:"feed"`
	Matched   int64   `json:"matched"`
	Unmatched int64   `json:"unmatched"`
	Share     float64 `json:"matched_share"` // matched / (matched + unmatched), 0–1
}

// Coverage is the coverage of a period, by day and report type, with the
// totals.
type Coverage struct {
	From  string        `json:"from"`
	To    string        `json:"to"` // inclusive
	Rows  []CoverageRow `json:"rows"`
	Total CoverageRow   `json:"total"`
}

// coverage sums the runs' counts (events, not event and organisation
// pairs: an event of two organisations counts once) per day and report
// type. The runs are few, so the sums are made here rather than in each
// dialect's date functions.
func coverage(ctx context.Context, db *store.DB, from, to time.Time, feed string) (*Coverage, error) {
	q := `SELECT started_at, feed, matched, unmatched FROM feed_runs WHERE started_at >= ? AND started_at < ?`
	args := []any{from, to}
	if feed != "" {
		q += ` AND feed = ?`
		args = append(args, feed)
	}
	rows, err := db.Query(ctx, q+` ORDER BY started_at`, args...)
	if err != nil {
		return nil, fmt.Errorf("feeds: coverage: %w", err)
	}
	defer rows.Close()
	c := &Coverage{From: from.Format(time.DateOnly), To: to.AddDate(0, 0, -1).Format(time.DateOnly), Rows: []CoverageRow{}}
	idx := map[[2]string]int{}
	for rows.Next() {
		var at time.Time
		var r CoverageRow
		if err := rows.Scan(&at, &r.Feed, &r.Matched, &r.Unmatched); err != nil {
			return nil, err
		}
		k := [2]string{at.UTC().Format(time.DateOnly), r.Feed}
		i, ok := idx[k]
		if !ok {
			i = len(c.Rows)
			idx[k] = i
			c.Rows = append(c.Rows, CoverageRow{Day: k[0], Feed: k[1]})
		}
		c.Rows[i].Matched += r.Matched
		c.Rows[i].Unmatched += r.Unmatched
		c.Total.Matched += r.Matched
		c.Total.Unmatched += r.Unmatched
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range c.Rows {
		c.Rows[i].Share = share(c.Rows[i].Matched, c.Rows[i].Unmatched)
	}
	c.Total.Share = share(c.Total.Matched, c.Total.Unmatched)
	return c, nil
}

func share(m, u int64) float64 {
	if m+u == 0 {
		return 0
	}
	return float64(m) / float64(m+u)
}

// feedNames lists the report types stored, for the filters' choices.
func feedNames(ctx context.Context, db *store.DB) ([]string, error) {
	rows, err := db.Query(ctx, `SELECT DISTINCT feed FROM feed_runs WHERE feed <> '' ORDER BY feed`)
	if err != nil {
		return nil, fmt.Errorf("feeds: report types: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
