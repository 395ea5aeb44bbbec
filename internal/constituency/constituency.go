// Package constituency answers "who owns this IP address, ASN or domain?"
// from an immutable, in-memory snapshot of the approved constituency claims,
// for feed matching, cases and phishing intake.
//
// Build turns claims into a Snapshot. IP lookups use the longest matching
// prefix, domain lookups the longest matching suffix; when several
// organisations claim the same winning value, all of them are returned. An
// Index holds the current Snapshot behind an atomic pointer and rebuilds it
// when the claims change.
package constituency

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Kind is the kind of resource a claim covers.
type Kind string

// The kinds of claim.
const (
	KindPrefix Kind = "prefix" // an IPv4 or IPv6 CIDR prefix
	KindASN    Kind = "asn"    // an autonomous system number
	KindDomain Kind = "domain" // a domain name and all its subdomains
)

// A Claim is an approved claim by an organisation on a resource.
//
// Value is a CIDR prefix (a bare address means /32 or /128), an ASN
// ("64500" or "AS64500") or a domain name; it is normalised by Build with
// NormalizePrefix, NormalizeASN or NormalizeDomain.
type Claim struct {
	ID    int64
	OrgID int64
	Kind  Kind
	Value string
}

// A Match is the result of a lookup. The zero Match means "no owner".
//
// Orgs and Claims are shared with the Snapshot and with every other caller:
// they must not be modified.
type Match struct {
	Prefix netip.Prefix // the matched prefix (IP lookups only)
	Value  string       // the matched claim value in canonical form
	Orgs   []int64      // owning organisations, sorted, without duplicates
	Claims []int64      // IDs of the matching claims, sorted
}

// Found reports whether the lookup found an owner.
func (m Match) Found() bool { return len(m.Orgs) > 0 }

// A Conflict is a value claimed by more than one organisation.
type Conflict struct {
	Kind   Kind
	Value  string  // canonical form
	Orgs   []int64 // sorted
	Claims []int64 // sorted
}

// Stats describes a Snapshot.
type Stats struct {
	Version   int64 // claims version it was loaded at; 0 if built directly
	Claims    int   // claims given to Build
	Prefixes4 int   // distinct IPv4 prefixes
	Prefixes6 int   // distinct IPv6 prefixes
	ASNs      int   // distinct ASNs
	Domains   int   // distinct domains
	Conflicts int   // values claimed by more than one organisation
	BuildTime time.Duration
}

// A Snapshot is an immutable index of claims. It is safe for concurrent use.
type Snapshot struct {
	matches   []Match // one per distinct claimed value
	v4        *table4
	v6        *table6
	asns      map[uint32]int32
	domains   map[string]domainNode
	conflicts []Conflict
	stats     Stats

	version   int64
	versioned bool // built by an Index from a Loader
}

// Conflicts lists the values claimed by more than one organisation: IPv4
// prefixes, IPv6 prefixes, ASNs, then domains, each in ascending order. The
// result is a copy and may be modified.
func (s *Snapshot) Conflicts() []Conflict {
	out := make([]Conflict, len(s.conflicts))
	for i, c := range s.conflicts {
		c.Orgs, c.Claims = slices.Clone(c.Orgs), slices.Clone(c.Claims)
		out[i] = c
	}
	return out
}

// Stats returns counts and the build time of s.
func (s *Snapshot) Stats() Stats {
	st := s.stats
	st.Version = s.version
	return st
}

// Build normalises claims and builds a Snapshot from them. It fails if a
// claim has an unknown kind or a value that does not normalise; the error
// names the claim. Build keeps no reference to claims.
func Build(claims []Claim) (*Snapshot, error) {
	start := time.Now()
	var b builder
	for _, c := range claims {
		if err := b.add(c); err != nil {
			return nil, fmt.Errorf("constituency: claim %d (%s %q): %w", c.ID, c.Kind, c.Value, err)
		}
	}
	s := b.snapshot()
	s.stats.Claims = len(claims)
	s.stats.BuildTime = time.Since(start)
	return s, nil
}

// A record is one claim on a normalised value. For prefixes, key is the
// first address as a 128-bit number (IPv4 in the low 32 bits) and bits the
// prefix length in that 128-bit space; for ASNs, key.lo is the ASN; for
// domains, name indexes builder.names. Records are kept small because
// sorting them is most of the build time.
type record struct {
	key   u128
	org   int64
	claim int64
	bits  int32
	name  int32
}

// compareRecords orders records by key, then (for prefixes) wider prefixes
// before narrower ones, so that a prefix comes before the prefixes it
// contains, then by organisation and claim.
func compareRecords(x, y record) int {
	switch {
	case x.key != y.key:
		return x.key.compare(y.key)
	case x.bits != y.bits:
		return int(x.bits - y.bits)
	case x.org != y.org:
		return cmp.Compare(x.org, y.org)
	}
	return cmp.Compare(x.claim, y.claim)
}

type builder struct {
	v4, v6, asns, domains []record
	names                 []string
	conflicts             []conflict
	s                     Snapshot
}

// A conflict is a match with several organisations.
type conflict struct {
	kind  Kind
	match int32
}

func (b *builder) add(c Claim) error {
	switch c.Kind {
	case KindPrefix:
		p, err := NormalizePrefix(c.Value)
		if err != nil {
			return err
		}
		if p.Addr().Is4() {
			b.v4 = append(b.v4, record{key: key4(p.Addr()), bits: int32(p.Bits() + 96), org: c.OrgID, claim: c.ID})
		} else {
			b.v6 = append(b.v6, record{key: key16(p.Addr()), bits: int32(p.Bits()), org: c.OrgID, claim: c.ID})
		}
	case KindASN:
		n, err := NormalizeASN(c.Value)
		if err != nil {
			return err
		}
		b.asns = append(b.asns, record{key: u128{lo: uint64(n)}, org: c.OrgID, claim: c.ID})
	case KindDomain:
		d, err := NormalizeDomain(c.Value)
		if err != nil {
			return err
		}
		b.domains = append(b.domains, record{name: int32(len(b.names)), org: c.OrgID, claim: c.ID})
		b.names = append(b.names, d)
	default:
		return fmt.Errorf("unknown claim kind %q", c.Kind)
	}
	return nil
}

func (b *builder) snapshot() *Snapshot {
	s := &b.s
	s.matches = make([]Match, 0, len(b.v4)+len(b.v6)+len(b.asns)+len(b.domains))

	slices.SortFunc(b.v4, compareRecords)
	ranges4 := b.groupPrefixes(b.v4, true)
	s.v4 = newTable4(sweep(ranges4, u128{lo: 1<<32 - 1}))
	s.stats.Prefixes4 = len(ranges4)

	slices.SortFunc(b.v6, compareRecords)
	ranges6 := b.groupPrefixes(b.v6, false)
	s.v6 = newTable6(sweep(ranges6, u128{hi: ^uint64(0), lo: ^uint64(0)}))
	s.stats.Prefixes6 = len(ranges6)

	slices.SortFunc(b.asns, compareRecords)
	s.asns = make(map[uint32]int32, len(b.asns))
	b.group(b.asns, func(x, y record) bool { return x.key == y.key }, func(r record, m *Match) Kind {
		m.Value = "AS" + strconv.FormatUint(r.key.lo, 10)
		s.asns[uint32(r.key.lo)] = int32(len(s.matches) - 1)
		return KindASN
	})
	s.stats.ASNs = len(s.asns)

	slices.SortFunc(b.domains, func(x, y record) int {
		if c := strings.Compare(b.names[x.name], b.names[y.name]); c != 0 {
			return c
		}
		return compareRecords(x, y)
	})
	s.domains = make(map[string]domainNode, len(b.domains))
	b.group(b.domains, func(x, y record) bool { return b.names[x.name] == b.names[y.name] }, func(r record, m *Match) Kind {
		m.Value = b.names[r.name]
		s.domains[m.Value] = domainNode{match: int32(len(s.matches) - 1)}
		s.stats.Domains++
		return KindDomain
	})
	addParents(s.domains)

	for _, c := range b.conflicts {
		m := s.matches[c.match]
		s.conflicts = append(s.conflicts, Conflict{Kind: c.kind, Value: m.Value, Orgs: m.Orgs, Claims: m.Claims})
	}
	s.stats.Conflicts = len(s.conflicts)
	return s
}

// groupPrefixes turns sorted prefix records into one match per distinct
// prefix and returns their address ranges in the same order. The values of
// all matches are slices of one string.
func (b *builder) groupPrefixes(recs []record, is4 bool) []prefixRange {
	ranges := make([]prefixRange, 0, len(recs))
	var buf []byte
	ends := make([]int, 0, len(recs))
	b.group(recs, func(x, y record) bool { return x.key == y.key && x.bits == y.bits }, func(r record, m *Match) Kind {
		if is4 {
			m.Prefix = netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(r.key.lo >> 24), byte(r.key.lo >> 16), byte(r.key.lo >> 8), byte(r.key.lo)}), int(r.bits-96))
		} else {
			m.Prefix = netip.PrefixFrom(r.key.addr6(), int(r.bits))
		}
		buf = m.Prefix.AppendTo(buf)
		ends = append(ends, len(buf))
		ranges = append(ranges, prefixRange{first: r.key, last: r.key.lastIn(int(r.bits)), val: int32(len(b.s.matches) - 1)})
		return KindPrefix
	})
	values, start := string(buf), 0
	for i, r := range ranges {
		b.s.matches[r.val].Value = values[start:ends[i]]
		start = ends[i]
	}
	return ranges
}

// group walks sorted records and appends one Match per run of records with
// the same value, calling describe with the first record of the run and the
// Match, already appended. Orgs and Claims of all matches share two backing
// arrays.
func (b *builder) group(recs []record, same func(x, y record) bool, describe func(r record, m *Match) Kind) {
	orgs := make([]int64, 0, len(recs))
	claims := make([]int64, 0, len(recs))
	for i := 0; i < len(recs); {
		j := i + 1
		for j < len(recs) && same(recs[i], recs[j]) {
			j++
		}
		o, c := len(orgs), len(claims)
		for k := i; k < j; k++ {
			if k == i || recs[k].org != recs[k-1].org {
				orgs = append(orgs, recs[k].org)
			}
			claims = append(claims, recs[k].claim)
		}
		slices.Sort(claims[c:])
		b.s.matches = append(b.s.matches, Match{Orgs: orgs[o:len(orgs):len(orgs)], Claims: claims[c:len(claims):len(claims)]})
		m := &b.s.matches[len(b.s.matches)-1]
		kind := describe(recs[i], m)
		if len(m.Orgs) > 1 {
			b.conflicts = append(b.conflicts, conflict{kind, int32(len(b.s.matches) - 1)})
		}
		i = j
	}
}

// A domainNode is a name in Snapshot.domains: a claimed domain, a parent of
// claimed domains (down to the top-level domain), or both.
type domainNode struct {
	match  int32 // index in matches, or -1 if not claimed
	parent bool  // a claimed domain lies below this name
}

// addParents adds every parent of the claimed domains in m, so that a
// lookup can walk a name from its top-level domain down and stop at the
// first label under which nothing is claimed.
func addParents(m map[string]domainNode) {
	claimed := make([]string, 0, len(m))
	for d := range m {
		claimed = append(claimed, d)
	}
	for _, d := range claimed {
		for i := strings.IndexByte(d, '.'); i >= 0; i = strings.IndexByte(d, '.') {
			d = d[i+1:]
			n, ok := m[d]
			if ok && n.parent {
				break // and so are its parents
			}
			if !ok {
				n.match = -1
			}
			n.parent = true
			m[d] = n
		}
	}
}
