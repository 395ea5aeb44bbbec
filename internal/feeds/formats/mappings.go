package formats

// Saved CSV mappings (feed_mappings): the authority's staff keep one per
// kind of CSV feed, by name, so that intake can read such files without
// a mapping file at hand. Every change is audited.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/audit"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
)

// SavedMapping is a mapping as stored, with its name and history.
type SavedMapping struct {
	Name      string    `json:"name"`
	Mapping   Mapping   `json:"mapping"`
	CreatedBy int64     `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedBy int64     `json:"updated_by,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// MappingService keeps the saved mappings.
type MappingService struct {
	db  *store.DB
	log *slog.Logger
	now func() time.Time
}

// NewMappingService returns the service on db.
func NewMappingService(db *store.DB, log *slog.Logger) *MappingService {
	return &MappingService{db: db, log: log, now: time.Now}
}

// mayRead: the authority's staff. mayWrite: its administrators and
// analysts (not auditors and other read-only roles).
func mayRead(ctx context.Context) error {
	p := auth.From(ctx)
	if p == nil {
		return errs.E(errs.Unauthenticated, "err.unauthenticated")
	}
	if !p.IsAuthority() {
		return errs.E(errs.Forbidden, "err.forbidden")
	}
	return nil
}

func mayWrite(ctx context.Context) error {
	if err := mayRead(ctx); err != nil {
		return err
	}
	if p := auth.From(ctx); !p.System && !p.HasAny(auth.RoleAdmin, auth.RoleAnalyst) {
		return errs.E(errs.Forbidden, "err.forbidden")
	}
	return nil
}

// validName: 1 to 64 lower-case letters, digits, '.', '_' or '-',
// starting with a letter or digit (the name is in URLs).
func validName(name string) bool {
	if name == "" || len(name) > 64 || name[0] == '.' || name[0] == '-' || name[0] == '_' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// invalid turns a mapping's faults (and a bad name) into the platform's
// field errors.
func invalid(name string, err error) error {
	var v errs.Validator
	if !validName(name) {
		v.Add("name", "err.feedmapping.name", nil)
	}
	var me *MappingError
	if errors.As(err, &me) {
		for _, f := range me.Fields {
			v.Add(f.Field, f.Code, nil)
		}
	}
	return v.Err()
}

// Save creates or replaces the mapping called name; created says which.
func (s *MappingService) Save(ctx context.Context, name string, m Mapping) (sm *SavedMapping, created bool, err error) {
	if err := mayWrite(ctx); err != nil {
		return nil, false, err
	}
	if err := invalid(name, m.Validate()); err != nil {
		return nil, false, err
	}
	body, err := json.Marshal(m)
	if err != nil {
		return nil, false, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	user := auth.From(ctx).UserID
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		before, err := loadMapping(ctx, tx, name)
		switch {
		case errs.Is(err, errs.NotFound):
			created = true
			_, err = tx.Exec(ctx, `INSERT INTO feed_mappings (name, mapping, created_by, created_at, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
				name, string(body), nullUser(user), now, nullUser(user), now)
			if store.IsUniqueViolation(err) {
				return errs.E(errs.Conflict, "err.feedmapping.conflict")
			}
		case err != nil:
			return err
		default:
			_, err = tx.Exec(ctx, `UPDATE feed_mappings SET mapping = ?, updated_by = ?, updated_at = ? WHERE name = ?`,
				string(body), nullUser(user), now, name)
		}
		if err != nil {
			return fmt.Errorf("formats: save mapping %s: %w", name, err)
		}
		if sm, err = loadMapping(ctx, tx, name); err != nil {
			return err
		}
		action := "feed_mapping.update"
		var was any
		if created {
			action = "feed_mapping.create"
		} else {
			was = before.Mapping
		}
		return audit.Append(ctx, tx, now, audit.Change{Action: action, ObjectType: "feed_mapping", ObjectID: name, Before: was, After: m})
	})
	if err != nil {
		return nil, false, err
	}
	return sm, created, nil
}

// Get returns the mapping called name.
func (s *MappingService) Get(ctx context.Context, name string) (*SavedMapping, error) {
	if err := mayRead(ctx); err != nil {
		return nil, err
	}
	return loadMapping(ctx, s.db, name)
}

// List returns every saved mapping, by name.
func (s *MappingService) List(ctx context.Context) ([]*SavedMapping, error) {
	if err := mayRead(ctx); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+mappingColumns+` FROM feed_mappings ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("formats: list mappings: %w", err)
	}
	defer rows.Close()
	out := []*SavedMapping{}
	for rows.Next() {
		sm, err := scanMapping(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sm)
	}
	return out, rows.Err()
}

// Delete removes the mapping called name.
func (s *MappingService) Delete(ctx context.Context, name string) error {
	if err := mayWrite(ctx); err != nil {
		return err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		before, err := loadMapping(ctx, tx, name)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM feed_mappings WHERE name = ?`, name); err != nil {
			return fmt.Errorf("formats: delete mapping %s: %w", name, err)
		}
		return audit.Append(ctx, tx, now, audit.Change{Action: "feed_mapping.delete", ObjectType: "feed_mapping", ObjectID: name, Before: before.Mapping})
	})
}

const mappingColumns = `name, mapping, created_by, created_at, updated_by, updated_at`

func loadMapping(ctx context.Context, q store.Querier, name string) (*SavedMapping, error) {
	sm, err := scanMapping(q.QueryRow(ctx, `SELECT `+mappingColumns+` FROM feed_mappings WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "err.not_found")
	}
	return sm, err
}

func scanMapping(row interface{ Scan(...any) error }) (*SavedMapping, error) {
	var sm SavedMapping
	var body string
	var cb, ub sql.Null[int64]
	if err := row.Scan(&sm.Name, &body, &cb, &sm.CreatedAt, &ub, &sm.UpdatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(body), &sm.Mapping); err != nil {
		return nil, fmt.Errorf("formats: mapping %s: %w", sm.Name, err)
	}
	sm.CreatedBy, sm.UpdatedBy = cb.V, ub.V
	sm.CreatedAt, sm.UpdatedAt = sm.CreatedAt.UTC(), sm.UpdatedAt.UTC()
	return &sm, nil
}

func nullUser(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Mapping returns the saved mapping called name, for intake: the caller
// is the platform itself (a command or a job), so no principal is
// checked.
func (s *MappingService) Mapping(ctx context.Context, name string) (*Mapping, error) {
	sm, err := loadMapping(ctx, s.db, strings.TrimSpace(name))
	if err != nil {
		return nil, err
	}
	return &sm.Mapping, nil
}
