package reporting

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/belfry-cert/belfry/internal/audit"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	_ "github.com/belfry-cert/belfry/internal/i18n" // embeds the time zone database
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/store"
)

// Service is the reporting intake.
type Service struct {
	db        *store.DB
	log       *slog.Logger
	now       func() time.Time
	reminders *reminderConfig // set by SetMail; nil sends no reminders

	// Attachments (attachments.go): the key, set by SetAttachmentKey (nil
	// refuses attachments), and the largest file in bytes (0: the default).
	attCipher *attachmentCipher
	attMax    int64
}

// NewService returns the reporting service on db.
func NewService(db *store.DB, log *slog.Logger) *Service {
	return &Service{db: db, log: log, now: time.Now}
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

func (s *Service) tick() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// brussels is the zone of the year in references (the tzdata comes with
// the i18n package).
var brussels, _ = time.LoadLocation("Europe/Brussels")

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func notFound() error  { return errs.E(errs.NotFound, "err.rep.not_found") }
func forbidden() error { return errs.E(errs.Forbidden, "err.forbidden") }

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// canRead: the organisation's own people, and the authority's staff (the
// CSIRT and the supervisors handle every report).
func canRead(p *auth.Principal, org int64) bool {
	return p != nil && (p.IsAuthority() || p.OrgID == org)
}

// canFile: the organisation's members and administrators report for it;
// the duty is the entity's, so the authority does not file on its behalf.
func canFile(p *auth.Principal, org int64) bool {
	return p.CanWrite() && p.OrgID == org && p.HasAny(auth.RoleOrgAdmin, auth.RoleMember)
}

// Incident is one incident of an organisation with its submissions.
type Incident struct {
	ID                 int64        `json:"id"`
	Ref                string       `json:"reference"`
	OrgID              int64        `json:"organisation_id"`
	OrgName            string       `json:"organisation_name"`
	Kind               string       `json:"kind"`
	Title              string       `json:"title"`
	AwareAt            time.Time    `json:"aware_at"`
	TrustServiceImpact bool         `json:"trust_service_impact"`
	Status             string       `json:"status"`
	HandledAt          *time.Time   `json:"handled_at,omitempty"`
	CreatedAt          time.Time    `json:"created_at"`
	UpdatedAt          time.Time    `json:"updated_at"`
	Submissions        []Submission `json:"submissions"`
	Drafts             []Draft      `json:"drafts"`
	// Deadlines are the legal clocks of every stage at the time of reading
	// (NIS2 Art. 23(4) and (5); nis2.md §2.4).
	Deadlines *nis2.Deadlines `json:"deadlines"`
	// feedbackAt is when the CSIRT recorded its initial feedback.
	feedbackAt time.Time
	// intermediate is the authority's request for an intermediate report
	// that sets its clock (requests.go), loaded by incident(); nil if none.
	intermediate *intermediateClock
}

// First returns the first (not corrected) submission of stage, or nil.
func (in *Incident) First(stage Stage) *Submission {
	for i := range in.Submissions {
		if in.Submissions[i].Stage == stage {
			return &in.Submissions[i]
		}
	}
	return nil
}

// clock derives the clock facts of the incident: a stage counts as filed
// when it was first submitted (corrections do not move the clock), and the
// CSIRT received the early warning when it was filed.
func (in *Incident) clock() nis2.ClockFacts {
	f := nis2.ClockFacts{AwareAt: in.AwareAt, TrustServiceImpact: in.TrustServiceImpact}
	at := func(s Stage) time.Time {
		if x := in.First(s); x != nil {
			return x.SubmittedAt
		}
		return time.Time{}
	}
	f.EarlyWarningSubmittedAt = at(EarlyWarning)
	f.CSIRTReceivedEarlyWarningAt = f.EarlyWarningSubmittedAt
	f.NotificationSubmittedAt = at(IncidentNotification)
	// An intermediate report has a clock only when requested: the latest
	// open request of the authority (incident_requests, requests.go) sets
	// it, else the latest answered one with the time it was answered. One
	// filed on the entity's own initiative counts against no deadline.
	if r := in.intermediate; r != nil {
		f.IntermediateRequestedAt, f.IntermediateDeadline = r.RequestedAt, r.Deadline
		if r.AnsweredAt != nil {
			f.IntermediateSubmittedAt = *r.AnsweredAt
		}
	}
	f.ProgressReportSubmittedAt = at(ProgressReport)
	f.FinalReportSubmittedAt = at(FinalReport)
	if in.HandledAt != nil {
		f.HandledAt = *in.HandledAt
	}
	f.CSIRTFeedbackAt = in.feedbackAt
	return f
}

// computeDeadlines fills in.Deadlines as of now. An incident still ongoing
// when its final report falls due owes a progress report then, and the
// final report one month after it is handled (Art. 23(4)(e)).
func (in *Incident) computeDeadlines(now time.Time) error {
	f := in.clock()
	// A progress report filed says the incident was ongoing when the final
	// report fell due.
	f.OngoingAtFinalDue = !f.ProgressReportSubmittedAt.IsZero()
	d, err := nis2.Due(f, now)
	if err != nil {
		return err
	}
	if fr, ok := d.Stage(FinalReport); ok && f.FinalReportSubmittedAt.IsZero() && !fr.Due.IsZero() {
		stillOngoing := in.HandledAt == nil && in.Status == StatusOngoing && !now.Before(fr.Due)
		handledLater := in.HandledAt != nil && in.HandledAt.After(fr.Due)
		if !f.OngoingAtFinalDue && (stillOngoing || handledLater) {
			f.OngoingAtFinalDue = true
			if d, err = nis2.Due(f, now); err != nil {
				return err
			}
		}
	}
	in.Deadlines = &d
	return nil
}

// Submitted returns the latest submission of stage, or nil.
func (in *Incident) Submitted(stage Stage) *Submission {
	var last *Submission
	for i := range in.Submissions {
		if in.Submissions[i].Stage == stage {
			last = &in.Submissions[i]
		}
	}
	return last
}

// Draft is the saved, unsubmitted content of a stage.
type Draft struct {
	Stage     Stage     `json:"stage"`
	Content   Content   `json:"content"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Submission is a filed stage. It never changes once stored.
type Submission struct {
	ID          int64     `json:"id"`
	Ref         string    `json:"reference"`
	Stage       Stage     `json:"stage"`
	SHA256      string    `json:"sha256"`
	CorrectsRef string    `json:"corrects,omitempty"`
	SubmittedAt time.Time `json:"submitted_at"`
	SubmittedBy string    `json:"submitted_by,omitempty"`
	// Canonical is the content exactly as stored and hashed.
	Canonical  json.RawMessage `json:"content"`
	correctsID int64
}

// IncidentInput opens an incident.
type IncidentInput struct {
	Title              string    `json:"title"`
	AwareAt            time.Time `json:"aware_at"`
	TrustServiceImpact bool      `json:"trust_service_impact"`
	Voluntary          bool      `json:"voluntary"`
}

// CreateIncident opens an incident of the principal's organisation.
// Awareness starts the legal clocks, so it is required and may not lie in
// the future.
func (s *Service) CreateIncident(ctx context.Context, in IncidentInput) (*Incident, error) {
	p := auth.From(ctx)
	if p == nil || p.IsAuthority() || !canFile(p, p.OrgID) {
		return nil, forbidden()
	}
	now := s.tick()
	var v errs.Validator
	in.Title = strings.TrimSpace(in.Title)
	switch {
	case in.Title == "":
		v.Add("title", "err.rep.title_required", nil)
	case utf8.RuneCountInString(in.Title) > 200:
		v.Add("title", "err.too_long", map[string]any{"max": 200})
	}
	switch {
	case in.AwareAt.IsZero():
		v.Add("aware_at", "err.rep.aware_required", nil)
	case in.AwareAt.After(now.Add(time.Minute)):
		v.Add("aware_at", "err.rep.aware_future", nil)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	kind := KindMandatory
	if in.Voluntary || p.OrgKind != "entity" {
		kind = KindVoluntary
	}
	inc := &Incident{OrgID: p.OrgID, Kind: kind, Title: in.Title, AwareAt: in.AwareAt.UTC().Truncate(time.Second),
		TrustServiceImpact: in.TrustServiceImpact, Status: StatusOngoing, CreatedAt: now, UpdatedAt: now}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		n, err := nextCounter(ctx, tx, "incident-"+now.In(brussels).Format("2006"))
		if err != nil {
			return err
		}
		inc.Ref = fmt.Sprintf("INC-%s-%06d", now.In(brussels).Format("2006"), n)
		if err := tx.QueryRow(ctx, `INSERT INTO incidents (org_id, ref, kind, title, aware_at, trust_service_impact, status, created_by,
			created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, inc.OrgID, inc.Ref, inc.Kind, inc.Title, inc.AwareAt,
			inc.TrustServiceImpact, inc.Status, nullID(p.UserID), now, now).Scan(&inc.ID); err != nil {
			return err
		}
		return audit.Append(ctx, tx, now, audit.Change{Action: "incident.create", ObjectType: "incident", ObjectID: itoa(inc.ID), OrgID: inc.OrgID, After: inc})
	})
	if err != nil {
		return nil, err
	}
	return s.Incident(ctx, inc.ID)
}

// nextCounter increments and returns the named counter, in tx: the row
// lock serialises concurrent writers on PostgreSQL.
func nextCounter(ctx context.Context, tx *store.Tx, name string) (int64, error) {
	var n int64
	err := tx.QueryRow(ctx, `INSERT INTO counters (name, value) VALUES (?, 1)
		ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value`, name).Scan(&n)
	return n, err
}

const selectIncident = `SELECT i.id, i.ref, i.org_id, o.name, i.kind, i.title, i.aware_at, i.trust_service_impact, i.status,
	i.handled_at, i.created_at, i.updated_at FROM incidents i JOIN organisations o ON o.id = i.org_id`

func scanIncident(row interface{ Scan(...any) error }) (*Incident, error) {
	var in Incident
	var handled sql.Null[time.Time]
	err := row.Scan(&in.ID, &in.Ref, &in.OrgID, &in.OrgName, &in.Kind, &in.Title, &in.AwareAt, &in.TrustServiceImpact, &in.Status,
		&handled, &in.CreatedAt, &in.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound()
	}
	if err != nil {
		return nil, err
	}
	in.AwareAt, in.CreatedAt, in.UpdatedAt = in.AwareAt.UTC(), in.CreatedAt.UTC(), in.UpdatedAt.UTC()
	if handled.Valid {
		t := handled.V.UTC()
		in.HandledAt = &t
	}
	in.Submissions, in.Drafts = []Submission{}, []Draft{}
	return &in, nil
}

// Incident returns one incident with its submissions and drafts.
func (s *Service) Incident(ctx context.Context, id int64) (*Incident, error) {
	return s.incident(ctx, s.db, id)
}

// head loads the incident row alone, for the principal who may read it:
// what a write needs to authorise, without submissions or clocks.
func (s *Service) head(ctx context.Context, q store.Querier, id int64) (*Incident, error) {
	in, err := scanIncident(q.QueryRow(ctx, selectIncident+` WHERE i.id = ?`, id))
	if err != nil {
		return nil, err
	}
	if !canRead(auth.From(ctx), in.OrgID) {
		return nil, notFound()
	}
	return in, nil
}

// filed loads the incident row with its submissions' references and
// stages (not their content), for the checks of a new submission.
func (s *Service) filed(ctx context.Context, q store.Querier, id int64) (*Incident, error) {
	in, err := s.head(ctx, q, id)
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `SELECT id, ref, stage, submitted_at FROM report_submissions WHERE incident_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var sub Submission
		if err := rows.Scan(&sub.ID, &sub.Ref, &sub.Stage, &sub.SubmittedAt); err != nil {
			return nil, err
		}
		in.Submissions = append(in.Submissions, sub)
	}
	return in, rows.Err()
}

func (s *Service) incident(ctx context.Context, q store.Querier, id int64) (*Incident, error) {
	in, err := scanIncident(q.QueryRow(ctx, selectIncident+` WHERE i.id = ?`, id))
	if err != nil {
		return nil, err
	}
	if !canRead(auth.From(ctx), in.OrgID) {
		return nil, notFound()
	}
	rows, err := q.Query(ctx, `SELECT s.id, s.ref, s.stage, s.sha256, COALESCE(c.ref, ''), s.submitted_at, COALESCE(u.name, ''), s.content
		FROM report_submissions s LEFT JOIN report_submissions c ON c.id = s.corrects_id LEFT JOIN users u ON u.id = s.submitted_by
		WHERE s.incident_id = ? ORDER BY s.id`, id)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var sub Submission
		var content string
		if err := rows.Scan(&sub.ID, &sub.Ref, &sub.Stage, &sub.SHA256, &sub.CorrectsRef, &sub.SubmittedAt, &sub.SubmittedBy, &content); err != nil {
			rows.Close()
			return nil, err
		}
		sub.SubmittedAt, sub.Canonical = sub.SubmittedAt.UTC(), json.RawMessage(content)
		in.Submissions = append(in.Submissions, sub)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var feedback sql.Null[time.Time]
	if err := q.QueryRow(ctx, `SELECT feedback_at FROM incident_triage WHERE incident_id = ?`, id).Scan(&feedback); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	if feedback.Valid {
		in.feedbackAt = feedback.V.UTC()
	}
	// The request for an intermediate report that sets its clock (requests.go).
	if in.intermediate, err = intermediateRequest(ctx, q, id); err != nil {
		return nil, err
	}
	if err := in.computeDeadlines(s.tick()); err != nil {
		// The incident must stay readable even if its facts do not fit
		// the clock rules; the fault is ours to fix, so log it.
		s.log.Error("reporting: deadlines not computed", "incident", in.Ref, "err", err)
		in.Deadlines = nil
	}
	if auth.From(ctx).OrgID == in.OrgID {
		// Drafts are the entity's own work in progress.
		drows, err := q.Query(ctx, `SELECT stage, content, updated_at FROM report_drafts WHERE incident_id = ? ORDER BY stage`, id)
		if err != nil {
			return nil, err
		}
		defer drows.Close()
		for drows.Next() {
			var d Draft
			var content string
			if err := drows.Scan(&d.Stage, &content, &d.UpdatedAt); err != nil {
				return nil, err
			}
			if err := json.Unmarshal([]byte(content), &d.Content); err != nil {
				return nil, fmt.Errorf("reporting: draft %d/%s: %w", id, d.Stage, err)
			}
			d.UpdatedAt = d.UpdatedAt.UTC()
			in.Drafts = append(in.Drafts, d)
		}
		if err := drows.Err(); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// Filter selects incidents.
type Filter struct {
	OrgID  int64
	Stage  Stage // has a submission of this stage
	Status string
	Text   string
	Offset int
	Limit  int
}

// Incidents lists incidents, newest first: all for the authority's staff,
// the organisation's own otherwise.
func (s *Service) Incidents(ctx context.Context, f Filter) ([]*Incident, int, error) {
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
		conds, args = append(conds, "i.org_id = ?"), append(args, f.OrgID)
	}
	if f.Status != "" {
		conds, args = append(conds, "i.status = ?"), append(args, f.Status)
	}
	if f.Stage != "" {
		conds, args = append(conds, "EXISTS (SELECT 1 FROM report_submissions s WHERE s.incident_id = i.id AND s.stage = ?)"), append(args, string(f.Stage))
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		like := "%" + store.EscapeLike(strings.ToLower(t)) + "%"
		conds, args = append(conds, `(lower(i.title) LIKE ? ESCAPE '\' OR lower(i.ref) LIKE ? ESCAPE '\' OR lower(o.name) LIKE ? ESCAPE '\')`), append(args, like, like, like)
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	var total int
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM incidents i JOIN organisations o ON o.id = i.org_id`+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	q := selectIncident + where + ` ORDER BY i.id DESC`
	if f.Limit > 0 {
		q += ` LIMIT ? OFFSET ?`
		args = append(args, f.Limit, f.Offset)
	}
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		in, err := scanIncident(rows)
		if err != nil {
			return nil, 0, err
		}
		ids = append(ids, in.ID)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	rows.Close()
	// Each item comes with its submissions and clocks, so that a list
	// shows what is due (one page at a time).
	out := make([]*Incident, 0, len(ids))
	for _, id := range ids {
		in, err := s.incident(ctx, s.db, id)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, in)
	}
	return out, total, nil
}

// SaveDraft stores the unsubmitted content of a stage. Drafts may be
// incomplete; malformed values are still refused.
func (s *Service) SaveDraft(ctx context.Context, id int64, stage Stage, c Content) (*Draft, error) {
	if !ValidStage(stage) {
		return nil, errs.Field("stage", "err.rep.stage_invalid", nil)
	}
	p := auth.From(ctx)
	if cur, err := s.head(ctx, s.db, id); err != nil {
		return nil, err
	} else if !canFile(p, cur.OrgID) {
		return nil, forbidden()
	}
	var v errs.Validator
	c.normalise(&v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := s.tick()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		in, err := s.filed(ctx, tx, id)
		if err != nil {
			return err
		}
		if !canFile(p, in.OrgID) {
			return forbidden()
		}
		b, err := json.Marshal(c)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO report_drafts (incident_id, stage, content, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (incident_id, stage) DO UPDATE SET content = excluded.content, updated_by = excluded.updated_by,
			updated_at = excluded.updated_at`, id, string(stage), string(b), nullID(p.UserID), now); err != nil {
			return err
		}
		return audit.Append(ctx, tx, now, audit.Change{Action: "report.draft", ObjectType: "incident", ObjectID: itoa(id), OrgID: in.OrgID,
			After: map[string]any{"stage": stage, "content": json.RawMessage(b)}})
	})
	if err != nil {
		return nil, err
	}
	return &Draft{Stage: stage, Content: c, UpdatedAt: now}, nil
}

// SubmitOptions qualify a submission.
type SubmitOptions struct {
	// IdempotencyKey makes a retry return the first submission's receipt
	// instead of filing twice (per organisation).
	IdempotencyKey string
	// Corrects is the reference of the earlier submission of the same
	// stage that this one corrects; required for a second submission.
	Corrects string
}

// Receipt proves a submission: its reference, the server time, and the
// SHA-256 of the canonical content, which is included byte for byte.
type Receipt struct {
	Ref          string          `json:"reference"`
	IncidentRef  string          `json:"incident_reference"`
	IncidentID   int64           `json:"incident_id"`
	Organisation string          `json:"organisation"`
	Stage        Stage           `json:"stage"`
	SubmittedAt  time.Time       `json:"submitted_at"`
	SHA256       string          `json:"sha256"`
	Corrects     string          `json:"corrects,omitempty"`
	Replayed     bool            `json:"replayed"`
	Content      json.RawMessage `json:"content"`
	// Attachments are the files sealed into the submission, each with
	// the SHA-256 of its bytes (attachments.go).
	Attachments []ReceiptAttachment `json:"attachments"`
}

// incidentLockBase spaces the advisory locks of incidents away from the
// platform's other locks.
const incidentLockBase = 1 << 40

// stagePrerequisite is the stage that must be filed before s.
var stagePrerequisite = map[Stage]Stage{
	IncidentNotification: EarlyWarning,
	IntermediateReport:   EarlyWarning,
	FinalReport:          IncidentNotification,
	ProgressReport:       IncidentNotification,
}

// Submit files stage of incident id with content c. The content must be
// complete for the stage; the submission is stored once, never changed,
// and its draft removed. A second submission of a stage must name the
// earlier one it corrects.
func (s *Service) Submit(ctx context.Context, id int64, stage Stage, c Content, o SubmitOptions) (*Receipt, error) {
	p := auth.From(ctx)
	if !ValidStage(stage) {
		return nil, errs.Field("stage", "err.rep.stage_invalid", nil)
	}
	// Who may file comes before what is filed: another organisation
	// learns nothing, not even which fields are missing.
	if cur, err := s.head(ctx, s.db, id); err != nil {
		return nil, err
	} else if !canFile(p, cur.OrgID) {
		return nil, forbidden()
	}
	var v errs.Validator
	o.IdempotencyKey = strings.TrimSpace(o.IdempotencyKey)
	if len(o.IdempotencyKey) > 200 {
		v.Add("idempotency_key", "err.too_long", map[string]any{"max": 200})
	}
	c.normalise(&v)
	c.require(stage, &v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	canonical, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(canonical)
	hash := hex.EncodeToString(sum[:])
	if o.IdempotencyKey != "" {
		if r, err := s.replay(ctx, p, o.IdempotencyKey, id, stage, hash); r != nil || err != nil {
			return r, err
		}
	}
	var rec *Receipt
	replayed := false
	now := s.tick()
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		// One submission at a time per incident (PostgreSQL; SQLite has
		// one writer anyway), so that stage order, sequence numbers and
		// idempotency keys are checked against settled state.
		if err := tx.Lock(ctx, incidentLockBase+id); err != nil {
			return err
		}
		if o.IdempotencyKey != "" {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM report_submissions WHERE org_id = ? AND idempotency_key = ?`, p.OrgID, o.IdempotencyKey).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				replayed = true
				return nil
			}
		}
		in, err := s.filed(ctx, tx, id)
		if err != nil {
			return err
		}
		if !canFile(p, in.OrgID) {
			return forbidden()
		}
		if pre, ok := stagePrerequisite[stage]; ok && in.Submitted(pre) == nil {
			return errs.E(errs.Conflict, "err.rep.stage_order."+string(stage))
		}
		var correctsID any
		if prev := in.Submitted(stage); prev != nil {
			if o.Corrects == "" {
				return errs.E(errs.Conflict, "err.rep.already_submitted")
			}
			if o.Corrects != prev.Ref {
				return errs.Field("corrects", "err.rep.corrects_latest", map[string]any{"ref": prev.Ref})
			}
			correctsID = prev.ID
		} else if o.Corrects != "" {
			return errs.Field("corrects", "err.rep.corrects_nothing", nil)
		}
		seq := 1
		for _, x := range in.Submissions {
			if x.Stage == stage {
				seq++
			}
		}
		ref := fmt.Sprintf("%s-%s-%d", in.Ref, abbrev(stage), seq)
		var key any
		if o.IdempotencyKey != "" {
			key = o.IdempotencyKey
		}
		var subID int64
		if err := tx.QueryRow(ctx, `INSERT INTO report_submissions (incident_id, org_id, ref, stage, content, sha256, corrects_id,
			idempotency_key, submitted_by, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, id, in.OrgID, ref, string(stage),
			string(canonical), hash, correctsID, key, nullID(p.UserID), now).Scan(&subID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM report_drafts WHERE incident_id = ? AND stage = ?`, id, string(stage)); err != nil {
			return err
		}
		atts, err := sealAttachments(ctx, tx, id, stage, subID) // attachments.go
		if err != nil {
			return err
		}
		if stage == IntermediateReport { // answers the open requests for one (requests.go)
			if err := answerIntermediate(ctx, tx, id, now); err != nil {
				return err
			}
		}
		status, handled := in.Status, in.HandledAt
		if c.IncidentStatus != "" {
			status = c.IncidentStatus
		}
		switch {
		case status == StatusClosed && handled == nil:
			// The entity has handled the incident: when it says it was
			// resolved, else now. The final report of an incident that was
			// ongoing is due a month after (Art. 23(4)(e)).
			h := now
			if c.ResolvedAt != nil && !c.ResolvedAt.After(now) {
				h = *c.ResolvedAt
			}
			handled = &h
		case status == StatusOngoing:
			handled = nil
		}
		var handledAt any
		if handled != nil {
			handledAt = *handled
		}
		if _, err := tx.Exec(ctx, `UPDATE incidents SET status = ?, handled_at = ?, updated_at = ? WHERE id = ?`, status, handledAt, now, id); err != nil {
			return err
		}
		rec = &Receipt{Ref: ref, IncidentRef: in.Ref, IncidentID: id, Organisation: in.OrgName, Stage: stage, SubmittedAt: now,
			SHA256: hash, Corrects: o.Corrects, Content: canonical, Attachments: atts}
		return audit.Append(ctx, tx, now, audit.Change{Action: "report.submit", ObjectType: "incident", ObjectID: itoa(id), OrgID: in.OrgID,
			After: map[string]any{"reference": ref, "stage": stage, "sha256": hash, "corrects": o.Corrects, "attachments": atts}})
	})
	if replayed || (err != nil && o.IdempotencyKey != "" && store.IsUniqueViolation(err)) {
		// A concurrent retry with the same key won the race.
		return s.replay(ctx, p, o.IdempotencyKey, id, stage, hash)
	}
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// replay returns the receipt of the submission already filed with key, or
// nil when there is none. The same key with other content is a conflict.
func (s *Service) replay(ctx context.Context, p *auth.Principal, key string, id int64, stage Stage, hash string) (*Receipt, error) {
	if p == nil {
		return nil, forbidden()
	}
	var ref string
	err := s.db.QueryRow(ctx, `SELECT ref FROM report_submissions WHERE org_id = ? AND idempotency_key = ?`, p.OrgID, key).Scan(&ref)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r, err := s.Receipt(ctx, ref)
	if err != nil {
		return nil, err
	}
	if r.IncidentID != id || r.Stage != stage || r.SHA256 != hash {
		return nil, errs.Field("idempotency_key", "err.rep.idempotency_reused", map[string]any{"ref": r.Ref})
	}
	r.Replayed = true
	return r, nil
}

// Receipt returns the receipt of a submission by its reference.
func (s *Service) Receipt(ctx context.Context, ref string) (*Receipt, error) {
	var r Receipt
	var org int64
	var content string
	err := s.db.QueryRow(ctx, `SELECT s.ref, i.ref, i.id, o.name, s.org_id, s.stage, s.submitted_at, s.sha256, COALESCE(c.ref, ''), s.content
		FROM report_submissions s JOIN incidents i ON i.id = s.incident_id JOIN organisations o ON o.id = s.org_id
		LEFT JOIN report_submissions c ON c.id = s.corrects_id WHERE s.ref = ?`, ref).Scan(&r.Ref, &r.IncidentRef, &r.IncidentID,
		&r.Organisation, &org, &r.Stage, &r.SubmittedAt, &r.SHA256, &r.Corrects, &content)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !canRead(auth.From(ctx), org)) {
		return nil, errs.E(errs.NotFound, "err.rep.receipt_not_found")
	}
	if err != nil {
		return nil, err
	}
	r.SubmittedAt, r.Content = r.SubmittedAt.UTC(), json.RawMessage(content)
	if r.Attachments, err = receiptAttachments(ctx, s.db, `s.ref = ?`, ref); err != nil {
		return nil, err
	}
	return &r, nil
}

// Verification is the answer to "is this receipt genuine?".
type Verification struct {
	Valid       bool      `json:"valid"`
	Ref         string    `json:"reference"`
	SubmittedAt time.Time `json:"submitted_at,omitzero"`
	Reason      string    `json:"reason,omitempty"`
}

// Verify checks a receipt's reference and SHA-256 (and, when given, its
// content bytes) against what is stored.
func (s *Service) Verify(ctx context.Context, ref, hash string, content []byte) (*Verification, error) {
	r, err := s.Receipt(ctx, ref)
	if err != nil {
		return nil, err
	}
	out := &Verification{Ref: ref, Valid: true, SubmittedAt: r.SubmittedAt}
	hash = strings.ToLower(hash)
	switch {
	case hash != r.SHA256:
		out.Valid, out.Reason = false, "sha256 differs from the submission's"
	case content != nil:
		sum := sha256.Sum256(content)
		if hex.EncodeToString(sum[:]) != hash {
			out.Valid, out.Reason = false, "the content does not hash to sha256"
		}
	}
	if !out.Valid {
		out.SubmittedAt = time.Time{}
	}
	return out, nil
}
