package cases

// Merging and splitting cases without losing history: a merged case stays
// (read-only, closed, pointing at the case it went into) with its whole
// timeline; a split moves chosen observables and tasks to a new case.
// Both cases' timelines record the step, and the two are linked.

import (
	"context"
	"fmt"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
)

// Merge merges case source into case target: the target gains the
// source's affected organisations, links, observables (keeping the
// target's marks where both have a value) and open tasks; the source is
// closed as merged and keeps its timeline.
func (s *Service) Merge(ctx context.Context, sourceID, targetID int64) (*Case, error) {
	if !CanWork(auth.From(ctx)) {
		return nil, forbidden()
	}
	if sourceID == targetID {
		return nil, errs.Field("target", "err.case.merge_self", nil)
	}
	now := s.tick()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		src, err := s.get(ctx, tx, sourceID)
		if err != nil {
			return err
		}
		dst, err := s.get(ctx, tx, targetID)
		if err != nil {
			return err
		}
		if src.MergedInto != "" || dst.MergedInto != "" {
			return errs.E(errs.Conflict, "err.case.merged")
		}
		for _, q := range []string{
			`INSERT INTO case_orgs (case_id, org_id) SELECT ?, org_id FROM case_orgs WHERE case_id = ? ON CONFLICT DO NOTHING`,
			`INSERT INTO case_links (case_id, kind, target, created_by, created_at) SELECT ?, kind, target, created_by, created_at
				FROM case_links WHERE case_id = ? ON CONFLICT DO NOTHING`,
			`INSERT INTO case_observables (case_id, observable_id, tlp, ioc, sighted, note, created_by, created_at)
				SELECT ?, observable_id, tlp, ioc, sighted, note, created_by, created_at FROM case_observables WHERE case_id = ?
				ON CONFLICT DO NOTHING`,
		} {
			if _, err := tx.Exec(ctx, q, targetID, sourceID); err != nil {
				return err
			}
		}
		res, err := tx.Exec(ctx, `UPDATE case_tasks SET case_id = ? WHERE case_id = ? AND status = 'open'`, targetID, sourceID)
		if err != nil {
			return err
		}
		moved, _ := res.RowsAffected()
		if _, err := tx.Exec(ctx, `UPDATE cases SET status = 'closed', resolution = ?, merged_into = ?, closed_at = ?, updated_at = ? WHERE id = ?`,
			fmt.Sprintf("Merged into %s", dst.Ref), targetID, now, now, sourceID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE cases SET updated_at = ? WHERE id = ?`, now, targetID); err != nil {
			return err
		}
		for _, l := range []struct {
			c      *Case
			target string
		}{{src, dst.Ref}, {dst, src.Ref}} {
			if _, err := tx.Exec(ctx, `INSERT INTO case_links (case_id, kind, target, created_by, created_at) VALUES (?, 'case', ?, ?, ?)
				ON CONFLICT DO NOTHING`, l.c.ID, l.target, nullID(auth.From(ctx).UserID), now); err != nil {
				return err
			}
		}
		if err := s.event(ctx, tx, now, src, "merge", "", "→ "+dst.Ref, map[string]any{"status": src.Status},
			map[string]any{"merged_into": dst.Ref}); err != nil {
			return err
		}
		return s.event(ctx, tx, now, dst, "merge", "", fmt.Sprintf("← %s (%d open tasks)", src.Ref, moved), nil,
			map[string]any{"merged_from": src.Ref, "tasks_moved": moved})
	})
	if err != nil {
		return nil, err
	}
	return s.get(ctx, s.db, targetID)
}

// SplitInput is what a split moves to the new case, and the new case's
// title and severity (the rest is copied from the source).
type SplitInput struct {
	Title       string  `json:"title"`
	Observables []int64 `json:"observables"`
	Tasks       []int64 `json:"tasks"`
}

// Split moves chosen observables and tasks of a case to a new case with
// the same labels and affected organisations, in one transaction; both
// are linked.
func (s *Service) Split(ctx context.Context, sourceID int64, in SplitInput) (*Case, error) {
	if !CanWork(auth.From(ctx)) {
		return nil, forbidden()
	}
	if len(in.Observables) == 0 && len(in.Tasks) == 0 {
		return nil, errs.Field("observables", "err.case.split_empty", nil)
	}
	src, err := s.Get(ctx, sourceID)
	if err != nil {
		return nil, err
	}
	if src.MergedInto != "" {
		return nil, errs.E(errs.Conflict, "err.case.merged")
	}
	var orgs []int64
	for _, o := range src.Orgs {
		orgs = append(orgs, o.ID)
	}
	sev, tlp, pap, class := src.Severity, src.TLP, src.PAP, src.Classification
	return s.create(ctx, Input{Title: &in.Title, Severity: &sev, TLP: &tlp, PAP: &pap, Classification: &class, Orgs: &orgs,
		Exercise: &src.Exercise}, "split", []Link{{Kind: "case", Target: src.Ref}}, func(tx *store.Tx, nc *Case, now time.Time) error {
		for _, o := range compact(in.Observables) {
			res, err := tx.Exec(ctx, `UPDATE case_observables SET case_id = ? WHERE case_id = ? AND observable_id = ?`, nc.ID, sourceID, o)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return errs.Field("observables", "err.case.observable_not_found", nil)
			}
		}
		for _, t := range compact(in.Tasks) {
			res, err := tx.Exec(ctx, `UPDATE case_tasks SET case_id = ? WHERE case_id = ? AND id = ?`, nc.ID, sourceID, t)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return errs.Field("tasks", "err.case.task_not_found", nil)
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO case_links (case_id, kind, target, created_by, created_at) VALUES (?, 'case', ?, ?, ?)
			ON CONFLICT DO NOTHING`, sourceID, nc.Ref, nullID(auth.From(ctx).UserID), now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE cases SET updated_at = ? WHERE id = ?`, now, sourceID); err != nil {
			return err
		}
		return s.event(ctx, tx, now, src, "split", "", fmt.Sprintf("→ %s (%d observables, %d tasks)", nc.Ref, len(in.Observables), len(in.Tasks)),
			nil, map[string]any{"split_into": nc.Ref, "observables": in.Observables, "tasks": in.Tasks})
	})
}
