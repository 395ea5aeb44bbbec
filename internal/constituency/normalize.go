package constituency

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// The shortest prefixes a claim may have: no constituent owns a /7.
const (
	MinPrefixLen4 = 8
	MinPrefixLen6 = 19
)

// NormalizePrefix parses a CIDR prefix, or a bare address meaning /32 or
// /128. It rejects prefixes with host bits set (192.0.2.1/24), IPv4-mapped
// IPv6 forms, zones, and prefixes shorter than MinPrefixLen4 or
// MinPrefixLen6.
func NormalizePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Prefix{}, errors.New("empty prefix")
	}
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a valid CIDR prefix such as 192.0.2.0/24 or 2001:db8::/32", s)
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q is not a valid IP address or CIDR prefix", s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	a := p.Addr()
	if a.Is4In6() {
		if p.Bits() >= 96 {
			v4 := netip.PrefixFrom(a.Unmap(), p.Bits()-96).Masked()
			return netip.Prefix{}, fmt.Errorf("%q is an IPv4-mapped IPv6 prefix; claim %s instead", s, v4)
		}
		return netip.Prefix{}, fmt.Errorf("%q is an IPv4-mapped IPv6 prefix; claim the IPv4 prefix instead", s)
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, fmt.Errorf("%q has host bits set; did you mean %s?", s, m)
	}
	if shortest := minPrefixLen(a); p.Bits() < shortest {
		return netip.Prefix{}, fmt.Errorf("%q is shorter than /%d, the shortest %s prefix that can be claimed", s, shortest, family(a))
	}
	return p, nil
}

func minPrefixLen(a netip.Addr) int {
	if a.Is4() {
		return MinPrefixLen4
	}
	return MinPrefixLen6
}

func family(a netip.Addr) string {
	if a.Is4() {
		return "IPv4"
	}
	return "IPv6"
}

// NormalizeASN parses an AS number in asplain form: "AS64500", "as64500"
// or "64500". It rejects 0, 23456 (AS_TRANS) and numbers above 4294967295.
func NormalizeASN(s string) (uint32, error) {
	t := strings.TrimSpace(s)
	if len(t) >= 2 && strings.EqualFold(t[:2], "AS") {
		t = t[2:]
	}
	if t == "" {
		return 0, fmt.Errorf("%q is not an AS number such as AS64500", s)
	}
	if hi, lo, ok := strings.Cut(t, "."); ok {
		h, err1 := strconv.ParseUint(hi, 10, 16)
		l, err2 := strconv.ParseUint(lo, 10, 16)
		if err1 == nil && err2 == nil {
			return 0, fmt.Errorf("%q is in asdot notation; give it as AS%d", s, h<<16|l)
		}
	}
	for i := range len(t) {
		if t[i] < '0' || t[i] > '9' {
			return 0, fmt.Errorf("%q is not an AS number such as AS64500", s)
		}
	}
	n, err := strconv.ParseUint(t, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%q is out of range: AS numbers go up to 4294967295", s)
	}
	switch n {
	case 0:
		return 0, fmt.Errorf("%q is reserved and cannot be claimed", s)
	case 23456:
		return 0, fmt.Errorf("%q is AS_TRANS, a placeholder for 4-byte AS numbers, and cannot be claimed", s)
	}
	return uint32(n), nil
}

// NormalizeDomain lower-cases a domain name and removes a trailing dot. The
// name needs at least two labels, each of 1 to 63 letters, digits or
// hyphens, not starting or ending with a hyphen, and at most 253 characters
// in all. IDNA labels are accepted in their ASCII ("xn--") form as given.
// Wildcards, IP addresses, URLs and e-mail addresses are rejected: a claim
// on example.be already covers all its subdomains.
func NormalizeDomain(s string) (string, error) {
	t := strings.TrimSpace(s)
	switch {
	case t == "":
		return "", errors.New("empty domain name")
	case strings.Contains(t, "://") || strings.Contains(t, "/"):
		if u, err := url.Parse(t); err == nil && u.Hostname() != "" {
			return "", fmt.Errorf("%q is a URL; claim the domain name instead, such as %q", s, strings.ToLower(u.Hostname()))
		}
		return "", fmt.Errorf("%q is a URL or path, not a domain name", s)
	case strings.Contains(t, "@"):
		return "", fmt.Errorf("%q is an e-mail address; claim the domain after the @ instead", s)
	case strings.Contains(t, "*"):
		return "", fmt.Errorf("%q has a wildcard; claim the domain itself, which covers all its subdomains", s)
	}
	if _, err := netip.ParseAddr(strings.Trim(t, "[]")); err == nil {
		return "", fmt.Errorf("%q is an IP address; claim it as a prefix", s)
	}
	for i := range len(t) {
		if t[i] >= 0x80 {
			return "", fmt.Errorf("%q has non-ASCII characters; give internationalised labels in their xn-- form", s)
		}
	}
	t = strings.ToLower(strings.TrimSuffix(t, "."))
	if len(t) > 253 {
		return "", fmt.Errorf("%q is longer than 253 characters", s)
	}
	labels, last := 0, ""
	for l := range strings.SplitSeq(t, ".") {
		if err := checkLabel(l); err != nil {
			return "", fmt.Errorf("%q: %w", s, err)
		}
		labels, last = labels+1, l
	}
	if labels < 2 {
		return "", fmt.Errorf("%q has a single label; give a full domain name such as example.be", s)
	}
	if isNumeric(last) {
		return "", fmt.Errorf("%q ends in a numeric label, which no top-level domain has", s)
	}
	return t, nil
}

func checkLabel(l string) error {
	switch {
	case l == "":
		return errors.New("empty label")
	case len(l) > 63:
		return fmt.Errorf("label %q is longer than 63 characters", l)
	case l[0] == '-' || l[len(l)-1] == '-':
		return fmt.Errorf("label %q starts or ends with a hyphen", l)
	}
	for i := range len(l) {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("label %q has the character %q; only letters, digits and hyphens are allowed", l, c)
		}
	}
	return nil
}

func isNumeric(l string) bool {
	for i := range len(l) {
		if l[i] < '0' || l[i] > '9' {
			return false
		}
	}
	return true
}
