package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
)

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func timePtr(n sql.Null[time.Time]) *time.Time {
	if !n.Valid {
		return nil
	}
	t := n.V.UTC()
	return &t
}

const selectReg = `SELECT o.id, o.name, COALESCE(o.enterprise_number, ''), o.kind, r.org_id, COALESCE(r.status, ''),
	COALESCE(r.version, 0), COALESCE(r.data, '{}'), COALESCE(r.computed_class, ''), COALESCE(r.decision, '{}'),
	COALESCE(r.override_class, ''), COALESCE(r.override_justification, ''), COALESCE(r.override_by, 0), r.override_at,
	COALESCE(r.class, ''), COALESCE(r.sectors, ''), COALESCE(r.size, ''), COALESCE(r.review_note, ''),
	r.submitted_at, r.reviewed_at, r.approved_at, r.change_started_at, r.created_at, r.updated_at, o.created_at
	FROM organisations o LEFT JOIN registrations r ON r.org_id = o.id`

// regRow is a registration with whether it exists in the table yet and
// the kind of its organisation.
type regRow struct {
	*Registration
	exists  bool
	orgKind string
}

func scanReg(row interface{ Scan(...any) error }) (*regRow, error) {
	r := &Registration{}
	var (
		regID                                                 sql.Null[int64]
		data, decision, sectors                               string
		overrideClass, overrideJust                           string
		overrideBy                                            int64
		overrideAt, submitted, reviewed, approved, changeFrom sql.Null[time.Time]
		created, updated                                      sql.Null[time.Time]
		kind                                                  string
	)
	err := row.Scan(&r.OrgID, &r.Name, &r.EnterpriseNumber, &kind, &regID, &r.Status, &r.Version, &data, &r.computedClass,
		&decision, &overrideClass, &overrideJust, &overrideBy, &overrideAt, &r.Class, &sectors, &r.Size, &r.ReviewNote,
		&submitted, &reviewed, &approved, &changeFrom, &created, &updated, &r.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "err.reg.not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("registry: scan: %w", err)
	}
	if err := json.Unmarshal([]byte(data), &r.Profile); err != nil {
		return nil, fmt.Errorf("registry: registration %d data: %w", r.OrgID, err)
	}
	if decision != "" && decision != "{}" {
		var d Decision
		if err := json.Unmarshal([]byte(decision), &d); err != nil {
			return nil, fmt.Errorf("registry: registration %d decision: %w", r.OrgID, err)
		}
		r.Decision = &d
	}
	if overrideClass != "" {
		r.Override = &Override{Class: overrideClass, Justification: overrideJust, By: overrideBy}
		if overrideAt.Valid {
			r.Override.At = overrideAt.V.UTC()
		}
	}
	if r.Status == "" {
		r.Status = StatusDraft
	}
	r.Sectors = strings.Fields(sectors)
	r.SubmittedAt, r.ReviewedAt, r.ApprovedAt, r.ChangeStartedAt = timePtr(submitted), timePtr(reviewed), timePtr(approved), timePtr(changeFrom)
	r.UpdatedAt = r.CreatedAt
	if created.Valid {
		r.CreatedAt, r.UpdatedAt = created.V, updated.V
	}
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return &regRow{Registration: r, exists: regID.Valid, orgKind: kind}, nil
}

func regByOrg(ctx context.Context, q store.Querier, orgID int64) (*regRow, error) {
	return scanReg(q.QueryRow(ctx, selectReg+` WHERE o.id = ?`, orgID))
}

// saveReg inserts or updates the registration row of r.
func saveReg(ctx context.Context, tx *store.Tx, r *regRow) error {
	data, err := json.Marshal(r.Profile)
	if err != nil {
		return err
	}
	decision := []byte("{}")
	if r.Decision != nil {
		if decision, err = json.Marshal(r.Decision); err != nil {
			return err
		}
	}
	var oc, oj string
	var ob int64
	var oa *time.Time
	if o := r.Override; o != nil {
		oc, oj, ob, oa = o.Class, o.Justification, o.By, &o.At
	}
	rule := ""
	if r.Decision != nil {
		rule = r.Decision.Rule
	}
	args := []any{string(r.Status), r.Version, string(data), r.computedClass, rule, string(decision), oc, oj, nullID(ob),
		nullTime(oa), r.Class, " " + strings.Join(r.Sectors, " ") + " ", r.Size, r.search, r.ReviewNote,
		nullTime(r.SubmittedAt), nullTime(r.ReviewedAt), nullTime(r.ApprovedAt), nullTime(r.ChangeStartedAt), r.UpdatedAt}
	if r.exists {
		_, err = tx.Exec(ctx, `UPDATE registrations SET status = ?, version = ?, data = ?, computed_class = ?, computed_rule = ?,
			decision = ?, override_class = ?, override_justification = ?, override_by = ?, override_at = ?, class = ?, sectors = ?,
			size = ?, search = ?, review_note = ?, submitted_at = ?, reviewed_at = ?, approved_at = ?, change_started_at = ?,
			updated_at = ? WHERE org_id = ?`, append(args, r.OrgID)...)
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO registrations (status, version, data, computed_class, computed_rule, decision,
		override_class, override_justification, override_by, override_at, class, sectors, size, search, review_note,
		submitted_at, reviewed_at, approved_at, change_started_at, updated_at, org_id, created_at)
		VALUES (`+store.Placeholders(22)+`)`, append(args, r.OrgID, r.CreatedAt)...)
	if err == nil {
		r.exists = true
	}
	return err
}

func insertVersion(ctx context.Context, tx *store.Tx, r *Registration, event, note string, actor int64, at time.Time) error {
	data, err := json.Marshal(r.Profile)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO registration_versions (org_id, version, event, status, class, data, note, actor_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.OrgID, r.Version, event, string(r.Status), r.Class, string(data), note, nullID(actor), at)
	return err
}

func listVersions(ctx context.Context, q store.Querier, orgID int64) ([]Version, error) {
	rows, err := q.Query(ctx, `SELECT v.version, v.event, v.status, v.class, v.data, v.note, COALESCE(v.actor_id, 0),
		COALESCE(u.name, ''), v.created_at FROM registration_versions v LEFT JOIN users u ON u.id = v.actor_id
		WHERE v.org_id = ? ORDER BY v.version DESC`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Version
	for rows.Next() {
		var v Version
		var data string
		if err := rows.Scan(&v.Version, &v.Event, &v.Status, &v.Class, &data, &v.Note, &v.ActorID, &v.ActorName, &v.CreatedAt); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(data), &v.Profile); err != nil {
			return nil, fmt.Errorf("registry: version %d: %w", v.Version, err)
		}
		v.CreatedAt = v.CreatedAt.UTC()
		out = append(out, v)
	}
	return out, rows.Err()
}

// Filter selects registrations in the registry.
type Filter struct {
	Sector string // sector code, like energy
	Class  string
	Status string
	Size   string
	Text   string // in the name, enterprise number, contacts, domains
	Offset int
	Limit  int // 0: no limit (exports)
}

func (f Filter) where() (string, []any) {
	conds := []string{"o.kind = 'entity'"}
	var args []any
	if f.Sector != "" {
		conds = append(conds, `r.sectors LIKE ? ESCAPE '\'`)
		args = append(args, "% "+store.EscapeLike(f.Sector)+" %")
	}
	if f.Class != "" {
		if f.Class == "unclassified" {
			conds = append(conds, "COALESCE(r.class, '') = ''")
		} else {
			conds = append(conds, "r.class = ?")
			args = append(args, f.Class)
		}
	}
	if f.Status != "" {
		if f.Status == string(StatusDraft) {
			conds = append(conds, "COALESCE(r.status, 'draft') = 'draft'")
		} else {
			conds = append(conds, "r.status = ?")
			args = append(args, f.Status)
		}
	}
	if f.Size != "" {
		conds = append(conds, "r.size = ?")
		args = append(args, f.Size)
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		like := "%" + store.EscapeLike(strings.ToLower(t)) + "%"
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, t)
		cond := `(lower(o.name) LIKE ? ESCAPE '\' OR r.search LIKE ? ESCAPE '\'`
		args = append(args, like, like)
		if len(digits) >= 4 {
			cond += ` OR o.enterprise_number LIKE ? ESCAPE '\'`
			args = append(args, "%"+digits+"%")
		}
		conds = append(conds, cond+")")
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

func listRegs(ctx context.Context, q store.Querier, f Filter) ([]*Registration, int, error) {
	where, args := f.where()
	var total int
	if err := q.QueryRow(ctx, `SELECT count(*) FROM organisations o LEFT JOIN registrations r ON r.org_id = o.id`+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	query := selectReg + where + ` ORDER BY lower(o.name), o.id`
	if f.Limit > 0 {
		query += ` LIMIT ? OFFSET ?`
		args = append(args, f.Limit, f.Offset)
	}
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []*Registration
	for rows.Next() {
		r, err := scanReg(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, r.Registration)
	}
	return out, total, rows.Err()
}
