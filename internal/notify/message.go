package notify

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	gomail "github.com/wneessen/go-mail"

	"github.com/belfry-cert/belfry/internal/errs"
)

// Message is one outbound e-mail. It travels as JSON in the job queue, so
// keep it to plain data.
type Message struct {
	To          []string     `json:"to"`
	Subject     string       `json:"subject"`
	Text        string       `json:"text,omitempty"`
	HTML        string       `json:"html,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
}

// Attachment is a file sent with a Message. Data is stored base64-encoded in
// the job row; keep attachments small (reports, not archives).
type Attachment struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Data        []byte `json:"data"`
}

// Validate checks that m can be sent: at least one recipient, every one a
// valid address, a subject, a body, and named attachments. The error is
// errs.Invalid.
func (m Message) Validate() error {
	if err := checkRecipients(m.To); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(m.Subject) == "":
		return invalid("subject", "mail.err.subject_required", "notify: message has no subject")
	case strings.ContainsAny(m.Subject, "\r\n"):
		return invalid("subject", "mail.err.subject_invalid", "notify: subject contains a line break")
	case m.Text == "" && m.HTML == "":
		return invalid("text", "mail.err.body_required", "notify: message has neither text nor HTML body")
	}
	for i, a := range m.Attachments {
		if strings.TrimSpace(a.Name) == "" || strings.ContainsAny(a.Name, "\r\n/\\") {
			return invalid("attachments", "mail.err.attachment_invalid", fmt.Sprintf("notify: attachment %d has no usable file name (%q)", i, a.Name))
		}
	}
	return nil
}

func checkRecipients(to []string) error {
	if len(to) == 0 {
		return invalid("to", "mail.err.recipient_required", "notify: message has no recipient")
	}
	for _, addr := range to {
		if _, err := mail.ParseAddress(addr); err != nil {
			return invalid("to", "mail.err.recipient_invalid", fmt.Sprintf("notify: recipient %q is not a valid e-mail address", addr))
		}
	}
	return nil
}

func invalid(field, code, detail string) error {
	e := errs.Field(field, code, nil)
	e.Err = errors.New(detail)
	return e
}

// newID returns the random left part of a Message-ID.
func newID() string {
	return rand.Text()
}

// build turns m into a go-mail message from cfg.From with Message-ID
// <id@domain of From>.
func build(cfg SMTPConfig, m Message, id string) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.From(cfg.From); err != nil {
		return nil, fmt.Errorf("notify: from %q: %w", cfg.From, err)
	}
	if err := msg.To(m.To...); err != nil {
		return nil, fmt.Errorf("notify: to: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageIDWithValue(id + "@" + cfg.domain())
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	setBody(msg, m)
	for _, a := range m.Attachments {
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		if err := msg.AttachReader(a.Name, bytes.NewReader(a.Data), gomail.WithFileContentType(gomail.ContentType(ct))); err != nil {
			return nil, fmt.Errorf("notify: attach %q: %w", a.Name, err)
		}
	}
	return msg, nil
}

// setBody sets the text body, the HTML body, or both as alternatives.
func setBody(msg *gomail.Msg, m Message) {
	switch {
	case m.Text != "" && m.HTML != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	case m.HTML != "":
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	default:
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	}
}
