package constituency_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/belfry-cert/belfry/internal/constituency"
)

// Organisations in the fixtures.
const (
	provider = 100
	customer = 200
	other    = 300
)

func fixture(t testing.TB) *constituency.Snapshot {
	t.Helper()
	claims := []constituency.Claim{
		{ID: 1, OrgID: provider, Kind: constituency.KindPrefix, Value: "198.51.100.0/22"},
		{ID: 2, OrgID: customer, Kind: constituency.KindPrefix, Value: "198.51.100.128/25"},
		{ID: 3, OrgID: customer, Kind: constituency.KindPrefix, Value: "198.51.100.200"},
		{ID: 4, OrgID: provider, Kind: constituency.KindPrefix, Value: "2001:db8::/32"},
		{ID: 5, OrgID: customer, Kind: constituency.KindPrefix, Value: "2001:db8:1::/48"},
		{ID: 6, OrgID: provider, Kind: constituency.KindPrefix, Value: "192.0.2.0/24"}, // tie with 7
		{ID: 7, OrgID: other, Kind: constituency.KindPrefix, Value: "192.0.2.0/24"},
		{ID: 8, OrgID: provider, Kind: constituency.KindASN, Value: "AS64500"},
		{ID: 9, OrgID: customer, Kind: constituency.KindASN, Value: "64501"},
		{ID: 10, OrgID: other, Kind: constituency.KindASN, Value: "as64501"}, // tie with 9
		{ID: 11, OrgID: provider, Kind: constituency.KindDomain, Value: "example.be"},
		{ID: 12, OrgID: customer, Kind: constituency.KindDomain, Value: "Shop.Example.BE."},
		{ID: 13, OrgID: other, Kind: constituency.KindDomain, Value: "tie.be"},
		{ID: 14, OrgID: customer, Kind: constituency.KindDomain, Value: "tie.be"},
		{ID: 15, OrgID: customer, Kind: constituency.KindDomain, Value: "TIE.be"}, // same org again: no conflict
		{ID: 16, OrgID: provider, Kind: constituency.KindPrefix, Value: "0.0.0.0/8"},
		{ID: 17, OrgID: other, Kind: constituency.KindPrefix, Value: "255.255.255.255"},
		{ID: 18, OrgID: other, Kind: constituency.KindPrefix, Value: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
		{ID: 19, OrgID: other, Kind: constituency.KindDomain, Value: "deep.sub.example.org"}, // no claim on its parents
	}
	s, err := constituency.Build(claims)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type want struct {
	value  string
	orgs   []int64
	claims []int64
}

func check(t *testing.T, call string, got constituency.Match, w want) {
	t.Helper()
	if got.Value != w.value || !slices.Equal(got.Orgs, w.orgs) || !slices.Equal(got.Claims, w.claims) || got.Found() != (w.orgs != nil) {
		t.Errorf("%s = {%q %v %v}; want {%q %v %v}", call, got.Value, got.Orgs, got.Claims, w.value, w.orgs, w.claims)
	}
}

func TestLookupIP(t *testing.T) {
	t.Parallel()
	s := fixture(t)
	tests := []struct {
		addr string
		want want
	}{
		{"198.51.100.0", want{"198.51.100.0/22", []int64{provider}, []int64{1}}},
		{"198.51.100.127", want{"198.51.100.0/22", []int64{provider}, []int64{1}}},
		{"198.51.100.128", want{"198.51.100.128/25", []int64{customer}, []int64{2}}},
		{"198.51.100.199", want{"198.51.100.128/25", []int64{customer}, []int64{2}}},
		{"198.51.100.200", want{"198.51.100.200/32", []int64{customer}, []int64{3}}},
		{"198.51.100.201", want{"198.51.100.128/25", []int64{customer}, []int64{2}}},
		{"198.51.100.255", want{"198.51.100.128/25", []int64{customer}, []int64{2}}},
		{"198.51.101.0", want{"198.51.100.0/22", []int64{provider}, []int64{1}}},
		{"198.51.103.255", want{"198.51.100.0/22", []int64{provider}, []int64{1}}},
		{"198.51.104.0", want{}},
		{"198.51.99.255", want{}},
		{"::ffff:198.51.100.130", want{"198.51.100.128/25", []int64{customer}, []int64{2}}},
		{"192.0.2.77", want{"192.0.2.0/24", []int64{provider, other}, []int64{6, 7}}},
		{"0.0.0.0", want{"0.0.0.0/8", []int64{provider}, []int64{16}}},
		{"0.255.255.255", want{"0.0.0.0/8", []int64{provider}, []int64{16}}},
		{"255.255.255.255", want{"255.255.255.255/32", []int64{other}, []int64{17}}},
		{"255.255.255.254", want{}},
		{"2001:db8::1", want{"2001:db8::/32", []int64{provider}, []int64{4}}},
		{"2001:db8:1::1", want{"2001:db8:1::/48", []int64{customer}, []int64{5}}},
		{"2001:db8:1:ffff:ffff:ffff:ffff:ffff", want{"2001:db8:1::/48", []int64{customer}, []int64{5}}},
		{"2001:db8:2::", want{"2001:db8::/32", []int64{provider}, []int64{4}}},
		{"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", want{"2001:db8::/32", []int64{provider}, []int64{4}}},
		{"2001:db9::", want{}},
		{"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", want{}},
		{"fe80::1%eth0", want{}},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", want{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", []int64{other}, []int64{18}}},
		{"::", want{}},
	}
	for _, tt := range tests {
		a := netip.MustParseAddr(tt.addr)
		got := s.LookupIP(a)
		check(t, fmt.Sprintf("LookupIP(%s)", tt.addr), got, tt.want)
		if got.Found() && got.Prefix.String() != tt.want.value {
			t.Errorf("LookupIP(%s).Prefix = %s, want %s", tt.addr, got.Prefix, tt.want.value)
		}
	}
	if got := s.LookupIP(netip.Addr{}); got.Found() {
		t.Errorf("LookupIP(zero Addr) = %+v, want no match", got)
	}
}

func TestLookupASN(t *testing.T) {
	t.Parallel()
	s := fixture(t)
	check(t, "LookupASN(64500)", s.LookupASN(64500), want{"AS64500", []int64{provider}, []int64{8}})
	check(t, "LookupASN(64501)", s.LookupASN(64501), want{"AS64501", []int64{customer, other}, []int64{9, 10}})
	check(t, "LookupASN(64502)", s.LookupASN(64502), want{})
}

func TestLookupDomain(t *testing.T) {
	t.Parallel()
	s := fixture(t)
	tests := []struct {
		name string
		want want
	}{
		{"example.be", want{"example.be", []int64{provider}, []int64{11}}},
		{"EXAMPLE.be.", want{"example.be", []int64{provider}, []int64{11}}},
		{"www.example.be", want{"example.be", []int64{provider}, []int64{11}}},
		{"a.b.c.example.be", want{"example.be", []int64{provider}, []int64{11}}},
		{"shop.example.be", want{"shop.example.be", []int64{customer}, []int64{12}}},
		{"cart.shop.example.be", want{"shop.example.be", []int64{customer}, []int64{12}}},
		{"myshop.example.be", want{"example.be", []int64{provider}, []int64{11}}},
		{"my_host.example.be", want{"example.be", []int64{provider}, []int64{11}}},
		{"-odd-.example.be", want{"example.be", []int64{provider}, []int64{11}}},
		{"notexample.be", want{}},
		{"example.be.evil.com", want{}},
		{"example.bee", want{}},
		{"be", want{}},
		{"tie.be", want{"tie.be", []int64{customer, other}, []int64{13, 14, 15}}},
		{"x.tie.be", want{"tie.be", []int64{customer, other}, []int64{13, 14, 15}}},
		{"deep.sub.example.org", want{"deep.sub.example.org", []int64{other}, []int64{19}}},
		{"a.b.deep.sub.example.org", want{"deep.sub.example.org", []int64{other}, []int64{19}}},
		{"sub.example.org", want{}},
		{"x.sub.example.org", want{}},
		{"example.org", want{}},
		{"org", want{}},
		{"", want{}},
		{".", want{}},
		{"..example.be", want{}},
		{"www..example.be", want{}},
		{"*.example.be", want{}},
		{"www.exämple.be", want{}},
		{"https://example.be", want{}},
		{strings.Repeat("a", 64) + ".example.be", want{}},
		{strings.Repeat("a.", 130) + "example.be", want{}},
	}
	for _, tt := range tests {
		check(t, fmt.Sprintf("LookupDomain(%q)", tt.name), s.LookupDomain(tt.name), tt.want)
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	s := fixture(t)
	tests := []struct {
		q     string
		kind  constituency.Kind
		value string
	}{
		{"198.51.100.130", constituency.KindPrefix, "198.51.100.128/25"},
		{" 2001:db8:1::5 ", constituency.KindPrefix, "2001:db8:1::/48"},
		{"[2001:db8::5]", constituency.KindPrefix, "2001:db8::/32"},
		{"203.0.113.1", constituency.KindPrefix, ""},
		{"AS64500", constituency.KindASN, "AS64500"},
		{"as64501", constituency.KindASN, "AS64501"},
		{"64500", constituency.KindASN, "AS64500"},
		{"AS65000", constituency.KindASN, ""},
		{"www.Example.be", constituency.KindDomain, "example.be"},
		{"notexample.be", constituency.KindDomain, ""},
		{"https://cart.shop.example.be/login?next=/", constituency.KindDomain, "shop.example.be"},
		{"http://198.51.100.5:8080/x", constituency.KindPrefix, "198.51.100.0/22"},
		{"http://[2001:db8:1::1]/", constituency.KindPrefix, "2001:db8:1::/48"},
		{"shop.example.be/phish.html", constituency.KindDomain, "shop.example.be"},
		{"example.be:443", constituency.KindDomain, "example.be"},
		{"abuse@shop.example.be", constituency.KindDomain, "shop.example.be"},
		{"mailto:Someone@Example.BE", constituency.KindDomain, "example.be"},
		{"user@[198.51.100.200]", constituency.KindPrefix, "198.51.100.200/32"},
	}
	for _, tt := range tests {
		m, kind, err := s.Lookup(tt.q)
		if err != nil || kind != tt.kind || m.Value != tt.value {
			t.Errorf("Lookup(%q) = %q, %q, %v; want %q, %q, nil", tt.q, m.Value, kind, err, tt.value, tt.kind)
		}
	}
	for _, q := range []string{"", "localhost", "192.0.2.0/24", "AS0", "AS4294967296", "http:///nohost", "bücher.be", "*.example.be", "not a name", "a@"} {
		if m, kind, err := s.Lookup(q); err == nil {
			t.Errorf("Lookup(%q) = %q, %q, nil; want an error", q, m.Value, kind)
		}
	}
}

func TestConflictsAndStats(t *testing.T) {
	t.Parallel()
	s := fixture(t)
	got := s.Conflicts()
	wantConflicts := []constituency.Conflict{
		{Kind: constituency.KindPrefix, Value: "192.0.2.0/24", Orgs: []int64{provider, other}, Claims: []int64{6, 7}},
		{Kind: constituency.KindASN, Value: "AS64501", Orgs: []int64{customer, other}, Claims: []int64{9, 10}},
		{Kind: constituency.KindDomain, Value: "tie.be", Orgs: []int64{customer, other}, Claims: []int64{13, 14, 15}},
	}
	if !slices.EqualFunc(got, wantConflicts, func(a, b constituency.Conflict) bool {
		return a.Kind == b.Kind && a.Value == b.Value && slices.Equal(a.Orgs, b.Orgs) && slices.Equal(a.Claims, b.Claims)
	}) {
		t.Errorf("Conflicts() = %+v; want %+v", got, wantConflicts)
	}
	got[0].Orgs[0] = 999 // a copy: must not reach the snapshot
	if m := s.LookupIP(netip.MustParseAddr("192.0.2.1")); m.Orgs[0] != provider {
		t.Errorf("modifying Conflicts() changed the snapshot: %v", m.Orgs)
	}

	st := s.Stats()
	if st.Claims != 19 || st.Prefixes4 != 6 || st.Prefixes6 != 3 || st.ASNs != 2 || st.Domains != 4 || st.Conflicts != 3 || st.BuildTime <= 0 {
		t.Errorf("Stats() = %+v", st)
	}
}

func TestEmptySnapshot(t *testing.T) {
	t.Parallel()
	s, err := constituency.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"0.0.0.0", "192.0.2.1", "255.255.255.255", "::", "2001:db8::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"} {
		if m := s.LookupIP(netip.MustParseAddr(a)); m.Found() {
			t.Errorf("empty LookupIP(%s) = %+v", a, m)
		}
	}
	if m := s.LookupDomain("example.be"); m.Found() {
		t.Errorf("empty LookupDomain = %+v", m)
	}
	if c := s.Conflicts(); len(c) != 0 {
		t.Errorf("empty Conflicts() = %v", c)
	}
}

// TestSnapshotImmutable checks that Build keeps nothing of its input.
func TestSnapshotImmutable(t *testing.T) {
	t.Parallel()
	claims := []constituency.Claim{
		{ID: 1, OrgID: provider, Kind: constituency.KindPrefix, Value: "198.51.100.0/22"},
		{ID: 2, OrgID: provider, Kind: constituency.KindDomain, Value: "example.be"},
		{ID: 3, OrgID: provider, Kind: constituency.KindASN, Value: "AS64500"},
	}
	s, err := constituency.Build(claims)
	if err != nil {
		t.Fatal(err)
	}
	for i := range claims {
		claims[i].OrgID = other
		claims[i].ID += 100
	}
	claims[0].Value = "203.0.113.0/24"
	claims[1].Value = "example.org"
	claims = append(claims[:0], constituency.Claim{ID: 9, OrgID: other, Kind: constituency.KindASN, Value: "AS64501"})
	_ = claims

	check(t, "LookupIP", s.LookupIP(netip.MustParseAddr("198.51.100.1")), want{"198.51.100.0/22", []int64{provider}, []int64{1}})
	check(t, "LookupIP", s.LookupIP(netip.MustParseAddr("203.0.113.1")), want{})
	check(t, "LookupDomain", s.LookupDomain("www.example.be"), want{"example.be", []int64{provider}, []int64{2}})
	check(t, "LookupDomain", s.LookupDomain("example.org"), want{})
	check(t, "LookupASN", s.LookupASN(64500), want{"AS64500", []int64{provider}, []int64{3}})
	check(t, "LookupASN", s.LookupASN(64501), want{})
}

func TestLookupAllocations(t *testing.T) {
	s := fixture(t)
	v4 := netip.MustParseAddr("198.51.100.130")
	v6 := netip.MustParseAddr("2001:db8:1::1")
	tests := map[string]func(){
		"LookupIP v4":          func() { s.LookupIP(v4) },
		"LookupIP v6":          func() { s.LookupIP(v6) },
		"LookupASN":            func() { s.LookupASN(64500) },
		"LookupDomain":         func() { s.LookupDomain("cart.shop.example.be") },
		"LookupDomain upper":   func() { s.LookupDomain("WWW.Example.BE.") },
		"LookupDomain no hit":  func() { s.LookupDomain("www.example.org") },
		"LookupDomain invalid": func() { s.LookupDomain("www.exämple.be") },
	}
	for name, f := range tests {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", name, n)
		}
	}
}

// TestLookupIPRandom compares LookupIP with a brute-force search over
// random, partly nested and partly tied prefixes.
func TestLookupIPRandom(t *testing.T) {
	t.Parallel()
	for _, family := range []struct {
		name string
		bits int
	}{{"IPv4", 32}, {"IPv6", 128}} {
		t.Run(family.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(1, uint64(family.bits)))
			claims := randomPrefixClaims(rng, family.bits, 2000)
			s, err := constituency.Build(claims)
			if err != nil {
				t.Fatal(err)
			}
			ref := newBruteForce(claims)
			for i := range 20000 {
				a := ref.probe(rng, i)
				got := s.LookupIP(a)
				w := ref.lookup(a)
				if got.Value != w.value || !slices.Equal(got.Orgs, w.orgs) || !slices.Equal(got.Claims, w.claims) {
					t.Fatalf("LookupIP(%s) = {%q %v %v}; brute force {%q %v %v}", a, got.Value, got.Orgs, got.Claims, w.value, w.orgs, w.claims)
				}
			}
		})
	}
}

type bruteForce struct {
	prefixes []netip.Prefix
	claims   []constituency.Claim
}

func newBruteForce(claims []constituency.Claim) *bruteForce {
	bf := &bruteForce{claims: claims}
	for _, c := range claims {
		bf.prefixes = append(bf.prefixes, netip.MustParsePrefix(c.Value))
	}
	return bf
}

func (bf *bruteForce) lookup(a netip.Addr) want {
	best := -1
	var w want
	for i, p := range bf.prefixes {
		if !p.Contains(a) || p.Bits() < best {
			continue
		}
		if p.Bits() > best {
			best, w = p.Bits(), want{value: p.String()}
		}
		w.orgs = append(w.orgs, bf.claims[i].OrgID)
		w.claims = append(w.claims, bf.claims[i].ID)
	}
	slices.Sort(w.orgs)
	w.orgs = slices.Compact(w.orgs)
	slices.Sort(w.claims)
	return w
}

// probe returns an address to test: a random one, or one at or next to the
// edge of a claimed prefix.
func (bf *bruteForce) probe(rng *rand.Rand, i int) netip.Addr {
	p := bf.prefixes[rng.IntN(len(bf.prefixes))]
	switch i % 5 {
	case 0:
		return p.Addr()
	case 1:
		return lastAddr(p)
	case 2:
		if a := p.Addr().Prev(); a.IsValid() {
			return a
		}
	case 3:
		if a := lastAddr(p).Next(); a.IsValid() {
			return a
		}
	}
	return randomAddr(rng, p.Addr().BitLen(), p.Addr().BitLen())
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// randomAddr returns an address of the given family whose first keep bits
// are random and the rest zero.
func randomAddr(rng *rand.Rand, family, keep int) netip.Addr {
	b := make([]byte, family/8)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	for i := keep; i < family; i++ {
		b[i/8] &^= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// randomPrefixClaims returns n prefix claims: a realistic mix of lengths
// (/16 to /32 for IPv4, /19 to /128 for IPv6), about a quarter nested inside
// an earlier prefix (a provider's customer) and some exact ties across
// organisations. Values are canonical.
func randomPrefixClaims(rng *rand.Rand, family, n int) []constituency.Claim {
	claims := make([]constituency.Claim, 0, n)
	var prefixes []netip.Prefix
	for i := range n {
		var p netip.Prefix
		switch r := rng.IntN(100); {
		case r < 3 && len(prefixes) > 0: // tie with an earlier claim
			p = prefixes[rng.IntN(len(prefixes))]
		case r < 28 && len(prefixes) > 0: // nested in an earlier prefix
			parent := prefixes[rng.IntN(len(prefixes))]
			if parent.Bits() == family {
				p = parent
				break
			}
			bits := parent.Bits() + 1 + rng.IntN(family-parent.Bits())
			inner := randomAddr(rng, family, bits)
			p = mergePrefix(parent, inner, bits)
		default:
			bits := randomLength(rng, family)
			p = netip.PrefixFrom(randomAddr(rng, family, bits), bits)
		}
		prefixes = append(prefixes, p)
		claims = append(claims, constituency.Claim{
			ID: int64(i + 1), OrgID: int64(1 + rng.IntN(n/2)), Kind: constituency.KindPrefix, Value: p.String(),
		})
	}
	return claims
}

// mergePrefix returns the prefix of length bits whose first parent.Bits()
// bits come from parent and the rest from inner.
func mergePrefix(parent netip.Prefix, inner netip.Addr, bits int) netip.Prefix {
	pb, ib := parent.Addr().AsSlice(), inner.AsSlice()
	for i := range pb {
		keep := byte(0)
		if n := parent.Bits() - 8*i; n >= 8 {
			keep = 0xff
		} else if n > 0 {
			keep = ^byte(0xff >> n)
		}
		pb[i] = pb[i]&keep | ib[i]&^keep
	}
	a, _ := netip.AddrFromSlice(pb)
	return netip.PrefixFrom(a, bits).Masked()
}

// randomLength returns a prefix length as seen in constituency claims.
func randomLength(rng *rand.Rand, family int) int {
	r := rng.IntN(100)
	if family == 32 {
		switch {
		case r < 10:
			return 16 + rng.IntN(4) // /16–/19
		case r < 35:
			return 20 + rng.IntN(4) // /20–/23
		case r < 70:
			return 24
		case r < 85:
			return 25 + rng.IntN(7) // /25–/31
		default:
			return 32
		}
	}
	switch {
	case r < 5:
		return 19 + rng.IntN(13) // /19–/31
	case r < 30:
		return 32
	case r < 50:
		return 33 + rng.IntN(15) // /33–/47
	case r < 75:
		return 48
	case r < 90:
		return 49 + rng.IntN(16) // /49–/64
	default:
		return 65 + rng.IntN(64) // /65–/128
	}
}

// TestLookupDomainRandom compares LookupDomain with a brute-force search over
// random names built from few labels, so that claims nest and collide.
func TestLookupDomainRandom(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	labels := []string{"a", "b", "xn--bcher-kva", "shop", "www", "be", "eu"}
	name := func(least int) string {
		parts := make([]string, least+rng.IntN(4))
		for i := range parts {
			parts[i] = labels[rng.IntN(len(labels))]
		}
		return strings.Join(parts, ".")
	}
	var claims []constituency.Claim
	for i := range 300 {
		claims = append(claims, constituency.Claim{ID: int64(i + 1), OrgID: int64(1 + rng.IntN(50)), Kind: constituency.KindDomain, Value: name(2)})
	}
	s, err := constituency.Build(claims)
	if err != nil {
		t.Fatal(err)
	}
	for range 20000 {
		q := name(1)
		w := want{}
		for _, c := range claims {
			if (q == c.Value || strings.HasSuffix(q, "."+c.Value)) && len(c.Value) >= len(w.value) {
				if len(c.Value) > len(w.value) {
					w = want{value: c.Value}
				}
				w.orgs = append(w.orgs, c.OrgID)
				w.claims = append(w.claims, c.ID)
			}
		}
		slices.Sort(w.orgs)
		w.orgs = slices.Compact(w.orgs)
		slices.Sort(w.claims)
		got := s.LookupDomain(q)
		if got.Value != w.value || !slices.Equal(got.Orgs, w.orgs) || !slices.Equal(got.Claims, w.claims) {
			t.Fatalf("LookupDomain(%q) = {%q %v %v}; brute force {%q %v %v}", q, got.Value, got.Orgs, got.Claims, w.value, w.orgs, w.claims)
		}
	}
}
