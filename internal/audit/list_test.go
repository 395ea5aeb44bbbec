package audit_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/audit"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
)

var (
	day1 = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	day2 = day1.AddDate(0, 0, 1)
	day3 = day1.AddDate(0, 0, 2)
	day4 = day1.AddDate(0, 0, 3)

	bobUnderscore = &auth.Principal{UserID: 21, OrgID: 2, OrgKind: "operator", Email: "bob_smith@grid.be",
		Roles: []auth.Role{auth.RoleOrgAdmin}, TokenID: 5, Scopes: []auth.Scope{auth.ScopeWrite}}
	bobX = &auth.Principal{UserID: 22, OrgID: 2, OrgKind: "operator", Email: "bobxsmith@grid.be",
		Roles: []auth.Role{auth.RoleMember}}
)

// seedList appends seven records, seq 1 to 7 in time order, whose actions
// and actors contain the LIKE metacharacters _ and %.
func seedList(t *testing.T, db *store.DB) {
	t.Helper()
	for _, e := range []entry{
		{who: auth.System, at: day1.Add(8 * time.Hour), c: audit.Change{Action: "organisation.create", ObjectType: "organisation", ObjectID: "1", OrgID: 1}},
		{who: auth.System, at: day1.Add(9 * time.Hour), c: audit.Change{Action: "user.create", ObjectType: "user", ObjectID: "1", OrgID: 1}},
		{who: analyst, at: day1.Add(12 * time.Hour), c: audit.Change{Action: "user.update", ObjectType: "user", ObjectID: "1", OrgID: 1}},
		{who: bobUnderscore, at: day2.Add(8 * time.Hour), c: audit.Change{Action: "user_role.grant", ObjectType: "user", ObjectID: "2", OrgID: 2}},
		{who: bobX, at: day2.Add(13 * time.Hour), c: audit.Change{Action: "org%.odd", ObjectType: "organisation", ObjectID: "2", OrgID: 2}},
		{who: nil, ip: "192.0.2.9", at: day4.Add(-time.Microsecond), c: audit.Change{Action: "session.fail", ObjectType: "session"}},
		{who: analyst, at: day4, c: audit.Change{Action: "user.update", ObjectType: "user", ObjectID: "2", OrgID: 2}},
	} {
		appendEntry(t, db, e)
	}
}

func seqs(rs []audit.Record) []int64 {
	out := []int64{}
	for _, r := range rs {
		out = append(out, r.Seq)
	}
	return out
}

func TestListFilters(t *testing.T) {
	t.Parallel()
	cet := time.FixedZone("CET", 3600)
	tests := []struct {
		name string
		f    audit.Filter
		want []int64 // newest first; also the total
	}{
		{"all", audit.Filter{}, []int64{7, 6, 5, 4, 3, 2, 1}},
		{"action prefix", audit.Filter{Action: "user."}, []int64{7, 3, 2}},
		{"action whole", audit.Filter{Action: "user.update"}, []int64{7, 3}},
		{"action short prefix", audit.Filter{Action: "user"}, []int64{7, 4, 3, 2}},
		{"action underscore is literal", audit.Filter{Action: "user_"}, []int64{4}},
		{"action percent is literal", audit.Filter{Action: "org%"}, []int64{5}},
		{"action prefix before percent", audit.Filter{Action: "org"}, []int64{5, 1}},
		{"action backslash is literal", audit.Filter{Action: `\`}, []int64{}},
		{"action is a prefix, not a substring", audit.Filter{Action: "create"}, []int64{}},
		{"actor substring, any case", audit.Filter{Actor: "ANA@"}, []int64{7, 3}},
		{"actor underscore is literal", audit.Filter{Actor: "b_s"}, []int64{4}},
		{"actor substring", audit.Filter{Actor: "smith"}, []int64{5, 4}},
		{"actor percent is literal", audit.Filter{Actor: "%"}, []int64{}},
		{"actor system", audit.Filter{Actor: "system"}, []int64{2, 1}},
		{"actor anonymous", audit.Filter{Actor: "anonymous"}, []int64{6}},
		{"object type", audit.Filter{ObjectType: "user"}, []int64{7, 4, 3, 2}},
		{"object type and id", audit.Filter{ObjectType: "user", ObjectID: "2"}, []int64{7, 4}},
		{"object id across types", audit.Filter{ObjectID: "1"}, []int64{3, 2, 1}},
		{"object type is exact", audit.Filter{ObjectType: "use"}, []int64{}},
		{"org", audit.Filter{OrgID: 2}, []int64{7, 5, 4}},
		{"org without records", audit.Filter{OrgID: 3}, []int64{}},
		{"from", audit.Filter{From: day2}, []int64{7, 6, 5, 4}},
		{"to is exclusive", audit.Filter{To: day2.Add(8 * time.Hour)}, []int64{3, 2, 1}},
		{"from inclusive, to exclusive", audit.Filter{From: day2.Add(8 * time.Hour), To: day2.Add(13 * time.Hour)}, []int64{4}},
		{"from to the microsecond", audit.Filter{From: day4.Add(-time.Microsecond), To: day4}, []int64{6}},
		{"to one microsecond early", audit.Filter{From: day3, To: day4.Add(-time.Microsecond)}, []int64{}},
		{"from in another zone", audit.Filter{From: day2.Add(8 * time.Hour).In(cet)}, []int64{7, 6, 5, 4}},
		{"combined", audit.Filter{Action: "user.", Actor: "ana", OrgID: 1}, []int64{3}},
	}
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		seedList(t, db)
		ctx := auth.With(t.Context(), auth.System)
		for _, tt := range tests {
			p, err := audit.List(ctx, db, tt.f)
			if err != nil {
				t.Errorf("%s: List(%+v) = %v", tt.name, tt.f, err)
				continue
			}
			if got := seqs(p.Records); !slices.Equal(got, tt.want) || p.Total != len(tt.want) {
				t.Errorf("%s: List(%+v) = %v total %d, want %v total %d", tt.name, tt.f, got, p.Total, tt.want, len(tt.want))
			}
		}
	})
}

func TestListPaging(t *testing.T) {
	t.Parallel()
	tests := []struct {
		f     audit.Filter
		want  []int64
		total int
	}{
		{audit.Filter{Limit: 2}, []int64{7, 6}, 7},
		{audit.Filter{Limit: 2, Offset: 2}, []int64{5, 4}, 7},
		{audit.Filter{Limit: 2, Offset: 6}, []int64{1}, 7},
		{audit.Filter{Limit: 2, Offset: 7}, []int64{}, 7},
		{audit.Filter{Limit: 2, Offset: 100}, []int64{}, 7},
		{audit.Filter{Action: "user", Limit: 3, Offset: 1}, []int64{4, 3, 2}, 4},
		{audit.Filter{Limit: 0}, []int64{7, 6, 5, 4, 3, 2, 1}, 7},   // default limit
		{audit.Filter{Limit: 501}, []int64{7, 6, 5, 4, 3, 2, 1}, 7}, // clamped to the default
	}
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		seedList(t, db)
		ctx := auth.With(t.Context(), auth.System)
		for _, tt := range tests {
			p, err := audit.List(ctx, db, tt.f)
			if err != nil {
				t.Errorf("List(%+v) = %v", tt.f, err)
				continue
			}
			if got := seqs(p.Records); !slices.Equal(got, tt.want) || p.Total != tt.total {
				t.Errorf("List(%+v) = %v total %d, want %v total %d", tt.f, got, p.Total, tt.want, tt.total)
			}
		}
	})
}

func TestListDefaultLimit(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := auth.With(t.Context(), auth.System)
		for i := range 55 {
			appendEntry(t, db, entry{who: auth.System, at: day1.Add(time.Duration(i) * time.Second),
				c: audit.Change{Action: "test.page", ObjectType: "test", ObjectID: fmt.Sprint(i)}})
		}
		p, err := audit.List(ctx, db, audit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Records) != 50 || p.Total != 55 || p.Records[0].Seq != 55 || p.Records[49].Seq != 6 {
			t.Errorf("List(no limit) = %d records (seq %d..%d) total %d, want 50 (seq 55..6) total 55",
				len(p.Records), p.Records[0].Seq, p.Records[len(p.Records)-1].Seq, p.Total)
		}
	})
}

func TestListAuthorization(t *testing.T) {
	t.Parallel()
	authority := func(roles ...auth.Role) *auth.Principal {
		return &auth.Principal{UserID: 1, OrgID: 1, OrgKind: "authority", Email: "x@ccb.be", Roles: roles}
	}
	tests := []struct {
		name    string
		who     *auth.Principal
		allowed bool
	}{
		{"anonymous", nil, false},
		{"system", auth.System, true},
		{"authority admin", authority(auth.RoleAdmin), true},
		{"authority auditor", authority(auth.RoleAuditor), true},
		{"authority auditor with a read token", &auth.Principal{UserID: 1, OrgID: 1, OrgKind: "authority", Email: "x@ccb.be",
			Roles: []auth.Role{auth.RoleAuditor}, TokenID: 3, Scopes: []auth.Scope{auth.ScopeRead}}, true},
		{"authority analyst", authority(auth.RoleAnalyst), false},
		{"authority supervisor and crisis manager", authority(auth.RoleSupervisor, auth.RoleCrisis), false},
		{"authority without roles", authority(), false},
		{"operator org admin", &auth.Principal{UserID: 2, OrgID: 2, OrgKind: "operator", Email: "y@grid.be",
			Roles: []auth.Role{auth.RoleOrgAdmin}}, false},
		{"operator holding authority roles", &auth.Principal{UserID: 2, OrgID: 2, OrgKind: "operator", Email: "y@grid.be",
			Roles: []auth.Role{auth.RoleAdmin, auth.RoleAuditor}}, false},
	}
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		seedList(t, db)
		for _, tt := range tests {
			ctx := t.Context()
			if tt.who != nil {
				ctx = auth.With(ctx, tt.who)
			}
			p, err := audit.List(ctx, db, audit.Filter{})
			switch {
			case tt.allowed && (err != nil || p.Total != 7):
				t.Errorf("%s: List = total %d, %v; want total 7, nil", tt.name, p.Total, err)
			case !tt.allowed && !errs.Is(err, errs.Forbidden):
				t.Errorf("%s: List = %v, want a Forbidden error", tt.name, err)
			case !tt.allowed && (len(p.Records) != 0 || p.Total != 0):
				t.Errorf("%s: List returned %d records (total %d) with its error, want none", tt.name, len(p.Records), p.Total)
			}
		}
	})
}
