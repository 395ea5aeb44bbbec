package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/store"
)

// TestBenchReports runs a short benchmark on both databases: it
// acknowledges submissions, and every acknowledged one is stored.
func TestBenchReports(t *testing.T) {
	if testing.Short() {
		t.Skip("benchmark run")
	}
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			cfg := store.Config{}
			args := []string{"bench", "reports", "--duration", "1s", "--warmup", "0s", "--concurrency", "4", "--incidents", "100", "--json"}
			if dialect == "sqlite" {
				cfg.DataDir = t.TempDir()
				args = append(args, "--data", cfg.DataDir, "--sqlite-sync", "normal")
			} else {
				cfg.URL = dbtest.PostgresURL(t)
				args = append(args, "--db", cfg.URL)
			}
			var out, errb bytes.Buffer
			if code := run(context.Background(), args, &out, &errb); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			var res benchResult
			if err := json.Unmarshal(out.Bytes(), &res); err != nil {
				t.Fatalf("%v: %s", err, out.String())
			}
			if res.Rate <= 0 || res.Acknowledged <= 0 {
				t.Fatalf("no acknowledged submissions: %+v", res)
			}
			if res.Acknowledged != res.AcknowledgedTotal || res.Stored != res.Acknowledged {
				t.Errorf("acknowledged %d (total %d), stored %d", res.Acknowledged, res.AcknowledgedTotal, res.Stored)
			}
			if res.P50 <= 0 || res.P50 > res.P99 || res.P99 > res.Max {
				t.Errorf("latencies out of order: %+v", res)
			}

			db, err := store.Open(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var n int64
			if err := db.QueryRow(context.Background(), `SELECT count(*) FROM report_submissions`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != res.Acknowledged {
				t.Errorf("%d submissions stored, %d acknowledged", n, res.Acknowledged)
			}
			t.Logf("%s: %d acknowledged, %.0f/s, p99 %.1f ms", dialect, res.Acknowledged, res.Rate, res.P99)

			// A database with other organisations is refused.
			if dialect == "sqlite" {
				if _, err := db.Exec(context.Background(), `UPDATE organisations SET name = 'Real Grid' WHERE kind = 'entity'`); err != nil {
					t.Fatal(err)
				}
				db.Close()
				var e bytes.Buffer
				if code := run(context.Background(), args, &out, &e); code != 1 || !bytes.Contains(e.Bytes(), []byte("dedicated database")) {
					t.Errorf("run on a database with other data: exit %d, %s", code, e.String())
				}
			}
		})
	}
}

// TestBenchFlags: bad flags and arguments exit 2.
func TestBenchFlags(t *testing.T) {
	for _, args := range [][]string{
		{"bench"},
		{"bench", "nope"},
		{"bench", "reports", "--sqlite-sync", "off"},
		{"bench", "reports", "--duration", "0s"},
		{"bench", "reports", "--concurrency", "0"},
		{"bench", "reports", "--incidents", "2", "--concurrency", "4"},
		{"bench", "reports", "--db", "mysql://x"},
		{"bench", "reports", "--bogus"},
		{"bench", "reports", "extra"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("%q: exit %d, want 2 (%s)", args, code, errb.String())
		}
	}
}
