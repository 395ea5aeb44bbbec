-- NIS2 incident reporting (Art. 23): an incident of one organisation, its
-- stage drafts, and its immutable submissions, each with the SHA-256 of its
-- canonical content that the receipt carries. Counters give readable
-- references (INC-2026-000123).
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);

CREATE TABLE incidents (
    id                   INTEGER PRIMARY KEY,
    org_id               INTEGER NOT NULL REFERENCES organisations (id),
    ref                  TEXT NOT NULL,
    kind                 TEXT NOT NULL,
    title                TEXT NOT NULL,
    aware_at             TIMESTAMP NOT NULL,
    trust_service_impact BOOLEAN NOT NULL DEFAULT 0,
    status               TEXT NOT NULL,
    handled_at           TIMESTAMP,
    created_by           INTEGER REFERENCES users (id),
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX incidents_ref ON incidents (ref);
CREATE INDEX incidents_org ON incidents (org_id, id);

CREATE TABLE report_drafts (
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    stage       TEXT NOT NULL,
    content     TEXT NOT NULL,
    updated_by  INTEGER REFERENCES users (id),
    updated_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (incident_id, stage)
);

CREATE TABLE report_submissions (
    id              INTEGER PRIMARY KEY,
    incident_id     INTEGER NOT NULL REFERENCES incidents (id),
    org_id          INTEGER NOT NULL REFERENCES organisations (id),
    ref             TEXT NOT NULL,
    stage           TEXT NOT NULL,
    content         TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    corrects_id     INTEGER REFERENCES report_submissions (id),
    idempotency_key TEXT,
    submitted_by    INTEGER REFERENCES users (id),
    submitted_at    TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX report_submissions_ref ON report_submissions (ref);
CREATE UNIQUE INDEX report_submissions_idem ON report_submissions (org_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX report_submissions_incident ON report_submissions (incident_id, id);
