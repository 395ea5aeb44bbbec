package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/belfry-cert/belfry/internal/audit"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/identity"
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/store"
)

// Formats of bulk import and export (docs/registry-import.md).
const (
	FormatCSV  = "csv"
	FormatJSON = "json"
)

// Limits of one import file.
const (
	MaxImportRows  = 50000
	MaxImportBytes = 20 << 20
)

// importLockKey serialises imports across PostgreSQL instances.
const importLockKey = 0x7265676970 // "regip"

// ImportReport is the outcome of an import or of a dry run. Created and
// Updated count the organisations that are (or, in a dry run, would be)
// created or changed; Unchanged those whose approved registration already
// says what the file says. With errors nothing is written.
type ImportReport struct {
	DryRun    bool          `json:"dry_run"`
	Format    string        `json:"format"`
	Rows      int           `json:"rows"`
	Created   int           `json:"created"`
	Updated   int           `json:"updated"`
	Unchanged int           `json:"unchanged"`
	Errors    []ImportError `json:"errors"`
}

// ImportError is one fault of a file. Row is the 1-based data row (the
// CSV record after the header, or the element of "registrations"); row 0
// is the file as a whole. Field is a CSV column or a JSON path inside the
// element. Code is a message key without its "err." prefix, as in problem
// details; Message is the localised text.
type ImportError struct {
	Row              int    `json:"row"`
	EnterpriseNumber string `json:"enterprise_number,omitempty"`
	Field            string `json:"field,omitempty"`
	Code             string `json:"code"`
	Message          string `json:"message"`

	args map[string]any
}

// ---- import ----

// Import reads a registry file (CSV or JSON, docs/registry-import.md) and
// loads it as approved registrations, keyed by enterprise number: a known
// entity is updated, an unknown number creates the organisation. Every row
// is checked before anything is written; with any fault nothing is written
// and the report lists every fault, with an errs.Invalid error. A dry run
// checks and reports what would change without writing. Only the
// authority's reviewers may import.
func (s *Service) Import(ctx context.Context, r io.Reader, format string, dryRun bool, locale string) (*ImportReport, error) {
	p := auth.From(ctx)
	if !canReview(p) {
		return nil, forbidden()
	}
	rep := &ImportReport{DryRun: dryRun, Format: format, Errors: []ImportError{}}
	var changes []*change
	var err error
	in := &capReader{r: r, left: MaxImportBytes}
	switch format {
	case FormatCSV:
		changes, err = readCSV(in, rep)
	case FormatJSON:
		changes, err = readJSON(in, rep)
	default:
		return nil, errs.Field("format", "err.import.format", nil)
	}
	if err != nil {
		return nil, err
	}
	rep.Rows = len(changes)
	if len(changes) == 0 && len(rep.Errors) == 0 {
		rep.fileError(0, "", "err.import.no_rows", nil)
	}
	markDuplicates(changes)
	now := s.tick()
	if dryRun {
		if _, err := s.plan(ctx, s.db, changes, rep, p, now); err != nil {
			return nil, err
		}
		return s.report(rep, changes, locale)
	}
	var items []*planItem
	claimed := false
	errRollback := errors.New("rollback")
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := tx.Lock(ctx, importLockKey); err != nil {
			return err
		}
		var err error
		if items, err = s.plan(ctx, tx, changes, rep, p, now); err != nil {
			return err
		}
		if hasErrors(rep, changes) {
			return errRollback
		}
		claimed, err = s.apply(ctx, tx, items, p, now)
		return err
	})
	if err != nil && !errors.Is(err, errRollback) {
		return nil, err
	}
	if claimed {
		s.refresh(ctx)
	}
	return s.report(rep, changes, locale)
}

func hasErrors(rep *ImportReport, changes []*change) bool {
	if len(rep.Errors) > 0 {
		return true
	}
	for _, c := range changes {
		if len(c.errs) > 0 {
			return true
		}
	}
	return false
}

// markDuplicates reports an enterprise number that an earlier row has.
func markDuplicates(changes []*change) {
	first := map[string]int{}
	for _, c := range changes {
		if c.number == "" {
			continue
		}
		if row, ok := first[c.number]; ok {
			c.fail("enterprise_number", "err.import.duplicate_number", map[string]any{"row": row})
		} else {
			first[c.number] = c.row
		}
	}
}

// report gathers the faults in row order and words them in locale.
func (s *Service) report(rep *ImportReport, changes []*change, locale string) (*ImportReport, error) {
	for _, c := range changes {
		number := c.number
		if number == "" {
			number = c.raw
		}
		for _, e := range c.errs {
			e.EnterpriseNumber = number
			rep.Errors = append(rep.Errors, e)
		}
	}
	slices.SortStableFunc(rep.Errors, func(a, b ImportError) int { return a.Row - b.Row })
	for i := range rep.Errors {
		e := &rep.Errors[i]
		e.Message = e.Code
		if s.cat != nil {
			e.Message = s.cat.T(locale, e.Code, e.args)
		}
		e.Code = strings.TrimPrefix(e.Code, "err.")
	}
	if len(rep.Errors) == 0 {
		return rep, nil
	}
	if !rep.DryRun {
		rep.Created, rep.Updated, rep.Unchanged = 0, 0, 0
	}
	return rep, &errs.Error{Kind: errs.Invalid, Code: "err.import.invalid", Args: map[string]any{"count": len(rep.Errors)}}
}

// planItem is what importing one row does.
type planItem struct {
	c        *change
	reg      *regRow       // the registration as it will be
	before   *Registration // the registration as it is; nil for a new organisation
	rename   bool
	claims   []claimOp
	unchange bool
}

// claimOp approves an existing claim (id) or adds an approved one.
type claimOp struct {
	id int64
	claimValue
}

// orgIndex is what the import needs to know of every organisation.
type orgIndex struct {
	byNumber map[string]orgRef
	names    map[string]int64 // lower-case name -> organisation
	inFile   map[string]int   // lower-case name -> first row naming it
}

type orgRef struct {
	id         int64
	name, kind string
}

func loadOrgs(ctx context.Context, q store.Querier) (*orgIndex, error) {
	rows, err := q.Query(ctx, `SELECT id, name, lower(name), kind, COALESCE(enterprise_number, '') FROM organisations`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ix := &orgIndex{byNumber: map[string]orgRef{}, names: map[string]int64{}, inFile: map[string]int{}}
	for rows.Next() {
		var o orgRef
		var lower, number string
		if err := rows.Scan(&o.id, &o.name, &lower, &o.kind, &number); err != nil {
			return nil, err
		}
		if number != "" {
			ix.byNumber[number] = o
		}
		// Both foldings: the database's decides its unique index.
		ix.names[lower], ix.names[strings.ToLower(o.name)] = o.id, o.id
	}
	return ix, rows.Err()
}

// plan works out every row against the database without writing, and
// records each row's faults. The counts in rep say what would change.
func (s *Service) plan(ctx context.Context, q store.Querier, changes []*change, rep *ImportReport, p *auth.Principal, now time.Time) ([]*planItem, error) {
	ix, err := loadOrgs(ctx, q)
	if err != nil {
		return nil, err
	}
	items := make([]*planItem, 0, len(changes))
	for _, c := range changes {
		if c.unread {
			continue
		}
		it, err := s.planRow(ctx, q, ix, c, p, now)
		if err != nil {
			return nil, err
		}
		if len(c.errs) > 0 {
			continue
		}
		items = append(items, it)
		switch {
		case it.unchange:
			rep.Unchanged++
		case it.before == nil:
			rep.Created++
		default:
			rep.Updated++
		}
	}
	return items, nil
}

func (s *Service) planRow(ctx context.Context, q store.Querier, ix *orgIndex, c *change, p *auth.Principal, now time.Time) (*planItem, error) {
	readFaults := map[string]bool{}
	for _, e := range c.errs {
		readFaults[e.Field] = true
	}
	fail := func(field, code string, args map[string]any) {
		if !readFaults[field] {
			c.fail(field, code, args)
		}
	}
	it := &planItem{c: c}
	base := &regRow{Registration: &Registration{EnterpriseNumber: c.number, Status: StatusDraft}, orgKind: "entity"}
	if ref, ok := ix.byNumber[c.number]; ok && c.number != "" {
		if ref.kind != "entity" {
			fail("enterprise_number", "err.import.not_entity", map[string]any{"name": ref.name, "kind": ref.kind})
		} else {
			r, err := regByOrg(ctx, q, ref.id)
			if err != nil {
				return nil, err
			}
			base, it.before = r, r.Registration
		}
	}
	cur := *base.Registration
	cur.Profile = cloneProfile(base.Profile)
	reg := &regRow{Registration: &cur, exists: base.exists, orgKind: "entity"}
	it.reg = reg

	planName(ix, c, it, fail)
	for _, e := range c.edits {
		e(&reg.Profile)
	}
	var v errs.Validator
	reg.Profile.normalise(&v)
	if e, ok := errs.As(v.Err()); ok {
		for _, f := range e.Fields {
			fail(c.profileField(&reg.Profile, f.Field), f.Code, f.Args)
		}
	}
	checkCountries(&reg.Profile, func(path, value string) {
		fail(c.profileField(&reg.Profile, path), "err.import.country_unknown", map[string]any{"value": value})
	})
	syncFacts(&reg.Profile)
	planOverride(c, base, reg, p, now, fail)
	s.classify(reg.Registration)
	if reg.Decision == nil {
		_, err := nis2.Classify(reg.Profile.Facts, s.cfg.Options)
		e, ok := errs.As(err)
		if !ok || e.Kind != errs.Invalid {
			return nil, fmt.Errorf("registry: classify row %d: %w", c.row, err)
		}
		for _, f := range e.Fields {
			fail(c.profileField(&reg.Profile, "facts."+f.Field), f.Code, f.Args)
		}
	}
	if err := planClaims(ctx, q, it); err != nil {
		return nil, err
	}
	it.unchange = it.before != nil && base.exists && base.Status == StatusApproved && !it.rename && len(it.claims) == 0 &&
		reg.computedClass == base.computedClass && sameOverride(base.Override, reg.Override) && sameProfile(base.Profile, reg.Profile)
	return it, nil
}

// planName checks the legal name: required, unique in the file and among
// the other organisations (checked here: a unique violation would abort a
// PostgreSQL transaction).
func planName(ix *orgIndex, c *change, it *planItem, fail func(string, string, map[string]any)) {
	reg := it.reg
	if c.name != nil {
		reg.Name = strings.TrimSpace(*c.name)
	}
	switch {
	case reg.Name == "":
		fail("legal_name", "err.org_name.required", nil)
		return
	case utf8.RuneCountInString(reg.Name) > 200:
		fail("legal_name", "err.too_long", map[string]any{"max": 200})
		return
	}
	key := strings.ToLower(reg.Name)
	if row, dup := ix.inFile[key]; dup {
		fail("legal_name", "err.import.name_duplicate", map[string]any{"row": row})
		return
	}
	ix.inFile[key] = c.row
	if it.before != nil && reg.Name == it.before.Name {
		return
	}
	it.rename = it.before != nil
	if id, taken := ix.names[key]; taken && (it.before == nil || id != it.before.OrgID) {
		fail("legal_name", "err.import.name_taken", map[string]any{"name": reg.Name, "id": id})
	}
}

// planOverride works out the override: a part the file leaves out keeps
// its value; class and justification go together.
func planOverride(c *change, base, reg *regRow, p *auth.Principal, now time.Time, fail func(string, string, map[string]any)) {
	var cls, just string
	if o := base.Override; o != nil {
		cls, just = o.Class, o.Justification
	}
	if c.ovClass != nil {
		cls = strings.TrimSpace(*c.ovClass)
	}
	if c.ovJust != nil {
		just = strings.TrimSpace(*c.ovJust)
	}
	fc, fj := c.field("override_class", "override.class"), c.field("override_justification", "override.justification")
	switch o := base.Override; {
	case cls == "" && just == "":
		reg.Override = nil
	case cls == "":
		fail(fc, "err.import.override_class_required", nil)
	case just == "":
		fail(fj, "err.import.override_justification_required", nil)
	case !validClass(cls):
		fail(fc, "err.import.override_class_invalid", map[string]any{"value": cls})
	case utf8.RuneCountInString(just) > 4000:
		fail(fj, "err.too_long", map[string]any{"max": 4000})
	case o != nil && o.Class == cls && o.Justification == just:
		reg.Override = o
	default:
		reg.Override = &Override{Class: cls, Justification: just, By: p.UserID, At: now}
	}
}

// planClaims finds which of the row's claims the organisation lacks or
// holds without approval.
func planClaims(ctx context.Context, q store.Querier, it *planItem) error {
	if len(it.c.claims) == 0 {
		return nil
	}
	have := map[claimValue]claimOp{}
	if it.before != nil {
		rows, err := q.Query(ctx, `SELECT id, kind, value, status FROM constituency_claims WHERE org_id = ?`, it.before.OrgID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var op claimOp
			var status string
			if err := rows.Scan(&op.id, &op.kind, &op.value, &status); err != nil {
				return err
			}
			if status == ClaimApproved {
				op.id = -1
			}
			have[op.claimValue] = op
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	for _, cv := range it.c.claims {
		op, ok := have[cv]
		switch {
		case !ok:
			it.claims = append(it.claims, claimOp{claimValue: cv})
		case op.id > 0:
			it.claims = append(it.claims, op)
		}
	}
	return nil
}

func sameOverride(a, b *Override) bool {
	return (a == nil) == (b == nil) && (a == nil || (a.Class == b.Class && a.Justification == b.Justification))
}

func sameProfile(a, b Profile) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// profileField names a profile path (like "facts.group.staff" or
// "contacts[2].email") in the file's terms.
func (c *change) profileField(p *Profile, path string) string {
	if c.json {
		return "profile." + path
	}
	if f, ok := strings.CutPrefix(path, "facts."); ok {
		f, _, _ = strings.Cut(f, "[")
		return strings.ReplaceAll(f, ".", "_")
	}
	if f, ok := strings.CutPrefix(path, "address."); ok {
		return f
	}
	if rest, ok := strings.CutPrefix(path, "contacts["); ok {
		idx, part, _ := strings.Cut(rest, "].")
		i, err := strconv.Atoi(idx)
		if err == nil && i < len(p.Contacts) && p.Contacts[i].Role.valid() && (part == "name" || part == "email" || part == "phone") {
			return string(p.Contacts[i].Role) + "_" + part
		}
	}
	return path
}

// checkCountries reports the well-formed country codes of p that ISO 3166
// does not assign (malformed ones are reported by the validation).
func checkCountries(p *Profile, report func(path, value string)) {
	check := func(path, v string) {
		if len(v) == 2 && v[0] >= 'A' && v[0] <= 'Z' && v[1] >= 'A' && v[1] <= 'Z' && !isoCountry(v) {
			report(path, v)
		}
	}
	check("address.country", p.Address.Country)
	check("main_establishment.country", p.MainEstablishment.Country)
	check("facts.establishment", p.Facts.Establishment)
	check("facts.main_establishment", p.Facts.MainEstablishment)
	check("facts.eu_representative", p.Facts.EURepresentative)
	for i, c := range p.Facts.ServiceCountries {
		check(itemField("facts.service_countries", i), c)
	}
}

// isoCodes are the ISO 3166-1 alpha-2 codes officially assigned.
const isoCodes = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
	"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS " +
	"MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS " +
	"RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW " +
	"TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"

func isoCountry(c string) bool {
	i := strings.Index(isoCodes, c)
	return len(c) == 2 && i >= 0 && i%3 == 0
}

// apply writes the planned rows in tx and reports whether approved claims
// changed.
func (s *Service) apply(ctx context.Context, tx *store.Tx, items []*planItem, p *auth.Principal, now time.Time) (bool, error) {
	claimed := false
	for _, it := range items {
		if it.unchange {
			continue
		}
		if err := s.applyRow(ctx, tx, it, p, now); err != nil {
			return false, fmt.Errorf("registry: import row %d: %w", it.c.row, err)
		}
		claimed = claimed || len(it.claims) > 0
	}
	if claimed {
		return true, bumpVersion(ctx, tx)
	}
	return false, nil
}

func (s *Service) applyRow(ctx context.Context, tx *store.Tx, it *planItem, p *auth.Principal, now time.Time) error {
	r := it.reg
	var before any
	switch {
	case it.before == nil:
		kind, country := "entity", r.Profile.Address.Country
		if country == "" {
			country = "BE"
		}
		o, err := identity.CreateOrganisationTx(ctx, tx, identity.OrgInput{Name: &r.Name, Kind: &kind,
			EnterpriseNumber: &r.EnterpriseNumber, Country: &country}, now)
		if err != nil {
			return err
		}
		r.OrgID = o.ID
	case it.rename:
		if _, err := tx.Exec(ctx, `UPDATE organisations SET name = ?, updated_at = ? WHERE id = ?`, r.Name, now, r.OrgID); err != nil {
			return err
		}
		if err := audit.Append(ctx, tx, now, audit.Change{Action: "organisation.update", ObjectType: "organisation",
			ObjectID: itoa(r.OrgID), OrgID: r.OrgID, Before: map[string]any{"name": it.before.Name}, After: map[string]any{"name": r.Name}}); err != nil {
			return err
		}
	}
	if it.before != nil && r.exists {
		b, err := auditView(it.before)
		if err != nil {
			return err
		}
		before = b
	}
	if !r.exists {
		r.CreatedAt = now
	}
	r.Status, r.ApprovedAt, r.ChangeStartedAt, r.UpdatedAt, r.Version = StatusApproved, &now, nil, now, r.Version+1
	if err := saveReg(ctx, tx, r); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE registrations SET reminded_at = NULL WHERE org_id = ?`, r.OrgID); err != nil {
		return err
	}
	if err := insertVersion(ctx, tx, r.Registration, "imported", "", p.UserID, now); err != nil {
		return err
	}
	claims, err := applyClaims(ctx, tx, r.OrgID, it.claims, p, now)
	if err != nil {
		return err
	}
	after := auditFields(r.Registration)
	if len(claims) > 0 {
		after["claims"] = claims
	}
	return audit.Append(ctx, tx, now, audit.Change{Action: "registration.import", ObjectType: "registration",
		ObjectID: itoa(r.OrgID), OrgID: r.OrgID, Before: before, After: after})
}

// applyClaims adds or approves the organisation's claims and returns them
// for the audit record.
func applyClaims(ctx context.Context, tx *store.Tx, org int64, ops []claimOp, p *auth.Principal, now time.Time) ([]Claim, error) {
	var out []Claim
	for _, op := range ops {
		id := op.id
		if id == 0 {
			if err := tx.QueryRow(ctx, `INSERT INTO constituency_claims (org_id, kind, value, status, note, created_by, created_at,
				decided_by, decided_at) VALUES (?, ?, ?, ?, '', ?, ?, ?, ?) RETURNING id`, org, op.kind, op.value, ClaimApproved,
				nullID(p.UserID), now, nullID(p.UserID), now).Scan(&id); err != nil {
				return nil, err
			}
		} else if _, err := tx.Exec(ctx, `UPDATE constituency_claims SET status = ?, decided_by = ?, decided_at = ? WHERE id = ?`,
			ClaimApproved, nullID(p.UserID), now, id); err != nil {
			return nil, err
		}
		out = append(out, Claim{ID: id, OrgID: org, Kind: op.kind, Value: op.value, Status: ClaimApproved, CreatedAt: now, DecidedAt: &now})
	}
	return out, nil
}
