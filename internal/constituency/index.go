package constituency

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync/atomic"
	"time"
)

// A Source returns the current version of the approved claims. It must be
// cheap (one small query) and the version must grow with every change to
// the claims, for example a counter bumped in the transaction that approves,
// edits or revokes a claim.
type Source func(ctx context.Context) (version int64, err error)

// A Loader returns all approved claims and the version they were read at,
// read consistently (in one transaction).
type Loader func(ctx context.Context) (version int64, claims []Claim, err error)

// An Index holds the current Snapshot. Readers call Load once per unit of
// work and use the Snapshot they got; writers replace it atomically. It is
// safe for concurrent use. Create one with NewIndex.
type Index struct {
	cur atomic.Pointer[Snapshot]
}

// NewIndex returns an Index holding an empty Snapshot.
func NewIndex() *Index {
	x := &Index{}
	x.cur.Store(empty())
	return x
}

func empty() *Snapshot {
	s, err := Build(nil)
	if err != nil {
		panic(err) // unreachable: there is nothing to reject
	}
	return s
}

// Load returns the current Snapshot, never nil.
func (x *Index) Load() *Snapshot { return x.cur.Load() }

// Swap makes s the current Snapshot unconditionally; nil means empty. The
// next successful Refresh or Run replaces it whatever its version.
func (x *Index) Swap(s *Snapshot) {
	if s == nil {
		s = empty()
	}
	x.cur.Store(s)
}

// Version returns the claims version of the current Snapshot, or 0 if it
// was not loaded by Refresh or Run.
func (x *Index) Version() int64 { return x.Load().version }

// Refresh loads all claims, builds a Snapshot and makes it current, unless a
// Snapshot of the same or a newer version is already current. Call it after
// approving a claim on this instance. On error the current Snapshot stays.
func (x *Index) Refresh(ctx context.Context, load Loader) error {
	_, _, err := x.refresh(ctx, load)
	return err
}

// refresh returns the Snapshot it built and whether it became current.
func (x *Index) refresh(ctx context.Context, load Loader) (*Snapshot, bool, error) {
	v, claims, err := load(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("constituency: load claims: %w", err)
	}
	s, err := Build(claims)
	if err != nil {
		return nil, false, fmt.Errorf("%w (claims version %d)", err, v)
	}
	s.version, s.versioned = v, true
	return s, x.publish(s), nil
}

// publish makes s current unless the current Snapshot was loaded at the same
// or a newer version, and reports whether it did.
func (x *Index) publish(s *Snapshot) bool {
	for {
		old := x.cur.Load()
		if old.versioned && old.version >= s.version {
			return false
		}
		if x.cur.CompareAndSwap(old, s) {
			return true
		}
	}
}

const defaultInterval = 30 * time.Second

// Run keeps the Index up to date until ctx is done: at once and then every
// interval (30 s if not positive) it asks version for the claims version
// and, when it is newer than the current Snapshot's, refreshes with load.
// Errors are logged and the current Snapshot kept. Run is for deployments
// with several instances, where claims change on another instance; it can
// run alongside Refresh.
func (x *Index) Run(ctx context.Context, interval time.Duration, version Source, load Loader, log *slog.Logger) {
	if interval <= 0 {
		interval = defaultInterval
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	warned := int64(math.MinInt64) // last backwards version warned about
	for {
		x.poll(ctx, version, load, log, &warned)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (x *Index) poll(ctx context.Context, version Source, load Loader, log *slog.Logger, warned *int64) {
	v, err := version(ctx)
	if err != nil {
		if ctx.Err() == nil {
			log.Error("constituency: read claims version", slog.Any("err", err))
		}
		return
	}
	cur := x.Load()
	switch {
	case cur.versioned && v == cur.version:
		return
	case cur.versioned && v < cur.version:
		if *warned != v {
			*warned = v
			log.Warn("constituency: claims version went backwards; keeping the newer snapshot until restart",
				slog.Int64("version", v), slog.Int64("loaded_version", cur.version))
		}
		return
	}
	s, published, err := x.refresh(ctx, load)
	switch {
	case err != nil:
		if ctx.Err() == nil {
			log.Error("constituency: refresh index; keeping the current snapshot", slog.Any("err", err),
				slog.Int64("loaded_version", cur.version))
		}
	case published:
		st := s.Stats()
		log.Info("constituency: index refreshed", slog.Int64("version", st.Version), slog.Int("claims", st.Claims),
			slog.Int("conflicts", st.Conflicts), slog.Duration("build_time", st.BuildTime))
	}
}
