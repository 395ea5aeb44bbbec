package feeds

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/constituency"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/store"
)

// fixture is a database with three organisations and a constituency: A
// holds 192.0.2.0/24, B the domain victim.example, C AS 64500 and the
// narrower 192.0.2.128/25 inside A's prefix (the longest prefix wins).
type fixture struct {
	db      *store.DB
	index   *constituency.Index
	a, b, c int64
	t0      time.Time
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := t.Context()
	f := &fixture{db: db, index: constituency.NewIndex(), t0: time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC)}
	for _, x := range []struct {
		id   *int64
		name string
	}{{&f.a, "Feed Water A"}, {&f.b, "Feed Hosting B"}, {&f.c, "Feed Telecom C"}} {
		if err := db.QueryRow(ctx, `INSERT INTO organisations (name, kind, created_at, updated_at) VALUES (?, 'entity', ?, ?) RETURNING id`,
			x.name, f.t0, f.t0).Scan(x.id); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := constituency.Build([]constituency.Claim{
		{ID: 1, OrgID: f.a, Kind: constituency.KindPrefix, Value: "192.0.2.0/24"},
		{ID: 2, OrgID: f.c, Kind: constituency.KindPrefix, Value: "192.0.2.128/25"},
		{ID: 3, OrgID: f.b, Kind: constituency.KindDomain, Value: "victim.example"},
		{ID: 4, OrgID: f.c, Kind: constituency.KindASN, Value: "64500"},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.index.Swap(snap)
	return f
}

func (f *fixture) pipeline(window time.Duration, batch int) *Pipeline {
	p := NewPipeline(f.db, f.index, slog.New(slog.DiscardHandler), Options{Window: window, Batch: batch})
	p.SetClock(func() time.Time { return f.t0.Add(time.Hour) })
	return p
}

// scan is a scan_http-like event about ip:port at t.
func scan(ip string, port uint16, t time.Time) *Event {
	return &Event{Feed: "scan_http", FeedName: "Accessible-HTTP", Time: t, Severity: "medium", Taxonomy: "vulnerable",
		Type: "vulnerable-system", Identifier: "accessible-http", SrcIP: netip.MustParseAddr(ip), SrcPort: port, SrcASN: 64511,
		Fields: []Field{{"protocol.transport", "tcp"}, {"extra.tag", "http"}, {"extra.http_code", int64(200)}}}
}

// feed returns a Parse that emits events and one problem.
func feed(events []*Event, problems ...Problem) Parse {
	return func(ctx context.Context, emit func(*Event) error, problem func(Problem) error) error {
		for _, e := range events {
			if err := emit(e); err != nil {
				return err
			}
		}
		for _, p := range problems {
			if err := problem(p); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestPipeline(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := t.Context()
		day := f.t0
		events := []*Event{
			scan("192.0.2.10", 80, day),                // A, by prefix
			scan("192.0.2.10", 80, day.Add(time.Hour)), // A again the same day: duplicate
			scan("192.0.2.10", 8080, day),              // A, another service: new
			scan("192.0.2.200", 80, day),               // C, the narrower prefix
			{Feed: "compromised_website", Time: day, SrcFQDN: "shop.victim.example", Identifier: "compromised-website",
				Fields: []Field{{"source.url", "http://shop.victim.example/x"}}}, // B, by domain
			{Feed: "event4_sinkhole", Time: day, SrcIP: netip.MustParseAddr("198.51.100.7"), SrcASN: 64500,
				Fields: []Field{{"malware.name", "andromeda"}}}, // C, by AS
			scan("203.0.113.5", 443, day), // nobody's
		}
		p := f.pipeline(7*24*time.Hour, 3) // small batches: the dedup crosses them
		var seen []Stats
		run, err := p.Run(ctx, RunInput{Source: "file", Name: "2026-11-20-scan_http-belgium.csv"}, feed(events,
			Problem{Row: 9, Reason: "source.ip: not an IP address", Raw: "2026-11-20 06:00:00,bogus,80"}),
			func(s Stats) { seen = append(seen, s) })
		if err != nil {
			t.Fatal(err)
		}
		want := Stats{Rows: 8, Events: 7, Problems: 1, Matched: 6, Unmatched: 1, Duplicates: 1, New: 5}
		if run.Stats != want || run.Status != "done" || run.Feed != "scan_http" {
			t.Fatalf("run %+v, want %+v done", run, want)
		}
		if len(seen) < 2 || seen[len(seen)-1] != want {
			t.Errorf("progress %+v", seen)
		}
		// What was stored.
		count := func(q string, args ...any) int {
			t.Helper()
			var n int
			if err := db.QueryRow(ctx, q, args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count(`SELECT count(*) FROM feed_events WHERE run_id = ?`, run.ID); n != 7 {
			t.Errorf("%d events stored, want 7 (one per event and organisation, unmatched included)", n)
		}
		for _, c := range []struct {
			org  int64
			on   string
			want int
		}{{f.a, "source.ip", 2}, {f.b, "source.fqdn", 1}, {f.c, "source.ip", 1}, {f.c, "source.asn", 1}} {
			if n := count(`SELECT count(*) FROM feed_events WHERE org_id = ? AND matched_on = ? AND notify = ?`, c.org, c.on, true); n != c.want {
				t.Errorf("org %d by %s: %d to notify, want %d", c.org, c.on, n, c.want)
			}
		}
		if n := count(`SELECT count(*) FROM feed_events WHERE org_id IS NULL AND notify = ?`, false); n != 1 {
			t.Errorf("%d unmatched events stored, want 1", n)
		}
		var fields string
		if err := db.QueryRow(ctx, `SELECT fields FROM feed_events WHERE org_id = ? AND src_port = 8080`, f.a).Scan(&fields); err != nil {
			t.Fatal(err)
		}
		if fields != `{"protocol.transport":"tcp","extra.tag":"http","extra.http_code":200}` {
			t.Errorf("fields %s", fields)
		}
		if n := count(`SELECT count(*) FROM feed_problems WHERE run_id = ? AND row_no = 9`, run.ID); n != 1 {
			t.Errorf("problem not kept")
		}
		var status string
		var dups int
		if err := db.QueryRow(ctx, `SELECT status, duplicates FROM feed_runs WHERE id = ?`, run.ID).Scan(&status, &dups); err != nil || status != "done" || dups != 1 {
			t.Errorf("stored run: %s %d %v", status, dups, err)
		}

		// The next day's report: the same findings are duplicates.
		next := make([]*Event, len(events))
		for i, e := range events {
			x := *e
			x.Time = e.Time.Add(24 * time.Hour)
			next[i] = &x
		}
		run2, err := p.Run(ctx, RunInput{Source: "file", Name: "2026-11-21-scan_http-belgium.csv"}, feed(next), nil)
		if err != nil {
			t.Fatal(err)
		}
		if run2.Stats.New != 0 || run2.Stats.Duplicates != 6 {
			t.Errorf("second day: %+v, want 0 new and 6 duplicates", run2.Stats)
		}
		// A week later they are news again.
		later := make([]*Event, len(events))
		for i, e := range events {
			x := *e
			x.Time = e.Time.Add(8 * 24 * time.Hour)
			later[i] = &x
		}
		run3, err := p.Run(ctx, RunInput{Source: "file", Name: "2026-11-28-scan_http-belgium.csv"}, feed(later), nil)
		if err != nil {
			t.Fatal(err)
		}
		if run3.Stats.New != 5 {
			t.Errorf("after the window: %+v, want 5 new", run3.Stats)
		}
	})
}

// TestPipelineFailure: a parser that fails leaves a failed run with the
// batches stored before the failure.
func TestPipelineFailure(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		p := f.pipeline(0, 2)
		boom := errors.New("gzip: invalid checksum")
		parse := func(ctx context.Context, emit func(*Event) error, problem func(Problem) error) error {
			for i := range 5 {
				if err := emit(scan("192.0.2.1", uint16(1000+i), f.t0)); err != nil {
					return err
				}
			}
			return boom
		}
		run, err := p.Run(t.Context(), RunInput{Source: "file", Name: "broken.csv.gz", Feed: "scan_http"}, parse, nil)
		if !errors.Is(err, boom) || run.Status != "failed" || run.Error != boom.Error() {
			t.Fatalf("run %+v, err %v", run, err)
		}
		var status, msg string
		var n int
		if err := db.QueryRow(t.Context(), `SELECT status, error, (SELECT count(*) FROM feed_events WHERE run_id = r.id) FROM feed_runs r WHERE id = ?`,
			run.ID).Scan(&status, &msg, &n); err != nil {
			t.Fatal(err)
		}
		if status != "failed" || msg != boom.Error() || n != 4 {
			t.Errorf("stored: %s %q, %d events (want the 4 of the two full batches)", status, msg, n)
		}
	})
}

// TestPipelineConcurrent: two instances reading the same report at once
// notify every finding once between them.
func TestPipelineConcurrent(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		var events []*Event
		for i := range 300 {
			events = append(events, scan("192.0.2.10", uint16(i+1), f.t0))
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var total Stats
		for range 2 {
			wg.Go(func() {
				run, err := f.pipeline(0, 50).Run(t.Context(), RunInput{Source: "file", Name: "same.csv"}, feed(events), nil)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				total.New += run.Stats.New
				total.Duplicates += run.Stats.Duplicates
				mu.Unlock()
			})
		}
		wg.Wait()
		if total.New != 300 || total.Duplicates != 300 {
			t.Errorf("between two instances: %d new, %d duplicates; want 300 and 300", total.New, total.Duplicates)
		}
	})
}

func TestDedupKey(t *testing.T) {
	a := scan("192.0.2.10", 80, time.Now())
	b := scan("192.0.2.10", 80, time.Now().Add(48*time.Hour))
	if DedupKey(1, a) != DedupKey(1, b) {
		t.Error("the time changes the key")
	}
	if DedupKey(1, a) == DedupKey(2, a) {
		t.Error("the organisation does not change the key")
	}
	c := scan("192.0.2.10", 80, time.Now())
	c.Fields = append(c.Fields, Field{"malware.name", "mirai"})
	if DedupKey(1, a) == DedupKey(1, c) {
		t.Error("the malware does not change the key")
	}
	d := scan("192.0.2.10", 81, time.Now())
	if DedupKey(1, a) == DedupKey(1, d) {
		t.Error("the port does not change the key")
	}
	// Length-prefixed parts: moving text between fields changes the key.
	e1 := &Event{Feed: "x", SrcFQDN: "ab", DstFQDN: "c"}
	e2 := &Event{Feed: "x", SrcFQDN: "a", DstFQDN: "bc"}
	if DedupKey(1, e1) == DedupKey(1, e2) {
		t.Error("field boundaries do not count")
	}
}

func TestFieldsJSON(t *testing.T) {
	got := FieldsJSON([]Field{{"extra.tag", "a\"b\\c\n\x01\u2028"}, {"extra.n", int64(-3)}, {"extra.f", 2.5}, {"extra.b", true},
		{"product.vulnerabilities", []string{"CVE-2024-1", "CVE-2024-2"}}, {"extra.tag", "second"}, {"extra.bad", "\xff"}})
	want := `{"extra.tag":"a\"b\\c\n\u0001\u2028","extra.n":-3,"extra.f":2.5,"extra.b":true,"product.vulnerabilities":["CVE-2024-1","CVE-2024-2"],"extra.bad":"\ufffd"}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestPurge deletes what is older than the retention: events stored
// before it, the problems of runs started before it and the keys whose
// window ended before it; runs stay.
func TestPurge(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := t.Context()
		p := f.pipeline(24*time.Hour, 0)
		if _, err := p.Run(ctx, RunInput{Source: "file", Name: "old.csv"}, feed([]*Event{scan("192.0.2.10", 80, f.t0.Add(-48*time.Hour)),
			scan("203.0.113.9", 80, f.t0)}, Problem{Row: 3, Reason: "x"}), nil); err != nil {
			t.Fatal(err)
		}
		later := f.t0.Add(72 * time.Hour)
		p.SetClock(func() time.Time { return later })
		if _, err := p.Run(ctx, RunInput{Source: "file", Name: "new.csv"}, feed([]*Event{scan("192.0.2.11", 80, later)}, Problem{Row: 4, Reason: "y"}), nil); err != nil {
			t.Fatal(err)
		}
		got, err := Purge(ctx, db, later.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		// The first run's two events and problem, and its key (window ended
		// at t0-24h); the second run's key ends after later.
		if got != (Purged{Events: 2, Problems: 1, Keys: 1}) {
			t.Errorf("purged %+v, want 2 events, 1 problem, 1 key", got)
		}
		var events, problems, keys, runs int
		if err := db.QueryRow(ctx, `SELECT (SELECT count(*) FROM feed_events), (SELECT count(*) FROM feed_problems), (SELECT count(*) FROM feed_dedup),
			(SELECT count(*) FROM feed_runs)`).Scan(&events, &problems, &keys, &runs); err != nil {
			t.Fatal(err)
		}
		if events != 1 || problems != 1 || keys != 1 || runs != 2 {
			t.Errorf("left %d events, %d problems, %d keys, %d runs; want 1, 1, 1, 2", events, problems, keys, runs)
		}
	})
}
