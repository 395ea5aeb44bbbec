package source

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// MailboxOptions configure the SMTP intake.
type MailboxOptions struct {
	// Addr is the address Run listens on ("127.0.0.1:2525").
	Addr string
	// Domain is the name in the greeting (default: the host name).
	Domain string
	// Recipients are the addresses mail is accepted for
	// ("shadowserver@feeds.cert.example"); at least one.
	Recipients []string
	// Senders are the envelope senders accepted: an address, or
	// "@domain" for every address of that domain. Hosts are the client
	// addresses accepted. At least one of the two must be set; when both
	// are, a message must pass both. Envelope senders are easy to forge:
	// prefer Hosts (the relay that receives Shadowserver's mail).
	Senders []string
	Hosts   []netip.Prefix
	// MaxMessageBytes limits a message (default 50 MiB), MaxAttachments
	// the report files in one message (default 50), MaxConns the sessions
	// served at once (default 10). Attachments are held in memory while
	// they are handed over, so memory stays under about
	// MaxConns × MaxMessageBytes.
	MaxMessageBytes int64
	MaxAttachments  int
	MaxConns        int
	// Timeout bounds each read and write on a connection (default 5 minutes).
	Timeout time.Duration
	// TLS, when set, is offered through STARTTLS.
	TLS *tls.Config
}

func (o *MailboxOptions) defaults() error {
	if len(o.Recipients) == 0 {
		return errors.New("mailbox: no recipient address to accept mail for")
	}
	if len(o.Senders) == 0 && len(o.Hosts) == 0 {
		return errors.New("mailbox: set the accepted senders or hosts; an open intake is refused")
	}
	o.Recipients = lowerAll(o.Recipients)
	o.Senders = lowerAll(o.Senders)
	if o.Domain == "" {
		o.Domain, _ = os.Hostname()
	}
	o.MaxMessageBytes = cmp.Or(o.MaxMessageBytes, 50<<20)
	o.MaxAttachments = cmp.Or(o.MaxAttachments, 50)
	o.MaxConns = cmp.Or(o.MaxConns, 10)
	o.Timeout = cmp.Or(o.Timeout, 5*time.Minute)
	return nil
}

// lowerAll returns a lower-cased, trimmed copy.
func lowerAll(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = strings.ToLower(strings.TrimSpace(s))
	}
	return out
}

// Mailbox is a receiving SMTP server for reports sent as attachments. It
// accepts mail only for its recipients and only from its senders or
// hosts, and hands each CSV, ZIP or gzip attachment to the handler while
// the client waits: the message is acknowledged (250) only when every
// attachment was processed, else the client gets a temporary failure
// (451) and delivers again later. It does not relay and offers no AUTH.
type Mailbox struct {
	opt   MailboxOptions
	log   *slog.Logger
	now   func() time.Time
	slots chan struct{}
}

// NewMailbox checks the options.
func NewMailbox(opt MailboxOptions, log *slog.Logger) (*Mailbox, error) {
	if err := opt.defaults(); err != nil {
		return nil, err
	}
	return &Mailbox{opt: opt, log: log.With("source", "smtp"), now: time.Now, slots: make(chan struct{}, opt.MaxConns)}, nil
}

// Run listens on Addr and serves until ctx ends.
func (m *Mailbox) Run(ctx context.Context, h Handler) error {
	if m.opt.Addr == "" {
		return errors.New("mailbox: no listen address")
	}
	l, err := net.Listen("tcp", m.opt.Addr)
	if err != nil {
		return fmt.Errorf("mailbox: %w", err)
	}
	return m.Serve(ctx, l, h)
}

// Serve serves SMTP on l until ctx ends, then gives the sessions in
// progress 20 seconds to finish.
func (m *Mailbox) Serve(ctx context.Context, l net.Listener, h Handler) error {
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return m.newSession(ctx, c, h)
	}))
	srv.Domain = m.opt.Domain
	srv.MaxMessageBytes = m.opt.MaxMessageBytes
	srv.MaxRecipients = 10
	srv.ReadTimeout = m.opt.Timeout
	srv.WriteTimeout = m.opt.Timeout
	srv.TLSConfig = m.opt.TLS
	srv.ErrorLog = slogPrinter{m.log}

	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	m.log.Info("mailbox: listening", "addr", l.Addr().String())
	select {
	case err := <-done:
		return fmt.Errorf("mailbox: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	<-done
	return nil
}

// slogPrinter passes go-smtp's own messages (broken connections) to slog.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Printf(format string, v ...any) { p.log.Debug(fmt.Sprintf(format, v...)) }
func (p slogPrinter) Println(v ...any)               { p.log.Debug(fmt.Sprint(v...)) }

// Refusals, worded for the postmaster who reads the bounce.
var (
	errBusy = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 5},
		Message: "Too many connections to the feed intake, try again later"}
	errNoReport = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0},
		Message: "No CSV, ZIP or GZ attachment in the message: this address only takes feed reports"}
	errTryLater = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message: "The report could not be processed now, try again later"}
)

func refuse(code int, ec smtp.EnhancedCode, format string, a ...any) error {
	return &smtp.SMTPError{Code: code, EnhancedCode: ec, Message: fmt.Sprintf(format, a...)}
}

// session is one SMTP connection. It keeps the server's context because
// go-smtp's callbacks carry none.
type session struct {
	m      *Mailbox
	ctx    context.Context
	h      Handler
	remote netip.Addr
	from   string
	rcpts  []string
}

func (m *Mailbox) newSession(ctx context.Context, c *smtp.Conn, h Handler) (smtp.Session, error) {
	remote := remoteAddr(c.Conn())
	if len(m.opt.Hosts) > 0 && !slices.ContainsFunc(m.opt.Hosts, func(p netip.Prefix) bool { return p.Contains(remote) }) {
		m.log.Warn("mailbox: host refused", "remote", remote.String())
		return nil, refuse(550, smtp.EnhancedCode{5, 7, 1}, "Host %s may not deliver to the feed intake", remote)
	}
	select {
	case m.slots <- struct{}{}:
	default:
		return nil, errBusy
	}
	return &session{m: m, ctx: ctx, h: h, remote: remote}, nil
}

func remoteAddr(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	}
	return netip.Addr{}
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	from = strings.ToLower(from)
	if len(s.m.opt.Senders) > 0 && !senderAllowed(s.m.opt.Senders, from) {
		s.m.log.Warn("mailbox: sender refused", "from", from, "remote", s.remote.String())
		return refuse(550, smtp.EnhancedCode{5, 7, 1}, "Sender <%s> may not deliver to the feed intake", from)
	}
	s.from = from
	return nil
}

// senderAllowed matches an envelope sender against addresses and
// "@domain" entries.
func senderAllowed(allowed []string, from string) bool {
	at := strings.LastIndexByte(from, '@')
	for _, a := range allowed {
		if a == from || (strings.HasPrefix(a, "@") && at > 0 && from[at:] == a) {
			return true
		}
	}
	return false
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !slices.Contains(s.m.opt.Recipients, strings.ToLower(to)) {
		s.m.log.Warn("mailbox: recipient refused", "to", to, "remote", s.remote.String())
		return refuse(550, smtp.EnhancedCode{5, 1, 1}, "No mailbox <%s> here: this server only takes feed reports", to)
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	hdr, atts, err := attachments(r, s.m.opt.MaxAttachments)
	var se *smtp.SMTPError
	switch {
	case errors.As(err, &se):
		return se // the size limit
	case errors.Is(err, errNotMessage):
		return refuse(554, smtp.EnhancedCode{5, 6, 0}, "Message refused: %v", err)
	case err != nil:
		return refuse(554, smtp.EnhancedCode{5, 6, 0}, "Message refused: cannot decode an attachment: %v", err)
	case len(atts) == 0:
		return errNoReport
	}
	msgID := cmp.Or(hdr.Get("Message-Id"), "<no message id>")
	for i, a := range atts {
		f := File{
			Name: a.name, Size: int64(len(a.data)), Source: "smtp", Received: s.m.now(),
			Ref:  fmt.Sprintf("%s#%d", msgID, i+1),
			Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(a.data)), nil },
		}
		if err := safeCall(s.ctx, s.h, f); err != nil {
			s.m.log.Warn("mailbox: attachment failed, asked the sender to retry", "file", a.name, "message_id", msgID, "err", err)
			return errTryLater
		}
	}
	s.m.log.Info("mailbox: message processed", "from", s.from, "message_id", msgID, "attachments", len(atts))
	return nil
}

func (s *session) Reset() { s.from, s.rcpts = "", nil }

func (s *session) Logout() error {
	<-s.m.slots
	return nil
}
