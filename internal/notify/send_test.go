package notify_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"slices"
	"strings"
	"testing"

	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/notify"
)

const from = "Belfry <noreply@belfry.example>"

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// config returns a client config for srv with mode and the test user.
func config(srv *smtpServer, mode string) notify.SMTPConfig {
	return notify.SMTPConfig{
		Host: srv.Host, Port: srv.Port, From: from, TLS: mode, RootCAs: srv.Roots,
		Username: srv.opt.User, Password: srv.opt.Pass, HELO: "belfry.test",
	}
}

func newService(t *testing.T, cfg notify.SMTPConfig) *notify.Service {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate() = %v, want nil", err)
	}
	return notify.New(cfg, i18n.MustLoad(), quietLogger())
}

// parsed is a received message split into headers and decoded text.
type parsed struct {
	Header  mail.Header
	Subject string
	Body    string
}

func parse(t *testing.T, r received) parsed {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(r.Data))
	if err != nil {
		t.Fatalf("ReadMessage: %v\n%s", err, r.Data)
	}
	subj, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("decode subject %q: %v", m.Header.Get("Subject"), err)
	}
	return parsed{Header: m.Header, Subject: subj, Body: decodeBody(t, m.Header.Get("Content-Transfer-Encoding"), m.Body)}
}

func decodeBody(t *testing.T, cte string, r io.Reader) string {
	t.Helper()
	switch strings.ToLower(cte) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read body (%s): %v", cte, err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

func TestSendStartTLSWithAuth(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, serverOptions{StartTLS: true, User: "belfry", Pass: "s3cret"})
	svc := newService(t, config(srv, "starttls"))
	msg := notify.Message{
		To:      []string{"anne@example.be", "Bert Peeters <bert@example.be>"},
		Subject: "[Belfry] Überprüfung — été",
		Text:    "Hallo,\nÄnderung à 14:05 — ok.\n",
	}
	if err := svc.Send(t.Context(), msg); err != nil {
		t.Fatalf("Send() = %v, want nil", err)
	}
	got := srv.Wait(t, 1, 0)
	r := got[0]
	if !r.TLS {
		t.Errorf("message arrived over plain text, want STARTTLS")
	}
	if r.From != "noreply@belfry.example" {
		t.Errorf("MAIL FROM = %q, want %q", r.From, "noreply@belfry.example")
	}
	if want := []string{"anne@example.be", "bert@example.be"}; !slices.Equal(r.To, want) {
		t.Errorf("RCPT TO = %q, want %q", r.To, want)
	}
	p := parse(t, r)
	checkHeaders(t, p)
	if p.Subject != msg.Subject {
		t.Errorf("Subject = %q, want %q", p.Subject, msg.Subject)
	}
	if p.Body != msg.Text {
		t.Errorf("body = %q, want %q", p.Body, msg.Text)
	}
	if ct := p.Header.Get("Content-Type"); !strings.Contains(strings.ToLower(ct), "charset=utf-8") {
		t.Errorf("Content-Type = %q, want UTF-8 text", ct)
	}
	to, err := p.Header.AddressList("To")
	if err != nil || len(to) != 2 || to[1].Name != "Bert Peeters" {
		t.Errorf("To = %v (%v), want anne and Bert Peeters", to, err)
	}
}

// checkHeaders checks the headers every Belfry message carries.
func checkHeaders(t *testing.T, p parsed) {
	t.Helper()
	f, err := p.Header.AddressList("From")
	if err != nil || len(f) != 1 || f[0].Address != "noreply@belfry.example" || f[0].Name != "Belfry" {
		t.Errorf("From = %v (%v), want Belfry <noreply@belfry.example>", f, err)
	}
	if _, err := p.Header.Date(); err != nil {
		t.Errorf("Date = %q: %v", p.Header.Get("Date"), err)
	}
	if id := p.Header.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@belfry.example>") {
		t.Errorf("Message-ID = %q, want <…@belfry.example>", id)
	}
	if got := p.Header.Get("Auto-Submitted"); got != "auto-generated" {
		t.Errorf("Auto-Submitted = %q, want auto-generated", got)
	}
}

func TestSendWrongPassword(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, serverOptions{StartTLS: true, User: "belfry", Pass: "s3cret"})
	cfg := config(srv, "starttls")
	cfg.Password = "wrong"
	svc := newService(t, cfg)
	err := svc.Send(t.Context(), notify.Message{To: []string{"anne@example.be"}, Subject: "x", Text: "x"})
	if err == nil {
		t.Fatalf("Send() with a wrong password = nil, want an error")
	}
	if n := len(srv.Received()); n != 0 {
		t.Errorf("server received %d messages after failed AUTH, want 0", n)
	}
}

func TestSendImplicitTLS(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, serverOptions{Implicit: true, User: "belfry", Pass: "s3cret"})
	svc := newService(t, config(srv, "tls"))
	if err := svc.Send(t.Context(), notify.Message{To: []string{"anne@example.be"}, Subject: "hi", Text: "hello"}); err != nil {
		t.Fatalf("Send() = %v, want nil", err)
	}
	r := srv.Wait(t, 1, 0)[0]
	if !r.TLS {
		t.Errorf("message arrived over plain text, want implicit TLS")
	}
	if p := parse(t, r); strings.TrimSuffix(p.Body, "\n") != "hello" {
		t.Errorf("body = %q, want %q", p.Body, "hello\n")
	}
}

func TestStartTLSIsRequired(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, serverOptions{}) // plain server, no STARTTLS
	svc := newService(t, config(srv, "starttls"))
	err := svc.Send(t.Context(), notify.Message{To: []string{"anne@example.be"}, Subject: "x", Text: "x"})
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("Send() to a server without STARTTLS = %v, want a STARTTLS error", err)
	}
	if n := len(srv.Received()); n != 0 {
		t.Errorf("server received %d messages in plain text, want 0", n)
	}
}

func TestSendUntrustedCertificate(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, serverOptions{StartTLS: true})
	cfg := config(srv, "starttls")
	cfg.RootCAs = nil // system roots do not trust the test certificate
	svc := newService(t, cfg)
	err := svc.Send(t.Context(), notify.Message{To: []string{"anne@example.be"}, Subject: "x", Text: "x"})
	if err == nil {
		t.Fatalf("Send() to a server with an untrusted certificate = nil, want an error")
	}
	if n := len(srv.Received()); n != 0 {
		t.Errorf("server received %d messages, want 0", n)
	}
}

func TestSendPlainRelay(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, serverOptions{})
	svc := newService(t, config(srv, "none"))
	if err := svc.Send(t.Context(), notify.Message{To: []string{"anne@example.be"}, Subject: "x", Text: "x"}); err != nil {
		t.Fatalf("Send() = %v, want nil", err)
	}
	if r := srv.Wait(t, 1, 0)[0]; r.TLS {
		t.Errorf("TLS = true, want a plain session in mode none")
	}
}

func TestSendHTMLWithAttachment(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, serverOptions{StartTLS: true})
	svc := newService(t, config(srv, "starttls"))
	csv := []byte("ip,asn\n192.0.2.1,64496\n")
	msg := notify.Message{
		To: []string{"soc@example.be"}, Subject: "Report", Text: "See the attachment.", HTML: "<p>See the <b>attachment</b>.</p>",
		Attachments: []notify.Attachment{{Name: "report.csv", ContentType: "text/csv", Data: csv}},
	}
	if err := svc.Send(t.Context(), msg); err != nil {
		t.Fatalf("Send() = %v, want nil", err)
	}
	m, err := mail.ReadMessage(bytes.NewReader(srv.Wait(t, 1, 0)[0].Data))
	if err != nil {
		t.Fatalf("ReadMessage: %v", err)
	}
	parts := map[string]string{}
	walk(t, m.Header.Get("Content-Type"), m.Body, parts)
	want := map[string]string{"text/plain": msg.Text, "text/html": msg.HTML, "text/csv report.csv": string(csv)}
	for k, v := range want {
		if parts[k] != v {
			t.Errorf("part %q = %q, want %q (parts: %q)", k, parts[k], v, parts)
		}
	}
}

// walk collects the decoded leaf parts of a MIME body by media type (plus
// file name for attachments).
func walk(t *testing.T, contentType string, body io.Reader, out map[string]string) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		t.Fatalf("ParseMediaType(%q): %v", contentType, err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		return
	}
	mr := multipart.NewReader(body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		ct := p.Header.Get("Content-Type")
		if strings.HasPrefix(ct, "multipart/") {
			walk(t, ct, p, out)
			continue
		}
		key, _, _ := mime.ParseMediaType(ct)
		if name := p.FileName(); name != "" {
			key += " " + name
		}
		out[key] = decodeBody(t, p.Header.Get("Content-Transfer-Encoding"), p)
	}
}

func TestSendDisabled(t *testing.T) {
	t.Parallel()
	svc := notify.New(notify.SMTPConfig{}, i18n.MustLoad(), quietLogger())
	if svc.Enabled() {
		t.Errorf("Enabled() = true without a host, want false")
	}
	err := svc.Send(t.Context(), notify.Message{To: []string{"anne@example.be"}, Subject: "x", Text: "x"})
	if !errors.Is(err, notify.ErrDisabled) {
		t.Errorf("Send() without a host = %v, want ErrDisabled", err)
	}
}

func TestMessageValidate(t *testing.T) {
	t.Parallel()
	ok := notify.Message{To: []string{"anne@example.be"}, Subject: "s", Text: "t"}
	with := func(f func(*notify.Message)) notify.Message {
		m := ok
		f(&m)
		return m
	}
	tests := []struct {
		name  string
		in    notify.Message
		field string // "" = valid
	}{
		{"valid", ok, ""},
		{"html only", with(func(m *notify.Message) { m.Text, m.HTML = "", "<p>t</p>" }), ""},
		{"display name", with(func(m *notify.Message) { m.To = []string{"Anne <anne@example.be>"} }), ""},
		{"no recipient", with(func(m *notify.Message) { m.To = nil }), "to"},
		{"bad recipient", with(func(m *notify.Message) { m.To = []string{"anne@example.be", "not-an-address"} }), "to"},
		{"header injection", with(func(m *notify.Message) { m.To = []string{"a@example.be\r\nBcc: x@evil.test"} }), "to"},
		{"no subject", with(func(m *notify.Message) { m.Subject = " " }), "subject"},
		{"subject with newline", with(func(m *notify.Message) { m.Subject = "a\nBcc: x@evil.test" }), "subject"},
		{"no body", with(func(m *notify.Message) { m.Text = "" }), "text"},
		{"unnamed attachment", with(func(m *notify.Message) { m.Attachments = []notify.Attachment{{Data: []byte("x")}} }), "attachments"},
		{"attachment path", with(func(m *notify.Message) { m.Attachments = []notify.Attachment{{Name: "../x"}} }), "attachments"},
	}
	for _, tt := range tests {
		err := tt.in.Validate()
		if tt.field == "" {
			if err != nil {
				t.Errorf("%s: Validate() = %v, want nil", tt.name, err)
			}
			continue
		}
		e, ok := errs.As(err)
		if !ok || e.Kind != errs.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != tt.field {
			t.Errorf("%s: Validate() = %v, want Invalid on field %q", tt.name, err, tt.field)
		}
	}
}
