package crisis

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/notify"
	"github.com/belfry-cert/belfry/internal/store"
)

// Entry is a contact of the directory: an entity's 24/7 incident contact
// from the registry, or a partner (a sector authority).
type Entry struct {
	Kind         string   `json:"kind"` // entity, partner
	OrgID        int64    `json:"organisation_id,omitempty"`
	Organisation string   `json:"organisation"`
	Sectors      []string `json:"sectors"`
	Name         string   `json:"name"`
	Email        string   `json:"email"`
	Phone        string   `json:"phone,omitempty"`
	Language     string   `json:"language,omitempty"`
}

// DirectoryFilter searches the directory: words in the organisation's or
// the contact's name or address, a NIS2 sector code, an organisation.
type DirectoryFilter struct {
	Text   string
	Sector string
	OrgID  int64
	Limit  int
}

// Directory lists the 24/7 contacts of entities (role incident_24x7 in
// their registration) and the sector authorities, for the authority's
// crisis staff: it spans every organisation, so no organisation reads it.
func (s *Service) Directory(ctx context.Context, f DirectoryFilter) ([]Entry, error) {
	if !CanDeclare(auth.From(ctx)) {
		return nil, errs.E(errs.NotFound, "err.not_found")
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 200
	}
	words := strings.Fields(strings.ToLower(f.Text))
	out, err := s.entityContacts(ctx, f, words)
	if err != nil {
		return nil, err
	}
	if f.OrgID == 0 {
		partners, err := s.partners(ctx, f, words)
		if err != nil {
			return nil, err
		}
		out = append(out, partners...)
	}
	if len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

func matches(words []string, fields ...string) bool {
	hay := strings.ToLower(strings.Join(fields, " "))
	for _, w := range words {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

func (s *Service) entityContacts(ctx context.Context, f DirectoryFilter, words []string) ([]Entry, error) {
	q := `SELECT o.id, o.name, r.sectors, r.data FROM registrations r JOIN organisations o ON o.id = r.org_id WHERE o.kind = 'entity'`
	var args []any
	if f.Sector != "" {
		q, args = q+` AND r.sectors LIKE ? ESCAPE '\'`, append(args, "% "+store.EscapeLike(f.Sector)+" %")
	}
	if f.OrgID != 0 {
		q, args = q+` AND o.id = ?`, append(args, f.OrgID)
	}
	for _, w := range words {
		like := "%" + store.EscapeLike(w) + "%"
		q, args = q+` AND (lower(o.name) LIKE ? ESCAPE '\' OR r.search LIKE ? ESCAPE '\')`, append(args, like, like)
	}
	rows, err := s.db.Query(ctx, q+` ORDER BY o.name, o.id LIMIT ?`, append(args, f.Limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		var id int64
		var name, sectors, data string
		if err := rows.Scan(&id, &name, &sectors, &data); err != nil {
			return nil, err
		}
		var prof struct {
			Contacts []struct {
				Role, Name, Email, Phone, Language string
			} `json:"contacts"`
		}
		if err := json.Unmarshal([]byte(data), &prof); err != nil {
			return nil, fmt.Errorf("crisis: registration of organisation %d: %w", id, err)
		}
		for _, c := range prof.Contacts {
			if c.Role != "incident_24x7" || !matches(words, name, c.Name, c.Email) {
				continue
			}
			out = append(out, Entry{Kind: "entity", OrgID: id, Organisation: name, Sectors: append([]string{}, strings.Fields(sectors)...),
				Name: c.Name, Email: c.Email, Phone: c.Phone, Language: c.Language})
		}
	}
	return out, rows.Err()
}

func (s *Service) partners(ctx context.Context, f DirectoryFilter, words []string) ([]Entry, error) {
	q := `SELECT name, sectors, email FROM sector_authorities WHERE active`
	var args []any
	if f.Sector != "" {
		q, args = q+` AND sectors LIKE ? ESCAPE '\'`, append(args, "% "+store.EscapeLike(f.Sector)+" %")
	}
	rows, err := s.db.Query(ctx, q+` ORDER BY name`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		var e Entry
		var sectors string
		if err := rows.Scan(&e.Organisation, &sectors, &e.Email); err != nil {
			return nil, err
		}
		if !matches(words, e.Organisation, e.Email) {
			continue
		}
		e.Kind, e.Name, e.Sectors = "partner", e.Organisation, append([]string{}, strings.Fields(sectors)...)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Callout is an alert sent to a selected group, with who has read and
// acknowledged it.
type Callout struct {
	ID         int64              `json:"id"`
	Subject    string             `json:"subject"`
	Message    string             `json:"message"`
	TLP        string             `json:"tlp"`
	SentBy     string             `json:"sent_by"`
	SentAt     time.Time          `json:"sent_at"`
	Recipients []CalloutRecipient `json:"recipients"`
	Read       int                `json:"read"`
	Acked      int                `json:"acknowledged"`
}

// CalloutRecipient is one recipient and what they did with the alert.
type CalloutRecipient struct {
	ID      int64      `json:"id"`
	Name    string     `json:"name"`
	Email   string     `json:"email"`
	OrgID   int64      `json:"organisation_id,omitempty"`
	Source  string     `json:"source"` // participant, directory
	ReadAt  *time.Time `json:"read_at,omitempty"`
	AckedAt *time.Time `json:"acknowledged_at,omitempty"`
}

// CalloutInput sends a call-out to participants (by id) and directory
// contacts (by e-mail address).
type CalloutInput struct {
	Subject      string   `json:"subject"`
	Message      string   `json:"message"`
	TLP          string   `json:"tlp"`
	Participants []int64  `json:"participants"`
	Contacts     []string `json:"contacts"`
}

// SendCallout sends an alert to the selected group, each recipient with a
// personal acknowledgement link whose token is stored only as its SHA-256.
func (s *Service) SendCallout(ctx context.Context, id int64, in CalloutInput) (*Callout, error) {
	if s.mail == nil {
		return nil, errs.E(errs.Unsupported, "err.crisis.no_mail")
	}
	in.Subject, in.Message, in.TLP = strings.TrimSpace(in.Subject), strings.TrimSpace(in.Message), normTLP(in.TLP)
	var v errs.Validator
	v.Check(in.Subject != "" && !strings.ContainsAny(in.Subject, "\r\n"), "subject", "err.crisis.subject_missing")
	v.Check(in.Message != "", "message", "err.crisis.message_missing")
	v.Check(len(in.Participants)+len(in.Contacts) > 0, "participants", "err.crisis.recipients_missing")
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := s.tick()
	var cid int64
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := s.need(ctx, tx, id, AccessManage)
		if err != nil {
			return err
		}
		in.TLP = cmpOr(in.TLP, c.TLP)
		if !slices.Contains(TLPs, in.TLP) {
			return errs.Field("tlp", "err.crisis.tlp", nil)
		}
		rcpts, err := s.calloutRecipients(ctx, tx, c, in)
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO crisis_callouts (crisis_id, subject, message, tlp, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			id, in.Subject, in.Message, in.TLP, nullID(actorID(ctx)), now).Scan(&cid); err != nil {
			return err
		}
		for _, r := range rcpts {
			if err := s.sendAlert(ctx, tx, c, cid, in, r); err != nil {
				return err
			}
		}
		return s.event(ctx, tx, now, c, "callout", fmt.Sprintf("%s (%d)", in.Subject, len(rcpts)), nil,
			map[string]any{"callout": cid, "subject": in.Subject, "tlp": in.TLP, "recipients": len(rcpts)})
	})
	if err != nil {
		return nil, err
	}
	return s.Callout(ctx, id, cid)
}

// calloutRecipients resolves the selected participants and directory
// contacts into addresses, once each.
func (s *Service) calloutRecipients(ctx context.Context, tx *store.Tx, c *Crisis, in CalloutInput) ([]recipient, error) {
	var out []recipient
	seen := map[string]bool{}
	if len(in.Participants) > 0 {
		ps, err := recipients(ctx, tx, c.ID, false, in.Participants)
		if err != nil {
			return nil, err
		}
		all, err := participants(ctx, tx, c.ID)
		if err != nil {
			return nil, err
		}
		for _, id := range in.Participants {
			if !slices.ContainsFunc(all, func(p *Participant) bool { return p.ID == id }) {
				return nil, errs.Field("participants", "err.crisis.participant_not_found", nil)
			}
		}
		for _, r := range ps {
			seen[strings.ToLower(r.email)] = true
			out = append(out, r)
		}
	}
	if len(in.Contacts) > 0 {
		dir, err := s.Directory(ctx, DirectoryFilter{Limit: 500_000})
		if err != nil {
			return nil, err
		}
		for _, addr := range in.Contacts {
			i := slices.IndexFunc(dir, func(e Entry) bool { return strings.EqualFold(e.Email, strings.TrimSpace(addr)) })
			if i < 0 {
				return nil, errs.Field("contacts", "err.crisis.contact_unknown", map[string]any{"email": addr})
			}
			if e := dir[i]; !seen[strings.ToLower(e.Email)] {
				seen[strings.ToLower(e.Email)] = true
				out = append(out, recipient{name: e.Name, email: e.Email, locale: e.Language, orgID: e.OrgID, source: "directory"})
			}
		}
	}
	if len(out) == 0 {
		return nil, errs.Field("participants", "err.crisis.recipients_missing", nil)
	}
	return out, nil
}

// sendAlert stores one recipient with the hash of a new token and queues
// the message with the personal acknowledgement link.
func (s *Service) sendAlert(ctx context.Context, tx *store.Tx, c *Crisis, cid int64, in CalloutInput, r recipient) error {
	token := rand.Text() + rand.Text()
	if _, err := tx.Exec(ctx, `INSERT INTO crisis_callout_recipients (callout_id, name, email, org_id, source, token_hash) VALUES (?, ?, ?, ?, ?, ?)`,
		cid, r.name, r.email, nullID(r.orgID), r.source, tokenHash(token)); err != nil {
		return err
	}
	loc := r.locale
	if !slices.Contains([]string{"nl", "fr", "de", "en"}, loc) {
		loc = localeOf(auth.From(ctx))
	}
	subject := fmt.Sprintf("[TLP:%s] %s: %s", in.TLP, c.Ref, in.Subject)
	if c.Exercise {
		subject = "[EXERCISE] " + subject
	}
	// The portal's page shows the message with a button: opening the link
	// records a read, only the button an acknowledgement (mail scanners
	// follow links).
	link := s.baseURL + "/" + loc + "/callouts/ack?token=" + url.QueryEscape(token)
	body := s.t(loc, "crisis.mail.callout.body", map[string]any{"tlp": "TLP:" + in.TLP, "ref": c.Ref, "crisis": c.DisplayTitle(),
		"message": in.Message, "link": link})
	if c.Exercise {
		body = "EXERCISE — EXERCISE — EXERCISE: " + s.t(loc, "crisis.exercise.banner", nil) + "\n\n" + body +
			"\n\nEXERCISE — EXERCISE — EXERCISE"
	}
	return s.mail.Enqueue(ctx, tx, notify.Message{To: []string{r.email}, Subject: subject, Text: body})
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Callouts lists a crisis's call-outs with their acknowledgements, newest
// first.
func (s *Service) Callouts(ctx context.Context, id int64) ([]*Callout, error) {
	if _, err := s.need(ctx, s.db, id, AccessRead); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT id FROM crisis_callouts WHERE crisis_id = ? ORDER BY id DESC`, id)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for rows.Next() {
		var cid int64
		if err := rows.Scan(&cid); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, cid)
	}
	rows.Close()
	out := []*Callout{}
	for _, cid := range ids {
		co, err := s.callout(ctx, s.db, id, cid)
		if err != nil {
			return nil, err
		}
		out = append(out, co)
	}
	return out, nil
}

// Callout returns one call-out with its recipients.
func (s *Service) Callout(ctx context.Context, id, cid int64) (*Callout, error) {
	if _, err := s.need(ctx, s.db, id, AccessRead); err != nil {
		return nil, err
	}
	return s.callout(ctx, s.db, id, cid)
}

func (s *Service) callout(ctx context.Context, q store.Querier, id, cid int64) (*Callout, error) {
	var co Callout
	err := q.QueryRow(ctx, `SELECT c.id, c.subject, c.message, c.tlp, COALESCE(u.email, 'system'), c.created_at FROM crisis_callouts c
		LEFT JOIN users u ON u.id = c.created_by WHERE c.crisis_id = ? AND c.id = ?`, id, cid).
		Scan(&co.ID, &co.Subject, &co.Message, &co.TLP, &co.SentBy, &co.SentAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "err.crisis.callout_not_found")
	}
	if err != nil {
		return nil, err
	}
	co.SentAt = co.SentAt.UTC()
	rows, err := q.Query(ctx, `SELECT id, name, email, COALESCE(org_id, 0), source, read_at, acked_at FROM crisis_callout_recipients
		WHERE callout_id = ? ORDER BY id`, cid)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	co.Recipients = []CalloutRecipient{}
	for rows.Next() {
		var r CalloutRecipient
		var read, acked sql.Null[time.Time]
		if err := rows.Scan(&r.ID, &r.Name, &r.Email, &r.OrgID, &r.Source, &read, &acked); err != nil {
			return nil, err
		}
		r.ReadAt, r.AckedAt = utcPtr(read), utcPtr(acked)
		if r.ReadAt != nil {
			co.Read++
		}
		if r.AckedAt != nil {
			co.Acked++
		}
		co.Recipients = append(co.Recipients, r)
	}
	return &co, rows.Err()
}

// Alert is a call-out as its recipient sees it through the link.
type Alert struct {
	Ref            string     `json:"ref"`
	Crisis         string     `json:"crisis"`
	Exercise       bool       `json:"exercise"`
	TLP            string     `json:"tlp"`
	Subject        string     `json:"subject"`
	Message        string     `json:"message"`
	SentAt         time.Time  `json:"sent_at"`
	Name           string     `json:"name"`
	ReadAt         time.Time  `json:"read_at"`
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"`
}

// ReadAlert shows the call-out of a token and records, the first time,
// that its recipient has read it. An unknown token is not found.
func (s *Service) ReadAlert(ctx context.Context, token string) (*Alert, error) {
	return s.alert(ctx, token, false)
}

// Acknowledge records that the recipient of a token acknowledges the
// call-out; doing it again changes nothing.
func (s *Service) Acknowledge(ctx context.Context, token string) (*Alert, error) {
	return s.alert(ctx, token, true)
}

func (s *Service) alert(ctx context.Context, token string, ack bool) (*Alert, error) {
	token = strings.TrimSpace(token)
	if token == "" || len(token) > 200 {
		return nil, errs.E(errs.NotFound, "err.crisis.token")
	}
	now := s.tick()
	var a Alert
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var rid, crisisID int64
		var read, acked sql.Null[time.Time]
		err := tx.QueryRow(ctx, `SELECT r.id, r.name, r.read_at, r.acked_at, c.subject, c.message, c.tlp, c.created_at, x.id, x.ref, x.title, x.exercise
			FROM crisis_callout_recipients r JOIN crisis_callouts c ON c.id = r.callout_id JOIN crises x ON x.id = c.crisis_id
			WHERE r.token_hash = ?`, tokenHash(token)).Scan(&rid, &a.Name, &read, &acked, &a.Subject, &a.Message, &a.TLP, &a.SentAt,
			&crisisID, &a.Ref, &a.Crisis, &a.Exercise)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(errs.NotFound, "err.crisis.token")
		}
		if err != nil {
			return err
		}
		a.SentAt = a.SentAt.UTC()
		if a.Exercise {
			a.Crisis = "[EXERCISE] " + a.Crisis
		}
		a.ReadAt, a.AcknowledgedAt = now, utcPtr(acked)
		if read.Valid {
			a.ReadAt = read.V.UTC()
		}
		changed := !read.Valid
		if ack && a.AcknowledgedAt == nil {
			a.AcknowledgedAt, changed = &now, true
		}
		if !changed {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE crisis_callout_recipients SET read_at = ?, acked_at = ? WHERE id = ?`, a.ReadAt, timeOrNil(a.AcknowledgedAt), rid); err != nil {
			return err
		}
		kind := "callout.read"
		if ack {
			kind = "callout.ack"
		}
		return s.event(ctx, tx, now, &Crisis{ID: crisisID}, kind, a.Name, nil, map[string]any{"recipient": rid})
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}
