package identity

import (
	"context"

	"github.com/belfry-cert/belfry/internal/audit"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/store"
)

const bootstrapLockKey = 0x626f6f74 // "boot"

// Bootstrap creates the authority's organisation and its first
// administrator when the database has no authority yet. It returns the
// administrator's one-time password, or "" when there was nothing to do.
func (s *Service) Bootstrap(ctx context.Context, orgName, email string) (string, error) {
	ctx = auth.With(ctx, auth.System)
	var pw string
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		// Instances starting together on an empty database take turns.
		if err := tx.Lock(ctx, bootstrapLockKey); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM organisations WHERE kind = 'authority'`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		now := s.tick()
		o := &Organisation{}
		kind := string(KindAuthority)
		if err := (OrgInput{Name: &orgName, Kind: &kind}).apply(o, true); err != nil {
			return err
		}
		o.CreatedAt, o.UpdatedAt = now, now
		if err := insertOrg(ctx, tx, o); err != nil {
			return err
		}
		if err := audit.Append(ctx, tx, now, audit.Change{Action: "organisation.create", ObjectType: "organisation",
			ObjectID: itoa(o.ID), OrgID: o.ID, After: o}); err != nil {
			return err
		}
		name := "Administrator"
		roles := []string{string(auth.RoleAdmin)}
		u := &userRow{}
		if err := (UserInput{OrgID: &o.ID, Email: &email, Name: &name, Roles: &roles}).apply(&u.User, true); err != nil {
			return err
		}
		pw = GeneratePassword()
		u.OrgID, u.OrgName, u.OrgKind = o.ID, o.Name, o.Kind
		u.PasswordHash, u.MustChangePassword = HashPassword(pw), true
		u.CreatedAt, u.UpdatedAt = now, now
		if err := insertUser(ctx, tx, u); err != nil {
			return err
		}
		return audit.Append(ctx, tx, now, audit.Change{Action: "user.create", ObjectType: "user",
			ObjectID: itoa(u.ID), OrgID: o.ID, After: u.User})
	})
	return pw, err
}

// SetPassword sets a user's password directly, for the operator's
// `belfry user password` command and the demo.
func (s *Service) SetPassword(ctx context.Context, email, pw string, mustChange bool) error {
	ctx = auth.With(ctx, auth.System)
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		u, err := userBy(ctx, tx, "lower(u.email) = lower(?)", email)
		if err != nil {
			return err
		}
		if err := checkNewPassword("password", pw, u.Email); err != nil {
			return err
		}
		now := s.tick()
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = ?, must_change_password = ?, updated_at = ? WHERE id = ?`,
			HashPassword(pw), mustChange, now, u.ID); err != nil {
			return err
		}
		if err := deleteSessions(ctx, tx, u.ID, ""); err != nil {
			return err
		}
		return audit.Append(ctx, tx, now, audit.Change{Action: "user.set_password", ObjectType: "user", ObjectID: itoa(u.ID), OrgID: u.OrgID})
	})
}

// UserByEmail returns a user by address, for operator commands.
func (s *Service) UserByEmail(ctx context.Context, email string) (*User, error) {
	u, err := userBy(ctx, s.db, "lower(u.email) = lower(?)", email)
	if err != nil {
		return nil, err
	}
	return &u.User, nil
}
