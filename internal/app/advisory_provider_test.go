package app_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/advisory"
	"github.com/belfry-cert/belfry/internal/app"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/csaf"
	"github.com/belfry-cert/belfry/internal/csaf/csaftest"
	"github.com/belfry-cert/belfry/internal/csaf/providercheck"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/identity"
	"github.com/belfry-cert/belfry/internal/store"
	"github.com/belfry-cert/belfry/internal/webtest"
)

// selfSigned writes a certificate and key for 127.0.0.1 into dir and
// returns their files and a pool that trusts the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func principalOf(u *identity.User) *auth.Principal {
	return &auth.Principal{UserID: u.ID, OrgID: u.OrgID, OrgKind: string(u.OrgKind), Email: u.Email, Roles: u.Roles}
}

// publishAdvisory writes, reviews and publishes an advisory about one
// product, as two analysts.
func publishAdvisory(t *testing.T, svc *advisory.Service, author, reviewer *auth.Principal, title, tlp, vendor string,
	orgs, users []int64) *advisory.Advisory {
	t.Helper()
	actx, rctx := auth.With(context.Background(), author), auth.With(context.Background(), reviewer)
	a, err := svc.Create(actx, advisory.NewInput{Title: title, Lang: "en", TLP: tlp})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Edit(actx, a.ID, func(d *csaf.Document) error {
		cvss, err := csaf.CVSS3JSON("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N")
		if err != nil {
			return err
		}
		d.Document.Notes = []csaf.Note{{Category: "summary", Title: "Summary", Text: title + "."}}
		d.Document.References = []csaf.Reference{{Category: "external", Summary: "Vendor advisory", URL: "https://" + strings.ToLower(strings.ReplaceAll(vendor, " ", "")) + ".example/psirt"}}
		d.ProductTree = &csaf.ProductTree{Branches: []csaf.Branch{{Category: "vendor", Name: vendor, Branches: []csaf.Branch{
			{Category: "product_name", Name: "Gateway", Branches: []csaf.Branch{
				{Category: "product_version", Name: "1.0", Product: &csaf.FullProductName{Name: vendor + " Gateway 1.0", ProductID: "P1"}},
				{Category: "product_version", Name: "1.1", Product: &csaf.FullProductName{Name: vendor + " Gateway 1.1", ProductID: "P2"}}}}}}}}
		d.Vulnerabilities = []csaf.Vulnerability{{CVE: "CVE-2026-40001", Title: "Authentication bypass",
			Notes:         []csaf.Note{{Category: "description", Text: "A crafted request skips authentication."}},
			ProductStatus: &csaf.ProductStatus{KnownAffected: []string{"P1"}, Fixed: []string{"P2"}},
			Remediations:  []csaf.Remediation{{Category: "vendor_fix", Details: "Update to 1.1.", ProductIDs: []string{"P1"}}},
			Scores:        []csaf.ScoreSet{{CVSSv3: cvss, Products: []string{"P1"}}}}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if orgs != nil || users != nil {
		if _, err := svc.SetRecipients(actx, a.ID, orgs, users); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Submit(actx, a.ID, advisory.SubmitInput{Status: "final", Summary: "Initial version"}); err != nil {
		t.Fatal(err)
	}
	a, err = svc.Approve(rctx, a.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestCSAFTrustedProvider is the "done when" for publication: a
// Belfry serving HTTPS on 127.0.0.1 passes requirements 1-9 and 11-20 of
// CSAF 2.0 section 7.1 as checked by providercheck (written from the
// standard, not from Belfry's tree) with a staff token; without
// credentials everything passes but the protected directories, which
// answer 401; and the TLP folders answer each reader only what TLP lets
// them read.
func TestCSAFTrustedProvider(t *testing.T) {
	csaftest.Use(t)
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		certFile, keyFile, pool := selfSigned(t, t.TempDir())
		e := webtest.NewWith(t, db, false, func(c *app.Config) { c.TLSCert, c.TLSKey = certFile, keyFile })
		svc := e.App.Advisories
		admin := principalOf(mustUser(t, e, "admin"))
		anna := e.User(t, admin.OrgID, "anna@ccb.example", "analyst")
		ben := e.User(t, admin.OrgID, "ben@ccb.example", "analyst")
		grid := e.Org(t, "Grid A", "entity")
		water := e.Org(t, "Water B", "entity")
		gridSOC := e.User(t, grid.ID, "soc@grid.example", "member")
		waterSOC := e.User(t, water.ID, "soc@water.example", "member")

		// The key and a first advisory in 2025 (a year folder of its
		// own), the others now.
		past := time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC)
		svc.SetClock(func() time.Time { return past })
		if _, err := svc.GenerateKey(auth.With(context.Background(), admin), "CCB CSAF", "csaf@ccb.example"); err != nil {
			t.Fatal(err)
		}
		old := publishAdvisory(t, svc, principalOf(anna), principalOf(ben), "Example Networks Gateway bypass", "WHITE", "Example Networks", nil, nil)
		svc.SetClock(time.Now)
		white := publishAdvisory(t, svc, principalOf(anna), principalOf(ben), "Acme Router bypass", "WHITE", "Acme", nil, nil)
		amber := publishAdvisory(t, svc, principalOf(anna), principalOf(ben), "Grid SCADA bypass", "AMBER", "Gridtech", []int64{grid.ID}, nil)
		red := publishAdvisory(t, svc, principalOf(ben), principalOf(anna), "Water PLC bypass", "RED", "Plcworks", nil, []int64{waterSOC.ID})
		// A second version of the old advisory: its year folder stays 2025.
		if _, err := svc.Revise(auth.With(context.Background(), principalOf(anna)), old.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Submit(auth.With(context.Background(), principalOf(anna)), old.ID, advisory.SubmitInput{Status: "final", Summary: "Fixed version named"}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Approve(auth.With(context.Background(), principalOf(ben)), old.ID, nil); err != nil {
			t.Fatal(err)
		}

		// Serve HTTPS with the instance's own TLS configuration.
		ctx, cancel := context.WithCancel(t.Context())
		addrc := make(chan string, 1)
		done := make(chan error, 1)
		go func() { done <- e.App.Serve(ctx, func(addr string) { addrc <- addr }) }()
		defer func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		}()
		var base string
		select {
		case addr := <-addrc:
			base = "https://" + addr
		case err := <-done:
			t.Fatalf("Serve: %v", err)
		}
		client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		validate := func(doc []byte) []string {
			rep, err := csaf.Validate(doc, csaf.PresetMandatory)
			if err != nil {
				return []string{err.Error()}
			}
			var out []string
			for _, f := range rep.Findings {
				if f.Level == csaf.Mandatory {
					out = append(out, f.Test+" "+f.Path+": "+f.Message)
				}
			}
			return out
		}
		staffToken := e.Token(t, anna, "read")
		for _, tc := range []struct {
			name   string
			header http.Header
		}{
			{"staff token", http.Header{"Authorization": {"Bearer " + staffToken}}},
			{"no credentials", nil},
		} {
			rep, err := providercheck.Check(t.Context(), base, providercheck.Options{Client: client, Header: tc.header, Validate: validate})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rep.Requirements {
				if r.Num == 10 { // the DNS name csaf.data.security.127.0.0.1 cannot exist
					continue
				}
				if tc.header == nil {
					// Without credentials the GREEN, AMBER and RED
					// directories answer 401: the only errors allowed,
					// under 12-14 (the BSI checker reports the same).
					for _, m := range r.Messages {
						if m.Level == providercheck.LevelError && !protected401(m.Text) {
							t.Errorf("%s: requirement %d (%s): %s", tc.name, r.Num, r.Title, m.Text)
						}
					}
					if !r.Passed && (r.Num < 12 || r.Num > 14) {
						t.Errorf("%s: requirement %d (%s) failed: %+v", tc.name, r.Num, r.Title, r.Messages)
					}
					continue
				}
				if !r.Passed || hasErrors(r) {
					t.Errorf("%s: requirement %d (%s) failed: %+v", tc.name, r.Num, r.Title, r.Messages)
				}
			}
			if f := rep.Failed(); tc.header != nil && len(f) != 0 {
				t.Errorf("%s: failed requirements %+v", tc.name, f)
			}
			if tc.header != nil && rep.Documents != 4 {
				t.Errorf("%s: the checker found %d documents, want 4", tc.name, rep.Documents)
			}
		}

		// TLP per reader, on the documents' URLs.
		get := func(path, token string) (int, []byte) {
			req, _ := http.NewRequest("GET", base+path, nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res.StatusCode, b
		}
		gridToken, waterToken := e.Token(t, gridSOC, "read"), e.Token(t, waterSOC, "read")
		docs := map[string]*advisory.Advisory{"white": white, "amber": amber, "red": red}
		want := map[string]map[string]int{
			"":      {"white": 200, "amber": 401, "red": 401},
			"grid":  {"white": 200, "amber": 200, "red": 404},
			"water": {"white": 200, "amber": 404, "red": 200},
		}
		tokens := map[string]string{"": "", "grid": gridToken, "water": waterToken}
		for who, wants := range want {
			for label, a := range docs {
				v, err := svc.VersionContent(auth.With(context.Background(), admin), a.TrackingID, 0)
				if err != nil {
					t.Fatal(err)
				}
				path := advisory.DocumentPath(v.TLP, v.Year, v.FileName)
				for _, suffix := range []string{"", ".sha256", ".asc"} {
					st, body := get(path+suffix, tokens[who])
					if st != wants[label] {
						t.Errorf("reader %q GET %s%s = %d, want %d", who, path, suffix, st, wants[label])
					}
					if suffix == "" && st == 200 && !bytes.Equal(body, v.Content) {
						t.Errorf("reader %q: %s differs from the published bytes", who, path)
					}
				}
				// The folder's index lists the document only for those who may read it.
				st, index := get("/.well-known/csaf/"+advisory.Folder(v.TLP)+"/index.txt", tokens[who])
				listed := st == 200 && strings.Contains(string(index), v.FileName)
				if listed != (wants[label] == 200) {
					t.Errorf("reader %q: index of %s lists %s: %v (status %d)", who, label, v.FileName, listed, st)
				}
			}
		}
		// The older version's bytes are not served in the tree but stay
		// available, unchanged, by version.
		v1, err := svc.VersionContent(context.Background(), old.TrackingID, 1)
		if err != nil {
			t.Fatal(err)
		}
		v2, err := svc.VersionContent(context.Background(), old.TrackingID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if v1.Year != 2025 || v2.Year != 2025 || bytes.Equal(v1.Content, v2.Content) {
			t.Errorf("versions of %s: years %d/%d", old.TrackingID, v1.Year, v2.Year)
		}
		_, served := get(advisory.DocumentPath("WHITE", 2025, v2.FileName), "")
		if !bytes.Equal(served, v2.Content) {
			t.Error("the tree does not serve the newest version")
		}
	})
}

// protected401 reports whether a checker's error is a protected folder
// refusing a caller without credentials.
func protected401(text string) bool {
	for _, folder := range []string{"/green/", "/amber/", "/red/"} {
		if strings.Contains(text, folder) && (strings.Contains(text, "401") || strings.HasPrefix(text, "no directory listing at")) {
			return true
		}
	}
	return false
}

func hasErrors(r providercheck.Requirement) bool {
	for _, m := range r.Messages {
		if m.Level == providercheck.LevelError {
			return true
		}
	}
	return false
}

// mustUser returns the user with this e-mail prefix of the bootstrap
// (the administrator).
func mustUser(t *testing.T, e *webtest.Env, _ string) *identity.User {
	t.Helper()
	u, err := e.App.Identity.UserByEmail(webtest.System(), e.AdminEmail)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
