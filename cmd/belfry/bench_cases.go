package main

// `belfry bench cases`: list pages, searches and lookups of the CSIRT's
// cases at scale (issue 6: 1,000,000 cases and 10,000,000 observables,
// p95 under 100 ms on SQLite and PostgreSQL). The data is loaded with SQL
// in large transactions (the service would take hours); the queries go
// through the real service methods as an analyst.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/app"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/cases"
	"github.com/belfry-cert/belfry/internal/store"
)

const benchCasesUsage = "Usage: belfry bench cases [--cases N] [--observables M] [--queries Q] [--seed S] [--target DURATION]\n" +
	"                         [--data DIR | --db URL] [--json]"

// casesBenchMarker is the settings key that records a complete load, so
// that a second run on the same database measures only.
const casesBenchMarker = "bench_cases"

// casesBenchData describes the loaded data set.
type casesBenchData struct {
	Cases       int64  `json:"cases"`       // asked for
	Observables int64  `json:"observables"` // case-observable links asked for
	Seed        uint64 `json:"seed"`
	Stored      struct {
		Cases      int64 `json:"cases"`
		Active     int64 `json:"active_cases"`
		CaseOrgs   int64 `json:"case_orgs"`
		Values     int64 `json:"observable_values"`
		Links      int64 `json:"case_observables"`
		Tasks      int64 `json:"tasks"`
		Orgs       int64 `json:"organisations"`
		Staff      int64 `json:"staff"`
		PoolValues int64 `json:"shared_values"`
		DBBytes    int64 `json:"database_bytes"`
	} `json:"stored"`
	// LoadedAt is the reference time of the data (cases end there).
	LoadedAt time.Time `json:"loaded_at"`
	// Load is the time each step of the load took.
	Load        []casesBenchStep `json:"load"`
	LoadSeconds float64          `json:"load_seconds"`
}

type casesBenchStep struct {
	Step    string  `json:"step"`
	Seconds float64 `json:"seconds"`
	Rows    int64   `json:"rows,omitempty"`
}

// casesBenchResult is the outcome of `belfry bench cases`; --json prints it.
type casesBenchResult struct {
	Benchmark  string            `json:"benchmark"`
	Version    string            `json:"version"`
	Database   string            `json:"database"`
	GOMAXPROCS int               `json:"gomaxprocs"`
	Queries    int               `json:"queries"`
	TargetMS   float64           `json:"target_p95_ms"`
	Reused     bool              `json:"reused"`
	Data       casesBenchData    `json:"data"`
	Results    []casesBenchQuery `json:"results"`
	// Missed names the queries whose p95 is above the target.
	Missed []string `json:"missed"`
}

// casesBenchQuery is the latency of one kind of query.
type casesBenchQuery struct {
	Name string `json:"name"`
	// What describes the parameters; Rows is the mean number of rows a call
	// returned, Matches the number of cases its parameters match (counted
	// once, untimed, where it says something about selectivity).
	What    string  `json:"what"`
	Runs    int     `json:"runs"`
	P50     float64 `json:"p50_ms"`
	P95     float64 `json:"p95_ms"`
	P99     float64 `json:"p99_ms"`
	Max     float64 `json:"max_ms"`
	Rows    float64 `json:"mean_rows"`
	Matches string  `json:"matches,omitempty"`
}

func benchCases(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench cases", stderr)
	nCases := fs.Int64("cases", 1_000_000, "cases to load")
	nLinks := fs.Int64("observables", 10_000_000, "observables to load (links of a value to a case; about 30 % as many distinct values)")
	queries := fs.Int("queries", 200, "measured runs of each kind of query")
	seed := fs.Uint64("seed", 1, "seed of the synthetic data and of the query parameters")
	target := fs.Duration("target", 100*time.Millisecond, "fail when a p95 is above this `duration`")
	dbURL := fs.String("db", "", "PostgreSQL `URL`; the benchmark WRITES TEST DATA there (use a dedicated database). Empty: SQLite")
	dataDir := fs.String("data", "", "keep the SQLite database in this `directory` (default: a temporary directory, removed afterwards); "+
		"a directory holding the same data set is measured again without loading")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "%s\n\nLoads synthetic cases, organisations, observables and tasks with bulk SQL (once per database: a\n"+
			"database holding the same data set is reused), then times the case list, its filters, full-text search,\n"+
			"observable similarity, the overdue tasks and a case's observables through the cases service, as an analyst.\n"+
			"Exits non-zero when a p95 is above --target.\n\nFlags:\n", benchCasesUsage)
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	var bad []string
	if fs.NArg() > 0 {
		bad = append(bad, fmt.Sprintf("unexpected arguments %q", fs.Args()))
	}
	if *nCases < 100 || *nCases > 100_000_000 {
		bad = append(bad, "--cases must be between 100 and 100000000")
	}
	if *nLinks < *nCases || *nLinks > 1_000_000_000 {
		bad = append(bad, "--observables must be between --cases and 1000000000")
	}
	if *queries < 1 {
		bad = append(bad, "--queries must be positive")
	}
	if *target <= 0 {
		bad = append(bad, "--target must be positive")
	}
	if *dbURL != "" && *dataDir != "" {
		bad = append(bad, "--db and --data exclude each other")
	}
	if *dbURL != "" && !strings.HasPrefix(*dbURL, "postgres://") && !strings.HasPrefix(*dbURL, "postgresql://") {
		bad = append(bad, "--db must be a postgres:// URL")
	}
	if len(bad) > 0 {
		fmt.Fprintf(stderr, "belfry bench cases: %s\n", strings.Join(bad, "; "))
		return errUsage
	}

	cfg := app.Config{DB: *dbURL, DataDir: *dataDir}
	if cfg.DB == "" && cfg.DataDir == "" {
		dir, err := os.MkdirTemp("", "belfry-bench-cases-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.DataDir = dir
	}
	db, err := app.OpenDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := benchGuard(ctx, db); err != nil {
		return err
	}
	res := &casesBenchResult{Benchmark: "cases", Version: benchVersion(), GOMAXPROCS: runtime.GOMAXPROCS(0), Queries: *queries,
		TargetMS: float64(target.Microseconds()) / 1000, Missed: []string{}}
	if db.Dialect() == store.Postgres {
		var v string
		res.Database = "postgresql"
		if err := db.QueryRow(ctx, `SHOW server_version`).Scan(&v); err == nil {
			res.Database += " " + v
		}
	} else {
		res.Database = "sqlite (synchronous=full)"
	}

	want := casesBenchData{Cases: *nCases, Observables: *nLinks, Seed: *seed}
	data, found, err := readCasesMarker(ctx, db)
	switch {
	case err != nil:
		return err
	case found && (data.Cases != want.Cases || data.Observables != want.Observables || data.Seed != want.Seed):
		return fmt.Errorf("the database holds another data set of this benchmark (%d cases, %d observables, seed %d); give another database",
			data.Cases, data.Observables, data.Seed)
	case found:
		res.Reused = true
	default:
		var n int64
		if err := db.QueryRow(ctx, `SELECT count(*) FROM cases`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("the database holds %d cases but no complete data set of this benchmark (an interrupted load?); give a fresh database", n)
		}
		data = want
		fmt.Fprintf(stderr, "belfry bench cases: loading %d cases and %d observables…\n", *nCases, *nLinks)
		if err := loadCases(ctx, db, &data, stderr); err != nil {
			return fmt.Errorf("load: %w", err)
		}
	}
	res.Data = data

	if err := measureCases(ctx, db, res, *queries, *seed); err != nil {
		return err
	}
	for _, q := range res.Results {
		if q.P95 > res.TargetMS {
			res.Missed = append(res.Missed, q.Name)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		printCasesBench(stdout, res)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if len(res.Missed) > 0 {
		return fmt.Errorf("p95 above %s for: %s", target, strings.Join(res.Missed, ", "))
	}
	return nil
}

func readCasesMarker(ctx context.Context, db *store.DB) (casesBenchData, bool, error) {
	var d casesBenchData
	var v string
	err := db.QueryRow(ctx, `SELECT value FROM settings WHERE key = ?`, casesBenchMarker).Scan(&v)
	if err != nil {
		if strings.Contains(err.Error(), "no rows") {
			return d, false, nil
		}
		return d, false, err
	}
	if err := json.Unmarshal([]byte(v), &d); err != nil {
		return d, false, fmt.Errorf("settings %s: %w", casesBenchMarker, err)
	}
	return d, true, nil
}

// The synthetic data. Everything comes from one generator seeded with
// --seed, so a data set is the same on both databases.

const (
	benchStaff   = 30
	benchOrgs    = 2000
	benchVocab   = 30000
	benchBatch   = 10000 // cases per transaction
	benchFresh   = 0.27  // share of links to a value no other case has
	benchPoolPer = 0.03  // shared values per link
)

// benchStopwords and benchTerms head the vocabulary: the Zipf draw of the
// text makes the first words the most frequent. The terms are what a
// CSIRT writes; the rest of the vocabulary is made-up words.
var benchStopwords = []string{"the", "of", "on", "at", "and", "de", "het", "la", "le", "van", "des", "for"}

var benchTerms = []string{"phishing", "ransomware", "server", "credentials", "scan", "vpn", "malware", "exchange", "ddos", "leak",
	"vulnerability", "firewall", "botnet", "domain", "login", "mail", "exploit", "backdoor", "hospital", "municipality", "bank",
	"citrix", "fortinet", "webshell", "compromise", "outage", "takedown", "spoofing", "sinkhole", "brute", "force", "rdp", "ssh",
	"lockbit", "emotet", "qakbot", "cobalt", "strike", "beacon", "defacement", "dns", "amplification", "memcached", "ntp", "smb",
	"wannacry", "log4j", "moveit", "ivanti", "confluence", "sharepoint", "wordpress", "drupal", "joomla", "plugin", "patch",
	"advisory", "cve", "zero", "day", "supply", "chain", "vendor", "invoice", "fraud", "ceo", "whatsapp", "sms", "smishing",
	"vishing", "helpdesk", "itsme", "bpost", "belfius", "kbc", "proximus", "telenet", "energy", "water", "port", "railway",
	"airport", "university", "school", "police", "ministry", "province", "gemeente", "commune", "ziekenhuis", "hopital",
	"cyberattaque", "aanval", "datalek", "fuite", "rançongiciel", "gijzelsoftware", "hameçonnage", "oplichting", "escroquerie",
	"scada", "ics", "plc", "modbus", "ot", "iot", "camera", "router", "nas", "qnap", "synology", "mikrotik", "cisco", "juniper",
	"paloalto", "sonicwall", "vmware", "esxi", "hyperv", "backup", "veeam", "exfiltration", "encryption", "ransom", "note",
	"negotiation", "tor", "onion", "forum", "darkweb", "dump", "password", "spray", "mfa", "token", "oauth", "azure", "m365",
	"tenant", "mailbox", "forwarding", "rule", "bec", "wire", "transfer"}

var benchSyllables = []string{"ka", "lo", "ve", "ri", "ta", "mo", "sun", "dar", "el", "in", "or", "bra", "qui", "zen", "pol",
	"ast", "ur", "mi", "ne", "gor", "fel", "tri", "ona", "us", "ver", "lan", "dix", "op", "har", "ce"}

// benchVocabulary makes the vocabulary: stopwords, terms, then made-up
// words of two to four syllables, all distinct.
func benchVocabulary(n int) []string {
	words := append(slices.Clone(benchStopwords), benchTerms...)
	seen := map[string]bool{}
	for _, w := range words {
		seen[w] = true
	}
	r := rand.New(rand.NewPCG(7, 11)) // the same vocabulary whatever the seed
	for len(words) < n {
		var b strings.Builder
		for range 2 + r.IntN(3) {
			b.WriteString(benchSyllables[r.IntN(len(benchSyllables))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			words = append(words, w)
		}
	}
	return words
}

var benchTemplates = []struct{ name, class string }{{"", "other/other"}, {"", "fraud/phishing"}, {"", "intrusions/system-compromise"},
	{"phishing", "fraud/phishing"}, {"ransomware", "malicious-code/infected-system"}, {"ddos", "availability/ddos"},
	{"data_leak", "information-content-security/data-leak"}, {"vulnerability_exploitation", "intrusions/system-compromise"},
	{"", "vulnerable/vulnerable-system"}, {"", "information-gathering/scanner"}}

var benchResolutions = []string{"Resolved with the organisation.", "Site taken down by the hosting provider.", "False positive.",
	"Systems restored from backups.", "Patched; no sign of compromise.", "No answer from the organisation; closed."}

// pick draws an index from cumulative weights (percent).
func pick(r *rand.Rand, cum []int) int {
	x := r.IntN(cum[len(cum)-1])
	for i, c := range cum {
		if x < c {
			return i
		}
	}
	return len(cum) - 1
}

// benchObservable is the value of observable id: the type from the id,
// the value unique per id (an IPv4 address from a bijection of the id, a
// domain, a URL or a SHA-256 carrying it).
func benchObservable(id int64, vocab []string) (string, string) {
	w := func(k int64) string { return vocab[len(benchStopwords)+int(k%int64(len(vocab)-len(benchStopwords)))] }
	tlds := []string{"com", "net", "be", "org", "info", "xyz", "top", "eu"}
	switch id % 20 {
	case 0, 1, 2, 3, 4, 5, 6, 7:
		x := uint32(id) * 2654435761
		return "ip", netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)}).String()
	case 8, 9, 10, 11, 12:
		return "domain", fmt.Sprintf("%s-%s%d.%s", w(id*7), w(id*13), id, tlds[id%8])
	case 13, 14, 15:
		return "url", fmt.Sprintf("https://%s%d.%s/%s/%s.php?id=%d", w(id*3), id, tlds[id%8], w(id*5), w(id*11), id%1000)
	default:
		h := sha256.Sum256([]byte(fmt.Sprint("belfry-bench-", id)))
		return "hash", hex.EncodeToString(h[:])
	}
}

// bulk writes rows with multi-row INSERT statements of up to per rows.
type bulk struct {
	ctx   context.Context
	tx    *store.Tx
	head  string
	ncol  int
	per   int
	args  []any
	n     int
	full  string
	total *int64
}

func newBulk(ctx context.Context, tx *store.Tx, table, cols string, total *int64) *bulk {
	ncol := strings.Count(cols, ",") + 1
	b := &bulk{ctx: ctx, tx: tx, head: "INSERT INTO " + table + " (" + cols + ") VALUES ", ncol: ncol, per: min(1000, 30000/ncol), total: total}
	b.args = make([]any, 0, b.per*ncol)
	return b
}

func (b *bulk) stmt(n int) string {
	row := "(" + store.Placeholders(b.ncol) + ")"
	return b.head + strings.Repeat(row+", ", n-1) + row
}

func (b *bulk) add(vals ...any) error {
	b.args = append(b.args, vals...)
	b.n++
	if b.n == b.per {
		return b.flush()
	}
	return nil
}

func (b *bulk) flush() error {
	if b.n == 0 {
		return nil
	}
	q := b.full
	if b.n == b.per {
		if q == "" {
			b.full = b.stmt(b.n)
			q = b.full
		}
	} else {
		q = b.stmt(b.n)
	}
	if _, err := b.tx.Exec(b.ctx, q, b.args...); err != nil {
		return err
	}
	*b.total += int64(b.n)
	b.args, b.n = b.args[:0], 0
	return nil
}

// loadCases writes the data set. The secondary indexes of the case tables
// (and on SQLite the full-text triggers) are dropped during the load and
// made again from their own definitions afterwards, which is how a bulk
// load is done; the marker is written last.
func loadCases(ctx context.Context, db *store.DB, d *casesBenchData, stderr io.Writer) error {
	start := time.Now()
	step := func(name string, t0 time.Time, rows int64) {
		s := casesBenchStep{Step: name, Seconds: time.Since(t0).Seconds(), Rows: rows}
		d.Load = append(d.Load, s)
		fmt.Fprintf(stderr, "  %-34s %8.1f s %12d rows\n", name, s.Seconds, rows)
	}
	pg := db.Dialect() == store.Postgres
	now := time.Now().UTC().Truncate(time.Second)
	d.LoadedAt = now
	vocab := benchVocabulary(benchVocab)
	r := rand.New(rand.NewPCG(d.Seed, 0x6361736573))

	// The authority, its staff and the organisations, with ids read back.
	t0 := time.Now()
	var authority int64
	err := db.QueryRow(ctx, `SELECT id FROM organisations WHERE kind = 'authority' ORDER BY id LIMIT 1`).Scan(&authority)
	if err != nil && !strings.Contains(err.Error(), "no rows") {
		return err
	}
	var staff, orgs []int64
	stamp := now.Format("20060102T150405")
	err = db.Tx(ctx, func(tx *store.Tx) error {
		if authority == 0 {
			if err := tx.QueryRow(ctx, `INSERT INTO organisations (name, kind, created_at, updated_at) VALUES ('CCB', 'authority', ?, ?) RETURNING id`,
				now, now).Scan(&authority); err != nil {
				return err
			}
		}
		for i := range benchStaff {
			var id int64
			if err := tx.QueryRow(ctx, `INSERT INTO users (org_id, email, name, locale, created_at, updated_at) VALUES (?, ?, ?, 'en', ?, ?) RETURNING id`,
				authority, fmt.Sprintf("bench-cases-%s-%02d@bench.example.org", stamp, i), fmt.Sprintf("Bench analyst %d", i), now, now).Scan(&id); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO user_roles (user_id, role) VALUES (?, 'analyst')`, id); err != nil {
				return err
			}
			staff = append(staff, id)
		}
		for i := range benchOrgs {
			var id int64
			if err := tx.QueryRow(ctx, `INSERT INTO organisations (name, kind, created_at, updated_at) VALUES (?, 'entity', ?, ?) RETURNING id`,
				fmt.Sprintf("Belfry bench entity cases %s %d", stamp, i), now, now).Scan(&id); err != nil {
				return err
			}
			orgs = append(orgs, id)
		}
		return nil
	})
	if err != nil {
		return err
	}
	step("staff and organisations", t0, benchStaff+benchOrgs)

	// Drop the secondary indexes and (SQLite) the full-text triggers.
	t0 = time.Now()
	tables := []string{"cases", "case_orgs", "case_tasks", "observables", "case_observables"}
	var indexes, triggers [][2]string
	if pg {
		rows, err := db.Query(ctx, `SELECT indexname, indexdef FROM pg_indexes i WHERE schemaname = current_schema() AND tablename IN (`+
			store.Placeholders(len(tables))+`) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname) ORDER BY indexname`,
			anySlice(tables)...)
		if err != nil {
			return err
		}
		if indexes, err = scanPairs(rows); err != nil {
			return err
		}
	} else {
		rows, err := db.Query(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (`+
			store.Placeholders(len(tables))+`) ORDER BY name`, anySlice(tables)...)
		if err != nil {
			return err
		}
		if indexes, err = scanPairs(rows); err != nil {
			return err
		}
		rows, err = db.Query(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'cases' ORDER BY name`)
		if err != nil {
			return err
		}
		if triggers, err = scanPairs(rows); err != nil {
			return err
		}
	}
	err = db.Tx(ctx, func(tx *store.Tx) error {
		for _, x := range append(slices.Clone(indexes), triggers...) {
			kind := "INDEX"
			if slices.Contains(triggers, x) {
				kind = "TRIGGER"
			}
			if _, err := tx.Exec(ctx, `DROP `+kind+` `+x[0]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	superuser := false
	if pg {
		_ = db.QueryRow(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&superuser)
	} else {
		// The writer is one connection: these hold for the load. Foreign keys
		// are off because the generator writes only valid references; the
		// large cache keeps the unique indexes in memory.
		for _, p := range []string{"foreign_keys = OFF", "cache_size = -1048576", "synchronous = OFF"} {
			if _, err := db.Exec(ctx, `PRAGMA `+p); err != nil {
				return err
			}
		}
	}
	step(fmt.Sprintf("drop %d indexes, %d triggers", len(indexes), len(triggers)), t0, 0)

	// The shared values, then the cases in transactions of benchBatch.
	t0 = time.Now()
	nPool := max(int64(float64(d.Observables)*benchPoolPer), 10)
	d.Stored.PoolValues = nPool
	var nValues, nCases, nOrgs, nTasks, nLinks int64
	begin := func(tx *store.Tx) error {
		if pg {
			if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
				return err
			}
			if superuser { // no foreign-key triggers during the load
				if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for from := int64(1); from <= nPool; from += 100_000 {
		err := db.Tx(ctx, func(tx *store.Tx) error {
			if err := begin(tx); err != nil {
				return err
			}
			b := newBulk(ctx, tx, "observables", "id, type, value", &nValues)
			for id := from; id < from+100_000 && id <= nPool; id++ {
				typ, v := benchObservable(id, vocab)
				if err := b.add(id, typ, v); err != nil {
					return err
				}
			}
			return b.flush()
		})
		if err != nil {
			return err
		}
	}
	step("shared observable values", t0, nValues)

	t0 = time.Now()
	textZipf := rand.NewZipf(r, 1.07, 2, uint64(len(vocab)-1))
	orgZipf := rand.NewZipf(r, 1.1, 5, uint64(len(orgs)-1))
	poolZipf := rand.NewZipf(r, 1.05, 10, uint64(nPool-1))
	staffW := make([]int, len(staff)) // a few analysts carry more cases
	for i := range staffW {
		staffW[i] = 10 + 40/(i+1)
		if i > 0 {
			staffW[i] += staffW[i-1]
		}
	}
	span := 5 * 365 * 24 * time.Hour
	first := now.Add(-span)
	meanLinks := float64(d.Observables) / float64(d.Cases)
	nextValue := nPool + 1
	yearSeq := map[int]int{}
	words := func(n int, title bool) string {
		var b strings.Builder
		for i := range n {
			w := vocab[textZipf.Uint64()]
			if i > 0 {
				b.WriteByte(' ')
			} else if title {
				w = strings.ToUpper(w[:1]) + w[1:]
			}
			b.WriteString(w)
		}
		return b.String()
	}
	linksLeft := d.Observables
	seen := map[int64]bool{}
	lastReport := time.Now()
	for from := int64(1); from <= d.Cases; from += benchBatch {
		err := db.Tx(ctx, func(tx *store.Tx) error {
			if err := begin(tx); err != nil {
				return err
			}
			bc := newBulk(ctx, tx, "cases", "id, ref, year, seq, title, description, classification, severity, tlp, pap, status, resolution, "+
				"template, source, assignee_id, created_by, created_at, updated_at, closed_at", &nCases)
			bo := newBulk(ctx, tx, "case_orgs", "case_id, org_id", &nOrgs)
			bt := newBulk(ctx, tx, "case_tasks", "case_id, title, owner_id, status, due_at, sla, created_at, done_at", &nTasks)
			bv := newBulk(ctx, tx, "observables", "id, type, value", &nValues)
			bl := newBulk(ctx, tx, "case_observables", "case_id, observable_id, tlp, ioc, sighted, created_at", &nLinks)
			for id := from; id < from+benchBatch && id <= d.Cases; id++ {
				created := first.Add(time.Duration(float64(span) * (float64(id-1) + r.Float64()) / float64(d.Cases))).Truncate(time.Second)
				age := now.Sub(created)
				year := created.Year()
				yearSeq[year]++
				status := "closed"
				switch {
				case age < 120*24*time.Hour && r.IntN(100) < 55, r.IntN(1000) < 14:
					status = []string{"new", "open", "open", "waiting"}[r.IntN(4)]
				case r.IntN(100) < 7:
					status = "resolved"
				}
				active := status != "closed" && status != "resolved"
				var updated time.Time
				if active {
					updated = created.Add(time.Duration(r.Float64() * float64(age)))
				} else {
					updated = created.Add(time.Duration(r.ExpFloat64() * float64(10*24*time.Hour)))
					if updated.After(now) {
						updated = now.Add(-time.Duration(r.IntN(3600)) * time.Second)
					}
				}
				updated = updated.Truncate(time.Second)
				var closed, resolution any
				resolution = ""
				if status == "closed" {
					closed = updated
				}
				if !active {
					resolution = benchResolutions[r.IntN(len(benchResolutions))]
				}
				var assignee any
				if r.IntN(10) > 0 {
					assignee = staff[pick(r, staffW)]
				}
				tm := benchTemplates[r.IntN(len(benchTemplates))]
				sev := 1 + pick(r, []int{35, 75, 95, 100})
				tlp := cases.TLPs[pick(r, []int{5, 30, 85, 95, 100})]
				pap := cases.PAPs[pick(r, []int{10, 40, 90, 100})]
				source := []string{"manual", "report", "feed", "email"}[pick(r, []int{40, 65, 95, 100})]
				if err := bc.add(id, fmt.Sprintf("CASE-%d-%06d", year, yearSeq[year]), year, yearSeq[year], words(4+r.IntN(5), true),
					words(15+r.IntN(26), false), tm.class, sev, tlp, pap, status, resolution, tm.name, source, assignee, assignee,
					created, updated, closed); err != nil {
					return err
				}
				o1 := orgs[orgZipf.Uint64()]
				if r.IntN(2) == 0 {
					o1 = orgs[r.IntN(len(orgs))]
				}
				if err := bo.add(id, o1); err != nil {
					return err
				}
				if r.IntN(4) == 0 {
					if o2 := orgs[r.IntN(len(orgs))]; o2 != o1 {
						if err := bo.add(id, o2); err != nil {
							return err
						}
					}
				}
				if active {
					for k := range 2 + r.IntN(4) {
						due := created.Add(time.Duration(1+r.IntN(240)) * time.Hour)
						st, done := "open", any(nil)
						if r.IntN(5) == 0 {
							st, done = "done", due.Add(-time.Hour)
						}
						var owner any = assignee
						if r.IntN(3) == 0 {
							owner = staff[r.IntN(len(staff))]
						}
						if err := bt.add(id, fmt.Sprintf("Task %d: %s", k+1, words(3, false)), owner, st, due, "", created, done); err != nil {
							return err
						}
					}
				}
				// Observables: a long-tailed number per case, most values
				// new, the rest drawn from the shared values by popularity.
				n := int64(math.Round(1 + r.ExpFloat64()*(meanLinks-1)))
				if left := d.Cases - id; linksLeft-n < left {
					n = max(1, linksLeft-left) // keep at least one for each case to come
				}
				if id == d.Cases {
					n = max(1, linksLeft)
				}
				n = min(n, 2000)
				clear(seen)
				for added := int64(0); added < n; {
					var v int64
					if r.Float64() < benchFresh {
						v = nextValue
						nextValue++
						typ, val := benchObservable(v, vocab)
						if err := bv.add(v, typ, val); err != nil {
							return err
						}
					} else {
						v = int64(poolZipf.Uint64()) + 1
						if seen[v] {
							continue
						}
					}
					seen[v] = true
					added++
					linksLeft--
					if err := bl.add(id, v, tlp, r.IntN(3) == 0, r.IntN(5) == 0, created); err != nil {
						return err
					}
				}
			}
			for _, b := range []*bulk{bc, bo, bt, bv, bl} {
				if err := b.flush(); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if time.Since(lastReport) > 30*time.Second {
			lastReport = time.Now()
			fmt.Fprintf(stderr, "  … %d cases, %d observables (%.0f s)\n", nCases, nLinks, time.Since(t0).Seconds())
		}
	}
	step("cases, organisations, tasks, observables", t0, nCases+nOrgs+nTasks+nValues-nPool+nLinks)

	// The indexes and triggers again, the full-text index, the statistics.
	if !pg {
		for _, p := range []string{"foreign_keys = ON", "cache_size = -32768", "synchronous = FULL"} {
			if _, err := db.Exec(ctx, `PRAGMA `+p); err != nil {
				return err
			}
		}
	}
	for _, x := range indexes {
		t0 = time.Now()
		err := db.Tx(ctx, func(tx *store.Tx) error {
			if pg {
				if _, err := tx.Exec(ctx, `SET LOCAL maintenance_work_mem = '1GB'`); err != nil {
					return err
				}
			}
			_, err := tx.Exec(ctx, x[1])
			return err
		})
		if err != nil {
			return fmt.Errorf("%s: %w", x[0], err)
		}
		step("index "+x[0], t0, 0)
	}
	if !pg {
		t0 = time.Now()
		err := db.Tx(ctx, func(tx *store.Tx) error {
			for _, x := range triggers {
				if _, err := tx.Exec(ctx, x[1]); err != nil {
					return err
				}
			}
			_, err := tx.Exec(ctx, `INSERT INTO cases_fts (cases_fts) VALUES ('rebuild')`)
			return err
		})
		if err != nil {
			return err
		}
		step("full-text index (FTS5 rebuild)", t0, nCases)
		t0 = time.Now()
		if _, err := db.Exec(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return err
		}
		step("checkpoint", t0, 0)
	} else {
		t0 = time.Now()
		for _, q := range []string{
			`SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))`,
			`SELECT setval(pg_get_serial_sequence('observables', 'id'), (SELECT max(id) FROM observables))`,
			`SELECT setval(pg_get_serial_sequence('case_tasks', 'id'), GREATEST((SELECT max(id) FROM case_tasks), 1))`,
			`VACUUM (ANALYZE) cases, case_orgs, case_tasks, observables, case_observables`,
		} {
			if _, err := db.Exec(ctx, q); err != nil {
				return err
			}
		}
		step("sequences, VACUUM ANALYZE", t0, 0)
	}

	d.Stored.Cases, d.Stored.CaseOrgs, d.Stored.Values, d.Stored.Links, d.Stored.Tasks = nCases, nOrgs, nValues, nLinks, nTasks
	d.Stored.Orgs, d.Stored.Staff = int64(len(orgs)), int64(len(staff))
	if err := db.QueryRow(ctx, `SELECT count(*) FROM cases WHERE status IN ('new', 'open', 'waiting')`).Scan(&d.Stored.Active); err != nil {
		return err
	}
	if pg {
		_ = db.QueryRow(ctx, `SELECT pg_database_size(current_database())`).Scan(&d.Stored.DBBytes)
	} else if st, err := os.Stat(db.Path()); err == nil {
		d.Stored.DBBytes = st.Size()
	}
	d.LoadSeconds = time.Since(start).Seconds()
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	_, err = db.Exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)`, casesBenchMarker, string(b))
	return err
}

func anySlice(xs []string) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

func scanPairs(rows interface {
	Next() bool
	Scan(...any) error
	Close() error
	Err() error
}) ([][2]string, error) {
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var p [2]string
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// measureCases times each kind of query through the service.
func measureCases(ctx context.Context, db *store.DB, res *casesBenchResult, runs int, seed uint64) error {
	d := &res.Data
	var me auth.Principal
	err := db.QueryRow(ctx, `SELECT u.id, u.org_id, u.email FROM users u JOIN organisations o ON o.id = u.org_id
		WHERE o.kind = 'authority' AND u.email LIKE 'bench-cases-%' ORDER BY u.id LIMIT 1`).Scan(&me.UserID, &me.OrgID, &me.Email)
	if err != nil {
		return fmt.Errorf("the analyst of the data set: %w", err)
	}
	me.OrgKind, me.Roles = "authority", []auth.Role{auth.RoleAnalyst}
	pctx := auth.With(ctx, &me)
	svc := cases.NewService(db, slog.New(slog.DiscardHandler), nil)

	var staff, orgs []int64
	for _, q := range []struct {
		sql string
		out *[]int64
	}{
		{`SELECT u.id FROM users u WHERE u.email LIKE 'bench-cases-%' ORDER BY u.id`, &staff},
		{`SELECT id FROM organisations WHERE name LIKE 'Belfry bench entity cases %' ORDER BY id`, &orgs},
	} {
		rows, err := db.Query(ctx, q.sql)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			*q.out = append(*q.out, id)
		}
		rows.Close()
	}
	if len(staff) == 0 || len(orgs) == 0 {
		return errors.New("the data set has no staff or organisations")
	}
	var maxValue int64
	if err := db.QueryRow(ctx, `SELECT max(id) FROM observables`).Scan(&maxValue); err != nil {
		return err
	}
	vocab := benchVocabulary(benchVocab)
	nTerms := len(benchStopwords) + len(benchTerms)
	r := rand.New(rand.NewPCG(seed, 0x71756572))
	orgZipf := rand.NewZipf(r, 1.1, 5, uint64(len(orgs)-1))
	common := vocab[len(benchStopwords) : len(benchStopwords)+8] // the most frequent terms
	rare := vocab[20000:]
	prefixOf := func(w string) string { return w[:min(len(w), 4)] }
	pool := d.Stored.PoolValues

	type kind struct {
		name, what string
		run        func(i int) (int, error)
		matches    func() string
	}
	list := func(f func(i int) cases.Filter) func(int) (int, error) {
		return func(i int) (int, error) {
			cs, _, err := svc.List(pctx, f(i))
			return len(cs), err
		}
	}
	// count says how many cases the text of a search matches (untimed).
	count := func(texts ...string) func() string {
		return func() string {
			var parts []string
			for _, t := range texts[:min(len(texts), 3)] {
				n, err := countMatches(ctx, db, t)
				if err != nil {
					return "?"
				}
				parts = append(parts, fmt.Sprintf("%q %d", t, n))
			}
			return strings.Join(parts, ", ")
		}
	}
	pickWords := func(ws []string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = ws[r.IntN(len(ws))]
		}
		return out
	}
	commonQ := pickWords(common, runs)
	rareQ := pickWords(rare, runs)
	twoQ := make([]string, runs)
	for i := range twoQ {
		twoQ[i] = vocab[len(benchStopwords)+r.IntN(60)] + " " + vocab[len(benchStopwords)+r.IntN(nTerms-len(benchStopwords))]
	}
	prefixQ := make([]string, runs)
	for i := range prefixQ {
		prefixQ[i] = prefixOf(vocab[len(benchStopwords)+r.IntN(40)])
	}
	orgQ := make([]int64, runs)
	for i := range orgQ {
		orgQ[i] = orgs[orgZipf.Uint64()]
	}
	caseQ := make([]int64, runs)
	for i := range caseQ {
		caseQ[i] = 1 + r.Int64N(d.Stored.Cases)
	}
	casesOf := func(ids []int64) string {
		var ns []int64
		for _, id := range ids[:min(len(ids), 20)] {
			var n int64
			if err := db.QueryRow(ctx, `SELECT count(*) FROM case_orgs WHERE org_id = ?`, id).Scan(&n); err != nil {
				return "?"
			}
			ns = append(ns, n)
		}
		slices.Sort(ns)
		return fmt.Sprintf("%d to %d cases per organisation (first 20 drawn)", ns[0], ns[len(ns)-1])
	}
	kinds := []kind{
		{"list: active, first page", "status new/open/waiting, 50 a page, newest change first",
			list(func(int) cases.Filter { return cases.Filter{Status: "active"} }), nil},
		{"list: all, first page", "every status",
			list(func(int) cases.Filter { return cases.Filter{} }), nil},
		{"list: active, offset 1000", "page 21 of the active list",
			list(func(int) cases.Filter { return cases.Filter{Status: "active", Offset: 1000} }), nil},
		{"list: all, offset 1000", "page 21 of all cases",
			list(func(int) cases.Filter { return cases.Filter{Offset: 1000} }), nil},
		{"filter: severity", "severity 1-4 in turn, every status",
			list(func(i int) cases.Filter { return cases.Filter{Severity: 1 + i%4} }), nil},
		{"filter: severity, active", "severity 1-4 in turn, active",
			list(func(i int) cases.Filter { return cases.Filter{Severity: 1 + i%4, Status: "active"} }), nil},
		{"filter: assignee, active", "each of 30 analysts in turn, active (\"my cases\")",
			list(func(i int) cases.Filter { return cases.Filter{AssigneeID: staff[i%len(staff)], Status: "active"} }), nil},
		{"filter: assignee, all", "each of 30 analysts in turn, every status",
			list(func(i int) cases.Filter { return cases.Filter{AssigneeID: staff[i%len(staff)]} }), nil},
		{"filter: organisation", "organisations drawn by their number of cases, every status",
			list(func(i int) cases.Filter { return cases.Filter{OrgID: orgQ[i]} }), func() string { return casesOf(orgQ) }},
		{"search: common word", "one of the 8 most frequent terms",
			list(func(i int) cases.Filter { return cases.Filter{Text: commonQ[i]} }), count(common...)},
		{"search: rare word", "a word of rank 20,000-30,000",
			list(func(i int) cases.Filter { return cases.Filter{Text: rareQ[i]} }), count(rareQ...)},
		{"search: two words", "a frequent and a less frequent term",
			list(func(i int) cases.Filter { return cases.Filter{Text: twoQ[i]} }), count(twoQ...)},
		{"search: prefix", "the first 4 letters of a frequent term",
			list(func(i int) cases.Filter { return cases.Filter{Text: prefixQ[i]} }), count(prefixQ...)},
		{"search: word, active", "a frequent term in the active list",
			list(func(i int) cases.Filter { return cases.Filter{Text: commonQ[i], Status: "active"} }), nil},
		{"similar: common value", "one of the 100 most shared values",
			func(i int) (int, error) {
				s, err := svc.Similar(pctx, 1+int64(i%100), 0, 50)
				if err != nil {
					return 0, err
				}
				return len(s.Cases), nil
			}, func() string { return valueCases(ctx, db, 1, 100) }},
		{"similar: rare value", "a value of one case",
			func(i int) (int, error) {
				s, err := svc.Similar(pctx, pool+1+r.Int64N(max(1, maxValue-pool)), 0, 50)
				if err != nil {
					return 0, err
				}
				return len(s.Cases), nil
			}, nil},
		{"tasks: overdue", "open tasks past due, first page of 100",
			func(int) (int, error) {
				ts, err := svc.AllTasks(pctx, cases.TaskFilter{Overdue: true})
				return len(ts), err
			}, nil},
		{"observables of a case", "a random case's observables with their counts of other cases",
			func(i int) (int, error) {
				os, err := svc.Observables(pctx, caseQ[i])
				return len(os), err
			}, nil},
	}
	warm := max(3, runs/10)
	for _, k := range kinds {
		for i := range warm {
			if _, err := k.run((i * 7) % runs); err != nil {
				return fmt.Errorf("%s: %w", k.name, err)
			}
		}
		lat := make([]time.Duration, runs)
		var rows int64
		for i := range runs {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			t0 := time.Now()
			n, err := k.run(i)
			lat[i] = time.Since(t0)
			if err != nil {
				return fmt.Errorf("%s: %w", k.name, err)
			}
			rows += int64(n)
		}
		slices.Sort(lat)
		q := casesBenchQuery{Name: k.name, What: k.what, Runs: runs, P50: quantileMS(lat, 0.50), P95: quantileMS(lat, 0.95),
			P99: quantileMS(lat, 0.99), Max: float64(lat[len(lat)-1].Microseconds()) / 1000, Rows: float64(rows) / float64(runs)}
		if k.matches != nil {
			q.Matches = k.matches()
		}
		res.Results = append(res.Results, q)
	}
	return nil
}

// quantileMS is the nearest-rank quantile of sorted latencies, in ms.
func quantileMS(lat []time.Duration, q float64) float64 {
	i := int(math.Ceil(q*float64(len(lat)))) - 1
	i = max(0, min(i, len(lat)-1))
	return float64(lat[i].Microseconds()) / 1000
}

// countMatches counts the cases a search matches, with the list's own
// full-text condition.
func countMatches(ctx context.Context, db *store.DB, text string) (int64, error) {
	var words []string
	for _, w := range strings.Fields(strings.ToLower(text)) {
		words = append(words, w)
	}
	var n int64
	var err error
	if db.Dialect() == store.Postgres {
		err = db.QueryRow(ctx, `SELECT count(*) FROM cases WHERE fts @@ to_tsquery('simple', ?)`, strings.Join(words, " & ")+":*").Scan(&n)
	} else {
		for i, w := range words {
			words[i] = `"` + w + `"`
		}
		err = db.QueryRow(ctx, `SELECT count(*) FROM cases_fts WHERE cases_fts MATCH ?`, strings.Join(words, " ")+"*").Scan(&n)
	}
	return n, err
}

// valueCases says how many cases the shared values from..to have.
func valueCases(ctx context.Context, db *store.DB, from, to int64) string {
	var lo, hi int64
	err := db.QueryRow(ctx, `SELECT min(n), max(n) FROM (SELECT observable_id, count(*) AS n FROM case_observables
		WHERE observable_id BETWEEN ? AND ? GROUP BY observable_id) x`, from, to).Scan(&lo, &hi)
	if err != nil {
		return "?"
	}
	return fmt.Sprintf("%d to %d cases per value", lo, hi)
}

func printCasesBench(w io.Writer, r *casesBenchResult) {
	d := r.Data
	fmt.Fprintf(w, "belfry bench cases (%s)\n", r.Version)
	fmt.Fprintf(w, "  database:    %s, GOMAXPROCS %d\n", r.Database, r.GOMAXPROCS)
	s := d.Stored
	fmt.Fprintf(w, "  data:        %d cases (%d active), %d case organisations of %d, %d observables (%d distinct values, %d shared),\n"+
		"               %d tasks, %d analysts; seed %d; %.1f GB\n", s.Cases, s.Active, s.CaseOrgs, s.Orgs, s.Links, s.Values, s.PoolValues,
		s.Tasks, s.Staff, d.Seed, float64(s.DBBytes)/1e9)
	if r.Reused {
		fmt.Fprintf(w, "  load:        reused (loaded %s in %.0f s)\n", d.LoadedAt.Format(time.RFC3339), d.LoadSeconds)
	} else {
		fmt.Fprintf(w, "  load:        %.0f s\n", d.LoadSeconds)
		for _, st := range d.Load {
			fmt.Fprintf(w, "               %-40s %8.1f s\n", st.Step, st.Seconds)
		}
	}
	fmt.Fprintf(w, "  queries:     %d runs each after %d warm-up runs; target p95 %.0f ms\n\n", r.Queries, max(3, r.Queries/10), r.TargetMS)
	fmt.Fprintf(w, "  %-28s %9s %9s %9s %9s %7s\n", "query", "p50 ms", "p95 ms", "p99 ms", "max ms", "rows")
	for _, q := range r.Results {
		mark := ""
		if q.P95 > r.TargetMS {
			mark = "  ← above target"
		}
		fmt.Fprintf(w, "  %-28s %9.2f %9.2f %9.2f %9.2f %7.1f%s\n", q.Name, q.P50, q.P95, q.P99, q.Max, q.Rows, mark)
	}
	fmt.Fprintln(w)
	for _, q := range r.Results {
		line := q.What
		if q.Matches != "" {
			line += "; matches: " + q.Matches
		}
		fmt.Fprintf(w, "  %-28s %s\n", q.Name, line)
	}
	if len(r.Missed) == 0 {
		fmt.Fprintf(w, "\n  every p95 is under %.0f ms\n", r.TargetMS)
	} else {
		fmt.Fprintf(w, "\n  p95 above %.0f ms: %s\n", r.TargetMS, strings.Join(r.Missed, ", "))
	}
}
