package demo

import (
	"context"
	"fmt"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/identity"
	"github.com/belfry-cert/belfry/internal/nis2"
	"github.com/belfry-cert/belfry/internal/registry"
)

func f(v float64) *float64 { return &v }

// registration is the demo registry entry of one organisation: where it
// stands in the review, and its networks (documentation ranges, private
// AS numbers and reserved .example domains only).
type registration struct {
	number   string
	profile  registry.Profile
	networks []string
	status   registry.Status
}

var registrations = []registration{
	{number: "0403456751", status: registry.StatusApproved, networks: []string{"192.0.2.0/24", "2001:db8:100::/48", "AS64501", "brabantwater.example"},
		profile: registry.Profile{
			Address: registry.Address{Street: "Vaartstraat 12", Postcode: "3000", City: "Leuven", Country: "BE"},
			Website: "https://brabantwater.example",
			Facts: nis2.Facts{EntityTypes: []string{"drinking_water.supplier"}, Figures: nis2.Figures{Staff: f(420), TurnoverEUR: f(96e6), BalanceSheetEUR: f(310e6)},
				ServiceCountries: []string{"BE"}},
			Contacts: []registry.Contact{
				{Role: registry.RoleIncident24x7, Name: "Brabant Water SOC", Email: "soc@brabantwater.example", Phone: "+32 16 24 00 99", Language: "nl"},
				{Role: registry.RoleNIS2Contact, Name: "An Peeters", Email: "an.peeters@brabantwater.example", Phone: "+32 16 24 00 10", Language: "nl"},
			}}},
	{number: "0812345603", status: registry.StatusSubmitted, networks: []string{"198.51.100.0/24", "hopitaux-wallonie.example"},
		profile: registry.Profile{
			Address: registry.Address{Street: "Rue de Bruxelles 5", Postcode: "5000", City: "Namur", Country: "BE"},
			Facts: nis2.Facts{EntityTypes: []string{"health.provider"}, Figures: nis2.Figures{Staff: f(2100), TurnoverEUR: f(240e6), BalanceSheetEUR: f(180e6)},
				ServiceCountries: []string{"BE"}},
			Contacts: []registry.Contact{
				{Role: registry.RoleIncident24x7, Name: "Garde informatique", Email: "garde-it@hopitaux-wallonie.example", Phone: "+32 81 72 00 99", Language: "fr"},
				{Role: registry.RoleNIS2Contact, Name: "Claire Dubois", Email: "claire.dubois@hopitaux-wallonie.example", Language: "fr"},
			}}},
	{number: "0765432146", status: registry.StatusDraft, networks: []string{"203.0.113.0/25"},
		profile: registry.Profile{
			Address: registry.Address{Street: "Aachener Straße 20", Postcode: "4700", City: "Eupen", Country: "BE"},
			Facts: nis2.Facts{EntityTypes: []string{"energy.electricity.dso"}, Figures: nis2.Figures{Staff: f(140), TurnoverEUR: f(38e6), BalanceSheetEUR: f(29e6)},
				ServiceCountries: []string{"BE"}},
			Tasks: map[string]bool{registry.TaskOrganisation: true, registry.TaskServices: true, registry.TaskSize: true}}},
}

// LoadRegistry gives the demo entities their registrations, once: an
// approved one, one waiting for review and a draft.
func LoadRegistry(ctx context.Context, reg *registry.Service, ids *identity.Service) error {
	ctx = auth.With(ctx, auth.System)
	for _, d := range registrations {
		list, _, err := ids.Organisations(ctx, identity.OrgFilter{Text: d.number, Limit: 1})
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return fmt.Errorf("demo: organisation %s missing", d.number)
		}
		org := list[0].ID
		cur, err := reg.Get(ctx, org)
		if err != nil {
			return err
		}
		if cur.Version > 0 || len(cur.Profile.Contacts) > 0 || cur.Profile.Tasks != nil {
			continue // already loaded
		}
		p := d.profile
		if p.Tasks == nil {
			p.Tasks = map[string]bool{}
			for _, t := range registry.Tasks {
				p.Tasks[t] = true
			}
		}
		if _, err := reg.Update(ctx, org, func(x *registry.Profile) error { *x = p; return nil }); err != nil {
			return fmt.Errorf("demo: registration %s: %w", d.number, err)
		}
		var in []registry.ClaimInput
		for _, v := range d.networks {
			in = append(in, registry.ClaimInput{OrgID: org, Value: v})
		}
		if _, err := reg.AddClaims(ctx, org, in); err != nil {
			return fmt.Errorf("demo: networks %s: %w", d.number, err)
		}
		if d.status == registry.StatusDraft {
			continue
		}
		if _, err := reg.Submit(ctx, org); err != nil {
			return fmt.Errorf("demo: submit %s: %w", d.number, err)
		}
		if d.status == registry.StatusApproved {
			if _, err := reg.Review(ctx, org, registry.ReviewInput{Decision: registry.ReviewApprove}); err != nil {
				return fmt.Errorf("demo: approve %s: %w", d.number, err)
			}
		}
	}
	return nil
}
