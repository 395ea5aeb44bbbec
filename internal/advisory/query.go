package advisory

// Reading advisories: the lists (the public one of published versions,
// filtered by what the reader may see under TLP, and the staff's one of
// working copies) and the published versions with their exact bytes.

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
)

// Severities are the CVSS severity words the list filters on.
var Severities = []string{"critical", "high", "medium", "low", "none"}

// ListFilter selects advisories. Manage lists working copies (the staff
// only) with State; otherwise only published advisories the reader may
// see are listed, newest publication first.
type ListFilter struct {
	Manage   bool
	State    string // draft, review, scheduled, published (Manage only)
	Text     string // in the title, tracking id, aliases, CVEs, vendors and products
	Vendor   string
	Product  string
	CVE      string
	Severity string
	TLP      string
	Offset   int
	Limit    int
}

// readable is the SQL condition (on alias a) of the published advisories
// p may read, with its arguments (CanRead in SQL).
func readable(p *auth.Principal) (string, []any) {
	switch {
	case p.IsAuthority():
		return "1=1", nil
	case p == nil:
		return "a.pub_tlp = 'WHITE'", nil
	}
	return `(a.pub_tlp IN ('WHITE', 'GREEN')
		OR a.pub_tlp = 'AMBER' AND EXISTS (SELECT 1 FROM advisory_recipients r WHERE r.advisory_id = a.id AND r.org_id = ?)
		OR a.pub_tlp = 'RED' AND EXISTS (SELECT 1 FROM advisory_recipients r WHERE r.advisory_id = a.id AND r.user_id = ?))`,
		[]any{p.OrgID, p.UserID}
}

// List returns one page of advisories and the total that matched.
func (s *Service) List(ctx context.Context, f ListFilter) ([]*Advisory, int, error) {
	p := auth.From(ctx)
	var where []string
	var args []any
	if f.Manage {
		if !CanManage(p) {
			return nil, 0, forbidden()
		}
		if f.State != "" {
			if !slices.Contains([]string{StateDraft, StateReview, StateScheduled, StatePublished}, f.State) {
				return nil, 0, errs.Field("state", "err.adv.state", nil)
			}
			where, args = append(where, "a.state = ?"), append(args, f.State)
		}
	} else {
		cond, cargs := readable(p)
		where, args = append(where, "a.published_version > 0", cond), append(args, cargs...)
	}
	if t := strings.ToLower(strings.TrimSpace(f.Text)); t != "" {
		for _, w := range strings.Fields(t) {
			like := "%" + store.EscapeLike(w) + "%"
			if f.Manage {
				where, args = append(where, `(lower(a.title) LIKE ? ESCAPE '\' OR lower(a.tracking_id) LIKE ? ESCAPE '\' OR a.pub_search LIKE ? ESCAPE '\')`),
					append(args, like, like, like)
			} else {
				where, args = append(where, `a.pub_search LIKE ? ESCAPE '\'`), append(args, like)
			}
		}
	}
	if f.Vendor != "" {
		where, args = append(where, `EXISTS (SELECT 1 FROM advisory_products ap WHERE ap.advisory_id = a.id AND lower(ap.vendor) = lower(?))`), append(args, f.Vendor)
	}
	if f.Product != "" {
		where, args = append(where, `EXISTS (SELECT 1 FROM advisory_products ap WHERE ap.advisory_id = a.id AND lower(ap.product) = lower(?))`), append(args, f.Product)
	}
	if f.CVE != "" {
		where, args = append(where, `EXISTS (SELECT 1 FROM advisory_cves ac WHERE ac.advisory_id = a.id AND ac.cve = ?)`), append(args, strings.ToUpper(strings.TrimSpace(f.CVE)))
	}
	if f.Severity != "" {
		if !slices.Contains(Severities, f.Severity) {
			return nil, 0, errs.Field("severity", "err.adv.severity", nil)
		}
		where, args = append(where, "a.pub_severity = ?"), append(args, f.Severity)
	}
	if f.TLP != "" {
		if !slices.Contains(TLPs, f.TLP) {
			return nil, 0, errs.Field("tlp", "err.adv.tlp", nil)
		}
		col := "a.pub_tlp"
		if f.Manage {
			col = "a.tlp"
		}
		where, args = append(where, col+" = ?"), append(args, f.TLP)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM advisories a`+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	order := " ORDER BY a.published_at DESC, a.id DESC"
	if f.Manage {
		order = " ORDER BY a.updated_at DESC, a.id DESC"
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	rows, err := s.db.Query(ctx, `SELECT `+advisoryCols+advisoryFrom+cond+order+` LIMIT ? OFFSET ?`, append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []*Advisory{}
	for rows.Next() {
		a, err := scanAdvisory(rows)
		if err != nil {
			return nil, 0, err
		}
		if !f.Manage {
			a.Document = nil
		}
		out = append(out, a)
	}
	return out, total, rows.Err()
}

// Version is a published version of an advisory.
type Version struct {
	AdvisoryID         int64     `json:"-"`
	TrackingID         string    `json:"tracking_id"`
	Version            int       `json:"version"`
	Status             string    `json:"status"`
	TLP                string    `json:"tlp"`
	FileName           string    `json:"file_name"`
	Year               int       `json:"year"`
	InitialReleaseDate string    `json:"initial_release_date"`
	CurrentReleaseDate string    `json:"current_release_date"`
	SHA256             string    `json:"sha256"`
	SHA512             string    `json:"sha512"`
	Signature          string    `json:"-"`
	KeyFingerprint     string    `json:"key_fingerprint"`
	PublishedAt        time.Time `json:"published_at"`
	Size               int       `json:"size"`
	Title              string    `json:"title"`
	// Content is the exact published bytes (loaded on request).
	Content []byte `json:"-"`
	// Latest is true for the newest published version.
	Latest bool `json:"latest"`
}

const versionCols = `v.advisory_id, a.tracking_id, v.version, v.tracking_status, v.tlp, v.file_name, v.folder_year,
	v.initial_release_date, v.current_release_date, v.sha256, v.sha512, v.signature, v.key_fingerprint, v.published_at,
	v.version = a.published_version, a.pub_title`

// scanVersion scans a version; with content the last column is the
// bytes, else their length.
func scanVersion(row interface{ Scan(...any) error }, content bool) (*Version, error) {
	var v Version
	var size int
	dest := []any{&v.AdvisoryID, &v.TrackingID, &v.Version, &v.Status, &v.TLP, &v.FileName, &v.Year, &v.InitialReleaseDate,
		&v.CurrentReleaseDate, &v.SHA256, &v.SHA512, &v.Signature, &v.KeyFingerprint, &v.PublishedAt, &v.Latest, &v.Title}
	if content {
		dest = append(dest, &v.Content)
	} else {
		dest = append(dest, &size)
	}
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	v.PublishedAt = v.PublishedAt.UTC()
	v.Size = size
	if content {
		v.Size = len(v.Content)
	}
	return &v, nil
}

// recipients returns the recipient organisations and people of an
// advisory.
func (s *Service) recipients(ctx context.Context, id int64) (orgs, users []int64, err error) {
	rows, err := s.db.Query(ctx, `SELECT org_id, user_id FROM advisory_recipients WHERE advisory_id = ?`, id)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var o, u sql.Null[int64]
		if err := rows.Scan(&o, &u); err != nil {
			return nil, nil, err
		}
		if o.Valid {
			orgs = append(orgs, o.V)
		} else {
			users = append(users, u.V)
		}
	}
	return orgs, users, rows.Err()
}

// mayRead reports whether the reader of ctx may read the published
// versions of advisory id, whose label is tlp.
func (s *Service) mayRead(ctx context.Context, id int64, tlp string) (bool, error) {
	p := auth.From(ctx)
	if tlp == "WHITE" || p.IsAuthority() {
		return true, nil
	}
	if p == nil {
		return false, nil
	}
	orgs, users, err := s.recipients(ctx, id)
	if err != nil {
		return false, err
	}
	return CanRead(p, tlp, orgs, users), nil
}

// Public returns a published advisory by tracking id with its versions,
// newest first, if the reader may read it (else NotFound).
func (s *Service) Public(ctx context.Context, trackingID string) (*Advisory, []*Version, error) {
	var id int64
	err := s.db.QueryRow(ctx, `SELECT id FROM advisories WHERE lower(tracking_id) = lower(?) AND published_version > 0`, trackingID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, notFound()
	}
	if err != nil {
		return nil, nil, err
	}
	a, err := s.get(ctx, s.db, id)
	if err != nil {
		return nil, nil, err
	}
	if ok, err := s.mayRead(ctx, id, a.Published.TLP); err != nil || !ok {
		if err == nil {
			err = notFound()
		}
		return nil, nil, err
	}
	if !CanManage(auth.From(ctx)) {
		a.Document = nil
		a.RecipientOrgs, a.RecipientUsers = nil, nil
	}
	vs, err := s.versions(ctx, id)
	return a, vs, err
}

// Versions lists the published versions of an advisory, newest first,
// without their bytes, for the staff.
func (s *Service) Versions(ctx context.Context, id int64) ([]*Version, error) {
	if !CanManage(auth.From(ctx)) {
		return nil, notFound()
	}
	return s.versions(ctx, id)
}

func (s *Service) versions(ctx context.Context, id int64) ([]*Version, error) {
	rows, err := s.db.Query(ctx, `SELECT `+versionCols+`, length(v.content) FROM advisory_versions v JOIN advisories a ON a.id = v.advisory_id
		WHERE v.advisory_id = ? ORDER BY v.version DESC`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Version
	for rows.Next() {
		v, err := scanVersion(rows, false)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// VersionContent returns one published version with its exact bytes, if
// the reader may read it.
func (s *Service) VersionContent(ctx context.Context, trackingID string, version int) (*Version, error) {
	q := `SELECT ` + versionCols + `, v.content FROM advisory_versions v JOIN advisories a ON a.id = v.advisory_id
		WHERE lower(a.tracking_id) = lower(?)`
	args := []any{trackingID}
	if version > 0 {
		q += ` AND v.version = ?`
		args = append(args, version)
	} else {
		q += ` AND v.version = a.published_version`
	}
	v, err := scanVersion(s.db.QueryRow(ctx, q, args...), true)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound()
	}
	if err != nil {
		return nil, err
	}
	// The label that governs access is the newest version's: a widened or
	// narrowed audience applies to every version.
	var tlp string
	if err := s.db.QueryRow(ctx, `SELECT pub_tlp FROM advisories WHERE id = ?`, v.AdvisoryID).Scan(&tlp); err != nil {
		return nil, err
	}
	if ok, err := s.mayRead(ctx, v.AdvisoryID, tlp); err != nil || !ok {
		if err == nil {
			err = notFound()
		}
		return nil, err
	}
	return v, nil
}
