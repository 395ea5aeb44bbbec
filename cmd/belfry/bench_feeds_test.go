package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/feeds"
)

// runBenchFeeds runs `belfry bench feeds --json` with args and checks
// that its counts add up.
func runBenchFeeds(t *testing.T, rows int64, args ...string) feedsBenchResult {
	t.Helper()
	var out, errb bytes.Buffer
	args = append([]string{"bench", "feeds", "--schema", shadowserverSchema(t), "--json"}, args...)
	if code := run(context.Background(), args, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var res feedsBenchResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	names := []string{"parse", "parse (lazy)", "parse + match", "end to end"}
	if len(res.Stages) != len(names) {
		t.Fatalf("stages %+v", res.Stages)
	}
	for i, s := range res.Stages {
		if s.Name != names[i] || s.Rows != rows || s.Events != rows || s.Rate <= 0 || s.PeakRSS <= 0 {
			t.Errorf("stage %+v, want %s of %d rows", s, names[i], rows)
		}
	}
	pm, e2e := res.Stages[2], res.Stages[3]
	if pm.Matched+pm.Unmatched != rows || pm.Matched == 0 || pm.Unmatched == 0 {
		t.Errorf("parse + match: %d matched, %d unmatched of %d", pm.Matched, pm.Unmatched, rows)
	}
	p := res.Pipeline
	if p == nil || p.Rows != rows || p.Events != rows || p.Problems != 0 || p.Matched != pm.Matched || p.Unmatched != pm.Unmatched {
		t.Fatalf("pipeline %+v, parse + match %+v", p, pm)
	}
	// One organisation per prefix: one stored row per event.
	if p.New+p.Duplicates != p.Matched || res.Stored != rows || res.Expected != rows || e2e.Matched != p.Matched {
		t.Errorf("pipeline %+v: %d stored, %d expected", p, res.Stored, res.Expected)
	}
	within := map[string]benchWithin{}
	for _, w := range res.Within {
		within[w.Stage] = w
	}
	if within["match"].N != rows || within["store"].N != rows || within["dedup"].N != p.Matched || within["fields"].N != rows {
		t.Errorf("within the pipeline: %+v", res.Within)
	}
	return res
}

// TestBenchFeeds runs the synthetic benchmark with tiny numbers on both
// databases.
func TestBenchFeeds(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			args := []string{"--rows", "3000", "--prefixes", "40", "--orgs", "7", "--outside", "0.25", "--batch", "700"}
			if dialect == "sqlite" {
				args = append(args, "--sqlite-sync", "normal")
			} else {
				args = append(args, "--db", dbtest.PostgresURL(t))
			}
			res := runBenchFeeds(t, 3000, args...)
			if !res.Input.Synthetic || res.Input.Prefixes != 40 || res.Input.Orgs != 7 || res.Input.ReportType != "scan_http" {
				t.Errorf("input %+v", res.Input)
			}
			if _, err := os.Stat(res.Input.Report); !os.IsNotExist(err) {
				t.Errorf("the synthetic report %s was left behind (%v)", res.Input.Report, err)
			}
		})
	}
}

// TestBenchFeedsGiven runs the benchmark on a given report and
// constituency, as another tool would be run on the same files.
func TestBenchFeedsGiven(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(dir, "2026-11-20-scan_http-belgium.csv")
	f, err := os.Create(report)
	if err != nil {
		t.Fatal(err)
	}
	prefixes := feeds.SyntheticPrefixes(12)
	if err := feeds.WriteSyntheticScan(f, 1500, prefixes, 0.3, 9, time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	csv := "org_id,cidr\n"
	for i, p := range prefixes {
		csv += []string{"101", "102", "103"}[i%3] + "," + p.String() + "\n"
	}
	constituents := filepath.Join(dir, "constituents.csv")
	if err := os.WriteFile(constituents, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	res := runBenchFeeds(t, 1500, "--report", report, "--constituents", constituents, "--data", filepath.Join(dir, "data"),
		"--sqlite-sync", "normal")
	if res.Input.Synthetic || res.Input.Prefixes != 12 || res.Input.Orgs != 3 || res.Input.ReportType != "scan_http" {
		t.Errorf("input %+v", res.Input)
	}

	// Bad usage.
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"bench", "feeds", "--schema", shadowserverSchema(t), "--report", report}, &out, &errb); code == 0 {
		t.Error("--report without --constituents accepted")
	}
}
