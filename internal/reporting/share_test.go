package reporting

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/i18n"
	"github.com/belfry-cert/belfry/internal/notify"
	"github.com/belfry-cert/belfry/internal/store"
)

func TestTLPOrder(t *testing.T) {
	order := []string{"clear", "green", "TLP:AMBER", "amber+strict", "TLP:RED"}
	for i := 1; i < len(order); i++ {
		if TLPRank(order[i-1]) >= TLPRank(order[i]) {
			t.Errorf("TLPRank(%q) = %d, not below TLPRank(%q) = %d", order[i-1], TLPRank(order[i-1]), order[i], TLPRank(order[i]))
		}
	}
	if got := TLPRank("white"); got != -1 {
		t.Errorf("TLPRank(white) = %d, want -1", got)
	}
	if got := TLPLabel("amber+strict"); got != "TLP:AMBER+STRICT" {
		t.Errorf("TLPLabel(amber+strict) = %q", got)
	}
}

// shareMailer captures the mail queued, in a transaction.
type shareMailer struct {
	mu   sync.Mutex
	msgs []notify.Message
}

func (m *shareMailer) Enqueue(_ context.Context, tx *store.Tx, msg notify.Message) error {
	if tx == nil {
		panic("mail queued outside a transaction")
	}
	if err := msg.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, msg)
	return nil
}

// shareFixture: organisation A registered in energy, with an incident
// whose early warning (TLP:AMBER) carries a notifier, an internal
// reference and two indicators, one marked TLP:RED; an internal note of
// the analyst; an authority administrator.
type shareFixture struct {
	*fixture
	admin *auth.Principal
	in    *Incident
	mail  *shareMailer
}

func newShareFixture(t *testing.T, db *store.DB) *shareFixture {
	t.Helper()
	f := &shareFixture{fixture: newFixture(t, db), mail: &shareMailer{}}
	ctx := context.Background()
	var authority int64
	if err := db.QueryRow(ctx, `SELECT org_id FROM users WHERE id = ?`, f.analyst.UserID).Scan(&authority); err != nil {
		t.Fatal(err)
	}
	var adminID int64
	if err := db.QueryRow(ctx, `INSERT INTO users (org_id, email, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		authority, "adm@ccb.example", "Adm", f.now, f.now).Scan(&adminID); err != nil {
		t.Fatal(err)
	}
	f.admin = &auth.Principal{UserID: adminID, OrgID: authority, OrgKind: "authority", Roles: []auth.Role{auth.RoleAdmin}}
	if _, err := db.Exec(ctx, `UPDATE organisations SET enterprise_number = ? WHERE id = ?`, "0123.456.749", f.a); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `INSERT INTO registrations (org_id, status, data, class, sectors, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		f.a, "approved", `{"facts":{"entity_types":["energy.electricity.dso"]}}`, "essential", " energy ", f.now, f.now); err != nil {
		t.Fatal(err)
	}
	f.svc.SetMail(f.mail, i18n.MustLoad(), "https://belfry.test/", nil)
	in, err := f.svc.CreateIncident(f.as(f.memberA), IncidentInput{Title: "Grid A substation ransomware", AwareAt: f.now.Add(-2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	ew := earlyWarning
	ew.CrossBorder, ew.AffectedCountries = "yes", []string{"FR"}
	ew.Notifier = &Person{Name: "Alice Notifier", Email: "alice@a.example"}
	ew.InternalReference = "INT-SECRET-42"
	ew.Indicators = []Indicator{{Type: "ip", Value: "198.51.100.7", TLP: "red"}, {Type: "domain", Value: "evil.example"}}
	if _, err := f.svc.Submit(f.as(f.memberA), in.ID, EarlyWarning, ew, SubmitOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AddNote(f.as(f.analyst), in.ID, "Internal note never shared"); err != nil {
		t.Fatal(err)
	}
	f.in = in
	return f
}

func (f *shareFixture) sectorAuthority(t *testing.T, name, email string, sectors ...string) *SectorAuthority {
	t.Helper()
	a, err := f.svc.SaveSectorAuthority(f.as(f.admin), 0, SectorAuthorityInput{Name: &name, Email: &email, Sectors: &sectors})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestShareExport: the document names the entity only when asked, never
// carries notes, contacts, internal references or indicators beyond the
// share's TLP, and the TLP rules hold.
func TestShareExport(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newShareFixture(t, db)
		if _, err := f.svc.ShareExport(f.as(f.memberA), f.in.ID, ShareRequest{Recipient: RecipientENISA}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("the entity exports = %v, want forbidden", err)
		}
		doc, err := f.svc.ShareExport(f.as(f.analyst), f.in.ID, ShareRequest{Recipient: RecipientENISA})
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := encodeShare(doc)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		if !strings.HasPrefix(text, "{\n  \"tlp\": \"TLP:AMBER\",") {
			t.Errorf("the document does not open with its TLP: %.80s", text)
		}
		ent := doc.Incident.Entity
		if ent.Name != "" || ent.EnterpriseNumber != "" || ent.Pseudonym != f.in.Ref {
			t.Errorf("entity without identity = %+v, want pseudonym %s only", ent, f.in.Ref)
		}
		if !slices.Equal(ent.Sectors, []string{"energy"}) || ent.Class != "essential" || !slices.Equal(ent.EntityTypes, []string{"energy.electricity.dso"}) {
			t.Errorf("entity facts = %+v", ent)
		}
		for _, secret := range []string{"Grid A", "0123.456.749", "Alice", "alice@a.example", "INT-SECRET-42", "Internal note never shared", "198.51.100.7"} {
			if strings.Contains(text, secret) {
				t.Errorf("the ENISA document contains %q", secret)
			}
		}
		if len(doc.Incident.Stages) != 1 {
			t.Fatalf("stages = %+v", doc.Incident.Stages)
		}
		st := doc.Incident.Stages[0]
		if st.Stage != EarlyWarning || !st.FirstSubmittedAt.Equal(f.now) || st.Content.Summary != earlyWarning.Summary ||
			st.Content.CrossBorder != "yes" || !slices.Equal(st.Content.AffectedCountries, []string{"FR"}) {
			t.Errorf("early warning shared = %+v", st)
		}
		if len(st.Content.Indicators) != 1 || st.Content.Indicators[0].Value != "evil.example" {
			t.Errorf("indicators at TLP:AMBER = %+v, want evil.example only", st.Content.Indicators)
		}

		// With identity, and at TLP:RED to a SPOC: name, number and the red indicator.
		doc, err = f.svc.ShareExport(f.as(f.analyst), f.in.ID, ShareRequest{Recipient: RecipientSPOC, Country: "fr", TLP: "TLP:RED", Identity: true})
		if err != nil {
			t.Fatal(err)
		}
		if e := doc.Incident.Entity; e.Name != "Grid A" || e.EnterpriseNumber != "0123.456.749" || e.Pseudonym != "" {
			t.Errorf("entity with identity = %+v", e)
		}
		if doc.TLP != "TLP:RED" || doc.Recipient.Country != "FR" || len(doc.Incident.Stages[0].Content.Indicators) != 2 {
			t.Errorf("SPOC document at TLP:RED = tlp %s, recipient %+v, indicators %+v", doc.TLP, doc.Recipient, doc.Incident.Stages[0].Content.Indicators)
		}

		// The TLP rules and the recipient's fields.
		regulator := f.sectorAuthority(t, "Energy Regulator", "cert@energy.example", "energy")
		for _, c := range []struct {
			name  string
			req   ShareRequest
			field string
		}{
			{"less restrictive than the entity's", ShareRequest{Recipient: RecipientENISA, TLP: "green"}, "tlp"},
			{"clear", ShareRequest{Recipient: RecipientSPOC, Country: "FR", TLP: "clear"}, "tlp"},
			{"red to ENISA", ShareRequest{Recipient: RecipientENISA, TLP: "red"}, "tlp"},
			{"red to a sector authority", ShareRequest{Recipient: RecipientSectorAuthority, SectorAuthorityID: regulator.ID, TLP: "red"}, "tlp"},
			{"red to the CSIRTs network", ShareRequest{Recipient: RecipientCSIRTNetwork, TLP: "red"}, "tlp"},
			{"unknown label", ShareRequest{Recipient: RecipientENISA, TLP: "white"}, "tlp"},
			{"SPOC without country", ShareRequest{Recipient: RecipientSPOC}, "country"},
			{"SPOC of a third country", ShareRequest{Recipient: RecipientSPOC, Country: "US"}, "country"},
			{"unknown sector authority", ShareRequest{Recipient: RecipientSectorAuthority, SectorAuthorityID: 999999}, "sector_authority_id"},
			{"no recipient", ShareRequest{}, "recipient"},
		} {
			_, err := f.svc.ShareExport(f.as(f.analyst), f.in.ID, c.req)
			if got := fields(t, err); !slices.Contains(got, c.field) {
				t.Errorf("%s: error fields %v, want %s", c.name, got, c.field)
			}
		}
		if _, err := f.svc.ShareExport(f.as(f.analyst), f.in.ID, ShareRequest{Recipient: RecipientSectorAuthority, SectorAuthorityID: regulator.ID, TLP: "amber+strict"}); err != nil {
			t.Errorf("amber+strict to a sector authority = %v", err)
		}

		// Nothing filed: nothing to share.
		empty, err := f.svc.CreateIncident(f.as(f.memberA), IncidentInput{Title: "Nothing filed yet", AwareAt: f.now.Add(-time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ShareExport(f.as(f.analyst), empty.ID, ShareRequest{Recipient: RecipientENISA}); !errs.Is(err, errs.Conflict) {
			t.Errorf("export of an incident with nothing filed = %v, want conflict", err)
		}
	})
}

// TestShareForwardAndRecord: forwarding to a sector authority mails the
// document with the TLP in the subject and on the first line, and records
// it with the SHA-256 of the bytes attached; a SPOC export is recorded as
// exported; both are audited; the entity may do neither.
func TestShareForwardAndRecord(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newShareFixture(t, db)
		name, email, sectors := "Health Regulator", "x@health.example", []string{"health"}
		if _, err := f.svc.SaveSectorAuthority(f.as(f.analyst), 0, SectorAuthorityInput{Name: &name, Email: &email, Sectors: &sectors}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("an analyst adds a sector authority = %v, want forbidden", err)
		}
		reg := f.sectorAuthority(t, "Energy Regulator", " cert@Energy.Example ", "energy")
		if reg.Email != "cert@energy.example" || !reg.Active {
			t.Errorf("sector authority = %+v", reg)
		}
		if _, err := f.svc.SaveSectorAuthority(f.as(f.admin), 0, SectorAuthorityInput{Name: &reg.Name, Email: &email, Sectors: &sectors}); !slices.Contains(fields(t, err), "name") {
			t.Errorf("a second authority of the same name = %v", err)
		}

		req := ShareRequest{Recipient: RecipientSectorAuthority, SectorAuthorityID: reg.ID}
		if _, _, err := f.svc.ShareIncident(f.as(f.memberA), f.in.ID, req); !errs.Is(err, errs.Forbidden) {
			t.Errorf("the entity shares = %v, want forbidden", err)
		}
		if _, _, err := f.svc.ShareIncident(f.as(f.auditor), f.in.ID, req); !errs.Is(err, errs.Forbidden) {
			t.Errorf("an auditor shares = %v, want forbidden", err)
		}
		sh, doc, err := f.svc.ShareIncident(f.as(f.analyst), f.in.ID, req)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(doc)
		if sh.Method != ShareMailed || sh.TLP != "amber" || sh.SHA256 != hex.EncodeToString(sum[:]) || sh.RecipientName != "Energy Regulator" {
			t.Errorf("share = %+v", sh)
		}
		if len(f.mail.msgs) != 1 {
			t.Fatalf("%d mails queued, want 1", len(f.mail.msgs))
		}
		m := f.mail.msgs[0]
		if !slices.Equal(m.To, []string{"cert@energy.example"}) || !strings.HasPrefix(m.Subject, "[TLP:AMBER] ") || !strings.Contains(m.Subject, f.in.Ref) ||
			!strings.HasPrefix(m.Text, "TLP:AMBER\n") {
			t.Errorf("mail to %v, subject %q, text %.40q", m.To, m.Subject, m.Text)
		}
		if len(m.Attachments) != 1 || string(m.Attachments[0].Data) != string(doc) || m.Attachments[0].ContentType != "application/json" {
			t.Errorf("attachments = %+v", m.Attachments)
		}

		if _, _, err := f.svc.ShareIncident(f.as(f.analyst), f.in.ID, ShareRequest{Recipient: RecipientSPOC, Country: "NL", Identity: true}); err != nil {
			t.Fatal(err)
		}
		shares, err := f.svc.Shares(f.as(f.analyst), f.in.ID)
		if err != nil || len(shares) != 2 || shares[0].Method != ShareExported || shares[0].Country != "NL" || !shares[0].Identity || shares[1].ID != sh.ID {
			t.Errorf("shares = %+v, %v", shares, err)
		}
		if len(f.mail.msgs) != 1 {
			t.Errorf("a SPOC export sent mail")
		}
		got, b, err := f.svc.ShareDocument(f.as(f.analyst), f.in.ID, sh.ID)
		if err != nil || got.SHA256 != sh.SHA256 || string(b) != string(doc) {
			t.Errorf("stored document differs from the one sent (%v)", err)
		}
		if _, _, err := f.svc.ShareDocument(f.as(f.memberA), f.in.ID, sh.ID); !errs.Is(err, errs.Forbidden) {
			t.Errorf("the entity reads a share = %v", err)
		}
		var audited int
		if err := db.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'incident.share' AND object_id = ? AND org_id = ?`,
			itoa(f.in.ID), f.a).Scan(&audited); err != nil || audited != 2 {
			t.Errorf("audited shares = %d, %v; want 2", audited, err)
		}

		// An inactive sector authority receives nothing.
		off := false
		if _, err := f.svc.SaveSectorAuthority(f.as(f.admin), reg.ID, SectorAuthorityInput{Active: &off}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.ShareIncident(f.as(f.analyst), f.in.ID, req); !slices.Contains(fields(t, err), "sector_authority_id") {
			t.Errorf("share to an inactive authority = %v", err)
		}
	})
}

// TestCrossBorderAssessment: the analyst's flag is validated, stored,
// audited and goes into the shared document.
func TestCrossBorderAssessment(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newShareFixture(t, db)
		if a, err := f.svc.CrossBorder(f.as(f.analyst), f.in.ID); a != nil || err != nil {
			t.Errorf("assessment before any = %+v, %v", a, err)
		}
		if _, err := f.svc.SetCrossBorder(f.as(f.memberA), f.in.ID, CrossBorderInput{CrossBorder: true, Countries: []string{"FR"}}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("the entity sets the flag = %v", err)
		}
		if _, err := f.svc.SetCrossBorder(f.as(f.analyst), f.in.ID, CrossBorderInput{CrossBorder: true}); !slices.Contains(fields(t, err), "affected_countries") {
			t.Errorf("cross-border without countries = %v", err)
		}
		if _, err := f.svc.SetCrossBorder(f.as(f.analyst), f.in.ID, CrossBorderInput{CrossBorder: true, Countries: []string{"XX"}}); !slices.Contains(fields(t, err), "affected_countries[0]") {
			t.Errorf("cross-border with an unknown country = %v", err)
		}
		a, err := f.svc.SetCrossBorder(f.as(f.analyst), f.in.ID, CrossBorderInput{CrossBorder: true, Countries: []string{"nl", "FR", "NL"}})
		if err != nil {
			t.Fatal(err)
		}
		if !a.CrossBorder || !slices.Equal(a.Countries, []string{"FR", "NL"}) || a.UpdatedBy != "ana" {
			t.Errorf("assessment = %+v", a)
		}
		doc, err := f.svc.ShareExport(f.as(f.analyst), f.in.ID, ShareRequest{Recipient: RecipientENISA})
		if err != nil {
			t.Fatal(err)
		}
		if got := doc.Incident.AuthorityAssessment; got == nil || !slices.Equal(got.Countries, []string{"FR", "NL"}) {
			t.Errorf("assessment in the document = %+v", got)
		}
		var audit string
		if err := db.QueryRow(context.Background(), `SELECT summary FROM audit_log WHERE action = 'incident.cross_border' AND object_id = ?`, itoa(f.in.ID)).Scan(&audit); err != nil {
			t.Fatal(err)
		}
		var sum struct{ After map[string]any }
		if err := json.Unmarshal([]byte(audit), &sum); err != nil || sum.After["cross_border"] != true {
			t.Errorf("audit summary = %s", audit)
		}
	})
}
