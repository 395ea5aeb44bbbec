package formats

// Values checked and normalised as IntelMQ's harmonisation does for the
// keys these formats fill, and the TLP labels.

import (
	"encoding/hex"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/belfry-cert/belfry/internal/feeds"
)

// taxonomies are IntelMQ's classification.taxonomy values (RSIT).
var taxonomies = []string{"abusive-content", "availability", "fraud", "information-content-security",
	"information-gathering", "intrusion-attempts", "intrusions", "malicious-code", "other", "test", "vulnerable"}

func validTaxonomy(s string) bool { return slices.Contains(taxonomies, s) }

// kind is how a key's value is checked.
type kind uint8

const (
	kText kind = iota
	kLower
	kIP
	kNetwork
	kPort
	kASN
	kFQDN
	kURL
	kCC
	kTime
	kTaxonomy
	kMD5
	kSHA1
	kSHA256
	kTLP
)

// keys are the IntelMQ keys a mapping may name (extra.* besides).
var keys = map[string]kind{
	"time.source":                kTime,
	"feed.name":                  kText,
	"severity":                   kLower,
	"classification.taxonomy":    kTaxonomy,
	"classification.type":        kLower,
	"classification.identifier":  kText,
	"source.ip":                  kIP,
	"source.port":                kPort,
	"source.asn":                 kASN,
	"source.fqdn":                kFQDN,
	"source.network":             kNetwork,
	"source.url":                 kURL,
	"source.account":             kText,
	"source.as_name":             kText,
	"source.reverse_dns":         kFQDN,
	"source.geolocation.cc":      kCC,
	"source.geolocation.city":    kText,
	"destination.ip":             kIP,
	"destination.port":           kPort,
	"destination.asn":            kASN,
	"destination.fqdn":           kFQDN,
	"destination.network":        kNetwork,
	"destination.url":            kURL,
	"destination.account":        kText,
	"destination.as_name":        kText,
	"destination.reverse_dns":    kFQDN,
	"destination.geolocation.cc": kCC,
	"protocol.transport":         kLower,
	"protocol.application":       kLower,
	"malware.name":               kLower,
	"malware.hash.md5":           kMD5,
	"malware.hash.sha1":          kSHA1,
	"malware.hash.sha256":        kSHA256,
	"comment":                    kText,
	"event_description.text":     kText,
	"event_description.url":      kURL,
	"misp.event_uuid":            kText,
	"misp.attribute_uuid":        kText,
	"tlp":                        kTLP,
}

// knownKey reports whether a mapping may name key.
func knownKey(key string) bool {
	if strings.HasPrefix(key, "extra.") {
		return len(key) > len("extra.")
	}
	_, ok := keys[key]
	return ok
}

// set puts text under key in ev, checked and normalised; false when the
// harmonisation rejects it. Empty text, "-" and "N/A" are nothing (true,
// nothing set). Typed keys go to the typed members; a URL also gives the
// source or destination host when that is not set yet.
func set(ev *feeds.Event, key, text string, timeLayout string) bool {
	text = strings.TrimSpace(text)
	switch text {
	case "", "-", "N/A":
		return true
	}
	if strings.HasPrefix(key, "extra.") {
		ev.Fields = append(ev.Fields, feeds.Field{Key: key, Value: text})
		return true
	}
	k, ok := keys[key]
	if !ok {
		return false
	}
	var v any = text
	switch k {
	case kLower:
		v = strings.ToLower(text)
	case kTaxonomy:
		t := strings.ToLower(text)
		if !validTaxonomy(t) {
			return false
		}
		v = t
	case kIP:
		a, ok := parseIP(text)
		if !ok {
			return false
		}
		v = a
	case kNetwork:
		p, ok := parsePrefix(text)
		if !ok {
			return false
		}
		v = p.String()
	case kPort:
		n, err := strconv.ParseUint(text, 10, 16)
		if err != nil {
			return false
		}
		v = int64(n)
	case kASN:
		n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToUpper(text), "AS"), 10, 32)
		if err != nil || n < 1 || n > 4294967294 {
			return false
		}
		v = int64(n)
	case kFQDN:
		s, ok := normFQDN(text)
		if !ok {
			return false
		}
		v = s
	case kURL:
		if _, ok := urlHost(text); !ok {
			return false
		}
	case kCC:
		if len(text) != 2 {
			return false
		}
		v = strings.ToUpper(text)
	case kTime:
		t, ok := parseTime(text, timeLayout)
		if !ok {
			return false
		}
		v = t
	case kMD5, kSHA1, kSHA256:
		n := map[kind]int{kMD5: 16, kSHA1: 20, kSHA256: 32}[k]
		b, err := hex.DecodeString(text)
		if err != nil || len(b) != n {
			return false
		}
		v = strings.ToLower(text)
	case kTLP:
		l, ok := tlpLabel(text)
		if !ok {
			return false
		}
		v = l
	}
	put(ev, key, v)
	return true
}

// put stores a checked value: typed keys in the members, others as a
// field.
func put(ev *feeds.Event, key string, v any) {
	switch key {
	case "time.source":
		ev.Time = v.(time.Time)
	case "feed.name":
		ev.FeedName = v.(string)
	case "severity":
		ev.Severity = v.(string)
	case "classification.taxonomy":
		ev.Taxonomy = v.(string)
	case "classification.type":
		ev.Type = v.(string)
	case "classification.identifier":
		ev.Identifier = v.(string)
	case "source.ip":
		ev.SrcIP = v.(netip.Addr)
	case "source.port":
		ev.SrcPort = uint16(v.(int64))
	case "source.asn":
		ev.SrcASN = uint32(v.(int64))
	case "source.fqdn":
		ev.SrcFQDN = v.(string)
	case "destination.ip":
		ev.DstIP = v.(netip.Addr)
	case "destination.port":
		ev.DstPort = uint16(v.(int64))
	case "destination.asn":
		ev.DstASN = uint32(v.(int64))
	case "destination.fqdn":
		ev.DstFQDN = v.(string)
	default:
		ev.Fields = append(ev.Fields, feeds.Field{Key: key, Value: v})
		if key == "source.url" || key == "destination.url" {
			hostFromURL(ev, key == "source.url", v.(string))
		}
	}
}

// hostFromURL sets the source (or destination) host from a URL when the
// event has none, so that the event can be matched.
func hostFromURL(ev *feeds.Event, source bool, u string) {
	host, _ := urlHost(u)
	ip, fqdn := &ev.SrcIP, &ev.SrcFQDN
	if !source {
		ip, fqdn = &ev.DstIP, &ev.DstFQDN
	}
	if ip.IsValid() || *fqdn != "" {
		return
	}
	if a, ok := parseIP(host); ok {
		*ip = a
	} else if f, ok := normFQDN(host); ok {
		*fqdn = f
	}
}

// parseIP reads an address without a zone; IPv4-mapped IPv6 becomes IPv4
// as in the Shadowserver parser.
func parseIP(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// parsePrefix reads a network, host bits cleared.
func parsePrefix(s string) (netip.Prefix, bool) {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil {
		return netip.Prefix{}, false
	}
	return p.Masked(), true
}

// normFQDN lower-cases a host name without its final dot and checks it:
// at least two labels of 1 to 63 letters, digits, '-' or '_', 253
// characters at most, not an IP address.
func normFQDN(s string) (string, bool) {
	s = strings.TrimSuffix(strings.TrimSpace(s), ".")
	if s == "" || len(s) > 253 {
		return "", false
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return "", false
	}
	s = strings.ToLower(s)
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return "", false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return "", false
		}
		for _, r := range l {
			if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_') {
				return "", false
			}
		}
	}
	return s, true
}

// urlHost checks a URL as IntelMQ's URL type does in practice (a scheme,
// a host, no spaces) and returns its host.
func urlHost(s string) (string, bool) {
	if strings.ContainsAny(s, " \t\r\n") {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Hostname() == "" {
		return "", false
	}
	return u.Hostname(), true
}

// parseTime reads a time: layout "" or "rfc3339" takes RFC 3339 and the
// usual ISO forms (a time without a zone is UTC); "unix" and "unix_ms"
// take seconds or milliseconds since 1970; any other layout is Go's
// (reference time 2006-01-02 15:04:05), read as UTC without a zone.
func parseTime(s, layout string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	switch layout {
	case "unix", "unix_ms":
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		if layout == "unix_ms" {
			return time.UnixMilli(n).UTC(), true
		}
		return time.Unix(n, 0).UTC(), true
	case "", "rfc3339":
		for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00",
			"2006-01-02 15:04:05.999999999", "2006-01-02"} {
			if t, err := time.Parse(l, s); err == nil {
				return t.UTC(), true
			}
		}
		return time.Time{}, false
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// TLP 2.0 labels, from the least to the most restricted.
var tlpLevels = []string{"TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"}

// tlpRed is the label that withholds an item.
const tlpRed = "TLP:RED"

// tlpLabel reads a TLP label in any case, with or without the "tlp:"
// prefix (MISP's machine tag tlp:amber); TLP 1.0's WHITE is TLP 2.0's
// CLEAR.
func tlpLabel(s string) (string, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "TLP:")
	if s == "WHITE" {
		s = "CLEAR"
	}
	l := "TLP:" + s
	return l, slices.Contains(tlpLevels, l)
}

// stricterTLP returns the more restricted of two labels ("" is none).
func stricterTLP(a, b string) string {
	if slices.Index(tlpLevels, b) > slices.Index(tlpLevels, a) {
		return b
	}
	return a
}

// refang undoes the usual defanging of indicators in lists and reports:
// hxxp(s):// and [.] (also (.) and [dot]).
func refang(s string) string {
	lower := strings.ToLower(s)
	if strings.HasPrefix(lower, "hxxp://") || strings.HasPrefix(lower, "hxxps://") {
		s = "http" + s[4:]
	}
	if strings.ContainsAny(s, "[(") {
		s = strings.NewReplacer("[.]", ".", "(.)", ".", "[dot]", ".", "[:]", ":").Replace(s)
	}
	return s
}
