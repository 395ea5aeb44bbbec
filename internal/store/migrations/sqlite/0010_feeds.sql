-- Early warning from bulk feeds (issue 5): each run of a feed file, the
-- rows it could not read, the harmonised events matched to organisations
-- (one row per event and organisation; unmatched events with no
-- organisation, for coverage), and the deduplication keys that make a
-- restart or a second instance notify an event once per window.
CREATE TABLE feed_runs (
    id          INTEGER PRIMARY KEY,
    source      TEXT NOT NULL,
    name        TEXT NOT NULL,
    feed        TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    error       TEXT NOT NULL DEFAULT '',
    rows_read   INTEGER NOT NULL DEFAULT 0,
    events      INTEGER NOT NULL DEFAULT 0,
    problems    INTEGER NOT NULL DEFAULT 0,
    matched     INTEGER NOT NULL DEFAULT 0,
    unmatched   INTEGER NOT NULL DEFAULT 0,
    duplicates  INTEGER NOT NULL DEFAULT 0,
    new_events  INTEGER NOT NULL DEFAULT 0,
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);
CREATE INDEX feed_runs_started ON feed_runs (started_at);

CREATE TABLE feed_problems (
    run_id INTEGER NOT NULL REFERENCES feed_runs (id),
    row_no INTEGER NOT NULL,
    reason TEXT NOT NULL,
    raw    TEXT NOT NULL
);
CREATE INDEX feed_problems_run ON feed_problems (run_id, row_no);

CREATE TABLE feed_events (
    id            INTEGER PRIMARY KEY,
    run_id        INTEGER NOT NULL REFERENCES feed_runs (id),
    org_id        INTEGER REFERENCES organisations (id),
    feed          TEXT NOT NULL,
    time_source   TIMESTAMP,
    severity      TEXT NOT NULL DEFAULT '',
    taxonomy      TEXT NOT NULL DEFAULT '',
    type          TEXT NOT NULL DEFAULT '',
    identifier    TEXT NOT NULL DEFAULT '',
    src_ip        TEXT NOT NULL DEFAULT '',
    src_port      INTEGER NOT NULL DEFAULT 0,
    src_asn       INTEGER NOT NULL DEFAULT 0,
    src_fqdn      TEXT NOT NULL DEFAULT '',
    dst_ip        TEXT NOT NULL DEFAULT '',
    dst_port      INTEGER NOT NULL DEFAULT 0,
    dst_asn       INTEGER NOT NULL DEFAULT 0,
    dst_fqdn      TEXT NOT NULL DEFAULT '',
    matched_on    TEXT NOT NULL DEFAULT '',
    matched_value TEXT NOT NULL DEFAULT '',
    dedup_key     TEXT NOT NULL DEFAULT '',
    notify        BOOLEAN NOT NULL,
    fields        TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX feed_events_org ON feed_events (org_id, time_source);
CREATE INDEX feed_events_src ON feed_events (src_ip);
CREATE INDEX feed_events_run ON feed_events (run_id);

CREATE TABLE feed_dedup (
    key        TEXT PRIMARY KEY,
    org_id     INTEGER NOT NULL,
    feed       TEXT NOT NULL,
    first_seen TIMESTAMP NOT NULL,
    until      TIMESTAMP NOT NULL
);
CREATE INDEX feed_dedup_until ON feed_dedup (until);
