package reporting

// Attachments of the reports of an incident: files the entity adds to a
// stage while it is a draft, sealed into the submission when the stage is
// filed. They are stored in the database (so that every instance serves
// them), encrypted with AES-256-GCM, with the SHA-256 of the plaintext
// checked on every read. The entity's people add, list, download and
// delete (while not sealed); the authority's staff list and download
// what was filed. Every change is audited.

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/belfry-cert/belfry/internal/audit"
	"github.com/belfry-cert/belfry/internal/auth"
	"github.com/belfry-cert/belfry/internal/errs"
	"github.com/belfry-cert/belfry/internal/store"
)

// Attachment is a file of a stage of an incident.
type Attachment struct {
	ID           int64     `json:"id"`
	IncidentID   int64     `json:"incident_id"`
	Stage        Stage     `json:"stage"`
	Name         string    `json:"name"`
	MediaType    string    `json:"media_type"`
	DeclaredType string    `json:"declared_type"`
	Size         int64     `json:"size"`
	SHA256       string    `json:"sha256"`
	UploadedBy   string    `json:"uploaded_by,omitempty"`
	UploadedAt   time.Time `json:"uploaded_at"`
	// SubmissionRef is the submission the file was sealed into; empty
	// while its stage is a draft (and the file may still be deleted).
	SubmissionRef string `json:"submission,omitempty"`
}

// Sealed reports whether the file was filed with a submission.
func (a Attachment) Sealed() bool { return a.SubmissionRef != "" }

// ReceiptAttachment is a file as a receipt lists it.
type ReceiptAttachment struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Upload is a file to attach to a stage.
type Upload struct {
	Stage        Stage
	Name         string // as the client sent it; cleaned here
	DeclaredType string // the Content-Type the client sent
	Data         []byte
}

// SetAttachmentKey sets the 32-byte key that encrypts attachments at rest.
// Without it, attachments are refused.
func (s *Service) SetAttachmentKey(key []byte) error {
	c, err := newAttachmentCipher(key)
	if err != nil {
		return err
	}
	s.attCipher = c
	return nil
}

// SetAttachmentMaxSize sets the largest file accepted, in bytes.
func (s *Service) SetAttachmentMaxSize(n int64) {
	if n > 0 {
		s.attMax = n
	}
}

// AttachmentMaxSize is the largest file accepted, in bytes.
func (s *Service) AttachmentMaxSize() int64 {
	if s.attMax <= 0 {
		return DefaultAttachmentMaxSize
	}
	return s.attMax
}

// TooLargeError is the refusal of a file over the limit, naming it.
func TooLargeError(name string, max int64) error {
	args := map[string]any{"name": name, "max": sizeText(max)}
	return &errs.Error{Kind: errs.TooLarge, Code: "err.att.too_large", Args: args,
		Fields: []errs.FieldError{{Field: "file", Code: "err.att.too_large", Args: args}}}
}

// sizeText writes a size for messages: "20 MB", "512 KB", "300 bytes".
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return itoa(n>>20) + " MB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return itoa(n>>10) + " KB"
	}
	return itoa(n) + " bytes"
}

func attachmentNotFound() error { return errs.E(errs.NotFound, "err.att.not_found") }

// mayAttach checks, before a body is read, that the principal adds files
// to the incident: 404 for what it may not see, 403 for what it may only
// read.
func (s *Service) mayAttach(ctx context.Context, id int64) error {
	in, err := s.head(ctx, s.db, id)
	if err != nil {
		return err
	}
	if !canFile(auth.From(ctx), in.OrgID) {
		return forbidden()
	}
	return nil
}

// AddAttachment attaches a file to a stage of the incident, for the
// incident's organisation (its members and administrators). The file is
// checked (size, name, type by extension and content), hashed and
// encrypted; at most MaxAttachmentsPerStage per stage.
func (s *Service) AddAttachment(ctx context.Context, id int64, u Upload) (*Attachment, error) {
	p := auth.From(ctx)
	if err := s.mayAttach(ctx, id); err != nil {
		return nil, err
	}
	if !ValidStage(u.Stage) {
		return nil, errs.Field("stage", "err.rep.stage_invalid", nil)
	}
	if s.attCipher == nil {
		return nil, errors.New("reporting: no attachment key set")
	}
	a := &Attachment{IncidentID: id, Stage: u.Stage, Name: cleanName(u.Name), DeclaredType: cleanMediaType(u.DeclaredType), Size: int64(len(u.Data))}
	if err := s.checkUpload(a, u.Data); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(u.Data)
	a.SHA256 = hex.EncodeToString(sum[:])
	nonce, ct := s.attCipher.encrypt(id, a.SHA256, u.Data)
	a.UploadedAt = s.tick()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		// Serialised with the submissions of the incident, which seal.
		if err := tx.Lock(ctx, incidentLockBase+id); err != nil {
			return err
		}
		in, err := s.head(ctx, tx, id)
		if err != nil {
			return err
		}
		if !canFile(p, in.OrgID) {
			return forbidden()
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM report_attachments WHERE incident_id = ? AND stage = ?`, id, string(u.Stage)).Scan(&n); err != nil {
			return err
		}
		if n >= MaxAttachmentsPerStage {
			return &errs.Error{Kind: errs.Conflict, Code: "err.att.too_many", Args: map[string]any{"max": MaxAttachmentsPerStage},
				Fields: []errs.FieldError{{Field: "file", Code: "err.att.too_many", Args: map[string]any{"max": MaxAttachmentsPerStage}}}}
		}
		if err := tx.QueryRow(ctx, `INSERT INTO report_attachments (incident_id, org_id, stage, name, declared_type, media_type, size, sha256,
			key_id, nonce, ciphertext, uploaded_by, uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			id, in.OrgID, string(u.Stage), a.Name, a.DeclaredType, a.MediaType, a.Size, a.SHA256, s.attCipher.keyID, nonce, ct,
			nullID(p.UserID), a.UploadedAt).Scan(&a.ID); err != nil {
			return err
		}
		if p.UserID != 0 {
			if err := tx.QueryRow(ctx, `SELECT name FROM users WHERE id = ?`, p.UserID).Scan(&a.UploadedBy); err != nil {
				return err
			}
		}
		return audit.Append(ctx, tx, a.UploadedAt, audit.Change{Action: "report.attachment.add", ObjectType: "incident", ObjectID: itoa(id),
			OrgID: in.OrgID, After: map[string]any{"attachment_id": a.ID, "stage": a.Stage, "name": a.Name, "size": a.Size,
				"sha256": a.SHA256, "media_type": a.MediaType}})
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// checkUpload refuses an empty or too large file, a name that cleans to
// nothing, and a type not accepted or not matching its content; it sets
// a.MediaType.
func (s *Service) checkUpload(a *Attachment, data []byte) error {
	shown := a.Name
	if shown == "" {
		return errs.Field("file", "err.att.name_required", nil)
	}
	if len(data) == 0 {
		return errs.Field("file", "err.att.empty", map[string]any{"name": shown})
	}
	if max := s.AttachmentMaxSize(); int64(len(data)) > max {
		return TooLargeError(shown, max)
	}
	media, code := detectType(a.Name, data)
	if code != "" {
		args := map[string]any{"name": shown}
		return &errs.Error{Kind: errs.Unsupported, Code: code, Args: args, Fields: []errs.FieldError{{Field: "file", Code: code, Args: args}}}
	}
	a.MediaType = media
	return nil
}

const selectAttachment = `SELECT a.id, a.incident_id, a.stage, a.name, a.media_type, a.declared_type, a.size, a.sha256,
	COALESCE(u.name, ''), a.uploaded_at, COALESCE(s.ref, '') FROM report_attachments a
	LEFT JOIN users u ON u.id = a.uploaded_by LEFT JOIN report_submissions s ON s.id = a.submission_id`

func scanAttachment(row interface{ Scan(...any) error }) (Attachment, error) {
	var a Attachment
	err := row.Scan(&a.ID, &a.IncidentID, &a.Stage, &a.Name, &a.MediaType, &a.DeclaredType, &a.Size, &a.SHA256, &a.UploadedBy, &a.UploadedAt, &a.SubmissionRef)
	a.UploadedAt = a.UploadedAt.UTC()
	return a, err
}

// entityView reports whether the principal sees the incident as its
// organisation does (drafts included); the authority's staff see only
// what was filed.
func entityView(ctx context.Context, in *Incident) bool {
	p := auth.From(ctx)
	return p != nil && p.OrgID == in.OrgID
}

// Attachments lists the files of the incident, of one stage or (stage "")
// of all, oldest first: for the organisation every file, for the
// authority's staff those sealed into a submission.
func (s *Service) Attachments(ctx context.Context, id int64, stage Stage) ([]Attachment, error) {
	if stage != "" && !ValidStage(stage) {
		return nil, errs.Field("stage", "err.rep.stage_invalid", nil)
	}
	in, err := s.head(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	q, args := selectAttachment+` WHERE a.incident_id = ?`, []any{id}
	if stage != "" {
		q, args = q+` AND a.stage = ?`, append(args, string(stage))
	}
	if !entityView(ctx, in) {
		q += ` AND a.submission_id IS NOT NULL`
	}
	rows, err := s.db.Query(ctx, q+` ORDER BY a.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Attachment{}
	for rows.Next() {
		a, err := scanAttachment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// attachment loads one file of the incident for the principal: 404 when
// it may not see the incident, or the file is of another incident, or an
// unsealed file is asked for by the authority's staff.
func (s *Service) attachment(ctx context.Context, q store.Querier, id, att int64) (*Incident, *Attachment, error) {
	in, err := s.head(ctx, q, id)
	if err != nil {
		return nil, nil, err
	}
	a, err := scanAttachment(q.QueryRow(ctx, selectAttachment+` WHERE a.id = ? AND a.incident_id = ?`, att, id))
	if errors.Is(err, sql.ErrNoRows) || err == nil && !a.Sealed() && !entityView(ctx, in) {
		return nil, nil, attachmentNotFound()
	}
	if err != nil {
		return nil, nil, err
	}
	return in, &a, nil
}

// AttachmentContent returns a file and its bytes, decrypted and checked
// against its SHA-256. A file that does not decrypt or check is an
// internal error: its bytes are never returned.
func (s *Service) AttachmentContent(ctx context.Context, id, att int64) (*Attachment, []byte, error) {
	_, a, err := s.attachment(ctx, s.db, id, att)
	if err != nil {
		return nil, nil, err
	}
	if s.attCipher == nil {
		return nil, nil, errors.New("reporting: no attachment key set")
	}
	var keyID string
	var nonce, ct []byte
	if err := s.db.QueryRow(ctx, `SELECT key_id, nonce, ciphertext FROM report_attachments WHERE id = ?`, att).Scan(&keyID, &nonce, &ct); err != nil {
		return nil, nil, err
	}
	plain, err := s.attCipher.decrypt(keyID, id, a.SHA256, nonce, ct)
	if err != nil {
		return nil, nil, fmt.Errorf("attachment %d of incident %d: %w", att, id, err)
	}
	return a, plain, nil
}

// DeleteAttachment removes a file not yet sealed into a submission (the
// organisation's members and administrators); a sealed one is a conflict.
func (s *Service) DeleteAttachment(ctx context.Context, id, att int64) error {
	p := auth.From(ctx)
	if err := s.mayAttach(ctx, id); err != nil {
		return err
	}
	now := s.tick()
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := tx.Lock(ctx, incidentLockBase+id); err != nil {
			return err
		}
		in, a, err := s.attachment(ctx, tx, id, att)
		if err != nil {
			return err
		}
		if !canFile(p, in.OrgID) {
			return forbidden()
		}
		if a.Sealed() {
			return errs.E(errs.Conflict, "err.att.sealed")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM report_attachments WHERE id = ? AND submission_id IS NULL`, att); err != nil {
			return err
		}
		return audit.Append(ctx, tx, now, audit.Change{Action: "report.attachment.delete", ObjectType: "incident", ObjectID: itoa(id),
			OrgID: in.OrgID, Before: map[string]any{"attachment_id": a.ID, "stage": a.Stage, "name": a.Name, "size": a.Size, "sha256": a.SHA256}})
	})
}

// sealAttachments gives the unsealed files of a stage to the submission
// just filed, in its transaction, and lists them for the receipt.
func sealAttachments(ctx context.Context, tx *store.Tx, id int64, stage Stage, sub int64) ([]ReceiptAttachment, error) {
	if _, err := tx.Exec(ctx, `UPDATE report_attachments SET submission_id = ? WHERE incident_id = ? AND stage = ? AND submission_id IS NULL`,
		sub, id, string(stage)); err != nil {
		return nil, err
	}
	return receiptAttachments(ctx, tx, `a.submission_id = ?`, sub)
}

// receiptAttachments lists the files of a submission, selected by cond.
func receiptAttachments(ctx context.Context, q store.Querier, cond string, arg any) ([]ReceiptAttachment, error) {
	rows, err := q.Query(ctx, `SELECT a.name, a.size, a.sha256 FROM report_attachments a JOIN report_submissions s ON s.id = a.submission_id
		WHERE `+cond+` ORDER BY a.id`, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []ReceiptAttachment{}
	for rows.Next() {
		var a ReceiptAttachment
		if err := rows.Scan(&a.Name, &a.Size, &a.SHA256); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
