package constituency_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/belfry-cert/belfry/internal/constituency"
)

func TestNormalizePrefix(t *testing.T) {
	t.Parallel()
	good := []struct{ in, want string }{
		{"192.0.2.0/24", "192.0.2.0/24"},
		{" 192.0.2.0/24 ", "192.0.2.0/24"},
		{"192.0.2.1", "192.0.2.1/32"},
		{"192.0.2.1/32", "192.0.2.1/32"},
		{"10.0.0.0/8", "10.0.0.0/8"},
		{"2001:db8::/32", "2001:db8::/32"},
		{"2001:DB8:0::/48", "2001:db8::/48"},
		{"2001:db8::1", "2001:db8::1/128"},
		{"2000::/19", "2000::/19"},
	}
	for _, tt := range good {
		got, err := constituency.NormalizePrefix(tt.in)
		if err != nil || got.String() != tt.want {
			t.Errorf("NormalizePrefix(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	bad := []struct{ in, msg string }{
		{"", "empty"},
		{"192.0.2.1/24", "did you mean 192.0.2.0/24"},
		{"2001:db8::1/32", "did you mean 2001:db8::/32"},
		{"10.0.0.0/7", "shorter than /8"},
		{"0.0.0.0/0", "shorter than /8"},
		{"2000::/18", "shorter than /19"},
		{"::/0", "shorter than /19"},
		{"::ffff:192.0.2.0/120", "claim 192.0.2.0/24 instead"},
		{"::ffff:192.0.2.1", "claim 192.0.2.1/32 instead"},
		{"::ffff:0:0/95", "IPv4-mapped"},
		{"192.0.2.0/33", "not a valid CIDR"},
		{"192.0.2/24", "not a valid CIDR"},
		{"fe80::1%eth0", "not a valid IP"},
		{"example.be", "not a valid IP"},
		{"192.0.2.0-192.0.2.255", "not a valid IP"},
	}
	for _, tt := range bad {
		got, err := constituency.NormalizePrefix(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("NormalizePrefix(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.msg)
		}
	}
}

func TestNormalizeASN(t *testing.T) {
	t.Parallel()
	good := []struct {
		in   string
		want uint32
	}{
		{"64500", 64500},
		{"AS64500", 64500},
		{"as64500", 64500},
		{"As64500", 64500},
		{" AS1 ", 1},
		{"23455", 23455},
		{"4200000000", 4200000000},
		{"AS4294967295", 4294967295},
	}
	for _, tt := range good {
		got, err := constituency.NormalizeASN(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeASN(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	bad := []struct{ in, msg string }{
		{"", "not an AS number"},
		{"AS", "not an AS number"},
		{"0", "reserved"},
		{"AS0", "reserved"},
		{"23456", "AS_TRANS"},
		{"AS4294967296", "out of range"},
		{"99999999999999999999999", "out of range"},
		{"-1", "not an AS number"},
		{"+64500", "not an AS number"},
		{"AS 64500", "not an AS number"},
		{"ASN64500", "not an AS number"},
		{"1.10", "give it as AS65546"},
		{"example.be", "not an AS number"},
	}
	for _, tt := range bad {
		got, err := constituency.NormalizeASN(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), tt.in) {
			t.Errorf("NormalizeASN(%q) = %d, %v; want error naming the value and containing %q", tt.in, got, err, tt.msg)
		}
	}
}

func TestNormalizeDomain(t *testing.T) {
	t.Parallel()
	long63 := strings.Repeat("a", 63)
	good := []struct{ in, want string }{
		{"example.be", "example.be"},
		{"Example.BE.", "example.be"},
		{" www.example.be ", "www.example.be"},
		{"xn--bcher-kva.be", "xn--bcher-kva.be"},
		{"a-b.c-d.be", "a-b.c-d.be"},
		{"123.example.be", "123.example.be"},
		{long63 + ".be", long63 + ".be"},
		{strings.Repeat("a.", 125) + "be", strings.Repeat("a.", 125) + "be"}, // 252 characters
	}
	for _, tt := range good {
		got, err := constituency.NormalizeDomain(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeDomain(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	bad := []struct{ in, msg string }{
		{"", "empty"},
		{"be", "single label"},
		{"be.", "single label"},
		{"*.example.be", "wildcard"},
		{"192.0.2.1", "IP address"},
		{"2001:db8::1", "IP address"},
		{"[2001:db8::1]", "IP address"},
		{"https://www.example.be/path", `such as "www.example.be"`},
		{"www.example.be/path", "URL"},
		{"abuse@example.be", "e-mail"},
		{"bücher.be", "non-ASCII"},
		{"example..be", "empty label"},
		{".example.be", "empty label"},
		{"example.be..", "empty label"},
		{"-example.be", "hyphen"},
		{"example-.be", "hyphen"},
		{"ex_ample.be", "character '_'"},
		{"ex ample.be", "character ' '"},
		{long63 + "a.be", "longer than 63"},
		{strings.Repeat("a.", 126) + "be", "longer than 253"},
		{"example.123", "numeric label"},
	}
	for _, tt := range bad {
		got, err := constituency.NormalizeDomain(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("NormalizeDomain(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.msg)
		}
	}
}

func TestBuildRejectsBadClaims(t *testing.T) {
	t.Parallel()
	tests := []struct {
		claim constituency.Claim
		msg   string
	}{
		{constituency.Claim{ID: 7, OrgID: 1, Kind: constituency.KindPrefix, Value: "192.0.2.1/24"}, "claim 7"},
		{constituency.Claim{ID: 8, OrgID: 1, Kind: constituency.KindASN, Value: "AS0"}, "claim 8"},
		{constituency.Claim{ID: 9, OrgID: 1, Kind: constituency.KindDomain, Value: "*.example.be"}, "claim 9"},
		{constituency.Claim{ID: 10, OrgID: 1, Kind: "url", Value: "https://example.be"}, `unknown claim kind "url"`},
	}
	for _, tt := range tests {
		claims := []constituency.Claim{{ID: 1, OrgID: 1, Kind: constituency.KindDomain, Value: "example.be"}, tt.claim}
		s, err := constituency.Build(claims)
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("Build(%+v) = %v, %v; want error containing %q", tt.claim, s, err, tt.msg)
		}
	}
}

func mustPrefix(t testing.TB, s string) netip.Prefix {
	t.Helper()
	p, err := constituency.NormalizePrefix(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
