package identity

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/belfry-cert/belfry/internal/audit"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
)

// Notifier sends a security notice (password changed, second factor turned
// on or off, token created) to a user. Package notify implements it; the
// call happens inside the transaction so the notice is queued with the change.
type Notifier interface {
	SecurityNotice(ctx context.Context, tx *store.Tx, to, locale, event string) error
}

// Config tunes sign-in.
type Config struct {
	IdleTimeout     time.Duration // session lifetime without use (default 60 min)
	AbsoluteTimeout time.Duration // session lifetime however used (default 12 h)
	Issuer          string        // TOTP issuer shown in authenticator apps
}

// Service is the identity capability's use-cases.
type Service struct {
	db     *store.DB
	log    *slog.Logger
	cfg    Config
	now    func() time.Time
	notify Notifier
	oidc   *OIDC
}

// NewService returns the identity service. notify may be nil.
func NewService(db *store.DB, log *slog.Logger, cfg Config, notify Notifier) *Service {
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 60 * time.Minute
	}
	if cfg.AbsoluteTimeout == 0 {
		cfg.AbsoluteTimeout = 12 * time.Hour
	}
	if cfg.Issuer == "" {
		cfg.Issuer = "Belfry"
	}
	return &Service{db: db, log: log, cfg: cfg, now: time.Now, notify: notify}
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

func (s *Service) tick() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func forbidden() error { return errs.E(errs.Forbidden, "err.forbidden") }

func (s *Service) securityNotice(ctx context.Context, tx *store.Tx, u *userRow, event string) error {
	if s.notify == nil {
		return nil
	}
	return s.notify.SecurityNotice(ctx, tx, u.Email, u.Locale, event)
}

// ---- organisations ----

// CreateOrganisation creates an organisation. Only authority administrators
// may.
func (s *Service) CreateOrganisation(ctx context.Context, in OrgInput) (*Organisation, error) {
	p := auth.From(ctx)
	if !p.IsAuthorityAdmin() || !p.CanWrite() {
		return nil, forbidden()
	}
	o := &Organisation{}
	if err := in.apply(o, true); err != nil {
		return nil, err
	}
	if o.Kind == KindAuthority {
		// There is one authority, created at the first start; its staff
		// hold powers over every organisation.
		return nil, errs.Field("kind", "err.org_kind.authority_fixed", nil)
	}
	o.CreatedAt, o.UpdatedAt = s.tick(), s.tick()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := insertOrg(ctx, tx, o); err != nil {
			return err
		}
		return audit.Append(ctx, tx, o.CreatedAt, audit.Change{Action: "organisation.create", ObjectType: "organisation",
			ObjectID: itoa(o.ID), OrgID: o.ID, After: o})
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// UpdateOrganisation changes the fields set in in. Authority administrators
// may change everything; an organisation's own administrators may change its
// e-mail and phone.
func (s *Service) UpdateOrganisation(ctx context.Context, id int64, in OrgInput) (*Organisation, error) {
	p := auth.From(ctx)
	var out *Organisation
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		o, err := orgByID(ctx, tx, id)
		if err != nil || !p.CanSeeOrg(id) {
			return errs.E(errs.NotFound, "err.org.not_found")
		}
		if !p.CanManageOrg(id) {
			return forbidden()
		}
		if !p.IsAuthorityAdmin() && (in.Name != nil || in.Kind != nil || in.EnterpriseNumber != nil || in.Country != nil || in.Status != nil) {
			return forbidden()
		}
		before := *o
		if err := in.apply(o, false); err != nil {
			return err
		}
		if before.Kind == KindAuthority && o.Kind != KindAuthority {
			return errs.Field("kind", "err.org_kind.authority_fixed", nil)
		}
		if before.Kind != KindAuthority && o.Kind == KindAuthority {
			return errs.Field("kind", "err.org_kind.authority_fixed", nil)
		}
		o.UpdatedAt = s.tick()
		if err := updateOrg(ctx, tx, o); err != nil {
			return err
		}
		out = o
		return audit.Append(ctx, tx, o.UpdatedAt, audit.Change{Action: "organisation.update", ObjectType: "organisation",
			ObjectID: itoa(o.ID), OrgID: o.ID, Before: before, After: o})
	})
	return out, err
}

// Organisation returns one organisation the principal may see.
func (s *Service) Organisation(ctx context.Context, id int64) (*Organisation, error) {
	if !auth.From(ctx).CanSeeOrg(id) {
		return nil, errs.E(errs.NotFound, "err.org.not_found")
	}
	return orgByID(ctx, s.db, id)
}

// Organisations lists the organisations the principal may see: all of them
// for the authority's administrators and auditors, its own otherwise.
func (s *Service) Organisations(ctx context.Context, f OrgFilter) ([]*Organisation, int, error) {
	p := auth.From(ctx)
	if p == nil {
		return nil, 0, forbidden()
	}
	only := int64(0)
	if !p.CanReadAll() {
		only = p.OrgID
	}
	return listOrgs(ctx, s.db, f, only)
}

// AuthorityOrg returns the authority's organisation.
func (s *Service) AuthorityOrg(ctx context.Context) (*Organisation, error) {
	return scanOrg(s.db.QueryRow(ctx, selectOrg+` WHERE kind = 'authority' ORDER BY id LIMIT 1`))
}

// ---- users ----

// CreateUser creates a user with a one-time password that must be changed
// at first sign-in, and returns both. Authority administrators create users
// anywhere; organisation administrators in their own organisation.
func (s *Service) CreateUser(ctx context.Context, in UserInput) (*User, string, error) {
	p := auth.From(ctx)
	u := &userRow{}
	if err := in.apply(&u.User, true); err != nil {
		return nil, "", err
	}
	u.OrgID = *in.OrgID
	if !p.CanManageOrg(u.OrgID) {
		if p.CanSeeOrg(u.OrgID) {
			return nil, "", forbidden()
		}
		return nil, "", errs.Field("organisation_id", "err.org.not_found", nil)
	}
	pw := GeneratePassword()
	u.PasswordHash = HashPassword(pw)
	u.MustChangePassword = true
	u.CreatedAt, u.UpdatedAt = s.tick(), s.tick()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		o, err := orgByID(ctx, tx, u.OrgID)
		if err != nil {
			return errs.Field("organisation_id", "err.org.not_found", nil)
		}
		if err := checkRolesFit(u.Roles, o.Kind); err != nil {
			return err
		}
		u.OrgName, u.OrgKind = o.Name, o.Kind
		if err := insertUser(ctx, tx, u); err != nil {
			return err
		}
		return audit.Append(ctx, tx, u.CreatedAt, audit.Change{Action: "user.create", ObjectType: "user",
			ObjectID: itoa(u.ID), OrgID: u.OrgID, After: u.User})
	})
	if err != nil {
		return nil, "", err
	}
	return &u.User, pw, nil
}

// visibleUser loads a user that the principal may see, or NotFound.
func (s *Service) visibleUser(ctx context.Context, q store.Querier, id int64) (*userRow, error) {
	p := auth.From(ctx)
	u, err := userBy(ctx, q, "u.id = ?", id)
	if err != nil {
		return nil, err
	}
	if p == nil || !(p.CanReadAll() || p.UserID == u.ID || (p.OrgID == u.OrgID && p.Has(auth.RoleOrgAdmin))) {
		return nil, errs.E(errs.NotFound, "err.user.not_found")
	}
	return u, nil
}

// User returns a user the principal may see.
func (s *Service) User(ctx context.Context, id int64) (*User, error) {
	u, err := s.visibleUser(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	return &u.User, nil
}

// Users lists users: every user for the authority's administrators and
// auditors, the organisation's users for its administrators.
func (s *Service) Users(ctx context.Context, f UserFilter) ([]*User, int, error) {
	p := auth.From(ctx)
	switch {
	case p.CanReadAll():
	case p.Has(auth.RoleOrgAdmin):
		f.OrgID = p.OrgID
	default:
		return nil, 0, forbidden()
	}
	rows, total, err := listUsers(ctx, s.db, f)
	if err != nil {
		return nil, 0, err
	}
	out := make([]*User, len(rows))
	for i, u := range rows {
		out[i] = &u.User
	}
	return out, total, nil
}

// UpdateUser changes name, e-mail, locale, roles or the disabled flag.
func (s *Service) UpdateUser(ctx context.Context, id int64, in UserInput) (*User, error) {
	p := auth.From(ctx)
	var out *User
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		u, err := s.visibleUser(ctx, tx, id)
		if err != nil {
			return err
		}
		self := p.UserID == u.ID
		manage := p.CanManageOrg(u.OrgID)
		// People may change their own name and language; the rest is for
		// administrators.
		if !manage && !(self && p.CanWrite() && in.Roles == nil && in.Disabled == nil && in.Email == nil && in.OrgID == nil) {
			return forbidden()
		}
		before := u.User
		before.Roles = slices.Clone(u.Roles)
		if err := in.apply(&u.User, false); err != nil {
			return err
		}
		if err := checkRolesFit(u.Roles, u.OrgKind); err != nil {
			return err
		}
		lost := func(r auth.Role) bool { return slices.Contains(before.Roles, r) && !slices.Contains(u.Roles, r) }
		if self && (u.Disabled || lost(auth.RoleAdmin) || lost(auth.RoleOrgAdmin)) {
			return errs.E(errs.Conflict, "err.self_lockout")
		}
		if slices.Contains(before.Roles, auth.RoleAdmin) && (u.Disabled || !slices.Contains(u.Roles, auth.RoleAdmin)) {
			n, err := countActiveAdmins(ctx, tx, u.ID)
			if err != nil {
				return err
			}
			if n == 0 {
				return errs.E(errs.Conflict, "err.last_admin")
			}
		}
		u.UpdatedAt = s.tick()
		if err := updateUser(ctx, tx, u); err != nil {
			return err
		}
		if u.Disabled && !before.Disabled {
			if err := deleteSessions(ctx, tx, u.ID, ""); err != nil {
				return err
			}
		}
		out = &u.User
		return audit.Append(ctx, tx, u.UpdatedAt, audit.Change{Action: "user.update", ObjectType: "user",
			ObjectID: itoa(u.ID), OrgID: u.OrgID, Before: before, After: u.User})
	})
	return out, err
}

// ResetPassword gives a user a new one-time password, signs them out
// everywhere and returns the password to show once to the administrator.
func (s *Service) ResetPassword(ctx context.Context, id int64) (string, error) {
	p := auth.From(ctx)
	pw := GeneratePassword()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		u, err := s.visibleUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if !p.CanManageOrg(u.OrgID) || p.UserID == u.ID {
			return forbidden()
		}
		now := s.tick()
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = ?, must_change_password = ?, updated_at = ? WHERE id = ?`,
			HashPassword(pw), true, now, u.ID); err != nil {
			return err
		}
		if err := deleteSessions(ctx, tx, u.ID, ""); err != nil {
			return err
		}
		if err := s.securityNotice(ctx, tx, u, "password_reset"); err != nil {
			return err
		}
		return audit.Append(ctx, tx, now, audit.Change{Action: "user.reset_password", ObjectType: "user",
			ObjectID: itoa(u.ID), OrgID: u.OrgID})
	})
	return pw, err
}

// ResetTOTP turns off a user's second factor, for a lost phone.
func (s *Service) ResetTOTP(ctx context.Context, id int64) error {
	p := auth.From(ctx)
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		u, err := s.visibleUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if !p.CanManageOrg(u.OrgID) || p.UserID == u.ID {
			return forbidden()
		}
		return s.disableTOTP(ctx, tx, u, "user.reset_totp")
	})
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

// CreateOrganisationTx validates in and creates a non-authority
// organisation inside tx, with its audit record, for callers that create
// organisations as part of a larger change (registry import, sign-up).
// The caller checks permissions.
func CreateOrganisationTx(ctx context.Context, tx *store.Tx, in OrgInput, now time.Time) (*Organisation, error) {
	o := &Organisation{}
	if err := in.apply(o, true); err != nil {
		return nil, err
	}
	if o.Kind == KindAuthority {
		return nil, errs.Field("kind", "err.org_kind.authority_fixed", nil)
	}
	o.CreatedAt, o.UpdatedAt = now, now
	if err := insertOrg(ctx, tx, o); err != nil {
		return nil, err
	}
	return o, audit.Append(ctx, tx, now, audit.Change{Action: "organisation.create", ObjectType: "organisation",
		ObjectID: itoa(o.ID), OrgID: o.ID, After: o})
}

// SignUpTx creates, inside tx, an entity organisation and its first
// administrator with password pw, for self-registration after the
// applicant has proved control of the e-mail address. Field errors name
// the organisation's fields (name, enterprise_number) and the user's
// (user_name, email, password).
func SignUpTx(ctx context.Context, tx *store.Tx, org OrgInput, name, email, locale, pw string, now time.Time) (*Organisation, *User, error) {
	kind := string(KindEntity)
	org.Kind = &kind
	o, err := CreateOrganisationTx(ctx, tx, org, now)
	if err != nil {
		return nil, nil, err
	}
	roles := []string{string(auth.RoleOrgAdmin)}
	u := &userRow{}
	if err := (UserInput{OrgID: &o.ID, Email: &email, Name: &name, Locale: &locale, Roles: &roles}).apply(&u.User, true); err != nil {
		return nil, nil, renameField(err, "name", "user_name")
	}
	if err := checkNewPassword("password", pw, u.Email); err != nil {
		return nil, nil, err
	}
	u.OrgID, u.OrgName, u.OrgKind = o.ID, o.Name, o.Kind
	u.PasswordHash = HashPassword(pw)
	u.CreatedAt, u.UpdatedAt = now, now
	if err := insertUser(ctx, tx, u); err != nil {
		return nil, nil, err
	}
	return o, &u.User, audit.Append(ctx, tx, now, audit.Change{Action: "user.signup", ObjectType: "user",
		ObjectID: itoa(u.ID), OrgID: o.ID, After: u.User})
}

// renameField renames one field of an Invalid error.
func renameField(err error, from, to string) error {
	e, ok := errs.As(err)
	if !ok {
		return err
	}
	for i := range e.Fields {
		if e.Fields[i].Field == from {
			e.Fields[i].Field = to
		}
	}
	return e
}

// CheckNewPassword applies the password policy to pw for the account
// email; the error names field.
func CheckNewPassword(field, pw, email string) error { return checkNewPassword(field, pw, email) }

// TokenHash is how one-time tokens are stored.
func TokenHash(s string) string { return tokenHash(s) }
