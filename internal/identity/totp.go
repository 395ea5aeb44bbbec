package identity

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"image/png"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/belfry-cert/belfry/internal/audit"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/web"
)

// TOTP follows RFC 6238 with the parameters every authenticator app
// supports: SHA-1, 6 digits, 30-second steps, one step of clock skew.
const (
	totpPeriod        = 30
	totpSkew          = 1
	recoveryCodeCount = 10
)

// Enrolment is what the enrolment page shows.
type Enrolment struct {
	Secret string // base32, for typing into an app
	URL    string // otpauth:// URL, also in the QR code
}

// BeginTOTP creates a new secret for the signed-in user and keeps it in the
// session until ConfirmTOTP proves that the app has it.
func (s *Service) BeginTOTP(ctx context.Context, sess *web.Session) (*Enrolment, error) {
	if sess.TOTPEnrolSecret != "" {
		return s.enrolment(sess.Principal.Email, sess.TOTPEnrolSecret)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.cfg.Issuer, AccountName: sess.Principal.Email, Period: totpPeriod})
	if err != nil {
		return nil, fmt.Errorf("identity: totp: %w", err)
	}
	if _, err := s.db.Exec(ctx, `UPDATE sessions SET totp_enrol_secret = ? WHERE id_hash = ?`, key.Secret(), tokenHash(sess.Token)); err != nil {
		return nil, err
	}
	sess.TOTPEnrolSecret = key.Secret()
	return &Enrolment{Secret: key.Secret(), URL: key.URL()}, nil
}

func (s *Service) enrolment(email, secret string) (*Enrolment, error) {
	key, err := otp.NewKeyFromURL(fmt.Sprintf("otpauth://totp/%s:%s?secret=%s&issuer=%s&period=%d",
		url.PathEscape(s.cfg.Issuer), url.PathEscape(email), secret, url.QueryEscape(s.cfg.Issuer), totpPeriod))
	if err != nil {
		return nil, err
	}
	return &Enrolment{Secret: secret, URL: key.URL()}, nil
}

// QRCode returns the PNG of the pending enrolment's otpauth URL.
func (s *Service) QRCode(sess *web.Session) ([]byte, error) {
	if sess.TOTPEnrolSecret == "" {
		return nil, errs.E(errs.NotFound, "err.not_found")
	}
	e, err := s.enrolment(sess.Principal.Email, sess.TOTPEnrolSecret)
	if err != nil {
		return nil, err
	}
	key, err := otp.NewKeyFromURL(e.URL)
	if err != nil {
		return nil, err
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ConfirmTOTP turns the second factor on when code matches the pending
// secret, and returns the recovery codes, shown once.
func (s *Service) ConfirmTOTP(ctx context.Context, sess *web.Session, code string) ([]string, error) {
	if sess.TOTPEnrolSecret == "" {
		return nil, errs.Field("code", "err.totp.no_enrolment", nil)
	}
	step, ok := matchTOTP(sess.TOTPEnrolSecret, code, s.tick(), 0)
	if !ok {
		return nil, errs.Field("code", "err.totp.wrong", nil)
	}
	codes := make([]string, recoveryCodeCount)
	for i := range codes {
		codes[i] = newRecoveryCode()
	}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		u, err := userBy(ctx, tx, "u.id = ?", sess.Principal.UserID)
		if err != nil {
			return err
		}
		now := s.tick()
		if _, err := tx.Exec(ctx, `UPDATE users SET totp_secret = ?, totp_enabled = ?, totp_last_step = ?, updated_at = ? WHERE id = ?`,
			sess.TOTPEnrolSecret, true, step, now, u.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE sessions SET totp_enrol_secret = '' WHERE id_hash = ?`, tokenHash(sess.Token)); err != nil {
			return err
		}
		if err := replaceRecoveryCodes(ctx, tx, u.ID, codes); err != nil {
			return err
		}
		if err := s.securityNotice(ctx, tx, u, "totp_enabled"); err != nil {
			return err
		}
		return audit.Append(ctx, tx, now, audit.Change{Action: "user.enable_totp", ObjectType: "user",
			ObjectID: itoa(u.ID), OrgID: u.OrgID})
	})
	if err != nil {
		return nil, err
	}
	sess.TOTPEnrolSecret = ""
	return codes, nil
}

func replaceRecoveryCodes(ctx context.Context, tx *store.Tx, userID int64, codes []string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
		return err
	}
	for _, c := range codes {
		if _, err := tx.Exec(ctx, `INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)`, userID, tokenHash(normRecovery(c))); err != nil {
			return err
		}
	}
	return nil
}

// DisableTOTP turns off the signed-in user's second factor after checking
// their password.
func (s *Service) DisableTOTP(ctx context.Context, sess *web.Session, password string) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		u, err := userBy(ctx, tx, "u.id = ?", sess.Principal.UserID)
		if err != nil {
			return err
		}
		if u.PasswordHash != "" && !CheckPassword(u.PasswordHash, password) {
			return errs.Field("password", "err.password.current_wrong", nil)
		}
		return s.disableTOTP(ctx, tx, u, "user.disable_totp")
	})
}

func (s *Service) disableTOTP(ctx context.Context, tx *store.Tx, u *userRow, action string) error {
	now := s.tick()
	if _, err := tx.Exec(ctx, `UPDATE users SET totp_secret = '', totp_enabled = ?, updated_at = ? WHERE id = ?`, false, now, u.ID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, u.ID); err != nil {
		return err
	}
	if err := s.securityNotice(ctx, tx, u, "totp_disabled"); err != nil {
		return err
	}
	return audit.Append(ctx, tx, now, audit.Change{Action: action, ObjectType: "user", ObjectID: itoa(u.ID), OrgID: u.OrgID})
}

// VerifySecondFactor completes a sign-in that waits for its second factor,
// with a TOTP code or an unused recovery code. A code is accepted once:
// replaying a TOTP code of an already used time step fails.
func (s *Service) VerifySecondFactor(ctx context.Context, sess *web.Session, code string) error {
	if !sess.MFAPending {
		return nil
	}
	now := s.tick()
	keys := []string{"totp:" + itoa(sess.Principal.UserID)}
	if until, err := s.lockedUntil(ctx, now, keys); err != nil {
		return err
	} else if !until.IsZero() {
		mins := int(until.Sub(now).Round(time.Minute) / time.Minute)
		return &errs.Error{Kind: errs.RateLimited, Code: "err.login.locked", Args: map[string]any{"minutes": max(mins, 1)}}
	}
	code = strings.TrimSpace(code)
	if code == "" {
		return errs.Field("code", "err.totp.required", nil)
	}
	var ok bool
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		u, err := userBy(ctx, tx, "u.id = ?", sess.Principal.UserID)
		if err != nil {
			return err
		}
		method := "totp"
		if step, match := matchTOTP(u.TOTPSecret, code, now, u.TOTPLastStep); match {
			_, err = tx.Exec(ctx, `UPDATE users SET totp_last_step = ? WHERE id = ?`, step, u.ID)
		} else {
			method = "recovery_code"
			var res interface{ RowsAffected() (int64, error) }
			res, err = tx.Exec(ctx, `UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL`,
				now, u.ID, tokenHash(normRecovery(code)))
			if err == nil {
				if n, _ := res.RowsAffected(); n != 1 {
					return nil // not ok
				}
			}
		}
		if err != nil {
			return err
		}
		ok = true
		if _, err := tx.Exec(ctx, `UPDATE sessions SET mfa_pending = ? WHERE id_hash = ?`, false, tokenHash(sess.Token)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM login_throttle WHERE key = ?`, keys[0]); err != nil {
			return err
		}
		return s.recordLogin(ctx, tx, u, method)
	})
	if err != nil {
		return err
	}
	if !ok {
		if err := s.recordFailure(ctx, now, keys, sess.Principal.Email); err != nil {
			return err
		}
		return errs.Field("code", "err.totp.wrong", nil)
	}
	sess.MFAPending = false
	return nil
}

// matchTOTP checks code against the steps around now, refusing steps at or
// before lastStep, and returns the matching step.
func matchTOTP(secret, code string, now time.Time, lastStep int64) (int64, bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 || secret == "" {
		return 0, false
	}
	cur := now.Unix() / totpPeriod
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		step := cur + d
		if step <= lastStep {
			continue
		}
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totp.ValidateOpts{
			Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step, true
		}
	}
	return 0, false
}

// newRecoveryCode returns ten random base32 characters as xxxxx-xxxxx.
func newRecoveryCode() string {
	b := make([]byte, 10)
	rand.Read(b)
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	for i := range b {
		b[i] = alphabet[b[i]&31]
	}
	return string(b[:5]) + "-" + string(b[5:])
}

func normRecovery(c string) string {
	return strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(c)))
}

// RecoveryCodesLeft counts the signed-in user's unused recovery codes.
func (s *Service) RecoveryCodesLeft(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL`, auth.From(ctx).UserID).Scan(&n)
	return n, err
}
