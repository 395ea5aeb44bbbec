package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/audit"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/web"
)

// TokenPrefix starts every API token, so that secret scanners recognise
// leaked ones.
const TokenPrefix = "bfy_"

// MaxTokenLifetime bounds how long an API token may be valid.
const MaxTokenLifetime = 366 * 24 * time.Hour

// Token describes an API token; the secret itself is shown once, at creation.
type Token struct {
	ID         int64        `json:"id"`
	UserID     int64        `json:"user_id"`
	Name       string       `json:"name"`
	Prefix     string       `json:"prefix"` // first characters, to recognise it
	Scopes     []auth.Scope `json:"scopes"`
	CreatedAt  time.Time    `json:"created_at"`
	ExpiresAt  time.Time    `json:"expires_at"`
	LastUsedAt *time.Time   `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time   `json:"revoked_at,omitempty"`
}

// TokenInput describes a token to create.
type TokenInput struct {
	Name      string    `json:"name"`
	Scopes    []string  `json:"scopes"`
	ExpiresAt time.Time `json:"expires_at"`
}

// CreateToken creates an API token for the signed-in user and returns it
// with its secret. A token can never have more rights than its user, nor be
// created by another token.
func (s *Service) CreateToken(ctx context.Context, in TokenInput) (*Token, string, error) {
	p := auth.From(ctx)
	if p == nil || p.System {
		return nil, "", forbidden()
	}
	if p.TokenID != 0 && !p.CanWrite() {
		return nil, "", errs.E(errs.Forbidden, "err.token_read_only")
	}
	now := s.tick()
	var v errs.Validator
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		v.Add("name", "err.token_name.required", nil)
	} else if len(in.Name) > 100 {
		v.Add("name", "err.too_long", map[string]any{"max": 100})
	}
	var scopes []auth.Scope
	for _, sc := range in.Scopes {
		switch auth.Scope(sc) {
		case auth.ScopeRead, auth.ScopeWrite:
			scopes = append(scopes, auth.Scope(sc))
		default:
			v.Add("scopes", "err.scope.invalid", map[string]any{"scope": sc})
		}
	}
	if len(in.Scopes) == 0 {
		v.Add("scopes", "err.scope.required", nil)
	}
	switch {
	case in.ExpiresAt.IsZero():
		v.Add("expires_at", "err.expiry.required", nil)
	case !in.ExpiresAt.After(now):
		v.Add("expires_at", "err.expiry.past", nil)
	case in.ExpiresAt.Sub(now) > MaxTokenLifetime:
		v.Add("expires_at", "err.expiry.too_far", map[string]any{"days": int(MaxTokenLifetime.Hours() / 24)})
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	secret := TokenPrefix + web.RandomToken(32)
	t := &Token{UserID: p.UserID, Name: in.Name, Prefix: secret[:12], Scopes: scopes, CreatedAt: now, ExpiresAt: in.ExpiresAt.UTC().Truncate(time.Second)}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO api_tokens (user_id, name, prefix, hash, scopes, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, t.UserID, t.Name, t.Prefix, tokenHash(secret), joinScopes(scopes), now, t.ExpiresAt).Scan(&t.ID)
		if err != nil {
			return fmt.Errorf("identity: create token: %w", err)
		}
		u, err := userBy(ctx, tx, "u.id = ?", p.UserID)
		if err != nil {
			return err
		}
		if err := s.securityNotice(ctx, tx, u, "token_created"); err != nil {
			return err
		}
		return audit.Append(ctx, tx, now, audit.Change{Action: "token.create", ObjectType: "api_token",
			ObjectID: itoa(t.ID), OrgID: p.OrgID, After: t})
	})
	if err != nil {
		return nil, "", err
	}
	return t, secret, nil
}

func joinScopes(sc []auth.Scope) string {
	ss := make([]string, len(sc))
	for i, x := range sc {
		ss[i] = string(x)
	}
	return strings.Join(ss, " ")
}

func splitScopes(s string) []auth.Scope {
	var out []auth.Scope
	for _, f := range strings.Fields(s) {
		out = append(out, auth.Scope(f))
	}
	return out
}

const selectToken = `SELECT id, user_id, name, prefix, scopes, created_at, expires_at, last_used_at, revoked_at FROM api_tokens`

func scanToken(row interface{ Scan(...any) error }) (*Token, error) {
	var t Token
	var sc string
	var used, revoked sql.Null[time.Time]
	err := row.Scan(&t.ID, &t.UserID, &t.Name, &t.Prefix, &sc, &t.CreatedAt, &t.ExpiresAt, &used, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "err.token.not_found")
	}
	if err != nil {
		return nil, err
	}
	t.Scopes = splitScopes(sc)
	t.CreatedAt, t.ExpiresAt = t.CreatedAt.UTC(), t.ExpiresAt.UTC()
	if used.Valid {
		u := used.V.UTC()
		t.LastUsedAt = &u
	}
	if revoked.Valid {
		r := revoked.V.UTC()
		t.RevokedAt = &r
	}
	return &t, nil
}

// Tokens lists the signed-in user's tokens, newest first.
func (s *Service) Tokens(ctx context.Context) ([]*Token, error) {
	p := auth.From(ctx)
	if p == nil {
		return nil, forbidden()
	}
	rows, err := s.db.Query(ctx, selectToken+` WHERE user_id = ? ORDER BY id DESC`, p.UserID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes one of the signed-in user's tokens (or, for the
// authority's administrators, anyone's).
func (s *Service) RevokeToken(ctx context.Context, id int64) error {
	p := auth.From(ctx)
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		t, err := scanToken(tx.QueryRow(ctx, selectToken+` WHERE id = ?`, id))
		if err != nil {
			return err
		}
		if p == nil || (t.UserID != p.UserID && !p.IsAuthorityAdmin()) {
			return errs.E(errs.NotFound, "err.token.not_found")
		}
		if !p.CanWrite() {
			return forbidden()
		}
		if t.RevokedAt != nil {
			return nil
		}
		now := s.tick()
		if _, err := tx.Exec(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ?`, now, id); err != nil {
			return err
		}
		return audit.Append(ctx, tx, now, audit.Change{Action: "token.revoke", ObjectType: "api_token", ObjectID: itoa(id), OrgID: p.OrgID})
	})
}

// Bearer resolves an API token (web.Authenticator).
func (s *Service) Bearer(ctx context.Context, secret string) (*auth.Principal, error) {
	if !strings.HasPrefix(secret, TokenPrefix) {
		return nil, errs.E(errs.Unauthenticated, "err.token.invalid")
	}
	t, err := scanToken(s.db.QueryRow(ctx, selectToken+` WHERE hash = ?`, tokenHash(secret)))
	if errs.Is(err, errs.NotFound) {
		return nil, errs.E(errs.Unauthenticated, "err.token.invalid")
	}
	if err != nil {
		return nil, err
	}
	now := s.tick()
	if t.RevokedAt != nil || !now.Before(t.ExpiresAt) {
		return nil, errs.E(errs.Unauthenticated, "err.token.expired")
	}
	u, err := userBy(ctx, s.db, "u.id = ?", t.UserID)
	if err != nil || u.Disabled {
		return nil, errs.E(errs.Unauthenticated, "err.token.invalid")
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > time.Minute {
		if _, err := s.db.Exec(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, now, t.ID); err != nil {
			return nil, err
		}
	}
	return s.principal(u, t.ID, t.Scopes), nil
}
