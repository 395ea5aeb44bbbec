package cases

import (
	"context"
	"strings"
	"unicode"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
)

// Filter selects cases for the list.
type Filter struct {
	Text       string // full-text search in the reference, title and description
	Status     string // one status, "active" (new, open, waiting) or "" for all
	Severity   int
	AssigneeID int64
	OrgID      int64
	Template   string
	Exercise   *bool // nil: both
	Offset     int
	Limit      int
}

// List returns one page of cases and whether more follow: most recently
// changed first, or, for a search or an organisation's cases, newest case
// first (the order their indexes give without sorting every match). It
// never counts every match: at a million cases a count would cost more
// than the page; the pager goes by "next".
func (s *Service) List(ctx context.Context, f Filter) ([]*Case, bool, error) {
	if !CanRead(auth.From(ctx)) {
		return nil, false, forbidden()
	}
	var where []string
	var args []any
	from := caseFrom
	order := ` ORDER BY c.updated_at DESC, c.id DESC`
	switch {
	case f.Status == "active":
		where = append(where, "c.status IN ('new', 'open', 'waiting')")
	case f.Status != "":
		if !containsString(Statuses, f.Status) {
			return nil, false, errs.Field("status", "err.case.status", nil)
		}
		where, args = append(where, "c.status = ?"), append(args, f.Status)
	}
	if f.Severity != 0 {
		where, args = append(where, "c.severity = ?"), append(args, f.Severity)
	}
	if f.AssigneeID != 0 {
		where, args = append(where, "c.assignee_id = ?"), append(args, f.AssigneeID)
	}
	if f.OrgID != 0 {
		// Walk the organisation's cases newest first on case_orgs_org.
		from = ` FROM case_orgs co JOIN cases c ON c.id = co.case_id LEFT JOIN users u ON u.id = c.assignee_id
			LEFT JOIN cases m ON m.id = c.merged_into`
		where, args = append(where, "co.org_id = ?"), append(args, f.OrgID)
		order = ` ORDER BY co.case_id DESC`
	}
	if f.Template != "" {
		where, args = append(where, "c.template = ?"), append(args, f.Template)
	}
	if f.Exercise != nil {
		where, args = append(where, "c.exercise = ?"), append(args, *f.Exercise)
	}
	if q := ftsQuery(s.db.Dialect(), f.Text); q != "" {
		if s.db.Dialect() == store.Postgres {
			order = ` ORDER BY c.id DESC`
			rare, err := s.fewMatches(ctx, q)
			if err != nil {
				return nil, false, err
			}
			if rare {
				// Few matches: collect their ids through the GIN index, then
				// read those cases newest first. (Walking the cases newest
				// first and testing each, which suits a common word, would
				// read most of the table to find a rare one.)
				where, args = append(where, "c.id = ANY(ARRAY(SELECT id FROM cases WHERE fts @@ to_tsquery('simple', ?)))"), append(args, q)
			} else {
				where, args = append(where, "c.fts @@ to_tsquery('simple', ?)"), append(args, q)
			}
		} else if f.OrgID == 0 {
			// The full-text index gives its matches in rowid order: newest
			// case first without sorting them all.
			from = ` FROM cases_fts JOIN cases c ON c.id = cases_fts.rowid LEFT JOIN users u ON u.id = c.assignee_id
				LEFT JOIN cases m ON m.id = c.merged_into`
			where, args = append(where, "cases_fts MATCH ?"), append(args, q)
			order = ` ORDER BY cases_fts.rowid DESC`
		} else {
			where, args = append(where, "c.id IN (SELECT rowid FROM cases_fts WHERE cases_fts MATCH ?)"), append(args, q)
		}
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	rows, err := s.db.Query(ctx, `SELECT `+caseCols+from+cond+order+` LIMIT ? OFFSET ?`,
		append(args, f.Limit+1, f.Offset)...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	out := []*Case{}
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, false, err
		}
		out = append(out, c)
	}
	more := len(out) > f.Limit
	if more {
		out = out[:f.Limit]
	}
	return out, more, rows.Err()
}

// rareLimit is the number of matches under which a PostgreSQL search
// collects its matches through the full-text index rather than walking
// the cases in order.
const rareLimit = 500

// fewMatches reports whether a PostgreSQL full-text query matches fewer
// than rareLimit cases: a probe that stops at rareLimit rows, cheap both
// for a rare word (the GIN index) and for a common one (the first rows
// match). PostgreSQL cannot estimate a prefix query's matches, so its
// planner alone picks the wrong plan for rare words.
func (s *Service) fewMatches(ctx context.Context, q string) (bool, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM cases WHERE fts @@ to_tsquery('simple', ?) LIMIT ?) x`, q, rareLimit).Scan(&n)
	return n < rareLimit, err
}

func containsString(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// ftsQuery turns what a person typed into a full-text query that every
// word must match, the last as a prefix (search as you type): "w1" "w2"*
// for SQLite FTS5, w1 & w2:* for PostgreSQL. Only letters and digits of
// each word are kept, so nothing typed is query syntax.
func ftsQuery(d store.Dialect, text string) string {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) == 0 {
		return ""
	}
	if len(words) > 8 {
		words = words[:8]
	}
	if d == store.Postgres {
		return strings.Join(words, " & ") + ":*"
	}
	for i, w := range words {
		words[i] = `"` + w + `"`
	}
	return strings.Join(words, " ") + "*"
}
