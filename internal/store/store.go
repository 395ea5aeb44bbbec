// Package store opens Belfry's database (embedded SQLite or PostgreSQL),
// applies the embedded migrations and runs queries and transactions through a
// small dialect layer: queries are written once with ? placeholders and
// rebound for PostgreSQL.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the pure-Go "sqlite" driver
)

// Dialect names the SQL database behind a DB.
type Dialect int

const (
	SQLite Dialect = iota
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// Config says which database to open.
type Config struct {
	// URL is a postgres:// or postgresql:// URL. Empty means SQLite in DataDir.
	URL string
	// DataDir holds belfry.db when URL is empty.
	DataDir string
	// SQLiteSync is the SQLite synchronous pragma: "full" (default; an
	// acknowledged commit survives power loss) or "normal" (survives a crash
	// of the process, not of the machine).
	SQLiteSync string
}

// DB is an open Belfry database. Reads go to a pool of connections; writes
// go through Tx. With SQLite, writes use a single connection so that
// transactions queue in Go instead of failing with SQLITE_BUSY.
type DB struct {
	dialect Dialect
	write   *sql.DB
	read    *sql.DB
	path    string // SQLite file; empty for PostgreSQL

	rebound sync.Map // query string -> rebound string (PostgreSQL)
}

// Open opens the database that cfg names, creating the data directory and
// file for SQLite. It does not migrate; call Migrate.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.URL != "" {
		return openPostgres(ctx, cfg.URL)
	}
	return openSQLite(ctx, cfg)
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("store: database URL must start with postgres:// (got %q)", redact(dsn))
	}
	pool, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	pool.SetMaxOpenConns(20)
	pool.SetMaxIdleConns(10)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.PingContext(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", redact(dsn), err)
	}
	return &DB{dialect: Postgres, write: pool, read: pool}, nil
}

func openSQLite(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("store: no data directory")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	sync := strings.ToUpper(cfg.SQLiteSync)
	switch sync {
	case "":
		sync = "FULL"
	case "FULL", "NORMAL":
	default:
		return nil, fmt.Errorf("store: sqlite sync must be full or normal, not %q", cfg.SQLiteSync)
	}
	path := filepath.Join(cfg.DataDir, "belfry.db")
	// busy_timeout comes first so that the pragmas after it wait instead of
	// failing while another process holds the file; WAL lets readers run
	// beside the writer; foreign keys are off by default in SQLite.
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+sync+")")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_time_format", "sqlite")
	base := "file:" + path + "?" + q.Encode()
	// The writer starts transactions IMMEDIATE: it takes the write lock at
	// BEGIN, so a transaction never fails half-way on a lock upgrade. It
	// also gets a 32 MiB page cache and in-memory temporary storage: bulk
	// inserts (feed events) touch index pages in random order, which the
	// default 2 MiB cache re-reads from the file system. Neither changes
	// durability.
	w := url.Values{}
	w.Add("_pragma", "cache_size(-32768)")
	w.Add("_pragma", "temp_store(MEMORY)")
	write, err := sql.Open("sqlite", base+"&"+w.Encode()+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	read, err := sql.Open("sqlite", base)
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	read.SetMaxOpenConns(8)
	db := &DB{dialect: SQLite, write: write, read: read, path: path}
	if err := write.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return db, nil
}

// redact hides the password of a database URL.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// Close closes both pools.
func (db *DB) Close() error {
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Dialect reports which database this is.
func (db *DB) Dialect() Dialect { return db.dialect }

// Path is the SQLite file, or "" for PostgreSQL.
func (db *DB) Path() string { return db.path }

// WritePool is the pool that takes writes; the job queue uses it.
func (db *DB) WritePool() *sql.DB { return db.write }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.read.PingContext(ctx) }

// Querier is what both DB (reads) and Tx (reads and writes) offer, so that
// store functions run inside or outside a transaction.
type Querier interface {
	Exec(ctx context.Context, query string, args ...any) (sql.Result, error)
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) *sql.Row
	Dialect() Dialect
}

// Exec runs a statement outside a transaction, on the write pool.
func (db *DB) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return db.write.ExecContext(ctx, db.bind(q), args...)
}

// Query runs a read on the read pool.
func (db *DB) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return db.read.QueryContext(ctx, db.bind(q), args...)
}

// QueryRow runs a single-row read on the read pool.
func (db *DB) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return db.read.QueryRowContext(ctx, db.bind(q), args...)
}

func (db *DB) bind(q string) string {
	if db.dialect != Postgres {
		return q
	}
	if s, ok := db.rebound.Load(q); ok {
		return s.(string)
	}
	s := Rebind(q)
	db.rebound.Store(q, s)
	return s
}

// Tx is a write transaction.
type Tx struct {
	tx *sql.Tx
	db *DB
}

// Exec runs a statement in the transaction.
func (tx *Tx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return tx.tx.ExecContext(ctx, tx.db.bind(q), args...)
}

// Query runs a query in the transaction.
func (tx *Tx) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return tx.tx.QueryContext(ctx, tx.db.bind(q), args...)
}

// QueryRow runs a single-row query in the transaction.
func (tx *Tx) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return tx.tx.QueryRowContext(ctx, tx.db.bind(q), args...)
}

// Dialect reports which database this is.
func (tx *Tx) Dialect() Dialect { return tx.db.dialect }

// SQL exposes the underlying transaction, for libraries (the job queue) that
// must enlist in it.
func (tx *Tx) SQL() *sql.Tx { return tx.tx }

// Lock serialises the rest of this transaction against every other
// transaction taking the same key, across processes. SQLite transactions are
// already serial (IMMEDIATE on one connection); PostgreSQL takes a
// transaction-scoped advisory lock.
func (tx *Tx) Lock(ctx context.Context, key int64) error {
	if tx.db.dialect != Postgres {
		return nil
	}
	_, err := tx.tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", key)
	return err
}

// Tx runs fn in a write transaction and commits when fn returns nil. The
// commit has returned before Tx does: what fn wrote is durable.
func (db *DB) Tx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	stx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = stx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = stx.Rollback()
		}
	}()
	if err = fn(&Tx{tx: stx, db: db}); err != nil {
		return err
	}
	if err = stx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// Rebind turns ? placeholders into PostgreSQL's $1, $2, … It leaves question
// marks inside quoted strings and identifiers alone.
func Rebind(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteString(fmt.Sprintf("$%d", n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// IsUniqueViolation reports whether err is a unique-constraint violation on
// either database.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505")
}

// EscapeLike escapes the LIKE wildcards in s for a pattern written with
// ESCAPE '\', which both databases understand.
func EscapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Placeholders returns "?, ?, ?" with n marks, for IN lists.
func Placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}
