package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/belfry-cert/belfry/internal/advisory"
	"github.com/belfry-cert/belfry/internal/reporting"
	"github.com/belfry-cert/belfry/internal/store"
)

// maxAttachmentSize bounds --attachment-max-size: a file is held in
// memory while it is checked and encrypted.
const maxAttachmentSize = 256 << 20

// attachmentKeyFile is the key file the settings name, by default in the
// data directory.
func (c *Config) attachmentKeyFile() string {
	if c.AttachmentKeyFile != "" {
		return c.AttachmentKeyFile
	}
	return filepath.Join(c.DataDir, "keys", "attachments.key")
}

// readOrCreateKey reads a 32-byte key from path: the raw bytes, or 64 hex
// digits with optional surrounding white space. A missing file is created
// with a random key (mode 0600, its directory 0700); an existing file is
// never overwritten, so instances that start together agree on one key.
func readOrCreateKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := createKey(path); err != nil {
			return nil, err
		}
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("attachment key: %w", err)
	}
	if len(b) == 32 {
		return b, nil
	}
	if k, err := hex.DecodeString(string(bytes.TrimSpace(b))); err == nil && len(k) == 32 {
		return k, nil
	}
	return nil, fmt.Errorf("attachment key %s: want 32 bytes or 64 hex digits", path)
}

// createKey writes a random key to path unless a file is already there.
// The key is written to a temporary file first and linked into place, so
// that no reader ever sees a half-written key.
func createKey(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("attachment key: %w", err)
	}
	f, err := os.CreateTemp(dir, ".attachments-key-*")
	if err != nil {
		return fmt.Errorf("attachment key: %w", err)
	}
	defer os.Remove(f.Name())
	k := make([]byte, 32)
	rand.Read(k)
	_, err = f.WriteString(hex.EncodeToString(k) + "\n")
	if err == nil {
		err = f.Chmod(0o600)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(f.Name(), path)
	}
	if err != nil && !errors.Is(err, fs.ErrExist) { // ErrExist: another process was first
		return fmt.Errorf("attachment key: %w", err)
	}
	return nil
}

// configureAttachments gives the reporting service its attachment key and
// size limit, and returns the key: it is the instance's data key, which
// also protects the CSAF signing key at rest. Without a key file and without a data directory (an
// instance built in tests, or bench on PostgreSQL), the key is random and
// lives as long as the process. A key file's id is recorded in the
// settings table on first use: an instance with another key (a second
// instance that created its own file instead of sharing the first's) is
// refused at start, before it could write what the others cannot read.
func configureAttachments(ctx context.Context, db *store.DB, svc *reporting.Service, cfg Config, log *slog.Logger) ([]byte, error) {
	max := int64(reporting.DefaultAttachmentMaxSize)
	if cfg.AttachmentMaxSize != "" {
		n, err := reporting.ParseSize(cfg.AttachmentMaxSize)
		if err != nil {
			return nil, fmt.Errorf("--attachment-max-size: %w", err)
		}
		max = n
	}
	svc.SetAttachmentMaxSize(max)
	if cfg.AttachmentKeyFile == "" && cfg.DataDir == "" {
		key := make([]byte, 32)
		rand.Read(key)
		log.Info("attachments: no key file and no data directory; attachments use a key for this process only")
		return key, svc.SetAttachmentKey(key)
	}
	key, err := instanceKey(ctx, db, cfg)
	if err != nil {
		return nil, err
	}
	if err := svc.SetAttachmentKey(key); err != nil {
		return nil, err
	}
	return key, nil
}

// instanceKey reads (or creates) the instance's data key file and checks
// it against the key id recorded in the database on first use.
func instanceKey(ctx context.Context, db *store.DB, cfg Config) ([]byte, error) {
	path := cfg.attachmentKeyFile()
	key, err := readOrCreateKey(path)
	if err != nil {
		return nil, err
	}
	id := reporting.AttachmentKeyID(key)
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES ('attachment_key_id', ?) ON CONFLICT (key) DO NOTHING`, id)
		return err
	}); err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	var want string
	if err := db.QueryRow(ctx, `SELECT value FROM settings WHERE key = 'attachment_key_id'`).Scan(&want); err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	if want != id {
		return nil, fmt.Errorf("attachment key %s has id %s, but the database's attachments use key %s: give every instance the same --attachment-key-file", path, id, want)
	}
	return key, nil
}

// OpenAdvisories builds the advisories service alone, for operator
// commands (belfry csaf key …): it needs the same data key file as the
// instances, which protects the signing key.
func OpenAdvisories(ctx context.Context, cfg Config, db *store.DB, log *slog.Logger) (*advisory.Service, error) {
	if cfg.AttachmentKeyFile == "" && cfg.DataDir == "" {
		return nil, errors.New("the signing key is protected by the instance's data key: give --data or --attachment-key-file")
	}
	key, err := instanceKey(ctx, db, cfg)
	if err != nil {
		return nil, err
	}
	return newAdvisories(cfg, db, log, key, cfg.PublicURL)
}
