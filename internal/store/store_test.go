package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/store"
)

func TestRebind(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT ? , ?", "SELECT $1 , $2"},
		{"SELECT '?' , ?", "SELECT '?' , $1"},
		{`SELECT "a?b" FROM t WHERE x = ? AND y LIKE ? ESCAPE '\'`, `SELECT "a?b" FROM t WHERE x = $1 AND y LIKE $2 ESCAPE '\'`},
	}
	for _, tt := range tests {
		if got := store.Rebind(tt.in); got != tt.want {
			t.Errorf("Rebind(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMigrateIdempotentAndTimes(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		n, err := db.Migrate(ctx)
		if err != nil || n != 0 {
			t.Fatalf("second Migrate = %d, %v; want 0, nil", n, err)
		}
		// Times go in as UTC and come back equal to the microsecond.
		at := time.Date(2026, 3, 29, 1, 59, 59, 123456000, time.UTC)
		err = db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO organisations (name, kind, created_at, updated_at) VALUES (?, ?, ?, ?)`, "X", "other", at, at)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var got time.Time
		if err := db.QueryRow(ctx, `SELECT created_at FROM organisations WHERE name = ?`, "X").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if !got.Equal(at) {
			t.Errorf("created_at = %v, want %v", got, at)
		}
	})
}

func TestTxRollsBackOnError(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		err := db.Tx(ctx, func(tx *store.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO organisations (name, kind, created_at, updated_at) VALUES (?, ?, ?, ?)`, "Y", "other", now, now); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO organisations (name, kind, created_at, updated_at) VALUES (?, ?, ?, ?)`, "y", "other", now, now)
			return err // unique violation on lower(name)
		})
		if !store.IsUniqueViolation(err) {
			t.Fatalf("Tx error = %v, want unique violation", err)
		}
		var n int
		db.QueryRow(ctx, `SELECT COUNT(*) FROM organisations`).Scan(&n)
		if n != 0 {
			t.Errorf("rows after rollback = %d, want 0", n)
		}
	})
}

// TestSQLiteWriterPragmas: the writer keeps durability (WAL, synchronous
// as configured) and gets the larger page cache and in-memory temporary
// storage for bulk inserts.
func TestSQLiteWriterPragmas(t *testing.T) {
	db := dbtest.SQLite(t)
	for pragma, want := range map[string]string{"cache_size": "-32768", "temp_store": "2", "journal_mode": "wal", "foreign_keys": "1"} {
		var got string
		if err := db.WritePool().QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s on the writer, want %s", pragma, got, want)
		}
	}
}
