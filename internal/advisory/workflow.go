package advisory

// The review workflow: a draft is submitted for review; a second analyst
// approves it (publishing now or at a scheduled time, the embargo) or
// returns it with a note; a scheduled publication can be cancelled; a
// published advisory gets a new revision by going back to draft. Each step
// is one transaction with its history event and audit record.
//
// Publication writes the next version: the tracking fields (id, status,
// version, dates, revision history, generator) and the publisher are
// Belfry's; the document must pass the schema and every mandatory test;
// its exact bytes are stored with their SHA-256, SHA-512 and detached
// OpenPGP signature and never change again.

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/csaf"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
)

// Prepared is a working copy as its next publication would write it.
type Prepared struct {
	Version  int            `json:"version"`
	Content  []byte         `json:"-"`
	Document *csaf.Document `json:"-"`
	Report   *csaf.Report   `json:"validation"`
}

// build writes the next version of a's working copy as of now.
func (s *Service) build(ctx context.Context, q store.Querier, a *Advisory, now time.Time) (*Prepared, error) {
	d, err := a.Doc()
	if err != nil {
		return nil, err
	}
	version := 1
	initial := now.Format(time.RFC3339)
	var history []csaf.Revision
	if a.Published != nil {
		version = a.Published.Version + 1
		var content []byte
		if err := q.QueryRow(ctx, `SELECT initial_release_date, content FROM advisory_versions WHERE advisory_id = ? AND version = ?`,
			a.ID, a.Published.Version).Scan(&initial, &content); err != nil {
			return nil, err
		}
		prev, err := csaf.DecodeDocument(content)
		if err != nil {
			return nil, err
		}
		history = prev.Document.Tracking.RevisionHistory
	}
	summary := strings.TrimSpace(a.RevisionSummary)
	if summary == "" {
		summary = "Initial version"
		if version > 1 {
			summary = "Update"
		}
	}
	date := now.Format(time.RFC3339)
	history = append(history, csaf.Revision{Date: date, Number: strconv.Itoa(version), Summary: summary})
	d.Document.CSAFVersion = "2.0"
	d.Document.Publisher = s.cfg.Publisher
	status := a.TargetStatus
	if status == "" {
		status = "final"
	}
	d.Document.Tracking = csaf.Tracking{Aliases: d.Document.Tracking.Aliases, ID: a.TrackingID, Status: status,
		Version: strconv.Itoa(version), InitialReleaseDate: initial, CurrentReleaseDate: date, RevisionHistory: history,
		Generator: &csaf.Generator{Date: date, Engine: csaf.Engine{Name: "Belfry", Version: s.cfg.Version}}}
	content, err := d.Marshal()
	if err != nil {
		return nil, err
	}
	return &Prepared{Version: version, Content: content, Document: d}, nil
}

// Prepare returns the next version of an advisory's working copy as it
// would be published now, with every test's findings (the preview).
func (s *Service) Prepare(ctx context.Context, id int64) (*Prepared, error) {
	a, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	p, err := s.build(ctx, s.db, a, s.tick())
	if err != nil {
		return nil, err
	}
	p.Report, err = csaf.Validate(p.Content, csaf.PresetAll)
	return p, err
}

// invalid is the error of a document that fails the schema or a mandatory
// test: each finding becomes a field error of "document".
func invalid(rep *csaf.Report) error {
	var v errs.Validator
	for _, f := range rep.Findings {
		if f.Level == csaf.Mandatory {
			v.Add("document", "err.adv.invalid", map[string]any{"test": f.Test, "path": f.Path, "message": f.Message})
		}
	}
	return v.Err()
}

// SubmitInput is what the author says when submitting for review.
type SubmitInput struct {
	// Status is the tracking status the version is published with:
	// "interim" or "final".
	Status string `json:"status"`
	// Summary is the revision history's entry for the version.
	Summary string `json:"summary"`
}

// Submit sends a draft to review. The document must already pass the
// schema and the mandatory tests; the refusal lists what fails.
func (s *Service) Submit(ctx context.Context, id int64, in SubmitInput) (*Advisory, error) {
	now := s.tick()
	var v errs.Validator
	if in.Status == "" {
		in.Status = "final"
	}
	v.Check(in.Status == "interim" || in.Status == "final", "status", "err.adv.status")
	in.Summary = strings.TrimSpace(in.Summary)
	if err := v.Err(); err != nil {
		return nil, err
	}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		a, err := s.draft(ctx, tx, id)
		if err != nil {
			return err
		}
		a.TargetStatus, a.RevisionSummary = in.Status, in.Summary
		p, err := s.validNext(ctx, tx, a, now)
		if err != nil {
			return err
		}
		if err := s.checkAudience(ctx, tx, a); err != nil {
			return err
		}
		p0 := auth.From(ctx)
		if _, err := tx.Exec(ctx, `UPDATE advisories SET state = 'review', target_status = ?, revision_summary = ?, submitted_by = ?,
			submitted_at = ?, reviewed_by = NULL, review_note = '', updated_at = ? WHERE id = ?`,
			in.Status, in.Summary, nullUser(p0), now, now, id); err != nil {
			return err
		}
		return s.event(ctx, tx, now, a, "submit", p.Version, in.Summary, map[string]any{"state": a.State},
			map[string]any{"state": StateReview, "status": in.Status, "version": p.Version})
	})
	if err != nil {
		return nil, err
	}
	return s.get(ctx, s.db, id)
}

// checkAudience refuses an AMBER advisory without recipient organisations
// and a RED one without named recipients: nobody outside the staff could
// read it.
func (s *Service) checkAudience(ctx context.Context, tx *store.Tx, a *Advisory) error {
	switch {
	case a.TLP == "AMBER" && len(a.RecipientOrgs) == 0:
		return errs.Field("orgs", "err.adv.amber_recipients", nil)
	case a.TLP == "RED" && len(a.RecipientUsers) == 0:
		return errs.Field("users", "err.adv.red_recipients", nil)
	}
	return nil
}

// step runs one workflow step on advisory id in one transaction: the
// caller must write advisories, and the advisory must be in state want
// (else Conflict with the code conflict); fn makes the change as of now.
func (s *Service) step(ctx context.Context, id int64, want, conflict string, fn func(tx *store.Tx, a *Advisory, now time.Time) error) (*Advisory, error) {
	if !CanEdit(auth.From(ctx)) {
		return nil, forbidden()
	}
	now := s.tick()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		a, err := s.get(ctx, tx, id)
		if err != nil {
			return err
		}
		if a.State != want {
			return errs.E(errs.Conflict, conflict)
		}
		return fn(tx, a, now)
	})
	if err != nil {
		return nil, err
	}
	return s.get(ctx, s.db, id)
}

// validNext writes the next version of a and refuses it, with each failing
// test as a field error of "document", unless it passes the schema and
// every mandatory test.
func (s *Service) validNext(ctx context.Context, q store.Querier, a *Advisory, now time.Time) (*Prepared, error) {
	p, err := s.build(ctx, q, a, now)
	if err != nil {
		return nil, err
	}
	if p.Report, err = csaf.Validate(p.Content, csaf.PresetMandatory); err != nil {
		return nil, err
	}
	if !p.Report.Valid {
		return nil, invalid(p.Report)
	}
	return p, nil
}

// Return sends an advisory under review back to draft: the reviewer asks
// for changes (a note is needed), or the author withdraws it.
func (s *Service) Return(ctx context.Context, id int64, note string) (*Advisory, error) {
	p := auth.From(ctx)
	note = strings.TrimSpace(note)
	return s.step(ctx, id, StateReview, "err.adv.not_review", func(tx *store.Tx, a *Advisory, now time.Time) error {
		withdraw := a.SubmittedBy != 0 && a.SubmittedBy == p.UserID
		if !withdraw && note == "" {
			return errs.Field("note", "err.adv.note_missing", nil)
		}
		if _, err := tx.Exec(ctx, `UPDATE advisories SET state = 'draft', review_note = ?, reviewed_by = ?, updated_at = ? WHERE id = ?`,
			note, nullUser(p), now, id); err != nil {
			return err
		}
		action := "return"
		if withdraw {
			action = "withdraw"
		}
		return s.event(ctx, tx, now, a, action, 0, note, map[string]any{"state": a.State}, map[string]any{"state": StateDraft})
	})
}

// Approve is the second analyst's decision on an advisory under review:
// publish now (at nil) or at a later time (the embargo). The reviewer is
// neither the person who submitted it nor its last editor.
func (s *Service) Approve(ctx context.Context, id int64, at *time.Time) (*Advisory, error) {
	p := auth.From(ctx)
	if at != nil {
		t := at.UTC().Truncate(time.Second)
		if !t.After(s.tick()) {
			return nil, errs.Field("publish_at", "err.adv.publish_at_past", nil)
		}
		at = &t
	}
	return s.step(ctx, id, StateReview, "err.adv.not_review", func(tx *store.Tx, a *Advisory, now time.Time) error {
		if p.UserID == 0 || p.UserID == a.SubmittedBy || p.UserID == a.UpdatedBy {
			return errs.E(errs.Forbidden, "err.adv.four_eyes")
		}
		if at != nil {
			if _, err := tx.Exec(ctx, `UPDATE advisories SET state = 'scheduled', publish_at = ?, reviewed_by = ?, updated_at = ? WHERE id = ?`,
				*at, p.UserID, now, id); err != nil {
				return err
			}
			return s.event(ctx, tx, now, a, "schedule", 0, at.Format(time.RFC3339), map[string]any{"state": a.State},
				map[string]any{"state": StateScheduled, "publish_at": at})
		}
		if err := s.event(ctx, tx, now, a, "approve", 0, "", map[string]any{"state": a.State}, map[string]any{"state": StatePublished}); err != nil {
			return err
		}
		a.ReviewedBy = p.UserID
		return s.publish(ctx, tx, a, now)
	})
}

// Cancel takes a scheduled publication back to draft.
func (s *Service) Cancel(ctx context.Context, id int64) (*Advisory, error) {
	return s.step(ctx, id, StateScheduled, "err.adv.not_scheduled", func(tx *store.Tx, a *Advisory, now time.Time) error {
		if _, err := tx.Exec(ctx, `UPDATE advisories SET state = 'draft', publish_at = NULL, updated_at = ? WHERE id = ?`, now, id); err != nil {
			return err
		}
		return s.event(ctx, tx, now, a, "cancel", 0, "", map[string]any{"state": a.State}, map[string]any{"state": StateDraft})
	})
}

// Revise starts the next revision of a published advisory: its working
// copy (the published document) becomes a draft again. The published
// versions stay served until the next one is published.
func (s *Service) Revise(ctx context.Context, id int64) (*Advisory, error) {
	return s.step(ctx, id, StatePublished, "err.adv.not_published", func(tx *store.Tx, a *Advisory, now time.Time) error {
		if _, err := tx.Exec(ctx, `UPDATE advisories SET state = 'draft', revision_summary = '', review_note = '', submitted_by = NULL,
			submitted_at = NULL, reviewed_by = NULL, publish_at = NULL, updated_by = ?, updated_at = ? WHERE id = ?`,
			nullUser(auth.From(ctx)), now, id); err != nil {
			return err
		}
		return s.event(ctx, tx, now, a, "revise", a.Published.Version+1, "", map[string]any{"state": a.State}, map[string]any{"state": StateDraft})
	})
}

// publish writes, validates, signs and stores the next version of a, and
// queues the alerts, inside tx.
func (s *Service) publish(ctx context.Context, tx *store.Tx, a *Advisory, now time.Time) error {
	if err := s.checkAudience(ctx, tx, a); err != nil {
		return err
	}
	p, err := s.validNext(ctx, tx, a, now)
	if err != nil {
		return err
	}
	sig, fpr, err := s.keys.sign(ctx, tx, p.Content, now)
	if err != nil {
		return err
	}
	s256, s512 := sha256.Sum256(p.Content), sha512.Sum512(p.Content)
	t := p.Document.Document.Tracking
	initial, err := time.Parse(time.RFC3339, t.InitialReleaseDate)
	if err != nil {
		return err
	}
	m := p.Document.Document
	if _, err := tx.Exec(ctx, `INSERT INTO advisory_versions (advisory_id, version, tracking_status, tlp, file_name, folder_year,
		initial_release_date, current_release_date, content, sha256, sha512, signature, key_fingerprint, published_by, reviewed_by,
		published_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, p.Version, t.Status, m.Distribution.TLP.Label, csaf.FileName(a.TrackingID), initial.UTC().Year(), t.InitialReleaseDate,
		t.CurrentReleaseDate, p.Content, hex.EncodeToString(s256[:]), hex.EncodeToString(s512[:]), sig, fpr,
		nullID(a.SubmittedBy), nullID(a.ReviewedBy), now); err != nil {
		return err
	}
	sum := summarise(p.Document)
	var score any
	if sum.Score != nil {
		score = *sum.Score
	}
	if _, err := tx.Exec(ctx, `UPDATE advisories SET state = 'published', published_version = ?, published_at = ?, publish_at = NULL,
		document = ?, pub_title = ?, pub_tlp = ?, pub_lang = ?, pub_status = ?, pub_score = ?, pub_severity = ?, pub_search = ?,
		reviewed_by = ?, updated_at = ? WHERE id = ?`,
		p.Version, now, string(p.Content), m.Title, m.Distribution.TLP.Label, m.Lang, t.Status, score, sum.Severity, sum.Search,
		nullID(a.ReviewedBy), now, a.ID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM advisory_products WHERE advisory_id = ?`, a.ID); err != nil {
		return err
	}
	for _, vp := range sum.Products {
		if _, err := tx.Exec(ctx, `INSERT INTO advisory_products (advisory_id, vendor, product) VALUES (?, ?, ?)`, a.ID, vp[0], vp[1]); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM advisory_cves WHERE advisory_id = ?`, a.ID); err != nil {
		return err
	}
	for _, c := range sum.CVEs {
		if _, err := tx.Exec(ctx, `INSERT INTO advisory_cves (advisory_id, cve) VALUES (?, ?)`, a.ID, c); err != nil {
			return err
		}
	}
	if err := s.event(ctx, tx, now, a, "publish", p.Version, "", nil, map[string]any{"version": p.Version, "status": t.Status,
		"sha256": hex.EncodeToString(s256[:]), "key": fpr, "tlp": m.Distribution.TLP.Label}); err != nil {
		return err
	}
	return s.alert(ctx, tx, a, p, sum)
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// PublishDue publishes the scheduled advisories whose time has come and
// returns how many. A document that no longer passes (a schema update, a
// missing key) goes back to draft with the reason in its history, rather
// than being retried for ever.
func (s *Service) PublishDue(ctx context.Context) (int, error) {
	ctx = auth.With(ctx, auth.System)
	now := s.tick()
	rows, err := s.db.Query(ctx, `SELECT id FROM advisories WHERE state = 'scheduled' AND publish_at <= ? ORDER BY publish_at, id`, now)
	if err != nil {
		return 0, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	n := 0
	for _, id := range ids {
		err := s.db.Tx(ctx, func(tx *store.Tx) error {
			a, err := s.get(ctx, tx, id)
			if err != nil {
				return err
			}
			if a.State != StateScheduled { // another instance was first
				return nil
			}
			if err := s.publish(ctx, tx, a, now); err != nil {
				return err
			}
			n++
			return nil
		})
		if err == nil {
			continue
		}
		var e *errs.Error
		if !errors.As(err, &e) || (e.Kind != errs.Invalid && e.Kind != errs.Conflict) {
			return n, err
		}
		s.log.Warn("scheduled advisory not published", "advisory", id, "err", err)
		if err := s.db.Tx(ctx, func(tx *store.Tx) error {
			a, err := s.get(ctx, tx, id)
			if err != nil || a.State != StateScheduled {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE advisories SET state = 'draft', publish_at = NULL, updated_at = ? WHERE id = ?`, now, id); err != nil {
				return err
			}
			return s.event(ctx, tx, now, a, "schedule_failed", 0, e.Code, map[string]any{"state": a.State}, map[string]any{"state": StateDraft})
		}); err != nil {
			return n, err
		}
	}
	return n, nil
}

// PublishArgs is the periodic job that publishes scheduled advisories.
type PublishArgs struct{}

// Kind names the job.
func (PublishArgs) Kind() string { return "advisory.publish_due" }

// PublishWorker runs PublishArgs.
type PublishWorker struct {
	river.WorkerDefaults[PublishArgs]
	Service *Service
}

// Work publishes what is due.
func (w *PublishWorker) Work(ctx context.Context, _ *river.Job[PublishArgs]) error {
	_, err := w.Service.PublishDue(ctx)
	return err
}
