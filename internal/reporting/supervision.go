package reporting

// The supervision list of reporting obligations not met: for every
// mandatory incident, each stage whose legal deadline passed without a
// submission (overdue) or that was filed after it (late). It feeds the
// supervisors' follow-up and, later, their measures (NIS2 Art. 32 and 33).
// The clocks are those of the incident pages (Incident.computeDeadlines
// over nis2.Due); only the times they count from are read, never the
// reports' content.

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/registry"
	"github.com/belfry-cert/belfry/internal/store"
)

// Obligation statuses of the list.
const (
	ObligationOverdue = "overdue" // not filed, past due
	ObligationLate    = "late"    // filed after the due time
)

// ObligationFilter selects the list. Empty members select all.
type ObligationFilter struct {
	Status string // overdue, late, or "" for both
	Sector string // a sector of the organisation's registration
	Class  string // a registry class, or "unclassified"
	OrgID  int64
	Text   string    // in the organisation's name, enterprise number or the reference
	From   time.Time // due at or after
	To     time.Time // due before
	Offset int
	Limit  int
}

// Obligation is a stage of an incident that was not filed in time.
type Obligation struct {
	IncidentID       int64      `json:"incident_id"`
	IncidentRef      string     `json:"incident_reference"`
	OrgID            int64      `json:"organisation_id"`
	OrgName          string     `json:"organisation_name"`
	EnterpriseNumber string     `json:"enterprise_number"`
	Sectors          []string   `json:"sectors"`
	Class            string     `json:"class"`
	Stage            Stage      `json:"stage"`
	Status           string     `json:"status"`
	Rule             string     `json:"rule"`
	Due              time.Time  `json:"due"`
	SubmittedAt      *time.Time `json:"submitted_at,omitempty"`
	// LateBy is how late, in whole seconds: the submission after the due
	// time, or an overdue stage as of now.
	LateBy int64 `json:"late_by_seconds"`
}

// CanSupervise reports whether the signed-in person sees the supervision
// list (the authority's supervisors, analysts and administrators).
func CanSupervise(ctx context.Context) bool { return canSupervise(auth.From(ctx)) }

func canSupervise(p *auth.Principal) bool {
	return p.IsAuthority() && p.HasAny(auth.RoleAdmin, auth.RoleSupervisor, auth.RoleAnalyst)
}

// ValidateObligationFilter checks the values of f.
func ValidateObligationFilter(f ObligationFilter) error {
	var v errs.Validator
	if f.Status != "" && f.Status != ObligationOverdue && f.Status != ObligationLate {
		v.Add("status", "err.sup.status_invalid", nil)
	}
	if f.Sector != "" && !slices.ContainsFunc(nis2.Sectors(), func(s nis2.Sector) bool { return s.Code == f.Sector }) {
		v.Add("sector", "err.inbox.sector_invalid", nil)
	}
	if f.Class != "" && f.Class != "unclassified" && !slices.Contains(registry.Classes, f.Class) {
		v.Add("class", "err.inbox.class_invalid", nil)
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		v.Add("to", "err.sup.range_invalid", nil)
	}
	return v.Err()
}

// obligationWhere builds the conditions done in SQL, on incidents i,
// organisations o and registrations r.
func obligationWhere(f ObligationFilter) (string, []any) {
	conds := []string{"i.kind = ?"}
	args := []any{KindMandatory}
	if f.Sector != "" {
		conds, args = append(conds, "COALESCE(r.sectors, '') LIKE ? ESCAPE '\\'"), append(args, "% "+store.EscapeLike(f.Sector)+" %")
	}
	switch f.Class {
	case "":
	case "unclassified":
		conds = append(conds, "COALESCE(r.class, '') = ''")
	default:
		conds, args = append(conds, "r.class = ?"), append(args, f.Class)
	}
	if f.OrgID != 0 {
		conds, args = append(conds, "i.org_id = ?"), append(args, f.OrgID)
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		like := "%" + store.EscapeLike(strings.ToLower(t)) + "%"
		conds = append(conds, `(lower(o.name) LIKE ? ESCAPE '\' OR lower(COALESCE(o.enterprise_number, '')) LIKE ? ESCAPE '\' OR lower(i.ref) LIKE ? ESCAPE '\')`)
		args = append(args, like, like, like)
	}
	if !f.To.IsZero() {
		// Every due time comes after awareness.
		conds, args = append(conds, "i.aware_at < ?"), append(args, f.To.UTC())
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

const obligationFrom = ` FROM incidents i JOIN organisations o ON o.id = i.org_id LEFT JOIN registrations r ON r.org_id = i.org_id`

// obligationIncident is an incident with what its rows name.
type obligationIncident struct {
	in         *Incident
	enterprise string
	class      string
	sectors    []string
}

// Obligations lists the reporting obligations not met, the most overdue
// first (then the latest filings), as of now: the authority's
// supervisors, analysts and administrators. It reads the incidents, the
// first submission time of each stage and the requests for intermediate
// reports, in three queries, whatever the number of incidents.
func (s *Service) Obligations(ctx context.Context, f ObligationFilter) ([]Obligation, int, error) {
	if !canSupervise(auth.From(ctx)) {
		return nil, 0, forbidden()
	}
	if err := ValidateObligationFilter(f); err != nil {
		return nil, 0, err
	}
	where, args := obligationWhere(f)
	incs, err := s.obligationIncidents(ctx, where, args)
	if err != nil {
		return nil, 0, err
	}
	now := s.tick()
	var out []Obligation
	for _, x := range incs {
		in := x.in
		if err := in.computeDeadlines(now); err != nil {
			s.log.Error("reporting: deadlines not computed", "incident", in.Ref, "err", err)
			continue
		}
		for _, d := range in.Deadlines.Stages {
			if d.Soft || !ValidStage(d.Stage) {
				continue // the CSIRT's own feedback is no obligation of the entity
			}
			o := Obligation{IncidentID: in.ID, IncidentRef: in.Ref, OrgID: in.OrgID, OrgName: in.OrgName, EnterpriseNumber: x.enterprise,
				Sectors: x.sectors, Class: x.class, Stage: d.Stage, Rule: d.Rule, Due: d.Due, LateBy: d.LateBy}
			switch d.Status {
			case nis2.Overdue:
				o.Status = ObligationOverdue
			case nis2.SubmittedLate:
				at := d.SubmittedAt
				o.Status, o.SubmittedAt = ObligationLate, &at
			default:
				continue
			}
			if f.Status != "" && o.Status != f.Status || !f.From.IsZero() && o.Due.Before(f.From) || !f.To.IsZero() && !o.Due.Before(f.To) {
				continue
			}
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b Obligation) int {
		if a.Status != b.Status {
			if a.Status == ObligationOverdue {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(b.LateBy, a.LateBy), cmp.Compare(a.IncidentRef, b.IncidentRef), cmp.Compare(a.Stage, b.Stage))
	})
	total := len(out)
	if f.Limit > 0 {
		out = out[min(f.Offset, total):min(f.Offset+f.Limit, total)]
	}
	if out == nil {
		out = []Obligation{}
	}
	return slices.Clip(out), total, nil
}

// obligationIncidents loads the incidents selected by where with the
// clock facts Incident.computeDeadlines reads: the first submission of
// each stage (its time alone) and the request for an intermediate report.
func (s *Service) obligationIncidents(ctx context.Context, where string, args []any) ([]obligationIncident, error) {
	rows, err := s.db.Query(ctx, `SELECT i.id, i.ref, i.org_id, o.name, COALESCE(o.enterprise_number, ''), i.aware_at, i.trust_service_impact,
		i.status, i.handled_at, COALESCE(r.class, ''), COALESCE(r.sectors, '')`+obligationFrom+where+` ORDER BY i.id`, args...)
	if err != nil {
		return nil, err
	}
	var out []obligationIncident
	byID := map[int64]*Incident{}
	for rows.Next() {
		in := &Incident{Kind: KindMandatory, Submissions: []Submission{}}
		var x obligationIncident
		var handled sql.Null[time.Time]
		var sectors string
		if err := rows.Scan(&in.ID, &in.Ref, &in.OrgID, &in.OrgName, &x.enterprise, &in.AwareAt, &in.TrustServiceImpact, &in.Status,
			&handled, &x.class, &sectors); err != nil {
			rows.Close()
			return nil, err
		}
		in.AwareAt = in.AwareAt.UTC()
		if handled.Valid {
			t := handled.V.UTC()
			in.HandledAt = &t
		}
		x.in, x.sectors = in, append([]string{}, strings.Fields(sectors)...)
		out = append(out, x)
		byID[in.ID] = in
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	// The first submission of each stage (by id, the order of filing),
	// which is what meets a clock: corrections do not move it.
	srows, err := s.db.Query(ctx, `SELECT s.incident_id, s.stage, s.submitted_at FROM report_submissions s
		JOIN incidents i ON i.id = s.incident_id JOIN organisations o ON o.id = i.org_id LEFT JOIN registrations r ON r.org_id = i.org_id`+
		where+` ORDER BY s.id`, args...)
	if err != nil {
		return nil, err
	}
	for srows.Next() {
		var id int64
		var sub Submission
		if err := srows.Scan(&id, &sub.Stage, &sub.SubmittedAt); err != nil {
			srows.Close()
			return nil, err
		}
		if in := byID[id]; in != nil && in.First(sub.Stage) == nil {
			sub.SubmittedAt = sub.SubmittedAt.UTC()
			in.Submissions = append(in.Submissions, sub)
		}
	}
	srows.Close()
	if err := srows.Err(); err != nil {
		return nil, err
	}
	// The request that sets the intermediate report's clock: the latest
	// open one, else the latest answered (as intermediateRequest).
	qrows, err := s.db.Query(ctx, `SELECT q.incident_id, q.created_at, q.deadline, q.answered_at FROM incident_requests q
		JOIN incidents i ON i.id = q.incident_id JOIN organisations o ON o.id = i.org_id LEFT JOIN registrations r ON r.org_id = i.org_id`+
		where+` AND q.kind = ? ORDER BY q.incident_id, CASE WHEN q.answered_at IS NULL THEN 0 ELSE 1 END, q.id DESC`,
		append(slices.Clone(args), RequestIntermediateReport)...)
	if err != nil {
		return nil, err
	}
	defer qrows.Close()
	for qrows.Next() {
		var id int64
		var c intermediateClock
		var answered sql.Null[time.Time]
		if err := qrows.Scan(&id, &c.RequestedAt, &c.Deadline, &answered); err != nil {
			return nil, err
		}
		in := byID[id]
		if in == nil || in.intermediate != nil {
			continue
		}
		c.RequestedAt, c.Deadline = c.RequestedAt.UTC(), c.Deadline.UTC()
		if answered.Valid {
			t := answered.V.UTC()
			c.AnsweredAt = &t
		}
		in.intermediate = &c
	}
	return out, qrows.Err()
}

// ObligationsCSVHeader is the header row of the CSV export.
var ObligationsCSVHeader = []string{"organisation", "enterprise_number", "sectors", "class", "incident_reference", "stage", "status",
	"rule", "due", "submitted_at", "late_by_seconds"}

// WriteObligationsCSV writes rows as CSV, times in UTC (RFC 3339).
func WriteObligationsCSV(w io.Writer, rows []Obligation) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(ObligationsCSVHeader); err != nil {
		return err
	}
	for _, o := range rows {
		sub := ""
		if o.SubmittedAt != nil {
			sub = o.SubmittedAt.UTC().Format(time.RFC3339)
		}
		if err := cw.Write([]string{csvCell(o.OrgName), csvCell(o.EnterpriseNumber), strings.Join(o.Sectors, " "), o.Class, o.IncidentRef,
			string(o.Stage), o.Status, o.Rule, o.Due.UTC().Format(time.RFC3339), sub, strconv.FormatInt(o.LateBy, 10)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvCell defuses a cell a spreadsheet would run as a formula.
func csvCell(v string) string {
	if v != "" && strings.IndexByte("=+-@\t\r", v[0]) >= 0 {
		return "'" + v
	}
	return v
}
