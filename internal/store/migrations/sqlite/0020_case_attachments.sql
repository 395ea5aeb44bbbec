-- Files attached to cases (cases/attachments.go): the plaintext's SHA-256,
-- and the file itself encrypted with AES-256-GCM under the instance's data
-- key (key_id names the key, nonce is random per file; the additional data
-- binds the key id, the case and the SHA-256). Removing a file deletes its
-- row; the timeline and the audit log keep its name, size and SHA-256.
CREATE TABLE case_attachments (
    id           INTEGER PRIMARY KEY,
    case_id      INTEGER NOT NULL REFERENCES cases (id),
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL CHECK (size > 0),
    sha256       TEXT NOT NULL,
    key_id       TEXT NOT NULL,
    nonce        BLOB NOT NULL,
    ciphertext   BLOB NOT NULL,
    tlp          TEXT NOT NULL CHECK (tlp IN ('CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED')),
    uploaded_by  INTEGER REFERENCES users (id),
    uploaded_at  TIMESTAMP NOT NULL
);
CREATE INDEX case_attachments_case ON case_attachments (case_id, id);
