package feeds

// The pipeline of a feed run: the events a parser emits are matched to
// organisations through the constituency index, deduplicated against the
// keys stored in the database, and stored in batches, each batch in one
// transaction. Memory is bounded by the batch, whatever the file's size.

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/belfry-cert/belfry/internal/constituency"
	"github.com/belfry-cert/belfry/internal/store"
)

// DefaultWindow is how long an event, once notified, is not notified
// again: Shadowserver's scans report the same exposed service every day.
const DefaultWindow = 7 * 24 * time.Hour

// DefaultBatch is how many events are stored per transaction. Larger
// batches write each index page touched once per batch (the indexes of
// feed_events and feed_dedup take keys in random order), at the price of
// memory (about 3 kB per event in flight) and of holding SQLite's write
// lock longer (about half a second). See docs/benchmarks.md.
const DefaultBatch = 10000

// maxProblemsKept bounds the problems stored per run; the count is exact.
const maxProblemsKept = 1000

// Options tune a Pipeline.
type Options struct {
	// Window: an event whose deduplication key was notified less than
	// Window before its time is a duplicate. 0 means DefaultWindow.
	Window time.Duration
	// Batch is the number of events per transaction; 0 means DefaultBatch.
	Batch int
	// Observe, when set, is told after every batch the time the batch
	// spent in each stage and how many it handled there: "match" (events
	// looked up in the constituency), "fields" (stored rows whose fields
	// were made into JSON), "dedup" (deduplication keys made and claimed)
	// and "store" (rows written and committed). Parsing is the rest of the
	// run's time. Timing every event costs a little; leave it nil when
	// not needed.
	Observe func(stage string, d time.Duration, n int)
}

// The stages that Options.Observe is told about.
const (
	StageMatch  = "match"
	StageFields = "fields"
	StageDedup  = "dedup"
	StageStore  = "store"
)

// Pipeline runs feeds into the database.
type Pipeline struct {
	db    *store.DB
	index *constituency.Index
	log   *slog.Logger
	opt   Options
	now   func() time.Time

	// The multi-row statements of full chunks, prepared once on the write
	// pool and used in every batch's transaction (SQLite's single writer
	// connection keeps them), instead of SQL text parsed per chunk.
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
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
	Source string // "file", "dropdir", "shadowserver", "smtp", "demo"
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
	obs      [4]stageTime
	buf      []byte // scratch for the fields' JSON
	kb       keyBuf
	fresh    map[string]bool
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
	obs := w.p.opt.Observe != nil
	var t0 time.Time
	if obs {
		t0 = time.Now()
	}
	m := Match(w.snap, e)
	if obs {
		t1 := time.Now()
		w.obs[0].add(t1.Sub(t0), 1)
		t0 = t1
	}
	base := eventRow{feed: e.Feed, time: e.Time, severity: e.Severity, taxonomy: e.Taxonomy, typ: e.Type, identifier: e.Identifier,
		srcIP: addr(e.SrcIP), srcIPN: IPKey(e.SrcIP), srcPort: int(e.SrcPort), srcASN: int64(e.SrcASN), srcFQDN: e.SrcFQDN,
		dstIP: addr(e.DstIP), dstPort: int(e.DstPort), dstASN: int64(e.DstASN), dstFQDN: e.DstFQDN,
		matchedOn: m.On, matchedValue: m.Value}
	w.buf = AppendFieldsJSON(w.buf[:0], e.Fields)
	base.fields = string(w.buf)
	if obs {
		t1 := time.Now()
		w.obs[1].add(t1.Sub(t0), max(1, len(m.Orgs)))
		t0 = t1
	}
	if len(m.Orgs) == 0 {
		s.Unmatched++
		w.rows = append(w.rows, base)
	} else {
		s.Matched++
		for _, org := range m.Orgs {
			r := base
			r.org, r.key = org, w.kb.key(org, e)
			w.rows = append(w.rows, r)
		}
		if obs {
			w.obs[2].add(time.Since(t0), 0)
		}
	}
	if len(w.rows) >= w.p.opt.Batch {
		return w.flush(w.ctx)
	}
	return nil
}

// stageTime accumulates the time of one stage over a batch.
type stageTime struct {
	d time.Duration
	n int
}

func (s *stageTime) add(d time.Duration, n int) { s.d += d; s.n += n }

// observed are the stages in the order of runWriter.obs.
var observed = [4]string{StageMatch, StageFields, StageDedup, StageStore}

// observe tells Options.Observe the batch's times and starts anew.
func (w *runWriter) observe() {
	for i := range w.obs {
		if w.obs[i] != (stageTime{}) {
			w.p.opt.Observe(observed[i], w.obs[i].d, w.obs[i].n)
		}
		w.obs[i] = stageTime{}
	}
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
	start := time.Now()
	// Prepared outside the transaction: SQLite's writer has one connection,
	// which the transaction holds.
	if err := w.p.prepare(ctx); err != nil {
		return fmt.Errorf("feeds: store batch: %w", err)
	}
	var inDedup time.Duration
	err := w.p.db.Tx(ctx, func(tx *store.Tx) error {
		t0 := time.Now()
		if err := w.dedup(ctx, tx, now); err != nil {
			return err
		}
		inDedup = time.Since(t0)
		if err := w.p.insertEvents(ctx, tx, w.run.ID, w.rows, now); err != nil {
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
	if w.p.opt.Observe != nil {
		pairs := 0
		for i := range w.rows {
			if w.rows[i].org != 0 {
				pairs++
			}
		}
		w.obs[2].add(inDedup, pairs)
		w.obs[3].add(time.Since(start)-inDedup, len(w.rows)+len(w.problems))
		w.observe()
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
	args := make([]any, 0, 5*dedupChunk)
	for len(claim) > 0 {
		n := min(dedupChunk, len(claim))
		part := claim[:n]
		claim = claim[n:]
		args = args[:0]
		for _, i := range part {
			r := &w.rows[i]
			seen := r.time
			if seen.IsZero() {
				seen = now
			}
			args = append(args, r.key, r.org, r.feed, seen, seen.Add(w.p.opt.Window))
		}
		rows, err := w.p.query(ctx, tx, dedupSQL(n), n == dedupChunk, args)
		if err != nil {
			return err
		}
		clear(w.fresh)
		if w.fresh == nil {
			w.fresh = make(map[string]bool, dedupChunk)
		}
		fresh := w.fresh
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

// Rows per multi-row statement: 23 and 5 parameters a row, well under
// the limits of both databases (32,766 for SQLite, 65,535 for PostgreSQL).
const (
	insertChunk = 250
	dedupChunk  = 500
)

// insertSQL is the INSERT of n events.
func insertSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO feed_events ` + eventCols + ` VALUES `)
	for j := range n {
		if j > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
	}
	return b.String()
}

// dedupSQL claims n keys and returns those that are new.
func dedupSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO feed_dedup (key, org_id, feed, first_seen, until) VALUES `)
	for j := range n {
		if j > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?)")
	}
	b.WriteString(` ON CONFLICT (key) DO UPDATE SET until = excluded.until WHERE feed_dedup.until <= excluded.first_seen RETURNING key`)
	return b.String()
}

var fullSQL = struct{ insert, dedup string }{insertSQL(insertChunk), dedupSQL(dedupChunk)}

// prepare prepares the statements of full chunks, once.
func (p *Pipeline) prepare(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stmts != nil {
		return nil
	}
	m := map[string]*sql.Stmt{}
	for _, q := range []string{fullSQL.insert, fullSQL.dedup} {
		text := q
		if p.db.Dialect() == store.Postgres {
			text = store.Rebind(q)
		}
		st, err := p.db.WritePool().PrepareContext(ctx, text)
		if err != nil {
			for _, s := range m {
				s.Close()
			}
			return err
		}
		m[q] = st
	}
	p.stmts = m
	return nil
}

// stmt returns the prepared statement of q in tx, or nil.
func (p *Pipeline) stmt(ctx context.Context, tx *store.Tx, q string) *sql.Stmt {
	p.mu.Lock()
	st := p.stmts[q]
	p.mu.Unlock()
	if st == nil {
		return nil
	}
	return tx.SQL().StmtContext(ctx, st)
}

// Close releases the pipeline's prepared statements; a later run prepares
// them again.
func (p *Pipeline) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var err error
	for _, s := range p.stmts {
		err = errors.Join(err, s.Close())
	}
	p.stmts = nil
	return err
}

func (p *Pipeline) exec(ctx context.Context, tx *store.Tx, q string, prepared bool, args []any) error {
	if prepared {
		if st := p.stmt(ctx, tx, q); st != nil {
			_, err := st.ExecContext(ctx, args...)
			return err
		}
	}
	_, err := tx.Exec(ctx, q, args...)
	return err
}

func (p *Pipeline) query(ctx context.Context, tx *store.Tx, q string, prepared bool, args []any) (*sql.Rows, error) {
	if prepared {
		if st := p.stmt(ctx, tx, q); st != nil {
			return st.QueryContext(ctx, args...)
		}
	}
	return tx.Query(ctx, q, args...)
}

// insertEvents stores rows with multi-row INSERTs.
func (p *Pipeline) insertEvents(ctx context.Context, tx *store.Tx, run int64, rows []eventRow, now time.Time) error {
	args := make([]any, 0, 23*min(insertChunk, len(rows)))
	for len(rows) > 0 {
		n := min(insertChunk, len(rows))
		part := rows[:n]
		rows = rows[n:]
		args = args[:0]
		for j := range part {
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
		q := fullSQL.insert
		if n < insertChunk {
			q = insertSQL(n)
		}
		if err := p.exec(ctx, tx, q, n == insertChunk, args); err != nil {
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
		on   *[3]string
		ip   netip.Addr
		fqdn string
		asn  uint32
	}{{&sourceOn, e.SrcIP, e.SrcFQDN, e.SrcASN}, {&destinationOn, e.DstIP, e.DstFQDN, e.DstASN}} {
		if side.ip.IsValid() {
			if m := s.LookupIP(side.ip); m.Found() {
				return MatchResult{Orgs: m.Orgs, On: side.on[0], Value: m.Value}
			}
		}
		if side.fqdn != "" {
			if m := s.LookupDomain(side.fqdn); m.Found() {
				return MatchResult{Orgs: m.Orgs, On: side.on[1], Value: m.Value}
			}
		}
		if side.asn != 0 {
			if m := s.LookupASN(side.asn); m.Found() {
				return MatchResult{Orgs: m.Orgs, On: side.on[2], Value: m.Value}
			}
		}
	}
	return MatchResult{}
}

// The fields an event matches on, by side: ip, fqdn, asn.
var (
	sourceOn      = [3]string{"source.ip", "source.fqdn", "source.asn"}
	destinationOn = [3]string{"destination.ip", "destination.fqdn", "destination.asn"}
)

// dedupFields are the fields beyond the typed members that tell one
// finding from another (the vulnerable service, the malware, the URL).
var dedupFields = []string{"protocol.transport", "protocol.application", "malware.name", "source.url", "destination.url", "source.account",
	"product.vulnerabilities"}

// DedupKey is the stable key of an event for an organisation: the same
// finding about the same host, whatever day it is reported, has the same
// key (its time is not part of it).
func DedupKey(org int64, e *Event) string {
	var kb keyBuf
	return kb.key(org, e)
}

// keyBuf makes deduplication keys without allocating, but for the key:
// the parts are written, each length-prefixed, into one buffer that is
// hashed at once.
type keyBuf struct {
	b []byte
}

func (kb *keyBuf) key(org int64, e *Event) string {
	b := binary.BigEndian.AppendUint64(kb.b[:0], uint64(org))
	put := func(s string) {
		b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
		b = append(b, s...)
	}
	putAddr := func(a netip.Addr) {
		if !a.IsValid() {
			put("")
			return
		}
		n := len(b)
		b = binary.BigEndian.AppendUint64(b, 0)
		b = a.Unmap().AppendTo(b)
		binary.BigEndian.PutUint64(b[n:], uint64(len(b)-n-8))
	}
	putUint := func(v uint64) {
		n := len(b)
		b = binary.BigEndian.AppendUint64(b, 0)
		b = strconv.AppendUint(b, v, 10)
		binary.BigEndian.PutUint64(b[n:], uint64(len(b)-n-8))
	}
	put(e.Feed)
	put(e.Identifier)
	putAddr(e.SrcIP)
	putUint(uint64(e.SrcPort))
	put(e.SrcFQDN)
	putAddr(e.DstIP)
	putUint(uint64(e.DstPort))
	put(e.DstFQDN)
	for _, k := range dedupFields {
		put(k)
		for _, f := range e.Fields {
			if f.Key != k {
				continue
			}
			switch v := f.Value.(type) {
			case string:
				put(v)
			case int64:
				n := len(b)
				b = binary.BigEndian.AppendUint64(b, 0)
				b = strconv.AppendInt(b, v, 10)
				binary.BigEndian.PutUint64(b[n:], uint64(len(b)-n-8))
			default:
				put(fmt.Sprint(v))
			}
		}
	}
	kb.b = b
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
