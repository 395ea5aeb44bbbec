-- Voluntary notifications (NIS2 Art. 30; Belgian NIS2 law Art. 38) from
-- citizens, non-regulated organisations and regulated entities reporting
-- on their own initiative, without an account. A notification is pending
-- until the link sent to its e-mail address is followed; it then gets a
-- reference and is received. Pending rows expire and are purged. The
-- content is the exact JSON whose SHA-256 the receipt carries.
CREATE TABLE voluntary_notifications (
    id             INTEGER PRIMARY KEY,
    ref            TEXT UNIQUE,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'received', 'triaged', 'closed', 'rejected')),
    token_hash     TEXT UNIQUE,
    email          TEXT NOT NULL,
    locale         TEXT NOT NULL,
    reporter_kind  TEXT NOT NULL,
    subject        TEXT NOT NULL,
    sector         TEXT NOT NULL DEFAULT '',
    content        TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    expires_at     TIMESTAMP,
    received_at    TIMESTAMP,
    status_note    TEXT NOT NULL DEFAULT '',
    updated_by     INTEGER REFERENCES users (id),
    updated_at     TIMESTAMP NOT NULL
);
CREATE INDEX voluntary_notifications_email ON voluntary_notifications (lower(email), created_at);
CREATE INDEX voluntary_notifications_expires ON voluntary_notifications (expires_at) WHERE status = 'pending';
CREATE INDEX voluntary_notifications_received ON voluntary_notifications (status, received_at);
