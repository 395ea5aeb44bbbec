package earlywarning

// Delivery: one job per e-mail and one per webhook call, queued with the
// ticket. The job queue retries a failed delivery with back-off (up to 12
// attempts); each attempt is recorded on the ticket.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/riverqueue/river"

	"github.com/belfry-cert/belfry/internal/jobs"
	"github.com/belfry-cert/belfry/internal/notify"
	"github.com/belfry-cert/belfry/internal/store"
)

// SignatureHeader carries the HMAC-SHA256 of a webhook's body with the
// organisation's secret, as "sha256=" and lower-case hex.
const SignatureHeader = "X-Belfry-Signature"

// TicketHeader carries the ticket reference of a webhook call.
const TicketHeader = "X-Belfry-Ticket"

// Sign returns the signature header value of body with secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Register adds the dispatch and delivery workers.
func (s *Service) Register(w *jobs.Workers) {
	river.AddWorker(w, &DispatchWorker{Service: s})
	river.AddWorker(w, &mailWorker{s: s})
	river.AddWorker(w, &webhookWorker{s: s})
}

// Periodic is the dispatch job, every minute on the queue's leader.
func Periodic() *jobs.Periodic { return jobs.Every(time.Minute, DispatchArgs{}) }

// MailArgs deliver one e-mail of a ticket.
type MailArgs struct {
	Ticket  int64          `json:"ticket"`
	Message notify.Message `json:"message"`
}

// Kind names the job.
func (MailArgs) Kind() string { return "earlywarning.mail" }

// WebhookArgs deliver a ticket to a webhook: Body is the exact document
// whose SHA-256 the ticket records.
type WebhookArgs struct {
	Ticket int64  `json:"ticket"`
	URL    string `json:"url"`
	Body   string `json:"body"`
}

// Kind names the job.
func (WebhookArgs) Kind() string { return "earlywarning.webhook" }

type mailWorker struct {
	river.WorkerDefaults[MailArgs]
	s *Service
}

func (w *mailWorker) Work(ctx context.Context, job *river.Job[MailArgs]) error {
	s := w.s
	if s.mail == nil {
		return s.delivered(ctx, job.Args.Ticket, errors.New("mail is not configured"), true)
	}
	err := s.mail.Send(ctx, job.Args.Message)
	if errors.Is(err, notify.ErrDisabled) {
		// Retrying cannot help until an operator configures SMTP.
		return s.delivered(ctx, job.Args.Ticket, err, true)
	}
	return s.delivered(ctx, job.Args.Ticket, err, job.Attempt >= job.MaxAttempts)
}

func (w *mailWorker) Timeout(*river.Job[MailArgs]) time.Duration { return 2 * time.Minute }

type webhookWorker struct {
	river.WorkerDefaults[WebhookArgs]
	s *Service
}

func (w *webhookWorker) Work(ctx context.Context, job *river.Job[WebhookArgs]) error {
	err := w.s.post(ctx, job.Args)
	return w.s.delivered(ctx, job.Args.Ticket, err, job.Attempt >= job.MaxAttempts)
}

func (w *webhookWorker) Timeout(*river.Job[WebhookArgs]) time.Duration { return time.Minute }

// post calls the webhook once with the secret saved now.
func (s *Service) post(ctx context.Context, a WebhookArgs) error {
	var secret, ref string
	if err := s.db.QueryRow(ctx, `SELECT COALESCE(st.webhook_secret, ''), t.ref FROM feed_tickets t
		LEFT JOIN feed_settings st ON st.org_id = t.org_id WHERE t.id = ?`, a.Ticket).Scan(&secret, &ref); err != nil {
		return fmt.Errorf("ticket %d: %w", a.Ticket, err)
	}
	if secret == "" {
		return errors.New("no webhook secret is saved")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.URL, strings.NewReader(a.Body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Belfry early warning")
	req.Header.Set(TicketHeader, ref)
	req.Header.Set(SignatureHeader, Sign(secret, []byte(a.Body)))
	res, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("the webhook answered %s", res.Status)
	}
	return nil
}

// delivered records one attempt on the ticket: a success counts the
// delivery (the ticket is sent when all are); a failure keeps the error,
// and marks the ticket failed when final. It returns the delivery's error
// unless final, so that the queue retries.
func (s *Service) delivered(ctx context.Context, ticket int64, derr error, final bool) error {
	now := s.tick()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if derr == nil {
			_, err := tx.Exec(ctx, `UPDATE feed_tickets SET attempts = attempts + 1, delivered = delivered + 1,
				status = CASE WHEN status = 'queued' AND delivered + 1 >= deliveries THEN 'sent' ELSE status END,
				sent_at = CASE WHEN delivered + 1 >= deliveries THEN ? ELSE sent_at END WHERE id = ?`, now, ticket)
			return err
		}
		msg := derr.Error()
		if len(msg) > 500 {
			msg = msg[:500]
		}
		_, err := tx.Exec(ctx, `UPDATE feed_tickets SET attempts = attempts + 1, error = ?,
			status = CASE WHEN ? THEN 'failed' ELSE status END WHERE id = ?`, msg, final, ticket)
		return err
	})
	if err != nil {
		return err
	}
	if derr != nil {
		s.log.WarnContext(ctx, "early warning delivery failed", "ticket", ticket, "final", final, "error", derr)
		if !final {
			return derr
		}
	}
	return nil
}

// webhookClient posts webhooks without following redirects; unless
// private is set, it refuses to connect to loopback, private, link-local
// and other non-public addresses, so that a webhook cannot reach the
// authority's internal network.
func webhookClient(private bool) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second}
	if !private {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return err
			}
			a := ap.Addr().Unmap()
			if !a.IsGlobalUnicast() || a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() {
				return fmt.Errorf("webhook address %s is not public", a)
			}
			return nil
		}
	}
	tr := &http.Transport{DialContext: d.DialContext, TLSHandshakeTimeout: 10 * time.Second, ResponseHeaderTimeout: 30 * time.Second,
		MaxIdleConns: 10, IdleConnTimeout: time.Minute, ForceAttemptHTTP2: true}
	return &http.Client{Transport: tr, Timeout: 45 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
