package constituency_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/constituency"
)

// fakeRegistry stands in for the registry's claims table and its version
// counter. Version v holds the claim "198.51.100.0/24" owned by org v, so a
// lookup tells which version a snapshot was built from.
type fakeRegistry struct {
	version  atomic.Int64
	loads    atomic.Int64
	fail     atomic.Bool // load returns an error
	badClaim atomic.Bool // load returns a claim that does not build
}

var probe = netip.MustParseAddr("198.51.100.1")

func claimsAt(v int64) []constituency.Claim {
	return []constituency.Claim{{ID: v, OrgID: v, Kind: constituency.KindPrefix, Value: "198.51.100.0/24"}}
}

func (r *fakeRegistry) source(ctx context.Context) (int64, error) { return r.version.Load(), nil }

func (r *fakeRegistry) load(ctx context.Context) (int64, []constituency.Claim, error) {
	r.loads.Add(1)
	if r.fail.Load() {
		return 0, nil, errors.New("database is down")
	}
	v := r.version.Load()
	claims := claimsAt(v)
	if r.badClaim.Load() {
		claims = append(claims, constituency.Claim{ID: 99, OrgID: 1, Kind: constituency.KindPrefix, Value: "192.0.2.1/24"})
	}
	return v, claims, nil
}

// loadAt returns a Loader that always returns version v.
func loadAt(v int64) constituency.Loader {
	return func(ctx context.Context) (int64, []constituency.Claim, error) { return v, claimsAt(v), nil }
}

// owner returns the organisation owning the probe address in s, which is
// the version s was built from, or 0.
func owner(s *constituency.Snapshot) int64 {
	if m := s.LookupIP(probe); m.Found() {
		return m.Orgs[0]
	}
	return 0
}

func TestIndexStartsEmpty(t *testing.T) {
	t.Parallel()
	x := constituency.NewIndex()
	s := x.Load()
	if s == nil {
		t.Fatal("Load() = nil on a new Index")
	}
	if m := s.LookupIP(probe); m.Found() || x.Version() != 0 {
		t.Errorf("new Index: LookupIP = %+v, Version() = %d; want no match, 0", m, x.Version())
	}
}

func TestIndexSwap(t *testing.T) {
	t.Parallel()
	x := constituency.NewIndex()
	s, err := constituency.Build(claimsAt(5))
	if err != nil {
		t.Fatal(err)
	}
	x.Swap(s)
	if x.Load() != s || owner(x.Load()) != 5 {
		t.Errorf("after Swap: Load() = %p, want %p", x.Load(), s)
	}
	x.Swap(nil)
	if x.Load() == nil || owner(x.Load()) != 0 {
		t.Errorf("after Swap(nil): Load() = %v, want an empty snapshot", x.Load())
	}
	// A swapped-in snapshot has no version, so any loaded one replaces it.
	x.Swap(s)
	if err := x.Refresh(t.Context(), loadAt(1)); err != nil {
		t.Fatal(err)
	}
	if owner(x.Load()) != 1 || x.Version() != 1 {
		t.Errorf("Refresh after Swap: owner %d, version %d; want 1, 1", owner(x.Load()), x.Version())
	}
}

func TestIndexRefreshMonotonic(t *testing.T) {
	t.Parallel()
	x := constituency.NewIndex()
	ctx := t.Context()
	steps := []struct {
		load        int64
		wantVersion int64
	}{
		{3, 3},
		{7, 7},
		{5, 7}, // older: kept out
		{7, 7}, // same: nothing to do
		{8, 8},
	}
	for _, st := range steps {
		before := x.Load()
		if err := x.Refresh(ctx, loadAt(st.load)); err != nil {
			t.Fatalf("Refresh(version %d) = %v", st.load, err)
		}
		if x.Version() != st.wantVersion || owner(x.Load()) != st.wantVersion {
			t.Errorf("after Refresh(version %d): Version() = %d, owner %d; want %d", st.load, x.Version(), owner(x.Load()), st.wantVersion)
		}
		if st.load == st.wantVersion && st.load == before.Stats().Version && x.Load() != before {
			t.Errorf("Refresh(version %d) replaced a snapshot of the same version", st.load)
		}
	}
}

func TestIndexRefreshErrorsKeepSnapshot(t *testing.T) {
	t.Parallel()
	x := constituency.NewIndex()
	ctx := t.Context()
	if err := x.Refresh(ctx, loadAt(2)); err != nil {
		t.Fatal(err)
	}
	var r fakeRegistry
	r.version.Store(3)
	r.fail.Store(true)
	if err := x.Refresh(ctx, r.load); err == nil || !strings.Contains(err.Error(), "database is down") {
		t.Errorf("Refresh with a failing loader = %v, want the load error", err)
	}
	r.fail.Store(false)
	r.badClaim.Store(true)
	if err := x.Refresh(ctx, r.load); err == nil || !strings.Contains(err.Error(), "claim 99") {
		t.Errorf("Refresh with a bad claim = %v, want the build error", err)
	}
	if x.Version() != 2 || owner(x.Load()) != 2 {
		t.Errorf("after failed refreshes: Version() = %d, owner %d; want 2, 2", x.Version(), owner(x.Load()))
	}
}

// TestIndexConcurrentRefresh races refreshes of random versions against
// readers; the index must end at the newest version and readers must never
// see the version go down.
func TestIndexConcurrentRefresh(t *testing.T) {
	t.Parallel()
	x := constituency.NewIndex()
	ctx := t.Context()
	const writers, perWriter = 8, 25
	var stop atomic.Bool
	var readers, ws sync.WaitGroup
	for range 4 {
		readers.Go(func() {
			last := int64(0)
			for !stop.Load() {
				s := x.Load()
				v := owner(s)
				if v < last {
					t.Errorf("reader saw version %d after %d", v, last)
					return
				}
				if v != s.Stats().Version {
					t.Errorf("snapshot of version %d has owner %d", s.Stats().Version, v)
					return
				}
				last = v
			}
		})
	}
	for w := range writers {
		ws.Go(func() {
			for i := range perWriter {
				v := int64((i*writers+w)*7%(writers*perWriter) + 1) // a permutation of 1..200
				if err := x.Refresh(ctx, loadAt(v)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	ws.Wait()
	stop.Store(true)
	readers.Wait()
	if x.Version() != writers*perWriter || owner(x.Load()) != writers*perWriter {
		t.Errorf("after concurrent refreshes: Version() = %d, owner %d; want %d", x.Version(), owner(x.Load()), writers*perWriter)
	}
}

// syncBuffer is a log sink safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// waitFor polls cond until it holds or a few seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestIndexRun(t *testing.T) {
	t.Parallel()
	x := constituency.NewIndex()
	var r fakeRegistry
	r.version.Store(1)
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		x.Run(ctx, time.Millisecond, r.source, r.load, log)
	}()

	waitFor(t, "the first load", func() bool { return x.Version() == 1 })
	loads := r.loads.Load()
	time.Sleep(20 * time.Millisecond)
	if n := r.loads.Load(); n != loads {
		t.Errorf("Run loaded %d more times with an unchanged version", n-loads)
	}

	r.version.Store(2)
	waitFor(t, "version 2", func() bool { return x.Version() == 2 && owner(x.Load()) == 2 })

	r.badClaim.Store(true)
	r.version.Store(3)
	waitFor(t, "the build error to be logged", func() bool { return strings.Contains(logs.String(), "claim 99") })
	if x.Version() != 2 {
		t.Errorf("after a build error: Version() = %d, want 2", x.Version())
	}
	r.badClaim.Store(false)
	waitFor(t, "version 3", func() bool { return x.Version() == 3 })

	// Refresh on this instance alongside Run.
	r.version.Store(4)
	if err := x.Refresh(t.Context(), r.load); err != nil {
		t.Fatal(err)
	}
	if x.Version() != 4 {
		t.Errorf("after Refresh: Version() = %d, want 4", x.Version())
	}

	r.version.Store(1) // restored from an old backup
	waitFor(t, "the backwards warning", func() bool { return strings.Contains(logs.String(), "went backwards") })
	if x.Version() != 4 {
		t.Errorf("after the version went backwards: Version() = %d, want 4", x.Version())
	}
	if n := strings.Count(logs.String(), "went backwards"); n != 1 {
		t.Errorf("backwards warning logged %d times, want once", n)
	}

	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if !strings.Contains(logs.String(), "index refreshed") {
		t.Errorf("logs lack the refresh message:\n%s", logs.String())
	}
}

func TestIndexRunSourceError(t *testing.T) {
	t.Parallel()
	x := constituency.NewIndex()
	var logs syncBuffer
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	calls := atomic.Int64{}
	source := func(ctx context.Context) (int64, error) {
		if calls.Add(1) < 3 {
			return 0, fmt.Errorf("connection refused")
		}
		return 9, nil
	}
	go x.Run(ctx, time.Millisecond, source, loadAt(9), slog.New(slog.NewTextHandler(&logs, nil)))
	waitFor(t, "version 9", func() bool { return x.Version() == 9 })
	if !strings.Contains(logs.String(), "connection refused") {
		t.Errorf("source error not logged:\n%s", logs.String())
	}
}
