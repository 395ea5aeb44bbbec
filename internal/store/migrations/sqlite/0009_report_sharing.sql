-- Sharing of NIS2 incident notifications beyond the authority (Art. 23(6)
-- and (8)): the sector authorities notifications are forwarded to, the
-- analyst's own assessment of whether an incident is cross-border, and
-- every share made, with the exact document sent and its SHA-256.
CREATE TABLE sector_authorities (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    -- NIS2 sector codes, space-separated and padded (' energy health ')
    -- so that LIKE '% code %' finds one.
    sectors    TEXT NOT NULL,
    email      TEXT NOT NULL,
    country    TEXT NOT NULL DEFAULT '',
    active     BOOLEAN NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX sector_authorities_name_key ON sector_authorities (lower(name));

CREATE TABLE incident_cross_border (
    incident_id  INTEGER PRIMARY KEY REFERENCES incidents (id),
    cross_border BOOLEAN NOT NULL,
    countries    TEXT NOT NULL DEFAULT '',
    updated_by   INTEGER REFERENCES users (id),
    updated_at   TIMESTAMP NOT NULL
);

CREATE TABLE incident_shares (
    id                  INTEGER PRIMARY KEY,
    incident_id         INTEGER NOT NULL REFERENCES incidents (id),
    recipient_kind      TEXT NOT NULL CHECK (recipient_kind IN ('spoc', 'enisa', 'sector_authority', 'csirt_network')),
    country             TEXT NOT NULL DEFAULT '',
    sector_authority_id INTEGER REFERENCES sector_authorities (id),
    recipient           TEXT NOT NULL,
    tlp                 TEXT NOT NULL CHECK (tlp IN ('clear', 'green', 'amber', 'amber+strict', 'red')),
    identity            BOOLEAN NOT NULL,
    method              TEXT NOT NULL CHECK (method IN ('mailed', 'exported')),
    document            TEXT NOT NULL,
    sha256              TEXT NOT NULL,
    created_by          INTEGER REFERENCES users (id),
    created_at          TIMESTAMP NOT NULL
);
CREATE INDEX incident_shares_incident ON incident_shares (incident_id, id);
