package earlywarning

// What a ticket sends: the CSV file of its events, the JSON document of a
// webhook, and the e-mail digest in the recipient's language, encrypted
// with OpenPGP when the recipient has a key.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/notify"
	"github.com/belfry-cert/belfry/internal/registry"
	"github.com/belfry-cert/belfry/internal/store"
)

// brussels is the zone of the year in references.
var brussels, _ = time.LoadLocation("Europe/Brussels")

// Columns are the fixed columns of a ticket's CSV file, in IntelMQ's
// names where IntelMQ has one; the other fields of the events follow,
// sorted by name.
var Columns = []string{"event_id", "time.source", "feed.code", "severity", "classification.taxonomy", "classification.type",
	"classification.identifier", "source.ip", "source.port", "source.asn", "source.fqdn", "destination.ip", "destination.port",
	"destination.asn", "destination.fqdn", "extra.matched_on", "extra.matched_value"}

// flat returns e as IntelMQ key and text pairs: the fixed columns, empty
// when absent, and the other fields (strings as they are, numbers and
// booleans as JSON writes them, lists and objects as JSON).
func (e *Event) flat() (map[string]string, error) {
	num := func(n int64) string {
		if n == 0 {
			return ""
		}
		return strconv.FormatInt(n, 10)
	}
	t := ""
	if e.Time != nil {
		t = e.Time.UTC().Format(time.RFC3339)
	}
	m := map[string]string{"event_id": strconv.FormatInt(e.ID, 10), "time.source": t, "feed.code": e.ReportType, "severity": e.Severity,
		"classification.taxonomy": e.Taxonomy, "classification.type": e.Type, "classification.identifier": e.Identifier,
		"source.ip": e.SrcIP, "source.port": num(int64(e.SrcPort)), "source.asn": num(e.SrcASN), "source.fqdn": e.SrcFQDN,
		"destination.ip": e.DstIP, "destination.port": num(int64(e.DstPort)), "destination.asn": num(e.DstASN),
		"destination.fqdn": e.DstFQDN, "extra.matched_on": e.MatchedOn, "extra.matched_value": e.MatchedValue}
	fields := map[string]json.RawMessage{}
	if e.Fields != "" {
		if err := json.Unmarshal([]byte(e.Fields), &fields); err != nil {
			return nil, fmt.Errorf("event %d fields: %w", e.ID, err)
		}
	}
	for k, raw := range fields {
		if _, fixed := m[k]; fixed {
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			m[k] = s
		} else if string(raw) != "null" {
			m[k] = string(raw)
		}
	}
	return m, nil
}

// eventsCSV writes the CSV file of evs: a header row of Columns and the
// sorted field names, one row per event, CRLF line ends. Cells a
// spreadsheet would run as a formula get a leading apostrophe.
func eventsCSV(evs []Event) ([]byte, error) {
	rows := make([]map[string]string, len(evs))
	extra := map[string]bool{}
	for i := range evs {
		m, err := evs[i].flat()
		if err != nil {
			return nil, err
		}
		rows[i] = m
		for k := range m {
			if !slices.Contains(Columns, k) {
				extra[k] = true
			}
		}
	}
	cols := slices.Clone(Columns)
	more := make([]string, 0, len(extra))
	for k := range extra {
		more = append(more, k)
	}
	slices.Sort(more)
	cols = append(cols, more...)
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	if err := w.Write(cols); err != nil {
		return nil, err
	}
	rec := make([]string, len(cols))
	for _, m := range rows {
		for i, c := range cols {
			rec[i] = csvSafe(m[c])
		}
		if err := w.Write(rec); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

// csvSafe defuses a cell that a spreadsheet would run as a formula.
func csvSafe(v string) string {
	if v == "" {
		return v
	}
	switch v[0] {
	case '=', '+', '@', '\t', '\r':
		return "'" + v
	case '-':
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return "'" + v
		}
	}
	return v
}

// WebhookTicket is the ticket part of a webhook document.
type WebhookTicket struct {
	Ref          string    `json:"ref"`
	OrgID        int64     `json:"org_id"`
	Organisation string    `json:"organisation"`
	CreatedAt    time.Time `json:"created_at"`
	Events       int       `json:"events"`
}

// WebhookDocument is the body of a webhook call: the ticket and its events
// as flat IntelMQ objects (absent values left out; event_id, ports and AS
// numbers as numbers).
type WebhookDocument struct {
	Ticket WebhookTicket    `json:"ticket"`
	Events []map[string]any `json:"events"`
}

func webhookBody(t *Ticket, evs []Event) ([]byte, error) {
	doc := WebhookDocument{Ticket: WebhookTicket{Ref: t.Ref, OrgID: t.OrgID, Organisation: t.OrgName, CreatedAt: t.CreatedAt, Events: len(evs)},
		Events: make([]map[string]any, 0, len(evs))}
	for i := range evs {
		e, err := eventJSON(&evs[i])
		if err != nil {
			return nil, err
		}
		doc.Events = append(doc.Events, e)
	}
	return json.Marshal(doc)
}

// eventJSON is e as one flat IntelMQ object.
func eventJSON(e *Event) (map[string]any, error) {
	m := map[string]any{}
	if e.Fields != "" {
		if err := json.Unmarshal([]byte(e.Fields), &m); err != nil {
			return nil, fmt.Errorf("event %d fields: %w", e.ID, err)
		}
	}
	set := func(k string, v any) {
		switch x := v.(type) {
		case string:
			if x == "" {
				return
			}
		case int64:
			if x == 0 {
				return
			}
		}
		m[k] = v
	}
	m["event_id"] = e.ID
	if e.Time != nil {
		m["time.source"] = e.Time.UTC().Format(time.RFC3339)
	}
	set("feed.code", e.ReportType)
	set("severity", e.Severity)
	set("classification.taxonomy", e.Taxonomy)
	set("classification.type", e.Type)
	set("classification.identifier", e.Identifier)
	set("source.ip", e.SrcIP)
	set("source.port", int64(e.SrcPort))
	set("source.asn", e.SrcASN)
	set("source.fqdn", e.SrcFQDN)
	set("destination.ip", e.DstIP)
	set("destination.port", int64(e.DstPort))
	set("destination.asn", e.DstASN)
	set("destination.fqdn", e.DstFQDN)
	set("extra.matched_on", e.MatchedOn)
	set("extra.matched_value", e.MatchedValue)
	return m, nil
}

// recipient is one address of an e-mail digest, with its language and
// its OpenPGP public key ("" for none).
type recipient struct {
	email, locale, key string
}

// recipients are those of set: its addresses, else the registration's
// contacts with the 24/7 incident or technical alerts role, else the
// organisation's administrators. An address that is also a contact's gets
// that contact's language and key; the others get the organisation's
// language (its contacts' first, else its users', else English).
func recipients(ctx context.Context, q store.Querier, set *Settings) ([]recipient, error) {
	contacts, err := contactsOf(ctx, q, set.OrgID)
	if err != nil {
		return nil, err
	}
	admins, err := adminsOf(ctx, q, set.OrgID)
	if err != nil {
		return nil, err
	}
	lang := ""
	for _, c := range contacts {
		if lang == "" && i18n.Supported(c.locale) {
			lang = c.locale
		}
	}
	for _, a := range admins {
		if lang == "" && i18n.Supported(a.locale) {
			lang = a.locale
		}
	}
	if lang == "" {
		lang = i18n.Default
	}
	var out []recipient
	add := func(r recipient) {
		for i := range out {
			if strings.EqualFold(out[i].email, r.email) {
				if out[i].key == "" {
					out[i].key = r.key
				}
				return
			}
		}
		if !i18n.Supported(r.locale) {
			r.locale = lang
		}
		out = append(out, r)
	}
	switch {
	case len(set.Recipients) > 0:
		for _, a := range set.Recipients {
			r := recipient{email: a}
			for _, c := range contacts {
				if strings.EqualFold(c.email, a) {
					r.locale, r.key = c.locale, c.key
				}
			}
			add(r)
		}
	case len(contacts) > 0:
		for _, c := range contacts {
			if c.role == registry.RoleIncident24x7 || c.role == registry.RoleTechnicalAlerts {
				add(c.recipient)
			}
		}
	}
	if len(out) == 0 && len(set.Recipients) == 0 {
		for _, a := range admins {
			add(a)
		}
	}
	return out, nil
}

type contact struct {
	recipient
	role registry.ContactRole
}

// contactsOf reads the contacts of org's registration.
func contactsOf(ctx context.Context, q store.Querier, org int64) ([]contact, error) {
	var data string
	err := q.QueryRow(ctx, `SELECT data FROM registrations WHERE org_id = ?`, org).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p registry.Profile
	if err := json.Unmarshal([]byte(data), &p); err != nil {
		return nil, fmt.Errorf("registration %d data: %w", org, err)
	}
	var out []contact
	for _, c := range p.Contacts {
		if e := strings.TrimSpace(c.Email); e != "" {
			out = append(out, contact{recipient{email: e, locale: c.Language, key: c.PGPKey}, c.Role})
		}
	}
	return out, nil
}

// adminsOf are org's administrators who are not disabled.
func adminsOf(ctx context.Context, q store.Querier, org int64) ([]recipient, error) {
	rows, err := q.Query(ctx, `SELECT u.email, u.locale FROM users u WHERE u.org_id = ? AND NOT u.disabled
		AND EXISTS (SELECT 1 FROM user_roles ur WHERE ur.user_id = u.id AND ur.role = ?) ORDER BY u.id`, org, string(auth.RoleOrgAdmin))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []recipient
	for rows.Next() {
		var r recipient
		if err := rows.Scan(&r.email, &r.locale); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// digest writes the e-mail of ticket t to r: the counts per report type
// and a link, with the CSV file attached. With a key, the text and the
// file are each an ASCII-armoured OpenPGP message (inline PGP: the body
// is the armoured text, the file is named ….csv.asc).
func (s *Service) digest(t *Ticket, evs []Event, csvData []byte, r recipient) (notify.Message, error) {
	l := r.locale
	counts := map[string]int{}
	for i := range evs {
		counts[evs[i].ReportType]++
	}
	types := make([]string, 0, len(counts))
	for k := range counts {
		types = append(types, k)
	}
	slices.SortFunc(types, func(a, b string) int {
		if c := counts[b] - counts[a]; c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	var lines strings.Builder
	for _, k := range types {
		fmt.Fprintf(&lines, "  %s: %s\n", k, i18n.Number(l, int64(counts[k])))
	}
	file := t.Ref + "-events.csv"
	a := map[string]any{"ref": t.Ref, "count": i18n.Number(l, int64(len(evs))), "org": t.OrgName, "file": file,
		"link": s.baseURL + "/" + l + "/early-warning/tickets/" + itoa(t.ID), "sha256": t.SHA256}
	body := s.cat.T(l, "ew.mail.body", a) + "\n\n" + s.cat.T(l, "ew.mail.per_type", nil) + "\n" + lines.String() + "\n" +
		s.cat.T(l, "ew.mail.attachment", a) + "\n\n" + s.cat.T(l, "mail.auto_generated", nil) + "\n"
	m := notify.Message{To: []string{r.email}, Subject: "[Belfry] " + s.cat.T(l, "ew.mail.subject", a), Text: body,
		Attachments: []notify.Attachment{{Name: file, ContentType: "text/csv; charset=utf-8", Data: csvData}}}
	if r.key == "" {
		return m, nil
	}
	text, err := encrypt(r.key, []byte(body), "")
	if err != nil {
		return notify.Message{}, err
	}
	data, err := encrypt(r.key, csvData, file)
	if err != nil {
		return notify.Message{}, err
	}
	m.Text = string(text)
	m.Attachments = []notify.Attachment{{Name: file + ".asc", ContentType: "application/pgp-encrypted", Data: data}}
	return m, nil
}

// encrypt returns data as an ASCII-armoured OpenPGP message to the key
// in armoured.
func encrypt(armoured string, data []byte, name string) ([]byte, error) {
	keys, err := openpgp.ReadArmoredKeyRing(strings.NewReader(armoured))
	if err != nil || len(keys) == 0 {
		return nil, errors.New("the OpenPGP key cannot be read")
	}
	var b bytes.Buffer
	aw, err := armor.Encode(&b, "PGP MESSAGE", nil)
	if err != nil {
		return nil, err
	}
	pw, err := openpgp.Encrypt(aw, keys[:1], nil, &openpgp.FileHints{FileName: name, IsBinary: name != ""}, nil)
	if err != nil {
		return nil, fmt.Errorf("the OpenPGP key cannot encrypt: %w", err)
	}
	if _, err := pw.Write(data); err != nil {
		return nil, err
	}
	if err := pw.Close(); err != nil {
		return nil, err
	}
	if err := aw.Close(); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}
