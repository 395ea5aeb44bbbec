package formats

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/belfry-cert/belfry/internal/feeds"
)

// result is what a parse gave.
type result struct {
	events   []feeds.Event
	problems []feeds.Problem
	stats    Stats
	err      error
}

func collect(t *testing.T, run func(emit func(*feeds.Event) error, problem func(feeds.Problem) error) (Stats, error)) result {
	t.Helper()
	var res result
	res.stats, res.err = run(func(e *feeds.Event) error {
		res.events = append(res.events, *e)
		return nil
	}, func(p feeds.Problem) error {
		res.problems = append(res.problems, p)
		return nil
	})
	if res.stats.Events != len(res.events) || res.stats.Problems != len(res.problems) {
		t.Errorf("stats = %+v, but %d events and %d problems came out", res.stats, len(res.events), len(res.problems))
	}
	return res
}

// field returns the value of key in ev, or nil.
func field(ev *feeds.Event, key string) any {
	for _, f := range ev.Fields {
		if f.Key == key {
			return f.Value
		}
	}
	return nil
}

func reasons(ps []feeds.Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Reason)
	}
	return out
}

func TestParseList(t *testing.T) {
	in := "# a list\n" +
		"\n" +
		"192.0.2.1\n" +
		"2001:DB8::1   # inline comment\n" +
		"198.51.100.0/24\n" +
		"203.0.113.9/32\n" +
		"Bad.Example.COM.\n" +
		"hxxp://evil[.]example.net/x?a=1#frag\n" +
		"https://192.0.2.77:8443/login\n" +
		"not_a_thing\n" +
		"example.org seen twice\r\n" +
		"300.1.1.1/8\n"
	res := collect(t, func(e func(*feeds.Event) error, p func(feeds.Problem) error) (Stats, error) {
		return ParseList(t.Context(), strings.NewReader(in), Options{}, e, p)
	})
	if res.err != nil {
		t.Fatal(res.err)
	}
	type want struct {
		row      int
		ip, fqdn string
		key, val string
	}
	wants := []want{
		{row: 3, ip: "192.0.2.1"},
		{row: 4, ip: "2001:db8::1"},
		{row: 5, key: "source.network", val: "198.51.100.0/24"},
		{row: 6, ip: "203.0.113.9", key: "source.network", val: "203.0.113.9/32"},
		{row: 7, fqdn: "bad.example.com"},
		{row: 8, fqdn: "evil.example.net", key: "source.url", val: "http://evil.example.net/x?a=1#frag"},
		{row: 9, ip: "192.0.2.77", key: "source.url", val: "https://192.0.2.77:8443/login"},
		{row: 11, fqdn: "example.org", key: "comment", val: "seen twice"},
	}
	if len(res.events) != len(wants) {
		t.Fatalf("%d events, want %d: %+v", len(res.events), len(wants), res.events)
	}
	for i, w := range wants {
		ev := &res.events[i]
		ip := ""
		if ev.SrcIP.IsValid() {
			ip = ev.SrcIP.String()
		}
		if ev.Row != w.row || ip != w.ip || ev.SrcFQDN != w.fqdn {
			t.Errorf("event %d = row %d ip %q fqdn %q, want %+v", i, ev.Row, ip, ev.SrcFQDN, w)
		}
		if w.key != "" && field(ev, w.key) != w.val {
			t.Errorf("event %d: %s = %v, want %q", i, w.key, field(ev, w.key), w.val)
		}
		if ev.Taxonomy != "other" || ev.Type != "blacklist" || ev.Identifier != "list" || ev.Feed != "list" {
			t.Errorf("event %d classification = %s/%s/%s feed %s, want other/blacklist/list, list", i, ev.Taxonomy, ev.Type, ev.Identifier, ev.Feed)
		}
	}
	if got := reasons(res.problems); !reflect.DeepEqual(got, []string{ReasonNotIndicator, ReasonNotIndicator}) || res.problems[0].Row != 10 || res.problems[1].Raw != "300.1.1.1/8" {
		t.Errorf("problems = %+v", res.problems)
	}
	if res.stats.Rows != 10 {
		t.Errorf("rows = %d, want 10", res.stats.Rows)
	}
}

func TestParseListOptionsAndLongLine(t *testing.T) {
	var o Options
	if err := o.ParseClassification("malicious-code/c2-server/feodo"); err != nil {
		t.Fatal(err)
	}
	o.Feed, o.FeedName = "feodo", "Feodo C2"
	in := strings.Repeat("a", MaxLine+10) + "\n192.0.2.5"
	res := collect(t, func(e func(*feeds.Event) error, p func(feeds.Problem) error) (Stats, error) {
		return ParseList(t.Context(), strings.NewReader(in), o, e, p)
	})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if len(res.events) != 1 || res.events[0].Row != 2 || res.events[0].Taxonomy != "malicious-code" || res.events[0].Type != "c2-server" ||
		res.events[0].Identifier != "feodo" || res.events[0].FeedName != "Feodo C2" {
		t.Errorf("events = %+v", res.events)
	}
	if len(res.problems) != 1 || res.problems[0].Reason != ReasonLineTooLong || res.problems[0].Row != 1 || len(res.problems[0].Raw) > maxProblemRaw {
		t.Errorf("problems = %+v", res.problems)
	}
	for _, bad := range []string{"nonsense", "other", "virus/x", "a/b/c/d"} {
		if err := (&Options{}).ParseClassification(bad); err == nil {
			t.Errorf("ParseClassification(%q) = nil, want an error", bad)
		}
	}
}

func FuzzParseList(f *testing.F) {
	for _, s := range []string{"192.0.2.1\n", "# c\nexample.com x\n", "http://[::1]:80/\n", "10.0.0.0/8", "\xff\xfe\n\r\n", "hxxps://a[.]b/c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		n := 0
		st, err := ParseList(context.Background(), strings.NewReader(in), Options{}, func(e *feeds.Event) error {
			n++
			if !e.SrcIP.IsValid() && e.SrcFQDN == "" && field(e, "source.network") == nil {
				t.Fatalf("event without an address: %+v", e)
			}
			return nil
		}, func(p feeds.Problem) error {
			if p.Reason == "" || len(p.Raw) > maxProblemRaw {
				t.Fatalf("bad problem %+v", p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if st.Events != n || st.Events+st.Problems != st.Rows {
			t.Fatalf("stats %+v, %d events", st, n)
		}
	})
}

// The MISP feed of the tests: a manifest, two events, one event the
// manifest names but that is missing.
const (
	mispEvent1 = `{"Event": {"uuid": "11111111-1111-4111-8111-111111111111", "info": "Phishing wave", "date": "2026-03-01",
  "timestamp": "1772323200", "threat_level_id": "2", "distribution": "3",
  "Orgc": {"name": "CIRCL"},
  "Tag": [{"name": "tlp:amber"}, {"name": "rsit:fraud=\"phishing\""}],
  "Attribute": [
    {"uuid": "a1", "type": "ip-dst|port", "category": "Network activity", "value": "192.0.2.10|8443", "to_ids": true, "distribution": "5", "timestamp": "1772326800"},
    {"uuid": "a2", "type": "domain", "category": "Network activity", "value": "c2.example.net", "to_ids": false},
    {"uuid": "a3", "type": "url", "category": "Payload delivery", "value": "http://drop.example.org/x.exe", "to_ids": true,
     "Tag": [{"name": "tlp:red"}]},
    {"uuid": "a4", "type": "text", "category": "Other", "value": "free text", "to_ids": true},
    {"uuid": "a5", "type": "ip-src", "category": "Network activity", "value": "not-an-ip", "to_ids": true}
  ],
  "Object": [{"name": "file", "Attribute": [
    {"uuid": "a6", "type": "sha256", "category": "Payload delivery", "to_ids": true,
     "value": "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"}]}]
}}`
	mispEvent2 = `{"Event": {"uuid": "22222222-2222-4222-8222-222222222222", "info": "Scanner", "distribution": 0,
  "Attribute": [
    {"uuid": "b1", "type": "ip-src", "category": "Network activity", "value": "198.51.100.7", "to_ids": true, "distribution": "5"},
    {"uuid": "b2", "type": "email-src", "category": "Payload delivery", "value": "ceo@example.com", "to_ids": true, "distribution": "1"}
  ]}}`
	mispManifestJSON = `{"11111111-1111-4111-8111-111111111111": {"info": "Phishing wave"},
  "22222222-2222-4222-8222-222222222222": {"info": "Scanner"},
  "33333333-3333-4333-8333-333333333333": {"info": "Gone"}}`
)

func writeFeed(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"manifest.json": mispManifestJSON,
		"11111111-1111-4111-8111-111111111111.json": mispEvent1,
		"22222222-2222-4222-8222-222222222222.json": mispEvent2,
		"hashes.csv": "x,y\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func checkMISP(t *testing.T, res result) {
	t.Helper()
	if res.err != nil {
		t.Fatal(res.err)
	}
	if len(res.events) != 3 {
		t.Fatalf("%d events, want 3: %+v\nproblems: %+v", len(res.events), res.events, res.problems)
	}
	a1 := &res.events[0]
	if a1.DstIP != netip.MustParseAddr("192.0.2.10") || a1.DstPort != 8443 || a1.Taxonomy != "malicious-code" || a1.Type != "c2-server" ||
		a1.Identifier != "ip-dst|port" || a1.Severity != "medium" || a1.Time.Unix() != 1772326800 {
		t.Errorf("ip-dst|port event = %+v", a1)
	}
	for k, want := range map[string]any{"tlp": "TLP:AMBER", "misp.event_uuid": "11111111-1111-4111-8111-111111111111",
		"misp.attribute_uuid": "a1", "event_description.text": "Phishing wave", "extra.misp_org": "CIRCL"} {
		if got := field(a1, k); got != want {
			t.Errorf("ip-dst|port event %s = %v, want %v", k, got, want)
		}
	}
	if tags, _ := field(a1, "extra.tags").([]string); len(tags) != 2 {
		t.Errorf("tags = %v", field(a1, "extra.tags"))
	}
	a6 := &res.events[1]
	if field(a6, "malware.hash.sha256") != "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" || a6.Type != "malware-distribution" {
		t.Errorf("object attribute event = %+v", a6)
	}
	b2 := &res.events[2]
	if field(b2, "source.account") != "ceo@example.com" || b2.Taxonomy != "fraud" || b2.Type != "phishing" || field(b2, "tlp") != nil {
		t.Errorf("email-src event = %+v", b2)
	}
	want := []string{ReasonMISPNotIDS, ReasonWithheldRed, ReasonMISPType, ReasonMISPValue, ReasonMISPOrgOnly, ReasonMISPMissing}
	if got := reasons(res.problems); !reflect.DeepEqual(got, want) {
		t.Errorf("problem reasons = %q, want %q", got, want)
	}
	if res.stats.Rows != 9 {
		t.Errorf("rows = %d, want 9 (8 attributes and a missing file)", res.stats.Rows)
	}
}

func TestParseMISPDir(t *testing.T) {
	dir := writeFeed(t)
	res := collect(t, func(e func(*feeds.Event) error, p func(feeds.Problem) error) (Stats, error) {
		return ParseMISPDir(t.Context(), dir, Options{}, e, p)
	})
	checkMISP(t, res)
}

func TestParseMISPZip(t *testing.T) {
	dir := writeFeed(t)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"manifest.json", "11111111-1111-4111-8111-111111111111.json", "22222222-2222-4222-8222-222222222222.json"} {
		w, _ := zw.Create("feed/" + name)
		b, _ := os.ReadFile(filepath.Join(dir, name))
		w.Write(b)
	}
	zw.Close()
	res := collect(t, func(e func(*feeds.Event) error, p func(feeds.Problem) error) (Stats, error) {
		return ParseMISP(t.Context(), bytes.NewReader(buf.Bytes()), Options{}, e, p)
	})
	checkMISP(t, res)
}

func TestParseMISPKeep(t *testing.T) {
	res := collect(t, func(e func(*feeds.Event) error, p func(feeds.Problem) error) (Stats, error) {
		return ParseMISP(t.Context(), strings.NewReader(mispEvent1), Options{KeepRed: true, KeepNonIDS: true}, e, p)
	})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if len(res.events) != 4 {
		t.Fatalf("%d events, want 4 (the TLP:RED and the to_ids=false ones kept)", len(res.events))
	}
	if ev := &res.events[1]; ev.SrcFQDN != "c2.example.net" || field(ev, "extra.misp_to_ids") != false {
		t.Errorf("to_ids=false event = %+v", ev)
	}
	if ev := &res.events[2]; field(ev, "tlp") != "TLP:RED" || ev.SrcFQDN != "drop.example.org" {
		t.Errorf("TLP:RED event = %+v", ev)
	}
	bad := collect(t, func(e func(*feeds.Event) error, p func(feeds.Problem) error) (Stats, error) {
		return ParseMISP(t.Context(), strings.NewReader(`{"Event": {"Attribute": [}`), Options{}, e, p)
	})
	if bad.err != nil || len(bad.problems) != 1 || bad.problems[0].Reason != ReasonMISPJSON {
		t.Errorf("broken event: err %v, problems %+v", bad.err, bad.problems)
	}
}

const stixBundle = `{"type": "bundle", "id": "bundle--1", "objects": [
 {"type": "identity", "id": "identity--1", "name": "CERT"},
 {"type": "indicator", "id": "indicator--1", "pattern_type": "stix", "valid_from": "2026-03-01T10:00:00Z", "name": "C2 servers",
  "pattern": "[ipv4-addr:value = '192.0.2.1' OR ipv4-addr:value = '192.0.2.0/28'] OR [domain-name:value = 'c2.example.net']",
  "object_marking_refs": ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]},
 {"type": "indicator", "id": "indicator--2", "pattern_type": "stix", "valid_from": "2026-03-01T10:00:00Z",
  "pattern": "[url:value = 'http://a.example/' AND url:value = 'http://b.example/']"},
 {"type": "indicator", "id": "indicator--3", "pattern_type": "stix", "valid_from": "2026-03-01T10:00:00Z",
  "pattern": "[file:hashes.'SHA-256' = 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855'] WITHIN 300 SECONDS"},
 {"type": "indicator", "id": "indicator--4", "pattern_type": "stix", "valid_from": "2026-03-01T10:00:00Z",
  "pattern": "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e'] OR [url:value IN ('https://x.example/a', 'https://y.example/b')]"},
 {"type": "indicator", "id": "indicator--5", "pattern_type": "snort", "pattern": "alert tcp any any -> any any"},
 {"type": "indicator", "id": "indicator--6", "pattern": "[network-traffic:dst_port = 443]"},
 {"type": "marking-definition", "id": "marking-definition--custom", "definition_type": "tlp", "definition": {"tlp": "green"}},
 {"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "198.51.100.5", "object_marking_refs": ["marking-definition--custom"]},
 {"type": "ipv6-addr", "id": "ipv6-addr--1", "value": "2001:db8::5", "object_marking_refs": ["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]},
 {"type": "domain-name", "id": "domain-name--1", "value": "Bad.Example.ORG"},
 {"type": "url", "id": "url--1", "value": "no scheme"}
]}`

func TestParseSTIX(t *testing.T) {
	res := collect(t, func(e func(*feeds.Event) error, p func(feeds.Problem) error) (Stats, error) {
		return ParseSTIX(t.Context(), strings.NewReader(stixBundle), Options{}, e, p)
	})
	if res.err != nil {
		t.Fatal(res.err)
	}
	type want struct {
		row           int
		ip, fqdn      string
		key, val, tlp string
	}
	wants := []want{
		{row: 2, ip: "192.0.2.1", tlp: "TLP:AMBER"},
		{row: 2, key: "source.network", val: "192.0.2.0/28", tlp: "TLP:AMBER"},
		{row: 2, fqdn: "c2.example.net", tlp: "TLP:AMBER"},
		{row: 5, key: "malware.hash.md5", val: "d41d8cd98f00b204e9800998ecf8427e"},
		{row: 5, fqdn: "x.example", key: "source.url", val: "https://x.example/a"},
		{row: 5, fqdn: "y.example", key: "source.url", val: "https://y.example/b"},
		{row: 9, ip: "198.51.100.5", tlp: "TLP:GREEN"},
		{row: 11, fqdn: "bad.example.org"},
	}
	if len(res.events) != len(wants) {
		t.Fatalf("%d events, want %d: %+v\nproblems %+v", len(res.events), len(wants), res.events, res.problems)
	}
	for i, w := range wants {
		ev := &res.events[i]
		ip := ""
		if ev.SrcIP.IsValid() {
			ip = ev.SrcIP.String()
		}
		tlp, _ := field(ev, "tlp").(string)
		if ev.Row != w.row || ip != w.ip || ev.SrcFQDN != w.fqdn || tlp != w.tlp {
			t.Errorf("event %d = row %d ip %q fqdn %q tlp %q, want %+v", i, ev.Row, ip, ev.SrcFQDN, tlp, w)
		}
		if w.key != "" && field(ev, w.key) != w.val {
			t.Errorf("event %d: %s = %v, want %q", i, w.key, field(ev, w.key), w.val)
		}
	}
	if ev := &res.events[0]; ev.Time.IsZero() || field(ev, "event_description.text") != "C2 servers" || field(ev, "extra.stix_id") != "indicator--1" {
		t.Errorf("first event = %+v", ev)
	}
	wantReasons := []string{string(errAnd), string(errQualifier), ReasonSTIXPatternType, ReasonSTIXPath, ReasonWithheldRed, ReasonSTIXValue}
	if got := reasons(res.problems); !reflect.DeepEqual(got, wantReasons) {
		t.Errorf("problem reasons = %q, want %q", got, wantReasons)
	}
	if res.problems[0].Row != 3 || !strings.Contains(res.problems[0].Raw, "AND") {
		t.Errorf("AND problem = %+v", res.problems[0])
	}
}

func TestReducePattern(t *testing.T) {
	tests := []struct {
		in   string
		want []comparison
		err  error
	}{
		{"[ipv4-addr:value = '192.0.2.1']", []comparison{{"ipv4-addr:value", "192.0.2.1"}}, nil},
		{"([domain-name:value = 'a.example'] OR [domain-name:value = 'b\\'s.example'])",
			[]comparison{{"domain-name:value", "a.example"}, {"domain-name:value", "b's.example"}}, nil},
		{"[(url:value = 'http://a/' OR url:value = 'http://b/')]", []comparison{{"url:value", "http://a/"}, {"url:value", "http://b/"}}, nil},
		{"[file:hashes.'SHA-1' = 'x']", []comparison{{"file:hashes.'SHA-1'", "x"}}, nil},
		{"[a:value = 'x'] AND [b:value = 'y']", nil, errAnd},
		{"[a:value = 'x'] FOLLOWEDBY [b:value = 'y']", nil, errFollowedBy},
		{"[a:value != 'x']", nil, errOperator},
		{"[a:value MATCHES '^x']", nil, errOperator},
		{"[a:value NOT = 'x']", nil, errNot},
		{"[a:value = 'x'] REPEATS 5 TIMES", nil, errQualifier},
		{"[a:value = 'x'", nil, errSyntax},
		{"[a:value = 'x]", nil, errSyntax},
		{"", nil, errSyntax},
	}
	for _, tt := range tests {
		got, err := reducePattern(tt.in)
		if err != tt.err || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("reducePattern(%q) = %v, %v; want %v, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseSTIXNotABundle(t *testing.T) {
	for _, in := range []string{`[1]`, `{"type": "indicator"}`, `{"objects": []}`, `{"type": "bundle", "objects": [1, `} {
		_, err := ParseSTIX(t.Context(), strings.NewReader(in), Options{}, func(*feeds.Event) error { return nil }, nil)
		if err == nil {
			t.Errorf("ParseSTIX(%q) = nil error, want one", in)
		}
	}
}

func TestDetect(t *testing.T) {
	tests := map[string]string{
		stixBundle:                              STIX,
		`{"id": "bundle--1", "type": "bundle"}`: STIX,
		mispEvent1:                              MISP,
		mispManifestJSON:                        MISP,
		`{"response": []}`:                      MISP,
		"timestamp,ip\n":                        "",
		`{"type": "indicator"}`:                 "",
		"":                                      "",
	}
	for in, want := range tests {
		if got := Detect([]byte(in)); got != want {
			t.Errorf("Detect(%.40q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseFunc(t *testing.T) {
	parse, err := ParseFunc(List, Options{}, strings.NewReader("192.0.2.1\nbad!\n"))
	if err != nil {
		t.Fatal(err)
	}
	var evs, probs int
	err = parse(t.Context(), func(*feeds.Event) error { evs++; return nil }, func(feeds.Problem) error { probs++; return nil })
	if err != nil || evs != 1 || probs != 1 {
		t.Errorf("parse = %v, %d events, %d problems; want 1 and 1", err, evs, probs)
	}
	if _, err := ParseFunc("xml", Options{}, strings.NewReader("")); err == nil {
		t.Error("ParseFunc(xml) = nil error")
	}
	if _, err := ParseFunc(CSV, Options{}, strings.NewReader("")); err == nil {
		t.Error("ParseFunc(csv) without a mapping = nil error")
	}
	var _ io.Reader = decompress(strings.NewReader(""))
}

func TestMappingValidate(t *testing.T) {
	tests := []struct {
		name   string
		m      Mapping
		fields []string
	}{
		{"good", Mapping{Columns: map[string]string{"1": "source.ip", "2": "extra.note"}}, nil},
		{"good with header", Mapping{Header: true, Delimiter: "tab", TimeFormat: "02/01/2006 15:04", Columns: map[string]string{"host": "source.fqdn"}}, nil},
		{"empty", Mapping{}, []string{"columns"}},
		{"everything wrong", Mapping{Delimiter: `"`, Columns: map[string]string{"ip": "source.ipaddress", "0": "comment"},
			Constants: map[string]string{"source.port": "99999", "comment": "x"}, TimeFormat: "yesterday",
			Classification: Classification{Taxonomy: "virus"}},
			[]string{"delimiter", "columns.0", "columns.ip", "columns.ip", "constants.comment", "constants.source.port", "columns", "time_format", "classification.taxonomy", "classification.type"}},
		{"constant address only", Mapping{Columns: map[string]string{"1": "comment"}, Constants: map[string]string{"source.asn": "AS64500"}}, nil},
	}
	for _, tt := range tests {
		err := tt.m.Validate()
		var got []string
		if me, ok := err.(*MappingError); ok {
			for _, f := range me.Fields {
				got = append(got, f.Field)
				if f.Message == "" || !strings.HasPrefix(f.Code, "err.feedmapping.") {
					t.Errorf("%s: field error %+v lacks a message or code", tt.name, f)
				}
			}
		} else if err != nil {
			t.Fatalf("%s: Validate() = %v, not a *MappingError", tt.name, err)
		}
		if !reflect.DeepEqual(got, tt.fields) {
			t.Errorf("%s: Validate() fields = %q, want %q (%v)", tt.name, got, tt.fields, err)
		}
	}
	if _, err := LoadMapping(strings.NewReader(`{"columns": {"1": "source.ip"}, "delimitor": ";"}`)); err == nil || !strings.Contains(err.Error(), "delimitor") {
		t.Errorf("LoadMapping with a misspelt member = %v, want an error naming it", err)
	}
}

func TestParseCSV(t *testing.T) {
	m := &Mapping{Delimiter: ",", Columns: map[string]string{"1": "time.source", "2": "source.ip", "3": "source.port", "4": "extra.note"},
		Constants: map[string]string{"protocol.transport": "TCP"}, TimeFormat: "unix", Feed: "partner-x", FeedName: "Partner X",
		Classification: Classification{Taxonomy: "vulnerable", Type: "vulnerable-system", Identifier: "open-x"}}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	in := "1772323200,192.0.2.1,443,first\n" +
		"1772323200,192.0.2.2\n" +
		"1772323200,999.0.2.3,443,x\n" +
		"soon,192.0.2.4,443,x\n" +
		"1772323200,192.0.2.5,70000,x\n" +
		"1772323200,\"192.0.2.6,443,x\n"
	res := collect(t, func(e func(*feeds.Event) error, p func(feeds.Problem) error) (Stats, error) {
		return ParseCSV(t.Context(), strings.NewReader(in), Options{Mapping: m}, e, p)
	})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if len(res.events) != 1 {
		t.Fatalf("%d events, want 1: %+v", len(res.events), res.events)
	}
	ev := &res.events[0]
	if ev.SrcIP.String() != "192.0.2.1" || ev.SrcPort != 443 || ev.Time.Unix() != 1772323200 || ev.Feed != "partner-x" || ev.FeedName != "Partner X" ||
		ev.Identifier != "open-x" || field(ev, "protocol.transport") != "tcp" || field(ev, "extra.note") != "first" {
		t.Errorf("event = %+v", ev)
	}
	want := []string{ReasonCSVColumns, "invalid source.ip", "invalid time.source", "invalid source.port", ReasonCSVSyntax}
	if got := reasons(res.problems); !reflect.DeepEqual(got, want) {
		t.Errorf("problems = %q, want %q", got, want)
	}
	if res.problems[1].Row != 3 || res.problems[1].Raw != "1772323200,999.0.2.3,443,x" {
		t.Errorf("problem = %+v", res.problems[1])
	}
	// A header without a mapped column is an error for the file.
	hm := &Mapping{Header: true, Columns: map[string]string{"address": "source.ip"}}
	_, err := ParseCSV(t.Context(), strings.NewReader("ip,port\n192.0.2.1,80\n"), Options{Mapping: hm}, func(*feeds.Event) error { return nil }, nil)
	if err == nil || !strings.Contains(err.Error(), `"address"`) {
		t.Errorf("missing header column: err = %v", err)
	}
}
