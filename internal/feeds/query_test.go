package feeds

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/constituency"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
)

var asStaff = auth.With(context.Background(), &auth.Principal{UserID: 1, OrgID: 1, OrgKind: "authority", Roles: []auth.Role{auth.RoleAnalyst}})

func asOrg(org int64) context.Context {
	return auth.With(context.Background(), &auth.Principal{UserID: 99, OrgID: org, OrgKind: "entity", Roles: []auth.Role{auth.RoleMember}})
}

// TestIPKeyColumn: the migration's trigger stores the same 16 bytes as
// IPKey for every form of address the pipeline writes, and a prefix is
// the range prefixRange says.
func TestIPKeyColumn(t *testing.T) {
	addrs := []string{"192.0.2.10", "0.0.0.0", "255.255.255.255", "10.1.2.3", "2001:db8::1", "::1", "::", "fe80::", "2001:db8:1:2:3:4:5:6",
		"2001:db8:0:0:1::", "1::2:0:0:3", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "64:ff9b::c000:20a"}
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		var events []*Event
		for i, a := range addrs {
			events = append(events, scan(a, uint16(i+1), f.t0))
		}
		if _, err := f.pipeline(0, 5).Run(t.Context(), RunInput{Source: "file", Name: "keys.csv"}, feed(events), nil); err != nil {
			t.Fatal(err)
		}
		rows, err := db.Query(t.Context(), `SELECT src_ip, src_ipn FROM feed_events`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var ip string
			var key []byte
			if err := rows.Scan(&ip, &key); err != nil {
				t.Fatal(err)
			}
			if want := IPKey(netip.MustParseAddr(ip)); !bytes.Equal(key, want) {
				t.Errorf("src_ipn of %s = %x, want %x", ip, key, want)
			}
			n++
		}
		if n != len(addrs) {
			t.Errorf("%d rows, want %d", n, len(addrs))
		}
	})
	lo, hi := prefixRange(netip.MustParsePrefix("192.0.2.128/25"))
	if fmt.Sprintf("%x", lo) != "00000000000000000000ffffc0000280" || fmt.Sprintf("%x", hi) != "00000000000000000000ffffc00002ff" {
		t.Errorf("range of 192.0.2.128/25 = %x–%x", lo, hi)
	}
	lo, hi = prefixRange(netip.MustParsePrefix("2001:db8::/32"))
	if fmt.Sprintf("%x", lo) != "20010db8000000000000000000000000" || fmt.Sprintf("%x", hi) != "20010db8ffffffffffffffffffffffff" {
		t.Errorf("range of 2001:db8::/32 = %x–%x", lo, hi)
	}
}

// searchFixture stores two days of events: A's (192.0.2.0/24 minus C's
// /25), C's (192.0.2.128/25 and AS 64500), B's by domain, IPv6 ones of
// nobody, and unmatched IPv4 ones.
func searchFixture(t *testing.T, db *store.DB) (*fixture, *Run, *Run) {
	t.Helper()
	f := newFixture(t, db)
	var day1, day2 []*Event
	for i := range 20 {
		day1 = append(day1, scan(fmt.Sprintf("192.0.2.%d", i+1), 80, f.t0))                             // A
		day1 = append(day1, scan(fmt.Sprintf("192.0.2.%d", 200+i), 443, f.t0))                          // C (narrower prefix)
		day2 = append(day2, scan(fmt.Sprintf("2001:db8:%x::%x", i%2, i+1), 22, f.t0.Add(24*time.Hour))) // nobody, IPv6
	}
	for i := range 5 {
		e := scan(fmt.Sprintf("203.0.113.%d", i+1), 23, f.t0.Add(24*time.Hour)) // nobody
		e.Severity = "high"
		day2 = append(day2, e)
	}
	day2 = append(day2, &Event{Feed: "event4_sinkhole", Time: f.t0.Add(25 * time.Hour), SrcIP: netip.MustParseAddr("198.51.100.7"), SrcASN: 64500,
		Severity: "critical", Fields: []Field{{"malware.name", "andromeda"}}}, // C, by AS
		&Event{Feed: "compromised_website", Time: f.t0.Add(26 * time.Hour), SrcFQDN: "shop.victim.example", Severity: "high"}) // B
	p := f.pipeline(0, 7)
	r1, err := p.Run(t.Context(), RunInput{Source: "file", Name: "2026-11-20-scan_http-belgium.csv"}, feed(day1,
		Problem{Row: 3, Reason: "source.ip: not an IP address", Raw: "x,y"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	p.SetClock(func() time.Time { return f.t0.Add(25 * time.Hour) })
	r2, err := p.Run(t.Context(), RunInput{Source: "shadowserver", Name: "2026-11-21-mixed.csv", Feed: "scan_http"}, feed(day2), nil)
	if err != nil {
		t.Fatal(err)
	}
	return f, r1, r2
}

func TestSearchEvents(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f, r1, _ := searchFixture(t, db)
		svc := NewService(db, nil)
		search := func(q string) []*StoredEvent {
			t.Helper()
			v, _ := url.ParseQuery(q)
			fl, err := ParseEventFilter(v)
			if err != nil {
				t.Fatalf("ParseEventFilter(%s): %v", q, err)
			}
			fl.Limit = 500
			evs, total, capped, err := svc.Events(asStaff, fl)
			if err != nil {
				t.Fatalf("Events(%s): %v", q, err)
			}
			if total != len(evs) || capped {
				t.Errorf("Events(%s): total %d capped %v for %d events", q, total, capped, len(evs))
			}
			return evs
		}
		for _, c := range []struct {
			q    string
			want int
		}{
			{"", 67},
			{"ip=192.0.2.5", 1},
			{"ip=192.0.2.5/32", 1},
			{"ip=::ffff:192.0.2.5", 1},
			{"ip=192.0.2.0/24", 40},
			{"ip=192.0.2.128/25", 20},
			{"ip=192.0.2.0/28", 15}, // .1–.15
			{"ip=192.0.0.0/16", 40},
			{"ip=192.0.2.0/23", 40}, // not on an octet boundary
			{"ip=203.0.113.0/29", 5},
			{"ip=0.0.0.0/0", 46}, // every IPv4 event, no IPv6 one
			{"ip=2001:db8::/32", 20},
			{"ip=2001:db8:1::/48", 10},
			{"ip=2001:db8::1", 1},
			{"ip=::/0", 66}, // every address: IPv4 is stored in its mapped IPv6 form
			{"ip=::ffff:0:0/96", 46},
			{"asn=64500", 1},
			{"asn=AS64511", 65},
			{fmt.Sprintf("organisation_id=%d", f.a), 20},
			{fmt.Sprintf("organisation_id=%d", f.c), 21},
			{fmt.Sprintf("organisation_id=%d", f.b), 1},
			{"matched=no", 25},
			{"matched=yes", 42},
			{"feed=event4_sinkhole", 1},
			{"severity=high", 6},
			{"notify=yes", 42},
			{"notify=no", 25},
			{"from=2026-11-21", 27},
			{"to=2026-11-20", 40},
			{"from=2026-11-21T07:00:00Z&to=2026-11-21T08:00:00Z", 1},
			{fmt.Sprintf("run_id=%d", r1.ID), 40},
			{"ip=192.0.2.0/24&severity=high", 0},
		} {
			if got := search(c.q); len(got) != c.want {
				t.Errorf("search %q: %d events, want %d", c.q, len(got), c.want)
			}
		}
		// Paging: pages in a stable order, each event once.
		all := search("")
		var paged []int64
		for off := 0; ; off += 10 {
			evs, _, _, err := svc.Events(asStaff, EventFilter{Offset: off, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) == 0 {
				break
			}
			for _, e := range evs {
				paged = append(paged, e.ID)
			}
		}
		var ids []int64
		for _, e := range all {
			ids = append(ids, e.ID)
		}
		if !slices.Equal(ids, paged) || !slices.IsSortedFunc(ids, func(a, b int64) int { return int(b - a) }) {
			t.Errorf("paging: %v, want %v newest first", paged, ids)
		}
		// What an event says.
		ev := search("asn=64500")[0]
		if ev.OrgID == nil || *ev.OrgID != f.c || ev.OrgName != "Feed Telecom C" || ev.MatchedOn != "source.asn" || !ev.Notify ||
			string(ev.Fields) != `{"malware.name":"andromeda"}` || ev.Time == nil || !ev.Time.Equal(f.t0.Add(25*time.Hour)) {
			t.Errorf("event %+v", ev)
		}
		if un := search("ip=203.0.113.1")[0]; un.OrgID != nil || un.OrgName != "" || un.Notify {
			t.Errorf("unmatched event %+v", un)
		}
		// Exports see what the search sees, all of it.
		var n int
		if err := svc.EachEvent(asStaff, EventFilter{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Limit: 1}, func(*StoredEvent) error { n++; return nil }); err != nil || n != 40 {
			t.Errorf("EachEvent: %d events, %v", n, err)
		}
	})
}

func TestSearchCountCap(t *testing.T) {
	db := dbtest.SQLite(t)
	f := newFixture(t, db)
	var events []*Event
	for i := range CountCap + 5 {
		events = append(events, scan(fmt.Sprintf("10.0.%d.%d", i/256, i%256), 80, f.t0))
	}
	if _, err := f.pipeline(0, 0).Run(t.Context(), RunInput{Source: "file", Name: "big.csv"}, feed(events), nil); err != nil {
		t.Fatal(err)
	}
	evs, total, capped, err := NewService(db, nil).Events(asStaff, EventFilter{Limit: 50})
	if err != nil || len(evs) != 50 || total != CountCap || !capped {
		t.Errorf("Events = %d events, total %d, capped %v, %v", len(evs), total, capped, err)
	}
}

// TestScope: an organisation's users see their own events, never another
// organisation's, the unmatched ones, runs, problems or coverage.
func TestScope(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f, r1, _ := searchFixture(t, db)
		svc := NewService(db, nil)
		ctx := asOrg(f.a)
		evs, total, _, err := svc.Events(ctx, EventFilter{Limit: 500})
		if err != nil || total != 20 || len(evs) != 20 {
			t.Fatalf("A's own events: %d (%d), %v", len(evs), total, err)
		}
		for _, e := range evs {
			if e.OrgID == nil || *e.OrgID != f.a {
				t.Errorf("A sees %+v", e)
			}
		}
		// A prefix covering C's addresses still gives A only its own.
		evs, _, _, err = svc.Events(ctx, EventFilter{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Limit: 500})
		if err != nil || len(evs) != 20 {
			t.Errorf("A's prefix search: %d events, %v", len(evs), err)
		}
		evs, _, _, err = svc.Events(ctx, EventFilter{IP: netip.MustParseAddr("192.0.2.200"), Limit: 500})
		if err != nil || len(evs) != 0 {
			t.Errorf("A finds C's address: %d events, %v", len(evs), err)
		}
		for name, fl := range map[string]EventFilter{"another organisation": {OrgID: f.c}, "unmatched": {Matched: "no"}, "a run": {RunID: r1.ID}} {
			if _, _, _, err := svc.Events(ctx, fl); !errs.Is(err, errs.Forbidden) {
				t.Errorf("A asks for %s: %v, want forbidden", name, err)
			}
			if err := svc.EachEvent(ctx, fl, func(*StoredEvent) error { t.Error("exported"); return nil }); !errs.Is(err, errs.Forbidden) {
				t.Errorf("A exports %s: %v, want forbidden", name, err)
			}
		}
		if _, _, _, err := svc.Events(ctx, EventFilter{OrgID: f.a, Limit: 10}); err != nil {
			t.Errorf("A asks for its own organisation: %v", err)
		}
		if _, _, err := svc.Runs(ctx, RunFilter{Limit: 10}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("Runs as A: %v", err)
		}
		if _, err := svc.Run(ctx, r1.ID); !errs.Is(err, errs.Forbidden) {
			t.Errorf("Run as A: %v", err)
		}
		if _, err := svc.Coverage(ctx, f.t0, f.t0, ""); !errs.Is(err, errs.Forbidden) {
			t.Errorf("Coverage as A: %v", err)
		}
		if _, _, _, err := svc.Events(context.Background(), EventFilter{}); !errs.Is(err, errs.Unauthenticated) {
			t.Errorf("Events without a principal: %v", err)
		}
	})
}

func TestRunsAndCoverage(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f, r1, r2 := searchFixture(t, db)
		svc := NewService(db, nil)
		runs, total, err := svc.Runs(asStaff, RunFilter{Limit: 10})
		if err != nil || total != 2 || len(runs) != 2 || runs[0].ID != r2.ID || runs[1].ID != r1.ID {
			t.Fatalf("Runs = %v (%d), %v", runs, total, err)
		}
		if runs[1].Stats != r1.Stats || runs[1].Status != "done" || runs[1].FinishedAt == nil || !runs[1].StartedAt.Equal(r1.StartedAt) {
			t.Errorf("stored run %+v, want %+v", runs[1], r1)
		}
		for _, c := range []struct {
			f    RunFilter
			want int
		}{{RunFilter{Status: "done"}, 2}, {RunFilter{Status: "failed"}, 0}, {RunFilter{Feed: "scan_http"}, 2},
			{RunFilter{From: f.t0.Add(24 * time.Hour)}, 1}, {RunFilter{To: f.t0.Add(24 * time.Hour)}, 1}} {
			c.f.Limit = 10
			if _, n, err := svc.Runs(asStaff, c.f); err != nil || n != c.want {
				t.Errorf("Runs(%+v) = %d, %v; want %d", c.f, n, err, c.want)
			}
		}
		d, err := svc.Run(asStaff, r1.ID)
		if err != nil || len(d.Problems) != 1 || d.Problems[0] != (Problem{Row: 3, Reason: "source.ip: not an IP address", Raw: "x,y"}) {
			t.Errorf("Run = %+v, %v", d, err)
		}
		if _, err := svc.Run(asStaff, 999999); !errs.Is(err, errs.NotFound) {
			t.Errorf("Run(999999): %v", err)
		}
		// Coverage: day 1, 40 events all matched; day 2, 20 IPv6 and 5
		// IPv4 unmatched, 2 matched.
		c, err := svc.Coverage(asStaff, f.t0.Truncate(24*time.Hour), f.t0.Add(24*time.Hour).Truncate(24*time.Hour), "")
		if err != nil {
			t.Fatal(err)
		}
		want := []CoverageRow{{Day: "2026-11-20", Feed: "scan_http", Matched: 40, Share: 1}, {Day: "2026-11-21", Feed: "scan_http", Matched: 2, Unmatched: 25, Share: 2.0 / 27}}
		if !slices.Equal(c.Rows, want) || c.Total.Matched != 42 || c.Total.Unmatched != 25 || c.From != "2026-11-20" || c.To != "2026-11-21" {
			t.Errorf("Coverage = %+v, want rows %+v", c, want)
		}
		if c, err := svc.Coverage(asStaff, f.t0.Truncate(24*time.Hour), f.t0.Truncate(24*time.Hour), "nothing"); err != nil || len(c.Rows) != 0 {
			t.Errorf("Coverage of another feed = %+v, %v", c, err)
		}
	})
}

func TestParseEventFilter(t *testing.T) {
	for _, c := range []struct {
		q     string
		field string // the field at fault, "" when valid
	}{
		{"ip=192.0.2.1", ""}, {"ip=2001:db8::/32", ""}, {"ip=192.0.2.1/33", "ip"}, {"ip=banana", "ip"}, {"ip=fe80::1%25eth0", "ip"},
		{"asn=AS64500", ""}, {"asn=-1", "asn"}, {"asn=4294967296", "asn"}, {"severity=urgent", "severity"}, {"matched=maybe", "matched"},
		{"from=2026-11-20", ""}, {"from=20/11/2026", "from"}, {"organisation_id=0", "organisation_id"}, {"run_id=x", "run_id"},
	} {
		v, _ := url.ParseQuery(c.q)
		_, err := ParseEventFilter(v)
		e, _ := errs.As(err)
		switch {
		case c.field == "" && err != nil:
			t.Errorf("ParseEventFilter(%s) = %v, want no error", c.q, err)
		case c.field != "" && (e == nil || len(e.Fields) != 1 || e.Fields[0].Field != c.field):
			t.Errorf("ParseEventFilter(%s) = %v, want an error on %s", c.q, err, c.field)
		}
	}
	v, _ := url.ParseQuery("ip=::ffff:192.0.2.0/120")
	if f, _ := ParseEventFilter(v); f.Prefix != netip.MustParsePrefix("192.0.2.0/24") {
		t.Errorf("mapped prefix = %v", f.Prefix)
	}
}

func newIndex(tb testing.TB, org int64, prefix string) *constituency.Index {
	tb.Helper()
	snap, err := constituency.Build([]constituency.Claim{{ID: 1, OrgID: org, Kind: constituency.KindPrefix, Value: prefix}})
	if err != nil {
		tb.Fatal(err)
	}
	idx := constituency.NewIndex()
	idx.Swap(snap)
	return idx
}

// BenchmarkPrefixSearch searches a /24 among 200,000 stored events on
// SQLite: a page of 50 with its count, as the portal does.
func BenchmarkPrefixSearch(b *testing.B) {
	db := dbtest.SQLite(b)
	ctx := context.Background()
	var org int64
	if err := db.QueryRow(ctx, `INSERT INTO organisations (name, kind, created_at, updated_at) VALUES ('Bench', 'entity', ?, ?) RETURNING id`,
		time.Now(), time.Now()).Scan(&org); err != nil {
		b.Fatal(err)
	}
	f := &fixture{db: db, index: newIndex(b, org, "10.0.0.0/8"), t0: time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC)}
	const n = 200000
	parse := func(ctx context.Context, emit func(*Event) error, problem func(Problem) error) error {
		for i := range n {
			// 10.x.y.z spread over the /8, a quarter of them nobody's.
			ip := fmt.Sprintf("10.%d.%d.%d", (i*7919)%256, (i/256)%256, i%256)
			if i%4 == 3 {
				ip = fmt.Sprintf("100.64.%d.%d", (i/256)%256, i%256)
			}
			if err := emit(scan(ip, uint16(i%1000+1), f.t0)); err != nil {
				return err
			}
		}
		return nil
	}
	if _, err := f.pipeline(0, 0).Run(ctx, RunInput{Source: "file", Name: "bench.csv"}, parse, nil); err != nil {
		b.Fatal(err)
	}
	svc := NewService(db, nil)
	fl := EventFilter{Prefix: netip.MustParsePrefix("10.42.0.0/16"), Limit: 50}
	b.ResetTimer()
	for b.Loop() {
		evs, total, _, err := svc.Events(asStaff, fl)
		if err != nil || len(evs) == 0 || total == 0 {
			b.Fatalf("%d events, total %d, %v", len(evs), total, err)
		}
	}
}
