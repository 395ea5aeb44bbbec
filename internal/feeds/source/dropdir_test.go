package source_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/feeds/source"
)

var discard = slog.New(slog.DiscardHandler)

// startDropDir runs a drop directory until the test ends or stop is called.
func startDropDir(t *testing.T, opt source.DropDirOptions, h source.Handler) (stop func() error) {
	t.Helper()
	if opt.Poll == 0 {
		opt.Poll = 20 * time.Millisecond
	}
	d, err := source.NewDropDir(opt, discard)
	if err != nil {
		t.Fatalf("NewDropDir: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- d.Run(ctx, h) }()
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() { cancel(); runErr = <-errc })
		return runErr
	}
	t.Cleanup(func() { stop() })
	return stop
}

// waitFor polls cond for up to 10 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// drop writes a file the recommended way: NAME.part, then a rename.
func drop(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name+".part"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, name+".part"), filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

func readAll(t *testing.T, f source.File) string {
	t.Helper()
	rc, err := f.Open()
	if err != nil {
		t.Errorf("Open(%s): %v", f.Name, err)
		return ""
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Errorf("read %s: %v", f.Name, err)
	}
	return string(b)
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestDropDirFilesByOutcome(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "done"), 0o755); err != nil {
		t.Fatal(err)
	}
	// An earlier a.csv is already in done/: the new one must not replace it.
	if err := os.WriteFile(filepath.Join(dir, "done", "a.csv"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	got := map[string]string{}
	h := func(_ context.Context, f source.File) error {
		body := readAll(t, f)
		mu.Lock()
		got[f.Name] = body
		mu.Unlock()
		if f.Source != "dropdir" || f.Size != int64(len(body)) {
			t.Errorf("file %s: Source %q Size %d, want dropdir and %d", f.Name, f.Source, f.Size, len(body))
		}
		switch body {
		case "bad":
			return errors.New("row 1: no header")
		case "panic":
			panic("parser bug")
		}
		return nil
	}
	startDropDir(t, source.DropDirOptions{Dir: dir, Instance: "i1"}, h)
	drop(t, dir, "a.csv", "good")
	drop(t, dir, "b.csv", "bad")
	drop(t, dir, "c.csv.gz", "panic")

	waitFor(t, "a.csv in done/", func() bool { return exists(filepath.Join(dir, "done", "a.2.csv")) })
	waitFor(t, "b.csv in failed/", func() bool { return exists(filepath.Join(dir, "failed", "b.csv.error.txt")) })
	waitFor(t, "c.csv.gz in failed/", func() bool { return exists(filepath.Join(dir, "failed", "c.csv.gz.error.txt")) })

	if b, _ := os.ReadFile(filepath.Join(dir, "done", "a.csv")); string(b) != "old" {
		t.Errorf("done/a.csv = %q, want the earlier file kept", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "done", "a.2.csv")); string(b) != "good" {
		t.Errorf("done/a.2.csv = %q, want %q", b, "good")
	}
	note, _ := os.ReadFile(filepath.Join(dir, "failed", "b.csv.error.txt"))
	if !strings.Contains(string(note), "row 1: no header") || !strings.Contains(string(note), "instance: i1") {
		t.Errorf("b.csv.error.txt = %q, want the reason and the instance", note)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "failed", "b.csv")); string(b) != "bad" {
		t.Errorf("failed/b.csv = %q, want the file itself", b)
	}
	note, _ = os.ReadFile(filepath.Join(dir, "failed", "c.csv.gz.error.txt"))
	if !strings.Contains(string(note), "panic: parser bug") {
		t.Errorf("c.csv.gz.error.txt = %q, want the panic", note)
	}
	mu.Lock()
	defer mu.Unlock()
	if got["a.csv"] != "good" || got["b.csv"] != "bad" {
		t.Errorf("handler saw %v", got)
	}
	if left := dirNames(t, filepath.Join(dir, "processing", "i1")); len(left) != 1 || left[0] != ".alive" {
		t.Errorf("processing/i1 holds %v, want only the heartbeat", left)
	}
}

func TestDropDirWaitsForCompleteFiles(t *testing.T) {
	dir := t.TempDir()
	var calls atomic.Int32
	var body atomic.Value
	// The writer pauses 15 ms between rows for about 600 ms, across several
	// polls of 250 ms: only a stall of the writer longer than a poll (a
	// machine under heavy load) could make the file look complete early.
	startDropDir(t, source.DropDirOptions{Dir: dir, Instance: "i1", Poll: 250 * time.Millisecond}, func(_ context.Context, f source.File) error {
		calls.Add(1)
		body.Store(readAll(t, f))
		return nil
	})
	// A .part file is never taken, however long it stays.
	if err := os.WriteFile(filepath.Join(dir, "x.csv.part"), []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A file written in place grows for a while: it is taken only once it
	// stopped changing, so the handler sees all of it.
	f, err := os.Create(filepath.Join(dir, "slow.csv"))
	if err != nil {
		t.Fatal(err)
	}
	want := ""
	for i := range 40 {
		line := fmt.Sprintf("row %d\n", i)
		want += line
		if _, err := f.WriteString(line); err != nil {
			t.Fatal(err)
		}
		time.Sleep(15 * time.Millisecond)
		if calls.Load() > 0 {
			t.Fatalf("slow.csv taken while still being written (after %d rows)", i+1)
		}
	}
	f.Close()
	waitFor(t, "slow.csv processed", func() bool { return exists(filepath.Join(dir, "done", "slow.csv")) })
	if got := body.Load(); got != want {
		t.Errorf("handler read %q, want %q", got, want)
	}
	time.Sleep(100 * time.Millisecond)
	if n := calls.Load(); n != 1 {
		t.Errorf("handler called %d times, want 1 (the .part file must be left alone)", n)
	}
	if !exists(filepath.Join(dir, "x.csv.part")) {
		t.Error("x.csv.part was moved")
	}
}

func TestDropDirRecoversItsClaimsAfterACrash(t *testing.T) {
	dir := t.TempDir()
	mine := filepath.Join(dir, "processing", "i1")
	if err := os.MkdirAll(mine, 0o755); err != nil {
		t.Fatal(err)
	}
	// The previous run of i1 claimed r.csv and died before filing it.
	if err := os.WriteFile(filepath.Join(mine, "r.csv"), []byte("left over"), 0o644); err != nil {
		t.Fatal(err)
	}
	var got atomic.Value
	startDropDir(t, source.DropDirOptions{Dir: dir, Instance: "i1"}, func(_ context.Context, f source.File) error {
		got.Store(readAll(t, f))
		return nil
	})
	waitFor(t, "r.csv in done/", func() bool { return exists(filepath.Join(dir, "done", "r.csv")) })
	if got.Load() != "left over" {
		t.Errorf("handler read %q", got.Load())
	}
}

func TestDropDirKeepsFileWhenInterrupted(t *testing.T) {
	dir := t.TempDir()
	started := make(chan struct{})
	stop := startDropDir(t, source.DropDirOptions{Dir: dir, Instance: "i1"}, func(ctx context.Context, f source.File) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	})
	drop(t, dir, "long.csv", "x")
	<-started
	if err := stop(); err != nil {
		t.Fatalf("Run = %v, want nil after cancel", err)
	}
	if !exists(filepath.Join(dir, "processing", "i1", "long.csv")) {
		t.Errorf("long.csv not kept in processing/i1 for the next start; done=%v failed=%v",
			dirNames(t, filepath.Join(dir, "done")), dirNames(t, filepath.Join(dir, "failed")))
	}
}

func TestDropDirInstancesShareWithoutDoubles(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	seen := map[string]int{}
	h := func(_ context.Context, f source.File) error {
		mu.Lock()
		seen[f.Name]++
		mu.Unlock()
		time.Sleep(time.Millisecond)
		return nil
	}
	for _, id := range []string{"a", "b", "c"} {
		startDropDir(t, source.DropDirOptions{Dir: dir, Instance: id, Workers: 3, Poll: 10 * time.Millisecond}, h)
	}
	const n = 120
	for i := range n {
		drop(t, dir, fmt.Sprintf("f%03d.csv", i), "x")
	}
	waitFor(t, "every file in done/", func() bool { return len(dirNames(t, filepath.Join(dir, "done"))) == n })
	mu.Lock()
	defer mu.Unlock()
	for name, c := range seen {
		if c != 1 {
			t.Errorf("%s processed %d times", name, c)
		}
	}
	if len(seen) != n {
		t.Errorf("%d files processed, want %d", len(seen), n)
	}
}

func TestDropDirBoundsConcurrency(t *testing.T) {
	dir := t.TempDir()
	var cur, peak atomic.Int32
	startDropDir(t, source.DropDirOptions{Dir: dir, Instance: "i1", Workers: 2}, func(_ context.Context, f source.File) error {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		// Files beyond the free workers stay in the drop directory, for
		// other instances, instead of being claimed early.
		if claimed := len(dirNames(t, filepath.Join(dir, "processing", "i1"))) - 1; claimed > 2 {
			t.Errorf("%d files claimed at once, want at most 2", claimed)
		}
		time.Sleep(30 * time.Millisecond)
		cur.Add(-1)
		return nil
	})
	for i := range 8 {
		drop(t, dir, fmt.Sprintf("f%d.csv", i), "x")
	}
	waitFor(t, "8 files in done/", func() bool { return len(dirNames(t, filepath.Join(dir, "done"))) == 8 })
	if p := peak.Load(); p != 2 {
		t.Errorf("peak concurrency %d, want 2", p)
	}
}

func TestDropDirReclaimsFilesOfASilentInstance(t *testing.T) {
	dir := t.TempDir()
	dead := filepath.Join(dir, "processing", "dead")
	if err := os.MkdirAll(dead, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"d.csv", ".alive"} {
		if err := os.WriteFile(filepath.Join(dead, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(dead, ".alive"), old, old); err != nil {
		t.Fatal(err)
	}
	// A live instance with a fresh heartbeat keeps its claims.
	live := filepath.Join(dir, "processing", "live")
	if err := os.MkdirAll(live, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"l.csv", ".alive"} {
		if err := os.WriteFile(filepath.Join(live, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	startDropDir(t, source.DropDirOptions{Dir: dir, Instance: "i1", ReclaimAfter: time.Minute}, func(context.Context, source.File) error { return nil })
	waitFor(t, "d.csv reclaimed and processed", func() bool { return exists(filepath.Join(dir, "done", "d.csv")) })
	waitFor(t, "the dead instance's directory removed", func() bool { return !exists(dead) })
	if !exists(filepath.Join(live, "l.csv")) {
		t.Error("a live instance's claim was taken")
	}
}

func TestNewDropDirRejectsBadOptions(t *testing.T) {
	for _, opt := range []source.DropDirOptions{
		{},
		{Dir: t.TempDir(), Instance: "../x"},
		{Dir: t.TempDir(), Instance: ".hidden"},
	} {
		if _, err := source.NewDropDir(opt, discard); err == nil {
			t.Errorf("NewDropDir(%+v) = nil error", opt)
		}
	}
}
