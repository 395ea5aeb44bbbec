package reporting

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
)

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestAttachmentCipher(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	c, err := newAttachmentCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("%PDF-1.7 evidence")
	sum := hexSum(plain)
	nonce, ct := c.encrypt(42, sum, plain)
	if bytes.Contains(ct, []byte("evidence")) {
		t.Fatal("ciphertext contains the plaintext")
	}
	if got, err := c.decrypt(c.keyID, 42, sum, nonce, ct); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("round trip = %q, %v", got, err)
	}
	nonce2, _ := c.encrypt(42, sum, plain)
	if bytes.Equal(nonce, nonce2) {
		t.Error("two encryptions share a nonce")
	}

	other, _ := newAttachmentCipher(bytes.Repeat([]byte{8}, 32))
	if _, err := other.decrypt(c.keyID, 42, sum, nonce, ct); err == nil || !strings.Contains(err.Error(), c.keyID) {
		t.Errorf("decrypt with another key = %v, want an error naming key %s", err, c.keyID)
	}
	// Another key that claims the row's key id still fails to open it.
	if _, err := other.decrypt(other.keyID, 42, sum, nonce, ct); err == nil {
		t.Error("another key opened the ciphertext")
	}
	tampered := bytes.Clone(ct)
	tampered[3] ^= 1
	if _, err := c.decrypt(c.keyID, 42, sum, nonce, tampered); err == nil {
		t.Error("a changed ciphertext decrypted")
	}
	if _, err := c.decrypt(c.keyID, 43, sum, nonce, ct); err == nil {
		t.Error("the ciphertext of incident 42 decrypted as incident 43's")
	}
	// A row whose stored hash is not the plaintext's: the additional data
	// binds the hash, so encrypting under a wrong hash and reading it back
	// under that hash is the only way to get past Open.
	wrong := hexSum([]byte("other"))
	n3, ct3 := c.encrypt(42, wrong, plain)
	if _, err := c.decrypt(c.keyID, 42, wrong, n3, ct3); err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Errorf("plaintext of another hash = %v, want a SHA-256 error", err)
	}
	if _, err := newAttachmentCipher(key[:16]); err == nil {
		t.Error("a 16-byte key was accepted")
	}
}

func TestDetectType(t *testing.T) {
	pcap := append([]byte("\xd4\xc3\xb2\xa1\x02\x00\x04\x00"), make([]byte, 16)...)
	pcapng := append([]byte("\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x4d\x3c\x2b\x1a"), make([]byte, 16)...)
	zip := append([]byte("PK\x03\x04\x14\x00\x00\x00"), make([]byte, 30)...)
	mail := "From: soc@a.example\r\nSubject: phishing\r\nDate: Mon, 2 Nov 2026 10:00:00 +0100\r\n\r\nClick here\r\n"
	for _, tt := range []struct {
		name, content, media, code string
	}{
		{"report.pdf", "%PDF-1.7\n1 0 obj\n", "application/pdf", ""},
		{"report.PDF", "%PDF-1.4\n", "application/pdf", ""},
		{"report.pdf", "<html><script>alert(1)</script></html>", "", "err.att.type_mismatch"},
		{"shot.png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png", ""},
		{"shot.png", "%PDF-1.7", "", "err.att.type_mismatch"},
		{"photo.jpeg", "\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg", ""},
		{"photo.jpg", "\xff\xd8\xff\xdb\x00\x43", "image/jpeg", ""},
		{"notes.txt", "Firewall log excerpt\nline 2\n", "text/plain", ""},
		{"notes.txt", "<!DOCTYPE html><html><body>hi</body></html>", "", "err.att.type_mismatch"},
		{"notes.txt", "\xff\xfeb\x00a\x00d\x00", "", "err.att.type_mismatch"},
		{"notes.txt", "binary\x00data", "", "err.att.type_mismatch"},
		{"fw.log", "2026-11-02T10:00:00Z DROP 10.0.0.1\n", "text/plain", ""},
		{"iocs.csv", "type,value\nip,192.0.2.1\n", "text/csv", ""},
		{"iocs.json", `{"ip": "192.0.2.1"}`, "application/json", ""},
		{"iocs.json", `{"ip": `, "", "err.att.type_mismatch"},
		{"stix.xml", `<?xml version="1.0"?><stix><indicator/></stix>`, "application/xml", ""},
		{"stix.xml", `<stix><unclosed></stix>`, "", "err.att.type_mismatch"},
		{"phish.eml", mail, "message/rfc822", ""},
		{"phish.eml", "just some words without headers", "", "err.att.type_mismatch"},
		{"logs.zip", string(zip), "application/zip", ""},
		{"logs.zip", "%PDF-1.7", "", "err.att.type_mismatch"},
		{"logs.7z", "7z\xbc\xaf\x27\x1c\x00\x04", "application/x-7z-compressed", ""},
		{"traffic.pcap", string(pcap), "application/vnd.tcpdump.pcap", ""},
		{"traffic.pcap", string(pcapng), "", "err.att.type_mismatch"},
		{"traffic.pcapng", string(pcapng), "application/x-pcapng", ""},
		{"traffic.pcapng", string(pcap), "", "err.att.type_mismatch"},
		{"page.html", "<html></html>", "", "err.att.type_not_allowed"},
		{"setup.exe", "MZ\x90\x00", "", "err.att.type_not_allowed"},
		{"image.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>", "", "err.att.type_not_allowed"},
		{"noextension", "%PDF-1.7", "", "err.att.type_not_allowed"},
	} {
		media, code := detectType(tt.name, []byte(tt.content))
		if media != tt.media || code != tt.code {
			t.Errorf("detectType(%q, %.20q) = %q, %q; want %q, %q", tt.name, tt.content, media, code, tt.media, tt.code)
		}
	}
}

func TestCleanName(t *testing.T) {
	long := strings.Repeat("é", 200) + ".pdf"
	for _, tt := range []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{"../../etc/passwd.txt", "passwd.txt"},
		{`C:\Users\soc\Desktop\log.txt`, "log.txt"},
		{"evil\x00name\r\n.pdf", "evilname.pdf"},
		{"invoice\u202etxt.pdf", "invoicetxt.pdf"}, // right-to-left override
		{"  .hidden.txt. ", "hidden.txt"},
		{`a<b>c:d"e|f?g*.txt`, "a_b_c_d_e_f_g_.txt"},
		{"tab\there.txt", "tab here.txt"},
		{"e\u0301cole.txt", "\u00e9cole.txt"}, // NFC
		{"bad\xffutf8.txt", "badutf8.txt"},
		{"/", ""},
		{"...", ""},
		{long, strings.Repeat("é", maxNameRunes-4) + ".pdf"},
	} {
		if got := cleanName(tt.in); got != tt.want {
			t.Errorf("cleanName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"20MB", 20 << 20, true}, {"512kb", 512 << 10, true}, {"1 GiB", 1 << 30, true}, {"1000", 1000, true},
		{"", 0, false}, {"0", 0, false}, {"-1MB", 0, false}, {"twenty", 0, false}, {"20TB", 0, false},
	} {
		got, err := ParseSize(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// TestAttachments: add, list, seal on submit, refuse deleting a sealed
// file (in the service and in the database), who sees what, and that a
// changed ciphertext or another key never yields bytes.
func TestAttachments(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		if err := f.svc.SetAttachmentKey(bytes.Repeat([]byte{1}, 32)); err != nil {
			t.Fatal(err)
		}
		f.svc.SetAttachmentMaxSize(1 << 10)
		ctx := f.as(f.memberA)
		in, err := f.svc.CreateIncident(ctx, IncidentInput{Title: "Outage", AwareAt: f.now.Add(-time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		pdf := []byte("%PDF-1.7\nforensics")
		a, err := f.svc.AddAttachment(ctx, in.ID, Upload{Stage: EarlyWarning, Name: "../forensics.pdf", DeclaredType: "application/pdf; x=1", Data: pdf})
		if err != nil {
			t.Fatal(err)
		}
		if a.Name != "forensics.pdf" || a.SHA256 != hexSum(pdf) || a.Size != int64(len(pdf)) || a.MediaType != "application/pdf" || a.DeclaredType != "application/pdf" || a.Sealed() {
			t.Errorf("added %+v", a)
		}
		var stored []byte
		if err := db.QueryRow(ctx, `SELECT ciphertext FROM report_attachments WHERE id = ?`, a.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(stored, []byte("forensics")) {
			t.Error("the database holds the plaintext")
		}

		for name, u := range map[string]struct {
			up   Upload
			kind errs.Kind
		}{
			"too large": {Upload{Stage: EarlyWarning, Name: "big.txt", Data: bytes.Repeat([]byte("a"), 1<<10+1)}, errs.TooLarge},
			"empty":     {Upload{Stage: EarlyWarning, Name: "empty.txt"}, errs.Invalid},
			"html":      {Upload{Stage: EarlyWarning, Name: "x.pdf", Data: []byte("<html></html>")}, errs.Unsupported},
			"stage":     {Upload{Stage: "csirt_feedback", Name: "x.pdf", Data: pdf}, errs.Invalid},
		} {
			if _, err := f.svc.AddAttachment(ctx, in.ID, u.up); errs.KindOf(err) != u.kind {
				t.Errorf("%s: err = %v, want kind %v", name, err, u.kind)
			} else if e, _ := errs.As(err); len(e.Fields) != 1 {
				t.Errorf("%s: fields %v, want one", name, e.Fields)
			}
		}
		if _, err := f.svc.AddAttachment(f.as(f.adminB), in.ID, Upload{Stage: EarlyWarning, Name: "x.pdf", Data: pdf}); !errs.Is(err, errs.NotFound) {
			t.Errorf("another organisation adds: %v, want not found", err)
		}
		if _, err := f.svc.AddAttachment(f.as(f.analyst), in.ID, Upload{Stage: EarlyWarning, Name: "x.pdf", Data: pdf}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("the analyst adds: %v, want forbidden", err)
		}
		// The authority sees nothing before it is filed.
		if as, err := f.svc.Attachments(f.as(f.analyst), in.ID, ""); err != nil || len(as) != 0 {
			t.Errorf("analyst's list before filing = %v, %v", as, err)
		}
		if _, _, err := f.svc.AttachmentContent(f.as(f.analyst), in.ID, a.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("analyst downloads a draft file: %v", err)
		}

		// Filing seals it, and the receipt lists it.
		rec, err := f.svc.Submit(ctx, in.ID, EarlyWarning, earlyWarning, SubmitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := []ReceiptAttachment{{Name: "forensics.pdf", Size: int64(len(pdf)), SHA256: hexSum(pdf)}}
		if len(rec.Attachments) != 1 || rec.Attachments[0] != want[0] {
			t.Errorf("receipt attachments = %+v, want %+v", rec.Attachments, want)
		}
		if again, err := f.svc.Receipt(ctx, rec.Ref); err != nil || len(again.Attachments) != 1 || again.Attachments[0] != want[0] {
			t.Errorf("stored receipt attachments = %+v, %v", again, err)
		}
		as, err := f.svc.Attachments(f.as(f.analyst), in.ID, EarlyWarning)
		if err != nil || len(as) != 1 || as[0].SubmissionRef != rec.Ref {
			t.Fatalf("analyst's list after filing = %+v, %v", as, err)
		}
		if _, got, err := f.svc.AttachmentContent(f.as(f.analyst), in.ID, a.ID); err != nil || !bytes.Equal(got, pdf) {
			t.Errorf("analyst downloads = %q, %v", got, err)
		}
		if err := f.svc.DeleteAttachment(ctx, in.ID, a.ID); !errs.Is(err, errs.Conflict) {
			t.Errorf("delete a sealed file: %v, want conflict", err)
		}
		if _, err := db.Exec(ctx, `DELETE FROM report_attachments WHERE id = ?`, a.ID); err == nil {
			t.Error("the database deleted a sealed attachment")
		}
		// The next stage's file is not sealed by the early warning, and may
		// be deleted.
		b, err := f.svc.AddAttachment(ctx, in.ID, Upload{Stage: IncidentNotification, Name: "iocs.csv", Data: []byte("ip,192.0.2.1\n")})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DeleteAttachment(f.as(f.analyst), in.ID, b.ID); !errs.Is(err, errs.Forbidden) && !errs.Is(err, errs.NotFound) {
			t.Errorf("the analyst deletes: %v", err)
		}
		if err := f.svc.DeleteAttachment(ctx, in.ID, b.ID); err != nil {
			t.Errorf("delete an unsealed file: %v", err)
		}
		if _, _, err := f.svc.AttachmentContent(ctx, in.ID, b.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("a deleted file: %v", err)
		}

		// A changed ciphertext (the trigger keeps sealed rows as they are,
		// so change an unsealed one) and another key give no bytes.
		c, err := f.svc.AddAttachment(ctx, in.ID, Upload{Stage: FinalReport, Name: "fw.log", Data: []byte("DROP 10.0.0.1\n")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, `UPDATE report_attachments SET ciphertext = ? WHERE id = ?`, bytes.Repeat([]byte{9}, 40), c.ID); err != nil {
			t.Fatal(err)
		}
		if _, got, err := f.svc.AttachmentContent(ctx, in.ID, c.ID); err == nil || got != nil || errs.KindOf(err) != errs.Internal {
			t.Errorf("tampered file = %q, %v; want an internal error and no bytes", got, err)
		}
		if err := f.svc.SetAttachmentKey(bytes.Repeat([]byte{2}, 32)); err != nil {
			t.Fatal(err)
		}
		if _, got, err := f.svc.AttachmentContent(ctx, in.ID, a.ID); err == nil || got != nil || !strings.Contains(err.Error(), "key") {
			t.Errorf("read with another key = %q, %v", got, err)
		}
	})
}
