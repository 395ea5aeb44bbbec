package source_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/belfry-cert/belfry/internal/feeds/source"
)

// received collects what the handler got.
type received struct {
	mu    sync.Mutex
	files map[string]string // name → content
	refs  []string
}

func (r *received) handler(fail error) source.Handler {
	return func(_ context.Context, f source.File) error {
		rc, err := f.Open()
		if err != nil {
			return err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			return err
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.files == nil {
			r.files = map[string]string{}
		}
		r.files[f.Name] = string(b)
		r.refs = append(r.refs, f.Source+" "+f.Ref)
		return fail
	}
}

// startMailbox serves the intake on a random loopback port.
func startMailbox(t *testing.T, opt source.MailboxOptions, h source.Handler) string {
	t.Helper()
	if opt.Recipients == nil {
		opt.Recipients = []string{"reports@feeds.cert.test"}
	}
	if opt.Senders == nil && opt.Hosts == nil {
		opt.Senders = []string{"autoreports@shadowserver.test", "@cert.test"}
	}
	opt.Domain = "feeds.cert.test"
	m, err := source.NewMailbox(opt, discard)
	if err != nil {
		t.Fatalf("NewMailbox: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- m.Serve(ctx, l, h) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return l.Addr().String()
}

// send delivers one message over plain SMTP with go-smtp's client.
func send(addr, from, to, msg string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SendMail(from, []string{to}, strings.NewReader(msg)); err != nil {
		return err
	}
	return c.Quit()
}

// smtpCode returns the SMTP reply code of a client error, 0 if none.
func smtpCode(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

func b64(s string) string {
	enc := base64.StdEncoding.EncodeToString([]byte(s))
	var out strings.Builder
	for len(enc) > 76 {
		out.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	out.WriteString(enc)
	return out.String()
}

func qp(s string) string {
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func gz(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	io.WriteString(w, s)
	w.Close()
	return b.String()
}

const csvReport = "\"timestamp\",\"ip\",\"port\",\"hostname\"\n\"2026-03-01 00:00:01\",\"192.0.2.1\",80,\"h\u00e9te.example\"\n"

// reportMail is a message the way Shadowserver-like senders build them:
// a text part, then attachments in several encodings, one of them
// inside a forwarded message.
func reportMail(from string) string {
	return strings.ReplaceAll(fmt.Sprintf(`From: %[1]s
To: reports@feeds.cert.test
Subject: [Shadowserver] Daily reports
Message-ID: <abc@shadowserver.test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=utf-8

Your reports are attached.
--alt
Content-Type: text/html; charset=utf-8

<p>Your reports are attached.</p>
--alt--
--outer
Content-Type: text/csv; name="2026-03-01-scan_http-belgium-geo.csv"
Content-Disposition: attachment; filename="2026-03-01-scan_http-belgium-geo.csv"
Content-Transfer-Encoding: base64

%[2]s
--outer
Content-Type: text/csv; charset=utf-8
Content-Disposition: attachment; filename="=?utf-8?q?2026-03-01-scan=5Fftp-belgium-geo.csv?="
Content-Transfer-Encoding: quoted-printable

%[3]s
--outer
Content-Type: application/gzip
Content-Disposition: attachment; filename*=utf-8''2026-03-01-event4_sinkhole-belgium-geo.csv.gz
Content-Transfer-Encoding: base64

%[4]s
--outer
Content-Type: image/png
Content-Disposition: inline; filename="logo.png"
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--outer
Content-Type: message/rfc822

From: someone@cert.test
Subject: forwarded
Content-Type: multipart/mixed; boundary="inner"

--inner
Content-Type: application/zip
Content-Disposition: attachment; filename="../../etc/2026-03-01-device_id-belgium-geo.zip"
Content-Transfer-Encoding: base64

%[5]s
--inner--
--outer--
`, from, b64(csvReport), qp(csvReport), b64(gz(csvReport)), b64("PK\x03\x04zip")), "\n", "\r\n")
}

func TestMailboxTakesAttachments(t *testing.T) {
	var got received
	addr := startMailbox(t, source.MailboxOptions{}, got.handler(nil))
	if err := send(addr, "autoreports@shadowserver.test", "Reports@Feeds.Cert.Test", reportMail("autoreports@shadowserver.test")); err != nil {
		t.Fatalf("send: %v", err)
	}
	want := map[string]string{
		"2026-03-01-scan_http-belgium-geo.csv": csvReport,
		// Quoted-printable text travels with CRLF line breaks (RFC 2045).
		"2026-03-01-scan_ftp-belgium-geo.csv":           strings.ReplaceAll(csvReport, "\n", "\r\n"),
		"2026-03-01-event4_sinkhole-belgium-geo.csv.gz": gz(csvReport),
		"2026-03-01-device_id-belgium-geo.zip":          "PK\x03\x04zip",
	}
	got.mu.Lock()
	defer got.mu.Unlock()
	if len(got.files) != len(want) {
		names := []string{}
		for n := range got.files {
			names = append(names, n)
		}
		t.Fatalf("handler got %q, want %d files", names, len(want))
	}
	for name, content := range want {
		if got.files[name] != content {
			t.Errorf("%s = %q, want %q", name, got.files[name], content)
		}
	}
	if got.refs[0] != "smtp <abc@shadowserver.test>#1" {
		t.Errorf("first ref = %q", got.refs[0])
	}
}

func TestMailboxRefusals(t *testing.T) {
	good := reportMail("autoreports@shadowserver.test")
	tests := []struct {
		name     string
		opt      source.MailboxOptions
		handler  error
		from, to string
		msg      string
		code     int
		text     string
	}{
		{"unknown recipient", source.MailboxOptions{}, nil, "autoreports@shadowserver.test", "postmaster@feeds.cert.test", good, 550, "only takes feed reports"},
		{"unknown sender", source.MailboxOptions{}, nil, "spam@example.test", "reports@feeds.cert.test", good, 550, "may not deliver"},
		{"sender of the allowed domain", source.MailboxOptions{}, nil, "analyst@cert.test", "reports@feeds.cert.test", good, 0, ""},
		{"sender of a look-alike domain", source.MailboxOptions{}, nil, "x@evilcert.test", "reports@feeds.cert.test", good, 550, "may not deliver"},
		{"host not allowed", source.MailboxOptions{Hosts: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, nil,
			"autoreports@shadowserver.test", "reports@feeds.cert.test", good, 550, "127.0.0.1 may not deliver"},
		{"host allowed", source.MailboxOptions{Hosts: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}, nil,
			"anyone@example.test", "reports@feeds.cert.test", good, 0, ""},
		{"too large", source.MailboxOptions{MaxMessageBytes: 1000}, nil, "autoreports@shadowserver.test", "reports@feeds.cert.test", good, 552, ""},
		{"no attachment", source.MailboxOptions{}, nil, "autoreports@shadowserver.test", "reports@feeds.cert.test",
			"Subject: hi\r\n\r\nThe report is at https://dl.example/x\r\n", 554, "No CSV, ZIP or GZ attachment"},
		{"too many attachments", source.MailboxOptions{MaxAttachments: 2}, nil, "autoreports@shadowserver.test", "reports@feeds.cert.test", good, 554, "more than 2"},
		{"handler fails", source.MailboxOptions{}, errors.New("db down"), "autoreports@shadowserver.test", "reports@feeds.cert.test", good, 451, "try again later"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got received
			addr := startMailbox(t, tt.opt, got.handler(tt.handler))
			err := send(addr, tt.from, tt.to, tt.msg)
			if tt.code == 0 {
				if err != nil {
					t.Fatalf("send = %v, want accepted", err)
				}
				return
			}
			if smtpCode(err) != tt.code || !strings.Contains(fmt.Sprint(err), tt.text) {
				t.Fatalf("send = %v, want %d %q", err, tt.code, tt.text)
			}
			if tt.code != 451 && len(got.files) != 0 {
				t.Errorf("refused mail reached the handler: %v", got.files)
			}
		})
	}
}

func TestNewMailboxRefusesAnOpenIntake(t *testing.T) {
	if _, err := source.NewMailbox(source.MailboxOptions{Recipients: []string{"r@x.test"}}, discard); err == nil {
		t.Error("NewMailbox without senders or hosts = nil error")
	}
	if _, err := source.NewMailbox(source.MailboxOptions{Senders: []string{"@x.test"}}, discard); err == nil {
		t.Error("NewMailbox without recipients = nil error")
	}
}
