package shadowserver

import (
	"fmt"
	"testing"
	"time"
)

// show writes a converted value for comparison: "none", "s:text",
// "i:42", "f:1.5", "b:true", "t:RFC3339", or "error".
func show(v value, err error) string {
	if err != nil {
		return "error"
	}
	switch v.k {
	case kString:
		return "s:" + v.s
	case kInt:
		return fmt.Sprintf("i:%d", v.i)
	case kFloat:
		return fmt.Sprintf("f:%g", v.float())
	case kBool:
		return fmt.Sprintf("b:%v", v.bool())
	case kTime:
		return "t:" + v.time().Format(time.RFC3339Nano)
	}
	return "none"
}

func TestConverters(t *testing.T) {
	row := func(kv ...string) *rowView {
		r := &rowView{index: map[string]int{}}
		for i := 0; i < len(kv); i += 2 {
			r.index[kv[i]] = len(r.rec)
			r.rec = append(r.rec, kv[i+1])
		}
		return r
	}
	noRow := row()
	tests := []struct {
		conv, in string
		row      *rowView
		want     string
	}{
		{"validate_to_none", "", noRow, "none"},
		{"validate_to_none", "0", noRow, "none"},
		{"validate_to_none", "unknown", noRow, "none"},
		{"validate_to_none", "Unknown", noRow, "s:Unknown"},
		{"validate_to_none", "00", noRow, "s:00"},
		{"validate_to_none", "nginx", noRow, "s:nginx"},

		{"convert_int", "", noRow, "none"},
		{"convert_int", "0", noRow, "i:0"},
		{"convert_int", " -42 ", noRow, "i:-42"},
		{"convert_int", "+7", noRow, "i:7"},
		{"convert_int", "4.5", noRow, "error"},
		{"convert_int", "abc", noRow, "error"},

		{"invalidate_zero", "", noRow, "none"},
		{"invalidate_zero", "0", noRow, "none"},
		{"invalidate_zero", "000", noRow, "none"},
		{"invalidate_zero", "64496", noRow, "i:64496"},
		{"invalidate_zero", "AS64496", noRow, "error"},

		{"convert_bool", "Y", noRow, "b:true"},
		{"convert_bool", "enabled", noRow, "b:true"},
		{"convert_bool", "1", noRow, "b:true"},
		{"convert_bool", "No", noRow, "b:false"},
		{"convert_bool", "disabled", noRow, "b:false"},
		{"convert_bool", "0", noRow, "b:false"},
		{"convert_bool", "maybe", noRow, "none"},
		{"convert_bool", "", noRow, "none"},

		{"convert_float", "", noRow, "none"},
		{"convert_float", "1.5", noRow, "f:1.5"},
		{"convert_float", "-3", noRow, "f:-3"},
		{"convert_float", "x", noRow, "error"},

		{"validate_ip", "192.0.2.1", noRow, "s:192.0.2.1"},
		{"validate_ip", "2001:db8::1", noRow, "s:2001:db8::1"},
		{"validate_ip", "0.0.0.0", noRow, "none"},
		{"validate_ip", "192.0.2.0/24", noRow, "none"},
		{"validate_ip", "192.0.2.300", noRow, "none"},
		{"validate_ip", "fe80::1%eth0", noRow, "none"},
		{"validate_ip", "", noRow, "none"},

		{"validate_network", "192.0.2.0/24", noRow, "s:192.0.2.0/24"},
		{"validate_network", "192.0.2.1", noRow, "none"},
		{"validate_network", "192.0.2.0/33", noRow, "none"},

		{"validate_fqdn", "www.example.be", noRow, "s:www.example.be"},
		{"validate_fqdn", "WWW.Example.be.", noRow, "s:WWW.Example.be."},
		{"validate_fqdn", "192.0.2.1", noRow, "none"},
		{"validate_fqdn", "a..b", noRow, "none"},
		{"validate_fqdn", "has space.be", noRow, "none"},
		{"validate_fqdn", "", noRow, "none"},

		{"add_UTC_to_timestamp", "2026-03-01 04:05:06", noRow, "t:2026-03-01T04:05:06Z"},
		{"add_UTC_to_timestamp", "2026-03-01T04:05:06", noRow, "t:2026-03-01T04:05:06Z"},
		{"add_UTC_to_timestamp", "2026-03-01 04:05:06.25", noRow, "t:2026-03-01T04:05:06.25Z"},
		{"add_UTC_to_timestamp", "2026-03-01T04:05:06+02:00", noRow, "t:2026-03-01T02:05:06Z"},
		{"add_UTC_to_timestamp", "2026-02-30 00:00:00", noRow, "error"},
		{"add_UTC_to_timestamp", "2026-03-01 24:00:00", noRow, "error"},
		{"add_UTC_to_timestamp", "", noRow, "error"},
		{"add_UTC_to_timestamp", "yesterday", noRow, "error"},

		{"convert_date", "Sun, 01 Mar 2026 00:00:11 GMT", noRow, "s:2026-03-01T00:00:11+00:00"},
		{"convert_date", "2026-03-01T01:00:00+01:00", noRow, "s:2026-03-01T00:00:00+00:00"},
		{"convert_date", "not a date", noRow, "none"},
		{"convert_date", "", noRow, "none"},
		{"convert_date_utc", "2026-03-01 04:05:06", noRow, "s:2026-03-01T04:05:06+00:00"},
		{"convert_date_utc", "2026-03-01 04:05:06.5", noRow, "s:2026-03-01T04:05:06.500000+00:00"},
		{"convert_date_utc", "soon", noRow, "none"},

		{"extract_cve_from_tag", "affected-software;cve-2024-56789;cve-2023-12345;ssl;cve-2023-12345", noRow, "s:cve-2023-12345,cve-2024-56789"},
		{"extract_cve_from_tag", "CVE-2024-1;cve-2024;cve-x-1;cve-2024-1a", noRow, "none"},
		{"extract_cve_from_tag", "", noRow, "none"},

		{"convert_http_host_and_url", "GET /gate.php?a=1 HTTP/1.1", row("http_host", "c2.example", "http_url", "GET /gate.php?a=1 HTTP/1.1"), "s:http://c2.example/gate.php?a=1"},
		{"convert_http_host_and_url", "/x", row("http_host", "c2.example", "url", "/x", "application", "https"), "s:https://c2.example/x"},
		{"convert_http_host_and_url", "/x", row("http_host", "c2.example", "url", "/x", "application", "ftp"), "s:http://c2.example/x"},
		{"convert_http_host_and_url", "/p", row("cc_dns", "cc.example", "http_host", "other.example", "url", "/p"), "s:http://cc.example/p"},
		{"convert_http_host_and_url", "/only-path", row("url", "/only-path"), "s:/only-path"},
		{"convert_http_host_and_url", "", row("http_host", "h.example", "url", ""), "none"},
		{"convert_http_host_and_url", "nopath", row("http_host", "h.example", "url", "nopath"), "s:http://h.example"},

		{"category_or_detail", "ecommerce", row("detail", "skimmer"), "s:ecommerce"},
		{"category_or_detail", "", row("detail", "skimmer"), "s:skimmer"},
		{"category_or_detail", "", row("detail", ""), "none"},

		{"force_base64", "", noRow, "none"},
		{"force_base64", "R0VUIC8gSFRUUC8xLjE=", noRow, "s:R0VUIC8gSFRUUC8xLjE="},
		{"force_base64", "GET / HTTP/1.1", noRow, "s:R0VUIC8gSFRUUC8xLjE="},
		{"force_base64", "abc", noRow, "s:YWJj"},

		{"scan_exchange_taxonomy", "exchange;webshell", noRow, "s:intrusions"},
		{"scan_exchange_taxonomy", "exchange;cve-2021-26855", noRow, "s:vulnerable"},
		{"scan_exchange_type", "exchange;webshell", noRow, "s:system-compromise"},
		{"scan_exchange_type", "", noRow, "s:infected-system"},
		{"scan_exchange_identifier", "exchange;webshell", noRow, "s:exchange-server-webshell"},
		{"scan_exchange_identifier", "exchange", noRow, "s:vulnerable-exchange-server"},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.conv] = true
		got := show(converters[tt.conv](tt.in, tt.row))
		if got != tt.want {
			t.Errorf("%s(%q) = %s, want %s", tt.conv, tt.in, got, tt.want)
		}
	}
	for _, c := range Converters() {
		if !seen[c] {
			t.Errorf("converter %s has no test", c)
		}
	}
}

func TestHarmonise(t *testing.T) {
	tests := []struct {
		key  string
		in   value
		want string
		ok   bool
	}{
		{"source.ip", str("2001:DB8:0::1"), "s:2001:db8::1", true},
		{"source.ip", str("nope"), "none", false},
		{"source.network", str("192.0.2.7/24"), "s:192.0.2.0/24", true},
		{"source.port", str("443"), "i:443", true},
		{"source.port", value{k: kInt, i: 70000}, "none", false},
		{"source.asn", value{k: kInt, i: 0}, "none", false},
		{"source.asn", str("64496"), "i:64496", true},
		{"source.reverse_dns", str("Host.Example.BE."), "s:host.example.be", true},
		{"source.reverse_dns", str("192.0.2.1"), "none", false},
		{"source.geolocation.cc", str("be"), "s:BE", true},
		{"source.geolocation.cc", str("BEL"), "none", false},
		{"protocol.transport", str("TCP"), "s:tcp", true},
		{"destination.url", str("http://c2.example/x"), "s:http://c2.example/x", true},
		{"destination.url", str("/x"), "none", false},
		{"source.geolocation.city", str("-"), "none", true},
		{"source.geolocation.city", str("N/A"), "none", true},
		{"status", value{k: kInt, i: 3}, "s:3", true},
		{"time.source", str("2026-03-01 04:05:06"), "t:2026-03-01T04:05:06Z", true},
	}
	for _, tt := range tests {
		v, ok := harmonise(keyKind(tt.key), tt.in)
		if got := show(v, nil); got != tt.want || ok != tt.ok {
			t.Errorf("harmonise(%s, %+v) = %s, %v; want %s, %v", tt.key, tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
