package constituency_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"

	"github.com/belfry-cert/belfry/internal/constituency"
)

// The benchmarks index 100,000 claims of one kind, the order of magnitude of
// a national constituency's claims with room to spare. Lookups cycle
// through a fixed set of 1<<16 queries, so the CPU caches do not hold all
// of the index; "hit" queries all fall inside a claim, "random" ones are
// drawn from the whole address space, as most feed events are.

const benchClaims = 100_000

func benchPrefixes(b *testing.B, family int) (*constituency.Snapshot, []constituency.Claim) {
	b.Helper()
	rng := rand.New(rand.NewPCG(42, uint64(family)))
	claims := randomPrefixClaims(rng, family, benchClaims)
	s, err := constituency.Build(claims)
	if err != nil {
		b.Fatal(err)
	}
	return s, claims
}

func benchAddrs(b *testing.B, claims []constituency.Claim, family int, hit bool) []netip.Addr {
	b.Helper()
	rng := rand.New(rand.NewPCG(7, uint64(family)))
	addrs := make([]netip.Addr, 1<<16)
	for i := range addrs {
		if !hit {
			addrs[i] = randomAddr(rng, family, family)
			continue
		}
		// A random address inside a random claimed prefix.
		p := netip.MustParsePrefix(claims[rng.IntN(len(claims))].Value)
		addrs[i] = mergePrefix(p, randomAddr(rng, family, family), family).Addr()
	}
	return addrs
}

func reportRate(b *testing.B, n int) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lookups/s")
}

func benchmarkLookupIP(b *testing.B, family int) {
	s, claims := benchPrefixes(b, family)
	for _, hit := range []bool{true, false} {
		name := map[bool]string{true: "hit", false: "random"}[hit]
		b.Run(name, func(b *testing.B) {
			addrs := benchAddrs(b, claims, family, hit)
			runtime.GC() // so that no collection of the set-up garbage runs alongside
			found := 0
			n := 0
			for ; b.Loop(); n++ {
				if s.LookupIP(addrs[n&(len(addrs)-1)]).Found() {
					found++
				}
			}
			reportRate(b, n)
			b.ReportMetric(float64(found)/float64(n), "found/op")
		})
	}
}

func BenchmarkLookupIPv4(b *testing.B) { benchmarkLookupIP(b, 32) }

func BenchmarkLookupIPv6(b *testing.B) { benchmarkLookupIP(b, 128) }

// BenchmarkLookupIPv4Parallel runs hit lookups on every core at once, all on
// one shared snapshot, as the feed matching workers do.
func BenchmarkLookupIPv4Parallel(b *testing.B) {
	s, claims := benchPrefixes(b, 32)
	addrs := benchAddrs(b, claims, 32, true)
	runtime.GC()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := rand.IntN(len(addrs))
		for pb.Next() {
			s.LookupIP(addrs[i&(len(addrs)-1)])
			i++
		}
	})
	reportRate(b, b.N)
}

// benchDomains returns n claimed domains of two or three labels under a few
// top-level domains.
func benchDomains(rng *rand.Rand, n int) []constituency.Claim {
	tlds := []string{"be", "eu", "com", "org", "net", "brussels", "vlaanderen", "co.uk"}
	claims := make([]constituency.Claim, n)
	for i := range claims {
		name := fmt.Sprintf("org%d-%x.%s", i, rng.Uint32(), tlds[rng.IntN(len(tlds))])
		if rng.IntN(10) == 0 {
			name = "dept" + name
		}
		claims[i] = constituency.Claim{ID: int64(i + 1), OrgID: int64(1 + rng.IntN(n/2)), Kind: constituency.KindDomain, Value: name}
	}
	return claims
}

func BenchmarkLookupDomain(b *testing.B) {
	rng := rand.New(rand.NewPCG(42, 0))
	claims := benchDomains(rng, benchClaims)
	s, err := constituency.Build(claims)
	if err != nil {
		b.Fatal(err)
	}
	hosts := []string{"", "www.", "mail.", "a.b.c."}
	for _, hit := range []bool{true, false} {
		name := map[bool]string{true: "hit", false: "miss"}[hit]
		b.Run(name, func(b *testing.B) {
			names := make([]string, 1<<16)
			for i := range names {
				d := claims[rng.IntN(len(claims))].Value
				if !hit {
					d = "x" + d
				}
				names[i] = hosts[rng.IntN(len(hosts))] + d
			}
			runtime.GC()
			found, n := 0, 0
			for ; b.Loop(); n++ {
				if s.LookupDomain(names[n&(len(names)-1)]).Found() {
					found++
				}
			}
			reportRate(b, n)
			b.ReportMetric(float64(found)/float64(n), "found/op")
		})
	}
}

func BenchmarkBuild100k(b *testing.B) {
	rng := rand.New(rand.NewPCG(42, 32))
	claims := randomPrefixClaims(rng, 32, benchClaims)
	for b.Loop() {
		if _, err := constituency.Build(claims); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuildMixed100k builds 70,000 IPv4, 10,000 IPv6 and 20,000
// domain claims.
func BenchmarkBuildMixed100k(b *testing.B) {
	rng := rand.New(rand.NewPCG(42, 0))
	claims := randomPrefixClaims(rng, 32, 70_000)
	claims = append(claims, randomPrefixClaims(rng, 128, 10_000)...)
	claims = append(claims, benchDomains(rng, 20_000)...)
	for b.Loop() {
		if _, err := constituency.Build(claims); err != nil {
			b.Fatal(err)
		}
	}
}
