package registry

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
)

var linkRE = regexp.MustCompile(`/signup/confirm\?token=([A-Za-z0-9]+)`)

func TestSignup(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		in := SignupInput{LegalName: " Nieuwe Haven NV ", EnterpriseNumber: "BE 0353.456.320", Name: "Els Claes", Email: "els@haven.example"}

		// Every missing or wrong field is named.
		err := f.svc.RequestSignup(ctx, SignupInput{EnterpriseNumber: "0431150351", Email: "nope"}, "nl")
		got := fieldsOf(t, err)
		for _, want := range []string{"legal_name", "enterprise_number", "name", "email"} {
			if !strings.Contains(strings.Join(got, " "), want) {
				t.Errorf("fields %v lack %s", got, want)
			}
		}

		if err := f.svc.RequestSignup(ctx, in, "nl"); err != nil {
			t.Fatal(err)
		}
		mail := f.mail.take()
		if len(mail) != 1 || mail[0].To[0] != "els@haven.example" {
			t.Fatalf("mail = %+v", mail)
		}
		m := linkRE.FindStringSubmatch(mail[0].Text)
		if m == nil || !strings.Contains(mail[0].Text, "https://belfry.example/nl/signup/confirm") {
			t.Fatalf("no link in %q", mail[0].Text)
		}
		token := m[1]
		// A second request within minutes sends nothing more.
		if err := f.svc.RequestSignup(ctx, in, "nl"); err != nil || len(f.mail.take()) != 0 {
			t.Errorf("repeat request: %v", err)
		}

		// A wrong password keeps the link usable.
		if _, _, err := f.svc.CompleteSignup(ctx, token, "short", "short"); !strings.Contains(strings.Join(fieldsOf(t, err), " "), "password") {
			t.Errorf("short password: %v", err)
		}
		if _, _, err := f.svc.CompleteSignup(ctx, token, "a long enough password", "a different password"); !strings.Contains(strings.Join(fieldsOf(t, err), " "), "confirm") {
			t.Errorf("mismatch: %v", err)
		}
		if _, _, err := f.svc.CompleteSignup(ctx, "forged", "a long enough password", "a long enough password"); !errs.Is(err, errs.NotFound) {
			t.Errorf("forged token: %v", err)
		}
		org, user, err := f.svc.CompleteSignup(ctx, token, "a long enough password", "a long enough password")
		if err != nil {
			t.Fatal(err)
		}
		if org.Name != "Nieuwe Haven NV" || org.EnterpriseNumber != "0353456320" || org.Kind != "entity" {
			t.Errorf("org = %+v", org)
		}
		if user.Email != "els@haven.example" || len(user.Roles) != 1 || user.Roles[0] != "org_admin" || user.Locale != "nl" {
			t.Errorf("user = %+v", user)
		}
		// The link works once.
		if _, _, err := f.svc.CompleteSignup(ctx, token, "a long enough password", "a long enough password"); !errs.Is(err, errs.NotFound) {
			t.Errorf("second use: %v", err)
		}
		// Registering the same organisation again tells the applicant by
		// e-mail only; no request is stored.
		f.now = f.now.Add(time.Hour)
		again := in
		again.Email = "someone@else.example"
		if err := f.svc.RequestSignup(ctx, again, "en"); err != nil {
			t.Fatal(err)
		}
		mail = f.mail.take()
		if len(mail) != 1 || linkRE.MatchString(mail[0].Text) || !strings.Contains(mail[0].Text, "already has an account") {
			t.Errorf("existing organisation mail = %+v", mail)
		}
		var n int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM signup_requests`).Scan(&n); err != nil || n != 0 {
			t.Errorf("requests stored = %d, %v", n, err)
		}
		// An establishment unit number is not an enterprise number.
		err = f.svc.RequestSignup(ctx, SignupInput{LegalName: "Late BV", EnterpriseNumber: "2147812701", Name: "Late", Email: "late@late.example"}, "en")
		if got := fieldsOf(t, err); len(got) != 1 || got[0] != "enterprise_number" {
			t.Errorf("establishment unit number: fields %v", got)
		}
		// Links expire.
		if err := f.svc.RequestSignup(ctx, SignupInput{LegalName: "Late BV", EnterpriseNumber: "0567890161", Name: "Late", Email: "late@late.example"}, "en"); err != nil {
			t.Fatal(err)
		}
		late := linkRE.FindStringSubmatch(f.mail.take()[0].Text)[1]
		f.now = f.now.Add(49 * time.Hour)
		if _, _, err := f.svc.CompleteSignup(ctx, late, "a long enough password", "a long enough password"); !errs.Is(err, errs.NotFound) {
			t.Errorf("expired link: %v", err)
		}
		if err := f.svc.PurgeSignups(ctx); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(ctx, `SELECT count(*) FROM signup_requests`).Scan(&n); err != nil || n != 0 {
			t.Errorf("expired requests left = %d, %v", n, err)
		}
	})
}
