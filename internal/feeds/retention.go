package feeds

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/belfry-cert/belfry/internal/store"
)

// Purged counts what Purge deleted.
type Purged struct {
	Events, Problems, Keys int64
}

// Purge deletes what is older than before: the events stored before it,
// the unreadable rows of runs started before it, and the deduplication
// keys whose window ended before it. Runs stay, with their counts, for
// the coverage figures. It deletes in slices, so that no transaction holds
// the database for long.
func Purge(ctx context.Context, db *store.DB, before time.Time) (Purged, error) {
	var p Purged
	before = before.UTC()
	for _, step := range []struct {
		n *int64
		q string
	}{
		{&p.Events, `DELETE FROM feed_events WHERE id IN (SELECT id FROM feed_events WHERE created_at < ? LIMIT 5000)`},
		// At most 1,000 problems are kept per run: one statement suffices.
		{&p.Problems, `DELETE FROM feed_problems WHERE run_id IN (SELECT id FROM feed_runs WHERE started_at < ?)`},
		{&p.Keys, `DELETE FROM feed_dedup WHERE key IN (SELECT key FROM feed_dedup WHERE until < ? LIMIT 5000)`},
	} {
		for {
			res, err := db.Exec(ctx, step.q, before)
			if err != nil {
				return p, err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return p, err
			}
			*step.n += n
			if n < 5000 {
				break
			}
			if err := ctx.Err(); err != nil {
				return p, err
			}
		}
	}
	return p, nil
}

// PurgeArgs is the periodic job of Purge.
type PurgeArgs struct{}

// Kind names the job.
func (PurgeArgs) Kind() string { return "feeds.purge" }

// PurgeWorker runs PurgeArgs with the retention of the settings.
type PurgeWorker struct {
	river.WorkerDefaults[PurgeArgs]
	DB        *store.DB
	Retention time.Duration
	Log       *slog.Logger
}

// Work purges what is older than the retention.
func (w *PurgeWorker) Work(ctx context.Context, _ *river.Job[PurgeArgs]) error {
	p, err := Purge(ctx, w.DB, time.Now().Add(-w.Retention))
	if p != (Purged{}) {
		w.Log.Info("feeds: data past retention purged", "events", p.Events, "problems", p.Problems, "keys", p.Keys)
	}
	return err
}
