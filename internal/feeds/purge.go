package feeds

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/belfry-cert/belfry/internal/store"
)

// PurgeDedup deletes the deduplication keys whose window ended before
// now: an event after the end of its key's window is new either way, so
// the key only takes room. It deletes in slices, so that no transaction
// holds the database for long, and returns how many it deleted.
func PurgeDedup(ctx context.Context, db *store.DB, now time.Time) (int64, error) {
	var total int64
	for {
		res, err := db.Exec(ctx, `DELETE FROM feed_dedup WHERE key IN (SELECT key FROM feed_dedup WHERE until < ? LIMIT 5000)`, now.UTC())
		if err != nil {
			return total, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += n
		if n < 5000 {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

// PurgeArgs is the periodic job that purges expired deduplication keys.
type PurgeArgs struct{}

// Kind names the job.
func (PurgeArgs) Kind() string { return "feeds.purge_dedup" }

// PurgeWorker runs PurgeArgs.
type PurgeWorker struct {
	river.WorkerDefaults[PurgeArgs]
	DB  *store.DB
	Log *slog.Logger
}

// Work purges.
func (w *PurgeWorker) Work(ctx context.Context, _ *river.Job[PurgeArgs]) error {
	n, err := PurgeDedup(ctx, w.DB, time.Now())
	if n > 0 {
		w.Log.Info("feeds: expired deduplication keys purged", "keys", n)
	}
	return err
}
