package main

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFeedsParseFormats parses each other format through the command,
// with the format given or detected, and without any Shadowserver schema.
func TestFeedsParseFormats(t *testing.T) {
	dir := t.TempDir()
	feed := filepath.Join(dir, "misp-feed")
	os.Mkdir(feed, 0o700)
	writeFiles(t, feed, map[string]string{
		"manifest.json": `{"44444444-4444-4444-8444-444444444444": {"info": "x"}}`,
		"44444444-4444-4444-8444-444444444444.json": `{"Event": {"uuid": "44444444-4444-4444-8444-444444444444", "info": "C2",
			"Tag": [{"name": "tlp:green"}], "Attribute": [{"uuid": "c1", "type": "ip-dst", "category": "Network activity", "value": "192.0.2.44", "to_ids": true}]}}`,
	})
	writeFiles(t, dir, map[string]string{
		"list.txt":         "# bad hosts\n192.0.2.1\nevil.example.net\nnot valid!\n",
		"bundle.json":      `{"type": "bundle", "id": "bundle--x", "objects": [{"type": "indicator", "id": "indicator--x", "pattern": "[domain-name:value = 'stix.example']", "valid_from": "2026-03-01T00:00:00Z"}]}`,
		"rows.csv":         "when;addr;note\n2026-03-01 10:00:00;192.0.2.9;hello\nyesterday;192.0.2.10;x\n",
		"mapping.json":     `{"delimiter": ";", "header": true, "columns": {"when": "time.source", "addr": "source.ip", "note": "extra.note"}, "classification": {"taxonomy": "vulnerable", "type": "vulnerable-system"}}`,
		"bad-mapping.json": `{"delimiter": ";;", "header": false, "columns": {"ip": "source.address"}}`,
	})
	file := func(n string) string { return filepath.Join(dir, n) }
	noSchema := []string{"--data", filepath.Join(dir, "nothing")}
	tests := []struct {
		name   string
		args   []string
		code   int
		want   []string // in stdout
		stderr []string
	}{
		{"list", []string{"--format", "list", "--classification", "malicious-code/c2-server/test-list", file("list.txt")}, 0,
			[]string{`"source.ip": "192.0.2.1"`, `"source.fqdn": "evil.example.net"`, `"classification.type": "c2-server"`},
			[]string{"list.txt: list: 3 rows, 2 events, 1 problems", `"reason":"not an IP address, network, domain or URL"`}},
		{"stix detected", []string{file("bundle.json")}, 0, []string{`"source.fqdn": "stix.example"`, `"extra.stix_id": "indicator--x"`},
			[]string{"bundle.json: stix: 1 rows, 1 events, 0 problems"}},
		{"misp directory detected", []string{feed}, 0, []string{`"destination.ip": "192.0.2.44"`, `"tlp": "TLP:GREEN"`, `"classification.type": "c2-server"`},
			[]string{"misp-feed: misp: 1 rows, 1 events"}},
		{"csv", []string{"--format", "csv", "--mapping", file("mapping.json"), file("rows.csv")}, 0,
			[]string{`"source.ip": "192.0.2.9"`, `"time.source": "2026-03-01T10:00:00+00:00"`, `"extra.note": "hello"`, `"classification.taxonomy": "vulnerable"`},
			[]string{"1 problems", `"reason":"invalid time.source"`}},
		{"csv without mapping", []string{"--format", "csv", file("rows.csv")}, 1, nil, []string{"needs --mapping"}},
		{"bad mapping", []string{"--format", "csv", "--mapping", file("bad-mapping.json"), file("rows.csv")}, 1, nil,
			[]string{"delimiter: the delimiter must be one character", "columns.ip: without a header", `"source.address" is not an IntelMQ key`}},
		{"bad classification", []string{"--format", "list", "--classification", "nonsense", file("list.txt")}, 1, nil, []string{"--classification"}},
		{"bad format", []string{"--format", "xml", file("list.txt")}, 2, nil, []string{"--format must be"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append([]string{"feeds", "parse"}, noSchema...), tt.args...)
			code, stdout, stderr := runCLI(t, args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, tt.code, stderr)
			}
			jsonLines(t, stdout)
			for _, w := range tt.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %s:\n%s", w, stdout)
				}
			}
			for _, w := range tt.stderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %s:\n%s", w, stderr)
				}
			}
		})
	}
}

func TestFeedsParseListStdinGzip(t *testing.T) {
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte("198.51.100.0/24\n"))
	w.Close()
	var out, errOut bytes.Buffer
	err := feedsParse(t.Context(), []string{"--format", "list", "-"}, bytes.NewReader(gz.Bytes()), &out, &errOut)
	if err != nil || !strings.Contains(out.String(), `"source.network": "198.51.100.0/24"`) {
		t.Errorf("list from gzip stdin = %v, stdout %q, stderr %q", err, out.String(), errOut.String())
	}
	// Detected on standard input: a STIX bundle.
	out.Reset()
	err = feedsParse(t.Context(), []string{"--data", t.TempDir(), "-"}, strings.NewReader(`{"type":"bundle","objects":[{"type":"url","id":"url--1","value":"http://u.example/"}]}`), &out, &errOut)
	if err != nil || !strings.Contains(out.String(), `"source.url": "http://u.example/"`) {
		t.Errorf("stix from stdin = %v, stdout %q, stderr %q", err, out.String(), errOut.String())
	}
}
