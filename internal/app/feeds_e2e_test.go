package app_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/app"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/earlywarning"
	"github.com/belfry-cert/belfry/internal/feeds/intake"
	"github.com/belfry-cert/belfry/internal/sharedtest"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// sharedFile returns a file of ../shared next to the repository, read in
// place (never copied). Without it the test is skipped, or fails under
// CI=true.
func sharedFile(t *testing.T, parts ...string) string { return sharedtest.Path(t, parts...) }

// TestFeedsEndToEnd is issue 5's "done when": Shadowserver reports of
// several families (scan, sinkhole event, compromised website, device
// identification) go from files to a notification e-mail per organisation,
// received by a real SMTP server, and reading the same reports again
// notifies nobody, on SQLite and PostgreSQL.
func TestFeedsEndToEnd(t *testing.T) {
	schema := sharedFile(t, "feeds", "shadowserver", "intelmq.json")
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		smtp := webtest.StartMailServer(t)
		e := webtest.NewWith(t, db, true, func(c *app.Config) {
			c.SMTP = smtp.Config()
			c.FeedsSchema = schema
		})
		ctx := t.Context()
		water := e.Org(t, "Feeds Water Works", "entity")
		hosting := e.Org(t, "Feeds Hosting", "entity")
		now := time.Now().UTC()
		for _, c := range []struct {
			org   int64
			value string
		}{{water.ID, "192.0.2.0/24"}, {hosting.ID, "198.51.100.0/24"}, {hosting.ID, "2001:db8::/32"}} {
			// Documentation ranges, which the registry refuses to claim: the
			// claims are written as the registry stores approved ones.
			if _, err := db.Exec(ctx, `INSERT INTO constituency_claims (org_id, kind, value, status, created_at) VALUES (?, 'prefix', ?, 'approved', ?)`,
				c.org, c.value, now); err != nil {
				t.Fatal(err)
			}
		}
		// As approving a claim does: a new version, which the index follows.
		if _, err := db.Exec(ctx, `UPDATE settings SET value = '2' WHERE key = 'constituency_version'`); err != nil {
			t.Fatal(err)
		}
		if err := e.App.Registry.Index().Refresh(ctx, e.App.Registry.LoadClaims); err != nil {
			t.Fatal(err)
		}
		sys := auth.With(ctx, auth.System)
		for org, to := range map[int64]string{water.ID: "soc@water.example", hosting.ID: "abuse@hosting.example"} {
			if _, err := e.App.EarlyWarning.UpdateSettings(sys, org, earlywarning.SettingsInput{Enabled: true, MinSeverity: "info",
				Channel: "email", Interval: "immediate", Recipients: []string{to}}); err != nil {
				t.Fatal(err)
			}
		}

		in := t.TempDir()
		families := []string{"2026-03-01-scan_http-belgium-geo.csv", "2026-03-01-event4_sinkhole_http-belgium-geo.csv",
			"2026-03-01-compromised_website-belgium-geo.csv", "2026-03-01-device_id-belgium-geo.csv"}
		for _, name := range families {
			b, err := os.ReadFile(filepath.Join("..", "feeds", "shadowserver", "testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(in, name), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		ingest := func() (newEvents int64) {
			t.Helper()
			for _, name := range families {
				results, err := e.App.Intake.Path(ctx, "file", filepath.Join(in, name), intake.Options{})
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				for _, r := range results {
					newEvents += r.Run.Stats.New
				}
			}
			return newEvents
		}
		if n := ingest(); n == 0 {
			t.Fatal("the first reading found nothing new")
		}
		made, err := e.App.EarlyWarning.Dispatch(ctx)
		if err != nil || made != 2 {
			t.Fatalf("Dispatch = %d, %v; want a ticket for each of the two organisations", made, err)
		}
		mails := smtp.Wait(t, 2)
		byRcpt := map[string]string{} // recipient -> CSV attachment
		for _, m := range mails {
			msg, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
			if err != nil {
				t.Fatal(err)
			}
			subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
			if !strings.Contains(subject, "EW-") {
				t.Errorf("subject %q without the ticket reference", subject)
			}
			byRcpt[strings.Join(m.To, ",")] = csvAttachment(t, msg)
		}
		waterCSV, hostingCSV := byRcpt["soc@water.example"], byRcpt["abuse@hosting.example"]
		for _, want := range []string{"192.0.2.10", "192.0.2.44", "192.0.2.80", "192.0.2.90", "scan_http", "event4_sinkhole_http",
			"compromised_website", "device_id"} {
			if !strings.Contains(waterCSV, want) {
				t.Errorf("the water works' digest lacks %s", want)
			}
		}
		for _, want := range []string{"198.51.100.77", "2001:db8::1", "2001:db8:1::44"} {
			if !strings.Contains(hostingCSV, want) {
				t.Errorf("the hosting company's digest lacks %s", want)
			}
		}
		for _, leak := range []string{"192.0.2.", "Feeds Water"} {
			if strings.Contains(hostingCSV, leak) {
				t.Errorf("the hosting company's digest shows %q of another organisation", leak)
			}
		}
		if strings.Contains(waterCSV, "198.51.100.77") {
			t.Error("the water works' digest shows the hosting company's host")
		}

		// The same reports again, a day later: duplicates, no ticket, no mail.
		if n := ingest(); n != 0 {
			t.Errorf("the second reading found %d new events, want 0", n)
		}
		if made, err := e.App.EarlyWarning.Dispatch(ctx); err != nil || made != 0 {
			t.Errorf("second Dispatch = %d, %v; want no ticket", made, err)
		}
		time.Sleep(300 * time.Millisecond)
		if n := len(smtp.Messages()); n != 2 {
			t.Errorf("%d messages after the second reading, want still 2", n)
		}
		var runs, events int
		if err := db.QueryRow(ctx, `SELECT count(*), sum(events) FROM feed_runs WHERE status = 'done'`).Scan(&runs, &events); err != nil || runs != 2*len(families) {
			t.Errorf("%d runs done, want %d (%v)", runs, 2*len(families), err)
		}
		// This instance's stage counters on /metrics saw every event.
		metrics := e.Browser(t).Do("GET", "/metrics", nil, nil).Body
		if want := fmt.Sprintf(`belfry_feed_stage_events_total{stage="match"} %d`, events); !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
		if !regexp.MustCompile(`belfry_feed_stage_seconds_total\{stage="store"\} [0-9.e-]+[1-9]`).MatchString(metrics) {
			t.Error("/metrics shows no time in the store stage")
		}
	})
}

// csvAttachment returns the text of the message's CSV attachment.
func csvAttachment(t *testing.T, msg *mail.Message) string {
	t.Helper()
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var found []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		found = append(found, p.FileName())
		if !strings.HasSuffix(p.FileName(), ".csv") {
			continue
		}
		var r io.Reader = p
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
			r = base64.NewDecoder(base64.StdEncoding, p)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	t.Fatalf("no CSV attachment among %q", slices.Clip(found))
	return ""
}

// TestFeedDropDirectory: a serving instance with --feeds-dropdir ingests a
// report dropped there (written as name.part, then renamed) and files it
// into done/; without a schema it refuses to start rather than fail every
// file.
func TestFeedDropDirectory(t *testing.T) {
	schema := sharedFile(t, "feeds", "shadowserver", "intelmq.json")
	db := dbtest.SQLite(t)
	drop := t.TempDir()
	cfg := app.Config{Addr: "127.0.0.1:0", Authority: "CCB", AdminEmail: "admin@ccb.example", IdleTimeout: time.Hour, LogFormat: "text",
		FeedsSchema: schema, FeedsDropDir: drop, FeedsInstance: "test-1", FeedsDropWorkers: 1, IndexRefresh: time.Minute}
	a, err := app.New(t.Context(), cfg, slogDiscard(), db)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, nil) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	b, err := os.ReadFile(filepath.Join("..", "feeds", "shadowserver", "testdata", "2026-03-01-scan_http-belgium-geo.csv"))
	if err != nil {
		t.Fatal(err)
	}
	name := "2026-03-01-scan_http-belgium-geo.csv"
	if err := os.WriteFile(filepath.Join(drop, name+".part"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(drop, name+".part"), filepath.Join(drop, name)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		if err := db.QueryRow(t.Context(), `SELECT count(*) FROM feed_runs WHERE name = ? AND status = 'done' AND events = 3`, name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(drop, "done", name)); n == 1 && err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dropped report was not ingested and filed into done/ within 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}

	// No schema: the start-up stops with a message that says what to do.
	cfg.FeedsSchema = filepath.Join(t.TempDir(), "missing.json")
	b2, err := app.New(t.Context(), cfg, slogDiscard(), dbtest.SQLite(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := b2.Serve(t.Context(), nil); err == nil || !strings.Contains(err.Error(), "update-schema") {
		t.Errorf("Serve without a schema = %v, want a refusal naming update-schema", err)
	}
}

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestShadowserverPoll: with an API key, the job queue's leader polls the
// Shadowserver Reports API (here a local server that answers as the
// published API does), ingests the new report once and records it in the
// ledger in the database (which Poll consults: see the source and intake
// tests).
func TestShadowserverPoll(t *testing.T) {
	schema := sharedFile(t, "feeds", "shadowserver", "intelmq.json")
	csv, err := os.ReadFile(filepath.Join("..", "feeds", "shadowserver", "testdata", "2026-03-01-scan_http-belgium-geo.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	calls := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls[r.URL.Path]++
		mu.Unlock()
		switch r.URL.Path {
		case "/api2/reports/list":
			if r.Header.Get("HMAC2") == "" {
				http.Error(w, `{"error": "unsigned"}`, http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `[{"id": "dl-4711", "report": "belgium-geo", "type": "scan_http", "timestamp": "2026-03-01",
				"file": "2026-03-01-scan_http-belgium-geo.csv"}]`)
		case "/dl/dl-4711":
			w.Write(csv)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	db := dbtest.SQLite(t)
	e := webtest.NewWith(t, db, true, func(c *app.Config) {
		c.FeedsSchema = schema
		c.ShadowserverKey, c.ShadowserverSecret = "test-key", "test-secret"
		c.ShadowserverAPIURL, c.ShadowserverDownloadURL = srv.URL+"/api2/", srv.URL+"/dl/"
		c.ShadowserverInterval, c.ShadowserverDays = time.Hour, 2
	})
	_ = e
	deadline := time.Now().Add(30 * time.Second)
	for {
		var runs, ledger int
		if err := db.QueryRow(t.Context(), `SELECT (SELECT count(*) FROM feed_runs WHERE source = 'shadowserver' AND status = 'done' AND events = 3),
			(SELECT count(*) FROM feed_downloads WHERE report_id = 'dl-4711')`).Scan(&runs, &ledger); err != nil {
			t.Fatal(err)
		}
		if runs == 1 && ledger == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s: %d runs from the API, %d ledger rows; calls %v", runs, ledger, calls)
		}
		time.Sleep(100 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls["/dl/dl-4711"] != 1 {
		t.Errorf("the report was downloaded %d times, want once", calls["/dl/dl-4711"])
	}
}
