package advisory

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/csaf"
	"github.com/belfry-cert/belfry/internal/csaf/csaftest"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
)

type fixture struct {
	db                *store.DB
	svc               *Service
	now               time.Time
	orgA, orgB        int64
	author, reviewer  *auth.Principal
	auditor, memberA  *auth.Principal
	memberB, admin    *auth.Principal
	anonymous         context.Context
	authorCtx, revCtx context.Context
}

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	csaftest.Use(t)
	ctx := context.Background()
	f := &fixture{db: db, now: time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)}
	key := bytes.Repeat([]byte{7}, 32)
	svc, err := NewService(db, slog.New(slog.DiscardHandler), Config{Prefix: "CCB", BaseURL: "https://belfry.example",
		Publisher: csaf.Publisher{Name: "Centre for Cybersecurity Belgium", Namespace: "https://ccb.belgium.be"}, Version: "test"}, key)
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	svc.SetClock(func() time.Time { return f.now })
	org := func(name, kind string) int64 {
		var id int64
		if err := db.QueryRow(ctx, `INSERT INTO organisations (name, kind, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id`, name, kind, f.now, f.now).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	user := func(org int64, kind, email string, roles ...auth.Role) *auth.Principal {
		var id int64
		if err := db.QueryRow(ctx, `INSERT INTO users (org_id, email, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			org, email, strings.Split(email, "@")[0], f.now, f.now).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return &auth.Principal{UserID: id, OrgID: org, OrgKind: kind, Email: email, Roles: roles}
	}
	authority := org("CCB", "authority")
	f.orgA, f.orgB = org("Grid A", "entity"), org("Water B", "entity")
	f.author = user(authority, "authority", "ana@ccb.example", auth.RoleAnalyst)
	f.reviewer = user(authority, "authority", "rev@ccb.example", auth.RoleAnalyst)
	f.auditor = user(authority, "authority", "aud@ccb.example", auth.RoleAuditor)
	f.admin = user(authority, "authority", "admin@ccb.example", auth.RoleAdmin)
	f.memberA = user(f.orgA, "entity", "soc@a.example", auth.RoleMember)
	f.memberB = user(f.orgB, "entity", "soc@b.example", auth.RoleMember)
	f.authorCtx, f.revCtx = f.as(f.author), f.as(f.reviewer)
	f.anonymous = context.Background()
	if _, err := svc.GenerateKey(f.as(f.admin), "CCB CSAF", "csaf@ccb.example"); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) as(p *auth.Principal) context.Context { return auth.With(context.Background(), p) }

// fill gives a draft a product and a vulnerability, as the editor does.
func fill(d *csaf.Document) error {
	d.Document.Notes = []csaf.Note{{Category: "summary", Title: "Summary", Text: "A remote code execution flaw in Example Gateway."}}
	d.Document.References = []csaf.Reference{{Category: "external", Summary: "Vendor advisory", URL: "https://vendor.example/sa-1"}}
	d.ProductTree = &csaf.ProductTree{Branches: []csaf.Branch{{Category: "vendor", Name: "Example Networks", Branches: []csaf.Branch{
		{Category: "product_name", Name: "Example Gateway", Branches: []csaf.Branch{
			{Category: "product_version", Name: "4.2.1", Product: &csaf.FullProductName{Name: "Example Gateway 4.2.1", ProductID: "EG-421"}},
			{Category: "product_version", Name: "4.2.2", Product: &csaf.FullProductName{Name: "Example Gateway 4.2.2", ProductID: "EG-422"}},
		}}}}}}
	cvss, err := csafCVSS("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
	if err != nil {
		return err
	}
	d.Vulnerabilities = []csaf.Vulnerability{{CVE: "CVE-2026-12345", Title: "Remote code execution",
		Notes:         []csaf.Note{{Category: "description", Text: "Unauthenticated requests run code."}},
		ProductStatus: &csaf.ProductStatus{KnownAffected: []string{"EG-421"}, Fixed: []string{"EG-422"}},
		Remediations:  []csaf.Remediation{{Category: "vendor_fix", Details: "Update to 4.2.2.", ProductIDs: []string{"EG-421"}}},
		Scores:        []csaf.ScoreSet{{CVSSv3: cvss, Products: []string{"EG-421"}}},
		Threats:       []csaf.Threat{{Category: "impact", Details: "Full compromise of the gateway.", ProductIDs: []string{"EG-421"}}}}}
	return nil
}

// csafCVSS is the FIRST JSON of a CVSS 3.1 vector, computed by hand for
// the one vector the tests use.
func csafCVSS(vector string) (map[string]any, error) {
	return map[string]any{"version": "3.1", "vectorString": vector, "baseScore": 9.8, "baseSeverity": "CRITICAL",
		"attackVector": "NETWORK", "attackComplexity": "LOW", "privilegesRequired": "NONE", "userInteraction": "NONE",
		"scope": "UNCHANGED", "confidentialityImpact": "HIGH", "integrityImpact": "HIGH", "availabilityImpact": "HIGH"}, nil
}

func TestWorkflowPublishesSignedImmutableVersions(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		a, err := f.svc.Create(f.authorCtx, NewInput{Title: "Example Gateway: remote code execution", Lang: "en", TLP: "WHITE"})
		if err != nil {
			t.Fatal(err)
		}
		if a.TrackingID != "CCB-2026-0001" || a.State != StateDraft {
			t.Fatalf("created %s in %s", a.TrackingID, a.State)
		}
		// An empty advisory is refused at submission with the tests that fail.
		if _, err := f.svc.Submit(f.authorCtx, a.ID, SubmitInput{}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("Submit(empty) = %v, want Invalid", err)
		}
		if _, err := f.svc.Edit(f.authorCtx, a.ID, fill); err != nil {
			t.Fatal(err)
		}
		prep, err := f.svc.Prepare(f.authorCtx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !prep.Report.Valid {
			t.Fatalf("prepared document invalid: %+v", prep.Report.Findings)
		}
		if _, err := f.svc.Submit(f.authorCtx, a.ID, SubmitInput{Status: "final", Summary: "Initial version"}); err != nil {
			t.Fatal(err)
		}
		// Four eyes: the author cannot approve, nor an auditor.
		if _, err := f.svc.Approve(f.authorCtx, a.ID, nil); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("Approve(author) = %v, want Forbidden", err)
		}
		if _, err := f.svc.Approve(f.as(f.auditor), a.ID, nil); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("Approve(auditor) = %v, want Forbidden", err)
		}
		f.now = f.now.Add(time.Hour)
		a, err = f.svc.Approve(f.revCtx, a.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if a.State != StatePublished || a.Published == nil || a.Published.Version != 1 || a.Published.Severity != "critical" {
			t.Fatalf("after approval: %+v %+v", a, a.Published)
		}
		v1, err := f.svc.VersionContent(f.anonymous, a.TrackingID, 0)
		if err != nil {
			t.Fatal(err)
		}
		checkVersion(t, f, v1)
		doc, err := csaf.DecodeDocument(v1.Content)
		if err != nil {
			t.Fatal(err)
		}
		tr := doc.Document.Tracking
		if tr.Version != "1" || tr.Status != "final" || tr.CurrentReleaseDate != "2026-11-28T10:30:00Z" || len(tr.RevisionHistory) != 1 {
			t.Errorf("tracking of v1: %+v", tr)
		}
		if v1.FileName != "ccb-2026-0001.json" || v1.Year != 2026 {
			t.Errorf("v1 file %s year %d", v1.FileName, v1.Year)
		}

		// A new revision: v1's bytes never change.
		if _, err := f.svc.Revise(f.authorCtx, a.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Edit(f.authorCtx, a.ID, func(d *csaf.Document) error {
			d.Vulnerabilities[0].Threats = append(d.Vulnerabilities[0].Threats, csaf.Threat{Category: "exploit_status", Details: "Exploited in the wild."})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Submit(f.authorCtx, a.ID, SubmitInput{Status: "final", Summary: "Exploitation seen"}); err != nil {
			t.Fatal(err)
		}
		f.now = f.now.Add(24 * time.Hour)
		at := f.now.Add(2 * time.Hour)
		if a, err = f.svc.Approve(f.revCtx, a.ID, &at); err != nil || a.State != StateScheduled {
			t.Fatalf("schedule: %v %v", a, err)
		}
		if n, err := f.svc.PublishDue(context.Background()); err != nil || n != 0 {
			t.Fatalf("PublishDue before time = %d, %v", n, err)
		}
		f.now = at
		if n, err := f.svc.PublishDue(context.Background()); err != nil || n != 1 {
			t.Fatalf("PublishDue at time = %d, %v", n, err)
		}
		v2, err := f.svc.VersionContent(f.anonymous, a.TrackingID, 0)
		if err != nil {
			t.Fatal(err)
		}
		checkVersion(t, f, v2)
		old, err := f.svc.VersionContent(f.anonymous, a.TrackingID, 1)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(old.Content, v1.Content) || old.SHA256 != v1.SHA256 {
			t.Error("publishing v2 changed v1's bytes")
		}
		d2, _ := csaf.DecodeDocument(v2.Content)
		if d2.Document.Tracking.Version != "2" || d2.Document.Tracking.InitialReleaseDate != tr.InitialReleaseDate ||
			len(d2.Document.Tracking.RevisionHistory) != 2 || d2.Document.Tracking.RevisionHistory[1].Summary != "Exploitation seen" {
			t.Errorf("tracking of v2: %+v", d2.Document.Tracking)
		}
		// The database refuses to change or delete a published version.
		if _, err := db.Exec(context.Background(), `UPDATE advisory_versions SET sha256 = 'x' WHERE advisory_id = ?`, a.ID); err == nil {
			t.Error("a published version was updated")
		}
		if _, err := db.Exec(context.Background(), `DELETE FROM advisory_versions WHERE advisory_id = ?`, a.ID); err == nil {
			t.Error("a published version was deleted")
		}
		h, err := f.svc.History(f.authorCtx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range h {
			actions = append(actions, e.Action)
		}
		want := "create edit submit approve publish revise edit submit schedule publish"
		if got := strings.Join(actions, " "); got != want {
			t.Errorf("history = %s, want %s", got, want)
		}
	})
}

// checkVersion checks the hashes and the signature of a published version
// against its bytes and the published key.
func checkVersion(t *testing.T, f *fixture, v *Version) {
	t.Helper()
	s256, s512 := sha256.Sum256(v.Content), sha512.Sum512(v.Content)
	if v.SHA256 != hex.EncodeToString(s256[:]) || v.SHA512 != hex.EncodeToString(s512[:]) {
		t.Error("hashes do not match the bytes")
	}
	pub, err := f.svc.PublicKey(context.Background(), v.KeyFingerprint)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := openpgp.ReadArmoredKeyRing(strings.NewReader(pub))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openpgp.CheckArmoredDetachedSignature(kr, bytes.NewReader(v.Content), strings.NewReader(v.Signature), &packet.Config{Time: func() time.Time { return f.now }}); err != nil {
		t.Errorf("signature: %v", err)
	}
	rep, err := csaf.Validate(v.Content, csaf.PresetMandatory)
	if err != nil || !rep.Valid {
		t.Errorf("published version invalid: %v %+v", err, rep)
	}
}

func TestTLPReadAccess(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		publish := func(tlp string, orgs, users []int64) string {
			a, err := f.svc.Create(f.authorCtx, NewInput{Title: "Advisory " + tlp, Lang: "en", TLP: tlp})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Edit(f.authorCtx, a.ID, fill); err != nil {
				t.Fatal(err)
			}
			if orgs != nil || users != nil {
				if _, err := f.svc.SetRecipients(f.authorCtx, a.ID, orgs, users); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := f.svc.Submit(f.authorCtx, a.ID, SubmitInput{}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Approve(f.revCtx, a.ID, nil); err != nil {
				t.Fatal(err)
			}
			return a.TrackingID
		}
		white := publish("WHITE", nil, nil)
		green := publish("GREEN", nil, nil)
		amber := publish("AMBER", []int64{f.orgA}, nil)
		red := publish("RED", nil, []int64{f.memberB.UserID})
		readers := map[string]context.Context{"anonymous": f.anonymous, "memberA": f.as(f.memberA), "memberB": f.as(f.memberB),
			"auditor": f.as(f.auditor)}
		want := map[string]map[string]bool{
			"anonymous": {white: true},
			"memberA":   {white: true, green: true, amber: true},
			"memberB":   {white: true, green: true, red: true},
			"auditor":   {white: true, green: true, amber: true, red: true},
		}
		for who, ctx := range readers {
			for _, tid := range []string{white, green, amber, red} {
				_, err := f.svc.VersionContent(ctx, tid, 0)
				if got := err == nil; got != want[who][tid] {
					t.Errorf("%s reads %s: %v, want %v", who, tid, err, want[who][tid])
				}
				_, _, err = f.svc.Public(ctx, tid)
				if got := err == nil; got != want[who][tid] {
					t.Errorf("%s opens %s: %v, want %v", who, tid, err, want[who][tid])
				}
			}
			list, n, err := f.svc.List(ctx, ListFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if n != len(want[who]) || len(list) != n {
				t.Errorf("%s lists %d advisories, want %d", who, n, len(want[who]))
			}
		}
		// AMBER needs recipient organisations, RED named people.
		a, _ := f.svc.Create(f.authorCtx, NewInput{Title: "No audience", Lang: "en", TLP: "RED"})
		f.svc.Edit(f.authorCtx, a.ID, fill)
		if _, err := f.svc.Submit(f.authorCtx, a.ID, SubmitInput{}); !errs.Is(err, errs.Invalid) {
			t.Errorf("Submit(RED without recipients) = %v, want Invalid", err)
		}
	})
}
