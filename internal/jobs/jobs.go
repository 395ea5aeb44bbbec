// Package jobs runs Belfry's durable background work on River, a maintained
// job queue with one API on SQLite and PostgreSQL: jobs are rows inserted in
// the same transaction as the change that causes them, claimed by workers
// under a lease, retried with back-off, and periodic jobs run once across
// all instances (River elects a leader through the database).
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/belfry-cert/belfry/internal/store"
)

// Queue is the job queue client of one instance.
type Queue struct {
	client  *river.Client[*sql.Tx]
	working bool
}

// Workers is where capabilities register their job workers before New.
type Workers = river.Workers

// NewWorkers returns an empty worker registry.
func NewWorkers() *Workers { return river.NewWorkers() }

// Periodic is a job that runs on a schedule, once across the cluster.
type Periodic = river.PeriodicJob

// Every returns a periodic job inserting args every d.
func Every(d time.Duration, args river.JobArgs) *Periodic {
	return river.NewPeriodicJob(river.PeriodicInterval(d), func() (river.JobArgs, *river.InsertOpts) {
		return args, nil
	}, &river.PeriodicJobOpts{RunOnStart: true})
}

func driver(db *store.DB) riverdriver.Driver[*sql.Tx] {
	if db.Dialect() == store.Postgres {
		return riverdatabasesql.New(db.WritePool())
	}
	return riversqlite.New(db.WritePool())
}

// migrateLockKey serialises River's migrations across instances.
const migrateLockKey = 0x7269766572 // "river"

// Migrate creates or updates River's own tables. On PostgreSQL it holds an
// advisory lock, so that instances starting together take turns.
func Migrate(ctx context.Context, db *store.DB) error {
	if db.Dialect() == store.Postgres {
		conn, err := db.WritePool().Conn(ctx)
		if err != nil {
			return fmt.Errorf("jobs: migrate: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrateLockKey); err != nil {
			return fmt.Errorf("jobs: migrate lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLockKey)
	}
	m, err := rivermigrate.New(driver(db), nil)
	if err != nil {
		return fmt.Errorf("jobs: migrator: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	return nil
}

// Options configures a queue.
type Options struct {
	// Work makes this instance work jobs; without it, it only inserts them
	// (a web-only node).
	Work bool
	// MaxWorkers bounds concurrent jobs on this instance.
	MaxWorkers int
	// Periodic jobs; run only when Work is set.
	Periodic []*Periodic
	// PollInterval is how often idle workers look for new jobs.
	PollInterval time.Duration
}

// New returns a queue on db with the given workers.
func New(db *store.DB, log *slog.Logger, workers *Workers, opt Options) (*Queue, error) {
	cfg := &river.Config{
		Logger:            log.With("component", "jobs"),
		Workers:           workers,
		FetchPollInterval: opt.PollInterval,
		FetchCooldown:     50 * time.Millisecond,
		JobTimeout:        5 * time.Minute,
		MaxAttempts:       12,
	}
	if cfg.FetchPollInterval == 0 {
		cfg.FetchPollInterval = time.Second
	}
	if opt.Work {
		n := opt.MaxWorkers
		if n <= 0 {
			n = 10
		}
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: n}}
		cfg.PeriodicJobs = opt.Periodic
	}
	c, err := river.NewClient(driver(db), cfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: client: %w", err)
	}
	return &Queue{client: c, working: opt.Work}, nil
}

// Start starts working jobs, when this instance works them.
func (q *Queue) Start(ctx context.Context) error {
	if !q.working {
		return nil
	}
	return q.client.Start(ctx)
}

// Stop lets running jobs finish (up to ctx's deadline) and stops.
func (q *Queue) Stop(ctx context.Context) error {
	if !q.working {
		return nil
	}
	return q.client.Stop(ctx)
}

// InsertTx enqueues a job in tx: it exists exactly when tx commits.
func (q *Queue) InsertTx(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	if _, err := q.client.InsertTx(ctx, tx.SQL(), args, opts); err != nil {
		return fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	return nil
}
