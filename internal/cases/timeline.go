package cases

import (
	"bytes"
	"context"
	"html/template"
	"strings"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
)

// Event is an entry of a case's timeline: a note or a change.
type Event struct {
	ID    int64     `json:"id"`
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	Kind  string    `json:"kind"`
	TLP   string    `json:"tlp,omitempty"`
	Body  string    `json:"body"`
}

// HTML renders a note's Markdown safely: raw HTML is dropped and links
// with a dangerous scheme (javascript:, data: …) are not rendered, so a
// note cannot inject script into the portal.
func (e *Event) HTML() template.HTML {
	if e.Kind != "note" {
		return template.HTML(template.HTMLEscapeString(e.Body))
	}
	return RenderMarkdown(e.Body)
}

// markdown is CommonMark with tables, strikethrough and autolinks, and
// without raw HTML (goldmark's default: it writes "raw HTML omitted").
var markdown = goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.Linkify))

// RenderMarkdown turns Markdown into HTML that is safe to put in a page.
func RenderMarkdown(src string) template.HTML {
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(src), &buf); err != nil {
		return template.HTML("<p>" + template.HTMLEscapeString(src) + "</p>")
	}
	return template.HTML(buf.String()) // goldmark escapes text and drops raw HTML and unsafe links
}

// maxNote bounds a note's length.
const maxNote = 100_000

// AddNote adds a note (Markdown) to a case's timeline, with its TLP.
func (s *Service) AddNote(ctx context.Context, caseID int64, body, tlp string) (*Event, error) {
	if !CanWork(auth.From(ctx)) {
		return nil, forbidden()
	}
	body = strings.TrimSpace(body)
	tlp = strings.ToUpper(strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(tlp)), "TLP:"))
	var v errs.Validator
	v.Check(body != "", "body", "err.case.note_missing")
	v.Check(len(body) <= maxNote, "body", "err.case.note_long")
	v.Check(tlp == "" || containsTLP(tlp), "tlp", "err.case.tlp")
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := s.tick()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := s.get(ctx, tx, caseID)
		if err != nil {
			return err
		}
		if tlp == "" {
			tlp = c.TLP
		}
		if _, err := tx.Exec(ctx, `UPDATE cases SET updated_at = ? WHERE id = ?`, now, caseID); err != nil {
			return err
		}
		return s.event(ctx, tx, now, c, "note", tlp, body, nil, nil)
	})
	if err != nil {
		return nil, err
	}
	tl, err := s.Timeline(ctx, caseID)
	if err != nil || len(tl) == 0 {
		return nil, err
	}
	return tl[0], nil
}

func containsTLP(t string) bool {
	for _, x := range TLPs {
		if x == t {
			return true
		}
	}
	return false
}

// Timeline lists a case's notes and changes, newest first.
func (s *Service) Timeline(ctx context.Context, caseID int64) ([]*Event, error) {
	if err := s.readable(ctx, caseID); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT id, at, actor_label, kind, tlp, body FROM case_events WHERE case_id = ? ORDER BY id DESC`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Event{}
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.Kind, &e.TLP, &e.Body); err != nil {
			return nil, err
		}
		e.At = e.At.UTC()
		out = append(out, &e)
	}
	return out, rows.Err()
}
