package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/app"
	"github.com/belfry-cert/belfry/internal/store"
)

// TestIngest reads the Shadowserver test reports of several families
// twice into a database whose constituency claims 192.0.2.0/24 and
// 198.51.100.0/24: the first time the findings are new, the second time
// duplicates; a file whose report type cannot be told fails the command,
// after the other files were read.
func TestIngest(t *testing.T) {
	schema := shadowserverSchema(t)
	dir := t.TempDir()
	cfg := app.Config{DataDir: dir, SQLiteSync: "normal"}
	seedDB(t, cfg)
	db, err := store.Open(t.Context(), store.Config{DataDir: dir, SQLiteSync: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	var org int64
	if err := db.QueryRow(t.Context(), `INSERT INTO organisations (name, kind, created_at, updated_at) VALUES ('Ingest Grid', 'entity', ?, ?) RETURNING id`,
		now, now).Scan(&org); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"192.0.2.0/24", "198.51.100.0/24"} {
		if _, err := db.Exec(t.Context(), `INSERT INTO constituency_claims (org_id, kind, value, status, created_at) VALUES (?, 'prefix', ?, 'approved', ?)`,
			org, p, now); err != nil {
			t.Fatal(err)
		}
	}
	in := t.TempDir()
	for _, name := range []string{"2026-03-01-scan_http-belgium-geo.csv", "2026-03-01-event4_sinkhole_http-belgium-geo.csv",
		"2026-03-01-compromised_website-belgium-geo.csv", "2026-03-01-device_id-belgium-geo.csv"} {
		b, err := os.ReadFile(feedsTestdata + name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(in, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out := mustRun(t, "ingest", "--data", dir, "--feeds-schema", schema, in)
	var runs, matched, fresh int
	if err := db.QueryRow(t.Context(), `SELECT count(*), COALESCE(sum(matched), 0), COALESCE(sum(new_events), 0) FROM feed_runs WHERE status = 'done'`).
		Scan(&runs, &matched, &fresh); err != nil {
		t.Fatal(err)
	}
	if runs != 4 || matched == 0 || fresh == 0 || !strings.Contains(out, "4 files") {
		t.Fatalf("first ingest: %d runs done, %d matched, %d new; output %q", runs, matched, fresh, out)
	}
	var stored int
	if err := db.QueryRow(t.Context(), `SELECT count(*) FROM feed_events WHERE org_id = ? AND notify = ?`, org, true).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != fresh {
		t.Errorf("%d events to notify stored, the runs say %d", stored, fresh)
	}

	// The same reports again: nothing new.
	mustRun(t, "ingest", "--data", dir, "--feeds-schema", schema, "--quiet", in)
	var again, dups int
	if err := db.QueryRow(t.Context(), `SELECT COALESCE(sum(new_events), 0), COALESCE(sum(duplicates), 0) FROM feed_runs WHERE id > 4`).Scan(&again, &dups); err != nil {
		t.Fatal(err)
	}
	if again != 0 || dups != fresh {
		t.Errorf("second ingest: %d new, %d duplicates; want 0 and %d", again, dups, fresh)
	}

	// A file whose type cannot be told fails the command, not the others.
	if err := os.WriteFile(filepath.Join(in, "zz-mystery.csv"), []byte("timestamp,ip\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "ingest", "--data", dir, "--feeds-schema", schema, in)
	if code != 1 || !strings.Contains(stderr, "zz-mystery.csv") || !strings.Contains(stderr, "--report") {
		t.Errorf("mystery file: exit %d, stderr %q", code, short(stderr))
	}
	var total int
	if err := db.QueryRow(t.Context(), `SELECT count(*) FROM feed_runs`).Scan(&total); err != nil {
		t.Fatal(err)
	}
	if total != 12 {
		t.Errorf("%d runs after the third ingest, want 12 (the four files read again)", total)
	}
	// A plain list of indicators, in another format.
	list := filepath.Join(t.TempDir(), "blocklist.txt")
	if err := os.WriteFile(list, []byte("# peer CERT blocklist\n192.0.2.66\nevil.example.org\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "ingest", "--data", dir, "--format", "list", "--classification", "other/blacklist", list)
	var events, listMatched int
	var feed string
	if err := db.QueryRow(t.Context(), `SELECT feed, events, matched FROM feed_runs WHERE name = 'blocklist.txt'`).Scan(&feed, &events, &listMatched); err != nil {
		t.Fatal(err)
	}
	if feed != "list" || events != 2 || listMatched != 1 {
		t.Errorf("list run: feed %q, %d events, %d matched; want list, 2 and 1", feed, events, listMatched)
	}
	db.Close()

	// Bad usage.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"ingest", "--data", dir, "--feeds-schema", schema}, "at least one file"},
		{[]string{"ingest", "--data", dir, "--feeds-schema", schema, "--feeds-window", "1s", in}, "--feeds-window"},
		{[]string{"ingest", "--data", dir, "--feeds-schema", schema, "--report", "nonsense", in}, "--report nonsense"},
		{[]string{"ingest", "--data", filepath.Join(dir, "nowhere"), "--feeds-schema", schema, in}, "no database"},
		{[]string{"ingest", "--data", dir, "--format", "xml", in}, "--format"},
		{[]string{"ingest", "--data", dir, "--format", "csv", in}, "--mapping"},
	} {
		code, _, stderr := runCLI(t, c.args...)
		if code == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, short(stderr), c.want)
		}
	}
}
