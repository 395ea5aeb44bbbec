package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
)

const selectOrg = `SELECT id, name, kind, COALESCE(enterprise_number, ''), country, email, phone, status,
	created_at, updated_at FROM organisations`

func scanOrg(row interface{ Scan(...any) error }) (*Organisation, error) {
	var o Organisation
	err := row.Scan(&o.ID, &o.Name, &o.Kind, &o.EnterpriseNumber, &o.Country, &o.Email, &o.Phone, &o.Status,
		&o.CreatedAt, &o.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "err.org.not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("identity: scan organisation: %w", err)
	}
	o.CreatedAt, o.UpdatedAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC()
	return &o, nil
}

func orgByID(ctx context.Context, q store.Querier, id int64) (*Organisation, error) {
	return scanOrg(q.QueryRow(ctx, selectOrg+` WHERE id = ?`, id))
}

// OrgFilter selects organisations.
type OrgFilter struct {
	Kind   string
	Text   string
	Offset int
	Limit  int
}

func listOrgs(ctx context.Context, q store.Querier, f OrgFilter, onlyID int64) ([]*Organisation, int, error) {
	var where []string
	var args []any
	if onlyID != 0 {
		where, args = append(where, "id = ?"), append(args, onlyID)
	}
	if f.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, f.Kind)
	}
	if f.Text != "" {
		where = append(where, `(lower(name) LIKE ? ESCAPE '\' OR enterprise_number LIKE ? ESCAPE '\')`)
		t := "%" + store.EscapeLike(strings.ToLower(f.Text)) + "%"
		args = append(args, t, t)
	}
	w := ""
	if len(where) > 0 {
		w = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM organisations`+w, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("identity: count organisations: %w", err)
	}
	rows, err := q.Query(ctx, selectOrg+w+` ORDER BY lower(name), id LIMIT ? OFFSET ?`, append(args, limit(f.Limit), f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("identity: list organisations: %w", err)
	}
	defer rows.Close()
	var out []*Organisation
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, o)
	}
	return out, total, rows.Err()
}

func limit(n int) int {
	if n <= 0 || n > 500 {
		return 50
	}
	return n
}

func insertOrg(ctx context.Context, tx *store.Tx, o *Organisation) error {
	err := tx.QueryRow(ctx, `INSERT INTO organisations (name, kind, enterprise_number, country, email, phone, status,
		created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		o.Name, o.Kind, nullStr(o.EnterpriseNumber), o.Country, o.Email, o.Phone, o.Status, o.CreatedAt, o.UpdatedAt).Scan(&o.ID)
	return orgWriteErr(err)
}

func updateOrg(ctx context.Context, tx *store.Tx, o *Organisation) error {
	_, err := tx.Exec(ctx, `UPDATE organisations SET name = ?, kind = ?, enterprise_number = ?, country = ?, email = ?,
		phone = ?, status = ?, updated_at = ? WHERE id = ?`,
		o.Name, o.Kind, nullStr(o.EnterpriseNumber), o.Country, o.Email, o.Phone, o.Status, o.UpdatedAt, o.ID)
	return orgWriteErr(err)
}

func orgWriteErr(err error) error {
	switch {
	case err == nil:
		return nil
	case store.IsUniqueViolation(err) && strings.Contains(err.Error(), "enterprise_number"):
		return &errs.Error{Kind: errs.Conflict, Code: "err.enterprise_number.taken", Fields: []errs.FieldError{{Field: "enterprise_number", Code: "err.enterprise_number.taken"}}}
	case store.IsUniqueViolation(err):
		return &errs.Error{Kind: errs.Conflict, Code: "err.org_name.taken", Fields: []errs.FieldError{{Field: "name", Code: "err.org_name.taken"}}}
	default:
		return fmt.Errorf("identity: write organisation: %w", err)
	}
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// userRow is a user with the secrets that never leave this package.
type userRow struct {
	User
	PasswordHash string
	TOTPSecret   string
	TOTPLastStep int64
	OIDCIssuer   string
	OIDCSubject  string
}

const selectUser = `SELECT u.id, u.org_id, o.name, o.kind, u.email, u.name, u.locale, u.password_hash,
	u.must_change_password, u.totp_secret, u.totp_enabled, u.totp_last_step, COALESCE(u.oidc_issuer, ''),
	COALESCE(u.oidc_subject, ''), u.disabled, u.last_login_at, u.created_at, u.updated_at
	FROM users u JOIN organisations o ON o.id = u.org_id`

func scanUser(row interface{ Scan(...any) error }) (*userRow, error) {
	var u userRow
	var last sql.Null[time.Time]
	err := row.Scan(&u.ID, &u.OrgID, &u.OrgName, &u.OrgKind, &u.Email, &u.Name, &u.Locale, &u.PasswordHash,
		&u.MustChangePassword, &u.TOTPSecret, &u.TOTPEnabled, &u.TOTPLastStep, &u.OIDCIssuer, &u.OIDCSubject,
		&u.Disabled, &last, &u.CreatedAt, &u.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "err.user.not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("identity: scan user: %w", err)
	}
	if last.Valid {
		t := last.V.UTC()
		u.LastLoginAt = &t
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	u.SSOLinked = u.OIDCSubject != ""
	return &u, nil
}

func loadRoles(ctx context.Context, q store.Querier, users ...*userRow) error {
	if len(users) == 0 {
		return nil
	}
	byID := map[int64]*userRow{}
	args := make([]any, len(users))
	for i, u := range users {
		byID[u.ID] = u
		u.Roles = []auth.Role{}
		args[i] = u.ID
	}
	rows, err := q.Query(ctx, `SELECT user_id, role FROM user_roles WHERE user_id IN (`+store.Placeholders(len(args))+`)`, args...)
	if err != nil {
		return fmt.Errorf("identity: load roles: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var r auth.Role
		if err := rows.Scan(&id, &r); err != nil {
			return err
		}
		byID[id].Roles = append(byID[id].Roles, r)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, u := range users {
		sortRoles(u.Roles)
	}
	return nil
}

// sortRoles orders roles as auth lists them.
func sortRoles(rs []auth.Role) {
	order := map[auth.Role]int{}
	for i, r := range auth.AllRoles() {
		order[r] = i
	}
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && order[rs[j]] < order[rs[j-1]]; j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
}

func userBy(ctx context.Context, q store.Querier, where string, arg ...any) (*userRow, error) {
	u, err := scanUser(q.QueryRow(ctx, selectUser+` WHERE `+where, arg...))
	if err != nil {
		return nil, err
	}
	return u, loadRoles(ctx, q, u)
}

// UserFilter selects users.
type UserFilter struct {
	OrgID  int64
	Role   string
	Text   string
	Offset int
	Limit  int
}

func listUsers(ctx context.Context, q store.Querier, f UserFilter) ([]*userRow, int, error) {
	var where []string
	var args []any
	if f.OrgID != 0 {
		where, args = append(where, "u.org_id = ?"), append(args, f.OrgID)
	}
	if f.Role != "" {
		where, args = append(where, "EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = ?)"), append(args, f.Role)
	}
	if f.Text != "" {
		where = append(where, `(lower(u.email) LIKE ? ESCAPE '\' OR lower(u.name) LIKE ? ESCAPE '\')`)
		t := "%" + store.EscapeLike(strings.ToLower(f.Text)) + "%"
		args = append(args, t, t)
	}
	w := ""
	if len(where) > 0 {
		w = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM users u`+w, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("identity: count users: %w", err)
	}
	rows, err := q.Query(ctx, selectUser+w+` ORDER BY lower(u.email) LIMIT ? OFFSET ?`, append(args, limit(f.Limit), f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("identity: list users: %w", err)
	}
	var out []*userRow
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			rows.Close()
			return nil, 0, err
		}
		out = append(out, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	return out, total, loadRoles(ctx, q, out...)
}

func insertUser(ctx context.Context, tx *store.Tx, u *userRow) error {
	err := tx.QueryRow(ctx, `INSERT INTO users (org_id, email, name, locale, password_hash, must_change_password,
		disabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.OrgID, u.Email, u.Name, u.Locale, u.PasswordHash, u.MustChangePassword, u.Disabled, u.CreatedAt, u.UpdatedAt).Scan(&u.ID)
	if err != nil {
		return userWriteErr(err)
	}
	return setRoles(ctx, tx, u.ID, u.Roles)
}

func updateUser(ctx context.Context, tx *store.Tx, u *userRow) error {
	_, err := tx.Exec(ctx, `UPDATE users SET email = ?, name = ?, locale = ?, disabled = ?, updated_at = ? WHERE id = ?`,
		u.Email, u.Name, u.Locale, u.Disabled, u.UpdatedAt, u.ID)
	if err != nil {
		return userWriteErr(err)
	}
	return setRoles(ctx, tx, u.ID, u.Roles)
}

func setRoles(ctx context.Context, tx *store.Tx, id int64, roles []auth.Role) error {
	if _, err := tx.Exec(ctx, `DELETE FROM user_roles WHERE user_id = ?`, id); err != nil {
		return fmt.Errorf("identity: set roles: %w", err)
	}
	for _, r := range roles {
		if _, err := tx.Exec(ctx, `INSERT INTO user_roles (user_id, role) VALUES (?, ?)`, id, r); err != nil {
			return fmt.Errorf("identity: set roles: %w", err)
		}
	}
	return nil
}

func userWriteErr(err error) error {
	if store.IsUniqueViolation(err) {
		return &errs.Error{Kind: errs.Conflict, Code: "err.email.taken", Fields: []errs.FieldError{{Field: "email", Code: "err.email.taken"}}}
	}
	return fmt.Errorf("identity: write user: %w", err)
}

// countActiveAdmins counts enabled authority administrators other than
// except, so that the last one cannot be removed.
func countActiveAdmins(ctx context.Context, q store.Querier, except int64) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM users u JOIN organisations o ON o.id = u.org_id
		WHERE o.kind = 'authority' AND u.disabled = ? AND u.id <> ?
		AND EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = 'admin')`, false, except).Scan(&n)
	return n, err
}
