package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Backup writes a consistent copy of an SQLite database to path while the
// database stays in use (VACUUM INTO reads one snapshot). The file must not
// exist yet. PostgreSQL is backed up with pg_dump.
func (db *DB) Backup(ctx context.Context, path string) error {
	if db.dialect != SQLite {
		return errors.New("store: use pg_dump to back up PostgreSQL")
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("store: backup %s already exists", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if _, err := db.read.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	return os.Chmod(path, 0o600)
}
