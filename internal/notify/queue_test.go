package notify_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/jobs"
	"github.com/belfry-cert/belfry/internal/notify"
	"github.com/belfry-cert/belfry/internal/store"
)

// deliveryTimeout bounds how long a test waits for the queue to deliver.
const deliveryTimeout = 15 * time.Second

// newQueue registers svc's worker on a fresh queue over db and gives the
// queue to svc. It does not start the queue.
func newQueue(t *testing.T, db *store.DB, svc *notify.Service) *jobs.Queue {
	t.Helper()
	w := jobs.NewWorkers()
	svc.Register(w)
	q, err := jobs.New(db, quietLogger(), w, jobs.Options{Work: true, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("jobs.New: %v", err)
	}
	svc.SetQueue(q)
	return q
}

// start starts q and stops it when the test ends.
func start(t *testing.T, q *jobs.Queue) {
	t.Helper()
	if err := q.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := q.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
}

// mailJobs returns the states of the queue's mail jobs.
func mailJobs(t *testing.T, db *store.DB) []string {
	t.Helper()
	rows, err := db.Query(t.Context(), `SELECT state FROM river_job WHERE kind = ? ORDER BY id`, notify.JobKind)
	if err != nil {
		t.Fatalf("query jobs: %v", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatalf("scan job: %v", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("query jobs: %v", err)
	}
	return out
}

// waitJobs polls until the mail jobs are in the states want.
func waitJobs(t *testing.T, db *store.DB, want ...string) {
	t.Helper()
	deadline := time.Now().Add(deliveryTimeout)
	for {
		got := mailJobs(t, db)
		if strings.Join(got, ",") == strings.Join(want, ",") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("mail jobs = %q after %v, want %q", got, deliveryTimeout, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSecurityNoticeIsQueuedAndSent(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		srv := startSMTP(t, serverOptions{StartTLS: true, User: "belfry", Pass: "s3cret"})
		svc := newService(t, config(srv, "starttls"))
		q := newQueue(t, db, svc)
		err := db.Tx(t.Context(), func(tx *store.Tx) error {
			return svc.SecurityNotice(t.Context(), tx, "anne@example.be", "fr", "password_changed")
		})
		if err != nil {
			t.Fatalf("SecurityNotice in Tx = %v, want nil", err)
		}
		start(t, q)
		r := srv.Wait(t, 1, deliveryTimeout)[0]
		p := parse(t, r)
		checkHeaders(t, p)
		if want := "[Belfry] Votre mot de passe a été modifié"; p.Subject != want {
			t.Errorf("Subject = %q, want %q", p.Subject, want)
		}
		cat := i18n.MustLoad()
		for _, key := range []string{"mail.security.password_changed.body", "mail.security.footer"} {
			if want := cat.T("fr", key, nil); !strings.Contains(p.Body, want) {
				t.Errorf("body = %q, want it to contain %s %q", p.Body, key, want)
			}
		}
		if len(r.To) != 1 || r.To[0] != "anne@example.be" {
			t.Errorf("RCPT TO = %q, want [anne@example.be]", r.To)
		}
		waitJobs(t, db, "completed")
	})
}

func TestEnqueueRolledBackIsNeverSent(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		srv := startSMTP(t, serverOptions{StartTLS: true})
		svc := newService(t, config(srv, "starttls"))
		q := newQueue(t, db, svc)
		rollback := errors.New("rollback")
		err := db.Tx(t.Context(), func(tx *store.Tx) error {
			if err := svc.Enqueue(t.Context(), tx, notify.Message{To: []string{"ghost@example.be"}, Subject: "rolled back", Text: "x"}); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatalf("Tx = %v, want the rollback error", err)
		}
		// A committed message after it: once it has arrived, the rolled-back
		// one would have had every chance to arrive too.
		err = db.Tx(t.Context(), func(tx *store.Tx) error {
			return svc.Enqueue(t.Context(), tx, notify.Message{To: []string{"anne@example.be"}, Subject: "committed", Text: "x"})
		})
		if err != nil {
			t.Fatalf("Enqueue in Tx = %v, want nil", err)
		}
		start(t, q)
		srv.Wait(t, 1, deliveryTimeout)
		waitJobs(t, db, "completed")
		got := srv.Received()
		if len(got) != 1 || parse(t, got[0]).Subject != "committed" {
			t.Errorf("server received %d messages (first: %q), want only the committed one", len(got), got[0].To)
		}
	})
}

func TestEnqueueRejectsBadRecipient(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		svc := notify.New(notify.SMTPConfig{}, i18n.MustLoad(), quietLogger())
		newQueue(t, db, svc)
		err := db.Tx(t.Context(), func(tx *store.Tx) error {
			return svc.Enqueue(t.Context(), tx, notify.Message{To: []string{"anne"}, Subject: "x", Text: "x"})
		})
		if !errs.Is(err, errs.Invalid) {
			t.Errorf("Enqueue(to anne) = %v, want Invalid", err)
		}
		if got := mailJobs(t, db); len(got) != 0 {
			t.Errorf("mail jobs = %q after a rejected message, want none", got)
		}
	})
}

func TestWorkerFailureIsRetried(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		srv := startSMTP(t, serverOptions{StartTLS: true, User: "belfry", Pass: "s3cret"})
		cfg := config(srv, "starttls")
		cfg.Password = "wrong"
		svc := newService(t, cfg)
		q := newQueue(t, db, svc)
		err := db.Tx(t.Context(), func(tx *store.Tx) error {
			return svc.SecurityNotice(t.Context(), tx, "anne@example.be", "nl", "totp_enabled")
		})
		if err != nil {
			t.Fatalf("SecurityNotice in Tx = %v, want nil", err)
		}
		start(t, q)
		waitJobs(t, db, "retryable")
		if n := len(srv.Received()); n != 0 {
			t.Errorf("server received %d messages with a wrong password, want 0", n)
		}
	})
}

func TestWorkerWithMailDisabledCompletes(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		svc := notify.New(notify.SMTPConfig{}, i18n.MustLoad(), quietLogger())
		q := newQueue(t, db, svc)
		err := db.Tx(t.Context(), func(tx *store.Tx) error {
			return svc.SecurityNotice(t.Context(), tx, "anne@example.be", "de", "token_created")
		})
		if err != nil {
			t.Fatalf("SecurityNotice in Tx = %v, want nil", err)
		}
		start(t, q)
		waitJobs(t, db, "completed")
	})
}

func TestEnqueueWithoutQueue(t *testing.T) {
	t.Parallel()
	svc := notify.New(notify.SMTPConfig{}, i18n.MustLoad(), quietLogger())
	err := svc.Enqueue(t.Context(), nil, notify.Message{To: []string{"anne@example.be"}, Subject: "x", Text: "x"})
	if err == nil || !strings.Contains(err.Error(), "SetQueue") {
		t.Errorf("Enqueue without a queue = %v, want an error naming SetQueue", err)
	}
}
