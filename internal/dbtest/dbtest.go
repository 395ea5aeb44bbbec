// Package dbtest gives tests a real, migrated database: an SQLite file in a
// temporary directory, and a fresh PostgreSQL database on the server that
// BELFRY_TEST_POSTGRES names (default: the local server at 127.0.0.1:5432).
// Run runs one test body on both.
package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/jobs"
	"github.com/belfry-cert/belfry/internal/store"
)

// DefaultPostgres is used when BELFRY_TEST_POSTGRES is unset.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// SQLite returns a migrated SQLite database in t.TempDir().
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	return open(t, store.Config{DataDir: t.TempDir(), SQLiteSync: "normal"})
}

// Postgres returns a migrated, empty PostgreSQL database that is dropped
// when the test ends. Without a reachable server the test is skipped, or
// fails under CI=true, where PostgreSQL is required.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	return open(t, store.Config{URL: PostgresURL(t)})
}

// PostgresURL creates an empty database and returns its URL.
func PostgresURL(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("BELFRY_TEST_POSTGRES")
	if admin == "" {
		admin = DefaultPostgres
	}
	db, err := sql.Open("pgx", admin)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = db.PingContext(ctx)
		cancel()
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required under CI=true but %s is not reachable: %v", redact(admin), err)
		}
		t.Skipf("PostgreSQL not reachable at %s (set BELFRY_TEST_POSTGRES): %v", redact(admin), err)
	}
	defer db.Close()
	name := fmt.Sprintf("belfry_test_%d_%d", time.Now().UnixNano(), seq())
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer db.Close()
		db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	return u.String()
}

var (
	mu  sync.Mutex
	ctr int
)

func seq() int {
	mu.Lock()
	defer mu.Unlock()
	ctr++
	return ctr
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(bad URL)"
	}
	return u.Redacted()
}

func open(t testing.TB, cfg store.Config) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if err := jobs.Migrate(ctx, db); err != nil {
		t.Fatalf("migrate jobs: %v", err)
	}
	return db
}

// Run runs fn as two subtests, "sqlite" and "postgres", each with its own
// fresh database.
func Run(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// Dialects lists the subtest names Run uses.
var Dialects = []string{"sqlite", "postgres"}
