package audit

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
)

// Filter selects records for browsing. Zero fields do not filter.
type Filter struct {
	Action     string    // prefix, e.g. "user." or "user.create"
	Actor      string    // substring of the actor label (e-mail)
	ObjectType string    // exact
	ObjectID   string    // exact
	OrgID      int64     // organisation the object belongs to
	From, To   time.Time // [From, To)
	Offset     int
	Limit      int
}

// Page is one page of records, newest first, and the total that matched.
type Page struct {
	Records []Record `json:"records"`
	Total   int      `json:"total"`
}

// List returns the records that f selects. Only authority administrators and
// auditors may read the log: it describes every organisation.
func List(ctx context.Context, db *store.DB, f Filter) (Page, error) {
	if !auth.From(ctx).CanReadAll() {
		return Page{}, errs.E(errs.Forbidden, "err.forbidden")
	}
	var where []string
	var args []any
	if f.Action != "" {
		where, args = append(where, `lower(action) LIKE ? ESCAPE '\'`), append(args, store.EscapeLike(strings.ToLower(f.Action))+"%")
	}
	if f.Actor != "" {
		where, args = append(where, `lower(actor_label) LIKE ? ESCAPE '\'`), append(args, "%"+strings.ToLower(store.EscapeLike(f.Actor))+"%")
	}
	if f.ObjectType != "" {
		where, args = append(where, "object_type = ?"), append(args, f.ObjectType)
	}
	if f.ObjectID != "" {
		where, args = append(where, "object_id = ?"), append(args, f.ObjectID)
	}
	if f.OrgID != 0 {
		where, args = append(where, "org_id = ?"), append(args, f.OrgID)
	}
	if !f.From.IsZero() {
		where, args = append(where, "at >= ?"), append(args, f.From.UTC())
	}
	if !f.To.IsZero() {
		where, args = append(where, "at < ?"), append(args, f.To.UTC())
	}
	q := selectRecord
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	f.Offset = max(f.Offset, 0)
	var p Page
	cq := "SELECT COUNT(*) FROM audit_log"
	if len(where) > 0 {
		cq += " WHERE " + strings.Join(where, " AND ")
	}
	if err := db.QueryRow(ctx, cq, args...).Scan(&p.Total); err != nil {
		return p, fmt.Errorf("audit: count: %w", err)
	}
	rows, err := db.Query(ctx, q+" ORDER BY seq DESC LIMIT ? OFFSET ?", append(args, f.Limit, f.Offset)...)
	if err != nil {
		return p, fmt.Errorf("audit: list: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return p, err
		}
		p.Records = append(p.Records, r)
	}
	return p, rows.Err()
}
