-- Requests of the authority to an entity about a reported incident (an
-- intermediate report, NIS2 Art. 23(4)(c), or information), with the
-- deadline the request sets, and the messages of both sides.
CREATE TABLE incident_requests (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    kind        TEXT NOT NULL CHECK (kind IN ('intermediate_report', 'information')),
    body        TEXT NOT NULL,
    deadline    TIMESTAMP NOT NULL,
    created_by  INTEGER REFERENCES users (id),
    created_at  TIMESTAMP NOT NULL,
    answered_at TIMESTAMP
);
CREATE INDEX incident_requests_incident ON incident_requests (incident_id, id);

CREATE TABLE incident_messages (
    id             INTEGER PRIMARY KEY,
    incident_id    INTEGER NOT NULL REFERENCES incidents (id),
    from_authority BOOLEAN NOT NULL,
    author_id      INTEGER REFERENCES users (id),
    body           TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL
);
CREATE INDEX incident_messages_incident ON incident_messages (incident_id, id);
