-- CSIRT cases (issue 6): the cases the national CSIRT works on with the
-- affected organisations, their tasks with due dates from SLAs, their
-- observables and their timeline.
--
-- Observables are stored once per (type, value) in observables and linked
-- to cases in case_observables; "where else does this value appear" is an
-- index lookup on observable_id, never a pairwise correlation table, so
-- it stays linear in the number of sightings.
CREATE TABLE cases (
    id             INTEGER PRIMARY KEY,
    ref            TEXT NOT NULL UNIQUE,
    year           INTEGER NOT NULL,
    seq            INTEGER NOT NULL,
    title          TEXT NOT NULL,
    classification TEXT NOT NULL DEFAULT '',
    severity       INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 4),
    tlp            TEXT NOT NULL CHECK (tlp IN ('CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED')),
    pap            TEXT NOT NULL CHECK (pap IN ('CLEAR', 'GREEN', 'AMBER', 'RED')),
    status         TEXT NOT NULL CHECK (status IN ('new', 'open', 'waiting', 'resolved', 'closed')),
    resolution     TEXT NOT NULL DEFAULT '',
    template       TEXT NOT NULL DEFAULT '',
    source         TEXT NOT NULL CHECK (source IN ('manual', 'report', 'feed', 'email', 'split')),
    assignee_id    INTEGER REFERENCES users (id),
    merged_into    INTEGER REFERENCES cases (id),
    exercise       BOOLEAN NOT NULL DEFAULT FALSE,
    created_by     INTEGER REFERENCES users (id),
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    closed_at      TIMESTAMP,
    description    TEXT NOT NULL DEFAULT '',
    UNIQUE (year, seq)
);
CREATE INDEX cases_updated ON cases (updated_at, id);
-- The active cases (a few per cent of them) in the order of the default
-- list; other statuses are walked on cases_updated.
CREATE INDEX cases_active ON cases (updated_at, id) WHERE status IN ('new', 'open', 'waiting');
CREATE INDEX cases_assignee ON cases (assignee_id, updated_at, id);
CREATE INDEX cases_severity ON cases (severity, updated_at, id);

-- Full-text search over the reference, title and description.
CREATE VIRTUAL TABLE cases_fts USING fts5(ref, title, description, content='cases', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER cases_fts_insert AFTER INSERT ON cases BEGIN
    INSERT INTO cases_fts (rowid, ref, title, description) VALUES (NEW.id, NEW.ref, NEW.title, NEW.description);
END;
CREATE TRIGGER cases_fts_delete AFTER DELETE ON cases BEGIN
    INSERT INTO cases_fts (cases_fts, rowid, ref, title, description) VALUES ('delete', OLD.id, OLD.ref, OLD.title, OLD.description);
END;
CREATE TRIGGER cases_fts_update AFTER UPDATE OF ref, title, description ON cases BEGIN
    INSERT INTO cases_fts (cases_fts, rowid, ref, title, description) VALUES ('delete', OLD.id, OLD.ref, OLD.title, OLD.description);
    INSERT INTO cases_fts (rowid, ref, title, description) VALUES (NEW.id, NEW.ref, NEW.title, NEW.description);
END;

-- The organisations a case affects.
CREATE TABLE case_orgs (
    case_id INTEGER NOT NULL REFERENCES cases (id),
    org_id  INTEGER NOT NULL REFERENCES organisations (id),
    PRIMARY KEY (case_id, org_id)
);
CREATE INDEX case_orgs_org ON case_orgs (org_id, case_id);

-- Links to what a case is about: NIS2 incidents, feed events, advisories,
-- voluntary notifications and other cases.
CREATE TABLE case_links (
    case_id    INTEGER NOT NULL REFERENCES cases (id),
    kind       TEXT NOT NULL CHECK (kind IN ('incident', 'feed_event', 'advisory', 'case', 'voluntary')),
    target     TEXT NOT NULL,
    created_by INTEGER REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (case_id, kind, target)
);
CREATE INDEX case_links_target ON case_links (kind, target);

CREATE TABLE case_tasks (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER NOT NULL REFERENCES cases (id),
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    owner_id    INTEGER REFERENCES users (id),
    status      TEXT NOT NULL CHECK (status IN ('open', 'done', 'cancelled')),
    due_at      TIMESTAMP,
    sla         TEXT NOT NULL DEFAULT '',
    reminded_at TIMESTAMP,
    created_at  TIMESTAMP NOT NULL,
    done_at     TIMESTAMP
);
CREATE INDEX case_tasks_case ON case_tasks (case_id, id);
CREATE INDEX case_tasks_due ON case_tasks (due_at) WHERE status = 'open';

CREATE TABLE observables (
    id    INTEGER PRIMARY KEY,
    type  TEXT NOT NULL CHECK (type IN ('ip', 'domain', 'url', 'hash', 'email', 'file')),
    value TEXT NOT NULL,
    UNIQUE (type, value)
);
CREATE TABLE case_observables (
    case_id       INTEGER NOT NULL REFERENCES cases (id),
    observable_id INTEGER NOT NULL REFERENCES observables (id),
    tlp           TEXT NOT NULL CHECK (tlp IN ('CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED')),
    ioc           BOOLEAN NOT NULL DEFAULT FALSE,
    sighted       BOOLEAN NOT NULL DEFAULT FALSE,
    note          TEXT NOT NULL DEFAULT '',
    created_by    INTEGER REFERENCES users (id),
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (case_id, observable_id)
);
CREATE INDEX case_observables_observable ON case_observables (observable_id, case_id);

-- The timeline: notes (Markdown, rendered safely) and every change.
CREATE TABLE case_events (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER NOT NULL REFERENCES cases (id),
    at          TIMESTAMP NOT NULL,
    actor_id    INTEGER REFERENCES users (id),
    actor_label TEXT NOT NULL,
    kind        TEXT NOT NULL,
    tlp         TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX case_events_case ON case_events (case_id, id);
