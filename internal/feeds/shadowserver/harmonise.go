package shadowserver

import (
	"strconv"
	"strings"
)

// hkind is how IntelMQ's harmonisation checks and normalises the value
// of a key (harmonization.conf types), as far as Shadowserver's keys
// need it.
type hkind uint8

const (
	hString  hkind = iota
	hLower         // LowercaseString
	hCC            // UppercaseString of length 2
	hIP            // IPAddress
	hNetwork       // IPNetwork
	hPort          // Integer, 0–65535
	hASN           // ASN, 1–4294967294
	hInt           // Integer
	hFloat         // Float
	hBool          // Boolean
	hFQDN          // FQDN
	hURL           // URL
	hTime          // DateTime
)

// keyKind returns the harmonisation type of a key outside extra.
func keyKind(key string) hkind {
	last := key[strings.LastIndexByte(key, '.')+1:]
	switch {
	case last == "ip" || last == "local_ip":
		return hIP
	case last == "network":
		return hNetwork
	case last == "port":
		return hPort
	case last == "asn":
		return hASN
	case last == "fqdn" || last == "reverse_dns":
		return hFQDN
	case strings.HasSuffix(key, "geolocation.cc"), strings.HasSuffix(key, "_cc"):
		return hCC
	case last == "url" || key == "screenshot_url":
		return hURL
	case strings.HasPrefix(key, "time.") || last == "allocated":
		return hTime
	case last == "latitude" || last == "longitude":
		return hFloat
	case last == "tor_node":
		return hBool
	case key == "rtir_id":
		return hInt
	case key == "classification.taxonomy", key == "severity", key == "malware.name",
		strings.HasPrefix(key, "protocol."), last == "abuse_contact", key == "product.vulnerabilities":
		return hLower
	}
	return hString
}

// harmonise checks and normalises a converted value for a key outside
// extra, as IntelMQ's Event.add does. It returns false when IntelMQ would
// reject the value (InvalidValue). Empty text, "-" and "N/A" are nothing
// (IntelMQ ignores them), reported as a kNone value with true.
func harmonise(hk hkind, v value) (value, bool) {
	if v.k == kString {
		switch v.s {
		case "", "-", "N/A":
			return value{}, true
		}
	}
	switch hk {
	case hString:
		switch v.k {
		case kInt:
			return str(strconv.FormatInt(v.i, 10)), true
		case kFloat:
			return str(strconv.FormatFloat(v.float(), 'g', -1, 64)), true
		case kBool:
			return str(strconv.FormatBool(v.bool())), true
		case kTime:
			return str(formatTime(v.time())), true
		}
		return v, true
	case hLower:
		if v.k != kString {
			return value{}, false
		}
		return str(lower(v.s)), true
	case hCC:
		if v.k != kString || len(v.s) != 2 || !alnum(v.s[0]) || !alnum(v.s[1]) {
			return value{}, false
		}
		return str(strings.ToUpper(v.s)), true
	case hIP:
		if v.k != kString {
			return value{}, false
		}
		a, ok := parseIP(v.s)
		if !ok {
			return value{}, false
		}
		return str(a.String()), true
	case hNetwork:
		if v.k != kString {
			return value{}, false
		}
		p, ok := parsePrefix(v.s)
		if !ok {
			return value{}, false
		}
		return str(p.String()), true
	case hPort, hASN, hInt:
		n := v.i
		switch v.k {
		case kInt:
		case kString:
			var err error
			if n, err = parseInt(v.s); err != nil {
				return value{}, false
			}
		default:
			return value{}, false
		}
		switch {
		case hk == hPort && (n < 0 || n > 65535), hk == hASN && (n < 1 || n > 4294967294):
			return value{}, false
		}
		return value{k: kInt, i: n}, true
	case hFloat:
		switch v.k {
		case kFloat:
			return v, true
		case kInt:
			return floatVal(float64(v.i)), true
		case kString:
			f, err := strconv.ParseFloat(strings.TrimSpace(v.s), 64)
			if err != nil {
				return value{}, false
			}
			return floatVal(f), true
		}
		return value{}, false
	case hBool:
		if v.k == kBool {
			return v, true
		}
		if v.k == kString {
			return convertBoolStrict(v.s)
		}
		return value{}, false
	case hFQDN:
		if v.k != kString {
			return value{}, false
		}
		s, ok := normFQDN(v.s)
		if !ok {
			return value{}, false
		}
		return str(s), true
	case hURL:
		if v.k != kString || !validURL(v.s) {
			return value{}, false
		}
		return str(strings.TrimSpace(v.s)), true
	case hTime:
		switch v.k {
		case kTime:
			return v, true
		case kString:
			t, ok := parseTime(v.s, true)
			if !ok {
				return value{}, false
			}
			return timeVal(t), true
		}
		return value{}, false
	}
	return v, true
}

func convertBoolStrict(s string) (value, bool) {
	v, _ := convertBool(s, nil)
	return v, v.k == kBool
}

// validURL accepts scheme://host… without spaces, as IntelMQ's URL type
// (urlparse with a network location) does in practice.
func validURL(s string) bool {
	s = strings.TrimSpace(s)
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || scheme == "" || rest == "" || rest[0] == '/' || strings.ContainsAny(s, " \t\r\n") {
		return false
	}
	for i := 0; i < len(scheme); i++ {
		c := scheme[i]
		if !(alnum(c) || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func alnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// lower is strings.ToLower without an allocation for text already in
// lower case.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' || c >= 0x80 {
			return strings.ToLower(s)
		}
	}
	return s
}
