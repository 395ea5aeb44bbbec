// Package notify sends Belfry's outbound e-mail through an SMTP relay, as a
// durable outbox: a message is a job inserted in the transaction of the
// change that causes it, so it exists exactly when that change commits, and
// the job queue delivers it, retrying with back-off while the relay is down.
package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"
	gomail "github.com/wneessen/go-mail"

	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/jobs"
	"github.com/belfry-cert/belfry/internal/store"
)

// JobKind is the job queue kind of an outbound message.
const JobKind = "mail"

// ErrDisabled is returned by Send when no SMTP host is configured.
var ErrDisabled = errors.New("notify: mail is disabled (no SMTP host configured)")

// dialTimeout bounds the connection and each SMTP command.
const dialTimeout = 60 * time.Second

// Service sends e-mail and queues it for sending.
type Service struct {
	cfg   SMTPConfig
	cat   *i18n.Catalog
	log   *slog.Logger
	queue *jobs.Queue
	off   sync.Once // logs "mail disabled" once
}

// New returns the mail service. cfg should have passed Validate; an empty
// cfg.Host disables sending (queued messages are then dropped by the worker).
func New(cfg SMTPConfig, cat *i18n.Catalog, log *slog.Logger) *Service {
	return &Service{cfg: cfg, cat: cat, log: log.With("component", "notify")}
}

// Enabled reports whether an SMTP host is configured.
func (s *Service) Enabled() bool { return s.cfg.Enabled() }

// SetQueue gives the service the queue that Enqueue inserts into. The
// queue is built after Register, hence the setter.
func (s *Service) SetQueue(q *jobs.Queue) { s.queue = q }

// Register adds the worker that delivers queued messages.
func (s *Service) Register(w *jobs.Workers) {
	river.AddWorker(w, &worker{s: s})
}

// Enqueue validates m and queues it in tx: the message is sent if and only if
// tx commits. An invalid message is an errs.Invalid error.
func (s *Service) Enqueue(ctx context.Context, tx *store.Tx, m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if s.queue == nil {
		return errors.New("notify: enqueue: no job queue (call SetQueue)")
	}
	return s.queue.InsertTx(ctx, tx, mailArgs{Message: m, ID: newID()}, nil)
}

// Send delivers m now, bypassing the queue. It returns ErrDisabled when mail
// is off and errs.Invalid when m is invalid.
func (s *Service) Send(ctx context.Context, m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if !s.Enabled() {
		return ErrDisabled
	}
	return s.deliver(ctx, m, newID())
}

// deliver sends m over SMTP with Message-ID id@domain.
func (s *Service) deliver(ctx context.Context, m Message, id string) error {
	msg, err := build(s.cfg, m, id)
	if err != nil {
		return err
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("notify: send via %s: %w", c.ServerAddr(), err)
	}
	return nil
}

// client returns an SMTP client for s.cfg. The "starttls" mode is
// mandatory: a server that does not offer STARTTLS is refused rather than
// used in clear text.
func (s *Service) client() (*gomail.Client, error) {
	tc := &tls.Config{ServerName: s.cfg.Host, RootCAs: s.cfg.RootCAs, MinVersion: tls.VersionTLS12}
	opts := []gomail.Option{
		gomail.WithPort(s.cfg.port()),
		gomail.WithTimeout(dialTimeout),
		gomail.WithTLSConfig(tc),
	}
	switch s.cfg.mode() {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.cfg.HELO != "" {
		opts = append(opts, gomail.WithHELO(s.cfg.HELO))
	}
	if s.cfg.Username != "" {
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(s.cfg.Username),
			gomail.WithPassword(s.cfg.Password))
	}
	c, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("notify: smtp client: %w", err)
	}
	return c, nil
}

// mailArgs are the job arguments of one queued message. ID is the left part
// of the Message-ID, fixed at enqueue time so that retries carry the same
// Message-ID and receivers can spot a duplicate.
type mailArgs struct {
	Message Message `json:"message"`
	ID      string  `json:"message_id"`
}

func (mailArgs) Kind() string { return JobKind }

// worker delivers queued messages. A failed delivery returns its error so
// the queue retries with back-off; an invalid message is cancelled, since
// retrying cannot fix it.
type worker struct {
	river.WorkerDefaults[mailArgs]
	s *Service
}

func (w *worker) Work(ctx context.Context, job *river.Job[mailArgs]) error {
	s := w.s
	if !s.Enabled() {
		s.off.Do(func() {
			s.log.InfoContext(ctx, "mail is disabled (no SMTP host); queued messages are dropped")
		})
		return nil
	}
	m := job.Args.Message
	if err := m.Validate(); err != nil {
		return river.JobCancel(err)
	}
	id := job.Args.ID
	if id == "" {
		id = newID()
	}
	return s.deliver(ctx, m, id)
}

// Timeout bounds one delivery attempt.
func (w *worker) Timeout(*river.Job[mailArgs]) time.Duration { return 2 * time.Minute }
