-- National crisis coordination (issue 6): crises with an escalation level,
-- their team and external participants with per-participant access, the
-- situation picture (affected sectors and organisations, linked cases and
-- NIS2 incidents, an append-only decision log, actions), situation reports
-- (sitreps) drafted then published unchanged, and call-outs with
-- acknowledgement tracking.
CREATE TABLE crises (
    id              INTEGER PRIMARY KEY,
    ref             TEXT NOT NULL UNIQUE,
    year            INTEGER NOT NULL,
    seq             INTEGER NOT NULL,
    title           TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('open', 'stood_down', 'closed')),
    level           TEXT NOT NULL,
    tlp             TEXT NOT NULL CHECK (tlp IN ('CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED')),
    exercise        BOOLEAN NOT NULL DEFAULT FALSE,
    case_ref        TEXT NOT NULL DEFAULT '',
    -- The sitrep schedule: minutes between sitreps (0: none) and when the
    -- next one is due.
    sitrep_interval INTEGER NOT NULL DEFAULT 0,
    next_sitrep_at  TIMESTAMP,
    created_by      INTEGER REFERENCES users (id),
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    closed_at       TIMESTAMP,
    UNIQUE (year, seq)
);
CREATE INDEX crises_status ON crises (status, updated_at, id);
CREATE INDEX crises_exercise ON crises (exercise, status);

-- Every change of level: who, when, why.
CREATE TABLE crisis_levels (
    id          INTEGER PRIMARY KEY,
    crisis_id   INTEGER NOT NULL REFERENCES crises (id),
    level       TEXT NOT NULL,
    previous    TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL,
    actor_id    INTEGER REFERENCES users (id),
    actor_label TEXT NOT NULL,
    at          TIMESTAMP NOT NULL
);
CREATE INDEX crisis_levels_crisis ON crisis_levels (crisis_id, id);

-- The crisis team (authority users with a role) and the external
-- participants (an organisation of the platform, or a person by name and
-- e-mail), each with an access level.
CREATE TABLE crisis_participants (
    id         INTEGER PRIMARY KEY,
    crisis_id  INTEGER NOT NULL REFERENCES crises (id),
    kind       TEXT NOT NULL CHECK (kind IN ('user', 'organisation', 'person')),
    user_id    INTEGER REFERENCES users (id),
    org_id     INTEGER REFERENCES organisations (id),
    name       TEXT NOT NULL DEFAULT '',
    email      TEXT NOT NULL DEFAULT '',
    role       TEXT NOT NULL DEFAULT '' CHECK (role IN ('', 'lead', 'member', 'observer')),
    party      TEXT NOT NULL DEFAULT '' CHECK (party IN ('', 'crisis_centre', 'sector_authority', 'affected_organisation', 'other')),
    access     TEXT NOT NULL CHECK (access IN ('sitreps', 'read', 'contribute')),
    created_by INTEGER REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX crisis_participants_user ON crisis_participants (crisis_id, user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX crisis_participants_org ON crisis_participants (crisis_id, org_id) WHERE org_id IS NOT NULL;
CREATE UNIQUE INDEX crisis_participants_person ON crisis_participants (crisis_id, lower(email)) WHERE kind = 'person';
CREATE INDEX crisis_participants_user_crises ON crisis_participants (user_id, crisis_id);
CREATE INDEX crisis_participants_org_crises ON crisis_participants (org_id, crisis_id);

-- The situation picture: affected sectors (NIS2 sector codes) and
-- organisations (of the platform, or by name), linked cases and NIS2
-- incidents.
CREATE TABLE crisis_sectors (
    crisis_id INTEGER NOT NULL REFERENCES crises (id),
    sector    TEXT NOT NULL,
    PRIMARY KEY (crisis_id, sector)
);
CREATE TABLE crisis_orgs (
    id        INTEGER PRIMARY KEY,
    crisis_id INTEGER NOT NULL REFERENCES crises (id),
    org_id    INTEGER REFERENCES organisations (id),
    name      TEXT NOT NULL,
    note      TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX crisis_orgs_key ON crisis_orgs (crisis_id, lower(name));
CREATE TABLE crisis_links (
    crisis_id  INTEGER NOT NULL REFERENCES crises (id),
    kind       TEXT NOT NULL CHECK (kind IN ('case', 'incident')),
    target     TEXT NOT NULL,
    created_by INTEGER REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (crisis_id, kind, target)
);
CREATE INDEX crisis_links_target ON crisis_links (kind, target);

-- The decision log: who decided what, when, on which basis. Append-only:
-- the triggers refuse every change and deletion.
CREATE TABLE crisis_decisions (
    id          INTEGER PRIMARY KEY,
    crisis_id   INTEGER NOT NULL REFERENCES crises (id),
    decided_at  TIMESTAMP NOT NULL,
    decided_by  TEXT NOT NULL,
    decision    TEXT NOT NULL,
    basis       TEXT NOT NULL,
    actor_id    INTEGER REFERENCES users (id),
    actor_label TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX crisis_decisions_crisis ON crisis_decisions (crisis_id, id);
CREATE TRIGGER crisis_decisions_no_update BEFORE UPDATE ON crisis_decisions
BEGIN
    SELECT RAISE(ABORT, 'crisis_decisions: the decision log is append-only');
END;
CREATE TRIGGER crisis_decisions_no_delete BEFORE DELETE ON crisis_decisions
BEGIN
    SELECT RAISE(ABORT, 'crisis_decisions: the decision log is append-only');
END;

CREATE TABLE crisis_actions (
    id          INTEGER PRIMARY KEY,
    crisis_id   INTEGER NOT NULL REFERENCES crises (id),
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    owner_id    INTEGER REFERENCES users (id),
    owner       TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL CHECK (status IN ('open', 'done')),
    due_at      TIMESTAMP,
    created_by  INTEGER REFERENCES users (id),
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    done_at     TIMESTAMP
);
CREATE INDEX crisis_actions_crisis ON crisis_actions (crisis_id, id);
CREATE INDEX crisis_actions_due ON crisis_actions (due_at) WHERE status = 'open';

-- Situation reports: numbered per crisis at publication; a published
-- sitrep does not change (the triggers refuse it).
CREATE TABLE crisis_sitreps (
    id             INTEGER PRIMARY KEY,
    crisis_id      INTEGER NOT NULL REFERENCES crises (id),
    number         INTEGER,
    status         TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    level          TEXT NOT NULL DEFAULT '',
    tlp            TEXT NOT NULL CHECK (tlp IN ('CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED')),
    situation      TEXT NOT NULL DEFAULT '',
    impact         TEXT NOT NULL DEFAULT '',
    actions        TEXT NOT NULL DEFAULT '',
    decisions      TEXT NOT NULL DEFAULT '',
    next_update_at TIMESTAMP,
    created_by     INTEGER REFERENCES users (id),
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    published_by   INTEGER REFERENCES users (id),
    published_at   TIMESTAMP,
    recipients     INTEGER NOT NULL DEFAULT 0,
    UNIQUE (crisis_id, number)
);
CREATE INDEX crisis_sitreps_crisis ON crisis_sitreps (crisis_id, id);
CREATE TRIGGER crisis_sitreps_published_no_update BEFORE UPDATE ON crisis_sitreps
WHEN OLD.status = 'published'
BEGIN
    SELECT RAISE(ABORT, 'crisis_sitreps: a published sitrep does not change');
END;
CREATE TRIGGER crisis_sitreps_published_no_delete BEFORE DELETE ON crisis_sitreps
WHEN OLD.status = 'published'
BEGIN
    SELECT RAISE(ABORT, 'crisis_sitreps: a published sitrep is not deleted');
END;

-- Call-outs: an alert sent to a selected group, each recipient with a
-- personal acknowledgement link (only the SHA-256 of its token is kept).
CREATE TABLE crisis_callouts (
    id         INTEGER PRIMARY KEY,
    crisis_id  INTEGER NOT NULL REFERENCES crises (id),
    subject    TEXT NOT NULL,
    message    TEXT NOT NULL,
    tlp        TEXT NOT NULL CHECK (tlp IN ('CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED')),
    created_by INTEGER REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX crisis_callouts_crisis ON crisis_callouts (crisis_id, id);
CREATE TABLE crisis_callout_recipients (
    id         INTEGER PRIMARY KEY,
    callout_id INTEGER NOT NULL REFERENCES crisis_callouts (id),
    name       TEXT NOT NULL DEFAULT '',
    email      TEXT NOT NULL,
    org_id     INTEGER REFERENCES organisations (id),
    source     TEXT NOT NULL CHECK (source IN ('participant', 'directory')),
    token_hash TEXT NOT NULL UNIQUE,
    read_at    TIMESTAMP,
    acked_at   TIMESTAMP
);
CREATE INDEX crisis_callout_recipients_callout ON crisis_callout_recipients (callout_id, id);

-- The timeline: every change, newest last.
CREATE TABLE crisis_events (
    id          INTEGER PRIMARY KEY,
    crisis_id   INTEGER NOT NULL REFERENCES crises (id),
    at          TIMESTAMP NOT NULL,
    actor_id    INTEGER REFERENCES users (id),
    actor_label TEXT NOT NULL,
    kind        TEXT NOT NULL,
    body        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX crisis_events_crisis ON crisis_events (crisis_id, id);
