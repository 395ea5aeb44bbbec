// Package demo loads a realistic demonstration dataset: the authority with
// its staff, and a few registered organisations with their users. It is
// idempotent: a second run resets the demo users' passwords and prints them
// again, creating only what is missing.
package demo

import (
	"context"
	"fmt"
	"io"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/identity"
)

type person struct {
	email, name, locale string
	roles               []string
}

type org struct {
	name, kind, number, email, phone string
	people                           []person
}

// dataset is fictional: names and numbers belong to no real organisation
// (the enterprise numbers pass the KBO/BCE check, the e-mail domains are
// reserved .example names).
var dataset = []org{
	{name: "Brabant Water", kind: "entity", number: "0403456751", email: "security@brabantwater.example", phone: "+32 16 24 00 00", people: []person{
		{"an.peeters@brabantwater.example", "An Peeters", "nl", []string{"org_admin"}},
		{"tom.janssens@brabantwater.example", "Tom Janssens", "nl", []string{"member"}},
	}},
	{name: "Hôpitaux de Wallonie", kind: "entity", number: "0812345603", email: "cert@hopitaux-wallonie.example", phone: "+32 81 72 00 00", people: []person{
		{"claire.dubois@hopitaux-wallonie.example", "Claire Dubois", "fr", []string{"org_admin"}},
		{"marc.lambert@hopitaux-wallonie.example", "Marc Lambert", "fr", []string{"member"}},
	}},
	{name: "Eupen Energie", kind: "entity", number: "0765432146", email: "sicherheit@eupen-energie.example", phone: "+32 87 59 00 00", people: []person{
		{"jonas.schmitz@eupen-energie.example", "Jonas Schmitz", "de", []string{"org_admin"}},
	}},
	{name: "Scheldt Software", kind: "vendor", number: "0567890161", email: "psirt@scheldt-software.example", people: []person{
		{"sam.devries@scheldt-software.example", "Sam De Vries", "en", []string{"org_admin"}},
	}},
	{name: "EuroCert Lab", kind: "certification_body", number: "0987654394", email: "info@eurocert-lab.example", people: []person{
		{"eva.martin@eurocert-lab.example", "Eva Martin", "en", []string{"org_admin"}},
	}},
}

var staff = []person{
	{"sofie.analyst@ccb.example", "Sofie Maes", "nl", []string{"analyst"}},
	{"tim.analyst@ccb.example", "Tim Claes", "en", []string{"analyst"}},
	{"julien.supervisor@ccb.example", "Julien Leroy", "fr", []string{"supervisor"}},
	{"nina.crisis@ccb.example", "Nina Wouters", "nl", []string{"crisis_manager"}},
	{"pierre.cert@ccb.example", "Pierre Renard", "fr", []string{"certification"}},
	{"lea.auditor@ccb.example", "Léa Fontaine", "fr", []string{"auditor"}},
}

// Login is a demo account and its password.
type Login struct {
	Email, Password, Organisation, Roles string
}

// Load creates what is missing and gives every demo user a fresh password.
func Load(ctx context.Context, svc *identity.Service, adminEmail string) ([]Login, error) {
	ctx = auth.With(ctx, auth.System)
	var logins []Login
	authority, err := svc.AuthorityOrg(ctx)
	if err != nil {
		return nil, err
	}
	if err := ensurePeople(ctx, svc, authority, staff, &logins); err != nil {
		return nil, err
	}
	for _, o := range dataset {
		org, err := ensureOrg(ctx, svc, o)
		if err != nil {
			return nil, err
		}
		if err := ensurePeople(ctx, svc, org, o.people, &logins); err != nil {
			return nil, err
		}
	}
	pw := identity.GeneratePassword()
	if err := svc.SetPassword(ctx, adminEmail, pw, false); err != nil {
		return nil, fmt.Errorf("demo: admin password: %w", err)
	}
	logins = append([]Login{{adminEmail, pw, authority.Name, "admin"}}, logins...)
	return logins, nil
}

func ensureOrg(ctx context.Context, svc *identity.Service, o org) (*identity.Organisation, error) {
	list, _, err := svc.Organisations(ctx, identity.OrgFilter{Text: o.number, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(list) > 0 {
		return list[0], nil
	}
	return svc.CreateOrganisation(ctx, identity.OrgInput{Name: &o.name, Kind: &o.kind, EnterpriseNumber: &o.number, Email: &o.email, Phone: &o.phone})
}

func ensurePeople(ctx context.Context, svc *identity.Service, org *identity.Organisation, people []person, logins *[]Login) error {
	for _, p := range people {
		if _, err := svc.UserByEmail(ctx, p.email); errs.Is(err, errs.NotFound) {
			if _, _, err := svc.CreateUser(ctx, identity.UserInput{OrgID: &org.ID, Email: &p.email, Name: &p.name, Locale: &p.locale, Roles: &p.roles}); err != nil {
				return fmt.Errorf("demo: user %s: %w", p.email, err)
			}
		} else if err != nil {
			return err
		}
		pw := identity.GeneratePassword()
		if err := svc.SetPassword(ctx, p.email, pw, false); err != nil {
			return fmt.Errorf("demo: password %s: %w", p.email, err)
		}
		*logins = append(*logins, Login{p.email, pw, org.Name, fmt.Sprint(p.roles)})
	}
	return nil
}

// Print writes the logins as a table.
func Print(w io.Writer, url string, logins []Login) {
	fmt.Fprintf(w, "\nBelfry demo is ready at %s\n\nDemo sign-ins (passwords are new at every start of `belfry demo`):\n\n", url)
	for _, l := range logins {
		fmt.Fprintf(w, "  %-44s %-30s %-22s %s\n", l.Email, l.Password, l.Organisation, l.Roles)
	}
	fmt.Fprintln(w)
}
