package crisis

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/notify"
	"github.com/belfry-cert/belfry/internal/store"
)

// Sitrep is a situation report. Its sections come in the fixed order of
// UX pattern 23: level (number and name), TLP, time, situation, impact,
// actions, decisions, next update due. A draft takes the crisis's level
// when shown; publication fixes the level, the time and the number.
type Sitrep struct {
	ID           int64      `json:"id"`
	Number       int        `json:"number,omitempty"`
	Status       string     `json:"status"` // draft, published
	Level        string     `json:"level"`
	LevelNumber  int        `json:"level_number"`
	LevelName    string     `json:"level_name"`
	TLP          string     `json:"tlp"`
	Situation    string     `json:"situation"`
	Impact       string     `json:"impact"`
	Actions      string     `json:"actions"`
	Decisions    string     `json:"decisions"`
	NextUpdateAt *time.Time `json:"next_update_at,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	PublishedAt  *time.Time `json:"published_at,omitempty"`
	PublishedBy  string     `json:"published_by,omitempty"`
	// Recipients is how many addresses the published sitrep was mailed to.
	Recipients int `json:"recipients"`
}

// SitrepInput writes a draft; nil fields stay as they are. A new draft
// without Actions or Decisions gets them written from the open actions
// and the decisions since the last published sitrep.
type SitrepInput struct {
	TLP          *string    `json:"tlp,omitempty"`
	Situation    *string    `json:"situation,omitempty"`
	Impact       *string    `json:"impact,omitempty"`
	Actions      *string    `json:"actions,omitempty"`
	Decisions    *string    `json:"decisions,omitempty"`
	NextUpdateAt *time.Time `json:"next_update_at,omitempty"`
}

const maxSection = 100_000

const sitrepCols = `s.id, COALESCE(s.number, 0), s.status, s.level, s.tlp, s.situation, s.impact, s.actions, s.decisions, s.next_update_at,
	s.created_at, s.updated_at, s.published_at, COALESCE(u.email, ''), s.recipients`

func (s *Service) scanSitrep(row interface{ Scan(...any) error }, c *Crisis, locale string) (*Sitrep, error) {
	var r Sitrep
	var next, pub sql.Null[time.Time]
	if err := row.Scan(&r.ID, &r.Number, &r.Status, &r.Level, &r.TLP, &r.Situation, &r.Impact, &r.Actions, &r.Decisions, &next,
		&r.CreatedAt, &r.UpdatedAt, &pub, &r.PublishedBy, &r.Recipients); err != nil {
		return nil, err
	}
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	r.NextUpdateAt, r.PublishedAt = utcPtr(next), utcPtr(pub)
	if r.Status == "draft" {
		r.Level = c.Level
	}
	if l, ok := s.scale.Level(r.Level); ok {
		r.LevelNumber = l.Number
	}
	r.LevelName = s.LevelName(locale, r.Level)
	return &r, nil
}

func (s *Service) sitrep(ctx context.Context, q store.Querier, c *Crisis, sid int64) (*Sitrep, error) {
	r, err := s.scanSitrep(q.QueryRow(ctx, `SELECT `+sitrepCols+` FROM crisis_sitreps s LEFT JOIN users u ON u.id = s.published_by
		WHERE s.crisis_id = ? AND s.id = ?`, c.ID, sid), c, localeOf(auth.From(ctx)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "err.crisis.sitrep_not_found")
	}
	return r, err
}

// readable loads crisis id and sitrep sid as the caller may read it:
// published sitreps with any access, drafts with contribute.
func (s *Service) readable(ctx context.Context, id, sid int64) (*Crisis, *Sitrep, error) {
	c, err := s.need(ctx, s.db, id, AccessSitreps)
	if err != nil {
		return nil, nil, err
	}
	r, err := s.sitrep(ctx, s.db, c, sid)
	if err != nil {
		return nil, nil, err
	}
	if r.Status == "draft" && accessOf(c.Access) < AccessContribute {
		return nil, nil, errs.E(errs.NotFound, "err.crisis.sitrep_not_found")
	}
	return c, r, nil
}

// Sitreps lists a crisis's sitreps, newest first: drafts only for those
// who may write them.
func (s *Service) Sitreps(ctx context.Context, id int64) ([]*Sitrep, error) {
	c, err := s.need(ctx, s.db, id, AccessSitreps)
	if err != nil {
		return nil, err
	}
	q := `SELECT ` + sitrepCols + ` FROM crisis_sitreps s LEFT JOIN users u ON u.id = s.published_by WHERE s.crisis_id = ?`
	if c.Access == "sitreps" || c.Access == "read" {
		q += ` AND s.status = 'published'`
	}
	rows, err := s.db.Query(ctx, q+` ORDER BY CASE WHEN s.status = 'draft' THEN 0 ELSE 1 END, s.number DESC, s.id DESC`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Sitrep{}
	for rows.Next() {
		r, err := s.scanSitrep(rows, c, localeOf(auth.From(ctx)))
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Sitrep returns one sitrep.
func (s *Service) Sitrep(ctx context.Context, id, sid int64) (*Sitrep, error) {
	_, r, err := s.readable(ctx, id, sid)
	return r, err
}

// CreateSitrep starts a draft.
func (s *Service) CreateSitrep(ctx context.Context, id int64, in SitrepInput) (*Sitrep, error) {
	now := s.tick()
	var sid int64
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := s.need(ctx, tx, id, AccessContribute)
		if err != nil {
			return err
		}
		r := &Sitrep{TLP: c.TLP}
		if in.Actions == nil || in.Decisions == nil {
			if err := s.prefill(ctx, tx, c, r); err != nil {
				return err
			}
		}
		if err := applySitrep(r, in); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO crisis_sitreps (crisis_id, status, tlp, situation, impact, actions, decisions, next_update_at,
			created_by, created_at, updated_at) VALUES (?, 'draft', ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, id, r.TLP, r.Situation, r.Impact,
			r.Actions, r.Decisions, timeOrNil(r.NextUpdateAt), nullID(actorID(ctx)), now, now).Scan(&sid); err != nil {
			return err
		}
		return s.event(ctx, tx, now, c, "sitrep.draft", "", nil, map[string]any{"sitrep": sid})
	})
	if err != nil {
		return nil, err
	}
	return s.Sitrep(ctx, id, sid)
}

func timeOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}

// prefill writes the open actions and the decisions recorded since the
// last published sitrep into a new draft.
func (s *Service) prefill(ctx context.Context, q store.Querier, c *Crisis, r *Sitrep) error {
	loc := localeOf(auth.From(ctx))
	acts, err := s.actions(ctx, q, c.ID, false)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, a := range acts {
		if a.Status != "open" {
			continue
		}
		fmt.Fprintf(&b, "- %s", a.Title)
		if a.Owner != "" {
			fmt.Fprintf(&b, " (%s)", a.Owner)
		}
		if a.DueAt != nil {
			fmt.Fprintf(&b, ": %s", s.when(loc, *a.DueAt))
		}
		b.WriteString("\n")
	}
	r.Actions = strings.TrimSpace(b.String())
	var since time.Time
	err = q.QueryRow(ctx, `SELECT published_at FROM crisis_sitreps WHERE crisis_id = ? AND status = 'published'
		ORDER BY published_at DESC LIMIT 1`, c.ID).Scan(&since)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	ds, err := decisions(ctx, q, c.ID, since)
	if err != nil {
		return err
	}
	b.Reset()
	for _, d := range ds {
		fmt.Fprintf(&b, "- %s, %s: %s (%s)\n", s.when(loc, d.DecidedAt), d.DecidedBy, d.Decision, d.Basis)
	}
	r.Decisions = strings.TrimSpace(b.String())
	return nil
}

// when writes a time for people in locale (Brussels time).
func (s *Service) when(locale string, t time.Time) string {
	if s.cat == nil {
		return t.UTC().Format(time.RFC3339)
	}
	return s.cat.DateTime(locale, t)
}

func applySitrep(r *Sitrep, in SitrepInput) error {
	var v errs.Validator
	if in.TLP != nil {
		r.TLP = normTLP(*in.TLP)
		v.Check(slices.Contains(TLPs, r.TLP), "tlp", "err.crisis.tlp")
	}
	for _, f := range []struct {
		name string
		in   *string
		dst  *string
	}{{"situation", in.Situation, &r.Situation}, {"impact", in.Impact, &r.Impact}, {"actions", in.Actions, &r.Actions}, {"decisions", in.Decisions, &r.Decisions}} {
		if f.in != nil {
			*f.dst = strings.TrimSpace(*f.in)
			v.Check(len(*f.dst) <= maxSection, f.name, "err.crisis.too_long")
		}
	}
	if in.NextUpdateAt != nil {
		t := in.NextUpdateAt.UTC().Truncate(time.Microsecond)
		r.NextUpdateAt = &t
	}
	return v.Err()
}

// UpdateSitrep changes a draft; a published sitrep does not change.
func (s *Service) UpdateSitrep(ctx context.Context, id, sid int64, in SitrepInput) (*Sitrep, error) {
	now := s.tick()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		c, r, err := s.draft(ctx, tx, id, sid)
		if err != nil {
			return err
		}
		if err := applySitrep(r, in); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE crisis_sitreps SET tlp = ?, situation = ?, impact = ?, actions = ?, decisions = ?, next_update_at = ?,
			updated_at = ? WHERE id = ?`, r.TLP, r.Situation, r.Impact, r.Actions, r.Decisions, timeOrNil(r.NextUpdateAt), now, sid); err != nil {
			return err
		}
		return s.event(ctx, tx, now, c, "sitrep.edit", "", nil, map[string]any{"sitrep": sid})
	})
	if err != nil {
		return nil, err
	}
	return s.Sitrep(ctx, id, sid)
}

// draft loads a sitrep that is still a draft, for a contributor.
func (s *Service) draft(ctx context.Context, tx *store.Tx, id, sid int64) (*Crisis, *Sitrep, error) {
	c, err := s.need(ctx, tx, id, AccessContribute)
	if err != nil {
		return nil, nil, err
	}
	r, err := s.sitrep(ctx, tx, c, sid)
	if err != nil {
		return nil, nil, err
	}
	if r.Status != "draft" {
		return nil, nil, errs.E(errs.Conflict, "err.crisis.sitrep_published")
	}
	return c, r, nil
}

// DeleteSitrep deletes a draft.
func (s *Service) DeleteSitrep(ctx context.Context, id, sid int64) error {
	now := s.tick()
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		c, _, err := s.draft(ctx, tx, id, sid)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM crisis_sitreps WHERE id = ?`, sid); err != nil {
			return err
		}
		return s.event(ctx, tx, now, c, "sitrep.delete", "", map[string]any{"sitrep": sid}, nil)
	})
}

// PublishInput publishes a draft; Distribute (default true) mails it.
type PublishInput struct {
	Distribute *bool `json:"distribute,omitempty"`
}

// PublishSitrep gives a draft the next number, fixes its level and time,
// moves the crisis's schedule to its next update, and mails it to the
// participants its TLP allows (TLP:RED: only named participants), all in
// one transaction.
func (s *Service) PublishSitrep(ctx context.Context, id, sid int64, in PublishInput) (*Sitrep, error) {
	now := s.tick()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		c, r, err := s.draft(ctx, tx, id, sid)
		if err != nil {
			return err
		}
		if c.Access != "manage" {
			return forbidden()
		}
		if r.Situation == "" {
			return errs.Field("situation", "err.crisis.situation_missing", nil)
		}
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(number), 0) + 1 FROM crisis_sitreps WHERE crisis_id = ?`, id).Scan(&r.Number); err != nil {
			return err
		}
		r.Status, r.PublishedAt, r.PublishedBy = "published", &now, auth.From(ctx).Email
		if r.NextUpdateAt == nil && c.SitrepInterval > 0 {
			t := now.Add(time.Duration(c.SitrepInterval) * time.Minute)
			r.NextUpdateAt = &t
		}
		if in.Distribute == nil || *in.Distribute {
			if r.Recipients, err = s.distribute(ctx, tx, c, r); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE crisis_sitreps SET number = ?, status = 'published', level = ?, next_update_at = ?, published_by = ?,
			published_at = ?, recipients = ?, updated_at = ? WHERE id = ?`, r.Number, c.Level, timeOrNil(r.NextUpdateAt), nullID(actorID(ctx)),
			now, r.Recipients, now, sid); err != nil {
			return err
		}
		if r.NextUpdateAt != nil {
			if _, err := tx.Exec(ctx, `UPDATE crises SET next_sitrep_at = ? WHERE id = ?`, r.NextUpdateAt.UTC(), id); err != nil {
				return err
			}
		}
		return s.event(ctx, tx, now, c, "sitrep.publish", fmt.Sprintf("#%d (%d)", r.Number, r.Recipients), nil,
			map[string]any{"sitrep": sid, "number": r.Number, "level": c.Level, "tlp": r.TLP, "recipients": r.Recipients})
	})
	if err != nil {
		return nil, err
	}
	return s.Sitrep(ctx, id, sid)
}

// distribute queues one message per recipient (so that nobody sees the
// others' addresses) and returns how many it queued.
func (s *Service) distribute(ctx context.Context, tx *store.Tx, c *Crisis, r *Sitrep) (int, error) {
	if s.mail == nil {
		return 0, nil
	}
	rcpts, err := recipients(ctx, tx, c.ID, r.TLP == "RED", nil)
	if err != nil {
		return 0, err
	}
	for _, to := range rcpts {
		loc := cmpOr(to.locale, localeOf(auth.From(ctx)))
		if !slices.Contains([]string{"nl", "fr", "de", "en"}, loc) {
			loc = "en"
		}
		r.LevelName = s.LevelName(loc, r.Level)
		html, err := s.RenderHTML(c, r, loc)
		if err != nil {
			return 0, err
		}
		m := notify.Message{To: []string{to.email}, Subject: s.SitrepSubject(c, r, loc), Text: s.RenderMarkdown(c, r, loc),
			Attachments: []notify.Attachment{{Name: SitrepFileName(c, r, "html"), ContentType: "text/html; charset=utf-8", Data: html}}}
		if err := s.mail.Enqueue(ctx, tx, m); err != nil {
			return 0, err
		}
	}
	return len(rcpts), nil
}

// SitrepSubject is the subject of a sitrep's e-mail: the exercise mark,
// the TLP label, the reference, the number and the title.
func (s *Service) SitrepSubject(c *Crisis, r *Sitrep, locale string) string {
	return fmt.Sprintf("[TLP:%s] %s: %s", r.TLP, c.Ref, s.sitrepTitle(c, r, locale))
}

func (s *Service) sitrepTitle(c *Crisis, r *Sitrep, locale string) string {
	t := s.t(locale, "crisis.sitrep.title_draft", nil)
	if r.Number > 0 {
		t = s.t(locale, "crisis.sitrep.title", map[string]any{"number": r.Number})
	}
	if c.Exercise {
		return "[EXERCISE] " + t + ": " + c.Title
	}
	return t + ": " + c.Title
}

func (s *Service) t(locale, key string, args map[string]any) string {
	if s.cat == nil {
		return key
	}
	return s.cat.T(locale, key, args)
}

// SitrepFileName names an export: CRISIS-2026-001-sitrep-3.html.
func SitrepFileName(c *Crisis, r *Sitrep, ext string) string {
	if r.Number == 0 {
		return fmt.Sprintf("%s-sitrep-draft-%d.%s", c.Ref, r.ID, ext)
	}
	return fmt.Sprintf("%s-sitrep-%d.%s", c.Ref, r.Number, ext)
}

// Export renders a sitrep the caller may read as "html" (a standalone,
// printable page) or "md" (Markdown) in locale, with its file name and
// media type.
func (s *Service) Export(ctx context.Context, id, sid int64, format, locale string) (body []byte, name, mediaType string, err error) {
	c, r, err := s.readable(ctx, id, sid)
	if err != nil {
		return nil, "", "", err
	}
	r.LevelName = s.LevelName(locale, r.Level)
	switch format {
	case "html", "":
		b, err := s.RenderHTML(c, r, locale)
		return b, SitrepFileName(c, r, "html"), "text/html; charset=utf-8", err
	case "md":
		return []byte(s.RenderMarkdown(c, r, locale)), SitrepFileName(c, r, "md"), "text/markdown; charset=utf-8", nil
	}
	return nil, "", "", errs.Field("format", "err.crisis.format", nil)
}

// section is one part of a sitrep in the fixed order.
type section struct {
	Heading string
	Text    string
}

// sections lists a sitrep's parts in the order of UX pattern 23.
func (s *Service) sections(c *Crisis, r *Sitrep, locale string) []section {
	none := s.t(locale, "crisis.sitrep.none", nil)
	at := s.t(locale, "crisis.sitrep.draft_time", map[string]any{"time": s.when(locale, r.UpdatedAt)})
	if r.PublishedAt != nil {
		at = s.when(locale, *r.PublishedAt)
	}
	next := none
	if r.NextUpdateAt != nil {
		next = s.when(locale, *r.NextUpdateAt)
	}
	return []section{
		{s.t(locale, "crisis.sitrep.level", nil), fmt.Sprintf("%d — %s", r.LevelNumber, r.LevelName)},
		{s.t(locale, "crisis.sitrep.tlp", nil), "TLP:" + r.TLP + " — " + s.t(locale, "crisis.tlp_meaning."+r.TLP, nil)},
		{s.t(locale, "crisis.sitrep.time", nil), at},
		{s.t(locale, "crisis.sitrep.situation", nil), cmpOr(r.Situation, none)},
		{s.t(locale, "crisis.sitrep.impact", nil), cmpOr(r.Impact, none)},
		{s.t(locale, "crisis.sitrep.actions", nil), cmpOr(r.Actions, none)},
		{s.t(locale, "crisis.sitrep.decisions", nil), cmpOr(r.Decisions, none)},
		{s.t(locale, "crisis.sitrep.next_update", nil), next},
	}
}

// RenderMarkdown writes a sitrep as Markdown: the TLP label first, the
// EXERCISE banner at the top and the bottom in exercise mode, then the
// sections in the fixed order.
func (s *Service) RenderMarkdown(c *Crisis, r *Sitrep, locale string) string {
	var b strings.Builder
	banner := "> **EXERCISE — EXERCISE — EXERCISE**: " + s.t(locale, "crisis.exercise.banner", nil) + "\n\n"
	fmt.Fprintf(&b, "**TLP:%s**\n\n", r.TLP)
	if c.Exercise {
		b.WriteString(banner)
	}
	fmt.Fprintf(&b, "# %s %s\n\n", c.Ref, s.sitrepTitle(c, r, locale))
	for _, sec := range s.sections(c, r, locale) {
		fmt.Fprintf(&b, "## %s\n\n%s\n\n", sec.Heading, sec.Text)
	}
	if c.Exercise {
		b.WriteString(banner)
	}
	fmt.Fprintf(&b, "**TLP:%s**\n", r.TLP)
	return b.String()
}

// tlpColours are FIRST's TLP 2.0 colours, written on black.
var tlpColours = map[string]string{"RED": "#FF2B2B", "AMBER+STRICT": "#FFC000", "AMBER": "#FFC000", "GREEN": "#33FF00", "CLEAR": "#FFFFFF"}

var sitrepPage = template.Must(template.New("sitrep").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.TLP}} {{.Title}}</title>
<style>{{.CSS}}</style>
</head>
<body>
<p class="tlp tlp-top"><strong>{{.TLP}}</strong> <span>{{.Meaning}}</span></p>
{{if .Exercise}}<p class="exercise exercise-top" role="note"><strong>EXERCISE — EXERCISE — EXERCISE</strong> {{.Banner}}</p>
{{end}}<main>
<h1>{{.Ref}} {{.Title}}</h1>
{{range .Sections}}<section>
<h2>{{.Heading}}</h2>
<div class="text">{{.Text}}</div>
</section>
{{end}}</main>
{{if .Exercise}}<p class="exercise exercise-bottom" role="note"><strong>EXERCISE — EXERCISE — EXERCISE</strong> {{.Banner}}</p>
{{end}}<p class="tlp tlp-bottom"><strong>{{.TLP}}</strong></p>
</body>
</html>
`))

// sitrepCSS is the page's style: screen and print. In print, the TLP label
// is repeated on every page by the @page margin boxes (and by the fixed
// running header for browsers without them), and so is the EXERCISE mark.
const sitrepCSS = `
body { font-family: system-ui, sans-serif; font-size: 1rem; line-height: 1.5; color: #0b0c0c; max-width: 42rem; margin: 1rem auto; padding: 0 1rem; }
h1 { font-size: 1.75rem; line-height: 1.2; }
h2 { font-size: 1.25rem; margin: 1.5rem 0 0.25rem; }
.text { white-space: pre-wrap; }
.tlp { background: #000; color: %[2]s; padding: 0.25rem 0.5rem; margin: 0; font-family: monospace; font-size: 1rem; }
.tlp span { color: #fff; font-family: system-ui, sans-serif; }
.exercise { border: 4px solid #0b0c0c; background: #ffdd00; color: #0b0c0c; padding: 0.5rem; text-align: center; font-size: 1.1rem; }
@page {
  size: A4;
  margin: 22mm 16mm;
  @top-center { content: "%[1]s%[3]s"; background: #000; color: %[2]s; font-family: monospace; font-weight: bold; }
  @bottom-center { content: "%[1]s%[3]s — " counter(page) " / " counter(pages); font-family: monospace; }
}
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 11pt; }
  .tlp, .exercise { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .tlp-top { position: fixed; top: -14mm; left: 0; right: 0; }
  .tlp-bottom { position: fixed; bottom: -14mm; left: 0; right: 0; }
  section { break-inside: avoid-page; }
  a[href]::after { content: " (" attr(href) ")"; }
}
`

// RenderHTML writes a sitrep as a standalone HTML page, ready to print to
// PDF: the TLP label on top and in the print CSS of every page, the
// EXERCISE banner top and bottom in exercise mode.
func (s *Service) RenderHTML(c *Crisis, r *Sitrep, locale string) ([]byte, error) {
	label := "TLP:" + r.TLP
	colour := tlpColours[r.TLP]
	ex := ""
	if c.Exercise {
		ex = " — EXERCISE"
	}
	data := map[string]any{
		"Lang": locale, "TLP": label, "Title": s.sitrepTitle(c, r, locale), "Ref": c.Ref, "Exercise": c.Exercise,
		"Meaning":  s.t(locale, "crisis.tlp_meaning."+r.TLP, nil),
		"Banner":   s.t(locale, "crisis.exercise.banner", nil),
		"Sections": s.sections(c, r, locale),
		// The label and colour come from fixed lists, never from input.
		"CSS": template.CSS(fmt.Sprintf(sitrepCSS, label, colour, ex)),
	}
	var buf bytes.Buffer
	if err := sitrepPage.Execute(&buf, data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
