-- NIS2 entity registry: one registration per organisation (its current
-- data as JSON, the computed classification and the authority's decision),
-- every submitted or decided version, and the constituency claims (IP
-- prefixes, ASNs, domains) that the feeds match events against.
CREATE TABLE registrations (
    org_id                 INTEGER PRIMARY KEY REFERENCES organisations (id),
    status                 TEXT NOT NULL,
    version                INTEGER NOT NULL DEFAULT 0,
    data                   TEXT NOT NULL,
    computed_class         TEXT NOT NULL DEFAULT '',
    computed_rule          TEXT NOT NULL DEFAULT '',
    decision               TEXT NOT NULL DEFAULT '{}',
    override_class         TEXT NOT NULL DEFAULT '',
    override_justification TEXT NOT NULL DEFAULT '',
    override_by            INTEGER REFERENCES users (id),
    override_at            TIMESTAMP,
    class                  TEXT NOT NULL DEFAULT '',
    sectors                TEXT NOT NULL DEFAULT '',
    size                   TEXT NOT NULL DEFAULT '',
    search                 TEXT NOT NULL DEFAULT '',
    review_note            TEXT NOT NULL DEFAULT '',
    submitted_at           TIMESTAMP,
    reviewed_at            TIMESTAMP,
    reviewed_by            INTEGER REFERENCES users (id),
    approved_at            TIMESTAMP,
    change_started_at      TIMESTAMP,
    reminded_at            TIMESTAMP,
    created_at             TIMESTAMP NOT NULL,
    updated_at             TIMESTAMP NOT NULL
);
CREATE INDEX registrations_status ON registrations (status, updated_at);
CREATE INDEX registrations_class ON registrations (class);

CREATE TABLE registration_versions (
    org_id     INTEGER NOT NULL REFERENCES organisations (id),
    version    INTEGER NOT NULL,
    event      TEXT NOT NULL,
    status     TEXT NOT NULL,
    class      TEXT NOT NULL,
    data       TEXT NOT NULL,
    note       TEXT NOT NULL DEFAULT '',
    actor_id   INTEGER REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, version)
);

CREATE TABLE constituency_claims (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organisations (id),
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    status      TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    created_by  INTEGER REFERENCES users (id),
    created_at  TIMESTAMP NOT NULL,
    decided_by  INTEGER REFERENCES users (id),
    decided_at  TIMESTAMP
);
CREATE UNIQUE INDEX constituency_claims_key ON constituency_claims (org_id, kind, value);
CREATE INDEX constituency_claims_value ON constituency_claims (kind, value);
CREATE INDEX constituency_claims_status ON constituency_claims (status, id);

INSERT INTO settings (key, value) VALUES ('constituency_version', '1');

-- Self-registration: a request waits for its e-mail link to be followed
-- before the organisation and its first administrator are created.
CREATE TABLE signup_requests (
    id                INTEGER PRIMARY KEY,
    token_hash        TEXT NOT NULL,
    legal_name        TEXT NOT NULL,
    enterprise_number TEXT NOT NULL,
    name              TEXT NOT NULL,
    email             TEXT NOT NULL,
    locale            TEXT NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    expires_at        TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX signup_requests_token ON signup_requests (token_hash);
CREATE INDEX signup_requests_expires ON signup_requests (expires_at);
