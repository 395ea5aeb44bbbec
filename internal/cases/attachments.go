package cases

// Attachments of a case (issue 6): files the CSIRT keeps with a case
// (samples' reports, screenshots, logs, captures), each with a TLP label.
// They are stored in the database (so that every instance serves them),
// encrypted at rest with AES-256-GCM under the instance's data key, the
// key id, the case and the SHA-256 of the plaintext bound as additional
// data, and the SHA-256 checked on every read. What is accepted, how names
// are cleaned and how files are downloaded are the reports' attachments'
// (reporting/attachments_check.go). Adding and removing are recorded in
// the timeline and audited; removing deletes the row and its bytes.

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/reporting"
	"github.com/belfry-cert/belfry/internal/store"
)

// MaxAttachmentSize is the largest file a case takes: the reports'
// attachments' default, 20 MiB.
const MaxAttachmentSize = reporting.DefaultAttachmentMaxSize

// Attachment is a file of a case, without its bytes.
type Attachment struct {
	ID          int64     `json:"id"`
	CaseID      int64     `json:"case_id"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	TLP         string    `json:"tlp"`
	UploadedBy  string    `json:"uploaded_by,omitempty"`
	UploadedAt  time.Time `json:"uploaded_at"`
}

// attCipher encrypts the attachments of cases.
type attCipher struct {
	aead  cipher.AEAD
	keyID string
}

// SetAttachmentKey sets the 32-byte key that encrypts attachments at rest
// (the instance's data key). Without it, attachments are refused.
func (s *Service) SetAttachmentKey(key []byte) error {
	if len(key) != 32 {
		return fmt.Errorf("cases: attachment key has %d bytes, want 32", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return err
	}
	s.att = &attCipher{aead: aead, keyID: reporting.AttachmentKeyID(key)}
	return nil
}

func (s *Service) attCipher() (*attCipher, error) {
	if s.att == nil {
		return nil, errors.New("cases: no attachment key set")
	}
	return s.att, nil
}

// attAD is the additional data of a file: it binds the ciphertext to the
// key's id, its case and its plaintext's SHA-256, so that a row's bytes
// cannot be passed off as another's.
func attAD(keyID string, caseID int64, sum string) []byte {
	return []byte("belfry-case-attachment-v1\x00" + keyID + "\x00" + strconv.FormatInt(caseID, 10) + "\x00" + sum)
}

func (c *attCipher) seal(caseID int64, sum string, plain []byte) (nonce, ct []byte) {
	nonce = make([]byte, c.aead.NonceSize())
	rand.Read(nonce)
	return nonce, c.aead.Seal(nil, nonce, plain, attAD(c.keyID, caseID, sum))
}

// open decrypts a row's bytes and checks them against sum: a row of
// another key, changed bytes or a plaintext of another hash is an error,
// and nothing is returned then.
func (c *attCipher) open(keyID string, caseID int64, sum string, nonce, ct []byte) ([]byte, error) {
	if keyID != c.keyID {
		return nil, fmt.Errorf("cases: attachment encrypted with key %s, this instance has key %s", keyID, c.keyID)
	}
	if len(nonce) != c.aead.NonceSize() {
		return nil, errors.New("cases: attachment nonce has the wrong length")
	}
	plain, err := c.aead.Open(nil, nonce, ct, attAD(keyID, caseID, sum))
	if err != nil {
		return nil, fmt.Errorf("cases: attachment does not decrypt (changed, or of another case): %w", err)
	}
	got := sha256.Sum256(plain)
	if hex.EncodeToString(got[:]) != sum {
		return nil, errors.New("cases: attachment plaintext does not match its SHA-256")
	}
	return plain, nil
}

func attachmentNotFound() error { return errs.E(errs.NotFound, "err.att.not_found") }

// mayAttach refuses, before a body is read, those who do not add files:
// 404 for who does not read cases, 403 for who only reads them.
func mayAttach(p *auth.Principal) error {
	if !CanRead(p) {
		return notFound()
	}
	if !CanWork(p) {
		return forbidden()
	}
	return nil
}

// cleanTLP reads a TLP label ("amber", "TLP:AMBER"); "" is the case's.
func cleanTLP(tlp string) (string, error) {
	tlp = strings.ToUpper(strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(tlp)), "TLP:"))
	if tlp != "" && !containsTLP(tlp) {
		return "", errs.Field("tlp", "err.case.tlp", nil)
	}
	return tlp, nil
}

// checkAttachment cleans the name and checks the file as the reports'
// attachments are checked: a usable name, not empty, not over the limit,
// an accepted extension whose content matches. It returns the cleaned
// name and the media type.
func checkAttachment(name string, data []byte) (string, string, error) {
	name = reporting.CleanAttachmentName(name)
	if name == "" {
		return "", "", errs.Field("file", "err.att.name_required", nil)
	}
	if len(data) == 0 {
		return "", "", errs.Field("file", "err.att.empty", map[string]any{"name": name})
	}
	if len(data) > MaxAttachmentSize {
		return "", "", reporting.TooLargeError(name, MaxAttachmentSize)
	}
	media, code := reporting.DetectAttachmentType(name, data)
	if code != "" {
		args := map[string]any{"name": name}
		return "", "", &errs.Error{Kind: errs.Unsupported, Code: code, Args: args, Fields: []errs.FieldError{{Field: "file", Code: code, Args: args}}}
	}
	return name, media, nil
}

// AddAttachment attaches a file to a case with a TLP label ("" for the
// case's), for those who work cases. The file is checked, hashed and
// encrypted; the timeline records its name, size and SHA-256.
func (s *Service) AddAttachment(ctx context.Context, caseID int64, name string, data []byte, tlp string) (*Attachment, error) {
	p := auth.From(ctx)
	if err := mayAttach(p); err != nil {
		return nil, err
	}
	// 404 before anything is said about the file.
	var one int
	if err := s.db.QueryRow(ctx, `SELECT 1 FROM cases WHERE id = ?`, caseID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
		return nil, notFound()
	} else if err != nil {
		return nil, err
	}
	tlp, err := cleanTLP(tlp)
	if err != nil {
		return nil, err
	}
	name, media, err := checkAttachment(name, data)
	if err != nil {
		return nil, err
	}
	ac, err := s.attCipher()
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	a := &Attachment{CaseID: caseID, Name: name, ContentType: media, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]),
		UploadedAt: s.tick()}
	if p != nil {
		a.UploadedBy = p.Email
	}
	nonce, ct := ac.seal(caseID, a.SHA256, data)
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := s.get(ctx, tx, caseID)
		if err != nil {
			return err
		}
		if c.MergedInto != "" {
			return errs.E(errs.Conflict, "err.case.merged")
		}
		a.TLP = tlp
		if a.TLP == "" {
			a.TLP = c.TLP
		}
		var by int64
		if p != nil {
			by = p.UserID
		}
		if err := tx.QueryRow(ctx, `INSERT INTO case_attachments (case_id, name, content_type, size, sha256, key_id, nonce, ciphertext, tlp,
			uploaded_by, uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			caseID, a.Name, a.ContentType, a.Size, a.SHA256, ac.keyID, nonce, ct, a.TLP, nullID(by), a.UploadedAt).Scan(&a.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE cases SET updated_at = ? WHERE id = ?`, a.UploadedAt, caseID); err != nil {
			return err
		}
		return s.event(ctx, tx, a.UploadedAt, c, "attachment", a.TLP, attachmentLine(a), nil, attachmentSummary(a))
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// attachmentLine is a file as the timeline records it.
func attachmentLine(a *Attachment) string {
	return fmt.Sprintf("%s (%d bytes, SHA-256 %s)", a.Name, a.Size, a.SHA256)
}

func attachmentSummary(a *Attachment) map[string]any {
	return map[string]any{"attachment_id": a.ID, "name": a.Name, "size": a.Size, "sha256": a.SHA256, "content_type": a.ContentType, "tlp": a.TLP}
}

const (
	attachmentCols   = `a.id, a.case_id, a.name, a.content_type, a.size, a.sha256, a.tlp, COALESCE(u.email, ''), a.uploaded_at`
	attachmentFrom   = ` FROM case_attachments a LEFT JOIN users u ON u.id = a.uploaded_by`
	selectAttachment = `SELECT ` + attachmentCols + attachmentFrom
)

func scanAttachment(row interface{ Scan(...any) error }, extra ...any) (*Attachment, error) {
	var a Attachment
	dest := append([]any{&a.ID, &a.CaseID, &a.Name, &a.ContentType, &a.Size, &a.SHA256, &a.TLP, &a.UploadedBy, &a.UploadedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	a.UploadedAt = a.UploadedAt.UTC()
	return &a, nil
}

// Attachments lists a case's files, oldest first, without their bytes.
func (s *Service) Attachments(ctx context.Context, caseID int64) ([]*Attachment, error) {
	if err := s.readable(ctx, caseID); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, selectAttachment+` WHERE a.case_id = ? ORDER BY a.id`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Attachment{}
	for rows.Next() {
		a, err := scanAttachment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Attachment returns a file of a case and its bytes, decrypted and checked
// against its SHA-256. A file that does not decrypt or check is an
// internal error: its bytes are never returned.
func (s *Service) Attachment(ctx context.Context, caseID, id int64) (*Attachment, []byte, error) {
	if !CanRead(auth.From(ctx)) {
		return nil, nil, notFound()
	}
	var keyID string
	var nonce, ct []byte
	a, err := scanAttachment(s.db.QueryRow(ctx, `SELECT `+attachmentCols+`, a.key_id, a.nonce, a.ciphertext`+attachmentFrom+
		` WHERE a.id = ? AND a.case_id = ?`, id, caseID), &keyID, &nonce, &ct)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, attachmentNotFound()
	}
	if err != nil {
		return nil, nil, err
	}
	ac, err := s.attCipher()
	if err != nil {
		return nil, nil, err
	}
	plain, err := ac.open(keyID, caseID, a.SHA256, nonce, ct)
	if err != nil {
		return nil, nil, fmt.Errorf("attachment %d of case %d: %w", id, caseID, err)
	}
	return a, plain, nil
}

// RemoveAttachment deletes a file of a case, bytes and all; the timeline
// and the audit log keep its name, size and SHA-256.
func (s *Service) RemoveAttachment(ctx context.Context, caseID, id int64) error {
	if err := mayAttach(auth.From(ctx)); err != nil {
		return err
	}
	now := s.tick()
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := s.get(ctx, tx, caseID)
		if err != nil {
			return err
		}
		a, err := scanAttachment(tx.QueryRow(ctx, selectAttachment+` WHERE a.id = ? AND a.case_id = ?`, id, caseID))
		if errors.Is(err, sql.ErrNoRows) {
			return attachmentNotFound()
		}
		if err != nil {
			return err
		}
		if c.MergedInto != "" {
			return errs.E(errs.Conflict, "err.case.merged")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM case_attachments WHERE id = ? AND case_id = ?`, id, caseID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE cases SET updated_at = ? WHERE id = ?`, now, caseID); err != nil {
			return err
		}
		return s.event(ctx, tx, now, c, "attachment_remove", a.TLP, attachmentLine(a), attachmentSummary(a), nil)
	})
}
