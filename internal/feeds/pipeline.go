package feeds

// The pipeline of a feed run: the events a parser emits are matched to
// organisations through the constituency index, deduplicated against the
// keys stored in the database, and stored in batches, each batch in one
// transaction. Memory is bounded by the batch, whatever the file's size.

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/constituency"
	"github.com/belfry-cert/belfry/internal/store"
)

// DefaultWindow is how long an event, once notified, is not notified
// again: Shadowserver's scans report the same exposed service every day.
const DefaultWindow = 7 * 24 * time.Hour

// DefaultBatch is how many events are stored per transaction.
const DefaultBatch = 2000

// maxProblemsKept bounds the problems stored per run; the count is exact.
const maxProblemsKept = 1000

// Options tune a Pipeline.
type Options struct {
	// Window: an event whose deduplication key was notified less than
	// Window before its time is a duplicate. 0 means DefaultWindow.
	Window time.Duration
	// Batch is the number of events per transaction; 0 means DefaultBatch.
	Batch int
}

// Pipeline runs feeds into the database.
type Pipeline struct {
	db    *store.DB
	index *constituency.Index
	log   *slog.Logger
	opt   Options
	now   func() time.Time
}

// NewPipeline returns a pipeline storing into db and matching with the
// current snapshot of index.
func NewPipeline(db *store.DB, index *constituency.Index, log *slog.Logger, opt Options) *Pipeline {
	if opt.Window <= 0 {
		opt.Window = DefaultWindow
	}
	if opt.Batch <= 0 {
		opt.Batch = DefaultBatch
	}
	return &Pipeline{db: db, index: index, log: log, opt: opt, now: time.Now}
}

// SetClock replaces the clock, for tests.
func (p *Pipeline) SetClock(now func() time.Time) { p.now = now }

// RunInput describes what a run reads.
type RunInput struct {
	Source string // "file", "drop", "api", "mail"
	Name   string // the file's name as received
	Feed   string // the report type, when known before parsing
}

// Stats are the counts of a run.
type Stats struct {
	Rows       int64 `json:"rows"`       // data rows read (events and problems)
	Events     int64 `json:"events"`     // events parsed
	Problems   int64 `json:"problems"`   // rows that could not be read
	Matched    int64 `json:"matched"`    // events with at least one organisation
	Unmatched  int64 `json:"unmatched"`  // events of nobody in the constituency
	Duplicates int64 `json:"duplicates"` // event and organisation pairs seen within the window
	New        int64 `json:"new"`        // event and organisation pairs to notify
}

// Run is one run of a feed file.
type Run struct {
	ID         int64      `json:"id"`
	Source     string     `json:"source"`
	Name       string     `json:"name"`
	Feed       string     `json:"feed"`
	Status     string     `json:"status"` // running, done, failed
	Error      string     `json:"error,omitempty"`
	Stats      Stats      `json:"stats"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// Parse reads a file and calls emit for every event and problem for every
// row it cannot read. An error from emit stops it and is returned.
type Parse func(ctx context.Context, emit func(*Event) error, problem func(Problem) error) error

// Progress is told the counts so far, after every batch.
type Progress func(Stats)

// Run creates a run, feeds it the events of parse and records the outcome.
// The run is stored even when parsing fails; the error is returned too.
func (p *Pipeline) Run(ctx context.Context, in RunInput, parse Parse, progress Progress) (*Run, error) {
	r := &Run{Source: in.Source, Name: in.Name, Feed: in.Feed, Status: "running", StartedAt: p.tick()}
	if err := p.db.QueryRow(ctx, `INSERT INTO feed_runs (source, name, feed, status, started_at) VALUES (?, ?, ?, 'running', ?) RETURNING id`,
		r.Source, r.Name, r.Feed, r.StartedAt).Scan(&r.ID); err != nil {
		return nil, fmt.Errorf("feeds: start run: %w", err)
	}
	w := &runWriter{ctx: ctx, p: p, run: r, snap: p.index.Load(), progress: progress}
	err := parse(ctx, w.event, w.problem)
	if err == nil {
		err = w.flush(ctx)
	}
	end := p.tick()
	r.FinishedAt = &end
	r.Status = "done"
	if err != nil {
		r.Status, r.Error = "failed", err.Error()
	}
	if uerr := w.saveRun(ctx, p.db); uerr != nil && err == nil {
		err = uerr
	}
	return r, err
}

func (p *Pipeline) tick() time.Time { return p.now().UTC().Truncate(time.Microsecond) }

// runWriter collects a run's rows and stores them batch by batch.
type runWriter struct {
	ctx      context.Context
	p        *Pipeline
	run      *Run
	snap     *constituency.Snapshot
	progress Progress
	rows     []eventRow
	problems []Problem
	kept     int // problems stored so far
}

// eventRow is an event matched to one organisation (or to none), as
// stored.
type eventRow struct {
	org                       int64 // 0: unmatched
	feed                      string
	time                      time.Time
	severity                  string
	taxonomy, typ, identifier string
	srcIP, srcFQDN            string
	srcIPN                    []byte
	srcPort                   int
	srcASN                    int64
	dstIP, dstFQDN            string
	dstPort                   int
	dstASN                    int64
	matchedOn, matchedValue   string
	key                       string
	notify                    bool
	fields                    string
}

func (w *runWriter) event(e *Event) error {
	s := &w.run.Stats
	s.Rows++
	s.Events++
	if w.run.Feed == "" {
		w.run.Feed = e.Feed
	}
	m := Match(w.snap, e)
	base := eventRow{feed: e.Feed, time: e.Time, severity: e.Severity, taxonomy: e.Taxonomy, typ: e.Type, identifier: e.Identifier,
		srcIP: addr(e.SrcIP), srcIPN: IPKey(e.SrcIP), srcPort: int(e.SrcPort), srcASN: int64(e.SrcASN), srcFQDN: e.SrcFQDN,
		dstIP: addr(e.DstIP), dstPort: int(e.DstPort), dstASN: int64(e.DstASN), dstFQDN: e.DstFQDN,
		matchedOn: m.On, matchedValue: m.Value, fields: FieldsJSON(e.Fields)}
	if len(m.Orgs) == 0 {
		s.Unmatched++
		w.rows = append(w.rows, base)
	} else {
		s.Matched++
		for _, org := range m.Orgs {
			r := base
			r.org, r.key = org, DedupKey(org, e)
			w.rows = append(w.rows, r)
		}
	}
	if len(w.rows) >= w.p.opt.Batch {
		return w.flush(w.ctx)
	}
	return nil
}

func (w *runWriter) problem(pr Problem) error {
	w.run.Stats.Rows++
	w.run.Stats.Problems++
	if w.kept+len(w.problems) < maxProblemsKept {
		if len(pr.Raw) > 500 {
			pr.Raw = pr.Raw[:500]
		}
		w.problems = append(w.problems, pr)
	}
	return nil
}

func addr(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.Unmap().String()
}

// flush stores the collected rows and problems in one transaction: the
// deduplication keys first, which decide what is new, then the events.
func (w *runWriter) flush(ctx context.Context) error {
	if len(w.rows) == 0 && len(w.problems) == 0 {
		return nil
	}
	now := w.p.tick()
	err := w.p.db.Tx(ctx, func(tx *store.Tx) error {
		if err := w.dedup(ctx, tx, now); err != nil {
			return err
		}
		if err := insertEvents(ctx, tx, w.run.ID, w.rows, now); err != nil {
			return err
		}
		for _, pr := range w.problems {
			if _, err := tx.Exec(ctx, `INSERT INTO feed_problems (run_id, row_no, reason, raw) VALUES (?, ?, ?, ?)`,
				w.run.ID, pr.Row, pr.Reason, strings.ToValidUTF8(pr.Raw, "\uFFFD")); err != nil {
				return err
			}
		}
		return w.saveRun(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("feeds: store batch: %w", err)
	}
	w.kept += len(w.problems)
	w.rows, w.problems = w.rows[:0], w.problems[:0]
	if w.progress != nil {
		w.progress(w.run.Stats)
	}
	return nil
}

// dedup claims the keys of the batch's matched rows: a key is new when it
// is not stored, or when its window ended before the event's time; the
// database says which, so that two instances never both notify.
func (w *runWriter) dedup(ctx context.Context, tx *store.Tx, now time.Time) error {
	first := map[string]int{} // key -> index of its first row in the batch
	var claim []int
	for i := range w.rows {
		r := &w.rows[i]
		if r.org == 0 {
			continue
		}
		if _, dup := first[r.key]; dup {
			w.run.Stats.Duplicates++
			continue
		}
		first[r.key] = i
		claim = append(claim, i)
	}
	// Keys in one order everywhere: two instances claiming overlapping keys
	// wait for each other instead of deadlocking.
	slices.SortFunc(claim, func(x, y int) int { return strings.Compare(w.rows[x].key, w.rows[y].key) })
	const chunk = 200
	for len(claim) > 0 {
		n := min(chunk, len(claim))
		part := claim[:n]
		claim = claim[n:]
		var b strings.Builder
		b.WriteString(`INSERT INTO feed_dedup (key, org_id, feed, first_seen, until) VALUES `)
		args := make([]any, 0, 5*n)
		for j, i := range part {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?)")
			r := &w.rows[i]
			seen := r.time
			if seen.IsZero() {
				seen = now
			}
			args = append(args, r.key, r.org, r.feed, seen, seen.Add(w.p.opt.Window))
		}
		b.WriteString(` ON CONFLICT (key) DO UPDATE SET until = excluded.until WHERE feed_dedup.until <= excluded.first_seen RETURNING key`)
		rows, err := tx.Query(ctx, b.String(), args...)
		if err != nil {
			return err
		}
		fresh := map[string]bool{}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return err
			}
			fresh[k] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, i := range part {
			if fresh[w.rows[i].key] {
				w.rows[i].notify = true
				w.run.Stats.New++
			} else {
				w.run.Stats.Duplicates++
			}
		}
	}
	return nil
}

const eventCols = `(run_id, org_id, feed, time_source, severity, taxonomy, type, identifier, src_ip, src_port, src_asn, src_fqdn,
	dst_ip, dst_port, dst_asn, dst_fqdn, matched_on, matched_value, dedup_key, notify, fields, created_at, src_ipn)`

// insertEvents stores rows with multi-row INSERTs.
func insertEvents(ctx context.Context, tx *store.Tx, run int64, rows []eventRow, now time.Time) error {
	const chunk = 100
	for len(rows) > 0 {
		n := min(chunk, len(rows))
		part := rows[:n]
		rows = rows[n:]
		var b strings.Builder
		b.WriteString(`INSERT INTO feed_events ` + eventCols + ` VALUES `)
		args := make([]any, 0, 23*n)
		for j := range part {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			r := &part[j]
			var org, t any
			if r.org != 0 {
				org = r.org
			}
			if !r.time.IsZero() {
				t = r.time
			}
			args = append(args, run, org, r.feed, t, r.severity, r.taxonomy, r.typ, r.identifier, r.srcIP, r.srcPort, r.srcASN, r.srcFQDN,
				r.dstIP, r.dstPort, r.dstASN, r.dstFQDN, r.matchedOn, r.matchedValue, r.key, r.notify, r.fields, now, r.srcIPN)
		}
		if _, err := tx.Exec(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// saveRun writes the run's status and counts.
func (w *runWriter) saveRun(ctx context.Context, q store.Querier) error {
	r := w.run
	s := r.Stats
	_, err := q.Exec(ctx, `UPDATE feed_runs SET feed = ?, status = ?, error = ?, rows_read = ?, events = ?, problems = ?, matched = ?, unmatched = ?,
		duplicates = ?, new_events = ?, finished_at = ? WHERE id = ?`, r.Feed, r.Status, r.Error, s.Rows, s.Events, s.Problems, s.Matched,
		s.Unmatched, s.Duplicates, s.New, r.FinishedAt, r.ID)
	return err
}

// MatchResult is who an event concerns and why.
type MatchResult struct {
	Orgs  []int64
	On    string // the field that matched: source.ip, source.fqdn, source.asn, destination.…
	Value string // the claim that matched, canonical
}

// Match finds the organisations of an event: its source first, by the
// most specific claim (IP prefix, then domain, then AS number), else its
// destination the same way. Shadowserver reports name the constituent as
// the source (the exposed or infected host); the destination counts for
// the reports about victims.
func Match(s *constituency.Snapshot, e *Event) MatchResult {
	for _, side := range [2]struct {
		name string
		ip   netip.Addr
		fqdn string
		asn  uint32
	}{{"source", e.SrcIP, e.SrcFQDN, e.SrcASN}, {"destination", e.DstIP, e.DstFQDN, e.DstASN}} {
		if side.ip.IsValid() {
			if m := s.LookupIP(side.ip); m.Found() {
				return MatchResult{Orgs: m.Orgs, On: side.name + ".ip", Value: m.Value}
			}
		}
		if side.fqdn != "" {
			if m := s.LookupDomain(side.fqdn); m.Found() {
				return MatchResult{Orgs: m.Orgs, On: side.name + ".fqdn", Value: m.Value}
			}
		}
		if side.asn != 0 {
			if m := s.LookupASN(side.asn); m.Found() {
				return MatchResult{Orgs: m.Orgs, On: side.name + ".asn", Value: m.Value}
			}
		}
	}
	return MatchResult{}
}

// dedupFields are the fields beyond the typed members that tell one
// finding from another (the vulnerable service, the malware, the URL).
var dedupFields = []string{"protocol.transport", "protocol.application", "malware.name", "source.url", "destination.url", "source.account",
	"product.vulnerabilities"}

// DedupKey is the stable key of an event for an organisation: the same
// finding about the same host, whatever day it is reported, has the same
// key (its time is not part of it).
func DedupKey(org int64, e *Event) string {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(org))
	h.Write(n[:])
	put := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	put(e.Feed)
	put(e.Identifier)
	put(addr(e.SrcIP))
	put(fmt.Sprint(e.SrcPort))
	put(e.SrcFQDN)
	put(addr(e.DstIP))
	put(fmt.Sprint(e.DstPort))
	put(e.DstFQDN)
	for _, k := range dedupFields {
		put(k)
		for _, f := range e.Fields {
			if f.Key == k {
				put(fmt.Sprint(f.Value))
			}
		}
	}
	sum := h.Sum(nil)
	return hex.EncodeToString(sum[:16])
}
