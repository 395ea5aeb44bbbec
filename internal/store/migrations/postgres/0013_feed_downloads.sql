-- The reports downloaded from the Shadowserver Reports API, so that every
-- instance knows which it already has (the ledger of feeds/source).
CREATE TABLE feed_downloads (
    report_id     TEXT PRIMARY KEY,
    report        TEXT NOT NULL,
    type          TEXT NOT NULL,
    report_date   TEXT NOT NULL,
    file          TEXT NOT NULL,
    downloaded_at TIMESTAMPTZ NOT NULL
);
