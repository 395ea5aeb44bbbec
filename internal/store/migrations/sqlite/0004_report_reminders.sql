-- E-mail reminders before (and at) each NIS2 reporting deadline of an
-- incident. One row per reminder sent: the stage, how long before the due
-- time it went out (0: the stage became overdue) and the due time it was
-- about, so that each goes once per due time even with several instances,
-- and a new due time reminds again.
CREATE TABLE report_reminders (
    incident_id  INTEGER NOT NULL REFERENCES incidents (id),
    stage        TEXT NOT NULL,
    lead_seconds INTEGER NOT NULL,
    due_at       TIMESTAMP NOT NULL,
    sent_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (incident_id, stage, lead_seconds, due_at)
);
