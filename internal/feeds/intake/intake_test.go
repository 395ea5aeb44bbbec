package intake

import (
	"archive/zip"
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/constituency"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/feeds"
	"github.com/belfry-cert/belfry/internal/feeds/source"
	"github.com/belfry-cert/belfry/internal/store"
)

// schemaFile is Shadowserver's schema in ../shared, read in place.
func schemaFile(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "..", "..", "shared", "feeds", "shadowserver", "intelmq.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Shadowserver's schema is missing (%v); CI must provide ../shared", err)
		}
		t.Skipf("Shadowserver's schema is missing: %v", err)
	}
	return p
}

const scanHTTP = "2026-03-01-scan_http-belgium-geo.csv"

// TestHandleZipStream: a zip archive delivered as a stream (mail, HTTP)
// is read again into a temporary file, and each member is a run; a
// member whose type cannot be told fails the file, so the source keeps it.
func TestHandleZipStream(t *testing.T) {
	db := dbtest.SQLite(t)
	in := New(feeds.NewPipeline(db, constituency.NewIndex(), slog.New(slog.DiscardHandler), feeds.Options{}), NewSchema(schemaFile(t)),
		slog.New(slog.DiscardHandler))
	in.TempDir = t.TempDir()
	csv, err := os.ReadFile(filepath.Join("..", "shadowserver", "testdata", scanHTTP))
	if err != nil {
		t.Fatal(err)
	}
	archive := func(names ...string) []byte {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		for _, n := range names {
			w, err := zw.Create(n)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(csv)
		}
		zw.Close()
		return b.Bytes()
	}
	opens := 0
	file := func(data []byte) source.File {
		return source.File{Name: "reports.zip", Size: int64(len(data)), Source: "smtp", Open: func() (io.ReadCloser, error) {
			opens++
			return io.NopCloser(bytes.NewReader(data)), nil // no ReaderAt: a stream
		}}
	}
	if err := in.Handle(t.Context(), file(archive(scanHTTP, "other/"+scanHTTP))); err != nil {
		t.Fatal(err)
	}
	var runs, events int
	if err := db.QueryRow(t.Context(), `SELECT count(*), COALESCE(sum(events), 0) FROM feed_runs WHERE source = 'smtp' AND status = 'done'`).Scan(&runs, &events); err != nil {
		t.Fatal(err)
	}
	if runs != 2 || events != 6 || opens != 2 {
		t.Errorf("%d runs, %d events, %d opens; want 2 runs of 3 events, the stream opened twice", runs, events, opens)
	}
	if left, _ := os.ReadDir(in.TempDir); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	err = in.Handle(t.Context(), file(archive("mystery.csv")))
	if err == nil || !strings.Contains(err.Error(), "report type") {
		t.Errorf("an archive of an unknown report = %v, want an error the source keeps the file for", err)
	}
}

// TestSchemaReload: the schema file is read again when it changes, and a
// broken replacement keeps the last good schema.
func TestSchemaReload(t *testing.T) {
	orig, err := os.ReadFile(schemaFile(t))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "schema.json")
	s := NewSchema(p)
	if _, err := s.Load(); err == nil || !strings.Contains(err.Error(), "update-schema") {
		t.Errorf("no file: %v, want a hint at update-schema", err)
	}
	if err := os.WriteFile(p, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	first, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Load(); again != first {
		t.Error("an unchanged file was read again")
	}
	// A schema with scan_http only.
	small := `{"scan_http": {"constant_fields": {"classification.taxonomy": "vulnerable", "classification.type": "vulnerable-system",
		"classification.identifier": "accessible-http"}, "feed_name": "Accessible-HTTP", "file_name": "scan_http",
		"required_fields": [["time.source", "timestamp", "add_UTC_to_timestamp"], ["source.ip", "ip", "validate_ip"]], "optional_fields": []}}`
	if err := os.WriteFile(p, []byte(small), 0o600); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Minute)
	os.Chtimes(p, future, future)
	next, err := s.Load()
	if err != nil || next == first || len(next.Reports()) != 1 {
		t.Fatalf("after the change: %v reports, err %v", len(next.Reports()), err)
	}
	if err := os.WriteFile(p, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(p, future.Add(time.Minute), future.Add(time.Minute))
	if kept, err := s.Load(); err != nil || kept != next {
		t.Errorf("a broken file: %v, want the last good schema kept", err)
	}
}

// TestLedger: the downloaded reports are known to every instance on the
// database; recording one twice is harmless.
func TestLedger(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		l := NewLedger(db)
		r := source.Report{ID: "dl-1", Report: "belgium-geo", Type: "scan_http", Date: "2026-03-01", File: "2026-03-01-scan_http-belgium-geo.csv"}
		if seen, err := l.Seen(t.Context(), r.ID); err != nil || seen {
			t.Fatalf("before: %v %v", seen, err)
		}
		for range 2 {
			if err := l.Record(t.Context(), r); err != nil {
				t.Fatal(err)
			}
		}
		if seen, err := NewLedger(db).Seen(t.Context(), r.ID); err != nil || !seen {
			t.Errorf("after: %v %v", seen, err)
		}
		if seen, _ := l.Seen(t.Context(), "dl-2"); seen {
			t.Error("another id is seen")
		}
	})
}
