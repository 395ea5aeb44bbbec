package app_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/constituency"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/feeds"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// feedMarker is the host name of organisation A's feed event in the
// tenant-isolation walk: only A may ever see it.
const feedMarker = "victim-feed-host.example"

// feedClaim is a network of an organisation for runFeed.
type feedClaim struct {
	org    int64
	prefix string
}

// runFeed runs the real pipeline over events, matching them with the
// claims given (the registry's approval flow is not the subject here).
func runFeed(t *testing.T, db *store.DB, name string, claims []feedClaim, events []*feeds.Event, problems ...feeds.Problem) *feeds.Run {
	t.Helper()
	var cs []constituency.Claim
	for i, c := range claims {
		cs = append(cs, constituency.Claim{ID: int64(i + 1), OrgID: c.org, Kind: constituency.KindPrefix, Value: c.prefix})
	}
	snap, err := constituency.Build(cs)
	if err != nil {
		t.Fatal(err)
	}
	idx := constituency.NewIndex()
	idx.Swap(snap)
	parse := func(ctx context.Context, emit func(*feeds.Event) error, problem func(feeds.Problem) error) error {
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
	run, err := feeds.NewPipeline(db, idx, slog.New(slog.DiscardHandler), feeds.Options{}).Run(t.Context(),
		feeds.RunInput{Source: "file", Name: name}, parse, nil)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// feedRunFor stores one event of organisation org carrying feedMarker and
// returns its run, for the isolation walk.
func feedRunFor(t *testing.T, db *store.DB, org int64) int64 {
	t.Helper()
	run := runFeed(t, db, "victim-scan.csv", []feedClaim{{org, "192.0.2.0/24"}}, []*feeds.Event{{Feed: "scan_http", Time: time.Now().Add(-time.Hour),
		SrcIP: netip.MustParseAddr("192.0.2.77"), SrcPort: 443, SrcFQDN: feedMarker, Severity: "medium"}},
		feeds.Problem{Row: 2, Reason: "bad row", Raw: feedMarker + ",x"})
	return run.ID
}

func scanEvent(ip string, port uint16, at time.Time) *feeds.Event {
	return &feeds.Event{Feed: "scan_http", FeedName: "Accessible-HTTP", Time: at, Severity: "medium", Taxonomy: "vulnerable", Type: "vulnerable-system",
		Identifier: "accessible-http", SrcIP: netip.MustParseAddr(ip), SrcPort: port, SrcASN: 64511,
		Fields: []feeds.Field{{Key: "protocol.transport", Value: "tcp"}, {Key: "extra.tag", Value: "=cmd|' /C calc'!A0"}}}
}

// TestFeedsAPI searches and exports events through the API as the
// authority's analyst and as organisations, checking every answer
// against the OpenAPI document.
func TestFeedsAPI(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := webtest.New(t, db, false)
		authority, err := e.App.Identity.AuthorityOrg(webtest.System())
		if err != nil {
			t.Fatal(err)
		}
		a := e.Org(t, "Feed Water A", "entity")
		b := e.Org(t, "Feed Rail B", "entity")
		analyst := e.User(t, authority.ID, "feeds-analyst@ccb.example", "analyst")
		aUser := e.User(t, a.ID, "member@water-a.example", "member")
		bUser := e.User(t, b.ID, "member@rail-b.example", "member")
		staff := e.API(t, e.Token(t, analyst, "read"))
		aAPI := e.API(t, e.Token(t, aUser, "read"))
		bAPI := e.API(t, e.Token(t, bUser, "read"))
		spec := loadRegSpec(t, e)

		at := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second)
		claims := []feedClaim{{a.ID, "192.0.2.0/24"}, {a.ID, "2001:db8:a::/48"}, {b.ID, "198.51.100.0/24"}}
		var events []*feeds.Event
		for i := range 5 {
			events = append(events, scanEvent(fmt.Sprintf("192.0.2.%d", 10+i), 80, at))
		}
		for i := range 3 {
			events = append(events, scanEvent(fmt.Sprintf("198.51.100.%d", 20+i), 8080, at))
		}
		events = append(events, scanEvent("2001:db8:a::1", 443, at), scanEvent("2001:db8:a:ff::2", 443, at),
			scanEvent("203.0.113.1", 23, at), scanEvent("203.0.113.2", 23, at))
		run := runFeed(t, db, "scan_http-belgium.csv", claims, events, feeds.Problem{Row: 7, Reason: "source.ip: not an IP address", Raw: "bogus"})

		// The authority's analyst sees every run, event and the coverage.
		res := staff.Do("GET", "/api/v1/feeds/runs?status=done", nil)
		spec.check(t, res, "GET", "/api/v1/feeds/runs", 200)
		var runs struct {
			Items []feeds.Run `json:"items"`
			Total int         `json:"total"`
		}
		res.JSON(t, &runs)
		if runs.Total != 1 || runs.Items[0].ID != run.ID || runs.Items[0].Stats != run.Stats {
			t.Errorf("runs %+v, want %+v", runs, run)
		}
		res = staff.Do("GET", fmt.Sprintf("/api/v1/feeds/runs/%d", run.ID), nil)
		spec.check(t, res, "GET", "/api/v1/feeds/runs/{id}", 200)
		if !strings.Contains(res.Body, `"reason":"source.ip: not an IP address"`) {
			t.Errorf("run without its problem: %s", res.Body)
		}
		spec.check(t, staff.Do("GET", "/api/v1/feeds/runs/999999", nil), "GET", "/api/v1/feeds/runs/{id}", 404)
		spec.check(t, staff.Do("GET", "/api/v1/feeds/runs?status=lost", nil), "GET", "/api/v1/feeds/runs", 422)

		count := func(api *webtest.API, query string) int {
			t.Helper()
			res := api.Do("GET", "/api/v1/feeds/events"+query, nil)
			spec.check(t, res, "GET", "/api/v1/feeds/events", 200)
			var l struct {
				Items []feeds.StoredEvent `json:"items"`
				Total int                 `json:"total"`
			}
			res.JSON(t, &l)
			if l.Total < len(l.Items) {
				t.Errorf("events%s: total %d for %d items", query, l.Total, len(l.Items))
			}
			return l.Total
		}
		for q, want := range map[string]int{"": 12, "?ip=192.0.2.0/24": 5, "?ip=192.0.2.12": 1, "?ip=2001:db8:a::/48": 2, "?ip=2001:db8:a::/64": 1,
			"?matched=no": 2, "?organisation_id=" + strconv.FormatInt(b.ID, 10): 3, "?asn=64511&feed=scan_http&severity=medium&notify=yes": 10,
			"?from=" + at.Format(time.DateOnly): 12, "?to=" + at.AddDate(0, 0, -1).Format(time.DateOnly): 0, "?limit=2&offset=10": 12} {
			if n := count(staff, q); n != want {
				t.Errorf("analyst: events%s = %d, want %d", q, n, want)
			}
		}
		spec.check(t, staff.Do("GET", "/api/v1/feeds/events?ip=192.0.2.0/33", nil), "GET", "/api/v1/feeds/events", 422)
		spec.check(t, staff.Do("GET", "/api/v1/feeds/events?format=xml", nil), "GET", "/api/v1/feeds/events", 422)

		res = staff.Do("GET", "/api/v1/feeds/coverage", nil)
		spec.check(t, res, "GET", "/api/v1/feeds/coverage", 200)
		var cov feeds.Coverage
		res.JSON(t, &cov)
		if cov.Total.Matched != 10 || cov.Total.Unmatched != 2 || len(cov.Rows) != 1 || cov.Rows[0].Feed != "scan_http" {
			t.Errorf("coverage %+v", cov)
		}
		spec.check(t, staff.Do("GET", "/api/v1/feeds/coverage?from=2026-12-01&to=2026-11-01", nil), "GET", "/api/v1/feeds/coverage", 422)

		// Exports: every match, streamed, in both formats.
		res = staff.Do("GET", "/api/v1/feeds/events?format=csv&ip=192.0.2.0/24", nil)
		spec.check(t, res, "GET", "/api/v1/feeds/events", 200)
		recs, err := csv.NewReader(strings.NewReader(res.Body)).ReadAll()
		if err != nil || len(recs) != 6 || recs[0][0] != "id" || !strings.Contains(res.Header.Get("Content-Disposition"), ".csv") {
			t.Fatalf("CSV export: %d records, %v\n%s", len(recs), err, res.Body)
		}
		if rec := recs[1]; rec[3] != "Feed Water A" || !strings.HasPrefix(rec[10], "192.0.2.") || rec[20] != "true" ||
			!strings.Contains(rec[21], `"extra.tag":"=cmd`) {
			t.Errorf("CSV record %q", rec)
		}
		res = staff.Do("GET", "/api/v1/feeds/events?format=jsonl&matched=no", nil)
		spec.check(t, res, "GET", "/api/v1/feeds/events", 200)
		lines := strings.Split(strings.TrimSuffix(res.Body, "\n"), "\n")
		if len(lines) != 2 || res.Header.Get("Content-Type") != "application/jsonl" {
			t.Fatalf("JSON lines export: %q", res.Body)
		}
		for _, l := range lines {
			var ev feeds.StoredEvent
			if err := json.Unmarshal([]byte(l), &ev); err != nil || ev.OrgID != nil || !strings.HasPrefix(ev.SrcIP, "203.0.113.") {
				t.Errorf("JSON line %s: %v", l, err)
			}
		}

		// An organisation sees its own events only: never another's, the
		// unmatched ones, runs, problems or coverage.
		if n := count(aAPI, ""); n != 7 {
			t.Errorf("A sees %d events, want its 7", n)
		}
		if n := count(aAPI, "?ip=0.0.0.0/0"); n != 5 {
			t.Errorf("A's search of every IPv4 address: %d, want its 5", n)
		}
		if n := count(aAPI, "?ip=198.51.100.20"); n != 0 {
			t.Errorf("A finds B's address: %d", n)
		}
		if n := count(bAPI, "?organisation_id="+strconv.FormatInt(b.ID, 10)); n != 3 {
			t.Errorf("B's own filter: %d", n)
		}
		for _, q := range []string{"?organisation_id=" + strconv.FormatInt(b.ID, 10), "?matched=no", "?run_id=" + strconv.FormatInt(run.ID, 10),
			"?format=csv&organisation_id=" + strconv.FormatInt(b.ID, 10), "?format=jsonl&matched=no"} {
			res := aAPI.Do("GET", "/api/v1/feeds/events"+q, nil)
			spec.check(t, res, "GET", "/api/v1/feeds/events", 403)
			if strings.Contains(res.Body, "198.51.100.") || strings.Contains(res.Body, "203.0.113.") {
				t.Errorf("A's refused events%s shows others' events: %s", q, res.Body)
			}
		}
		res = aAPI.Do("GET", "/api/v1/feeds/events?format=csv", nil)
		recs, err = csv.NewReader(strings.NewReader(res.Body)).ReadAll()
		if res.StatusCode != 200 || err != nil || len(recs) != 8 || strings.Contains(res.Body, "198.51.100.") || strings.Contains(res.Body, "Feed Rail B") {
			t.Errorf("A's export: %d %d records %v\n%s", res.StatusCode, len(recs), err, res.Body)
		}
		spec.check(t, aAPI.Do("GET", "/api/v1/feeds/runs", nil), "GET", "/api/v1/feeds/runs", 403)
		spec.check(t, aAPI.Do("GET", fmt.Sprintf("/api/v1/feeds/runs/%d", run.ID), nil), "GET", "/api/v1/feeds/runs/{id}", 403)
		spec.check(t, aAPI.Do("GET", "/api/v1/feeds/coverage", nil), "GET", "/api/v1/feeds/coverage", 403)
		spec.check(t, e.API(t, "").Do("GET", "/api/v1/feeds/events", nil), "GET", "/api/v1/feeds/events", 401)

		// The fragment's operations are tagged and named.
		for path, ops := range spec.pointer(t, "#/paths") {
			if !strings.HasPrefix(path, "/api/v1/feeds/") {
				continue
			}
			for method, op := range ops.(map[string]any) {
				if method == "parameters" {
					continue // shared by the path's operations
				}
				if tags, _ := op.(map[string]any)["tags"].([]any); !slices.Equal(tags, []any{"feeds"}) {
					t.Errorf("%s: tags %v", path, tags)
				}
			}
		}
	})
}

// TestFeedsPortal: the authority's pages of runs and events, and an
// organisation's own events, in the browser.
func TestFeedsPortal(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		e := webtest.New(t, db, false)
		a := e.Org(t, "Feed Water A", "entity")
		b := e.Org(t, "Feed Rail B", "entity")
		aUser := e.User(t, a.ID, "member@water-a.example", "member")
		at := time.Now().UTC().Add(-time.Hour)
		run := runFeed(t, db, "2026-11-20-scan_http-belgium.csv", []feedClaim{{a.ID, "192.0.2.0/24"}, {b.ID, "198.51.100.0/24"}},
			[]*feeds.Event{scanEvent("192.0.2.10", 80, at), scanEvent("198.51.100.20", 80, at), scanEvent("203.0.113.9", 80, at)},
			feeds.Problem{Row: 4, Reason: "source.ip: not an IP address", Raw: "<script>bogus</script>"})

		staff := e.Login(t, e.AdminEmail, e.AdminPassword)
		res := staff.Get("/feeds/runs")
		if res.StatusCode != 200 || !strings.Contains(res.Body, "2026-11-20-scan_http-belgium.csv") || !strings.Contains(res.Body, `href="/en/feeds/runs/`) {
			t.Fatalf("runs page %d:\n%s", res.StatusCode, res.Body)
		}
		if res := staff.Get("/feeds/runs?status=failed"); res.StatusCode != 200 || strings.Contains(res.Body, "scan_http-belgium.csv</a>") {
			t.Errorf("failed runs: %d", res.StatusCode)
		}
		if res := staff.Get("/feeds/runs?from=yesterday"); res.StatusCode != 422 || !strings.Contains(res.Body, "Enter a date as year-month-day") {
			t.Errorf("bad date: %d", res.StatusCode)
		}
		res = staff.Get(fmt.Sprintf("/feeds/runs/%d", run.ID))
		if res.StatusCode != 200 || !strings.Contains(res.Body, "&lt;script&gt;bogus&lt;/script&gt;") || !strings.Contains(res.Body, "source.ip: not an IP address") {
			t.Errorf("run page %d:\n%s", res.StatusCode, res.Body)
		}
		res = staff.Get("/feeds/events?ip=192.0.2.0%2F24")
		if res.StatusCode != 200 || !strings.Contains(res.Body, "192.0.2.10:80") || strings.Contains(res.Body, "198.51.100.20") ||
			!strings.Contains(res.Body, "format=csv") || !strings.Contains(res.Body, "Coverage of the constituency") {
			t.Errorf("events page %d:\n%s", res.StatusCode, res.Body)
		}
		if res := staff.Get("/feeds/events?ip=banana"); res.StatusCode != 422 || !strings.Contains(res.Body, "Enter an IP address or prefix") {
			t.Errorf("bad IP: %d", res.StatusCode)
		}
		res = staff.Get("/feeds/events/export?format=csv&matched=no")
		if res.StatusCode != 200 || !strings.Contains(res.Body, "203.0.113.9") || strings.Contains(res.Body, "192.0.2.10") {
			t.Errorf("export %d:\n%s", res.StatusCode, res.Body)
		}
		for _, nav := range []string{`href="/en/feeds/events"`, `href="/en/feeds/runs"`} {
			if !strings.Contains(res.Body, nav) && !strings.Contains(staff.Get("/").Body, nav) {
				t.Errorf("no nav link %s", nav)
			}
		}

		aBrowser := e.Login(t, aUser.Email, webtest.Password(aUser.Email))
		res = aBrowser.Get("/our-events")
		if res.StatusCode != 200 || !strings.Contains(res.Body, "192.0.2.10:80") || strings.Contains(res.Body, "198.51.100.20") ||
			strings.Contains(res.Body, "203.0.113.9") || !strings.Contains(res.Body, `href="/en/our-events"`) {
			t.Errorf("A's events page %d:\n%s", res.StatusCode, res.Body)
		}
		res = aBrowser.Get("/feeds/events/export?format=jsonl")
		if res.StatusCode != 200 || strings.Count(res.Body, "\n") != 1 || !strings.Contains(res.Body, `"source_ip":"192.0.2.10"`) {
			t.Errorf("A's export %d:\n%s", res.StatusCode, res.Body)
		}
		for _, p := range []string{"/feeds/runs", fmt.Sprintf("/feeds/runs/%d", run.ID), "/feeds/events",
			"/feeds/events/export?format=csv&organisation_id=" + strconv.FormatInt(b.ID, 10), "/feeds/events/export?format=csv&matched=no"} {
			if res := aBrowser.Get(p); res.StatusCode != 403 || strings.Contains(res.Body, "198.51.100.20") {
				t.Errorf("A GET %s = %d, want 403", p, res.StatusCode)
			}
		}
		if res := staff.Get("/our-events"); res.StatusCode != 403 {
			t.Errorf("the authority's own events page = %d, want 403", res.StatusCode)
		}
	})
}

// TestFeedsMetrics: /metrics reports the runs' counts per stage.
func TestFeedsMetrics(t *testing.T) {
	db := dbtest.SQLite(t)
	e := webtest.New(t, db, false)
	a := e.Org(t, "Feed Water A", "entity")
	at := time.Now().Add(-time.Hour)
	runFeed(t, db, "m.csv", []feedClaim{{a.ID, "192.0.2.0/24"}}, []*feeds.Event{scanEvent("192.0.2.1", 80, at), scanEvent("192.0.2.1", 80, at),
		scanEvent("203.0.113.1", 80, at)}, feeds.Problem{Row: 9, Reason: "x"})
	res := e.Browser(t).Do("GET", "/metrics", nil, nil)
	for _, want := range []string{`belfry_feed_rows_total{result="event"} 3`, `belfry_feed_rows_total{result="problem"} 1`,
		`belfry_feed_events_total{result="matched"} 2`, `belfry_feed_events_total{result="unmatched"} 1`, `belfry_feed_dedup_total{result="new"} 1`,
		`belfry_feed_dedup_total{result="duplicate"} 1`, `belfry_feed_runs{status="done"} 1`, `belfry_feed_runs{status="failed"} 0`,
		`belfry_feed_last_run_finished_timestamp_seconds{status="done"}`, `belfry_feed_run_seconds_total`} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
