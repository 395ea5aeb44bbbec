-- Messages of a case (issue 6) between the CSIRT and one affected
-- organisation, in the portal and mirrored by e-mail. Each message has its
-- TLP label; a TLP:RED message is read only by the authority's staff, its
-- author and the people named in case_message_recipients.
CREATE TABLE case_messages (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES cases (id),
    org_id     INTEGER NOT NULL REFERENCES organisations (id),
    direction  TEXT NOT NULL CHECK (direction IN ('csirt', 'organisation')),
    author_id  INTEGER REFERENCES users (id),
    tlp        TEXT NOT NULL CHECK (tlp IN ('CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED')),
    body       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX case_messages_thread ON case_messages (case_id, org_id, id);

-- The named recipients of a TLP:RED message: people of its organisation.
CREATE TABLE case_message_recipients (
    message_id INTEGER NOT NULL REFERENCES case_messages (id),
    user_id    INTEGER NOT NULL REFERENCES users (id),
    PRIMARY KEY (message_id, user_id)
);
CREATE INDEX case_message_recipients_user ON case_message_recipients (user_id, message_id);
