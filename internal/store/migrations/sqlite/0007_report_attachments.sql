-- Files attached to the reports of an incident (reporting/attachments.go):
-- the plaintext's SHA-256, and the file itself encrypted with AES-256-GCM
-- (key_id names the key, nonce is random per file). submission_id is the
-- submission the file was sealed into when its stage was filed; NULL while
-- the stage is a draft. A sealed file never changes and is never deleted.
CREATE TABLE report_attachments (
    id            INTEGER PRIMARY KEY,
    incident_id   INTEGER NOT NULL REFERENCES incidents (id),
    org_id        INTEGER NOT NULL REFERENCES organisations (id),
    stage         TEXT NOT NULL,
    name          TEXT NOT NULL,
    declared_type TEXT NOT NULL,
    media_type    TEXT NOT NULL,
    size          INTEGER NOT NULL CHECK (size > 0),
    sha256        TEXT NOT NULL,
    key_id        TEXT NOT NULL,
    nonce         BLOB NOT NULL,
    ciphertext    BLOB NOT NULL,
    uploaded_by   INTEGER REFERENCES users (id),
    uploaded_at   TIMESTAMP NOT NULL,
    submission_id INTEGER REFERENCES report_submissions (id)
);
CREATE INDEX report_attachments_incident ON report_attachments (incident_id, stage, id);
CREATE INDEX report_attachments_submission ON report_attachments (submission_id) WHERE submission_id IS NOT NULL;

CREATE TRIGGER report_attachments_sealed_update BEFORE UPDATE ON report_attachments
WHEN OLD.submission_id IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'report_attachments: a sealed attachment does not change');
END;
CREATE TRIGGER report_attachments_sealed_delete BEFORE DELETE ON report_attachments
WHEN OLD.submission_id IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'report_attachments: a sealed attachment is not deleted');
END;
