package feeds

// Synthetic reports for benchmarks and tests: a Shadowserver-shaped
// scan_http report whose addresses fall inside given constituent prefixes,
// with a share outside them.

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"time"
)

// ScanHTTPColumns are the columns of Shadowserver's scan_http report, in
// its order (the report's published header).
var ScanHTTPColumns = []string{"timestamp", "severity", "ip", "protocol", "port", "hostname", "tag", "asn", "geo", "region", "city",
	"naics", "hostname_source", "sector", "http", "http_code", "http_reason", "content_type", "connection", "www_authenticate",
	"set_cookie", "server", "content_length", "transfer_encoding", "http_date", "version"}

// SyntheticPrefixes returns m distinct public /24 prefixes (in
// 81.0.0.0/8 and onwards), for a synthetic constituency.
func SyntheticPrefixes(m int) []netip.Prefix {
	out := make([]netip.Prefix, 0, m)
	for i := range m {
		a := netip.AddrFrom4([4]byte{byte(81 + i/65536), byte(i / 256 % 256), byte(i % 256), 0})
		out = append(out, netip.PrefixFrom(a, 24))
	}
	return out
}

// WriteSyntheticScan writes a scan_http report of n rows to w: each row's
// address is inside one of prefixes, except a share outside (0 to 1) in
// 198.18.0.0/15 (benchmarking space) that no constituent holds. seed makes the
// report reproducible; day is the report's date.
func WriteSyntheticScan(w io.Writer, n int, prefixes []netip.Prefix, outside float64, seed uint64, day time.Time) error {
	if len(prefixes) == 0 && outside < 1 {
		return fmt.Errorf("feeds: no prefixes to put addresses in")
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	bw := bufio.NewWriterSize(w, 1<<20)
	for i, c := range ScanHTTPColumns {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString(c)
	}
	bw.WriteByte('\n')
	ports := []int{80, 443, 8080, 8443, 8000}
	servers := []string{"nginx", "Apache/2.4.62 (Debian)", "Microsoft-IIS/10.0", "lighttpd/1.4.76"}
	var buf []byte
	for i := range n {
		var ip netip.Addr
		if rng.Float64() < outside || len(prefixes) == 0 {
			ip = netip.AddrFrom4([4]byte{198, byte(18 + rng.IntN(2)), byte(rng.IntN(256)), byte(1 + rng.IntN(254))})
		} else {
			b := prefixes[rng.IntN(len(prefixes))].Addr().As4()
			b[3] = byte(1 + rng.IntN(254))
			ip = netip.AddrFrom4(b)
		}
		ts := day.Add(time.Duration(rng.IntN(86400)) * time.Second).UTC()
		port := ports[rng.IntN(len(ports))]
		buf = buf[:0]
		buf = ts.AppendFormat(buf, "2006-01-02 15:04:05")
		buf = append(buf, ",medium,"...)
		buf = ip.AppendTo(buf)
		buf = append(buf, ",tcp,"...)
		buf = strconv.AppendInt(buf, int64(port), 10)
		buf = append(buf, ",host-"...)
		buf = strconv.AppendInt(buf, int64(i), 10)
		buf = append(buf, ".example,http,"...)
		buf = strconv.AppendInt(buf, int64(64500+rng.IntN(20)), 10)
		buf = append(buf, ",BE,BRUXELLES,BRUSSELS,517311,rdns,Communications Service Provider,HTTP/1.1,200,OK,text/html,close,,,"...)
		buf = append(buf, servers[rng.IntN(len(servers))]...)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, int64(512+rng.IntN(40000)), 10)
		buf = append(buf, ",,\""...)
		buf = ts.AppendFormat(buf, "Mon, 02 Jan 2006 15:04:05 GMT")
		buf = append(buf, "\",\n"...)
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}
