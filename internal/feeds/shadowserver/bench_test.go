package shadowserver

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/belfry-cert/belfry/internal/feeds"
)

// benchRows is the size of the synthetic files.
const benchRows = 100_000

// synthScanHTTP writes a scan_http report shaped like Shadowserver's:
// every column, quoted as Shadowserver quotes, realistic values.
func synthScanHTTP(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`"timestamp","severity","ip","protocol","port","hostname","tag","asn","geo","region","city","naics","hostname_source","sector","http","http_code","http_reason","content_type","connection","www_authenticate","set_cookie","server","content_length","transfer_encoding","http_date","version"` + "\n")
	for i := range n {
		fmt.Fprintf(&b, `"2026-03-01 %02d:%02d:%02d","medium","10.%d.%d.%d","tcp",%d,"host-%d.example.be","http",%d,"BE","BRUXELLES","BRUSSELS",517311,"ptr","Communications, Service Provider, and Hosting Service","HTTP/1.1",200,"OK","text/html; charset=UTF-8","keep-alive","","","nginx/1.18.0 (Ubuntu)",%d,"","Sun, 01 Mar 2026 00:00:11 GMT",""`+"\n",
			i/3600%24, i/60%60, i%60, i>>16&255, i>>8&255, i&255, []int{80, 8080, 443}[i%3], i, 64496+i%16, 100+i%5000)
	}
	return b.Bytes()
}

// synthSinkhole writes an event4_sinkhole_http report.
func synthSinkhole(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`"timestamp","protocol","src_ip","src_port","src_asn","src_geo","src_region","src_city","src_hostname","src_naics","src_sector","device_vendor","device_type","device_model","severity","dst_ip","dst_port","dst_asn","dst_geo","dst_region","dst_city","dst_hostname","dst_naics","dst_sector","public_source","infection","family","tag","application","version","event_id","http_url","http_host","http_agent","forwarded_by","ssl_cipher","http_referer","ssl_servername","machine_name"` + "\n")
	for i := range n {
		fmt.Fprintf(&b, `"2026-03-01 %02d:%02d:%02d","tcp","10.%d.%d.%d",%d,%d,"BE","VLAAMS-BRABANT","LEUVEN","",0,"","","","","critical","198.51.100.%d",80,64511,"US","CALIFORNIA","SAN JOSE","",0,"","SISS","andromeda","andromeda","sinkhole-http","http","","","GET /gate.php?id=%d HTTP/1.1","c2.example.net","Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.1)","","","","",""`+"\n",
			i/3600%24, i/60%60, i%60, i>>16&255, i>>8&255, i&255, 40000+i%20000, 64496+i%16, i%250+1, i)
	}
	return b.Bytes()
}

func benchParse(b *testing.B, report string, data []byte) { benchParseMode(b, report, data, false) }

func benchParseMode(b *testing.B, report string, data []byte, lazy bool) {
	rep, ok := sharedSchema(b).Report(report)
	if !ok {
		b.Fatalf("no report %s", report)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	var rows int
	for b.Loop() {
		p := NewParser(rep)
		p.Lazy = lazy
		var sink uint32
		st, err := p.Parse(bytes.NewReader(data), func(ev *feeds.Event) error {
			sink += uint32(ev.SrcPort) // touch the event, as a matcher would
			return nil
		})
		if err != nil || st.Events != benchRows {
			b.Fatalf("Parse = %+v, %v", st, err)
		}
		rows += st.Rows
		_ = sink
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkParseScanHTTP(b *testing.B) { benchParse(b, "scan_http", synthScanHTTP(benchRows)) }

func BenchmarkParseSinkholeHTTP(b *testing.B) {
	benchParse(b, "event4_sinkhole_http", synthSinkhole(benchRows))
}

// BenchmarkParseScanHTTPLazy parses with Lazy: the typed members only,
// what matching needs; Fields are not made.
func BenchmarkParseScanHTTPLazy(b *testing.B) {
	benchParseMode(b, "scan_http", synthScanHTTP(benchRows), true)
}

func BenchmarkParseSinkholeHTTPLazy(b *testing.B) {
	benchParseMode(b, "event4_sinkhole_http", synthSinkhole(benchRows), true)
}

// BenchmarkIntelMQOutput measures parsing and writing IntelMQ JSON lines
// with raw, as `belfry feeds parse` does.
func BenchmarkIntelMQOutput(b *testing.B) {
	data := synthScanHTTP(benchRows)
	rep, _ := sharedSchema(b).Report("scan_http")
	b.ReportAllocs()
	b.ResetTimer()
	var rows int
	var line, raw []byte
	for b.Loop() {
		p := NewParser(rep)
		st, err := p.Parse(bytes.NewReader(data), func(ev *feeds.Event) error {
			raw = p.AppendRaw(raw[:0])
			line = feeds.AppendIntelMQ(line[:0], ev, feeds.IntelMQOptions{Raw: raw})
			_, err := io.Discard.Write(line)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		rows += st.Rows
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
