package constituency

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// LookupIP returns the owners of the longest claimed prefix containing a.
// IPv4-mapped IPv6 addresses are looked up as IPv4; zones are ignored.
func (s *Snapshot) LookupIP(a netip.Addr) Match {
	var v int32
	switch {
	case a.Is4():
		b := a.As4()
		v = s.v4.lookup(binary.BigEndian.Uint32(b[:]))
	case a.Is4In6():
		b := a.Unmap().As4()
		v = s.v4.lookup(binary.BigEndian.Uint32(b[:]))
	case a.Is6():
		b := a.As16()
		v = s.v6.lookup(binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:]))
	default:
		return Match{}
	}
	if v < 0 {
		return Match{}
	}
	return s.matches[v]
}

// LookupASN returns the owners of an AS number.
func (s *Snapshot) LookupASN(asn uint32) Match {
	if v, ok := s.asns[asn]; ok {
		return s.matches[v]
	}
	return Match{}
}

// LookupDomain returns the owners of the longest claimed domain that is
// name or a parent of it: a claim on sub.example.be beats one on
// example.be. The name is lower-cased and a trailing dot removed. Lookups
// are more lenient than claims: labels may also hold underscores or start
// or end with a hyphen, as names seen in the wild do. A name that is not
// a domain name matches nothing.
func (s *Snapshot) LookupDomain(name string) Match {
	var buf [maxName]byte
	n, ok := lowerName(&buf, name)
	if !ok {
		return Match{}
	}
	d := buf[:n]
	// Walk from the top-level domain down: "be", "example.be",
	// "www.example.be", keeping the longest claimed name seen.
	best := int32(-1)
	for end := len(d); ; {
		dot := lastDot(d[:end])
		node, ok := s.domains[string(d[dot+1:])]
		if !ok {
			break
		}
		if node.match >= 0 {
			best = node.match
		}
		if !node.parent || dot < 0 {
			break
		}
		end = dot
	}
	if best < 0 {
		return Match{}
	}
	return s.matches[best]
}

const maxName = 253

func lastDot(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '.' {
			return i
		}
	}
	return -1
}

// lowerName copies name into buf in lower case without a trailing dot and
// reports whether it is a plausible domain name for a lookup.
func lowerName(buf *[maxName]byte, name string) (int, bool) {
	name = strings.TrimSuffix(name, ".")
	if len(name) == 0 || len(name) > maxName {
		return 0, false
	}
	label := 0
	for i := range len(name) {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
			label++
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
			label++
		case c == '.':
			if label == 0 {
				return 0, false
			}
			label = 0
		default:
			return 0, false
		}
		if label > 63 {
			return 0, false
		}
		buf[i] = c
	}
	return len(name), label > 0
}

// Lookup detects what q is and looks it up: an IP address ("192.0.2.10",
// "2001:db8::1"), an AS number ("AS64500" or "64500"), a domain name, or a
// URL or e-mail address, whose host or domain is looked up. The Kind says
// which kind of claim was searched. A q that is none of these is an error;
// a q that is valid but unclaimed returns the zero Match and no error.
func (s *Snapshot) Lookup(q string) (Match, Kind, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return Match{}, "", errors.New("empty query")
	}
	if isASNQuery(q) {
		n, err := NormalizeASN(q)
		if err != nil {
			return Match{}, KindASN, err
		}
		return s.LookupASN(n), KindASN, nil
	}
	if a, err := netip.ParseAddr(strings.Trim(q, "[]")); err == nil {
		return s.LookupIP(a), KindPrefix, nil
	}
	if _, err := netip.ParsePrefix(q); err == nil {
		return Match{}, KindPrefix, fmt.Errorf("%q is a prefix; look up an address in it", q)
	}
	host, err := hostOf(q)
	if err != nil {
		return Match{}, "", err
	}
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return s.LookupIP(a), KindPrefix, nil
	}
	if strings.ContainsFunc(host, func(r rune) bool { return r >= 0x80 }) {
		return Match{}, "", fmt.Errorf("%q has non-ASCII characters; give internationalised names in their xn-- form", q)
	}
	var buf [maxName]byte
	if n, ok := lowerName(&buf, host); !ok || lastDot(buf[:n]) < 0 {
		return Match{}, "", fmt.Errorf("%q is not an IP address, AS number, domain name, URL or e-mail address", q)
	}
	return s.LookupDomain(host), KindDomain, nil
}

func isASNQuery(q string) bool {
	if len(q) > 2 && strings.EqualFold(q[:2], "AS") {
		q = q[2:]
	}
	return isNumeric(q)
}

// hostOf returns the host of a URL, the domain of an e-mail address, or q
// itself.
func hostOf(q string) (string, error) {
	raw := q
	switch {
	case strings.Contains(q, "://"):
	case strings.Contains(q, "@"):
		return q[strings.LastIndexByte(q, '@')+1:], nil
	case strings.ContainsAny(q, "/:?#"):
		q = "http://" + q
	default:
		return q, nil
	}
	u, err := url.Parse(q)
	if err != nil || u.Hostname() == "" {
		return "", fmt.Errorf("%q is not a URL with a host", raw)
	}
	return u.Hostname(), nil
}
