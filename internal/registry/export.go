package registry

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/constituency"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
)

// ---- export ----

// exportItem is one registration with its organisation's approved claims.
type exportItem struct {
	*Registration
	claims *orgClaims
}

type orgClaims struct{ prefixes, asns, domains []string }

// Export writes the registrations that match f (all of them: f's paging is
// ignored) as CSV or JSON, one row at a time. Only the authority's staff
// may export.
func (s *Service) Export(ctx context.Context, w io.Writer, format string, f Filter) error {
	if !auth.From(ctx).IsAuthority() {
		return forbidden()
	}
	var out exporter
	bw := bufio.NewWriterSize(w, 64<<10)
	switch format {
	case FormatCSV:
		cw := csv.NewWriter(bw)
		cw.UseCRLF = true
		out = &csvExporter{w: cw, rec: make([]string, len(csvColumns))}
	case FormatJSON:
		out = &jsonExporter{w: bw}
	default:
		return errs.Field("format", "err.import.format", nil)
	}
	claims, err := approvedClaims(ctx, s.db)
	if err != nil {
		return err
	}
	f.Offset, f.Limit = 0, 0
	where, args := f.where()
	rows, err := s.db.Query(ctx, selectReg+where+` ORDER BY lower(o.name), o.id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if err := out.begin(); err != nil {
		return err
	}
	for rows.Next() {
		r, err := scanReg(rows)
		if err != nil {
			return err
		}
		if err := out.item(&exportItem{r.Registration, claims[r.OrgID]}); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := out.end(); err != nil {
		return err
	}
	return bw.Flush()
}

type exporter interface {
	begin() error
	item(x *exportItem) error
	end() error
}

type csvExporter struct {
	w   *csv.Writer
	rec []string
}

func (e *csvExporter) begin() error { return e.w.Write(CSVColumns()) }

func (e *csvExporter) item(x *exportItem) error {
	for i, col := range csvColumns {
		e.rec[i] = csvSafe(col.get(x))
	}
	return e.w.Write(e.rec)
}

func (e *csvExporter) end() error {
	e.w.Flush()
	return e.w.Error()
}

// jsonRecord is an element of "registrations" in the JSON export.
type jsonRecord struct {
	EnterpriseNumber string     `json:"enterprise_number"`
	LegalName        string     `json:"legal_name"`
	Status           Status     `json:"status"`
	Class            string     `json:"class"`
	Override         *Override  `json:"override"`
	Classification   *Decision  `json:"classification"`
	Profile          Profile    `json:"profile"`
	Prefixes         []string   `json:"prefixes"`
	ASNs             []string   `json:"asns"`
	Domains          []string   `json:"domains"`
	SubmittedAt      *time.Time `json:"submitted_at"`
	ApprovedAt       *time.Time `json:"approved_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

type jsonExporter struct {
	w *bufio.Writer
	n int
}

func (e *jsonExporter) begin() error {
	_, err := e.w.WriteString(`{"registrations": [`)
	return err
}

func (e *jsonExporter) item(x *exportItem) error {
	c := x.claims
	if c == nil {
		c = &orgClaims{}
	}
	b, err := json.Marshal(jsonRecord{EnterpriseNumber: x.EnterpriseNumber, LegalName: x.Name, Status: x.Status, Class: x.Class,
		Override: x.Override, Classification: x.Decision, Profile: x.Profile, Prefixes: nonNil(c.prefixes), ASNs: nonNil(c.asns),
		Domains: nonNil(c.domains), SubmittedAt: x.SubmittedAt, ApprovedAt: x.ApprovedAt, UpdatedAt: x.UpdatedAt})
	if err != nil {
		return fmt.Errorf("registry: export %d: %w", x.OrgID, err)
	}
	if e.n > 0 {
		e.w.WriteByte(',')
	}
	e.n++
	e.w.WriteByte('\n')
	_, err = e.w.Write(b)
	return err
}

func (e *jsonExporter) end() error {
	_, err := e.w.WriteString("\n]}\n")
	return err
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// approvedClaims reads every approved claim by organisation, sorted.
func approvedClaims(ctx context.Context, q store.Querier) (map[int64]*orgClaims, error) {
	rows, err := q.Query(ctx, `SELECT org_id, kind, value FROM constituency_claims WHERE status = 'approved'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]*orgClaims{}
	for rows.Next() {
		var org int64
		var kind, value string
		if err := rows.Scan(&org, &kind, &value); err != nil {
			return nil, err
		}
		c := out[org]
		if c == nil {
			c = &orgClaims{}
			out[org] = c
		}
		switch constituency.Kind(kind) {
		case constituency.KindPrefix:
			c.prefixes = append(c.prefixes, value)
		case constituency.KindASN:
			c.asns = append(c.asns, value)
		case constituency.KindDomain:
			c.domains = append(c.domains, value)
		}
	}
	for _, c := range out {
		slices.Sort(c.prefixes)
		slices.Sort(c.asns)
		slices.Sort(c.domains)
	}
	return out, rows.Err()
}

// csvSafe defuses a cell that a spreadsheet would run as a formula: it
// gets a leading apostrophe, which the import removes again.
func csvSafe(v string) string {
	if v == "" {
		return v
	}
	switch v[0] {
	case '=', '+', '@', '\t', '\r':
		return "'" + v
	case '-':
		if !isNumber(v) {
			return "'" + v
		}
	}
	return v
}

// csvUnescape undoes csvSafe.
func csvUnescape(v string) string {
	if len(v) > 1 && v[0] == '\'' && strings.IndexByte("=+-@\t\r", v[1]) >= 0 {
		return v[1:]
	}
	return v
}
