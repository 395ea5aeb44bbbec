package registry

import (
	"context"
	"database/sql"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/audit"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/constituency"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
)

// Claim states.
const (
	ClaimPending  = "pending"
	ClaimApproved = "approved"
	ClaimRejected = "rejected"
)

// Claim is an organisation's claim on an IP prefix, an ASN or a domain
// (with its subdomains). Approved claims feed the constituency index.
type Claim struct {
	ID        int64      `json:"id"`
	OrgID     int64      `json:"organisation_id"`
	OrgName   string     `json:"organisation_name"`
	Kind      string     `json:"kind"` // prefix, asn, domain
	Value     string     `json:"value"`
	Status    string     `json:"status"`
	Note      string     `json:"note,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
	// Conflicts names the other organisations claiming the same value.
	Conflicts []ClaimRef `json:"conflicts,omitempty"`
}

// ClaimRef names another organisation's claim on the same value.
type ClaimRef struct {
	ClaimID int64  `json:"claim_id"`
	OrgID   int64  `json:"organisation_id"`
	OrgName string `json:"organisation_name"`
	Status  string `json:"status"`
}

// ClaimInput is a new claim.
type ClaimInput struct {
	OrgID int64  `json:"organisation_id"`
	Kind  string `json:"kind"`
	Value string `json:"value"`
	Note  string `json:"note"`
}

// NormalizeClaim checks a claim value of kind and returns its canonical
// form: a CIDR prefix, an ASN number, or a lower-case domain.
func NormalizeClaim(kind, value string) (string, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return "", errs.Field("value", "err.claim.value_required", nil)
	}
	switch constituency.Kind(kind) {
	case constituency.KindPrefix:
		p, err := constituency.NormalizePrefix(value)
		if err != nil {
			return "", errs.Field("value", "err.claim.prefix_invalid", map[string]any{"value": value, "reason": err.Error()})
		}
		for _, r := range reservedPrefixes {
			if p.Overlaps(r) {
				return "", errs.Field("value", "err.claim.prefix_reserved", map[string]any{"value": value, "range": r.String()})
			}
		}
		return p.String(), nil
	case constituency.KindASN:
		n, err := constituency.NormalizeASN(value)
		if err != nil {
			return "", errs.Field("value", "err.claim.asn_invalid", map[string]any{"value": value})
		}
		return strconv.FormatUint(uint64(n), 10), nil
	case constituency.KindDomain:
		d, err := constituency.NormalizeDomain(value)
		if err != nil {
			return "", errs.Field("value", "err.claim.domain_invalid", map[string]any{"value": value})
		}
		return d, nil
	case "":
		return "", errs.Field("kind", "err.claim.kind_required", nil)
	default:
		return "", errs.Field("kind", "err.claim.kind_invalid", nil)
	}
}

// reservedPrefixes are ranges no organisation owns on the internet
// (RFC 6890 special-purpose registries): private, shared, loopback,
// link-local, multicast and reserved space. Feeds never report them as an
// organisation's, so a claim on them would only create false owners. The
// documentation ranges stay allowed for tests and demonstrations.
var reservedPrefixes = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4", "::/127", "fc00::/7", "fe80::/10", "ff00::/8"} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// GuessKind says which kind of claim a bare value is: an ASN when it reads
// AS…, a prefix when it parses as an address or CIDR, else a domain.
func GuessKind(value string) string {
	v := strings.TrimSpace(value)
	if strings.HasPrefix(strings.ToUpper(v), "AS") && len(v) > 2 && strings.Trim(v[2:], "0123456789") == "" {
		return string(constituency.KindASN)
	}
	if strings.ContainsAny(v, ":/") || strings.Trim(v, "0123456789.") == "" {
		return string(constituency.KindPrefix)
	}
	return string(constituency.KindDomain)
}

const selectClaim = `SELECT c.id, c.org_id, o.name, c.kind, c.value, c.status, c.note, c.created_at, c.decided_at
	FROM constituency_claims c JOIN organisations o ON o.id = c.org_id`

func scanClaim(row interface{ Scan(...any) error }) (*Claim, error) {
	var c Claim
	var decided sql.Null[time.Time]
	err := row.Scan(&c.ID, &c.OrgID, &c.OrgName, &c.Kind, &c.Value, &c.Status, &c.Note, &c.CreatedAt, &decided)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "err.claim.not_found")
	}
	if err != nil {
		return nil, err
	}
	c.CreatedAt, c.DecidedAt = c.CreatedAt.UTC(), timePtr(decided)
	return &c, nil
}

// ClaimFilter selects claims.
type ClaimFilter struct {
	OrgID     int64
	Status    string
	Kind      string
	Text      string
	Conflicts bool // only claims whose value another organisation claims too
	Offset    int
	Limit     int
}

// Claims lists claims: the authority's staff see all, an organisation its
// own. Each carries the other organisations claiming the same value.
func (s *Service) Claims(ctx context.Context, f ClaimFilter) ([]*Claim, int, error) {
	p := auth.From(ctx)
	if p == nil {
		return nil, 0, forbidden()
	}
	if !p.IsAuthority() {
		f.OrgID = p.OrgID
	}
	var conds []string
	var args []any
	if f.OrgID != 0 {
		conds, args = append(conds, "c.org_id = ?"), append(args, f.OrgID)
	}
	if f.Status != "" {
		conds, args = append(conds, "c.status = ?"), append(args, f.Status)
	}
	if f.Kind != "" {
		conds, args = append(conds, "c.kind = ?"), append(args, f.Kind)
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		like := "%" + store.EscapeLike(strings.ToLower(t)) + "%"
		conds, args = append(conds, `(c.value LIKE ? ESCAPE '\' OR lower(o.name) LIKE ? ESCAPE '\')`), append(args, like, like)
	}
	if f.Conflicts && p.IsAuthority() {
		conds = append(conds, `EXISTS (SELECT 1 FROM constituency_claims x WHERE x.kind = c.kind AND x.value = c.value
			AND x.org_id <> c.org_id AND x.status <> 'rejected')`)
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	var total int
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM constituency_claims c JOIN organisations o ON o.id = c.org_id`+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	q := selectClaim + where + ` ORDER BY CASE c.status WHEN 'pending' THEN 0 ELSE 1 END, c.kind, c.value, c.id`
	if f.Limit > 0 {
		q += ` LIMIT ? OFFSET ?`
		args = append(args, f.Limit, f.Offset)
	}
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, 0, err
	}
	var out []*Claim
	for rows.Next() {
		c, err := scanClaim(rows)
		if err != nil {
			rows.Close()
			return nil, 0, err
		}
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if p.IsAuthority() {
		for _, c := range out {
			if c.Conflicts, err = s.conflicts(ctx, s.db, c); err != nil {
				return nil, 0, err
			}
		}
	}
	return out, total, nil
}

func (s *Service) conflicts(ctx context.Context, q store.Querier, c *Claim) ([]ClaimRef, error) {
	rows, err := q.Query(ctx, `SELECT x.id, x.org_id, o.name, x.status FROM constituency_claims x JOIN organisations o ON o.id = x.org_id
		WHERE x.kind = ? AND x.value = ? AND x.org_id <> ? AND x.status <> 'rejected' ORDER BY x.id`, c.Kind, c.Value, c.OrgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ClaimRef
	for rows.Next() {
		var r ClaimRef
		if err := rows.Scan(&r.ClaimID, &r.OrgID, &r.OrgName, &r.Status); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Claim returns one claim the principal may see.
func (s *Service) Claim(ctx context.Context, id int64) (*Claim, error) {
	p := auth.From(ctx)
	c, err := scanClaim(s.db.QueryRow(ctx, selectClaim+` WHERE c.id = ?`, id))
	if err != nil {
		return nil, err
	}
	if !canRead(p, c.OrgID) {
		return nil, errs.E(errs.NotFound, "err.claim.not_found")
	}
	if p.IsAuthority() {
		if c.Conflicts, err = s.conflicts(ctx, s.db, c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// AddClaims records claims for one organisation in one transaction: either
// all are valid and stored, or none is and every fault is reported (field
// "values[i]"). Claims the organisation already holds are skipped. Claims
// entered by the authority's reviewers are approved at once.
func (s *Service) AddClaims(ctx context.Context, org int64, in []ClaimInput) ([]*Claim, error) {
	p := auth.From(ctx)
	if !canRead(p, org) {
		return nil, notFound()
	}
	if !canEdit(p, org) {
		return nil, forbidden()
	}
	var v errs.Validator
	if len(in) == 0 {
		v.Add("value", "err.claim.value_required", nil)
	}
	if len(in) > 10000 {
		v.Add("values", "err.claim.too_many", map[string]any{"max": 10000})
	}
	seen := map[string]bool{}
	var clean []ClaimInput
	for i, c := range in {
		field := itemField("values", i)
		if c.Kind == "" {
			c.Kind = GuessKind(c.Value)
		}
		val, err := NormalizeClaim(c.Kind, c.Value)
		if err != nil {
			e, _ := errs.As(err)
			for _, f := range e.Fields {
				v.Add(field, f.Code, f.Args)
			}
			continue
		}
		c.Value = val
		c.Note = trimmed(c.Note, 500, "note", &v)
		if key := c.Kind + " " + val; !seen[key] {
			seen[key] = true
			clean = append(clean, c)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	status, decided := ClaimPending, false
	if canReview(p) {
		status, decided = ClaimApproved, true
	}
	var out []*Claim
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var kind, orgName string
		if err := tx.QueryRow(ctx, `SELECT kind, name FROM organisations WHERE id = ?`, org).Scan(&kind, &orgName); err != nil {
			return notFound()
		}
		if kind == "authority" {
			return errs.E(errs.Invalid, "err.claim.authority")
		}
		now := s.tick()
		for _, c := range clean {
			var exists int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM constituency_claims WHERE org_id = ? AND kind = ? AND value = ?`, org, c.Kind, c.Value).Scan(&exists); err != nil {
				return err
			}
			if exists > 0 {
				continue
			}
			var decidedBy, decidedAt any
			if decided {
				decidedBy, decidedAt = nullID(p.UserID), now
			}
			var id int64
			if err := tx.QueryRow(ctx, `INSERT INTO constituency_claims (org_id, kind, value, status, note, created_by, created_at, decided_by, decided_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, org, c.Kind, c.Value, status, c.Note, nullID(p.UserID), now, decidedBy, decidedAt).Scan(&id); err != nil {
				return err
			}
			cl := &Claim{ID: id, OrgID: org, OrgName: orgName, Kind: c.Kind, Value: c.Value, Status: status, Note: c.Note, CreatedAt: now}
			if decided {
				cl.DecidedAt = &now
			}
			out = append(out, cl)
			if err := audit.Append(ctx, tx, now, audit.Change{Action: "claim.create", ObjectType: "claim", ObjectID: itoa(id), OrgID: org, After: cl}); err != nil {
				return err
			}
		}
		if decided && len(out) > 0 {
			return bumpVersion(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if decided && len(out) > 0 {
		s.refresh(ctx)
	}
	return out, nil
}

// DecideClaim approves or rejects a claim (the authority's reviewers).
func (s *Service) DecideClaim(ctx context.Context, id int64, approve bool, note string) (*Claim, error) {
	p := auth.From(ctx)
	if !p.IsAuthority() {
		return nil, errs.E(errs.NotFound, "err.claim.not_found")
	}
	if !canReview(p) {
		return nil, forbidden()
	}
	var v errs.Validator
	note = trimmed(note, 500, "note", &v)
	if !approve && note == "" {
		v.Add("note", "err.claim.reason_required", nil)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out *Claim
	changed := false
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := scanClaim(tx.QueryRow(ctx, selectClaim+` WHERE c.id = ?`, id))
		if err != nil {
			return err
		}
		before := *c
		now := s.tick()
		status := ClaimRejected
		if approve {
			status = ClaimApproved
		}
		changed = (c.Status == ClaimApproved) != approve
		c.Status, c.DecidedAt = status, &now
		if note != "" {
			c.Note = note
		}
		if _, err := tx.Exec(ctx, `UPDATE constituency_claims SET status = ?, note = ?, decided_by = ?, decided_at = ? WHERE id = ?`,
			status, c.Note, nullID(p.UserID), now, id); err != nil {
			return err
		}
		if changed {
			if err := bumpVersion(ctx, tx); err != nil {
				return err
			}
		}
		out = c
		return audit.Append(ctx, tx, now, audit.Change{Action: "claim." + map[bool]string{true: "approve", false: "reject"}[approve],
			ObjectType: "claim", ObjectID: itoa(id), OrgID: c.OrgID, Before: before, After: c})
	})
	if err != nil {
		return nil, err
	}
	if changed {
		s.refresh(ctx)
	}
	return out, nil
}

// DeleteClaim withdraws a claim: its organisation's administrators or the
// authority's reviewers may.
func (s *Service) DeleteClaim(ctx context.Context, id int64) error {
	p := auth.From(ctx)
	changed := false
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := scanClaim(tx.QueryRow(ctx, selectClaim+` WHERE c.id = ?`, id))
		if err != nil {
			return err
		}
		if !canRead(p, c.OrgID) {
			return errs.E(errs.NotFound, "err.claim.not_found")
		}
		if !canEdit(p, c.OrgID) {
			return forbidden()
		}
		if _, err := tx.Exec(ctx, `DELETE FROM constituency_claims WHERE id = ?`, id); err != nil {
			return err
		}
		if c.Status == ClaimApproved {
			changed = true
			if err := bumpVersion(ctx, tx); err != nil {
				return err
			}
		}
		return audit.Append(ctx, tx, s.tick(), audit.Change{Action: "claim.delete", ObjectType: "claim", ObjectID: itoa(id), OrgID: c.OrgID, Before: c})
	})
	if err == nil && changed {
		s.refresh(ctx)
	}
	return err
}

// bumpVersion moves the constituency version on, in the transaction that
// changed the approved claims, so that every instance rebuilds its index.
func bumpVersion(ctx context.Context, tx *store.Tx) error {
	_, err := tx.Exec(ctx, `UPDATE settings SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) WHERE key = 'constituency_version'`)
	return err
}

// ConstituencyVersion reads the version of the approved claims.
func (s *Service) ConstituencyVersion(ctx context.Context) (int64, error) {
	var v string
	if err := s.db.QueryRow(ctx, `SELECT value FROM settings WHERE key = 'constituency_version'`).Scan(&v); err != nil {
		return 0, err
	}
	return strconv.ParseInt(v, 10, 64)
}

// LoadClaims reads the version and every approved claim, for the index.
func (s *Service) LoadClaims(ctx context.Context) (int64, []constituency.Claim, error) {
	// The version is read first: a claim changed in between makes the
	// next poll see a newer version and rebuild again, never the reverse.
	version, err := s.ConstituencyVersion(ctx)
	if err != nil {
		return 0, nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT id, org_id, kind, value FROM constituency_claims WHERE status = 'approved'`)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	var claims []constituency.Claim
	for rows.Next() {
		var c constituency.Claim
		var kind string
		if err := rows.Scan(&c.ID, &c.OrgID, &kind, &c.Value); err != nil {
			return 0, nil, err
		}
		c.Kind = constituency.Kind(kind)
		// A claim stored under older, looser rules must not stop every
		// other claim from reaching the index: leave it out and say so.
		if v, err := NormalizeClaim(kind, c.Value); err != nil || v != c.Value {
			s.log.Warn("constituency claim left out of the index: it no longer passes validation", "claim", c.ID, "kind", kind, "value", c.Value)
			continue
		}
		claims = append(claims, c)
	}
	return version, claims, rows.Err()
}

// refresh rebuilds this instance's index now; the others follow on their
// next poll.
func (s *Service) refresh(ctx context.Context) {
	if s.index == nil {
		return
	}
	if err := s.index.Refresh(context.WithoutCancel(ctx), s.LoadClaims); err != nil {
		s.log.Error("constituency index refresh failed", "err", err)
	}
}

// RunIndex keeps the index current until ctx ends, polling the version.
func (s *Service) RunIndex(ctx context.Context, every time.Duration) {
	if s.index == nil {
		return
	}
	s.index.Run(ctx, every, s.ConstituencyVersion, s.LoadClaims, s.log)
}

// Owner is an organisation that owns a looked-up value.
type Owner struct {
	OrgID int64  `json:"organisation_id"`
	Name  string `json:"name"`
	Class string `json:"class,omitempty"`
}

// LookupResult answers who owns a value.
type LookupResult struct {
	Query   string  `json:"query"`
	Kind    string  `json:"kind,omitempty"`
	Matched string  `json:"matched,omitempty"` // the claim that matched: prefix, ASN or domain
	Owners  []Owner `json:"owners"`
	Tie     bool    `json:"tie"` // several organisations hold the matching claim
	Error   string  `json:"error,omitempty"`
}

// Lookup answers who owns each value (IP address, ASN or domain) from the
// in-memory index. Only the authority's staff may ask.
func (s *Service) Lookup(ctx context.Context, values []string) ([]LookupResult, error) {
	if !auth.From(ctx).IsAuthority() {
		return nil, forbidden()
	}
	return s.lookup(ctx, values)
}

func (s *Service) lookup(ctx context.Context, values []string) ([]LookupResult, error) {
	snap := s.index.Load()
	out := make([]LookupResult, 0, len(values))
	for _, q := range values {
		res := LookupResult{Query: q, Owners: []Owner{}}
		m, kind, err := snap.Lookup(q)
		res.Kind = string(kind)
		if err != nil {
			res.Error = err.Error()
			out = append(out, res)
			continue
		}
		if m.Found() {
			res.Matched = m.Value
			res.Tie = len(m.Orgs) > 1
			for _, id := range m.Orgs {
				o := Owner{OrgID: id}
				if err := s.db.QueryRow(ctx, `SELECT o.name, COALESCE(r.class, '') FROM organisations o
					LEFT JOIN registrations r ON r.org_id = o.id WHERE o.id = ?`, id).Scan(&o.Name, &o.Class); err != nil {
					return nil, err
				}
				res.Owners = append(res.Owners, o)
			}
		}
		out = append(out, res)
	}
	return out, nil
}

// LookupSystem answers like Lookup for the command line, without a
// principal.
func (s *Service) LookupSystem(ctx context.Context, values []string) ([]LookupResult, error) {
	return s.lookup(ctx, values)
}
