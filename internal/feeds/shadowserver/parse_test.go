package shadowserver

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/belfry-cert/belfry/internal/feeds"
)

// parsed is what parsing one input gave.
type parsed struct {
	name     string
	stats    Stats
	events   []feeds.Event
	lines    []map[string]any // IntelMQ JSON, decoded
	problems []feeds.Problem
}

// parseInput parses every stream of a file or reader as the schema
// detects it from its name.
func parseInput(t *testing.T, s *Schema, open func(feeds.OpenFunc) error) []parsed {
	t.Helper()
	var out []parsed
	err := open(func(name string, r io.Reader) error {
		rep, err := s.Detect(name)
		if err != nil {
			return err
		}
		res := parsed{name: name}
		p := NewParser(rep)
		p.OnProblem = func(pr feeds.Problem) error { res.problems = append(res.problems, pr); return nil }
		res.stats, err = p.Parse(r, func(ev *feeds.Event) error {
			res.events = append(res.events, *ev)
			line := feeds.AppendIntelMQ(nil, ev, feeds.IntelMQOptions{Raw: p.AppendRaw(nil)})
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				return fmt.Errorf("row %d: invalid JSON %s: %w", ev.Row, line, err)
			}
			res.lines = append(res.lines, m)
			return nil
		})
		out = append(out, res)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func parseFile(t *testing.T, path string) parsed {
	t.Helper()
	res := parseInput(t, sharedSchema(t), func(fn feeds.OpenFunc) error { return feeds.Open(path, fn) })
	if len(res) != 1 {
		t.Fatalf("%s: %d streams, want 1", path, len(res))
	}
	return res[0]
}

// checkLine compares the given keys of an IntelMQ line (absent: nil).
func checkLine(t *testing.T, where string, got map[string]any, want map[string]any) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		if w == nil {
			if ok {
				t.Errorf("%s: %s = %v, want it absent", where, k, g)
			}
			continue
		}
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("%s: %s = %v, want %v", where, k, g, w)
		}
	}
}

func TestParseFamilies(t *testing.T) {
	tests := []struct {
		file                   string
		rows, events, problems int
		lines                  []map[string]any
	}{
		{"2026-03-01-scan_http-belgium-geo.csv", 3, 3, 0, []map[string]any{{
			"feed.name": "Accessible-HTTP", "time.source": "2026-03-01T00:00:12+00:00", "severity": "medium",
			"classification.taxonomy": "other", "classification.type": "other", "classification.identifier": "accessible-http",
			"protocol.application": "http", "protocol.transport": "tcp",
			"source.ip": "192.0.2.10", "source.port": 80, "source.asn": 64496, "source.reverse_dns": "www.example.be",
			"source.geolocation.cc": "BE", "source.geolocation.city": "BRUSSELS", "extra.source.naics": 517311,
			"extra.source.sector": "Communications, Service Provider, and Hosting Service",
			"extra.tag":           "http;cve-2024-1234;cve-2023-99", "product.vulnerabilities": "cve-2023-99,cve-2024-1234",
			"extra.http_code": 200, "extra.content_length": 1536, "extra.http_date": "2026-03-01T00:00:11+00:00",
			"extra.www_authenticate": nil, "extra.hostname_source": "ptr",
		}, {
			"source.ip": "2001:db8::1", "source.asn": nil, "extra.source.naics": nil, "source.reverse_dns": nil,
			"extra.www_authenticate": `Basic realm="router"`, "extra.content_length": 0, "extra.http_date": nil,
			"extra.transfer_encoding": "chunked",
		}, {
			// A bad number in an optional column stays as text under extra.
			"extra.http_code": "abc", "source.geolocation.cc": "BE", "extra.content_length": nil,
		}}},
		{"2026-03-01-scan_rdp-belgium-geo.csv", 5, 2, 3, []map[string]any{{
			"feed.name": "Accessible-RDP", "classification.identifier": "open-rdp", "protocol.transport": "tcp",
			"extra.cert_length": 2048, "extra.ssl_version": 3, "extra.tlsv13_support": "Y", "source.port": 3389,
		}, {
			"source.ip": "203.0.113.8", "extra.tlsv13_support": "n",
		}}},
		{"2026-03-01-event4_sinkhole_http-belgium-geo.csv", 2, 2, 0, []map[string]any{{
			"feed.name": "Sinkhole-Events-HTTP IPv4", "severity": "critical",
			"classification.taxonomy": "malicious-code", "classification.type": "infected-system", "classification.identifier": "andromeda",
			"malware.name": "andromeda", "source.ip": "192.0.2.44", "source.port": 51234, "source.asn": 64496,
			"destination.ip": "198.51.100.200", "destination.port": 80, "destination.asn": 64511,
			"destination.fqdn": "c2.example.net", "destination.url": "http://c2.example.net/gate.php?id=1",
			"destination.reverse_dns": "sinkhole.example", "extra.source.naics": nil, "extra.http_agent": "Mozilla/4.0 (compatible; MSIE 7.0)",
		}, {
			"source.ip": "2001:db8:1::44", "destination.ip": "2001:db8:ffff::1", "destination.fqdn": "c2.example.org",
			"destination.url": "https://C2.EXAMPLE.ORG./index.html", "extra.application": "https",
		}}},
		{"2026-03-01-compromised_website-belgium-geo.csv", 2, 2, 0, []map[string]any{{
			"feed.name": "Compromised-Website", "classification.taxonomy": "intrusions", "classification.type": "system-compromise",
			"source.url": "https://shop.example.be/checkout/pay.php", "source.fqdn": "shop.example.be",
			"event_description.text": "ecommerce", "malware.name": "magecart", "status": "active", "protocol.application": "https",
			"extra.tag": "compromised;skimmer", "extra.cc_url": "https://skim.example.net/c.js",
		}, {
			"source.url": nil, "source.fqdn": "blog.example.be", "event_description.text": "defacement page",
			"protocol.application": "http", "extra.naics": nil,
		}}},
		{"2026-03-01-device_id-belgium-geo.csv", 2, 2, 0, []map[string]any{{
			"feed.name": "Device-Identification IPv4", "severity": "info", "classification.type": "undetermined",
			"product.vendor": "ExampleVendor", "product.name": "FW-100", "product.version": "7.2.1", "extra.device_type": "firewall",
		}, {
			"protocol.transport": "udp", "product.name": nil, "product.version": nil, "source.port": 161,
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			res := parseFile(t, filepath.Join("testdata", tt.file))
			if res.stats.Rows != tt.rows || res.stats.Events != tt.events || res.stats.Problems != tt.problems {
				t.Errorf("stats = %+v, want %d rows, %d events, %d problems", res.stats, tt.rows, tt.events, tt.problems)
			}
			if len(res.lines) != len(tt.lines) {
				t.Fatalf("%d events, want %d", len(res.lines), len(tt.lines))
			}
			for i, want := range tt.lines {
				checkLine(t, fmt.Sprintf("event %d", i+1), res.lines[i], want)
				if res.lines[i]["raw"] == nil {
					t.Errorf("event %d has no raw", i+1)
				}
			}
		})
	}
}

func TestParseTypedMembers(t *testing.T) {
	res := parseFile(t, "testdata/2026-03-01-event4_sinkhole_http-belgium-geo.csv")
	ev := res.events[0]
	if ev.Feed != "event4_sinkhole_http" || ev.Row != 1 || ev.Time.Format("2006-01-02 15:04:05") != "2026-03-01 10:11:12" ||
		ev.SrcIP != netip.MustParseAddr("192.0.2.44") || ev.SrcPort != 51234 || ev.SrcASN != 64496 ||
		ev.DstIP != netip.MustParseAddr("198.51.100.200") || ev.DstPort != 80 || ev.DstASN != 64511 || ev.DstFQDN != "c2.example.net" ||
		ev.Severity != "critical" || ev.Taxonomy != "malicious-code" || ev.Type != "infected-system" || ev.Identifier != "andromeda" {
		t.Errorf("event = %+v", ev)
	}
	// The typed members are not repeated in Fields, and Fields follow
	// the report's columns: protocol (column 2) before malware.name.
	var keys []string
	for _, f := range ev.Fields {
		keys = append(keys, f.Key)
		if f.Key == "source.ip" || f.Key == "time.source" || f.Key == "destination.fqdn" {
			t.Errorf("Fields holds %s", f.Key)
		}
	}
	if strings.Index(strings.Join(keys, " "), "protocol.transport") > strings.Index(strings.Join(keys, " "), "malware.name") {
		t.Errorf("Fields not in column order: %v", keys)
	}
	// Events kept by copy stay intact after later rows.
	if res.events[0].SrcIP == res.events[1].SrcIP || &res.events[0].Fields[0] == &res.events[1].Fields[0] {
		t.Error("kept events share state")
	}
}

func TestParseProblems(t *testing.T) {
	res := parseFile(t, "testdata/2026-03-01-scan_rdp-belgium-geo.csv")
	want := []struct {
		row    int
		reason string
		raw    string
	}{
		{2, "invalid source.ip", `"203.0.113.300"`},
		{3, ReasonColumns, `"2026-03-01 03:04:07","high","203.0.113.6","tcp",3389,"","rdp"`},
		{4, "invalid time.source", `"yesterday"`},
	}
	if len(res.problems) != len(want) {
		t.Fatalf("problems = %+v, want %d", res.problems, len(want))
	}
	for i, w := range want {
		p := res.problems[i]
		if p.Row != w.row || p.Reason != w.reason || !strings.Contains(p.Raw, w.raw) {
			t.Errorf("problem %d = %+v, want row %d, %q, raw with %s", i, p, w.row, w.reason, w.raw)
		}
	}
	if got := res.stats.Reasons; got[ReasonColumns] != 1 || got["invalid source.ip"] != 1 || got["invalid time.source"] != 1 {
		t.Errorf("reasons = %v", got)
	}
}

// scanHTTP is a small scan_http file built in the test.
const scanHTTPHeader = `timestamp,severity,ip,protocol,port,hostname,tag,asn,geo,region,city,naics,hostname_source,sector,http,http_code,http_reason,content_type,connection,www_authenticate,set_cookie,server,content_length,transfer_encoding,http_date,version`

func scanHTTPRow(i int) string {
	return fmt.Sprintf(`2026-03-01 00:00:%02d,medium,192.0.2.%d,tcp,80,,http,64496,BE,,,,,,HTTP/1.1,200,OK,text/html,,,,nginx,10,,,`, i%60, i%250+1)
}

func parseString(t *testing.T, report, csv string) parsed {
	t.Helper()
	rep, ok := sharedSchema(t).Report(report)
	if !ok {
		t.Fatalf("no report %s", report)
	}
	res := parsed{}
	p := NewParser(rep)
	p.OnProblem = func(pr feeds.Problem) error { res.problems = append(res.problems, pr); return nil }
	var err error
	res.stats, err = p.Parse(strings.NewReader(csv), func(ev *feeds.Event) error {
		res.events = append(res.events, *ev)
		return nil
	})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return res
}

func TestParseMalformed(t *testing.T) {
	csv := scanHTTPHeader + "\n" +
		scanHTTPRow(1) + "\n" +
		`2026-03-01 00:00:02,medium,"192.0.2.2"x,tcp,80,,http,64496,BE,,,,,,HTTP/1.1,200,OK,text/html,,,,nginx,10,,,` + "\n" +
		scanHTTPRow(3) + "\r\n" +
		"\n" +
		`2026-03-01 00:00:04,medium,192.0.2.4,tcp,,,http,64496,BE,,,,,,HTTP/1.1,200,OK,text/html,,,,nginx,10,,,` + "\n" +
		`2026-03-01 00:00:05,medium,192.0.2.5,tcp,80,,"open quote,64496,BE,,,,,,HTTP/1.1,200,OK,text/html,,,,nginx,10,,,` + "\n" +
		scanHTTPRow(6) + "\n" +
		scanHTTPRow(7) // no final newline
	res := parseString(t, "scan_http", csv)
	if res.stats.Rows != 7 || res.stats.Events != 4 || res.stats.Problems != 3 {
		t.Errorf("stats = %+v, want 7 rows, 4 events, 3 problems", res.stats)
	}
	var rows []int
	for _, e := range res.events {
		rows = append(rows, e.Row)
	}
	if fmt.Sprint(rows) != "[1 3 6 7]" {
		t.Errorf("event rows = %v, want [1 3 6 7]", rows)
	}
	want := []string{"2 " + ReasonAfterQuote, "4 missing source.port", "5 " + ReasonUnterminated}
	for i, p := range res.problems {
		if i >= len(want) || fmt.Sprintf("%d %s", p.Row, p.Reason) != want[i] {
			t.Errorf("problem %d = %d %q, want %v", i, p.Row, p.Reason, want)
		}
	}
	if len(res.problems) == 3 && strings.Contains(res.problems[2].Raw, "192.0.2.6") {
		t.Errorf("the unterminated row swallowed the next one: %q", res.problems[2].Raw)
	}
}

func TestParseHeaderErrors(t *testing.T) {
	rep, _ := sharedSchema(t).Report("scan_http")
	_, err := NewParser(rep).Parse(strings.NewReader("timestamp,severity,port\n2026-03-01 00:00:00,low,80\n"), func(*feeds.Event) error { return nil })
	if err == nil || !strings.Contains(err.Error(), `required column "ip"`) {
		t.Errorf("Parse without ip column = %v", err)
	}
	st, err := NewParser(rep).Parse(strings.NewReader(""), func(*feeds.Event) error { return nil })
	if err != nil || st.Rows != 0 {
		t.Errorf("Parse(empty) = %+v, %v", st, err)
	}
	// A byte-order mark before the header is ignored.
	res := parseString(t, "scan_http", "\ufeff"+scanHTTPHeader+"\n"+scanHTTPRow(1)+"\n")
	if res.stats.Events != 1 {
		t.Errorf("with BOM: %+v %+v", res.stats, res.problems)
	}
}

func TestAppendRaw(t *testing.T) {
	rep, _ := sharedSchema(t).Report("scan_http")
	p := NewParser(rep)
	var raw string
	_, err := p.Parse(strings.NewReader(scanHTTPHeader+"\n"+strings.Replace(scanHTTPRow(1), "nginx", `"ng""inx"`, 1)+"\n"), func(*feeds.Event) error {
		raw = string(p.AppendRaw(nil))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(raw, `"timestamp","severity","ip",`) || !strings.Contains(raw, `,"ng""inx",`) || !strings.HasSuffix(raw, "\"\"\n") || strings.Count(raw, "\n") != 2 {
		t.Errorf("AppendRaw = %q", raw)
	}
}

func TestParseCompressed(t *testing.T) {
	plain, err := os.ReadFile("testdata/2026-03-01-scan_http-belgium-geo.csv")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain)
	zw.Close()
	gzPath := filepath.Join(dir, "2026-03-01-scan_http-belgium-geo.csv.gz")
	if err := os.WriteFile(gzPath, gz.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	var zb bytes.Buffer
	w := zip.NewWriter(&zb)
	for _, m := range []struct{ name, file string }{
		{"reports/2026-03-01-scan_http-belgium-geo.csv", "2026-03-01-scan_http-belgium-geo.csv"},
		{"README.txt", ""},
		{"2026-03-01-device_id-belgium-geo.csv", "2026-03-01-device_id-belgium-geo.csv"},
	} {
		f, _ := w.Create(m.name)
		if m.file == "" {
			io.WriteString(f, "not a report")
			continue
		}
		b, err := os.ReadFile(filepath.Join("testdata", m.file))
		if err != nil {
			t.Fatal(err)
		}
		f.Write(b)
	}
	w.Close()
	zipPath := filepath.Join(dir, "2026-03-01-reports.zip")
	if err := os.WriteFile(zipPath, zb.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	s := sharedSchema(t)

	res := parseInput(t, s, func(fn feeds.OpenFunc) error { return feeds.Open(gzPath, fn) })
	if len(res) != 1 || res[0].name != "2026-03-01-scan_http-belgium-geo.csv" || res[0].stats.Events != 3 {
		t.Errorf("gzip file: %+v", res)
	}
	res = parseInput(t, s, func(fn feeds.OpenFunc) error {
		return feeds.OpenReader("2026-03-01-scan_http-x.csv.gz", bytes.NewReader(gz.Bytes()), fn)
	})
	if len(res) != 1 || res[0].stats.Events != 3 {
		t.Errorf("gzip stream: %+v", res)
	}
	res = parseInput(t, s, func(fn feeds.OpenFunc) error { return feeds.Open(zipPath, fn) })
	if len(res) != 2 || res[0].stats.Events != 3 || res[1].name != "2026-03-01-device_id-belgium-geo.csv" || res[1].stats.Events != 2 {
		t.Errorf("zip file: %+v", res)
	}
}

// TestParseLazy checks that a lazy parser's Fields, asked for during
// emit, are those of a normal parse.
func TestParseLazy(t *testing.T) {
	for _, file := range []string{"2026-03-01-scan_http-belgium-geo.csv", "2026-03-01-event4_sinkhole_http-belgium-geo.csv", "2026-03-01-compromised_website-belgium-geo.csv"} {
		want := parseFile(t, filepath.Join("testdata", file))
		rep, _ := sharedSchema(t).Detect(file)
		p := NewParser(rep)
		p.Lazy = true
		var got []feeds.Event
		f, err := os.Open(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Parse(f, func(ev *feeds.Event) error {
			if ev.Fields != nil {
				t.Errorf("%s row %d: lazy event has Fields", file, ev.Row)
			}
			e := *ev
			e.Fields = p.Fields()
			got = append(got, e)
			return nil
		})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want.events) {
			t.Errorf("%s: lazy events differ:\n got %+v\nwant %+v", file, got, want.events)
		}
	}
}
