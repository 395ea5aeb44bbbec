package advisory

// Writing advisories: a new one (from a few facts or from imported CSAF
// JSON), edits of the working copy (the whole JSON, or a change made by
// the portal's structured editor), and the recipients of AMBER and RED
// advisories. Only drafts change.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/csaf"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
)

// NewInput is what a new advisory starts from.
type NewInput struct {
	Title    string `json:"title"`
	Lang     string `json:"lang"`
	TLP      string `json:"tlp"`
	Category string `json:"category"`
}

func (in *NewInput) check(v *errs.Validator) {
	in.Title = strings.TrimSpace(in.Title)
	if in.Category == "" {
		in.Category = "csaf_security_advisory"
	}
	v.Check(in.Title != "", "title", "err.adv.title_missing")
	v.Check(slices.Contains(Langs, in.Lang), "lang", "err.adv.lang")
	v.Check(slices.Contains(TLPs, in.TLP), "tlp", "err.adv.tlp")
	v.Check(slices.Contains(Categories, in.Category), "category", "err.adv.category")
}

// Create starts a draft with a new tracking id.
func (s *Service) Create(ctx context.Context, in NewInput) (*Advisory, error) {
	if !CanEdit(auth.From(ctx)) {
		return nil, forbidden()
	}
	var v errs.Validator
	in.check(&v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := s.tick()
	d := &csaf.Document{Document: csaf.DocumentMeta{Category: in.Category, CSAFVersion: "2.0", Lang: in.Lang, Title: in.Title,
		Distribution: &csaf.Distribution{TLP: &csaf.TLP{Label: in.TLP}}}}
	return s.insert(ctx, now, d, "create", "")
}

// Import starts a draft from a CSAF document written elsewhere. The
// document gets the authority's tracking id, publisher and tracking
// history on publication; its own tracking id is kept as an alias.
func (s *Service) Import(ctx context.Context, raw []byte) (*Advisory, error) {
	if !CanEdit(auth.From(ctx)) {
		return nil, forbidden()
	}
	d, err := decode(raw)
	if err != nil {
		return nil, err
	}
	if err := checkEditable(d); err != nil {
		return nil, err
	}
	if id := strings.TrimSpace(d.Document.Tracking.ID); id != "" && !slices.Contains(d.Document.Tracking.Aliases, id) {
		d.Document.Tracking.Aliases = append(d.Document.Tracking.Aliases, id)
	}
	return s.insert(ctx, s.tick(), d, "import", d.Document.Tracking.ID)
}

// decode reads CSAF JSON into the typed model; an error says why, for the
// field "document".
func decode(raw []byte) (*csaf.Document, error) {
	d, err := csaf.DecodeDocument(raw)
	if err != nil {
		return nil, errs.Field("document", "err.adv.json", map[string]any{"reason": err.Error()})
	}
	return d, nil
}

// checkEditable refuses a document whose facts the lists depend on are
// missing or unknown.
func checkEditable(d *csaf.Document) error {
	var v errs.Validator
	m := &d.Document
	m.Title = strings.TrimSpace(m.Title)
	v.Check(m.Title != "", "title", "err.adv.title_missing")
	if m.Lang == "" {
		m.Lang = "en"
	}
	v.Check(slices.Contains(Langs, strings.ToLower(m.Lang)), "lang", "err.adv.lang")
	m.Lang = strings.ToLower(m.Lang)
	if m.Distribution == nil || m.Distribution.TLP == nil {
		v.Add("tlp", "err.adv.tlp", nil)
	} else {
		v.Check(slices.Contains(TLPs, m.Distribution.TLP.Label), "tlp", "err.adv.tlp")
	}
	if m.CSAFVersion == "" {
		m.CSAFVersion = "2.0"
	}
	v.Check(m.CSAFVersion == "2.0", "document", "err.adv.csaf_version")
	return v.Err()
}

// insert stores a new draft of d under a new tracking id of this year.
func (s *Service) insert(ctx context.Context, now time.Time, d *csaf.Document, action, note string) (*Advisory, error) {
	p := auth.From(ctx)
	year := now.Year()
	var id int64
	for attempt := 0; ; attempt++ {
		err := s.db.Tx(ctx, func(tx *store.Tx) error {
			var seq int
			if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM advisories WHERE year = ?`, year).Scan(&seq); err != nil {
				return err
			}
			tid := fmt.Sprintf("%s-%d-%04d", s.cfg.Prefix, year, seq)
			s.manage(d, tid, now)
			raw, err := d.Marshal()
			if err != nil {
				return err
			}
			m := d.Document
			if err := tx.QueryRow(ctx, `INSERT INTO advisories (tracking_id, year, seq, state, document, title, lang, tlp,
				created_by, created_at, updated_by, updated_at) VALUES (?, ?, ?, 'draft', ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				tid, year, seq, string(raw), m.Title, m.Lang, m.Distribution.TLP.Label, nullUser(p), now, nullUser(p), now).Scan(&id); err != nil {
				return err
			}
			a := &Advisory{ID: id}
			return s.event(ctx, tx, now, a, action, 0, note, nil, map[string]any{"tracking_id": tid, "title": m.Title, "tlp": m.Distribution.TLP.Label})
		})
		if err != nil && store.IsUniqueViolation(err) && attempt < 5 {
			continue // another instance took the number
		}
		if err != nil {
			return nil, err
		}
		return s.get(ctx, s.db, id)
	}
}

func nullUser(p *auth.Principal) any {
	if p == nil || p.UserID == 0 {
		return nil
	}
	return p.UserID
}

// manage writes the fields Belfry manages into a working copy: the
// tracking id, the publisher, and tracking fields of a draft, so that the
// working copy is itself a valid draft document.
func (s *Service) manage(d *csaf.Document, tid string, now time.Time) {
	m := &d.Document
	m.CSAFVersion = "2.0"
	m.Publisher = s.cfg.Publisher
	t := &m.Tracking
	t.ID = tid
	if t.Status == "" || t.Version == "" {
		t.Status, t.Version = "draft", "0"
	}
	if t.InitialReleaseDate == "" {
		t.InitialReleaseDate = now.Format(time.RFC3339)
	}
	if t.CurrentReleaseDate == "" {
		t.CurrentReleaseDate = now.Format(time.RFC3339)
	}
	if len(t.RevisionHistory) == 0 {
		t.RevisionHistory = []csaf.Revision{{Date: now.Format(time.RFC3339), Number: t.Version, Summary: "Draft"}}
	}
}

// draft loads an advisory for a change of its working copy: it must be a
// draft, and the caller an editor.
func (s *Service) draft(ctx context.Context, tx *store.Tx, id int64) (*Advisory, error) {
	if !CanEdit(auth.From(ctx)) {
		return nil, forbidden()
	}
	a, err := s.get(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if a.State != StateDraft {
		return nil, errs.E(errs.Conflict, "err.adv.not_draft")
	}
	return a, nil
}

// Document returns the typed working copy of an advisory.
func (a *Advisory) Doc() (*csaf.Document, error) { return csaf.DecodeDocument(a.Document) }

// SetDocument replaces the working copy with raw CSAF JSON (the JSON
// editor and the API). The fields Belfry manages are kept its own.
func (s *Service) SetDocument(ctx context.Context, id int64, raw []byte) (*Advisory, error) {
	d, err := decode(raw)
	if err != nil {
		return nil, err
	}
	if err := checkEditable(d); err != nil {
		return nil, err
	}
	return s.save(ctx, id, "edit", func(old *csaf.Document) (*csaf.Document, error) {
		d.Document.Tracking = old.Document.Tracking
		return d, nil
	})
}

// Edit changes the working copy with fn (the structured editor). fn
// returns an errs.Invalid error to refuse the change with its fields.
func (s *Service) Edit(ctx context.Context, id int64, fn func(d *csaf.Document) error) (*Advisory, error) {
	return s.save(ctx, id, "edit", func(d *csaf.Document) (*csaf.Document, error) {
		if err := fn(d); err != nil {
			return nil, err
		}
		if err := checkEditable(d); err != nil {
			return nil, err
		}
		return d, nil
	})
}

func (s *Service) save(ctx context.Context, id int64, action string, change func(d *csaf.Document) (*csaf.Document, error)) (*Advisory, error) {
	now := s.tick()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		a, err := s.draft(ctx, tx, id)
		if err != nil {
			return err
		}
		old, err := a.Doc()
		if err != nil {
			return err
		}
		d, err := change(old)
		if err != nil {
			return err
		}
		s.manage(d, a.TrackingID, now)
		raw, err := d.Marshal()
		if err != nil {
			return err
		}
		m := d.Document
		if _, err := tx.Exec(ctx, `UPDATE advisories SET document = ?, title = ?, lang = ?, tlp = ?, updated_by = ?, updated_at = ? WHERE id = ?`,
			string(raw), m.Title, m.Lang, m.Distribution.TLP.Label, nullUser(auth.From(ctx)), now, id); err != nil {
			return err
		}
		return s.event(ctx, tx, now, a, action, 0, "", map[string]any{"title": a.Title, "tlp": a.TLP},
			map[string]any{"title": m.Title, "tlp": m.Distribution.TLP.Label})
	})
	if err != nil {
		return nil, err
	}
	return s.get(ctx, s.db, id)
}

// SetRecipients sets who may read the advisory besides the staff:
// organisations for AMBER, people for RED. It may change in any state:
// the audience of a published version can be widened or narrowed.
func (s *Service) SetRecipients(ctx context.Context, id int64, orgs, users []int64) (*Advisory, error) {
	if !CanEdit(auth.From(ctx)) {
		return nil, forbidden()
	}
	now := s.tick()
	slices.Sort(orgs)
	orgs = slices.Compact(orgs)
	slices.Sort(users)
	users = slices.Compact(users)
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		a, err := s.get(ctx, tx, id)
		if err != nil {
			return err
		}
		var v errs.Validator
		for _, o := range orgs {
			var kind string
			err := tx.QueryRow(ctx, `SELECT kind FROM organisations WHERE id = ?`, o).Scan(&kind)
			if errors.Is(err, sql.ErrNoRows) || kind == "authority" {
				v.Add("orgs", "err.adv.recipient_org", map[string]any{"id": o})
				continue
			}
			if err != nil {
				return err
			}
		}
		for _, u := range users {
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM users WHERE id = ?`, u).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				v.Add("users", "err.adv.recipient_user", map[string]any{"id": u})
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM advisory_recipients WHERE advisory_id = ?`, id); err != nil {
			return err
		}
		for _, o := range orgs {
			if _, err := tx.Exec(ctx, `INSERT INTO advisory_recipients (advisory_id, org_id) VALUES (?, ?)`, id, o); err != nil {
				return err
			}
		}
		for _, u := range users {
			if _, err := tx.Exec(ctx, `INSERT INTO advisory_recipients (advisory_id, user_id) VALUES (?, ?)`, id, u); err != nil {
				return err
			}
		}
		return s.event(ctx, tx, now, a, "recipients", 0, "", map[string]any{"orgs": a.RecipientOrgs, "users": a.RecipientUsers},
			map[string]any{"orgs": orgs, "users": users})
	})
	if err != nil {
		return nil, err
	}
	return s.get(ctx, s.db, id)
}
