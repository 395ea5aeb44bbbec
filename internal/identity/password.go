package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/belfry-cert/belfry/internal/errs"
)

// Argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
)

// MinPasswordLength follows NIST SP 800-63B: length, not composition rules.
const MinPasswordLength = 12

// HashPassword returns an argon2id hash in the PHC string format.
func HashPassword(pw string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key))
}

// CheckPassword reports whether pw matches a hash made by HashPassword
// (with whatever parameters that hash records).
func CheckPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked against when the user does not exist, so that a
// failed login takes as long whether or not the e-mail is known.
var dummyHash = HashPassword("belfry-timing-equaliser")

// checkNewPassword applies the password policy.
func checkNewPassword(field, pw, email string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordLength:
		return errs.Field(field, "err.password.short", map[string]any{"min": MinPasswordLength})
	case n > 256:
		return errs.Field(field, "err.too_long", map[string]any{"max": 256})
	case strings.EqualFold(pw, email):
		return errs.Field(field, "err.password.is_email", nil)
	}
	return nil
}

// GeneratePassword returns a random one-time password: 128 bits of
// crypto/rand in 26 base32 characters, grouped for reading aloud.
func GeneratePassword() string {
	t := rand.Text()
	return t[:6] + "-" + t[6:12] + "-" + t[12:18] + "-" + t[18:]
}

// tokenHash is how session ids, API tokens and recovery codes are stored:
// they are long random values, so a fast hash suffices.
func tokenHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
