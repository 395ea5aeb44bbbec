package shadowserver

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadSharedSchema(t *testing.T) {
	s := sharedSchema(t)
	if s.Len() != 170 {
		t.Errorf("Len() = %d, want the 170 report types of the 2026-03-24 schema", s.Len())
	}
	if s.Created != "2026-03-24T15:31:20Z" {
		t.Errorf("Created = %q", s.Created)
	}
	// Every converter the schema names is implemented (LoadSchema fails
	// otherwise); and every implemented one is used, so none is dead.
	used := map[string]bool{}
	for _, r := range s.Reports() {
		for _, m := range append(r.Required, r.Optional...) {
			used[m.Converter] = true
		}
	}
	for _, c := range Converters() {
		if !used[c] {
			t.Errorf("converter %s is implemented but not in the schema", c)
		}
	}
	r, ok := s.Report("event4_sinkhole_http")
	if !ok || r.Key != "event_sinkhole_http" || r.FeedName != "Sinkhole-Events-HTTP IPv4" {
		t.Fatalf("Report(event4_sinkhole_http) = %+v, %v", r, ok)
	}
	for _, name := range []string{"event_sinkhole_http", "sinkhole-events-http ipv4"} {
		if got, ok := s.Report(name); !ok || got != r {
			t.Errorf("Report(%q) = %v, %v; want the same report", name, got, ok)
		}
	}
	if _, ok := s.Report("no_such_report"); ok {
		t.Error("Report(no_such_report) found something")
	}
}

// schemaJSON is a one-report schema in intelmq.json form.
func schemaJSON(conv string) string {
	return `{"_meta": {"date_created": "2026-01-01T00:00:00Z"},
 "scan_x": {"feed_name": "X", "file_name": "scan_x", "constant_fields": {"classification.taxonomy": "vulnerable"},
  "required_fields": [["time.source", "timestamp", "add_UTC_to_timestamp"], ["source.ip", "ip", "validate_ip"]],
  "optional_fields": [["extra.", "tag", "` + conv + `"]]}}`
}

func TestLoadSchemaErrors(t *testing.T) {
	if _, err := LoadSchema(strings.NewReader(schemaJSON("validate_to_none"))); err != nil {
		t.Fatalf("valid schema: %v", err)
	}
	tests := []struct{ name, in, want string }{
		{"unknown converter", schemaJSON("convert_magic"), `unknown converter "convert_magic"`},
		{"not JSON", `{"scan_x": `, "not a Shadowserver schema"},
		{"empty", `{}`, "no report types"},
		{"no feed name", `{"a": {"file_name": "a", "required_fields": [["time.source", "timestamp"]]}}`, "no feed_name"},
		{"bad stem", `{"a": {"feed_name": "A", "file_name": "a-b", "required_fields": [["time.source", "timestamp"]]}}`, "is not a report type"},
		{"bad key", `{"a": {"feed_name": "A", "file_name": "a", "required_fields": [["Time Source", "timestamp"]]}}`, "not a harmonised key"},
		{"short entry", `{"a": {"feed_name": "A", "file_name": "a", "required_fields": [["time.source"]]}}`, "got 1 items"},
		{"duplicate stem", `{"a": {"feed_name": "A", "file_name": "a", "required_fields": [["time.source", "timestamp"]]},
			"b": {"feed_name": "B", "file_name": "a", "required_fields": [["time.source", "timestamp"]]}}`, "same file_name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadSchema(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadSchema = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestSchemaMatchesReports checks that the column lists Shadowserver
// publishes (reports.json) carry the columns the schema requires, so that
// detection by stem finds a report whose files the parser can read.
func TestSchemaMatchesReports(t *testing.T) {
	s := sharedSchema(t)
	b, err := os.ReadFile(filepath.Join(sharedDir(t), "reports.json"))
	if err != nil {
		t.Fatal(err)
	}
	var reports map[string]struct {
		Fields []string `json:"fields"`
	}
	if err := json.Unmarshal(b, &reports); err != nil {
		t.Fatal(err)
	}
	for stem, rep := range reports {
		r, ok := s.Report(stem)
		if !ok {
			t.Errorf("reports.json has %s, the schema does not", stem)
			continue
		}
		if _, err := newPlan(r, rep.Fields); err != nil {
			t.Errorf("%s: %v", stem, err)
		}
	}
}

func TestFileType(t *testing.T) {
	tests := []struct {
		name, want string
		ok         bool
	}{
		{"2015-01-01-dns_openresolver-sample-asn.csv", "dns_openresolver", true},
		{"2020-04-03-scan_ics-sample-asn-delayed.csv", "scan_ics", true},
		{"2024-07-04-dns_openresolver-123-sample-asn.csv", "dns_openresolver", true},
		{"/var/spool/feeds/2026-03-01-event4_sinkhole_http-belgium-geo.csv.gz", "event4_sinkhole_http", true},
		{"2026-03-01-scan6_http-be.CSV.ZIP", "scan6_http", true},
		{`C:\in\2026-03-01-device_id-be.csv`, "device_id", true},
		{"scan_http.csv", "scan_http", true},
		{"scan_http-belgium.csv", "scan_http", true},
		{"2026-03-01-scan_http.csv", "scan_http", true},
		{"2026-03-01-scan_http-be.json", "", false},
		{"2026-03-01-.csv", "", false},
		{"report.txt", "", false},
		{".csv", "", false},
		{"2026-03-01-scan http-be.csv", "", false},
	}
	for _, tt := range tests {
		got, ok := FileType(tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("FileType(%q) = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestDetect(t *testing.T) {
	s := sharedSchema(t)
	r, err := s.Detect("2026-03-01-event4_sinkhole-be.csv.gz")
	if err != nil || r.Key != "event_sinkhole" {
		t.Errorf("Detect(event4_sinkhole) = %v, %v", r, err)
	}
	for _, name := range []string{"2026-03-01-scan_nothing-be.csv", "notes.txt"} {
		if _, err := s.Detect(name); !errors.Is(err, ErrUnknownFileName) {
			t.Errorf("Detect(%q) = %v, want ErrUnknownFileName", name, err)
		}
	}
}
