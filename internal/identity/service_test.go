package identity_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/identity"
	"github.com/belfry-cert/belfry/internal/store"
)

type fixture struct {
	svc   *identity.Service
	db    *store.DB
	now   time.Time
	sys   context.Context
	authz *identity.Organisation
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	f := &fixture{db: db, now: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
	f.svc = identity.NewService(db, slog.New(slog.NewTextHandler(io.Discard, nil)), identity.Config{}, nil)
	f.svc.SetClock(func() time.Time { return f.now })
	f.sys = auth.With(context.Background(), auth.System)
	if _, err := f.svc.Bootstrap(context.Background(), "CCB", "admin@ccb.example"); err != nil {
		t.Fatal(err)
	}
	var err error
	if f.authz, err = f.svc.AuthorityOrg(f.sys); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) org(t *testing.T, name string) *identity.Organisation {
	kind := "entity"
	o, err := f.svc.CreateOrganisation(f.sys, identity.OrgInput{Name: &name, Kind: &kind})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func (f *fixture) user(t *testing.T, org int64, email string, roles ...string) *identity.User {
	name := email
	u, _, err := f.svc.CreateUser(f.sys, identity.UserInput{OrgID: &org, Email: &email, Name: &name, Roles: &roles})
	if err != nil {
		t.Fatalf("CreateUser(%s) = %v", email, err)
	}
	if err := f.svc.SetPassword(f.sys, email, "long enough password", false); err != nil {
		t.Fatal(err)
	}
	return u
}

func as(u *identity.User) context.Context {
	return auth.With(context.Background(), &auth.Principal{UserID: u.ID, OrgID: u.OrgID, OrgKind: string(u.OrgKind), Email: u.Email, Roles: u.Roles})
}

func TestLoginAndLockout(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o := f.org(t, "Acme")
		f.user(t, o.ID, "ann@acme.example", "member")
		ctx := auth.WithIP(context.Background(), "192.0.2.1")

		tok, sess, err := f.svc.Login(ctx, "ANN@acme.example", "long enough password", "test")
		if err != nil || tok == "" || sess.MFAPending {
			t.Fatalf("Login(right) = %q, %+v, %v", tok, sess, err)
		}
		if _, err := f.svc.Session(ctx, tok); err != nil {
			t.Fatalf("Session(new) = %v", err)
		}
		_, _, errUnknown := f.svc.Login(ctx, "nobody@acme.example", "whatever password", "test")
		_, _, errWrong := f.svc.Login(ctx, "ann@acme.example", "wrong password!!", "test")
		if !errs.Is(errUnknown, errs.Unauthenticated) || errs.KindCode(errUnknown) != errs.KindCode(errWrong) {
			t.Errorf("unknown e-mail and wrong password differ: %v vs %v", errUnknown, errWrong)
		}
		// Five failures in all lock the account; even the right password waits.
		for range 4 {
			f.svc.Login(ctx, "ann@acme.example", "wrong password!!", "test")
		}
		if _, _, err := f.svc.Login(ctx, "ann@acme.example", "long enough password", "test"); !errs.Is(err, errs.RateLimited) {
			t.Fatalf("Login after 5 failures = %v, want rate limited", err)
		}
		f.now = f.now.Add(2 * time.Minute)
		if _, _, err := f.svc.Login(ctx, "ann@acme.example", "long enough password", "test"); err != nil {
			t.Fatalf("Login after the lock-out = %v", err)
		}
		// Back-off doubles: the counter was reset by success, so 5 new
		// failures lock for 1 minute, the 6th for 2.
		for range 6 {
			f.svc.Login(ctx, "ann@acme.example", "wrong password!!", "test")
			f.now = f.now.Add(2 * time.Minute)
		}
		f.now = f.now.Add(-2*time.Minute + 90*time.Second)
		if _, _, err := f.svc.Login(ctx, "ann@acme.example", "long enough password", "test"); !errs.Is(err, errs.RateLimited) {
			t.Errorf("Login 90 s into a 2-minute lock-out = %v, want rate limited", err)
		}
	})
}

func TestSessionExpiry(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o := f.org(t, "Acme")
		f.user(t, o.ID, "ann@acme.example", "member")
		ctx := context.Background()
		tok, _, err := f.svc.Login(ctx, "ann@acme.example", "long enough password", "")
		if err != nil {
			t.Fatal(err)
		}
		// Used every 50 minutes, it lives until the 12-hour limit.
		for i := 0; i < 14; i++ {
			f.now = f.now.Add(50 * time.Minute)
			_, err := f.svc.Session(ctx, tok)
			if i < 14 && f.now.Before(time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)) && err != nil {
				t.Fatalf("Session after %d×50 min = %v", i+1, err)
			}
			if !f.now.Before(time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)) && !errs.Is(err, errs.Unauthenticated) {
				t.Fatalf("Session past the absolute limit = %v, want expired", err)
			}
		}
		tok2, _, _ := f.svc.Login(ctx, "ann@acme.example", "long enough password", "")
		f.now = f.now.Add(61 * time.Minute)
		if _, err := f.svc.Session(ctx, tok2); !errs.Is(err, errs.Unauthenticated) {
			t.Errorf("Session idle 61 min = %v, want expired", err)
		}
	})
}

func TestTOTP(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o := f.org(t, "Acme")
		f.user(t, o.ID, "ann@acme.example", "member")
		ctx := context.Background()
		tok, sess, err := f.svc.Login(ctx, "ann@acme.example", "long enough password", "")
		if err != nil {
			t.Fatal(err)
		}
		enrol, err := f.svc.BeginTOTP(ctx, sess)
		if err != nil {
			t.Fatal(err)
		}
		if png, err := f.svc.QRCode(sess); err != nil || len(png) < 100 {
			t.Fatalf("QRCode = %d bytes, %v", len(png), err)
		}
		if _, err := f.svc.ConfirmTOTP(ctx, sess, "000000"); !errs.Is(err, errs.Invalid) {
			t.Fatalf("ConfirmTOTP(wrong) = %v, want invalid", err)
		}
		code, _ := totp.GenerateCode(enrol.Secret, f.now)
		codes, err := f.svc.ConfirmTOTP(ctx, sess, code)
		if err != nil || len(codes) != 10 {
			t.Fatalf("ConfirmTOTP = %d codes, %v", len(codes), err)
		}
		_ = tok

		// Sign in again: the session waits for the second factor.
		f.now = f.now.Add(30 * time.Second)
		_, s2, err := f.svc.Login(ctx, "ann@acme.example", "long enough password", "")
		if err != nil || !s2.MFAPending {
			t.Fatalf("Login with TOTP = %+v, %v; want pending", s2, err)
		}
		code, _ = totp.GenerateCode(enrol.Secret, f.now)
		if err := f.svc.VerifySecondFactor(ctx, s2, code); err != nil || s2.MFAPending {
			t.Fatalf("VerifySecondFactor = %v", err)
		}
		// The same code cannot be replayed in another session.
		_, s3, _ := f.svc.Login(ctx, "ann@acme.example", "long enough password", "")
		if err := f.svc.VerifySecondFactor(ctx, s3, code); !errs.Is(err, errs.Invalid) {
			t.Errorf("VerifySecondFactor(replayed) = %v, want invalid", err)
		}
		// A recovery code works once.
		if err := f.svc.VerifySecondFactor(ctx, s3, codes[0]); err != nil {
			t.Errorf("VerifySecondFactor(recovery) = %v", err)
		}
		_, s4, _ := f.svc.Login(ctx, "ann@acme.example", "long enough password", "")
		if err := f.svc.VerifySecondFactor(ctx, s4, codes[0]); !errs.Is(err, errs.Invalid) {
			t.Errorf("VerifySecondFactor(used recovery code) = %v, want invalid", err)
		}
		// Turning it off needs the password.
		if err := f.svc.DisableTOTP(ctx, sess, "wrong"); !errs.Is(err, errs.Invalid) {
			t.Errorf("DisableTOTP(wrong password) = %v", err)
		}
		if err := f.svc.DisableTOTP(ctx, sess, "long enough password"); err != nil {
			t.Errorf("DisableTOTP = %v", err)
		}
		if _, s5, _ := f.svc.Login(ctx, "ann@acme.example", "long enough password", ""); s5 == nil || s5.MFAPending {
			t.Errorf("Login after disabling TOTP still pending")
		}
	})
}

func TestAuthorization(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		a, b := f.org(t, "Acme"), f.org(t, "Bravo")
		aAdmin := f.user(t, a.ID, "boss@acme.example", "org_admin")
		aMember := f.user(t, a.ID, "ann@acme.example", "member")
		bMember := f.user(t, b.ID, "bob@bravo.example", "member")
		analyst := f.user(t, f.authz.ID, "ana@ccb.example", "analyst")
		auditor := f.user(t, f.authz.ID, "aud@ccb.example", "auditor")
		name, email := "New", "new@acme.example"

		tests := []struct {
			name string
			ctx  context.Context
			org  int64
			role string
			want errs.Kind // 0 = ok (errs.Internal never expected)
		}{
			{"org admin adds member", as(aAdmin), a.ID, "member", -1},
			{"org admin adds authority role", as(aAdmin), a.ID, "analyst", errs.Invalid},
			{"org admin in other org", as(aAdmin), b.ID, "member", errs.Invalid},
			{"member adds user", as(aMember), a.ID, "member", errs.Forbidden},
			{"analyst adds user (cannot see the org)", as(analyst), a.ID, "member", errs.Invalid},
			{"auditor adds user", as(auditor), a.ID, "member", errs.Forbidden},
		}
		for i, tt := range tests {
			e := email
			if tt.want == -1 {
				e = "ok" + string(rune('a'+i)) + "@acme.example"
			}
			roles := []string{tt.role}
			_, _, err := f.svc.CreateUser(tt.ctx, identity.UserInput{OrgID: &tt.org, Email: &e, Name: &name, Roles: &roles})
			if tt.want == -1 {
				if err != nil {
					t.Errorf("%s: CreateUser = %v, want ok", tt.name, err)
				}
			} else if errs.KindOf(err) != tt.want {
				t.Errorf("%s: CreateUser = %v, want %v", tt.name, err, tt.want)
			}
		}
		// Reading across organisations is NotFound, not Forbidden.
		if _, err := f.svc.User(as(bMember), aMember.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("User(other org) = %v, want not found", err)
		}
		if _, err := f.svc.Organisation(as(bMember), a.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("Organisation(other org) = %v, want not found", err)
		}
		if _, err := f.svc.User(as(auditor), aMember.ID); err != nil {
			t.Errorf("auditor User = %v", err)
		}
		if orgs, _, _ := f.svc.Organisations(as(bMember), identity.OrgFilter{}); len(orgs) != 1 || orgs[0].ID != b.ID {
			t.Errorf("Organisations(member of B) = %d orgs, want only B", len(orgs))
		}
		if _, _, err := f.svc.Users(as(aMember), identity.UserFilter{}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("Users(member) = %v, want forbidden", err)
		}
		if us, _, _ := f.svc.Users(as(aAdmin), identity.UserFilter{OrgID: b.ID}); slices.ContainsFunc(us, func(u *identity.User) bool { return u.OrgID != a.ID }) {
			t.Errorf("Users(org admin, filter other org) leaked users of another organisation")
		}
		// Nobody locks themselves out, and the last administrator stays.
		admin, _ := f.svc.UserByEmail(f.sys, "admin@ccb.example")
		dis := true
		if _, err := f.svc.UpdateUser(as(admin), admin.ID, identity.UserInput{Disabled: &dis}); !errs.Is(err, errs.Conflict) {
			t.Errorf("admin disables self = %v, want conflict", err)
		}
		if _, err := f.svc.UpdateUser(f.sys, admin.ID, identity.UserInput{Disabled: &dis}); !errs.Is(err, errs.Conflict) {
			t.Errorf("disable last admin = %v, want conflict", err)
		}
		// Members may rename themselves but not change their roles.
		nn := "Ann B."
		if _, err := f.svc.UpdateUser(as(aMember), aMember.ID, identity.UserInput{Name: &nn}); err != nil {
			t.Errorf("member renames self = %v", err)
		}
		roles := []string{"org_admin"}
		if _, err := f.svc.UpdateUser(as(aMember), aMember.ID, identity.UserInput{Roles: &roles}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("member promotes self = %v, want forbidden", err)
		}
		// A disabled user cannot sign in and loses their sessions.
		tok, _, err := f.svc.Login(context.Background(), "ann@acme.example", "long enough password", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.UpdateUser(as(aAdmin), aMember.ID, identity.UserInput{Disabled: &dis}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Session(context.Background(), tok); !errs.Is(err, errs.Unauthenticated) {
			t.Errorf("session of disabled user = %v", err)
		}
		if _, _, err := f.svc.Login(context.Background(), "ann@acme.example", "long enough password", ""); !errs.Is(err, errs.Unauthenticated) {
			t.Errorf("Login(disabled) = %v", err)
		}
	})
}
