package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// shadowserverSchema returns ../shared/feeds/shadowserver/intelmq.json next
// to the repository (read in place, never copied). Without it the test is
// skipped, or fails under CI=true.
func shadowserverSchema(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		if filepath.Dir(dir) == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = filepath.Dir(dir)
	}
	p := filepath.Join(dir, "..", "shared", "feeds", "shadowserver", "intelmq.json")
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Shadowserver's schema is missing (%v); CI must provide ../shared", err)
		}
		t.Skipf("Shadowserver's schema is missing: %v", err)
	}
	return p
}

const feedsTestdata = "../../internal/feeds/shadowserver/testdata/"

// jsonLines decodes one JSON object per line.
func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(s), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func TestFeedsParse(t *testing.T) {
	schema := shadowserverSchema(t)
	rdp := feedsTestdata + "2026-03-01-scan_rdp-belgium-geo.csv"
	sink := feedsTestdata + "2026-03-01-event4_sinkhole_http-belgium-geo.csv"
	code, stdout, stderr := runCLI(t, "feeds", "parse", "--schema", schema, rdp, sink)
	if code != 0 {
		t.Fatalf("exit %d, stderr: %s", code, stderr)
	}
	events := jsonLines(t, stdout)
	if len(events) != 4 {
		t.Fatalf("%d events, want 4:\n%s", len(events), stdout)
	}
	if events[0]["feed.name"] != "Accessible-RDP" || events[0]["source.ip"] != "203.0.113.5" || events[0]["raw"] == nil || events[0]["time.observation"] != nil {
		t.Errorf("first event = %v", events[0])
	}
	if events[2]["destination.url"] != "http://c2.example.net/gate.php?id=1" {
		t.Errorf("sinkhole event = %v", events[2])
	}
	for _, want := range []string{
		"2026-03-01-scan_rdp-belgium-geo.csv: scan_rdp (Accessible-RDP): 5 rows, 2 events, 3 problems",
		"1  wrong number of columns",
		`"reason":"invalid source.ip"`,
		"total: 7 rows, 4 events, 3 problems",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestFeedsParseOptions(t *testing.T) {
	schema := shadowserverSchema(t)
	dir := t.TempDir()
	plain, err := os.ReadFile(feedsTestdata + "2026-03-01-device_id-belgium-geo.csv")
	if err != nil {
		t.Fatal(err)
	}
	// A gzip file without the type in its name, with --report.
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(plain)
	w.Close()
	file := filepath.Join(dir, "download.csv.gz")
	if err := os.WriteFile(file, gz.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	problems := filepath.Join(dir, "problems.jsonl")
	code, stdout, stderr := runCLI(t, "feeds", "parse", file, "--report", "device_id", "--schema", schema,
		"--raw=false", "--time-observation", "2026-03-02T00:00:00Z", "--problems", problems)
	if code != 0 {
		t.Fatalf("exit %d, stderr: %s", code, stderr)
	}
	events := jsonLines(t, stdout)
	if len(events) != 2 || events[0]["raw"] != nil || events[0]["time.observation"] != "2026-03-02T00:00:00+00:00" || events[0]["product.vendor"] != "ExampleVendor" {
		t.Errorf("events = %v", events)
	}
	if b, err := os.ReadFile(problems); err != nil || len(b) != 0 {
		t.Errorf("problems file = %q, %v; want empty", b, err)
	}

	// Problems go to the --problems file, not stderr.
	code, _, stderr = runCLI(t, "feeds", "parse", "--schema", schema, "--problems", problems, feedsTestdata+"2026-03-01-scan_rdp-belgium-geo.csv")
	b, _ := os.ReadFile(problems)
	if code != 0 || len(jsonLines(t, string(b))) != 3 || strings.Contains(stderr, `"reason"`) {
		t.Errorf("exit %d, problems %q, stderr %s", code, b, stderr)
	}
}

func TestFeedsParseErrors(t *testing.T) {
	schema := shadowserverSchema(t)
	dir := t.TempDir()
	unnamed := filepath.Join(dir, "report.csv")
	os.WriteFile(unnamed, []byte("timestamp,ip\n"), 0o600)
	good := feedsTestdata + "2026-03-01-device_id-belgium-geo.csv"
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
		events int
	}{
		{"no schema", []string{"feeds", "parse", "--data", dir, good}, 1, "update-schema --from", 0},
		{"bad schema", []string{"feeds", "parse", "--schema", good, good}, 1, "not a Shadowserver schema", 0},
		{"missing schema file", []string{"feeds", "parse", "--schema", filepath.Join(dir, "nope.json"), good}, 1, "no such file", 0},
		{"undetectable name", []string{"feeds", "parse", "--schema", schema, unnamed, good}, 1, "--report", 2},
		{"missing file", []string{"feeds", "parse", "--schema", schema, filepath.Join(dir, "gone.csv")}, 1, "could not be read", 0},
		{"unknown report", []string{"feeds", "parse", "--schema", schema, "--report", "scan_nothing", good}, 1, "no such report type", 0},
		{"bad output", []string{"feeds", "parse", "--output", "csv", good}, 2, "--output must be intelmq", 0},
		{"no file", []string{"feeds", "parse", "--schema", schema}, 2, "no input file", 0},
		{"unknown subcommand", []string{"feeds", "frob"}, 2, `unknown subcommand "frob"`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("belfry %s = exit %d, stderr %q; want exit %d with %q", strings.Join(tt.args, " "), code, short(stderr), tt.code, tt.stderr)
			}
			if n := len(jsonLines(t, stdout)); n != tt.events {
				t.Errorf("%d events printed, want %d", n, tt.events)
			}
		})
	}
}

func TestFeedsParseStdin(t *testing.T) {
	schema := shadowserverSchema(t)
	plain, err := os.ReadFile(feedsTestdata + "2026-03-01-compromised_website-belgium-geo.csv")
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err = feedsParse(t.Context(), []string{"--schema", schema, "--report", "compromised_website", "-"}, bytes.NewReader(plain), &out, &errOut)
	if err != nil || len(jsonLines(t, out.String())) != 2 {
		t.Errorf("parse from stdin = %v, stdout %q, stderr %q", err, out.String(), errOut.String())
	}
	// A zip archive cannot be read from a stream.
	out.Reset()
	errOut.Reset()
	err = feedsParse(t.Context(), []string{"--schema", schema, "--report", "scan_http", "-"}, io.MultiReader(strings.NewReader("PK\x03\x04rest of an archive")), &out, &errOut)
	if err == nil || !strings.Contains(errOut.String(), "must be read from a file") {
		t.Errorf("zip from stdin = %v, stderr %q", err, errOut.String())
	}
}

func TestFeedsUpdateSchema(t *testing.T) {
	schema := shadowserverSchema(t)
	dir := t.TempDir()
	out := mustRun(t, "feeds", "update-schema", "--from", schema, "--data", dir)
	if !strings.Contains(out, "170 report types") {
		t.Errorf("update-schema printed %q", out)
	}
	installed := filepath.Join(dir, "feeds", "shadowserver-schema.json")
	if _, err := os.Stat(installed); err != nil {
		t.Fatal(err)
	}
	// parse now finds the installed schema.
	code, stdout, stderr := runCLI(t, "feeds", "parse", "--data", dir, feedsTestdata+"2026-03-01-device_id-belgium-geo.csv")
	if code != 0 || len(jsonLines(t, stdout)) != 2 {
		t.Errorf("parse with the installed schema: exit %d, %s", code, stderr)
	}
	// An invalid schema is refused and the installed one kept.
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"x": {"feed_name": "X", "file_name": "x", "required_fields": [["time.source", "timestamp", "convert_magic"]]}}`), 0o600)
	code, _, stderr = runCLI(t, "feeds", "update-schema", "--from", bad, "--data", dir)
	if code != 1 || !strings.Contains(stderr, `unknown converter "convert_magic"`) {
		t.Errorf("update-schema with a bad schema: exit %d, %s", code, stderr)
	}
	if b, _ := os.ReadFile(installed); !bytes.Contains(b, []byte("scan_http")) {
		t.Error("the installed schema was replaced by an invalid one")
	}
	if code, _, stderr := runCLI(t, "feeds", "update-schema", "--data", dir); code != 2 || !strings.Contains(stderr, "--from") {
		t.Errorf("update-schema without --from: exit %d, %s", code, stderr)
	}
}
