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

// Throttling of password sign-in: after accountFreeFailures failures on one
// e-mail address (known or not) or ipFreeFailures from one address, each
// further failure doubles a lock-out that starts at one minute, up to an
// hour. Failures older than throttleMemory are forgotten.
const (
	accountFreeFailures = 5
	ipFreeFailures      = 30
	maxLockout          = time.Hour
	throttleMemory      = 24 * time.Hour
)

// Login checks an e-mail address and password. It returns the new session's
// cookie value; the session waits for the second factor when the user has
// one. Failures are counted per address and per client IP.
func (s *Service) Login(ctx context.Context, email, password, userAgent string) (string, *web.Session, error) {
	now := s.tick()
	email = strings.TrimSpace(email)
	var v errs.Validator
	v.Check(email != "", "email", "err.email.required")
	v.Check(password != "", "password", "err.password.required")
	if err := v.Err(); err != nil {
		return "", nil, err
	}
	keys := []string{"email:" + strings.ToLower(email)}
	if ip := auth.IP(ctx); ip != "" {
		keys = append(keys, "ip:"+ip)
	}
	if until, err := s.lockedUntil(ctx, now, keys); err != nil {
		return "", nil, err
	} else if !until.IsZero() {
		mins := int(until.Sub(now).Round(time.Minute) / time.Minute)
		return "", nil, &errs.Error{Kind: errs.RateLimited, Code: "err.login.locked", Args: map[string]any{"minutes": max(mins, 1)}}
	}
	u, err := userBy(ctx, s.db, "lower(u.email) = ?", strings.ToLower(email))
	if err != nil && !errs.Is(err, errs.NotFound) {
		return "", nil, err
	}
	hash := dummyHash
	if u != nil && u.PasswordHash != "" {
		hash = u.PasswordHash
	}
	ok := CheckPassword(hash, password) && u != nil && u.PasswordHash != ""
	if !ok || u.Disabled {
		if err := s.recordFailure(ctx, now, keys, email); err != nil {
			return "", nil, err
		}
		return "", nil, errs.E(errs.Unauthenticated, "err.login.failed")
	}
	var tok string
	var sess *web.Session
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM login_throttle WHERE key = ?`, keys[0]); err != nil {
			return err
		}
		tok, sess, err = s.startSession(ctx, tx, u, u.TOTPEnabled, userAgent)
		if err != nil {
			return err
		}
		if u.TOTPEnabled {
			return nil // the sign-in is recorded when the second factor passes
		}
		return s.recordLogin(ctx, tx, u, "password")
	})
	return tok, sess, err
}

func (s *Service) recordLogin(ctx context.Context, tx *store.Tx, u *userRow, method string) error {
	now := s.tick()
	if _, err := tx.Exec(ctx, `UPDATE users SET last_login_at = ? WHERE id = ?`, now, u.ID); err != nil {
		return err
	}
	ctx = auth.With(ctx, s.principal(u, 0, nil))
	return audit.Append(ctx, tx, now, audit.Change{Action: "session.login", ObjectType: "user", ObjectID: itoa(u.ID),
		OrgID: u.OrgID, After: map[string]string{"method": method}})
}

func (s *Service) lockedUntil(ctx context.Context, now time.Time, keys []string) (time.Time, error) {
	var until time.Time
	for _, k := range keys {
		var t sql.Null[time.Time]
		err := s.db.QueryRow(ctx, `SELECT locked_until FROM login_throttle WHERE key = ?`, k).Scan(&t)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return time.Time{}, fmt.Errorf("identity: throttle: %w", err)
		}
		if t.Valid && t.V.After(now) && t.V.After(until) {
			until = t.V
		}
	}
	return until, nil
}

func (s *Service) recordFailure(ctx context.Context, now time.Time, keys []string, email string) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		for _, k := range keys {
			var n int
			var last time.Time
			err := tx.QueryRow(ctx, `SELECT failures, last_failure FROM login_throttle WHERE key = ?`, k).Scan(&n, &last)
			if errors.Is(err, sql.ErrNoRows) || (err == nil && now.Sub(last) > throttleMemory) {
				n = 0
			} else if err != nil {
				return err
			}
			n++
			free := accountFreeFailures
			if strings.HasPrefix(k, "ip:") {
				free = ipFreeFailures
			}
			var locked any
			if n >= free {
				d := time.Minute << min(n-free, 6)
				locked = now.Add(min(d, maxLockout))
			}
			if _, err := tx.Exec(ctx, `INSERT INTO login_throttle (key, failures, last_failure, locked_until) VALUES (?, ?, ?, ?)
				ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, last_failure = excluded.last_failure,
				locked_until = excluded.locked_until`, k, n, now, locked); err != nil {
				return err
			}
		}
		return audit.Append(ctx, tx, now, audit.Change{Action: "session.login_failed", ObjectType: "login",
			ObjectID: strings.ToLower(email)})
	})
}

// startSession creates a session row and returns the cookie value.
func (s *Service) startSession(ctx context.Context, tx *store.Tx, u *userRow, mfaPending bool, ua string) (string, *web.Session, error) {
	tok := web.RandomToken(32)
	now := s.tick()
	exp := now.Add(s.cfg.IdleTimeout)
	if len(ua) > 300 {
		ua = ua[:300]
	}
	_, err := tx.Exec(ctx, `INSERT INTO sessions (id_hash, user_id, mfa_pending, ip, user_agent, created_at, last_seen_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, tokenHash(tok), u.ID, mfaPending, auth.IP(ctx), ua, now, now, exp)
	if err != nil {
		return "", nil, fmt.Errorf("identity: start session: %w", err)
	}
	return tok, &web.Session{Principal: s.principal(u, 0, nil), MFAPending: mfaPending,
		MustChangePassword: u.MustChangePassword, Token: tok, ExpiresAt: exp}, nil
}

func (s *Service) principal(u *userRow, tokenID int64, scopes []auth.Scope) *auth.Principal {
	return &auth.Principal{UserID: u.ID, OrgID: u.OrgID, OrgKind: string(u.OrgKind), Email: u.Email, Name: u.Name,
		Locale: u.Locale, Roles: u.Roles, TokenID: tokenID, Scopes: scopes}
}

// Session resolves a session cookie (web.Authenticator). It slides the idle
// expiry forward, at most once a minute, never past the absolute limit.
func (s *Service) Session(ctx context.Context, tok string) (*web.Session, error) {
	now := s.tick()
	var userID int64
	var mfa bool
	var enrol string
	var created, lastSeen, exp time.Time
	err := s.db.QueryRow(ctx, `SELECT user_id, mfa_pending, totp_enrol_secret, created_at, last_seen_at, expires_at
		FROM sessions WHERE id_hash = ?`, tokenHash(tok)).Scan(&userID, &mfa, &enrol, &created, &lastSeen, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.Unauthenticated, "err.session.expired")
	}
	if err != nil {
		return nil, fmt.Errorf("identity: session: %w", err)
	}
	if !now.Before(exp) || now.Sub(created) >= s.cfg.AbsoluteTimeout {
		return nil, errs.E(errs.Unauthenticated, "err.session.expired")
	}
	u, err := userBy(ctx, s.db, "u.id = ?", userID)
	if err != nil || u.Disabled {
		return nil, errs.E(errs.Unauthenticated, "err.session.expired")
	}
	if now.Sub(lastSeen) > time.Minute {
		exp = now.Add(s.cfg.IdleTimeout)
		if lim := created.Add(s.cfg.AbsoluteTimeout); exp.After(lim) {
			exp = lim
		}
		if _, err := s.db.Exec(ctx, `UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE id_hash = ?`, now, exp, tokenHash(tok)); err != nil {
			return nil, fmt.Errorf("identity: touch session: %w", err)
		}
	}
	return &web.Session{Principal: s.principal(u, 0, nil), MFAPending: mfa, MustChangePassword: u.MustChangePassword,
		TOTPEnrolSecret: enrol, Token: tok, ExpiresAt: exp.UTC()}, nil
}

// Logout ends the session.
func (s *Service) Logout(ctx context.Context, sess *web.Session) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE id_hash = ?`, tokenHash(sess.Token)); err != nil {
			return err
		}
		ctx = auth.With(ctx, sess.Principal)
		return audit.Append(ctx, tx, s.tick(), audit.Change{Action: "session.logout", ObjectType: "user",
			ObjectID: itoa(sess.Principal.UserID), OrgID: sess.Principal.OrgID})
	})
}

func deleteSessions(ctx context.Context, tx *store.Tx, userID int64, keepToken string) error {
	_, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = ? AND id_hash <> ?`, userID, tokenHash(keepToken))
	return err
}

// ChangePassword replaces the signed-in user's password after checking the
// current one, and ends their other sessions.
func (s *Service) ChangePassword(ctx context.Context, sess *web.Session, current, next, confirm string) error {
	p := sess.Principal
	u, err := userBy(ctx, s.db, "u.id = ?", p.UserID)
	if err != nil {
		return err
	}
	var v errs.Validator
	if u.PasswordHash != "" || current != "" {
		if current == "" {
			v.Add("current_password", "err.password.current_required", nil)
		} else if !CheckPassword(u.PasswordHash, current) {
			v.Add("current_password", "err.password.current_wrong", nil)
		}
	}
	if err := checkNewPassword("new_password", next, u.Email); err != nil {
		e, _ := errs.As(err)
		v.Add(e.Fields[0].Field, e.Fields[0].Code, e.Fields[0].Args)
	} else if next != confirm {
		v.Add("confirm_password", "err.password.mismatch", nil)
	} else if current == next {
		v.Add("new_password", "err.password.unchanged", nil)
	}
	if err := v.Err(); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		now := s.tick()
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = ?, must_change_password = ?, updated_at = ? WHERE id = ?`,
			HashPassword(next), false, now, u.ID); err != nil {
			return err
		}
		if err := deleteSessions(ctx, tx, u.ID, sess.Token); err != nil {
			return err
		}
		if err := s.securityNotice(ctx, tx, u, "password_changed"); err != nil {
			return err
		}
		return audit.Append(ctx, tx, now, audit.Change{Action: "user.change_password", ObjectType: "user",
			ObjectID: itoa(u.ID), OrgID: u.OrgID})
	})
}

// SetLocale saves the signed-in user's language.
func (s *Service) SetLocale(ctx context.Context, locale string) error {
	p := auth.From(ctx)
	if p == nil || p.System {
		return nil
	}
	_, err := s.UpdateUser(ctx, p.UserID, UserInput{Locale: &locale})
	return err
}

// PurgeExpired deletes expired sessions and stale throttling rows; a
// periodic job calls it.
func (s *Service) PurgeExpired(ctx context.Context) (int64, error) {
	now := s.tick()
	res, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= ? OR created_at <= ?`, now, now.Add(-s.cfg.AbsoluteTimeout))
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	_, err = s.db.Exec(ctx, `DELETE FROM login_throttle WHERE last_failure <= ? AND (locked_until IS NULL OR locked_until <= ?)`,
		now.Add(-throttleMemory), now)
	return n, err
}
