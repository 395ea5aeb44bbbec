package intake

import (
	"context"
	"log/slog"
	"time"

	"github.com/belfry-cert/belfry/internal/feeds/source"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/riverqueue/river"
)

// Ledger is the Shadowserver reports already downloaded, in the database
// (feed_downloads), shared by every instance.
type Ledger struct{ db *store.DB }

// NewLedger returns the ledger on db.
func NewLedger(db *store.DB) *Ledger { return &Ledger{db: db} }

// Seen reports whether the report id was downloaded and processed.
func (l *Ledger) Seen(ctx context.Context, id string) (bool, error) {
	var n int
	err := l.db.QueryRow(ctx, `SELECT count(*) FROM feed_downloads WHERE report_id = ?`, id).Scan(&n)
	return n > 0, err
}

// Record notes a report as processed; recording it twice is harmless.
func (l *Ledger) Record(ctx context.Context, r source.Report) error {
	_, err := l.db.Exec(ctx, `INSERT INTO feed_downloads (report_id, report, type, report_date, file, downloaded_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (report_id) DO NOTHING`, r.ID, r.Report, r.Type, r.Date, r.File, time.Now().UTC().Truncate(time.Microsecond))
	return err
}

var _ source.Ledger = (*Ledger)(nil)

// PollArgs is the periodic job that polls the Shadowserver Reports API.
type PollArgs struct{}

// Kind names the job.
func (PollArgs) Kind() string { return "feeds.shadowserver_poll" }

// PollWorker runs PollArgs: one poll, each new report through the
// ingester. It runs on one instance at a time (the job queue's leader
// inserts it), so two instances never download a report together.
type PollWorker struct {
	river.WorkerDefaults[PollArgs]
	Client   *source.Shadowserver
	Ingester *Ingester
	Log      *slog.Logger
}

// Work polls.
func (w *PollWorker) Work(ctx context.Context, _ *river.Job[PollArgs]) error {
	st, err := w.Client.Poll(ctx, w.Ingester.Handle)
	if err != nil {
		return err
	}
	w.Log.Info("feeds: Shadowserver polled", "listed", st.Listed, "skipped", st.Skipped, "processed", st.Processed, "failed", st.Failed)
	return nil
}

// Timeout lets a poll download for up to an hour.
func (w *PollWorker) Timeout(*river.Job[PollArgs]) time.Duration { return time.Hour }
