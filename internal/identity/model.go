// Package identity holds organisations, users and their roles, password and
// TOTP sign-in, browser sessions, API tokens and single sign-on through
// OpenID Connect.
package identity

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
)

// OrgKind says what an organisation is to the authority.
type OrgKind string

const (
	KindAuthority         OrgKind = "authority"
	KindEntity            OrgKind = "entity" // regulated (NIS2) entity
	KindVendor            OrgKind = "vendor"
	KindCertificationBody OrgKind = "certification_body"
	KindPartnerAuthority  OrgKind = "partner_authority"
	KindOther             OrgKind = "other"
)

// OrgKinds lists the kinds in display order.
var OrgKinds = []OrgKind{KindAuthority, KindEntity, KindVendor, KindCertificationBody, KindPartnerAuthority, KindOther}

// Valid reports whether k is a known kind.
func (k OrgKind) Valid() bool {
	for _, x := range OrgKinds {
		if x == k {
			return true
		}
	}
	return false
}

// Organisation is a party that has users on the platform.
type Organisation struct {
	ID               int64     `json:"id"`
	Name             string    `json:"name"`
	Kind             OrgKind   `json:"kind"`
	EnterpriseNumber string    `json:"enterprise_number,omitempty"` // 10 digits, no dots
	Country          string    `json:"country"`
	Email            string    `json:"email,omitempty"`
	Phone            string    `json:"phone,omitempty"`
	Status           string    `json:"status"` // active, suspended
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
}

// OrgInput is what a caller may set on an organisation.
type OrgInput struct {
	Name             *string `json:"name"`
	Kind             *string `json:"kind"`
	EnterpriseNumber *string `json:"enterprise_number"`
	Country          *string `json:"country"`
	Email            *string `json:"email"`
	Phone            *string `json:"phone"`
	Status           *string `json:"status"`
}

// apply validates in and applies it to o, reporting every fault at once.
func (in OrgInput) apply(o *Organisation, creating bool) error {
	var v errs.Validator
	if in.Name != nil || creating {
		o.Name = strings.TrimSpace(deref(in.Name))
		switch {
		case o.Name == "":
			v.Add("name", "err.org_name.required", nil)
		case utf8.RuneCountInString(o.Name) > 200:
			v.Add("name", "err.too_long", map[string]any{"max": 200})
		}
	}
	if in.Kind != nil || creating {
		o.Kind = OrgKind(strings.TrimSpace(deref(in.Kind)))
		if o.Kind == "" {
			v.Add("kind", "err.org_kind.required", nil)
		} else if !o.Kind.Valid() {
			v.Add("kind", "err.org_kind.invalid", nil)
		}
	}
	if in.EnterpriseNumber != nil {
		raw := strings.TrimSpace(*in.EnterpriseNumber)
		o.EnterpriseNumber = ""
		if raw != "" {
			n, err := NormalizeEnterpriseNumber(raw)
			if err != nil {
				v.Add("enterprise_number", errs.KindCode(err), nil)
			}
			o.EnterpriseNumber = n
		}
	}
	if in.Country != nil || creating {
		o.Country = strings.ToUpper(strings.TrimSpace(deref(in.Country)))
		if o.Country == "" {
			o.Country = "BE"
		}
		if len(o.Country) != 2 || strings.Trim(o.Country, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			v.Add("country", "err.country.invalid", nil)
		}
	}
	if in.Email != nil {
		o.Email = strings.TrimSpace(*in.Email)
		if o.Email != "" {
			if e, ok := NormalizeEmail(o.Email); ok {
				o.Email = e
			} else {
				v.Add("email", "err.email.invalid", nil)
			}
		}
	}
	if in.Phone != nil {
		o.Phone = strings.TrimSpace(*in.Phone)
		if o.Phone != "" && !ValidPhone(o.Phone) {
			v.Add("phone", "err.phone.invalid", nil)
		}
	}
	if in.Status != nil || creating {
		o.Status = strings.TrimSpace(deref(in.Status))
		if o.Status == "" {
			o.Status = "active"
		}
		if o.Status != "active" && o.Status != "suspended" {
			v.Add("status", "err.org_status.invalid", nil)
		}
	}
	return v.Err()
}

// User is a person who signs in.
type User struct {
	ID                 int64       `json:"id"`
	OrgID              int64       `json:"organisation_id"`
	OrgName            string      `json:"organisation_name"`
	OrgKind            OrgKind     `json:"organisation_kind"`
	Email              string      `json:"email"`
	Name               string      `json:"name"`
	Locale             string      `json:"locale,omitempty"`
	Roles              []auth.Role `json:"roles"`
	TOTPEnabled        bool        `json:"totp_enabled"`
	SSOLinked          bool        `json:"sso_linked"`
	Disabled           bool        `json:"disabled"`
	MustChangePassword bool        `json:"must_change_password"`
	LastLoginAt        *time.Time  `json:"last_login_at,omitempty"`
	CreatedAt          time.Time   `json:"created_at"`
	UpdatedAt          time.Time   `json:"updated_at"`
}

// UserInput is what a caller may set on a user.
type UserInput struct {
	OrgID    *int64    `json:"organisation_id"`
	Email    *string   `json:"email"`
	Name     *string   `json:"name"`
	Locale   *string   `json:"locale"`
	Roles    *[]string `json:"roles"`
	Disabled *bool     `json:"disabled"`
}

func (in UserInput) apply(u *User, creating bool) error {
	var v errs.Validator
	if creating && (in.OrgID == nil || *in.OrgID <= 0) {
		v.Add("organisation_id", "err.org.required", nil)
	}
	if in.OrgID != nil && !creating && *in.OrgID != u.OrgID {
		v.Add("organisation_id", "err.user_org.immutable", nil)
	}
	if in.Email != nil || creating {
		raw := strings.TrimSpace(deref(in.Email))
		if raw == "" {
			v.Add("email", "err.email.required", nil)
		} else if e, ok := NormalizeEmail(raw); ok {
			u.Email = e
		} else {
			v.Add("email", "err.email.invalid", nil)
		}
	}
	if in.Name != nil || creating {
		u.Name = strings.TrimSpace(deref(in.Name))
		switch {
		case u.Name == "":
			v.Add("name", "err.user_name.required", nil)
		case utf8.RuneCountInString(u.Name) > 200:
			v.Add("name", "err.too_long", map[string]any{"max": 200})
		}
	}
	if in.Locale != nil {
		u.Locale = strings.TrimSpace(*in.Locale)
		if u.Locale != "" && !i18n.Supported(u.Locale) {
			v.Add("locale", "err.locale.invalid", nil)
		}
	}
	if in.Roles != nil || creating {
		u.Roles = nil
		seen := map[auth.Role]bool{}
		for _, r := range deref(in.Roles) {
			role := auth.Role(strings.TrimSpace(r))
			if !role.Valid() {
				v.Add("roles", "err.role.invalid", map[string]any{"role": r})
				continue
			}
			if !seen[role] {
				seen[role] = true
				u.Roles = append(u.Roles, role)
			}
		}
		if len(u.Roles) == 0 && !v.Has("roles") {
			v.Add("roles", "err.roles.required", nil)
		}
	}
	if in.Disabled != nil {
		u.Disabled = *in.Disabled
	}
	return v.Err()
}

// checkRolesFit refuses authority roles outside the authority and
// organisation roles inside it.
func checkRolesFit(roles []auth.Role, kind OrgKind) error {
	for _, r := range roles {
		if r.IsAuthorityRole() != (kind == KindAuthority) {
			key := "err.role.authority_only"
			if kind == KindAuthority {
				key = "err.role.org_only"
			}
			return errs.Field("roles", key, map[string]any{"role": string(r)})
		}
	}
	return nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// NormalizeEmail trims and validates a bare e-mail address, lower-casing
// its domain.
func NormalizeEmail(s string) (string, bool) {
	s = strings.TrimSpace(s)
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || len(s) > 254 {
		return "", false
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", false
	}
	return local + "@" + strings.ToLower(domain), true
}

// ValidPhone accepts international numbers with spaces, dots, dashes and
// parentheses: +32 2 501 05 60.
func ValidPhone(s string) bool {
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0:
		case r == ' ' || r == '.' || r == '-' || r == '(' || r == ')' || r == '/':
		default:
			return false
		}
	}
	return digits >= 6 && digits <= 15
}
