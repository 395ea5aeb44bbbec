package shadowserver

import (
	"encoding/base64"
	"errors"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/feeds"
)

// The converters follow those of IntelMQ's Shadowserver parser
// (intelmq/bots/parsers/shadowserver/_config.py) value for value: a
// converter turns one column's text into a value or into nothing (IntelMQ's
// None: the field is left out). An error means the text cannot be
// converted (IntelMQ raises).

// kind is the type of a converted value.
type kind uint8

const (
	kNone kind = iota
	kString
	kInt
	kFloat
	kBool
	kTime
)

// value is a converted value, unboxed so that the hot path does not
// allocate.
// It is 32 bytes, as it is copied a lot: a bool, float or time is held
// in i (a time as Unix seconds, with ns).
type value struct {
	k  kind
	ns int32
	s  string
	i  int64
}

func str(s string) value { return value{k: kString, s: s} }

func boolVal(b bool) value {
	if b {
		return value{k: kBool, i: 1}
	}
	return value{k: kBool}
}

func floatVal(f float64) value { return value{k: kFloat, i: int64(math.Float64bits(f))} }

func timeVal(t time.Time) value { return value{k: kTime, i: t.Unix(), ns: int32(t.Nanosecond())} }

func (v value) bool() bool      { return v.i != 0 }
func (v value) float() float64  { return math.Float64frombits(uint64(v.i)) }
func (v value) time() time.Time { return time.Unix(v.i, int64(v.ns)).UTC() }

// rowView gives converters that read other columns (the schema's fourth
// item, true) access to the whole row.
type rowView struct {
	index map[string]int
	rec   []string
}

// get returns the column's text and whether the header has the column.
func (r *rowView) get(col string) (string, bool) {
	i, ok := r.index[col]
	if !ok || i >= len(r.rec) {
		return "", ok
	}
	return r.rec[i], true
}

type convFunc func(v string, row *rowView) (value, error)

var errConvert = errors.New("cannot convert")

// converters are IntelMQ's, by the names the schema uses.
var converters = map[string]convFunc{
	"validate_to_none":          validateToNone,
	"convert_int":               convertInt,
	"invalidate_zero":           invalidateZero,
	"convert_bool":              convertBool,
	"convert_float":             convertFloat,
	"validate_ip":               validateIP,
	"validate_network":          validateNetwork,
	"validate_fqdn":             validateFQDN,
	"add_UTC_to_timestamp":      addUTCToTimestamp,
	"convert_date":              convertDate,
	"convert_date_utc":          convertDateUTC,
	"extract_cve_from_tag":      extractCVEFromTag,
	"convert_http_host_and_url": convertHTTPHostAndURL,
	"category_or_detail":        categoryOrDetail,
	"force_base64":              forceBase64,
	"scan_exchange_taxonomy":    scanExchange("intrusions", "vulnerable"),
	"scan_exchange_type":        scanExchange("system-compromise", "infected-system"),
	"scan_exchange_identifier":  scanExchange("exchange-server-webshell", "vulnerable-exchange-server"),
}

// Converters returns the names of the converters this parser implements,
// sorted.
func Converters() []string {
	names := make([]string, 0, len(converters))
	for n := range converters {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// validateToNone drops "", "0" and "unknown".
func validateToNone(v string, _ *rowView) (value, error) {
	if v == "" || v == "0" || v == "unknown" {
		return value{}, nil
	}
	return str(v), nil
}

// parseInt reads an integer as Python's int() does for report data:
// surrounding spaces and a sign allowed.
func parseInt(v string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, errConvert
	}
	return n, nil
}

func convertInt(v string, _ *rowView) (value, error) {
	if v == "" {
		return value{}, nil
	}
	n, err := parseInt(v)
	if err != nil {
		return value{}, err
	}
	return value{k: kInt, i: n}, nil
}

// invalidateZero is convertInt that also drops 0 (ASN and NAICS 0 mean
// "unknown").
func invalidateZero(v string, _ *rowView) (value, error) {
	if v == "" {
		return value{}, nil
	}
	n, err := parseInt(v)
	if err != nil || n == 0 {
		return value{}, err
	}
	return value{k: kInt, i: n}, nil
}

func convertBool(v string, _ *rowView) (value, error) {
	switch strings.ToLower(v) {
	case "y", "yes", "true", "enabled", "1":
		return boolVal(true), nil
	case "n", "no", "false", "disabled", "0":
		return boolVal(false), nil
	}
	return value{}, nil
}

func convertFloat(v string, _ *rowView) (value, error) {
	if v == "" {
		return value{}, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return value{}, errConvert
	}
	return floatVal(f), nil
}

// validateIP keeps a valid single address; 0.0.0.0 and anything with a
// prefix length are dropped (IntelMQ issue 1720). The text is kept as
// given; harmonisation normalises it for address keys.
func validateIP(v string, _ *rowView) (value, error) {
	if v == "0.0.0.0" || strings.IndexByte(v, '/') >= 0 {
		return value{}, nil
	}
	if _, ok := parseIP(v); !ok {
		return value{}, nil
	}
	return str(v), nil
}

// parseIP parses an address as IntelMQ's IPAddress type accepts it:
// surrounding spaces allowed, no zone.
func parseIP(v string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(strings.TrimSpace(v))
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a, true
}

// validateNetwork keeps a valid prefix written with its length.
func validateNetwork(v string, _ *rowView) (value, error) {
	if strings.IndexByte(v, '/') < 0 {
		return value{}, nil
	}
	if _, ok := parsePrefix(v); !ok {
		return value{}, nil
	}
	return str(v), nil
}

// parsePrefix parses a network; host bits are cleared as Python's
// ip_network(strict=False) does.
func parsePrefix(v string) (netip.Prefix, bool) {
	p, err := netip.ParsePrefix(strings.TrimSpace(v))
	if err != nil {
		return netip.Prefix{}, false
	}
	return p.Masked(), true
}

func validateFQDN(v string, _ *rowView) (value, error) {
	if _, ok := normFQDN(v); !ok {
		return value{}, nil
	}
	return str(v), nil
}

// normFQDN sanitises a domain name as IntelMQ's FQDN type does (spaces
// and one final dot removed, lower case) and checks it: not empty, not an
// IP address, no empty label, no space or control character. Like
// IntelMQ, it is otherwise lenient: DNS names in reports carry anything.
func normFQDN(v string) (string, bool) {
	v = strings.TrimSpace(v)
	v = strings.TrimSuffix(v, ".")
	if v == "" || v[0] == '.' || strings.Contains(v, "..") {
		return "", false
	}
	upper := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= ' ' || c == 0x7f || c == '/' {
			return "", false
		}
		if c >= 'A' && c <= 'Z' {
			upper = true
		}
	}
	if _, err := netip.ParseAddr(v); err == nil {
		return "", false
	}
	if upper {
		v = strings.ToLower(v)
	}
	return v, true
}

// addUTCToTimestamp reads Shadowserver's timestamp column, which is UTC
// without a zone ("2026-03-01 04:05:06"). An empty or unreadable time is
// an error: IntelMQ's DateTime rejects it.
func addUTCToTimestamp(v string, _ *rowView) (value, error) {
	t, ok := parseTime(v, true)
	if !ok {
		return value{}, errConvert
	}
	return timeVal(t), nil
}

// convertDate reads a date in any of the usual forms (HTTP dates
// included) into IntelMQ's ISO form; an unreadable date is dropped, as
// IntelMQ's DateTime.sanitize returns nothing for it.
func convertDate(v string, _ *rowView) (value, error) {
	t, ok := parseTime(v, false)
	if !ok {
		return value{}, nil
	}
	return str(formatTime(t)), nil
}

// convertDateUTC is convertDate for times given in UTC without a zone.
func convertDateUTC(v string, _ *rowView) (value, error) {
	t, ok := parseTime(v, true)
	if !ok {
		return value{}, nil
	}
	return str(formatTime(t)), nil
}

// extractCVEFromTag returns the CVE identifiers among the tags
// ("cve-2024-1234;ssl;cve-2023-9"), sorted, unique and comma-separated;
// nothing when there is none. Like IntelMQ, only lower-case
// cve-NNNN-NNNN tags count.
func extractCVEFromTag(v string, _ *rowView) (value, error) {
	var cves []string
	for t := range strings.SplitSeq(v, ";") {
		if isCVETag(t) && !slices.Contains(cves, t) {
			cves = append(cves, t)
		}
	}
	if len(cves) == 0 {
		return value{}, nil
	}
	slices.Sort(cves)
	return str(strings.Join(cves, ",")), nil
}

// isCVETag matches ^cve-[0-9]+-[0-9]+$.
func isCVETag(t string) bool {
	rest, ok := strings.CutPrefix(t, "cve-")
	if !ok {
		return false
	}
	year, num, ok := strings.Cut(rest, "-")
	return ok && allDigits(year) && allDigits(num)
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// convertHTTPHostAndURL rebuilds a URL from the host column (cc_dns or
// http_host) and the path column (url or http_url), which may hold a
// whole request line ("GET /x HTTP/1.1"): the text before the first "/"
// and from the first space on is cut. The scheme is the application
// column when it is http or https, else http. Without a host or a path
// the value is kept as it is.
func convertHTTPHostAndURL(v string, row *rowView) (value, error) {
	host, ok := row.get("cc_dns")
	if !ok {
		host, _ = row.get("http_host")
	}
	path, ok := row.get("url")
	if !ok {
		path, _ = row.get("http_url")
	}
	if host == "" || path == "" {
		if v == "" {
			return value{}, nil
		}
		return str(v), nil
	}
	if i := strings.IndexByte(path, '/'); i >= 0 {
		path = path[i:]
	} else {
		path = ""
	}
	if i := strings.IndexAny(path, " \t\r\n\v\f"); i >= 0 {
		path = path[:i]
	}
	scheme := "http"
	if app, _ := row.get("application"); app == "http" || app == "https" {
		scheme = app
	}
	return str(scheme + "://" + host + path), nil
}

// categoryOrDetail describes a compromised website by its category, or by
// the detail column when the category is empty. (IntelMQ's
// implementation was not available to compare; this follows the name and
// Shadowserver's column descriptions.)
func categoryOrDetail(v string, row *rowView) (value, error) {
	if v != "" {
		return str(v), nil
	}
	if d, _ := row.get("detail"); d != "" {
		return str(d), nil
	}
	return value{}, nil
}

// forceBase64 keeps text that is already valid base64 and encodes
// anything else, so that the field is always base64.
func forceBase64(v string, _ *rowView) (value, error) {
	if v == "" {
		return value{}, nil
	}
	if !strings.ContainsAny(v, "\r\n") {
		if _, err := base64.StdEncoding.DecodeString(v); err == nil {
			return str(v), nil
		}
	}
	return str(base64.StdEncoding.EncodeToString([]byte(v))), nil
}

// scanExchange classifies an Exchange server by its tag: a web shell is a
// compromise, anything else a vulnerable server.
func scanExchange(webshell, other string) convFunc {
	return func(v string, _ *rowView) (value, error) {
		if v == "exchange;webshell" {
			return str(webshell), nil
		}
		return str(other), nil
	}
}

// parseTime reads a time. Shadowserver's "2006-01-02 15:04:05" is read
// without allocating; other forms (ISO 8601 with a zone or fraction, HTTP
// dates) through the time package. utc: a time without a zone is UTC
// (always the case for time.Parse without a zone).
func parseTime(v string, utc bool) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if len(v) == 19 && (v[10] == ' ' || v[10] == 'T') {
		if t, ok := fastTime(v); ok {
			return t, true
		}
	}
	if len(v) == 29 && v[3] == ',' {
		if t, ok := fastHTTPDate(v); ok {
			return t, true
		}
	}
	v = strings.TrimSuffix(v, " UTC")
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			// Python's datetime, and so IntelMQ, knows years 1 to 9999.
			if t = t.UTC(); t.Year() < 1 || t.Year() > 9999 {
				return time.Time{}, false
			}
			return t, true
		}
	}
	return time.Time{}, false
}

var timeLayouts = []string{
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999-0700",
	"2006-01-02T15:04:05.999999999-0700",
	time.RFC1123,
	time.RFC1123Z,
	time.RFC850,
	time.ANSIC,
	"2006-01-02",
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// fastHTTPDate parses an HTTP date, "Sun, 01 Mar 2026 00:00:11 GMT",
// without allocating (the weekday is not checked).
func fastHTTPDate(v string) (time.Time, bool) {
	if v[4] != ' ' || v[7] != ' ' || v[11] != ' ' || v[16] != ' ' || v[25] != ' ' || (v[26:] != "GMT" && v[26:] != "UTC") {
		return time.Time{}, false
	}
	mo := -1
	for i, m := range months {
		if v[8:11] == m {
			mo = i + 1
		}
	}
	if mo < 0 {
		return time.Time{}, false
	}
	// Rewrite as "YYYY-MM-DD hh:mm:ss" on the stack and read that.
	var b [19]byte
	copy(b[0:4], v[12:16])
	b[4], b[5], b[6], b[7] = '-', byte('0'+mo/10), byte('0'+mo%10), '-'
	copy(b[8:10], v[5:7])
	b[10] = ' '
	copy(b[11:19], v[17:25])
	return fastTime(string(b[:]))
}

// fastTime parses "YYYY-MM-DD hh:mm:ss" as UTC.
func fastTime(v string) (time.Time, bool) {
	num := func(s string) int {
		n := 0
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	if v[4] != '-' || v[7] != '-' || v[13] != ':' || v[16] != ':' {
		return time.Time{}, false
	}
	y, mo, d, h, mi, s := num(v[0:4]), num(v[5:7]), num(v[8:10]), num(v[11:13]), num(v[14:16]), num(v[17:19])
	if y < 1 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, s, 0, time.UTC)
	if t.Day() != d { // 31 February
		return time.Time{}, false
	}
	return t, true
}

// formatTime writes a time as IntelMQ does (feeds.AppendTime).
func formatTime(t time.Time) string {
	return string(feeds.AppendTime(make([]byte, 0, 32), t))
}
