// Package auth defines who is acting (the Principal), the roles Belfry knows
// and the checks every capability applies before it reads or writes.
package auth

import (
	"context"
	"slices"
)

// Role is a permission set granted to a user.
type Role string

// Authority roles are held by users of the authority's own organisation.
const (
	RoleAdmin         Role = "admin"          // authority administrator: everything
	RoleAnalyst       Role = "analyst"        // CSIRT analyst
	RoleSupervisor    Role = "supervisor"     // NIS2 supervisor
	RoleCertification Role = "certification"  // certification officer
	RoleCrisis        Role = "crisis_manager" // crisis manager
	RoleAuditor       Role = "auditor"        // read-only auditor
)

// Organisation roles are held by users of any other organisation.
const (
	RoleOrgAdmin Role = "org_admin" // manages the organisation's users
	RoleMember   Role = "member"    // acts for the organisation
)

// AuthorityRoles and OrgRoles list the roles in display order.
var (
	AuthorityRoles = []Role{RoleAdmin, RoleAnalyst, RoleSupervisor, RoleCertification, RoleCrisis, RoleAuditor}
	OrgRoles       = []Role{RoleOrgAdmin, RoleMember}
)

// AllRoles lists every role, authority roles first.
func AllRoles() []Role {
	return append(append([]Role{}, AuthorityRoles...), OrgRoles...)
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return slices.Contains(AuthorityRoles, r) || slices.Contains(OrgRoles, r)
}

// IsAuthorityRole reports whether r may only be held inside the authority.
func (r Role) IsAuthorityRole() bool { return slices.Contains(AuthorityRoles, r) }

// Scope limits what an API token may do on behalf of its user.
type Scope string

const (
	ScopeRead  Scope = "read"  // GET, HEAD
	ScopeWrite Scope = "write" // everything the user may do
)

// Principal is the authenticated caller of a request or a command.
type Principal struct {
	UserID  int64
	OrgID   int64
	OrgKind string // organisation kind; "authority" for the authority
	Email   string
	Name    string
	Locale  string
	Roles   []Role
	TokenID int64   // set when the request came with an API token
	Scopes  []Scope // the token's scopes
	System  bool    // a command or job acting for the platform itself
}

// System is the principal of commands run by the operator (belfry user …)
// and of background jobs.
var System = &Principal{System: true, Name: "system", OrgKind: "authority", Roles: []Role{RoleAdmin}}

// Has reports whether p holds role r.
func (p *Principal) Has(r Role) bool { return p != nil && slices.Contains(p.Roles, r) }

// HasAny reports whether p holds any of rs.
func (p *Principal) HasAny(rs ...Role) bool {
	for _, r := range rs {
		if p.Has(r) {
			return true
		}
	}
	return false
}

// IsAuthority reports whether p acts for the authority.
func (p *Principal) IsAuthority() bool { return p != nil && p.OrgKind == "authority" }

// IsAuthorityAdmin reports whether p administers the whole platform.
func (p *Principal) IsAuthorityAdmin() bool { return p.IsAuthority() && p.Has(RoleAdmin) }

// CanReadAll reports whether p may read every organisation's data of the
// platform core (users, organisations, the audit log).
func (p *Principal) CanReadAll() bool {
	return p.IsAuthority() && p.HasAny(RoleAdmin, RoleAuditor)
}

// CanWrite reports whether p may change anything at all: auditors and
// read-only tokens may not.
func (p *Principal) CanWrite() bool {
	if p == nil {
		return false
	}
	if p.TokenID != 0 && !slices.Contains(p.Scopes, ScopeWrite) {
		return false
	}
	return !(p.IsAuthority() && p.Has(RoleAuditor) && !p.Has(RoleAdmin))
}

// CanManageOrg reports whether p may manage the users of organisation org.
func (p *Principal) CanManageOrg(org int64) bool {
	if !p.CanWrite() {
		return false
	}
	return p.IsAuthorityAdmin() || (p.OrgID == org && p.Has(RoleOrgAdmin))
}

// CanSeeOrg reports whether p may read the core data of organisation org.
func (p *Principal) CanSeeOrg(org int64) bool {
	return p != nil && (p.CanReadAll() || p.OrgID == org)
}

type ctxKey struct{}

// With returns a context carrying p.
func With(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// From returns the principal in ctx, or nil when nobody is signed in.
func From(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}

type ipKey struct{}

// WithIP returns a context carrying the client address of the request, for
// the audit log.
func WithIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, ipKey{}, ip)
}

// IP returns the client address stored by WithIP, or "".
func IP(ctx context.Context) string {
	s, _ := ctx.Value(ipKey{}).(string)
	return s
}
