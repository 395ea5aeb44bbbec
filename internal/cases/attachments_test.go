package cases

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/dbtest"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
)

func attKey(t testing.TB) []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// TestAttachmentsEncryptedAtRest: a file is stored encrypted (the row
// holds no plaintext), read back checked against its SHA-256, refused when
// its ciphertext or its hash was changed or when it was moved to another
// case; the timeline records adding and removing with name, size and hash.
func TestAttachmentsEncryptedAtRest(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := f.analystCtx
		c, err := f.svc.Create(ctx, Input{Title: str("Phishing wave"), TLP: str("GREEN")})
		if err != nil {
			t.Fatal(err)
		}
		other, err := f.svc.Create(ctx, Input{Title: str("Another")})
		if err != nil {
			t.Fatal(err)
		}
		plain := []byte("2026-11-28 09:00:01 login failed for admin from 198.51.100.7\n")
		if _, err := f.svc.AddAttachment(ctx, c.ID, "auth.log", plain, ""); err == nil || !strings.Contains(err.Error(), "no attachment key") {
			t.Fatalf("without a key: %v", err)
		}
		if err := f.svc.SetAttachmentKey([]byte("short")); err == nil {
			t.Error("a short key was accepted")
		}
		if err := f.svc.SetAttachmentKey(attKey(t)); err != nil {
			t.Fatal(err)
		}
		a, err := f.svc.AddAttachment(ctx, c.ID, `C:\logs\auth.log`, plain, "")
		if err != nil {
			t.Fatal(err)
		}
		want := sha256.Sum256(plain)
		if a.Name != "auth.log" || a.TLP != "GREEN" || a.Size != int64(len(plain)) || a.SHA256 != hex.EncodeToString(want[:]) ||
			a.ContentType != "text/plain" || a.UploadedBy != "ana@ccb.example" {
			t.Errorf("attachment %+v", a)
		}
		var ct, nonce []byte
		var keyID string
		if err := db.QueryRow(t.Context(), `SELECT ciphertext, nonce, key_id FROM case_attachments WHERE id = ?`, a.ID).Scan(&ct, &nonce, &keyID); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(ct, plain) || bytes.Contains(ct, []byte("login failed")) || len(nonce) != 12 || len(keyID) != 16 {
			t.Errorf("stored: ciphertext has the plaintext, or nonce %d, key id %q", len(nonce), keyID)
		}
		got, b, err := f.svc.Attachment(ctx, c.ID, a.ID)
		if err != nil || !bytes.Equal(b, plain) || got.SHA256 != a.SHA256 {
			t.Fatalf("Attachment = %v, %q", err, b)
		}
		// Another case's id does not reach the file.
		if _, _, err := f.svc.Attachment(ctx, other.ID, a.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("through another case: %v", err)
		}
		// A changed ciphertext is refused, and nothing is returned.
		bad := bytes.Clone(ct)
		bad[0] ^= 1
		if _, err := db.Exec(t.Context(), `UPDATE case_attachments SET ciphertext = ? WHERE id = ?`, bad, a.ID); err != nil {
			t.Fatal(err)
		}
		if _, b, err := f.svc.Attachment(ctx, c.ID, a.ID); err == nil || b != nil || errs.Is(err, errs.NotFound) {
			t.Errorf("tampered ciphertext: %v %q", err, b)
		}
		// A changed hash does not open either (it is additional data).
		if _, err := db.Exec(t.Context(), `UPDATE case_attachments SET ciphertext = ?, sha256 = ? WHERE id = ?`, ct, strings.Repeat("0", 64), a.ID); err != nil {
			t.Fatal(err)
		}
		if _, b, err := f.svc.Attachment(ctx, c.ID, a.ID); err == nil || b != nil {
			t.Errorf("changed hash: %v", err)
		}
		// Moved to another case, the row does not open.
		if _, err := db.Exec(t.Context(), `UPDATE case_attachments SET sha256 = ?, case_id = ? WHERE id = ?`, a.SHA256, other.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.Attachment(ctx, other.ID, a.ID); err == nil {
			t.Error("a row moved to another case opened")
		}
		if _, err := db.Exec(t.Context(), `UPDATE case_attachments SET case_id = ? WHERE id = ?`, c.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		// Another key (another instance's data key) does not open it.
		if err := f.svc.SetAttachmentKey(attKey(t)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.Attachment(ctx, c.ID, a.ID); err == nil || !strings.Contains(err.Error(), "key") {
			t.Errorf("another key: %v", err)
		}

		red, err := f.svc.AddAttachment(ctx, c.ID, "report.json", []byte(`{"ok": true}`), "tlp:red")
		if err != nil || red.TLP != "RED" || red.ContentType != "application/json" {
			t.Fatalf("RED json: %v %+v", err, red)
		}
		list, err := f.svc.Attachments(auth.With(context.Background(), f.auditor), c.ID)
		if err != nil || len(list) != 2 || list[0].ID != a.ID || list[1].TLP != "RED" {
			t.Errorf("auditor's list %v %+v", err, list)
		}
		if err := f.svc.RemoveAttachment(ctx, c.ID, red.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.Attachment(ctx, c.ID, red.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("removed file: %v", err)
		}
		if err := f.svc.RemoveAttachment(ctx, c.ID, red.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("removed twice: %v", err)
		}
		tl, err := f.svc.Timeline(ctx, c.ID)
		if err != nil || len(tl) < 3 {
			t.Fatalf("timeline %v %d", err, len(tl))
		}
		if tl[0].Kind != "attachment_remove" || tl[0].TLP != "RED" || !strings.Contains(tl[0].Body, "report.json (12 bytes, SHA-256 "+red.SHA256+")") ||
			tl[1].Kind != "attachment" || tl[2].Kind != "attachment" || !strings.Contains(tl[2].Body, "auth.log") || !strings.Contains(tl[2].Body, a.SHA256) {
			t.Errorf("timeline %+v %+v %+v", tl[0], tl[1], tl[2])
		}
		var n int
		if err := db.QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE action IN ('case.attachment', 'case.attachment_remove')`).Scan(&n); err != nil || n != 3 {
			t.Errorf("audit records %d (%v), want 3", n, err)
		}
	})
}

// TestAttachmentChecksAndAccess: the reports' checks (content by magic
// numbers, extensions, names, empty files, the 20 MiB limit), the TLP, a
// merged case, and who may do what.
func TestAttachmentChecksAndAccess(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := f.analystCtx
		if err := f.svc.SetAttachmentKey(attKey(t)); err != nil {
			t.Fatal(err)
		}
		c, err := f.svc.Create(ctx, Input{Title: str("Ransomware")})
		if err != nil {
			t.Fatal(err)
		}
		pdf := []byte("%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n")
		if _, err := f.svc.AddAttachment(ctx, c.ID, "note.pdf", pdf, "AMBER"); err != nil {
			t.Fatalf("a PDF: %v", err)
		}
		for _, tc := range []struct {
			name, tlp, code string
			data            []byte
			kind            errs.Kind
		}{
			{"fake.pdf", "", "err.att.type_mismatch", []byte("just text, not a PDF"), errs.Unsupported},
			{"page.txt", "", "err.att.type_mismatch", []byte("<html><script>alert(1)</script></html>"), errs.Unsupported},
			{"run.exe", "", "err.att.type_not_allowed", []byte("MZ\x90\x00"), errs.Unsupported},
			{"empty.txt", "", "err.att.empty", nil, errs.Invalid},
			{"/../..", "", "err.att.name_required", []byte("x"), errs.Invalid},
			{"big.txt", "", "err.att.too_large", bytes.Repeat([]byte("a"), MaxAttachmentSize+1), errs.TooLarge},
			{"ok.txt", "PURPLE", "err.case.tlp", []byte("x"), errs.Invalid},
		} {
			_, err := f.svc.AddAttachment(ctx, c.ID, tc.name, tc.data, tc.tlp)
			e, ok := errs.As(err)
			if !ok || e.Kind != tc.kind || len(e.Fields) != 1 || e.Fields[0].Code != tc.code {
				t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
			}
		}
		if _, err := f.svc.AddAttachment(ctx, c.ID, "max.txt", bytes.Repeat([]byte("a"), MaxAttachmentSize), ""); err != nil {
			t.Errorf("exactly the limit: %v", err)
		}
		list, _ := f.svc.Attachments(ctx, c.ID)
		if len(list) != 2 {
			t.Fatalf("%d files, want 2", len(list))
		}
		aud := auth.With(context.Background(), f.auditor)
		if _, err := f.svc.AddAttachment(aud, c.ID, "a.txt", []byte("x"), ""); !errs.Is(err, errs.Forbidden) {
			t.Errorf("auditor adds: %v", err)
		}
		if err := f.svc.RemoveAttachment(aud, c.ID, list[0].ID); !errs.Is(err, errs.Forbidden) {
			t.Errorf("auditor removes: %v", err)
		}
		if _, b, err := f.svc.Attachment(aud, c.ID, list[0].ID); err != nil || !bytes.Equal(b, pdf) {
			t.Errorf("auditor reads: %v", err)
		}
		mem := auth.With(context.Background(), f.member)
		if _, err := f.svc.AddAttachment(mem, c.ID, "a.txt", []byte("x"), ""); !errs.Is(err, errs.NotFound) {
			t.Errorf("member adds: %v", err)
		}
		if _, err := f.svc.Attachments(mem, c.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("member lists: %v", err)
		}
		if _, _, err := f.svc.Attachment(mem, c.ID, list[0].ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("member reads: %v", err)
		}
		if err := f.svc.RemoveAttachment(mem, c.ID, list[0].ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("member removes: %v", err)
		}
		if _, err := f.svc.AddAttachment(ctx, 999999, "a.txt", []byte("x"), ""); !errs.Is(err, errs.NotFound) {
			t.Errorf("no such case: %v", err)
		}
		if _, err := f.svc.Attachments(ctx, 999999); !errs.Is(err, errs.NotFound) {
			t.Errorf("no such case, list: %v", err)
		}
		// A merged case no longer changes.
		dst, err := f.svc.Create(ctx, Input{Title: str("Main")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(t.Context(), `UPDATE cases SET merged_into = ? WHERE id = ?`, dst.ID, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AddAttachment(ctx, c.ID, "a.txt", []byte("x"), ""); !errs.Is(err, errs.Conflict) {
			t.Errorf("merged case adds: %v", err)
		}
		if err := f.svc.RemoveAttachment(ctx, c.ID, list[0].ID); !errs.Is(err, errs.Conflict) {
			t.Errorf("merged case removes: %v", err)
		}
	})
}
