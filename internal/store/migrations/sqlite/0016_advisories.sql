-- Security advisories (issue 7): CSAF 2.0 documents written in the portal
-- or the API, reviewed by a second analyst and published as a CSAF
-- trusted provider.
--
-- advisories is the working state of each advisory: the working copy of
-- the next version (CSAF JSON), its place in the review workflow and, once
-- published, a summary of the newest published version for the lists.
-- advisory_versions holds the exact bytes of every published version with
-- their hashes and detached OpenPGP signature: rows are never changed nor
-- deleted (triggers refuse it), so a new revision never rewrites the bytes
-- of an old one. The large columns (document, content) come last: SQLite
-- then reads the other columns of a row without walking its overflow
-- pages, which keeps the lists and the provider tree fast.
CREATE TABLE advisories (
    id                INTEGER PRIMARY KEY,
    tracking_id       TEXT NOT NULL UNIQUE,
    year              INTEGER NOT NULL,
    seq               INTEGER NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('draft', 'review', 'scheduled', 'published')),
    title             TEXT NOT NULL,
    lang              TEXT NOT NULL,
    tlp               TEXT NOT NULL CHECK (tlp IN ('WHITE', 'GREEN', 'AMBER', 'RED')),
    target_status     TEXT NOT NULL DEFAULT 'final' CHECK (target_status IN ('interim', 'final')),
    revision_summary  TEXT NOT NULL DEFAULT '',
    submitted_by      INTEGER REFERENCES users (id),
    submitted_at      TIMESTAMP,
    reviewed_by       INTEGER REFERENCES users (id),
    review_note       TEXT NOT NULL DEFAULT '',
    publish_at        TIMESTAMP,
    published_version INTEGER NOT NULL DEFAULT 0,
    published_at      TIMESTAMP,
    pub_title         TEXT NOT NULL DEFAULT '',
    pub_tlp           TEXT NOT NULL DEFAULT '',
    pub_lang          TEXT NOT NULL DEFAULT '',
    pub_status        TEXT NOT NULL DEFAULT '',
    pub_score         REAL,
    pub_severity      TEXT NOT NULL DEFAULT '',
    pub_search        TEXT NOT NULL DEFAULT '',
    created_by        INTEGER REFERENCES users (id),
    created_at        TIMESTAMP NOT NULL,
    updated_by        INTEGER REFERENCES users (id),
    updated_at        TIMESTAMP NOT NULL,
    document          TEXT NOT NULL,
    UNIQUE (year, seq)
);
CREATE INDEX advisories_state ON advisories (state, updated_at);
CREATE INDEX advisories_published ON advisories (published_at) WHERE published_version > 0;
CREATE INDEX advisories_due ON advisories (publish_at) WHERE state = 'scheduled';

CREATE TABLE advisory_versions (
    advisory_id          INTEGER NOT NULL REFERENCES advisories (id),
    version              INTEGER NOT NULL,
    tracking_status      TEXT NOT NULL CHECK (tracking_status IN ('interim', 'final')),
    tlp                  TEXT NOT NULL,
    file_name            TEXT NOT NULL,
    folder_year          INTEGER NOT NULL,
    initial_release_date TEXT NOT NULL,
    current_release_date TEXT NOT NULL,
    sha256               TEXT NOT NULL,
    sha512               TEXT NOT NULL,
    signature            TEXT NOT NULL,
    key_fingerprint      TEXT NOT NULL,
    published_by         INTEGER REFERENCES users (id),
    reviewed_by          INTEGER REFERENCES users (id),
    published_at         TIMESTAMP NOT NULL,
    content              BLOB NOT NULL,
    PRIMARY KEY (advisory_id, version)
);
CREATE INDEX advisory_versions_file ON advisory_versions (file_name, folder_year);
CREATE TRIGGER advisory_versions_no_update BEFORE UPDATE ON advisory_versions
BEGIN
    SELECT RAISE(ABORT, 'advisory_versions: a published version does not change');
END;
CREATE TRIGGER advisory_versions_no_delete BEFORE DELETE ON advisory_versions
BEGIN
    SELECT RAISE(ABORT, 'advisory_versions: a published version is not deleted');
END;

-- The workflow history of an advisory as its page shows it (the audit log
-- holds the same steps, chained): who did what, when, with which note.
CREATE TABLE advisory_events (
    id          INTEGER PRIMARY KEY,
    advisory_id INTEGER NOT NULL REFERENCES advisories (id),
    at          TIMESTAMP NOT NULL,
    actor_id    INTEGER REFERENCES users (id),
    actor_label TEXT NOT NULL,
    action      TEXT NOT NULL,
    version     INTEGER NOT NULL DEFAULT 0,
    note        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX advisory_events_advisory ON advisory_events (advisory_id, id);

-- The products and CVEs of the newest published version, for the public
-- list's filters and the subscribers' alerts.
CREATE TABLE advisory_products (
    advisory_id INTEGER NOT NULL REFERENCES advisories (id),
    vendor      TEXT NOT NULL,
    product     TEXT NOT NULL,
    PRIMARY KEY (advisory_id, vendor, product)
);
CREATE INDEX advisory_products_name ON advisory_products (lower(vendor), lower(product));
CREATE TABLE advisory_cves (
    advisory_id INTEGER NOT NULL REFERENCES advisories (id),
    cve         TEXT NOT NULL,
    PRIMARY KEY (advisory_id, cve)
);
CREATE INDEX advisory_cves_cve ON advisory_cves (cve);

-- Who may read a TLP:AMBER advisory (members of these organisations) or a
-- TLP:RED one (these named people), besides the authority's staff.
CREATE TABLE advisory_recipients (
    advisory_id INTEGER NOT NULL REFERENCES advisories (id),
    org_id      INTEGER REFERENCES organisations (id),
    user_id     INTEGER REFERENCES users (id),
    CHECK ((org_id IS NULL) <> (user_id IS NULL))
);
CREATE UNIQUE INDEX advisory_recipients_org ON advisory_recipients (advisory_id, org_id) WHERE org_id IS NOT NULL;
CREATE UNIQUE INDEX advisory_recipients_user ON advisory_recipients (advisory_id, user_id) WHERE user_id IS NOT NULL;

-- E-mail alerts of new TLP:CLEAR advisories, optionally only for a vendor
-- and product; confirmed by a link (double opt-in), cancelled by another.
CREATE TABLE advisory_subscriptions (
    id           INTEGER PRIMARY KEY,
    email        TEXT NOT NULL,
    locale       TEXT NOT NULL,
    vendor       TEXT NOT NULL DEFAULT '',
    product      TEXT NOT NULL DEFAULT '',
    token_hash   TEXT NOT NULL UNIQUE,
    confirmed_at TIMESTAMP,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX advisory_subscriptions_email ON advisory_subscriptions (lower(email));

-- The OpenPGP key that signs published documents: the public key in
-- clear, the private key encrypted with the instance's data key
-- (AES-256-GCM). One key is active.
CREATE TABLE csaf_keys (
    id          INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL UNIQUE,
    public_key  TEXT NOT NULL,
    nonce       BLOB NOT NULL,
    private_key BLOB NOT NULL,
    key_id      TEXT NOT NULL,
    active      BOOLEAN NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX csaf_keys_active ON csaf_keys (active) WHERE active;
