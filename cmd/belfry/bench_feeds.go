package main

// `belfry bench feeds`: the feeds pipeline stage by stage on one input, a
// synthetic Shadowserver scan_http report or given files.

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/belfry-cert/belfry/internal/app"
	"github.com/belfry-cert/belfry/internal/constituency"
	"github.com/belfry-cert/belfry/internal/feeds"
	"github.com/belfry-cert/belfry/internal/feeds/shadowserver"
	"github.com/belfry-cert/belfry/internal/store"
)

const benchFeedsUsage = "Usage: belfry bench feeds [--rows N] [--prefixes M] [--orgs K] [--outside SHARE] [--seed S] [--schema FILE]\n" +
	"                         [--report FILE --constituents FILE [--report-type NAME]] [--data DIR | --db URL] [--sqlite-sync full|normal]\n" +
	"                         [--batch N] [--skip-db] [--json]"

// feedsBenchResult is the outcome of `belfry bench feeds`; --json prints it.
type feedsBenchResult struct {
	Benchmark  string `json:"benchmark"`
	Version    string `json:"version"`
	Database   string `json:"database,omitempty"`
	SQLiteSync string `json:"sqlite_sync,omitempty"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	Batch      int    `json:"batch"`
	Input      struct {
		Synthetic    bool    `json:"synthetic"`
		Report       string  `json:"report"` // the file read
		ReportType   string  `json:"report_type"`
		Bytes        int64   `json:"bytes"`
		Constituents string  `json:"constituents,omitempty"`
		Rows         int     `json:"rows,omitempty"` // asked for (synthetic)
		Prefixes     int     `json:"prefixes"`
		Orgs         int     `json:"orgs"`
		Outside      float64 `json:"outside,omitempty"`
		Seed         uint64  `json:"seed,omitempty"`
		// Generate is the time writing the synthetic report took (not a
		// stage of the pipeline).
		Generate float64 `json:"generate_seconds,omitempty"`
	} `json:"input"`
	// Stages are full passes over the input, each on its own.
	Stages []benchStage `json:"stages"`
	// Pipeline is the end-to-end run's counts; Within, the time that run
	// spent in each stage (Options.Observe), parse being the rest.
	Pipeline *feeds.Stats  `json:"pipeline,omitempty"`
	Within   []benchWithin `json:"within_pipeline,omitempty"`
	// Stored is the number of feed_events rows of the run, which must be
	// one per matched event and organisation plus one per unmatched event.
	Stored   int64   `json:"stored_events"`
	Expected int64   `json:"expected_events"`
	Setup    float64 `json:"setup_seconds"`
	// MemoryNote says how the peaks were measured.
	MemoryNote string `json:"memory_note"`
}

// benchStage is one full pass.
type benchStage struct {
	Name      string  `json:"name"`
	Seconds   float64 `json:"seconds"`
	Rows      int64   `json:"rows"`
	Events    int64   `json:"events"`
	Matched   int64   `json:"matched,omitempty"`
	Unmatched int64   `json:"unmatched,omitempty"`
	Rate      float64 `json:"rows_per_second"`
	// PeakRSS is VmHWM of the process during the stage (reset before it
	// when the kernel allows); PeakHeap, the largest live Go heap sampled.
	PeakRSS  int64 `json:"peak_rss_bytes"`
	PeakHeap int64 `json:"peak_heap_bytes"`
	GCs      int64 `json:"gc_cycles"`
}

// benchWithin is the time the pipeline spent in one stage.
type benchWithin struct {
	Stage   string  `json:"stage"`
	Seconds float64 `json:"seconds"`
	N       int64   `json:"n"`    // what the stage handled (see feeds.Options.Observe)
	Rate    float64 `json:"rate"` // n per second of the stage
	Share   float64 `json:"share"`
}

func benchFeeds(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench feeds", stderr)
	rows := fs.Int("rows", 1_000_000, "rows of the synthetic report")
	prefixes := fs.Int("prefixes", 10_000, "constituent /24 prefixes of the synthetic constituency")
	orgs := fs.Int("orgs", 1_000, "organisations owning the prefixes")
	outside := fs.Float64("outside", 0.2, "share of the synthetic rows outside the constituency (0 to 1)")
	seed := fs.Uint64("seed", 1, "seed of the synthetic report")
	schemaPath := fs.String("schema", nis2EnvString("FEEDS_SCHEMA", ""), "Shadowserver's schema (intelmq.json) `file` [BELFRY_FEEDS_SCHEMA]")
	reportPath := fs.String("report", "", "run on this report `file` (plain, .gz or .zip) instead of a synthetic one; needs --constituents")
	reportType := fs.String("report-type", "", "the Shadowserver report `type` of --report when its name does not carry it")
	constPath := fs.String("constituents", "", "the constituency of --report: a CSV `file` of org_id,cidr rows")
	dbURL := fs.String("db", "", "PostgreSQL `URL`; the benchmark WRITES TEST DATA there (use a dedicated database). Empty: SQLite")
	dataDir := fs.String("data", "", "keep the SQLite database in this `directory` (default: a temporary directory, removed afterwards)")
	syncMode := fs.String("sqlite-sync", "full", "SQLite synchronous `mode`: full or normal")
	batch := fs.Int("batch", feeds.DefaultBatch, "events per transaction of the pipeline")
	skipDB := fs.Bool("skip-db", false, "run only the in-memory stages (parse, match), not the pipeline into the database")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the end-to-end stage to this `file`")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "%s\n\nMeasures the feeds pipeline on one input, each stage a full pass: parse, parse + match (in memory),\n"+
			"and the whole pipeline into the database, with the time it spends in each stage and the peak memory.\n"+
			"The input is a synthetic Shadowserver scan_http report (written to a temporary file first), or --report.\n\nFlags:\n",
			benchFeedsUsage)
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	var bad []string
	if fs.NArg() > 0 {
		bad = append(bad, fmt.Sprintf("unexpected arguments %q", fs.Args()))
	}
	if (*reportPath == "") != (*constPath == "") {
		bad = append(bad, "--report and --constituents go together")
	}
	if *reportPath == "" {
		if *rows < 1 {
			bad = append(bad, "--rows must be positive")
		}
		if *prefixes < 1 || *prefixes > 1<<20 {
			bad = append(bad, "--prefixes must be between 1 and 1048576")
		}
		if *orgs < 1 || *orgs > *prefixes {
			bad = append(bad, "--orgs must be between 1 and --prefixes")
		}
		if *outside < 0 || *outside > 1 {
			bad = append(bad, "--outside must be between 0 and 1")
		}
	}
	if *syncMode != "full" && *syncMode != "normal" {
		bad = append(bad, fmt.Sprintf("--sqlite-sync %q: want full or normal", *syncMode))
	}
	if *batch < 1 {
		bad = append(bad, "--batch must be positive")
	}
	if *dbURL != "" && *dataDir != "" {
		bad = append(bad, "--db and --data exclude each other")
	}
	if *dbURL != "" && !strings.HasPrefix(*dbURL, "postgres://") && !strings.HasPrefix(*dbURL, "postgresql://") {
		bad = append(bad, "--db must be a postgres:// URL")
	}
	if len(bad) > 0 {
		fmt.Fprintf(stderr, "belfry bench feeds: %s\n", strings.Join(bad, "; "))
		return errUsage
	}
	if *schemaPath == "" {
		fmt.Fprintf(stderr, "belfry bench feeds: give Shadowserver's schema with --schema FILE (intelmq.json)\n")
		return errUsage
	}
	schema, err := shadowserver.LoadSchemaFile(*schemaPath)
	if err != nil {
		return err
	}

	res := &feedsBenchResult{Benchmark: "feeds", Version: benchVersion(), GOMAXPROCS: runtime.GOMAXPROCS(0), Batch: *batch}
	setupStart := time.Now()
	tmp, err := os.MkdirTemp("", "belfry-bench-feeds-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	// The input and its constituency: claims of organisations labelled 1…K.
	var claims []benchClaim
	var rep *shadowserver.Report
	path := *reportPath
	if path == "" {
		var ok bool
		if rep, ok = schema.Report("scan_http"); !ok {
			return errors.New("the schema has no scan_http report")
		}
		pfx := feeds.SyntheticPrefixes(*prefixes)
		for i, p := range pfx {
			claims = append(claims, benchClaim{label: int64(i%*orgs + 1), prefix: p})
		}
		path = filepath.Join(tmp, "2026-11-20-scan_http-belfry-bench.csv")
		t0 := time.Now()
		if err := writeSynthetic(path, *rows, pfx, *outside, *seed); err != nil {
			return err
		}
		in := &res.Input
		in.Synthetic, in.Rows, in.Outside, in.Seed, in.Generate = true, *rows, *outside, *seed, time.Since(t0).Seconds()
	} else {
		if claims, err = readConstituents(*constPath); err != nil {
			return err
		}
		res.Input.Constituents = *constPath
		if *reportType != "" {
			var ok bool
			if rep, ok = schema.Report(*reportType); !ok {
				return fmt.Errorf("--report-type %s: no such report type in the schema", *reportType)
			}
		} else if rep, err = schema.Detect(filepath.Base(path)); err != nil {
			return fmt.Errorf("%w; name the report type with --report-type", err)
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	res.Input.Report, res.Input.ReportType, res.Input.Bytes = path, rep.Stem, st.Size()
	res.Input.Prefixes = len(claims)
	labels := map[int64]bool{}
	for _, c := range claims {
		labels[c.label] = true
	}
	res.Input.Orgs = len(labels)

	// The database and its organisations, so that the snapshot names real
	// organisations (feed_events.org_id references them).
	var db *store.DB
	ids := map[int64]int64{} // label -> organisation
	if !*skipDB {
		cfg := app.Config{DB: *dbURL, DataDir: *dataDir, SQLiteSync: *syncMode}
		if cfg.DB == "" && cfg.DataDir == "" {
			cfg.DataDir = filepath.Join(tmp, "data")
		}
		if db, err = app.OpenDB(ctx, cfg); err != nil {
			return err
		}
		defer db.Close()
		if err := benchGuard(ctx, db); err != nil {
			return err
		}
		if ids, err = benchOrganisations(ctx, db, labels); err != nil {
			return fmt.Errorf("setup: %w", err)
		}
		if cfg.DB != "" {
			var v string
			res.Database = "postgresql"
			if err := db.QueryRow(ctx, `SHOW server_version`).Scan(&v); err == nil {
				res.Database += " " + v
			}
		} else {
			res.Database, res.SQLiteSync = "sqlite", *syncMode
		}
	} else {
		for l := range labels {
			ids[l] = l
		}
	}
	cl := make([]constituency.Claim, len(claims))
	for i, c := range claims {
		cl[i] = constituency.Claim{ID: int64(i + 1), OrgID: ids[c.label], Kind: constituency.KindPrefix, Value: c.prefix.String()}
	}
	snap, err := constituency.Build(cl)
	if err != nil {
		return err
	}
	index := constituency.NewIndex()
	index.Swap(snap)
	res.Setup = time.Since(setupStart).Seconds()

	mem := newMemWatch()
	res.MemoryNote = mem.note()
	stage := func(name string, fn func(s *benchStage) error) error {
		s := benchStage{Name: name}
		mem.start()
		t0 := time.Now()
		err := fn(&s)
		s.Seconds = time.Since(t0).Seconds()
		s.PeakRSS, s.PeakHeap, s.GCs = mem.stop()
		if s.Seconds > 0 {
			s.Rate = float64(s.Rows) / s.Seconds
		}
		res.Stages = append(res.Stages, s)
		return err
	}
	parseFile := func(lazy bool, emit func(*shadowserver.Parser) func(*feeds.Event) error, s *benchStage) error {
		return feeds.Open(path, func(name string, r io.Reader) error {
			p := shadowserver.NewParser(rep)
			p.Lazy = lazy
			ps, err := p.Parse(r, emit(p))
			s.Rows += int64(ps.Rows)
			s.Events += int64(ps.Events)
			return err
		})
	}
	none := func(*shadowserver.Parser) func(*feeds.Event) error { return func(*feeds.Event) error { return nil } }
	if err := stage("parse", func(s *benchStage) error { return parseFile(false, none, s) }); err != nil {
		return err
	}
	if err := stage("parse (lazy)", func(s *benchStage) error { return parseFile(true, none, s) }); err != nil {
		return err
	}
	if err := stage("parse + match", func(s *benchStage) error {
		sn := index.Load()
		return parseFile(true, func(*shadowserver.Parser) func(*feeds.Event) error {
			return func(e *feeds.Event) error {
				if m := feeds.Match(sn, e); len(m.Orgs) > 0 {
					s.Matched++
				} else {
					s.Unmatched++
				}
				return nil
			}
		}, s)
	}); err != nil {
		return err
	}
	if db != nil {
		var mu sync.Mutex
		within := map[string]*benchWithin{}
		var order []string
		observe := func(stage string, d time.Duration, n int) {
			mu.Lock()
			defer mu.Unlock()
			w := within[stage]
			if w == nil {
				w = &benchWithin{Stage: stage}
				within[stage] = w
				order = append(order, stage)
			}
			w.Seconds += d.Seconds()
			w.N += int64(n)
		}
		p := feeds.NewPipeline(db, index, slog.New(slog.DiscardHandler), feeds.Options{Batch: *batch, Observe: observe})
		var run *feeds.Run
		if *cpuProfile != "" {
			f, err := os.Create(*cpuProfile)
			if err != nil {
				return err
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				f.Close()
				return err
			}
			defer f.Close()
			defer pprof.StopCPUProfile()
		}
		err := stage("end to end", func(s *benchStage) error {
			return feeds.Open(path, func(name string, r io.Reader) error {
				parser := shadowserver.NewParser(rep)
				parse := func(ctx context.Context, emit func(*feeds.Event) error, problem func(feeds.Problem) error) error {
					parser.OnProblem = problem
					_, err := parser.Parse(r, emit)
					return err
				}
				var err error
				run, err = p.Run(ctx, feeds.RunInput{Source: "file", Name: name, Feed: rep.Stem}, parse, nil)
				if run != nil {
					s.Rows, s.Events, s.Matched, s.Unmatched = run.Stats.Rows, run.Stats.Events, run.Stats.Matched, run.Stats.Unmatched
				}
				return err
			})
		})
		if err != nil {
			return err
		}
		res.Pipeline = &run.Stats
		total := res.Stages[len(res.Stages)-1].Seconds
		rest := total
		for _, name := range order {
			w := within[name]
			rest -= w.Seconds
			res.Within = append(res.Within, *w)
		}
		res.Within = append([]benchWithin{{Stage: "parse (the rest)", Seconds: rest, N: run.Stats.Rows}}, res.Within...)
		for i := range res.Within {
			w := &res.Within[i]
			if w.Seconds > 0 {
				w.Rate = float64(w.N) / w.Seconds
			}
			if total > 0 {
				w.Share = w.Seconds / total
			}
		}
		if err := db.QueryRow(ctx, `SELECT count(*) FROM feed_events WHERE run_id = ?`, run.ID).Scan(&res.Stored); err != nil {
			return err
		}
		var pairs int64
		if err := db.QueryRow(ctx, `SELECT count(*) FROM feed_events WHERE run_id = ? AND org_id IS NOT NULL`, run.ID).Scan(&pairs); err != nil {
			return err
		}
		res.Expected = run.Stats.Unmatched + run.Stats.New + run.Stats.Duplicates
		if pairs != run.Stats.New+run.Stats.Duplicates {
			return fmt.Errorf("%d matched rows stored, but %d new + %d duplicates counted", pairs, run.Stats.New, run.Stats.Duplicates)
		}
	}

	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		printFeedsBench(stdout, res)
	}
	if db != nil && res.Stored != res.Expected {
		return fmt.Errorf("%d events stored, %d expected (unmatched + new + duplicates)", res.Stored, res.Expected)
	}
	return nil
}

// benchClaim is a prefix of the constituency and the label of its
// organisation (org_id in --constituents).
type benchClaim struct {
	label  int64
	prefix netip.Prefix
}

func writeSynthetic(path string, rows int, prefixes []netip.Prefix, outside float64, seed uint64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	if err := feeds.WriteSyntheticScan(f, rows, prefixes, outside, seed, day); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readConstituents reads org_id,cidr rows; a first row that is not one
// (a header) is skipped.
func readConstituents(path string) ([]benchClaim, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr := csv.NewReader(bufio.NewReader(f))
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	var out []benchClaim
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(rec) != 2 {
			return nil, fmt.Errorf("%s:%d: want org_id,cidr, got %d columns", path, line, len(rec))
		}
		org, err1 := strconv.ParseInt(strings.TrimSpace(rec[0]), 10, 64)
		pfx, err2 := constituency.NormalizePrefix(strings.TrimSpace(rec[1]))
		if err1 != nil || err2 != nil || org <= 0 {
			if line == 1 && len(out) == 0 {
				continue // a header
			}
			return nil, fmt.Errorf("%s:%d: want a positive org_id and a CIDR prefix, got %q", path, line, strings.Join(rec, ","))
		}
		out = append(out, benchClaim{label: org, prefix: pfx})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no org_id,cidr rows", path)
	}
	return out, nil
}

// benchOrganisations creates one organisation per label, named so that
// benchGuard accepts the database again.
func benchOrganisations(ctx context.Context, db *store.DB, labels map[int64]bool) (map[int64]int64, error) {
	ids := make(map[int64]int64, len(labels))
	stamp := time.Now().UTC().Format("20060102T150405.000000")
	now := time.Now().UTC()
	err := db.Tx(ctx, func(tx *store.Tx) error {
		for l := range labels {
			var id int64
			if err := tx.QueryRow(ctx, `INSERT INTO organisations (name, kind, created_at, updated_at) VALUES (?, 'entity', ?, ?) RETURNING id`,
				fmt.Sprintf("Belfry bench entity feeds %s %d", stamp, l), now, now).Scan(&id); err != nil {
				return err
			}
			ids[l] = id
		}
		return nil
	})
	return ids, err
}

// memWatch follows the memory of a stage: VmHWM (the peak resident set,
// reset before each stage through /proc/self/clear_refs when allowed) and
// the live Go heap, sampled.
type memWatch struct {
	resettable bool
	stopc      chan struct{}
	done       chan struct{}
	peakHeap   int64
	gc0        int64
}

func newMemWatch() *memWatch {
	m := &memWatch{}
	m.resettable = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	return m
}

func (m *memWatch) note() string {
	if m.resettable {
		return "peak RSS is VmHWM of /proc/self/status, reset before each stage (clear_refs 5); peak heap is the live Go heap sampled every 10 ms"
	}
	return "peak RSS is VmHWM of /proc/self/status since the process started (could not reset it); peak heap is the live Go heap sampled every 10 ms"
}

var heapSample = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/cycles/total:gc-cycles"}}

func readHeap() (heap, gcs int64) {
	s := make([]metrics.Sample, len(heapSample))
	copy(s, heapSample)
	metrics.Read(s)
	return int64(s[0].Value.Uint64()), int64(s[1].Value.Uint64())
}

func (m *memWatch) start() {
	runtime.GC()
	debug.FreeOSMemory()
	if m.resettable {
		_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	}
	m.peakHeap, m.gc0 = readHeap()
	m.stopc, m.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(m.done)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-m.stopc:
				return
			case <-t.C:
				if h, _ := readHeap(); h > m.peakHeap {
					m.peakHeap = h
				}
			}
		}
	}()
}

func (m *memWatch) stop() (rss, heap, gcs int64) {
	close(m.stopc)
	<-m.done
	h, g := readHeap()
	return vmHWM(), max(h, m.peakHeap), g - m.gc0
}

// vmHWM reads the peak resident set of the process, in bytes (0 when
// /proc is not there).
func vmHWM() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func printFeedsBench(w io.Writer, r *feedsBenchResult) {
	fmt.Fprintf(w, "belfry bench feeds (%s)\n", r.Version)
	in := r.Input
	if in.Synthetic {
		fmt.Fprintf(w, "  input:      synthetic %s, %d rows (%.1f MB, written in %.1f s), %d prefixes of %d organisations, %.0f %% outside, seed %d\n",
			in.ReportType, in.Rows, float64(in.Bytes)/1e6, in.Generate, in.Prefixes, in.Orgs, 100*in.Outside, in.Seed)
	} else {
		fmt.Fprintf(w, "  input:      %s (%s, %.1f MB), constituency %s: %d prefixes of %d organisations\n", in.Report, in.ReportType,
			float64(in.Bytes)/1e6, in.Constituents, in.Prefixes, in.Orgs)
	}
	if r.Database != "" {
		db := r.Database
		if r.SQLiteSync != "" {
			db += " (synchronous=" + r.SQLiteSync + ")"
		}
		fmt.Fprintf(w, "  database:   %s, batches of %d events\n", db, r.Batch)
	}
	fmt.Fprintf(w, "  GOMAXPROCS: %d\n\n", r.GOMAXPROCS)
	fmt.Fprintf(w, "  %-14s %10s %12s %14s %12s %12s %6s\n", "stage", "seconds", "rows", "rows/s", "peak RSS", "peak heap", "GCs")
	for _, s := range r.Stages {
		fmt.Fprintf(w, "  %-14s %10.2f %12d %14.0f %9.1f MB %9.1f MB %6d\n", s.Name, s.Seconds, s.Rows, s.Rate, float64(s.PeakRSS)/(1<<20),
			float64(s.PeakHeap)/(1<<20), s.GCs)
	}
	if len(r.Within) > 0 {
		fmt.Fprintf(w, "\n  within the end-to-end run:\n")
		fmt.Fprintf(w, "  %-18s %10s %12s %14s %8s\n", "stage", "seconds", "n", "n/s", "share")
		for _, s := range r.Within {
			fmt.Fprintf(w, "  %-18s %10.2f %12d %14.0f %7.1f%%\n", s.Stage, s.Seconds, s.N, s.Rate, 100*s.Share)
		}
		p := r.Pipeline
		fmt.Fprintf(w, "\n  pipeline:   %d rows: %d events, %d problems; %d matched, %d unmatched; %d new, %d duplicates\n",
			p.Rows, p.Events, p.Problems, p.Matched, p.Unmatched, p.New, p.Duplicates)
		fmt.Fprintf(w, "  stored:     %d events (expected %d: unmatched + new + duplicates)\n", r.Stored, r.Expected)
	}
	fmt.Fprintf(w, "  memory:     %s\n", r.MemoryNote)
}
