-- The authority's triage of incoming NIS2 incident reports: who handles an
-- incident, when the CSIRT gave its initial feedback on the early warning
-- (Art. 23(5)), and internal notes the entity never sees.
CREATE TABLE incident_triage (
    incident_id INTEGER PRIMARY KEY REFERENCES incidents (id),
    assignee_id INTEGER REFERENCES users (id),
    feedback_at TIMESTAMP,
    updated_at  TIMESTAMP NOT NULL
);
CREATE INDEX incident_triage_assignee ON incident_triage (assignee_id);

CREATE TABLE incident_notes (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    author_id   INTEGER REFERENCES users (id),
    body        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX incident_notes_incident ON incident_notes (incident_id, id);
