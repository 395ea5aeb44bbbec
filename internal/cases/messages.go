package cases

// Messages between the CSIRT and the affected organisations (issue 6): a
// thread per case and affected organisation, in the portal for both sides
// and mirrored by e-mail, each message with its TLP label.
//
// Who reads a message in the portal: the authority's staff, always; the
// members and administrators of its organisation, unless it is TLP:RED,
// which only its author and the people it names read. An organisation
// never sees the case itself (timeline, tasks, observables, other
// organisations), only its own thread.
//
// Who gets the e-mail of a message from the CSIRT (mailRecipients):
// TLP:RED the named people only; TLP:AMBER+STRICT the organisation's
// members and administrators only; TLP:AMBER, GREEN and CLEAR those and
// the 24/7 incident contacts of its registration. RED and AMBER+STRICT
// mails hold only a link to the portal, never the content. A message from
// the organisation tells the case's assignee, with a link.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/belfry-cert/belfry/internal/audit"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/notify"
	"github.com/belfry-cert/belfry/internal/registry"
	"github.com/belfry-cert/belfry/internal/store"
)

// Directions of a message.
const (
	FromCSIRT        = "csirt"
	FromOrganisation = "organisation"
)

// maxMessage bounds a message's length, in characters.
const maxMessage = 20_000

// Message is a message of a case's thread with one organisation.
type Message struct {
	ID        int64  `json:"id"`
	CaseID    int64  `json:"case_id"`
	OrgID     int64  `json:"organisation_id"`
	Org       string `json:"organisation"`
	Direction string `json:"direction"` // csirt, organisation
	AuthorID  int64  `json:"author_id,omitempty"`
	Author    string `json:"author"`
	TLP       string `json:"tlp"`
	// Body is Markdown, rendered safely by HTML.
	Body string `json:"body"`
	// Recipients are the people a TLP:RED message names.
	Recipients []Person  `json:"recipients,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// HTML renders the body's Markdown safely.
func (m *Message) HTML() template.HTML { return RenderMarkdown(m.Body) }

// TLPClass is the CSS class of the message's label.
func (m *Message) TLPClass() string { return TLPClass(m.TLP) }

// TLPClass is the CSS class of a TLP label: tlp-amber-strict for
// AMBER+STRICT.
func TLPClass(tlp string) string { return strings.ReplaceAll(strings.ToLower(tlp), "+", "-") }

// Person is someone a message may name: a user of an organisation.
type Person struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	OrgID int64  `json:"-"`
	Org   string `json:"-"`
}

// MessageInput is a new message. OrgID is the thread's organisation (the
// CSIRT's messages; an organisation writes in its own thread); an empty
// TLP is the case's label (the CSIRT) or the thread's last one (the
// organisation); Recipients name the readers of a TLP:RED message.
type MessageInput struct {
	OrgID      int64   `json:"organisation_id,omitempty"`
	TLP        string  `json:"tlp,omitempty"`
	Body       string  `json:"body"`
	Recipients []int64 `json:"recipients,omitempty"`
}

// messageMail is where the e-mail mirror of a service's messages goes.
type messageMail struct {
	mail    Mailer
	baseURL string
}

// SetMessageMail gives the service the queue that mirrors messages by
// e-mail and the portal's address for links. Without it, messages stay
// in the portal.
func (s *Service) SetMessageMail(m Mailer, baseURL string) {
	s.msgMail = &messageMail{mail: m, baseURL: strings.TrimRight(baseURL, "/")}
}

func (s *Service) messageMail() *messageMail { return s.msgMail }

// onOrgSide reports whether p reads its organisation's threads: a member
// or administrator of an organisation other than the authority.
func onOrgSide(p *auth.Principal) bool {
	return p != nil && !p.IsAuthority() && !p.System && p.OrgID != 0 && p.HasAny(auth.RoleMember, auth.RoleOrgAdmin)
}

// normTLP reads a TLP label loosely: "tlp:amber" is AMBER.
func normTLP(t string) string {
	return strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(t)), "TLP:")
}

// affected reports whether org is an affected organisation of the case.
func affected(ctx context.Context, q store.Querier, caseID, org int64) (bool, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM case_orgs WHERE case_id = ? AND org_id = ?`, caseID, org).Scan(&n)
	return n > 0, err
}

// SendMessage sends a message of the CSIRT to an affected organisation
// (the authority's analysts, crisis managers and administrators).
func (s *Service) SendMessage(ctx context.Context, caseID int64, in MessageInput) (*Message, error) {
	if !CanWork(auth.From(ctx)) {
		return nil, forbidden()
	}
	return s.post(ctx, caseID, FromCSIRT, in)
}

// Reply sends a message of the signed-in person's organisation on a case
// that affects it. Another organisation's case is not found.
func (s *Service) Reply(ctx context.Context, caseID int64, in MessageInput) (*Message, error) {
	p := auth.From(ctx)
	if !onOrgSide(p) {
		return nil, notFound()
	}
	in.OrgID = p.OrgID
	return s.post(ctx, caseID, FromOrganisation, in)
}

// post stores a message, its recipients, the timeline entry and the audit
// record, and queues its e-mail, in one transaction.
func (s *Service) post(ctx context.Context, caseID int64, dir string, in MessageInput) (*Message, error) {
	p := auth.From(ctx)
	body := strings.TrimSpace(strings.ReplaceAll(in.Body, "\r\n", "\n"))
	tlp := normTLP(in.TLP)
	var v errs.Validator
	v.Check(body != "", "body", "err.casemsg.body_missing")
	if utf8.RuneCountInString(body) > maxMessage {
		v.Add("body", "err.casemsg.body_long", map[string]any{"max": maxMessage})
	}
	v.Check(tlp == "" || containsTLP(tlp), "tlp", "err.case.tlp")
	now := s.tick()
	var id int64
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := s.get(ctx, tx, caseID)
		if err != nil {
			return err
		}
		ok, err := affected(ctx, tx, caseID, in.OrgID)
		if err != nil {
			return err
		}
		switch {
		case !ok && dir == FromOrganisation:
			return notFound() // checked before anything is said about the input
		case !ok:
			v.Add("organisation_id", "err.casemsg.org", nil)
		case !p.CanWrite():
			return forbidden()
		}
		if c.MergedInto != "" {
			return errs.E(errs.Conflict, "err.case.merged")
		}
		if tlp == "" {
			if tlp, err = s.defaultTLP(ctx, tx, c, in.OrgID, dir); err != nil {
				return err
			}
		}
		recips := compact(in.Recipients)
		if tlp != "RED" {
			recips = nil // only a RED message names its readers
		} else if ok {
			if err := checkRecipients(ctx, tx, in.OrgID, recips, dir, &v); err != nil {
				return err
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO case_messages (case_id, org_id, direction, author_id, tlp, body, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, caseID, in.OrgID, dir, nullID(p.UserID), tlp, body, now).Scan(&id); err != nil {
			return err
		}
		for _, u := range recips {
			if _, err := tx.Exec(ctx, `INSERT INTO case_message_recipients (message_id, user_id) VALUES (?, ?)`, id, u); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE cases SET updated_at = ? WHERE id = ?`, now, caseID); err != nil {
			return err
		}
		ms, err := s.queryMessages(ctx, tx, ` WHERE m.id = ?`, id)
		if err != nil {
			return err
		}
		m := ms[0]
		if err := s.recordMessage(ctx, tx, now, c, m); err != nil {
			return err
		}
		return s.mirror(ctx, tx, c, m)
	})
	if err != nil {
		return nil, err
	}
	ms, err := s.queryMessages(ctx, s.db, ` WHERE m.id = ?`, id)
	if err != nil {
		return nil, err
	}
	return ms[0], nil
}

// defaultTLP is the label of a message sent without one: the case's for
// the CSIRT, the thread's last (else the case's) for the organisation.
func (s *Service) defaultTLP(ctx context.Context, tx *store.Tx, c *Case, org int64, dir string) (string, error) {
	if dir == FromCSIRT {
		return c.TLP, nil
	}
	var tlp string
	err := tx.QueryRow(ctx, `SELECT tlp FROM case_messages WHERE case_id = ? AND org_id = ? ORDER BY id DESC LIMIT 1`, c.ID, org).Scan(&tlp)
	if errors.Is(err, sql.ErrNoRows) {
		return c.TLP, nil
	}
	return tlp, err
}

// checkRecipients: the CSIRT's RED message names at least one person, and
// everyone named is an active member or administrator of org.
func checkRecipients(ctx context.Context, q store.Querier, org int64, ids []int64, dir string, v *errs.Validator) error {
	if len(ids) == 0 {
		if dir == FromCSIRT {
			v.Add("recipients", "err.casemsg.recipients_missing", nil)
		}
		return nil
	}
	members, err := orgPeople(ctx, q, []int64{org})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if !slices.ContainsFunc(members, func(p Person) bool { return p.ID == id }) {
			v.Add("recipients", "err.casemsg.recipient", nil)
			return nil
		}
	}
	return nil
}

// recordMessage adds the message to the case's timeline (without its
// content) and appends its audit record, under its organisation so that
// the organisation's audit trail shows it.
func (s *Service) recordMessage(ctx context.Context, tx *store.Tx, now time.Time, c *Case, m *Message) error {
	p := auth.From(ctx)
	var actor any
	label := "system"
	if p != nil && p.UserID != 0 {
		actor, label = p.UserID, p.Email
	}
	arrow := "→ "
	if m.Direction == FromOrganisation {
		arrow = "← "
	}
	if _, err := tx.Exec(ctx, `INSERT INTO case_events (case_id, at, actor_id, actor_label, kind, tlp, body) VALUES (?, ?, ?, ?, 'message', ?, ?)`,
		c.ID, now, actor, label, m.TLP, arrow+m.Org); err != nil {
		return err
	}
	var recips []int64
	for _, r := range m.Recipients {
		recips = append(recips, r.ID)
	}
	return audit.Append(ctx, tx, now, audit.Change{Action: "case.message", ObjectType: "case", ObjectID: itoa(c.ID), OrgID: m.OrgID,
		After: map[string]any{"message": m.ID, "direction": m.Direction, "tlp": m.TLP, "recipients": recips, "chars": utf8.RuneCountInString(m.Body)}})
}

const msgCols = `m.id, m.case_id, m.org_id, o.name, m.direction, m.author_id, COALESCE(u.name, ''), m.tlp, m.body, m.created_at`

const msgFrom = ` FROM case_messages m JOIN organisations o ON o.id = m.org_id LEFT JOIN users u ON u.id = m.author_id`

// queryMessages reads messages with their named recipients.
func (s *Service) queryMessages(ctx context.Context, q store.Querier, where string, args ...any) ([]*Message, error) {
	rows, err := q.Query(ctx, `SELECT `+msgCols+msgFrom+where, args...)
	if err != nil {
		return nil, err
	}
	out := []*Message{}
	byID := map[int64]*Message{}
	var red []any
	for rows.Next() {
		var m Message
		var author sql.Null[int64]
		if err := rows.Scan(&m.ID, &m.CaseID, &m.OrgID, &m.Org, &m.Direction, &author, &m.Author, &m.TLP, &m.Body, &m.CreatedAt); err != nil {
			rows.Close()
			return nil, err
		}
		m.AuthorID, m.CreatedAt = author.V, m.CreatedAt.UTC()
		out = append(out, &m)
		byID[m.ID] = &m
		if m.TLP == "RED" {
			red = append(red, m.ID)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(red) == 0 {
		return out, err
	}
	rows, err = q.Query(ctx, `SELECT r.message_id, u.id, u.name, u.email FROM case_message_recipients r JOIN users u ON u.id = r.user_id
		WHERE r.message_id IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(red)), ", ")+`) ORDER BY lower(u.name), u.id`, red...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var mid int64
		var p Person
		if err := rows.Scan(&mid, &p.ID, &p.Name, &p.Email); err != nil {
			return nil, err
		}
		byID[mid].Recipients = append(byID[mid].Recipients, p)
	}
	return out, rows.Err()
}

// Messages lists a case's messages with every organisation, oldest first
// (the authority's staff).
func (s *Service) Messages(ctx context.Context, caseID int64) ([]*Message, error) {
	if !CanRead(auth.From(ctx)) {
		return nil, notFound()
	}
	if _, err := s.get(ctx, s.db, caseID); err != nil {
		return nil, err
	}
	return s.queryMessages(ctx, s.db, ` WHERE m.case_id = ? ORDER BY m.id`, caseID)
}

// visible limits messages to those the organisation's person p reads:
// its organisation's, and of those the TLP:RED ones only when p wrote
// them or is named.
const visible = ` AND m.org_id = ? AND (m.tlp <> 'RED' OR m.author_id = ?
	OR EXISTS (SELECT 1 FROM case_message_recipients r WHERE r.message_id = m.id AND r.user_id = ?))`

// OurCase is a case as an affected organisation sees it: its reference,
// title, status and label, and the last message it may read.
type OurCase struct {
	ID            int64      `json:"id"`
	Ref           string     `json:"ref"`
	Title         string     `json:"title"`
	Status        string     `json:"status"`
	TLP           string     `json:"tlp"`
	Exercise      bool       `json:"exercise"`
	UpdatedAt     time.Time  `json:"updated_at"`
	LastMessageAt *time.Time `json:"last_message_at,omitempty"`
	LastFrom      string     `json:"last_message_from,omitempty"`
}

// TLPClass is the CSS class of the case's label.
func (c *OurCase) TLPClass() string { return TLPClass(c.TLP) }

const ourCols = `c.id, c.ref, c.title, c.status, c.tlp, c.exercise, c.updated_at,
	(SELECT m.created_at FROM case_messages m WHERE m.case_id = c.id` + visible + ` ORDER BY m.id DESC LIMIT 1),
	(SELECT m.direction FROM case_messages m WHERE m.case_id = c.id` + visible + ` ORDER BY m.id DESC LIMIT 1)`

func scanOurCase(row interface{ Scan(...any) error }) (*OurCase, error) {
	var c OurCase
	var last sql.Null[time.Time]
	var from sql.Null[string]
	if err := row.Scan(&c.ID, &c.Ref, &c.Title, &c.Status, &c.TLP, &c.Exercise, &c.UpdatedAt, &last, &from); err != nil {
		return nil, err
	}
	c.UpdatedAt, c.LastFrom = c.UpdatedAt.UTC(), from.V
	if last.Valid {
		t := last.V.UTC()
		c.LastMessageAt = &t
	}
	return &c, nil
}

// ourArgs are the arguments of ourCols for p.
func ourArgs(p *auth.Principal) []any {
	return []any{p.OrgID, p.UserID, p.UserID, p.OrgID, p.UserID, p.UserID}
}

// OurCases lists the cases that affect the signed-in person's
// organisation, most recently changed first, and whether more follow.
func (s *Service) OurCases(ctx context.Context, offset, limit int) ([]*OurCase, bool, error) {
	p := auth.From(ctx)
	if !onOrgSide(p) {
		return nil, false, forbidden()
	}
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	rows, err := s.db.Query(ctx, `SELECT `+ourCols+` FROM case_orgs co JOIN cases c ON c.id = co.case_id WHERE co.org_id = ?
		ORDER BY c.updated_at DESC, c.id DESC LIMIT ? OFFSET ?`, append(ourArgs(p), p.OrgID, limit+1, max(offset, 0))...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	out := []*OurCase{}
	for rows.Next() {
		c, err := scanOurCase(rows)
		if err != nil {
			return nil, false, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}

// OurCase returns a case that affects the signed-in person's
// organisation; any other case is not found.
func (s *Service) OurCase(ctx context.Context, caseID int64) (*OurCase, error) {
	p := auth.From(ctx)
	if !onOrgSide(p) {
		return nil, notFound()
	}
	c, err := scanOurCase(s.db.QueryRow(ctx, `SELECT `+ourCols+` FROM case_orgs co JOIN cases c ON c.id = co.case_id
		WHERE co.org_id = ? AND c.id = ?`, append(ourArgs(p), p.OrgID, caseID)...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound()
	}
	return c, err
}

// OurMessages lists the messages the signed-in person reads on a case
// that affects their organisation, oldest first.
func (s *Service) OurMessages(ctx context.Context, caseID int64) ([]*Message, error) {
	if _, err := s.OurCase(ctx, caseID); err != nil {
		return nil, err
	}
	p := auth.From(ctx)
	return s.queryMessages(ctx, s.db, ` WHERE m.case_id = ?`+visible+` ORDER BY m.id`, caseID, p.OrgID, p.UserID, p.UserID)
}

// People lists who a TLP:RED message may name: for the staff, the active
// members and administrators of the case's affected organisations; for an
// organisation's person, their colleagues.
func (s *Service) People(ctx context.Context, caseID int64) ([]Person, error) {
	p := auth.From(ctx)
	switch {
	case CanRead(p):
		c, err := s.get(ctx, s.db, caseID)
		if err != nil {
			return nil, err
		}
		var orgs []int64
		for _, o := range c.Orgs {
			orgs = append(orgs, o.ID)
		}
		return orgPeople(ctx, s.db, orgs)
	case onOrgSide(p):
		if _, err := s.OurCase(ctx, caseID); err != nil {
			return nil, err
		}
		all, err := orgPeople(ctx, s.db, []int64{p.OrgID})
		return slices.DeleteFunc(all, func(x Person) bool { return x.ID == p.UserID }), err
	}
	return nil, notFound()
}

// orgPeople are the active members and administrators of orgs, by
// organisation and name.
func orgPeople(ctx context.Context, q store.Querier, orgs []int64) ([]Person, error) {
	if len(orgs) == 0 {
		return nil, nil
	}
	args := []any{string(auth.RoleMember), string(auth.RoleOrgAdmin)}
	for _, o := range orgs {
		args = append(args, o)
	}
	rows, err := q.Query(ctx, `SELECT u.id, u.name, u.email, o.id, o.name FROM users u JOIN organisations o ON o.id = u.org_id
		WHERE NOT u.disabled AND o.kind <> 'authority'
		AND EXISTS (SELECT 1 FROM user_roles ur WHERE ur.user_id = u.id AND ur.role IN (?, ?))
		AND u.org_id IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(orgs)), ", ")+`) ORDER BY lower(o.name), o.id, lower(u.name), u.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Person
	for rows.Next() {
		var x Person
		if err := rows.Scan(&x.ID, &x.Name, &x.Email, &x.OrgID, &x.Org); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// mailTo is one recipient of a message's e-mail.
type mailTo struct {
	email, locale string
	staff         bool // the case's assignee: the link opens the case
}

// mailRecipients are who the e-mail of m goes to (see the file's comment),
// each address once.
func mailRecipients(ctx context.Context, q store.Querier, c *Case, m *Message) ([]mailTo, error) {
	var out []mailTo
	add := func(t mailTo) {
		t.email = strings.TrimSpace(t.email)
		if t.email != "" && !slices.ContainsFunc(out, func(x mailTo) bool { return strings.EqualFold(x.email, t.email) }) {
			out = append(out, t)
		}
	}
	if m.Direction == FromOrganisation {
		if c.AssigneeID == 0 {
			return nil, nil
		}
		var t mailTo
		err := q.QueryRow(ctx, `SELECT email, locale FROM users WHERE id = ? AND NOT disabled`, c.AssigneeID).Scan(&t.email, &t.locale)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		t.staff = true
		add(t)
		return out, err
	}
	if m.TLP == "RED" {
		for _, r := range m.Recipients {
			var t mailTo
			err := q.QueryRow(ctx, `SELECT email, locale FROM users WHERE id = ? AND NOT disabled`, r.ID).Scan(&t.email, &t.locale)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return nil, err
			}
			add(t)
		}
		return out, nil
	}
	rows, err := q.Query(ctx, `SELECT u.email, u.locale FROM users u WHERE u.org_id = ? AND NOT u.disabled
		AND EXISTS (SELECT 1 FROM user_roles ur WHERE ur.user_id = u.id AND ur.role IN (?, ?)) ORDER BY u.id`,
		m.OrgID, string(auth.RoleMember), string(auth.RoleOrgAdmin))
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var t mailTo
		if err := rows.Scan(&t.email, &t.locale); err != nil {
			rows.Close()
			return nil, err
		}
		add(t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if m.TLP == "AMBER+STRICT" {
		return out, nil // inside the organisation: never its registered contacts
	}
	contacts, err := incidentContacts(ctx, q, m.OrgID)
	for _, ct := range contacts {
		add(ct)
	}
	return out, err
}

// incidentContacts are the 24/7 incident contacts of org's registration.
func incidentContacts(ctx context.Context, q store.Querier, org int64) ([]mailTo, error) {
	var data string
	err := q.QueryRow(ctx, `SELECT data FROM registrations WHERE org_id = ?`, org).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var reg struct {
		registry.Profile
		Nested *registry.Profile `json:"profile"`
	}
	if err := json.Unmarshal([]byte(data), &reg); err != nil {
		return nil, fmt.Errorf("registration %d data: %w", org, err)
	}
	contacts := reg.Contacts
	if reg.Nested != nil {
		contacts = append(contacts, reg.Nested.Contacts...)
	}
	var out []mailTo
	for _, c := range contacts {
		if c.Role == registry.RoleIncident24x7 {
			out = append(out, mailTo{email: c.Email, locale: c.Language})
		}
	}
	return out, nil
}

// withContent reports whether a message's e-mail may carry its content:
// not for TLP:RED and TLP:AMBER+STRICT, which only link to the portal.
func withContent(tlp string) bool { return tlp != "RED" && tlp != "AMBER+STRICT" }

// mirror queues, in tx, the e-mail of m to each recipient in their
// language.
func (s *Service) mirror(ctx context.Context, tx *store.Tx, c *Case, m *Message) error {
	cfg := s.messageMail()
	if cfg == nil || cfg.mail == nil || s.cat == nil {
		return nil
	}
	to, err := mailRecipients(ctx, tx, c, m)
	if err != nil {
		return err
	}
	for _, t := range to {
		if err := cfg.mail.Enqueue(ctx, tx, s.messageMailFor(cfg.baseURL, c, m, t)); err != nil {
			return err
		}
	}
	return nil
}

// messageMailFor writes the e-mail of m to t. The subject starts with the
// label and the body repeats it on its first line.
func (s *Service) messageMailFor(baseURL string, c *Case, m *Message, t mailTo) notify.Message {
	l := t.locale
	if !i18n.Supported(l) {
		l = i18n.Default
	}
	label := "TLP:" + m.TLP
	args := map[string]any{"ref": c.Ref, "case": oneLine(c.Title), "org": m.Org, "label": label,
		"link": baseURL + "/" + l + "/our-cases/" + itoa(c.ID)}
	subject, body := "casemsg.mail.subject", "casemsg.mail.body_link"
	switch {
	case t.staff:
		args["link"] = baseURL + "/" + l + "/cases/" + itoa(c.ID) + "/messages"
		subject, body = "casemsg.mail.subject_from_org", "casemsg.mail.body_from_org"
	case withContent(m.TLP):
		body = "casemsg.mail.body_content"
		args["message"] = m.Body
	}
	prefix := "[" + label + "] "
	if c.Exercise {
		prefix += "[" + s.cat.T(l, "casemsg.exercise", nil) + "] "
	}
	text := label + "\n" + s.cat.T(l, "casemsg.tlp.meaning."+m.TLP, nil) + "\n\n" + s.cat.T(l, body, args) +
		"\n\n" + s.cat.T(l, "mail.auto_generated", nil) + "\n"
	return notify.Message{To: []string{t.email}, Subject: prefix + c.Ref + ": " + s.cat.T(l, subject, args), Text: text}
}

// oneLine folds a title onto one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
