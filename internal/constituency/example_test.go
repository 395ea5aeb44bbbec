package constituency_test

import (
	"fmt"

	"github.com/belfry-cert/belfry/internal/constituency"
)

func Example() {
	s, err := constituency.Build([]constituency.Claim{
		{ID: 1, OrgID: 10, Kind: constituency.KindPrefix, Value: "198.51.100.0/22"},
		{ID: 2, OrgID: 20, Kind: constituency.KindPrefix, Value: "198.51.100.128/25"},
		{ID: 3, OrgID: 10, Kind: constituency.KindDomain, Value: "example.be"},
		{ID: 4, OrgID: 10, Kind: constituency.KindASN, Value: "AS64500"},
	})
	if err != nil {
		panic(err)
	}
	for _, q := range []string{"198.51.100.10", "198.51.100.130", "https://www.example.be/login", "AS64500", "notexample.be"} {
		m, kind, err := s.Lookup(q)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s: %s %q orgs %v\n", q, kind, m.Value, m.Orgs)
	}
	// Output:
	// 198.51.100.10: prefix "198.51.100.0/22" orgs [10]
	// 198.51.100.130: prefix "198.51.100.128/25" orgs [20]
	// https://www.example.be/login: domain "example.be" orgs [10]
	// AS64500: asn "AS64500" orgs [10]
	// notexample.be: domain "" orgs []
}
