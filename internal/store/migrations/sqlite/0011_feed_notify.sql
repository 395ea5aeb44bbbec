-- Notifications of the early warning (issue 5): each organisation's
-- settings, its inhibitions (suppressions with a reason and an expiry),
-- and the tickets that carry its new events to it. An event stays pending
-- (notify and no ticket_id, nothing withheld) until a ticket takes it or
-- it is withheld: 'filtered' (not in the organisation's report types or
-- below its minimum severity), 'inhibited' (by inhibition_id) or
-- 'disabled' (notifications were off). Withheld events are never sent.
CREATE TABLE feed_settings (
    org_id         INTEGER PRIMARY KEY REFERENCES organisations (id),
    enabled        BOOLEAN NOT NULL,
    feeds          TEXT NOT NULL DEFAULT '[]',
    min_severity   TEXT NOT NULL CHECK (min_severity IN ('info', 'low', 'medium', 'high', 'critical')),
    channel        TEXT NOT NULL CHECK (channel IN ('email', 'webhook', 'portal')),
    send_interval  TEXT NOT NULL CHECK (send_interval IN ('immediate', 'hourly', 'daily')),
    recipients     TEXT NOT NULL DEFAULT '[]',
    webhook_url    TEXT NOT NULL DEFAULT '',
    webhook_secret TEXT NOT NULL DEFAULT '',
    updated_by     INTEGER REFERENCES users (id),
    updated_at     TIMESTAMP NOT NULL
);

CREATE TABLE feed_inhibitions (
    id         INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES organisations (id),
    prefix     TEXT NOT NULL DEFAULT '',
    feed       TEXT NOT NULL DEFAULT '',
    reason     TEXT NOT NULL,
    created_by INTEGER REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    deleted_by INTEGER REFERENCES users (id),
    deleted_at TIMESTAMP
);
CREATE INDEX feed_inhibitions_org ON feed_inhibitions (org_id, expires_at);

CREATE TABLE feed_tickets (
    id         INTEGER PRIMARY KEY,
    ref        TEXT NOT NULL UNIQUE,
    org_id     INTEGER NOT NULL REFERENCES organisations (id),
    channel    TEXT NOT NULL CHECK (channel IN ('email', 'webhook', 'portal')),
    events     INTEGER NOT NULL,
    deliveries INTEGER NOT NULL DEFAULT 0,
    delivered  INTEGER NOT NULL DEFAULT 0,
    status     TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed', 'portal')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    error      TEXT NOT NULL DEFAULT '',
    sha256     TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    sent_at    TIMESTAMP
);
CREATE INDEX feed_tickets_org ON feed_tickets (org_id, created_at);
CREATE INDEX feed_tickets_created ON feed_tickets (created_at);

ALTER TABLE feed_events ADD COLUMN ticket_id INTEGER REFERENCES feed_tickets (id);
ALTER TABLE feed_events ADD COLUMN withheld TEXT NOT NULL DEFAULT '';
ALTER TABLE feed_events ADD COLUMN inhibition_id INTEGER REFERENCES feed_inhibitions (id);
-- Only the pending events are in this index, so that finding them stays
-- cheap however many events were sent or withheld before.
CREATE INDEX feed_events_pending ON feed_events (org_id, id) WHERE notify AND ticket_id IS NULL AND withheld = '';
CREATE INDEX feed_events_ticket ON feed_events (ticket_id, id);
