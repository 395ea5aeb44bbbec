-- Saved column mappings of generic CSV feeds (issue 5): a mapping says
-- how to read one kind of CSV file (delimiter, header, column → IntelMQ
-- key, constants, time format, classification), as JSON; see
-- internal/feeds/formats and docs/feeds.md.
CREATE TABLE feed_mappings (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    mapping    TEXT NOT NULL,
    created_by INTEGER REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_by INTEGER REFERENCES users (id),
    updated_at TIMESTAMP NOT NULL
);
