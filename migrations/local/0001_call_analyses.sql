-- Saved call analyses. Ids are UUIDv7 text; timestamps are fixed-width RFC 3339 UTC text
-- (text order = time order); deletes are tombstones in deleted_at.
CREATE TABLE call_analyses (
    id          TEXT PRIMARY KEY NOT NULL,
    title       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    deleted_at  TEXT,
    transcript  TEXT NOT NULL,
    analysis    TEXT NOT NULL CHECK (json_valid(analysis)),
    provider    TEXT NOT NULL,
    model       TEXT
) STRICT;

CREATE INDEX call_analyses_live_by_created
    ON call_analyses (created_at DESC, id DESC) WHERE deleted_at IS NULL;
