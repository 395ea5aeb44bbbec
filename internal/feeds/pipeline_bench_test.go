package feeds

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/constituency"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/store"
)

// benchEvents are n scan_http-shaped events (the typed members and the
// fields the Shadowserver parser makes of a scan_http row), 80 % inside
// prefixes, 20 % outside, reproducible.
func benchEvents(n int, prefixes []netip.Prefix) []Event {
	rng := rand.New(rand.NewPCG(1, 2))
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	out := make([]Event, n)
	for i := range out {
		var ip netip.Addr
		if rng.IntN(5) == 0 {
			ip = netip.AddrFrom4([4]byte{198, byte(18 + rng.IntN(2)), byte(rng.IntN(256)), byte(1 + rng.IntN(254))})
		} else {
			b := prefixes[rng.IntN(len(prefixes))].Addr().As4()
			b[3] = byte(1 + rng.IntN(254))
			ip = netip.AddrFrom4(b)
		}
		port := []uint16{80, 443, 8080, 8443, 8000}[rng.IntN(5)]
		out[i] = Event{Feed: "scan_http", FeedName: "Accessible-HTTP", Time: day.Add(time.Duration(rng.IntN(86400)) * time.Second),
			Severity: "medium", Taxonomy: "vulnerable", Type: "vulnerable-system", Identifier: "accessible-http", SrcIP: ip, SrcPort: port,
			SrcASN: uint32(64500 + rng.IntN(20)), SrcFQDN: fmt.Sprintf("host-%d.example", i), Row: i + 1,
			Fields: []Field{{"protocol.transport", "tcp"}, {"extra.tag", "http"}, {"source.geolocation.cc", "BE"},
				{"source.geolocation.region", "BRUXELLES"}, {"source.geolocation.city", "BRUSSELS"}, {"extra.naics", int64(517311)},
				{"extra.source.hostname_source", "rdns"}, {"extra.source.sector", "Communications Service Provider"},
				{"extra.http", "HTTP/1.1"}, {"extra.http_code", int64(200)}, {"extra.http_reason", "OK"}, {"extra.content_type", "text/html"},
				{"extra.connection", "close"}, {"extra.server", "nginx"}, {"extra.content_length", int64(512 + rng.IntN(40000))},
				{"extra.http_date", "Fri, 20 Nov 2026 06:00:00 GMT"}, {"feed.name", "Accessible-HTTP"}, {"protocol.application", "http"}}}
	}
	return out
}

// benchConstituency: m /24 prefixes of k organisations.
func benchConstituency(b *testing.B, m, k int, org func(i int) int64) (*constituency.Index, []netip.Prefix) {
	prefixes := SyntheticPrefixes(m)
	claims := make([]constituency.Claim, m)
	for i, p := range prefixes {
		claims[i] = constituency.Claim{ID: int64(i + 1), OrgID: org(i % k), Kind: constituency.KindPrefix, Value: p.String()}
	}
	snap, err := constituency.Build(claims)
	if err != nil {
		b.Fatal(err)
	}
	x := constituency.NewIndex()
	x.Swap(snap)
	return x, prefixes
}

// BenchmarkMatch: matching an event to the constituency (10,000 prefixes
// of 1,000 organisations), as the pipeline does for every event.
func BenchmarkMatch(b *testing.B) {
	x, prefixes := benchConstituency(b, 10_000, 1_000, func(i int) int64 { return int64(i + 1) })
	events := benchEvents(100_000, prefixes)
	snap := x.Load()
	b.ReportAllocs()
	b.ResetTimer()
	matched := 0
	i := 0
	for b.Loop() {
		if m := Match(snap, &events[i]); len(m.Orgs) > 0 {
			matched++
		}
		if i++; i == len(events) {
			i = 0
		}
	}
	if matched == 0 {
		b.Fatal("nothing matched")
	}
}

// BenchmarkPipelineSQLite: Pipeline.Run into SQLite (synchronous=normal,
// as dbtest opens it) of 20,000 events per operation, each operation a
// new run on the same database (so later runs find the earlier keys).
func BenchmarkPipelineSQLite(b *testing.B) {
	db := dbtest.SQLite(b)
	ctx := context.Background()
	orgs := benchOrgs(b, db, 1_000)
	x, prefixes := benchConstituency(b, 10_000, 1_000, func(i int) int64 { return orgs[i] })
	const n = 20_000
	events := benchEvents(n, prefixes)
	p := NewPipeline(db, x, slog.New(slog.DiscardHandler), Options{})
	b.ReportAllocs()
	b.ResetTimer()
	runs := 0
	for b.Loop() {
		runs++
		run, err := p.Run(ctx, RunInput{Source: "file", Name: fmt.Sprintf("bench-%d.csv", runs)}, func(ctx context.Context,
			emit func(*Event) error, problem func(Problem) error) error {
			for i := range events {
				e := events[i]
				e.Time = e.Time.Add(time.Duration(runs) * 24 * time.Hour)
				if err := emit(&e); err != nil {
					return err
				}
			}
			return nil
		}, nil)
		if err != nil || run.Stats.Events != n {
			b.Fatalf("run %+v: %v", run, err)
		}
	}
	b.ReportMetric(float64(n*runs)/b.Elapsed().Seconds(), "events/s")
}

func benchOrgs(b *testing.B, db *store.DB, k int) []int64 {
	ctx := context.Background()
	ids := make([]int64, k)
	now := time.Now().UTC()
	err := db.Tx(ctx, func(tx *store.Tx) error {
		for i := range ids {
			if err := tx.QueryRow(ctx, `INSERT INTO organisations (name, kind, created_at, updated_at) VALUES (?, 'entity', ?, ?) RETURNING id`,
				fmt.Sprintf("Bench org %d", i), now, now).Scan(&ids[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return ids
}
