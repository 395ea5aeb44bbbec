package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/belfry-cert/belfry/internal/app"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/identity"
	"github.com/belfry-cert/belfry/internal/reporting"
	"github.com/belfry-cert/belfry/internal/store"
)

// runBench runs a benchmark against an in-process instance.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, "Usage: belfry bench reports|feeds|cases [flags]\n\n  reports   acknowledged NIS2 report submissions per second through the HTTP API\n  feeds     feed rows per second through parsing, matching, deduplication and storage\n  cases     case list, search and observable lookups at a million cases (latency percentiles)")
		if len(args) == 0 {
			return errUsage
		}
		return flag.ErrHelp
	}
	switch args[0] {
	case "reports":
		return benchReports(ctx, args[1:], stdout, stderr)
	case "feeds":
		return benchFeeds(ctx, args[1:], stdout, stderr)
	case "cases":
		return benchCases(ctx, args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "belfry bench: unknown benchmark %q (want reports, feeds or cases)\n", args[0])
		return errUsage
	}
}

// benchResult is the outcome of `belfry bench reports`; --json prints it.
type benchResult struct {
	Benchmark   string  `json:"benchmark"`
	Version     string  `json:"version"`
	Database    string  `json:"database"`
	SQLiteSync  string  `json:"sqlite_sync,omitempty"`
	Concurrency int     `json:"concurrency"`
	Incidents   int     `json:"incidents"`
	GOMAXPROCS  int     `json:"gomaxprocs"`
	Warmup      string  `json:"warmup"`
	Duration    string  `json:"duration"`
	Elapsed     float64 `json:"elapsed_seconds"`
	// Acknowledged counts the 201 responses to requests started in the
	// measured window; Rate divides it by Elapsed.
	Acknowledged int64   `json:"acknowledged"`
	Rate         float64 `json:"rate_per_second"`
	// FirstFilings are early warnings on incidents without one;
	// Corrections are later early warnings correcting the latest one.
	FirstFilings int64   `json:"first_filings"`
	Corrections  int64   `json:"corrections"`
	P50          float64 `json:"p50_ms"`
	P90          float64 `json:"p90_ms"`
	P99          float64 `json:"p99_ms"`
	Max          float64 `json:"max_ms"`
	// Errors counts the other responses by status (0: no response).
	Errors map[int]int64 `json:"errors"`
	// AcknowledgedTotal includes the warm-up; Stored is the number of
	// submissions of the benchmark's organisation in the database
	// afterwards, which must equal it.
	AcknowledgedTotal int64   `json:"acknowledged_total"`
	Stored            int64   `json:"stored_submissions"`
	Setup             float64 `json:"setup_seconds"`
}

func benchReports(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench reports", stderr)
	dbURL := fs.String("db", "", "PostgreSQL `URL`; the benchmark WRITES TEST DATA there (use a dedicated database). Empty: a fresh SQLite database")
	dataDir := fs.String("data", "", "keep the SQLite database in this `directory` (default: a temporary directory, removed afterwards)")
	sync := fs.String("sqlite-sync", "full", "SQLite synchronous `mode`: full or normal")
	duration := fs.Duration("duration", 20*time.Second, "measured `duration`")
	warmup := fs.Duration("warmup", 3*time.Second, "warm-up `duration` before measuring")
	conc := fs.Int("concurrency", 16, "concurrent clients (keep-alive connections)")
	incidents := fs.Int("incidents", 2000, "incidents to open before the run")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	var bad []string
	if fs.NArg() > 0 {
		bad = append(bad, fmt.Sprintf("unexpected arguments %q", fs.Args()))
	}
	if *sync != "full" && *sync != "normal" {
		bad = append(bad, fmt.Sprintf("--sqlite-sync %q: want full or normal", *sync))
	}
	if *duration <= 0 {
		bad = append(bad, "--duration must be positive")
	}
	if *warmup < 0 {
		bad = append(bad, "--warmup must not be negative")
	}
	if *conc < 1 || *conc > 1024 {
		bad = append(bad, "--concurrency must be between 1 and 1024")
	}
	if *incidents < *conc {
		bad = append(bad, "--incidents must be at least --concurrency")
	}
	if *dbURL != "" && *dataDir != "" {
		bad = append(bad, "--db and --data exclude each other")
	}
	if *dbURL != "" && !strings.HasPrefix(*dbURL, "postgres://") && !strings.HasPrefix(*dbURL, "postgresql://") {
		bad = append(bad, "--db must be a postgres:// URL")
	}
	if len(bad) > 0 {
		fmt.Fprintf(stderr, "belfry bench reports: %s\n", strings.Join(bad, "; "))
		return errUsage
	}

	cfg := app.Config{Addr: "127.0.0.1:0", DB: *dbURL, DataDir: *dataDir, LogFormat: "text", LogLevel: "error", Authority: "CCB",
		AdminEmail: "admin@bench.example.org", SQLiteSync: *sync, IdleTimeout: time.Hour, SizeRule: "strict", Jurisdiction: "BE",
		IndexRefresh: time.Minute, ReportReminders: reporting.DefaultReminderLeads}
	if cfg.DB == "" && cfg.DataDir == "" {
		dir, err := os.MkdirTemp("", "belfry-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.DataDir = dir
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}

	setupStart := time.Now()
	db, err := app.OpenDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := benchGuard(ctx, db); err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, app.NewLogger(stderr, "text", "error"), db)
	if err != nil {
		return err
	}
	token, member, err := benchPrincipal(ctx, a)
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	ids, err := benchIncidents(ctx, a, member, *incidents, *conc)
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(slog.New(slog.NewTextHandler(io.Discard, nil)).Handler(), slog.LevelWarn)}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	res := &benchResult{Benchmark: "reports", Version: benchVersion(), Concurrency: *conc, Incidents: *incidents,
		GOMAXPROCS: runtime.GOMAXPROCS(0), Warmup: warmup.String(), Duration: duration.String(), Errors: map[int]int64{},
		Setup: time.Since(setupStart).Seconds()}
	if cfg.DB != "" {
		var v string
		if err := db.QueryRow(ctx, `SHOW server_version`).Scan(&v); err == nil {
			res.Database = "postgresql " + v
		} else {
			res.Database = "postgresql"
		}
	} else {
		res.Database, res.SQLiteSync = "sqlite", *sync
	}

	runLoad(ctx, res, base, token, ids, *warmup, *duration)

	// Every acknowledged submission must be in the database.
	if err := db.QueryRow(ctx, `SELECT count(*) FROM report_submissions WHERE org_id = ?`, member.OrgID).Scan(&res.Stored); err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		printBench(stdout, res)
	}
	if res.Stored != res.AcknowledgedTotal {
		return fmt.Errorf("%d submissions acknowledged but %d stored", res.AcknowledgedTotal, res.Stored)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

// benchGuard refuses a database that holds anything besides the authority
// and earlier benchmark runs: the benchmark writes test data.
func benchGuard(ctx context.Context, db *store.DB) error {
	var n int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM organisations WHERE kind <> 'authority' AND name NOT LIKE 'Belfry bench entity %'`).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("the database holds %d organisations not made by `belfry bench`; the benchmark writes test data, so give it a dedicated database", n)
	}
	return nil
}

// benchPrincipal creates the authority (when missing), an entity, one
// member and the member's read/write API token, through the services.
func benchPrincipal(ctx context.Context, a *app.App) (string, *auth.Principal, error) {
	if _, err := a.Identity.Bootstrap(ctx, a.Config.Authority, a.Config.AdminEmail); err != nil {
		return "", nil, err
	}
	sys := auth.With(ctx, auth.System)
	stamp := time.Now().UTC().Format("20060102T150405.000000")
	name, kind := "Belfry bench entity "+stamp, "entity"
	email := "bench-" + strings.ReplaceAll(stamp, ".", "-") + "@bench.example.org"
	uname, roles := "Bench SOC", []string{"member"}
	o, err := a.Identity.CreateOrganisation(sys, identity.OrgInput{Name: &name, Kind: &kind})
	if err != nil {
		return "", nil, err
	}
	u, _, err := a.Identity.CreateUser(sys, identity.UserInput{OrgID: &o.ID, Email: &email, Name: &uname, Roles: &roles})
	if err != nil {
		return "", nil, err
	}
	p := &auth.Principal{UserID: u.ID, OrgID: u.OrgID, OrgKind: string(u.OrgKind), Email: u.Email, Roles: u.Roles}
	_, secret, err := a.Identity.CreateToken(auth.With(ctx, p), identity.TokenInput{Name: "bench", Scopes: []string{"read", "write"},
		ExpiresAt: time.Now().Add(24 * time.Hour)})
	if err != nil {
		return "", nil, err
	}
	return secret, p, nil
}

// benchIncidents opens n incidents of the member's organisation through
// the service, untimed, using several goroutines.
func benchIncidents(ctx context.Context, a *app.App, p *auth.Principal, n, workers int) ([]int64, error) {
	ids := make([]int64, n)
	pctx := auth.With(ctx, p)
	aware := time.Now().Add(-time.Hour)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	next := make(chan int)
	for range min(workers, 8) {
		wg.Go(func() {
			for i := range next {
				inc, err := a.Reports.CreateIncident(pctx, reporting.IncidentInput{Title: fmt.Sprintf("Bench outage %d", i), AwareAt: aware})
				if err != nil {
					mu.Lock()
					first = firstErr(first, err)
					mu.Unlock()
					continue
				}
				ids[i] = inc.ID
			}
		})
	}
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if first != nil {
		return nil, first
	}
	return ids, ctx.Err()
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// runLoad drives the submissions: worker w owns incidents w, w+c, w+2c…
// and files them in turn, so that no two requests wait on the same
// incident lock. The first submission of an incident is its early
// warning; later ones correct the latest early warning (?corrects=), the
// API's way of filing a stage again. Only requests started after the
// warm-up count.
func runLoad(ctx context.Context, res *benchResult, base, token string, ids []int64, warmup, duration time.Duration) {
	c := res.Concurrency
	tr := &http.Transport{MaxIdleConns: c * 2, MaxIdleConnsPerHost: c * 2, MaxConnsPerHost: c * 2, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}

	start := time.Now()
	measureFrom := start.Add(warmup)
	stopAt := measureFrom.Add(duration)
	type stats struct {
		lat            []time.Duration
		ack, ackTotal  int64
		first, correct int64
		errs           map[int]int64
		lastDone       time.Time
	}
	all := make([]*stats, c)
	var wg sync.WaitGroup
	for w := range c {
		st := &stats{errs: map[int]int64{}}
		all[w] = st
		wg.Go(func() {
			var mine []int64
			for i := w; i < len(ids); i += c {
				mine = append(mine, ids[i])
			}
			latest := make([]string, len(mine))
			for n := 0; ; n++ {
				t0 := time.Now()
				if !t0.Before(stopAt) || ctx.Err() != nil {
					return
				}
				k := n % len(mine)
				url := fmt.Sprintf("%s/api/v1/incidents/%d/reports/early_warning", base, mine[k])
				if latest[k] != "" {
					url += "?corrects=" + latest[k]
				}
				body := fmt.Sprintf(`{"incident_status":"ongoing","summary":"Bench submission %d-%d","suspected_malicious":"unknown","cross_border":"no"}`, w, n)
				code, ref := benchPost(client, url, token, body, fmt.Sprintf("bench-%d-%d-%d", start.UnixNano(), w, n))
				done := time.Now()
				measured := !t0.Before(measureFrom)
				if code == http.StatusCreated {
					st.ackTotal++
					if measured {
						st.ack++
						if latest[k] == "" {
							st.first++
						} else {
							st.correct++
						}
					}
					latest[k] = ref
				}
				if measured {
					st.lat = append(st.lat, done.Sub(t0))
					st.lastDone = done
					if code != http.StatusCreated {
						st.errs[code]++
					}
				}
			}
		})
	}
	wg.Wait()
	var lat []time.Duration
	last := stopAt
	for _, st := range all {
		lat = append(lat, st.lat...)
		res.Acknowledged += st.ack
		res.AcknowledgedTotal += st.ackTotal
		res.FirstFilings += st.first
		res.Corrections += st.correct
		for k, v := range st.errs {
			res.Errors[k] += v
		}
		if st.lastDone.After(last) {
			last = st.lastDone
		}
	}
	// The window runs from the end of the warm-up to the completion of the
	// last request started in it.
	res.Elapsed = last.Sub(measureFrom).Seconds()
	if res.Elapsed > 0 {
		res.Rate = float64(res.Acknowledged) / res.Elapsed
	}
	slices.Sort(lat)
	ms := func(q float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		i := int(q*float64(len(lat))+0.5) - 1
		i = max(0, min(i, len(lat)-1))
		return float64(lat[i].Microseconds()) / 1000
	}
	res.P50, res.P90, res.P99 = ms(0.50), ms(0.90), ms(0.99)
	if len(lat) > 0 {
		res.Max = float64(lat[len(lat)-1].Microseconds()) / 1000
	}
}

// benchPost submits body and returns the status (0 without a response)
// and the receipt's reference.
func benchPost(c *http.Client, url, token, body, key string) (int, string) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, ""
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := c.Do(req)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, ""
	}
	var r struct {
		Ref string `json:"reference"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, ""
	}
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, r.Ref
}

func printBench(w io.Writer, r *benchResult) {
	db := r.Database
	if r.SQLiteSync != "" {
		db += " (synchronous=" + r.SQLiteSync + ")"
	}
	fmt.Fprintf(w, "belfry bench reports (%s)\n", r.Version)
	fmt.Fprintf(w, "  database:       %s\n", db)
	fmt.Fprintf(w, "  concurrency:    %d clients, GOMAXPROCS %d, %d incidents\n", r.Concurrency, r.GOMAXPROCS, r.Incidents)
	fmt.Fprintf(w, "  duration:       %s after %s warm-up (measured %.2f s)\n", r.Duration, r.Warmup, r.Elapsed)
	fmt.Fprintf(w, "  acknowledged:   %d (201): %d early warnings, %d corrections\n", r.Acknowledged, r.FirstFilings, r.Corrections)
	fmt.Fprintf(w, "  rate:           %.1f acknowledged submissions/s\n", r.Rate)
	fmt.Fprintf(w, "  latency:        p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n", r.P50, r.P90, r.P99, r.Max)
	if len(r.Errors) == 0 {
		fmt.Fprintf(w, "  errors:         none\n")
	} else {
		codes := make([]int, 0, len(r.Errors))
		for k := range r.Errors {
			codes = append(codes, k)
		}
		slices.Sort(codes)
		var parts []string
		for _, k := range codes {
			name := fmt.Sprint(k)
			if k == 0 {
				name = "no response"
			}
			parts = append(parts, fmt.Sprintf("%s: %d", name, r.Errors[k]))
		}
		fmt.Fprintf(w, "  errors:         %s\n", strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, "  stored:         %d submissions in the database, %d acknowledged including warm-up\n", r.Stored, r.AcknowledgedTotal)
}

// benchVersion is the version `belfry version` prints, with the commit
// and whether the tree had uncommitted changes.
func benchVersion() string {
	v := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		v = bi.Main.Version
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision":
				v += " " + s.Value
			case s.Key == "vcs.modified" && s.Value == "true":
				v += " (modified)"
			}
		}
	}
	return v
}
